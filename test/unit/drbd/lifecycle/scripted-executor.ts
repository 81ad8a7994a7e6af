/**
 * A scripted Executor for the lifecycle tests: every command it may see is
 * answered with real output recorded in the lab
 * (test/fixtures/lab-8.4.11-lifecycle/captures.json); anything unscripted
 * fails the test. Replies queue per argv (the last one repeats), and hooks
 * change later replies when an action runs, the way the kernel's state
 * changes after `drbdadm up`.
 */
import { readFileSync } from 'node:fs';
import { CommandError } from '../../../../src/errors.js';
import type { ExecOptions, Executor, WriteFileOptions } from '../../../../src/sys/executor.js';
import type { RunResult } from '../../../../src/sys/local-exec.js';

export interface Reply {
  stdout: string;
  stderr: string;
  exitCode: number;
}

interface Capture extends Reply {
  node: string;
  argv: string[];
  state: string;
}

const captures = (JSON.parse(readFileSync(new URL('../../../fixtures/lab-8.4.11-lifecycle/captures.json', import.meta.url), 'utf8')) as {
  captures: Record<string, Capture>;
}).captures;

/** One recorded command's output. */
export function capture(name: string): Reply {
  const c = captures[name];
  if (c === undefined) throw new Error(`no capture ${name}`);
  return { stdout: c.stdout, stderr: c.stderr, exitCode: c.exitCode };
}

/** The argv a capture was recorded with (so tests can check they send the same). */
export function capturedArgv(name: string): string[] {
  return [...(captures[name] as Capture).argv];
}

/** Another file of the fixtures tree, as a successful reply. */
export function fixtureReply(relative: string): Reply {
  return { stdout: readFileSync(new URL(`../../../fixtures/${relative}`, import.meta.url), 'utf8'), stderr: '', exitCode: 0 };
}

export interface Call {
  argv: string[];
  root: boolean;
  input?: string;
}

export interface Write {
  path: string;
  content: string;
  mode: number;
  root: boolean;
}

type ReplySpec = Reply | string;
const key = (argv: string | readonly string[]): string => (typeof argv === 'string' ? argv : argv.join(' '));
const toReply = (r: ReplySpec): Reply => (typeof r === 'string' ? capture(r) : r);

/** Commands that change something (everything else is a read). */
export function isMutation(argv: readonly string[]): boolean {
  const [tool, ...rest] = argv;
  if (tool === 'drbdadm') return !['--version', 'dump', '-d'].includes(rest[0] ?? '');
  return ['modprobe', 'rm', 'sh', 'dd', 'write-file'].includes(tool ?? '');
}

export class ScriptedExecutor implements Executor {
  readonly calls: Call[] = [];
  readonly writes: Write[] = [];
  readonly files = new Map<string, string>();
  private readonly replies = new Map<string, Reply[]>();
  private readonly hooks = new Map<string, (() => void)[]>();

  constructor(readonly node: string) {}

  /** Answers `argv` with these replies in turn; the last one keeps answering. */
  reply(argv: string | readonly string[], ...replies: ReplySpec[]): this {
    this.replies.set(key(argv), replies.map(toReply));
    return this;
  }

  /** Runs `hook` after each time `argv` ran (successfully or not). */
  on(argv: string | readonly string[], hook: () => void): this {
    this.hooks.set(key(argv), [...(this.hooks.get(key(argv)) ?? []), hook]);
    return this;
  }

  /** The argv of every call, joined, in order. */
  get commands(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }

  /** Commands that changed something, plus file writes as `write-file <path>`. */
  get mutations(): string[] {
    return this.calls.filter((c) => isMutation(c.argv)).map((c) => c.argv.join(' '));
  }

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], root: options.root ?? false, ...(options.input === undefined ? {} : { input: options.input }) });
    const queue = this.replies.get(key(argv));
    if (queue === undefined || queue.length === 0) throw new Error(`${this.node}: unscripted command: ${key(argv)}`);
    const reply = queue.length > 1 ? (queue.shift() as Reply) : (queue[0] as Reply);
    for (const hook of this.hooks.get(key(argv)) ?? []) hook();
    const ok = options.okExitCodes ?? [0];
    if (!ok.includes(reply.exitCode)) {
      throw new CommandError(`${this.node}: ${key(argv)}: exited with ${reply.exitCode}: ${reply.stderr.trim().split('\n')[0] ?? ''}`, {
        argv,
        exitCode: reply.exitCode,
        stderr: reply.stderr,
        node: this.node,
      });
    }
    return { ...reply };
  }

  async readFile(path: string, options: { root?: boolean } = {}): Promise<string> {
    const file = this.files.get(path);
    if (file !== undefined) return file;
    return (await this.run(['cat', '--', path], { root: options.root ?? false })).stdout;
  }

  async writeFile(path: string, content: string, options: WriteFileOptions = {}): Promise<void> {
    this.calls.push({ argv: ['write-file', path], root: options.root ?? false });
    this.writes.push({ path, content, mode: options.mode ?? 0o644, root: options.root ?? false });
    this.files.set(path, content);
  }
}
