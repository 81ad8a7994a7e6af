/**
 * DRBD genl messages → typed objects, with the enums of the message's API
 * turned into the words the status model uses. Two shapes exist:
 *
 * - 8.4 (API 1) `DRBD_ADM_GET_STATUS` replies and `DRBD_EVENT` broadcasts:
 *   one minor per message, `state_info` with the packed `union drbd_state`.
 * - The object messages (`GET_RESOURCES` … `GET_PEER_DEVICES` replies and the
 *   `*_STATE` notifications): DRBD 9, and the in-tree 8.4.11 backport of them.
 *
 * Enum values out of range raise ParseError: the tables would be wrong.
 */
import { ParseError } from '../../errors.js';
import { splitLegacyConnectionState, type ConnectionState, type DiskState, type Protocol, type ReplicationState, type Role } from '../states.js';
import {
  CONN_NAMES_84,
  CONN_NAMES_9,
  DISK_NAMES_84,
  DISK_NAMES_9,
  DrbdCommand,
  HOST_LITTLE_ENDIAN,
  NOTIFY_CONTINUES,
  NotifyType,
  REPL_NAMES_9,
  REPL_STATE_BASE_9,
  ROLE_NAMES,
  SibReason,
  WIRE_PROTOCOLS,
  type DrbdApiVersion,
} from './constants.js';
import { PARSE_SOURCE, type DrbdGenlMessage } from './decode.js';
import type { DecodedStruct, FieldValue } from './schema.js';
import { formatSockaddr } from './sockaddr.js';
import { decodeStateWord } from './state-word.js';

/**
 * The structs the status model reads (below). Readers pass this to the
 * decoder so a status dump skips disk_conf and res_opts, which are large,
 * unused here, and dominated the read time inside UML guests.
 */
export const STATUS_STRUCTS: ReadonlySet<string> = new Set([
  'drbd_cfg_context',
  'drbd_notification_header',
  'state_info',
  'net_conf',
  'resource_info',
  'resource_statistics',
  'device_info',
  'device_statistics',
  'connection_info',
  'connection_statistics',
  'peer_device_info',
  'peer_device_statistics',
]);

function fail(message: DrbdGenlMessage, reason: string): never {
  const where = message.minor === null ? '' : ` minor ${message.minor}`;
  throw new ParseError(`message ${message.messageNumber} (${message.command}${where}): ${reason}`, {
    source: PARSE_SOURCE,
    line: message.messageNumber,
    excerpt: Buffer.from(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength).subarray(0, 32).toString('hex'),
  });
}

function get(s: DecodedStruct | undefined, name: string): FieldValue | undefined {
  return s === undefined ? undefined : s[name];
}
const num = (s: DecodedStruct | undefined, name: string): number | null => {
  const v = get(s, name);
  return typeof v === 'number' ? v : null;
};
const big = (s: DecodedStruct | undefined, name: string): bigint | null => {
  const v = get(s, name);
  return typeof v === 'bigint' ? v : null;
};
const bool = (s: DecodedStruct | undefined, name: string): boolean | null => {
  const v = get(s, name);
  return typeof v === 'boolean' ? v : null;
};
const text = (s: DecodedStruct | undefined, name: string): string | null => {
  const v = get(s, name);
  return typeof v === 'string' ? v : null;
};
const bytes = (s: DecodedStruct | undefined, name: string): Uint8Array | null => {
  const v = get(s, name);
  return v instanceof Uint8Array ? v : null;
};

function lookup<T extends string>(message: DrbdGenlMessage, names: readonly T[], value: number, what: string): T {
  const name = names[value];
  if (name === undefined) fail(message, `${what} ${value} is not a known value`);
  return name;
}

/* ---------------- shared pieces ---------------- */

export interface CfgContext {
  resourceName: string | null;
  volume: number | null;
  /** DRBD 9 only. */
  connectionName: string | null;
  /** DRBD 9 only. */
  peerNodeId: number | null;
  myAddress: string | null;
  peerAddress: string | null;
}

function context(message: DrbdGenlMessage): CfgContext {
  const c = message.structs['drbd_cfg_context'];
  const my = bytes(c, 'ctx_my_addr');
  const peer = bytes(c, 'ctx_peer_addr');
  return {
    resourceName: text(c, 'ctx_resource_name'),
    volume: num(c, 'ctx_volume'),
    connectionName: text(c, 'ctx_conn_name'),
    peerNodeId: num(c, 'ctx_peer_node_id'),
    myAddress: my === null || my.length === 0 ? null : formatSockaddr(my),
    peerAddress: peer === null || peer.length === 0 ? null : formatSockaddr(peer),
  };
}

