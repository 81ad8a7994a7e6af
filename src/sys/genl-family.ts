/**
 * Generic netlink family resolution through the kernel's controller
 * ("nlctrl", CTRL_CMD_GETFAMILY). Family ids are assigned at registration,
 * so they differ between boots: always resolve by name.
 */
import { ConfigError, HastorError, ParseError } from '../errors.js';
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_ATTR_OPS,
  CTRL_ATTR_OP_FLAGS,
  CTRL_ATTR_OP_ID,
  CTRL_ATTR_VERSION,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_NEWFAMILY,
  GENL_ID_CTRL,
  GENL_NAMSIZ,
  NLM_F_DUMP,
  attrMap,
  attrNested,
  attrString,
  attrU16,
  attrU32,
  decodeGenlHeader,
  encodeAttributes,
  encodeGenlHeader,
  encodeString,
} from './netlink-codec.js';
import type { NetlinkAttribute, NetlinkMessage } from './netlink-codec.js';
import { NetlinkRequestError } from './netlink-socket.js';
import type { GenericNetlinkSocket, NetlinkRequestOptions } from './netlink-socket.js';

export interface GenlMulticastGroup {
  name: string;
  id: number;
}

export interface GenlOperation {
  /** Command number. */
  id: number;
  /** GENL_ADMIN_PERM, GENL_CMD_CAP_DO, GENL_CMD_CAP_DUMP, ... */
  flags: number;
}

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  /** Size of the family's own header after the genl header (DRBD: 8). */
  headerSize: number;
  maxAttribute: number;
  multicastGroups: GenlMulticastGroup[];
  operations: GenlOperation[];
}

/** The kernel has no generic netlink family of that name: its module is not loaded (or not built). */
export class GenlFamilyNotFoundError extends HastorError {
  readonly family: string;

  constructor(family: string, options?: { cause?: unknown }) {
    super(
      'E_GENL_FAMILY',
      `generic netlink family "${family}" is not registered in this kernel: its module is not loaded ` +
        `(try "modprobe ${family}") or the kernel was built without it`,
      options,
    );
    this.family = family;
  }
}

const ENOENT = 2;
const CTRL_VERSION = 2;
const SOURCE = 'netlink';

function attrOf(map: Map<number, NetlinkAttribute>, type: number, what: string): NetlinkAttribute {
  const attr = map.get(type);
  if (attr === undefined) throw new ParseError(`family reply lacks ${what}`, { source: SOURCE });
  return attr;
}

function decodeGroups(attr: NetlinkAttribute | undefined): GenlMulticastGroup[] {
  if (attr === undefined) return [];
  // A list of nested entries, each keyed by its index.
  return attrNested(attr).map((entry) => {
    const fields = attrMap(attrNested(entry));
    return {
      name: attrString(attrOf(fields, CTRL_ATTR_MCAST_GRP_NAME, 'a multicast group name')),
      id: attrU32(attrOf(fields, CTRL_ATTR_MCAST_GRP_ID, 'a multicast group id')),
    };
  });
}

function decodeOperations(attr: NetlinkAttribute | undefined): GenlOperation[] {
  if (attr === undefined) return [];
  return attrNested(attr).map((entry) => {
    const fields = attrMap(attrNested(entry));
    const flags = fields.get(CTRL_ATTR_OP_FLAGS);
    return {
      id: attrU32(attrOf(fields, CTRL_ATTR_OP_ID, 'an operation id')),
      flags: flags === undefined ? 0 : attrU32(flags),
    };
  });
}

function decodeFamilyMessage(message: NetlinkMessage): GenlFamily {
  const { body } = decodeGenlHeader(message.payload);
  const attrs = attrMap(attrNested({ type: 0, nested: true, netByteOrder: false, payload: body }));
  const optional = (type: number): number => {
    const attr = attrs.get(type);
    return attr === undefined ? 0 : attrU32(attr);
  };
  return {
    id: attrU16(attrOf(attrs, CTRL_ATTR_FAMILY_ID, 'CTRL_ATTR_FAMILY_ID')),
    name: attrString(attrOf(attrs, CTRL_ATTR_FAMILY_NAME, 'CTRL_ATTR_FAMILY_NAME')),
    version: optional(CTRL_ATTR_VERSION),
    headerSize: optional(CTRL_ATTR_HDRSIZE),
    maxAttribute: optional(CTRL_ATTR_MAXATTR),
    multicastGroups: decodeGroups(attrs.get(CTRL_ATTR_MCAST_GROUPS)),
    operations: decodeOperations(attrs.get(CTRL_ATTR_OPS)),
  };
}

