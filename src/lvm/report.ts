/**
 * LVM reports: argv builders for pvs, vgs, lvs (and their --segments forms) and
 * `lvm fullreport`, pure parsers from their output to typed objects, and what lvm's
 * exit code means for a report.
 *
 * Output format by lvm2 version (see version.ts): `--reportformat json_std` from 2.03.17,
 * `json` from 2.02.158, otherwise the text form `--noheadings --separator '|'`. Sizes are
 * asked for as bytes (`--units b --nosuffix`) and become bigint here; lvm runs with
 * LC_ALL=C (runLocal), which also keeps json_std decimals valid JSON (lvm2 issue 33).
 *
 * Exit codes (lvm2 tools/errors.h): 0 success; 2 no such command; 3 invalid command line
 * (for instance an option or field this lvm does not know); 4 initialisation failed;
 * 5 processing failed for at least one object. With 5 lvm still prints a valid report
 * for the objects it could process, and the command log says which objects failed.
 */
import { CommandError, ConfigError, ParseError } from '../errors.js';
import type { RunOptions, RunResult } from '../sys/local-exec.js';
import { runLocal } from '../sys/local-exec.js';
import { lvPath, validateVgName } from './names.js';
import type { LvRef } from './names.js';
import { LV_FIELDS, PVSEG_FIELDS, PV_FIELDS, SEG_FIELDS, VG_FIELDS, fieldsFor } from './report-fields.js';
import type { ReportKind } from './report-fields.js';
import { parseJsonReportDocument, rowExcerpt } from './report-json.js';
import { describeLogFailures, logEntryFromRow, logFailures } from './report-log.js';
import type { LvmLogEntry } from './report-log.js';
import { TEXT_SEPARATOR, parseTextReport } from './report-text.js';
import {
  readBinary,
  readBytes,
  readInteger,
  readList,
  readOptionalInteger,
  readOptionalString,
  readPercent,
  readString,
  requireFields,
} from './report-values.js';
import type { CellContext, RawRow } from './report-values.js';
import type { LvmVersionInfo, LvmVersionNumber } from './version.js';
import { atLeast } from './version.js';
import { appendAll } from '../arrays.js';

export type ReportFormat = 'json_std' | 'json' | 'text';

export interface PhysicalVolume {
  name: string;
  uuid: string;
  /** null for an orphan PV (in no VG). */
  vgName: string | null;
  format: string;
  attr: string;
  allocatable: boolean;
  exported: boolean;
  missing: boolean;
  sizeBytes: bigint;
  freeBytes: bigint;
  deviceSizeBytes: bigint;
  /** Offset of the first extent on the device (pe_start). */
  dataStartBytes: bigint;
  extentCount: number;
  allocatedExtentCount: number;
  tags: string[];
}

export type VgPermission = 'writeable' | 'read-only' | 'unknown';

export interface VolumeGroup {
  name: string;
  uuid: string;
  attr: string;
  permission: VgPermission;
  resizeable: boolean;
  exported: boolean;
  partial: boolean;
  /** 6th attr character "c": clvm VG (lvm2 2.02, clvmd, locking_type 3). */
  clustered: boolean;
  /** 6th attr character "s": shared VG (lvmlockd). */
  shared: boolean;
  sizeBytes: bigint;
  freeBytes: bigint;
  extentSizeBytes: bigint;
  extentCount: number;
  freeExtentCount: number;
  pvCount: number;
  lvCount: number;
  snapshotCount: number;
  seqno: number;
  tags: string[];
  /** lvmlockd lock type (sanlock, dlm, ...); null for local VGs or when not reported. */
  lockType: string | null;
  lockArgs: string | null;
}

export interface LogicalVolume {
  uuid: string;
  /** As lvm prints it; hidden LVs (lvs -a) come in brackets, e.g. "[lvmlock]". */
  name: string;
  vgName: string;
  hidden: boolean;
  attr: string;
  /** 1st attr character: - (plain), m, M, o, O, r, R, s, S, t, T, v, V, e, C, d, D, ... */
  volumeType: string;
  /** 5th attr character: a active, - inactive, X unknown, s suspended, ... */
  state: string;
  /** null when lvm cannot tell (state "X", e.g. no device-mapper or activation disabled). */
  active: boolean | null;
  open: boolean | null;
  sizeBytes: bigint;
  segmentCount: number;
  origin: string | null;
  poolLv: string | null;
  dataPercent: number | null;
  copyPercent: number | null;
  tags: string[];
  /** null when the LV is not active (lvm reports -1). */
  kernelMajor: number | null;
  kernelMinor: number | null;
  /** lvmlockd lock args of the LV; null when blank or not reported. */
  lockArgs: string | null;
  /** null when not reported (lvm2 < 2.02.158) or unknown. */
  activeLocally: boolean | null;
  activeRemotely: boolean | null;
  activeExclusively: boolean | null;
}

