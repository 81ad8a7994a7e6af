/**
 * DRBD's data generation identifiers (`drbdsetup show-gi <minor>`,
 * `drbdadm get-gi <res>`) and the kernel's split-brain record.
 *
 * Both commands print one line per volume:
 * `CURRENT:BITMAP:HISTORY1:HISTORY2:f1:f2:…` (UUIDs as 16 hex digits, then
 * 0/1 flags); show-gi adds a legend around it. The lowest bit of a UUID is
 * DRBD's "was Primary" marker, not part of the identity, so comparisons mask
 * it, as the kernel's own handshake does.
 */
import { ParseError } from '../errors.js';
import { assertResourceName } from './lifecycle/drbdadm-argv.js';
import type { DrbdGeneration } from './lifecycle/generation.js';

export interface GenerationFlags {
  consistent: boolean;
  wasUpToDate: boolean;
  primary: boolean;
  connected: boolean;
  fullSync: boolean;
  peerOutdated: boolean;
  crashedPrimary: boolean;
}

export interface GenerationIdentifiers {
  /** Upper-case hex, 16 digits, as DRBD prints them. */
  current: string;
  /** The current UUID of the moment the peer was lost; zero when nothing changed since the last sync. */
  bitmap: string;
  history: string[];
  /** Named flags (8.4's order; the show-gi legend lists them so). Null where the line has fewer flags. */
  flags: GenerationFlags | null;
  /** Every flag as printed, in order. */
  rawFlags: number[];
}

/** The flag order drbdsetup 8.4 prints (and its show-gi legend labels, top to bottom). */
const FLAG_ORDER: readonly (keyof GenerationFlags)[] = ['consistent', 'wasUpToDate', 'primary', 'connected', 'fullSync', 'peerOutdated', 'crashedPrimary'];

const GI_LINE = /^([0-9A-Fa-f]{16}):([0-9A-Fa-f]{16}):((?:[0-9A-Fa-f]{16}:)*)((?:[01]:)*[01]):?$/;

/** Every generation-identifier line of `show-gi` or `get-gi` output, one per volume, in order. */
export function parseGenerationIdentifiers(text: string, source = 'show-gi'): GenerationIdentifiers[] {
  const found: GenerationIdentifiers[] = [];
  for (const line of text.split('\n')) {
    const m = GI_LINE.exec(line.trim());
    if (m === null) continue;
    const history = (m[3] as string).split(':').filter((h) => h !== '').map((h) => h.toUpperCase());
    const rawFlags = (m[4] as string).split(':').map(Number);
    const flags =
      rawFlags.length >= FLAG_ORDER.length ? (Object.fromEntries(FLAG_ORDER.map((k, i) => [k, rawFlags[i] === 1])) as unknown as GenerationFlags) : null;
    found.push({ current: (m[1] as string).toUpperCase(), bitmap: (m[2] as string).toUpperCase(), history, flags, rawFlags });
  }
  if (found.length === 0) {
    throw new ParseError('no generation identifier line (16 hex digits:16 hex digits:…:flags)', { source, excerpt: text.trim().split('\n')[0] ?? '' });
  }
  return found;
}

const ZERO = 0n;
const identity = (uuid: string): bigint => BigInt(`0x${uuid}`) & ~1n;

export type GenerationRelation =
  /** Same current UUID: the data did not diverge. */
  | 'same'
  /** Both changed since a common generation: a split brain in the data. */
  | 'diverged'
  /** Only the first changed; the second is an ancestor of it. */
  | 'first-newer'
  | 'second-newer'
  /** No common generation (different resources' data, or fresh meta data). */
  | 'unrelated';

/**
 * How two nodes' data relate, from their generation identifiers (a short
 * form of the handshake's rules): the current UUID of one found as the
 * other's bitmap or history UUID makes it an ancestor; equal, non-zero
 * bitmap UUIDs (or equal history heads) with different current UUIDs mean
 * both sides wrote since they parted.
 */
export function compareGenerations(first: GenerationIdentifiers, second: GenerationIdentifiers): GenerationRelation {
  const a = { current: identity(first.current), bitmap: identity(first.bitmap), history: first.history.map(identity) };
  const b = { current: identity(second.current), bitmap: identity(second.bitmap), history: second.history.map(identity) };
  if (a.current === b.current) return 'same';
  if (a.bitmap !== ZERO && a.bitmap === b.bitmap) return 'diverged';
  if (a.bitmap === b.current || (b.current !== ZERO && a.history.includes(b.current))) return 'first-newer';
  if (b.bitmap === a.current || (a.current !== ZERO && b.history.includes(a.current))) return 'second-newer';
  // Both rotated their bitmap UUID into history (e.g. promoted again while apart): the heads still match.
  const shared = [a.bitmap, ...a.history].filter((u) => u !== ZERO).some((u) => u === b.bitmap || b.history.includes(u));
  return shared ? 'diverged' : 'unrelated';
}

/** argv that prints one volume's generation identifiers with the legend. 8.x names the minor; 9 the connection and volume. */
export function showGiArgv(generation: DrbdGeneration | null, target: { resource: string; minor: number; volume: number; peer?: string }): string[] {
  const resource = assertResourceName(target.resource);
  if (generation === '9') return ['drbdadm', 'show-gi', `${resource}${target.peer === undefined ? '' : `:${target.peer}`}/${target.volume}`];
  return ['drbdsetup', 'show-gi', String(target.minor)];
}

export interface SplitBrainRecord {
  /** Seconds since boot in the record's `[   132.690000]` prefix; null without one. */
  uptimeSeconds: number | null;
  /** The whole line, as the kernel wrote it. */
  text: string;
  /** A later line shows the connection reaching Connected again: that split brain was resolved. */
  superseded: boolean;
}

const SPLIT_BRAIN = /Split-Brain detected/;
const TIMESTAMP = /^\[\s*(\d+(?:\.\d+)?)\]\s*/;
/** A state-change line whose connection (8.4 `conn(`, 9 `conn(`/`replication(`) reaches Connected or Established. */
const RECONNECTED = /\b(?:conn|replication)\( \S+ -> (?:Connected|Established) \)/;

/**
 * The kernel's "Split-Brain detected …" records for one resource in `dmesg`
 * text. 8.4 writes them per device (`block drbd5: …`), DRBD 9 per peer device
 * (`drbd r5/0 drbd5 node2: …`), so a record matches by resource name or by
 * one of its minors. A record followed by the connection reaching
 * Connected again is marked superseded (resolved since).
 */
export function splitBrainRecords(kernelLog: string, target: { resource: string; minors: readonly number[] }): SplitBrainRecord[] {
  const devices = new Set(target.minors.map((m) => `drbd${m}`));
  const records: SplitBrainRecord[] = [];
  for (const raw of kernelLog.split('\n')) {
    const stamp = TIMESTAMP.exec(raw);
    const body = raw.slice(stamp?.[0].length ?? 0);
    const colon = body.indexOf(': ');
    const subject = body.slice(0, colon < 0 ? body.length : colon).split(/\s+/);
    const mine = subject.some((word, i) => devices.has(word) || (subject[i - 1] === 'drbd' && word.split('/')[0] === target.resource));
    if (!mine) continue;
    if (SPLIT_BRAIN.test(body)) records.push({ uptimeSeconds: stamp === null ? null : Number(stamp[1]), text: raw.trim(), superseded: false });
    else if (RECONNECTED.test(body)) for (const r of records) r.superseded = true;
  }
  return records;
}