function protocolOf(message: DrbdGenlMessage): Protocol | null {
  const wire = num(message.structs['net_conf'], 'wire_protocol');
  return wire === null ? null : (WIRE_PROTOCOLS[wire] ?? fail(message, `wire_protocol ${wire} is not A, B or C`));
}

/** drbd-utils' words for why I/O is suspended, `no` when it is not. */
export function suspendedWord(flags: { user: boolean; noData: boolean; fencing: boolean; quorum: boolean }): string {
  const words = [
    flags.user ? 'user' : null,
    flags.noData ? 'no-data' : null,
    flags.fencing ? 'fencing' : null,
    flags.quorum ? 'quorum' : null,
  ].filter((w): w is string => w !== null);
  return words.length === 0 ? 'no' : words.join(',');
}

/** drbd-utils' words for why a resync is paused, `no` when it is not. */
export function resyncSuspendedWord(flags: { user: boolean; peer: boolean; dependency: boolean }): string {
  const words = [flags.user ? 'user' : null, flags.peer ? 'peer' : null, flags.dependency ? 'dependency' : null].filter(
    (w): w is string => w !== null,
  );
  return words.length === 0 ? 'no' : words.join(',');
}

function diskNames(api: DrbdApiVersion): readonly DiskState[] {
  return api === 1 ? DISK_NAMES_84 : DISK_NAMES_9;
}

/** The connection and replication words of an 8.4 `enum drbd_conns` value. */
function legacyConnection(message: DrbdGenlMessage, value: number): { connectionState: ConnectionState; replicationState: ReplicationState; word: string } {
  const word = lookup(message, CONN_NAMES_84, value, 'connection state');
  const split = splitLegacyConnectionState(word);
  if (split === null) fail(message, `connection state ${word} has no mapping`);
  return { ...split, word };
}

/* ---------------- 8.4: GET_STATUS replies and DRBD_EVENT ---------------- */

export type SibReasonName = 'get-status-reply' | 'state-change' | 'helper-pre' | 'helper-post' | 'sync-progress';
const SIB_NAMES: Readonly<Record<number, SibReasonName>> = {
  [SibReason.GET_STATUS_REPLY]: 'get-status-reply',
  [SibReason.STATE_CHANGE]: 'state-change',
  [SibReason.HELPER_PRE]: 'helper-pre',
  [SibReason.HELPER_POST]: 'helper-post',
  [SibReason.SYNC_PROGRESS]: 'sync-progress',
};

/** `union drbd_state` with the enums named. */
export interface LegacyState {
  raw: number;
  role: Role;
  peerRole: Role;
  /** The 8.4 word as /proc/drbd prints it after `cs:`. */
  connectionWord: string;
  connectionState: ConnectionState;
  replicationState: ReplicationState;
  diskState: DiskState;
  peerDiskState: DiskState;
  suspended: string;
  resyncSuspended: string;
}

function legacyState(message: DrbdGenlMessage, word: number): LegacyState {
  const s = decodeStateWord(word);
  const conn = legacyConnection(message, s.conn);
  return {
    raw: word,
    role: lookup(message, ROLE_NAMES, s.role, 'role'),
    peerRole: lookup(message, ROLE_NAMES, s.peer, 'peer role'),
    connectionWord: conn.word,
    connectionState: conn.connectionState,
    replicationState: conn.replicationState,
    diskState: lookup(message, DISK_NAMES_84, s.disk, 'disk state'),
    peerDiskState: lookup(message, DISK_NAMES_84, s.pdsk, 'peer disk state'),
    suspended: suspendedWord({ user: s.susp, noData: s.suspNod, fencing: s.suspFen, quorum: false }),
    resyncSuspended: resyncSuspendedWord({ user: s.userIsp, peer: s.peerIsp, dependency: s.aftrIsp }),
  };
}