export interface SegmentDevice {
  /** A PV path, or an LV name for stacked segments (e.g. raid images). */
  device: string;
  startExtent: number;
}

export interface LvSegment {
  lvUuid: string;
  lvName: string;
  vgName: string;
  type: string;
  startBytes: bigint;
  sizeBytes: bigint;
  startExtent: number;
  stripes: number;
  stripeSizeBytes: bigint;
  devices: SegmentDevice[];
}

export interface PvSegment {
  pvName: string;
  pvUuid: string;
  vgName: string | null;
  startExtent: number;
  sizeExtents: number;
  /** null for free space. */
  lvName: string | null;
  lvUuid: string | null;
}

export interface LvmReport<T> {
  items: T[];
  log: LvmLogEntry[];
}

export interface FullReportVg {
  vg: VolumeGroup;
  pvs: PhysicalVolume[];
  lvs: LogicalVolume[];
  pvSegments: PvSegment[];
  lvSegments: LvSegment[];
}

export interface LvmFullReport {
  vgs: FullReportVg[];
  /** PVs in no VG. */
  orphans: { pvs: PhysicalVolume[]; pvSegments: PvSegment[] };
  log: LvmLogEntry[];
}

// ---------------------------------------------------------------- row mappers

function optionalField<T>(row: RawRow, field: string, read: (row: RawRow, field: string, ctx: CellContext) => T, ctx: CellContext): T | null {
  return Object.hasOwn(row, field) ? read(row, field, ctx) : null;
}

function attrChar(attr: string, index: number): string {
  return attr[index] ?? '-';
}

function pvFromRow(row: RawRow, ctx: CellContext): PhysicalVolume {
  requireFields(row, PV_FIELDS, ctx);
  const attr = readString(row, 'pv_attr', ctx);
  return {
    name: readString(row, 'pv_name', ctx),
    uuid: readString(row, 'pv_uuid', ctx),
    vgName: readOptionalString(row, 'vg_name', ctx),
    format: readString(row, 'pv_fmt', ctx),
    attr,
    allocatable: attrChar(attr, 0) === 'a',
    exported: attrChar(attr, 1) === 'x',
    missing: attrChar(attr, 2) === 'm',
    sizeBytes: readBytes(row, 'pv_size', ctx),
    freeBytes: readBytes(row, 'pv_free', ctx),
    deviceSizeBytes: readBytes(row, 'dev_size', ctx),
    dataStartBytes: readBytes(row, 'pe_start', ctx),
    extentCount: readInteger(row, 'pv_pe_count', ctx),
    allocatedExtentCount: readInteger(row, 'pv_pe_alloc_count', ctx),
    tags: readList(row, 'pv_tags', ctx),
  };
}

function vgFromRow(row: RawRow, ctx: CellContext): VolumeGroup {
  requireFields(row, VG_FIELDS, ctx);
  const attr = readString(row, 'vg_attr', ctx);
  const p = attrChar(attr, 0);
  return {
    name: readString(row, 'vg_name', ctx),
    uuid: readString(row, 'vg_uuid', ctx),
    attr,
    permission: p === 'w' ? 'writeable' : p === 'r' ? 'read-only' : 'unknown',
    resizeable: attrChar(attr, 1) === 'z',
    exported: attrChar(attr, 2) === 'x',
    partial: attrChar(attr, 3) === 'p',
    clustered: attrChar(attr, 5) === 'c',
    shared: attrChar(attr, 5) === 's',
    sizeBytes: readBytes(row, 'vg_size', ctx),
    freeBytes: readBytes(row, 'vg_free', ctx),
    extentSizeBytes: readBytes(row, 'vg_extent_size', ctx),
    extentCount: readInteger(row, 'vg_extent_count', ctx),
    freeExtentCount: readInteger(row, 'vg_free_count', ctx),
    pvCount: readInteger(row, 'pv_count', ctx),
    lvCount: readInteger(row, 'lv_count', ctx),
    snapshotCount: readInteger(row, 'snap_count', ctx),
    seqno: readInteger(row, 'vg_seqno', ctx),
    tags: readList(row, 'vg_tags', ctx),
    lockType: optionalField(row, 'vg_lock_type', readOptionalString, ctx),
    lockArgs: optionalField(row, 'vg_lock_args', readOptionalString, ctx),
  };
}

