/**
 * `hastor pacemaker …`: the cluster manager as the stack sees it. `status`
 * reads crm_mon and the CIB (live, or saved files of a support bundle).
 * `pacemakerCommand(context)` returns the group so siblings can be added.
 */
import { Command } from 'commander';
import {
  buildPacemakerView,
  parseCib,
  parseCrmMon,
  readCaptureFile,
  readPacemakerView,
  type PacemakerView,
} from '../../index.js';
import type { CliContext } from '../context.js';
import { nodeExecutor } from './resource-context.js';
import { maintenanceCommand } from './pacemaker-maintenance.js';
import { addPacemakerConfigCommand } from './pacemaker-config.js';
import { applyCommand } from './pacemaker-apply.js';
import { colorsFor, escapeControls, table, type Colors } from '../format.js';

interface PacemakerStatusOptions {
  json?: boolean;
  fromCrmMon?: string;
  fromCib?: string;
  node?: string;
}

const list = (names: readonly string[] | null): string => (names === null ? '?' : names.length === 0 ? '-' : names.join(','));

export function renderPacemakerStatus(view: PacemakerView, colors: Colors): string {
  const e = (t: string) => escapeControls(t);
  const lines: string[] = [];
  const sources = [view.sources.crmMon ? 'crm_mon' : null, view.sources.cib ? 'CIB' : null].filter((s) => s !== null).join(' + ');
  lines.push(
    `cluster: stack ${e(view.stack ?? '?')}, DC ${e(view.dc ?? 'none')}, quorum ${view.quorum === null ? '?' : view.quorum ? 'yes' : colors.red('no')}, stonith-enabled ${view.properties.stonithEnabled === null ? '?' : view.properties.stonithEnabled ? 'true' : colors.red('false')}, maintenance-mode ${view.properties.maintenanceMode === null ? '?' : view.properties.maintenanceMode ? colors.yellow('true') : 'false'}${view.properties.priorityFencingDelayMs === null ? '' : `, priority-fencing-delay ${view.properties.priorityFencingDelayMs} ms`} (from ${sources})`,
  );
  lines.push('', table(['NODE', 'ID', 'STATE', 'DC', 'RESOURCES'], view.nodes.map((n) => [
    e(n.name),
    e(n.id ?? '-'),
    n.state === 'online' ? colors.green(n.state) : n.state === 'offline' || n.state === 'unclean' ? colors.red(n.state) : colors.yellow(n.state),
    n.isDc === true ? 'yes' : '',
    n.resourcesRunning === null ? '?' : String(n.resourcesRunning),
  ])));
  lines.push('');
  if (view.drbdClones.length === 0) lines.push('no DRBD clone (ocf:linbit:drbd) configured');
  else {
    lines.push(table(['DRBD', 'CLONE', 'PROMOTED-MAX', 'PROMOTED ON', 'RUNNING ON', 'FENCE CONSTRAINT'], view.drbdClones.map((c) => [
      e(c.drbdResource ?? '?'),
      e(c.cloneId),
      c.promotedMax === null ? '?' : String(c.promotedMax),
      c.promotedOn !== null && c.promotedOn.length === 0 ? colors.yellow('-') : e(list(c.promotedOn)),
      e(list(c.runningOn)),
      c.fenceConstraints.length === 0 ? '-' : colors.yellow(e(c.fenceConstraints.join(','))),
    ])));
  }
  lines.push('');
  if (view.stonithDevices.length === 0) lines.push(colors.red('no stonith device'));
  else lines.push(table(['STONITH', 'AGENT', 'STARTED ON'], view.stonithDevices.map((d) => [e(d.id), e(d.agent), e(list(d.startedOn))])));
  if (view.constraints !== null) {
    const fence = view.constraints.filter((c) => c.drbdFence !== null);
    lines.push('', `constraints: ${view.constraints.length}${fence.length === 0 ? '' : `, ${colors.yellow(`${fence.length} DRBD fence constraint${fence.length === 1 ? '' : 's'}`)}`}`);
    for (const c of fence) {
      const f = c.drbdFence!;
      lines.push(`  ${colors.yellow(e(c.id))}: ${e(f.cloneId ?? '?')} may be Promoted only on ${e(f.allowedNode ?? '?')}${f.excludedNodes.length === 0 ? '' : ` (not on ${e(f.excludedNodes.join(', '))})`}`);
    }
  }
  if (view.failedActions !== null && view.failedActions.length > 0) {
    lines.push('', table(['FAILED ACTION', 'NODE', 'EXIT', 'STATUS', 'REASON', 'WHEN'], view.failedActions.map((f) => [
      colors.red(e(f.opKey)),
      e(f.node),
      e(`${f.exitCode} (${f.exitStatus})`),
      e(f.status),
      e(f.exitReason || '-'),
      e(f.lastRcChange ?? '-'),
    ])));
  }
  if (view.fenceHistory !== null && view.fenceHistory.length > 0) {
    lines.push('', table(['FENCED', 'ACTION', 'STATUS', 'BY', 'ORIGIN', 'COMPLETED'], view.fenceHistory.map((f) => [
      e(f.target),
      e(f.action),
      f.status === 'success' ? f.status : colors.red(f.status),
      e(f.delegate ?? '-'),
      e(f.origin),
      e(f.completed ?? '-'),
    ])));
  }
  if (view.warnings.length > 0) lines.push('', ...view.warnings.map((w) => `${colors.yellow('warning')}: ${e(w)}`));
  return lines.join('\n');
}