export interface LegacyDeviceStatus {
  kind: 'legacy-device';
  command: 'GET_STATUS' | 'EVENT';
  /** null for a resource that has a connection but no volume yet. */
  minor: number | null;
  context: CfgContext;
  reason: SibReasonName | null;
  /** null only on the volume-less message. */
  state: LegacyState | null;
  previousState: LegacyState | null;
  newState: LegacyState | null;
  capacitySectors: bigint | null;
  /** Present when the node has its disk attached. */
  uuids: { current: bigint; bitmap: bigint; historyStart: bigint; historyEnd: bigint } | null;
  diskFlags: number | null;
  bitsTotal: bigint | null;
  bitsOutOfSync: bigint | null;
  /** Only while a resync or verify runs. */
  bitsResyncTotal: bigint | null;
  bitsResyncFailed: bigint | null;
  helper: { name: string; exitCode: number | null } | null;
  /** Sector counts and request counts as state_info carries them. */
  counters: {
    sentSectors: bigint | null;
    receivedSectors: bigint | null;
    readSectors: bigint | null;
    writtenSectors: bigint | null;
    activityLogWrites: bigint | null;
    bitmapWrites: bigint | null;
    applicationBios: number | null;
    pendingRequests: number | null;
    resyncPendingRequests: number | null;
  };
  protocol: Protocol | null;
  hasNetConf: boolean;
}

function uuidsOf(blob: Uint8Array | null): LegacyDeviceStatus['uuids'] {
  if (blob === null || blob.length < 32) return null;
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return {
    current: dv.getBigUint64(0, HOST_LITTLE_ENDIAN),
    bitmap: dv.getBigUint64(8, HOST_LITTLE_ENDIAN),
    historyStart: dv.getBigUint64(16, HOST_LITTLE_ENDIAN),
    historyEnd: dv.getBigUint64(24, HOST_LITTLE_ENDIAN),
  };
}

function legacyDevice(message: DrbdGenlMessage): LegacyDeviceStatus {
  const si = message.structs['state_info'];
  const current = num(si, 'current_state');
  if (si !== undefined && current === null) fail(message, 'state_info without current_state');
  if (si === undefined && message.minor !== null) fail(message, 'a minor without state_info');
  const prev = num(si, 'prev_state');
  const next = num(si, 'new_state');
  const reason = num(si, 'sib_reason');
  const helperName = text(si, 'helper');
  return {
    kind: 'legacy-device',
    command: message.cmd === DrbdCommand.EVENT ? 'EVENT' : 'GET_STATUS',
    minor: message.minor,
    context: context(message),
    reason: reason === null ? null : (SIB_NAMES[reason] ?? fail(message, `sib_reason ${reason} is not a known value`)),
    state: current === null ? null : legacyState(message, current),
    previousState: prev === null ? null : legacyState(message, prev),
    newState: next === null ? null : legacyState(message, next),
    capacitySectors: big(si, 'capacity'),
    uuids: uuidsOf(bytes(si, 'uuids')),
    diskFlags: num(si, 'disk_flags'),
    bitsTotal: big(si, 'bits_total'),
    bitsOutOfSync: big(si, 'bits_oos'),
    bitsResyncTotal: big(si, 'bits_rs_total'),
    bitsResyncFailed: big(si, 'bits_rs_failed'),
    helper: helperName === null ? null : { name: helperName, exitCode: num(si, 'helper_exit_code') },
    counters: {
      sentSectors: big(si, 'send_cnt'),
      receivedSectors: big(si, 'recv_cnt'),
      readSectors: big(si, 'read_cnt'),
      writtenSectors: big(si, 'writ_cnt'),
      activityLogWrites: big(si, 'al_writ_cnt'),
      bitmapWrites: big(si, 'bm_writ_cnt'),
      applicationBios: num(si, 'ap_bio_cnt'),
      pendingRequests: num(si, 'ap_pending_cnt'),
      resyncPendingRequests: num(si, 'rs_pending_cnt'),
    },
    protocol: protocolOf(message),
    hasNetConf: message.structs['net_conf'] !== undefined,
  };
}

/* ---------------- object messages (DRBD 9 and the 8.4.11 backport) ---------------- */

export type NotifyAction = 'exists' | 'create' | 'change' | 'destroy' | 'call' | 'response' | 'rename';
const NOTIFY_NAMES: Readonly<Record<number, NotifyAction>> = {
  [NotifyType.EXISTS]: 'exists',
  [NotifyType.CREATE]: 'create',
  [NotifyType.CHANGE]: 'change',
  [NotifyType.DESTROY]: 'destroy',
  [NotifyType.CALL]: 'call',
  [NotifyType.RESPONSE]: 'response',
  [NotifyType.RENAME]: 'rename',
};

