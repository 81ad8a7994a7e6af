/**
 * Line-level pieces shared by the /proc/drbd parser (DRBD 8.0–8.4, DRBD 9's
 * header and its drbd8-compat device lines) and the DRBD 9 debugfs per-peer
 * `proc_drbd` parser. The kernel prints both with the same format strings
 * (drbd_proc.c / drbd_debugfs.c); they differ in `pe:`/`ap:` (DRBD 9 prints
 * `[a;b]` pairs), `wo:` (a letter on 8.x, the enum number on 9) and the
 * replication word in `cs:`.
 *
 * Everything here is pure and throws only ParseError.
 */
import { ParseError } from '../errors.js';
import { isDiskState, isProtocol, isRole } from './states.js';
import type { DiskState, Protocol, ReplicationState, Role } from './states.js';
import type { DeviceStatus, ParseWarning, PeerDeviceStatus, SyncProgress } from './status-model.js';

/** One input line with its 1-based number. */
export interface Line {
  readonly text: string;
  readonly number: number;
}

/** Splits on newlines; a trailing newline does not make an extra empty line; CR is dropped. */
export function splitLines(text: string): Line[] {
  const raw = text.split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  return raw.map((t, i) => ({ text: t.endsWith('\r') ? t.slice(0, -1) : t, number: i + 1 }));
}

/** A warning about `line`: the parse goes on. */
export function warningAt(source: string, message: string, line: Line): ParseWarning {
  return { source, line: line.number, message, excerpt: line.text };
}

export function fail(source: string, reason: string, line?: Line): never {
  if (line === undefined) throw new ParseError(reason, { source });
  throw new ParseError(reason, { source, line: line.number, excerpt: line.text });
}

export const BLANK_RE = /^\s*$/;

/** ` 0: cs:…` — any device line, including `cs:Unconfigured`. */
export const DEVICE_START_RE = /^ *\d+: cs:/;

const UNCONFIGURED_RE = /^ *(\d{1,7}): cs:Unconfigured[ \t]*$/;

/*
 * `%2d: cs:%s ro:%s/%s ds:%s/%s %c %c%c%c%c%c%c` (8.3+; `st:` before 8.3).
 * The protocol letter is a space when no net config exists; the earliest 8.0
 * builds print neither protocol nor flags.
 */
const DEVICE_RE =
  /^ *(\d{1,7}): cs:([A-Za-z]+) (?:ro|st):([A-Za-z]+)\/([A-Za-z]+) ds:([A-Za-z]+)\/([A-Za-z]+)(?: ([A-Z ]) ([A-Za-z-]{4,6}))?[ \t]*$/;

export interface DeviceHeader {
  minor: number;
  /** The word after `cs:`, checked by the caller (8.x connection word or DRBD 9 replication word). */
  stateWord: string;
  role: Role;
  peerRole: Role;
  diskState: DiskState;
  peerDiskState: DiskState;
  protocol: Protocol | null;
  ioFlags: string | null;
}

export type DeviceLine = { kind: 'unconfigured'; minor: number } | ({ kind: 'device' } & DeviceHeader);

export function parseDeviceLine(source: string, line: Line): DeviceLine {
  const unconfigured = UNCONFIGURED_RE.exec(line.text);
  if (unconfigured) return { kind: 'unconfigured', minor: Number(unconfigured[1]) };
  const m = DEVICE_RE.exec(line.text);
  if (!m) fail(source, 'malformed device line (expected "N: cs:… ro:…/… ds:…/… P flags")', line);
  const [minor, stateWord, role, peerRole, disk, peerDisk] = m.slice(1, 7) as [string, string, string, string, string, string];
  const protocol = m[7];
  const flags = m[8];
  if (!isRole(role)) fail(source, `unknown role "${role}"`, line);
  if (!isRole(peerRole)) fail(source, `unknown peer role "${peerRole}"`, line);
  if (!isDiskState(disk)) fail(source, `unknown disk state "${disk}"`, line);
  if (!isDiskState(peerDisk)) fail(source, `unknown peer disk state "${peerDisk}"`, line);
  let wire: Protocol | null = null;
  if (protocol !== undefined && protocol !== ' ') {
    if (!isProtocol(protocol)) fail(source, `unknown replication protocol "${protocol}"`, line);
    wire = protocol;
  }
  if (flags !== undefined && flags[0] !== 'r' && flags[0] !== 's') {
    fail(source, `io flags "${flags}" must start with r (running) or s (suspended)`, line);
  }
  return {
    kind: 'device',
    minor: Number(minor),
    stateWord,
    role,
    peerRole,
    diskState: disk,
    peerDiskState: peerDisk,
    protocol: wire,
    ioFlags: flags ?? null,
  };
}

