/**
 * Netlink and generic-netlink framing in pure TypeScript: message headers,
 * genl headers and attributes (TLVs). Netlink is host byte order; every
 * length is checked before it is trusted, so malformed bytes give a
 * ParseError (source "netlink"), never a RangeError.
 */
import { endianness } from 'node:os';
import { ParseError } from '../errors.js';

// Protocols (socket(AF_NETLINK, SOCK_RAW, protocol)).
export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;

// Control message types.
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
/** Types below this are control messages; generic netlink family ids start here. */
export const NLMSG_MIN_TYPE = 0x10;

// Header flags.
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP_FILTERED = 0x20;
// ... for GET requests
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_ATOMIC = 0x400;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// ... for NEW requests
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
// ... on NLMSG_ERROR acks
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

// Extended ack attributes carried after an NLMSG_ERROR / NLMSG_DONE.
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_POLICY = 4;
export const NLMSGERR_ATTR_MISS_TYPE = 5;
export const NLMSGERR_ATTR_MISS_NEST = 6;

// Generic netlink controller ("nlctrl").
export const GENL_ID_CTRL = NLMSG_MIN_TYPE;
export const CTRL_CMD_UNSPEC = 0;
export const CTRL_CMD_NEWFAMILY = 1;
export const CTRL_CMD_DELFAMILY = 2;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_CMD_NEWOPS = 4;
export const CTRL_CMD_DELOPS = 5;
export const CTRL_CMD_GETOPS = 6;
export const CTRL_CMD_NEWMCAST_GRP = 7;
export const CTRL_CMD_DELMCAST_GRP = 8;
export const CTRL_CMD_GETMCAST_GRP = 9;
export const CTRL_CMD_GETPOLICY = 10;

export const CTRL_ATTR_UNSPEC = 0;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;
export const CTRL_ATTR_HDRSIZE = 4;
export const CTRL_ATTR_MAXATTR = 5;
export const CTRL_ATTR_OPS = 6;
export const CTRL_ATTR_MCAST_GROUPS = 7;
export const CTRL_ATTR_POLICY = 8;
export const CTRL_ATTR_OP_POLICY = 9;
export const CTRL_ATTR_OP = 10;

export const CTRL_ATTR_OP_ID = 1;
export const CTRL_ATTR_OP_FLAGS = 2;
export const CTRL_ATTR_MCAST_GRP_NAME = 1;
export const CTRL_ATTR_MCAST_GRP_ID = 2;

// Operation flags reported in CTRL_ATTR_OP_FLAGS.
export const GENL_ADMIN_PERM = 0x01;
export const GENL_CMD_CAP_DO = 0x02;
export const GENL_CMD_CAP_DUMP = 0x04;
export const GENL_CMD_CAP_HASPOL = 0x08;
export const GENL_UNS_ADMIN_PERM = 0x10;

/** Longest family name including the NUL (GENL_NAMSIZ). */
export const GENL_NAMSIZ = 16;

// Attribute header flags. DRBD reuses bit 14 as its own "mandatory" flag, so
// callers that speak DRBD read it from `netByteOrder`.
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = 0xffff & ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

export const NLMSG_HDRLEN = 16;
export const GENL_HDRLEN = 4;
export const NLA_HDRLEN = 4;

const ALIGNTO = 4;
/** Rounds a length up to netlink's 4-byte alignment. */
export function nlAlign(length: number): number {
  return (length + ALIGNTO - 1) & ~(ALIGNTO - 1);
}

const LITTLE = endianness() === 'LE';
const SOURCE = 'netlink';

function readU16(buf: Buffer, at: number): number {
  return LITTLE ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
}
function readU32(buf: Buffer, at: number): number {
  return LITTLE ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
}
function readS32(buf: Buffer, at: number): number {
  return LITTLE ? buf.readInt32LE(at) : buf.readInt32BE(at);
}
function writeU16(buf: Buffer, value: number, at: number): void {
  if (LITTLE) buf.writeUInt16LE(value, at);
  else buf.writeUInt16BE(value, at);
}
function writeU32(buf: Buffer, value: number, at: number): void {
  if (LITTLE) buf.writeUInt32LE(value, at);
  else buf.writeUInt32BE(value, at);
}

function hexExcerpt(buf: Buffer, at: number): string {
  const start = Math.max(0, Math.min(at, buf.length));
  return buf.subarray(start, start + 32).toString('hex');
}

