/**
 * The LVM UpperLayerCheck on what the two-node lab's lvm reported when the check ran there
 * (test/fixtures/lab-lvm/upper-layer-*.json: every command it ran on each node and the real
 * output), replayed through fake executors; and the merge rules on hand-made findings.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseResourceDefinition, type ResourceDefinition } from '../../../src/drbd/config/index.js';
import { CommandError } from '../../../src/errors.js';
import { parsePvs } from '../../../src/lvm/report.js';
import { parseJsonKeepingIntegers } from '../../../src/lvm/report-values.js';
import type { VgLocking } from '../../../src/lvm/shared-vg.js';
import type { ExecOptions, Executor } from '../../../src/sys/executor.js';
import type { RunResult } from '../../../src/sys/local-exec.js';
import { Cluster } from '../../../src/stack/cluster.js';
import { lvmFindingsOn, lvmUpperLayerCheck, lvmVerdict, resourceDevices, type LvmNodeFindings } from '../../../src/stack/upper-layer-lvm.js';

const lab = (name: string): string => readFileSync(new URL(`../../fixtures/lab-lvm/${name}`, import.meta.url), 'utf8');
const LVM_VERSION = readFileSync(new URL('../../fixtures/lvm/lab-2.03.16/lvm-version.txt', import.meta.url), 'utf8');

interface Recorded {
  node: string;
  argv: string[];
  exitCode: number | null;
  stdout: string;
  stderr: string;
}
const recording = (name: string): Recorded[] => JSON.parse(lab(name)) as Recorded[];

/** Answers with the recorded output of the same argv on the same node. */
class ReplayExecutor implements Executor {
  readonly asked: string[] = [];

  constructor(
    readonly node: string,
    private readonly calls: readonly Recorded[],
    private readonly extra: (argv: readonly string[]) => Partial<RunResult> | undefined = () => undefined,
  ) {}

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
    this.asked.push(argv.join(' '));
    const found =
      argv.join(' ') === 'lvm version'
        ? { stdout: LVM_VERSION, stderr: '', exitCode: 0 }
        : (this.extra(argv) ?? this.calls.find((c) => c.node === this.node && JSON.stringify(c.argv) === JSON.stringify(argv)));
    if (found === undefined) throw new CommandError(`${this.node}: ${argv.join(' ')}: not recorded`, { argv, exitCode: 127, stderr: '' });
    const result = { stdout: found.stdout ?? '', stderr: found.stderr ?? '', exitCode: found.exitCode ?? 0 };
    if (!(options.okExitCodes ?? [0]).includes(result.exitCode)) {
      throw new CommandError(`${this.node}: ${argv.join(' ')}: exited with ${result.exitCode}`, { argv, exitCode: result.exitCode, stderr: result.stderr });
    }
    return result;
  }

  async readFile(): Promise<string> {
    throw new Error('not used');
  }

  async writeFile(): Promise<void> {
    throw new Error('not used');
  }
}

/** The lab's resource definitions (test/lab/lvm-cluster.test.ts), as far as the check reads them. */
function definition(name: string, minor: number, device?: string): ResourceDefinition {
  return parseResourceDefinition({
    name,
    target: '8.4',
    nodes: [1, 2].map((i) => ({
      name: `node${i}`,
      address: `ipv4 10.99.0.${i}:${7789 + minor}`,
      volumes: [{ volume: 0, minor, ...(device === undefined ? {} : { device }), disk: `/dev/vg_lab/${name}_disk`, metaDisk: 'internal' as const }],
    })),
  });
}

function clusterFrom(calls: readonly Recorded[], extra?: (node: string, argv: readonly string[]) => Partial<RunResult> | undefined): { cluster: Cluster; executors: ReplayExecutor[] } {
  const executors = ['node1', 'node2'].map((n) => new ReplayExecutor(n, calls, extra === undefined ? undefined : (argv) => extra(n, argv)));
  return { cluster: new Cluster(executors.map((e) => ({ name: e.node, executor: e }))), executors };
}

