/**
 * One status model for every source: /proc/drbd (8.0–9), `drbdsetup events2`,
 * `drbdsetup status` (text and --json) and the generic-netlink `drbd` family.
 * Sizes are bytes as bigint, converted once in each parser.
 */
import type { ConnectionState, DiskState, Protocol, ReplicationState, Role } from './states.js';

export type StatusSource = 'proc' | 'events2' | 'status-text' | 'status-json' | 'netlink';

export interface SyncProgress {
  /** 0–100, as DRBD reports it (or computed from remaining/total). */
  percent: number;
  remainingBytes: bigint;
  totalBytes: bigint;
  etaSeconds: number | null;
  /** Current speed (DRBD's short-window average). */
  speedBytesPerSecond: number | null;
  /** Average since the sync started. */
  averageSpeedBytesPerSecond: number | null;
  /** The resync controller's target (`want:`), when reported. */
  wantBytesPerSecond: number | null;
  stalled: boolean;
  /**
   * Fields a source printed beside the progress that the model has no slot
   * for, as printed (`/proc/drbd` 8.3.8: `queue_delay` "0.0 ms"); unknown ones
   * also raise a warning.
   */
  extra?: Record<string, string>;
}

/** Something a parser accepted but could not fully read: the result stands, the operator should know. */
export interface ParseWarning {
  source: string;
  /** 1-based line number, when the input is line-oriented. */
  line: number | null;
  message: string;
  excerpt: string | null;
}

/** Kernel/module identity, from the /proc/drbd header when the source has one. */
export interface DrbdVersionInfo {
  version: string;
  api: string | null;
  protocolMin: number | null;
  protocolMax: number | null;
  /** `GIT-hash:` (8.0–8.3 and 9) or `srcversion:` (8.4). */
  gitHash: string | null;
  srcVersion: string | null;
  buildInfo: string | null;
  /** DRBD 9 /proc/drbd lists loaded transports. */
  transports: string[];
}

/** Counters as DRBD reports them, converted to bytes where DRBD counts KiB. */
export interface DeviceCounters {
  networkSentBytes?: bigint;
  networkReceivedBytes?: bigint;
  diskWrittenBytes?: bigint;
  diskReadBytes?: bigint;
  activityLogWrites?: bigint;
  bitmapWrites?: bigint;
  localPending?: number;
  peerPending?: number;
  unacked?: number;
  applicationPending?: number;
  epochs?: number;
  writeOrdering?: string;
  /** Counters the parser does not know, as printed (a newer kernel's); each raised a warning. */
  extra?: Record<string, string>;
}

export interface PeerDeviceStatus {
  volume: number | null;
  replicationState: ReplicationState;
  peerDiskState: DiskState | null;
  outOfSyncBytes: bigint | null;
  resyncSuspended: string | null;
  sync: SyncProgress | null;
  counters: DeviceCounters;
}

export interface ConnectionStatus {
  peerNodeId: number | null;
  name: string | null;
  connectionState: ConnectionState;
  peerRole: Role | null;
  protocol: Protocol | null;
  congested: boolean | null;
  peerDevices: PeerDeviceStatus[];
}

export interface DeviceStatus {
  volume: number | null;
  minor: number;
  diskState: DiskState;
  sizeBytes: bigint | null;
  /** DRBD 8 flags (`r-----`) or null. */
  ioFlags: string | null;
  counters: DeviceCounters;
}

export interface ResourceStatus {
  /** null when the source does not name resources (/proc/drbd on 8.x). */
  name: string | null;
  role: Role | null;
  suspended: string | null;
  devices: DeviceStatus[];
  connections: ConnectionStatus[];
}

export interface DrbdStatus {
  source: StatusSource;
  version: DrbdVersionInfo | null;
  resources: ResourceStatus[];
  /** Minors listed as `Unconfigured` in /proc/drbd. */
  unconfiguredMinors: number[];
  /** What the parser kept but did not understand (unknown fields); absent or empty when it understood everything. */
  warnings?: ParseWarning[];
}

