/**
 * `hastor lab`: the lab harness is test code (test/lab/) and is not shipped,
 * so the CLI does not import or run it; it points at `npm run lab` in a
 * source checkout instead.
 */
import { Command } from 'commander';
import { SilentExit, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

export const LAB_POINTER = `The lab (two User-Mode Linux nodes with real DRBD 8.4 and LVM) runs from a source checkout
of hastor, not from the installed CLI:

  npm run lab:setup                          once per machine, as root: installs the Debian packages
  npm run lab -- up                          2 nodes, r0 created, initial sync running; stays up
  npm run lab -- status                      hastor status inside node1 (args pass through)
  npm run lab -- exec node1 -- cat /proc/drbd
  npm run lab -- down
  npm run test:lab                           every lab test

See test/lab/README.md and docs/cli.md.
`;

export function labCommand(context: CliContext): Command {
  return new Command('lab')
    .description('how to run the test lab (it lives in the source tree: npm run lab)')
    .argument('[args...]', 'not used: the lab runs with `npm run lab -- <args>`')
    .addHelpText('after', '\nExamples:\n  hastor lab                 prints how to start the lab\n  npm run lab -- up          (in a source checkout) starts it')
    .action((args: string[]) => {
      if (args.length === 0) {
        context.out(LAB_POINTER);
        return;
      }
      // Someone expected the lab to start: say where it is, and do not pretend it ran.
      context.stderr.write(`hastor: \`hastor lab\` does not run the lab; in a source checkout run: npm run lab -- ${args.join(' ')}\n\n${LAB_POINTER}`);
      throw new SilentExit(EXIT.usage);
    });
}