const INACTIVE_STATES = new Set(['-', 'h']);

function lvFromRow(row: RawRow, ctx: CellContext): LogicalVolume {
  requireFields(row, LV_FIELDS, ctx);
  const attr = readString(row, 'lv_attr', ctx);
  if (!/^[A-Za-z-]{6,}$/.test(attr)) {
    throw new ParseError(`lv_attr: not an attribute string (got ${JSON.stringify(attr)})`, {
      source: ctx.source,
      ...(ctx.line === undefined ? {} : { line: ctx.line }),
      excerpt: ctx.excerpt,
    });
  }
  const name = readString(row, 'lv_name', ctx);
  const state = attrChar(attr, 4);
  const openChar = attrChar(attr, 5);
  const major = readOptionalInteger(row, 'lv_kernel_major', ctx);
  const minor = readOptionalInteger(row, 'lv_kernel_minor', ctx);
  return {
    uuid: readString(row, 'lv_uuid', ctx),
    name,
    vgName: readString(row, 'vg_name', ctx),
    hidden: name.startsWith('[') && name.endsWith(']'),
    attr,
    volumeType: attrChar(attr, 0),
    state,
    active: state === 'X' ? null : !INACTIVE_STATES.has(state),
    open: openChar === 'X' ? null : openChar === 'o',
    sizeBytes: readBytes(row, 'lv_size', ctx),
    segmentCount: readInteger(row, 'seg_count', ctx),
    origin: readOptionalString(row, 'origin', ctx),
    poolLv: readOptionalString(row, 'pool_lv', ctx),
    dataPercent: readPercent(row, 'data_percent', ctx),
    copyPercent: readPercent(row, 'copy_percent', ctx),
    tags: readList(row, 'lv_tags', ctx),
    kernelMajor: major === null || major < 0 ? null : major,
    kernelMinor: minor === null || minor < 0 ? null : minor,
    lockArgs: optionalField(row, 'lv_lockargs', readOptionalString, ctx),
    activeLocally: optionalField(row, 'lv_active_locally', readBinary, ctx),
    activeRemotely: optionalField(row, 'lv_active_remotely', readBinary, ctx),
    activeExclusively: optionalField(row, 'lv_active_exclusively', readBinary, ctx),
  };
}

const DEVICE_RE = /^(.+)\((\d+)\)$/;

function segFromRow(row: RawRow, ctx: CellContext): LvSegment {
  requireFields(row, SEG_FIELDS, ctx);
  const devices = readList(row, 'devices', ctx).map((item) => {
    const m = DEVICE_RE.exec(item);
    if (m === null) {
      throw new ParseError(`devices: expected "device(extent)" (got ${JSON.stringify(item)})`, {
        source: ctx.source,
        ...(ctx.line === undefined ? {} : { line: ctx.line }),
        excerpt: ctx.excerpt,
      });
    }
    return { device: m[1] ?? '', startExtent: Number(m[2]) };
  });
  return {
    lvUuid: readString(row, 'lv_uuid', ctx),
    lvName: readString(row, 'lv_name', ctx),
    vgName: readString(row, 'vg_name', ctx),
    type: readString(row, 'segtype', ctx),
    startBytes: readBytes(row, 'seg_start', ctx),
    sizeBytes: readBytes(row, 'seg_size', ctx),
    startExtent: readInteger(row, 'seg_start_pe', ctx),
    stripes: readInteger(row, 'stripes', ctx),
    stripeSizeBytes: readBytes(row, 'stripe_size', ctx),
    devices,
  };
}

