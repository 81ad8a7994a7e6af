/**
 * Shared VGs through an Executor, replayed from what the two-node lab recorded
 * (test/fixtures/lab-lvm/: every command hastor ran with its real output): lvmlockd set-up
 * (files byte-for-byte as the lab ended up with them, daemons started directly or through
 * systemd), vgcreate --shared, the lockspace start with its retry, activation and lvmlockd's
 * refusals as typed errors, and the VG's locking read from recorded reports.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandError, ConfigError, HastorError, LockError } from '../../../src/errors.js';
import { parseVgs, type VolumeGroup } from '../../../src/lvm/report.js';
import {
  LvmClusterLockError,
  activate,
  classifyLockRefusal,
  createSharedVg,
  isClusterAware,
  lvmVersionOn,
  setupLvmlockd,
  startLockspace,
  stopLockspace,
  vgLockingOf,
} from '../../../src/lvm/shared-vg.js';
import type { ExecOptions, Executor, WriteFileOptions } from '../../../src/sys/executor.js';
import type { RunResult } from '../../../src/sys/local-exec.js';
import { fixture } from './helpers.js';

const lab = (name: string): string => readFileSync(new URL(`../../fixtures/lab-lvm/${name}`, import.meta.url), 'utf8');
const LVM_VERSION = fixture('lab-2.03.16/lvm-version.txt');

interface Recorded {
  node: string;
  argv: string[];
  exitCode: number | null;
  stdout: string;
  stderr: string;
}
const recording = (name: string): Recorded[] => JSON.parse(lab(name)) as Recorded[];

type Answer = { stdout?: string; stderr?: string; exitCode?: number };

/** An Executor that answers from a function and keeps every call and write. */
class FakeExecutor implements Executor {
  readonly calls: Array<{ argv: string[]; options: ExecOptions }> = [];
  readonly writes: Array<{ path: string; content: string; options: WriteFileOptions }> = [];

  constructor(
    readonly node: string,
    private readonly answer: (argv: string[]) => Answer | undefined,
  ) {}

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], options });
    const a = argv[0] === 'lvm' && argv[1] === 'version' ? { stdout: LVM_VERSION } : this.answer([...argv]);
    if (a === undefined) throw new Error(`${this.node}: unexpected command ${argv.join(' ')}`);
    const result = { stdout: a.stdout ?? '', stderr: a.stderr ?? '', exitCode: a.exitCode ?? 0 };
    if (!(options.okExitCodes ?? [0]).includes(result.exitCode)) {
      throw new CommandError(`${this.node}: ${argv.join(' ')}: exited with ${result.exitCode}: ${result.stderr.trim().split('\n')[0]}`, {
        argv,
        exitCode: result.exitCode,
        stderr: result.stderr,
        node: this.node,
      });
    }
    return result;
  }

  async readFile(path: string): Promise<string> {
    return (await this.run(['cat', '--', path])).stdout;
  }

  async writeFile(path: string, content: string, options: WriteFileOptions = {}): Promise<void> {
    this.writes.push({ path, content, options });
  }

  /** argv of the calls, without the version probe. */
  commands(): string[] {
    return this.calls.filter((c) => !(c.argv[0] === 'lvm' && c.argv[1] === 'version')).map((c) => c.argv.join(' '));
  }
}

/** Answers each argv with the next recorded call of the same argv. */
function replayer(list: readonly Recorded[]): (argv: string[]) => Answer | undefined {
  const left = [...list];
  return (argv) => {
    const i = left.findIndex((c) => JSON.stringify(c.argv) === JSON.stringify(argv));
    if (i < 0) return undefined;
    const [c] = left.splice(i, 1) as [Recorded];
    return { stdout: c.stdout, stderr: c.stderr, exitCode: c.exitCode ?? 137 };
  };
}

