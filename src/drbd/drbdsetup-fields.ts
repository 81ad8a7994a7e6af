/**
 * How drbdsetup prints key:value fields (`events2` and `status` text share
 * the vocabulary, drbd-utils `user/v9/drbdsetup*.c`), how each typed value is
 * parsed, and how the values map to the status model: units (KiB, 512-byte
 * sectors, MiB/s), counters and sync progress. Each value parser raises
 * ParseError.
 */
import { ParseError } from '../errors.js';
import {
  isConnectionState,
  isDiskState,
  isReplicationState,
  isRole,
  SYNCING_STATES,
  type ConnectionState,
  type DiskState,
  type ReplicationState,
  type Role,
} from './states.js';
import { progressFromCounts, type DeviceCounters, type SyncProgress } from './status-model.js';

/** @internal drbdsetup units: sizes and traffic in KiB, resync totals in sectors, speeds in MiB/s. */
export const KIB = 1024n;
/** @internal */
export const SECTOR = 512n;
/** @internal */
export const MIB_PER_SECOND = 1024 * 1024;

/** Minor number used when the source does not print one (non-verbose status, a change for an unseen device). */
export const UNKNOWN_MINOR = -1;

// ---------------------------------------------------------------------------
// Typed values per object. A property is present only when its key was printed.

export interface ResourceValues {
  role?: Role;
  /** `no`, or a comma list of `user`, `no-data`, `fencing`, `quorum`. */
  suspended?: string;
  writeOrdering?: string;
  forceIoFailures?: boolean;
  mayPromote?: boolean;
  promotionScore?: number;
  /** `rename resource ... new_name:` */
  newName?: string;
  /** `status --verbose` prints the local node id on the resource line. */
  nodeId?: number;
}

export interface ConnectionValues {
  connectionState?: ConnectionState;
  peerRole?: Role;
  congested?: boolean;
  /** As printed (the kernel counts these in 512-byte sectors). */
  apInFlight?: bigint;
  rsInFlight?: bigint;
  /** `SplitBrain` or `Unrelated`, printed for StandAlone connections. */
  syncState?: string;
  tls?: boolean;
}

export interface DeviceValues {
  diskState?: DiskState;
  /** Intentionally diskless; null when DRBD says `unknown`. */
  client?: boolean | null;
  open?: boolean | null;
  quorum?: boolean;
  /** Backing device path, null for `none`. */
  backingDevice?: string | null;
  sizeBytes?: bigint;
  readBytes?: bigint;
  writtenBytes?: bigint;
  activityLogWrites?: bigint;
  bitmapWrites?: bigint;
  upperPending?: number;
  lowerPending?: number;
  activityLogSuspended?: boolean;
  /** `no`, `upper`, `lower` or `upper,lower`. */
  blocked?: string;
}

export interface PeerDeviceValues {
  replicationState?: ReplicationState;
  peerDiskState?: DiskState;
  peerClient?: boolean | null;
  /** `no`, or a comma list of `user`, `peer`, `dependency`. */
  resyncSuspended?: string;
  receivedBytes?: bigint;
  sentBytes?: bigint;
  outOfSyncBytes?: bigint;
  pending?: number;
  unacked?: number;
  /** `done:` resync/verify percent (DRBD 9). */
  donePercent?: number;
  /** `eta:`; null when DRBD printed `nan` (no progress in the last window). */
  etaSeconds?: number | null;
  /** `dbdt1:` (recent window), bytes/s. */
  speedBytesPerSecond?: number;
  /** `dbdt:` (since start, minus pauses), bytes/s. */
  averageSpeedBytesPerSecond?: number;
  /** `want:` resync controller target, bytes/s. */
  wantBytesPerSecond?: number;
  /** `rs-total:` (512-byte sectors), bytes. */
  resyncTotalBytes?: bigint;
  /** `rs-failed:` (sectors), bytes. */
  resyncFailedBytes?: bigint;
  /** `ov-left:` (sectors), bytes. */
  verifyLeftBytes?: bigint;
}

