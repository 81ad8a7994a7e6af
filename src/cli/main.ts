/**
 * The `hastor` command line. Library errors become one line on stderr and a
 * documented exit code; a stack trace is printed only with HASTOR_DEBUG=1.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, DEFAULT_CLUSTER_FILE, HastorError, loadClusterFile, packageVersion, type LoadedCluster } from '../index.js';
import { doctorCommand } from './commands/doctor.js';
import { dualPrimaryCommand } from './commands/dual-primary.js';
import { exporterCommand } from './commands/exporter.js';
import { growCommand } from './commands/grow.js';
import { labCommand } from './commands/lab.js';
import { lvmCommand } from './commands/lvm.js';
import { addPacemakerConfigCommand } from './commands/pacemaker-config.js';
import { resourceCommand } from './commands/resource.js';
import { statusCommand } from './commands/status.js';
import { watchCommand } from './commands/watch.js';
import { BadInputError, SilentExit, UsageError, type CliContext } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { escapeControls } from './format.js';

export interface MainIo {
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
  /** Builds the cluster from the file's path (tests pass scripted executors). Default loadClusterFile. */
  loadCluster?: (path: string) => Promise<LoadedCluster>;
}

const EXIT_HELP = `
Exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 refused by a safety rule,
5 lock timeout, 6 command failed on a node, 7 DRBD not available, 8 resource not in
a state the operation can start from, 9 timed out waiting for a state, 10 the exporter
cannot listen on its address. See docs/cli.md.`;

export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const load = io.loadCluster ?? ((path: string) => loadClusterFile(path));
  if (stdout === process.stdout && stdout.listenerCount('error') === 0) {
    // The reader went away (`hastor watch --json | head`): stop as a SIGPIPE would, without a stack trace.
    stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(EXIT.ok);
      throw error;
    });
  }

  const program = new Command('hastor');
  const clusterPath = (): string => (program.opts().cluster as string | undefined) ?? (env.HASTOR_CLUSTER || DEFAULT_CLUSTER_FILE);
  let loaded: Promise<LoadedCluster> | undefined;
  const context: CliContext = {
    stdout,
    stderr,
    env,
    out: (text) => void stdout.write(text),
    usageError: (message) => {
      throw new UsageError(message);
    },
    clusterPath,
    loadCluster: () => {
      loaded ??= load(clusterPath()).catch((error: unknown) => {
        // The cluster file is the user's input: a bad one is exit 3, whatever the library calls it.
        if (error instanceof ConfigError) throw new BadInputError(error.message, { cause: error });
        throw error;
      });
      return loaded;
    },
  };

  program
    .description('DRBD and LVM orchestration for Linux HA clusters')
    .version(packageVersion(), '-V, --version')
    .option('--cluster <file>', `the cluster file (default: $HASTOR_CLUSTER, else ${DEFAULT_CLUSTER_FILE})`)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void stdout.write(text),
      writeErr: (text) => void stderr.write(text),
    })
    .addHelpText('after', EXIT_HELP);
  const commands = [
    statusCommand(context),
    watchCommand(context),
    resourceCommand(context),
    dualPrimaryCommand(context),
    lvmCommand(context),
    growCommand(context),
    doctorCommand(context),
    exporterCommand(context),
    labCommand(context),
    // Temporary: the pacemaker group (src/cli/commands/pacemaker.ts) comes from another branch; only `config` here.
    addPacemakerConfigCommand(new Command('pacemaker').description('the cluster manager: the stack\'s Pacemaker configuration'), context),
  ];
  for (const command of commands) {
    // addCommand() does not pass output and exit settings down; copy them (to nested commands too).
    const inherit = (c: Command, parent: Command): void => {
      c.copyInheritedSettings(parent);
      for (const sub of c.commands) inherit(sub, c);
    };
    inherit(command, program);
    program.addCommand(command);
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof SilentExit) return error.exitCode;
    if (error instanceof UsageError) {
      stderr.write(`hastor: ${escapeControls(error.message, { newlines: true })}\n`);
      return EXIT.usage;
    }
    const message = error instanceof HastorError || error instanceof Error ? error.message : String(error);
    // Messages quote captures, names and remote stderr: escaped like every human output.
    stderr.write(`hastor: ${escapeControls(message, { newlines: true })}\n`);
    if (env.HASTOR_DEBUG === '1' && error instanceof Error) stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}
