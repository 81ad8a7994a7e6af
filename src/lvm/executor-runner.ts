/**
 * lvm commands on a node reached through its Executor: one process per command (as root),
 * or, when the node is this machine and the caller asks for it, the persistent lvm shell.
 * A shell on a remote node (over ssh) is not offered: the shell needs a second pipe
 * (LVM_REPORT_FD) that an ssh session does not carry, so remote nodes run fork-per-call.
 */
import { LocalExecutor, type Executor } from '../sys/executor.js';
import type { RunOptions } from '../sys/local-exec.js';
import { LvmShell, type LvmCommandResult, type LvmRunOptions, type LvmRunner, type LvmShellOptions } from './lvm-shell.js';
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
   * Use the persistent lvm shell when the executor is this machine (LocalExecutor); true
   * for defaults, or its options. Default false: fork-per-call.
   */
  shell?: boolean | LvmShellOptions;
}

/** The runner for a node: the lvm shell for a local executor when asked, else fork-per-call. */
export function lvmRunnerFor(executor: Executor, options: LvmRunnerOptions = {}): LvmRunner {
  const wanted = options.shell ?? false;
  // The shell is a child of this process, run without sudo: local and root only.
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (wanted === false || !(executor instanceof LocalExecutor) || !root) return new ExecutorLvmRunner(executor);
  const fork = new ExecutorLvmRunner(executor);
  return new LvmShell({ fallback: fork.exec, ...(wanted === true ? {} : wanted) });
}

/** A runner as given, or fork-per-call through the executor. */
export function runnerOf(executor: Executor, runner?: LvmRunner): LvmRunner {
  return runner ?? new ExecutorLvmRunner(executor);
}
