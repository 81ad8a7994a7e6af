/**
 * `union drbd_state` (drbd.h) as the 32-bit `current_state` / `prev_state` /
 * `new_state` of state_info. Layout of __LITTLE_ENDIAN_BITFIELD, which every
 * Linux architecture uses for bitfields as for integers; netlink carries the
 * word in host order, so the value read as a native u32 splits the same way
 * on big-endian hosts too.
 *
 *   bits 0-1 role, 2-3 peer, 4-8 conn, 9-12 disk, 13-16 pdsk, 17 susp,
 *   18 aftr_isp, 19 peer_isp, 20 user_isp, 21 susp_nod, 22 susp_fen,
 *   23 quorum (DRBD 9 only; padding on 8.4).
 */

export interface DrbdStateWord {
  role: number;
  peer: number;
  conn: number;
  disk: number;
  pdsk: number;
  susp: boolean;
  aftrIsp: boolean;
  peerIsp: boolean;
  userIsp: boolean;
  suspNod: boolean;
  suspFen: boolean;
  quorum: boolean;
}

const FIELDS: readonly [keyof DrbdStateWord, number, number][] = [
  ['role', 0, 2],
  ['peer', 2, 2],
  ['conn', 4, 5],
  ['disk', 9, 4],
  ['pdsk', 13, 4],
  ['susp', 17, 1],
  ['aftrIsp', 18, 1],
  ['peerIsp', 19, 1],
  ['userIsp', 20, 1],
  ['suspNod', 21, 1],
  ['suspFen', 22, 1],
  ['quorum', 23, 1],
];

export function decodeStateWord(word: number): DrbdStateWord {
  const out: Record<string, number | boolean> = {};
  for (const [name, shift, width] of FIELDS) {
    const value = (word >>> shift) & ((1 << width) - 1);
    out[name] = width === 1 ? value === 1 : value;
  }
  return out as unknown as DrbdStateWord;
}

export function encodeStateWord(state: Partial<DrbdStateWord>): number {
  let word = 0;
  for (const [name, shift, width] of FIELDS) {
    const raw = state[name];
    if (raw === undefined) continue;
    const value = typeof raw === 'boolean' ? (raw ? 1 : 0) : raw;
    const mask = (1 << width) - 1;
    if (!Number.isInteger(value) || value < 0 || value > mask) {
      throw new RangeError(`state field ${name}=${String(raw)} does not fit in ${width} bits`);
    }
    word |= value << shift;
  }
  return word >>> 0;
}
