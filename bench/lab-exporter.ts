/**
 * `node dist/bench/lab-exporter.js` (part of bench:lab): scrape latency and
 * CPU per scrape of hastor's exporter against prometheus-node-exporter
 * (`--collector.disable-defaults --collector.drbd`, which parses /proc/drbd
 * per scrape), all running in the same UML node (DRBD 8.4.11), with 1 and 32
 * resources, side by side in one run: scrapes interleaved round by round, one
 * keep-alive connection per exporter. hastor runs twice: as shipped (each
 * family rendered once per state change, like drbd-reactor) and with
 * --no-cache (every family rendered on every scrape, the cost of the first
 * scrape after a change). Both with --no-lvm, so all export DRBD only. Prints a table and writes bench/results/lab-exporter.json.
 * Goal (issue 7): hastor's p50 no slower than node_exporter's while
 * exporting several times the series.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createVg, loadModules, resource } from '../test/lab/drbd-scenario.js';
import { startLab } from '../test/lab/harness/lab.js';
import { distPath, GUEST_NODE } from '../test/lab/harness/paths.js';
import { percentile, saveResult } from './machine.js';
import { addResources } from './lab-resources.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 300);
const COUNTS = [1, 32] as const;
const LV_MIB = 8;
const HASTOR = '127.0.0.1:9942';
const HASTOR_UNCACHED = '127.0.0.1:9944';
const NODE_EXPORTER = '127.0.0.1:9100';
const TARGETS = ['hastor', 'hastorUncached', 'nodeExporter'] as const;
type Target = (typeof TARGETS)[number];
const LABELS: Record<Target, string> = {
  hastor: 'hastor (netlink events, cached per change)',
  hastorUncached: 'hastor --no-cache (renders every scrape)',
  nodeExporter: 'node_exporter --collector.drbd (/proc/drbd)',
};

interface GuestResult {
  rounds: number;
  times: Record<Target, number[]>;
  cpuSeconds: Record<Target, number>;
  series: Record<Target, number>;
  bytes: Record<Target, number>;
  wireBytes: Record<Target, number>;
  sample: Record<Target, string[]>;
}

const log = (line: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);


async function waitForFile(path: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (pattern.test(text)) return text;
    await sleep(100);
  }
  throw new Error(`bench: ${path} never matched ${pattern}:\n${existsSync(path) ? readFileSync(path, 'utf8').slice(-2000) : '(missing)'}`);
}

const round3 = (x: number): number => Number(x.toFixed(3));

const started = Date.now();
const lab = await startLab({ nodes: 2, name: `bench-exporter-${process.pid}`, disksMiB: [2048] });
const pids: number[] = [];
try {
  const [node1, node2] = lab.nodes;
  if (!node1 || !node2) throw new Error('bench: lab has fewer than two nodes');
  await loadModules(lab.nodes);
  await Promise.all(lab.nodes.map((n) => createVg(n)));
  const specs = Array.from({ length: 32 }, (_, i) => resource(`r${i}`, i, LV_MIB, '200M'));

  const figures: Record<string, Record<Target, { p50Ms: number; p99Ms: number; meanMs: number; cpuMsPerScrape: number; series: number; bytes: number; gzipBytes: number }>> = {};
  let have = 0;
  for (const count of COUNTS) {
    log(`setting up ${count - have} more resource(s) (${LV_MIB} MiB each)`);
    await addResources(lab.nodes, specs.slice(have, count));
    have = count;

    // Fresh exporters per count, so each one's CPU covers only these scrapes.
    const hastorOut = join(node1.nodeDir, `bench-hastor-${count}.out`);
    const hastorPid = await node1.spawnBackground([GUEST_NODE, distPath('guest', 'exporter-run.js'), '--listen', HASTOR, '--no-lvm'], { stdoutPath: hastorOut });
    pids.push(hastorPid);
    await waitForFile(hastorOut, /"event":"listening"/);
    const uncachedOut = join(node1.nodeDir, `bench-hastor-uncached-${count}.out`);
    const uncachedPid = await node1.spawnBackground([GUEST_NODE, distPath('guest', 'exporter-run.js'), '--listen', HASTOR_UNCACHED, '--no-lvm', '--no-cache'], { stdoutPath: uncachedOut });
    pids.push(uncachedPid);
    await waitForFile(uncachedOut, /"event":"listening"/);
    const neOut = join(node1.nodeDir, `bench-node-exporter-${count}.out`);
    const nePid = await node1.spawnBackground(
      ['prometheus-node-exporter', '--collector.disable-defaults', '--collector.drbd', `--web.listen-address=${NODE_EXPORTER}`, '--log.level=warn'],
      { stdoutPath: neOut },
    );
    pids.push(nePid);
    const neDeadline = Date.now() + 30_000;
    while ((await node1.exec(['curl', '-sf', '-o', '/dev/null', `http://${NODE_EXPORTER}/metrics`])).exitCode !== 0) {
      if (Date.now() > neDeadline) throw new Error(`node_exporter did not answer:\n${readFileSync(neOut, 'utf8')}`);
      await sleep(200);
    }

    log(`${count} resource(s) Connected UpToDate/UpToDate; ${ROUNDS} interleaved scrape rounds`);
    const result = await node1.guestScript<GuestResult>(
      'bench-exporter-scrape',
      [
        '--rounds',
        String(ROUNDS),
        '--target',
        `hastor=http://${HASTOR}=${hastorPid}`,
        '--target',
        `hastorUncached=http://${HASTOR_UNCACHED}=${uncachedPid}`,
        '--target',
        `nodeExporter=http://${NODE_EXPORTER}=${nePid}`,
      ],
      { timeoutMs: 900_000 },
    );
    figures[String(count)] = Object.fromEntries(
      TARGETS.map((t) => {
        const samples = result.times[t];
        const sorted = [...samples].sort((a, b) => a - b);
        return [
          t,
          {
            p50Ms: round3(percentile(sorted, 50)),
            p99Ms: round3(percentile(sorted, 99)),
            meanMs: round3(samples.reduce((a, b) => a + b, 0) / samples.length),
            cpuMsPerScrape: round3((result.cpuSeconds[t] * 1000) / result.rounds),
            series: result.series[t],
            bytes: result.bytes[t],
            gzipBytes: result.wireBytes[t],
          },
        ];
      }),
    ) as (typeof figures)[string];
    log(`samples: ${JSON.stringify(result.sample)}`);
    for (const pid of [hastorPid, uncachedPid, nePid]) {
      await node1.exec(['kill', '-TERM', String(pid)]);
      pids.splice(pids.indexOf(pid), 1);
    }
    await sleep(500);
  }

  const comparisons: Record<string, number | boolean> = {};
  for (const count of COUNTS) {
    const f = figures[String(count)]!;
    // > 1: hastor answers faster than node_exporter; < 1: slower.
    comparisons[`hastorP50VsNodeExporterP50Speedup${count}`] = Number((f.nodeExporter.p50Ms / f.hastor.p50Ms).toFixed(2));
    comparisons[`hastorCpuPerScrapeVsNodeExporter${count}`] = Number((f.hastor.cpuMsPerScrape / Math.max(f.nodeExporter.cpuMsPerScrape, 0.001)).toFixed(2));
    comparisons[`hastorSeriesVsNodeExporter${count}`] = Number((f.hastor.series / f.nodeExporter.series).toFixed(2));
    comparisons[`hastorUncachedP50VsNodeExporterP50Speedup${count}`] = Number((f.nodeExporter.p50Ms / f.hastorUncached.p50Ms).toFixed(2));
    comparisons[`goalHastorP50NoSlower${count}Met`] = f.hastor.p50Ms <= f.nodeExporter.p50Ms;
  }
  // The key the issue names: hastor p50 / node_exporter p50 (lower is better for hastor), at 32 resources.
  comparisons['hastorP50VsNodeExporterP50'] = Number((figures['32']!.hastor.p50Ms / figures['32']!.nodeExporter.p50Ms).toFixed(2));

  const col = (s: string | number, w = 10): string => String(s).padStart(w);
  console.log(`one /metrics scrape in a UML node (DRBD 8.4.11, kernel 6.1 UML), ${ROUNDS} interleaved rounds per count; times in ms`);
  console.log(`${'exporter'.padEnd(46)}${col('res')}${col('p50')}${col('p99')}${col('cpu/scr')}${col('series')}${col('bytes')}${col('gzipped')}`);
  for (const count of COUNTS) {
    for (const t of TARGETS) {
      const f = figures[String(count)]![t];
      console.log(`${LABELS[t].padEnd(46)}${col(count)}${col(f.p50Ms.toFixed(3))}${col(f.p99Ms.toFixed(3))}${col(f.cpuMsPerScrape.toFixed(3))}${col(f.series)}${col(f.bytes)}${col(f.gzipBytes)}`);
    }
  }
  for (const [key, value] of Object.entries(comparisons)) console.log(`${key.padEnd(48)} ${String(value)}`);
  const path = saveResult('lab-exporter', {
    rounds: ROUNDS,
    setup: {
      nodes: 2,
      resourceCounts: [...COUNTS],
      lvMiB: LV_MIB,
      drbd: '8.4.11 (in-tree, UML kernel 6.1)',
      states: 'Connected Secondary/Secondary UpToDate/UpToDate',
      exporters: LABELS,
      hastorFlags: '--no-lvm',
      nodeExporterFlags: '--collector.disable-defaults --collector.drbd',
      client: 'node http, one keep-alive connection per exporter, Accept-Encoding: gzip (as Prometheus sends), body gunzipped and counted',
      cpu: 'utime+stime of the exporter process from /proc/<pid>/stat over the timed rounds, divided by the rounds (10 ms ticks)',
    },
    figures,
    comparisons,
    wallSeconds: Math.round((Date.now() - started) / 1000),
  });
  console.log(`saved ${path}`);
} finally {
  for (const pid of pids) await lab.nodes[0]?.exec(['kill', '-TERM', String(pid)]).catch(() => undefined);
  await lab.stop({ ignoreConsole: true });
}
