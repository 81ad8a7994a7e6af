/**
 * The lab's two nodes as scripted executors: node1 and node2 answering with
 * what DRBD 8.4.11 printed in the lab (test/fixtures/lab-8.4.11-lifecycle),
 * and r0 as the lab defined it.
 */
import type { ResourceDefinitionInput } from '../../../src/drbd/config/index.js';
import { Cluster } from '../../../src/stack/cluster.js';
import { DrbdResource, type DrbdResourceOptions } from '../../../src/stack/drbd-resource.js';
import { ScriptedExecutor, capture, type Reply } from '../drbd/lifecycle/scripted-executor.js';

export const EVENTS2 = 'drbdsetup events2 --now --statistics r0';
export const SHOW = 'drbdsetup show r0';
export const WIPEFS = 'wipefs --no-act --output TYPE --noheadings /dev/vg_lab/r0_disk';
export const CONFIG = '/etc/drbd.d/r0.res';
export const FD_SCAN = ['find', '/proc', '-mindepth', '3', '-maxdepth', '3', '-path', '/proc/[0-9]*/fd/*', '(', '-lname', '/dev/drbd0', ')', '-print'];
export const OK: Reply = { stdout: '', stderr: '', exitCode: 0 };
export const CRM_MON = 'crm_mon -1 --output-as=xml';
/** A node without Pacemaker: the shell's "not found". */
export const NO_PACEMAKER: Reply = { stdout: '', stderr: 'sh: 1: crm_mon: not found\n', exitCode: 127 };

/** r0 as the lab ran it (captures were taken with this configuration). */
export const R0: ResourceDefinitionInput = {
  name: 'r0',
  target: '8.4',
  protocol: 'C',
  net: { pingInt: 3, pingTimeout: 10, connectInt: 3, timeout: 20, verifyAlg: 'crc32c' },
  disk: { cPlanAhead: 0, resyncRate: '200M' },
  nodes: [1, 2].map((i) => ({
    name: `node${i}`,
    address: `ipv4 10.99.0.${i}:7789`,
    volumes: [{ volume: 0, minor: 0, device: '/dev/drbd0', disk: '/dev/vg_lab/r0_disk', metaDisk: 'internal' as const }],
  })),
};

/** r0 with what the dual-primary rules want. */
export const R0_SAFE: ResourceDefinitionInput = {
  ...R0,
  net: { ...R0.net, afterSb0pri: 'discard-zero-changes', afterSb1pri: 'discard-secondary', afterSb2pri: 'disconnect' },
  disk: { ...R0.disk, fencing: 'resource-and-stonith' },
  handlers: { fencePeer: '/usr/lib/drbd/crm-fence-peer.sh', afterResyncTarget: '/usr/lib/drbd/crm-unfence-peer.sh' },
};

/** mountinfo as captured, minus the line of the mounted DRBD device (derived: nothing mounted from 147:0). */
export const MOUNTINFO_UNMOUNTED: Reply = {
  ...capture('mountinfo-mounted'),
  stdout: capture('mountinfo-mounted')
    .stdout.split('\n')
    .filter((l) => !l.includes(' 147:0 '))
    .join('\n'),
};

export interface TwoNodes {
  node1: ScriptedExecutor;
  node2: ScriptedExecutor;
  cluster: Cluster;
}

/** Both nodes with drbd 8.4.11 loaded, no r0 file, r0 not up. */
export function twoNodes(): TwoNodes {
  const make = (name: string): ScriptedExecutor =>
    new ScriptedExecutor(name)
      .reply('uname -n', { stdout: `${name}\n`, stderr: '', exitCode: 0 })
      .reply('drbdadm --version', 'version')
      .reply(`cat -- ${CONFIG}`, 'cat-config-missing')
      .reply(EVENTS2, 'events2-absent')
      .reply(SHOW, 'show-absent')
      .reply(CRM_MON, NO_PACEMAKER);
  const node1 = make('node1');
  const node2 = make('node2');
  const cluster = new Cluster([
    { name: 'node1', executor: node1 },
    { name: 'node2', executor: node2 },
  ]);
  return { node1, node2, cluster };
}