function pvsegFromRow(row: RawRow, ctx: CellContext): PvSegment {
  requireFields(row, PVSEG_FIELDS.slice(0, 5), ctx);
  return {
    pvName: readString(row, 'pv_name', ctx),
    pvUuid: readString(row, 'pv_uuid', ctx),
    vgName: readOptionalString(row, 'vg_name', ctx),
    startExtent: readInteger(row, 'pvseg_start', ctx),
    sizeExtents: readInteger(row, 'pvseg_size', ctx),
    lvName: optionalField(row, 'lv_name', readOptionalString, ctx),
    lvUuid: optionalField(row, 'lv_uuid', readOptionalString, ctx),
  };
}

type Mapper<T> = (row: RawRow, ctx: CellContext) => T;

const MAPPERS: { [K in ReportKind]: Mapper<ReportItem<K>> } = {
  pv: pvFromRow,
  vg: vgFromRow,
  lv: lvFromRow,
  seg: segFromRow,
  pvseg: pvsegFromRow,
};

export type ReportItem<K extends ReportKind> = K extends 'pv'
  ? PhysicalVolume
  : K extends 'vg'
    ? VolumeGroup
    : K extends 'lv'
      ? LogicalVolume
      : K extends 'seg'
        ? LvSegment
        : PvSegment;

const COMMANDS: Record<ReportKind, readonly string[]> = {
  pv: ['pvs'],
  vg: ['vgs'],
  lv: ['lvs'],
  seg: ['lvs', '--segments'],
  pvseg: ['pvs', '--segments'],
};

// ---------------------------------------------------------------- parsing

export interface ReportParseOptions {
  format: ReportFormat;
  /** Text form only: the fields asked for, in order (default: fieldsFor(kind, version)). */
  fields?: readonly string[];
  /** Used for the default text fields. */
  version?: LvmVersionNumber;
}

const OLDEST: LvmVersionNumber = { major: 2, minor: 2, patch: 0 };

function logFrom(rows: readonly RawRow[], source: string): LvmLogEntry[] {
  return rows.map((row) => logEntryFromRow(row, { source, excerpt: rowExcerpt(row) }));
}

/** Parses pvs/vgs/lvs/lvs --segments/pvs --segments output into typed items. */
export function parseReport<K extends ReportKind>(kind: K, text: string, options: ReportParseOptions): LvmReport<ReportItem<K>> {
  const source = `${COMMANDS[kind].join(' ')} (${options.format})`;
  const map = MAPPERS[kind] as Mapper<ReportItem<K>>;
  if (options.format === 'text') {
    const fields = options.fields ?? fieldsFor(kind, options.version ?? OLDEST);
    const rows = parseTextReport(text, fields, source);
    return { items: rows.map((r) => map(r.row, { source, line: r.line, excerpt: r.text })), log: [] };
  }
  if (options.format !== 'json' && options.format !== 'json_std') {
    throw new ParseError(`unknown report format ${JSON.stringify(options.format)}`, { source });
  }
  const doc = parseJsonReportDocument(text, source);
  const items: Array<ReportItem<K>> = [];
  for (const item of doc.items) {
    const unexpected = Object.keys(item).filter((key) => key !== kind);
    if (unexpected.length > 0) {
      throw new ParseError(`unexpected report type ${JSON.stringify(unexpected[0])} (expected "${kind}")`, {
        source,
        excerpt: JSON.stringify(Object.keys(item)),
      });
    }
    for (const row of item[kind] ?? []) items.push(map(row, { source, excerpt: rowExcerpt(row) }));
  }
  return { items, log: logFrom(doc.log, source) };
}

export const parsePvs = (text: string, options: ReportParseOptions): LvmReport<PhysicalVolume> => parseReport('pv', text, options);
export const parseVgs = (text: string, options: ReportParseOptions): LvmReport<VolumeGroup> => parseReport('vg', text, options);
export const parseLvs = (text: string, options: ReportParseOptions): LvmReport<LogicalVolume> => parseReport('lv', text, options);
export const parseLvSegments = (text: string, options: ReportParseOptions): LvmReport<LvSegment> =>
  parseReport('seg', text, options);
export const parsePvSegments = (text: string, options: ReportParseOptions): LvmReport<PvSegment> =>
  parseReport('pvseg', text, options);

const FULL_KINDS = new Set(['vg', 'pv', 'lv', 'pvseg', 'seg']);

