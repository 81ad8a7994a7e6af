import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, LockError, UnsafePathError } from '../../../src/errors.js';
import { asNobody, canPlayAttacker, worldWritableDir } from '../sys/helpers/as-nobody.js';
import { lockFile } from '../../../src/sys/flock.js';
import { grow } from '../../../src/stack/growth/execute.js';
import type { GrowthTopology } from '../../../src/stack/growth/topology.js';
import type { Cluster } from '../../../src/stack/cluster.js';

/** A topology whose every node read fails: what grow does before reading is all these tests see. */
function unreadableTopology(): GrowthTopology {
  const cluster = new Proxy({}, { get: () => () => { throw new Error('no cluster in this test'); } }) as unknown as Cluster;
  return { cluster, resource: 'r0', minor: 0, device: '/dev/drbd0', tier1: [{ node: 'a', vg: 'vg', lv: 'lv' }], tier2: null, guest: null };
}

describe('grow: its own lock per resource', () => {
  it('a second grow of the same resource fails at once with a LockError, before reading anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastor-grow-lock-'));
    const held = await lockFile(join(dir, 'grow-r0.lock'), { mode: 'exclusive', timeoutMs: 0 });
    try {
      const error = await grow(unreadableTopology(), { kind: 'drbd', sizeBytes: 1n << 30n }, { lockDir: dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockError);
      expect((error as LockError).path).toBe(join(dir, 'grow-r0.lock'));
    } finally {
      held.release();
    }
  });

  it('is released when the grow fails, so the next one can run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastor-grow-lock-'));
    await expect(grow(unreadableTopology(), { kind: 'drbd', sizeBytes: 1n << 30n }, { lockDir: dir })).rejects.toThrow(/no cluster in this test/);
    const again = await lockFile(join(dir, 'grow-r0.lock'), { mode: 'exclusive', timeoutMs: 0 });
    again.release();
  });

  it('checks the target before the lock: a size beyond 1 PiB never takes or waits for it (issue 15)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastor-grow-lock-'));
    const held = await lockFile(join(dir, 'grow-r0.lock'), { mode: 'exclusive', timeoutMs: 0 });
    try {
      for (const target of [{ kind: 'drbd' as const, sizeBytes: 1n << 80n }, { kind: 'drbd' as const, addBytes: (1n << 50n) + 1n }, { kind: 'guest-disk' as const, sizeBytes: 0n }]) {
        const error = await grow(unreadableTopology(), target, { lockDir: dir }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigError);
      }
    } finally {
      held.release();
    }
    const fresh = join(mkdtempSync(join(tmpdir(), 'hastor-grow-lock-')), 'never');
    await expect(grow(unreadableTopology(), { kind: 'drbd', sizeBytes: 1n << 80n }, { lockDir: fresh })).rejects.toThrow(/above 1 PiB/);
    expect(existsSync(fresh)).toBe(false);
  });
});

describe('grow: its lock directory cannot be taken over by a local user', () => {
  const growIn = (lockDir: string): Promise<unknown> => grow(unreadableTopology(), { kind: 'drbd', sizeBytes: 1n << 30n }, { lockDir }).catch((e: unknown) => e);

  it('creates the lock directory owned by the caller, mode 0700', async () => {
    const lockDir = join(worldWritableDir('hastor-run-lock-'), 'hastor');
    await expect(grow(unreadableTopology(), { kind: 'drbd', sizeBytes: 1n << 30n }, { lockDir })).rejects.toThrow(/no cluster in this test/);
    const st = statSync(lockDir);
    expect(st.isDirectory()).toBe(true);
    expect(st.uid).toBe(process.getuid?.());
    expect(st.mode & 0o7777).toBe(0o700);
  });

  it('refuses a lock directory writable by group or others (exit-4 SafetyError naming the mode), takes no lock', async () => {
    const lockDir = join(mkdtempSync(join(tmpdir(), 'hastor-run-lock-')), 'hastor');
    mkdirSync(lockDir);
    chmodSync(lockDir, 0o777);
    const error = await growIn(lockDir);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as UnsafePathError).code).toBe('E_SAFETY');
    expect((error as Error).message).toMatch(/writable by its group and everyone \(mode 0777\).*chmod go-w/);
    expect(existsSync(join(lockDir, 'grow-r0.lock'))).toBe(false);
  });

  it.skipIf(!canPlayAttacker)('nobody pre-creates the directory and plants a symlink to a root-only file: refused, nothing created there', async () => {
    const runLock = worldWritableDir('hastor-run-lock-');
    const secret = join(mkdtempSync(join(tmpdir(), 'hastor-root-only-')), 'file');
    const lockDir = join(runLock, 'hastor');
    asNobody('mkdir "$1" && ln -s "$2" "$1/grow-r0.lock"', lockDir, secret);
    expect(statSync(lockDir).uid).not.toBe(0);
    const error = await growIn(lockDir);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as Error).message).toMatch(/refusing hastor's lock directory .*: it is owned by uid \d+, not by root/);
    expect(existsSync(secret)).toBe(false);
  });

  it.skipIf(!canPlayAttacker)('nobody makes the lock directory a symlink to a directory of theirs: refused as a symlink', async () => {
    const runLock = worldWritableDir('hastor-run-lock-');
    const lockDir = join(runLock, 'hastor');
    asNobody('mkdir "$1.theirs" && chmod 700 "$1.theirs" && ln -s "$1.theirs" "$1"', lockDir);
    expect(lstatSync(lockDir).isSymbolicLink()).toBe(true);
    const error = await growIn(lockDir);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as Error).message).toMatch(/it is a symbolic link/);
    expect(existsSync(join(`${lockDir}.theirs`, 'grow-r0.lock'))).toBe(false);
  });
});
