/**
 * A persistent `lvm` shell, as lvmdbusd runs it: one long-lived `lvm` process reads
 * commands on stdin, one line each, and writes each command's report and command log as
 * one JSON document to the descriptor named by LVM_REPORT_FD. Repeated queries then skip
 * lvm's start-up (config, device scan set-up, fork/exec), which is most of a small
 * command's time.
 *
 * How lvm2 2.03.16 behaves (tried on the host and in the lab; tools/lvm.c lvm_shell()):
 * - No terminal needed: Debian builds lvm with editline, which reads a pipe and prints no
 *   prompt when stdin is not a tty. The prompt is therefore not a delimiter; the report
 *   descriptor is: after every command the shell prints exactly one JSON object there.
 * - The shell's report format and command log are fixed when it starts and come from the
 *   configuration, not from each command: `--config log/report_command_log=1` on a command
 *   fails it (rc 3, "not allowed here") and `--reportformat` is ignored. So hastor writes a
 *   command profile (LVM_COMMAND_PROFILE) with output_format json (json_std from 2.03.17),
 *   report_command_log = 1 and a log selection that keeps lvm's per-command status entry
 *   (context "shell", type "status", object "cmd", ret code 1 = success, 5 = failed,
 *   3 = bad command line, 2 = no such command).
 * - Words are split by lvm_split(): whitespace separates, a word starting with ' or " runs
 *   to the same quote (no escapes), a word starting with # ends the line, at most 64 words.
 *   Arguments that cannot be written that way run fork-per-call instead.
 *
 * A command that does not answer within its timeout (waiting on a lock, a device that
 * hangs, a prompt) gets the whole shell SIGKILLed and a CommandError; the next command
 * starts a new shell. A shell that dies is restarted the same way. When the shell cannot
 * start (no lvm shell support, profile directory not writable, sudo refusing it, lvm older
 * than 2.02.158), every command runs fork-per-call (`lvm <command> ...`) through `fallback`.
 *
 * The shell runs through an Executor's spawn(): a child of this process, or `sudo -n lvm`
 * at the far end of ssh (or the lab agent). Its report descriptor is its stdout
 * (LVM_REPORT_FD=1), because ssh carries no third pipe: in shell mode with the command log
 * on, lvm writes nothing else there (its messages become log entries; tried in the lab),
 * and any other text there is a ParseError that ends the shell. A remote shell killed on a
 * timeout loses its ssh session; lvm there ends at its next read of stdin.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError, ParseError } from '../errors.js';
import { LocalExecutor, type Executor, type ExecutorProcess } from '../sys/executor.js';
import { writeFileAtomic } from '../sys/atomic-write.js';
import { failureReason, runLocal, type RunOptions, type RunResult } from '../sys/local-exec.js';
import type { LvmExec } from './report.js';
import { logEntryFromRow, type LvmLogEntry } from './report-log.js';
import { rowExcerpt } from './report-json.js';
import { parseJsonKeepingIntegers, type RawRow } from './report-values.js';
import { atLeast, detectLvmVersion, lvmVersionOn, type LvmVersionInfo } from './version.js';

export const LVM_SHELL_PROFILE_NAME = 'hastor-lvmshell';
export const DEFAULT_LVM_PROFILE_DIR = '/etc/lvm/profile';
/** lvm's shell reads at most this many words per line (tools/lvm.c MAX_ARGS). */
export const LVM_SHELL_MAX_WORDS = 64;
export const DEFAULT_LVM_SHELL_TIMEOUT_MS = 60_000;

const LOG_COLUMNS =
  'log_seq_num,log_type,log_context,log_object_type,log_object_name,log_object_id,log_object_group,log_object_group_id,log_message,log_errno,log_ret_code';

