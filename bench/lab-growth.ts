/**
 * `npm run bench:lab` (third part): a guest disk grown through all three tiers,
 * by `grow()` as a new `hastor grow` process runs it (names checked, topology discovered,
 * every tier read, planned, run, each tier re-read after its step),
 * by `grow()` reading LVM fork-per-call instead of through its lvm shells, and by a
 * plain script of the same commands run the same way (through the lab agent, one
 * after another, zeroing the new DRBD area as hastor does), in rotating rounds on one stack. Prints a table and writes
 * bench/results/lab-growth.json.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { grow } from '../src/stack/growth/execute.js';
import { discoverGrowthTopology } from '../src/stack/growth/topology.js';
import { LvmRunnerPool } from '../src/lvm/executor-runner.js';
import { buildGuest, buildSharedTier2, buildTier1AndDrbd, connectGrowthLab, GUEST_DATA_LV, GUEST_LV, GUEST_VG, MiB, SHARED_VG, VG, type GrowthStack } from '../test/lab/growth-scenario.js';
import { attachLab, startLab } from '../test/lab/harness/lab.js';
import { LabExecutor, type LabExecutorCall } from '../test/lab/harness/lab-executor.js';
import { Cluster } from '../src/stack/cluster.js';
import { saveResult } from './machine.js';

// Two sizes of growth: a small one, where hastor's reads are most of the extra time, and a
// larger one, where writing the new area (as in real growths of many GiB) is a larger share.
const PHASES: Array<{ stepMiB: bigint; rounds: number }> = [
  { stepMiB: 32n, rounds: Number(process.env['BENCH_GROWTH_ROUNDS'] ?? 5) },
  { stepMiB: 256n, rounds: Number(process.env['BENCH_GROWTH_BIG_ROUNDS'] ?? 2) },
];

/** Where a hastor round's time went: discovery, the first read, each step (command + check), the resync wait. */
const profiles: string[] = [];

async function hastorRound(stack: GrowthStack, to: bigint, lvmShell = true): Promise<number> {
  const started = performance.now();
  const firstCall = stack.calls.length;
  const marks: string[] = [];
  const at = () => ((performance.now() - started) / 1000).toFixed(2);
  // As a new `hastor grow` process does it: executors that have learnt nothing yet (lvm and DRBD
  // versions, the lvm shell's profile), the node names checked, then one pool of lvm runners
  // warmed while discovery reads.
  const onCall = (c: LabExecutorCall) => stack.calls.push(c);
  const [e1, e2, e3] = [stack.node1, stack.node2, stack.node3].map((n) => new LabExecutor(n, { onCall }));
  const cluster = await Cluster.connect([
    { name: 'node1', executor: e1! },
    { name: 'node2', executor: e2! },
  ]);
  const lvm = new LvmRunnerPool(lvmShell);
  const topology = await discoverGrowthTopology(cluster, { lv: { vg: SHARED_VG, lv: GUEST_LV } }, { node: 'node3', executor: e3!, vg: GUEST_VG, lv: GUEST_DATA_LV }, { lvm });
  marks.push(`discovered ${at()}`);
  await grow(topology, { kind: 'guest-disk', sizeBytes: to }, {
    lockDir: null,
    pollIntervalMs: 500,
    lvm,
    onProgress: (e) => {
      if (e.type === 'plan') marks.push(`planned ${at()}`);
      if (e.type === 'step-done') marks.push(`${e.step.id} ${at()}`);
      if (e.type === 'resync-done') marks.push(`resync-done ${at()}`);
    },
  });
  await lvm.close();
  const ms = performance.now() - started;
  if (process.env['BENCH_GROWTH_TRACE'] === '1') {
    // Every command of the round with its start and end in seconds from the round's start.
    for (const c of stack.calls.slice(firstCall)) {
      const end = (c as { endedAt?: number }).endedAt ?? 0;
      console.log(`  ${((end - c.durationMs - started) / 1000).toFixed(2)}..${((end - started) / 1000).toFixed(2)} ${c.node} ${c.argv.join(' ').slice(0, 90)}`);
    }
  }
  // What the lab executor ran, by command, with the time spent in each.
  const byCommand = new Map<string, { n: number; ms: number }>();
  for (const c of stack.calls.slice(firstCall)) {
    // A shell's command comes as one line: split it the same way.
    const words = c.argv.join(' ').split(' ');
    const key = words.slice(0, words[0] === 'lvm' || words[0] === 'drbdsetup' || words[0] === 'drbdadm' ? 2 : 1).join(' ');
    const v = byCommand.get(key) ?? { n: 0, ms: 0 };
    byCommand.set(key, { n: v.n + 1, ms: v.ms + c.durationMs });
  }
  const top = [...byCommand].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
  profiles.push(`${(ms / 1000).toFixed(1)} s${lvmShell ? '' : ' (fork-per-call lvm)'}: ${marks.join(', ')}\n    commands (count, total ms): ${top.map(([k, v]) => `${k} ${v.n}x ${Math.round(v.ms)}`).join('; ')}`);
  return ms;
}

