/**
 * Live DRBD status over generic netlink: no process forked, and on 8.4 the
 * resync counters /proc/drbd shows but `drbdsetup events2` does not.
 *
 * The family id changes with every module load, so it is resolved by name;
 * the API follows the family version: 1 is DRBD 8.4 (GET_STATUS dump,
 * DRBD_EVENT broadcasts), 2 and later DRBD 9 (GET_RESOURCES … GET_PEER_DEVICES
 * dumps, *_STATE broadcasts). Both carry an 8-byte drbd_genlmsghdr.
 */
import { HastorError } from '../errors.js';
import { decodeRemovedGenlFamilies, GENL_CTRL_NOTIFY_GROUP, GenlFamilyNotFoundError, resolveGenlFamily, type GenlFamily } from '../sys/genl-family.js';
import { GENL_ID_CTRL, NLM_F_DUMP, NLMSG_MIN_TYPE, decodeNetlinkMessages, type NetlinkMessage } from '../sys/netlink-codec.js';
import { GenericNetlinkSocket, NetlinkRequestError, type NetlinkEvent } from '../sys/netlink-socket.js';
import {
  DRBD_EVENTS_GROUP,
  DRBD_FAMILY_NAME,
  DRBD_GENL_HEADER_SIZE,
  DrbdCommand,
  type DrbdApiVersion,
} from './genl/constants.js';
import { decodeDrbdMessages, type NetlinkMessageLike } from './genl/decode.js';
import { DrbdNetlinkError, NoDrbdFamilyError } from './genl/errors.js';
import { toDrbdObject, STATUS_STRUCTS } from './genl/objects.js';
import { encodeGetStatusDump, encodeObjectDump, type ObjectDumpCommand } from './genl/request.js';
import { decodeDrbdStatusDump, DrbdStatusTracker, type DrbdStatusTrackerOptions } from './genl/status-tracker.js';
import type { DrbdStatus } from './status-model.js';

/** What this module needs from a generic-netlink socket (GenericNetlinkSocket has it; tests pass fakes). */
export interface DrbdNetlinkTransport {
  request(type: number, flags: number, payload: Buffer, options?: { timeoutMs?: number }): Promise<NetlinkMessageLike[]>;
  joinGroup(id: number): void;
  onEvent(listener: (event: NetlinkEvent) => void): () => void;
  close(): void;
}

export interface DrbdNetlinkDeps {
  openSocket(): DrbdNetlinkTransport;
  resolveFamily(socket: DrbdNetlinkTransport, name: string, options: { timeoutMs?: number }): Promise<GenlFamily>;
}

export const defaultDrbdNetlinkDeps: DrbdNetlinkDeps = {
  openSocket: () => GenericNetlinkSocket.open(),
  // The default transport is a GenericNetlinkSocket, which is what resolveGenlFamily takes.
  resolveFamily: (socket, name, options) => resolveGenlFamily(socket as GenericNetlinkSocket, name, options),
};

export interface NetlinkStatusOptions {
  /** Only this resource. */
  resource?: string;
  /** Per request; the socket's default (10 s) otherwise. */
  timeoutMs?: number;
  /** Replace the socket and family lookup (tests, or a shared socket). */
  deps?: DrbdNetlinkDeps;
}

/** The `drbd` family exists but speaks something this code cannot: treat as absent, so callers fall back. */
export class UnsupportedDrbdFamilyError extends NoDrbdFamilyError {
  readonly family: GenlFamily;

  constructor(family: GenlFamily, reason: string) {
    super();
    this.message = `the kernel's generic-netlink family "drbd" (version ${family.version}, header ${family.headerSize} bytes) is not usable: ${reason}. Read status from drbdsetup events2 or /proc/drbd instead`;
    this.family = family;
  }
}

/** API of a resolved family: version 1 is 8.4; DRBD 9 registers version 2. */
export function drbdApiOf(family: GenlFamily): DrbdApiVersion {
  if (family.headerSize !== DRBD_GENL_HEADER_SIZE) {
    throw new UnsupportedDrbdFamilyError(family, `expected an ${DRBD_GENL_HEADER_SIZE}-byte drbd_genlmsghdr`);
  }
  if (family.version === 1) return 1;
  if (family.version >= 2) return 2;
  throw new UnsupportedDrbdFamilyError(family, 'unknown family version');
}

/** Resolves the `drbd` family on `socket`; a missing family becomes NoDrbdFamilyError. */
export async function resolveDrbdFamily(deps: DrbdNetlinkDeps, socket: DrbdNetlinkTransport, timeoutMs?: number): Promise<GenlFamily> {
  return resolveDrbd(deps, socket, timeoutMs);
}

