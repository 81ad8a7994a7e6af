/** Sizes as operators type them: binary units like lvm's (512M, 1.5G, 2TiB), bytes, or +SIZE to add. */
import { MAX_GROWTH_BYTES, MAX_GROWTH_LIMIT_TEXT } from '../index.js';
import { UsageError } from './context.js';

const UNITS: Record<string, bigint> = { '': 1n, b: 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n, p: 1n << 50n };
// Far above any size the limit lets through; keeps BigInt work on hostile input small.
const MAX_TEXT_LENGTH = 64;

export interface ParsedSize {
  bytes: bigint;
  relative: boolean;
}

export function parseSize(text: string, option: string): ParsedSize {
  const trimmed = text.trim();
  const m = trimmed.length > MAX_TEXT_LENGTH ? null : /^(\+)?(\d+)(?:\.(\d+))?\s*([bkmgtp]?)(?:i?b)?$/i.exec(trimmed);
  const unit = m === null ? undefined : UNITS[(m[4] ?? '').toLowerCase()];
  if (m === null || unit === undefined) {
    throw new UsageError(`${option} ${JSON.stringify(text)}: expected a size like 256M, 1.5G, 2TiB or a byte count (binary units), optionally with a leading +`);
  }
  const fraction = m[3] ?? '';
  const scale = 10n ** BigInt(fraction.length);
  const bytes = ((BigInt(m[2]!) * scale + BigInt(fraction === '' ? '0' : fraction)) * unit) / scale;
  if (bytes === 0n) throw new UsageError(`${option} ${JSON.stringify(text)}: a size of 0 grows nothing`);
  if (bytes > MAX_GROWTH_BYTES) {
    throw new UsageError(`${option} ${JSON.stringify(text)}: ${bytes} B is above ${MAX_GROWTH_LIMIT_TEXT}`);
  }
  return { bytes, relative: m[1] === '+' };
}
