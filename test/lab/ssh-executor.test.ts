/**
 * SshExecutor against a real OpenSSH server: sshd runs in node1 with host
 * keys made there, a user `hastor` with no password and a sudoers rule for
 * exactly the commands hastor runs as root; node2 holds the client key in an
 * ssh-agent only and runs a guest script that drives SshExecutor
 * (BatchMode, sudo -n). Root login is refused even though root's
 * authorized_keys has the same key: PermitRootLogin no.
 *
 * The set-up is test/lab/ssh-setup.ts. Needs openssh-server, openssh-client
 * and sudo on the host (test/lab/setup.sh).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';
import { AGENT_SOCKET, BASE_SUDOERS, KNOWN_HOSTS, LVM_SUDOERS, assertSshTools, setupSshAccess } from './ssh-setup.js';

const WRITE_PATH = '/etc/drbd.d/hastor-ssh-test.conf';
const FORBIDDEN_PATH = '/etc/hastor-ssh-test.conf';

interface Failure {
  error: { name: string; code: string | null; message: string; exitCode: number | null; stderr: string };
}
type Step<T> = { value: T } | Failure;
interface LvmReads {
  vgs: string[];
  via: string[];
  fallbackReason: string | null;
  lastStartFailure: string | null;
  stats: { shellCommands: number; forkCommands: number; starts: number; startFailures: number };
}
interface Report {
  sshAuthSock: string | null;
  whoami: Step<string>;
  uidViaSudo: Step<string>;
  argv: Step<string>;
  nasty: string;
  cluster: Step<string[]>;
  versions: Step<{ utils: string; kernel: string | null; generation: string | null }>;
  statusOfAbsentResource: Step<unknown>;
  write: Step<undefined>;
  readBack: Step<string>;
  content: string;
  stat: Step<string>;
  readWithoutRoot: Step<string>;
  writeOutsideRule: Step<undefined>;
  forbiddenExists: Step<boolean>;
  rootLogin: Step<string>;
  lvmShell: Step<LvmReads>;
  lvmShellOutsideRule: Step<LvmReads>;
  lvmFork: Step<string[]>;
  readShell: Step<{ texts: string[]; byCat: string[]; rootOnly: string; counts: { shell: number; fallback: number }; running: boolean }>;
}

const value = <T>(step: Step<T>): T => {
  if ('error' in step) throw new Error(`expected a value, got ${step.error.name}: ${step.error.message}\n${step.error.stderr}`);
  return step.value;
};
const failure = <T>(step: Step<T>): Failure['error'] => {
  if (!('error' in step)) throw new Error(`expected a failure, got ${JSON.stringify(step.value)}`);
  return step.error;
};

let lab: Lab;
let node1: LabNode;
let node2: LabNode;
let report: Report;

beforeAll(async () => {
  assertSshTools();
  lab = await startLab({ nodes: 2, disksMiB: [64] });
  [node1, node2] = lab.nodes as [LabNode, LabNode];
  await node1.execOk(['modprobe', 'drbd']);
  await node1.execOk(['vgcreate', 'vg_ssh', '/dev/ubda']);
  // sshd in node1 with the rules for exactly hastor's root commands; the key in node2's agent only.
  // Fork-per-call reads run `vgs …` itself (the fallback, and the side-by-side read).
  await setupSshAccess(node1, node2, `${BASE_SUDOERS}${LVM_SUDOERS}hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C vgs *\n`);

  report = await node2.guestScript<Report>(
    'ssh-executor-check',
    ['--host', node1.address, '--user', 'hastor', '--known-hosts', KNOWN_HOSTS, '--control-dir', '/run/hastor-ssh', '--write-path', WRITE_PATH, '--forbidden-path', FORBIDDEN_PATH],
    { env: { SSH_AUTH_SOCK: AGENT_SOCKET }, timeoutMs: 120_000 },
  );
}, 180_000);

afterAll(async () => {
  await lab?.stop();
});

describe('SshExecutor against a real sshd, as an unprivileged user with sudo -n', () => {
  it('logs in as hastor with the agent key only (no key file left, BatchMode)', async () => {
    expect(report.sshAuthSock).toBe(AGENT_SOCKET);
    expect(value(report.whoami)).toBe('hastor');
    expect((await node2.exec(['test', '-e', '/root/.ssh/lab_key'])).exitCode).toBe(1);
  });

  it('passes every argument through the remote shell unchanged', () => {
    expect(value(report.argv)).toBe(report.nasty);
  });

  it('lets the Cluster check uname -n over ssh', () => {
    expect(value(report.cluster)).toEqual(['node1']);
  });

  it('runs drbdadm and drbdsetup through sudo -n and parses them', () => {
    expect(value(report.versions)).toMatchObject({ utils: '9.22.0', kernel: '8.4.11', generation: '8.4' });
    expect(value(report.statusOfAbsentResource)).toBeNull();
  });

  it('writes a root-owned file atomically with the asked mode and reads it back as root', async () => {
    value(report.write);
    expect(value(report.readBack)).toBe(report.content);
    expect(value(report.stat)).toBe('root root 640');
    expect((await node1.execOk(['cat', WRITE_PATH])).stdout).toBe(report.content);
  });

  it('does not elevate on its own: reading the 0640 root file without root fails', () => {
    const error = failure(report.readWithoutRoot);
    expect(error.code).toBe('E_COMMAND');
    expect(error.stderr).toMatch(/Permission denied/);
  });

  it('fails a root command the sudoers rule does not allow, without prompting for a password', () => {
    const error = failure(report.uidViaSudo);
    expect(error.code).toBe('E_COMMAND');
    expect(error.exitCode).toBe(1);
    expect(error.stderr).toMatch(/a password is required/);
    const outside = failure(report.writeOutsideRule);
    expect(outside.stderr).toMatch(/a password is required/);
    expect(value(report.forbiddenExists)).toBe(false);
  });

  it('keeps one lvm shell over ssh with sudo -n (its exact rule): reports through it read as fork-per-call does', async () => {
    const shell = value(report.lvmShell);
    expect(shell.via).toEqual(['shell', 'shell']);
    expect(shell.lastStartFailure).toBeNull();
    // Every read, the parsed ones included, went through the one shell.
    expect(shell.stats).toMatchObject({ starts: 1, startFailures: 0, shellCommands: 4, forkCommands: 0 });
    expect(shell.vgs).toEqual(value(report.lvmFork));
    expect(shell.vgs).toEqual([expect.stringMatching(/^vg_ssh:\d+$/)]);
    expect((await node1.execOk(['cat', '/etc/lvm/profile/hastor-lvmshell.profile'])).stdout).toMatch(/report_command_log = 1/);
  });

  it('falls back to one lvm process per command where sudo does not allow the shell', () => {
    const outside = value(report.lvmShellOutsideRule);
    expect(outside.via).toEqual(['fork', 'fork']);
    expect(outside.fallbackReason).toMatch(/failed to start 2 times: .*a password is required/);
    expect(outside.stats).toMatchObject({ starts: 0, startFailures: 2, shellCommands: 0, forkCommands: 4 });
    expect(outside.vgs).toEqual(value(report.lvmFork));
  });

  it('reads /proc/drbd and sysfs through one unprivileged sh (no sudo), as cat reads them; a root-only file it leaves to the executor, which is refused', () => {
    const read = value(report.readShell);
    expect(read.texts).toEqual(read.byCat);
    expect(read.texts[0]).toMatch(/^version: 8\.4\./);
    expect(read.texts[1]).toMatch(/^\d+\n$/);
    expect(read.rootOnly).toMatch(/Permission denied/);
    expect(read.counts).toEqual({ shell: 2, fallback: 1 });
    expect(read.running).toBe(false);
  });

  it('refuses root login although root has the key (PermitRootLogin no)', () => {
    const error = failure(report.rootLogin);
    expect(error.exitCode).toBe(255);
    expect(error.stderr).toMatch(/Permission denied \(publickey\)/);
    const log = readFileSync(join(node1.nodeDir, 'sshd.log'), 'utf8');
    expect(log).toMatch(/Accepted publickey for hastor/);
    expect(log).toMatch(/ROOT LOGIN REFUSED|root.*not allowed|Failed publickey for root|Connection closed by authenticating user root/);
  });
});
