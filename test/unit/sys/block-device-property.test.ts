import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { parseBlockProbe, parseSysfsSectors, type BlockDeviceInfo } from '../../../src/sys/block-device.js';
import { hostileText, mutatedFixture, outcome } from '../property-helpers.js';

// As the probe script prints them on a lab node: an LV on two PVs.
const PROBE = [
  '253:3 dm-3 262144 /sys/devices/virtual/block/dm-3 vg_host-r0_disk',
  '8:16 sdb 2097152 /sys/devices/platform/host1/target1:0:0/1:0:0:0/block/sdb',
  '8:32 sdc 2097152 /sys/devices/platform/host2/target2:0:0/2:0:0:0/block/sdc',
  '',
].join('\n');

function checkDevice(d: BlockDeviceInfo): void {
  // Linux device numbers: 12-bit major, 20-bit minor.
  expect(Number.isInteger(d.major) && d.major >= 0 && d.major < 4096).toBe(true);
  expect(Number.isInteger(d.minor) && d.minor >= 0 && d.minor < 1 << 20).toBe(true);
  expect(d.sizeBytes % 512n).toBe(0n);
  expect(d.sysPath.startsWith('/sys/')).toBe(true);
}

describe('parseSysfsSectors', () => {
  it('ParseError or a whole number of sectors, whatever the input', () => {
    fc.assert(
      fc.property(hostileText(60), (text) => {
        if (outcome(parseSysfsSectors, text, ParseError) === 'ok') {
          const bytes = parseSysfsSectors(text);
          expect(bytes % 512n).toBe(0n);
          expect(bytes >= 0n).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads back any sector count, with the newline sysfs ends it with', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (sectors) => {
        expect(parseSysfsSectors(`${sectors}\n`)).toBe(sectors * 512n);
      }),
    );
  });
});

describe('parseBlockProbe', () => {
  it('ParseError, null or devices with valid numbers, whatever the input', () => {
    const seen = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.oneof(hostileText(), mutatedFixture([PROBE])), (text) => {
        const result = outcome(parseBlockProbe, text, ParseError);
        seen[result]++;
        const probe = result === 'ok' ? parseBlockProbe(text) : null;
        if (probe !== null) for (const d of [probe, ...probe.slaves]) checkDevice(d);
      }),
      { numRuns: 600 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('reads back what the probe script prints', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/);
    const device = fc.record({
      major: fc.nat({ max: 4095 }),
      minor: fc.nat({ max: (1 << 20) - 1 }),
      kernelName: name,
      sectors: fc.bigInt({ min: 0n, max: 1n << 50n }),
      dmName: fc.option(fc.stringMatching(/^[!-~]{1,20}$/), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(device, { minLength: 1, maxLength: 4 }), (devices) => {
        const text = devices.map((d) => `${d.major}:${d.minor} ${d.kernelName} ${d.sectors} /sys/devices/x/${d.kernelName}${d.dmName === null ? '' : ` ${d.dmName}`}`).join('\n');
        const probe = parseBlockProbe(`${text}\n`)!;
        expect([probe, ...probe.slaves].map((d) => [d.major, d.minor, d.kernelName, d.sizeBytes, d.dmName])).toEqual(devices.map((d) => [d.major, d.minor, d.kernelName, d.sectors * 512n, d.dmName]));
      }),
    );
  });

  it('refuses device numbers Linux cannot have (regression: 99999999999999999999 became the imprecise number 1e20)', () => {
    expect(() => parseBlockProbe('99999999999999999999:0 sda 8 /sys/devices/sda\n')).toThrow(ParseError);
    expect(() => parseBlockProbe('8:1048576 sda 8 /sys/devices/sda\n')).toThrow(ParseError);
    expect(parseBlockProbe('4095:1048575 sda 8 /sys/devices/sda\n')).toMatchObject({ major: 4095, minor: 1048575 });
  });
});
