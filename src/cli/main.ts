/**
 * The `hastor` command line. Library errors become one line on stderr and a
 * documented exit code; a stack trace is printed only with HASTOR_DEBUG=1.
 */
import { Command, CommanderError } from 'commander';
import { HastorError, packageVersion } from '../index.js';
import { statusCommand } from './commands/status.js';
import { UsageError, type CliContext } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

export interface MainIo {
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const context: CliContext = {
    stdout,
    stderr,
    env,
    out: (text) => void stdout.write(text),
    usageError: (message) => {
      throw new UsageError(message);
    },
  };

  const program = new Command('hastor')
    .description('DRBD and LVM orchestration for Linux HA clusters')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void stdout.write(text),
      writeErr: (text) => void stderr.write(text),
    })
    .addHelpText('after', '\nExit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 refused by a safety rule,\n5 lock timeout, 6 command failed on a node, 7 DRBD not available. See docs/cli.md.');
  for (const command of [statusCommand(context)]) {
    // addCommand() does not pass output and exit settings down; copy them.
    program.addCommand(command.copyInheritedSettings(program));
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      stderr.write(`hastor: ${error.message}\n`);
      return EXIT.usage;
    }
    const message = error instanceof HastorError || error instanceof Error ? error.message : String(error);
    stderr.write(`hastor: ${message}\n`);
    if (env.HASTOR_DEBUG === '1' && error instanceof Error) stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}
