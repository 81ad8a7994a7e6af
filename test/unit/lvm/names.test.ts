import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  RESERVED_LV_STRINGS,
  dmName,
  lvNameProblem,
  lvNameSchema,
  lvPath,
  validateLvName,
  validateVgName,
  vgNameProblem,
} from '../../../src/lvm/names.js';
import { thrown } from './helpers.js';

// Accepted and refused names below were tried with lvm2 2.03.16 (vgcreate/lvcreate on loop devices).
describe('VG and LV names', () => {
  it('accepts what lvm accepts', () => {
    for (const name of ['vg_host', 'vg.t2-shared', 'guest+disk-1', 'a', 'x'.repeat(127), 'xpvmove', '.a', '..a']) {
      expect(vgNameProblem(name)).toBeNull();
      expect(lvNameProblem(name)).toBeNull();
    }
    expect(validateVgName('vg.t2-shared')).toBe('vg.t2-shared');
    expect(validateLvName('guest+disk-1')).toBe('guest+disk-1');
  });

  it('refuses what lvm refuses, saying why', () => {
    expect(vgNameProblem('')).toBe('the name is empty');
    expect(vgNameProblem('-x')).toBe('the name starts with a hyphen');
    expect(vgNameProblem('..')).toBe('".." is reserved');
    expect(vgNameProblem('.')).toBe('"." is reserved');
    expect(vgNameProblem('vg 0')).toBe('character " " is not allowed (only a-z A-Z 0-9 + _ . -)');
    expect(vgNameProblem('vg/lv')).toBe('character "/" is not allowed (only a-z A-Z 0-9 + _ . -)');
    expect(vgNameProblem('x'.repeat(128))).toBe('the name is 128 characters long (at most 127)');
    expect(lvNameProblem('snapshotx')).toBe('names starting "snapshot" are reserved by lvm');
    expect(lvNameProblem('pvmovex')).toBe('names starting "pvmove" are reserved by lvm');
    expect(lvNameProblem('foo_cvol')).toBe('names including "_cvol" are reserved by lvm');
    expect(lvNameProblem('x_imeta')).toBe('names including "_imeta" are reserved by lvm');
    expect(lvNameProblem('a_rimage_0')).toBe('names including "_rimage" are reserved by lvm');
    // VG names may contain LV-reserved strings.
    expect(vgNameProblem('vg_tmeta')).toBeNull();
  });

  it('throws ConfigError with the reason as an issue', () => {
    const error = thrown(() => validateLvName('lv_mlog')) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('E_CONFIG');
    expect(error.issues).toEqual(['names including "_mlog" are reserved by lvm']);
    expect(error.message).toContain('invalid logical volume name "lv_mlog"');
    expect(thrown(() => validateVgName('-rf'))).toBeInstanceOf(ConfigError);
  });

  it('limits a VG/LV pair to 124 characters together, as lvcreate does', () => {
    expect(lvPath({ vg: 'vg_host', lv: 'c'.repeat(117) })).toBe(`vg_host/${'c'.repeat(117)}`);
    const error = thrown(() => lvPath({ vg: 'vg_host', lv: 'c'.repeat(118) })) as ConfigError;
    expect(error.issues).toEqual(['VG and LV names together are 125 characters (lvm supports at most 124)']);
    expect(thrown(() => lvPath({ vg: 'vg.t2-shared', lv: 'd'.repeat(113) }))).toBeInstanceOf(ConfigError);
  });

  it('maps to device-mapper names with doubled hyphens', () => {
    expect(dmName({ vg: 'vg.t2-shared', lv: 'guest+disk-1' })).toBe('vg.t2--shared-guest+disk--1');
    expect(dmName({ vg: 'vg_host', lv: 'r0_disk' })).toBe('vg_host-r0_disk');
  });

  it('zod schemas agree with the checks', () => {
    expect(lvNameSchema.safeParse('r0_disk').success).toBe(true);
    const bad = lvNameSchema.safeParse('snapshot1');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('names starting "snapshot" are reserved by lvm');
  });

  it('property: every accepted name is safe in argv (no leading hyphen, no separators)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (name) => {
        if (lvNameProblem(name) === null) {
          expect(name).toMatch(/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/);
          expect(RESERVED_LV_STRINGS.some((s) => name.includes(s))).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
