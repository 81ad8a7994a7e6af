/**
 * `lvm version`: which lvm2 is installed and what it can do.
 *
 * The output (lvm2 2.02.x and 2.03.x alike) is "  LVM version:     2.03.16(2) (2022-05-18)",
 * "  Library version: 1.02.185 (2022-05-18)", "  Driver version:  4.47.0" (missing when the
 * kernel has no device-mapper) and, from some 2.02 release on, "  Configuration:   ./configure ...".
 * Distribution builds add suffixes such as "2.02.115(2)-RHEL7".
 *
 * Feature versions, from lvm2's WHATS_NEW: `--reportformat json`, the command log report and
 * `lvm fullreport` arrived in 2.02.158; `json_std` in 2.03.17; lvmlockd in 2.02.124 (configure
 * --enable-lvmlockd-sanlock/-dlm, named --enable-lockd-* before 2.02.171); clvmd was removed in
 * 2.03.00; 2.03.03 made devices/scan_lvs default to 0 (LVs are no longer scanned for PVs).
 */
import { ParseError } from '../errors.js';
import type { Executor } from '../sys/executor.js';

export interface LvmVersionNumber {
  major: number;
  minor: number;
  patch: number;
}

export type LvmLockManager = 'sanlock' | 'dlm' | 'idm';

export interface LvmFeatures {
  /** `--reportformat json` (all values strings). */
  json: boolean;
  /** `--reportformat json_std` (numbers as numbers, null, arrays). */
  jsonStd: boolean;
  /** `lvm fullreport`. */
  fullReport: boolean;
  /** log/report_command_log and the report's "log" section. */
  commandLog: boolean;
  /** lvmlockd support compiled in (use_lvmlockd = 1 possible). */
  lvmlockd: boolean;
  /** clvmd / locking_type = 3 possible (lvm2 2.02 built --with-clvmd). */
  clvmd: boolean;
  /** LVs are not scanned for PVs unless devices/scan_lvs = 1. */
  scanLvsOffByDefault: boolean;
}

export interface LvmVersionInfo extends LvmVersionNumber {
  /** "2.03.16" */
  lvm: string;
  /** The "(2)" after the version: lvm's internal API level. */
  apiLevel: number | null;
  /** Distribution suffix such as "-RHEL7", or null. */
  suffix: string | null;
  /** Release date as printed (YYYY-MM-DD), or null. */
  date: string | null;
  /** libdevmapper version, e.g. "1.02.185". */
  library: string | null;
  /** Kernel device-mapper driver version; null when the kernel has none. */
  driver: string | null;
  /** The ./configure line, when lvm printed it. */
  configure: string | null;
  /** Lock managers lvmlockd was built for; null when the configure line is unknown. */
  lockManagers: LvmLockManager[] | null;
  features: LvmFeatures;
}

const SOURCE = 'lvm version';
const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)(?:\((\d+)\))?(\S*)(?:\s+\((\d{4}-\d{2}-\d{2})\))?\s*$/;
const LINE_RE = /^\s*(LVM version|Library version|Driver version|Configuration):\s*(.*?)\s*$/;