/** `'no'`/`'yes'`: /proc/drbd shows that I/O is suspended, not why. */
export function suspendedFromFlags(flags: string | null): string | null {
  if (flags === null) return null;
  return flags[0] === 's' ? 'yes' : 'no';
}

/** Resync-suspend reasons in drbdsetup's words (`user,peer,dependency`) or `'no'`. */
export function resyncSuspendedFromFlags(flags: string | null): string | null {
  if (flags === null) return null;
  const reasons: string[] = [];
  if (flags[3] === 'u') reasons.push('user');
  if (flags[2] === 'p') reasons.push('peer');
  if (flags[1] === 'a') reasons.push('dependency');
  return reasons.length === 0 ? 'no' : reasons.join(',');
}

/**
 * The 5th flag is DRBD 8's congestion reason: `n` network, `a` network and
 * backing device, `b` backing device only, `d` suspended. Only the first two
 * are the connection's congestion. Absent on 8.0's four-letter flags.
 */
export function congestedFromFlags(flags: string | null): boolean | null {
  if (flags === null || flags.length < 5) return null;
  return flags[4] === 'n' || flags[4] === 'a';
}

/* ------------------------------------------------------------------ */
/* Counters line: `ns:… nr:… dw:… dr:… al:… bm:… lo:… pe:… ua:… ap:… [ep:… wo:… oos:…]` */

const COUNTERS_START_RE = /^\s+ns:/;

export interface ParsedCounters {
  /** KiB, as printed. */
  ns: bigint;
  nr: bigint;
  dw: bigint;
  dr: bigint;
  al: bigint;
  bm: bigint;
  lo: number;
  /** Sum of `[ap;rs]` on DRBD 9. */
  pe: number;
  ua: number;
  /** Sum of `[writes;reads]` on DRBD 9. */
  ap: number;
  ep: number | null;
  wo: string | null;
  /** KiB; absent before 8.2.6. */
  oos: bigint | null;
  /** Counters this parser does not know, as printed. */
  extra: Record<string, string> | null;
}

const UNSIGNED_RE = /^\d{1,20}$/;
const SIGNED_RE = /^-?\d{1,10}$/;
const PAIR_RE = /^\[(-?\d{1,10});(-?\d{1,10})\]$/;
const TOKEN_RE = /^([a-z_]+):(\S+)$/;

/** 8.x letters (`write_ordering_chars`) and DRBD 9's enum write_ordering_e, in drbdsetup's words. */
const WRITE_ORDERING: Readonly<Record<string, string>> = {
  n: 'none',
  d: 'drain',
  f: 'flush',
  b: 'barrier',
  '0': 'none',
  '1': 'drain',
  '2': 'flush',
  '3': 'barrier',
};

const REQUIRED_COUNTERS = ['ns', 'nr', 'dw', 'dr', 'al', 'bm', 'lo', 'pe', 'ua', 'ap'] as const;
const KNOWN_COUNTERS: ReadonlySet<string> = new Set([...REQUIRED_COUNTERS, 'ep', 'wo', 'oos']);