const isControllerCommand = (message: NetlinkMessage, command: number): boolean =>
  message.type === GENL_ID_CTRL && message.payload.length >= 1 && message.payload[0] === command;

function isNewFamily(message: NetlinkMessage): boolean {
  return isControllerCommand(message, CTRL_CMD_NEWFAMILY);
}

/**
 * The controller's one multicast group, "notify": the kernel numbers it
 * GENL_ID_CTRL (genl_validate_assign_mc_groups), a fixed id since Linux 3.x.
 * Members hear of every family registered or removed (a module loaded or unloaded).
 */
export const GENL_CTRL_NOTIFY_GROUP = GENL_ID_CTRL;

/** Families that controller notifications in these messages announce as removed (CTRL_CMD_DELFAMILY). */
export function decodeRemovedGenlFamilies(messages: readonly NetlinkMessage[]): GenlFamily[] {
  return messages.filter((m) => isControllerCommand(m, CTRL_CMD_DELFAMILY)).map(decodeFamilyMessage);
}

/** Every family described in controller replies (a GETFAMILY dump). */
export function decodeGenlFamilies(messages: readonly NetlinkMessage[]): GenlFamily[] {
  return messages.filter(isNewFamily).map(decodeFamilyMessage);
}

/** The family described by the reply to CTRL_CMD_GETFAMILY. */
export function decodeGenlFamily(messages: readonly NetlinkMessage[]): GenlFamily {
  const reply = messages.find(isNewFamily);
  if (reply === undefined) {
    throw new ParseError('no CTRL_CMD_NEWFAMILY message in the controller reply', {
      source: SOURCE,
      excerpt: messages.map((m) => `type 0x${m.type.toString(16)}`).join(', '),
    });
  }
  return decodeFamilyMessage(reply);
}

function checkName(name: string): void {
  if (name.length === 0 || Buffer.byteLength(name) >= GENL_NAMSIZ || name.includes('\0')) {
    throw new ConfigError(`invalid generic netlink family name ${JSON.stringify(name)}`, [
      `a family name is 1 to ${GENL_NAMSIZ - 1} bytes without NUL`,
    ]);
  }
}

/** The payload of a CTRL_CMD_GETFAMILY request for `name` (send it with type GENL_ID_CTRL). */
export function encodeGetFamilyRequest(name: string): Buffer {
  checkName(name);
  return Buffer.concat([
    encodeGenlHeader(CTRL_CMD_GETFAMILY, CTRL_VERSION),
    encodeAttributes([{ type: CTRL_ATTR_FAMILY_NAME, value: encodeString(name) }]),
  ]);
}

/** Looks a family up by name; GenlFamilyNotFoundError when the kernel has none. */
export async function resolveGenlFamily(
  socket: GenericNetlinkSocket,
  name: string,
  options: NetlinkRequestOptions = {},
): Promise<GenlFamily> {
  const payload = encodeGetFamilyRequest(name);
  let messages: NetlinkMessage[];
  try {
    messages = await socket.request(GENL_ID_CTRL, 0, payload, options);
  } catch (error) {
    if (error instanceof NetlinkRequestError && error.errno === ENOENT) {
      throw new GenlFamilyNotFoundError(name, { cause: error });
    }
    throw error;
  }
  return decodeGenlFamily(messages);
}

/** Every generic netlink family this kernel has registered. */
export async function listGenlFamilies(
  socket: GenericNetlinkSocket,
  options: NetlinkRequestOptions = {},
): Promise<GenlFamily[]> {
  const messages = await socket.request(GENL_ID_CTRL, NLM_F_DUMP, encodeGenlHeader(CTRL_CMD_GETFAMILY, CTRL_VERSION), options);
  return decodeGenlFamilies(messages);
}
