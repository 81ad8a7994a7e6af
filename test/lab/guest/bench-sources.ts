/**
 * Guest side of `npm run bench:lab`: times N reads of the live DRBD status
 * through each source, interleaved round by round so all see the same
 * conditions, and prints per-source times (ms) as JSON.
 *
 *   netlinkReader      one persistent DrbdNetlinkReader: read() = one dump
 *   netlinkFresh       readDrbdStatusNetlink(): open socket, resolve family, dump, close
 *   drbdsetupStatus    `drbdsetup status --verbose --statistics` spawned per read + parseStatusText
 *   procDrbd           read /proc/drbd + parseProcDrbd
 *
 * Usage: node bench-sources.js --rounds 200 --expect 32
 * Every read is checked to hold `expect` resources (devices for /proc/drbd).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { openDrbdNetlinkReader } from '../../../src/drbd/netlink-reader.js';
import { readDrbdStatusNetlink } from '../../../src/drbd/netlink-status.js';
import { parseProcDrbd } from '../../../src/drbd/proc-drbd.js';
import { parseStatusText } from '../../../src/drbd/status-text.js';
import type { DrbdStatus } from '../../../src/drbd/status-model.js';
import { option, parseArgs } from './cli-args.js';

const run = promisify(execFile);
const options = parseArgs(process.argv.slice(2));
const rounds = Number(option(options, 'rounds', '200'));
const expected = Number(option(options, 'expect', '1'));

const reader = await openDrbdNetlinkReader();
const sources: Record<string, () => Promise<DrbdStatus>> = {
  netlinkReader: () => reader.read(),
  netlinkFresh: () => readDrbdStatusNetlink(),
  drbdsetupStatus: async () => {
    const { stdout } = await run('drbdsetup', ['status', '--verbose', '--statistics'], { env: { ...process.env, LC_ALL: 'C' } });
    return parseStatusText(stdout, { drbd84: true });
  },
  procDrbd: async () => parseProcDrbd(await readFile('/proc/drbd', 'utf8')),
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(sources).map((s) => [s, []]));

const check = (source: string, status: DrbdStatus): void => {
  if (status.resources.length !== expected) throw new Error(`${source}: read ${status.resources.length} resources, expected ${expected}`);
};

try {
  // Warm-up: load modules, JIT the parsers, fault in drbdsetup.
  for (let i = 0; i < 3; i++) for (const [name, read] of Object.entries(sources)) check(name, await read());
  for (let i = 0; i < rounds; i++) {
    for (const [name, read] of Object.entries(sources)) {
      const t0 = performance.now();
      const status = await read();
      times[name]!.push(performance.now() - t0);
      check(name, status);
    }
  }
} finally {
  reader.close();
}
process.stdout.write(JSON.stringify({ rounds, resources: expected, familyLookups: reader.resolutions, times }));