function malformed(reason: string, buf: Buffer, at: number): ParseError {
  return new ParseError(`${reason} at byte ${at} of ${buf.length}`, { source: SOURCE, excerpt: hexExcerpt(buf, at) });
}

function checkInt(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Expected an integer between 0 and ${max} for ${name} but received ${String(value)}`);
  }
}

// ------------------------------------------------------------------ messages

export interface NetlinkMessageInput {
  type: number;
  flags: number;
  seq: number;
  portId: number;
  payload: Buffer;
}

/** The kernel's answer in an NLMSG_ERROR (or the int of an NLMSG_DONE), with any extended ack. */
export interface NetlinkErrorInfo {
  /** Positive errno; 0 on an NLMSG_ERROR means a plain acknowledgement. */
  errno: number;
  /** NLMSGERR_ATTR_MSG: the kernel's own explanation, when it gave one. */
  message?: string;
  /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in our request. */
  offset?: number;
  /** NLMSGERR_ATTR_MISS_TYPE: an attribute the kernel required and did not get. */
  missingType?: number;
}

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  portId: number;
  /** Bytes after the 16-byte header (a view into the datagram). */
  payload: Buffer;
  /** Present on NLMSG_ERROR, and on NLMSG_DONE when it carries a status. */
  error?: NetlinkErrorInfo;
}

/** One message: nlmsghdr + payload, padded to 4 bytes (nlmsg_len itself excludes the padding). */
export function encodeNetlinkMessage(message: NetlinkMessageInput): Buffer {
  checkInt('type', message.type, 0xffff);
  checkInt('flags', message.flags, 0xffff);
  checkInt('seq', message.seq, 0xffffffff);
  checkInt('portId', message.portId, 0xffffffff);
  const length = NLMSG_HDRLEN + message.payload.length;
  checkInt('message length', length, 0xffffffff);
  const buf = Buffer.alloc(nlAlign(length));
  writeU32(buf, length, 0);
  writeU16(buf, message.type, 4);
  writeU16(buf, message.flags, 6);
  writeU32(buf, message.seq, 8);
  writeU32(buf, message.portId, 12);
  message.payload.copy(buf, NLMSG_HDRLEN);
  return buf;
}

function decodeExtAck(tlvs: Buffer, info: NetlinkErrorInfo, buf: Buffer, at: number): void {
  try {
    for (const attr of decodeAttributes(tlvs)) {
      if (attr.type === NLMSGERR_ATTR_MSG) info.message = attrString(attr);
      else if (attr.type === NLMSGERR_ATTR_OFFS) info.offset = attrU32(attr);
      else if (attr.type === NLMSGERR_ATTR_MISS_TYPE) info.missingType = attrU32(attr);
    }
  } catch (error) {
    // Re-anchor the error on the datagram so the offset means something.
    const reason = error instanceof ParseError ? error.message : String(error);
    throw malformed(`bad extended ack (${reason})`, buf, at);
  }
}

// The kernel sends -errno; avoid -0 for a plain ack.
function errnoOf(status: number): number {
  return status === 0 ? 0 : -status;
}

function decodeErrorPayload(message: NetlinkMessage, buf: Buffer, at: number): NetlinkErrorInfo {
  const payload = message.payload;
  if (payload.length < 4 + NLMSG_HDRLEN) {
    throw malformed('NLMSG_ERROR shorter than errno + original header', buf, at);
  }
  const info: NetlinkErrorInfo = { errno: errnoOf(readS32(payload, 0)) };
  // The kernel echoes our request: only its header when capped, else all of it.
  const echoedLength = readU32(payload, 4);
  const echoed = message.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : nlAlign(echoedLength);
  if (echoedLength < NLMSG_HDRLEN || 4 + echoed > nlAlign(payload.length)) {
    throw malformed('NLMSG_ERROR echoes a request of impossible length', buf, at);
  }
  if (message.flags & NLM_F_ACK_TLVS) decodeExtAck(payload.subarray(4 + echoed), info, buf, at);
  return info;
}

function decodeDonePayload(message: NetlinkMessage, buf: Buffer, at: number): NetlinkErrorInfo | undefined {
  // A dump's DONE carries an int status (older kernels may send none).
  if (message.payload.length < 4) return undefined;
  const info: NetlinkErrorInfo = { errno: errnoOf(readS32(message.payload, 0)) };
  if (message.flags & NLM_F_ACK_TLVS) decodeExtAck(message.payload.subarray(4), info, buf, at);
  return info;
}

/** Every message of one datagram. */
export function decodeNetlinkMessages(buf: Buffer): NetlinkMessage[] {
  const messages: NetlinkMessage[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < NLMSG_HDRLEN) throw malformed('truncated netlink header', buf, at);
    const length = readU32(buf, at);
    if (length < NLMSG_HDRLEN) throw malformed(`netlink message length ${length} below header size`, buf, at);
    if (length > buf.length - at) {
      throw malformed(`netlink message length ${length} exceeds the ${buf.length - at} bytes left`, buf, at);
    }
    const message: NetlinkMessage = {
      type: readU16(buf, at + 4),
      flags: readU16(buf, at + 6),
      seq: readU32(buf, at + 8),
      portId: readU32(buf, at + 12),
      payload: buf.subarray(at + NLMSG_HDRLEN, at + length),
    };
    if (message.type === NLMSG_ERROR) message.error = decodeErrorPayload(message, buf, at);
    else if (message.type === NLMSG_DONE) {
      const done = decodeDonePayload(message, buf, at);
      if (done !== undefined) message.error = done;
    }
    messages.push(message);
    at += nlAlign(length);
  }
  return messages;
}

// ---------------------------------------------------------- generic netlink

export interface GenlHeader {
  cmd: number;
  version: number;
  /** Everything after the 4-byte genl header: a family header (if any), then attributes. */
  body: Buffer;
}

export function encodeGenlHeader(cmd: number, version: number): Buffer {
  checkInt('cmd', cmd, 0xff);
  checkInt('version', version, 0xff);
  return Buffer.from([cmd, version, 0, 0]);
}

export function decodeGenlHeader(payload: Buffer): GenlHeader {
  if (payload.length < GENL_HDRLEN) throw malformed('truncated generic netlink header', payload, 0);
  return { cmd: payload[0] ?? 0, version: payload[1] ?? 0, body: payload.subarray(GENL_HDRLEN) };
}

// ---------------------------------------------------------------- attributes

export interface NetlinkAttribute {
  /** Attribute type with the two flag bits masked off. */
  type: number;
  /** NLA_F_NESTED was set. */
  nested: boolean;
  /** Bit 14 (NLA_F_NET_BYTEORDER; DRBD's "mandatory" flag). */
  netByteOrder: boolean;
  /** Value bytes, without header and padding (a view into the input). */
  payload: Buffer;
}

export interface AttributeInput {
  type: number;
  /** Raw value bytes, or attributes to nest. */
  value: Buffer | readonly AttributeInput[];
  /** Set NLA_F_NESTED; defaults to true for a list value, false for bytes. */
  nested?: boolean;
  /** Set bit 14 (NLA_F_NET_BYTEORDER, or DRBD's mandatory flag). */
  netByteOrder?: boolean;
}

/** Encodes attributes back to back, each padded to 4 bytes. */
export function encodeAttributes(list: readonly AttributeInput[]): Buffer {
  const parts: Buffer[] = [];
  for (const item of list) {
    checkInt('attribute type', item.type, NLA_TYPE_MASK);
    const isList = !Buffer.isBuffer(item.value);
    const value: Buffer = isList
      ? encodeAttributes(item.value as readonly AttributeInput[])
      : (item.value as Buffer);
    const length = NLA_HDRLEN + value.length;
    checkInt('attribute length', length, 0xffff);
    const nested = item.nested ?? isList;
    const header = Buffer.alloc(NLA_HDRLEN);
    writeU16(header, length, 0);
    writeU16(header, item.type | (nested ? NLA_F_NESTED : 0) | (item.netByteOrder ? NLA_F_NET_BYTEORDER : 0), 2);
    parts.push(header, value, Buffer.alloc(nlAlign(length) - length));
  }
  return Buffer.concat(parts);
}

export function decodeAttributes(buf: Buffer): NetlinkAttribute[] {
  const attributes: NetlinkAttribute[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < NLA_HDRLEN) throw malformed('truncated attribute header', buf, at);
    const length = readU16(buf, at);
    const rawType = readU16(buf, at + 2);
    if (length < NLA_HDRLEN) throw malformed(`attribute length ${length} below header size`, buf, at);
    if (length > buf.length - at) {
      throw malformed(`attribute length ${length} exceeds the ${buf.length - at} bytes left`, buf, at);
    }
    attributes.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      payload: buf.subarray(at + NLA_HDRLEN, at + length),
    });
    at += nlAlign(length);
  }
  return attributes;
}

/** Attributes by type; a repeated type keeps the last one, as the kernel's nla_parse does. */
export function attrMap(attributes: readonly NetlinkAttribute[]): Map<number, NetlinkAttribute> {
  const map = new Map<number, NetlinkAttribute>();
  for (const attr of attributes) map.set(attr.type, attr);
  return map;
}

/** The attributes nested inside one attribute. */
export function attrNested(attr: NetlinkAttribute): NetlinkAttribute[] {
  return decodeAttributes(attr.payload);
}

function sized(attr: NetlinkAttribute, size: number, what: string): Buffer {
  if (attr.payload.length !== size) {
    throw new ParseError(`attribute ${attr.type} is ${attr.payload.length} bytes, a ${what} needs ${size}`, {
      source: SOURCE,
      excerpt: attr.payload.subarray(0, 32).toString('hex'),
    });
  }
  return attr.payload;
}

export function attrU8(attr: NetlinkAttribute): number {
  return sized(attr, 1, 'u8')[0] ?? 0;
}
export function attrU16(attr: NetlinkAttribute): number {
  return readU16(sized(attr, 2, 'u16'), 0);
}
export function attrU32(attr: NetlinkAttribute): number {
  return readU32(sized(attr, 4, 'u32'), 0);
}
export function attrS32(attr: NetlinkAttribute): number {
  return readS32(sized(attr, 4, 's32'), 0);
}
export function attrU64(attr: NetlinkAttribute): bigint {
  const payload = sized(attr, 8, 'u64');
  return LITTLE ? payload.readBigUInt64LE(0) : payload.readBigUInt64BE(0);
}
export function attrS64(attr: NetlinkAttribute): bigint {
  const payload = sized(attr, 8, 's64');
  return LITTLE ? payload.readBigInt64LE(0) : payload.readBigInt64BE(0);
}

/** An unsigned integer of 1, 2, 4 or 8 bytes (NLA_UINT and friends), as bigint. */
export function attrUint(attr: NetlinkAttribute): bigint {
  switch (attr.payload.length) {
    case 1:
      return BigInt(attrU8(attr));
    case 2:
      return BigInt(attrU16(attr));
    case 4:
      return BigInt(attrU32(attr));
    case 8:
      return attrU64(attr);
    default:
      throw new ParseError(`attribute ${attr.type} is ${attr.payload.length} bytes, not an integer size`, {
        source: SOURCE,
        excerpt: attr.payload.subarray(0, 32).toString('hex'),
      });
  }
}

/** A string up to its first NUL (or the end when the kernel did not terminate it). */
export function attrString(attr: NetlinkAttribute): string {
  const nul = attr.payload.indexOf(0);
  return attr.payload.toString('utf8', 0, nul === -1 ? attr.payload.length : nul);
}

/** A flag attribute is true by being present. */
export function attrFlag(attr: NetlinkAttribute | undefined): boolean {
  return attr !== undefined;
}

// Value encoders for AttributeInput.value.
export function encodeU8(value: number): Buffer {
  checkInt('u8', value, 0xff);
  return Buffer.from([value]);
}
export function encodeU16(value: number): Buffer {
  checkInt('u16', value, 0xffff);
  const buf = Buffer.alloc(2);
  writeU16(buf, value, 0);
  return buf;
}
export function encodeU32(value: number): Buffer {
  checkInt('u32', value, 0xffffffff);
  const buf = Buffer.alloc(4);
  writeU32(buf, value, 0);
  return buf;
}
export function encodeS32(value: number): Buffer {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new RangeError(`Expected a 32-bit signed integer but received ${String(value)}`);
  }
  const buf = Buffer.alloc(4);
  if (LITTLE) buf.writeInt32LE(value, 0);
  else buf.writeInt32BE(value, 0);
  return buf;
}
export function encodeU64(value: bigint): Buffer {
  if (value < 0n || value > 0xffffffffffffffffn) {
    throw new RangeError(`Expected an unsigned 64-bit bigint but received ${String(value)}`);
  }
  const buf = Buffer.alloc(8);
  if (LITTLE) buf.writeBigUInt64LE(value, 0);
  else buf.writeBigUInt64BE(value, 0);
  return buf;
}
/** A NUL-terminated string. */
export function encodeString(value: string): Buffer {
  return Buffer.concat([Buffer.from(value, 'utf8'), Buffer.alloc(1)]);
}
/** A flag attribute's (empty) value. */
export function encodeFlag(): Buffer {
  return Buffer.alloc(0);
}