/** Parses `lvm fullreport` JSON (json or json_std): one entry per VG, plus orphan PVs. */
export function parseFullReport(text: string, format: 'json' | 'json_std' = 'json'): LvmFullReport {
  const source = `lvm fullreport (${format})`;
  const doc = parseJsonReportDocument(text, source);
  const report: LvmFullReport = { vgs: [], orphans: { pvs: [], pvSegments: [] }, log: logFrom(doc.log, source) };
  for (const item of doc.items) {
    const unknown = Object.keys(item).find((key) => !FULL_KINDS.has(key));
    if (unknown !== undefined) {
      throw new ParseError(`unexpected report type ${JSON.stringify(unknown)}`, { source, excerpt: JSON.stringify(Object.keys(item)) });
    }
    const rows = <K extends ReportKind>(kind: K): Array<ReportItem<K>> =>
      (item[kind] ?? []).map((row) => (MAPPERS[kind] as Mapper<ReportItem<K>>)(row, { source, excerpt: rowExcerpt(row) }));
    const vgs = rows('vg');
    if (vgs.length > 1) {
      throw new ParseError(`a fullreport item holds ${vgs.length} VGs (expected one)`, { source, excerpt: vgs.map((v) => v.name).join(',') });
    }
    const [vg] = vgs;
    if (vg === undefined) {
      if ((item.lv ?? []).length > 0 || (item.seg ?? []).length > 0) {
        throw new ParseError('LVs reported outside any VG', { source, excerpt: JSON.stringify(Object.keys(item)) });
      }
      appendAll(report.orphans.pvs, rows('pv'));
      appendAll(report.orphans.pvSegments, rows('pvseg'));
    } else {
      report.vgs.push({ vg, pvs: rows('pv'), lvs: rows('lv'), pvSegments: rows('pvseg'), lvSegments: rows('seg') });
    }
  }
  return report;
}

// ---------------------------------------------------------------- argv

/** json_std where lvm has it (2.03.17+), json from 2.02.158, otherwise the text form. */
export function reportFormatFor(version: LvmVersionNumber | LvmVersionInfo): ReportFormat {
  if (atLeast(version, '2.03.17')) return 'json_std';
  if (atLeast(version, '2.02.158')) return 'json';
  return 'text';
}

export interface ReportArgvOptions {
  version: LvmVersionNumber;
  /** Default: reportFormatFor(version). */
  format?: ReportFormat;
  /** Restrict to these VGs (pvs, vgs, lvs) ... */
  vgs?: readonly string[];
  /** ... or these LVs (lvs, lvs --segments). */
  lvs?: readonly LvRef[];
  /** ... or these PV device paths (pvs, pvs --segments). */
  pvs?: readonly string[];
  /** lvs -a: include hidden LVs (sub-LVs, lvmlockd's "lvmlock"). */
  all?: boolean;
  /** JSON formats: ask for the command log (log/report_command_log=1). Default true. */
  commandLog?: boolean;
}

function formatArgs(format: ReportFormat, commandLog: boolean): string[] {
  const units = ['--units', 'b', '--nosuffix'];
  if (format === 'text') return ['--noheadings', '--separator', TEXT_SEPARATOR, ...units];
  return ['--reportformat', format, ...units, ...(commandLog ? ['--config', 'log/report_command_log=1'] : [])];
}

function versionText(v: LvmVersionNumber): string {
  return `${v.major}.${String(v.minor).padStart(2, '0')}.${v.patch}`;
}

function checkFormat(format: ReportFormat, version: LvmVersionNumber): void {
  if (format !== 'json_std' && format !== 'json' && format !== 'text') {
    throw new ConfigError(`unknown report format ${JSON.stringify(format)} (json_std, json or text)`);
  }
  if (format === 'json_std' && !atLeast(version, '2.03.17')) {
    throw new ConfigError(`--reportformat json_std needs lvm2 2.03.17 or later; this is ${versionText(version)}: use json`);
  }
  if (format === 'json' && !atLeast(version, '2.02.158')) {
    throw new ConfigError(`--reportformat json needs lvm2 2.02.158 or later; this is ${versionText(version)}: use text`);
  }
}

