import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { clusterSetupJsonSchema, lvmReportJsonSchema } from '../../../src/cli/json-contract.js';
import { fixtureReply, type Reply } from '../drbd/lifecycle/scripted-executor.js';
import { loadedCluster, twoNodes } from './cluster.js';
import { fakeBin, runCli, withPath } from './helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');
const fixture = (relative: string): string => join(root, 'test', 'fixtures', relative);
const HOST = 'lvm/host-2.03.16';

/** lvm 2.03.16 (the lab's version line) and pvs/vgs/lvs printing what the host's lvm printed; every argv is logged. */
function fakeLvm(overrides: Record<string, string> = {}): { bin: string; log: string } {
  const log = join(mkdtempSync(join(tmpdir(), 'hastor-lvm-log-')), 'argv.log');
  const logged = (body: string) => `echo "$(basename "$0") $*" >> ${log}\n${body}`;
  const bin = fakeBin({
    // Not root in some CI: LocalExecutor then runs `sudo -n -- env LC_ALL=C <argv>`; this sudo drops its options.
    sudo: 'while [ "$1" != "--" ]; do shift; done; shift; exec "$@"',
    lvm: logged(`cat ${fixture('lab-8.4.11/lvm-version.txt')}`),
    pvs: logged(overrides.pvs ?? `cat ${fixture(`${HOST}/pvs-json.txt`)}`),
    vgs: logged(overrides.vgs ?? `cat ${fixture(`${HOST}/vgs-json.txt`)}`),
    lvs: logged(overrides.lvs ?? `cat ${fixture(`${HOST}/lvs-json.txt`)}`),
  });
  return { bin, log };
}