describe('the LVM UpperLayerCheck on the lab recordings', () => {
  it('r0 with the shared VG on /dev/drbd0 (node1 Primary, node2 Secondary): cluster-aware', async () => {
    const { cluster, executors } = clusterFrom(recording('upper-layer-r0-shared-vg.json'));
    expect(await lvmUpperLayerCheck()(definition('r0', 0), cluster)).toEqual({ clusterAware: true, detail: 'VG vgshared on /dev/drbd0 is shared (lvmlockd, sanlock)' });
    // Both nodes were asked; only node1, which sees the PV, was asked about the VG.
    expect(executors.map((e) => e.asked.filter((a) => a !== 'lvm version').map((a) => a.split(' ')[0]))).toEqual([
      ['pvs', 'readlink', 'vgs'],
      ['pvs', 'readlink'],
    ]);
  });

  it("node2's pvs there carries lvm 2.03.16's trailing comma after the last printed log row, and still parses", () => {
    const call = recording('upper-layer-r0-shared-vg.json').find((c) => c.node === 'node2' && c.argv[0] === 'pvs') as Recorded;
    expect(call.stdout).toMatch(/"Skipping global lock: lockspace not found or started".*\},\n\s+\]/s);
    const pvs = parsePvs(call.stdout, { format: 'json' });
    expect(pvs.items.map((p) => p.name)).toEqual(['/dev/ubda']);
    expect(pvs.log.map((e) => e.message)).toEqual(['Skipping global lock: lockspace not found or started']);
    // Only a comma right before a closing bracket goes; commas in strings stay.
    expect(parseJsonKeepingIntegers('{"a": ",]", "b": [1, 2 ,\n ], "c": {"d": ",}",}}')).toEqual({ a: ',]', b: [1, 2], c: { d: ',}' } });
  });

  it('r1 with a plain VG on /dev/drbd1: not cluster-aware, saying which VG', async () => {
    const { cluster } = clusterFrom(recording('upper-layer-r1-plain-vg.json'));
    expect(await lvmUpperLayerCheck()(definition('r1', 1), cluster)).toEqual({
      clusterAware: false,
      detail: 'VG vgplain on /dev/drbd1 is a local VG (attr wz--n-, no lvmlockd or clvmd lock type)',
    });
  });

  it('r1 with nothing LVM on /dev/drbd1: not cluster-aware, "no VG … (a cluster filesystem?)"', async () => {
    const { cluster } = clusterFrom(recording('upper-layer-r1-no-vg.json'));
    const verdict = await lvmUpperLayerCheck()(definition('r1', 1), cluster);
    expect(verdict).toEqual({
      clusterAware: false,
      detail: 'no VG on /dev/drbd1 (looked with pvs on node1, node2): nothing LVM-managed coordinates writers there (a cluster filesystem? that layer needs its own check)',
    });
  });

  it('a device named by a udev link is matched through its canonical path', async () => {
    const link = '/dev/drbd/by-res/r0/0';
    const { cluster } = clusterFrom(recording('upper-layer-r0-shared-vg.json'), (_node, argv) =>
      argv.join(' ') === `readlink -f -- ${link}` ? { stdout: '/dev/drbd0\n' } : undefined,
    );
    const verdict = await lvmUpperLayerCheck()(definition('r0', 0, link), cluster);
    expect(verdict).toEqual({ clusterAware: true, detail: `VG vgshared on ${link} is shared (lvmlockd, sanlock)` });
  });

  it('a node whose lvm cannot be read makes the answer no, naming the node', async () => {
    const { cluster } = clusterFrom(recording('upper-layer-r0-shared-vg.json'), (node, argv) => (node === 'node2' && argv[0] === 'pvs' ? { stderr: 'boom', exitCode: 4 } : undefined));
    const verdict = await lvmUpperLayerCheck()(definition('r0', 0), cluster);
    expect(verdict.clusterAware).toBe(false);
    expect(verdict.detail).toMatch(/^VG vgshared on \/dev\/drbd0 is shared \(lvmlockd, sanlock\); node2: LVM could not be read \(.*exited with 4/);
  });

  it('only nodes the cluster has are asked', async () => {
    const calls = recording('upper-layer-r0-shared-vg.json');
    const only = new ReplayExecutor('node1', calls);
    const verdict = await lvmUpperLayerCheck()(definition('r0', 0), new Cluster([{ name: 'node1', executor: only }]));
    expect(verdict.clusterAware).toBe(true);
    const findings = await lvmFindingsOn({ name: 'node1', executor: only }, ['/dev/drbd0']);
    expect(findings).toMatchObject({ node: 'node1', error: null, devices: { '/dev/drbd0': [{ pv: '/dev/drbd0', vg: 'vgshared' }] }, vgs: { vgshared: { kind: 'lvmlockd' } } });
  });
});

