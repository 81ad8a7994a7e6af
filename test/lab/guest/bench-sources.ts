/**
 * Guest side of `npm run bench:lab`: times N reads of DRBD state through each
 * live source of hastor (readLiveStatus with a fixed source), interleaved so
 * all three see the same conditions, and prints per-source times as JSON.
 */
import { readLiveStatus, type LiveSource } from '../../../src/index.js';

const rounds = Number(process.argv[2] ?? 200);
const sources: Exclude<LiveSource, 'auto'>[] = ['netlink', 'events2', 'proc'];
const times: Record<string, number[]> = Object.fromEntries(sources.map((s) => [s, []]));

// Warm-up: load modules, resolve the family, fault in drbdsetup.
for (const source of sources) await readLiveStatus({ source });
for (let i = 0; i < rounds; i++) {
  for (const source of sources) {
    const t0 = performance.now();
    const status = await readLiveStatus({ source });
    times[source]!.push(performance.now() - t0);
    if (status.resources.length === 0) throw new Error(`${source}: no resources read`);
  }
}
process.stdout.write(JSON.stringify({ rounds, times }));
