import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/context.js';
import { parseSize } from '../../../src/cli/size.js';
import { runCli } from './helpers.js';

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

  it('refuses sizes beyond DRBD\'s 1 PiB device limit, naming it (issue 15: grow hung on 99999999999999999999T)', () => {
    expect(parseSize('1P', '--to').bytes).toBe(1n << 50n);
    expect(parseSize('+1PiB', '--to')).toEqual({ bytes: 1n << 50n, relative: true });
    for (const big of ['99999999999999999999T', '1025T', '1.0000001P', `${(1n << 50n) + 1n}`, '+2P']) {
      expect(() => parseSize(big, '--to')).toThrow(UsageError);
      expect(() => parseSize(big, '--to')).toThrow(/above 1 PiB \(1125899906842624 B\), the largest device DRBD/);
    }
  });

  it('refuses text too long to be a size without parsing its digits', () => {
    expect(() => parseSize(`1.${'0'.repeat(100_000)}1G`, '--to')).toThrow(/expected a size/);
    expect(() => parseSize('9'.repeat(100_000), '--to')).toThrow(UsageError);
  });
});

describe('hastor grow --to beyond the limit', () => {
  it('exits 2 before reading the cluster file or taking a lock, with or without --dry-run', async () => {
    for (const extra of [['--dry-run'], ['--yes']]) {
      // No cluster: a run that got past the size would fail reading /nonexistent (exit 3), not 2.
      const run = await runCli(['--cluster', '/nonexistent/cluster.json', 'grow', 'r0', '--to', '99999999999999999999T', ...extra]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--to "99999999999999999999T": .* above 1 PiB/);
    }
  });
});
