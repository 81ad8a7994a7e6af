/**
 * Runs a growth: read every tier, plan, then one step at a time — run it on
 * its node, read the state again and wait until the step's own check holds.
 * A crash or a killed node at any point leaves a state from which planning
 * again gives exactly the steps still missing, so the same call resumes; no
 * finished step is redone or undone. Progress goes to a callback (the
 * library never prints).
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError, ConfigError, HastorError, LockError } from '../../errors.js';
import { assertResourceName } from '../../drbd/lifecycle/index.js';
import type { LvmRunnerPool } from '../../lvm/executor-runner.js';
import { lockFile, type FileLock } from '../../sys/flock.js';
import { ensurePrivateDirectory } from '../../sys/trusted-path.js';
import { planGrowth, type PlanGrowthOptions } from './plan.js';
import { checkGrowthTarget } from './limits.js';
import { checkTimerMs } from '../../sys/timer-ms.js';
import { GrowthStateReader, type DrbdSyncView, type GrowthReading } from './read-state.js';
import type { GrowthTopology } from './topology.js';
import type { GrowthIncrement, GrowthPlan, GrowthState, GrowthStep, GrowthTarget } from './types.js';
import { maxOf } from '../../arrays.js';
import type { RunResult } from '../../sys/local-exec.js';
import { assertClusterSettled, pacemakerCheck, type ClusterManagerCheck } from '../cluster-manager.js';

export type GrowthProgress =
  | { type: 'plan'; plan: GrowthPlan; dryRun: boolean }
  | { type: 'step-start'; index: number; total: number; step: GrowthStep }
  | { type: 'step-done'; index: number; total: number; step: GrowthStep; durationMs: number }
  | { type: 'resync'; views: DrbdSyncView[] }
  | { type: 'resync-done'; durationMs: number };

export interface GrowOptions {
  /** Read and plan only; nothing changes. */
  dryRun?: boolean;
  /** Called on every event; a returned promise is awaited before the growth goes on (a caller may pause it between steps). */
  onProgress?: (event: GrowthProgress) => void | Promise<void>;
  /**
   * The new backing space already reads the same on every node (thin LVs, zeroed disks):
   * `drbdadm resize --assume-clean`, and the new area is neither zeroed nor resynced.
   * Otherwise the nodes differ there, and a verify or a read after failover shows it.
   * Without it, a DRBD device under a tier-2 PV has its new area zeroed through DRBD
   * (both nodes stay UpToDate); one with nothing on it is resynced by DRBD.
   */
  skipResync?: boolean;
  /** Where hastor's own grow lock lives on this machine (null: none). Default /run/lock/hastor. */
  lockDir?: string | null;
  /** How long to wait for another grow of the same resource. Default 0: fail at once. */
  lockTimeoutMs?: number;
  /** Per step command. Default 5 min; a step that writes data gets at least its bytes at 16 MiB/s. */
  stepTimeoutMs?: number;
  /** Until a step's check holds after it ran (a peer sees a DRBD resize a moment later). Default 60 s. */
  settleTimeoutMs?: number;
  /** Until a resync of the new area ends (DRBD devices with no tier-2 PV). Default 6 h. */
  resyncTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Read LVM through a persistent lvm shell per node (GrowthReaderOptions). Default true. */
  lvmShell?: boolean;
  /** The runners discovery used (its shells already warm); the caller closes them. */
  lvm?: LvmRunnerPool;
  /**
   * Growth runs online under Pacemaker, but not while it is electing, fencing or
   * moving resources. Default: Pacemaker, read on the resource's nodes; null: no check.
   */
  clusterManager?: ClusterManagerCheck | null;
}

export interface RanStep {
  step: GrowthStep;
  durationMs: number;
  stdout: string;
  stderr: string;
}

