/**
 * The DRBD resource lifecycle through hastor's library, on two real DRBD
 * 8.4.11 nodes: the host drives everything through Cluster + DrbdResource
 * with a LabExecutor per node, and checks the outcome with raw commands
 * (/proc/drbd, drbdsetup show, wipefs) rather than through hastor itself.
 *
 * The tests build on each other (one lab, r0 created once); run the file, not
 * a single test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetyError } from '../../src/errors.js';
import type { ResourceDefinitionInput } from '../../src/drbd/config/index.js';
import { ResourceStateError, type Action, type OperationResult } from '../../src/stack/actions.js';
import { Cluster } from '../../src/stack/cluster.js';
import { DrbdResource } from '../../src/stack/drbd-resource.js';
import { detectDrift } from '../../src/stack/drift.js';
import type { UpperLayerCheck } from '../../src/stack/upper-layer.js';
import { procWords, waitForProc } from './drbd-scenario.js';
import { LabExecutor } from './harness/lab-executor.js';
import { startLab, type Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';

const VG = 'vg_lab';

/**
 * STUB, lab only: r0 carries no VG or file system that two nodes write
 * through, so there is nothing for a real check to inspect. The LVM layer
 * provides the real UpperLayerCheck (shared VG / lvmlockd).
 */
const stubClusterAware: UpperLayerCheck = async () => ({ clusterAware: true, detail: 'STUB (lab): nothing on the device; the LVM layer provides the real check' });
const notClusterAware: UpperLayerCheck = async () => ({ clusterAware: false, detail: 'VG vg_guest on /dev/drbd0 is a local VG (no lvmlockd)' });

let lab: Lab;
let node1: LabNode;
let node2: LabNode;
let cluster: Cluster;

interface Spec {
  name: string;
  minor: number;
  lv: string;
  net?: Record<string, unknown>;
  disk?: Record<string, unknown>;
  handlers?: Record<string, unknown>;
}

function definition(spec: Spec): ResourceDefinitionInput {
  return {
    name: spec.name,
    target: '8.4',
    protocol: 'C',
    // Short intervals so the lab notices connects in seconds; verify needs an algorithm.
    net: { pingInt: 3, pingTimeout: 10, connectInt: 3, timeout: 20, verifyAlg: 'crc32c', ...spec.net },
    disk: { cPlanAhead: 0, resyncRate: '200M', ...spec.disk },
    ...(spec.handlers === undefined ? {} : { handlers: spec.handlers }),
    nodes: [node1, node2].map((n) => ({
      name: n.name,
      address: `ipv4 ${n.address}:${7789 + spec.minor}`,
      volumes: [{ volume: 0, minor: spec.minor, device: `/dev/drbd${spec.minor}`, disk: `/dev/${VG}/${spec.lv}`, metaDisk: 'internal' as const }],
    })),
  };
}

/** What the dual-primary rules want: after-sb policies for every case, resource-and-stonith with a fence-peer handler. */
const SAFE = {
  net: { afterSb0pri: 'discard-zero-changes', afterSb1pri: 'discard-secondary', afterSb2pri: 'disconnect' },
  disk: { fencing: 'resource-and-stonith' },
  handlers: { fencePeer: '/usr/lib/drbd/crm-fence-peer.sh', afterResyncTarget: '/usr/lib/drbd/crm-unfence-peer.sh' },
};

const r0Spec: Spec = { name: 'r0', minor: 0, lv: 'r0_disk' };
let r0: DrbdResource;
let r0Safe: DrbdResource;

const argvOf = (result: OperationResult): string[] => result.actions.map((a: Action) => `${a.node}: ${a.argv.join(' ')}`);
const roles = (result: OperationResult): Record<string, string | null> =>
  Object.fromEntries(Object.entries(result.state).map(([n, s]) => [n, s === null ? null : `${s.role}/${s.devices.map((d) => d.diskState).join(',')}/${s.connections.map((c) => c.connectionState).join(',')}`]));

async function proc(node: LabNode, minor: number): Promise<{ cs: string; ro: string; ds: string } | null> {
  return procWords((await node.execOk(['cat', '/proc/drbd'])).stdout, minor);
}

async function showNet(node: LabNode, resource: string): Promise<string> {
  return (await node.execOk(['drbdsetup', 'show', resource])).stdout;
}

async function refusal(promise: Promise<unknown>): Promise<SafetyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SafetyError);
  return error as SafetyError;
}

