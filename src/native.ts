/**
 * The one loader of the native addon and the typed shape of what it exports.
 * Only `src/sys/` imports this file; everything else goes through the typed
 * wrappers there.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeError } from './errors.js';
import { findPackageRoot } from './package-root.js';

/** A system call failure as the addon throws it (a plain Error with these fields). */
export interface NativeSysError extends Error {
  errno: number;
  /** errno name, e.g. "EWOULDBLOCK" is reported as "EAGAIN" on Linux. */
  code: string;
  syscall: string;
  path?: string;
  /** Set when a lock was contended: the file (device numbers, inode) it was on. */
  devMajor?: number;
  devMinor?: number;
  ino?: bigint;
}

/** What `event` callbacks receive: a multicast datagram, a kernel overflow (ENOBUFS), or a fatal error. */
export type NativeEventKind = 'datagram' | 'overflow' | 'error';

export type NativeEventCallback = (
  kind: NativeEventKind,
  datagram: Buffer | null,
  errno: number,
  syscall: string | null,
) => void;

export interface NativeNetlinkSocket {
  /** Port id the kernel gave the request socket. */
  readonly portId: number;
  /** Port id of the event socket, 0 until the first joinGroup. */
  readonly eventPortId: number;
  readonly closed: boolean;
  /**
   * Sends `payload` (unless null) from the socket's own thread, then waits up to
   * `timeoutMs` (< 0: forever) for at least one datagram and returns every
   * datagram already queued. `[]` means the wait timed out.
   */
  request(payload: Buffer | null, timeoutMs: number): Promise<Buffer[]>;
  /** setsockopt NETLINK_ADD_MEMBERSHIP; the first call starts the event thread. */
  joinGroup(group: number): void;
  leaveGroup(group: number): void;
  /** Whether the event thread keeps the process alive (it does by default). */
  ref(): void;
  unref(): void;
  /** Idempotent and non-blocking: threads stop, pending requests reject with ECANCELED. */
  close(): void;
}

export interface NativeNetlinkSocketConstructor {
  new (
    protocol: number,
    onEvent: NativeEventCallback,
    eventBufferBytes: number,
    maxPendingEvents: number,
  ): NativeNetlinkSocket;
}

/** A held lock: the open descriptor and the file it locks. */
export interface NativeLockHandle {
  fd: number;
  devMajor: number;
  devMinor: number;
  ino: bigint;
  /** 1, or more when the file was replaced under a waiter and it locked again. */
  attempts: number;
}

export interface NativeAddon {
  readonly abiVersion: number;
  readonly NetlinkSocket: NativeNetlinkSocketConstructor;
  /** Non-blocking: throws a NativeSysError (code EAGAIN) when someone else holds the lock. */
  tryLockFile(path: string, exclusive: boolean): NativeLockHandle;
  /** Waits on a dedicated thread; `timeoutMs` < 0 waits forever. Rejects with ETIMEDOUT. */
  lockFile(path: string, exclusive: boolean, timeoutMs: number): Promise<NativeLockHandle>;
  /** LVM's release: unlock, unlink the file if no one else holds it, close. True if unlinked. */
  releaseFileLock(fd: number, path: string): boolean;
}

const EXPECTED_ABI = 1;
const ADDON_FILE = 'hastor_native.node';

let cached: NativeAddon | undefined;

/** Where the built addon is (Release, else Debug), or a NativeError saying how to build it. */
export function resolveAddonPath(start?: string): string {
  const root = findPackageRoot(start);
  if (root === undefined) {
    throw new NativeError(
      'hastor native addon: cannot find the hastor package root (no package.json named "hastor" above ' +
        `${fileURLToPath(import.meta.url)}); reinstall hastor`,
    );
  }
  const candidates = [join(root, 'build', 'Release', ADDON_FILE), join(root, 'build', 'Debug', ADDON_FILE)];
  const file = candidates.find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw new NativeError(
      `hastor native addon not built (looked for ${candidates.join(' and ')}); run npm run build:native`,
    );
  }
  return file;
}

/** Loads the addon once; a missing or stale build gives a NativeError saying how to build it. */
export function loadNative(): NativeAddon {
  if (cached !== undefined) return cached;
  const file = resolveAddonPath();
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    if (addon.abiVersion !== EXPECTED_ABI) {
      throw new Error(`addon reports abiVersion ${String(addon.abiVersion)}, this code expects ${EXPECTED_ABI}`);
    }
    cached = addon;
    return addon;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new NativeError(
      `hastor native addon at ${file} failed to load (${reason}); run npm run build:native`,
      { cause },
    );
  }
}

/** Turns an error thrown or rejected by the addon into a NativeError; anything else passes through. */
export function toNativeError(error: unknown, what: string): unknown {
  if (error instanceof NativeError) return error;
  if (error instanceof Error && typeof (error as Partial<NativeSysError>).errno === 'number') {
    const sys = error as NativeSysError;
    return new NativeError(`${what}: ${sys.message}`, { syscall: sys.syscall, errno: sys.errno, cause: error });
  }
  return error;
}

/** Type guard for errors thrown or rejected by the addon. */
export function isNativeSysError(error: unknown): error is NativeSysError {
  return error instanceof Error && typeof (error as Partial<NativeSysError>).errno === 'number';
}
