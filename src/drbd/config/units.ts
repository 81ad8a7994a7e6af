/**
 * DRBD's number syntax in configuration files: an unsigned integer with an
 * optional one-letter suffix `K`/`k` (KiB), `M`/`m` (MiB), `G`/`g` (GiB) or
 * `s` (512-byte sectors). A bare number is already in the option's default
 * unit ("scale" in drbd_limits.h: `'1'` plain, `'k'` KiB, `'s'` sectors).
 * drbd-utils (`new_strtoll` in user/shared) rounds up when the suffix is finer
 * than the scale (`1s` for a KiB option is 1), and so do we.
 */

export type Scale = '1' | 'k' | 's';

/** log2 of the bytes one unit stands for; `'1'` counts plain things, treated as bytes. */
const SCALE_SHIFT: Readonly<Record<Scale, number>> = { '1': 0, k: 10, s: 9 };
const SUFFIX_SHIFT: Readonly<Record<string, number>> = { k: 10, K: 10, m: 20, M: 20, g: 30, G: 30, s: 9 };

const NUMBER_RE = /^(\d{1,20})([kKmMgGs]?)$/;

/**
 * The value in the option's scale, or `undefined` when `text` is not DRBD
 * number syntax or does not fit a safe JavaScript integer.
 */
export function parseDrbdNumber(text: string, scale: Scale): number | undefined {
  const m = NUMBER_RE.exec(text);
  if (!m) return undefined;
  const digits = BigInt(m[1] as string);
  const suffix = m[2] as string;
  const shift = (suffix === '' ? SCALE_SHIFT[scale] : (SUFFIX_SHIFT[suffix] as number)) - SCALE_SHIFT[scale];
  let value: bigint;
  if (shift >= 0) value = digits << BigInt(shift);
  else {
    const unit = 1n << BigInt(-shift);
    value = (digits + unit - 1n) / unit;
  }
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(value);
}
