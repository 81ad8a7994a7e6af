/**
 * What a backing device already carries, from
 * `wipefs --no-act --output TYPE --noheadings <dev>`: one signature type a
 * line (`ext4`, `LVM2_member`, `drbd` …), nothing at all for a blank device.
 * libblkid recognises DRBD's own internal meta data (TYPE `drbd`, v08 and
 * v09), so one probe tells "already has DRBD meta data" from "holds someone
 * else's data". wipefs --no-act opens read-only and works on a device DRBD
 * has attached.
 *
 * With internal meta data the data area starts at offset 0: a DRBD disk in
 * use shows both `drbd` and whatever lives on the DRBD device (ext4, LVM).
 */
import { ParseError } from '../../errors.js';

const SOURCE = 'wipefs --output TYPE';
const TYPE_RE = /^[A-Za-z0-9_.+-]{1,64}$/;

export function wipefsArgv(device: string): string[] {
  return ['wipefs', '--no-act', '--output', 'TYPE', '--noheadings', device];
}

export function parseWipefsTypes(text: string): string[] {
  const types: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    if (!TYPE_RE.test(line)) throw new ParseError('expected one signature type per line', { source: SOURCE, line: index + 1, excerpt: raw });
    types.push(line);
  });
  return types;
}

export interface BackingSignatures {
  device: string;
  /** Every type found, in wipefs order. */
  types: string[];
  /** DRBD meta data is present (create-md is not needed, and would be refused by drbdmeta). */
  drbdMetaData: boolean;
  /** Signatures that are not DRBD's. */
  foreign: string[];
}

export function classifySignatures(device: string, types: readonly string[]): BackingSignatures {
  return {
    device,
    types: [...types],
    drbdMetaData: types.includes('drbd'),
    foreign: [...new Set(types.filter((t) => t !== 'drbd'))],
  };
}
