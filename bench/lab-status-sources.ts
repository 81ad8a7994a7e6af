/**
 * `npm run bench:lab`: how long one read of live DRBD state takes through each
 * source hastor has — the addon's generic-netlink socket, `drbdsetup events2
 * --now --statistics` (a fork), and /proc/drbd — inside a real UML node with
 * one connected resource. Side by side in one run; prints a table and writes
 * bench/results/lab-status-sources.json.
 */
import { connected, createLv, createVg, defineResource, loadModules, resource, waitForProc } from '../test/lab/drbd-scenario.js';
import { startLab } from '../test/lab/harness/lab.js';
import { percentile, saveResult } from './machine.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 200);

const lab = await startLab({ nodes: 2, name: 'bench' });
try {
  const [node1, node2] = lab.nodes;
  if (!node1 || !node2) throw new Error('bench: lab has fewer than two nodes');
  await loadModules(lab.nodes);
  const r0 = resource('r0', 0, 64, '100M');
  await Promise.all([node1, node2].map(async (n) => { await createVg(n); await createLv(n, r0); }));
  await defineResource([node1, node2], r0);
  await Promise.all([node1, node2].map((n) => waitForProc(n, 0, connected, 'Connected')));

  const result = await node1.guestScript<{ rounds: number; times: Record<string, number[]> }>('bench-sources', [String(ROUNDS)], { timeoutMs: 600_000 });
  const figures: Record<string, { p50Ms: number; p99Ms: number; meanMs: number }> = {};
  for (const [source, samples] of Object.entries(result.times)) {
    const sorted = [...samples].sort((a, b) => a - b);
    figures[source] = {
      p50Ms: Number(percentile(sorted, 50).toFixed(3)),
      p99Ms: Number(percentile(sorted, 99).toFixed(3)),
      meanMs: Number((samples.reduce((a, b) => a + b, 0) / samples.length).toFixed(3)),
    };
  }
  const ratio = (a: string, b: string) => Number(((figures[a]?.p50Ms ?? NaN) / (figures[b]?.p50Ms ?? NaN)).toFixed(2));
  const comparisons = {
    // = drbdsetup time / netlink time (p50)
    netlinkSpeedupVsDrbdsetupEvents2: ratio('events2', 'netlink'),
    // = /proc/drbd time / netlink time (p50); below 1 means /proc/drbd is faster
    netlinkSpeedupVsProcDrbd: ratio('proc', 'netlink'),
  };
  console.log(`one read of DRBD state in a UML node (DRBD 8.4.11, 1 resource), ${result.rounds} rounds interleaved`);
  console.log(`${'source'.padEnd(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'mean ms'.padStart(10)}`);
  for (const [source, f] of Object.entries(figures)) {
    console.log(`${source.padEnd(10)}${f.p50Ms.toFixed(3).padStart(10)}${f.p99Ms.toFixed(3).padStart(10)}${f.meanMs.toFixed(3).padStart(10)}`);
  }
  console.log(comparisons);
  console.log(`saved ${saveResult('lab-status-sources', { rounds: result.rounds, drbd: '8.4.11 (UML 6.1)', figures, comparisons })}`);
} finally {
  await lab.stop({ ignoreConsole: true });
}