function devicePath(path: string): string {
  if (typeof path !== 'string' || !/^\/dev\/[^\0\s]+$/.test(path) || path.split('/').includes('..')) {
    throw new ConfigError(`not a device path under /dev: ${JSON.stringify(path)}`);
  }
  return path;
}

/** -S (selection) arrived in lvm2 2.02.107. */
const SELECT_SINCE = '2.02.107';

function positional(kind: ReportKind, options: ReportArgvOptions): string[] {
  const args: string[] = [];
  if (options.pvs !== undefined) {
    if (kind !== 'pv' && kind !== 'pvseg') throw new ConfigError(`${COMMANDS[kind].join(' ')} takes VG or LV names, not PVs`);
    appendAll(args, options.pvs.map(devicePath));
  }
  if (options.lvs !== undefined) {
    if (kind !== 'lv' && kind !== 'seg') throw new ConfigError(`${COMMANDS[kind].join(' ')} does not take LV names`);
    appendAll(args, options.lvs.map(lvPath));
  }
  if (options.vgs !== undefined) {
    if (kind === 'pv' || kind === 'pvseg') {
      // pvs takes PVs as arguments; VGs are selected with -S (names cannot hold '"').
      const names = options.vgs.map(validateVgName);
      if (names.length > 0 && !atLeast(options.version, SELECT_SINCE)) {
        throw new ConfigError(`selecting PVs by VG needs lvm2 ${SELECT_SINCE} or later (-S); filter the result instead`);
      }
      if (names.length > 0) args.unshift('-S', names.map((n) => `vg_name="${n}"`).join(' || '));
    } else {
      appendAll(args, options.vgs.map(validateVgName));
    }
  }
  return args;
}

/** argv for pvs / vgs / lvs / lvs --segments / pvs --segments with hastor's field set. */
export function reportArgv(kind: ReportKind, options: ReportArgvOptions): string[] {
  const format = options.format ?? reportFormatFor(options.version);
  checkFormat(format, options.version);
  const fields = fieldsFor(kind, options.version);
  return [
    ...COMMANDS[kind],
    ...formatArgs(format, options.commandLog ?? true),
    ...(options.all === true && (kind === 'lv' || kind === 'seg') ? ['-a'] : []),
    '-o',
    fields.join(','),
    ...positional(kind, options),
  ];
}

export const pvsArgv = (options: ReportArgvOptions): string[] => reportArgv('pv', options);
export const vgsArgv = (options: ReportArgvOptions): string[] => reportArgv('vg', options);
export const lvsArgv = (options: ReportArgvOptions): string[] => reportArgv('lv', options);
export const lvSegmentsArgv = (options: ReportArgvOptions): string[] => reportArgv('seg', options);
export const pvSegmentsArgv = (options: ReportArgvOptions): string[] => reportArgv('pvseg', options);

/** `lvm fullreport`: every VG with its PVs, LVs and segments under one VG lock each (JSON only). */
export function fullReportArgv(options: Omit<ReportArgvOptions, 'lvs' | 'pvs'>): string[] {
  const format = options.format ?? reportFormatFor(options.version);
  if (format === 'text') throw new ConfigError('lvm fullreport is read as JSON: it needs lvm2 2.02.158 or later');
  checkFormat(format, options.version);
  const config = (kind: ReportKind): string[] => ['--configreport', kind, '-o', fieldsFor(kind, options.version).join(',')];
  return [
    'lvm',
    'fullreport',
    ...formatArgs(format, options.commandLog ?? true),
    ...(options.all === true ? ['-a'] : []),
    ...config('vg'),
    ...config('pv'),
    ...config('lv'),
    ...config('pvseg'),
    ...config('seg'),
    ...(options.vgs ?? []).map(validateVgName),
  ];
}

// ---------------------------------------------------------------- exit status

export interface LvmCommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface InterpretedReport<T> extends LvmReport<T> {
  exitCode: number;
  /** false when lvm failed for some objects (exit code 5, or failures in the log). */
  complete: boolean;
  /** What failed, from the command log or else from stderr. */
  problems: string[];
}

const EXIT_MEANINGS: Record<number, string> = {
  2: 'no such lvm command',
  3: 'invalid command line (an option or field this lvm does not know?)',
  4: 'lvm failed to initialise',
  5: 'lvm failed to process some objects',
};

function stderrProblems(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('WARNING:'));
}

