/**
 * How commands that change something run: plan first (the library's dryRun),
 * show the plan per node, stop there with --dry-run, refuse a destructive
 * plan without --yes, then run and show what ran and each node's state.
 */
import { describeState, type Action, type OperationResult } from '../index.js';
import { colorsFor, escapeControls, table } from './format.js';
import { UsageError, type CliContext } from './context.js';
import { operationJson } from './json-contract.js';

export interface ChangeOptions {
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
  override?: string[];
}

export function renderActions(actions: readonly Action[]): string {
  if (actions.length === 0) return '  nothing to do';
  return table(
    ['NODE', 'COMMAND', 'WHY'],
    actions.map((a) => [a.node, a.file === undefined ? a.argv.join(' ') : `write ${a.file.path} (mode 0${a.file.mode.toString(8)})`, a.reason].map((cell) => escapeControls(cell))),
  )
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

export function renderStates(state: OperationResult['state']): string {
  return Object.entries(state)
    .map(([node, s]) => `  ${escapeControls(`${node}: ${describeState(s)}`)}`)
    .join('\n');
}

/** Collects repeated --override values. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * Runs `operation` as a plan, prints it, and unless --dry-run runs it for real.
 * `destructive` names what is lost; such a plan needs --yes.
 */
export async function runChange<R extends OperationResult>(
  context: CliContext,
  title: string,
  options: ChangeOptions,
  operation: (dryRun: boolean) => Promise<R>,
  destructive?: string,
): Promise<R> {
  const colors = colorsFor(context.stdout, context.env);
  const plan = await operation(true);
  if (!options.json) context.out(`${colors.bold(title)}: ${options.dryRun ? 'would run' : 'will run'}\n${renderActions(plan.actions)}\n`);
  if (options.dryRun) {
    if (options.json) context.out(`${JSON.stringify(operationJson(plan), null, 2)}\n`);
    else context.out(`dry run: nothing was changed\n${renderStates(plan.state)}\n`);
    return plan;
  }
  if (destructive !== undefined && plan.actions.length > 0 && !options.yes) {
    throw new UsageError(`${title} ${destructive}; run it again with --yes to go ahead (or --dry-run to only see the plan)`);
  }
  const result = await operation(false);
  if (options.json) {
    context.out(`${JSON.stringify(operationJson(result), null, 2)}\n`);
  } else {
    const n = result.actions.length;
    context.out(`${colors.green('done')}: ${n} action${n === 1 ? '' : 's'} ran\n${renderStates(result.state)}\n`);
  }
  return result;
}