/** A dump reply has no notification header: it reads as `exists`. */
interface Notification {
  action: NotifyAction;
  /** NOTIFY_CONTINUES: more messages of the same initial-state dump follow. */
  continues: boolean;
  /** True for `*_STATE` broadcasts, false for dump replies. */
  notification: boolean;
}

function notification(message: DrbdGenlMessage): Notification {
  const type = num(message.structs['drbd_notification_header'], 'nh_type');
  if (type === null) return { action: 'exists', continues: false, notification: false };
  const base = type & ~NOTIFY_CONTINUES;
  return {
    action: NOTIFY_NAMES[base] ?? fail(message, `notification type ${base} is not a known value`),
    continues: (type & NOTIFY_CONTINUES) !== 0,
    notification: true,
  };
}

export interface ResourceObject extends Notification {
  kind: 'resource';
  context: CfgContext;
  role: Role | null;
  suspended: string | null;
  writeOrdering: number | null;
}

export interface DeviceObject extends Notification {
  kind: 'device';
  minor: number | null;
  context: CfgContext;
  diskState: DiskState | null;
  sizeSectors: bigint | null;
  readSectors: bigint | null;
  writtenSectors: bigint | null;
  activityLogWrites: bigint | null;
  bitmapWrites: bigint | null;
  upperPending: number | null;
  lowerPending: number | null;
  hasQuorum: boolean | null;
}

export interface ConnectionObject extends Notification {
  kind: 'connection';
  context: CfgContext;
  connectionState: ConnectionState | null;
  peerRole: Role | null;
  congested: boolean | null;
  protocol: Protocol | null;
}

export interface PeerDeviceObject extends Notification {
  kind: 'peer-device';
  minor: number | null;
  context: CfgContext;
  replicationState: ReplicationState | null;
  peerDiskState: DiskState | null;
  resyncSuspended: string | null;
  receivedSectors: bigint | null;
  sentSectors: bigint | null;
  pending: number | null;
  unacked: number | null;
  outOfSyncSectors: bigint | null;
  resyncFailedSectors: bigint | null;
  /** DRBD 9.0.x+ statistics; absent on the 8.4 backport. */
  resyncTotalSectors: bigint | null;
  resyncElapsedMs: bigint | null;
  resyncPausedMs: bigint | null;
  /**
   * Resync-progress mark 1 (drbd-utils' naming): sectors done over
   * milliseconds, read as the current rate. Not yet checked against a DRBD 9
   * kernel; the lab runs 8.4.
   */
  markMs: bigint | null;
  markSectors: bigint | null;
  /** The resync controller's rate, KiB/s. */
  controllerRateKiB: number | null;
}

export interface OtherObject {
  kind: 'other';
  command: string;
  context: CfgContext;
}

export type DrbdObject = LegacyDeviceStatus | ResourceObject | DeviceObject | ConnectionObject | PeerDeviceObject | OtherObject;

function resourceObject(message: DrbdGenlMessage): ResourceObject {
  const info = message.structs['resource_info'];
  const role = num(info, 'res_role');
  return {
    kind: 'resource',
    ...notification(message),
    context: context(message),
    role: role === null ? null : lookup(message, ROLE_NAMES, role, 'role'),
    suspended:
      info === undefined
        ? null
        : suspendedWord({
            user: bool(info, 'res_susp') ?? false,
            noData: bool(info, 'res_susp_nod') ?? false,
            fencing: bool(info, 'res_susp_fen') ?? false,
            quorum: bool(info, 'res_susp_quorum') ?? false,
          }),
    writeOrdering: num(message.structs['resource_statistics'], 'res_stat_write_ordering'),
  };
}

function deviceObject(message: DrbdGenlMessage, api: DrbdApiVersion): DeviceObject {
  const info = message.structs['device_info'];
  const stats = message.structs['device_statistics'];
  const disk = num(info, 'dev_disk_state');
  return {
    kind: 'device',
    ...notification(message),
    minor: message.minor,
    context: context(message),
    diskState: disk === null ? null : lookup(message, diskNames(api), disk, 'disk state'),
    sizeSectors: big(stats, 'dev_size'),
    readSectors: big(stats, 'dev_read'),
    writtenSectors: big(stats, 'dev_write'),
    activityLogWrites: big(stats, 'dev_al_writes'),
    bitmapWrites: big(stats, 'dev_bm_writes'),
    upperPending: num(stats, 'dev_upper_pending'),
    lowerPending: num(stats, 'dev_lower_pending'),
    hasQuorum: bool(info, 'dev_has_quorum'),
  };
}

