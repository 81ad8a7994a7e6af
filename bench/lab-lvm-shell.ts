/**
 * `npm run bench:lab` (second part): 100 LV reports (`lvs` of one VG) through
 * hastor's persistent lvm shell and through a process per query, alternating,
 * on a real lvm2 in a UML node. Prints a table and writes
 * bench/results/lab-lvm-shell.json.
 */
import { createVg } from '../test/lab/drbd-scenario.js';
import { startLab } from '../test/lab/harness/lab.js';
import { saveResult } from './machine.js';

const COUNT = Number(process.env['BENCH_LVM_QUERIES'] ?? 100);

interface ProbeResult {
  version: string;
  first: { startMs: number };
  bench: { count: number; shellTotalMs: number; forkTotalMs: number; shellMedianMs: number; forkMedianMs: number; sameResults: boolean };
}

const lab = await startLab({ nodes: 2, name: 'bench-lvm' });
try {
  const node = lab.nodes[0];
  if (!node) throw new Error('bench: no node');
  await createVg(node);
  for (let i = 0; i < 4; i++) await node.execOk(['lvcreate', '-y', '-L', '8M', '-n', `lv${i}`, 'vg_lab']);
  const result = await node.guestScript<ProbeResult>('lvm-shell-probe', ['--vg', 'vg_lab', '--count', String(COUNT)], { timeoutMs: 600_000 });
  const b = result.bench;
  if (!b.sameResults) throw new Error('bench: the shell and the forked lvs disagreed');
  const comparisons = {
    // = process-per-query total time / shell total time
    lvmShellSpeedupVsProcessPerQuery: Number((b.forkTotalMs / b.shellTotalMs).toFixed(2)),
    goal5xMet: b.forkTotalMs / b.shellTotalMs >= 5,
  };
  console.log(`${b.count} \`lvs vg_lab\` reports in a UML node (lvm2 ${result.version}), alternating; shell start ${result.first.startMs} ms`);
  console.log(`${'way'.padEnd(22)}${'total ms'.padStart(10)}${'median ms'.padStart(11)}`);
  console.log(`${'persistent lvm shell'.padEnd(22)}${b.shellTotalMs.toFixed(1).padStart(10)}${b.shellMedianMs.toFixed(1).padStart(11)}`);
  console.log(`${'a process per query'.padEnd(22)}${b.forkTotalMs.toFixed(1).padStart(10)}${b.forkMedianMs.toFixed(1).padStart(11)}`);
  console.log(comparisons);
  console.log(`saved ${saveResult('lab-lvm-shell', { lvm2: result.version, queries: b.count, shellStartMs: result.first.startMs, figures: b, comparisons })}`);
} finally {
  await lab.stop({ ignoreConsole: true });
}