function parseCountersLine(source: string, line: Line, warnings: ParseWarning[]): ParsedCounters {
  const seen = new Map<string, string>();
  for (const token of line.text.trim().split(/\s+/)) {
    const m = TOKEN_RE.exec(token);
    if (!m) fail(source, `malformed counter "${token}" (expected key:value)`, line);
    const key = m[1] as string;
    if (seen.has(key)) fail(source, `counter "${key}" appears twice`, line);
    seen.set(key, m[2] as string);
  }
  for (const key of REQUIRED_COUNTERS) {
    if (!seen.has(key)) fail(source, `counter "${key}:" missing`, line);
  }
  const unsigned = (key: string): bigint => {
    const v = seen.get(key) as string;
    if (!UNSIGNED_RE.test(v)) fail(source, `counter "${key}:${v}" is not an unsigned number`, line);
    return BigInt(v);
  };
  const signedOrPair = (key: string): number => {
    const v = seen.get(key) as string;
    if (SIGNED_RE.test(v)) return Number(v);
    const pair = PAIR_RE.exec(v);
    if (pair) return Number(pair[1]) + Number(pair[2]);
    return fail(source, `counter "${key}:${v}" is not a number or [a;b] pair`, line);
  };
  const signed = (key: string): number => {
    const v = seen.get(key) as string;
    if (!SIGNED_RE.test(v)) fail(source, `counter "${key}:${v}" is not a number`, line);
    return Number(v);
  };
  let wo: string | null = null;
  const woRaw = seen.get('wo');
  if (woRaw !== undefined) {
    wo = WRITE_ORDERING[woRaw] ?? null;
    if (wo === null) fail(source, `unknown write ordering "wo:${woRaw}"`, line);
  }
  // A newer kernel's counter must not hide the others: kept as printed, and reported.
  let extra: Record<string, string> | null = null;
  for (const [key, value] of seen) {
    if (KNOWN_COUNTERS.has(key)) continue;
    extra ??= Object.create(null) as Record<string, string>;
    extra[key] = value;
    warnings.push(warningAt(source, `unknown counter "${key}:${value}" (kept in counters.extra)`, line));
  }
  return {
    ns: unsigned('ns'),
    nr: unsigned('nr'),
    dw: unsigned('dw'),
    dr: unsigned('dr'),
    al: unsigned('al'),
    bm: unsigned('bm'),
    lo: signed('lo'),
    pe: signedOrPair('pe'),
    ua: signed('ua'),
    ap: signedOrPair('ap'),
    ep: seen.has('ep') ? signed('ep') : null,
    wo,
    oos: seen.has('oos') ? unsigned('oos') : null,
    extra,
  };
}

/* ------------------------------------------------------------------ */
/* Resync / online-verify progress */

