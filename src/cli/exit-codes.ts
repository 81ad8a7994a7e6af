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
  wrongState: 8,
  stateTimeout: 9,
  cannotListen: 10,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_ERROR_CODE: Record<string, ExitCode> = {
  E_PARSE: EXIT.badInput,
  E_BAD_INPUT: EXIT.badInput,
  E_INPUT_TOO_LARGE: EXIT.badInput,
  E_CONFIG: EXIT.usage,
  E_USAGE: EXIT.usage,
  E_SAFETY: EXIT.refusedBySafetyRule,
  E_LOCK: EXIT.lockTimeout,
  E_COMMAND: EXIT.commandFailed,
  E_ACTION: EXIT.commandFailed,
  E_DAEMON: EXIT.commandFailed,
  // crm_mon missing or not connected on the node asked: its command failed there.
  E_PACEMAKER_UNAVAILABLE: EXIT.commandFailed,
  E_DRBD_UNAVAILABLE: EXIT.drbdUnavailable,
  E_NO_DRBD_FAMILY: EXIT.drbdUnavailable,
  E_RESOURCE_STATE: EXIT.wrongState,
  // The CIB changed between pacemaker apply's read and its write: nothing written, run it again.
  E_CIB_CHANGED: EXIT.wrongState,
  E_STATE_TIMEOUT: EXIT.stateTimeout,
  E_GROWTH_VERIFY: EXIT.stateTimeout,
  E_LISTEN: EXIT.cannotListen,
};

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof HastorError) {
    // Several nodes failed: the first node's error decides (they usually fail alike).
    if (error.code === 'E_CLUSTER_STEP') return error.cause === undefined ? EXIT.commandFailed : exitCodeFor(error.cause);
    return BY_ERROR_CODE[error.code] ?? EXIT.failure;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return EXIT.badInput;
  return EXIT.failure;
}
