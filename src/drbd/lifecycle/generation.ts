/**
 * Which DRBD a node runs, from `drbdadm --version` (KEY=VALUE lines, the
 * same on drbd-utils 8.4 and 9). The kernel module's version comes as
 * DRBD_KERNEL_VERSION_CODE (0x08040b = 8.4.11); 0x000000 means no module is
 * loaded (drbd-utils 9.22 prints that on a host without drbd.ko). The
 * generation decides the `.res` grammar and a few argv forms.
 */
import { ConfigError, ParseError } from '../../errors.js';
import type { DrbdTarget } from '../config/index.js';

/** `8.3` stands for 8.0–8.3: the grammar and argv of drbd-utils before 8.4. */
export type DrbdGeneration = '8.3' | '8.4' | '9';

export interface DrbdVersions {
  /** drbd-utils (DRBDADM_VERSION), e.g. `9.22.0`. */
  utils: string | null;
  utilsCode: number | null;
  /** The loaded kernel module, e.g. `8.4.11`; null when none is loaded. */
  kernel: string | null;
  kernelCode: number | null;
  /** From the kernel module; null when none is loaded. */
  generation: DrbdGeneration | null;
  /** DRBDADM_API_VERSION: 1 for the 8.4 family, 2 for DRBD 9. */
  api: number | null;
  buildTag: string | null;
}

const SOURCE = 'drbdadm --version';
const LINE_RE = /^([A-Z][A-Z0-9_]*)=(.*)$/;

/** `0x08040b` → `8.4.11`. */
export function versionFromCode(code: number): string {
  return `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`;
}

export function generationFromCode(code: number): DrbdGeneration | null {
  const major = (code >> 16) & 0xff;
  const minor = (code >> 8) & 0xff;
  if (major === 9) return '9';
  if (major === 8) return minor >= 4 ? '8.4' : '8.3';
  return null;
}

/** drbdadm escapes spaces and commas in values with a backslash, shell style. */
const unescape = (value: string): string => value.replace(/\\(.)/g, '$1');

export function parseDrbdadmVersion(text: string): DrbdVersions {
  const values = new Map<string, string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const m = LINE_RE.exec(line);
    if (!m) throw new ParseError('expected KEY=VALUE', { source: SOURCE, line: index + 1, excerpt: line });
    values.set(m[1] as string, unescape(m[2] as string));
  });
  const hex = (key: string): number | null => {
    const v = values.get(key);
    if (v === undefined) return null;
    if (!/^0x[0-9a-fA-F]{1,8}$/.test(v)) {
      const line = text.split('\n').findIndex((l) => l.startsWith(`${key}=`)) + 1;
      throw new ParseError(`${key} is not a hex version code`, { source: SOURCE, line, excerpt: `${key}=${v}` });
    }
    return Number.parseInt(v.slice(2), 16);
  };
  const utilsCode = hex('DRBDADM_VERSION_CODE');
  const utils = values.get('DRBDADM_VERSION') ?? (utilsCode === null ? null : versionFromCode(utilsCode));
  if (utils === null) throw new ParseError('neither DRBDADM_VERSION nor DRBDADM_VERSION_CODE present', { source: SOURCE, line: 1, excerpt: text.split('\n')[0] ?? '' });
  const rawKernel = hex('DRBD_KERNEL_VERSION_CODE');
  const kernelCode = rawKernel === null || rawKernel === 0 ? null : rawKernel;
  const api = values.get('DRBDADM_API_VERSION');
  return {
    utils,
    utilsCode,
    kernel: kernelCode === null ? null : versionFromCode(kernelCode),
    kernelCode,
    generation: kernelCode === null ? null : generationFromCode(kernelCode),
    api: api !== undefined && /^\d+$/.test(api) ? Number(api) : null,
    buildTag: values.get('DRBDADM_BUILDTAG') ?? null,
  };
}

/** The `.res` grammar for a generation; 8.3's (syncer sections) is not rendered by hastor. */
export function renderTargetFor(generation: DrbdGeneration): DrbdTarget {
  if (generation === '8.3') {
    throw new ConfigError('hastor renders .res files for DRBD 8.4 and 9 only; this node runs DRBD 8.3 or older', [
      'write the configuration yourself and pass { writeConfig: false }, or upgrade the node to DRBD 8.4',
    ]);
  }
  return generation;
}
