import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { classifySignatures, parseWipefsTypes, wipefsArgv } from '../../../../src/drbd/lifecycle/signatures.js';
import { capture, capturedArgv } from './scripted-executor.js';

const types = (name: string): string[] => parseWipefsTypes(capture(name).stdout);

describe('backing device signatures (wipefs --no-act --output TYPE)', () => {
  it('runs the argv the lab used', () => {
    expect(wipefsArgv('/dev/vg_lab/r0_disk')).toEqual(capturedArgv('wipefs-blank'));
  });

  it('reads blank, ext4, LVM and DRBD devices as the lab printed them', () => {
    expect(types('wipefs-blank')).toEqual([]);
    expect(types('wipefs-ext4')).toEqual(['ext4']);
    expect(types('wipefs-lvm')).toEqual(['LVM2_member']);
    expect(types('wipefs-drbd')).toEqual(['drbd']);
    expect(types('wipefs-after-wipe-md')).toEqual(['LVM2_member']);
  });

  it('tells DRBD meta data from somebody else’s data', () => {
    expect(classifySignatures('/dev/a', [])).toEqual({ device: '/dev/a', types: [], drbdMetaData: false, foreign: [] });
    expect(classifySignatures('/dev/a', ['drbd'])).toMatchObject({ drbdMetaData: true, foreign: [] });
    expect(classifySignatures('/dev/a', ['ext4'])).toMatchObject({ drbdMetaData: false, foreign: ['ext4'] });
    // Internal meta data: the data area starts at 0, so a used DRBD disk shows both.
    expect(classifySignatures('/dev/a', ['ext4', 'drbd'])).toMatchObject({ drbdMetaData: true, foreign: ['ext4'] });
  });

  it('raises ParseError on anything that is not one type a line, and nothing else', () => {
    expect(() => parseWipefsTypes('DEVICE OFFSET TYPE\nr0 0x438 ext4\n')).toThrow(ParseError);
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseWipefsTypes(text);
        } catch (error) {
          if (!(error instanceof ParseError)) throw error;
        }
      }),
    );
  });
});