// ---------------------------------------------------------------------------
// Value parsers. Each raises ParseError.

/** @internal Where a value came from, for error messages. */
export interface FieldContext {
  source: string;
  line: number | undefined;
  excerpt: string;
}

/** @internal A ParseError for a value or line that does not parse. */
export function fail(ctx: FieldContext, reason: string): never {
  throw new ParseError(reason, { source: ctx.source, line: ctx.line, excerpt: ctx.excerpt });
}

function isDigits(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** @internal A non-negative integer that fits a JS number. */
export function parseUint(key: string, value: string, ctx: FieldContext): number {
  if (!isDigits(value) || value.length > 15) fail(ctx, `${key}: expected a non-negative integer, got "${value}"`);
  return Number(value);
}

function parseBig(key: string, value: string, ctx: FieldContext): bigint {
  if (!isDigits(value) || value.length > 30) fail(ctx, `${key}: expected a non-negative integer, got "${value}"`);
  return BigInt(value);
}

function isDecimal(value: string): boolean {
  let i = value.charCodeAt(0) === 45 ? 1 : 0; // optional '-'
  const start = i;
  while (i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) i++;
  if (i === start) return false;
  if (i === value.length) return true;
  if (value.charCodeAt(i) !== 46) return false; // '.'
  const fraction = ++i;
  while (i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) i++;
  return i === value.length && i > fraction && i - start < 40;
}

function parseDecimal(key: string, value: string, ctx: FieldContext): number {
  if (!isDecimal(value)) fail(ctx, `${key}: expected a decimal number, got "${value}"`);
  return Number(value);
}

/** @internal */
export function parseYesNo(key: string, value: string, ctx: FieldContext): boolean {
  if (value === 'yes') return true;
  if (value === 'no') return false;
  return fail(ctx, `${key}: expected yes or no, got "${value}"`);
}

function parseYesNoUnknown(key: string, value: string, ctx: FieldContext): boolean | null {
  return value === 'unknown' ? null : parseYesNo(key, value, ctx);
}

/** Comma lists of lower-case words (suspend reasons, blocked sides): the words may grow, the shape may not. */
function parseFlagList(key: string, value: string, ctx: FieldContext): string {
  let wordStart = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const letter = c >= 97 && c <= 122;
    if (c === 44) {
      if (wordStart) fail(ctx, `${key}: malformed list "${value}"`);
      wordStart = true;
    } else if (letter || (!wordStart && (c === 45 || (c >= 48 && c <= 57)))) {
      wordStart = false;
    } else {
      fail(ctx, `${key}: malformed value "${value}"`);
    }
  }
  if (wordStart) fail(ctx, `${key}: malformed list "${value}"`);
  return value;
}

function parseRole(key: string, value: string, ctx: FieldContext): Role {
  if (!isRole(value)) fail(ctx, `${key}: unknown role "${value}"`);
  return value;
}

function parseDiskState(key: string, value: string, ctx: FieldContext): DiskState {
  if (!isDiskState(value)) fail(ctx, `${key}: unknown disk state "${value}"`);
  return value;
}

function parseReplicationState(key: string, value: string, ctx: FieldContext): ReplicationState {
  if (!isReplicationState(value)) fail(ctx, `${key}: unknown replication state "${value}"`);
  return value;
}

function parseConnectionState(key: string, value: string, ctx: FieldContext): ConnectionState {
  if (!isConnectionState(value)) fail(ctx, `${key}: unknown connection state "${value}"`);
  return value;
}

function kib(key: string, value: string, ctx: FieldContext): bigint {
  return parseBig(key, value, ctx) * KIB;
}

function sectors(key: string, value: string, ctx: FieldContext): bigint {
  return parseBig(key, value, ctx) * SECTOR;
}

