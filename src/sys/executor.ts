/**
 * Where a command runs: this machine, a node over ssh, or (in the lab) a UML
 * guest. Everything above src/sys talks to an Executor, never to execa or
 * ssh directly, so one code path serves a local node, a remote one and tests.
 *
 * Root: commands that need it ask with `{ root: true }`; an executor whose
 * user is not root prefixes `sudo -n` (never a password prompt, never a root
 * login as the design).
 */
import { readFile } from 'node:fs/promises';
import { CommandError, ConfigError } from '../errors.js';
import { writeFileAtomic, writeFileByCommand } from './atomic-write.js';
import { isValidSshDestination, isValidUserName } from './ssh-host.js';
import { runLocal, spawnLocal, type ExecutorProcess, type RunOptions, type RunResult } from './local-exec.js';

export type { ExecutorProcess, ProcessEnd } from './local-exec.js';

export interface ExecOptions extends RunOptions {
  /** Run as root (sudo -n when the executor's user is not root). */
  root?: boolean;
}

export interface WriteFileOptions {
  root?: boolean;
  /** Octal permission bits, e.g. 0o600 for a file holding a shared secret. */
  mode?: number;
}

export interface SpawnOptions {
  /** Run as root (sudo -n when the executor's user is not root). */
  root?: boolean;
  /** Set on the far side, after sudo's environment reset. */
  env?: Record<string, string>;
}

export interface Executor {
  /** The node's name as shown in messages (its `uname -n` once known). */
  readonly node: string;
  run(argv: readonly string[], options?: ExecOptions): Promise<RunResult>;
  /**
   * A long-lived process with its three streams (the persistent lvm shell). Optional:
   * an executor without it runs everything one command at a time.
   */
  spawn?(argv: readonly string[], options?: SpawnOptions): ExecutorProcess;
  readFile(path: string, options?: { root?: boolean }): Promise<string>;
  /**
   * Replaces the file atomically and durably (src/sys/atomic-write.ts: a new temp
   * file in the same directory, explicit mode (default 0644), fsync, rename), in a
   * directory only root or the caller can write.
   */
  writeFile(path: string, content: string, options?: WriteFileOptions): Promise<void>;
}

/** Tags a CommandError with the node it happened on, so messages say where. */
export function onNode<T>(node: string, promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    if (error instanceof CommandError && error.node === undefined) {
      throw new CommandError(`${node}: ${error.message}`, {
        argv: error.argv,
        exitCode: error.exitCode,
        stderr: error.stderr,
        node,
        cause: error.cause,
      });
    }
    throw error;
  });
}

/** `KEY=VALUE` words for `env`, in a stable order; names checked so nothing else rides along. */
export function envAssignments(env: Record<string, string> = {}): string[] {
  return Object.entries(env).map(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new CommandError(`not an environment variable name: ${JSON.stringify(key)}`, { argv: [], exitCode: null, stderr: '' });
    return `${key}=${value}`;
  });
}

/** argv run as root through `sudo -n` (never a prompt), LC_ALL=C and `env` set after sudo's reset. */
function sudoArgv(argv: readonly string[], env: Record<string, string> = {}): string[] {
  return ['sudo', '-n', '--', 'env', 'LC_ALL=C', ...envAssignments(env), ...argv];
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** This machine. */
export class LocalExecutor implements Executor {
  readonly node: string;

  constructor(node = 'local') {
    this.node = node;
  }

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
    const { root, env, ...runOptions } = options;
    // Checked on every path, so a bad name fails alike with and without sudo.
    envAssignments(env);
    // sudo resets the environment: set LC_ALL (and env) again on its far side.
    if (root && !isRoot()) return onNode(this.node, runLocal(sudoArgv(argv, env), runOptions));
    return onNode(this.node, runLocal(argv, { ...runOptions, ...(env === undefined ? {} : { env }) }));
  }

  spawn(argv: readonly string[], options: SpawnOptions = {}): ExecutorProcess {
    if (options.root && !isRoot()) return spawnLocal(sudoArgv(argv, options.env));
    return spawnLocal(argv, options.env);
  }

  async readFile(path: string, options: { root?: boolean } = {}): Promise<string> {
    if (options.root && !isRoot()) return (await this.run(['cat', '--', path], { root: true })).stdout;
    return readFile(path, 'utf8');
  }

  async writeFile(path: string, content: string, options: WriteFileOptions = {}): Promise<void> {
    const mode = options.mode ?? 0o644;
    if (options.root && !isRoot()) {
      await writeFileByCommand((argv, o) => this.run(argv, o), path, content, { mode, root: true });
      return;
    }
    await writeFileAtomic(path, content, { mode });
  }
}