export interface GrowResult {
  dryRun: boolean;
  /** The target as planned: an increment made absolute against the first read. */
  target: GrowthTarget;
  /** The plan made from the state at the start (what a dry run shows). */
  plan: GrowthPlan;
  ran: RanStep[];
  /** The state read at the end (at the start for a dry run). */
  state: GrowthState;
  /** True when the state already met the target: nothing to do. */
  alreadyDone: boolean;
  durationMs: number;
}

/** A step ran but its check never held, or the end state still needs steps. */
export class GrowthVerifyError extends HastorError {
  constructor(
    message: string,
    readonly stepId: string | null,
    readonly state: GrowthState,
  ) {
    super('E_GROWTH_VERIFY', message);
  }
}

/**
 * An increment as an absolute target: added to the guest disk's (tier-2 LV's) size, or to
 * DRBD's usable size, as the state shows them.
 */
export function resolveGrowthTarget(target: GrowthTarget | GrowthIncrement, state: GrowthState): GrowthTarget {
  checkGrowthTarget(target);
  if ('sizeBytes' in target) return target;
  let resolved: GrowthTarget;
  if (target.kind === 'drbd') {
    if (state.drbd.sizeBytes === 0n) throw new ConfigError(`DRBD ${state.drbd.resource}'s size could not be read, so it cannot grow by an amount; give an absolute size`);
    resolved = { kind: 'drbd', sizeBytes: state.drbd.sizeBytes + target.addBytes };
  } else {
    const lv = state.tier2?.lv;
    if (lv === undefined) throw new ConfigError('the guest disk (tier-2 LV) could not be read, so it cannot grow by an amount; give an absolute size');
    resolved = { kind: 'guest-disk', sizeBytes: lv.sizeBytes + target.addBytes, ...(target.lowerTiers === undefined ? {} : { lowerTiers: target.lowerTiers }) };
  }
  // The current size plus the increment may pass the limit the increment alone was within.
  checkGrowthTarget(resolved);
  return resolved;
}

/** Everything grow() can check without reading a node: done before the lock is taken, so bad input never holds it. */
function checkGrowInput(target: GrowthTarget | GrowthIncrement, options: GrowOptions): void {
  checkGrowthTarget(target);
  checkTimerMs('lockTimeoutMs', options.lockTimeoutMs, 0);
  checkTimerMs('stepTimeoutMs', options.stepTimeoutMs, 1);
  checkTimerMs('settleTimeoutMs', options.settleTimeoutMs, 1);
  checkTimerMs('resyncTimeoutMs', options.resyncTimeoutMs, 1);
  checkTimerMs('pollIntervalMs', options.pollIntervalMs, 1);
}

/**
 * Grows to `target`; an increment is added to the size the first read shows (a second run
 * after a crash would add it again: pass the result's absolute `target` to resume).
 */
export async function grow(topology: GrowthTopology, target: GrowthTarget | GrowthIncrement, options: GrowOptions = {}): Promise<GrowResult> {
  const started = Date.now();
  checkGrowInput(target, options);
  const reader = new GrowthStateReader(topology, {
    ...(options.lvmShell === undefined ? {} : { lvmShell: options.lvmShell }),
    ...(options.lvm === undefined ? {} : { lvm: options.lvm }),
  });
  try {
    return await growWith(reader, target, options, started);
  } finally {
    await reader.close();
  }
}

