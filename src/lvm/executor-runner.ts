/**
 * lvm commands on a node reached through its Executor: one process per command (as root),
 * or, when the caller asks for it and the executor can keep a process running (spawn()),
 * the persistent lvm shell there, as root: this machine, a node over ssh, a lab node.
 */
import type { Executor } from '../sys/executor.js';
import type { RunOptions } from '../sys/local-exec.js';
import { execThrough, LvmShell, type LvmCommandResult, type LvmRunOptions, type LvmRunner, type LvmShellOptions } from './lvm-shell.js';
import type { LvmExec } from './report.js';

const DEFAULT_TIMEOUT_MS = 60_000;

/** Fork-per-call through an Executor, as root. argv[0] may be "lvm" or a command ("lvs"). */
export class ExecutorLvmRunner implements LvmRunner {
  readonly node: string;
  readonly exec: LvmExec;

  constructor(private readonly executor: Executor) {
    this.node = executor.node;
    this.exec = (argv: readonly string[], options: RunOptions) => this.executor.run(argv, { ...options, root: true });
  }

  async run(argv: readonly string[], options: LvmRunOptions = {}): Promise<LvmCommandResult> {
    const started = performance.now();
    const result = await this.executor.run(argv, {
      root: true,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.okExitCodes === undefined ? {} : { okExitCodes: options.okExitCodes }),
    });
    return { argv: [...argv], via: 'fork', ...result, log: null, durationMs: performance.now() - started };
  }

  async close(): Promise<void> {
    // nothing held
  }
}

export interface LvmRunnerOptions {
  /**
   * Use the persistent lvm shell where the executor can run one; true for defaults, or its
   * options. Default false: fork-per-call.
   */
  shell?: boolean | LvmShellOptions;
  /**
   * With the shell: run commands as their own processes until the caller starts the shell in
   * the background (WarmingLvmRunner.warmNow(), when the node is otherwise idle: a shell start
   * is a fork and more) and it is up; then through the shell.
   */
  background?: boolean;
}

/** Fork-per-call until the shell, started in the background by warmNow(), is up; then the shell. */
export class WarmingLvmRunner implements LvmRunner {
  readonly node: string;
  readonly exec: LvmExec;
  private starting: Promise<boolean> | null = null;
  private up = false;

  constructor(
    private readonly fork: ExecutorLvmRunner,
    readonly shell: LvmShell,
  ) {
    this.node = fork.node;
    this.exec = execThrough(this);
  }

  async run(argv: readonly string[], options: LvmRunOptions = {}): Promise<LvmCommandResult> {
    // A start under way is an lvm start already paid for: wait for it rather than fork another.
    if (this.starting !== null) await this.starting;
    // Once up, the shell restarts itself when needed, or falls back to forks on its own.
    if (this.up) return this.shell.run(argv, options);
    return this.fork.run(argv, options);
  }

  /** Starts the shell in the background now (once). */
  warmNow(): void {
    this.starting ??= this.shell.warmUp().then(
      (ok) => (this.up = ok),
      () => false,
    );
  }

  /** The background start once asked for (true: the shell is up), else null. */
  get warming(): Promise<boolean> | null {
    return this.starting;
  }

  async close(): Promise<void> {
    await this.starting;
    await this.shell.close();
  }
}

/** The runner for a node: the lvm shell there when asked and possible, else fork-per-call. */
export function lvmRunnerFor(executor: Executor, options: LvmRunnerOptions = {}): LvmRunner {
  const wanted = options.shell ?? false;
  if (wanted === false || executor.spawn === undefined) return new ExecutorLvmRunner(executor);
  const fork = new ExecutorLvmRunner(executor);
  const shell = new LvmShell({ executor, fallback: fork.exec, ...(wanted === true ? {} : wanted) });
  return options.background === true ? new WarmingLvmRunner(fork, shell) : shell;
}

/**
 * One runner per node for a job of several steps (a growth): shells started with warm()
 * while the node is otherwise idle (an lvm start is CPU the node's other commands lack),
 * shared by every reader, closed together. A node not warmed reads fork-per-call.
 */
export class LvmRunnerPool {
  private readonly runners = new Map<Executor, LvmRunner>();

  /** shell false: every node fork-per-call; options: the shells' (LvmShellOptions). */
  constructor(private readonly shell: boolean | LvmShellOptions = true) {}

  runner(executor: Executor): LvmRunner {
    let runner = this.runners.get(executor);
    if (runner === undefined) {
      runner = lvmRunnerFor(executor, { shell: this.shell, background: true });
      this.runners.set(executor, runner);
    }
    return runner;
  }

  /** Starts the node's lvm shell in the background (no-op for fork-per-call, or when started). */
  warm(executor: Executor): void {
    const runner = this.runner(executor);
    if (runner instanceof WarmingLvmRunner) runner.warmNow();
  }

  async close(): Promise<void> {
    const runners = [...this.runners.values()];
    this.runners.clear();
    await Promise.all(runners.map((r) => r.close().catch(() => undefined)));
  }
}

/** A runner as given, or fork-per-call through the executor. */
export function runnerOf(executor: Executor, runner?: LvmRunner): LvmRunner {
  return runner ?? new ExecutorLvmRunner(executor);
}
