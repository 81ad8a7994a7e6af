/**
 * The exporter's Pacemaker side: `crm_mon -1 --output-as=xml`, then
 * `cibadmin -Q`, read once per scrape (scrapes that overlap share one read),
 * under one deadline. Read per scrape rather than on an interval: a kept copy
 * would name a Primary that has since failed over. A node without Pacemaker,
 * or where it does not run, is a state (`up` false), not a failed scrape.
 */
import { hostname } from 'node:os';
import { HastorError } from '../errors.js';
import { PacemakerUnavailableError, type CrmMonStatus } from '../pacemaker/crm-mon.js';
import type { Cib } from '../pacemaker/cib.js';
import { readCib, readCrmMon } from '../pacemaker/read-cluster.js';
import { buildPacemakerView, type PacemakerView } from '../pacemaker/view.js';
import { LocalExecutor, type Executor } from '../sys/executor.js';
import { checkTimerMs } from '../sys/timer-ms.js';

export interface PacemakerSample {
  crmMon: CrmMonStatus;
  /** null when cibadmin -Q failed: DRBD resource names and fence constraints are then unknown. */
  cib: Cib | null;
  view: PacemakerView;
}

/** The last read's outcome. Fed by a PacemakerCollector, or directly in tests. */
export class PacemakerState {
  /** null when crm_mon did not answer: nothing of an older read is shown. */
  sample: PacemakerSample | null = null;
  /** crm_mon answered with the cluster's status. */
  up = false;
  /** Pacemaker is not installed or not running here (as opposed to a read that failed). */
  unavailable = false;
  lastError: string | null = null;
  lastDurationMs: number | null = null;
  updatedAt: number | null = null;
  reads = 0;
  /** Bumped with every read, so scrape-time rendering can cache per read. */
  generation = 0;

  set(sample: PacemakerSample, error: Error | null, durationMs: number, now: number = Date.now()): void {
    this.sample = sample;
    this.up = true;
    this.unavailable = false;
    this.lastError = error?.message ?? null;
    this.updatedAt = now;
    this.finish(durationMs);
  }

  fail(error: Error, durationMs: number): void {
    this.sample = null;
    this.up = false;
    this.unavailable = error instanceof PacemakerUnavailableError;
    this.lastError = error.message;
    this.finish(durationMs);
  }

  private finish(durationMs: number): void {
    this.lastDurationMs = durationMs;
    this.reads++;
    this.generation++;
  }
}

export interface PacemakerCollectorOptions {
  /** Where crm_mon and cibadmin run; default this machine. */
  executor?: Executor;
  /** Deadline of one read, crm_mon and cibadmin together; default 5000 (below Prometheus' 10 s scrape timeout). */
  timeoutMs?: number;
  /**
   * Run them as root (sudo -n when not root); default false: the exporter's
   * user needs root or the haclient group, and a sandboxed unit has no sudo.
   */
  root?: boolean;
  /** A failed read; the same message again is not repeated. */
  onError?: (error: Error) => void;
}

export interface PacemakerCollector {
  readonly state: PacemakerState;
  /** Reads Pacemaker now, or joins the read running; never rejects, and returns by the deadline. */
  refresh(): Promise<void>;
}

export const DEFAULT_PACEMAKER_TIMEOUT_MS = 5_000;

export function checkPacemakerOptions(options: PacemakerCollectorOptions): void {
  checkTimerMs('pacemaker.timeoutMs', options.timeoutMs, 1);
}

type Outcome = { ok: true; sample: PacemakerSample; error: Error | null } | { ok: false; error: Error };

const timeout = (message: string): HastorError => new HastorError('E_PACEMAKER_TIMEOUT', message);

export function createPacemakerCollector(state: PacemakerState, options: PacemakerCollectorOptions = {}): PacemakerCollector {
  checkPacemakerOptions(options);
  const executor = options.executor ?? new LocalExecutor(hostname());
  const timeoutMs = options.timeoutMs ?? DEFAULT_PACEMAKER_TIMEOUT_MS;
  const root = options.root ?? false;
  let running: Promise<Outcome> | null = null;
  let reported: string | null = null;

  const readOnce = async (): Promise<Outcome> => {
    const deadline = performance.now() + timeoutMs;
    let crmMon: CrmMonStatus;
    try {
      crmMon = await readCrmMon(executor, { timeoutMs, root });
    } catch (error) {
      return { ok: false, error: error as Error };
    }
    // The CIB gets what is left of the deadline; without it crm_mon's part still counts.
    const left = Math.floor(deadline - performance.now());
    let cib: Cib | null = null;
    let cibError: Error | null = null;
    if (left < 1) cibError = timeout(`${executor.node}: no time left for cibadmin -Q within ${timeoutMs} ms`);
    else {
      try {
        cib = await readCib(executor, { timeoutMs: left, root });
      } catch (error) {
        cibError = error as Error;
      }
    }
    return { ok: true, sample: { crmMon, cib, view: buildPacemakerView({ crmMon, cib }) }, error: cibError };
  };

  const report = (error: Error | null): void => {
    const message = error?.message ?? null;
    if (message !== null && message !== reported) options.onError?.(error as Error);
    reported = message;
  };

  return {
    state,
    async refresh(): Promise<void> {
      const started = performance.now();
      running ??= readOnce().finally(() => {
        running = null;
      });
      let timer: NodeJS.Timeout | undefined;
      // Also bounds an executor that does not honour timeoutMs.
      const late = new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, error: timeout(`${executor.node}: Pacemaker did not answer within ${timeoutMs} ms (crm_mon, cibadmin -Q)`) }), timeoutMs);
      });
      const outcome = await Promise.race([running, late]);
      clearTimeout(timer);
      const durationMs = performance.now() - started;
      if (outcome.ok) state.set(outcome.sample, outcome.error, durationMs);
      else state.fail(outcome.error, durationMs);
      report(outcome.error);
    },
  };
}