async function resolveDrbd(deps: DrbdNetlinkDeps, socket: DrbdNetlinkTransport, timeoutMs: number | undefined): Promise<GenlFamily> {
  try {
    return await deps.resolveFamily(socket, DRBD_FAMILY_NAME, timeoutMs === undefined ? {} : { timeoutMs });
  } catch (error) {
    if (error instanceof GenlFamilyNotFoundError) throw new NoDrbdFamilyError({ cause: error });
    throw error;
  }
}

async function dumpRequest(
  socket: DrbdNetlinkTransport,
  family: GenlFamily,
  name: string,
  payload: Buffer,
  timeoutMs: number | undefined,
): Promise<NetlinkMessageLike[]> {
  try {
    return await socket.request(family.id, NLM_F_DUMP, payload, timeoutMs === undefined ? {} : { timeoutMs });
  } catch (error) {
    if (error instanceof NetlinkRequestError) {
      throw new DrbdNetlinkError({ errno: error.errno ?? 0, request: `${name} dump`, cause: error });
    }
    throw error;
  }
}

/** Every reply message of a full status dump, in the order the tracker wants them. */
async function dumpAll(
  socket: DrbdNetlinkTransport,
  family: GenlFamily,
  api: DrbdApiVersion,
  options: NetlinkStatusOptions,
): Promise<NetlinkMessageLike[]> {
  const resourceOption = options.resource === undefined ? {} : { resource: options.resource };
  if (api === 1) {
    return dumpRequest(socket, family, 'GET_STATUS', encodeGetStatusDump(resourceOption), options.timeoutMs);
  }
  const resources = await dumpRequest(
    socket,
    family,
    'GET_RESOURCES',
    encodeObjectDump(DrbdCommand.GET_RESOURCES, { apiVersion: api, ...resourceOption }),
    options.timeoutMs,
  );
  const names = new Set<string>();
  for (const message of decodeDrbdMessages(resources, api, { only: STATUS_STRUCTS })) {
    const object = toDrbdObject(message, api);
    if (object.kind === 'resource' && object.context.resourceName !== null) names.add(object.context.resourceName);
  }
  const all: NetlinkMessageLike[] = [...resources];
  // Per resource: early DRBD 9 releases refuse GET_DEVICES & co. without a resource filter.
  const commands: [string, ObjectDumpCommand][] = [
    ['GET_DEVICES', DrbdCommand.GET_DEVICES],
    ['GET_CONNECTIONS', DrbdCommand.GET_CONNECTIONS],
    ['GET_PEER_DEVICES', DrbdCommand.GET_PEER_DEVICES],
  ];
  for (const name of names) {
    for (const [label, cmd] of commands) {
      all.push(
        ...(await dumpRequest(socket, family, label, encodeObjectDump(cmd, { apiVersion: api, resource: name }), options.timeoutMs)),
      );
    }
  }
  return all;
}

/** One full status dump on an open socket (for readers that keep their socket). */
export const dumpDrbdStatusMessages = dumpAll;

/**
 * Reads the status of every DRBD resource (or of `options.resource`) over
 * netlink. Rejects with NoDrbdFamilyError (code E_NO_DRBD_FAMILY) when the
 * module is not loaded, so callers can fall back to events2 or /proc/drbd.
 */
export async function readDrbdStatusNetlink(options: NetlinkStatusOptions = {}): Promise<DrbdStatus> {
  const deps = options.deps ?? defaultDrbdNetlinkDeps;
  const socket = deps.openSocket();
  try {
    const family = await resolveDrbd(deps, socket, options.timeoutMs);
    const api = drbdApiOf(family);
    return decodeDrbdStatusDump(await dumpAll(socket, family, api, options), api);
  } finally {
    socket.close();
  }
}

export interface DrbdNetlinkWatch {
  /** Resolves once the first status was delivered; rejects when setting up failed (also passed to onError). */
  readonly ready: Promise<void>;
  close(): void;
}

export interface WatchOptions extends NetlinkStatusOptions {
  /** Clock for speed estimates (tests). */
  now?: DrbdStatusTrackerOptions['now'];
}

/**
 * Follows DRBD state: dumps once, then applies every broadcast of the
 * `events` group and calls `onStatus` with a fresh snapshot after each change.
 * When the kernel drops events (socket overflow) or a datagram cannot be
 * read, it dumps again. Fatal errors (no family, socket failure) go to
 * `onError` and end the watch.
 */
