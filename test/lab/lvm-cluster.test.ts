/**
 * Issue 5 on real kernels: two UML nodes with DRBD 8.4.11, lvm2 2.03.16 and sanlock.
 * Tier 1: a VG and the LVs backing DRBD on each node. The persistent lvm shell against the
 * real lvm (side by side with fork-per-call, a hung command killed, a crash restarted).
 * lvm's own V_<vg> lock held by a hastor process in the guest: a concurrent lvcreate waits,
 * and SIGKILL releases it at once. DRBD r0 and r1 through hastor's DrbdResource. Tier 2:
 * lvm.conf/lvmlocal.conf set up for lvmlockd by hastor (byte-for-byte where nothing changed),
 * sanlock and lvmlockd started directly (no systemd in the lab), a shared VG on /dev/drbd0,
 * the LVM UpperLayerCheck letting r0 go dual-primary and refusing r1 (a plain VG), the
 * lockspace started on node2 (with the known retry), exclusive activation refused across
 * nodes with hastor's typed error, shared activation on both, lockspaces stopped.
 *
 * One lab for the file; the tests build on each other. HASTOR_LAB_RECORD=1 also writes the
 * outputs the unit tests replay to test/fixtures/lab-lvm/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceDefinitionInput } from '../../src/drbd/config/index.js';
import { CommandError, LockError, SafetyError } from '../../src/errors.js';
import { LvmConfigFile } from '../../src/lvm/config-file.js';
import { ExecutorLvmRunner } from '../../src/lvm/executor-runner.js';
import { readLvs, readVgs } from '../../src/lvm/report.js';
import {
  LvmClusterLockError,
  activate,
  createSharedVg,
  isClusterAware,
  lvmVersionOn,
  setupLvmlockd,
  startLockspace,
  stopLockspace,
} from '../../src/lvm/shared-vg.js';
import { parseProcLocks } from '../../src/sys/proc-locks.js';
import { Cluster } from '../../src/stack/cluster.js';
import { DrbdResource } from '../../src/stack/drbd-resource.js';
import { lvmUpperLayerCheck } from '../../src/stack/upper-layer-lvm.js';
import { secondsSince } from './drbd-scenario.js';
import { LabExecutor, type LabExecutorCall } from './harness/lab-executor.js';
import { startLab, type Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';
import { distPath, GUEST_NODE, projectRoot } from './harness/paths.js';

const fileStart = Date.now();
const log = (line: string) => console.log(`[lvm-lab +${secondsSince(fileStart)}] ${line}`);

const VG = 'vg_lab';
const SHARED_VG = 'vgshared';
const PLAIN_VG = 'vgplain';
const RECORD = process.env['HASTOR_LAB_RECORD'] === '1';
const FIXTURES = join(projectRoot(), 'test', 'fixtures', 'lab-lvm');

let lab: Lab | undefined;
let node1: LabNode;
let node2: LabNode;
let e1: LabExecutor;
let e2: LabExecutor;
let cluster: Cluster;
let r0: DrbdResource;
let r1: DrbdResource;
const calls: LabExecutorCall[] = [];
const recorded = new Map<string, string>();
const check = lvmUpperLayerCheck();

function record(name: string, content: string): void {
  recorded.set(name, content);
}

/** The executor calls made while `fn` ran (what hastor asked each node and what it got). */
async function capture<T>(fn: () => Promise<T>): Promise<{ value: T; calls: LabExecutorCall[] }> {
  const from = calls.length;
  const value = await fn();
  return { value, calls: calls.slice(from) };
}

const replay = (list: readonly LabExecutorCall[]) =>
  `${JSON.stringify(list.map(({ node, argv, exitCode, stdout, stderr }) => ({ node, argv, exitCode, stdout, stderr })), null, 1)}\n`;

/** The verbatim outcome of a command: stdout, stderr, and "# rc=N" when it failed. */
const verbatim = (r: { stdout: string; stderr: string; exitCode: number | null }) => `${r.stdout}${r.stderr}${r.exitCode === 0 ? '' : `# rc=${r.exitCode}\n`}`;

/**
 * What the dual-primary rules want of the DRBD definition (after-sb policies, fencing with a
 * handler); the handler never runs here: nothing disconnects while two nodes are Primary.
 */
