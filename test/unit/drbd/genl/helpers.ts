/**
 * Builds DRBD genl messages from the attribute tables, the way the kernel
 * lays them out (drbd_nl.c: genlmsg_put, drbd_genlmsghdr, one nest per
 * struct). These bytes are synthetic: they prove encode ↔ decode agree with
 * the tables, not that the tables match a kernel — that is the job of the
 * captured fixtures.
 */
import { encodeAttributes, encodeGenlHeader, encodeNetlinkMessage, encodeS32, encodeU32, NLM_F_MULTI } from '../../../../src/sys/netlink-codec.js';
import { TABLES_84 } from '../../../../src/drbd/genl/attributes-84.js';
import { TABLES_9 } from '../../../../src/drbd/genl/attributes-9.js';
import { DRBD_MINOR_NONE, type DrbdApiVersion } from '../../../../src/drbd/genl/constants.js';
import type { FieldValue } from '../../../../src/drbd/genl/schema.js';
import { encodeStruct, type EncodeStructOptions } from '../../../../src/drbd/genl/struct-codec.js';

export const FAMILY_ID = 0x1c; // what the lab's kernel assigned (genl-families.txt)

export interface MessageSpec {
  api: DrbdApiVersion;
  cmd: number;
  minor?: number | null;
  retCode?: number;
  seq?: number;
  flags?: number;
  structs?: Record<string, Record<string, FieldValue | undefined>>;
  structOptions?: EncodeStructOptions;
}

export function drbdPayload(spec: MessageSpec): Buffer {
  const tables = spec.api === 1 ? TABLES_84 : TABLES_9;
  const attrs = Object.entries(spec.structs ?? {}).map(([name, values]) => {
    const s = tables.byName.get(name);
    if (!s) throw new Error(`no struct ${name}`);
    return encodeStruct(s, values, spec.structOptions ?? { mandatoryBits: true });
  });
  return Buffer.concat([
    encodeGenlHeader(spec.cmd, spec.api),
    encodeU32(spec.minor === null || spec.minor === undefined ? DRBD_MINOR_NONE : spec.minor),
    encodeS32(spec.retCode ?? 101),
    encodeAttributes(attrs),
  ]);
}

export function drbdMessage(spec: MessageSpec): Buffer {
  return encodeNetlinkMessage({
    type: FAMILY_ID,
    flags: spec.flags ?? NLM_F_MULTI,
    seq: spec.seq ?? 1,
    portId: 4242,
    payload: drbdPayload(spec),
  });
}

export function doneMessage(errno = 0, seq = 1): Buffer {
  return encodeNetlinkMessage({ type: 3, flags: NLM_F_MULTI, seq, portId: 4242, payload: encodeS32(-errno) });
}

/** struct sockaddr_in as the kernel stores it (family in host order, port and address in network order). */
export function sockaddrIn(ip: string, port: number): Uint8Array {
  const out = Buffer.alloc(16);
  out.writeUInt16LE(2, 0);
  out.writeUInt16BE(port, 2);
  ip.split('.').forEach((octet, i) => out.writeUInt8(Number(octet), 4 + i));
  return out;
}
