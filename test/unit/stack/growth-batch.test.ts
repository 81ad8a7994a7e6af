/** Which steps grow() runs at once, and how soon it looks at a resync again. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../../src/errors.js';
import { alreadyDoneElsewhere, concurrentBatch, resyncPollMs, stepTimeoutMs, withoutRanUnobservable } from '../../../src/stack/growth/execute.js';
import type { GrowthReading, GrowthStateReader } from '../../../src/stack/growth/read-state.js';
import { planGrowth, zeroingPattern } from '../../../src/stack/growth/plan.js';
import type { GrowthState, GrowthStep } from '../../../src/stack/growth/types.js';

const MiB = 1024n * 1024n;

function recorded(name: string): GrowthState {
  const text = readFileSync(new URL(`../../fixtures/lab-growth/${name}`, import.meta.url), 'utf8');
  return JSON.parse(text, (key, value: unknown) => (key.endsWith('Bytes') && typeof value === 'string' ? BigInt(value) : value)) as GrowthState;
}

/** The batches grow() would run, if every step took effect as planned. */
function batches(steps: GrowthStep[]): string[][] {
  const out: string[][] = [];
  for (let rest = steps; rest.length > 0; ) {
    const batch = concurrentBatch(rest);
    expect(batch.length).toBeGreaterThan(0);
    out.push(batch.map((s) => s.id));
    rest = rest.slice(batch.length);
  }
  return out;
}

const step = (id: string, tier: GrowthStep['tier'], node: string): GrowthStep => ({ id, tier, node, argv: ['true'], why: '', precondition: '', check: () => true });

describe('concurrentBatch', () => {
  it('on the recorded lab stack: the tier-1 extends of both nodes together, everything else one at a time', () => {
    const plan = planGrowth(recorded('state-before.json'), { kind: 'guest-disk', sizeBytes: 256n * MiB });
    expect(batches(plan.steps)).toEqual([
      ['tier1-lvextend@node1', 'tier1-lvextend@node2'],
      ['drbd-resize'],
      ['drbd-zero-new-area'],
      ['tier2-pvresize'],
      ['tier2-lvextend'],
      ['tier2-refresh@node2'],
      ['guest-rescan'],
      ['guest-pvresize'],
      ['guest-lvextend'],
      ['guest-fs-grow'],
    ]);
  });

  it('resumed after the crash: only node2 still needs tier 1, alone', () => {
    const plan = planGrowth(recorded('state-resume-after-crash.json'), { kind: 'guest-disk', sizeBytes: 320n * MiB });
    expect(batches(plan.steps)[0]).toEqual(['tier1-lvextend@node2']);
  });

  it('refreshes on several nodes go together, the guest rescan waits for all of them', () => {
    const steps = [step('tier2-lvextend', 2, 'a'), step('tier2-refresh@b', 2, 'b'), step('tier2-refresh@c', 2, 'c'), step('guest-rescan', 3, 'vm'), step('guest-pvresize', 3, 'vm')];
    expect(batches(steps)).toEqual([['tier2-lvextend'], ['tier2-refresh@b', 'tier2-refresh@c'], ['guest-rescan'], ['guest-pvresize']]);
  });

  it('a tier-1 batch stops at the first step of another tier', () => {
    expect(concurrentBatch([step('tier1-lvextend@a', 1, 'a'), step('drbd-resize', 'drbd', 'a'), step('tier1-lvextend@b', 1, 'b')]).map((s) => s.id)).toEqual(['tier1-lvextend@a']);
    expect(concurrentBatch([])).toEqual([]);
  });
});

describe('resyncPollMs', () => {
  const view = (etaSeconds: number | null) => ({ node: 'a', replicationState: 'SyncSource' as const, sync: { percent: 50, remainingBytes: 1n, totalBytes: 2n, etaSeconds, speedBytesPerSecond: null, averageSpeedBytesPerSecond: null, wantBytesPerSecond: null, stalled: false } });

  it('the poll interval while the ETA is longer or unknown', () => {
    expect(resyncPollMs([view(60)], 1000)).toBe(1000);
    expect(resyncPollMs([view(null)], 1000)).toBe(1000);
    expect(resyncPollMs([{ node: 'a', replicationState: null, sync: null }], 700)).toBe(700);
  });

  it('sooner when DRBD expects to be done sooner, never under 100 ms', () => {
    expect(resyncPollMs([view(0.3)], 1000)).toBe(300);
    expect(resyncPollMs([view(0)], 1000)).toBe(100);
    expect(resyncPollMs([view(0), view(0.6)], 1000)).toBe(600);
  });
});