/** `\t[====>....] sync'ed: 87.4% (51900/409584)M` — 8.3.11+ may glue `finish:` right after `)M`. */
const PROGRESS_RE = /^\s*\[[=>.]{0,40}\] (sync'ed|verified):\s*(\d{1,3}\.\d)% \((\d{1,20})\/(\d{1,20})\)([KM])(.*)$/;
/*
 * Speeds in KiB/s. Thousands are grouped (`seq_printf_with_thousands_grouping`
 * from 8.3.9; before, `%ld,%03ld` only above 1000, so exactly 1000 prints
 * "1000"). The kernel prints an unsigned difference with %ld, so a wrapped
 * counter shows as a negative number.
 */
const SPEED = '-?\\d{1,20}(?:,\\d{3}){0,6}';
const FINISH_RE = new RegExp(
  `^\\s*finish: (\\d{1,7}):(\\d\\d):(\\d\\d) speed: (${SPEED}) \\((?:(${SPEED}) -- )?(${SPEED})\\)(?: want: (${SPEED}))? K\\/sec( \\(stalled\\))?(.*)$`,
);
/*
 * Fields drbd_proc.c printed after the progress pair: 8.3.8 ` queue_delay:
 * %d.%d ms` (SyncTarget; `%d.%03d` in its development tree) and ` delay_probe:
 * %u` (SyncSource). Kept in `sync.extra` as printed.
 */
const KNOWN_PROGRESS_FIELDS: Readonly<Record<string, RegExp>> = {
  queue_delay: /^\d{1,10}\.\d{1,3} ms$/,
  delay_probe: /^-?\d{1,10}$/,
};
const FIELD_KEY_RE = /^([A-Za-z_][A-Za-z0-9_]{0,63}):(\S*)$/;
/** 8.2/early 8.3 print this instead of a finish line when no progress for 20 s. */
const STALLED_RE = /^\s*stalled\s*$/;
/**
 * 8.2/early 8.3 online-verify progress in bitmap bits: `\t%3d%%      done/total`
 * (8.2.6–8.3.8); 8.2.5 printed `\t%3d%% oos:%lu  done / total ` (oos in bits).
 */
const OLD_VERIFY_RE = /^\s*(\d{1,3})%\s+(?:oos:(\d{1,20})\s+)?(\d{1,20})\s*\/\s*(\d{1,20})\s*$/;
/** proc_details ≥ 1 (always on in DRBD 9 debugfs). */
const SECTOR_POS_RE = /^\s*\d{1,3}% sector pos: \d{1,20}\/\d{1,20}(?: stop sector: \d{1,20})?\s*$/;

const isProgressLine = (text: string): boolean => PROGRESS_RE.test(text);
const isFinishLine = (text: string): boolean => FINISH_RE.test(text);
const isStalledLine = (text: string): boolean => STALLED_RE.test(text);
const isOldVerifyLine = (text: string): boolean => OLD_VERIFY_RE.test(text);
const isSectorPosLine = (text: string): boolean => SECTOR_POS_RE.test(text);

const KIB = 1024n;
const MIB = 1024n * 1024n;
/** DRBD's bitmap granularity: one bit per 4 KiB. */
const BITMAP_BLOCK = 4096n;

/** KiB/s as printed → bytes/s; a negative (wrapped) figure is unknown, with a warning. */
function speedBytes(source: string, printed: string, what: string, line: Line, warnings: ParseWarning[]): number | null {
  const kib = Number(printed.replaceAll(',', ''));
  if (kib < 0) {
    warnings.push(warningAt(source, `negative ${what} speed ${printed} K/sec (a wrapped kernel counter); shown as unknown`, line));
    return null;
  }
  return kib * 1024;
}

/**
 * Reads ` key: value` fields (value: the words up to the next `key:`) into
 * `progress.extra`. Known fields are checked; unknown ones are kept and
 * reported, so a newer kernel's addition never hides the progress itself.
 */
function readTrailingFields(source: string, text: string, line: Line, progress: SyncProgress, warnings: ParseWarning[]): void {
  const tokens = text.split(/[ \t]+/).filter((t) => t !== '');
  let key: string | null = null;
  let words: string[] = [];
  const store = (): void => {
    if (key === null) return;
    const value = words.join(' ');
    // No prototype: a field named __proto__ is kept like any other.
    progress.extra ??= Object.create(null) as Record<string, string>;
    if (Object.hasOwn(progress.extra, key)) fail(source, `field "${key}:" appears twice`, line);
    const known = Object.hasOwn(KNOWN_PROGRESS_FIELDS, key) ? KNOWN_PROGRESS_FIELDS[key] : undefined;
    if (known !== undefined && !known.test(value)) fail(source, `field "${key}: ${value}" is not in the kernel's format`, line);
    if (known === undefined) warnings.push(warningAt(source, `unknown field "${key}: ${value}" after the resync progress (kept in sync.extra)`, line));
    progress.extra[key] = value;
  };
  for (const token of tokens) {
    const m = FIELD_KEY_RE.exec(token);
    if (m) {
      store();
      key = m[1] as string;
      words = m[2] === '' ? [] : [m[2] as string];
      continue;
    }
    if (key === null) fail(source, 'unexpected text after the resync progress pair (expected "key: value" fields)', line);
    words.push(token);
  }
  store();
}

function emptyProgress(percent: number, remainingBytes: bigint, totalBytes: bigint): SyncProgress {
  return {
    percent,
    remainingBytes,
    totalBytes,
    etaSeconds: null,
    speedBytesPerSecond: null,
    averageSpeedBytesPerSecond: null,
    wantBytesPerSecond: null,
    stalled: false,
  };
}

/** Parses a progress line; trailing fields and a glued `finish:` part are read too. */
function parseProgressLine(source: string, line: Line, warnings: ParseWarning[]): SyncProgress {
  const m = PROGRESS_RE.exec(line.text);
  if (!m) return fail(source, 'malformed resync progress line', line);
  const percent = Number(m[2]);
  if (percent > 100) fail(source, `resync percentage ${m[2]}% is above 100`, line);
  const unit = m[5] === 'M' ? MIB : KIB;
  const remaining = BigInt(m[3] as string) * unit;
  const total = BigInt(m[4] as string) * unit;
  const progress = emptyProgress(percent, remaining, total);
  const rest = m[6] as string;
  // 8.3.11+/8.4 glue `finish:` right after `)M`; other fields are space-separated.
  const finishAt = rest.search(/(?:^|\s)finish:/);
  readTrailingFields(source, finishAt < 0 ? rest : rest.slice(0, finishAt), line, progress, warnings);
  if (finishAt >= 0) applyFinish(source, { text: rest.slice(finishAt), number: line.number }, progress, warnings, line);
  return progress;
}

/** Applies a `finish: … speed: … (…) [want: …] K/sec [(stalled)]` line (and any fields after it). */
function applyFinish(source: string, finish: Line, progress: SyncProgress, warnings: ParseWarning[], shownLine: Line = finish): void {
  const m = FINISH_RE.exec(finish.text);
  if (!m) return fail(source, 'malformed resync finish line', shownLine);
  const minutes = Number(m[2]);
  const seconds = Number(m[3]);
  if (minutes > 59 || seconds > 59) fail(source, 'resync finish time has minutes or seconds above 59', shownLine);
  progress.etaSeconds = Number(m[1]) * 3600 + minutes * 60 + seconds;
  progress.speedBytesPerSecond = speedBytes(source, m[4] as string, 'current', shownLine, warnings);
  progress.averageSpeedBytesPerSecond = speedBytes(source, m[6] as string, 'average', shownLine, warnings);
  progress.wantBytesPerSecond = m[7] === undefined ? null : speedBytes(source, m[7], 'wanted', shownLine, warnings);
  progress.stalled = m[8] !== undefined;
  readTrailingFields(source, m[9] as string, shownLine, progress, warnings);
}

function parseOldVerifyLine(source: string, line: Line): SyncProgress {
  const m = OLD_VERIFY_RE.exec(line.text);
  if (!m) return fail(source, 'malformed online-verify progress line', line);
  const percent = Number(m[1]);
  const done = BigInt(m[3] as string);
  const total = BigInt(m[4] as string);
  if (percent > 100) fail(source, `verify percentage ${m[1]}% is above 100`, line);
  if (done > total) fail(source, 'verify progress has more bits done than in total', line);
  return emptyProgress(percent, (total - done) * BITMAP_BLOCK, total * BITMAP_BLOCK);
}

/* ------------------------------------------------------------------ */
/* Detail lines we accept and drop: lru_cache statistics and dumps. */

/** `\tresync: used:0/61 hits:… misses:… starving:… dirty|locked:… changed:…` */
const LRU_STATS_RE =
  /^\s*[a-z_]+: used:\d{1,10}\/\d{1,10} hits:\d{1,20} misses:\d{1,20} starving:\d{1,20} (?:dirty|locked):\d{1,20} changed:\d{1,20}\s*$/;
/** proc_details ≥ 2: `\tnn: lc_number (new nr) refcnt rs_left` then one row per element. */
const LRU_DUMP_HEADER_RE = /^\s*nn: lc_number/;
const LRU_DUMP_ROW_RE = /^\s*\d{1,10}:\s+(?:-?\d{1,10}\s+(?:-?\d{1,10}|-"-)\s+-?\d{1,10}(?:\s.*)?|FREE\s*)$/;
/** 8.4.7+ with proc_details ≥ 2: requests waiting for activity-log extents. */
const BLOCKED_ON_AL_RE = /^\s*blocked on activity log: \d{1,10}\s*$/;

const isLruStatsLine = (text: string): boolean => LRU_STATS_RE.test(text);
const isLruDumpHeader = (text: string): boolean => LRU_DUMP_HEADER_RE.test(text);
const isLruDumpRow = (text: string): boolean => LRU_DUMP_ROW_RE.test(text);

/** KiB count as printed → bytes. */
function kib(value: bigint): bigint {
  return value * KIB;
}

/* ------------------------------------------------------------------ */
/* One device block: header line, counters line, then optional detail lines. */

export interface DeviceBlock {
  readonly header: DeviceHeader;
  readonly headerLine: Line;
  counters: ParsedCounters | null;
  sync: SyncProgress | null;
  /** A finish/stalled line (or a glued `finish:`) was seen for `sync`. */
  syncComplete: boolean;
  /** Inside a proc_details ≥ 2 lru_cache dump. */
  inLruDump: boolean;
  /** 8.2.5's online-verify line counts out-of-sync bits; its counters line has no `oos:`. */
  verifyOutOfSyncBits: bigint | null;
  /** Fields kept but not understood in this block. */
  warnings: ParseWarning[];
}

export function newDeviceBlock(header: DeviceHeader, headerLine: Line): DeviceBlock {
  return { header, headerLine, counters: null, sync: null, syncComplete: false, inLruDump: false, verifyOutOfSyncBits: null, warnings: [] };
}

/**
 * Feeds one non-blank line that follows a device header. Returns false when
 * the line is not one of the shared detail lines, so the caller can try its
 * own (or fail); throws ParseError when the line is recognised but wrong
 * here (e.g. a second counters line, a finish line without progress).
 */
export function feedDeviceLine(source: string, block: DeviceBlock, line: Line): boolean {
  const text = line.text;
  if (block.counters === null) {
    if (!COUNTERS_START_RE.test(text)) fail(source, 'expected the counters line ("ns:… nr:…") after the device line', line);
    block.counters = parseCountersLine(source, line, block.warnings);
    return true;
  }
  if (COUNTERS_START_RE.test(text)) fail(source, 'second counters line for one device', line);
  if (isProgressLine(text) || isOldVerifyLine(text)) {
    if (block.sync !== null) fail(source, 'second resync progress line for one device', line);
    block.inLruDump = false;
    if (isProgressLine(text)) {
      block.sync = parseProgressLine(source, line, block.warnings);
      block.syncComplete = block.sync.etaSeconds !== null;
    } else {
      block.sync = parseOldVerifyLine(source, line);
      const oos = OLD_VERIFY_RE.exec(text)?.[2];
      if (oos !== undefined) block.verifyOutOfSyncBits = BigInt(oos);
      block.syncComplete = true;
    }
    return true;
  }
  if (isFinishLine(text) || isStalledLine(text)) {
    if (block.sync === null) fail(source, 'resync finish line without a progress line', line);
    if (block.syncComplete) fail(source, 'second resync finish line for one device', line);
    if (isFinishLine(text)) applyFinish(source, line, block.sync, block.warnings);
    else block.sync.stalled = true;
    block.syncComplete = true;
    return true;
  }
  if (isSectorPosLine(text) || isLruStatsLine(text) || BLOCKED_ON_AL_RE.test(text)) {
    block.inLruDump = false;
    return true;
  }
  if (isLruDumpHeader(text)) {
    block.inLruDump = true;
    return true;
  }
  if (block.inLruDump && isLruDumpRow(text)) return true;
  return false;
}

/** Throws unless the block got its counters line (a truncated file ends right after a device line). */
export function requireComplete(source: string, block: DeviceBlock): ParsedCounters {
  if (block.counters === null) return fail(source, 'device line without its counters line (truncated?)', block.headerLine);
  return block.counters;
}

/*
 * Model halves shared by both parsers. Counters follow DRBD 9's split: disk
 * and local counters on the device, network counters and out-of-sync on the
 * peer device.
 */

export function deviceFromBlock(block: DeviceBlock, c: ParsedCounters): DeviceStatus {
  return {
    volume: null,
    minor: block.header.minor,
    diskState: block.header.diskState,
    sizeBytes: null,
    ioFlags: block.header.ioFlags,
    counters: {
      diskWrittenBytes: kib(c.dw),
      diskReadBytes: kib(c.dr),
      activityLogWrites: c.al,
      bitmapWrites: c.bm,
      localPending: c.lo,
      applicationPending: c.ap,
      ...(c.ep === null ? {} : { epochs: c.ep }),
      ...(c.wo === null ? {} : { writeOrdering: c.wo }),
      ...(c.extra === null ? {} : { extra: c.extra }),
    },
  };
}

export function peerDeviceFromBlock(block: DeviceBlock, c: ParsedCounters, replicationState: ReplicationState): PeerDeviceStatus {
  return {
    volume: null,
    replicationState,
    peerDiskState: block.header.peerDiskState,
    outOfSyncBytes: c.oos !== null ? kib(c.oos) : block.verifyOutOfSyncBits === null ? null : block.verifyOutOfSyncBits * BITMAP_BLOCK,
    resyncSuspended: resyncSuspendedFromFlags(block.header.ioFlags),
    sync: block.sync,
    counters: {
      networkSentBytes: kib(c.ns),
      networkReceivedBytes: kib(c.nr),
      peerPending: c.pe,
      unacked: c.ua,
    },
  };
}