/** The command profile the shell runs with; json_std needs lvm2 2.03.17. */
export function lvmShellProfile(format: 'json' | 'json_std'): string {
  return [
    '# Written by hastor for its persistent lvm shell (LVM_COMMAND_PROFILE).',
    '# Every command answers with one JSON document on LVM_REPORT_FD whose log',
    '# ends with the shell status entry. Rewritten by hastor when it differs.',
    'report {',
    `\toutput_format = "${format}"`,
    '}',
    'log {',
    '\treport_command_log = 1',
    '\tcommand_log_selection = "log_context=shell || !(log_type=status && message=success)"',
    `\tcommand_log_cols = "${LOG_COLUMNS}"`,
    '\tcommand_log_sort = "log_seq_num"',
    '}',
    '',
  ].join('\n');
}

/**
 * argv as the shell wants it: no leading "lvm" (the shell is lvm), and without
 * `--config log/report_command_log=1`, which the shell refuses per command (its profile
 * already sets it).
 */
export function shellArgv(argv: readonly string[]): string[] {
  const out = argv[0] === 'lvm' ? argv.slice(1) : [...argv];
  for (let i = 0; i < out.length - 1; i++) {
    if (out[i] === '--config' && /^log\/report_command_log\s*=\s*1$/.test(out[i + 1] ?? '')) {
      out.splice(i, 2);
      i--;
    }
  }
  return out;
}

/**
 * One shell line for argv, quoted the way lvm_split() reads it, or null when lvm cannot
 * read some argument back exactly (a control character, both quote characters with
 * whitespace, more than 64 words): such commands run fork-per-call.
 */
export function lvmShellLine(argv: readonly string[]): string | null {
  if (argv.length === 0 || argv.length > LVM_SHELL_MAX_WORDS) return null;
  const words: string[] = [];
  for (const arg of argv) {
    // Control characters (newline, tab: editline's completion key) never go through the line editor.
    if (typeof arg !== 'string' || /[\u0000-\u001f\u007f]/.test(arg)) return null;
    const plain = arg !== '' && !/\s/.test(arg) && !/^['"#]/.test(arg);
    if (plain) words.push(arg);
    else if (!arg.includes("'")) words.push(`'${arg}'`);
    else if (!arg.includes('"')) words.push(`"${arg}"`);
    else return null;
  }
  return words.join(' ');
}

/**
 * Splits the report descriptor's byte stream into top-level JSON objects: lvm writes each
 * document in several pieces (the log part tens of ms after the report part), so the end
 * of a document is where its outermost brace closes, strings and escapes respected.
 */
export class JsonDocumentSplitter {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  /** Adds text; returns the documents it completed, in order. Non-JSON text between documents is a ParseError. */
  push(text: string): string[] {
    this.buffer += text;
    const done: string[] = [];
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const c = this.buffer[i] as string;
      if (this.depth === 0) {
        if (c === '{') {
          this.depth = 1;
          this.start = i;
        } else if (!/\s/.test(c)) {
          const line = this.buffer.slice(i).split('\n')[0] ?? '';
          this.reset();
          throw new ParseError('text outside a JSON document on the report descriptor', { source: 'lvm shell report', excerpt: line });
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          done.push(this.buffer.slice(this.start, i + 1));
          this.buffer = this.buffer.slice(i + 1);
          this.start = -1;
          i = -1;
        }
      }
    }
    this.scanned = this.buffer.length;
    return done;
  }

  /** Text of a document not finished yet. */
  get pending(): string {
    return this.depth === 0 ? '' : this.buffer.slice(Math.max(this.start, 0));
  }

  reset(): void {
    this.buffer = '';
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.start = -1;
    this.scanned = 0;
  }
}

export interface ShellReply {
  /** The command's exit code as `lvm <command>` would have returned it (1 → 0, else lvm's code). */
  exitCode: number;
  /** Every log entry lvm reported for the command. */
  log: LvmLogEntry[];
  /** "report" items present (a reporting command). */
  hasReport: boolean;
}

const SHELL_SOURCE = 'lvm shell reply';

/** Profiles this process found or wrote as they should be, per executor (see writeProfile). */
const profilesChecked = new WeakMap<Executor, Set<string>>();