describe('hastor lvm report', () => {
  it('--json: pvs, vgs and lvs of this machine as the report contract, sizes in bytes', async () => {
    const { bin, log } = fakeLvm();
    const run = await withPath(bin, () => runCli(['lvm', 'report', '--json']));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = lvmReportJsonSchema.parse(JSON.parse(run.stdout));
    expect(report.pvs?.complete).toBe(true);
    expect(report.vgs?.items.map((v) => v.name)).toContain('vg_host');
    const vg = report.vgs?.items.find((v) => v.name === 'vg_host');
    expect(Number.isInteger(vg?.sizeBytes)).toBe(true);
    expect(vg?.sizeBytes).toBeGreaterThan(0);
    expect(report.lvs?.items.length).toBeGreaterThan(0);
    expect(readFileSync(log, 'utf8').split('\n').map((l) => l.split(' ')[0])).toEqual(['lvm', 'pvs', 'vgs', 'lvs', '']);
  });

  it('one kind, one VG, as a table for humans', async () => {
    const { bin, log } = fakeLvm();
    const run = await withPath(bin, () => runCli(['lvm', 'report', 'vgs', '--vg', 'vg_host']));
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^VG\s+ATTR\s+#PV\s+#LV\s+SIZE\s+FREE\s+LOCK$/);
    expect(run.stdout).toMatch(/^vg_host\s+wz--n-/m);
    expect(readFileSync(log, 'utf8')).toMatch(/^vgs --reportformat json .* vg_host$/m);
  });

  it('lvm exit 5 with a valid report: printed, marked incomplete, the problem on stderr', async () => {
    const { bin } = fakeLvm({
      vgs: `cat ${fixture(`${HOST}/vgs-json-missing-vg.txt`)}; cat ${fixture(`${HOST}/vgs-json-missing-vg.stderr.txt`)} >&2; exit 5`,
    });
    const run = await withPath(bin, () => runCli(['lvm', 'report', 'vgs', '--json']));
    expect(run.code).toBe(0);
    const report = lvmReportJsonSchema.parse(JSON.parse(run.stdout));
    expect(report.vgs?.complete).toBe(false);
    expect(report.vgs?.problems.length).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/^hastor: warning: incomplete report on .*: vgs: /);
  });

  it('lvm failing outright is a command failure (6); an unknown kind is a usage error (2)', async () => {
    const { bin } = fakeLvm({ vgs: 'echo "  Invalid argument for --reportformat: json_std" >&2; exit 3' });
    const failed = await withPath(bin, () => runCli(['lvm', 'report', 'vgs']));
    expect(failed.code).toBe(6);
    expect(failed.stderr).toContain('exited with 3');
    const usage = await runCli(['lvm', 'report', 'lvz']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("'lvz' is invalid for argument 'kind'. Allowed choices are pvs, vgs, lvs");
  });

  it('--node must be a node of the cluster file (2)', async () => {
    const run = await runCli(['lvm', 'report', '--node', 'node9'], { cluster: loadedCluster(twoNodes()) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no node "node9" in test-cluster.json (it has node1, node2)');
  });
});

describe('hastor lvm lock', () => {
  const dir = (): string => mkdtempSync(join(tmpdir(), 'hastor-lvm-lock-'));

  it('holds the VG lock while the command runs (flock(1) cannot take it), then releases it', async () => {
    const locking = dir();
    const file = join(locking, 'V_vg_x');
    const run = await runCli(['lvm', 'lock', 'vg_x', '--locking-dir', locking, '--', 'sh', '-c', 'flock -n -x "$0" true; echo "flock=$?"', file]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('flock=1\n');
    // lvm unlinks a lock file nobody holds on release; so does hastor.
    expect(existsSync(file)).toBe(false);
  });

  it('passes the command\'s exit code through', async () => {
    const run = await runCli(['lvm', 'lock', 'global', '--locking-dir', dir(), '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('out\n');
    expect(run.stderr).toBe('err\n');
  });

  it('a lock held elsewhere past --timeout: exit 5 naming the holder, the command never runs', async () => {
    const locking = dir();
    const holder = spawn('flock', ['-x', join(locking, 'V_vg_x'), 'sleep', '10'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !existsSync(join(locking, 'V_vg_x')); i++) await sleep(20);
      await sleep(100);
      const started = Date.now();
      const run = await runCli(['lvm', 'lock', 'vg_x', '--timeout', '0.3', '--locking-dir', locking, '--', 'sh', '-c', 'echo ran']);
      expect(run.code).toBe(5);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^hastor: lvm's VG "vg_x" lock \(exclusive\): .*waited 0\.3 s, it is still held by pid \d+/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a command that does not exist is a command failure (6); no command is a usage error (2)', async () => {
    const missing = await runCli(['lvm', 'lock', 'vg_x', '--locking-dir', dir(), '--', 'no-such-command-hastor']);
    expect(missing.code).toBe(6);
    expect(missing.stderr).toContain('cannot run no-such-command-hastor');
    const usage = await runCli(['lvm', 'lock', 'vg_x']);
    expect(usage.code).toBe(2);
  });
});

describe('hastor lvm lock when hastor itself is killed (flock(1) semantics)', () => {
  /** Alive and not a zombie: a zombie has closed its descriptors, so it holds no lock. */
  const running = (pid: number): boolean => {
    try {
      return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };

  /** The compiled CLI holding vg_x while `sh` records its pid and becomes `sleep`; resolves once the command runs. */
  async function startHolder(): Promise<{ hastor: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }>; childPid: number; locking: string }> {
    const locking = mkdtempSync(join(tmpdir(), 'hastor-lvm-lock-kill-'));
    const marker = join(mkdtempSync(join(tmpdir(), 'hastor-lvm-lock-marker-')), 'pid');
    const hastor = spawn(process.execPath, [join(root, 'bin', 'hastor.js'), 'lvm', 'lock', 'vg_x', '--locking-dir', locking, '--', 'sh', '-c', 'echo $$ > "$0.tmp"; mv "$0.tmp" "$0"; exec sleep 600', marker], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    hastor.stdout?.resume();
    hastor.stderr?.resume();
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => hastor.on('exit', (code, signal) => resolve({ code, signal })));
    for (let i = 0; !existsSync(marker); i++) {
      if (i > 1500) throw new Error('the command under hastor lvm lock never started');
      await sleep(20);
    }
    return { hastor, exited, childPid: Number(readFileSync(marker, 'utf8')), locking };
  }

  it('SIGKILL of hastor: the command keeps the lock; a second locker is refused until the command exits', async () => {
    const { hastor, exited, childPid, locking } = await startHolder();
    try {
      hastor.kill('SIGKILL');
      await exited;
      expect(running(childPid)).toBe(true);
      const second = await runCli(['lvm', 'lock', 'vg_x', '--timeout', '0', '--locking-dir', locking, '--', 'sh', '-c', 'echo ran']);
      expect(second.code).toBe(5);
      expect(second.stdout).toBe('');
      expect(second.stderr).toContain(`held by pid ${childPid} (sleep 600)`);
    } finally {
      process.kill(childPid, 'SIGKILL');
    }
    // Once the command is gone the lock is free: a waiting locker gets it (no clock involved).
    const after = await runCli(['lvm', 'lock', 'vg_x', '--timeout', '60', '--locking-dir', locking, '--', 'sh', '-c', 'echo ran']);
    expect(after.code).toBe(0);
    expect(after.stdout).toBe('ran\n');
  });

  it('SIGTERM of hastor: passed to the command, which ends; hastor exits 143 and the lock is free', async () => {
    const { hastor, exited, childPid, locking } = await startHolder();
    try {
      hastor.kill('SIGTERM');
      const end = await exited;
      expect(end).toEqual({ code: 143, signal: null });
      expect(running(childPid)).toBe(false);
    } finally {
      if (running(childPid)) process.kill(childPid, 'SIGKILL');
    }
    const second = await runCli(['lvm', 'lock', 'vg_x', '--timeout', '0', '--locking-dir', locking, '--', 'sh', '-c', 'echo ran']);
    expect(second.code).toBe(0);
  });
});

describe('hastor lvm cluster-setup', () => {
  /** A node as the lab's lvm.conf/lvmlocal.conf left it before set-up, no daemons running. */
  function unconfigured(node: 'node1' | 'node2') {
    const t = twoNodes();
    const ex = node === 'node1' ? t.node1 : t.node2;
    const fail: Reply = { stdout: '', stderr: 'not running\n', exitCode: 1 };
    for (const n of [t.node1, t.node2]) {
      n.reply('lvm version', fixtureReply('lab-8.4.11/lvm-version.txt'))
        .reply('cat -- /etc/lvm/lvm.conf', fixtureReply(`lab-lvm/lvm.conf-${n.node}-before`))
        .reply('cat -- /etc/lvm/lvmlocal.conf', fixtureReply(`lab-lvm/lvmlocal.conf-${n.node}-before`))
        .reply('sanlock client status', fail)
        .reply('lvmlockctl --info', fail);
    }
    return { t, ex };
  }

  it('--dry-run --json: the edits and daemon starts per node with its host id, nothing written', async () => {
    const { t } = unconfigured('node1');
    const run = await runCli(['lvm', 'cluster-setup', '--dry-run', '--json', '--vg', 'vgshared'], { cluster: loadedCluster(t) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = clusterSetupJsonSchema.parse(JSON.parse(run.stdout));
    expect(result.dryRun).toBe(true);
    expect(result.nodes.map((n) => [n.node, n.hostId])).toEqual([
      ['node1', 1],
      ['node2', 2],
    ]);
    const node2 = result.nodes[1];
    expect(node2?.edits.map((e) => `${e.file} ${e.path}=${String(e.new)}`)).toEqual(
      expect.arrayContaining(['/etc/lvm/lvm.conf global/use_lvmlockd=1', '/etc/lvm/lvmlocal.conf local/host_id=2']),
    );
    expect(node2?.started).toEqual(['sanlock', 'lvmlockd']);
    expect(node2?.lockspaces).toEqual([{ vg: 'vgshared', started: false, attempts: 0 }]);
    expect([...t.node1.writes, ...t.node2.writes]).toEqual([]);
    expect([...t.node1.commands, ...t.node2.commands].filter((c) => /^(sanlock daemon|lvmlockd -g|systemctl|vgchange)/.test(c))).toEqual([]);
  });

  it('--dry-run for humans says what would be set and started', async () => {
    const { t } = unconfigured('node1');
    const run = await runCli(['lvm', 'cluster-setup', '--dry-run', '--node', 'node1'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^node1 \(host_id 1\)\n {2}would set \/etc\/lvm\/lvm\.conf: global\/use_lvmlockd = 1 \(was /);
    expect(run.stdout).toContain('  would start: sanlock, lvmlockd');
    expect(run.stdout).not.toContain('node2');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('dry run: nothing was changed');
  });
});
