/**
 * Guest side (node2): hastor's SshExecutor against node1's sshd, as an
 * unprivileged user with sudo -n, keys only from ssh-agent (SSH_AUTH_SOCK in
 * the environment), BatchMode. Prints one JSON object: what each step gave,
 * or the error it raised, so the host test asserts on the real outcomes.
 *
 * usage: ssh-executor-check.js --host 10.99.0.1 --user hastor --known-hosts FILE
 *          --control-dir DIR --write-path PATH --forbidden-path PATH
 */
import { CommandError } from '../../../src/errors.js';
import { DrbdNode } from '../../../src/drbd/lifecycle/drbd-node.js';
import { lvmRunnerFor } from '../../../src/lvm/executor-runner.js';
import { readVgs } from '../../../src/lvm/report.js';
import { lvmVersionOn } from '../../../src/lvm/shared-vg.js';
import { SshExecutor, type SshTarget } from '../../../src/sys/executor.js';
import { ReadShell } from '../../../src/sys/read-shell.js';
import { Cluster } from '../../../src/stack/cluster.js';
import { errorInfo, option, parseArgs, toJson } from './cli-args.js';

interface Failure {
  error: ReturnType<typeof errorInfo> & { exitCode: number | null; stderr: string };
}

async function attempt<T>(step: () => Promise<T>): Promise<{ value: T } | Failure> {
  try {
    return { value: await step() };
  } catch (error) {
    return {
      error: {
        ...errorInfo(error),
        exitCode: error instanceof CommandError ? error.exitCode : null,
        stderr: error instanceof CommandError ? error.stderr : '',
      },
    };
  }
}

const args = parseArgs(process.argv.slice(2));
const host = option(args, 'host', '10.99.0.1');
const knownHosts = option(args, 'known-hosts', '/root/.ssh/known_hosts');
const writePath = option(args, 'write-path', '/etc/drbd.d/hastor-ssh-test.conf');
const forbiddenPath = option(args, 'forbidden-path', '/etc/hastor-ssh-test.conf');
const vg = option(args, 'vg', 'vg_ssh');
// Host keys are checked against the file the test wrote: no trust on first use.
const sshOptions = { UserKnownHostsFile: knownHosts, StrictHostKeyChecking: 'yes', ConnectTimeout: '10' };
const target: SshTarget = { host, user: option(args, 'user', 'hastor'), options: sshOptions, controlDir: option(args, 'control-dir', '/run/hastor-ssh') };
const ssh = new SshExecutor(target, 'node1');

// Quotes, $, backquotes, a newline and shell operators must arrive as one argument, unchanged.
const nasty = `it's "$HOME" \`id\` ; echo pwned | cat & \n*`;
const content = `# written through SshExecutor as ${target.user} with sudo -n\nresource "x y" { net { shared-secret "a'b\\"c"; } }\n`;

/** VG names and sizes read through the runner, and how each of two reads ran (shell or fork). */
async function lvmReads(profileName?: string): Promise<{ vgs: string[]; via: string[]; fallbackReason: string | null; lastStartFailure: string | null; stats: unknown }> {
  const runner = lvmRunnerFor(ssh, { shell: profileName === undefined ? true : { profileName } });
  try {
    const version = await lvmVersionOn(ssh);
    const via: string[] = [];
    let vgs: string[] = [];
    for (let i = 0; i < 2; i++) {
      vgs = (await readVgs({ version, exec: runner.exec, vgs: [vg] })).items.map((v) => `${v.name}:${v.sizeBytes}`);
      via.push((await runner.run(['vgs', vg])).via);
    }
    const shell = runner as { fallbackReason?: string | null; lastStartFailure?: string | null; stats?: unknown };
    return { vgs, via, fallbackReason: shell.fallbackReason ?? null, lastStartFailure: shell.lastStartFailure ?? null, stats: shell.stats ?? null };
  } catch (error) {
    // Say why the shell did not start, beside what failed.
    const why = (runner as { lastStartFailure?: string | null }).lastStartFailure ?? 'no failed start';
    throw new Error(`${(error as Error).message} [shell: ${why}; ${JSON.stringify((runner as { stats?: unknown }).stats)}]`);
  } finally {
    await runner.close();
  }
}

const report = {
  sshAuthSock: process.env['SSH_AUTH_SOCK'] ?? null,
  whoami: await attempt(async () => (await ssh.run(['id', '-un'])).stdout.trim()),
  uidViaSudo: await attempt(async () => (await ssh.run(['id', '-u'], { root: true })).stdout.trim()),
  argv: await attempt(async () => (await ssh.run(['printf', '%s', nasty])).stdout),
  nasty,
  cluster: await attempt(async () => (await Cluster.connect([{ name: 'node1', executor: ssh }])).names),
  versions: await attempt(async () => new DrbdNode(ssh).versions()),
  statusOfAbsentResource: await attempt(async () => new DrbdNode(ssh).status('hastor-absent')),
  write: await attempt(async () => ssh.writeFile(writePath, content, { root: true, mode: 0o640 })),
  readBack: await attempt(async () => ssh.readFile(writePath, { root: true })),
  content,
  stat: await attempt(async () => (await ssh.run(['stat', '-c', '%U %G %a', writePath])).stdout.trim()),
  readWithoutRoot: await attempt(async () => ssh.readFile(writePath)),
  writeOutsideRule: await attempt(async () => ssh.writeFile(forbiddenPath, 'no\n', { root: true })),
  forbiddenExists: await attempt(async () => (await ssh.run(['test', '-e', forbiddenPath], { okExitCodes: [0, 1] })).exitCode === 0),
  lvmShell: await attempt(() => lvmReads()),
  lvmShellOutsideRule: await attempt(() => lvmReads('hastor-unlisted')),
  lvmFork: await attempt(async () => (await readVgs({ version: await lvmVersionOn(ssh), exec: lvmRunnerFor(ssh).exec, vgs: [vg] })).items.map((v) => `${v.name}:${v.sizeBytes}`)),
  readShell: await attempt(async () => {
    // What a growth's checks read, through one unprivileged sh over ssh; then the same by `cat`, and a root-only file.
    const shell = new ReadShell(ssh);
    shell.start();
    const paths = ['/proc/drbd', '/sys/class/block/ubda/size'];
    const texts = await Promise.all(paths.map((p) => shell.readFile(p)));
    const byCat = await Promise.all(paths.map((p) => ssh.readFile(p)));
    const rootOnly = await shell.readFile(writePath).then(() => 'read', (e: unknown) => (e instanceof CommandError ? e.stderr.trim() : String(e)));
    const counts = { ...shell.counts };
    shell.close();
    return { texts, byCat, rootOnly, counts, running: shell.running };
  }),
  rootLogin: await attempt(async () => (await new SshExecutor({ ...target, user: 'root', controlDir: undefined }).run(['id', '-un'])).stdout.trim()),
};
process.stdout.write(`${toJson(report)}\n`);