function mibPerSecond(key: string, value: string, ctx: FieldContext): number {
  return parseDecimal(key, value, ctx) * MIB_PER_SECOND;
}

/** `eta:%.0f` of NAN prints `nan` or `-nan`; null then. */
function parseEta(key: string, value: string, ctx: FieldContext): number | null {
  if (value === 'nan' || value === '-nan' || value === 'inf' || value === '-inf') return null;
  return parseDecimal(key, value, ctx);
}

/** @internal Stores one parsed value on a typed-values object. */
export type Setter<T> = (target: T, key: string, value: string, ctx: FieldContext) => void;

/** @internal Typed keys per object; anything else stays in `fields` only. */
export const RESOURCE_KEYS: ReadonlyMap<string, Setter<ResourceValues>> = new Map<string, Setter<ResourceValues>>([
  ['role', (t, k, v, c) => (t.role = parseRole(k, v, c))],
  ['suspended', (t, k, v, c) => (t.suspended = parseFlagList(k, v, c))],
  ['write-ordering', (t, k, v, c) => (t.writeOrdering = parseFlagList(k, v, c))],
  ['force-io-failures', (t, k, v, c) => (t.forceIoFailures = parseYesNo(k, v, c))],
  ['may_promote', (t, k, v, c) => (t.mayPromote = parseYesNo(k, v, c))],
  ['promotion_score', (t, k, v, c) => (t.promotionScore = parseUint(k, v, c))],
]);

/** @internal */
export const CONNECTION_KEYS: ReadonlyMap<string, Setter<ConnectionValues>> = new Map<string, Setter<ConnectionValues>>([
  ['connection', (t, k, v, c) => (t.connectionState = parseConnectionState(k, v, c))],
  ['role', (t, k, v, c) => (t.peerRole = parseRole(k, v, c))],
  ['congested', (t, k, v, c) => (t.congested = parseYesNo(k, v, c))],
  ['ap-in-flight', (t, k, v, c) => (t.apInFlight = parseBig(k, v, c))],
  ['rs-in-flight', (t, k, v, c) => (t.rsInFlight = parseBig(k, v, c))],
  ['sync-state', (t, _k, v) => (t.syncState = v)],
  ['tls', (t, k, v, c) => (t.tls = parseYesNo(k, v, c))],
]);

/** @internal */
export const DEVICE_KEYS: ReadonlyMap<string, Setter<DeviceValues>> = new Map<string, Setter<DeviceValues>>([
  ['disk', (t, k, v, c) => (t.diskState = parseDiskState(k, v, c))],
  ['client', (t, k, v, c) => (t.client = parseYesNoUnknown(k, v, c))],
  ['open', (t, k, v, c) => (t.open = parseYesNoUnknown(k, v, c))],
  ['quorum', (t, k, v, c) => (t.quorum = parseYesNo(k, v, c))],
  ['backing_dev', (t, _k, v) => (t.backingDevice = v === 'none' ? null : v)],
  ['size', (t, k, v, c) => (t.sizeBytes = kib(k, v, c))],
  ['read', (t, k, v, c) => (t.readBytes = kib(k, v, c))],
  ['written', (t, k, v, c) => (t.writtenBytes = kib(k, v, c))],
  ['al-writes', (t, k, v, c) => (t.activityLogWrites = parseBig(k, v, c))],
  ['bm-writes', (t, k, v, c) => (t.bitmapWrites = parseBig(k, v, c))],
  ['upper-pending', (t, k, v, c) => (t.upperPending = parseUint(k, v, c))],
  ['lower-pending', (t, k, v, c) => (t.lowerPending = parseUint(k, v, c))],
  ['al-suspended', (t, k, v, c) => (t.activityLogSuspended = parseYesNo(k, v, c))],
  ['blocked', (t, k, v, c) => (t.blocked = parseFlagList(k, v, c))],
]);

