/** `hastor doctor`: drift and every safety rule, against the live cluster. Reads only. */
import { Command } from 'commander';
import { lvmUpperLayerCheck, runDoctor, type DoctorFinding } from '../../index.js';
import { SilentExit, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { colorsFor, escapeControls, type Colors } from '../format.js';
import { collect } from '../operation-output.js';

interface DoctorCliOptions {
  json?: boolean;
  resource?: string[];
}

/** `SEVERITY rule-id node: message — fix: …`; `cluster` for findings about a definition or the whole cluster. */
export function findingLine(f: DoctorFinding, colors: Colors): string {
  const severity = f.severity.toUpperCase();
  const shown = f.severity === 'error' ? colors.red(severity) : f.severity === 'warning' ? colors.yellow(severity) : severity;
  return `${shown} ${escapeControls(`${f.rule} ${f.node ?? 'cluster'}: ${f.message} — fix: ${f.fix}`)}`;
}

export function doctorCommand(context: CliContext): Command {
  return new Command('doctor')
    .description('check the live cluster: nodes reachable, drift between nodes, every config and runtime safety rule')
    .option('--json', 'print the findings as JSON (doctorReportSchema)')
    .option('--resource <name>', 'only this resource (repeatable; default every resource of the cluster file)', collect)
    .addHelpText(
      'after',
      `
One line per finding: SEVERITY rule-id node: message — fix: what to do.
Exit code 0 when no finding is an error, 4 otherwise.

Examples:
  hastor doctor
  hastor doctor --resource r0 --json | jq '.findings[] | select(.severity == "error")'
  hastor --cluster ./lab-cluster.json doctor`,
    )
    .action(async (options: DoctorCliOptions) => {
      const loaded = await context.loadCluster();
      const unknown = (options.resource ?? []).filter((r) => !loaded.resources.has(r));
      if (unknown.length > 0) context.usageError(`no resource ${unknown.join(', ')} in ${loaded.file.path}`);
      const report = await runDoctor(loaded.cluster, loaded.resources, {
        upperLayer: lvmUpperLayerCheck(),
        ...(options.resource === undefined ? {} : { resources: options.resource }),
      });
      if (options.json) {
        context.out(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const colors = colorsFor(context.stdout, context.env);
        for (const f of report.findings) context.out(`${findingLine(f, colors)}\n`);
        const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
        context.out(
          `doctor: ${plural(report.errors, 'error')}, ${plural(report.warnings, 'warning')} (${plural(report.nodes.length, 'node')}, ${plural(report.resources.length, 'resource')})\n`,
        );
      }
      if (report.errors > 0) throw new SilentExit(EXIT.refusedBySafetyRule);
    });
}
