import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { compareLvmVersions, detectLvmVersion, lvmVersionArgv } from '../../../src/lvm/version.js';
import { fixture, thrown } from './helpers.js';

describe('detectLvmVersion', () => {
  it('reads lvm2 2.03.16 from the lab (device-mapper present)', () => {
    const v = detectLvmVersion(fixture('lab-2.03.16/lvm-version.txt'));
    expect(v).toMatchObject({
      lvm: '2.03.16',
      major: 2,
      minor: 3,
      patch: 16,
      apiLevel: 2,
      suffix: null,
      date: '2022-05-18',
      library: '1.02.185',
      driver: '4.47.0',
      lockManagers: ['sanlock', 'dlm'],
    });
    expect(v.configure).toMatch(/^\.\/configure --build=x86_64-linux-gnu .* --disable-readline$/);
    expect(v.features).toEqual({
      json: true,
      jsonStd: false,
      fullReport: true,
      commandLog: true,
      lvmlockd: true,
      clvmd: false,
      scanLvsOffByDefault: true,
    });
  });

  it('has no driver version on a host without device-mapper', () => {
    const v = detectLvmVersion(fixture('lvm-version/host-2.03.16-no-device-mapper.txt'));
    expect(v.lvm).toBe('2.03.16');
    expect(v.driver).toBeNull();
    expect(v.library).toBe('1.02.185');
  });

  it('reads a 2.02 build with clvmd and lvmlockd (Ubuntu 18.04)', () => {
    const v = detectLvmVersion(fixture('lvm-version/ubuntu-18.04-2.02.176.txt'));
    expect(v.lvm).toBe('2.02.176');
    expect(v.driver).toBe('4.37.0');
    expect(v.lockManagers).toEqual(['sanlock', 'dlm']);
    expect(v.features).toEqual({
      json: true,
      jsonStd: false,
      fullReport: true,
      commandLog: true,
      lvmlockd: true,
      clvmd: true,
      scanLvsOffByDefault: false,
    });
  });

  it('reads distribution suffixes and assumes build features when no configure line is printed', () => {
    const rhel = detectLvmVersion(fixture('lvm-version/rhel7-2.02.115.txt'));
    expect(rhel).toMatchObject({ lvm: '2.02.115', suffix: '-RHEL7', library: '1.02.93', driver: '4.29.0', configure: null, lockManagers: null });
    // Before JSON (2.02.158) and before lvmlockd (2.02.124).
    expect(rhel.features).toMatchObject({ json: false, jsonStd: false, lvmlockd: false, clvmd: true });
    const salt = detectLvmVersion(fixture('lvm-version/salt-test-2.02.168.txt'));
    expect(salt).toMatchObject({ lvm: '2.02.168', library: '1.03.01' });
    expect(salt.features).toMatchObject({ json: true, lvmlockd: true, clvmd: true });
  });

  it('a 2.02 build without --with-clvmd has no clvmd', () => {
    const v = detectLvmVersion('  LVM version:     2.02.187(2) (2020-03-24)\n  Configuration:   ./configure --with-clvmd=none --enable-lvmlockd-sanlock\n');
    expect(v.features.clvmd).toBe(false);
    expect(v.lockManagers).toEqual(['sanlock']);
  });

  it('json_std from 2.03.17 on', () => {
    expect(detectLvmVersion('  LVM version:     2.03.17(2) (2022-11-10)\n').features.jsonStd).toBe(true);
    expect(detectLvmVersion('  LVM version:     2.03.16(2) (2022-05-18)\n').features.jsonStd).toBe(false);
  });

  it('rejects text that is not lvm version output, naming the line', () => {
    const none = thrown(() => detectLvmVersion('lvm: command not found\n')) as ParseError;
    expect(none).toBeInstanceOf(ParseError);
    expect(none.line).toBe(1);
    expect(none.message).toContain('no "LVM version:" line');
    const bad = thrown(() => detectLvmVersion('x\n  LVM version:     two\n')) as ParseError;
    expect(bad.line).toBe(2);
    expect(bad.excerpt).toBe('  LVM version:     two');
  });

  it('compares versions numerically', () => {
    expect(compareLvmVersions('2.03.16', '2.02.158')).toBeGreaterThan(0);
    expect(compareLvmVersions('2.02.98', '2.02.124')).toBeLessThan(0);
    expect(compareLvmVersions('2.03.17', '2.03.17')).toBe(0);
    expect(lvmVersionArgv()).toEqual(['lvm', 'version']);
  });

  it('property: any text gives a version or a ParseError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.constant('  LVM version:     ').map((p) => p), fc.string().map((s) => `  LVM version:     ${s}`)), (text) => {
        try {
          const v = detectLvmVersion(text);
          expect(v.lvm).toMatch(/^\d+\.\d{2,}\.\d+$/);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