function connectionObject(message: DrbdGenlMessage, api: DrbdApiVersion): ConnectionObject {
  const info = message.structs['connection_info'];
  const cstate = num(info, 'conn_connection_state');
  const role = num(info, 'conn_role');
  let connectionState: ConnectionState | null = null;
  if (cstate !== null) {
    // The 8.4.11 backport sends connection->cstate, which stays at 9 once the
    // handshake is done (8.4's WFReportParams, DRBD 9's Connected): values up to
    // 9 mean what DRBD 9 calls them, as drbdsetup events2 prints them. Seen in
    // the lab: GET_CONNECTIONS said 9 while /proc/drbd said cs:Connected.
    connectionState =
      api === 2 || cstate < CONN_NAMES_9.length
        ? lookup(message, CONN_NAMES_9, cstate, 'connection state')
        : legacyConnection(message, cstate).connectionState;
  }
  return {
    kind: 'connection',
    ...notification(message),
    context: context(message),
    connectionState,
    peerRole: role === null ? null : lookup(message, ROLE_NAMES, role, 'peer role'),
    congested: bool(message.structs['connection_statistics'], 'conn_congested'),
    protocol: protocolOf(message),
  };
}

function peerDeviceObject(message: DrbdGenlMessage, api: DrbdApiVersion): PeerDeviceObject {
  const info = message.structs['peer_device_info'];
  const stats = message.structs['peer_device_statistics'];
  const repl = num(info, 'peer_repl_state');
  const pdsk = num(info, 'peer_disk_state');
  let replicationState: ReplicationState | null = null;
  if (repl !== null) {
    replicationState =
      api === 1
        ? legacyConnection(message, repl).replicationState
        : lookup(message, REPL_NAMES_9, repl - REPL_STATE_BASE_9, 'replication state');
  }
  const susp = [num(info, 'peer_resync_susp_user'), num(info, 'peer_resync_susp_peer'), num(info, 'peer_resync_susp_dependency')];
  return {
    kind: 'peer-device',
    ...notification(message),
    minor: message.minor,
    context: context(message),
    replicationState,
    peerDiskState: pdsk === null ? null : lookup(message, diskNames(api), pdsk, 'peer disk state'),
    resyncSuspended:
      info === undefined ? null : resyncSuspendedWord({ user: !!susp[0], peer: !!susp[1], dependency: !!susp[2] }),
    receivedSectors: big(stats, 'peer_dev_received'),
    sentSectors: big(stats, 'peer_dev_sent'),
    pending: num(stats, 'peer_dev_pending'),
    unacked: num(stats, 'peer_dev_unacked'),
    outOfSyncSectors: big(stats, 'peer_dev_out_of_sync'),
    resyncFailedSectors: big(stats, 'peer_dev_resync_failed'),
    resyncTotalSectors: big(stats, 'peer_dev_rs_total'),
    resyncElapsedMs: big(stats, 'peer_dev_rs_dt_start_ms'),
    resyncPausedMs: big(stats, 'peer_dev_rs_paused_ms'),
    markMs: big(stats, 'peer_dev_rs_dt1_ms'),
    markSectors: big(stats, 'peer_dev_rs_db1_sectors'),
    controllerRateKiB: num(stats, 'peer_dev_rs_c_sync_rate'),
  };
}

/** Names the content of one DRBD message. Messages that carry no status (helpers, replies to admin commands) come back as `other`. */
export function toDrbdObject(message: DrbdGenlMessage, api: DrbdApiVersion): DrbdObject {
  switch (message.cmd) {
    case DrbdCommand.EVENT:
    case DrbdCommand.GET_STATUS:
      if (api !== 1) return { kind: 'other', command: message.command, context: context(message) };
      return legacyDevice(message);
    case DrbdCommand.GET_RESOURCES:
    case DrbdCommand.RESOURCE_STATE:
      return resourceObject(message);
    case DrbdCommand.GET_DEVICES:
    case DrbdCommand.DEVICE_STATE:
      return deviceObject(message, api);
    case DrbdCommand.GET_CONNECTIONS:
    case DrbdCommand.CONNECTION_STATE:
      return connectionObject(message, api);
    case DrbdCommand.GET_PEER_DEVICES:
    case DrbdCommand.PEER_DEVICE_STATE:
      return peerDeviceObject(message, api);
    default:
      return { kind: 'other', command: message.command, context: context(message) };
  }
}
