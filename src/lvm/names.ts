/**
 * VG and LV names as lvm2 accepts them, checked before a name reaches argv.
 *
 * Rules from lvm2 lib/misc/lvm-string.c (validate_name, apply_lvname_restrictions)
 * and checked against lvm2 2.03.16 on loop devices: characters a-z A-Z 0-9 + _ . -,
 * no leading hyphen (it separates VG and LV in device-mapper names), not "." or
 * "..", at most 127 characters (NAME_LEN 128 with the NUL); LV names must not
 * start with "snapshot" or "pvmove" nor contain a suffix lvm uses for its own
 * sub-LVs; and lvcreate refuses a VG/LV pair whose names add up to more than 124
 * characters ("LV name ... length N is not supported").
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';

export const NAME_MAX_LENGTH = 127;
/** len(vg) + len(lv) above this makes lvcreate fail (vg/lv plus lvm's own suffix room). */
export const VG_LV_MAX_COMBINED_LENGTH = 124;

export const RESERVED_LV_PREFIXES: readonly string[] = ['pvmove', 'snapshot'];

/** Strings lvm2 2.03.16 reserves anywhere in an LV name (its hidden sub-LVs use them). */
export const RESERVED_LV_STRINGS: readonly string[] = [
  '_cdata',
  '_cmeta',
  '_corig',
  '_cpool',
  '_cvol',
  '_wcorig',
  '_mimage',
  '_mlog',
  '_rimage',
  '_rmeta',
  '_tdata',
  '_tmeta',
  '_vdata',
  '_imeta',
  '_iorig',
  '_pmspare',
  '_vorigin',
];

const CHARSET = /^[A-Za-z0-9+_.-]*$/;

/** Why lvm would refuse the name, or null when it is valid. Shared rules for VGs and LVs. */
function baseNameProblem(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (name.startsWith('-')) return 'the name starts with a hyphen';
  if (name === '.' || name === '..') return `"${name}" is reserved`;
  if (!CHARSET.test(name)) {
    const bad = [...name].find((c) => !CHARSET.test(c)) ?? '';
    return `character ${JSON.stringify(bad)} is not allowed (only a-z A-Z 0-9 + _ . -)`;
  }
  if (name.length > NAME_MAX_LENGTH) return `the name is ${name.length} characters long (at most ${NAME_MAX_LENGTH})`;
  return null;
}

export function vgNameProblem(name: string): string | null {
  return baseNameProblem(name);
}

export function lvNameProblem(name: string): string | null {
  const base = baseNameProblem(name);
  if (base !== null) return base;
  const prefix = RESERVED_LV_PREFIXES.find((p) => name.startsWith(p));
  if (prefix !== undefined) return `names starting "${prefix}" are reserved by lvm`;
  const reserved = RESERVED_LV_STRINGS.find((s) => name.includes(s));
  if (reserved !== undefined) return `names including "${reserved}" are reserved by lvm`;
  return null;
}

export const vgNameSchema = z.string().superRefine((name, ctx) => {
  const problem = vgNameProblem(name);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

export const lvNameSchema = z.string().superRefine((name, ctx) => {
  const problem = lvNameProblem(name);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/** Returns the name, or throws ConfigError saying why lvm would refuse it. */
export function validateVgName(name: string): string {
  const problem = typeof name === 'string' ? vgNameProblem(name) : 'the name is not a string';
  if (problem !== null) {
    throw new ConfigError(`invalid volume group name ${JSON.stringify(name)}: ${problem}`, [problem]);
  }
  return name;
}

export function validateLvName(name: string): string {
  const problem = typeof name === 'string' ? lvNameProblem(name) : 'the name is not a string';
  if (problem !== null) {
    throw new ConfigError(`invalid logical volume name ${JSON.stringify(name)}: ${problem}`, [problem]);
  }
  return name;
}

export interface LvRef {
  vg: string;
  lv: string;
}

/** Validates both names and their combined length; returns "vg/lv" for argv. */
export function lvPath(ref: LvRef): string {
  validateVgName(ref.vg);
  validateLvName(ref.lv);
  const combined = ref.vg.length + ref.lv.length;
  if (combined > VG_LV_MAX_COMBINED_LENGTH) {
    const problem = `VG and LV names together are ${combined} characters (lvm supports at most ${VG_LV_MAX_COMBINED_LENGTH})`;
    throw new ConfigError(`invalid logical volume ${ref.vg}/${ref.lv}: ${problem}`, [problem]);
  }
  return `${ref.vg}/${ref.lv}`;
}

/**
 * The device-mapper name lvm gives an LV: hyphens inside each name doubled,
 * one hyphen between them (vg-a/lv-b -> vg--a-lv--b).
 */
export function dmName(ref: LvRef): string {
  return `${ref.vg.replaceAll('-', '--')}-${ref.lv.replaceAll('-', '--')}`;
}
