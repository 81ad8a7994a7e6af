/**
 * Questions the lifecycle asks of one node's view of a resource (the status
 * model's ResourceStatus, null when the resource is not up there).
 */
import type { ResourceStatus } from '../status-model.js';
import type { ReplicationState } from '../states.js';

/** Undefined reads as "not up", so lookups in a node → state record need no `?? null`. */
export type MaybeStatus = ResourceStatus | null | undefined;

const RESYNC: ReadonlySet<ReplicationState> = new Set<ReplicationState>([
  'StartingSyncS',
  'StartingSyncT',
  'WFBitMapS',
  'WFBitMapT',
  'WFSyncUUID',
  'SyncSource',
  'SyncTarget',
  'PausedSyncS',
  'PausedSyncT',
]);

export const isUp = (s: MaybeStatus): s is ResourceStatus => s != null;

export const isPrimary = (s: MaybeStatus): boolean => s?.role === 'Primary';

/** Every local volume is attached and UpToDate. */
export const hasUpToDateData = (s: MaybeStatus): boolean =>
  s != null && s.devices.length > 0 && s.devices.every((d) => d.diskState === 'UpToDate');

/** Every local volume is attached (not Diskless). */
export const isAttached = (s: MaybeStatus): boolean =>
  s != null && s.devices.length > 0 && s.devices.every((d) => d.diskState !== 'Diskless' && d.diskState !== 'Detaching' && d.diskState !== 'Failed');

/** Every local volume is Inconsistent: fresh meta data, nobody chose a sync source yet. */
export const isFreshlyCreated = (s: MaybeStatus): boolean =>
  s != null && s.devices.length > 0 && s.devices.every((d) => d.diskState === 'Inconsistent');

/** Connected to every configured peer. */
export const isConnected = (s: MaybeStatus): boolean =>
  s != null && s.connections.length > 0 && s.connections.every((c) => c.connectionState === 'Connected');

/** No connection, or all StandAlone: `drbdadm connect` would be needed. */
export const isStandAlone = (s: MaybeStatus): boolean =>
  s != null && s.connections.every((c) => c.connectionState === 'StandAlone');

/** A connected peer has UpToDate data for every volume. */
export const peerHasUpToDateData = (s: MaybeStatus): boolean =>
  s != null &&
  s.connections.some((c) => c.connectionState === 'Connected' && c.peerDevices.length > 0 && c.peerDevices.every((p) => p.peerDiskState === 'UpToDate'));

/** Some connected peer is Primary. */
export const peerIsPrimary = (s: MaybeStatus): boolean => s != null && s.connections.some((c) => c.peerRole === 'Primary');

const replicationStates = (s: MaybeStatus): ReplicationState[] => (s == null ? [] : s.connections.flatMap((c) => c.peerDevices.map((p) => p.replicationState)));

/** A replication state in which data moves to catch a node up (not verify). */
export const isResyncState = (r: ReplicationState): boolean => RESYNC.has(r);

export const isResyncing = (s: MaybeStatus): boolean => replicationStates(s).some(isResyncState);

export const isVerifying = (s: MaybeStatus): boolean => replicationStates(s).some((r) => r === 'VerifyS' || r === 'VerifyT');

/** Connected, nothing moving, both sides UpToDate on every volume. */
export const isInSync = (s: MaybeStatus): boolean =>
  isConnected(s) &&
  hasUpToDateData(s) &&
  (s as ResourceStatus).connections.every((c) => c.peerDevices.length > 0 && c.peerDevices.every((p) => p.replicationState === 'Established' && p.peerDiskState === 'UpToDate'));

/** Out-of-sync bytes toward all peers (null when the source does not report it). */
export function outOfSyncBytes(s: MaybeStatus): bigint | null {
  if (s == null) return null;
  let total: bigint | null = null;
  for (const c of s.connections) for (const p of c.peerDevices) if (p.outOfSyncBytes !== null) total = (total ?? 0n) + p.outOfSyncBytes;
  return total;
}

/** "Primary, UpToDate, Connected to Secondary/UpToDate" for messages. */
export function describeState(s: MaybeStatus): string {
  if (s == null) return 'not up';
  const disks = [...new Set(s.devices.map((d) => d.diskState))].join('/') || 'no volumes';
  const conns = s.connections
    .map((c) => {
      const repl = [...new Set(c.peerDevices.map((p) => p.replicationState))].filter((r) => r !== 'Off' && r !== 'Established');
      const peerDisk = [...new Set(c.peerDevices.map((p) => p.peerDiskState ?? '?'))].join('/');
      return `${c.connectionState}${repl.length > 0 ? ` (${repl.join(', ')})` : ''} to ${c.peerRole ?? 'Unknown'}/${peerDisk}`;
    })
    .join('; ');
  return `${s.role ?? 'Unknown'}, ${disks}${conns === '' ? '' : `, ${conns}`}`;
}
