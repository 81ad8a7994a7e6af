/**
 * The largest size a growth may ask for. DRBD is the narrowest layer: its
 * drbd_limits.h documents 1 PiB as the upper limit of a device with a 64-bit
 * kernel and flexible meta data (DRBD_DISK_SIZE_MAX, 8.4 and 9 alike), while
 * LVM's logical volumes reach 8 EiB on 64-bit. Every tier above DRBD lives on
 * it, so 1 PiB bounds the guest disk too.
 */
import { ConfigError } from '../../errors.js';
import type { GrowthIncrement, GrowthTarget } from './types.js';

export const MAX_GROWTH_BYTES = 1n << 50n;
export const MAX_GROWTH_LIMIT_TEXT = `1 PiB (${MAX_GROWTH_BYTES} B), the largest device DRBD 8.4 and 9 support`;

/** Refuses a target or an increment that no DRBD device can reach, or that grows nothing. */
export function checkGrowthTarget(target: GrowthTarget | GrowthIncrement): void {
  const [what, bytes] = 'sizeBytes' in target ? ['target size', target.sizeBytes] : ['increment', target.addBytes];
  if (typeof bytes !== 'bigint' || bytes <= 0n) {
    throw new ConfigError(`the growth ${what} must be a positive number of bytes (bigint), not ${String(bytes)}`);
  }
  if (bytes > MAX_GROWTH_BYTES) {
    throw new ConfigError(`the growth ${what} ${bytes} B is above ${MAX_GROWTH_LIMIT_TEXT}`);
  }
}
