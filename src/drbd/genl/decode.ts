/**
 * Bytes → DRBD generic-netlink messages. A message is
 * |nlmsghdr|genlmsghdr|drbd_genlmsghdr|top-level attributes…|, each top-level
 * attribute one genl_magic struct. Framing comes from src/sys/netlink-codec;
 * this layer adds the DRBD header and the struct tables. Malformed input
 * raises ParseError with the 1-based message number as `line` and a hex
 * excerpt.
 */
import { ParseError } from '../../errors.js';
import {
  decodeAttributes,
  decodeGenlHeader,
  decodeNetlinkMessages,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_MIN_TYPE,
  NLMSG_NOOP,
} from '../../sys/netlink-codec.js';
import { TABLES_84 } from './attributes-84.js';
import { TABLES_9 } from './attributes-9.js';
import { DRBD_GENL_HEADER_SIZE, DRBD_MINOR_NONE, HOST_LITTLE_ENDIAN, drbdCommandName, type DrbdApiVersion } from './constants.js';
import { DrbdNetlinkError } from './errors.js';
import type { ApiTables, DecodedStruct } from './schema.js';
import { decodeStruct, STRUCT_PARSE_SOURCE } from './struct-codec.js';

export const PARSE_SOURCE = STRUCT_PARSE_SOURCE;

/** What the socket layer hands over per netlink message (nlmsghdr fields + the rest). */
export interface NetlinkMessageLike {
  type: number;
  flags: number;
  seq: number;
  portId: number;
  /** Bytes after the 16-byte nlmsghdr. */
  payload: Uint8Array;
  /** The codec's reading of NLMSG_ERROR / NLMSG_DONE, when it decoded the message. */
  error?: { errno: number };
}

export interface DrbdGenlMessage {
  /** nlmsg_type: the family id the kernel assigned at module load. */
  type: number;
  flags: number;
  seq: number;
  portId: number;
  cmd: number;
  command: string;
  genlVersion: number;
  /** drbd_genlmsghdr.minor; null for ~0 (a resource- or connection-level message). */
  minor: number | null;
  /** drbd_genlmsghdr.ret_code; 101 (NO_ERROR) on every status message. */
  retCode: number;
  /** Top-level structs present, by C struct name (`drbd_cfg_context`, `state_info` …). */
  structs: Readonly<Record<string, DecodedStruct>>;
  /** 1-based number of the message in the input it came from: the `line` of later ParseErrors. */
  messageNumber: number;
  /** The bytes after the nlmsghdr, for error excerpts. */
  payload: Uint8Array;
}

export type DecodedNetlinkMessage =
  | { kind: 'drbd'; message: DrbdGenlMessage }
  | { kind: 'noop' }
  /** NLMSG_DONE; errno (positive) is set when the dump ended in an error. */
  | { kind: 'done'; errno: number }
  /** NLMSG_ERROR: errno 0 is an acknowledgement, else a positive errno. */
  | { kind: 'error'; errno: number };