/**
 * What a report command's result means: 0 is a full report; 5 with a valid report is a
 * partial one (complete: false, problems named); anything else, or 5 without a valid
 * report, is a CommandError.
 */
export function interpretReportOutput<T>(
  argv: readonly string[],
  output: LvmCommandOutput,
  parse: (stdout: string) => LvmReport<T>,
): InterpretedReport<T> {
  const { exitCode } = output;
  const fail = (reason: string, cause?: unknown): never => {
    // lvm's first line usually says what failed and its last what it gave up on.
    const lines = stderrProblems(output.stderr);
    const summary = lines.length === 0 ? '' : lines.length === 1 ? `: ${lines[0]}` : `: ${lines[0]} … ${lines.at(-1)}`;
    throw new CommandError(`${argv.join(' ')}: ${reason}${summary}`, {
      argv,
      exitCode,
      stderr: output.stderr,
      cause,
    });
  };
  if (exitCode !== 0 && exitCode !== 5) return fail(`exited with ${exitCode} (${EXIT_MEANINGS[exitCode] ?? 'failed'})`);
  let report: LvmReport<T>;
  try {
    report = parse(output.stdout);
  } catch (error) {
    if (exitCode === 5 && error instanceof ParseError) return fail(`exited with 5 (${EXIT_MEANINGS[5]}) and no valid report`, error);
    throw error;
  }
  const fromLog = describeLogFailures(report.log);
  const logFailed = logFailures(report.log).length > 0;
  const complete = exitCode === 0 && !logFailed;
  const problems = complete ? [] : fromLog.length > 0 ? fromLog : stderrProblems(output.stderr);
  return { ...report, exitCode, complete, problems };
}

// ---------------------------------------------------------------- running

/** Runs argv (runLocal by default; an ssh or guest executor fits the same shape). */
export type LvmExec = (argv: readonly string[], options: RunOptions) => Promise<RunResult>;

export interface ReadReportOptions extends ReportArgvOptions {
  exec?: LvmExec;
  timeoutMs?: number;
}

async function run<T>(argv: string[], options: ReadReportOptions, parse: (stdout: string) => LvmReport<T>): Promise<InterpretedReport<T>> {
  const exec = options.exec ?? runLocal;
  const result = await exec(argv, { okExitCodes: [0, 5], ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  return interpretReportOutput(argv, result, parse);
}

export async function readReport<K extends ReportKind>(kind: K, options: ReadReportOptions): Promise<InterpretedReport<ReportItem<K>>> {
  const format = options.format ?? reportFormatFor(options.version);
  const argv = reportArgv(kind, { ...options, format });
  return run(argv, options, (stdout) => parseReport(kind, stdout, { format, version: options.version }));
}

export const readPvs = (options: ReadReportOptions): Promise<InterpretedReport<PhysicalVolume>> => readReport('pv', options);
export const readVgs = (options: ReadReportOptions): Promise<InterpretedReport<VolumeGroup>> => readReport('vg', options);
export const readLvs = (options: ReadReportOptions): Promise<InterpretedReport<LogicalVolume>> => readReport('lv', options);
export const readLvSegments = (options: ReadReportOptions): Promise<InterpretedReport<LvSegment>> => readReport('seg', options);
export const readPvSegments = (options: ReadReportOptions): Promise<InterpretedReport<PvSegment>> => readReport('pvseg', options);

export interface InterpretedFullReport extends LvmFullReport {
  exitCode: number;
  complete: boolean;
  problems: string[];
}

export async function readFullReport(options: Omit<ReadReportOptions, 'lvs' | 'pvs'>): Promise<InterpretedFullReport> {
  const format = options.format ?? reportFormatFor(options.version);
  const argv = fullReportArgv({ ...options, format });
  if (format === 'text') throw new ConfigError('lvm fullreport is read as JSON: it needs lvm2 2.02.158 or later');
  let full: LvmFullReport | undefined;
  const result = await run(argv, options, (stdout) => {
    full = parseFullReport(stdout, format);
    return { items: [], log: full.log };
  });
  if (full === undefined) throw new CommandError(`${argv.join(' ')}: no report`, { argv, exitCode: result.exitCode, stderr: '' });
  return { ...full, exitCode: result.exitCode, complete: result.complete, problems: result.problems };
}