function statusCommand(context: CliContext): Command {
  return new Command('status')
    .description('nodes, DRBD clones, stonith devices, constraints and failed actions as Pacemaker sees them')
    .option('--json', 'print the view as JSON (pacemakerViewSchema, see docs/pacemaker.md)')
    .option('--from-crm-mon <file>', 'parse a saved `crm_mon -1 --output-as=xml` instead of the live cluster (- reads stdin)')
    .option('--from-cib <file>', 'parse a saved `cibadmin -Q` (- reads stdin); with --from-crm-mon, both are combined')
    .option('--node <node>', 'ask this node of the cluster file (default: this machine)')
    .addHelpText(
      'after',
      `
Examples:
  hastor pacemaker status                                  live: crm_mon and cibadmin -Q on this machine
  hastor pacemaker status --node node2 --json              node2's view for a script
  hastor pacemaker status --from-crm-mon crm_mon.xml --from-cib cib.xml   a support bundle`,
    )
    .action(async (options: PacemakerStatusOptions) => {
      if (options.fromCrmMon === '-' && options.fromCib === '-') context.usageError('only one of --from-crm-mon and --from-cib can read stdin (-)');
      const offline = options.fromCrmMon !== undefined || options.fromCib !== undefined;
      if (offline && options.node !== undefined) context.usageError('--node reads a live node; it cannot be combined with --from-crm-mon or --from-cib');
      let view: PacemakerView;
      if (offline) {
        const crmMon = options.fromCrmMon === undefined ? null : parseCrmMon(await readCaptureFile(options.fromCrmMon));
        const cib = options.fromCib === undefined ? null : parseCib(await readCaptureFile(options.fromCib));
        view = buildPacemakerView({ crmMon, cib });
      } else {
        view = await readPacemakerView(await nodeExecutor(context, options.node));
      }
      if (options.json) context.out(`${JSON.stringify(view, null, 2)}\n`);
      else context.out(`${renderPacemakerStatus(view, colorsFor(context.stdout, context.env))}\n`);
    });
}

/** The `pacemaker` command group; subcommands are added here (status now). */
export function pacemakerCommand(context: CliContext): Command {
  const group = new Command('pacemaker')
    .description('the cluster manager: its live state (status), hands off or on (maintenance), the configuration generated for the stack (config) and applied to the cluster (apply)')
    .addCommand(statusCommand(context))
    .addCommand(maintenanceCommand(context));
  return addPacemakerConfigCommand(group, context).addCommand(applyCommand(context));
}
