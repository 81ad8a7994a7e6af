import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, LockError, UnsafePathError } from '../../../src/errors.js';
import { asNobody, canPlayAttacker, worldWritableDir } from '../sys/helpers/as-nobody.js';
import { LvmConfigFile } from '../../../src/lvm/config-file.js';
import {
  DEFAULT_LOCKING_DIR,
  acquireLvmLocks,
  lockingDirFrom,
  lvmLockFileName,
  lvmLockOrder,
  prioritiseWriteLocksFrom,
  withLvmLocks,
} from '../../../src/lvm/locks.js';
import type { LvmLockRequest } from '../../../src/lvm/locks.js';
import { lockFile } from '../../../src/sys/flock.js';
import { startHelper } from '../sys/helpers/children.js';
import type { Child } from '../sys/helpers/children.js';
import { compileForChildren } from '../sys/helpers/compile-for-children.js';
import type { CompiledPackage } from '../sys/helpers/compile-for-children.js';
import { fixture, thrown } from './helpers.js';

describe('lock names and order (lvm2 file_locking.c, lvmcache lock order)', () => {
  it('maps resources to lvm lock files', () => {
    expect(lvmLockFileName('#global')).toBe('P_global');
    expect(lvmLockFileName('#orphans')).toBe('P_orphans');
    expect(lvmLockFileName('#orphans_lvm2')).toBe('P_orphans_lvm2');
    expect(lvmLockFileName('vg.t2-shared')).toBe('V_vg.t2-shared');
    expect(thrown(() => lvmLockFileName('../x'))).toBeInstanceOf(ConfigError);
    expect(thrown(() => lvmLockFileName('#../x'))).toBeInstanceOf(ConfigError);
  });

  it('global first, VGs by strcmp, orphans last; duplicates once', () => {
    // lvm2 2.03.16 `pvs -vvvv` locked P_global, V_vg.t2-shared, V_vg_host (fixture lock-order-vvvv.txt).
    expect(lvmLockOrder(['vg_host', '#orphans', 'vg.t2-shared', '#global', 'vg_host', 'VG_upper'])).toEqual([
      '#global',
      'VG_upper',
      'vg.t2-shared',
      'vg_host',
      '#orphans',
    ]);
    const seen = fixture('host-2.03.16/lock-order-vvvv.txt')
      .split('\n')
      .filter((l) => l.startsWith('pvs[') && l.includes(' Locking '))
      .map((l) => l.replace(/.* Locking \/tmp\/h8lvm\/lock\/(\S+) .*/, '$1'));
    expect(seen).toEqual(['P_global', 'V_vg.t2-shared', 'V_vg_host']);
    expect(lvmLockOrder(['vg_host', 'vg.t2-shared', '#global']).map(lvmLockFileName)).toEqual(seen);
  });

  it('reads locking_dir and prioritise_write_locks from lvm.conf, with lvm\'s defaults', () => {
    const debian = LvmConfigFile.parse(fixture('conf-debian-2.03.16/lvm.conf'));
    expect(lockingDirFrom(debian)).toBe(DEFAULT_LOCKING_DIR);
    expect(lockingDirFrom()).toBe('/run/lock/lvm');
    expect(prioritiseWriteLocksFrom(debian)).toBe(true);
    const custom = LvmConfigFile.parse('global {\n\tlocking_dir = "/tmp/lvm-locks"\n\tprioritise_write_locks = 0\n}\n');
    expect(lockingDirFrom(custom)).toBe('/tmp/lvm-locks');
    expect(prioritiseWriteLocksFrom(custom)).toBe(false);
    expect(prioritiseWriteLocksFrom(LvmConfigFile.parse('global { prioritise_write_locks = "no" }'))).toBe(false);
  });
});

