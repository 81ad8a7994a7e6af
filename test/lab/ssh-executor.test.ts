/**
 * SshExecutor against a real OpenSSH server: sshd runs in node1 with host
 * keys made there, a user `hastor` with no password and a sudoers rule for
 * exactly the commands hastor runs as root; node2 holds the client key in an
 * ssh-agent only and runs a guest script that drives SshExecutor
 * (BatchMode, sudo -n). Root login is refused even though root's
 * authorized_keys has the same key: PermitRootLogin no.
 *
 * Needs openssh-server, openssh-client and sudo on the host (test/lab/setup.sh).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';

const AGENT_SOCKET = '/run/hastor-agent.sock';
const KNOWN_HOSTS = '/root/.ssh/lab_known_hosts';
const WRITE_PATH = '/etc/drbd.d/hastor-ssh-test.conf';
const FORBIDDEN_PATH = '/etc/hastor-ssh-test.conf';

// The commands hastor runs as root, each pinned to `env LC_ALL=C <tool>` as the executor sends it
// (sudo matches the whole command line; `=` is escaped in sudoers). File writes only under /etc/drbd.d.
const SUDOERS = `Defaults:hastor !requiretty
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C drbdadm *, /usr/bin/env LC_ALL\\=C drbdsetup *
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C cat -- *
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C wipefs --no-act --output TYPE --noheadings /dev/*
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C sh -c set -e; t\\="$1.hastor-$$"; umask 077; cat > "$t"; chmod "$2" "$t"; mv -f "$t" "$1" hastor-write /etc/drbd.d/* *
`;

const sshdConfig = (address: string): string => `ListenAddress ${address}
Port 22
HostKey /etc/ssh/lab_host_ed25519_key
PidFile none
UsePAM no
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
AllowUsers hastor root
LogLevel VERBOSE
`;

interface Failure {
  error: { name: string; code: string | null; message: string; exitCode: number | null; stderr: string };
}
type Step<T> = { value: T } | Failure;
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
  for (const tool of ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-agent', '/usr/bin/sudo']) {
    if (!existsSync(tool)) throw new Error(`${tool} missing on the host: run \`npm run lab:setup\` (installs openssh-server, openssh-client, sudo)`);
  }
  lab = await startLab({ nodes: 2, disksMiB: [64] });
  [node1, node2] = lab.nodes as [LabNode, LabNode];

  // node1: the server. Host key made here; hastor has no password ('*': not locked, no password works).
  await node1.execOk(['modprobe', 'drbd']);
  await node1.execOk(`set -e
    echo "127.0.1.1 ${node1.name}" >> /etc/hosts
    useradd -m -s /bin/sh hastor
    usermod -p '*' hastor
    install -d -m 0700 -o hastor -g hastor /home/hastor/.ssh
    install -d -m 0700 /root/.ssh /run/sshd
    ssh-keygen -q -t ed25519 -N '' -C node1-lab-host -f /etc/ssh/lab_host_ed25519_key`);
  await node1.writeFile('/etc/ssh/sshd_lab_config', sshdConfig(node1.address));
  await node1.writeFile('/etc/sudoers.d/hastor', SUDOERS);
  await node1.execOk('chmod 0440 /etc/sudoers.d/hastor && visudo -c -f /etc/sudoers.d/hastor && /usr/sbin/sshd -t -f /etc/ssh/sshd_lab_config');
  await node1.spawnBackground(['/usr/sbin/sshd', '-D', '-e', '-f', '/etc/ssh/sshd_lab_config'], { stdoutPath: join(node1.nodeDir, 'sshd.log') });

  // node2: the client. The private key lives only in the agent once added.
  await node2.execOk(`set -e
    install -d -m 0700 /root/.ssh /run/hastor-ssh
    ssh-keygen -q -t ed25519 -N '' -C hastor-lab-client -f /root/.ssh/lab_key`);
  await node2.spawnBackground(['/usr/bin/ssh-agent', '-D', '-a', AGENT_SOCKET], { stdoutPath: join(node2.nodeDir, 'ssh-agent.log') });
  await node2.execOk(`for i in $(seq 50); do [ -S ${AGENT_SOCKET} ] && break; sleep 0.1; done
    SSH_AUTH_SOCK=${AGENT_SOCKET} ssh-add /root/.ssh/lab_key && rm -f /root/.ssh/lab_key`);
  const publicKey = (await node2.execOk(['cat', '/root/.ssh/lab_key.pub'])).stdout;
  await node1.writeFile('/home/hastor/.ssh/authorized_keys', publicKey);
  // The same key for root: the refusal then comes from PermitRootLogin, not from a missing key.
  await node1.writeFile('/root/.ssh/authorized_keys', publicKey);
  await node1.execOk('chown hastor:hastor /home/hastor/.ssh/authorized_keys && chmod 0600 /home/hastor/.ssh/authorized_keys /root/.ssh/authorized_keys');
  const hostKey = (await node1.execOk(['cat', '/etc/ssh/lab_host_ed25519_key.pub'])).stdout.trim().split(' ').slice(0, 2).join(' ');
  await node2.writeFile(KNOWN_HOSTS, `${node1.address} ${hostKey}\n`);
  // Wait until sshd accepts connections (bash's /dev/tcp: no client tool needed).
  await node2.execOk(['bash', '-c', `for i in $(seq 100); do (exec 3<>/dev/tcp/${node1.address}/22) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`]);

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

  it('refuses root login although root has the key (PermitRootLogin no)', () => {
    const error = failure(report.rootLogin);
    expect(error.exitCode).toBe(255);
    expect(error.stderr).toMatch(/Permission denied \(publickey\)/);
    const log = readFileSync(join(node1.nodeDir, 'sshd.log'), 'utf8');
    expect(log).toMatch(/Accepted publickey for hastor/);
    expect(log).toMatch(/ROOT LOGIN REFUSED|root.*not allowed|Failed publickey for root|Connection closed by authenticating user root/);
  });
});
