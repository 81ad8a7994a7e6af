/** Sizes as operators type them: binary units like lvm's (512M, 1.5G, 2TiB), bytes, or +SIZE to add. */
import { UsageError } from './context.js';

const UNITS: Record<string, bigint> = { '': 1n, b: 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n, p: 1n << 50n };

export interface ParsedSize {
  bytes: bigint;
  relative: boolean;
}

export function parseSize(text: string, option: string): ParsedSize {
  const m = /^(\+)?(\d+)(?:\.(\d+))?\s*([bkmgtp]?)(?:i?b)?$/i.exec(text.trim());
  const unit = m === null ? undefined : UNITS[(m[4] ?? '').toLowerCase()];
  if (m === null || unit === undefined) {
    throw new UsageError(`${option} ${JSON.stringify(text)}: expected a size like 256M, 1.5G, 2TiB or a byte count (binary units), optionally with a leading +`);
  }
  const fraction = m[3] ?? '';
  const scale = 10n ** BigInt(fraction.length);
  const bytes = ((BigInt(m[2]!) * scale + BigInt(fraction === '' ? '0' : fraction)) * unit) / scale;
  if (bytes === 0n) throw new UsageError(`${option} ${JSON.stringify(text)}: a size of 0 grows nothing`);
  return { bytes, relative: m[1] === '+' };
}
