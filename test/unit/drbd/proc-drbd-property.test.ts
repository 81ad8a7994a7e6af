import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseProcDrbd } from '../../../src/drbd/proc-drbd.js';
import { parseDrbd9ProcPeer } from '../../../src/drbd/proc-drbd-peer.js';
import { ParseError } from '../../../src/errors.js';
import type { DrbdStatus } from '../../../src/drbd/status-model.js';
import { mutate, mutationArb } from '../property-helpers.js';

const DIR = fileURLToPath(new URL('../../fixtures/proc-drbd/', import.meta.url));
const read = (name: string) => readFileSync(DIR + name, 'utf8');

const procFixtures = [
  ...readdirSync(DIR).filter((f) => f.endsWith('.txt')),
  ...readdirSync(DIR + 'lab-8.4.11')
    .filter((f) => !f.includes('samples'))
    .map((f) => `lab-8.4.11/${f}`),
  ...readdirSync(DIR + 'from-source').map((f) => `from-source/${f}`),
].map(read);
const peerFixtures = readdirSync(DIR + 'debugfs-9').map((f) => read(`debugfs-9/${f}`));

/** Runs a parser; returns 'ok' or 'parse-error'; anything else escapes and fails the property. */
function outcome(parse: (text: string) => unknown, text: string): 'ok' | 'parse-error' {
  try {
    parse(text);
    return 'ok';
  } catch (e) {
    if (e instanceof ParseError) return 'parse-error';
    throw e;
  }
}

/** What every successful /proc/drbd parse must satisfy. */
function checkInvariants(s: DrbdStatus): void {
  const minors = [...s.resources.map((r) => r.devices[0]!.minor), ...s.unconfiguredMinors];
  expect(new Set(minors).size).toBe(minors.length);
  for (const r of s.resources) {
    expect(r.devices).toHaveLength(1);
    expect(r.connections).toHaveLength(1);
    const pd = r.connections[0]!.peerDevices[0]!;
    if (pd.outOfSyncBytes !== null) expect(pd.outOfSyncBytes >= 0n).toBe(true);
    if (pd.sync) {
      expect(pd.sync.percent).toBeGreaterThanOrEqual(0);
      expect(pd.sync.percent).toBeLessThanOrEqual(100);
      expect(pd.sync.remainingBytes >= 0n).toBe(true);
    }
  }
}


/** Pieces of real /proc/drbd lines, so random texts reach the deep branches. */
const FRAGMENTS = [
  'version: 8.4.11 (api:1/proto:86-101)\n',
  'version: 8.0.12 (api:86/proto:86)\n',
  'version: 9.0.32-1 (api:2/proto:86-121)\n',
  'srcversion: 059B1B470318F053F5077D5 \n',
  'GIT-hash: 7ad5f850d711223713d6dcadc3dd48860321070c build by root@example.com, 2013-04-10 07:45:25\n',
  'Transports (api:17): tcp (9.0.32-1)\n',
  'built-in\n',
  ' 0: cs:',
  ' 1: cs:',
  '12: cs:',
  'Unconfigured\n',
  'SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n',
  'Connected st:Primary/Secondary ds:UpToDate/UpToDate C r---\n',
  'StandAlone ro:Secondary/Unknown ds:UpToDate/DUnknown   r-----\n',
  'Established ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n',
  '    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n',
  '    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:[0;1] ua:0 ap:[2;0] ep:1 wo:2 oos:0\n',
  '    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0\n',
  "\t[>....................] sync'ed:  1.6% (262072/262100)K\n",
  "\t[==>.................] verified: 12.5% (1024/1170)M",
  'finish: 0:02:40 speed: 6,400 (6,100 -- 5,900) want: 102,400 K/sec\n',
  '\tfinish: 0:10:55 speed: 28 (28) K/sec (stalled)\n',
  '\tstalled\n',
  '\t 25%      64/256\n',
  '\t 12% sector pos: 292864/2396160\n',
  '\tresync: used:0/61 hits:0 misses:0 starving:0 dirty:0 changed:0\n',
  '\tnn: lc_number (new nr) refcnt rs_left\n',
  '\t    0:     12 -"-           0\n',
  '\tblocked on activity log: 0/0/0\n',
  ' delay_probe: 145637',
  ' queue_delay: 0.0 ms',
  ' unknown_field: 1 2',
  '\t 24% oos:3  16384 / 65536 \n',
  '\tnn: lc_number refcnt rs_left\n \t 0: FREE\n',
  '\tblocked on activity log: 0\n',
  'speed: 1000 (-5) K/sec',
  '\n',
  ' ',
  ':',
  '/',
  '0',
  '99999999999999999999999',
  ',',
  '%',
  '\r',
];