/** POSIX single-quoting: the remote side of ssh always hands the command to a shell. */
export function shellQuote(argument: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(argument)) return argument;
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

export interface SshTarget {
  host: string;
  /** The unprivileged login user; omit to use ssh's default (config/current user). */
  user?: string;
  port?: number;
  /** Extra `-o Key=Value` options (e.g. from the cluster definition). */
  options?: Record<string, string>;
  /** A folder for the connection-sharing socket (ControlPath); keeps repeated commands fast. */
  controlDir?: string;
  /** The ssh client binary. */
  ssh?: string;
}

/**
 * A node over OpenSSH: keys from ssh-agent (BatchMode, no password prompts),
 * argv quoted for the remote shell, sudo -n for root unless the login is root.
 */
export class SshExecutor implements Executor {
  readonly node: string;
  private readonly target: SshTarget;

  constructor(target: SshTarget, node = target.host) {
    // ssh reads a destination starting with '-' as an option, and the host reaches logs and messages.
    if (!isValidSshDestination(target.host)) {
      throw new ConfigError(`not an ssh host: ${JSON.stringify(target.host)}`, ['an RFC 1123 host name, an IPv4 or IPv6 address (no brackets), optionally user@ first']);
    }
    if (target.user !== undefined && !isValidUserName(target.user)) throw new ConfigError(`not a user name: ${JSON.stringify(target.user)}`);
    this.target = target;
    this.node = node;
  }

  /** The ssh argv that runs `argv` on the target (exported for tests and --dry-run). */
  sshArgv(argv: readonly string[], root = false, env: Record<string, string> = {}): string[] {
    const t = this.target;
    const options: Record<string, string> = {
      BatchMode: 'yes',
      ...(t.controlDir
        ? { ControlMaster: 'auto', ControlPath: `${t.controlDir}/%C`, ControlPersist: '60' }
        : {}),
      ...t.options,
    };
    // LC_ALL=C remotely too (parsers expect untranslated words), set after sudo's env reset.
    const localized = ['env', 'LC_ALL=C', ...envAssignments(env), ...argv];
    const remote = root && t.user !== 'root' ? ['sudo', '-n', '--', ...localized] : localized;
    return [
      t.ssh ?? 'ssh',
      ...Object.entries(options).flatMap(([key, value]) => ['-o', `${key}=${value}`]),
      ...(t.port === undefined ? [] : ['-p', String(t.port)]),
      ...(t.user === undefined ? [] : ['-l', t.user]),
      '--',
      t.host,
      remote.map(shellQuote).join(' '),
    ];
  }

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
    const { root, env, ...runOptions } = options;
    // env is set on the far side (in the remote command), not on the local ssh client.
    return onNode(this.node, runLocal(this.sshArgv(argv, root ?? false, env), runOptions));
  }

  /** The remote process's stdin/stdout/stderr are ssh's; killing it ends the session (the remote side sees EOF). */
  spawn(argv: readonly string[], options: SpawnOptions = {}): ExecutorProcess {
    return spawnLocal(this.sshArgv(argv, options.root ?? false, options.env));
  }

  async readFile(path: string, options: { root?: boolean } = {}): Promise<string> {
    return (await this.run(['cat', '--', path], { root: options.root ?? false })).stdout;
  }

  async writeFile(path: string, content: string, options: WriteFileOptions = {}): Promise<void> {
    await writeFileByCommand((argv, o) => this.run(argv, o), path, content, { mode: options.mode ?? 0o644, root: options.root ?? false });
  }
}
