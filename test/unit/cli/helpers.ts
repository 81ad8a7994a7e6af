import { Writable } from 'node:stream';
import { main } from '../../../src/cli/main.js';

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
  return { stream, text: () => chunks.join('') };
}

/** Runs the CLI in-process with captured output. */
export async function runCli(argv: string[], options: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const out = capture(options.tty ?? false);
  const err = capture(false);
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, env: options.env ?? {} });
  return { code, stdout: out.text(), stderr: err.text() };
}