/**
 * Reads one reply document: the command's result is the last log entry lvm adds for the
 * shell itself (context shell, object cmd, type status); its ret code 1 means success.
 */
export function parseShellReply(document: string): ShellReply {
  const parsed = parseJsonKeepingIntegers(document, SHELL_SOURCE);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ParseError('expected a JSON object', { source: SHELL_SOURCE, excerpt: document.trim().slice(0, 80) });
  }
  const doc = parsed as Record<string, unknown>;
  const rows = doc['log'];
  if (!Array.isArray(rows)) throw new ParseError('no "log" section (is log/report_command_log on?)', { source: SHELL_SOURCE, excerpt: document.trim().slice(0, 80) });
  const log = rows.map((row: unknown) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new ParseError('a log entry is not an object', { source: SHELL_SOURCE, excerpt: JSON.stringify(row) });
    }
    return logEntryFromRow(row as RawRow, { source: SHELL_SOURCE, excerpt: rowExcerpt(row as RawRow) });
  });
  const status = [...log].reverse().find((e) => e.context === 'shell' && e.type === 'status' && e.objectType === 'cmd');
  if (status === undefined) {
    throw new ParseError('the log has no shell status entry for the command', { source: SHELL_SOURCE, excerpt: document.trim().slice(-80) });
  }
  return { exitCode: status.retCode === 1 ? 0 : status.retCode, log, hasReport: Array.isArray(doc['report']) };
}

/** What a failed command said: its error entries, else its warnings. */
export function shellReplyProblems(log: readonly LvmLogEntry[]): string[] {
  const errors = log.filter((e) => e.type === 'error').map((e) => e.message);
  return errors.length > 0 ? errors : log.filter((e) => e.type === 'warn').map((e) => e.message);
}

export interface LvmCommandResult extends RunResult {
  /** What ran, as given. */
  argv: string[];
  /** Through the persistent shell or a process of its own. */
  via: 'shell' | 'fork';
  /** Shell: the command log lvm reported; fork: null. */
  log: LvmLogEntry[] | null;
  durationMs: number;
}

export interface LvmRunOptions {
  timeoutMs?: number;
  /** Default [0]. */
  okExitCodes?: readonly number[];
}

/** Runs lvm commands on one node, whatever the transport. */
export interface LvmRunner {
  readonly node: string;
  /**
   * Runs an lvm command (argv[0] is the command, e.g. "lvs"; a leading "lvm" is fine).
   * With the shell, stdout holds the JSON document lvm wrote for the command (the same
   * report `lvs --reportformat json` prints, plus the log).
   */
  run(argv: readonly string[], options?: LvmRunOptions): Promise<LvmCommandResult>;
  /** The same, shaped for readPvs/readVgs/readLvs/readFullReport's `exec`. */
  readonly exec: LvmExec;
  close(): Promise<void>;
}

/** A runner shaped as readPvs/readVgs/readLvs/readFullReport's `exec`. */
export function execThrough(runner: Pick<LvmRunner, 'run'>): LvmExec {
  return async (argv, runOptions: RunOptions) => {
    const { stdout, stderr, exitCode } = await runner.run(argv, {
      ...(runOptions.timeoutMs === undefined ? {} : { timeoutMs: runOptions.timeoutMs }),
      ...(runOptions.okExitCodes === undefined ? {} : { okExitCodes: runOptions.okExitCodes }),
    });
    return { stdout, stderr, exitCode };
  };
}