export function tablesFor(api: DrbdApiVersion): ApiTables {
  return api === 1 ? TABLES_84 : TABLES_9;
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The reason part of a ParseError's message, without its "cannot parse …:" frame and excerpt. */
function reasonOf(error: ParseError): string {
  const where = error.line === undefined ? error.source : `${error.source} line ${error.line}`;
  let text = error.message;
  const prefix = `cannot parse ${where}: `;
  if (text.startsWith(prefix)) text = text.slice(prefix.length);
  const suffix = error.excerpt === undefined ? '' : `: ${JSON.stringify(error.excerpt)}`;
  if (suffix !== '' && text.endsWith(suffix)) text = text.slice(0, -suffix.length);
  return text;
}

/** Anything thrown while decoding message `index` (0-based) becomes a ParseError naming it. */
function atMessage(error: unknown, index: number, bytes: Uint8Array): ParseError {
  if (error instanceof ParseError && error.source === PARSE_SOURCE && error.line !== undefined) return error;
  const reason =
    error instanceof ParseError ? reasonOf(error) : error instanceof Error ? error.message : String(error);
  const excerpt =
    error instanceof ParseError && error.excerpt !== undefined
      ? error.excerpt
      : asBuffer(bytes).subarray(0, 32).toString('hex');
  return new ParseError(`message ${index + 1}: ${reason}`, {
    source: PARSE_SOURCE,
    line: index + 1,
    excerpt: excerpt === '' ? '(empty)' : excerpt,
  });
}

export interface DecodeOptions {
  /** Decode only these structs (by C name); others are skipped unread. Default: all. */
  only?: ReadonlySet<string>;
}

function decodeDrbdPayload(msg: NetlinkMessageLike, tables: ApiTables, index: number, options: DecodeOptions): DrbdGenlMessage {
  const genl = decodeGenlHeader(asBuffer(msg.payload));
  const body = genl.body;
  if (body.length < DRBD_GENL_HEADER_SIZE) {
    throw new ParseError(`${body.length} bytes after the genl header, the drbd header needs ${DRBD_GENL_HEADER_SIZE}`, {
      source: PARSE_SOURCE,
      excerpt: body.toString('hex') || '(empty)',
    });
  }
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const minor = dv.getUint32(0, HOST_LITTLE_ENDIAN);
  const structs: Record<string, DecodedStruct> = {};
  for (const tla of decodeAttributes(body.subarray(DRBD_GENL_HEADER_SIZE))) {
    const spec = tables.byTla.get(tla.type);
    if (spec === undefined) continue; // a struct this table does not know: newer module
    if (options.only !== undefined && !options.only.has(spec.name)) continue;
    structs[spec.name] = decodeStruct(spec, tla);
  }
  return {
    type: msg.type,
    flags: msg.flags,
    seq: msg.seq,
    portId: msg.portId,
    cmd: genl.cmd,
    command: drbdCommandName(genl.cmd),
    genlVersion: genl.version,
    minor: minor === DRBD_MINOR_NONE ? null : minor,
    retCode: dv.getInt32(4, HOST_LITTLE_ENDIAN),
    structs,
    messageNumber: index + 1,
    payload: msg.payload,
  };
}

/** errno of an NLMSG_ERROR / NLMSG_DONE the codec did not annotate (hand-built input). */
function statusInt(msg: NetlinkMessageLike): number {
  if (msg.error !== undefined) return msg.error.errno;
  if (msg.payload.length < 4) return 0;
  const dv = new DataView(msg.payload.buffer, msg.payload.byteOffset, 4);
  return -dv.getInt32(0, HOST_LITTLE_ENDIAN);
}

function decodeOne(msg: NetlinkMessageLike, tables: ApiTables, index: number, options: DecodeOptions = {}): DecodedNetlinkMessage {
  switch (msg.type) {
    case NLMSG_NOOP:
      return { kind: 'noop' };
    case NLMSG_DONE:
      return { kind: 'done', errno: statusInt(msg) };
    case NLMSG_ERROR:
      return { kind: 'error', errno: statusInt(msg) };
    default:
      if (msg.type < NLMSG_MIN_TYPE) {
        // NLMSG_OVERRUN or a reserved type: nothing a DRBD reader can use.
        throw new ParseError(`netlink control message type ${msg.type} in a DRBD stream`, {
          source: PARSE_SOURCE,
          excerpt: asBuffer(msg.payload).subarray(0, 32).toString('hex') || '(empty)',
        });
      }
      return { kind: 'drbd', message: decodeDrbdPayload(msg, tables, index, options) };
  }
}

/** Decodes one message the socket layer already split. `index` numbers it in error reports. */
export function decodeNetlinkMessage(msg: NetlinkMessageLike, api: DrbdApiVersion, index = 0): DecodedNetlinkMessage {
  try {
    return decodeOne(msg, tablesFor(api), index);
  } catch (error) {
    throw atMessage(error, index, msg.payload);
  }
}

/** Raw datagrams (each may hold several messages) and/or messages already split by the socket. */
export type NetlinkInput = Uint8Array | readonly (Uint8Array | NetlinkMessageLike)[];

/**
 * Cuts a datagram at each nlmsg_len so every message is decoded (and
 * blamed) on its own; a bad length leaves the rest as one piece for the
 * codec to reject.
 */
function messageSlices(bytes: Uint8Array): Uint8Array[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const length = bytes.length - offset >= 4 ? dv.getUint32(offset, HOST_LITTLE_ENDIAN) : 0;
    if (length < 16 || length > bytes.length - offset) {
      out.push(bytes.subarray(offset));
      break;
    }
    const next = Math.min(bytes.length, offset + ((length + 3) & ~3));
    out.push(bytes.subarray(offset, next));
    offset = next;
  }
  return out;
}

export function decodeNetlinkInput(input: NetlinkInput, api: DrbdApiVersion, options: DecodeOptions = {}): DecodedNetlinkMessage[] {
  const items = input instanceof Uint8Array ? [input] : input;
  const tables = tablesFor(api);
  const out: DecodedNetlinkMessage[] = [];
  let index = 0;
  for (const item of items) {
    const pieces = item instanceof Uint8Array ? messageSlices(item) : [item];
    for (const piece of pieces) {
      try {
        const messages = piece instanceof Uint8Array ? decodeNetlinkMessages(asBuffer(piece)) : [piece];
        for (const msg of messages) out.push(decodeOne(msg, tables, index, options));
      } catch (error) {
        throw atMessage(error, index, piece instanceof Uint8Array ? piece : piece.payload);
      }
      index++;
    }
  }
  return out;
}

/**
 * Only the DRBD messages of `input`. NOOPs and acknowledgements are dropped;
 * a dump that ended in an error (NLMSG_DONE or NLMSG_ERROR with an errno)
 * raises DrbdNetlinkError.
 */
export function decodeDrbdMessages(input: NetlinkInput, api: DrbdApiVersion, options: DecodeOptions = {}): DrbdGenlMessage[] {
  const out: DrbdGenlMessage[] = [];
  for (const decoded of decodeNetlinkInput(input, api, options)) {
    if (decoded.kind === 'drbd') out.push(decoded.message);
    else if ((decoded.kind === 'error' || decoded.kind === 'done') && decoded.errno !== 0) {
      throw new DrbdNetlinkError({ errno: decoded.errno });
    }
  }
  return out;
}
