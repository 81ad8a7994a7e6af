/**
 * The exporter's in-memory DRBD state: the last full status the event stream
 * delivered, kept current by watchDrbd() on the kernel's netlink `events`
 * group (no process per scrape, no polling). Where netlink cannot be used
 * (no `drbd` family, a kernel refusing the socket) it falls back to reading
 * the status on an interval with readLiveStatus(), sticking to the first
 * source that worked.
 */
import { readFile } from 'node:fs/promises';
import { ParseError } from '../errors.js';
import { readLiveStatus, type LiveSource, type ReadLiveStatusOptions } from '../drbd/read-status.js';
import type { DrbdStatus } from '../drbd/status-model.js';
import { watchDrbd, type DrbdWatch, type WatchDrbdOptions, type WatchEvent } from '../drbd/watch.js';
import { SplitBrainDetector } from './split-brain.js';
import { checkTimerMs } from '../sys/timer-ms.js';

export type DrbdFeedMode = 'netlink' | 'poll';

export interface DrbdHealth {
  /** The source is running and its last read (poll) is recent. */
  alive: boolean;
  mode: DrbdFeedMode | null;
  /** netlink, or the live source polling uses (netlink, events2, proc). */
  source: string | null;
  /** Date.now() of the last status received. */
  updatedAt: number | null;
  lastError: string | null;
  /** Watch restarts after the event source ended. */
  restarts: number;
}

/** Holds the last status and what the event stream said about it. Fed by startDrbdFeed, or directly in tests. */
export class DrbdState {
  status: DrbdStatus | null = null;
  updatedAt: number | null = null;
  mode: DrbdFeedMode | null = null;
  source: string | null = null;
  alive = false;
  lastError: string | null = null;
  restarts = 0;
  /** Ignored (non-fatal) errors: unreadable datagrams, bad events2 lines. */
  recoverableErrors = 0;
  /** `version:` of /proc/drbd (netlink carries none), e.g. "8.4.11". */
  moduleVersion: string | null = null;
  /** drbd-utils version (`drbdadm --version`), when known. */
  utilsVersion: string | null = null;
  /** Poll mode: a read older than this is stale (ms); null in netlink mode. */
  staleAfterMs: number | null = null;
  readonly splitBrain = new SplitBrainDetector();
  /** Bumped with every status, so scrape-time views can cache per status. */
  generation = 0;

  /** A watch delivery: the status and the state words that changed. */
  applyEvent(event: WatchEvent, now: number = Date.now()): void {
    this.splitBrain.observe(event.changes, now);
    this.setStatus(event.status, now);
  }

  setStatus(status: DrbdStatus, now: number = Date.now()): void {
    this.status = status;
    this.updatedAt = now;
    this.alive = true;
    this.generation++;
    if (status.version?.version) this.moduleVersion = status.version.version;
  }

  fail(error: Error): void {
    this.alive = false;
    this.lastError = error.message;
  }

  health(now: number = Date.now()): DrbdHealth {
    const stale = this.staleAfterMs !== null && (this.updatedAt === null || now - this.updatedAt > this.staleAfterMs);
    return {
      alive: this.alive && !stale,
      mode: this.mode,
      source: this.source,
      updatedAt: this.updatedAt,
      lastError: this.lastError,
      restarts: this.restarts,
    };
  }

  /** DRBD 8.x, as far as the module version or the netlink family tell. */
  get isDrbd8(): boolean | null {
    const version = this.moduleVersion ?? this.status?.version?.version ?? null;
    return version === null ? null : version.startsWith('8.');
  }
}

export interface DrbdFeedOptions {
  /** Poll interval when netlink is not available (ms). Default 5000. */
  pollIntervalMs?: number;
  /** Wait before restarting a watch whose event source ended (ms). Default 2000. */
  restartDelayMs?: number;
  /** Never use netlink (tests, or a kernel where it misbehaves). */
  forcePoll?: boolean;
  procPath?: string;
  /** Replaceable for tests. */
  watch?: (onChange: (event: WatchEvent) => void, options: WatchDrbdOptions) => DrbdWatch;
  readStatus?: (options: ReadLiveStatusOptions) => Promise<DrbdStatus>;
  /** Options passed to watchDrbd (netlink deps in tests). */
  watchOptions?: Partial<WatchDrbdOptions>;
  /** Every error, fatal or not (the exporter keeps going either way). */
  onError?: (error: Error) => void;
}

export interface DrbdFeed {
  /** Resolves after the first status (or the first failed attempt; see state.health()). */
  readonly ready: Promise<void>;
  close(): void;
}