/** What an operator's script does: the commands in order, the reads the zeroing needs, no checks. */
async function scriptRound(stack: GrowthStack, to: bigint, stepMiB: bigint): Promise<number> {
  const started = performance.now();
  // With BENCH_GROWTH_TRACE, each command with its start and end, as for hastor's rounds.
  const traced = (node: GrowthStack['node1']) => ({
    execOk: async (argv: string[]) => {
      const from = performance.now();
      const result = await node.execOk(argv);
      if (process.env['BENCH_GROWTH_TRACE'] === '1') console.log(`  ${((from - started) / 1000).toFixed(2)}..${((performance.now() - started) / 1000).toFixed(2)} ${node.name} ${argv.join(' ').slice(0, 90)}`);
      return result;
    },
  });
  const [node1, node2, node3] = [traced(stack.node1), traced(stack.node2), traced(stack.node3)];
  // The step the guest disk gains plus 4 MiB: room for DRBD's meta data and extent rounding.
  const tier1 = `+${stepMiB + 4n}m`;
  await node1.execOk(['lvextend', '-L', tier1, `${VG}/r0_disk`]);
  await node2.execOk(['lvextend', '-L', tier1, `${VG}/r0_disk`]);
  // The same safe procedure as hastor's: both nodes stay UpToDate, the new area zeroed through
  // DRBD from the end of the PV's last extent (pe_start + pv_size) to the device's new end.
  await node1.execOk(['drbdadm', '--', '--assume-clean', 'resize', 'r0']);
  const [peStart, pvSize] = (await node1.execOk(['pvs', '--noheadings', '--units', 'b', '--nosuffix', '-o', 'pe_start,pv_size', '/dev/drbd0'])).stdout.trim().split(/\s+/).map(BigInt);
  const deviceEnd = BigInt((await node1.execOk(['blockdev', '--getsize64', '/dev/drbd0'])).stdout.trim());
  const from = peStart! + pvSize!;
  await node1.execOk(['fallocate', '--zero-range', '--offset', `${from}`, '--length', `${deviceEnd - from}`, '/dev/drbd0']);
  await node1.execOk(['pvresize', '/dev/drbd0']);
  await node1.execOk(['lvextend', '--lockopt', 'skiplv', '-L', `${to}b`, `${SHARED_VG}/${GUEST_LV}`]);
  await node2.execOk(['lvchange', '--refresh', `${SHARED_VG}/${GUEST_LV}`]);
  await node3.execOk(['iscsiadm', '-m', 'session', '--rescan']);
  await node3.execOk(['pvresize', stack.guestDevice]);
  await node3.execOk(['lvextend', '-l', '+100%FREE', `${GUEST_VG}/${GUEST_DATA_LV}`]);
  await node3.execOk(['resize2fs', `/dev/${GUEST_VG}/${GUEST_DATA_LV}`]);
  return performance.now() - started;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// While working on grow: BENCH_GROWTH_KEEP=1 leaves the built lab running, and
// BENCH_GROWTH_LAB=<its dir> runs the rounds again on it without building anything.
const attached = process.env['BENCH_GROWTH_LAB'];
const lab = attached === undefined ? await startLab({ nodes: 3, name: 'bench-growth', disksMiB: [4096] }) : attachLab(attached);
try {
  const stack = await connectGrowthLab(lab);
  // When each call ended, for BENCH_GROWTH_TRACE.
  const push = stack.calls.push.bind(stack.calls);
  stack.calls.push = (...cs) => push(...cs.map((c) => Object.assign(c, { endedAt: performance.now() })));
  if (attached === undefined) {
    await buildTier1AndDrbd(stack);
    await buildSharedTier2(stack);
    await buildGuest(stack);
  } else {
    stack.guestDevice = (await stack.node3.execOk(['sh', '-c', `pvs --noheadings -o pv_name -S vg_name=${GUEST_VG}`])).stdout.trim();
  }
  // hastor as shipped, hastor reading LVM fork-per-call (what the lvm shell saves), and the script.
  type Way = 'hastor' | 'hastor-fork' | 'script';
  const rows: Array<{ stepMiB: number; round: number; way: Way; fromMiB: number; toMiB: number; ms: number }> = [];
  let size = BigInt((await stack.node3.execOk(['blockdev', '--getsize64', stack.guestDevice])).stdout.trim());
  const summary: Array<{ stepMiB: number; hastorMedianMs: number; hastorForkMedianMs: number; scriptMedianMs: number; ratio: number; forkRatio: number }> = [];
  for (const phase of PHASES) {
    for (let round = 1; round <= phase.rounds; round++) {
      // Rotate which goes first, so none always meets the fuller VG.
      const ways: Way[] = ['hastor', 'script', 'hastor-fork'];
      const order = [...ways.slice((round - 1) % 3), ...ways.slice(0, (round - 1) % 3)];
      for (const way of order) {
        const to = size + phase.stepMiB * MiB;
        const ms = way === 'script' ? await scriptRound(stack, to, phase.stepMiB) : await hastorRound(stack, to, way === 'hastor');
        rows.push({ stepMiB: Number(phase.stepMiB), round, way, fromMiB: Number(size / MiB), toMiB: Number(to / MiB), ms: Math.round(ms) });
        console.log(`+${phase.stepMiB} MiB round ${round} ${way.padEnd(11)} ${size / MiB} -> ${to / MiB} MiB: ${(ms / 1000).toFixed(1)} s`);
        size = to;
      }
    }
    const mine = rows.filter((r) => r.stepMiB === Number(phase.stepMiB));
    const h = median(mine.filter((r) => r.way === 'hastor').map((r) => r.ms));
    const f = median(mine.filter((r) => r.way === 'hastor-fork').map((r) => r.ms));
    const p = median(mine.filter((r) => r.way === 'script').map((r) => r.ms));
    summary.push({ stepMiB: Number(phase.stepMiB), hastorMedianMs: h, hastorForkMedianMs: f, scriptMedianMs: p, ratio: Number((h / p).toFixed(3)), forkRatio: Number((f / p).toFixed(3)) });
  }
  const small = summary[0]!;
  const big = summary[1]!;
  const comparisons = {
    // = hastor grow median time / plain script median time (lower is better; goal under 1.1)
    hastorGrowOverheadVsPlainScript: small.ratio,
    hastorGrowOverheadVsPlainScript256MiB: big.ratio,
    goalUnder1_1Met: small.ratio < 1.1,
    // The same with LVM read fork-per-call (no lvm shell), against the same script rounds.
    hastorForkPerCallOverheadVsPlainScript: small.forkRatio,
    hastorForkPerCallOverheadVsPlainScript256MiB: big.forkRatio,
  };
  console.log(`${'growth step'.padEnd(14)}${'hastor median s'.padStart(17)}${'fork-lvm median s'.padStart(19)}${'script median s'.padStart(17)}${'ratio'.padStart(8)}${'fork ratio'.padStart(12)}`);
  for (const r of summary) {
    console.log(
      `${`+${r.stepMiB} MiB`.padEnd(14)}${(r.hastorMedianMs / 1000).toFixed(1).padStart(17)}${(r.hastorForkMedianMs / 1000).toFixed(1).padStart(19)}${(r.scriptMedianMs / 1000).toFixed(1).padStart(17)}${r.ratio.toFixed(2).padStart(8)}${r.forkRatio.toFixed(2).padStart(12)}`,
    );
  }
  console.log(comparisons);
  console.log(`hastor rounds, where the time went:\n  ${profiles.join('\n  ')}`);
  console.log(`saved ${saveResult('lab-growth', { rounds: rows, summary, comparisons, hastorProfiles: profiles })}`);
} finally {
  if (attached === undefined && process.env['BENCH_GROWTH_KEEP'] === '1') console.log(`lab kept running: BENCH_GROWTH_LAB=${lab.dir}`);
  else if (attached === undefined) await lab.stop({ ignoreConsole: true });
}
