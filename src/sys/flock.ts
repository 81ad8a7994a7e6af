/**
 * LVM-compatible file locks: the same open/flock/same-inode sequence and the
 * same release (unlink when nobody else holds it) as lvm2's file locking, so
 * hastor and lvm commands exclude each other on /run/lock/lvm/* files.
 */
import { resolve } from 'node:path';
import { LockError, NativeError } from '../errors.js';
import type { LockHolder } from '../errors.js';
import { isNativeSysError, loadNative, toNativeError } from '../native.js';
import type { NativeLockHandle, NativeSysError } from '../native.js';
import { findLockHolders } from './proc-locks.js';

export type LockMode = 'shared' | 'exclusive';

export interface LockFileOptions {
  mode: LockMode;
  /** 0: fail at once if held; n: wait up to n ms; omitted: wait as long as it takes (like lvm). */
  timeoutMs?: number;
  /** The wait to name in a timeout message when this call is one part of a longer wait (default timeoutMs). */
  reportedWaitMs?: number;
}

export interface FileLock {
  /** Absolute path of the lock file. */
  readonly path: string;
  readonly mode: LockMode;
  /** The locked file (it is the one at `path` at the time the lock was taken). */
  readonly devMajor: number;
  readonly devMinor: number;
  readonly inode: bigint;
  /** More than 1 when the file was replaced while we waited and we locked the new one. */
  readonly attempts: number;
  readonly released: boolean;
  /**
   * The open descriptor that holds the lock (O_CLOEXEC). Hand it to a child
   * (spawn's `stdio`) and the child holds the lock too, for as long as it lives.
   * Throws once released.
   */
  readonly fd: number;
  /**
   * Unlocks; like lvm, removes the file when nobody else holds a lock on it.
   * Idempotent. Returns whether this call removed the file.
   */
  release(): boolean;
}

const EAGAIN = 11;
const ETIMEDOUT = 110;
const ECANCELED = 125;
const ELOOP = 40;

/** A wait as an operator gives it: "0.3 s", "60 s". */
export function formatWaitSeconds(ms: number): string {
  return `${String(Number((ms / 1000).toFixed(3)))} s`;
}

class HeldLock implements FileLock {
  readonly path: string;
  readonly mode: LockMode;
  readonly devMajor: number;
  readonly devMinor: number;
  readonly inode: bigint;
  readonly attempts: number;
  #fd: number | undefined;

  constructor(path: string, mode: LockMode, handle: NativeLockHandle) {
    this.path = path;
    this.mode = mode;
    this.devMajor = handle.devMajor;
    this.devMinor = handle.devMinor;
    this.inode = handle.ino;
    this.attempts = handle.attempts;
    this.#fd = handle.fd;
  }

  get released(): boolean {
    return this.#fd === undefined;
  }

  get fd(): number {
    if (this.#fd === undefined) throw new LockError(`the lock on ${this.path} was already released`, { path: this.path });
    return this.#fd;
  }

  release(): boolean {
    const fd = this.#fd;
    if (fd === undefined) return false;
    this.#fd = undefined;
    return loadNative().releaseFileLock(fd, this.path);
  }
}

function describeHolders(holders: readonly LockHolder[]): string {
  if (holders.length === 0) return 'holder unknown (not visible in /proc/locks)';
  return `held by ${holders.map((h) => `pid ${h.pid}${h.commandLine === null ? '' : ` (${h.commandLine})`}`).join(', ')}`;
}

async function holdersOf(error: NativeSysError, path: string): Promise<LockHolder[]> {
  try {
    if (error.devMajor !== undefined && error.devMinor !== undefined && error.ino !== undefined) {
      return await findLockHolders({ devMajor: error.devMajor, devMinor: error.devMinor, inode: error.ino });
    }
    return await findLockHolders(path);
  } catch {
    return []; // diagnostics only: never hide the lock failure behind a /proc problem
  }
}

async function lockError(error: unknown, path: string, mode: LockMode, waitedMs: number | undefined): Promise<unknown> {
  if (!isNativeSysError(error)) return error;
  const cause = toNativeError(error, `lock ${path}`);
  const how = mode === 'exclusive' ? 'exclusively' : 'shared';
  if (error.errno === EAGAIN || error.errno === ETIMEDOUT) {
    const holders = await holdersOf(error, path);
    const waited = error.errno === EAGAIN ? 'it is' : `waited ${formatWaitSeconds(waitedMs ?? 0)}, it is still`;
    return new LockError(
      `cannot lock ${path} ${how}: ${waited} ${describeHolders(holders)}; retry later, or stop that process if it is stuck`,
      { path, holders, cause },
    );
  }
  if (error.errno === ECANCELED) {
    return new LockError(`gave up waiting for the lock on ${path}: the process is shutting down`, { path, cause });
  }
  const reason = cause instanceof NativeError ? cause.message : String(error);
  if (error.errno === ELOOP) {
    return new LockError(
      `cannot lock ${path} ${how}: it is a symbolic link, and hastor never follows one for a lock file (someone may be trying to redirect root's writes); check who made it, remove it, and retry`,
      { path, cause },
    );
  }
  return new LockError(
    `cannot lock ${path} ${how}: ${reason} (does the directory exist and is it writable?)`,
    { path, cause },
  );
}

/**
 * Takes an flock(2) lock the way lvm does. The wait runs on a dedicated
 * thread, so the event loop keeps running. Contention and timeouts give a
 * LockError naming the path and the processes holding it.
 */
export async function lockFile(path: string, options: LockFileOptions): Promise<FileLock> {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
    throw new TypeError(`Expected a non-empty file path but received ${JSON.stringify(path)}`);
  }
  if (options.mode !== 'shared' && options.mode !== 'exclusive') {
    throw new TypeError(`Expected mode "shared" or "exclusive" but received ${JSON.stringify(options.mode)}`);
  }
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 0x7fffffff)) {
    throw new RangeError(`Expected timeoutMs to be an integer from 0 to ${0x7fffffff} but received ${String(timeoutMs)}`);
  }
  // Absolute now: release() must unlink the same file even if cwd changes.
  const absolute = resolve(path);
  const exclusive = options.mode === 'exclusive';
  const addon = loadNative();
  try {
    const handle =
      timeoutMs === 0
        ? addon.tryLockFile(absolute, exclusive)
        : await addon.lockFile(absolute, exclusive, timeoutMs ?? -1);
    return new HeldLock(absolute, options.mode, handle);
  } catch (error) {
    throw await lockError(error, absolute, options.mode, options.reportedWaitMs ?? timeoutMs);
  }
}