/** Waits are real but short: replies change at once in these scripts. */
export function resource(cluster: Cluster, def: ResourceDefinitionInput = R0, options: DrbdResourceOptions = {}): DrbdResource {
  return new DrbdResource(cluster, def, { pollIntervalMs: 0, timeouts: { connectMs: 500, syncMs: 500, roleMs: 500, verifyMs: 500 }, clusterManager: null, ...options });
}

/** Device users of /dev/drbd0 on a node: `mounted`, `open` (a process), or nothing. */
export function deviceUse(ex: ScriptedExecutor, use: 'none' | 'mounted' | 'open' | 'held'): void {
  ex.reply('cat -- /sys/block/drbd0/dev', 'sys-dev')
    .reply('ls -1 -- /sys/block/drbd0/holders', use === 'held' ? 'holders-dm' : 'holders-empty')
    .reply('cat -- /proc/self/mountinfo', use === 'mounted' ? capture('mountinfo-mounted') : MOUNTINFO_UNMOUNTED)
    .reply(FD_SCAN, use === 'open' ? 'fd-scan-open' : 'fd-scan-none');
}

/** Both nodes connected and in sync: node1 Primary, node2 Secondary, running the safe configuration. */
export function primarySecondary(t: TwoNodes): void {
  t.node1.reply(EVENTS2, 'events2-primary').reply(SHOW, 'show-safe');
  t.node2.reply(EVENTS2, 'events2-secondary').reply(SHOW, 'show-two-primaries-off-node2');
}

/** Scripts fresh LVs into `t`: the kernel's state then follows create's actions the way it did in the lab. */
export function scriptFreshCreate(t: TwoNodes): TwoNodes {
  for (const [n, i] of [
    [t.node1, 1],
    [t.node2, 2],
  ] as const) {
    n.reply(WIPEFS, 'wipefs-blank')
      .reply('drbdadm create-md r0', 'create-md')
      .on('drbdadm create-md r0', () => n.reply(WIPEFS, 'wipefs-drbd'))
      .reply('drbdadm up r0', 'up')
      .on('drbdadm up r0', () => n.reply(EVENTS2, `events2-inconsistent-node${i}`));
  }
  t.node1
    .reply('drbdadm primary --force r0', 'primary-force')
    .on('drbdadm primary --force r0', () => {
      t.node1.reply(EVENTS2, 'events2-syncsource-primary');
      t.node2.reply(EVENTS2, 'events2-synctarget');
    })
    .reply('drbdadm secondary r0', 'secondary')
    .on('drbdadm secondary r0', () => {
      t.node1.reply(EVENTS2, 'events2-syncsource-secondary', 'events2-uptodate-secondary-node1');
      t.node2.reply(EVENTS2, 'events2-synctarget', 'events2-uptodate-secondary-node2');
    });
  return t;
}

/** What create runs on a fresh pair, in order (node: argv). */
export const CREATE_ACTIONS = [
  'node1: write-file /etc/drbd.d/r0.res',
  'node2: write-file /etc/drbd.d/r0.res',
  'node1: drbdadm create-md r0',
  'node1: drbdadm up r0',
  'node2: drbdadm create-md r0',
  'node2: drbdadm up r0',
  'node1: drbdadm primary --force r0',
  'node1: drbdadm secondary r0',
];

/** What delete runs on a pair that is up, in order (node: argv). */
export const DELETE_ACTIONS = [
  'node1: drbdadm down r0',
  'node2: drbdadm down r0',
  'node1: drbdadm -- --force wipe-md r0',
  'node1: rm -f -- /etc/drbd.d/r0.res',
  'node2: drbdadm -- --force wipe-md r0',
  'node2: rm -f -- /etc/drbd.d/r0.res',
];
