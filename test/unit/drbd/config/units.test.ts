import { describe, expect, it } from 'vitest';
import { parseDrbdNumber } from '../../../../src/drbd/config/units.js';

describe('parseDrbdNumber', () => {
  it('takes a bare number as already in the option unit', () => {
    expect(parseDrbdNumber('250', 'k')).toBe(250);
    expect(parseDrbdNumber('100', 's')).toBe(100);
    expect(parseDrbdNumber('7', '1')).toBe(7);
  });

  it('scales K, M, G suffixes (either case) to KiB options', () => {
    expect(parseDrbdNumber('200M', 'k')).toBe(204800);
    expect(parseDrbdNumber('4096k', 'k')).toBe(4096);
    expect(parseDrbdNumber('1g', 'k')).toBe(1024 * 1024);
  });

  it('scales to sectors and to plain byte options', () => {
    expect(parseDrbdNumber('1M', 's')).toBe(2048);
    expect(parseDrbdNumber('10M', '1')).toBe(10 * 1024 * 1024);
    expect(parseDrbdNumber('8s', '1')).toBe(4096);
  });

  it('rounds up when the suffix is finer than the unit, as drbd-utils does', () => {
    expect(parseDrbdNumber('1s', 'k')).toBe(1);
    expect(parseDrbdNumber('3s', 'k')).toBe(2);
  });

  it('refuses anything else', () => {
    for (const bad of ['', '-1', '1.5M', '10T', 'M', '10 M', '0x10', '10MB', '99999999999999999999G']) {
      expect(parseDrbdNumber(bad, 'k'), bad).toBeUndefined();
    }
  });
});
