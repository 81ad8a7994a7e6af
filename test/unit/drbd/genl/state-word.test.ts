import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeStateWord, encodeStateWord } from '../../../../src/drbd/genl/state-word.js';

describe('union drbd_state', () => {
  it('splits a Primary/Secondary SyncSource UpToDate/Inconsistent word by the 8.4 bit layout', () => {
    // role 1 | peer 2<<2 | conn 16<<4 | disk 8<<9 | pdsk 4<<13
    const word = 1 | (2 << 2) | (16 << 4) | (8 << 9) | (4 << 13);
    expect(word).toBe(0x9109);
    expect(decodeStateWord(word)).toEqual({
      role: 1,
      peer: 2,
      conn: 16,
      disk: 8,
      pdsk: 4,
      susp: false,
      aftrIsp: false,
      peerIsp: false,
      userIsp: false,
      suspNod: false,
      suspFen: false,
      quorum: false,
    });
  });

  it('reads the single-bit flags from bits 17-23', () => {
    const s = decodeStateWord((1 << 17) | (1 << 19) | (1 << 22));
    expect([s.susp, s.aftrIsp, s.peerIsp, s.userIsp, s.suspNod, s.suspFen, s.quorum]).toEqual([
      true,
      false,
      true,
      false,
      false,
      true,
      false,
    ]);
  });

  it('round-trips every field combination', () => {
    const state = fc.record({
      role: fc.integer({ min: 0, max: 3 }),
      peer: fc.integer({ min: 0, max: 3 }),
      conn: fc.integer({ min: 0, max: 31 }),
      disk: fc.integer({ min: 0, max: 15 }),
      pdsk: fc.integer({ min: 0, max: 15 }),
      susp: fc.boolean(),
      aftrIsp: fc.boolean(),
      peerIsp: fc.boolean(),
      userIsp: fc.boolean(),
      suspNod: fc.boolean(),
      suspFen: fc.boolean(),
      quorum: fc.boolean(),
    });
    fc.assert(
      fc.property(state, (s) => {
        expect(decodeStateWord(encodeStateWord(s))).toEqual(s);
      }),
    );
  });

  it('ignores the padding bits above 23', () => {
    expect(decodeStateWord(0xff00_0000 | 0x9109).conn).toBe(16);
  });

  it('refuses a value that does not fit its field', () => {
    expect(() => encodeStateWord({ conn: 32 })).toThrow(RangeError);
  });
});
