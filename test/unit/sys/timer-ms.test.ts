import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { startExporter } from '../../../src/metrics/exporter.js';
import { DrbdState, startDrbdFeed } from '../../../src/metrics/drbd-state.js';
import { LvmState, startLvmFeed } from '../../../src/metrics/lvm-state.js';
import { grow } from '../../../src/stack/growth/execute.js';
import type { GrowthTopology } from '../../../src/stack/growth/topology.js';
import type { Cluster } from '../../../src/stack/cluster.js';
import { checkTimerMs, MAX_TIMER_MS } from '../../../src/sys/timer-ms.js';

const OVERFLOW_MS = 3_000_000_000;

describe('checkTimerMs', () => {
  it('accepts 0..2^31-1 ms from the minimum, and no value', () => {
    for (const ok of [undefined, 0, 1, 1000, MAX_TIMER_MS]) expect(() => checkTimerMs('x', ok, 0)).not.toThrow();
    for (const bad of [-1, MAX_TIMER_MS + 1, OVERFLOW_MS, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => checkTimerMs('x', bad, 0)).toThrow(ConfigError);
    expect(() => checkTimerMs('pollIntervalMs', 0, 1)).toThrow(/pollIntervalMs must be a number of milliseconds from 1 to 2147483647/);
  });
});

describe('library timers refuse delays Node would fire after 1 ms (issue 15)', () => {
  it('startDrbdFeed and startLvmFeed throw before reading anything', () => {
    let reads = 0;
    const readStatus = async () => {
      reads++;
      throw new Error('no DRBD here');
    };
    expect(() => startDrbdFeed(new DrbdState(), { forcePoll: true, pollIntervalMs: OVERFLOW_MS, readStatus }).close()).toThrow(ConfigError);
    expect(() => startDrbdFeed(new DrbdState(), { forcePoll: true, restartDelayMs: -5, readStatus }).close()).toThrow(ConfigError);
    let lvmRuns = 0;
    const runner = { exec: async () => { lvmRuns++; throw new Error('no lvm here'); }, close: async () => undefined };
    const lvmOptions = { intervalMs: OVERFLOW_MS, runner: runner as never, version: undefined };
    expect(() => void startLvmFeed(new LvmState(), lvmOptions).close()).toThrow(ConfigError);
    expect(reads).toBe(0);
    expect(lvmRuns).toBe(0);
  });

  it('startExporter rejects before starting a feed or listening', async () => {
    let reads = 0;
    const readStatus = async () => {
      reads++;
      throw new Error('no DRBD here');
    };
    await expect(startExporter({ port: 0, utilsVersion: false, lvm: { intervalMs: OVERFLOW_MS }, drbd: { forcePoll: true, readStatus } })).rejects.toBeInstanceOf(ConfigError);
    await expect(startExporter({ port: 0, utilsVersion: false, lvm: false, drbd: { forcePoll: true, pollIntervalMs: OVERFLOW_MS, readStatus } })).rejects.toThrow(/drbd\.pollIntervalMs/);
    expect(reads).toBe(0);
  });

  it('grow refuses timer options before taking its lock', async () => {
    const cluster = new Proxy({}, { get: () => () => { throw new Error('no cluster in this test'); } }) as unknown as Cluster;
    const topology: GrowthTopology = { cluster, resource: 'r0', minor: 0, device: '/dev/drbd0', tier1: [{ node: 'a', vg: 'vg', lv: 'lv' }], tier2: null, guest: null };
    const lockDir = join(mkdtempSync(join(tmpdir(), 'hastor-timer-')), 'locks');
    for (const option of ['lockTimeoutMs', 'stepTimeoutMs', 'settleTimeoutMs', 'resyncTimeoutMs', 'pollIntervalMs']) {
      await expect(grow(topology, { kind: 'drbd', sizeBytes: 1n << 30n }, { lockDir, [option]: OVERFLOW_MS }), option).rejects.toThrow(new RegExp(`^${option} must be`));
    }
    expect(existsSync(lockDir)).toBe(false);
  });
});
