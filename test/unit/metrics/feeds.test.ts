/**
 * The state feeds with their sources replaced: the netlink watch (deliveries,
 * an error that ends it, the restart), the fallback to polling where netlink
 * is unavailable, and the LVM side from a real `lvm fullreport` and
 * `lvmlockctl --info` (test/fixtures/lvm/host-2.03.16, test/fixtures/lab-lvm).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parseEvents2 } from '../../../src/drbd/events2.js';
import { NoDrbdFamilyError } from '../../../src/drbd/genl/errors.js';
import type { DrbdStatus } from '../../../src/drbd/status-model.js';
import type { DrbdWatch, WatchDrbdOptions, WatchEvent } from '../../../src/drbd/watch.js';
import { diffStatus } from '../../../src/drbd/watch.js';
import { HastorError, ParseError } from '../../../src/errors.js';
import { parseFullReport } from '../../../src/lvm/report.js';
import { DrbdState, startDrbdFeed } from '../../../src/metrics/drbd-state.js';
import { parseLvmlockctlInfo } from '../../../src/lvm/lvmlockctl.js';
import { LvmState, lvmSampleFromReport, startLvmFeed } from '../../../src/metrics/lvm-state.js';
import { createExporterRegistry } from '../../../src/metrics/registry.js';
import { parseExposition, sampleOf } from './exposition.js';

const fixture = (path: string): string => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');
const status = parseEvents2(fixture('events2/drbd9-utils-sync-statistics.txt'));

/** A watch we drive by hand. */
function fakeWatch() {
  const watches: { onChange: (e: WatchEvent) => void; options: WatchDrbdOptions; closed: boolean; fail?: Error }[] = [];
  let failNext: Error | null = null;
  let failures = 0;
  const watch = (onChange: (e: WatchEvent) => void, options: WatchDrbdOptions): DrbdWatch => {
    const entry = { onChange, options, closed: false };
    watches.push(entry);
    const error = failures > 0 ? failNext : null;
    if (--failures <= 0) failNext = null;
    const ready = error ? Promise.reject(error) : Promise.resolve().then(() => onChange({ status, changes: diffStatus(null, status), receivedAt: 0n, source: 'netlink' }));
    if (error) queueMicrotask(() => options.onError(error));
    ready.catch(() => undefined);
    return { ready, source: error ? null : 'netlink', close: () => void (entry.closed = true) };
  };
  return {
    watch,
    watches,
    failWith: (e: Error, times = 1) => {
      failNext = e;
      failures = times;
    },
  };
}

