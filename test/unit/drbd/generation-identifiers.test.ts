import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { compareGenerations, parseGenerationIdentifiers, showGiArgv, splitBrainRecords, type GenerationIdentifiers } from '../../../src/drbd/generation-identifiers.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/lab-8.4.11-split-brain/${name}`, import.meta.url), 'utf8');
const one = (name: string): GenerationIdentifiers => parseGenerationIdentifiers(fixture(name))[0] as GenerationIdentifiers;

/** The UUID line as printed, split at its colons (the reference the parser is checked against). */
const fieldsOf = (text: string): string[] => (text.split('\n').find((l) => /^[0-9A-F]{16}:/.test(l)) as string).split(':');

describe('show-gi / get-gi parsing (DRBD 8.4.11, a real split brain)', () => {
  for (const node of ['node1', 'node2']) {
    it(`reads ${node}'s identifiers the same from drbdsetup show-gi, drbdadm show-gi and drbdadm get-gi`, () => {
      const shown = one(`show-gi-split-brain-${node}.txt`);
      expect(one(`drbdadm-show-gi-split-brain-${node}.txt`)).toEqual(shown);
      expect(one(`get-gi-split-brain-${node}.txt`)).toEqual(shown);
      const fields = fieldsOf(fixture(`get-gi-split-brain-${node}.txt`));
      expect(shown.current).toBe(fields[0]);
      expect(shown.bitmap).toBe(fields[1]);
      expect(shown.history).toEqual(fields.slice(2, 4));
      expect(shown.rawFlags).toEqual(fields.slice(4).map(Number));
    });
  }

  it('names the flags in the order of show-gi\'s legend', () => {
    const text = fixture('show-gi-split-brain-node1.txt');
    // The legend's "+" markers sit under the flag they describe, first flag first.
    const labels = text.split('\n').filter((l) => /-<.*>--\+/.test(l)).map((l) => /-<\s*(.*?)\s*>/.exec(l)?.[1]);
    expect(labels).toEqual([
      'Data consistency flag',
      'Data was/is currently up-to-date',
      'Node was/is currently primary',
      'Node was/is currently connected',
      'Node was in the progress of setting all bits in the bitmap',
      "The peer's disk was out-dated or inconsistent",
      'This node was a crashed primary, and has not seen its peer since',
    ]);
    const gi = one('show-gi-split-brain-node1.txt');
    const byLegend = Object.fromEntries(['consistent', 'wasUpToDate', 'primary', 'connected', 'fullSync', 'peerOutdated', 'crashedPrimary'].map((k, i) => [k, gi.rawFlags[i] === 1]));
    expect(gi.flags).toEqual(byLegend);
    // Both were Primary while cut off and are StandAlone now (show-gi's own summary line says so).
    expect(text).toMatch(/flags: Primary, StandAlone/);
    expect(gi.flags?.primary).toBe(true);
    expect(gi.flags?.connected).toBe(false);
  });

  it('refuses text without an identifier line', () => {
    expect(() => parseGenerationIdentifiers('drbdsetup: unknown minor\n', 'show-gi 9')).toThrow(ParseError);
    expect(() => parseGenerationIdentifiers(fixture('proc-drbd-standalone-node1.txt'))).toThrow(/no generation identifier line/);
  });
});

