import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/context.js';
import { parseSize } from '../../../src/cli/size.js';

const MiB = 1n << 20n;

describe('parseSize', () => {
  it('binary units as lvm reads them, case-insensitive, with or without iB', () => {
    expect(parseSize('256M', '--to')).toEqual({ bytes: 256n * MiB, relative: false });
    expect(parseSize('256MiB', '--to').bytes).toBe(256n * MiB);
    expect(parseSize('1.5g', '--to').bytes).toBe(1536n * MiB);
    expect(parseSize('2T', '--to').bytes).toBe(2n << 40n);
    expect(parseSize('134217728', '--to').bytes).toBe(128n * MiB);
    expect(parseSize('+64M', '--to')).toEqual({ bytes: 64n * MiB, relative: true });
  });

  it('refuses what is not a size, naming the option', () => {
    for (const bad of ['', 'big', '-5M', '5X', '1.2.3G', '0', '0M']) {
      expect(() => parseSize(bad, '--to')).toThrow(UsageError);
    }
    expect(() => parseSize('5X', '--to')).toThrow(/--to "5X"/);
  });
});
