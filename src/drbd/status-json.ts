/**
 * `drbdsetup status --json` (DRBD 9 only; 8.4 answers "unrecognized option").
 * Key names and units per drbd-utils `user/v9/drbdsetup.c`
 * (resource_status_json, device_status_json, connection_status_json,
 * peer_device_status_json): sizes and traffic in KiB, `rs-total` and
 * `ov-left` in 512-byte sectors, speeds in MiB/s. Unknown keys are allowed.
 */
import { z } from 'zod';
import { ParseError } from '../errors.js';
import { parseJsonInput } from '../json-input.js';
import { CONNECTION_STATES, DISK_STATES, REPLICATION_STATES, ROLES } from './states.js';
import { KIB, MIB_PER_SECOND, SECTOR, syncProgress } from './drbdsetup-fields.js';
import { emptyStatus, type DeviceCounters, type DrbdStatus, type ResourceStatus } from './status-model.js';

const SOURCE = 'drbdsetup status --json';
/** drbdsetup prints this when it cannot estimate (no progress in the last window). */
const ETA_UNKNOWN = 987654321;

const count = z.number().int().nonnegative();
const rate = z.number().finite();

const peerDeviceSchema = z.looseObject({
  volume: count,
  'replication-state': z.enum(REPLICATION_STATES),
  'peer-disk-state': z.enum(DISK_STATES),
  'peer-client': z.boolean().optional(),
  'resync-suspended': z.string().regex(/^[a-z][a-z,-]*$/).optional(),
  received: count.optional(),
  sent: count.optional(),
  'out-of-sync': count.optional(),
  pending: count.optional(),
  unacked: count.optional(),
  'has-sync-details': z.boolean().optional(),
  'has-online-verify-details': z.boolean().optional(),
  'percent-in-sync': rate.optional(),
  'rs-total': count.optional(),
  'ov-left': count.optional(),
  want: rate.optional(),
  'db/dt [MiB/s]': rate.optional(),
  'db1/dt1 [MiB/s]': rate.optional(),
  'estimated-seconds-to-finish': rate.optional(),
  'percent-resync-done': rate.optional(),
});

const connectionSchema = z.looseObject({
  'peer-node-id': count,
  name: z.string(),
  'connection-state': z.enum(CONNECTION_STATES),
  congested: z.boolean().optional(),
  'peer-role': z.enum(ROLES),
  tls: z.boolean().optional(),
  'ap-in-flight': count.optional(),
  'rs-in-flight': count.optional(),
  peer_devices: z.array(peerDeviceSchema),
});

const deviceSchema = z.looseObject({
  volume: count,
  minor: count,
  'disk-state': z.enum(DISK_STATES),
  client: z.boolean().optional(),
  open: z.boolean().optional(),
  quorum: z.boolean().optional(),
  size: count.optional(),
  read: count.optional(),
  written: count.optional(),
  'al-writes': count.optional(),
  'bm-writes': count.optional(),
  'upper-pending': count.optional(),
  'lower-pending': count.optional(),
});

const resourceSchema = z.looseObject({
  name: z.string().min(1),
  // -1 when the resource has no node-id option (8.4-style configuration).
  'node-id': z.number().int().optional(),
  role: z.enum(ROLES),
  suspended: z.boolean(),
  'suspended-user': z.boolean().optional(),
  'suspended-no-data': z.boolean().optional(),
  'suspended-fencing': z.boolean().optional(),
  'suspended-quorum': z.boolean().optional(),
  'force-io-failures': z.boolean().optional(),
  'write-ordering': z.string().optional(),
  devices: z.array(deviceSchema),
  connections: z.array(connectionSchema),
});

const statusSchema = z.array(resourceSchema);

type ResourceJson = z.infer<typeof resourceSchema>;

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') || '(top level)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Parses `drbdsetup status --json` into a DrbdStatus (source 'status-json'). */
export function parseStatusJson(text: string): DrbdStatus {
  if (text.trim().length === 0) {
    throw new ParseError('empty input (drbdsetup status --json prints at least "[ ]")', { source: SOURCE });
  }
  const hint = text.includes("unrecognized option '--json'") ? ' (this drbdsetup or DRBD 8.4 module has no --json)' : '';
  const data = parseJsonInput(text, SOURCE, { hint });
  const result = statusSchema.safeParse(data);
  if (!result.success) {
    const issues = result.error.issues;
    const first = issues[0];
    const shown = issues
      .slice(0, 3)
      .map((issue) => `${pathText(issue.path)}: ${issue.message}`)
      .join('; ');
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
    const value = first === undefined ? undefined : valueAt(data, first.path);
    throw new ParseError(`${shown}${more}`, {
      source: SOURCE,
      excerpt: first === undefined ? undefined : `${pathText(first.path)} = ${JSON.stringify(value) ?? 'undefined'}`,
    });
  }
  const status = emptyStatus('status-json');
  status.resources = result.data.map(toModel);
  return status;
}