describe('how two sides\' data relate', () => {
  it('finds the lab\'s split brain: both moved on from the same bitmap generation (its primary bit aside)', () => {
    const a = one('show-gi-split-brain-node1.txt');
    const b = one('show-gi-split-brain-node2.txt');
    expect(a.bitmap).not.toBe(b.bitmap); // differ in the lowest bit only
    expect(BigInt(`0x${a.bitmap}`) ^ BigInt(`0x${b.bitmap}`)).toBe(1n);
    expect(compareGenerations(a, b)).toBe('diverged');
    expect(compareGenerations(b, a)).toBe('diverged');
  });

  it('tells an ancestor from a split brain, and identical data from both', () => {
    const node1 = one('show-gi-split-brain-node1.txt');
    // What node1's peer looked like before the split: its current generation is node1's bitmap, nothing since.
    const untouchedPeer: GenerationIdentifiers = { ...node1, current: node1.bitmap, bitmap: '0000000000000000', history: node1.history };
    expect(compareGenerations(node1, untouchedPeer)).toBe('first-newer');
    expect(compareGenerations(untouchedPeer, node1)).toBe('second-newer');
    expect(compareGenerations(node1, { ...node1 })).toBe('same');
    const stranger: GenerationIdentifiers = { ...node1, current: '1111111111111110', bitmap: '0000000000000000', history: ['2222222222222222', '0000000000000000'] };
    expect(compareGenerations(node1, stranger)).toBe('unrelated');
  });
});

describe('the kernel\'s split-brain record', () => {
  for (const node of ['node1', 'node2']) {
    it(`finds the one record in ${node}'s kernel log by minor, and none for another resource`, () => {
      const log = fixture(`dmesg-drbd-r5-${node}.txt`);
      const records = splitBrainRecords(log, { resource: 'r5', minors: [5] });
      const expected = log.split('\n').filter((l) => l.includes('Split-Brain detected'));
      expect(expected).toHaveLength(1);
      expect(records.map((r) => r.text)).toEqual(expected.map((l) => l.trim()));
      expect(records[0]?.uptimeSeconds).toBe(Number(/\[\s*([\d.]+)\]/.exec(expected[0] as string)?.[1]));
      expect(splitBrainRecords(log, { resource: 'r0', minors: [0] })).toEqual([]);
      expect(splitBrainRecords(log, { resource: 'r5', minors: [50] })).toEqual([]);
    });
  }

  it('marks a record superseded once the connection reached Connected after it', () => {
    const log = fixture('dmesg-drbd-r5-node2.txt');
    // A later reconnect, as this very log printed one for the initial connect.
    const reconnect = log.split('\n').find((l) => /conn\( WFReportParams -> Connected \)/.test(l)) as string;
    expect(reconnect).toBeDefined();
    expect(splitBrainRecords(log, { resource: 'r5', minors: [5] }).map((r) => r.superseded)).toEqual([false]);
    expect(splitBrainRecords(`${log}\n${reconnect}\n`, { resource: 'r5', minors: [5] }).map((r) => r.superseded)).toEqual([true]);
    // Another device's reconnect does not count.
    expect(splitBrainRecords(`${log}\n${reconnect.replace('drbd5', 'drbd6')}\n`, { resource: 'r5', minors: [5] }).map((r) => r.superseded)).toEqual([false]);
  });

  it('matches DRBD 9\'s per-peer-device form by resource name', () => {
    const line = '[ 9.5] drbd r7/0 drbd7 node2: Split-Brain detected but unresolved, dropping connection!';
    expect(splitBrainRecords(line, { resource: 'r7', minors: [] })).toHaveLength(1);
    expect(splitBrainRecords(line, { resource: 'r70', minors: [] })).toHaveLength(0);
    expect(splitBrainRecords('drbd r7: Split-Brain detected, 1 primaries, automatically solved. Sync from this node', { resource: 'r7', minors: [] })[0]?.uptimeSeconds).toBeNull();
  });
});

describe('show-gi argv', () => {
  it('names the minor on 8.x and the connection on 9', () => {
    expect(showGiArgv('8.4', { resource: 'r5', minor: 5, volume: 0 })).toEqual(['drbdsetup', 'show-gi', '5']);
    expect(showGiArgv('9', { resource: 'r5', minor: 5, volume: 0, peer: 'node2' })).toEqual(['drbdadm', 'show-gi', 'r5:node2/0']);
    expect(() => showGiArgv('8.4', { resource: '--all', minor: 5, volume: 0 })).toThrow(/invalid DRBD resource name/);
  });
});