function definition(name: string, minor: number, lv: string): ResourceDefinitionInput {
  return {
    name,
    target: '8.4',
    protocol: 'C',
    net: { pingInt: 3, pingTimeout: 10, connectInt: 3, timeout: 20, afterSb0pri: 'discard-zero-changes', afterSb1pri: 'discard-secondary', afterSb2pri: 'disconnect' },
    disk: { cPlanAhead: 0, resyncRate: '200M', fencing: 'resource-and-stonith' },
    handlers: { fencePeer: '/usr/lib/drbd/crm-fence-peer.sh', afterResyncTarget: '/usr/lib/drbd/crm-unfence-peer.sh' },
    nodes: [node1, node2].map((n) => ({
      name: n.name,
      address: `ipv4 ${n.address}:${7789 + minor}`,
      volumes: [{ volume: 0, minor, device: `/dev/drbd${minor}`, disk: `/dev/${VG}/${lv}`, metaDisk: 'internal' as const }],
    })),
  };
}

/** node1 runs Debian's own lvm.conf (every comment kept) with the settings the lab needs, set through hastor. */
function debianLvmConfForTheLab(): string {
  const stock = readFileSync(join(projectRoot(), 'test', 'fixtures', 'lvm', 'conf-debian-2.03.16', 'lvm.conf'), 'utf8');
  return LvmConfigFile.parse(stock, 'lvm.conf')
    .set('devices/filter', ['a|^/dev/ubd|', 'a|^/dev/drbd|', 'r|.*|'])
    .set('devices/global_filter', ['a|^/dev/ubd|', 'a|^/dev/drbd|', 'r|.*|'])
    .set('devices/obtain_device_list_from_udev', 0)
    .set('activation/udev_sync', 0)
    .set('activation/udev_rules', 0)
    .toString();
}