async function growWith(reader: GrowthStateReader, requested: GrowthTarget | GrowthIncrement, options: GrowOptions, started: number): Promise<GrowResult> {
  const topology = reader.topology;
  const emit = async (event: GrowthProgress): Promise<void> => {
    await options.onProgress?.(event);
  };
  const poll = options.pollIntervalMs ?? 1000;
  const planOptions: PlanGrowthOptions = { skipResync: options.skipResync === true };

  if (options.dryRun === true) {
    await assertClusterManagerAtRest(topology, options);
    const { state } = await reader.read();
    const target = resolveGrowthTarget(requested, state);
    const plan = planGrowth(state, target, planOptions);
    await emit({ type: 'plan', plan, dryRun: true });
    return { dryRun: true, target, plan, ran: [], state, alreadyDone: plan.steps.length === 0, durationMs: Date.now() - started };
  }

  const lock = await takeGrowLock(topology.resource, options);
  try {
    await assertClusterManagerAtRest(topology, options);
    let reading = await reader.read();
    const target = resolveGrowthTarget(requested, reading.state);
    const plan = planGrowth(reading.state, target, planOptions);
    await emit({ type: 'plan', plan, dryRun: false });
    const ran: RanStep[] = [];
    const total = plan.steps.length;
    const resyncTimeoutMs = options.resyncTimeoutMs ?? 6 * 3600_000;
    let index = 0;
    // Re-planned after every step: the state, not the first plan, says what is left.
    const left = (state: GrowthState): GrowthStep[] => withoutRanUnobservable(planGrowth(state, target, planOptions).steps, ran);
    for (let steps = plan.steps; steps.length > 0; steps = left(reading.state)) {
      const step = steps[0]!;
      if (ran.some((r) => r.step.id === step.id)) {
        throw new GrowthVerifyError(`step ${step.id} ran but the state still asks for it: ${step.why}`, step.id, reading.state);
      }
      // Upper tiers wait for the new DRBD area to be in sync on every node.
      if (step.tier !== 1 && step.tier !== 'drbd' && reading.state.drbd.resyncRunning) {
        reading = await waitForResync(reader, reading, emit, poll, resyncTimeoutMs);
        continue;
      }
      const batch = concurrentBatch(steps);
      for (const s of batch) if (s.waitsUntilNone !== undefined) await waitUntilNone(topology, s, reading.state, resyncTimeoutMs, poll);
      // The nodes wait while the new area is written: the time to start the shells the checks after it read through.
      if (batch.some((s) => s.writesBytes !== undefined)) reader.warm();
      const numbered = batch.map((s) => ({ step: s, index: (index += 1) }));
      for (const n of numbered) await emit({ type: 'step-start', index: n.index, total: Math.max(total, n.index), step: n.step });
      const previous = reading;
      const outcomes = await Promise.allSettled(
        numbered.map(async ({ step: s, index: i }) => {
          const stepStarted = Date.now();
          const result = await executorFor(topology, s.node)
            .run(s.argv, {
              root: true,
              timeoutMs: stepTimeoutMs(s, options.stepTimeoutMs ?? 300_000),
              ...(s.stdin === undefined ? {} : { input: s.stdin }),
            })
            .catch(async (error: unknown) => alreadyDoneElsewhere(reader, s, previous, error));
          // Nothing to read back after a step whose effect no reading shows (its check held before it ran).
          const settled = s.unobservable === true && s.check(previous.state) ? previous : await settle(reader, s, previous, options.settleTimeoutMs ?? 60_000, poll);
          const durationMs = Date.now() - stepStarted;
          await emit({ type: 'step-done', index: i, total: Math.max(total, i), step: s, durationMs });
          return { settled, ran: { step: s, durationMs, stdout: result.stdout, stderr: result.stderr } };
        }),
      );
      // In plan order, whatever order they finished in; the finished ones count even when another failed.
      for (const o of outcomes) if (o.status === 'fulfilled') ran.push(o.value.ran);
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const readings = outcomes.map((o) => (o as PromiseFulfilledResult<{ settled: GrowthReading }>).value.settled);
      reading = batch.length === 1 ? readings[0]! : mergeBatch(previous, batch, readings);
    }
    if (reading.state.drbd.resyncRunning) reading = await waitForResync(reader, reading, emit, poll, resyncTimeoutMs);
    // The proof: every tier was read again after the last step that changed it, and nothing more is needed.
    const needed = left(reading.state);
    if (needed.length > 0) {
      throw new GrowthVerifyError(`growth ended but the state still needs: ${needed.map((s) => s.id).join(', ')}`, needed[0]!.id, reading.state);
    }
    return { dryRun: false, target, plan, ran, state: reading.state, alreadyDone: plan.steps.length === 0, durationMs: Date.now() - started };
  } finally {
    lock?.release();
  }
}

