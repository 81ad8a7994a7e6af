/**
 * `hastor pacemaker apply`: the stack's Pacemaker configuration from the
 * cluster file, written to the live CIB on one node as one patch of what
 * differs (nothing when nothing does), then checked with crm_verify.
 */
import { Command, Option } from 'commander';
import {
  ConfigError,
  STACK_TOPOLOGIES,
  applyStackPacemakerConfig,
  formatCibVersion,
  type AppliedStack,
  type PacemakerChange,
  type StackTopology,
} from '../../index.js';
import { BadInputError, SilentExit, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { colorsFor, escapeControls, type Colors } from '../format.js';

interface ApplyCliOptions {
  topology?: StackTopology;
  node?: string;
  dryRun?: boolean;
  prune?: boolean;
  json?: boolean;
}

/** Fence agents' secrets stay off the terminal (the JSON has them, as `pacemaker config` does). */
const SECRET = /pass(word|wd)?|secret/i;
const SIGN: Record<PacemakerChange['action'], string> = { add: '+', replace: '~', delete: '-' };

function changeLines(c: PacemakerChange, colors: Colors): string[] {
  const e = (t: string) => escapeControls(t);
  const sign = c.action === 'add' ? colors.green(SIGN.add) : c.action === 'delete' ? colors.red(SIGN.delete) : colors.yellow(SIGN.replace);
  const show = (name: string, v: string | null) => (v === null ? '(unset)' : SECRET.test(name) ? '(hidden)' : e(v));
  if (c.kind === 'property') {
    const a = c.attributes[0];
    return [`  ${sign} property ${e(c.id)}${a === undefined ? '' : c.action === 'add' ? `=${show(c.id, a.after)}` : `: ${show(c.id, a.before)} → ${show(c.id, a.after)}`}`];
  }
  if (c.kind === 'record') return [`  ${sign} record ${e(c.id)} (the objects hastor applied, for the next run)`];
  const head = `  ${sign} ${c.kind} ${e(c.id)} (${e(c.element)})`;
  if (c.action !== 'replace') return [head];
  return [head, ...c.attributes.map((a) => `      ${e(a.name)}: ${show(a.name, a.before)} → ${show(a.name, a.after)}`)];
}

export function renderPacemakerApply(applied: AppliedStack, colors: Colors): string {
  const r = applied.result;
  const e = (t: string) => escapeControls(t);
  const n = r.changes.length;
  const count = `${n} change${n === 1 ? '' : 's'}`;
  const lines = [
    r.already
      ? `already applied on ${e(r.node)} (CIB ${formatCibVersion(r.before)}): the ${applied.topology} stack on ${e(applied.resource)} is in place, nothing to change`
      : r.dryRun
        ? `dry run on ${e(r.node)} (CIB ${formatCibVersion(r.before)}): ${count} to apply; nothing written`
        : `applied on ${e(r.node)} in one CIB update (${formatCibVersion(r.before)} → ${r.after === null ? '?' : formatCibVersion(r.after)}): ${count}`,
    ...r.changes.flatMap((c) => changeLines(c, colors)),
  ];
  for (const s of r.stale.filter((x) => !x.deleted)) {
    lines.push(`  ${colors.yellow('stale')}: ${s.kind} ${e(s.id)} (${e(s.element)}) was applied by hastor but is not in the configuration any more; kept (--prune deletes it)`);
  }
  if (r.foreign.length > 0) lines.push(`  left alone (not hastor's): ${r.foreign.map(e).join(', ')}`);
  if (r.attempts > 1) lines.push(`  the status changed before the write; planned again (${r.attempts} reads)`);
  if (r.verify !== null) {
    lines.push(r.verify.ok ? `crm_verify --live-check: ${colors.green('ok')}` : `crm_verify --live-check: ${colors.red(`failed (exit ${r.verify.exitCode})`)}`);
    if (r.verify.output !== '') lines.push(...r.verify.output.split('\n').map((l) => `  ${escapeControls(l)}`));
  }
  return lines.join('\n');
}

export function applyCommand(context: CliContext): Command {
  return new Command('apply')
    .description("apply the stack's Pacemaker configuration (from the cluster file) to the live cluster: one CIB update of what differs, nothing when nothing does")
    .addOption(new Option('--topology <topology>', "service or guests (default: the file's pacemaker.topology, else service)").choices(STACK_TOPOLOGIES))
    .option('--node <node>', "run it on this node of the cluster file (default: the file's local node, else its first)")
    .option('--dry-run', 'print what would change, write nothing')
    .option('--prune', 'also delete what hastor applied before and the configuration no longer has (default: report it, keep it)')
    .option('--json', 'print the result as JSON (pacemakerApplyResultSchema, plus topology and resource)')
    .addHelpText(
      'after',
      `
Only hastor's objects are touched: the properties it sets, its resources and
constraints by id (recorded in the property set hastor-applied). Others, such
as DRBD's drbd-fence-by-handler constraints, are left alone. An object of
hastor's that differs is replaced whole in one cibadmin --patch, which
Pacemaker applies only to the CIB version read: if the configuration changed
meanwhile, nothing is written (exit 8). Refused (exit 4): the configuration's
rules (see pacemaker config), the cluster in transition, a stonith device with
a failed monitor, stonith-enabled=false left in place, an open dual-primary
window, objects it did not generate in the way. crm_verify --live-check runs
after the write; its failure is exit 6. See docs/pacemaker-config.md.

Examples:
  hastor pacemaker apply --dry-run          what would change
  hastor pacemaker apply                    apply it (again: "already applied")
  hastor pacemaker apply --node node2 --json`,
    )
    .action(async (options: ApplyCliOptions) => {
      const loaded = await context.loadCluster();
      const nodes = loaded.file.nodes;
      const node = options.node ?? (nodes.find((n) => n.local === true) ?? nodes[0])?.name;
      if (node === undefined || !loaded.cluster.has(node)) context.usageError(`no node ${JSON.stringify(node ?? '')} in ${loaded.file.path} (it has ${loaded.cluster.names.join(', ')})`);
      let applied: AppliedStack;
      try {
        applied = await applyStackPacemakerConfig(loaded.file, loaded.cluster.node(node).executor, {
          ...(options.topology === undefined ? {} : { topology: options.topology }),
          dryRun: options.dryRun === true,
          prune: options.prune === true,
        });
      } catch (error) {
        // What the file lacks or gets wrong is the user's input: exit 3, as pacemaker config.
        if (error instanceof ConfigError) throw new BadInputError(error.message, { cause: error });
        throw error;
      }
      if (options.json) context.out(`${JSON.stringify({ topology: applied.topology, resource: applied.resource, ...applied.result }, null, 2)}\n`);
      else context.out(`${renderPacemakerApply(applied, colorsFor(context.stdout, context.env))}\n`);
      if (applied.result.verify?.ok === false) {
        context.stderr.write(`hastor: the configuration was applied, but crm_verify --live-check on ${escapeControls(applied.result.node)} reports errors (above); fix them before relying on the cluster\n`);
        throw new SilentExit(EXIT.commandFailed);
      }
    });
}
