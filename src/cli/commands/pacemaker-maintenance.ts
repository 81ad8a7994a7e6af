/**
 * `hastor pacemaker maintenance on|off`: hands off the whole cluster
 * (maintenance-mode) or one resource (is-managed), so hastor — or an
 * operator — may act on it without fighting the cluster manager, and back.
 */
import { Command } from 'commander';
import { commandLine, readPacemakerView, setPacemakerMaintenance } from '../../index.js';
import type { CliContext } from '../context.js';
import { nodeExecutor } from './resource-context.js';

interface MaintenanceOptions {
  resource?: string;
  drbd?: string;
  node?: string;
  dryRun?: boolean;
  json?: boolean;
}


export function maintenanceCommand(context: CliContext): Command {
  return new Command('maintenance')
    .description("tell Pacemaker to keep its hands off the cluster or one resource (on), or to take them back (off)")
    .argument('<on|off>', 'on: Pacemaker stops managing it (nothing is stopped); off: it manages it again')
    .option('--resource <id>', 'one Pacemaker resource (e.g. the DRBD clone ms_drbd_r0); default: the whole cluster (maintenance-mode)')
    .option('--drbd <name>', 'the Pacemaker clone that manages this DRBD resource')
    .option('--node <node>', 'run it on this node of the cluster file (default: this machine)')
    .option('--dry-run', 'show the command, change nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
While a resource is unmanaged, Pacemaker does not start, stop, promote or
monitor it, and hastor's resource and dual-primary commands act on it
themselves. Give it back with "off" as soon as the work is done.

Examples:
  hastor pacemaker maintenance on --drbd r0          unmanage the clone that runs DRBD r0
  hastor resource primary r0 --node node2            now allowed
  hastor pacemaker maintenance off --drbd r0
  hastor pacemaker maintenance on --dry-run          the whole cluster: shows crm_attribute … maintenance-mode`,
    )
    .action(async (word: string, options: MaintenanceOptions) => {
      if (word !== 'on' && word !== 'off') context.usageError(`maintenance takes on or off, not ${JSON.stringify(word)}`);
      if (options.resource !== undefined && options.drbd !== undefined) context.usageError('give --resource or --drbd, not both');
      const executor = await nodeExecutor(context, options.node);
      let resource = options.resource;
      if (options.drbd !== undefined) {
        const view = await readPacemakerView(executor);
        const clone = view.drbdClones.find((c) => c.drbdResource === options.drbd);
        if (clone === undefined) {
          const known = view.drbdClones.map((c) => `${c.cloneId} (${c.drbdResource ?? '?'})`);
          context.usageError(`no Pacemaker clone manages DRBD resource ${JSON.stringify(options.drbd)} (DRBD clones: ${known.length === 0 ? 'none' : known.join(', ')})`);
        }
        resource = clone.cloneId;
      }
      const result = await setPacemakerMaintenance(executor, { on: word === 'on', ...(resource === undefined ? {} : { resource }), dryRun: options.dryRun === true });
      if (options.json) {
        context.out(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const scope = result.resource ?? 'the cluster (maintenance-mode)';
      const verb = result.on ? 'unmanaged' : 'managed';
      if (result.already) context.out(`${scope} is already ${verb} on ${result.node}; nothing to do\n`);
      else if (result.dryRun) context.out(`would run on ${result.node}: ${commandLine(result.argv)}\n`);
      else context.out(`${scope} is now ${verb} (ran on ${result.node}: ${commandLine(result.argv)})${result.on ? `; give it back with: hastor pacemaker maintenance off${result.resource === null ? '' : ` --resource ${result.resource}`}` : ''}\n`);
    });
}