async function assertClusterManagerAtRest(topology: GrowthTopology, options: GrowOptions): Promise<void> {
  const check = options.clusterManager === undefined ? pacemakerCheck() : options.clusterManager;
  if (check === null) return;
  const hold = await check.hold(topology.cluster, topology.resource, topology.tier1.map((t) => t.node));
  assertClusterSettled(hold, topology.resource, 'grow');
}

const kindOf = (step: GrowthStep): string => step.id.split('@')[0]!;

/** The slowest write rate a step that writes data is given time for, before it counts as hung. */
const SLOWEST_WRITE_BYTES_PER_S = 16n << 20n;

/** A step's time limit: the configured one, or more for a step that writes much. */
export function stepTimeoutMs(step: GrowthStep, configuredMs: number): number {
  if (step.writesBytes === undefined) return configuredMs;
  const forWrites = Number((step.writesBytes * 1000n) / SLOWEST_WRITE_BYTES_PER_S);
  return Math.min(Math.max(configuredMs, forWrites), 2 ** 31 - 1);
}

/** A plan less the steps whose effect no reading shows and that already ran in this grow(). */
export function withoutRanUnobservable(steps: readonly GrowthStep[], ran: readonly RanStep[]): GrowthStep[] {
  return steps.filter((s) => s.unobservable !== true || !ran.some((r) => r.step.id === s.id));
}

/**
 * The steps at the head of the plan that may run at once, because none changes what
 * another reads or needs: the tier-1 extends (one per node), or the refreshes of the
 * tier-2 LV on the other nodes. The guest's rescan is not among them: the node that
 * exports the disk to the guest may be one still to refresh.
 */
export function concurrentBatch(steps: readonly GrowthStep[]): GrowthStep[] {
  const first = steps[0];
  if (first === undefined) return [];
  const sameKind = (s: GrowthStep): boolean => (first.tier === 1 ? s.tier === 1 : kindOf(first) === 'tier2-refresh' && kindOf(s) === 'tier2-refresh');
  const batch = [first];
  for (let i = 1; i < steps.length && sameKind(steps[i]!); i++) batch.push(steps[i]!);
  return batch;
}

/** One reading from the readings of a batch's steps: from each, what its own step changed. */
function mergeBatch(previous: GrowthReading, batch: GrowthStep[], readings: GrowthReading[]): GrowthReading {
  const state: GrowthState = { ...previous.state };
  batch.forEach((step, i) => {
    const own = readings[i]!.state;
    if (step.tier === 1) {
      state.tier1 = state.tier1.map((t) => (t.node === step.node ? (own.tier1.find((x) => x.node === step.node) ?? t) : t));
    } else if (kindOf(step) === 'tier2-refresh' && state.tier2?.lv !== undefined && own.tier2?.lv !== undefined) {
      const fresh = own.tier2.lv.activeOn.find((a) => a.node === step.node);
      const activeOn = state.tier2.lv.activeOn.map((a) => (a.node === step.node && fresh !== undefined ? fresh : a));
      state.tier2 = { ...state.tier2, lv: { ...state.tier2.lv, activeOn } };
    } else {
      throw new Error(`step ${step.id} is not one that runs in a batch`);
    }
  });
  return { state, sync: previous.sync };
}

/**
 * A step command that failed, where a read right after shows the step's effect: another grow
 * (its own lock, on another node) made the same change first, and lvm said "matches existing
 * size". The state decides, as everywhere in grow(); a step whose effect cannot be read back
 * never counts as done this way.
 */
export async function alreadyDoneElsewhere(reader: GrowthStateReader, step: GrowthStep, previous: GrowthReading, error: unknown): Promise<RunResult> {
  if (step.unobservable === true || !(error instanceof CommandError)) throw error;
  const now = await reader.refreshAfter(step, previous).catch(() => null);
  if (now === null || !step.check(now.state)) throw error;
  return { stdout: '', stderr: `${error.message} (the state already shows the step done)`, exitCode: 0 };
}