export interface LvmShellOptions {
  /**
   * Where the shell runs (it needs spawn()); the profile is written there too, as root.
   * Default: this machine, as this user, the profile written directly.
   */
  executor?: Executor;
  /** Known version (skips one `lvm version`). */
  version?: LvmVersionInfo;
  /** The lvm binary for the shell. Default "lvm" (PATH). */
  lvm?: string;
  /** Where lvm looks for command profiles (config/profile_dir). Default /etc/lvm/profile. */
  profileDir?: string;
  profileName?: string;
  /** Extra environment for the shell (e.g. LVM_SYSTEM_DIR). */
  env?: Record<string, string>;
  /** Per-command default. Default 60 s. */
  timeoutMs?: number;
  /** Start-up (spawn, first answer). Default 15 s. */
  startTimeoutMs?: number;
  /** After this many failed starts in a row every command runs fork-per-call. Default 2. */
  maxStartFailures?: number;
  /** Fork-per-call runner for the fallback and for lines the shell cannot read. Default runLocal. */
  fallback?: LvmExec;
  /** Sees each raw reply document (recording, debugging). */
  onReply?: (argv: readonly string[], document: string) => void;
}

export interface LvmShellStats {
  shellCommands: number;
  forkCommands: number;
  starts: number;
  startFailures: number;
  timeouts: number;
  /** Shells that ended without being asked to. */
  crashes: number;
}

interface Pending {
  argv: readonly string[];
  /** Its reply arrived: a shell ending now does not fail it. */
  answered: boolean;
  resolve: (document: string) => void;
  reject: (error: Error) => void;
  stderr: string;
}

