/**
 * Node's timers hold a signed 32-bit millisecond count: a longer delay fires
 * after 1 ms instead (with only a warning), and NaN or a negative delay fires
 * at once. Library options that end up in a timer are checked here first.
 */
import { ConfigError } from '../errors.js';

export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Throws a ConfigError unless `value` (when given) is a number of ms from `minMs` to MAX_TIMER_MS. */
export function checkTimerMs(name: string, value: number | undefined, minMs: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minMs || value > MAX_TIMER_MS) {
    throw new ConfigError(`${name} must be a number of milliseconds from ${minMs} to ${MAX_TIMER_MS} (the longest delay Node's timers hold, about 24.8 days), not ${String(value)}`);
  }
}