export function parseVersionNumber(text: string): LvmVersionNumber {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  if (m === null) throw new ParseError('not an lvm2 version number', { source: SOURCE, excerpt: text });
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Negative, zero or positive like a sort comparator. Accepts "2.03.16" or a parsed version. */
export function compareLvmVersions(a: LvmVersionNumber | string, b: LvmVersionNumber | string): number {
  const x = typeof a === 'string' ? parseVersionNumber(a) : a;
  const y = typeof b === 'string' ? parseVersionNumber(b) : b;
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

export function atLeast(version: LvmVersionNumber, than: string): boolean {
  return compareLvmVersions(version, than) >= 0;
}

function lockManagersFrom(configure: string): LvmLockManager[] {
  const managers: LvmLockManager[] = [];
  for (const m of ['sanlock', 'dlm', 'idm'] as const) {
    // 2.02.125..2.02.170 spelled it --enable-lockd-<m>, later --enable-lvmlockd-<m>.
    if (new RegExp(`--enable-(?:lvm)?lockd-${m}(?:=yes)?(?:\\s|$)`).test(configure)) managers.push(m);
  }
  return managers;
}

function clvmdBuilt(configure: string): boolean {
  const m = /--with-clvmd=(\S+)/.exec(configure);
  return m !== null && m[1] !== 'none';
}

export function featuresOf(version: LvmVersionNumber, configure: string | null): LvmFeatures {
  const v203 = atLeast(version, '2.03.0');
  const lockManagers = configure === null ? null : lockManagersFrom(configure);
  const lvmlockdVersion = atLeast(version, '2.02.124');
  // Before 2.02.125 the single switch was --enable-lvmlockd.
  const lvmlockdBuilt =
    lockManagers === null || lockManagers.length > 0 || /--enable-lvmlockd(?:=yes)?(?:\s|$)/.test(configure ?? '');
  return {
    json: atLeast(version, '2.02.158'),
    jsonStd: atLeast(version, '2.03.17'),
    fullReport: atLeast(version, '2.02.158'),
    commandLog: atLeast(version, '2.02.158'),
    lvmlockd: lvmlockdVersion && lvmlockdBuilt,
    clvmd: !v203 && (configure === null || clvmdBuilt(configure)),
    scanLvsOffByDefault: atLeast(version, '2.03.3'),
  };
}

/** Parses the output of `lvm version` (stdout; stderr warnings are tolerated). */
export function detectLvmVersion(text: string): LvmVersionInfo {
  if (typeof text !== 'string') throw new ParseError('expected text', { source: SOURCE });
  const fields = new Map<string, { value: string; line: number; raw: string }>();
  text.split('\n').forEach((raw, index) => {
    const m = LINE_RE.exec(raw);
    if (m !== null && !fields.has(m[1] ?? '')) fields.set(m[1] ?? '', { value: m[2] ?? '', line: index + 1, raw });
  });
  const lvmField = fields.get('LVM version');
  if (lvmField === undefined) {
    throw new ParseError('no "LVM version:" line', { source: SOURCE, line: 1, excerpt: text.split('\n')[0] ?? '' });
  }
  const m = VERSION_RE.exec(lvmField.value);
  if (m === null) {
    throw new ParseError('unrecognised LVM version', { source: SOURCE, line: lvmField.line, excerpt: lvmField.raw });
  }
  const number = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
  const versionWord = (name: string): string | null => {
    const field = fields.get(name);
    if (field === undefined) return null;
    const v = /^(\d+\.\d+\.\d+)/.exec(field.value);
    if (v === null) throw new ParseError(`unrecognised ${name}`, { source: SOURCE, line: field.line, excerpt: field.raw });
    return v[1] ?? null;
  };
  const configureField = fields.get('Configuration');
  const configure = configureField === undefined || configureField.value === '' ? null : configureField.value;
  return {
    ...number,
    lvm: `${number.major}.${String(number.minor).padStart(2, '0')}.${number.patch}`,
    apiLevel: m[4] === undefined ? null : Number(m[4]),
    suffix: m[5] === undefined || m[5] === '' ? null : m[5],
    date: m[6] ?? null,
    library: versionWord('Library version'),
    driver: versionWord('Driver version'),
    configure,
    lockManagers: configure === null ? null : lockManagersFrom(configure),
    features: featuresOf(number, configure),
  };
}

/** The argv that produces what detectLvmVersion reads. */
export function lvmVersionArgv(): string[] {
  return ['lvm', 'version'];
}

const versionCache = new WeakMap<Executor, Promise<LvmVersionInfo>>();

/** `lvm version` on the node, read once per executor. */
export function lvmVersionOn(node: Executor, timeoutMs = 30_000): Promise<LvmVersionInfo> {
  let cached = versionCache.get(node);
  if (cached === undefined) {
    cached = node.run(lvmVersionArgv(), { root: true, timeoutMs }).then((r) => detectLvmVersion(r.stdout));
    cached.catch(() => versionCache.delete(node));
    versionCache.set(node, cached);
  }
  return cached;
}
