/**
 * Waiting for DRBD to settle: role changes, connects and resyncs finish
 * after the command returns, so the lifecycle polls the state until a
 * condition holds or a deadline passes, and reports the last state seen.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HastorError } from '../../errors.js';

/** A state did not arrive in time; `lastState` says what was seen instead. */
export class StateTimeoutError extends HastorError {
  readonly waitedFor: string;
  readonly timeoutMs: number;
  readonly lastState: string;

  constructor(waitedFor: string, timeoutMs: number, lastState: string) {
    super(
      'E_STATE_TIMEOUT',
      `${waitedFor} did not happen within ${(timeoutMs / 1000).toFixed(1)} s; last state: ${lastState}. Check the connection and the kernel log (dmesg) on the nodes, then retry`,
    );
    this.waitedFor = waitedFor;
    this.timeoutMs = timeoutMs;
    this.lastState = lastState;
  }
}

export interface PollOptions<T> {
  timeoutMs: number;
  intervalMs: number;
  /** What is awaited, for the error message ("r0 connected on node1, node2"). */
  what: string;
  describe: (value: T) => string;
  /** Injected in tests; defaults to real time. */
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/** Reads until `done` holds; the first read happens at once. Returns the value that satisfied `done`. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, options: PollOptions<T>): Promise<T> {
  const now = options.now ?? Date.now;
  const pause = options.sleep ?? sleep;
  const deadline = now() + options.timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (now() >= deadline) throw new StateTimeoutError(options.what, options.timeoutMs, options.describe(value));
    await pause(options.intervalMs);
  }
}
