/**
 * LVM's own file locks, taken the way lvm takes them, so a multi-step hastor operation
 * excludes every concurrent lvm command on this host (and lvm commands wait for hastor).
 *
 * From lvm2 lib/locking/file_locking.c and lib/misc/lvm-flock.c (2.02 and 2.03 alike):
 * lock files live in global/locking_dir (default /run/lock/lvm); the resource "#global"
 * is P_global, "#orphans" is P_orphans (a "#" name becomes "P_" + the rest), a VG is
 * V_<vgname>. flock(2), shared for reads (R) and exclusive for writes (W), on a file
 * opened O_CREAT, re-opened if the path was replaced meanwhile (same-inode check), and
 * unlinked on release when nobody else holds it (src/sys/flock.ts does all that). With
 * global/prioritise_write_locks (default 1) every lock first takes "<file>:aux"
 * exclusively: a writer keeps it until it holds the file, a reader drops it before
 * asking, so waiting writers are not starved by readers. Order (lvmcache's
 * _vgname_order_correct): the global lock first, then VGs by strcmp, orphans last.
 * Seen with lvm2 2.03.16 -vvvv: `pvs` locks P_global then V_vg.t2-shared then V_vg_host.
 */
import { isAbsolute, join } from 'node:path';
import { ConfigError, HastorError, LockError } from '../errors.js';
import { lockFile } from '../sys/flock.js';
import { ensurePrivateDirectory } from '../sys/trusted-path.js';
import type { FileLock, LockMode } from '../sys/flock.js';
import type { LvmConfigFile } from './config-file.js';
import { validateVgName } from './names.js';

export type { LockMode } from '../sys/flock.js';

export const DEFAULT_LOCKING_DIR = '/run/lock/lvm';
export const GLOBAL_RESOURCE = '#global';
export const ORPHANS_RESOURCE = '#orphans';
/** Default total wait: lvm itself waits forever, hastor must not hang. */
export const DEFAULT_LVM_LOCK_TIMEOUT_MS = 60_000;