describe('parseProcDrbd / parseDrbd9ProcPeer never throw anything but ParseError', () => {
  it('on random strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: 'binary-ascii', maxLength: 300 }),
          fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
        ),
        (s) => {
        outcome(parseProcDrbd, s);
        outcome(parseDrbd9ProcPeer, s);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('on texts assembled from /proc/drbd fragments', () => {
    const seen = { ok: 0, 'parse-error': 0 };
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 30 }), (parts) => {
        const text = parts.join('');
        const result = outcome(parseProcDrbd, text);
        seen[result]++;
        if (result === 'ok') checkInvariants(parseProcDrbd(text));
        outcome(parseDrbd9ProcPeer, text);
      }),
      { numRuns: 2000 },
    );
    // Both branches were exercised, not only the early rejections.
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen['parse-error']).toBeGreaterThan(0);
  });

  it('on real fixtures with characters and lines deleted, duplicated, swapped, replaced or cut', () => {
    const seen = { ok: 0, 'parse-error': 0 };
    fc.assert(
      fc.property(
        fc.nat({ max: procFixtures.length - 1 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        (index, mutations) => {
          const text = mutations.reduce(mutate, procFixtures[index]!);
          const result = outcome(parseProcDrbd, text);
          seen[result]++;
          if (result === 'ok') checkInvariants(parseProcDrbd(text));
        },
      ),
      { numRuns: 1500 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen['parse-error']).toBeGreaterThan(0);
    fc.assert(
      fc.property(
        fc.nat({ max: peerFixtures.length - 1 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        (index, mutations) => {
          outcome(parseDrbd9ProcPeer, mutations.reduce(mutate, peerFixtures[index]!));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects every fixture cut right after a device line', () => {
    for (const text of procFixtures) {
      const lines = text.split('\n');
      lines.forEach((line, i) => {
        if (/^ *\d+: cs:(?!Unconfigured)/.test(line)) {
          expect(outcome(parseProcDrbd, lines.slice(0, i + 1).join('\n'))).toBe('parse-error');
        }
      });
    }
  });
});

/*
 * Round trip: random device states printed with drbd_proc.c's 8.4 format
 * strings (drbd_seq_show / drbd_syncer_progress) parse back to the same values.
 */
const SYNC_WORDS = ['SyncSource', 'SyncTarget', 'VerifyS', 'VerifyT'] as const;
const OTHER_WORDS = ['Connected', 'StandAlone', 'WFConnection', 'PausedSyncS', 'Ahead', 'WFBitMapS', 'NetworkFailure'] as const;

const deviceArb = fc.record({
  cs: fc.constantFrom(...SYNC_WORDS, ...OTHER_WORDS),
  role: fc.constantFrom('Primary', 'Secondary'),
  peer: fc.constantFrom('Primary', 'Secondary', 'Unknown'),
  disk: fc.constantFrom('UpToDate', 'Inconsistent', 'Diskless', 'Outdated'),
  pdsk: fc.constantFrom('UpToDate', 'Inconsistent', 'DUnknown', 'Consistent'),
  protocol: fc.constantFrom('A', 'B', 'C', ' '),
  susp: fc.boolean(),
  flags: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.constantFrom('-', 'n', 'a', 'b', 'd'), fc.boolean()),
  counters: fc.array(fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }), { minLength: 7, maxLength: 7 }),
  small: fc.array(fc.integer({ min: -5, max: 100000 }), { minLength: 5, maxLength: 5 }),
  wo: fc.constantFrom('n', 'd', 'f', 'b'),
  perMil: fc.integer({ min: 0, max: 1000 }),
  totalKiB: fc.bigInt({ min: 1n, max: 2n ** 40n }),
  eta: fc.nat({ max: 99 * 3600 }),
  speeds: fc.array(fc.nat({ max: 5_000_000 }), { minLength: 3, maxLength: 3 }),
  want: fc.option(fc.nat({ max: 5_000_000 }), { nil: null }),
  stalled: fc.boolean(),
  /** proc_details ≥ 1 adds the ~3 s speed: `(recent -- average)`. */
  details: fc.boolean(),
});

function grouped(v: number): string {
  return v.toLocaleString('en-US');
}

function render(minor: number, d: DeviceSample): string {
  const [aftr, peerIsp, user, congestion, alSusp] = d.flags;
  const flags = `${d.susp ? 's' : 'r'}${aftr ? 'a' : '-'}${peerIsp ? 'p' : '-'}${user ? 'u' : '-'}${congestion}${alSusp ? 's' : '-'}`;
  const [ns, nr, dw, dr, al, bm, oos] = d.counters as [bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  const [lo, pe, ua, ap, ep] = d.small as [number, number, number, number, number];
  let out =
    `${String(minor).padStart(2)}: cs:${d.cs} ro:${d.role}/${d.peer} ds:${d.disk}/${d.pdsk} ${d.protocol} ${flags}\n` +
    `    ns:${ns} nr:${nr} dw:${dw} dr:${dr} al:${al} bm:${bm} lo:${lo} pe:${pe} ua:${ua} ap:${ap} ep:${ep} wo:${d.wo} oos:${oos}\n`;
  if ((SYNC_WORDS as readonly string[]).includes(d.cs)) {
    const x = Math.floor(d.perMil / 50);
    const bar = `[${'='.repeat(Math.max(0, x - 1))}>${'.'.repeat(20 - x)}]`;
    const word = d.cs.startsWith('Verify') ? 'verified:' : "sync'ed:";
    const pct = `${String(Math.floor(d.perMil / 10)).padStart(3)}.${d.perMil % 10}%`;
    const big = d.totalKiB > 4n * 1024n * 1024n;
    const remainingKiB = (d.totalKiB * BigInt(1000 - d.perMil)) / 1000n;
    const pair = big ? `(${remainingKiB >> 10n}/${d.totalKiB >> 10n})M` : `(${remainingKiB}/${d.totalKiB})K\n\t`;
    const eta = `${Math.floor(d.eta / 3600)}:${String(Math.floor((d.eta % 3600) / 60)).padStart(2, '0')}:${String(d.eta % 60).padStart(2, '0')}`;
    const [speed, recent, avg] = d.speeds as [number, number, number];
    out +=
      `\t${bar} ${word}${pct} ${pair}finish: ${eta} speed: ${grouped(speed)} (${d.details ? `${grouped(recent)} -- ` : ''}${grouped(avg)})` +
      `${d.want === null ? '' : ` want: ${grouped(d.want)}`} K/sec${d.stalled ? ' (stalled)' : ''}\n`;
  }
  return out;
}

type DeviceSample = typeof deviceArb extends fc.Arbitrary<infer T> ? T : never;

describe('parseProcDrbd round trip against the kernel format', () => {
  it('reads back what drbd_proc.c would print', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 300 }), { minLength: 1, maxLength: 6 }), fc.array(deviceArb, { minLength: 6, maxLength: 6 }), (minors, devices) => {
        const sorted = [...minors].sort((a, b) => a - b);
        let text = 'version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 059B1B470318F053F5077D5 \n';
        let prev = -1;
        sorted.forEach((minor, i) => {
          if (prev !== minor - 1) text += '\n';
          prev = minor;
          text += render(minor, devices[i]!);
        });
        const s = parseProcDrbd(text);
        expect(s.resources.map((r) => r.devices[0]!.minor)).toEqual(sorted);
        sorted.forEach((minor, i) => {
          const d = devices[i]!;
          const r = s.resources[i]!;
          const c = r.connections[0]!;
          const pd = c.peerDevices[0]!;
          const [ns, nr, dw, dr, al, bm, oos] = d.counters as bigint[];
          expect(r.devices[0]!.minor).toBe(minor);
          expect(r.role).toBe(d.role);
          expect(c.peerRole).toBe(d.peer);
          expect(r.devices[0]!.diskState).toBe(d.disk);
          expect(pd.peerDiskState).toBe(d.pdsk);
          expect(c.protocol).toBe(d.protocol === ' ' ? null : d.protocol);
          expect(r.suspended).toBe(d.susp ? 'yes' : 'no');
          expect(c.congested).toBe(d.flags[3] === 'n' || d.flags[3] === 'a');
          expect(r.devices[0]!.counters).toMatchObject({ diskWrittenBytes: dw! * 1024n, diskReadBytes: dr! * 1024n, activityLogWrites: al, bitmapWrites: bm });
          expect(pd.counters).toEqual({ networkSentBytes: ns! * 1024n, networkReceivedBytes: nr! * 1024n, peerPending: d.small[1], unacked: d.small[2] });
          expect(pd.outOfSyncBytes).toBe(oos! * 1024n);
          const syncing = (SYNC_WORDS as readonly string[]).includes(d.cs);
          expect(pd.replicationState).toBe(d.cs === 'Connected' ? 'Established' : ['StandAlone', 'WFConnection', 'NetworkFailure'].includes(d.cs) ? 'Off' : d.cs);
          if (!syncing) {
            expect(pd.sync).toBeNull();
            return;
          }
          expect(pd.sync).not.toBeNull();
          expect(pd.sync!.percent).toBe(d.perMil / 10);
          expect(pd.sync!.etaSeconds).toBe(d.eta);
          expect(pd.sync!.speedBytesPerSecond).toBe(d.speeds[0]! * 1024);
          expect(pd.sync!.averageSpeedBytesPerSecond).toBe(d.speeds[2]! * 1024);
          expect(pd.sync!.wantBytesPerSecond).toBe(d.want === null ? null : d.want * 1024);
          expect(pd.sync!.stalled).toBe(d.stalled);
          const unit = d.totalKiB > 4n * 1024n * 1024n ? 1024n * 1024n : 1024n;
          const remainingKiB = (d.totalKiB * BigInt(1000 - d.perMil)) / 1000n;
          expect(pd.sync!.totalBytes).toBe(unit === 1024n ? d.totalKiB * 1024n : (d.totalKiB >> 10n) * unit);
          expect(pd.sync!.remainingBytes).toBe(unit === 1024n ? remainingKiB * 1024n : (remainingKiB >> 10n) * unit);
        });
      }),
      { numRuns: 300 },
    );
  });
});
