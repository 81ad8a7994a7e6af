/** Spawning helper scripts and talking to them line by line. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { helpersDir } from './compile-for-children.js';

export interface Child {
  process: ChildProcess;
  pid: number;
  /** Resolves with the next stdout line starting with `prefix` (the rest of the line). */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  send(text: string): void;
  /** Resolves with the exit code (or signal name) once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  stderr(): string;
}

/** Runs `node helpers/<script> ...args`, optionally under a wrapper command such as ["unshare", "-rn"]. */
export function startHelper(script: string, args: readonly string[], wrapper: readonly string[] = []): Child {
  const nodeArgv = [process.execPath, join(helpersDir, script), ...args];
  const [command, ...argv] = [...wrapper, ...nodeArgv];
  const child = spawn(command ?? process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let buffered = '';
  let errors = '';
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      lines.push(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    errors += chunk;
  });
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': stdout is fully read by then.
    child.on('close', (code, signal) => {
      exitedFlag = true;
      resolve({ code, signal });
      for (const wake of waiters.splice(0)) wake();
    });
  });
  return {
    process: child,
    pid: child.pid ?? -1,
    exited,
    stderr: () => errors,
    send: (text) => {
      child.stdin?.write(text);
    },
    kill: (signal = 'SIGKILL') => {
      if (!exitedFlag) child.kill(signal);
    },
    line: (prefix, timeoutMs = 10_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${prefix}" line from ${script} within ${timeoutMs} ms; stderr: ${errors}`)), timeoutMs);
        const check = (): void => {
          const index = lines.findIndex((l) => l.startsWith(prefix));
          if (index !== -1) {
            const [found] = lines.splice(index, 1);
            clearTimeout(timer);
            resolve((found ?? '').slice(prefix.length).trim());
          } else if (exitedFlag) {
            clearTimeout(timer);
            reject(new Error(`${script} exited before printing "${prefix}"; stderr: ${errors}`));
          } else {
            waiters.push(check);
          }
        };
        check();
      }),
  };
}