beforeAll(async () => {
  lab = await startLab({ nodes: 2, disksMiB: [512] });
  [node1, node2] = lab.nodes as [LabNode, LabNode];
  await Promise.all(
    lab.nodes.map(async (n) => {
      await n.execOk(['modprobe', '-a', 'dm-mod', 'drbd']);
      await n.execOk(['pvcreate', '-y', '/dev/ubda']);
      await n.execOk(['vgcreate', '-y', VG, '/dev/ubda']);
      for (const [lv, mib] of [
        ['r0_disk', 64],
        ['r1_disk', 16],
        ['ext4_disk', 16],
        ['lvm_disk', 16],
      ] as const) {
        await n.execOk(['lvcreate', '-y', '-L', `${mib}m`, '-n', lv, VG]);
      }
      // Disks that hold someone's data: a file system, and an LVM PV (LVs as PVs need scan_lvs).
      await n.execOk(['mkfs.ext4', '-q', `/dev/${VG}/ext4_disk`]);
      await n.execOk(['pvcreate', '-y', '--config', 'devices { scan_lvs=1 filter=["a|.*|"] global_filter=["a|.*|"] }', `/dev/${VG}/lvm_disk`]);
    }),
  );
  cluster = await Cluster.connect(lab.nodes.map((n) => ({ name: n.name, executor: new LabExecutor(n) })));
  r0 = new DrbdResource(cluster, definition(r0Spec));
  r0Safe = new DrbdResource(cluster, definition({ ...r0Spec, net: SAFE.net, disk: SAFE.disk, handlers: SAFE.handlers }), { upperLayer: stubClusterAware });
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

describe('a DRBD 8.4 resource through the library, on two lab nodes', () => {
  it('refuses a cluster whose executors reach other hosts than named', async () => {
    const swapped = new Cluster([
      { name: 'node1', executor: new LabExecutor(node2) },
      { name: 'node2', executor: new LabExecutor(node1) },
    ]);
    await expect(swapped.verifyNames()).rejects.toThrow(/node1: the executor reaches a host whose uname -n is "node2"/);
  });

  it('create --dry-run plans every step and changes nothing', async () => {
    const plan = await r0.create({ dryRun: true });
    expect(argvOf(plan)).toEqual([
      'node1: write-file /etc/drbd.d/r0.res',
      'node2: write-file /etc/drbd.d/r0.res',
      'node1: drbdadm create-md r0',
      'node1: drbdadm up r0',
      'node2: drbdadm create-md r0',
      'node2: drbdadm up r0',
      'node1: drbdadm primary --force r0',
      'node1: drbdadm secondary r0',
    ]);
    expect(plan.state).toEqual({ node1: null, node2: null });
    expect((await node1.exec(['test', '-e', '/etc/drbd.d/r0.res'])).exitCode).toBe(1);
    expect(await proc(node1, 0)).toBeNull();
  });

  it('create writes the config, creates meta data, connects and syncs from node1', async () => {
    const result = await r0.create();
    expect(argvOf(result)).toEqual([
      'node1: write-file /etc/drbd.d/r0.res',
      'node2: write-file /etc/drbd.d/r0.res',
      'node1: drbdadm create-md r0',
      'node1: drbdadm up r0',
      'node2: drbdadm create-md r0',
      'node2: drbdadm up r0',
      'node1: drbdadm primary --force r0',
      'node1: drbdadm secondary r0',
    ]);
    expect(roles(result)).toEqual({ node1: 'Secondary/UpToDate/Connected', node2: 'Secondary/UpToDate/Connected' });
    for (const n of [node1, node2]) expect(await proc(n, 0)).toEqual({ cs: 'Connected', ro: 'Secondary/Secondary', ds: 'UpToDate/UpToDate' });
    // The file drbdadm reads on each node is the one hastor rendered.
    const written = (await node2.execOk(['cat', '/etc/drbd.d/r0.res'])).stdout;
    expect(written).toMatch(/^# Written by hastor/);
    expect(written).toMatch(/on node2 \{[^}]*address ipv4 10\.99\.0\.2:7789;/);
  });

  it('create again finds nothing missing', async () => {
    const again = await r0.create();
    expect(again.actions).toEqual([]);
    expect(roles(again)).toEqual({ node1: 'Secondary/UpToDate/Connected', node2: 'Secondary/UpToDate/Connected' });
  });

  it('promotes node1 (once), and will not make node2 a second Primary outside a window', async () => {
    const result = await r0.promote('node1');
    expect(argvOf(result)).toEqual(['node1: drbdadm primary r0']);
    expect(result.state.node1?.role).toBe('Primary');
    expect((await r0.promote('node1')).actions).toEqual([]);
    expect(await proc(node1, 0)).toMatchObject({ ro: 'Primary/Secondary' });
    await expect(r0.promote('node2')).rejects.toBeInstanceOf(ResourceStateError);
  });

  it('refuses dual-primary while the definition has no fencing and no after-split-brain policies', async () => {
    const error = await refusal(r0.beginDualPrimary({ upperLayer: stubClusterAware }));
    expect(error.rule).toBe('dual-primary-requires-fencing');
    expect(error.message).toMatch(/also: dual-primary-requires-after-sb/);
    expect(await proc(node2, 0)).toMatchObject({ ro: 'Secondary/Primary' });
    expect(await showNet(node1, 'r0')).not.toMatch(/allow-two-primaries/);
  });

  it('adjust brings the running resource to the safe definition (once)', async () => {
    const result = await r0Safe.adjust();
    expect(argvOf(result).slice(0, 2)).toEqual(['node1: write-file /etc/drbd.d/r0.res', 'node2: write-file /etc/drbd.d/r0.res']);
    expect(argvOf(result)).toContain('node1: drbdadm adjust r0');
    expect((await r0Safe.adjust()).actions).toEqual([]);
    for (const n of [node1, node2]) {
      const shown = await showNet(n, 'r0');
      expect(shown).toMatch(/fencing\s+resource-and-stonith;/);
      expect(shown).toMatch(/after-sb-0pri\s+discard-zero-changes;/);
      // after-sb-2pri disconnect is DRBD's default, which drbdsetup show leaves out.
      expect(shown).toMatch(/after-sb-1pri\s+discard-secondary;/);
    }
  });

  it('refuses dual-primary when the layer above is not cluster-aware, or unknown', async () => {
    const notAware = await refusal(r0Safe.beginDualPrimary({ upperLayer: notClusterAware }));
    expect(notAware.rule).toBe('dual-primary-requires-cluster-aware-upper-layer');
    expect(notAware.message).toMatch(/local VG/);
    const unknown = await refusal(new DrbdResource(cluster, r0Safe.definition).beginDualPrimary());
    expect(unknown.rule).toBe('dual-primary-requires-cluster-aware-upper-layer');
    expect(await proc(node2, 0)).toMatchObject({ ro: 'Secondary/Primary' });
  });

  it('opens the dual-primary window: option on for the running connection, node2 promoted, both Primary', async () => {
    const result = await r0Safe.beginDualPrimary();
    expect(argvOf(result)[0]).toBe('node1: drbdadm net-options --allow-two-primaries=yes r0');
    expect(argvOf(result).at(-1)).toBe('node2: drbdadm primary r0');
    expect(roles(result)).toEqual({ node1: 'Primary/UpToDate/Connected', node2: 'Primary/UpToDate/Connected' });
    for (const n of [node1, node2]) {
      expect(await showNet(n, 'r0')).toMatch(/allow-two-primaries\s+yes;/);
      expect(await proc(n, 0)).toMatchObject({ ro: 'Primary/Primary', ds: 'UpToDate/UpToDate' });
    }
    expect((await r0Safe.beginDualPrimary()).actions).toEqual([]);
  });

  it('will not close the window by demoting a node whose device a process holds open', async () => {
    const pid = await node2.spawnBackground(['sh', '-c', 'exec sleep 600 < /dev/drbd0'], { stdoutPath: '/dev/null' });
    try {
      const error = await refusal(r0Safe.endDualPrimary({ keep: 'node1' }));
      expect(error.rule).toBe('primary-in-use');
      expect(error.message).toContain(`open by pid ${pid}`);
    } finally {
      await node2.execOk(['sh', '-c', 'kill "$1"; while kill -0 "$1" 2>/dev/null; do sleep 0.05; done', 'kill-wait', String(pid)]);
    }
  });

  it('closes the window: node2 demoted, allow-two-primaries off on both nodes', async () => {
    const result = await r0Safe.endDualPrimary({ keep: 'node1' });
    expect(argvOf(result)[0]).toBe('node2: drbdadm secondary r0');
    expect(argvOf(result)).toContain('node1: drbdadm net-options --allow-two-primaries=no r0');
    expect(roles(result)).toEqual({ node1: 'Primary/UpToDate/Connected', node2: 'Secondary/UpToDate/Connected' });
    for (const n of [node1, node2]) expect(await showNet(n, 'r0')).not.toMatch(/allow-two-primaries/);
    expect(await proc(node1, 0)).toMatchObject({ ro: 'Primary/Secondary' });
    expect((await r0Safe.endDualPrimary({ keep: 'node1' })).actions).toEqual([]);
  });

  it('online verify finds the replicas identical', async () => {
    const result = await r0Safe.verify();
    expect(argvOf(result)).toEqual(['node1: drbdadm verify r0']);
    expect(result.outOfSyncBytes).toBe(0n);
    expect(result.perNode).toEqual({ node1: { events2Bytes: 0n, procBytes: 0n }, node2: { events2Bytes: 0n, procBytes: 0n } });
  });

  it("online verify finds blocks written behind DRBD's back on the Secondary's backing LV", async () => {
    // 64 KiB of random data straight onto node2's backing LV, bypassing DRBD (and the page cache).
    await node2.execOk(['dd', 'if=/dev/urandom', `of=/dev/${VG}/r0_disk`, 'bs=4k', 'seek=256', 'count=16', 'oflag=direct', 'conv=notrunc']);
    const result = await r0Safe.verify();
    expect(result.outOfSyncBeforeBytes).toBe(0n);
    expect(result.outOfSyncBytes).toBe(65536n);
    expect(result.perNode).toEqual({ node1: { events2Bytes: 65536n, procBytes: 65536n }, node2: { events2Bytes: 65536n, procBytes: 65536n } });
    expect((await node1.execOk(['dmesg'])).stdout).toMatch(/Online verify found 16 4k block out of sync/);
  });

  it('disconnect; dual-primary is refused while disconnected; connect resyncs what verify found', async () => {
    const off = await r0Safe.disconnect();
    expect(argvOf(off)).toEqual(['node1: drbdadm disconnect r0', 'node2: drbdadm disconnect r0']);
    expect((await r0Safe.disconnect()).actions).toEqual([]);
    expect((await proc(node1, 0))?.cs).toBe('StandAlone');
    const error = await refusal(r0Safe.beginDualPrimary());
    expect(error.rule).toBe('dual-primary-requires-connected-in-sync');
    const on = await r0Safe.connect();
    expect(argvOf(on)).toEqual(['node1: drbdadm connect r0', 'node2: drbdadm connect r0']);
    expect(roles(on)).toEqual({ node1: 'Primary/UpToDate/Connected', node2: 'Secondary/UpToDate/Connected' });
    expect((await r0Safe.verify()).outOfSyncBytes).toBe(0n);
  });

  it('invalidate resyncs node2 fully from node1', async () => {
    const result = await r0Safe.invalidate('node2');
    expect(argvOf(result)).toEqual(['node2: drbdadm invalidate r0']);
    expect(roles(result)).toEqual({ node1: 'Primary/UpToDate/Connected', node2: 'Secondary/UpToDate/Connected' });
    expect((await node2.execOk(['dmesg'])).stdout).toMatch(/Began resync as SyncTarget \(will sync 65\d{3} KB/);
  });

  it('promotion rules on a fresh resource: no UpToDate data, --force, --force over an UpToDate peer, invalidate without one', async () => {
    // r1 syncs slowly (1 MiB/s for 16 MiB) so its in-between states last long enough to act on.
    const r1 = new DrbdResource(cluster, definition({ name: 'r1', minor: 1, lv: 'r1_disk', disk: { resyncRate: '1M' } }));
    const created = await r1.create({ syncSource: null });
    expect(argvOf(created)).not.toContain('node1: drbdadm primary --force r1');
    expect(roles(created)).toEqual({ node1: 'Secondary/Inconsistent/Connected', node2: 'Secondary/Inconsistent/Connected' });

    const noData = await refusal(r1.promote('node1'));
    expect(noData.rule).toBe('promote-without-uptodate');
    expect(noData.override).toMatch(/force: true/);
    expect(await proc(node1, 1)).toMatchObject({ ro: 'Secondary/Secondary' });

    const forced = await r1.promote('node1', { force: true });
    expect(argvOf(forced)).toEqual(['node1: drbdadm primary --force r1']);
    // node2 passes through WFSyncUUID for a moment first; the 16 s resync keeps it SyncTarget long after.
    await waitForProc(node2, 1, (w) => w.cs === 'SyncTarget' && w.ds === 'Inconsistent/UpToDate', 'SyncTarget with node1 UpToDate', 10_000);
    await r1.demote('node1');

    const overGood = await refusal(r1.promote('node2', { force: true }));
    expect(overGood.rule).toBe('force-primary-with-uptodate-peer');
    expect((await refusal(r1.promote('node2'))).rule).toBe('promote-without-uptodate');
    const noSource = await refusal(r1.invalidate('node1'));
    expect(noSource.rule).toBe('invalidate-without-uptodate-peer');
    expect(await proc(node2, 1)).toMatchObject({ ro: 'Secondary/Secondary', ds: 'Inconsistent/UpToDate' });

    const deleted = await r1.delete();
    expect(argvOf(deleted)).toEqual([
      'node1: drbdadm down r1',
      'node2: drbdadm down r1',
      'node1: drbdadm -- --force wipe-md r1',
      'node1: rm -f -- /etc/drbd.d/r1.res',
      'node2: drbdadm -- --force wipe-md r1',
      'node2: rm -f -- /etc/drbd.d/r1.res',
    ]);
    expect(await proc(node1, 1)).toBeNull();
  });

  it('refuses create-md on disks carrying an ext4 or an LVM signature, before changing anything', async () => {
    for (const [lv, type] of [
      ['ext4_disk', 'ext4'],
      ['lvm_disk', 'LVM2_member'],
    ] as const) {
      const r2 = new DrbdResource(cluster, definition({ name: 'r2', minor: 2, lv }));
      const error = await refusal(r2.create());
      expect(error.rule).toBe('create-md-on-signature');
      expect(error.message).toContain(`/dev/${VG}/${lv}: it carries a ${type} signature`);
      for (const n of [node1, node2]) {
        expect((await n.exec(['test', '-e', '/etc/drbd.d/r2.res'])).exitCode).toBe(1);
        expect((await n.execOk(['wipefs', '--no-act', '--output', 'TYPE', '--noheadings', `/dev/${VG}/${lv}`])).stdout.trim()).toBe(type);
      }
      const overridden = await r2.create({ dryRun: true, override: ['create-md-on-signature'] });
      expect(argvOf(overridden)).toContain('node1: drbdadm -- --force create-md r2');
    }
  });

  it('refuses to delete r0 while node1 is Primary, and to take it down while it is mounted', async () => {
    const error = await refusal(r0Safe.delete());
    expect(error.rule).toBe('delete-primary');
    await node1.execOk('mkfs.ext4 -q /dev/drbd0 && mkdir -p /mnt/r0 && mount /dev/drbd0 /mnt/r0');
    try {
      const inUse = await refusal(r0Safe.down());
      expect(inUse.rule).toBe('primary-in-use');
      expect(inUse.message).toContain('mounted on /mnt/r0');
    } finally {
      await node1.execOk(['umount', '/mnt/r0']);
    }
    expect(await proc(node1, 0)).toMatchObject({ cs: 'Connected', ro: 'Primary/Secondary' });
  });

  it("detects drift when node2's configuration file is edited, and adjust removes it", async () => {
    expect((await detectDrift(cluster, 'r0')).differences).toEqual([]);
    await node2.execOk(['sed', '-i', 's/ping-int 3;/ping-int 5;/', '/etc/drbd.d/r0.res']);
    const drift = await detectDrift(cluster, 'r0');
    expect(drift.drifted).toBe(true);
    expect(drift.nodes.map((n) => [n.node, n.kernel, n.utils])).toEqual([
      ['node1', '8.4.11', '9.22.0'],
      ['node2', '8.4.11', '9.22.0'],
    ]);
    expect(drift.differences).toEqual([{ kind: 'config', path: 'net.pingInt', values: { node1: 3, node2: 5 }, message: 'configuration net.pingInt differs: node1 3, node2 5' }]);
    const fixed = await r0Safe.adjust();
    expect(argvOf(fixed)[0]).toBe('node2: write-file /etc/drbd.d/r0.res');
    expect((await detectDrift(cluster, 'r0')).drifted).toBe(false);
  });

  it('down and delete clean up: no minor, no meta data, no configuration', async () => {
    await r0Safe.demote('node1');
    const down = await r0Safe.down();
    expect(argvOf(down)).toEqual(['node1: drbdadm down r0', 'node2: drbdadm down r0']);
    expect(down.state).toEqual({ node1: null, node2: null });
    expect((await r0Safe.down()).actions).toEqual([]);
    const deleted = await r0Safe.delete();
    expect(argvOf(deleted)).toEqual([
      'node1: drbdadm -- --force wipe-md r0',
      'node1: rm -f -- /etc/drbd.d/r0.res',
      'node2: drbdadm -- --force wipe-md r0',
      'node2: rm -f -- /etc/drbd.d/r0.res',
    ]);
    expect((await r0Safe.delete()).actions).toEqual([]);
    for (const n of [node1, node2]) {
      expect(await proc(n, 0)).toBeNull();
      expect((await n.exec(['test', '-e', '/etc/drbd.d/r0.res'])).exitCode).toBe(1);
      // The data stays: node1's ext4 (made on /dev/drbd0) replicated to node2; DRBD's signature is gone.
      expect((await n.execOk(['wipefs', '--no-act', '--output', 'TYPE', '--noheadings', `/dev/${VG}/r0_disk`])).stdout.trim()).toBe('ext4');
    }
  });
});