describe('steps that write the new area', () => {
  it('an unobservable step that ran in this grow() is left out of the re-plan; others, and ones not yet run, stay', () => {
    const zero = { ...step('drbd-zero-new-area', 'drbd', 'a'), unobservable: true as const };
    const pv = step('tier2-pvresize', 2, 'a');
    const ran = (s: GrowthStep) => ({ step: s, durationMs: 1, stdout: '', stderr: '' });
    expect(withoutRanUnobservable([zero, pv], []).map((s) => s.id)).toEqual(['drbd-zero-new-area', 'tier2-pvresize']);
    expect(withoutRanUnobservable([zero, pv], [ran(zero)]).map((s) => s.id)).toEqual(['tier2-pvresize']);
    // An observable step that ran stays: grow() then reports it as not taking effect.
    expect(withoutRanUnobservable([zero, pv], [ran(pv)]).map((s) => s.id)).toEqual(['drbd-zero-new-area', 'tier2-pvresize']);
  });

  it('a step gets at least its bytes at 16 MiB/s, never less than configured, never past what a timer holds', () => {
    const writing = (bytes: bigint): GrowthStep => ({ ...step('drbd-zero-new-area', 'drbd', 'a'), writesBytes: bytes });
    expect(stepTimeoutMs(step('tier2-pvresize', 2, 'a'), 300_000)).toBe(300_000);
    expect(stepTimeoutMs(writing(1n << 20n), 300_000)).toBe(300_000);
    expect(stepTimeoutMs(writing(16n << 30n), 300_000)).toBe(1_024_000);
    expect(stepTimeoutMs(writing(1n << 50n), 300_000)).toBe(2 ** 31 - 1);
  });
});

describe('a zeroing still running holds back the pvresize that makes its area part of the PV', () => {
  it('pvresize waits for none on the zeroing node; the pattern matches the command, through sudo too, and not another device or the shell running pgrep', () => {
    const plan = planGrowth(recorded('state-before.json'), { kind: 'guest-disk', sizeBytes: 256n * MiB });
    const zero = plan.steps.find((s) => s.id === 'drbd-zero-new-area')!;
    const pv = plan.steps.find((s) => s.id === 'tier2-pvresize')!;
    expect(pv.waitsUntilNone).toEqual({ node: zero.node, processPattern: zeroingPattern('/dev/drbd0') });
    const matches = (cmdline: string) => new RegExp(pv.waitsUntilNone!.processPattern).test(cmdline);
    expect(matches(zero.argv.join(' '))).toBe(true);
    expect(matches(`sudo -n -- env LC_ALL=C ${zero.argv.join(' ')}`)).toBe(true);
    expect(matches(zero.argv.join(' ').replace('/dev/drbd0', '/dev/drbd01'))).toBe(false);
    expect(matches(`sh -c pgrep -f -a -- '${pv.waitsUntilNone!.processPattern}'`)).toBe(false);
    expect(planGrowth(recorded('state-before.json'), { kind: 'guest-disk', sizeBytes: 256n * MiB }, { skipResync: true }).steps.find((s) => s.id === 'tier2-pvresize')!.waitsUntilNone).toBeUndefined();
  });
});

describe('a step command that failed because another grow made the change first', () => {
  const state = recorded('state-before.json');
  const previous = { state, sync: [] } as unknown as GrowthReading;
  // The read after the failure; each step's own check says whether it shows the effect.
  const reader = { refreshAfter: async () => previous } as unknown as GrowthStateReader;
  const failed = new CommandError('lvextend: exited with 5: New size (177 extents) matches existing size (177 extents).', { argv: ['lvextend'], exitCode: 5, stderr: '', node: 'node1' });

  it('counts as done when a read right after shows its effect', async () => {
    const step = { ...planGrowth(state, { kind: 'guest-disk', sizeBytes: 256n * MiB }).steps[0]!, check: () => true };
    await expect(alreadyDoneElsewhere(reader, step, previous, failed)).resolves.toMatchObject({ exitCode: 0, stderr: expect.stringMatching(/already shows the step done/) });
  });

  it('fails as it did when the state does not show it, when the step cannot be read back, or when the error is not the command\'s', async () => {
    const step = planGrowth(state, { kind: 'guest-disk', sizeBytes: 256n * MiB }).steps[0]!;
    await expect(alreadyDoneElsewhere(reader, { ...step, check: () => false }, previous, failed)).rejects.toBe(failed);
    await expect(alreadyDoneElsewhere(reader, { ...step, check: () => true, unobservable: true }, previous, failed)).rejects.toBe(failed);
    const timeout = new Error('timed out');
    await expect(alreadyDoneElsewhere(reader, { ...step, check: () => true }, previous, timeout)).rejects.toBe(timeout);
  });
});
