import { describe, expect, it } from 'vitest';
import { Cluster } from '../../../src/stack/cluster.js';
import { discoverGrowthTopology } from '../../../src/stack/growth/topology.js';
import { GrowthStateReader } from '../../../src/stack/growth/read-state.js';
import { ConfigError } from '../../../src/errors.js';
import type { ExecOptions } from '../../../src/sys/executor.js';
import type { RunResult } from '../../../src/sys/local-exec.js';
import { capture, ScriptedExecutor } from '../drbd/lifecycle/scripted-executor.js';

const EVENTS2_ALL = 'drbdsetup events2 --now --statistics all';
const isSlavesScript = (argv: readonly string[]): boolean => argv[0] === 'sh' && argv[1] === '-c' && argv.at(-1) === '/dev/vgshared/vm1';

/** What the probe printed in the lab for vgshared/vm1 on node1, with `drbd` as the PV. */
const probeOutput = (drbd: string): string => `254:2 dm-2 851968 /sys/devices/virtual/block/dm-2 vgshared-vm1\n147:${drbd.slice(4)} ${drbd} 1392520 /sys/devices/virtual/block/${drbd}\n`;

/** node1 as the lab recorded it: r0 on minor 0 under the tier-2 LV vgshared/vm1. */
function node1(dumpAll: { stdout: string; stderr: string; exitCode: number } = capture('dump-node1')): ScriptedExecutor {
  const e = new ScriptedExecutor('node1')
    .reply(EVENTS2_ALL, capture('events2-dual-primary-node1'))
    .reply('drbdadm --version', 'version')
    .reply('drbdadm dump all', dumpAll)
    .reply('drbdadm dump r0', 'dump-node1');
  const run = e.run.bind(e);
  // The stat-and-list script's argv carries the script itself: answer it by its device argument.
  e.run = (argv: readonly string[], options?: ExecOptions): Promise<RunResult> => {
    if (isSlavesScript(argv)) {
      e.calls.push({ argv: [...argv], root: options?.root ?? false });
      return Promise.resolve({ stdout: probeOutput('drbd0'), stderr: '', exitCode: 0 });
    }
    return run(argv, options);
  };
  return e;
}

