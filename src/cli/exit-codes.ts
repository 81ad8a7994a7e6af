/** Exit codes of `hastor`; documented in docs/cli.md and stable for scripts. */
import { HastorError } from '../index.js';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  badInput: 3,
  refusedBySafetyRule: 4,
  lockTimeout: 5,
  commandFailed: 6,
  drbdUnavailable: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_ERROR_CODE: Record<string, ExitCode> = {
  E_PARSE: EXIT.badInput,
  E_CONFIG: EXIT.usage,
  E_SAFETY: EXIT.refusedBySafetyRule,
  E_LOCK: EXIT.lockTimeout,
  E_COMMAND: EXIT.commandFailed,
  E_DRBD_UNAVAILABLE: EXIT.drbdUnavailable,
  E_NO_DRBD_FAMILY: EXIT.drbdUnavailable,
};

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof HastorError) return BY_ERROR_CODE[error.code] ?? EXIT.failure;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return EXIT.badInput;
  return EXIT.failure;
}
