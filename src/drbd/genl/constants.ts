/**
 * Numbers of the kernel's generic-netlink `drbd` family, recorded as data.
 *
 * Sources (read, not copied):
 * - DRBD 8.4 (API 1): Linux 6.1 `include/linux/drbd.h` (REL_VERSION 8.4.11,
 *   API_VERSION 1), `include/linux/drbd_genl_api.h`, `include/linux/drbd_genl.h`,
 *   `include/linux/genl_magic_struct.h`, `drivers/block/drbd/drbd_nl.c`.
 * - DRBD 9 (API 2): LINBIT drbd-headers `linux/drbd.h`, `linux/drbd_genl.h`,
 *   `linux/drbd_genl_api.h` (GENL_MAGIC_VERSION 2), as shipped with drbd-9.2/9.3
 *   and drbd-utils 9.2x.
 * Checked against the lab (UML, kernel 6.1, DRBD 8.4.11): `genl ctrl get name
 * drbd` shows version 1, header size 8, max attribute 24, group `events`.
 */

import { DISK_STATES, REPLICATION_STATES } from '../states.js';
import { endianness } from 'node:os';

export const DRBD_FAMILY_NAME = 'drbd';
export const DRBD_EVENTS_GROUP = 'events';

/** The family version is GENL_MAGIC_VERSION: API_VERSION 1 on 8.4, 2 on DRBD 9. */
export type DrbdApiVersion = 1 | 2;
export const DRBD_API_84: DrbdApiVersion = 1;
export const DRBD_API_9: DrbdApiVersion = 2;

/**
 * `struct drbd_genlmsghdr { __u32 minor; union { __u32 flags; __s32 ret_code; }; }`,
 * 8 bytes on both APIs, right after the 4-byte genlmsghdr.
 */
export const DRBD_GENL_HEADER_SIZE = 8;

/** `minor` in drbd_genlmsghdr when a message is about a resource or connection, not a minor. */
export const DRBD_MINOR_NONE = 0xffff_ffff;

/**
 * genl_magic: bit 14 of nla_type marks an attribute the receiver must not
 * ignore. It is the same bit as NLA_F_NET_BYTEORDER, and bit 15 is
 * NLA_F_NESTED; the kernel sets either on some nests and fields, so the
 * codec masks both off before a number is looked up.
 */
export const DRBD_GENLA_F_MANDATORY = 1 << 14;

/** genlmsghdr->cmd values (GENL_op / GENL_notification numbers). */
export const DrbdCommand = {
  EVENT: 1,
  GET_STATUS: 2,
  NEW_MINOR: 5,
  DEL_MINOR: 6,
  NEW_RESOURCE: 7,
  DEL_RESOURCE: 8,
  RESOURCE_OPTS: 9,
  CONNECT: 10,
  DISCONNECT: 11,
  ATTACH: 12,
  RESIZE: 13,
  PRIMARY: 14,
  SECONDARY: 15,
  NEW_C_UUID: 16,
  START_OV: 17,
  DETACH: 18,
  INVALIDATE: 19,
  INVAL_PEER: 20,
  PAUSE_SYNC: 21,
  RESUME_SYNC: 22,
  SUSPEND_IO: 23,
  RESUME_IO: 24,
  OUTDATE: 25,
  GET_TIMEOUT_TYPE: 26,
  DOWN: 27,
  CHG_DISK_OPTS: 28,
  CHG_NET_OPTS: 29,
  GET_RESOURCES: 30,
  GET_DEVICES: 31,
  GET_CONNECTIONS: 32,
  GET_PEER_DEVICES: 33,
  RESOURCE_STATE: 34,
  DEVICE_STATE: 35,
  CONNECTION_STATE: 36,
  PEER_DEVICE_STATE: 37,
  GET_INITIAL_STATE: 38,
  HELPER: 40,
  INITIAL_STATE_DONE: 41,
  /* DRBD 9 only from here on. */
  FORGET_PEER: 42,
  CHG_PEER_DEVICE_OPTS: 43,
  NEW_PEER: 44,
  NEW_PATH: 45,
  DEL_PEER: 46,
  DEL_PATH: 47,
  PATH_STATE: 48,
  RENAME_RESOURCE: 49,
  GET_PATHS: 50,
} as const;
export type DrbdCommandNumber = (typeof DrbdCommand)[keyof typeof DrbdCommand];

const COMMAND_NAMES = new Map<number, string>(Object.entries(DrbdCommand).map(([name, nr]) => [nr, name]));

export function drbdCommandName(cmd: number): string {
  return COMMAND_NAMES.get(cmd) ?? `UNKNOWN_${cmd}`;
}