/** The modes lvmlockd on the node holds the LV's lock in (`lvmlockctl --info`: "LK LV sh <uuid>"). */
async function lvLockModes(node: LabNode, uuid: string): Promise<string[]> {
  const info = (await node.execOk(['lvmlockctl', '--info'])).stdout;
  return info
    .split('\n')
    .map((l) => /^LK LV (\S+) (\S+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null && m[2] === uuid)
    .map((m) => m[1] as string);
}

/** Lines of `after` that are not in `before` (and the reverse): the edit, as a line diff. */
function lineDiff(before: string, after: string): { added: string[]; removed: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  return { added: b.slice(start, endB), removed: a.slice(start, endA) };
}

beforeAll(async () => {
  lab = await startLab({ nodes: 2, disksMiB: [1024] });
  [node1, node2] = lab.nodes as [LabNode, LabNode];
  e1 = new LabExecutor(node1, { onCall: (c) => calls.push(c) });
  e2 = new LabExecutor(node2, { onCall: (c) => calls.push(c) });
  await node1.writeFile('/etc/lvm/lvm.conf', debianLvmConfForTheLab());
  await Promise.all(lab.nodes.map((n) => n.execOk(['modprobe', '-a', 'dm-mod', 'drbd'])));
  cluster = await Cluster.connect([
    { name: 'node1', executor: e1 },
    { name: 'node2', executor: e2 },
  ]);
  log(`boot: ${(lab.state.bootMs / 1000).toFixed(1)} s`);
}, 120_000);

afterAll(async () => {
  if (RECORD && recorded.size > 0) {
    mkdirSync(FIXTURES, { recursive: true });
    for (const [name, content] of recorded) writeFileSync(join(FIXTURES, name), content);
    log(`recorded ${recorded.size} files into ${FIXTURES}`);
  }
  // Poweroff ends sanlock and lvmlockd with the node; stop() fails on any leftover host process.
  await lab?.stop();
  log('done');
});

describe('tier 1 and lvm on one node', () => {
  it('a VG on each node\'s disk and the LVs that back DRBD, read back through hastor', async () => {
    for (const n of [node1, node2]) {
      await n.execOk(['pvcreate', '-y', '/dev/ubda']);
      await n.execOk(['vgcreate', '-y', VG, '/dev/ubda']);
      await n.execOk(['lvcreate', '-y', '-L', '400m', '-n', 'r0_disk', VG]);
      await n.execOk(['lvcreate', '-y', '-L', '32m', '-n', 'r1_disk', VG]);
    }
    for (const e of [e1, e2]) {
      const version = await lvmVersionOn(e);
      expect(version.lvm).toBe('2.03.16');
      const lvs = await readLvs({ version, exec: new ExecutorLvmRunner(e).exec, vgs: [VG] });
      expect(lvs.complete).toBe(true);
      expect(lvs.items.map((l) => [l.name, l.sizeBytes, l.active])).toEqual([
        ['r0_disk', 400n * 2n ** 20n, true],
        ['r1_disk', 32n * 2n ** 20n, true],
      ]);
    }
  });

  it('the persistent lvm shell: same reports as a process per query and faster; a hung command is killed; a crashed shell restarts', async () => {
    interface Probe {
      version: string;
      first: { items: number; startMs: number };
      bench: { count: number; shellTotalMs: number; forkTotalMs: number; shellMedianMs: number; forkMedianMs: number; sameResults: boolean };
      recorded: Record<string, { exitCode?: number; via?: string; error?: unknown }>;
      replies: Array<{ name: string; argv: string[]; document: string }>;
      timeout: { error: { name: string; message: string } | null; exitCode: number | null; elapsedMs: number; pidBefore: number; pidAfter: number | null; timeoutMs: number; nextItems: number; pidAfterRestart: number };
      crash: { killed: number; via: string; exitCode: number };
      stats: { shellCommands: number; forkCommands: number; starts: number; timeouts: number; crashes: number };
    }
    const probe = await node1.guestScript<Probe>('lvm-shell-probe', ['--vg', VG, '--count', '50', '--timeout-ms', '1500'], { timeoutMs: 240_000 });
    const b = probe.bench;
    log(
      `lvm shell vs a process per query, ${b.count} × lvs ${VG} each: shell ${b.shellTotalMs.toFixed(0)} ms (median ${b.shellMedianMs} ms), ` +
        `fork ${b.forkTotalMs.toFixed(0)} ms (median ${b.forkMedianMs} ms): ${(b.forkTotalMs / b.shellTotalMs).toFixed(1)}x; shell start ${probe.first.startMs} ms`,
    );
    expect(b.sameResults).toBe(true);
    expect(probe.first.items).toBe(2);
    // A figure, not a benchmark assertion; the margin only catches a shell that is not used at all.
    expect(b.shellTotalMs * 2).toBeLessThan(b.forkTotalMs);
    expect(probe.stats.forkCommands).toBe(0);

    // The hung lvs (its VG lock held) ended at the timeout as a CommandError, the shell killed…
    expect(probe.timeout.error?.name).toBe('CommandError');
    expect(probe.timeout.error?.message).toMatch(/timed out after 1500 ms; the shell was killed/);
    expect(probe.timeout.exitCode).toBeNull();
    expect(probe.timeout.elapsedMs).toBeGreaterThanOrEqual(1500);
    expect(probe.timeout.elapsedMs).toBeLessThan(4000);
    expect(probe.timeout.pidAfter).toBeNull();
    // …and the next command ran in a new shell.
    expect(probe.timeout.nextItems).toBe(2);
    expect(probe.timeout.pidAfterRestart).not.toBe(probe.timeout.pidBefore);
    expect(probe.crash).toMatchObject({ via: 'shell', exitCode: 0 });
    expect(probe.stats).toMatchObject({ timeouts: 1, crashes: 1, starts: 3 });

    // Exit codes as `lvm <command>` would give them, read from the shell's command log.
    expect(probe.recorded).toEqual({
      version: { exitCode: 0, via: 'shell' },
      lvs: { exitCode: 0, via: 'shell' },
      'lvs-hastor': { exitCode: 0, via: 'shell' },
      'vgs-missing': { exitCode: 5, via: 'shell' },
      lvcreate: { exitCode: 0, via: 'shell' },
      lvremove: { exitCode: 0, via: 'shell' },
      'bad-option': { exitCode: 3, via: 'shell' },
    });
    expect(probe.replies.map((r) => r.name)).toEqual(['version', 'lvs', 'lvs-hastor', 'vgs-missing', 'lvcreate', 'lvremove', 'bad-option']);
    for (const reply of probe.replies) record(`shell-reply-${reply.name}.json`, `${reply.document}\n`);
    record('shell-bench.json', `${JSON.stringify({ bench: probe.bench, first: probe.first, timeout: probe.timeout, stats: probe.stats }, null, 1)}\n`);
  });

  it("hastor holding lvm's V_vg_lab lock makes a concurrent lvcreate wait; a SIGKILL of hastor releases it at once", async () => {
    const ready = join(node1.nodeDir, 'hold-lock.ready');
    const holderPid = await node1.spawnBackground([GUEST_NODE, distPath('guest', 'hold-lvm-lock.js'), '--vg', VG, '--ready-file', ready], {
      stdoutPath: join(node1.nodeDir, 'hold-lock.log'),
    });
    const deadline = Date.now() + 30_000;
    let held: { pid: number; locks: Array<{ resource: string; path: string; mode: string }> } | undefined;
    while (held === undefined) {
      try {
        held = JSON.parse(readFileSync(ready, 'utf8'));
      } catch {
        if (Date.now() > deadline) throw new Error(`the lock holder did not report within 30 s:\n${readFileSync(join(node1.nodeDir, 'hold-lock.log'), 'utf8')}`);
        await sleep(50);
      }
    }
    expect(held?.pid).toBe(holderPid);
    expect(held?.locks).toEqual([{ resource: VG, path: `/run/lock/lvm/V_${VG}`, mode: 'exclusive' }]);

    // A second hastor gives up after its timeout and names the holder.
    const second = await node1.guestScript<{ locked: boolean; error: { name: string; message: string }; holders: Array<{ pid: number; commandLine: string }> }>('hold-lvm-lock', [
      '--vg',
      VG,
      '--try',
      '--timeout-ms',
      '700',
    ]);
    expect(second.locked).toBe(false);
    expect(second.error.name).toBe('LockError');
    expect(second.holders.map((h) => h.pid)).toContain(holderPid);
    expect(second.holders.find((h) => h.pid === holderPid)?.commandLine).toMatch(/hold-lvm-lock/);
    log(`second hastor: ${second.error.message}`);

    // lvcreate waits on the flock…
    let settledAt: number | null = null;
    const lvcreate = node1.exec(['lvcreate', '-y', '-L', '8m', '-n', 'waiter', VG], { timeoutMs: 120_000 }).then((r) => {
      settledAt = Date.now();
      return r;
    });
    await sleep(3000);
    expect(settledAt).toBeNull();
    const locks = parseProcLocks(await node1.readFile('/proc/locks'));
    expect(locks.some((l) => l.waiting && l.kind === 'FLOCK')).toBe(true);

    // …until the holder dies without releasing anything itself.
    const killedAt = Date.now();
    await node1.execOk(['kill', '-KILL', String(holderPid)]);
    const result = await lvcreate;
    const waited = (settledAt ?? Date.now()) - killedAt;
    log(`lvcreate finished ${waited} ms after the hastor process holding V_${VG} was SIGKILLed`);
    expect(result.exitCode).toBe(0);
    expect(waited).toBeLessThan(4000);
    await node1.execOk(['lvremove', '-y', `${VG}/waiter`]);
  });
});

describe('DRBD under tier 2', () => {
  it('r0 (400 MiB) and r1 (32 MiB) created, connected and synced through DrbdResource, node1 Primary', async () => {
    r0 = new DrbdResource(cluster, definition('r0', 0, 'r0_disk'));
    r1 = new DrbdResource(cluster, definition('r1', 1, 'r1_disk'));
    const started = Date.now();
    await r0.create({ syncSource: 'node1', stayPrimary: true });
    await r1.create({ syncSource: 'node1', stayPrimary: true });
    log(`r0 and r1 created and synced in ${secondsSince(started)}`);
    for (const r of [r0, r1]) {
      const states = await r.states();
      expect(states['node1']).toMatchObject({ role: 'Primary' });
      expect(states['node2']).toMatchObject({ role: 'Secondary' });
      for (const s of Object.values(states)) expect(s?.devices.map((d) => d.diskState)).toEqual(['UpToDate']);
    }
  });

  it('the LVM UpperLayerCheck: nothing on /dev/drbd1 is not cluster-aware', async () => {
    const { value, calls: used } = await capture(() => check(r1.definition, cluster));
    record('upper-layer-r1-no-vg.json', replay(used));
    log(`r1 without a VG: ${value.detail}`);
    expect(value.clusterAware).toBe(false);
    expect(value.detail).toMatch(/^no VG on \/dev\/drbd1 .*a cluster filesystem\?/);
  });

  it('a plain VG on /dev/drbd1: the check says no, and hastor refuses to make r1 dual-primary', async () => {
    await node1.execOk(['vgcreate', '-y', PLAIN_VG, '/dev/drbd1']);
    const { value, calls: used } = await capture(() => check(r1.definition, cluster));
    record('upper-layer-r1-plain-vg.json', replay(used));
    expect(value).toEqual({ clusterAware: false, detail: `VG ${PLAIN_VG} on /dev/drbd1 is a local VG (attr wz--n-, no lvmlockd or clvmd lock type)` });
    const refused = await r1.beginDualPrimary({ upperLayer: check }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(SafetyError);
    expect((refused as SafetyError).rule).toBe('dual-primary-requires-cluster-aware-upper-layer');
    expect((refused as SafetyError).message).toContain(`VG ${PLAIN_VG} on /dev/drbd1 is a local VG`);
    expect((await r1.states())['node2']?.role).toBe('Secondary');
    // Nothing else needs r1: take the plain VG away before lvmlockd arrives.
    await node1.execOk(['vgremove', '-y', PLAIN_VG]);
    await node1.execOk(['pvremove', '-y', '/dev/drbd1']);
  });
});

describe('tier 2: a shared VG with sanlock on /dev/drbd0', () => {
  const before: Record<string, { conf: string; local: string }> = {};

  it('lvm.conf and lvmlocal.conf set for lvmlockd by hastor: only the settings change, every other byte is kept; sanlock and lvmlockd started', async () => {
    for (const [n, e, hostId] of [
      [node1, e1, 1],
      [node2, e2, 2],
    ] as const) {
      const conf = await n.readFile('/etc/lvm/lvm.conf');
      const local = await n.readFile('/etc/lvm/lvmlocal.conf');
      before[n.name] = { conf, local };
      // The real files round-trip unchanged through the parser.
      expect(LvmConfigFile.parse(conf, 'lvm.conf').toString()).toBe(conf);
      expect(LvmConfigFile.parse(local, 'lvmlocal.conf').toString()).toBe(local);

      const { value: result, calls: used } = await capture(() => setupLvmlockd(e, { lockManager: 'sanlock', hostId, daemons: 'direct', sanlockWatchdog: false }));
      record(`setup-lvmlockd-${n.name}.json`, replay(used));
      expect(result.plan.edits.map((x) => [x.file, x.path, x.new])).toEqual([
        ['/etc/lvm/lvm.conf', 'global/use_lvmlockd', 1],
        ['/etc/lvm/lvmlocal.conf', 'local/host_id', hostId],
      ]);
      expect(result.written).toEqual(['/etc/lvm/lvm.conf', '/etc/lvm/lvmlocal.conf']);
      expect(result.started).toEqual(['sanlock', 'lvmlockd']);

      const confAfter = await n.readFile('/etc/lvm/lvm.conf');
      const localAfter = await n.readFile('/etc/lvm/lvmlocal.conf');
      const confDiff = lineDiff(conf, confAfter);
      const localDiff = lineDiff(local, localAfter);
      log(`${n.name} lvm.conf: -${JSON.stringify(confDiff.removed)} +${JSON.stringify(confDiff.added)}; lvmlocal.conf: +${JSON.stringify(localDiff.added)}`);
      if (n === node1) {
        // Debian's file only comments the default: the setting goes in after lvm's own example line.
        expect(confDiff).toEqual({ removed: [], added: ['\tuse_lvmlockd = 1'] });
        expect(confAfter.split('\n').indexOf('\tuse_lvmlockd = 1')).toBe(confAfter.split('\n').indexOf('\t# use_lvmlockd = 0') + 1);
      } else {
        // The lab's own file sets it: only that value changes.
        expect(confDiff).toEqual({ removed: ['    use_lvmlockd = 0'], added: ['    use_lvmlockd = 1'] });
      }
      expect(localDiff).toEqual({ removed: [], added: [`\thost_id = ${hostId}`] });
      // Real lvm reads what hastor wrote.
      expect((await n.execOk(['lvmconfig', 'global/use_lvmlockd', 'local/host_id'])).stdout).toBe(`use_lvmlockd=1\nhost_id=${hostId}\n`);
      expect((await n.exec(['sanlock', 'client', 'status'])).exitCode).toBe(0);
      expect((await n.exec(['lvmlockctl', '--info'])).exitCode).toBe(0);
      record(`lvm.conf-${n.name}-before`, conf);
      record(`lvm.conf-${n.name}-after`, confAfter);
      record(`lvmlocal.conf-${n.name}-before`, local);
      record(`lvmlocal.conf-${n.name}-after`, localAfter);

      // Again: nothing to do, nothing written, nothing started.
      const again = await setupLvmlockd(e, { lockManager: 'sanlock', hostId, daemons: 'direct', sanlockWatchdog: false });
      expect(again).toMatchObject({ written: [], started: [], running: ['sanlock', 'lvmlockd'] });
      expect(again.plan.edits).toEqual([]);
      expect(await n.readFile('/etc/lvm/lvm.conf')).toBe(confAfter);
      expect(await n.readFile('/etc/lvm/lvmlocal.conf')).toBe(localAfter);
    }
  });

  it('vgcreate --shared on the bare /dev/drbd0 (node1): a sanlock VG, cluster-aware', async () => {
    const { value, calls: used } = await capture(() => createSharedVg(e1, { vg: SHARED_VG, device: '/dev/drbd0', lockType: 'sanlock' }));
    log(`vgcreate --shared took ${(value.durationMs / 1000).toFixed(1)} s`);
    record('create-shared-vg.json', replay(used));
    const create = used.find((c) => c.argv[0] === 'vgcreate');
    if (create) record('vgcreate-shared.txt', `# ${create.node}$ ${create.argv.join(' ')}\n${verbatim(create)}`);
    expect(value).toMatchObject({ created: true, locking: { clusterAware: true, kind: 'lvmlockd', lockType: 'sanlock', attr: 'wz--ns' } });
    // Idempotent: the VG is there and shared.
    expect(await createSharedVg(e1, { vg: SHARED_VG, device: '/dev/drbd0' })).toMatchObject({ created: false });
    await node1.execOk(['lvcreate', '-y', '-an', '-n', 'excl1', '-L', '32m', SHARED_VG]);
    await node1.execOk(['lvcreate', '-y', '-an', '-n', 'shared1', '-L', '32m', SHARED_VG]);
  });

  it('the LVM UpperLayerCheck says the shared VG is cluster-aware, so hastor makes r0 dual-primary', async () => {
    const { value, calls: used } = await capture(() => check(r0.definition, cluster));
    record('upper-layer-r0-shared-vg.json', replay(used));
    expect(value).toEqual({ clusterAware: true, detail: `VG ${SHARED_VG} on /dev/drbd0 is shared (lvmlockd, sanlock)` });
    await r0.beginDualPrimary({ upperLayer: check });
    const states = await r0.states();
    expect(states['node1']?.role).toBe('Primary');
    expect(states['node2']?.role).toBe('Primary');
  });

  it("node2 starts the VG's lockspace (the first start fails without udev; hastor retries)", async () => {
    const { value, calls: used } = await capture(() => startLockspace(e2, SHARED_VG, { retryDelayMs: 1000 }));
    record('start-lockspace-node2.json', replay(used));
    log(`lockstart on node2: ${value.attempts.map((a) => `${a.ok ? 'ok' : 'failed'} ${(a.durationMs / 1000).toFixed(1)} s`).join(', ')}`);
    expect(value.attempts.at(-1)?.ok).toBe(true);
    // Already started on node1: a start there is a no-op that succeeds.
    expect((await startLockspace(e1, SHARED_VG)).attempts).toHaveLength(1);
    expect(await isClusterAware(e2, SHARED_VG)).toMatchObject({ clusterAware: true, lockType: 'sanlock' });
    record('sanlock-client-status-node2.txt', verbatim(await node2.exec(['sanlock', 'client', 'status'])));
  });

  it('exclusive activation on node1 is refused on node2 with an LvmClusterLockError', async () => {
    await activate(e1, { vg: SHARED_VG, lv: 'excl1' }, 'exclusive');
    const { value: refused, calls: used } = await capture(() =>
      activate(e2, { vg: SHARED_VG, lv: 'excl1' }, 'exclusive').then(
        () => null,
        (e: unknown) => e,
      ),
    );
    const refusedCall = used.find((c) => c.argv[0] === 'lvchange');
    if (refusedCall) record('lvchange-aey-refused-node2.txt', `# ${refusedCall.node}$ ${refusedCall.argv.join(' ')}\n${verbatim(refusedCall)}`);
    expect(refused).toBeInstanceOf(LvmClusterLockError);
    expect(refused).toBeInstanceOf(LockError);
    const error = refused as LvmClusterLockError;
    expect(error).toMatchObject({ code: 'E_LOCK', node: 'node2', vg: SHARED_VG, lv: 'excl1', requested: 'exclusive', reason: 'held-by-other-host' });
    expect(error.lvmMessage).toBe(`LV locked by other host: ${SHARED_VG}/excl1`);
    expect(error.message).toMatch(/^node2: cannot activate vgshared\/excl1 exclusively: LV locked by other host/);
    expect(error.cause).toBeInstanceOf(CommandError);
    // Shared on node2 is refused too while node1 holds it exclusively.
    await expect(activate(e2, { vg: SHARED_VG, lv: 'excl1' }, 'shared')).rejects.toMatchObject({ reason: 'held-by-other-host' });

    const version = await lvmVersionOn(e1);
    const [on1, on2] = await Promise.all(
      [e1, e2].map(async (e) => (await readLvs({ version, exec: new ExecutorLvmRunner(e).exec, lvs: [{ vg: SHARED_VG, lv: 'excl1' }] })).items[0]),
    );
    expect(on1).toMatchObject({ active: true });
    expect(on2).toMatchObject({ active: false });
    // lvmlockd's own view: node1 holds the LV lock ex, node2 none.
    expect(await lvLockModes(node1, on1?.uuid ?? '?')).toEqual(['ex']);
    expect((await lvLockModes(node2, on1?.uuid ?? '?')).filter((m) => m !== 'un')).toEqual([]);
  });

  it('shared activation on both nodes; exclusive is then refused on either', async () => {
    await activate(e1, { vg: SHARED_VG, lv: 'shared1' }, 'shared');
    await activate(e2, { vg: SHARED_VG, lv: 'shared1' }, 'shared');
    const version = await lvmVersionOn(e1);
    for (const [n, e] of [
      [node1, e1],
      [node2, e2],
    ] as const) {
      const lv = (await readLvs({ version, exec: new ExecutorLvmRunner(e).exec, lvs: [{ vg: SHARED_VG, lv: 'shared1' }] })).items[0];
      // lv_active_exclusively says "exclusively" for any local activation on 2.03 (a clvm-era field): ask lvmlockd.
      expect(lv).toMatchObject({ active: true });
      expect(await lvLockModes(n, lv?.uuid ?? '?')).toEqual(['sh']);
      record(`lvmlockctl-info-${n.name}.txt`, (await n.execOk(['lvmlockctl', '--info'])).stdout);
    }
    // node2 already holds it shared: asking for exclusive is an incompatible mode there.
    await expect(activate(e2, { vg: SHARED_VG, lv: 'shared1' }, 'exclusive')).rejects.toBeInstanceOf(LvmClusterLockError);
    const vgs = await readVgs({ version, exec: new ExecutorLvmRunner(e2).exec, vgs: [SHARED_VG] });
    expect(vgs.items.map((v) => [v.name, v.shared, v.lockType])).toEqual([[SHARED_VG, true, 'sanlock']]);
    const raw = await node2.exec(['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '--config', 'log/report_command_log=1', '-o', 'vg_name,vg_attr,vg_lock_type,vg_lock_args', SHARED_VG]);
    record('vgs-json-log-shared-node2.txt', verbatim(raw));
  });

  it('LVs deactivated and the lockspace stopped on both nodes', async () => {
    for (const e of [e1, e2]) {
      await activate(e, { vg: SHARED_VG, lv: 'shared1' }, 'off');
    }
    await activate(e1, { vg: SHARED_VG, lv: 'excl1' }, 'off');
    for (const e of [e2, e1]) await stopLockspace(e, SHARED_VG);
    for (const n of [node1, node2]) {
      expect((await n.execOk(['lvmlockctl', '--info'])).stdout).not.toContain(`lvm_${SHARED_VG}`);
    }
  });
});