describe('discoverGrowthTopology from a tier-2 LV', () => {
  it('finds the resource, its tier-1 LVs and the tier-2 VG from one round of reads on the first node', async () => {
    const e1 = node1();
    const cluster = new Cluster([
      { name: 'node1', executor: e1 },
      { name: 'node2', executor: new ScriptedExecutor('node2') },
    ]);
    const topology = await discoverGrowthTopology(cluster, { lv: { vg: 'vgshared', lv: 'vm1' } });
    expect(topology).toMatchObject({
      resource: 'r0',
      minor: 0,
      device: '/dev/drbd0',
      tier1: [
        { node: 'node1', vg: 'vg_lab', lv: 'r0_disk' },
        { node: 'node2', vg: 'vg_lab', lv: 'r0_disk' },
      ],
      tier2: { vg: 'vgshared', lv: 'vm1' },
      guest: null,
    });
    // Every resource's configuration was read at once with the device; the minor named ours, so
    // neither the kernel's list of resources nor ours alone was read.
    expect(e1.commands).toContain('drbdadm dump all');
    expect(e1.commands).not.toContain('drbdadm dump r0');
    expect(e1.commands).not.toContain(EVENTS2_ALL);
    expect(e1.calls.filter((c) => isSlavesScript(c.argv))).toHaveLength(1);
    // Its own two reads are asked for before the versions the first read needs (a small node starts them in that order).
    const order = e1.calls.map((c) => (isSlavesScript(c.argv) ? 'probe' : c.argv.slice(0, 2).join(' ')));
    expect(order.slice(0, 2)).toEqual(['probe', 'drbdadm dump']);
    expect(order).toContain('drbdadm --version');
  });

  it('issues the device and configuration reads before either answers', async () => {
    const e1 = node1();
    const run = e1.run.bind(e1);
    let inFlight = 0;
    let release!: () => void;
    const allIssued = new Promise<void>((resolve) => (release = resolve));
    // Nothing answers until both reads of the first round are issued; a chain would wait forever.
    e1.run = async (argv, options) => {
      if ((isSlavesScript(argv) || argv.join(' ') === 'drbdadm dump all') && ++inFlight === 2) release();
      await Promise.race([allIssued, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${inFlight} reads issued at once`)), 2000))]);
      return run(argv, options);
    };
    const cluster = new Cluster([
      { name: 'node1', executor: e1 },
      { name: 'node2', executor: new ScriptedExecutor('node2') },
    ]);
    await expect(discoverGrowthTopology(cluster, { lv: { vg: 'vgshared', lv: 'vm1' } })).resolves.toMatchObject({ resource: 'r0' });
  });

  it("dumps only its own resource when another resource's configuration cannot be imported", async () => {
    const unreadable = capture('dump-node1');
    const e1 = node1({ ...unreadable, stdout: `${unreadable.stdout}\nresource odd {\n    frobnicate yes;\n}\n` });
    const cluster = new Cluster([
      { name: 'node1', executor: e1 },
      { name: 'node2', executor: new ScriptedExecutor('node2') },
    ]);
    const topology = await discoverGrowthTopology(cluster, { lv: { vg: 'vgshared', lv: 'vm1' } });
    expect(topology.tier1.map((t) => `${t.node}:${t.vg}/${t.lv}`)).toEqual(['node1:vg_lab/r0_disk', 'node2:vg_lab/r0_disk']);
    // The kernel named the resource on the minor, and its configuration was dumped alone.
    expect(e1.commands).toContain(EVENTS2_ALL);
    expect(e1.commands).toContain('drbdadm dump r0');
  });

  it('names the minor when no resource runs on the PV under the LV', async () => {
    const e1 = node1();
    const run = e1.run.bind(e1);
    e1.run = (argv, options) => (isSlavesScript(argv) ? Promise.resolve({ stdout: probeOutput('drbd7'), stderr: '', exitCode: 0 }) : run(argv, options));
    const cluster = new Cluster([{ name: 'node1', executor: e1 }]);
    await expect(discoverGrowthTopology(cluster, { lv: { vg: 'vgshared', lv: 'vm1' } })).rejects.toThrow(/no DRBD resource with minor 7 is up on node1/);
  });
});

describe('GrowthStateReader reading DRBD', () => {
  const topologyOn = (minor: number, e1: ScriptedExecutor, e2: ScriptedExecutor) => ({
    cluster: new Cluster([
      { name: 'node1', executor: e1 },
      { name: 'node2', executor: e2 },
    ]),
    resource: 'r0',
    minor,
    device: `/dev/drbd${minor}`,
    tier1: [
      { node: 'node1', vg: 'vg_lab', lv: 'r0_disk' },
      { node: 'node2', vg: 'vg_lab', lv: 'r0_disk' },
    ],
    tier2: null,
    guest: null,
  });
  const scripted = (node: 'node1' | 'node2') =>
    new ScriptedExecutor(node).reply('drbdadm --version', 'version').reply('drbdsetup events2 --now --statistics r0', `events2-dual-primary-${node}`);

  it("takes each node's size from events2's statistics, with no sysfs read", async () => {
    const [e1, e2] = [scripted('node1'), scripted('node2')];
    const reading = await new GrowthStateReader(topologyOn(0, e1, e2)).readDrbdOnly({ state: { tier1: [], drbd: { resource: 'r0', device: '/dev/drbd0', sizeBytes: 0n, resyncRunning: false, nodes: [] } }, sync: [] });
    // 65496 KiB, as both nodes' events2 printed it in the lab.
    expect(reading.state.drbd.sizeBytes).toBe(65496n * 1024n);
    expect(reading.state.drbd.nodes.map((n) => `${n.node}:${n.role}`)).toEqual(['node1:Primary', 'node2:Primary']);
    expect([...e1.commands, ...e2.commands].filter((c) => c.startsWith('cat'))).toEqual([]);
  });

  it('refuses when the kernel runs the resource on another minor than its configuration names', async () => {
    const [e1, e2] = [scripted('node1'), scripted('node2')];
    const read = new GrowthStateReader(topologyOn(3, e1, e2)).readDrbdOnly({ state: { tier1: [], drbd: { resource: 'r0', device: '/dev/drbd3', sizeBytes: 0n, resyncRunning: false, nodes: [] } }, sync: [] });
    await expect(read).rejects.toThrow(ConfigError);
    await expect(read).rejects.toThrow(/node1: DRBD runs r0 on minor 0, but its configuration says minor 3/);
  });
});