/** @internal */
export const PEER_DEVICE_KEYS: ReadonlyMap<string, Setter<PeerDeviceValues>> = new Map<string, Setter<PeerDeviceValues>>([
  ['replication', (t, k, v, c) => (t.replicationState = parseReplicationState(k, v, c))],
  ['peer-disk', (t, k, v, c) => (t.peerDiskState = parseDiskState(k, v, c))],
  ['peer-client', (t, k, v, c) => (t.peerClient = parseYesNoUnknown(k, v, c))],
  ['resync-suspended', (t, k, v, c) => (t.resyncSuspended = parseFlagList(k, v, c))],
  ['received', (t, k, v, c) => (t.receivedBytes = kib(k, v, c))],
  ['sent', (t, k, v, c) => (t.sentBytes = kib(k, v, c))],
  ['out-of-sync', (t, k, v, c) => (t.outOfSyncBytes = kib(k, v, c))],
  ['pending', (t, k, v, c) => (t.pending = parseUint(k, v, c))],
  ['unacked', (t, k, v, c) => (t.unacked = parseUint(k, v, c))],
  ['done', (t, k, v, c) => (t.donePercent = parseDecimal(k, v, c))],
  ['eta', (t, k, v, c) => (t.etaSeconds = parseEta(k, v, c))],
  ['dbdt1', (t, k, v, c) => (t.speedBytesPerSecond = mibPerSecond(k, v, c))],
  ['dbdt', (t, k, v, c) => (t.averageSpeedBytesPerSecond = mibPerSecond(k, v, c))],
  ['want', (t, k, v, c) => (t.wantBytesPerSecond = mibPerSecond(k, v, c))],
  ['rs-total', (t, k, v, c) => (t.resyncTotalBytes = sectors(k, v, c))],
  ['rs-failed', (t, k, v, c) => (t.resyncFailedBytes = sectors(k, v, c))],
  ['ov-left', (t, k, v, c) => (t.verifyLeftBytes = sectors(k, v, c))],
]);

/**
 * @internal Applies one key:value to a typed-values object when the key is
 * known. `--diff` values (`old->new`) count as their new side.
 */
export function applyTypedField<T>(table: ReadonlyMap<string, Setter<T>>, target: T, key: string, value: string, ctx: FieldContext): void {
  const setter = table.get(key);
  if (setter === undefined) return;
  const arrow = key === 'backing_dev' ? -1 : value.lastIndexOf('->');
  setter(target, key, arrow === -1 ? value : value.slice(arrow + 2), ctx);
}

/** @internal Splits `key:value`; the value may contain further colons (addresses). */
export function splitKeyValue(token: string, ctx: FieldContext): [string, string] {
  const colon = token.indexOf(':');
  if (colon <= 0) fail(ctx, `malformed key:value "${token}"`);
  return [token.slice(0, colon), token.slice(colon + 1)];
}

