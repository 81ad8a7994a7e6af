/**
 * The exporter's LVM side: VG and LV sizes by tier, and whether each shared
 * VG's lockspace is started. Refreshed on an interval (default 30 s) through
 * one persistent `lvm` shell (one `lvm fullreport` per refresh), never per
 * scrape: LVM scans devices and takes locks, which a scrape must not wait on.
 *
 * Tiers: a VG with a PV on a DRBD device (/dev/drbdN) is tier 2 (the shared
 * VG on top of DRBD); every other VG the node sees is tier 1 (local, backing
 * DRBD).
 */
import { runLocal } from '../sys/local-exec.js';
import { LvmShell, type LvmRunner } from '../lvm/lvm-shell.js';
import { readFullReport, type LvmFullReport } from '../lvm/report.js';
import { detectLvmVersion, type LvmVersionInfo } from '../lvm/version.js';
import { vgLockingOf } from '../lvm/shared-vg.js';
import { parseLvmlockctlInfo } from '../lvm/lvmlockctl.js';
import { checkTimerMs } from '../sys/timer-ms.js';

export type LvmTier = '1' | '2';

export interface VgSample {
  name: string;
  tier: LvmTier;
  sizeBytes: bigint;
  freeBytes: bigint;
  /** lvmlockd lock type (sanlock, dlm) of a shared VG; null for a local VG. */
  lockType: string | null;
  /** Shared VGs: lockspace started on this node; null for local VGs or when unknown. */
  lockspaceStarted: boolean | null;
}

export interface LvSample {
  vg: string;
  name: string;
  tier: LvmTier;
  sizeBytes: bigint;
}

export interface LvmSample {
  vgs: VgSample[];
  lvs: LvSample[];
}

const DRBD_DEVICE = /^\/dev\/drbd\d+$|^\/dev\/drbd\/by-(?:res|disk)\//;

/** VGs and LVs of a fullreport, with tiers; lockspace state filled from `started` (VG names). */
export function lvmSampleFromReport(report: Pick<LvmFullReport, 'vgs'>, started: ReadonlySet<string> | null): LvmSample {
  const vgs: VgSample[] = [];
  const lvs: LvSample[] = [];
  for (const entry of report.vgs) {
    const tier: LvmTier = entry.pvs.some((pv) => DRBD_DEVICE.test(pv.name)) ? '2' : '1';
    const locking = vgLockingOf(entry.vg);
    const shared = locking.kind === 'lvmlockd';
    vgs.push({
      name: entry.vg.name,
      tier,
      sizeBytes: entry.vg.sizeBytes,
      freeBytes: entry.vg.freeBytes,
      lockType: shared ? (locking.lockType ?? 'unknown') : locking.kind === 'clvm' ? 'clvm' : null,
      lockspaceStarted: shared ? (started === null ? null : started.has(entry.vg.name)) : null,
    });
    for (const lv of entry.lvs) {
      // lvmlockd's internal [lvmlock] and other hidden LVs are not the user's volumes.
      if (lv.hidden) continue;
      lvs.push({ vg: entry.vg.name, name: lv.name, tier, sizeBytes: lv.sizeBytes });
    }
  }
  return { vgs, lvs };
}

export class LvmState {
  sample: LvmSample | null = null;
  updatedAt: number | null = null;
  lastError: string | null = null;
  lastOk = false;
  lastDurationMs: number | null = null;
  refreshes = 0;
  failures = 0;

  set(sample: LvmSample, durationMs: number, now: number = Date.now()): void {
    this.sample = sample;
    this.updatedAt = now;
    this.lastOk = true;
    this.lastError = null;
    this.lastDurationMs = durationMs;
    this.refreshes++;
  }

  fail(error: Error, durationMs: number): void {
    this.lastOk = false;
    this.lastError = error.message;
    this.lastDurationMs = durationMs;
    this.refreshes++;
    this.failures++;
  }
}

export interface LvmFeedOptions {
  /** Default 30 000. */
  intervalMs?: number;
  /** How lvm runs; default a persistent LvmShell (closed with the feed). */
  runner?: LvmRunner;
  version?: LvmVersionInfo;
  /** Started lockspaces (VG names); default `lvmlockctl --info`, run only when a shared VG exists. */
  lockspaces?: () => Promise<Set<string>>;
  timeoutMs?: number;
  onError?: (error: Error) => void;
}

export interface LvmFeed {
  /** Resolves after the first refresh (ok or not). */
  readonly ready: Promise<void>;
  /** One refresh now (also what the interval runs). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** VGs whose lockspace is started here, from `lvmlockctl --info` (its `LS <type> lvm_<vg>` lines). */
export async function startedLockspaces(): Promise<Set<string>> {
  const { stdout } = await runLocal(['lvmlockctl', '--info'], { timeoutMs: 10_000 });
  return new Set(parseLvmlockctlInfo(stdout).filter((vg) => vg.lockspaceStarted).map((vg) => vg.vg));
}

/** ConfigError for delays a timer cannot hold; startExporter calls it before starting anything. */
export function checkLvmFeedOptions(options: LvmFeedOptions): void {
  checkTimerMs('lvm.intervalMs', options.intervalMs, 1);
  checkTimerMs('lvm.timeoutMs', options.timeoutMs, 1);
}

export function startLvmFeed(state: LvmState, options: LvmFeedOptions = {}): LvmFeed {
  checkLvmFeedOptions(options);
  const intervalMs = options.intervalMs ?? 30_000;
  const ownRunner = options.runner === undefined;
  let runner: LvmRunner | null = options.runner ?? null;
  let version = options.version;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  const refreshNow = async (): Promise<void> => {
    const started = performance.now();
    try {
      if (version === undefined) version = detectLvmVersion((await runLocal(['lvm', 'version'], { timeoutMs: 15_000 })).stdout);
      runner ??= new LvmShell({ version });
      const report = await readFullReport({ version, exec: runner.exec, timeoutMs: options.timeoutMs ?? 60_000 });
      const anyShared = report.vgs.some((v) => vgLockingOf(v.vg).kind === 'lvmlockd');
      let lockspaces: Set<string> | null = null;
      if (anyShared) {
        try {
          lockspaces = await (options.lockspaces ?? startedLockspaces)();
        } catch (error) {
          // lvmlockd not running: no lockspace is started here.
          options.onError?.(error as Error);
          lockspaces = new Set();
        }
      }
      if (!closed) state.set(lvmSampleFromReport(report, lockspaces), performance.now() - started);
    } catch (error) {
      if (closed) return;
      state.fail(error as Error, performance.now() - started);
      options.onError?.(error as Error);
    }
  };

  const refresh = (): Promise<void> => {
    // One refresh at a time; a caller during a refresh waits for that one.
    running ??= refreshNow().finally(() => {
      running = null;
    });
    return running;
  };

  const loop = (): void => {
    if (closed) return;
    timer = setTimeout(() => {
      refresh().finally(loop);
    }, intervalMs);
    timer.unref?.();
  };

  const ready = refresh().then(loop);
  return {
    ready,
    refresh,
    async close(): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
      if (ownRunner) await runner?.close();
    },
  };
}
