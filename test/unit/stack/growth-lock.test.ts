import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, LockError } from '../../../src/errors.js';
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
