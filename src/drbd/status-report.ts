/**
 * The JSON contract of `hastor status --json`. Other tools script against
 * these keys, so they change only additively. Byte counts become JSON
 * numbers (exact up to 8 PiB, far above any DRBD device).
 */
import { z } from 'zod';
import { CONNECTION_STATES, DISK_STATES, PROTOCOLS, REPLICATION_STATES, ROLES } from './states.js';
import { deviceViews, type DrbdStatus, type SyncProgress } from './status-model.js';

const bytes = z.number().int().nonnegative();

export const syncReportSchema = z.object({
  percent: z.number().min(0).max(100),
  remainingBytes: bytes,
  totalBytes: bytes,
  etaSeconds: z.number().nonnegative().nullable(),
  speedBytesPerSecond: z.number().nonnegative().nullable(),
  averageSpeedBytesPerSecond: z.number().nonnegative().nullable(),
  wantBytesPerSecond: z.number().nonnegative().nullable(),
  stalled: z.boolean(),
  /** Fields the source printed beside the progress that have no key above, as printed (only when there are some). */
  extra: z.record(z.string(), z.string()).optional(),
});

export const peerReportSchema = z.object({
  peerNodeId: z.number().int().nullable(),
  connectionName: z.string().nullable(),
  connectionState: z.enum(CONNECTION_STATES),
  replicationState: z.enum(REPLICATION_STATES),
  peerRole: z.enum(ROLES).nullable(),
  peerDiskState: z.enum(DISK_STATES).nullable(),
  outOfSyncBytes: bytes.nullable(),
  sync: syncReportSchema.nullable(),
});

export const deviceReportSchema = z.object({
  minor: z.number().int().nonnegative(),
  resource: z.string().nullable(),
  volume: z.number().int().nonnegative().nullable(),
  role: z.enum(ROLES).nullable(),
  peerRole: z.enum(ROLES).nullable(),
  diskState: z.enum(DISK_STATES),
  peerDiskState: z.enum(DISK_STATES).nullable(),
  connectionState: z.enum(CONNECTION_STATES).nullable(),
  replicationState: z.enum(REPLICATION_STATES).nullable(),
  protocol: z.enum(PROTOCOLS).nullable(),
  sizeBytes: bytes.nullable(),
  outOfSyncBytes: bytes.nullable(),
  sync: syncReportSchema.nullable(),
  peers: z.array(peerReportSchema),
});

export const statusReportSchema = z.object({
  source: z.enum(['proc', 'events2', 'status-text', 'status-json', 'netlink']),
  version: z.string().nullable(),
  devices: z.array(deviceReportSchema),
  unconfiguredMinors: z.array(z.number().int().nonnegative()),
});

export type StatusReport = z.infer<typeof statusReportSchema>;
export type DeviceReport = z.infer<typeof deviceReportSchema>;
export type SyncReport = z.infer<typeof syncReportSchema>;

const toNumber = (value: bigint | null): number | null => (value === null ? null : Number(value));

function syncReport(sync: SyncProgress | null): SyncReport | null {
  if (sync === null) return null;
  return {
    percent: sync.percent,
    remainingBytes: Number(sync.remainingBytes),
    totalBytes: Number(sync.totalBytes),
    etaSeconds: sync.etaSeconds,
    speedBytesPerSecond: sync.speedBytesPerSecond,
    averageSpeedBytesPerSecond: sync.averageSpeedBytesPerSecond,
    wantBytesPerSecond: sync.wantBytesPerSecond,
    stalled: sync.stalled,
    ...(sync.extra === undefined ? {} : { extra: { ...sync.extra } }),
  };
}

export function toStatusReport(status: DrbdStatus): StatusReport {
  return {
    source: status.source,
    version: status.version?.version ?? null,
    devices: deviceViews(status).map((view) => ({
      minor: view.minor,
      resource: view.resource,
      volume: view.volume,
      role: view.role,
      peerRole: view.peerRole,
      diskState: view.diskState,
      peerDiskState: view.peerDiskState,
      connectionState: view.connectionState,
      replicationState: view.replicationState,
      protocol: view.protocol,
      sizeBytes: toNumber(view.sizeBytes),
      outOfSyncBytes: toNumber(view.outOfSyncBytes),
      sync: syncReport(view.sync),
      peers: view.peers.map((peer) => ({
        peerNodeId: peer.peerNodeId,
        connectionName: peer.connectionName,
        connectionState: peer.connectionState,
        replicationState: peer.replicationState,
        peerRole: peer.peerRole,
        peerDiskState: peer.peerDiskState,
        outOfSyncBytes: toNumber(peer.outOfSyncBytes),
        sync: syncReport(peer.sync),
      })),
    })),
    unconfiguredMinors: [...status.unconfiguredMinors],
  };
}
