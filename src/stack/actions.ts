/**
 * What a lifecycle operation does, as data: one action per command (or file
 * write) on one node, with the reason it is needed. Operations plan their
 * actions from the state they read, then run them in order; `dryRun`
 * returns the plan without running anything.
 */
import { HastorError } from '../errors.js';
import type { ResourceStatus } from '../drbd/status-model.js';
import type { Cluster } from './cluster.js';

export interface FileWrite {
  path: string;
  content: string;
  /** Octal mode, e.g. 0o600 when the file holds a shared secret. */
  mode: number;
}

export interface Action {
  node: string;
  /** The command run as root on the node; for a file write `['write-file', path]` (the executor writes atomically). */
  argv: readonly string[];
  reason: string;
  /** Set for a file write. */
  file?: FileWrite;
}

export interface OperationResult {
  resource: string;
  operation: string;
  dryRun: boolean;
  /** Run in this order (or, with dryRun, what would run). Empty when nothing was missing. */
  actions: Action[];
  /** Each node's view of the resource after the operation settled (before it, with dryRun); null where it is not up. */
  state: Record<string, ResourceStatus | null>;
}

/** An action failed; `done` lists the actions that ran before it, so the operation can be resumed. */
export class ActionError extends HastorError {
  readonly done: readonly Action[];
  readonly failed: Action;

  constructor(operation: string, done: readonly Action[], failed: Action, cause: unknown) {
    const why = (cause as Error)?.message ?? String(cause);
    super(
      'E_ACTION',
      `${operation}: ${failed.node}: ${failed.argv.join(' ')} (${failed.reason}) failed after ${done.length} completed action${done.length === 1 ? '' : 's'}: ${why}`,
      { cause },
    );
    this.done = done;
    this.failed = failed;
  }
}

export function writeAction(node: string, file: FileWrite, reason: string): Action {
  return { node, argv: ['write-file', file.path], reason, file };
}

/** Runs one action on its node (root). */
export async function performAction(cluster: Cluster, action: Action, timeoutMs?: number): Promise<void> {
  const { executor } = cluster.node(action.node);
  if (action.file !== undefined) {
    await executor.writeFile(action.file.path, action.file.content, { root: true, mode: action.file.mode });
    return;
  }
  await executor.run(action.argv, { root: true, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

/** Runs actions one after another; on failure throws ActionError naming what already ran. */
export async function performActions(cluster: Cluster, operation: string, actions: readonly Action[], done: Action[], timeoutMs?: number): Promise<void> {
  for (const action of actions) {
    try {
      await performAction(cluster, action, timeoutMs);
    } catch (error) {
      throw new ActionError(operation, [...done], action, error);
    }
    done.push(action);
  }
}

/** The resource is not in a state the operation can start from (not up, nobody Primary …); the message says what to do first. */
export class ResourceStateError extends HastorError {
  readonly resource: string;

  constructor(resource: string, message: string) {
    super('E_RESOURCE_STATE', message);
    this.resource = resource;
  }
}
