/**
 * ssh between two lab nodes the way hastor is meant to be deployed: sshd on
 * the server node with a host key made there, a user `hastor` with no
 * password and a sudoers rule for exactly the root commands hastor runs; the
 * client node holds the key in an ssh-agent only (the key file is deleted
 * once added) and checks the server's host key against a known_hosts file.
 * Root's authorized_keys gets the same key, so a refused root login proves
 * PermitRootLogin no, not a missing key.
 *
 * Needs openssh-server, openssh-client and sudo on the host (test/lab/setup.sh).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sudoersWriteCommand } from '../../src/sys/atomic-write.js';
import type { LabNode } from './harness/lab-node.js';

export const AGENT_SOCKET = '/run/hastor-agent.sock';
export const KNOWN_HOSTS = '/root/.ssh/lab_known_hosts';

/** The sudo rules for what hastor reads and writes through SshExecutor (each pinned to `env LC_ALL=C <tool>`; `=` escaped). */
export const BASE_SUDOERS = `Defaults:hastor !requiretty
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C drbdadm *, /usr/bin/env LC_ALL\\=C drbdsetup *
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C cat -- *
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C wipefs --no-act --output TYPE --noheadings /dev/*
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C crm_mon -1 --output-as\\=xml, /usr/bin/env LC_ALL\\=C cibadmin -Q
hastor ALL=(root) NOPASSWD: ${sudoersWriteCommand('/etc/drbd.d/*', '*')}
`;

/** The persistent lvm shell (exactly its environment, no arguments), its profile, and lvm fork-per-call. */
export const LVM_SUDOERS = `hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C LVM_REPORT_FD\\=1 LVM_COMMAND_PROFILE\\=hastor-lvmshell LVM_LOG_FILE_MAX_LINES\\=0 LVM_SUPPRESS_FD_WARNINGS\\=1 lvm
hastor ALL=(root) NOPASSWD: ${sudoersWriteCommand('/etc/lvm/profile/hastor-lvmshell.profile', '644')}
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C lvm *
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

export function assertSshTools(): void {
  for (const tool of ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-agent', '/usr/bin/sudo']) {
    if (!existsSync(tool)) throw new Error(`${tool} missing on the host: run \`npm run lab:setup\` (installs openssh-server, openssh-client, sudo)`);
  }
}

/**
 * sshd on `server` (log in `<server dir>/sshd.log`), the agent on `client`
 * at AGENT_SOCKET, known_hosts at KNOWN_HOSTS on the client. Resolves once
 * sshd accepts connections.
 */
export async function setupSshAccess(servers: LabNode | readonly LabNode[], client: LabNode, sudoers: string = BASE_SUDOERS): Promise<void> {
  assertSshTools();
  const list = Array.isArray(servers) ? (servers as readonly LabNode[]) : [servers as LabNode];
  for (const server of list) {
    // The server: host key made here; hastor has no password ('*': not locked, no password works).
    await server.execOk(`set -e
      echo "127.0.1.1 ${server.name}" >> /etc/hosts
      useradd -m -s /bin/sh hastor
      usermod -p '*' hastor
      install -d -m 0700 -o hastor -g hastor /home/hastor/.ssh
      install -d -m 0700 /root/.ssh /run/sshd
      ssh-keygen -q -t ed25519 -N '' -C ${server.name}-lab-host -f /etc/ssh/lab_host_ed25519_key`);
    await server.writeFile('/etc/ssh/sshd_lab_config', sshdConfig(server.address));
    await server.writeFile('/etc/sudoers.d/hastor', sudoers);
    await server.execOk('chmod 0440 /etc/sudoers.d/hastor && visudo -c -f /etc/sudoers.d/hastor && /usr/sbin/sshd -t -f /etc/ssh/sshd_lab_config');
    await server.spawnBackground(['/usr/sbin/sshd', '-D', '-e', '-f', '/etc/ssh/sshd_lab_config'], { stdoutPath: join(server.nodeDir, 'sshd.log') });
  }

  // The client: the private key lives only in the agent once added.
  await client.execOk(`set -e
    install -d -m 0700 /root/.ssh /run/hastor-ssh
    ssh-keygen -q -t ed25519 -N '' -C hastor-lab-client -f /root/.ssh/lab_key`);
  await client.spawnBackground(['/usr/bin/ssh-agent', '-D', '-a', AGENT_SOCKET], { stdoutPath: join(client.nodeDir, 'ssh-agent.log') });
  await client.execOk(`for i in $(seq 50); do [ -S ${AGENT_SOCKET} ] && break; sleep 0.1; done
    SSH_AUTH_SOCK=${AGENT_SOCKET} ssh-add /root/.ssh/lab_key && rm -f /root/.ssh/lab_key`);
  const publicKey = (await client.execOk(['cat', '/root/.ssh/lab_key.pub'])).stdout;
  const knownHosts: string[] = [];
  for (const server of list) {
    await server.writeFile('/home/hastor/.ssh/authorized_keys', publicKey);
    await server.writeFile('/root/.ssh/authorized_keys', publicKey);
    await server.execOk('chown hastor:hastor /home/hastor/.ssh/authorized_keys && chmod 0600 /home/hastor/.ssh/authorized_keys /root/.ssh/authorized_keys');
    const hostKey = (await server.execOk(['cat', '/etc/ssh/lab_host_ed25519_key.pub'])).stdout.trim().split(' ').slice(0, 2).join(' ');
    knownHosts.push(`${server.address} ${hostKey}\n`);
  }
  await client.writeFile(KNOWN_HOSTS, knownHosts.join(''));
  // Wait until each sshd accepts connections (bash's /dev/tcp: no client tool needed).
  for (const server of list) {
    await client.execOk(['bash', '-c', `for i in $(seq 100); do (exec 3<>/dev/tcp/${server.address}/22) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`]);
  }
}
