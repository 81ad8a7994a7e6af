/** An executor answering commands from a script (fixtures, exit codes, delays); records what ran. */
import { CommandError } from '../../../src/errors.js';
import type { Executor, ExecOptions } from '../../../src/sys/executor.js';
import type { RunResult } from '../../../src/sys/local-exec.js';

/** A result, or a function giving one (late, never, or throwing). */
export type Reply = RunResult | ((options: ExecOptions | undefined) => RunResult | Promise<RunResult>);

export type ScriptedExecutor = Executor & { ran: { argv: string[]; options: ExecOptions | undefined }[] };

export function scripted(replies: Record<string, Reply>, node = 'node1'): ScriptedExecutor {
  const ran: { argv: string[]; options: ExecOptions | undefined }[] = [];
  return {
    node,
    ran,
    async run(argv, options) {
      ran.push({ argv: [...argv], options });
      const script = replies[argv.join(' ')];
      if (script === undefined) throw new Error(`unexpected command ${argv.join(' ')}`);
      const reply = typeof script === 'function' ? await script(options) : script;
      if (!(options?.okExitCodes ?? [0]).includes(reply.exitCode)) {
        throw new CommandError(`${argv.join(' ')}: exited with ${reply.exitCode}`, { argv, exitCode: reply.exitCode, stderr: reply.stderr });
      }
      return reply;
    },
    readFile: async () => '',
    writeFile: async () => undefined,
  };
}

export const ok = (stdout: string): RunResult => ({ stdout, stderr: '', exitCode: 0 });
