import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, ParseError } from '../../../../src/errors.js';
import { generationFromCode, parseDrbdadmVersion, renderTargetFor, versionFromCode } from '../../../../src/drbd/lifecycle/generation.js';
import { capture, fixtureReply } from './scripted-executor.js';

describe('parseDrbdadmVersion', () => {
  it('reads drbd-utils and the loaded 8.4 module (lab node)', () => {
    expect(parseDrbdadmVersion(capture('version').stdout)).toEqual({
      utils: '9.22.0',
      utilsCode: 0x091600,
      kernel: '8.4.11',
      kernelCode: 0x08040b,
      generation: '8.4',
      api: 1,
      buildTag: 'GIT-hash: 409097fe02187f83790b88ac3e0d94f3c167adab reproducible build, 2023-01-09 14:51:18',
    });
    // The issue-3 recorder's capture of the same command agrees.
    expect(parseDrbdadmVersion(fixtureReply('lab-8.4.11/drbdadm-version.txt').stdout).kernel).toBe('8.4.11');
  });

  it('reports no module when DRBD_KERNEL_VERSION_CODE is 0 (host without drbd.ko)', () => {
    const v = parseDrbdadmVersion(capture('version-no-module').stdout);
    expect(v).toMatchObject({ utils: '9.22.0', kernel: null, kernelCode: null, generation: null, api: 2 });
  });

  it('raises ParseError with the line for anything but KEY=VALUE, and for a missing utils version', () => {
    const bad = `${capture('version').stdout}drbdadm: unknown option\n`;
    expect(() => parseDrbdadmVersion(bad)).toThrow(ParseError);
    try {
      parseDrbdadmVersion(bad);
    } catch (error) {
      expect((error as ParseError).line).toBe(6);
    }
    expect(() => parseDrbdadmVersion('DRBD_KERNEL_VERSION_CODE=0x08040b\n')).toThrow(/neither DRBDADM_VERSION/);
    expect(() => parseDrbdadmVersion('DRBDADM_VERSION=9.22.0\nDRBD_KERNEL_VERSION_CODE=8.4.11\n')).toThrow(/not a hex version code/);
  });

  it('only ever throws ParseError', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('A', 'D', 'R', 'B', '_', '=', '0', 'x', '9', '\n', ' ', '\\') }), (text) => {
        try {
          parseDrbdadmVersion(text);
        } catch (error) {
          if (!(error instanceof ParseError)) throw error;
        }
      }),
    );
  });
});

describe('generations', () => {
  it('maps kernel version codes to the grammar hastor renders', () => {
    expect(versionFromCode(0x08040b)).toBe('8.4.11');
    expect(generationFromCode(0x08040b)).toBe('8.4');
    expect(generationFromCode(0x080308)).toBe('8.3');
    expect(generationFromCode(0x090111)).toBe('9');
    expect(generationFromCode(0x070000)).toBeNull();
    expect(renderTargetFor('8.4')).toBe('8.4');
    expect(renderTargetFor('9')).toBe('9');
    expect(() => renderTargetFor('8.3')).toThrow(ConfigError);
  });
});