describe('startDrbdFeed', () => {
  it('follows the netlink watch with every status (everyStatus, for sync progress)', async () => {
    const fake = fakeWatch();
    const state = new DrbdState();
    const feed = startDrbdFeed(state, { watch: fake.watch, procPath: '/nonexistent' });
    await feed.ready;
    expect(fake.watches[0]!.options).toMatchObject({ source: 'netlink', everyStatus: true });
    expect(state.health()).toMatchObject({ alive: true, mode: 'netlink', source: 'netlink' });
    const next: DrbdStatus = structuredClone(status);
    next.resources[0]!.role = 'Primary';
    fake.watches[0]!.onChange({ status: next, changes: diffStatus(status, next), receivedAt: 0n, source: 'netlink' });
    expect(state.status?.resources[0]!.role).toBe('Primary');
    feed.close();
    expect(fake.watches[0]!.closed).toBe(true);
  });

  it('an unreadable datagram is counted and the watch goes on; a fatal error marks the state dead and restarts the watch', async () => {
    const fake = fakeWatch();
    const state = new DrbdState();
    const errors: Error[] = [];
    const feed = startDrbdFeed(state, { watch: fake.watch, restartDelayMs: 10, procPath: '/nonexistent', onError: (e) => errors.push(e) });
    await feed.ready;
    fake.watches[0]!.options.onError(new ParseError('bad datagram', { source: 'test' }));
    expect(state.health().alive).toBe(true);
    expect(state.recoverableErrors).toBe(1);
    fake.watches[0]!.options.onError(new HastorError('E_DRBD_NETLINK', 'socket gone'));
    expect(state.health()).toMatchObject({ alive: false, lastError: 'socket gone', restarts: 1 });
    expect(fake.watches[0]!.closed).toBe(true);
    await sleep(50);
    expect(fake.watches).toHaveLength(2);
    expect(state.health().alive).toBe(true);
    expect(errors).toHaveLength(2);
    feed.close();
  });

  it('the module unloaded under a running watch: dead until it is back, reported once however many restarts fail', async () => {
    const fake = fakeWatch();
    const state = new DrbdState();
    const errors: Error[] = [];
    const feed = startDrbdFeed(state, { watch: fake.watch, restartDelayMs: 5, procPath: '/nonexistent', onError: (e) => errors.push(e) });
    await feed.ready;
    fake.failWith(new NoDrbdFamilyError(), 4);
    fake.watches[0]!.options.onError(new NoDrbdFamilyError());
    expect(state.health()).toMatchObject({ alive: false, lastError: new NoDrbdFamilyError().message });
    for (let i = 0; i < 100 && fake.watches.length < 5; i++) await sleep(5);
    expect(fake.watches.length).toBeGreaterThanOrEqual(5);
    expect(state.health().alive).toBe(false);
    for (let i = 0; i < 100 && !state.health().alive; i++) await sleep(5);
    expect(state.health().alive).toBe(true);
    expect(errors.map((e) => e.constructor.name)).toEqual(['NoDrbdFamilyError']);
    feed.close();
  });

  it('polls with readLiveStatus when the kernel has no drbd netlink family, sticking to the source that worked', async () => {
    const fake = fakeWatch();
    fake.failWith(new NoDrbdFamilyError());
    const reads: string[] = [];
    const state = new DrbdState();
    const feed = startDrbdFeed(state, {
      watch: fake.watch,
      pollIntervalMs: 20,
      procPath: '/nonexistent',
      readStatus: async (options) => {
        reads.push(options.source ?? 'auto');
        if (options.source !== 'proc') throw new HastorError('E_COMMAND', `${options.source} unavailable`);
        return status;
      },
    });
    await feed.ready;
    expect(state.health()).toMatchObject({ alive: true, mode: 'poll', source: 'proc' });
    await sleep(70);
    feed.close();
    expect(reads.slice(0, 3)).toEqual(['netlink', 'events2', 'proc']);
    expect(reads.slice(3).every((s) => s === 'proc')).toBe(true);
    expect(reads.length).toBeGreaterThan(4);
  });

  it('a poll failure that repeats is reported once, and the state says so until a read works', async () => {
    const fake = fakeWatch();
    fake.failWith(new NoDrbdFamilyError());
    const errors: Error[] = [];
    let reads = 0;
    const state = new DrbdState();
    const feed = startDrbdFeed(state, {
      watch: fake.watch,
      pollIntervalMs: 10,
      procPath: '/nonexistent',
      onError: (e) => errors.push(e),
      readStatus: async () => {
        reads++;
        throw new HastorError('E_COMMAND', 'no DRBD here');
      },
    });
    await feed.ready;
    await sleep(80);
    feed.close();
    expect(reads).toBeGreaterThan(9);
    // The watch's own failure, then the poll failure once.
    expect(errors.map((e) => e.message).filter((m) => m === 'no DRBD here')).toHaveLength(1);
    expect(state.health()).toMatchObject({ alive: false, mode: 'poll', lastError: 'no DRBD here' });
  });
});