/** One row per device: what `hastor status` shows and `--json` promises. */
export interface DeviceView {
  minor: number;
  resource: string | null;
  volume: number | null;
  role: Role | null;
  peerRole: Role | null;
  diskState: DiskState;
  peerDiskState: DiskState | null;
  connectionState: ConnectionState | null;
  replicationState: ReplicationState | null;
  protocol: Protocol | null;
  sizeBytes: bigint | null;
  outOfSyncBytes: bigint | null;
  sync: SyncProgress | null;
  /** Every peer of this device (DRBD 9 can have several; the flat fields above show the first). */
  peers: PeerView[];
}

export interface PeerView {
  peerNodeId: number | null;
  connectionName: string | null;
  connectionState: ConnectionState;
  replicationState: ReplicationState;
  peerRole: Role | null;
  peerDiskState: DiskState | null;
  outOfSyncBytes: bigint | null;
  sync: SyncProgress | null;
}

export function emptyStatus(source: StatusSource): DrbdStatus {
  return { source, version: null, resources: [], unconfiguredMinors: [] };
}

/** Matches a device to its peer devices: by volume when both name one, else by position. */
function peerDeviceFor(connection: ConnectionStatus, device: DeviceStatus, index: number): PeerDeviceStatus | undefined {
  if (device.volume !== null) {
    const byVolume = connection.peerDevices.find((pd) => pd.volume === device.volume);
    if (byVolume) return byVolume;
  }
  return connection.peerDevices[index];
}

export function deviceViews(status: DrbdStatus): DeviceView[] {
  const views: DeviceView[] = [];
  for (const resource of status.resources) {
    resource.devices.forEach((device, index) => {
      const peers: PeerView[] = resource.connections.map((connection) => {
        const peerDevice = peerDeviceFor(connection, device, index);
        return {
          peerNodeId: connection.peerNodeId,
          connectionName: connection.name,
          connectionState: connection.connectionState,
          replicationState: peerDevice?.replicationState ?? 'Off',
          peerRole: connection.peerRole,
          peerDiskState: peerDevice?.peerDiskState ?? null,
          outOfSyncBytes: peerDevice?.outOfSyncBytes ?? null,
          sync: peerDevice?.sync ?? null,
        };
      });
      const first = peers[0];
      const firstConnection = resource.connections[0];
      views.push({
        minor: device.minor,
        resource: resource.name,
        volume: device.volume,
        role: resource.role,
        peerRole: first?.peerRole ?? null,
        diskState: device.diskState,
        peerDiskState: first?.peerDiskState ?? null,
        connectionState: first?.connectionState ?? null,
        replicationState: first?.replicationState ?? null,
        protocol: firstConnection?.protocol ?? null,
        sizeBytes: device.sizeBytes,
        outOfSyncBytes: first?.outOfSyncBytes ?? null,
        sync: peers.find((p) => p.sync !== null)?.sync ?? null,
        peers,
      });
    });
  }
  return views.sort((a, b) => a.minor - b.minor);
}

/**
 * Progress from remaining and total bytes, for sources that report counts but
 * no percent (events2 on DRBD 9, netlink).
 */
export function progressFromCounts(
  remainingBytes: bigint,
  totalBytes: bigint,
  speeds: { speedBytesPerSecond?: number | null; averageSpeedBytesPerSecond?: number | null; wantBytesPerSecond?: number | null; stalled?: boolean } = {},
): SyncProgress {
  const done = totalBytes > 0n ? Number(totalBytes - remainingBytes) / Number(totalBytes) : 0;
  const speed = speeds.speedBytesPerSecond ?? null;
  return {
    percent: Math.round(Math.min(100, Math.max(0, done * 100)) * 10) / 10,
    remainingBytes,
    totalBytes,
    etaSeconds: speed !== null && speed > 0 ? Math.round(Number(remainingBytes) / speed) : null,
    speedBytesPerSecond: speed,
    averageSpeedBytesPerSecond: speeds.averageSpeedBytesPerSecond ?? null,
    wantBytesPerSecond: speeds.wantBytesPerSecond ?? null,
    stalled: speeds.stalled ?? false,
  };
}