/** Until no process matches the step's pattern on its node: a zeroing a killed grow left running, or another grow's. */
async function waitUntilNone(topology: GrowthTopology, step: GrowthStep, state: GrowthState, timeoutMs: number, poll: number): Promise<void> {
  const { node, processPattern } = step.waitsUntilNone!;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await executorFor(topology, node).run(['pgrep', '-f', '-a', '--', processPattern], { okExitCodes: [0, 1], timeoutMs: 30_000 });
    if (found.exitCode === 1) return;
    if (Date.now() >= deadline) {
      throw new GrowthVerifyError(`before ${step.id}: ${node} still runs ${found.stdout.trim()} after ${timeoutMs} ms; it writes where ${step.id} makes room`, step.id, state);
    }
    await sleep(Math.min(poll, 1000));
  }
}

function executorFor(topology: GrowthTopology, node: string) {
  if (topology.guest !== null && node === topology.guest.node) return topology.guest.executor;
  return topology.cluster.node(node).executor;
}

/** Reads the step's tier until its check holds: a DRBD resize reaches the peer, a rescan the guest, a moment later. */
async function settle(reader: GrowthStateReader, step: GrowthStep, previous: GrowthReading, timeoutMs: number, poll: number): Promise<GrowthReading> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reading = await reader.refreshAfter(step, previous);
    if (step.check(reading.state)) return reading;
    if (Date.now() >= deadline) {
      throw new GrowthVerifyError(
        `step ${step.id} on ${step.node} (${step.argv.join(' ')}) ran, but ${timeoutMs} ms later the state does not show it done; expected: ${step.why}`,
        step.id,
        reading.state,
      );
    }
    await sleep(Math.min(poll, 250));
  }
}

async function waitForResync(reader: GrowthStateReader, previous: GrowthReading, emit: (e: GrowthProgress) => Promise<void>, poll: number, timeoutMs: number): Promise<GrowthReading> {
  const started = Date.now();
  // The nodes wait too: the time to start the shells that the checks after the resync read through.
  reader.warm();
  let reading = previous;
  // The first look at once: it brings the percent and ETA the next wait is sized by.
  for (let first = true; ; first = false) {
    if (!first) await sleep(resyncPollMs(reading.sync, poll));
    reading = await reader.pollResync(reading);
    if (!reading.state.drbd.resyncRunning) {
      await emit({ type: 'resync-done', durationMs: Date.now() - started });
      return reading;
    }
    await emit({ type: 'resync', views: reading.sync });
    if (Date.now() - started > timeoutMs) {
      throw new GrowthVerifyError(`the resync of ${reader.topology.resource} did not end within ${timeoutMs} ms`, null, reading.state);
    }
  }
}

/** Until the next look at a resync: the poll interval, or sooner when DRBD expects to end sooner (a small growth's resync takes a second or two). */
export function resyncPollMs(views: readonly DrbdSyncView[], poll: number): number {
  const etas = views.map((v) => v.sync?.etaSeconds).filter((e): e is number => typeof e === 'number');
  if (etas.length === 0) return poll;
  return Math.max(100, Math.min(poll, maxOf(etas) * 1000));
}

async function takeGrowLock(resource: string, options: GrowOptions): Promise<FileLock | null> {
  const dir = options.lockDir === undefined ? '/run/lock/hastor' : options.lockDir;
  if (dir === null) return null;
  try {
    // Root-owned 0700: inside world-writable /run/lock, anyone could have made it first.
    ensurePrivateDirectory(dir, "hastor's lock directory");
  } catch (error) {
    if (error instanceof HastorError) throw error;
    throw new LockError(`cannot create hastor's lock directory ${dir}: ${(error as Error).message}`, { path: dir, cause: error });
  }
  // Crash-safe: the kernel drops an flock with the process that held it.
  return lockFile(join(dir, `grow-${assertResourceName(resource)}.lock`), { mode: 'exclusive', timeoutMs: options.lockTimeoutMs ?? 0 });
}
