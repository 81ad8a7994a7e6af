/**
 * One error hierarchy for the whole library. Every error carries a stable
 * `code` that scripts and the CLI can switch on; messages say what happened,
 * why, and what to do.
 */

/**
 * An error's message without a leading `node: `. Executors start their
 * errors with the node they ran on; a caller that names the node itself
 * drops it so messages do not read "vm: vm: …".
 */
export function messageWithoutNode(node: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith(`${node}: `) ? message.slice(node.length + 2) : message;
}

/** `node: message`, the node named once. */
export function messageOnNode(node: string, error: unknown): string {
  return `${node}: ${messageWithoutNode(node, error)}`;
}

export class HastorError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export interface CommandErrorDetails {
  argv: readonly string[];
  exitCode: number | null;
  stderr: string;
  node?: string;
  cause?: unknown;
}

/** A command run on some node failed (non-zero exit, signal, timeout, not found). */
export class CommandError extends HastorError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly node: string | undefined;

  constructor(message: string, details: CommandErrorDetails) {
    super('E_COMMAND', message, { cause: details.cause });
    this.argv = details.argv;
    this.exitCode = details.exitCode;
    this.stderr = details.stderr;
    this.node = details.node;
  }
}

export interface ParseErrorDetails {
  /** What was being parsed, e.g. "/proc/drbd" or "events2". */
  source: string;
  /** 1-based line number of the offending line, when the input is line-oriented. */
  line?: number;
  /** The offending text, shortened. */
  excerpt?: string;
}

const EXCERPT_MAX = 80;

/** Input could not be understood: truncated, garbage, or an unknown state word. */
export class ParseError extends HastorError {
  readonly source: string;
  readonly line: number | undefined;
  readonly excerpt: string | undefined;

  constructor(reason: string, details: ParseErrorDetails) {
    const excerpt =
      details.excerpt === undefined
        ? undefined
        : details.excerpt.length > EXCERPT_MAX
          ? `${details.excerpt.slice(0, EXCERPT_MAX)}…`
          : details.excerpt;
    const where = details.line === undefined ? details.source : `${details.source} line ${details.line}`;
    const shown = excerpt === undefined ? '' : `: ${JSON.stringify(excerpt)}`;
    super('E_PARSE', `cannot parse ${where}: ${reason}${shown}`);
    this.source = details.source;
    this.line = details.line;
    this.excerpt = excerpt;
  }
}

/** A configuration or argument failed validation; `issues` lists every problem. */
export class ConfigError extends HastorError {
  readonly issues: readonly string[];

  constructor(message: string, issues: readonly string[] = []) {
    const full = issues.length === 0 ? message : `${message}\n${issues.map((i) => `  - ${i}`).join('\n')}`;
    super('E_CONFIG', full);
    this.issues = issues;
  }
}

export interface LockHolder {
  pid: number;
  commandLine: string | null;
}

/** A lock could not be taken in time, or the lock file misbehaved. */
export class LockError extends HastorError {
  readonly path: string;
  readonly holders: readonly LockHolder[];

  constructor(message: string, details: { path: string; holders?: readonly LockHolder[]; cause?: unknown }) {
    super('E_LOCK', message, { cause: details.cause });
    this.path = details.path;
    this.holders = details.holders ?? [];
  }
}

/** A dangerous operation was refused by a safety rule. */
export class SafetyError extends HastorError {
  readonly rule: string;
  readonly override: string;

  constructor(rule: string, message: string, override: string) {
    super('E_SAFETY', `${message} (rule ${rule}; to override on purpose: ${override})`);
    this.rule = rule;
    this.override = override;
  }
}

/**
 * A file or directory that root would trust (a lock directory, the cluster file,
 * a directory hastor writes into) is one another user could change. Refused as
 * ssh refuses a config file with bad owner or permissions.
 */
export class UnsafePathError extends SafetyError {
  readonly path: string;

  constructor(path: string, message: string) {
    super('trusted-path', message, 'none: fix the owner and mode as said, or remove it so hastor makes it again');
    this.path = path;
  }
}

/** The native addon is missing or failed a system call. */
export class NativeError extends HastorError {
  readonly syscall: string | undefined;
  readonly errno: number | undefined;

  constructor(message: string, details: { syscall?: string; errno?: number; cause?: unknown } = {}) {
    super('E_NATIVE', message, { cause: details.cause });
    this.syscall = details.syscall;
    this.errno = details.errno;
  }
}

/** Input is larger than hastor reads (a capture past its cap, e.g. /dev/zero). */
export class InputTooLargeError extends HastorError {
  readonly source: string;
  readonly maxBytes: number;

  constructor(source: string, maxBytes: number) {
    super('E_INPUT_TOO_LARGE', `${source} is larger than the ${maxBytes / (1024 * 1024)} MiB hastor reads from a capture; is it the right file?`);
    this.source = source;
    this.maxBytes = maxBytes;
  }
}
