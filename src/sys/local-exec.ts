/**
 * Runs argv on this machine through execa: never a shell string, LC_ALL=C so
 * tools print the words parsers expect, and failures as CommandError.
 */
import { execa, ExecaError } from 'execa';
import { CommandError } from '../errors.js';

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  /** Exit codes that are not failures (lvm's 5 with a valid report, for example). */
  okExitCodes?: readonly number[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export async function runLocal(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new CommandError('empty command', { argv, exitCode: null, stderr: '' });
  const okExitCodes = options.okExitCodes ?? [0];
  try {
    const result = await execa(file, args, {
      env: { LC_ALL: 'C' },
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
      const firstLine = stderr.trim().split('\n')[0] ?? '';
      throw new CommandError(`${argv.join(' ')}: ${reason}${firstLine ? `: ${firstLine}` : ''}`, {
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