interface ShellProcess {
  process: ExecutorProcess;
  splitter: JsonDocumentSplitter;
  pending: Pending | null;
  exited: boolean;
  /** Set when we kill it (timeout, close): its end is not a crash. */
  killedOnPurpose: boolean;
  exitWaiters: Array<() => void>;
  stderrTail: string;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exited with ${code}`;
}


/**
 * The persistent shell. Commands run one at a time in call order. Call close() when done
 * (the child is unref'd, so a forgotten shell does not keep the process alive; it ends
 * when its stdin closes).
 */
export class LvmShell implements LvmRunner {
  readonly node: string;
  readonly exec: LvmExec;
  private readonly options: LvmShellOptions;
  private version: LvmVersionInfo | undefined;
  private proc: ShellProcess | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private failuresInARow = 0;
  private forkOnly: string | null = null;
  private lastStartError: string | null = null;
  private readonly counters: LvmShellStats = { shellCommands: 0, forkCommands: 0, starts: 0, startFailures: 0, timeouts: 0, crashes: 0 };

  constructor(options: LvmShellOptions = {}) {
    this.options = options;
    this.node = options.executor?.node ?? 'local';
    this.version = options.version;
    this.exec = execThrough(this);
  }

  get stats(): LvmShellStats {
    return { ...this.counters };
  }

  /** The running shell's local pid (for a remote shell: its ssh client's), or null. */
  get pid(): number | null {
    return this.proc !== null && !this.proc.exited ? (this.proc.process.pid ?? null) : null;
  }

  /** Why the last failed start failed (a command then ran fork-per-call), or null. */
  get lastStartFailure(): string | null {
    return this.lastStartError;
  }

  /** Why commands run fork-per-call, or null while the shell is used. */
  get fallbackReason(): string | null {
    return this.forkOnly;
  }

  /** Starts the shell now if it is not running (in line with commands); false when it cannot start. */
  warmUp(): Promise<boolean> {
    const next = this.queue.then(() => this.forkOnly === null && this.ensureStarted());
    this.queue = next.catch(() => undefined);
    return next;
  }

  run(argv: readonly string[], options: LvmRunOptions = {}): Promise<LvmCommandResult> {
    const next = this.queue.then(() => this.runNow(argv, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends the shell (`exit`, then SIGKILL after 2 s). Later calls start a new one. */
  async close(): Promise<void> {
    await this.queue;
    const proc = this.proc;
    this.proc = null;
    if (proc === null || proc.exited) return;
    proc.killedOnPurpose = true;
    const gone = new Promise<void>((resolve) => proc.exitWaiters.push(resolve));
    try {
      proc.process.stdin.end('exit\n');
    } catch {
      // already closed
    }
    const timer = setTimeout(() => proc.process.kill(), 2000);
    await gone;
    clearTimeout(timer);
  }

  private async runNow(argv: readonly string[], options: LvmRunOptions): Promise<LvmCommandResult> {
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_LVM_SHELL_TIMEOUT_MS;
    const words = shellArgv(argv);
    const line = lvmShellLine(words);
    if (line === null || this.forkOnly !== null || !(await this.ensureStarted())) {
      return this.fork(argv, timeoutMs, options.okExitCodes, started);
    }
    const proc = this.proc as ShellProcess;
    const { document, stderr } = await this.send(proc, argv, line, timeoutMs);
    let reply: ShellReply;
    try {
      reply = parseShellReply(document);
    } catch (error) {
      // The shell's state is unknown after a reply we cannot read: start afresh next time.
      this.kill(proc);
      throw new CommandError(`lvm shell: ${argv.join(' ')}: unreadable reply: ${(error as Error).message}`, { argv, exitCode: null, stderr, cause: error });
    }
    this.counters.shellCommands++;
    const ok = options.okExitCodes ?? [0];
    if (!ok.includes(reply.exitCode)) {
      const problems = shellReplyProblems(reply.log);
      const why = problems.length === 0 ? failureReason(stderr) : problems.join('; ');
      throw new CommandError(`${argv.join(' ')}: exited with ${reply.exitCode}${why === '' ? '' : `: ${why}`}`, {
        argv,
        exitCode: reply.exitCode,
        stderr: [stderr, ...reply.log.filter((e) => e.type === 'error' || e.type === 'warn').map((e) => `  ${e.message}\n`)].join(''),
      });
    }
    return { argv: [...argv], via: 'shell', stdout: document, stderr, exitCode: reply.exitCode, log: reply.log, durationMs: performance.now() - started };
  }

  private async fork(argv: readonly string[], timeoutMs: number, okExitCodes: readonly number[] | undefined, started: number): Promise<LvmCommandResult> {
    const full = argv[0] === 'lvm' ? [...argv] : ['lvm', ...argv];
    const exec = this.options.fallback ?? runLocal;
    const result = await exec(full, { timeoutMs, ...(okExitCodes === undefined ? {} : { okExitCodes }) });
    this.counters.forkCommands++;
    return { argv: [...argv], via: 'fork', ...result, log: null, durationMs: performance.now() - started };
  }

  /** Writes one line and waits for its reply document (with the stderr seen meanwhile). */
  private send(proc: ShellProcess, argv: readonly string[], line: string, timeoutMs: number): Promise<{ document: string; stderr: string }> {
    return new Promise<{ document: string; stderr: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (proc.pending !== pending) return;
        proc.pending = null;
        this.counters.timeouts++;
        this.kill(proc);
        reject(
          new CommandError(`lvm shell: ${argv.join(' ')}: timed out after ${timeoutMs} ms; the shell was killed and restarts with the next command`, {
            argv,
            exitCode: null,
            stderr: pending.stderr,
          }),
        );
      }, timeoutMs);
      const pending: Pending = {
        argv,
        answered: false,
        stderr: '',
        resolve: (document) => {
          pending.answered = true;
          clearTimeout(timer);
          // stderr written before the report may still be in flight on its pipe.
          setImmediate(() => {
            if (proc.pending === pending) proc.pending = null;
            resolve({ document, stderr: pending.stderr });
          });
        },
        reject: (error) => {
          clearTimeout(timer);
          if (proc.pending === pending) proc.pending = null;
          reject(error);
        },
      };
      proc.pending = pending;
      this.setRef(proc, true);
      proc.process.stdin.write(`${line}\n`, (error) => {
        if (!error) return;
        // A shell that never ran or just died closes its stdin first: say why it ended when that comes soon.
        const ended = proc.process.ended.then((end) => end.error ?? null);
        void Promise.race([ended, sleep(1000, null, { ref: false })]).then((why) =>
          pending.reject(new CommandError(`lvm shell: ${argv.join(' ')}: ${why ?? `cannot write to the shell: ${error.message}`}`, { argv, exitCode: null, stderr: pending.stderr, cause: error })),
        );
      });
    }).finally(() => {
      if (!proc.exited) this.setRef(proc, false);
    });
  }

  /** While idle the shell must not keep this process alive; while a command runs it should. */
  private setRef(proc: ShellProcess, on: boolean): void {
    proc.process.setRef(on);
  }

  private kill(proc: ShellProcess): void {
    proc.killedOnPurpose = true;
    if (this.proc === proc) this.proc = null;
    if (!proc.exited) proc.process.kill();
  }

  private async detectVersion(): Promise<LvmVersionInfo> {
    if (this.version !== undefined) return this.version;
    // Through an executor: the version read once per node by everything else too.
    if (this.options.executor !== undefined) return (this.version = await lvmVersionOn(this.options.executor, this.options.startTimeoutMs ?? 15_000));
    const exec = this.options.fallback ?? runLocal;
    const { stdout } = await exec(['lvm', 'version'], { timeoutMs: this.options.startTimeoutMs ?? 15_000 });
    this.version = detectLvmVersion(stdout);
    return this.version;
  }

  private profilePath(): string {
    return join(this.options.profileDir ?? DEFAULT_LVM_PROFILE_DIR, `${this.options.profileName ?? LVM_SHELL_PROFILE_NAME}.profile`);
  }

  /** The profile as the node has it now (null: none), read unless this process already saw it right there. */
  private readRemoteProfile(): Promise<string | null> | null {
    const executor = this.options.executor;
    if (executor === undefined || profilesChecked.has(executor)) return null;
    return executor.readFile(this.profilePath(), { root: true }).catch(() => null);
  }

  /** `onNode`: the profile's read started while the version was read (null: read it here if needed). */
  private async writeProfile(format: 'json' | 'json_std', onNode: Promise<string | null> | null = null): Promise<void> {
    const path = this.profilePath();
    const text = lvmShellProfile(format);
    const executor = this.options.executor;
    if (executor !== undefined) {
      // Checked once per node and path for this process: a remote read costs a round trip.
      const key = `${path}\n${text}`;
      if (profilesChecked.get(executor)?.has(key)) return;
      const found = await (onNode ?? executor.readFile(path, { root: true }).catch(() => null));
      if (found !== text) await executor.writeFile(path, text, { root: true, mode: 0o644 });
      profilesChecked.set(executor, (profilesChecked.get(executor) ?? new Set<string>()).add(key));
      return;
    }
    const current = await readFile(path, 'utf8').catch(() => null);
    if (current === text) return;
    await writeFileAtomic(path, text, { mode: 0o644 });
  }

  /** True when a shell is running (started now if needed); false means fork-per-call for this command. */
  private async ensureStarted(): Promise<boolean> {
    if (this.proc !== null && !this.proc.exited) return true;
    this.proc = null;
    try {
      // The profile's text depends on the version, but reading what is there does not: both at once.
      const profile = this.readRemoteProfile();
      const version = await this.detectVersion();
      if (!version.features.commandLog) {
        this.forkOnly = `lvm2 ${version.lvm} has no command log report (needs 2.02.158)`;
        return false;
      }
      await this.writeProfile(atLeast(version, '2.03.17') ? 'json_std' : 'json', profile);
      this.proc = await this.start();
      this.failuresInARow = 0;
      return true;
    } catch (error) {
      this.counters.startFailures++;
      this.failuresInARow++;
      this.lastStartError = (error as Error).message;
      if (this.failuresInARow >= (this.options.maxStartFailures ?? 2)) {
        this.forkOnly = `the lvm shell failed to start ${this.failuresInARow} times: ${(error as Error).message}`;
      }
      return false;
    }
  }

  private start(): Promise<ShellProcess> {
    const env: Record<string, string> = {
      LVM_REPORT_FD: '1',
      LVM_COMMAND_PROFILE: this.options.profileName ?? LVM_SHELL_PROFILE_NAME,
      // The shell logs a lot over its life; lvm aborts past this many lines otherwise.
      LVM_LOG_FILE_MAX_LINES: '0',
      // Node's (or sshd's) own descriptors are not lvm's business.
      LVM_SUPPRESS_FD_WARNINGS: '1',
      ...this.options.env,
    };
    this.counters.starts++;
    const lvm = this.options.lvm ?? 'lvm';
    const executor = this.options.executor;
    const spawned = executor === undefined ? new LocalExecutor().spawn([lvm], { env }) : executor.spawn?.([lvm], { root: true, env });
    if (spawned === undefined) return Promise.reject(new Error(`${this.node}: its executor cannot keep a process running`));
    const proc: ShellProcess = {
      process: spawned,
      splitter: new JsonDocumentSplitter(),
      pending: null,
      exited: false,
      killedOnPurpose: false,
      exitWaiters: [],
      stderrTail: '',
    };
    // The report descriptor is stdout (LVM_REPORT_FD=1).
    const report = spawned.stdout;
    const stderr = spawned.stderr;
    for (const stream of [report, stderr]) stream.setEncoding('utf8');
    spawned.stdin.on('error', () => undefined); // EPIPE when lvm died; the exit handler reports it
    stderr.on('data', (chunk: string) => {
      proc.stderrTail = (proc.stderrTail + chunk).slice(-2000);
      if (proc.pending) proc.pending.stderr += chunk;
    });
    report.on('data', (chunk: string) => {
      let documents: string[];
      try {
        documents = proc.splitter.push(chunk);
      } catch (error) {
        proc.pending?.reject(new CommandError(`lvm shell: ${proc.pending.argv.join(' ')}: ${(error as Error).message}`, { argv: proc.pending.argv, exitCode: null, stderr: proc.pending.stderr, cause: error }));
        this.kill(proc);
        return;
      }
      for (const document of documents) {
        const pending = proc.pending;
        if (pending === null) continue; // e.g. the reply to `exit`
        this.options.onReply?.(pending.argv, document);
        pending.resolve(document);
      }
    });
    return new Promise<ShellProcess>((resolve, reject) => {
      let ready = false;
      const fail = (reason: string) => {
        if (ready) return;
        ready = true;
        this.kill(proc);
        reject(new Error(reason));
      };
      void proc.process.ended.then(({ code, signal, error }) => {
        proc.exited = true;
        if (this.proc === proc) this.proc = null;
        if (!proc.killedOnPurpose && ready) this.counters.crashes++;
        const how = error !== undefined ? `could not run (${error})` : describeExit(code, signal as NodeJS.Signals | null);
        const why = failureReason(proc.stderrTail) ? `: ${failureReason(proc.stderrTail)}` : '';
        const pending = proc.pending;
        if (pending !== null && !pending.answered) {
          pending.reject(new CommandError(`lvm shell ${how} while running ${pending.argv.join(' ')}${why}`, { argv: pending.argv, exitCode: null, stderr: pending.stderr }));
        }
        fail(error !== undefined ? `cannot run ${this.options.lvm ?? 'lvm'}: ${error}` : `lvm shell ${how} at start${why}`);
        for (const waiter of proc.exitWaiters.splice(0)) waiter();
      });
      // The first command proves the shell reads commands and answers on the report descriptor.
      this.send(proc, ['version'], 'version', this.options.startTimeoutMs ?? 15_000).then(
        ({ document }) => {
          try {
            const reply = parseShellReply(document);
            if (reply.exitCode !== 0) throw new Error(`version failed with ${reply.exitCode}`);
          } catch (error) {
            fail(`the lvm shell's first answer is not what hastor expects: ${(error as Error).message}`);
            return;
          }
          if (ready) return;
          ready = true;
          resolve(proc);
        },
        (error: Error) => fail(error.message),
      );
    });
  }
}