describe('taking lvm\'s locks', () => {
  let compiled: CompiledPackage;
  let dir: string;
  const children: Child[] = [];

  beforeAll(() => {
    compiled = compileForChildren();
  });
  afterAll(() => {
    compiled.remove();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hastor-lvm-locks-'));
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Another process holding `file` in dir (a real flock through the addon). */
  async function holder(file: string, mode: 'shared' | 'exclusive'): Promise<Child> {
    const child = startHelper('lock-holder.mjs', [compiled.root, join(dir, file), mode]);
    children.push(child);
    await child.line('ready');
    return child;
  }

  /** A request in the temp locking dir that records lock events in `events`. */
  function request(extra: Partial<LvmLockRequest>): LvmLockRequest & { events: string[] } {
    const events: string[] = [];
    return {
      mode: 'exclusive',
      lockingDir: dir,
      timeoutMs: 2000,
      onEvent: (e) => events.push(`${e.type} ${e.resource} ${e.mode}`),
      ...extra,
      events,
    };
  }

  it('takes global then VGs in lvm order and releases in reverse, removing the files', async () => {
    const r = request({ global: 'shared', vgs: ['vg_host', 'vg.t2-shared'] });
    const result = await withLvmLocks(r, (locks) => {
      expect(locks.locks.map((l) => [l.resource, l.path, l.mode])).toEqual([
        ['#global', join(dir, 'P_global'), 'shared'],
        ['vg.t2-shared', join(dir, 'V_vg.t2-shared'), 'exclusive'],
        ['vg_host', join(dir, 'V_vg_host'), 'exclusive'],
      ]);
      expect(readdirSync(dir).sort()).toEqual(['P_global', 'V_vg.t2-shared', 'V_vg_host']); // no :aux left behind
      return 'done';
    });
    expect(result).toBe('done');
    expect(r.events).toEqual([
      'locked #global shared',
      'locked vg.t2-shared exclusive',
      'locked vg_host exclusive',
      'released vg_host exclusive',
      'released vg.t2-shared exclusive',
      'released #global shared',
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('releases everything when fn throws', async () => {
    const r = request({ global: true, vgs: ['vg0'] });
    const error = await withLvmLocks(r, () => {
      throw new Error('step 3 failed');
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('step 3 failed');
    expect(r.events.filter((e) => e.startsWith('released'))).toEqual(['released vg0 exclusive', 'released #global exclusive']);
    const again = await lockFile(join(dir, 'V_vg0'), { mode: 'exclusive', timeoutMs: 0 });
    again.release();
  });

  it('times out naming the process that holds a VG lock, and lets go of what it had', async () => {
    const child = await holder('V_x', 'exclusive');
    const r = request({ global: true, vgs: ['x'], mode: 'shared', timeoutMs: 400 });
    const started = Date.now();
    const error = (await acquireLvmLocks(r).catch((e: unknown) => e)) as LockError;
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(LockError);
    expect(error.code).toBe('E_LOCK');
    expect(error.path).toBe(join(dir, 'V_x'));
    expect(error.holders.map((h) => h.pid)).toEqual([child.pid]);
    expect(error.holders[0]?.commandLine).toMatch(/lock-holder\.mjs .*V_x exclusive$/);
    expect(error.message).toMatch(/^lvm's VG "x" lock \(shared\): cannot lock .*\/V_x shared: waited 0\.4 s, it is still held by pid \d+ \(/);
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(2000);
    expect(error.cause).toBeInstanceOf(LockError);
    expect(r.events).toEqual(['locked #global shared', 'released #global shared']);
    const global = await lockFile(join(dir, 'P_global'), { mode: 'exclusive', timeoutMs: 0 });
    global.release();
  });

  it('gets the lock at once when the holder is SIGKILLed', async () => {
    const child = await holder('V_x', 'exclusive');
    const waiting = acquireLvmLocks(request({ vgs: ['x'], timeoutMs: 10_000 }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const killed = Date.now();
    child.kill('SIGKILL');
    const locks = await waiting;
    expect(Date.now() - killed).toBeLessThan(500);
    expect(locks.locks.map((l) => l.resource)).toEqual(['x']);
    expect((await child.exited).signal).toBe('SIGKILL');
    locks.release();
    locks.release(); // idempotent
  });

  it('shared locks coexist; exclusive waits for shared', async () => {
    await holder('V_x', 'shared');
    const shared = await acquireLvmLocks(request({ vgs: ['x'], mode: 'shared', timeoutMs: 0 }));
    shared.release();
    const error = (await acquireLvmLocks(request({ vgs: ['x'], mode: 'exclusive', timeoutMs: 0 })).catch((e: unknown) => e)) as LockError;
    expect(error).toBeInstanceOf(LockError);
    expect(error.message).toContain('it is held by pid');
  });

  it('honours lvm\'s write priority: a writer waiting on :aux holds readers back', async () => {
    // An lvm writer that waits for the VG holds "V_x:aux" exclusively meanwhile.
    const writer = await holder('V_x:aux', 'exclusive');
    const error = (await acquireLvmLocks(request({ vgs: ['x'], mode: 'shared', timeoutMs: 300 })).catch((e: unknown) => e)) as LockError;
    expect(error).toBeInstanceOf(LockError);
    expect(error.path).toBe(join(dir, 'V_x:aux'));
    expect(error.holders.map((h) => h.pid)).toEqual([writer.pid]);
    // Without write priority (global/prioritise_write_locks = 0) lvm readers ignore :aux.
    const locks = await acquireLvmLocks(request({ vgs: ['x'], mode: 'shared', timeoutMs: 0, prioritiseWriteLocks: false }));
    expect(existsSync(join(dir, 'V_x'))).toBe(true);
    locks.release();
  });

  it.skipIf(!canPlayAttacker)('refuses a locking_dir nobody made in a world-writable directory, and never follows their symlinks', async () => {
    const runLock = worldWritableDir('hastor-run-lock-');
    const secret = join(mkdtempSync(join(tmpdir(), 'hastor-root-only-')), 'file');
    const lockingDir = join(runLock, 'lvm');
    asNobody('mkdir "$1" && chmod 755 "$1" && ln -s "$2" "$1/P_global"', lockingDir, secret);
    const error = await acquireLvmLocks({ mode: 'exclusive', lockingDir, global: true, timeoutMs: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as Error).message).toMatch(/refusing lvm's locking_dir .*owned by uid \d+/);
    expect(existsSync(secret)).toBe(false);
  });

  it('creates the locking dir like lvm and refuses bad requests', async () => {
    const nested = join(dir, 'run', 'lock', 'lvm');
    const locks = await acquireLvmLocks({ mode: 'exclusive', lockingDir: nested, global: true, timeoutMs: 0 });
    expect(readdirSync(nested)).toEqual(['P_global']);
    expect(statSync(nested).mode & 0o777).toBe(0o700);
    locks.release();
    await expect(acquireLvmLocks({ mode: 'exclusive', lockingDir: 'relative/dir', global: true })).rejects.toBeInstanceOf(ConfigError);
    await expect(acquireLvmLocks({ mode: 'both' as 'shared', lockingDir: dir, global: true })).rejects.toBeInstanceOf(ConfigError);
    await expect(acquireLvmLocks({ mode: 'shared', lockingDir: dir, vgs: ['-rf'] })).rejects.toBeInstanceOf(ConfigError);
    await expect(acquireLvmLocks({ mode: 'shared', lockingDir: dir, global: true, timeoutMs: -1 })).rejects.toBeInstanceOf(ConfigError);
  });
});
