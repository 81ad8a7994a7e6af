/** `hastor pacemaker config`: the stack's Pacemaker configuration from the cluster file, as CIB XML, a crm script or pcs commands. Reads only. */
import { Command, Option } from 'commander';
import {
  ConfigError,
  STACK_TOPOLOGIES,
  generateStackPacemakerConfig,
  renderCib,
  renderCrmScript,
  renderPcsCommands,
  renderPcsScript,
  type StackTopology,
} from '../../index.js';
import { BadInputError, type CliContext } from '../context.js';

export const PACEMAKER_CONFIG_FORMATS = ['cib', 'crm', 'pcs'] as const;
export type PacemakerConfigFormat = (typeof PACEMAKER_CONFIG_FORMATS)[number];

interface ConfigCliOptions {
  topology?: StackTopology;
  format: PacemakerConfigFormat;
  json?: boolean;
}

/** Adds `config` to the `pacemaker` command group; returns the group. */
export function addPacemakerConfigCommand(pacemaker: Command, context: CliContext): Command {
  const config = new Command('config')
    .description("print the stack's Pacemaker configuration (fencing, DRBD clone, file system or guests, constraints) generated from the cluster file")
    .addOption(new Option('--topology <topology>', 'service: a service on DRBD; guests: guests on clustered LVM on dual-primary DRBD (default: the file\'s pacemaker.topology, else service)').choices(STACK_TOPOLOGIES))
    .addOption(new Option('--format <format>', 'cib: a CIB document for crm_verify -x / cibadmin --replace; crm: a crm shell script (crm -f); pcs: pcs commands').choices(PACEMAKER_CONFIG_FORMATS).default('cib'))
    .option('--json', 'print {topology, resource, format, config, output} as JSON (pcs output as argv arrays)')
    .addHelpText(
      'after',
      `
Refusals (exit 4, rule named): stonith disabled, no fence device, a node no
device fences, DRBD fencing other than resource-and-stonith (resource-only
lost writes in the lab), wrong crm fence handlers for the DRBD generation,
dual-primary without allow-two-primaries/protocol C, LVM-activate before
lvmlockd, lvmlockd before dlm, a Filesystem not with the Promoted role.
See docs/pacemaker-config.md.

Examples:
  hastor pacemaker config --format crm > stack.crm && crm -f stack.crm
  hastor pacemaker config --topology guests --format pcs
  hastor --cluster ./lab.json pacemaker config > cib.xml && crm_verify -x cib.xml -V`,
    )
    .action(async (options: ConfigCliOptions) => {
      const loaded = await context.loadCluster();
      let generated;
      try {
        generated = generateStackPacemakerConfig(loaded.file, options.topology === undefined ? {} : { topology: options.topology });
      } catch (error) {
        // What the file lacks or gets wrong is the user's input: exit 3.
        if (error instanceof ConfigError) throw new BadInputError(error.message, { cause: error });
        throw error;
      }
      const { config } = generated;
      const text = options.format === 'cib' ? renderCib(config) : options.format === 'crm' ? renderCrmScript(config) : renderPcsScript(config);
      if (options.json) {
        const output = options.format === 'pcs' ? renderPcsCommands(config) : text;
        context.out(`${JSON.stringify({ topology: generated.topology, resource: generated.resource, format: options.format, config, output }, null, 2)}\n`);
      } else {
        context.out(text);
      }
    });
  pacemaker.addCommand(config);
  return pacemaker;
}
