/**
 * Every seconds option of every command goes through parseDuration. Node's timers
 * hold a signed 32-bit millisecond count: a longer delay (about 24.8 days) fires
 * after 1 ms instead, so an hour-long interval typed in the wrong unit turned
 * into a busy loop. One day is the ceiling: far below that limit, above any
 * sensible interval or wait.
 */
import { UsageError } from './context.js';

export const MAX_DURATION_SECONDS = 86_400;
// Longer text cannot be a valid duration; keeps hostile input cheap.
const MAX_TEXT_LENGTH = 32;

export interface DurationBounds {
  /** Smallest accepted value in seconds (0 allowed only where 0 means something, e.g. "try once"). */
  minSeconds: number;
  /** Default MAX_DURATION_SECONDS. */
  maxSeconds?: number;
}

/** Seconds as typed (`30`, `0.5`) → whole milliseconds; UsageError (exit 2) naming the option and its bounds. */
export function parseDuration(text: string, option: string, bounds: DurationBounds): number {
  const maxSeconds = bounds.maxSeconds ?? MAX_DURATION_SECONDS;
  const range = `from ${bounds.minSeconds} to ${maxSeconds} seconds${maxSeconds === MAX_DURATION_SECONDS ? ' (24 h)' : ''}`;
  const trimmed = text.trim();
  if (trimmed.length > MAX_TEXT_LENGTH || !/^(\d+(\.\d*)?|\.\d+)$/.test(trimmed)) {
    throw new UsageError(`${option} ${JSON.stringify(text)}: expected a number of seconds ${range}`);
  }
  const ms = Math.round(Number(trimmed) * 1000);
  if (ms < Math.round(bounds.minSeconds * 1000) || ms > maxSeconds * 1000) {
    throw new UsageError(`${option} ${JSON.stringify(text)}: out of range, expected ${range}`);
  }
  return ms;
}
