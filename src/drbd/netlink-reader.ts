/**
 * A persistent DRBD status reader over generic netlink: one socket and one
 * family lookup for many reads, so a read costs one dump and no fork. For
 * pollers (the exporter, `hastor status --watch`) that read often.
 *
 * The family id is assigned when the module registers it; after `rmmod drbd;
 * modprobe drbd` the old id is gone (ENOENT) or belongs to someone else
 * (EOPNOTSUPP/EINVAL). The reader then resolves the family again and retries
 * the read once.
 */
import type { GenlFamily } from '../sys/genl-family.js';
import type { DrbdApiVersion } from './genl/constants.js';
import { DrbdNetlinkError } from './genl/errors.js';
import { decodeDrbdStatusDump } from './genl/status-tracker.js';
import {
  defaultDrbdNetlinkDeps,
  drbdApiOf,
  dumpDrbdStatusMessages,
  resolveDrbdFamily,
  type DrbdNetlinkDeps,
  type DrbdNetlinkTransport,
} from './netlink-status.js';
import type { DrbdStatus } from './status-model.js';
import { HastorError } from '../errors.js';

export interface DrbdNetlinkReaderOptions {
  /** Per request; the socket's default (10 s) otherwise. */
  timeoutMs?: number;
  /** Replace the socket and family lookup (tests). */
  deps?: DrbdNetlinkDeps;
}

export interface DrbdNetlinkReadOptions {
  /** Only this resource. */
  resource?: string;
}

export interface DrbdNetlinkReader {
  /** The family as last resolved. */
  readonly family: GenlFamily;
  readonly api: DrbdApiVersion;
  /** Family lookups so far (1 after open; more after module reloads). */
  readonly resolutions: number;
  readonly closed: boolean;
  /** One status dump. Rejects with NoDrbdFamilyError once the module is gone. */
  read(options?: DrbdNetlinkReadOptions): Promise<DrbdStatus>;
  /** Idempotent; pending reads reject. */
  close(): void;
}

const ENOENT = 2;
const EINVAL = 22;
const EOPNOTSUPP = 95;

/** Errnos with which the kernel answers a request to a family id that is gone or reassigned. */
export function isStaleFamilyError(error: unknown): boolean {
  return error instanceof DrbdNetlinkError && error.errno !== null && [ENOENT, EINVAL, EOPNOTSUPP].includes(error.errno);
}

/**
 * Opens the socket and resolves the `drbd` family. Rejects with
 * NoDrbdFamilyError (E_NO_DRBD_FAMILY) when DRBD is not loaded, so callers
 * can fall back to another source; the socket is closed then.
 */
export async function openDrbdNetlinkReader(options: DrbdNetlinkReaderOptions = {}): Promise<DrbdNetlinkReader> {
  const deps = options.deps ?? defaultDrbdNetlinkDeps;
  const timeoutMs = options.timeoutMs;
  const socket: DrbdNetlinkTransport = deps.openSocket();
  let family: GenlFamily;
  let api: DrbdApiVersion;
  let resolutions = 0;
  let closed = false;

  const resolve = async (): Promise<void> => {
    const next = await resolveDrbdFamily(deps, socket, timeoutMs);
    const nextApi = drbdApiOf(next);
    family = next;
    api = nextApi;
    resolutions++;
  };
  try {
    await resolve();
  } catch (error) {
    socket.close();
    throw error;
  }

  // Concurrent reads that all hit a stale id share one lookup.
  let resolving: Promise<void> | undefined;
  const reresolve = (): Promise<void> => {
    resolving ??= resolve().finally(() => {
      resolving = undefined;
    });
    return resolving;
  };

  const dumpOnce = async (readOptions: DrbdNetlinkReadOptions): Promise<DrbdStatus> => {
    const usedFamily = family;
    const usedApi = api;
    const dumpOptions = {
      ...(readOptions.resource === undefined ? {} : { resource: readOptions.resource }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    };
    return decodeDrbdStatusDump(await dumpDrbdStatusMessages(socket, usedFamily, usedApi, dumpOptions), usedApi);
  };

  return {
    get family() {
      return family;
    },
    get api() {
      return api;
    },
    get resolutions() {
      return resolutions;
    },
    get closed() {
      return closed;
    },
    async read(readOptions: DrbdNetlinkReadOptions = {}): Promise<DrbdStatus> {
      if (closed) throw new HastorError('E_DRBD_NETLINK', 'the DRBD netlink reader is closed: open a new one with openDrbdNetlinkReader()');
      const idBefore = family.id;
      try {
        return await dumpOnce(readOptions);
      } catch (error) {
        if (!isStaleFamilyError(error) || closed) throw error;
        // Another read may already have moved to the new id; resolve only if not.
        if (family.id === idBefore) await reresolve();
        return dumpOnce(readOptions);
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