/** "# node$ argv" first line, output, "# rc=N" last line → the command's stderr and exit code. */
function verbatimFile(name: string): { argv: string[]; stderr: string; exitCode: number } {
  const lines = lab(name).split('\n');
  const rc = /^# rc=(\d+)$/.exec(lines.findLast((l) => l.startsWith('# rc=')) ?? '# rc=0');
  return {
    argv: (lines[0] ?? '').replace(/^# \S+\$ /, '').split(' '),
    stderr: `${lines.slice(1).filter((l) => !l.startsWith('# rc=')).join('\n')}`,
    exitCode: Number(rc?.[1] ?? 0),
  };
}

const vgsOutput = (file: string, node: string): string => {
  const call = recording(file).find((c) => c.node === node && c.argv[0] === 'vgs');
  if (call === undefined) throw new Error(`no vgs in ${file}`);
  return call.stdout;
};

describe('setupLvmlockd', () => {
  for (const node of ['node1', 'node2'] as const) {
    it(`${node}: replayed against the lab's files, writes exactly what the lab ended with, then starts sanlock and lvmlockd directly`, async () => {
      const recorded = recording(`setup-lvmlockd-${node}.json`);
      const fake = new FakeExecutor(node, replayer(recorded));
      const hostId = node === 'node1' ? 1 : 2;
      const result = await setupLvmlockd(fake, { lockManager: 'sanlock', hostId, daemons: 'direct', sanlockWatchdog: false });
      expect(fake.writes.map((w) => [w.path, w.options])).toEqual([
        ['/etc/lvm/lvm.conf', { root: true, mode: 0o644 }],
        ['/etc/lvm/lvmlocal.conf', { root: true, mode: 0o644 }],
      ]);
      expect(fake.writes[0]?.content).toBe(lab(`lvm.conf-${node}-after`));
      expect(fake.writes[1]?.content).toBe(lab(`lvmlocal.conf-${node}-after`));
      expect(result).toMatchObject({ node, written: ['/etc/lvm/lvm.conf', '/etc/lvm/lvmlocal.conf'], started: ['sanlock', 'lvmlockd'], running: [] });
      // The same commands in the same order as in the lab (file writes go through writeFile here).
      expect(fake.commands()).toEqual(recorded.filter((c) => c.argv[0] !== 'sh').map((c) => c.argv.join(' ')));
      expect(fake.commands()).toEqual(
        expect.arrayContaining(['sanlock daemon -w 0', 'lvmlockd -g sanlock', 'mkdir -p /run/sanlock', 'mkdir -p /run/lvm']),
      );
      expect(fake.calls.every((c) => c.options.root === true)).toBe(true);
    });
  }

  it('on files already set and daemons running: no edits, no writes, nothing started', async () => {
    const fake = new FakeExecutor('node1', (argv) => {
      if (argv[0] === 'cat') return { stdout: lab(argv[2] === '/etc/lvm/lvm.conf' ? 'lvm.conf-node1-after' : 'lvmlocal.conf-node1-after') };
      if (argv.join(' ') === 'sanlock client status' || argv.join(' ') === 'lvmlockctl --info') return {};
      return undefined;
    });
    const result = await setupLvmlockd(fake, { lockManager: 'sanlock', hostId: 1 });
    expect(result.plan.edits).toEqual([]);
    expect(fake.writes).toEqual([]);
    expect(result).toMatchObject({ written: [], started: [], running: ['sanlock', 'lvmlockd'] });
  });

  it('a missing lvmlocal.conf is created; with systemd the units are started (wdmd too unless told otherwise)', async () => {
    let up = false;
    const fake = new FakeExecutor('n', (argv) => {
      const line = argv.join(' ');
      if (line === 'cat -- /etc/lvm/lvm.conf') return { stdout: lab('lvm.conf-node2-before') };
      if (line === 'cat -- /etc/lvm/lvmlocal.conf') return { stderr: 'cat: /etc/lvm/lvmlocal.conf: No such file or directory\n', exitCode: 1 };
      if (line === 'sanlock client status' || line === 'lvmlockctl --info') return { exitCode: up ? 0 : 1 };
      if (line === 'test -d /run/systemd/system') return {};
      if (line === 'systemctl start wdmd sanlock lvmlockd') {
        up = true;
        return {};
      }
      return undefined;
    });
    const result = await setupLvmlockd(fake, { lockManager: 'sanlock', hostId: 7 });
    expect(fake.writes[1]).toMatchObject({ path: '/etc/lvm/lvmlocal.conf', content: 'local {\n\thost_id = 7\n}\n' });
    expect(result.started).toEqual(['sanlock', 'lvmlockd']);
    expect(fake.commands()).toContain('systemctl start wdmd sanlock lvmlockd');
  });

  it('daemons "none": says what is missing instead of starting it', async () => {
    const fake = new FakeExecutor('n', (argv) => {
      if (argv[0] === 'cat') return { stdout: lab(argv[2] === '/etc/lvm/lvm.conf' ? 'lvm.conf-node2-after' : 'lvmlocal.conf-node2-after') };
      if (argv[0] === 'sanlock') return {};
      if (argv[0] === 'lvmlockctl') return { stderr: 'Cannot connect to lvmlockd.\n', exitCode: 255 };
      return undefined;
    });
    const error = await setupLvmlockd(fake, { lockManager: 'sanlock', hostId: 2, daemons: 'none' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HastorError);
    expect(error).toMatchObject({ code: 'E_DAEMON', message: 'n: lvmlockd not running; start lvmlockd (lvmlockd -g sanlock)' });
  });

  it('dlm: no host_id, no sanlock; lvmlockd -g dlm', async () => {
    let up = false;
    const fake = new FakeExecutor('n', (argv) => {
      const line = argv.join(' ');
      if (line === 'cat -- /etc/lvm/lvm.conf') return { stdout: lab('lvm.conf-node1-before') };
      if (line === 'cat -- /etc/lvm/lvmlocal.conf') return { stdout: lab('lvmlocal.conf-node1-before') };
      if (line === 'lvmlockctl --info') return { exitCode: up ? 0 : 255 };
      if (line === 'test -d /run/systemd/system') return { exitCode: 1 };
      if (line === 'mkdir -p /run/lvm') return {};
      if (line === 'lvmlockd -g dlm') {
        up = true;
        return {};
      }
      return undefined;
    });
    const result = await setupLvmlockd(fake, { lockManager: 'dlm' });
    expect(fake.writes.map((w) => w.path)).toEqual(['/etc/lvm/lvm.conf']);
    expect(fake.writes[0]?.content).toBe(lab('lvm.conf-node1-after'));
    expect(result.started).toEqual(['lvmlockd']);
    expect(fake.commands().some((c) => c.startsWith('sanlock'))).toBe(false);
    await expect(setupLvmlockd(new FakeExecutor('n', () => ({ stdout: '' })), { lockManager: 'dlm', hostId: 1 })).rejects.toBeInstanceOf(ConfigError);
  });

  it('reads lvm version once per executor', async () => {
    const fake = new FakeExecutor('n', () => undefined);
    const [a, b] = await Promise.all([lvmVersionOn(fake), lvmVersionOn(fake)]);
    expect(a).toBe(b);
    expect(a.lvm).toBe('2.03.16');
    expect(fake.calls.filter((c) => c.argv.join(' ') === 'lvm version')).toHaveLength(1);
  });
});

describe('the VG and its lockspace', () => {
  it('createSharedVg: vgcreate --shared on the bare device, then reads the VG back (lab replay)', async () => {
    const recorded = recording('create-shared-vg.json');
    const fake = new FakeExecutor('node1', replayer(recorded));
    const result = await createSharedVg(fake, { vg: 'vgshared', device: '/dev/drbd0', lockType: 'sanlock' });
    expect(result).toMatchObject({ node: 'node1', vg: 'vgshared', created: true, locking: { clusterAware: true, kind: 'lvmlockd', lockType: 'sanlock', attr: 'wz--ns' } });
    expect(fake.commands().filter((c) => !c.startsWith('vgs '))).toEqual(['vgcreate --shared --locktype sanlock vgshared /dev/drbd0']);
    expect(lab('vgcreate-shared.txt')).toContain('Enabling sanlock global lock');
  });

  it('createSharedVg: an existing shared VG is kept, an existing local one refused', async () => {
    const shared = new FakeExecutor('node1', (argv) => (argv[0] === 'vgs' ? { stdout: vgsOutput('upper-layer-r0-shared-vg.json', 'node1') } : undefined));
    expect(await createSharedVg(shared, { vg: 'vgshared', device: '/dev/drbd0' })).toMatchObject({ created: false });
    expect(shared.commands().some((c) => c.startsWith('vgcreate'))).toBe(false);
    const plain = new FakeExecutor('node1', (argv) => (argv[0] === 'vgs' ? { stdout: vgsOutput('upper-layer-r1-plain-vg.json', 'node1') } : undefined));
    const error = await createSharedVg(plain, { vg: 'vgplain', device: '/dev/drbd1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('node1: VG vgplain exists and is not shared: VG vgplain is a local VG (attr wz--n-, no lvmlockd or clvmd lock type)');
    await expect(createSharedVg(plain, { vg: 'bad/name', device: '/dev/drbd1' })).rejects.toBeInstanceOf(ConfigError);
    await expect(createSharedVg(plain, { vg: 'ok', device: 'drbd1' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('startLockspace retries the first start that fails on node2 (lab replay)', async () => {
    const recorded = recording('start-lockspace-node2.json');
    expect(recorded.map((c) => c.exitCode)).toEqual([5, 0]);
    const fake = new FakeExecutor('node2', replayer(recorded));
    const result = await startLockspace(fake, 'vgshared', { retryDelayMs: 0 });
    expect(result.attempts.map((a) => a.ok)).toEqual([false, true]);
    expect(result.attempts[0]?.message).toContain('VG vgshared start failed: invalid parameters for sanlock');
    expect(fake.commands()).toEqual(['vgchange --lockstart vgshared', 'vgchange --lockstart vgshared']);
  });

  it('startLockspace gives up after its retries with what lvm said last', async () => {
    const first = recording('start-lockspace-node2.json')[0] as Recorded;
    const fake = new FakeExecutor('node2', () => ({ stderr: first.stderr, exitCode: 5 }));
    const error = await startLockspace(fake, 'vgshared', { retries: 1, retryDelayMs: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as Error).message).toBe('node2: cannot start the lockspace of vgshared (2 attempts): VG vgshared start failed: invalid parameters for sanlock');
    expect(fake.calls).toHaveLength(2);
  });

  it('stopLockspace runs vgchange --lockstop', async () => {
    const fake = new FakeExecutor('n', () => ({}));
    await stopLockspace(fake, 'vgshared');
    expect(fake.commands()).toEqual(['vgchange --lockstop vgshared']);
  });
});

describe('activation and lvmlockd refusals', () => {
  it('lvchange -aey / -asy / -an on vg/lv, as root', async () => {
    const fake = new FakeExecutor('n', () => ({}));
    for (const mode of ['exclusive', 'shared', 'off'] as const) {
      expect(await activate(fake, { vg: 'vgshared', lv: 'excl1' }, mode)).toMatchObject({ node: 'n', lv: 'vgshared/excl1', mode });
    }
    expect(fake.commands()).toEqual(['lvchange -aey vgshared/excl1', 'lvchange -asy vgshared/excl1', 'lvchange -an vgshared/excl1']);
    expect(fake.calls.every((c) => c.options.root === true)).toBe(true);
    await expect(activate(fake, { vg: 'vgshared', lv: 'snapshot1' }, 'exclusive')).rejects.toBeInstanceOf(ConfigError);
    await expect(activate(fake, { vg: 'vgshared', lv: 'x' }, 'sideways' as 'off')).rejects.toBeInstanceOf(ConfigError);
    expect(fake.calls).toHaveLength(3);
  });

  it("the lab's refusal on node2 (node1 holds the LV exclusively) becomes an LvmClusterLockError", async () => {
    const refused = verbatimFile('lvchange-aey-refused-node2.txt');
    expect(refused.argv).toEqual(['lvchange', '-aey', 'vgshared/excl1']);
    const fake = new FakeExecutor('node2', () => ({ stderr: refused.stderr, exitCode: refused.exitCode }));
    const error = await activate(fake, { vg: 'vgshared', lv: 'excl1' }, 'exclusive').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LvmClusterLockError);
    expect(error).toBeInstanceOf(LockError);
    expect(error).toMatchObject({
      code: 'E_LOCK',
      node: 'node2',
      vg: 'vgshared',
      lv: 'excl1',
      requested: 'exclusive',
      reason: 'held-by-other-host',
      lvmMessage: 'LV locked by other host: vgshared/excl1',
      path: '/dev/mapper/vgshared-lvmlock',
    });
    expect((error as Error).message).toBe(
      'node2: cannot activate vgshared/excl1 exclusively: LV locked by other host: vgshared/excl1; another node holds its lvmlockd lock: deactivate it there first (lvchange -an), or activate it shared (-asy) on every node that needs it',
    );
    expect((error as Error).cause).toBeInstanceOf(CommandError);
  });

  it('other failures stay CommandErrors', async () => {
    const fake = new FakeExecutor('n', () => ({ stderr: '  Failed to find logical volume "vgshared/nope"\n', exitCode: 5 }));
    const error = await activate(fake, { vg: 'vgshared', lv: 'nope' }, 'exclusive').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).not.toBeInstanceOf(LockError);
  });

  it('classifies lvmlockd messages, ignoring the global-lock warning every command prints on a second node', () => {
    expect(classifyLockRefusal('  Skipping global lock: lockspace not found or started\n  LV locked by other host: vg/lv\n')).toEqual({ reason: 'held-by-other-host', line: 'LV locked by other host: vg/lv' });
    expect(classifyLockRefusal('  LV is already locked with incompatible mode: vg/lv')).toMatchObject({ reason: 'incompatible-mode' });
    expect(classifyLockRefusal('  Global lock failed: held by other host.')).toMatchObject({ reason: 'held-by-other-host' });
    expect(classifyLockRefusal('  VG vg lock skipped: lock start in progress')).toMatchObject({ reason: 'lockspace-not-started' });
    expect(classifyLockRefusal('  Cannot connect to lvmlockd.')).toMatchObject({ reason: 'lvmlockd-unavailable' });
    expect(classifyLockRefusal('  Skipping global lock: lockspace not found or started')).toBeNull();
    expect(classifyLockRefusal('  Volume group "x" not found')).toBeNull();
  });
});

describe("a VG's locking from recorded reports", () => {
  const vgOf = (file: string, node: string): VolumeGroup => parseVgs(vgsOutput(file, node), { format: 'json' }).items[0] as VolumeGroup;

  it('the lab shared VG is lvmlockd/sanlock, the plain one local', () => {
    expect(vgLockingOf(vgOf('upper-layer-r0-shared-vg.json', 'node1'))).toEqual({
      vg: 'vgshared',
      clusterAware: true,
      kind: 'lvmlockd',
      lockType: 'sanlock',
      attr: 'wz--ns',
      detail: 'VG vgshared is shared (lvmlockd, sanlock)',
    });
    expect(vgLockingOf(vgOf('upper-layer-r1-plain-vg.json', 'node1'))).toMatchObject({ vg: 'vgplain', clusterAware: false, kind: 'local', lockType: null });
  });

  it('a clvm VG (attr "c", lock type clvm on 2.03) counts as clustered', () => {
    // Built from the plain VG's report: lvm2 2.03 cannot run clvmd, so there is no lab capture of one.
    const plain = vgOf('upper-layer-r1-plain-vg.json', 'node1');
    const clustered = { ...plain, name: 'vgclvm', attr: 'wz--nc', clustered: true };
    expect(vgLockingOf(clustered)).toMatchObject({ clusterAware: true, kind: 'clvm', lockType: 'clvm', detail: 'VG vgclvm is clustered (clvmd, attr wz--nc)' });
    expect(vgLockingOf({ ...plain, lockType: 'clvm' })).toMatchObject({ kind: 'clvm' });
    expect(vgLockingOf({ ...plain, lockType: 'dlm' })).toMatchObject({ kind: 'lvmlockd', lockType: 'dlm' });
  });

  it('isClusterAware reads vgs on the node; a missing VG is a CommandError', async () => {
    const fake = new FakeExecutor('node2', (argv) => (argv[0] === 'vgs' ? { stdout: vgsOutput('upper-layer-r0-shared-vg.json', 'node1') } : undefined));
    expect(await isClusterAware(fake, 'vgshared')).toMatchObject({ clusterAware: true, lockType: 'sanlock' });
    const missing = new FakeExecutor('node2', (argv) => (argv[0] === 'vgs' ? { stdout: '  {\n      "report": [\n          {\n              "vg": [\n              ]\n          }\n      ]\n  }\n', exitCode: 5 } : undefined));
    await expect(isClusterAware(missing, 'vgshared')).rejects.toThrow(/^node2: VG vgshared not found/);
  });
});
