/**
 * hastor's Executor over a lab node: argv runs through the node's agent, so
 * the library's own code paths (CommandError, okExitCodes, root writes) are
 * what the lab tests exercise. The agent runs as root in the guest, so
 * `root` needs no sudo here; SshExecutor's sudo path is proven separately
 * (ssh-executor.test.ts).
 */
import { CommandError } from '../../../src/errors.js';
import { writeFileByCommand } from '../../../src/sys/atomic-write.js';
import type { ExecOptions, Executor, ExecutorProcess, SpawnOptions, WriteFileOptions } from '../../../src/sys/executor.js';
import { failureReason, type RunResult } from '../../../src/sys/local-exec.js';
import type { LabNode } from './lab-node.js';

export interface LabExecutorCall {
  node: string;
  argv: readonly string[];
  root: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface LabExecutorOptions {
  /** Sees every command with its output (to record captures or debug a test). */
  onCall?: (call: LabExecutorCall) => void;
}

export class LabExecutor implements Executor {
  readonly node: string;

  constructor(
    private readonly lab: LabNode,
    private readonly options: LabExecutorOptions = {},
  ) {
    this.node = lab.name;
  }

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
    const result = await this.lab.exec(argv, {
      timeoutMs: options.timeoutMs ?? 60_000,
      env: { LC_ALL: 'C', ...options.env },
      ...(options.input === undefined ? {} : { stdin: options.input }),
    });
    this.options.onCall?.({
      node: this.node,
      argv: [...argv],
      root: options.root ?? false,
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: result.durationMs,
    });
    const ok = options.okExitCodes ?? [0];
    if (result.timedOut || result.exitCode === null || !ok.includes(result.exitCode)) {
      const why = result.timedOut ? `timed out after ${options.timeoutMs ?? 60_000} ms` : result.exitCode === null ? `killed by ${result.signal}` : `exited with ${result.exitCode}`;
      const reason = failureReason(result.stderr);
      throw new CommandError(`${this.node}: ${argv.join(' ')}: ${why}${reason ? `: ${reason}` : ''}`, {
        argv,
        exitCode: result.exitCode,
        stderr: result.stderr,
        node: this.node,
      });
    }
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
  }

  /**
   * Through the agent's streams (root: the agent is root). With onCall, each line written
   * to it is reported as a call `<argv0> <line>`, its output what came on stdout until the
   * next line, its duration until the last of that output (for timelines).
   */
  spawn(argv: readonly string[], options: SpawnOptions = {}): ExecutorProcess {
    const proc = this.lab.spawn(argv, { env: { LC_ALL: 'C', ...options.env } });
    const onCall = this.options.onCall;
    if (onCall === undefined) return proc;
    let current: (LabExecutorCall & { startedAt: number; endedAt: number }) | null = null;
    const write = proc.stdin.write.bind(proc.stdin) as (chunk: unknown, ...rest: unknown[]) => boolean;
    proc.stdin.write = ((chunk: unknown, ...rest: unknown[]) => {
      const now = performance.now();
      current = { node: this.node, argv: [argv[0] ?? '', String(chunk).trim()], root: true, exitCode: null, stdout: '', stderr: '', durationMs: 0, startedAt: now, endedAt: now };
      onCall(current);
      return write(chunk, ...rest);
    }) as typeof proc.stdin.write;
    proc.stdout.on('data', (chunk: Buffer | string) => {
      if (current === null) return;
      current.stdout += String(chunk);
      current.endedAt = performance.now();
      current.durationMs = current.endedAt - current.startedAt;
    });
    return proc;
  }

  async readFile(path: string, options: { root?: boolean } = {}): Promise<string> {
    return (await this.run(['cat', '--', path], { root: options.root ?? false })).stdout;
  }

  async writeFile(path: string, content: string, options: WriteFileOptions = {}): Promise<void> {
    // The same write as a remote node gets (temp file, explicit mode, fsync, rename).
    await writeFileByCommand((argv, o) => this.run(argv, o), path, content, { mode: options.mode ?? 0o644, root: options.root ?? false });
  }
}