function suspendedText(r: ResourceJson): string {
  const reasons: string[] = [];
  if (r['suspended-user']) reasons.push('user');
  if (r['suspended-no-data']) reasons.push('no-data');
  if (r['suspended-fencing']) reasons.push('fencing');
  if (r['suspended-quorum']) reasons.push('quorum');
  if (reasons.length > 0) return reasons.join(',');
  // Older drbd-utils print only the boolean.
  return r.suspended ? 'yes' : 'no';
}

function kib(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value) * KIB;
}

function toModel(r: ResourceJson): ResourceStatus {
  return {
    name: r.name,
    role: r.role,
    suspended: suspendedText(r),
    devices: r.devices.map((d) => {
      const counters: DeviceCounters = {};
      const read = kib(d.read);
      const written = kib(d.written);
      if (read !== undefined) counters.diskReadBytes = read;
      if (written !== undefined) counters.diskWrittenBytes = written;
      if (d['al-writes'] !== undefined) counters.activityLogWrites = BigInt(d['al-writes']);
      if (d['bm-writes'] !== undefined) counters.bitmapWrites = BigInt(d['bm-writes']);
      if (d['upper-pending'] !== undefined) counters.applicationPending = d['upper-pending'];
      if (d['lower-pending'] !== undefined) counters.localPending = d['lower-pending'];
      if (r['write-ordering'] !== undefined) counters.writeOrdering = r['write-ordering'];
      return {
        volume: d.volume,
        minor: d.minor,
        diskState: d['disk-state'],
        sizeBytes: kib(d.size) ?? null,
        ioFlags: null,
        counters,
      };
    }),
    connections: r.connections.map((c) => ({
      peerNodeId: c['peer-node-id'],
      name: c.name,
      connectionState: c['connection-state'],
      peerRole: c['peer-role'],
      protocol: null,
      congested: c.congested ?? null,
      peerDevices: c.peer_devices.map((pd) => {
        const counters: DeviceCounters = {};
        const received = kib(pd.received);
        const sent = kib(pd.sent);
        if (received !== undefined) counters.networkReceivedBytes = received;
        if (sent !== undefined) counters.networkSentBytes = sent;
        if (pd.pending !== undefined) counters.peerPending = pd.pending;
        if (pd.unacked !== undefined) counters.unacked = pd.unacked;
        const outOfSyncBytes = kib(pd['out-of-sync']) ?? null;
        const resyncSuspended = pd['resync-suspended'] ?? null;
        const eta = pd['estimated-seconds-to-finish'];
        const want = pd.want;
        const speed = pd['db1/dt1 [MiB/s]'];
        const average = pd['db/dt [MiB/s]'];
        return {
          volume: pd.volume,
          replicationState: pd['replication-state'],
          peerDiskState: pd['peer-disk-state'],
          outOfSyncBytes,
          resyncSuspended,
          sync: syncProgress({
            replicationState: pd['replication-state'],
            outOfSyncBytes,
            donePercent: pd['percent-resync-done'] ?? null,
            etaSeconds: eta === undefined || eta === ETA_UNKNOWN ? null : eta,
            etaUnknown: eta === ETA_UNKNOWN,
            speedBytesPerSecond: speed === undefined ? null : speed * MIB_PER_SECOND,
            averageSpeedBytesPerSecond: average === undefined ? null : average * MIB_PER_SECOND,
            // 0.00 means the resync controller is off.
            wantBytesPerSecond: want === undefined || want === 0 ? null : want * MIB_PER_SECOND,
            resyncTotalBytes: pd['rs-total'] === undefined ? null : BigInt(pd['rs-total']) * SECTOR,
            verifyLeftBytes: pd['ov-left'] === undefined ? null : BigInt(pd['ov-left']) * SECTOR,
            rememberedTotalBytes: null,
            resyncSuspended,
          }),
          counters,
        };
      }),
    })),
  };
}
