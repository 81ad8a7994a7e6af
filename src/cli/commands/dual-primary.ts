/** `hastor dual-primary begin|end <name>`: the live-migration window of a resource. */
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { collect, runChange, type ChangeOptions } from '../operation-output.js';
import { resourceTarget } from './resource-context.js';

interface BeginOptions extends ChangeOptions {
  node?: string;
}

interface EndOptions extends ChangeOptions {
  keep: string;
}

function changing(command: Command): Command {
  return command
    .option('--dry-run', 'show the actions per node without running anything')
    .option('--json', 'print the result as JSON (see docs/cli.md)')
    .option('--override <rule>', 'accept a safety rule\'s risk on purpose (repeatable)', collect);
}

export function dualPrimaryCommand(context: CliContext): Command {
  const root = new Command('dual-primary')
    .description('open and close the dual-primary window of a resource (live migration)')
    .addHelpText(
      'after',
      `
Examples:
  hastor dual-primary begin r0 --dry-run       checks the rules, shows what would run
  hastor dual-primary begin r0                 the Secondary becomes Primary too
  hastor dual-primary end r0 --keep node2      node2 stays Primary, allow-two-primaries off`,
    );

  root.addCommand(
    changing(new Command('begin'))
      .description('allow two primaries and promote the second node; refused unless the rules hold (protocol C, fencing, after-sb policies, connected and in sync, a shared VG above)')
      .argument('<name>', 'resource name in the cluster file')
      .option('--node <node>', 'the node to promote as second Primary (default: the one that is not Primary)')
      .addHelpText('after', '\nExamples:\n  hastor dual-primary begin r0\n  hastor dual-primary begin r0 --node node2 --json')
      .action(async (name: string, options: BeginOptions) => {
        const { resource } = await resourceTarget(context, name);
        await runChange(context, `dual-primary begin ${name}`, options, (dryRun) =>
          resource.beginDualPrimary({ dryRun, override: options.override ?? [], ...(options.node === undefined ? {} : { node: options.node }) }),
        );
      }),
  );
  root.addCommand(
    changing(new Command('end'))
      .description('demote every Primary but --keep and switch allow-two-primaries off')
      .argument('<name>', 'resource name in the cluster file')
      .requiredOption('--keep <node>', 'the node that stays Primary')
      .addHelpText('after', '\nExamples:\n  hastor dual-primary end r0 --keep node2\n  hastor dual-primary end r0 --keep node2 --dry-run')
      .action(async (name: string, options: EndOptions) => {
        const { resource } = await resourceTarget(context, name);
        await runChange(context, `dual-primary end ${name}`, options, (dryRun) => resource.endDualPrimary({ keep: options.keep, dryRun, override: options.override ?? [] }));
      }),
  );
  return root;
}
