/**
 * Discovery and the first read of a growth, replayed from what the lab's nodes answered
 * (test/fixtures/lab-growth-read): which node reads what, and what the state says.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandError, ConfigError } from '../../../src/errors.js';
import { Cluster } from '../../../src/stack/cluster.js';
import { readGrowthState } from '../../../src/stack/growth/read-state.js';
import { discoverGrowthTopology } from '../../../src/stack/growth/topology.js';
import type { ExecOptions, Executor } from '../../../src/sys/executor.js';
import type { RunResult } from '../../../src/sys/local-exec.js';

interface Recorded {
  node: string;
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

const recorded = (JSON.parse(readFileSync(new URL('../../fixtures/lab-growth-read/first-read.json', import.meta.url), 'utf8')) as { calls: Recorded[] }).calls;

/** The block device probe is keyed by its path, not its script's text. */
const keyOf = (argv: readonly string[]): string => (argv[0] === 'sh' && argv[3] === 'hastor-probe' ? `probe ${argv[4]}` : argv.join(' '));

class ReplayExecutor implements Executor {
  readonly commands: string[] = [];

  constructor(
    readonly node: string,
    private readonly answer: (key: string) => Omit<Recorded, 'node' | 'argv'> | undefined = () => undefined,
  ) {}

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
    const key = keyOf(argv);
    this.commands.push(key);
    const reply = this.answer(key) ?? recorded.find((c) => c.node === this.node && keyOf(c.argv) === key);
    if (reply === undefined) throw new Error(`${this.node}: not recorded: ${key}`);
    if (!(options.okExitCodes ?? [0]).includes(reply.exitCode)) {
      throw new CommandError(`${this.node}: ${key}: exited with ${reply.exitCode}`, { argv, exitCode: reply.exitCode, stderr: reply.stderr, node: this.node });
    }
    return { stdout: reply.stdout, stderr: reply.stderr, exitCode: reply.exitCode };
  }

  async readFile(path: string): Promise<string> {
    return (await this.run(['cat', '--', path])).stdout;
  }

  async writeFile(): Promise<void> {
    throw new Error('a read writes nothing');
  }
}

async function firstRead(e1: ReplayExecutor, e2: ReplayExecutor) {
  const cluster = new Cluster([
    { name: 'node1', executor: e1 },
    { name: 'node2', executor: e2 },
  ]);
  const topology = await discoverGrowthTopology(cluster, { lv: { vg: 'vgshared', lv: 'vm1' } });
  return readGrowthState(topology, { lvmShell: false });
}

const probeOf = (node: string): Recorded => recorded.find((c) => c.node === node && keyOf(c.argv) === 'probe /dev/vgshared/vm1')!;
const sectorsIn = (probe: Recorded): bigint => BigInt(probe.stdout.split(' ')[2]!) * 512n;

describe('a growth first read, replayed from the lab', () => {
  it("reads the shared VG's metadata on one node only, and each node's LV device from sysfs", async () => {
    const [e1, e2] = [new ReplayExecutor('node1'), new ReplayExecutor('node2')];
    const { state } = await firstRead(e1, e2);
    const reports = (e: ReplayExecutor) => e.commands.filter((c) => c.startsWith('lvm fullreport'));
    // On each node the report, the longest read, is asked for first after discovery's reads.
    for (const e of [e1, e2]) {
      const afterDiscovery = e.commands.slice(e.commands.findLastIndex((c) => c === 'lvm version' || c === 'drbdadm --version') + 1);
      expect(afterDiscovery[0]).toMatch(/^lvm fullreport/);
    }
    // Two nodes taking the shared VG's lock at once can stall on sanlock: only node1 reads it.
    expect(reports(e1)).toHaveLength(1);
    expect(reports(e1)[0]).toMatch(/ vg_lab vgshared$/);
    expect(reports(e2)).toHaveLength(1);
    expect(reports(e2)[0]).toMatch(/ vg_lab$/);
    expect(state.tier2?.lv).toEqual({
      name: 'vm1',
      sizeBytes: sectorsIn(probeOf('node1')),
      activation: 'shared',
      activeOn: [
        { node: 'node1', deviceSizeBytes: sectorsIn(probeOf('node1')) },
        { node: 'node2', deviceSizeBytes: sectorsIn(probeOf('node2')) },
      ],
    });
    // DRBD's size came with its status: no sysfs read.
    expect(state.drbd.sizeBytes).toBeGreaterThan(state.tier2!.vg.sizeBytes);
    expect([...e1.commands, ...e2.commands].filter((c) => c.startsWith('cat'))).toEqual([]);
  });

  it('refuses when lvm reports the LV active but sysfs shows no device for it, rather than plan it as inactive', async () => {
    // Discovery finds the device the same way: let it through, then take the device away.
    let discovered = false;
    const gone = (key: string) => (discovered && key === 'probe /dev/vgshared/vm1' ? { exitCode: 1, stdout: '', stderr: "stat: cannot statx '/dev/vgshared/vm1': No such file or directory\n" } : undefined);
    const cluster = new Cluster([
      { name: 'node1', executor: new ReplayExecutor('node1', gone) },
      { name: 'node2', executor: new ReplayExecutor('node2') },
    ]);
    const topology = await discoverGrowthTopology(cluster, { lv: { vg: 'vgshared', lv: 'vm1' } });
    discovered = true;
    const read = readGrowthState(topology, { lvmShell: false });
    await expect(read).rejects.toThrow(ConfigError);
    await expect(read).rejects.toThrow(/node1: lvm reports vgshared\/vm1 active, but no device-mapper device vgshared-vm1 was found/);
  });

  it('plans the LV as active on node1 alone when node2 has no device for it', async () => {
    const inactive = (key: string) => (key === 'probe /dev/vgshared/vm1' ? { exitCode: 1, stdout: '', stderr: '' } : undefined);
    const lockctl = readFileSync(new URL('../../fixtures/lab-lvm/lvmlockctl-info-node1.txt', import.meta.url), 'utf8');
    const [e1, e2] = [new ReplayExecutor('node1', (key) => (key.startsWith('lvmlockctl') ? { exitCode: 0, stdout: lockctl, stderr: '' } : undefined)), new ReplayExecutor('node2', inactive)];
    const { state } = await firstRead(e1, e2);
    expect(state.tier2?.lv?.activeOn.map((a) => a.node)).toEqual(['node1']);
  });
});
