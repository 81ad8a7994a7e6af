/**
 * `npm run bench:lab` (third part): a guest disk grown through all three tiers,
 * by `grow()` (reads every tier, plans, runs, re-reads each tier after its step)
 * and by a plain script of the same commands run the same way (through the lab
 * agent, one after another, waiting for the resync on /proc/drbd), alternating
 * rounds of +32 MiB each on one stack. Prints a table and writes
 * bench/results/lab-growth.json.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { grow } from '../src/stack/growth/execute.js';
import { discoverGrowthTopology } from '../src/stack/growth/topology.js';
import { buildGuest, buildSharedTier2, buildTier1AndDrbd, connectGrowthLab, GUEST_DATA_LV, GUEST_LV, GUEST_VG, MiB, SHARED_VG, VG, type GrowthStack } from '../test/lab/growth-scenario.js';
import { startLab } from '../test/lab/harness/lab.js';
import { saveResult } from './machine.js';

const ROUNDS = Number(process.env['BENCH_GROWTH_ROUNDS'] ?? 3);
const STEP = 32n * MiB;

async function hastorRound(stack: GrowthStack, to: bigint): Promise<number> {
  const started = performance.now();
  const topology = await discoverGrowthTopology(stack.cluster, { lv: { vg: SHARED_VG, lv: GUEST_LV } }, { node: 'node3', executor: stack.e3, vg: GUEST_VG, lv: GUEST_DATA_LV });
  await grow(topology, { kind: 'guest-disk', sizeBytes: to }, { lockDir: null, pollIntervalMs: 500 });
  return performance.now() - started;
}

/** What an operator's script does: the commands in order, a resync wait, no reads, no checks. */
async function scriptRound(stack: GrowthStack, to: bigint): Promise<number> {
  const { node1, node2, node3 } = stack;
  const started = performance.now();
  // +36 MiB: the 32 MiB the guest disk gains, plus room for DRBD's meta data and extent rounding.
  await node1.execOk(['lvextend', '-L', '+36m', `${VG}/r0_disk`]);
  await node2.execOk(['lvextend', '-L', '+36m', `${VG}/r0_disk`]);
  await node1.execOk(['drbdadm', 'resize', 'r0']);
  for (;;) {
    const proc = (await node1.execOk(['cat', '/proc/drbd'])).stdout;
    if (!/sync'ed:|SyncSource|SyncTarget/.test(proc)) break;
    await sleep(500);
  }
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

const lab = await startLab({ nodes: 3, name: 'bench-growth', disksMiB: [1024] });
try {
  const stack = await connectGrowthLab(lab);
  await buildTier1AndDrbd(stack);
  await buildSharedTier2(stack);
  await buildGuest(stack);
  const rows: Array<{ round: number; way: 'hastor' | 'script'; fromMiB: number; toMiB: number; ms: number }> = [];
  let size = 128n * MiB;
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which goes first, so neither always meets the fuller VG.
    const order: Array<'hastor' | 'script'> = round % 2 === 1 ? ['hastor', 'script'] : ['script', 'hastor'];
    for (const way of order) {
      const to = size + STEP;
      const ms = way === 'hastor' ? await hastorRound(stack, to) : await scriptRound(stack, to);
      rows.push({ round, way, fromMiB: Number(size / MiB), toMiB: Number(to / MiB), ms: Math.round(ms) });
      console.log(`round ${round} ${way.padEnd(6)} ${size / MiB} -> ${to / MiB} MiB: ${(ms / 1000).toFixed(1)} s`);
      size = to;
    }
  }
  const hastorMs = rows.filter((r) => r.way === 'hastor').map((r) => r.ms);
  const scriptMs = rows.filter((r) => r.way === 'script').map((r) => r.ms);
  const ratio = median(hastorMs) / median(scriptMs);
  const comparisons = {
    // = hastor grow median time / plain script median time (lower is better; goal under 1.1)
    hastorGrowOverheadVsPlainScript: Number(ratio.toFixed(3)),
    goalUnder1_1Met: ratio < 1.1,
  };
  console.log(`${'way'.padEnd(34)}${'median s'.padStart(10)}${'runs'.padStart(6)}`);
  console.log(`${'hastor grow (read, plan, verify)'.padEnd(34)}${(median(hastorMs) / 1000).toFixed(1).padStart(10)}${String(hastorMs.length).padStart(6)}`);
  console.log(`${'plain script, same commands'.padEnd(34)}${(median(scriptMs) / 1000).toFixed(1).padStart(10)}${String(scriptMs.length).padStart(6)}`);
  console.log(comparisons);
  console.log(`saved ${saveResult('lab-growth', { stepMiB: Number(STEP / MiB), rounds: rows, hastorMedianMs: median(hastorMs), scriptMedianMs: median(scriptMs), comparisons })}`);
} finally {
  await lab.stop({ ignoreConsole: true });
}
