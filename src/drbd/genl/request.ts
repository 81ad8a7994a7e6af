/**
 * Requests of the `drbd` family: |genlmsghdr|drbd_genlmsghdr|attributes|.
 * The socket layer adds the nlmsghdr (type = the family id resolved at run
 * time, flags, sequence); `encodeDrbdRequestMessage` builds the whole message
 * for raw sockets and tests.
 *
 * Dump requests put ~0 in `minor` (no single minor) and, to restrict the
 * dump to one resource, a DRBD_NLA_CFG_CONTEXT with ctx_resource_name — the
 * kernel's dumpit looks for exactly that (drbd_adm_get_status_all,
 * drbd_adm_dump_devices …). Field types carry DRBD_GENLA_F_MANDATORY as
 * drbdsetup sends them; the kernel strips it.
 */
import {
  encodeAttributes,
  encodeGenlHeader,
  encodeNetlinkMessage,
  encodeU32,
  NLM_F_DUMP,
  NLM_F_REQUEST,
} from '../../sys/netlink-codec.js';
import { DRBD_MINOR_NONE, DrbdCommand, type DrbdApiVersion } from './constants.js';
import { tablesFor } from './decode.js';
import type { FieldValue } from './schema.js';
import { encodeStruct } from './struct-codec.js';

export interface DrbdRequestOptions {
  /** Family version to put in genlmsghdr (1 on 8.4, 2 on DRBD 9). */
  apiVersion: DrbdApiVersion;
  /** drbd_genlmsghdr.minor; default ~0 (none). */
  minor?: number;
  /** drbd_genlmsghdr.flags (DRBD_GENL_F_SET_DEFAULTS = 1); default 0. */
  drbdFlags?: number;
  /** Structs to send, by C name: `{ drbd_cfg_context: { ctx_resource_name: 'r0' } }`. */
  structs?: Readonly<Record<string, Readonly<Record<string, FieldValue | undefined>>>>;
}

/** The generic-netlink payload of a DRBD request (what follows the nlmsghdr). */
export function encodeDrbdRequest(cmd: number, options: DrbdRequestOptions): Buffer {
  const tables = tablesFor(options.apiVersion);
  const structs = Object.entries(options.structs ?? {}).map(([name, values]) => {
    const spec = tables.byName.get(name);
    if (spec === undefined) throw new TypeError(`API ${options.apiVersion} has no struct ${name}`);
    return encodeStruct(spec, values);
  });
  return Buffer.concat([
    encodeGenlHeader(cmd, options.apiVersion),
    encodeU32(options.minor ?? DRBD_MINOR_NONE),
    encodeU32(options.drbdFlags ?? 0),
    encodeAttributes(structs),
  ]);
}

export interface DumpRequestOptions {
  apiVersion: DrbdApiVersion;
  /** Limit the dump to one resource. */
  resource?: string;
}

function contextFor(resource: string | undefined): DrbdRequestOptions['structs'] {
  return resource === undefined ? {} : { drbd_cfg_context: { ctx_resource_name: resource } };
}

/** Payload of the 8.4 `DRBD_ADM_GET_STATUS` dump (all minors, or those of one resource). */
export function encodeGetStatusDump(options: { resource?: string } = {}): Buffer {
  return encodeDrbdRequest(DrbdCommand.GET_STATUS, { apiVersion: 1, structs: contextFor(options.resource) });
}

export type ObjectDumpCommand =
  | typeof DrbdCommand.GET_RESOURCES
  | typeof DrbdCommand.GET_DEVICES
  | typeof DrbdCommand.GET_CONNECTIONS
  | typeof DrbdCommand.GET_PEER_DEVICES;

/** Payload of a DRBD 9 object dump (`GET_RESOURCES` … `GET_PEER_DEVICES`). The 8.4.11 module answers them too. */
export function encodeObjectDump(cmd: ObjectDumpCommand, options: DumpRequestOptions): Buffer {
  return encodeDrbdRequest(cmd, { apiVersion: options.apiVersion, structs: contextFor(options.resource) });
}

/** Flags of every dump request. */
export const DUMP_FLAGS = NLM_F_REQUEST | NLM_F_DUMP;

/** A complete netlink message around a DRBD request payload. */
export function encodeDrbdRequestMessage(
  payload: Buffer,
  header: { familyId: number; seq: number; portId?: number; flags?: number },
): Buffer {
  return encodeNetlinkMessage({
    type: header.familyId,
    flags: header.flags ?? DUMP_FLAGS,
    seq: header.seq,
    portId: header.portId ?? 0,
    payload,
  });
}