describe('LVM side', () => {
  const report = parseFullReport(fixture('lvm/host-2.03.16/fullreport-json.txt'), 'json');

  it('VG and LV sizes from a real fullreport; a VG on /dev/drbdN is tier 2, the others tier 1', () => {
    const onDrbd = structuredClone(report);
    const t2 = onDrbd.vgs.find((v) => v.vg.name === 'vg.t2-shared')!;
    t2.pvs[0]!.name = '/dev/drbd0';
    const sample = lvmSampleFromReport(onDrbd, null);
    expect(sample.vgs.find((v) => v.name === 'vg.t2-shared')).toMatchObject({ tier: '2', sizeBytes: 62914560n, freeBytes: 46137344n, lockType: null, lockspaceStarted: null });
    expect(sample.vgs.find((v) => v.name === 'vg_host')?.tier).toBe('1');
    expect(sample.lvs.find((l) => l.name === 'guest+disk-1')).toEqual({ vg: 'vg.t2-shared', name: 'guest+disk-1', tier: '2', sizeBytes: 16777216n });
    expect(lvmSampleFromReport(report, null).vgs.every((v) => v.tier === '1')).toBe(true);
  });

  it('lockspace started from lvmlockctl --info (lab, sanlock), only for shared VGs', () => {
    const started = new Set(parseLvmlockctlInfo(fixture('lab-lvm/lvmlockctl-info-node1.txt')).filter((v) => v.lockspaceStarted).map((v) => v.vg));
    expect([...started]).toEqual(['vgshared']);
    const shared = structuredClone(report);
    const vg = shared.vgs.find((v) => v.vg.name === 'vg.t2-shared')!.vg;
    vg.name = 'vgshared';
    vg.shared = true;
    vg.lockType = 'sanlock';
    const sample = lvmSampleFromReport(shared, started);
    expect(sample.vgs.find((v) => v.name === 'vgshared')).toMatchObject({ lockType: 'sanlock', lockspaceStarted: true });
    expect(lvmSampleFromReport(shared, new Set()).vgs.find((v) => v.name === 'vgshared')!.lockspaceStarted).toBe(false);
    expect(sample.vgs.find((v) => v.name === 'vg_host')!.lockspaceStarted).toBeNull();
  });

  it('the feed refreshes through the runner on its interval, not per scrape, and reports failures', async () => {
    const calls: string[][] = [];
    let fail = false;
    const runner = {
      node: 'local',
      exec: async (argv: readonly string[]) => {
        calls.push([...argv]);
        if (fail) throw new HastorError('E_COMMAND', 'lvm shell died');
        return { stdout: fixture('lvm/host-2.03.16/fullreport-json.txt'), stderr: '', exitCode: 0 };
      },
      run: async () => {
        throw new Error('unused');
      },
      close: async () => undefined,
    };
    const version = { lvm: '2.03.16', api: 2, library: null, driver: null, configuration: null, major: 2, minor: 3, patch: 16, features: { commandLog: true, jsonStd: false, json: true } } as never;
    const lvm = new LvmState();
    const feed = startLvmFeed(lvm, { runner, version, intervalMs: 40 });
    await feed.ready;
    expect(calls[0]![0]).toBe('lvm');
    expect(calls[0]).toContain('fullreport');
    expect(lvm.sample?.vgs.map((v) => v.name).sort()).toEqual(['vg.t2-shared', 'vg_host']);
    const drbd = new DrbdState();
    const metrics = createExporterRegistry(drbd, lvm);
    for (let i = 0; i < 5; i++) await metrics.render();
    expect(calls).toHaveLength(1);
    const families = parseExposition(await metrics.render());
    expect(sampleOf(families, 'hastor_lvm_vg_size_bytes', { vg: 'vg.t2-shared', tier: '1' })).toBe(62914560);
    expect(sampleOf(families, 'hastor_lvm_lv_size_bytes', { vg: 'vg.t2-shared', lv: 'guest+disk-1' })).toBe(16777216);
    expect(sampleOf(families, 'hastor_lvm_refresh_success')).toBe(1);
    fail = true;
    await sleep(60);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(lvm.lastOk).toBe(false);
    expect(lvm.lastError).toMatch(/lvm shell died/);
    // The last good sample stays; the failure is visible.
    expect(sampleOf(parseExposition(await metrics.render()), 'hastor_lvm_refresh_success')).toBe(0);
    await feed.close();
  });
});
