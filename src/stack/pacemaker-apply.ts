/**
 * The stack's Pacemaker configuration applied to the live cluster: generated
 * from the cluster file (every rule of generateStackPacemakerConfig), then
 * applyPacemakerConfig on one node with the DRBD facts the rules were given.
 */
import { applyPacemakerConfig, type ApplyPacemakerOptions, type PacemakerApplyResult } from '../pacemaker/apply.js';
import type { Executor } from '../sys/executor.js';
import type { ClusterFile } from './cluster-file.js';
import { generateStackPacemakerConfig, type GeneratedStack, type StackTopology } from './pacemaker-config.js';

export interface ApplyStackOptions extends Omit<ApplyPacemakerOptions, 'check'> {
  topology?: StackTopology;
}

export interface AppliedStack {
  topology: StackTopology;
  resource: string;
  result: PacemakerApplyResult;
}

/** Generates (refusing as `pacemaker config` does, in apply's words) and applies on `executor`'s node. */
export async function applyStackPacemakerConfig(file: ClusterFile, executor: Executor, options: ApplyStackOptions = {}): Promise<AppliedStack> {
  const { topology, ...apply } = options;
  const generated: GeneratedStack = generateStackPacemakerConfig(file, { ...(topology === undefined ? {} : { topology }), doing: 'apply' });
  const result = await applyPacemakerConfig(executor, generated.config, { ...apply, check: { drbd: generated.drbd } });
  return { topology: generated.topology, resource: generated.resource, result };
}
