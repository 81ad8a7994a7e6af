/**
 * Small text files (sysfs attributes, /proc/drbd) read through one long-lived, unprivileged
 * `sh` per node: each read is a line on its stdin answered by shell builtins, where a plain
 * read is a new process (and over ssh a new channel). A growth's checks and resync polls are
 * such reads, one after every step. Whatever the shell cannot answer (not started, a file it
 * cannot open, a dead or stuck shell) is read the usual way, so errors stay the executor's.
 */
import { randomBytes } from 'node:crypto';
import type { Executor, ExecutorProcess } from './executor.js';

/**
 * $1 ends every answer: "$1 0" after the file's lines, "$1 1" when it cannot be opened. Only
 * builtins run per read (read, printf, test). `read` cannot tell an I/O error from the end of
 * the file; sysfs makes an attribute's whole text at the first read, so there an error shows
 * as an empty text, which the size parser refuses.
 */
const READ_SCRIPT = [
  'while IFS= read -r p; do',
  '  if [ -f "$p" ] && [ -r "$p" ]; then',
  '    while IFS= read -r l || [ -n "$l" ]; do printf "%s\\n" "$l"; done < "$p"',
  '    printf "%s 0\\n" "$1"',
  '  else',
  '    printf "%s 1\\n" "$1"',
  '  fi',
  'done',
].join('\n');

interface Waiting {
  path: string;
  lines: string[];
  resolve: (text: string | null) => void;
  timer: NodeJS.Timeout;
}

export interface ReadShellOptions {
  /** A read not answered in this time ends the shell; it and later reads go the usual way. Default 5 s. */
  timeoutMs?: number;
}

export class ReadShell {
  private process: ExecutorProcess | null = null;
  private dead = false;
  private readonly token = `hastor-read-${randomBytes(8).toString('hex')}`;
  private readonly waiting: Waiting[] = [];
  private partial = '';
  /** Reads the shell answered, and reads that went the usual way: for profiles and tests. */
  readonly counts = { shell: 0, fallback: 0 };

  constructor(
    readonly executor: Executor,
    private readonly options: ReadShellOptions = {},
  ) {}

  /** Starts the shell where the executor can keep a process; later reads go through it. */
  start(): void {
    if (this.process !== null || this.dead) return;
    const spawned = this.executor.spawn?.(['sh', '-c', READ_SCRIPT, 'hastor-read', this.token]);
    if (spawned === undefined) {
      this.dead = true;
      return;
    }
    this.process = spawned;
    spawned.setRef(false);
    spawned.stdin.on('error', () => this.stop());
    spawned.stderr.resume();
    spawned.stdout.setEncoding('utf8');
    spawned.stdout.on('data', (chunk: string) => this.onOutput(chunk));
    void spawned.ended.then(() => this.stop());
  }

  get running(): boolean {
    return this.process !== null && !this.dead;
  }

  /** The file's text; through the shell when it runs, else (or when it cannot answer) by the executor. */
  async readFile(path: string): Promise<string> {
    const answer = this.running && /^\/[^\n\r]*$/.test(path) ? await this.ask(path) : null;
    if (answer !== null) {
      this.counts.shell++;
      return answer;
    }
    this.counts.fallback++;
    return this.executor.readFile(path);
  }

  /** Ends the shell (at end of its input); reads after this go the usual way. */
  close(): void {
    const proc = this.process;
    this.stop();
    proc?.stdin.end();
  }

  private ask(path: string): Promise<string | null> {
    const proc = this.process!;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        proc.kill();
        this.stop();
      }, this.options.timeoutMs ?? 5000);
      this.waiting.push({ path, lines: [], resolve, timer });
      proc.setRef(true);
      proc.stdin.write(`${path}\n`);
    });
  }

  private onOutput(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const head = this.waiting[0];
      if (head === undefined) {
        // Output nobody asked for: the shell is not what it should be.
        this.process?.kill();
        this.stop();
        return;
      }
      if (line === `${this.token} 0` || line === `${this.token} 1`) {
        this.waiting.shift();
        clearTimeout(head.timer);
        head.resolve(line.endsWith(' 0') ? head.lines.map((l) => `${l}\n`).join('') : null);
      } else {
        head.lines.push(line);
      }
    }
    if (this.waiting.length === 0) this.process?.setRef(false);
  }

  /** No more reads through the shell; the ones waiting go the usual way. */
  private stop(): void {
    this.dead = true;
    this.process?.setRef(false);
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
  }
}

/** `executor` with its unprivileged file reads through `shell` (every other call as it was). */
export function readingThrough(executor: Executor, shell: ReadShell): Executor {
  return {
    get node() {
      return executor.node;
    },
    run: (argv, options) => executor.run(argv, options),
    ...(executor.spawn === undefined ? {} : { spawn: (argv: readonly string[], options?: Parameters<NonNullable<Executor['spawn']>>[1]) => executor.spawn!(argv, options) }),
    readFile: (path, options) => (options?.root === true ? executor.readFile(path, options) : shell.readFile(path)),
    writeFile: (path, content, options) => executor.writeFile(path, content, options),
  };
}