/** Top-level attribute numbers (GENL_struct tag numbers, `DRBD_NLA_*`). */
export const DrbdNla = {
  CFG_REPLY: 1,
  CFG_CONTEXT: 2,
  DISK_CONF: 3,
  RESOURCE_OPTS: 4,
  NET_CONF: 5,
  SET_ROLE_PARMS: 6,
  RESIZE_PARMS: 7,
  STATE_INFO: 8,
  START_OV_PARMS: 9,
  NEW_C_UUID_PARMS: 10,
  TIMEOUT_PARMS: 11,
  DISCONNECT_PARMS: 12,
  DETACH_PARMS: 13,
  DEVICE_CONF: 14,
  RESOURCE_INFO: 15,
  DEVICE_INFO: 16,
  CONNECTION_INFO: 17,
  PEER_DEVICE_INFO: 18,
  RESOURCE_STATISTICS: 19,
  DEVICE_STATISTICS: 20,
  CONNECTION_STATISTICS: 21,
  PEER_DEVICE_STATISTICS: 22,
  NOTIFICATION_HEADER: 23,
  HELPER: 24,
  INVALIDATE_PARMS: 25,
  FORGET_PEER_PARMS: 26,
  PEER_DEVICE_OPTS: 27,
  PATH_PARMS: 28,
  CONNECT_PARMS: 29,
  PATH_INFO: 30,
  RENAME_RESOURCE_PARMS: 31,
  RENAME_RESOURCE_INFO: 32,
} as const;

/** enum drbd_ret_code: NO_ERROR is 101; everything above is an error. */
export const DRBD_NO_ERROR = 101;
export const DRBD_ERR_RES_NOT_KNOWN = 158;

/** enum drbd_state_info_bcast_reason (drbd_genl_api.h), the `sib_reason` of state_info. */
export const SibReason = {
  GET_STATUS_REPLY: 1,
  STATE_CHANGE: 2,
  HELPER_PRE: 3,
  HELPER_POST: 4,
  SYNC_PROGRESS: 5,
} as const;

/** enum drbd_notification_type (drbd.h), `nh_type` of the notification header. */
export const NotifyType = {
  EXISTS: 0,
  CREATE: 1,
  CHANGE: 2,
  DESTROY: 3,
  CALL: 4,
  RESPONSE: 5,
  RENAME: 6,
} as const;
export const NOTIFY_CONTINUES = 0x8000;

/** DRBD_PROT_A/B/C (drbd.h), the net_conf `wire_protocol`. */
export const WIRE_PROTOCOLS: Readonly<Record<number, 'A' | 'B' | 'C'>> = { 1: 'A', 2: 'B', 3: 'C' };

/** enum drbd_role, both APIs. */
export const ROLE_NAMES = ['Unknown', 'Primary', 'Secondary'] as const;

/** enum drbd_conns of 8.4, printed as by drbd_conn_str(). */
export const CONN_NAMES_84 = [
  'StandAlone',
  'Disconnecting',
  'Unconnected',
  'Timeout',
  'BrokenPipe',
  'NetworkFailure',
  'ProtocolError',
  'TearDown',
  'WFConnection',
  'WFReportParams',
  'Connected',
  'StartingSyncS',
  'StartingSyncT',
  'WFBitMapS',
  'WFBitMapT',
  'WFSyncUUID',
  'SyncSource',
  'SyncTarget',
  'VerifyS',
  'VerifyT',
  'PausedSyncS',
  'PausedSyncT',
  'Ahead',
  'Behind',
] as const;

/** enum drbd_disk_state of 8.4 (no D_DETACHING). */
export const DISK_NAMES_84 = [
  'Diskless',
  'Attaching',
  'Failed',
  'Negotiating',
  'Inconsistent',
  'Outdated',
  'DUnknown',
  'Consistent',
  'UpToDate',
] as const;

/** enum drbd_conn_state of DRBD 9. */
export const CONN_NAMES_9 = [
  'StandAlone',
  'Disconnecting',
  'Unconnected',
  'Timeout',
  'BrokenPipe',
  'NetworkFailure',
  'ProtocolError',
  'TearDown',
  'Connecting',
  'Connected',
] as const;

/** enum drbd_repl_state of DRBD 9 starts at L_OFF = C_CONNECTED = 9. */
export const REPL_STATE_BASE_9 = 9;
// The vocabulary in states.ts is kept in the kernel's enum order, so it is the table.
export const REPL_NAMES_9 = REPLICATION_STATES;

/** enum drbd_disk_state of DRBD 9 (D_DETACHING inserted at 2, protocol 110). */
export const DISK_NAMES_9 = DISK_STATES;

/** Netlink integers (and the packed state word) are in host byte order. */
export const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/** One bitmap bit covers 4 KiB (BM_BLOCK_SIZE); sector counts are 512-byte units. */
export const BM_BLOCK_BYTES = 4096n;
export const SECTOR_BYTES = 512n;

/** enum drbd_uuid_index: the state_info `uuids` blob holds UI_SIZE (4) u64s. */
export const UUID_SLOTS_84 = ['current', 'bitmap', 'historyStart', 'historyEnd'] as const;