/** The lock file name lvm uses for a resource: "#global" -> P_global, "vg0" -> V_vg0. */
export function lvmLockFileName(resource: string): string {
  if (resource.startsWith('#')) {
    if (!/^#[a-z_0-9]+$/.test(resource)) throw new ConfigError(`unknown lvm lock resource ${JSON.stringify(resource)}`);
    return `P_${resource.slice(1)}`;
  }
  return `V_${validateVgName(resource)}`;
}

function rank(resource: string): number {
  if (resource === GLOBAL_RESOURCE) return 0;
  if (resource.startsWith(ORPHANS_RESOURCE)) return 2;
  return 1;
}

/** lvm's lock order: global first, then VG names in strcmp order, orphans last. */
export function lvmLockOrder(resources: readonly string[]): string[] {
  return [...new Set(resources)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function truthy(value: unknown): boolean | undefined {
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') {
    const v = value.toLowerCase();
    if (['y', 'yes', 'on', 'true'].includes(v)) return true;
    if (['n', 'no', 'off', 'false'].includes(v)) return false;
  }
  return undefined;
}

/** global/locking_dir from lvm.conf, or lvm's default. */
export function lockingDirFrom(config?: LvmConfigFile): string {
  const value = config?.get('global/locking_dir');
  return typeof value === 'string' && value !== '' ? value : DEFAULT_LOCKING_DIR;
}

/** global/prioritise_write_locks from lvm.conf (lvm's default: on). */
export function prioritiseWriteLocksFrom(config?: LvmConfigFile): boolean {
  return truthy(config?.get('global/prioritise_write_locks')) ?? true;
}

export interface LvmLockRequest {
  /** Take the global lock (P_global); true uses `mode`. */
  global?: boolean | LockMode;
  /** VG locks (V_<vg>). */
  vgs?: readonly string[];
  /** The orphan PVs lock (P_orphans); true uses `mode`. */
  orphans?: boolean | LockMode;
  /** shared for reading, exclusive for changing. */
  mode: LockMode;
  /** Total time to get every lock; 0 fails at once when one is held. Default 60 s. */
  timeoutMs?: number;
  /** Default /run/lock/lvm; see lockingDirFrom(). */
  lockingDir?: string;
  /** lvm's write priority (":aux" files). Default true, as lvm; see prioritiseWriteLocksFrom(). */
  prioritiseWriteLocks?: boolean;
  /** Called as each lock is taken and released (tests, debug logs). */
  onEvent?: (event: { type: 'locked' | 'released'; resource: string; path: string; mode: LockMode }) => void;
}

export interface HeldLvmLock {
  resource: string;
  path: string;
  mode: LockMode;
}

export interface LvmLockSet {
  /** In the order taken. */
  readonly locks: readonly HeldLvmLock[];
  /**
   * The descriptors holding the locks, in the order taken. A child given them
   * (spawn's `stdio`) holds the locks as long as it lives, as under flock(1),
   * even if this process dies first.
   */
  fds(): number[];
  /** Releases in reverse order; idempotent. */
  release(): void;
}

function describe(resource: string): string {
  if (resource === GLOBAL_RESOURCE) return 'global';
  if (resource.startsWith(ORPHANS_RESOURCE)) return 'orphan PVs';
  return `VG "${resource}"`;
}

function modeOf(value: boolean | LockMode | undefined, fallback: LockMode): LockMode | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? fallback : value;
}

async function takeWithPriority(path: string, mode: LockMode, remaining: () => number, totalMs: number, prioritise: boolean): Promise<FileLock> {
  // A timeout message names the whole wait the caller asked for, not what was left of it.
  const timeout = (): { timeoutMs: number; reportedWaitMs: number } => ({ timeoutMs: remaining(), reportedWaitMs: totalMs });
  if (!prioritise) return lockFile(path, { mode, ...timeout() });
  const aux = await lockFile(`${path}:aux`, { mode: 'exclusive', ...timeout() });
  try {
    if (mode === 'shared') aux.release(); // a reader lets the next writer in before asking
    return await lockFile(path, { mode, ...timeout() });
  } finally {
    aux.release();
  }
}

/**
 * Takes lvm's locks in lvm's order. On failure (timeout, error) the locks already taken
 * are released and a LockError names the resource and the process holding it.
 */
export async function acquireLvmLocks(request: LvmLockRequest): Promise<LvmLockSet> {
  const mode = request.mode;
  if (mode !== 'shared' && mode !== 'exclusive') {
    throw new ConfigError(`lock mode must be "shared" or "exclusive", not ${JSON.stringify(mode)}`);
  }
  const dir = request.lockingDir ?? DEFAULT_LOCKING_DIR;
  if (typeof dir !== 'string' || !isAbsolute(dir)) throw new ConfigError(`locking_dir must be an absolute path, not ${JSON.stringify(dir)}`);
  const timeoutMs = request.timeoutMs ?? DEFAULT_LVM_LOCK_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 0x7fffffff) {
    throw new ConfigError(`timeoutMs must be an integer from 0 to ${0x7fffffff}, not ${String(timeoutMs)}`);
  }
  const prioritise = request.prioritiseWriteLocks ?? true;

  const wanted = new Map<string, LockMode>();
  const globalMode = modeOf(request.global, mode);
  if (globalMode !== undefined) wanted.set(GLOBAL_RESOURCE, globalMode);
  for (const vg of request.vgs ?? []) wanted.set(validateVgName(vg), mode);
  const orphansMode = modeOf(request.orphans, mode);
  if (orphansMode !== undefined) wanted.set(ORPHANS_RESOURCE, orphansMode);

  try {
    // lvm creates it too (dm_create_dir); one made by another user could redirect root's lock files.
    ensurePrivateDirectory(dir, "lvm's locking_dir");
  } catch (error) {
    if (error instanceof HastorError) throw error;
    throw new LockError(`cannot create lvm's locking_dir ${dir}: ${(error as Error).message}`, { path: dir, cause: error });
  }

  const deadline = Date.now() + timeoutMs;
  const remaining = (): number => Math.max(0, deadline - Date.now());
  const held: Array<HeldLvmLock & { lock: FileLock }> = [];
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    let first: unknown;
    for (const h of [...held].reverse()) {
      try {
        h.lock.release();
        request.onEvent?.({ type: 'released', resource: h.resource, path: h.path, mode: h.mode });
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  };

  for (const resource of lvmLockOrder([...wanted.keys()])) {
    const lockMode = wanted.get(resource) as LockMode;
    const path = join(dir, lvmLockFileName(resource));
    try {
      const lock = await takeWithPriority(path, lockMode, remaining, timeoutMs, prioritise);
      held.push({ resource, path, mode: lockMode, lock });
      request.onEvent?.({ type: 'locked', resource, path, mode: lockMode });
    } catch (error) {
      try {
        release();
      } catch {
        // the lock failure is what the caller needs to see
      }
      if (error instanceof LockError) {
        throw new LockError(`lvm's ${describe(resource)} lock (${lockMode}): ${error.message}`, {
          path: error.path,
          holders: error.holders,
          cause: error,
        });
      }
      throw error;
    }
  }
  return {
    locks: held.map(({ resource, path, mode: m }) => ({ resource, path, mode: m })),
    fds: () => held.map((h) => h.lock.fd),
    release,
  };
}

/**
 * Runs fn while holding lvm's locks; releases them in reverse order afterwards, also
 * when fn throws.
 */
export async function withLvmLocks<T>(request: LvmLockRequest, fn: (locks: LvmLockSet) => Promise<T> | T): Promise<T> {
  const locks = await acquireLvmLocks(request);
  try {
    return await fn(locks);
  } finally {
    locks.release();
  }
}