export function watchDrbdNetlink(
  onStatus: (status: DrbdStatus) => void,
  onError: (error: Error) => void,
  options: WatchOptions = {},
): DrbdNetlinkWatch {
  const deps = options.deps ?? defaultDrbdNetlinkDeps;
  let socket: DrbdNetlinkTransport | undefined;
  let closed = false;
  let unsubscribe: (() => void) | undefined;

  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe?.();
    socket?.close();
  };
  const fatal = (error: unknown): void => {
    if (closed) return;
    close();
    onError(error instanceof Error ? error : new HastorError('E_DRBD_NETLINK', String(error)));
  };

  const run = async (): Promise<void> => {
    socket = deps.openSocket();
    const family = await resolveDrbd(deps, socket, options.timeoutMs);
    const api = drbdApiOf(family);
    const group = family.multicastGroups.find((g) => g.name === DRBD_EVENTS_GROUP);
    if (group === undefined) throw new UnsupportedDrbdFamilyError(family, `no "${DRBD_EVENTS_GROUP}" multicast group`);
    const trackerOptions: DrbdStatusTrackerOptions = options.now === undefined ? {} : { now: options.now };
    const tracker = new DrbdStatusTracker(api, trackerOptions);

    // Several broadcasts can describe one change (8.4 sends DRBD_EVENT for
    // helper calls too): deliver a status only when it differs from the last.
    let lastDelivered = '';
    const deliver = (): void => {
      const status = tracker.snapshot();
      const key = JSON.stringify(status, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
      if (key === lastDelivered) return;
      lastDelivered = key;
      onStatus(status);
    };

    // Events that arrive while a dump runs wait for it, then apply on top.
    let dumping = false;
    let redumpWanted = false;
    const held: NetlinkMessage[][] = [];

    // Only our family's messages of a datagram (the codec checked its framing).
    const applyMessages = (messages: readonly NetlinkMessage[]): boolean =>
      tracker.applyMessages(decodeDrbdMessages(messages.filter((m) => m.type === family.id || m.type < NLMSG_MIN_TYPE), api, { only: STATUS_STRUCTS }));
    // The module unloaded: its family, group and our membership are gone, and
    // no DRBD message will ever say so. Only the controller's notice tells.
    const drbdRemoved = (messages: readonly NetlinkMessage[]): boolean => {
      const notices = messages.filter((m) => m.type === GENL_ID_CTRL);
      return notices.length > 0 && decodeRemovedGenlFamilies(notices).some((f) => f.id === family.id || f.name === DRBD_FAMILY_NAME);
    };

    const dump = async (): Promise<void> => {
      dumping = true;
      try {
        do {
          redumpWanted = false;
          const replies = await dumpAll(socket as DrbdNetlinkTransport, family, api, options);
          tracker.reset();
          tracker.applyMessages(decodeDrbdMessages(replies, api, { only: STATUS_STRUCTS }));
        } while (redumpWanted && !closed);
        while (held.length > 0 && !closed) {
          try {
            applyMessages(held.shift() as NetlinkMessage[]);
          } catch (error) {
            onError(error as Error);
          }
        }
      } finally {
        dumping = false;
      }
      if (!closed) deliver();
    };

    const resync = (): void => {
      if (dumping) {
        redumpWanted = true;
        held.length = 0;
        return;
      }
      dump().catch(fatal);
    };

    unsubscribe = socket.onEvent((event) => {
      if (closed) return;
      switch (event.kind) {
        case 'datagram':
          try {
            const messages = decodeNetlinkMessages(event.datagram);
            if (drbdRemoved(messages)) {
              fatal(new NoDrbdFamilyError());
              return;
            }
            if (dumping) {
              held.push(messages);
              return;
            }
            if (applyMessages(messages)) deliver();
          } catch (error) {
            // A datagram we cannot read may have carried a change: report it, start over from a dump.
            onError(error as Error);
            resync();
          }
          return;
        case 'overflow':
          resync();
          return;
        case 'error':
          fatal(event.error);
          return;
      }
    });
    socket.joinGroup(group.id);
    socket.joinGroup(GENL_CTRL_NOTIFY_GROUP);
    await dump();
  };

  const ready = run().catch((error: unknown) => {
    // Closed by the caller while setting up: not a failure.
    if (closed) return;
    fatal(error);
    throw error;
  });
  // `ready` is optional to await; do not let an unobserved rejection crash the process.
  ready.catch(() => undefined);
  return { ready, close };
}
