/**
 * Runs argv on this machine through execa: never a shell string, LC_ALL=C so
 * tools print the words parsers expect, and failures as CommandError.
 */
import type { Readable, Writable } from 'node:stream';
import { execa, ExecaError } from 'execa';
import { CommandError } from '../errors.js';

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  /** Exit codes that are not failures (lvm's 5 with a valid report, for example). */
  okExitCodes?: readonly number[];
  /** Added to LC_ALL=C (e.g. CIB_file for Pacemaker's tools on a CIB file). */
  env?: Record<string, string>;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const REASON_MAX_LINES = 3;
const REASON_MAX_CHARS = 400;

/**
 * The lines of a failed command's stderr that say why, for its error message:
 * warnings are left out when something else was said (lvm often warns first,
 * e.g. "WARNING: skipping LV lock in lvmlockd.", then says "Insufficient free
 * space"), at most a few lines, joined. The whole stderr stays on the error.
 */
export function failureReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const telling = lines.filter((l) => !/^(WARNING|Warning|warning)\b/.test(l));
  const chosen = (telling.length > 0 ? telling : lines).slice(0, REASON_MAX_LINES).join('; ');
  return chosen.length > REASON_MAX_CHARS ? `${chosen.slice(0, REASON_MAX_CHARS - 1)}…` : chosen;
}

export async function runLocal(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new CommandError('empty command', { argv, exitCode: null, stderr: '' });
  const okExitCodes = options.okExitCodes ?? [0];
  try {
    const result = await execa(file, args, {
      env: { LC_ALL: 'C', ...options.env },
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      reject: false,
      stripFinalNewline: false,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    const exitCode = result.exitCode ?? null;
    if (result.failed && (exitCode === null || !okExitCodes.includes(exitCode))) {
      const reason = result.timedOut
        ? `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`
        : exitCode === null
          ? (result.signal ? `killed by ${result.signal}` : result.shortMessage)
          : `exited with ${exitCode}`;
      const stderr = String(result.stderr ?? '');
      const why = failureReason(stderr);
      throw new CommandError(`${argv.join(' ')}: ${reason}${why ? `: ${why}` : ''}`, {
        argv,
        exitCode,
        stderr,
        cause: result instanceof ExecaError ? result : undefined,
      });
    }
    return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitCode: exitCode ?? 0 };
  } catch (error) {
    if (error instanceof CommandError) throw error;
    throw new CommandError(`${argv.join(' ')}: ${(error as Error).message}`, {
      argv,
      exitCode: null,
      stderr: '',
      cause: error,
    });
  }
}

export interface ProcessEnd {
  code: number | null;
  signal: string | null;
  /** Why it never ran (no such program), when that is how it ended. */
  error?: string;
}

/** A running process as an Executor hands it out: its pipes, its end, a way to stop it. */
export interface ExecutorProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The local process (for a remote one: the process carrying it, e.g. ssh), when there is one. */
  readonly pid: number | undefined;
  /** Settles (never rejects) once the process has ended and its pipes are closed. */
  readonly ended: Promise<ProcessEnd>;
  /** SIGKILL. */
  kill(): void;
  /** Whether this process keeps Node running (an idle shell should not). */
  setRef(on: boolean): void;
}

/** A long-lived process on this machine, its output unbuffered, LC_ALL=C plus `env`. */
export function spawnLocal(argv: readonly string[], env: Record<string, string> = {}): ExecutorProcess {
  const [file, ...args] = argv;
  if (file === undefined) throw new CommandError('empty command', { argv, exitCode: null, stderr: '' });
  const child = execa(file, args, { env: { LC_ALL: 'C', ...env }, buffer: false, reject: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
  const ended = child.then(
    (result) => ({
      code: result.exitCode ?? null,
      signal: result.signal ?? null,
      ...(result.failed && result.exitCode === undefined && result.signal === undefined ? { error: result.shortMessage } : {}),
    }),
    (error: unknown) => ({ code: null, signal: null, error: (error as Error).message }),
  );
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    pid: child.pid,
    ended,
    kill: () => {
      child.kill('SIGKILL');
    },
    setRef: (on) => {
      for (const handle of [child, child.stdin, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void } | null>) {
        if (on) handle?.ref?.();
        else handle?.unref?.();
      }
    },
  };
}