describe('merging what the nodes saw', () => {
  const shared: VgLocking = { vg: 'vgs1', clusterAware: true, kind: 'lvmlockd', lockType: 'dlm', attr: 'wz--ns', detail: 'VG vgs1 is shared (lvmlockd, dlm)' };
  const local: VgLocking = { vg: 'vgs1', clusterAware: false, kind: 'local', lockType: null, attr: 'wz--n-', detail: 'VG vgs1 is a local VG (attr wz--n-, no lvmlockd or clvmd lock type)' };
  const sees = (node: string, vg: VgLocking | null, device = '/dev/drbd5'): LvmNodeFindings => ({
    node,
    devices: { [device]: vg === null ? [] : [{ pv: device, vg: vg.vg }] },
    vgs: vg === null ? {} : { [vg.vg]: vg },
    error: null,
  });

  it('a Secondary that sees nothing does not spoil a Primary that sees a shared VG', () => {
    expect(lvmVerdict(['/dev/drbd5'], [sees('a', shared), sees('b', null)])).toEqual({ clusterAware: true, detail: 'VG vgs1 on /dev/drbd5 is shared (lvmlockd, dlm)' });
  });

  it('nodes that disagree: the local report wins', () => {
    expect(lvmVerdict(['/dev/drbd5'], [sees('a', shared), sees('b', local)])).toMatchObject({ clusterAware: false, detail: 'VG vgs1 on /dev/drbd5 is a local VG (attr wz--n-, no lvmlockd or clvmd lock type)' });
    expect(lvmVerdict(['/dev/drbd5'], [sees('b', local), sees('a', shared)]).clusterAware).toBe(false);
  });

  it('every device must be covered: one shared, one empty is no', () => {
    const a: LvmNodeFindings = { node: 'a', devices: { '/dev/drbd5': [{ pv: '/dev/drbd5', vg: 'vgs1' }], '/dev/drbd6': [] }, vgs: { vgs1: shared }, error: null };
    const verdict = lvmVerdict(['/dev/drbd5', '/dev/drbd6'], [a]);
    expect(verdict.clusterAware).toBe(false);
    expect(verdict.detail).toBe(
      'VG vgs1 on /dev/drbd5 is shared (lvmlockd, dlm); no VG on /dev/drbd6 (looked with pvs on a): nothing LVM-managed coordinates writers there (a cluster filesystem? that layer needs its own check)',
    );
  });

  it('a PV in no VG, a VG that could not be read, no devices at all: no', () => {
    const orphan: LvmNodeFindings = { node: 'a', devices: { '/dev/drbd5': [{ pv: '/dev/drbd5', vg: null }] }, vgs: {}, error: null };
    expect(lvmVerdict(['/dev/drbd5'], [orphan]).detail).toMatch(/^no VG on \/dev\/drbd5 \(a PV in no VG\)/);
    const unread: LvmNodeFindings = { node: 'a', devices: { '/dev/drbd5': [{ pv: '/dev/drbd5', vg: 'vgx' }] }, vgs: {}, error: null };
    expect(lvmVerdict(['/dev/drbd5'], [unread])).toEqual({ clusterAware: false, detail: 'VG vgx on /dev/drbd5 could not be read' });
    expect(lvmVerdict([], [])).toEqual({ clusterAware: false, detail: 'the resource has no devices on these nodes' });
  });

  it("a resource's devices: volume.device, else /dev/drbd<minor>", () => {
    expect([...resourceDevices(definition('r3', 3)).entries()]).toEqual([
      ['node1', ['/dev/drbd3']],
      ['node2', ['/dev/drbd3']],
    ]);
    expect(resourceDevices(definition('r3', 3, '/dev/drbd/by-res/r3/0')).get('node1')).toEqual(['/dev/drbd/by-res/r3/0']);
  });
});
