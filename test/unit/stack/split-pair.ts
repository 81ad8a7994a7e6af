/**
 * r5's two nodes as the lab left them after a real split brain
 * (test/fixtures/lab-8.4.11-split-brain), scripted: every reply is a capture,
 * or a capture with one substitution where a test needs a state the lab did
 * not print (each such use says what it derives).
 */
import type { ResourceDefinitionInput } from '../../../src/drbd/config/index.js';
import { lvsArgv, vgsArgv, detectLvmVersion } from '../../../src/lvm/index.js';
import { Cluster } from '../../../src/stack/cluster.js';
import { DrbdResource } from '../../../src/stack/drbd-resource.js';
import { fullSnapshotBytes } from '../../../src/stack/split-brain.js';
import { ScriptedExecutor, fixtureReply, type Reply } from '../drbd/lifecycle/scripted-executor.js';
import { MOUNTINFO_UNMOUNTED } from './two-nodes.js';

export const DIR = 'lab-8.4.11-split-brain';
export const file = (name: string): Reply => fixtureReply(`${DIR}/${name}`);
export const EVENTS2 = 'drbdsetup events2 --now --statistics r5';
export const VERSION = detectLvmVersion(file('lvm-version.txt').stdout);
export const LVS = lvsArgv({ version: VERSION, lvs: [{ vg: 'vg_lab', lv: 'r5_disk' }] });
export const VGS = vgsArgv({ version: VERSION, vgs: ['vg_lab'] });
export const NOW = new Date('2026-12-07T04:05:06Z');
export const SNAPSHOT = 'r5_disk_sb_20261207040506';
export const OK: Reply = { stdout: '', stderr: '', exitCode: 0 };
export const FD_SCAN_R5 = ['find', '/proc', '-mindepth', '3', '-maxdepth', '3', '-path', '/proc/[0-9]*/fd/*', '(', '-lname', '/dev/drbd5', ')', '-print'];

/** r5 as the lab ran it (r5.res in the fixtures). */
export const R5: ResourceDefinitionInput = {
  name: 'r5',
  target: '8.4',
  protocol: 'C',
  net: { pingInt: 3, pingTimeout: 10, connectInt: 3, timeout: 20, verifyAlg: 'crc32c', afterSb0pri: 'disconnect', afterSb1pri: 'disconnect', afterSb2pri: 'disconnect' },
  disk: { cPlanAhead: 0, resyncRate: '100M' },
  nodes: [1, 2].map((i) => ({
    name: `node${i}`,
    address: `ipv4 10.99.0.${i}:7794`,
    volumes: [{ volume: 0, minor: 5, device: '/dev/drbd5', disk: '/dev/vg_lab/r5_disk', metaDisk: 'internal' as const }],
  })),
};

/** A reply with one substitution, for states the lab did not capture verbatim (each use says what it derives). */
export const derived = (reply: Reply, from: string | RegExp, to: string): Reply => {
  const stdout = reply.stdout.replace(from, to);
  if (stdout === reply.stdout) throw new Error(`derived reply: ${String(from)} not found`);
  return { ...reply, stdout };
};

export interface Pair {
  node1: ScriptedExecutor;
  node2: ScriptedExecutor;
  cluster: Cluster;
  r5: DrbdResource;
}

/** Both nodes as the lab left them after the split brain: StandAlone, both Primary, node2 changed more. */
export function splitPair(): Pair {
  const make = (name: string): ScriptedExecutor => {
    const ex = new ScriptedExecutor(name)
      .reply('uname -n', { stdout: `${name}\n`, stderr: '', exitCode: 0 })
      .reply('drbdadm --version', 'version')
      .reply(EVENTS2, file(`events2-now-statistics-standalone-${name}.txt`))
      .reply('cat -- /proc/drbd', file(`proc-drbd-standalone-${name}.txt`))
      .reply('drbdsetup show-gi 5', file(`show-gi-split-brain-${name}.txt`))
      .reply('dmesg', file(`dmesg-drbd-r5-${name}.txt`))
      .reply('lvm version', file('lvm-version.txt'))
      // Both nodes' LVs were made alike; the lvs/vgs capture is node2's.
      .reply(LVS, file('lvs-r5-after-node2.json'))
      .reply(VGS, file('vgs-after-node2.json'))
      .reply('cat -- /sys/block/drbd5/dev', { stdout: '147:5\n', stderr: '', exitCode: 0 })
      .reply('ls -1 -- /sys/block/drbd5/holders', OK)
      .reply('cat -- /proc/self/mountinfo', MOUNTINFO_UNMOUNTED)
      .reply(FD_SCAN_R5, OK);
    return ex;
  };
  const node1 = make('node1');
  const node2 = make('node2');
  const cluster = new Cluster([
    { name: 'node1', executor: node1 },
    { name: 'node2', executor: node2 },
  ]);
  return { node1, node2, cluster, r5: new DrbdResource(cluster, R5) };
}

/** The kernel's answers to the resolution, as the lab printed them: demote, then connected and in sync after the connects. */
export function scriptResolution(t: Pair): void {
  const lvcreate = ['lvcreate', '-s', '-n', SNAPSHOT, '-c', '4k', '-L', `${fullSnapshotBytes(67108864n, 4194304n)}b`, '--addtag', 'hastor_split_brain', 'vg_lab/r5_disk'];
  t.node2.reply(lvcreate, OK);
  t.node2.reply('drbdadm secondary r5', OK).on('drbdadm secondary r5', () => {
    // Derived: the StandAlone capture with node2's role after `secondary`.
    t.node2.reply(EVENTS2, derived(file('events2-now-statistics-standalone-node2.txt'), 'role:Primary', 'role:Secondary'));
  });
  t.node2.reply('drbdadm connect --discard-my-data r5', OK);
  t.node1.reply('drbdadm connect r5', OK).on('drbdadm connect r5', () => {
    t.node1.reply(EVENTS2, file('events2-now-statistics-resolved-node1.txt'));
    t.node2.reply(EVENTS2, file('events2-now-statistics-resolved-node2.txt'));
  });
}

const CHANGES = /^(lvcreate|lvremove|drbdadm (secondary|primary|connect|disconnect|invalidate|down))\b/;

/** Every command that changed something, as `node: argv`. */
export const changes = (t: Pair): string[] => [
  ...t.node1.commands.filter((c) => CHANGES.test(c)).map((c) => `node1: ${c}`),
  ...t.node2.commands.filter((c) => CHANGES.test(c)).map((c) => `node2: ${c}`),
];
export { CHANGES };