/** Reads `version: 8.4.11 (...)` from /proc/drbd; null when unreadable. */
export async function readModuleVersion(procPath = '/proc/drbd'): Promise<string | null> {
  try {
    const head = (await readFile(procPath, 'utf8')).slice(0, 200);
    return /^version: (\S+)/.exec(head)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Errors that mean "netlink cannot run here": fall back to polling. */
function netlinkUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['E_NO_DRBD_FAMILY', 'E_DRBD_NETLINK', 'E_NATIVE'].includes(code);
}

/**
 * Keeps `state` current. Netlink first (watchDrbd with every status, so sync
 * progress is current); if netlink cannot start, polls. A watch that ends
 * (socket error) marks the state dead (so /healthz says 503) and is
 * restarted after `restartDelayMs`.
 */
/** ConfigError for delays a timer cannot hold; startExporter calls it before starting anything. */
export function checkDrbdFeedOptions(options: DrbdFeedOptions): void {
  checkTimerMs('drbd.pollIntervalMs', options.pollIntervalMs, 1);
  checkTimerMs('drbd.restartDelayMs', options.restartDelayMs, 0);
}

export function startDrbdFeed(state: DrbdState, options: DrbdFeedOptions = {}): DrbdFeed {
  checkDrbdFeedOptions(options);
  const watch = options.watch ?? watchDrbd;
  const readStatus = options.readStatus ?? readLiveStatus;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  const restartDelayMs = options.restartDelayMs ?? 2000;
  const onError = options.onError ?? (() => undefined);
  let closed = false;
  let current: DrbdWatch | null = null;
  let timer: NodeJS.Timeout | null = null;

  const schedule = (fn: () => void, ms: number): void => {
    if (closed) return;
    timer = setTimeout(fn, ms);
    timer.unref?.();
  };

  // The same failure every interval or restart (e.g. the module unloaded) is one report, not a line every few seconds.
  const isRepeat = (error: Error): boolean => !state.alive && state.lastError === error.message;
  const failAndReport = (error: Error): void => {
    const repeated = isRepeat(error);
    state.fail(error);
    if (!repeated) onError(error);
  };

  // ---- polling
  let pollSource: LiveSource = 'auto';
  let watchRefused = false;
  const canWatch = (): boolean => pollSource === 'netlink' && !options.forcePoll && !watchRefused && !closed;
  const pollOnce = async (): Promise<void> => {
    const order: LiveSource[] = pollSource === 'auto' ? ['netlink', 'events2', 'proc'] : [pollSource];
    let lastError: unknown = null;
    for (const source of order) {
      try {
        const status = await readStatus({ source, ...(options.procPath === undefined ? {} : { procPath: options.procPath }) });
        if (closed) return;
        pollSource = source;
        state.source = source;
        state.setStatus(status);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    // The source that worked stopped working: try them all again next time.
    pollSource = 'auto';
    failAndReport(lastError instanceof Error ? lastError : new Error(String(lastError)));
  };
  const startPolling = async (): Promise<void> => {
    state.mode = 'poll';
    state.staleAfterMs = pollIntervalMs * 3;
    const loop = (): void => {
      pollOnce().finally(() => {
        // netlink works now (module loaded after we started): follow its events instead.
        if (canWatch()) void beginWatch();
        else schedule(loop, pollIntervalMs);
      });
    };
    await pollOnce();
    if (canWatch()) return beginWatch();
    schedule(loop, pollIntervalMs);
  };

  // ---- netlink
  const startWatch = async (): Promise<void> => {
    state.mode = 'netlink';
    state.staleAfterMs = null;
    let started = false;
    let ended = false;
    const handle = watch((event) => state.applyEvent(event), {
      ...options.watchOptions,
      source: 'netlink',
      everyStatus: true,
      onError: (error) => {
        // An unreadable datagram or line: the watch re-dumps and goes on.
        if (error instanceof ParseError) {
          onError(error);
          state.recoverableErrors++;
          return;
        }
        // Before the first status the failure comes back through `ready` too (which marks the state failed).
        if (!started || ended || closed) {
          if (!isRepeat(error)) onError(error);
          return;
        }
        ended = true;
        failAndReport(error);
        handle.close();
        if (current === handle) current = null;
        restart();
      },
    });
    current = handle;
    try {
      await handle.ready;
    } catch (error) {
      state.fail(error as Error);
      handle.close();
      if (current === handle) current = null;
      throw error;
    }
    started = true;
    state.source = 'netlink';
  };
  const restart = (): void => {
    state.restarts++;
    schedule(() => {
      startWatch().catch(() => {
        if (!closed) restart();
      });
    }, restartDelayMs);
  };
  /** Netlink; where it is not available at all, polling; other failures retry. */
  const beginWatch = async (): Promise<void> => {
    try {
      await startWatch();
    } catch (error) {
      if (closed) return;
      if (netlinkUnavailable(error)) {
        // The family exists but the watch was refused (e.g. EPERM on the group): do not switch back to it.
        if ((error as { code?: string }).code !== 'E_NO_DRBD_FAMILY') watchRefused = true;
        return startPolling();
      }
      restart();
    }
  };

  const ready = (async () => {
    if (state.moduleVersion === null) state.moduleVersion = await readModuleVersion(options.procPath);
    if (options.forcePoll) return startPolling();
    return beginWatch();
  })();
  ready.catch(() => undefined);

  return {
    ready,
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
      current?.close();
      current = null;
    },
  };
}
