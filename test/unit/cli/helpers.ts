import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../../src/cli/main.js';
import type { LoadedCluster } from '../../../src/index.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  (stream as { isTTY?: boolean }).isTTY = isTTY;
  if (isTTY) (stream as { columns?: number }).columns = 160;
  return { stream, text: () => chunks.join('') };
}

export interface RunCliOptions {
  tty?: boolean;
  env?: NodeJS.ProcessEnv;
  /** The cluster the command gets instead of reading a cluster file. */
  cluster?: LoadedCluster;
}

/** Runs the CLI in-process with captured output. */
export async function runCli(argv: string[], options: RunCliOptions = {}): Promise<CliRun> {
  const out = capture(options.tty ?? false);
  const err = capture(false);
  const cluster = options.cluster;
  const code = await main(argv, {
    stdout: out.stream,
    stderr: err.stream,
    env: options.env ?? {},
    ...(cluster === undefined ? {} : { loadCluster: async () => cluster }),
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** A folder of fake executables (shell scripts) to put first on PATH. */
export function fakeBin(scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hastor-fake-bin-'));
  for (const [name, body] of Object.entries(scripts)) {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  }
  return dir;
}

/** Runs fn with `dir` first on PATH (commands the CLI starts in-process find the fakes). */
export async function withPath<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved ?? ''}`;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}
