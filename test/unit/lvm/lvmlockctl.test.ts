import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseLvmlockctlInfo } from '../../../src/lvm/lvmlockctl.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/lab-lvm/${name}`, import.meta.url), 'utf8');

describe('parseLvmlockctlInfo', () => {
  it('reads the lockspace and each LV lock mode as recorded in the lab', () => {
    const [vg] = parseLvmlockctlInfo(fixture('lvmlockctl-info-node1.txt'));
    expect(vg).toMatchObject({ vg: 'vgshared', lockType: 'sanlock', lockspaceStarted: true });
    expect([...vg!.lvLocks]).toEqual([
      ['RyYzkr-nqR2-AdZv-V3t0-vEZr-1KJI-SgEkEH', 'ex'],
      ['rbrIoK-xKdZ-AVCy-eNI6-NgKv-FgMZ-OgNFbZ', 'sh'],
    ]);
  });

  it('a VG whose lockspace is not started; junk before any VG is a ParseError', () => {
    expect(parseLvmlockctlInfo('VG v lock_type=dlm abc\n')[0]).toMatchObject({ vg: 'v', lockType: 'dlm', lockspaceStarted: false });
    expect(parseLvmlockctlInfo('')).toEqual([]);
    expect(() => parseLvmlockctlInfo('LK LV sh x\n')).toThrow(ParseError);
  });
});