// ANSI colour sequences from `--color=always`.
const ANSI = /\x1b\[[0-9;]*m/g;

/** @internal */
export function stripAnsi(line: string): string {
  return line.includes('\x1b') ? line.replace(ANSI, '') : line;
}

// ---------------------------------------------------------------------------
// Typed values to the status model, shared by every text source.

/** @internal Copies the device counters a line printed; counters it did not print stay as they are. */
export function applyDeviceCounters(c: DeviceCounters, v: DeviceValues): void {
  if (v.readBytes !== undefined) c.diskReadBytes = v.readBytes;
  if (v.writtenBytes !== undefined) c.diskWrittenBytes = v.writtenBytes;
  if (v.activityLogWrites !== undefined) c.activityLogWrites = v.activityLogWrites;
  if (v.bitmapWrites !== undefined) c.bitmapWrites = v.bitmapWrites;
  if (v.upperPending !== undefined) c.applicationPending = v.upperPending;
  if (v.lowerPending !== undefined) c.localPending = v.lowerPending;
}

/** @internal The peer-device counterpart of applyDeviceCounters. */
export function applyPeerDeviceCounters(c: DeviceCounters, v: PeerDeviceValues): void {
  if (v.receivedBytes !== undefined) c.networkReceivedBytes = v.receivedBytes;
  if (v.sentBytes !== undefined) c.networkSentBytes = v.sentBytes;
  if (v.pending !== undefined) c.peerPending = v.pending;
  if (v.unacked !== undefined) c.unacked = v.unacked;
}

// ---------------------------------------------------------------------------
// Sync progress, for events2, status text and status --json alike.

/** @internal What a source knows about one peer device's resync. */
export interface ProgressInputs {
  replicationState: ReplicationState;
  outOfSyncBytes: bigint | null;
  donePercent: number | null;
  /** null: not printed; use `etaUnknown` for DRBD's `nan`. */
  etaSeconds: number | null;
  etaUnknown: boolean;
  speedBytesPerSecond: number | null;
  averageSpeedBytesPerSecond: number | null;
  wantBytesPerSecond: number | null;
  resyncTotalBytes: bigint | null;
  verifyLeftBytes: bigint | null;
  /** Largest out-of-sync seen since this resync began (events2 history). */
  rememberedTotalBytes: bigint | null;
  resyncSuspended: string | null;
}

/** total = remaining / (1 - done%), DRBD's own definition of `done` inverted. */
function totalFromDone(remaining: bigint, donePercent: number): bigint | null {
  const left = Math.round((100 - donePercent) * 100); // hundredths of a percent
  if (!(left > 0) || left > 10_000) return null;
  return (remaining * 10_000n) / BigInt(left);
}

/**
 * @internal Sync progress for a peer device, or null when it is not
 * resyncing/verifying or nothing about the progress is known.
 *
 * Total bytes, in order of preference: `rs-total` (exact); out-of-sync
 * divided by the part still to go per `done:` (DRBD 9); the largest
 * out-of-sync seen since the resync began (8.4, which prints no `done:` in
 * events2). When only `done:` is known (events2 without --statistics),
 * percent is DRBD's and both byte counts are 0n.
 * `stalled`: a paused resync, a resync suspended for any reason, or an ETA
 * DRBD could not compute (no progress in its last window).
 */
export function syncProgress(p: ProgressInputs): SyncProgress | null {
  if (!SYNCING_STATES.has(p.replicationState)) return null;
  const verifying = p.replicationState === 'VerifyS' || p.replicationState === 'VerifyT';
  const remaining = verifying ? p.verifyLeftBytes : p.outOfSyncBytes;
  let total = p.resyncTotalBytes;
  if (total === null && remaining !== null && p.donePercent !== null) total = totalFromDone(remaining, p.donePercent);
  if (total === null && remaining !== null && !verifying && p.rememberedTotalBytes !== null) total = p.rememberedTotalBytes;
  if ((remaining === null || total === null) && p.donePercent === null) return null;

  const paused = p.replicationState === 'PausedSyncS' || p.replicationState === 'PausedSyncT';
  const suspended = p.resyncSuspended !== null && p.resyncSuspended !== 'no';
  const left = remaining !== null && total !== null ? remaining : 0n;
  const all = remaining !== null && total !== null ? (total < remaining ? remaining : total) : 0n;
  const progress = progressFromCounts(left, all, {
    speedBytesPerSecond: p.speedBytesPerSecond,
    averageSpeedBytesPerSecond: p.averageSpeedBytesPerSecond,
    wantBytesPerSecond: p.wantBytesPerSecond,
    stalled: paused || suspended || p.etaUnknown,
  });
  if (p.donePercent !== null) progress.percent = p.donePercent;
  if (p.etaSeconds !== null) progress.etaSeconds = p.etaSeconds;
  else if (p.etaUnknown || paused) progress.etaSeconds = null;
  return progress;
}
