/**
 * `npm run bench:lab`: one read of the live DRBD status of 1 and of 32
 * resources, inside a real UML node (DRBD 8.4.11), through each source:
 * the addon's netlink socket kept open (DrbdNetlinkReader), netlink opened
 * per read (readDrbdStatusNetlink), `drbdsetup status --verbose
 * --statistics` spawned per read, and /proc/drbd. Side by side in one run,
 * reads interleaved; prints a table and writes
 * bench/results/lab-status-sources.json. Goal (issue 4): netlink at least 20x
 * faster than a drbdsetup process per read.
 */
import { createVg, loadModules, resource } from '../test/lab/drbd-scenario.js';
import { startLab } from '../test/lab/harness/lab.js';
import { percentile, saveResult } from './machine.js';
import { addResources } from './lab-resources.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 200);
const COUNTS = [1, 32] as const;
const LV_MIB = 8;
const SOURCES = ['netlinkReader', 'netlinkFresh', 'drbdsetupStatus', 'procDrbd'] as const;
type Source = (typeof SOURCES)[number];
const LABELS: Record<Source, string> = {
  netlinkReader: 'netlink, reader kept open',
  netlinkFresh: 'netlink, open+resolve+dump+close',
  drbdsetupStatus: 'drbdsetup status -v -s (fork)',
  procDrbd: '/proc/drbd read + parse',
};

interface GuestResult {
  rounds: number;
  resources: number;
  familyLookups: number;
  times: Record<Source, number[]>;
}

const log = (line: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);


const round3 = (x: number): number => Number(x.toFixed(3));

const started = Date.now();
const lab = await startLab({ nodes: 2, name: `bench-${process.pid}`, disksMiB: [2048] });
try {
  const [node1, node2] = lab.nodes;
  if (!node1 || !node2) throw new Error('bench: lab has fewer than two nodes');
  await loadModules(lab.nodes);
  await Promise.all(lab.nodes.map((n) => createVg(n)));
  const specs = Array.from({ length: 32 }, (_, i) => resource(`r${i}`, i, LV_MIB, '200M'));

  const figures: Record<string, Record<Source, { p50Ms: number; p99Ms: number; meanMs: number; minMs: number }>> = {};
  const raw: Record<string, GuestResult> = {};
  let have = 0;
  for (const count of COUNTS) {
    log(`setting up ${count - have} more resource(s) (${LV_MIB} MiB each)`);
    await addResources(lab.nodes, specs.slice(have, count));
    have = count;
    log(`${count} resource(s) Connected UpToDate/UpToDate; timing ${ROUNDS} interleaved rounds`);
    const result = await node1.guestScript<GuestResult>('bench-sources', ['--rounds', String(ROUNDS), '--expect', String(count)], { timeoutMs: 900_000 });
    raw[String(count)] = result;
    figures[String(count)] = Object.fromEntries(
      SOURCES.map((s) => {
        const samples = result.times[s];
        const sorted = [...samples].sort((a, b) => a - b);
        return [s, { p50Ms: round3(percentile(sorted, 50)), p99Ms: round3(percentile(sorted, 99)), meanMs: round3(samples.reduce((a, b) => a + b, 0) / samples.length), minMs: round3(sorted[0] ?? NaN) }];
      }),
    ) as Record<Source, { p50Ms: number; p99Ms: number; meanMs: number; minMs: number }>;
  }

  // = slower side's p50 / faster side's p50, named <faster>SpeedupVs<slower><count>.
  const ratio = (count: number, slow: Source, fast: Source): number => Number(((figures[count]![slow].p50Ms) / (figures[count]![fast].p50Ms)).toFixed(2));
  const comparisons: Record<string, number | boolean> = {};
  for (const count of COUNTS) {
    comparisons[`netlinkReaderSpeedupVsDrbdsetupStatus${count}`] = ratio(count, 'drbdsetupStatus', 'netlinkReader');
    comparisons[`netlinkFreshSpeedupVsDrbdsetupStatus${count}`] = ratio(count, 'drbdsetupStatus', 'netlinkFresh');
    comparisons[`netlinkReaderSpeedupVsProcDrbd${count}`] = ratio(count, 'procDrbd', 'netlinkReader');
    comparisons[`netlinkReaderSpeedupVsNetlinkFresh${count}`] = ratio(count, 'netlinkFresh', 'netlinkReader');
  }
  for (const count of COUNTS) comparisons[`goal20xNetlinkReaderVsDrbdsetupStatus${count}Met`] = (comparisons[`netlinkReaderSpeedupVsDrbdsetupStatus${count}`] as number) >= 20;

  const col = (s: string | number, w = 11): string => String(s).padStart(w);
  console.log(`one read of the DRBD status in a UML node (DRBD 8.4.11, kernel 6.1 UML), ${ROUNDS} interleaved rounds per count; times in ms`);
  console.log(`${'source'.padEnd(34)}${col('1: p50')}${col('1: p99')}${col('32: p50')}${col('32: p99')}`);
  for (const s of SOURCES) {
    console.log(`${LABELS[s].padEnd(34)}${col(figures['1']![s].p50Ms.toFixed(3))}${col(figures['1']![s].p99Ms.toFixed(3))}${col(figures['32']![s].p50Ms.toFixed(3))}${col(figures['32']![s].p99Ms.toFixed(3))}`);
  }
  for (const [key, value] of Object.entries(comparisons)) console.log(`${key.padEnd(48)} ${String(value)}`);
  const path = saveResult('lab-status-sources', {
    rounds: ROUNDS,
    setup: { nodes: 2, resourceCounts: [...COUNTS], lvMiB: LV_MIB, drbd: '8.4.11 (in-tree, UML kernel 6.1)', states: 'Connected Secondary/Secondary UpToDate/UpToDate', sources: LABELS },
    figures,
    comparisons,
    familyLookups: Object.fromEntries(Object.entries(raw).map(([k, r]) => [k, r.familyLookups])),
    wallSeconds: Math.round((Date.now() - started) / 1000),
  });
  console.log(`saved ${path}`);
} finally {
  await lab.stop({ ignoreConsole: true });
}
