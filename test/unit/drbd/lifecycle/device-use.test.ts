import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { describeUse, fdScanArgv, isInUse, mountsOf, parseDevNumber, parseFdScan, parseHolders } from '../../../../src/drbd/lifecycle/device-use.js';
import { capture, capturedArgv } from './scripted-executor.js';

describe('who uses a DRBD device', () => {
  it('reads the device number from sysfs', () => {
    expect(parseDevNumber(capture('sys-dev').stdout)).toBe('147:0');
    expect(() => parseDevNumber('drbd0\n')).toThrow(ParseError);
  });

  it('lists holders: none, or the device-mapper LV of a VG on the device', () => {
    expect(parseHolders(capture('holders-empty').stdout)).toEqual([]);
    expect(parseHolders(capture('holders-dm').stdout)).toEqual(['dm-3']);
  });

  it('finds the mount of 147:0 in mountinfo, unescaping the space in its path', () => {
    const text = capture('mountinfo-mounted').stdout;
    expect(mountsOf(text, '147:0')).toEqual(['/mnt/r0 data']);
    expect(mountsOf(text, '147:1')).toEqual([]);
    expect(() => mountsOf('not a mountinfo line\n', '147:0')).toThrow(ParseError);
  });

  it('scans /proc fd links with the argv the lab ran and reads the pids (find exits 1 when a process vanishes)', () => {
    expect(fdScanArgv(['/dev/drbd0'])).toEqual(capturedArgv('fd-scan-open'));
    expect(fdScanArgv(['/dev/drbd0', '/dev/drbd/by-res/r0/0'])).toEqual([
      ...capturedArgv('fd-scan-open').slice(0, -5),
      '(',
      '-lname',
      '/dev/drbd0',
      '-o',
      '-lname',
      '/dev/drbd/by-res/r0/0',
      ')',
      '-print',
    ]);
    expect(capture('fd-scan-open').exitCode).toBe(1);
    expect(parseFdScan(capture('fd-scan-open').stdout)).toEqual([806]);
    expect(parseFdScan(capture('fd-scan-none').stdout)).toEqual([]);
    expect(parseFdScan('/proc/9/fd/1\n/proc/9/fd/4\n/proc/3/fd/0\n')).toEqual([3, 9]);
  });

  it('says in use when anything holds, mounts or opens it', () => {
    const none = { minor: 0, devNumber: '147:0', holders: [], mounts: [], openBy: [] };
    expect(isInUse(none)).toBe(false);
    expect(describeUse(none)).toBe('not in use');
    expect(isInUse({ ...none, holders: ['dm-3'] })).toBe(true);
    expect(isInUse({ ...none, mounts: ['/mnt'] })).toBe(true);
    expect(isInUse({ ...none, openBy: [806] })).toBe(true);
    expect(describeUse({ ...none, holders: ['dm-3'], mounts: ['/mnt'], openBy: [806, 807] })).toBe('held by dm-3; mounted on /mnt; open by pid 806, 807');
  });

  it('parsers only ever throw ParseError', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        for (const parse of [() => parseHolders(text), () => parseFdScan(text), () => mountsOf(text, '147:0'), () => parseDevNumber(text)]) {
          try {
            parse();
          } catch (error) {
            if (!(error instanceof ParseError)) throw error;
          }
        }
      }),
    );
  });
});
