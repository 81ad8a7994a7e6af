/** A resource of the cluster file, ready to operate on: shared by `resource` and `dual-primary`. */
import { hostname } from 'node:os';
import { DrbdResource, LocalExecutor, lvmUpperLayerCheck, type Executor, type LoadedCluster } from '../../index.js';
import { BadInputError, type CliContext } from '../context.js';

export interface ResourceTarget {
  loaded: LoadedCluster;
  resource: DrbdResource;
}

/**
 * Loads the cluster file, finds the resource, and checks that every node of
 * it answers `uname -n` with its own name before anything runs there.
 */
export async function resourceTarget(context: CliContext, name: string): Promise<ResourceTarget> {
  const loaded = await context.loadCluster();
  const definition = loaded.resources.get(name);
  if (definition === undefined) {
    const known = [...loaded.resources.keys()];
    context.usageError(`no resource ${JSON.stringify(name)} in ${loaded.file.path} (${known.length === 0 ? 'it defines none' : `it has ${known.join(', ')}`})`);
  }
  const resource = new DrbdResource(loaded.cluster, definition, { upperLayer: lvmUpperLayerCheck() });
  const outcomes = await loaded.cluster.each((n) => n.executor.run(['uname', '-n'], { timeoutMs: 20_000 }).then((r) => r.stdout.trim()), { nodes: resource.nodeNames });
  for (const o of outcomes) {
    // Unreachable: the node's own error (a CommandError, exit 6).
    if (!o.ok) throw o.error;
  }
  const wrong = outcomes.filter((o) => o.ok && o.value !== o.node);
  if (wrong.length > 0) {
    throw new BadInputError(
      `${loaded.file.path}: ${wrong.map((o) => `the node entry ${o.node} reaches a host whose uname -n is ${JSON.stringify((o as { value: string }).value)}`).join('; ')}; DRBD picks its section by uname -n, so fix the name or the address`,
    );
  }
  return { loaded, resource };
}

/** --node, else the cluster file's local node if it belongs to the resource. */
export function nodeOrLocal(context: CliContext, target: ResourceTarget, node: string | undefined, what: string): string {
  if (node !== undefined) return node;
  const local = target.loaded.file.nodes.find((n) => n.local === true && target.resource.nodeNames.includes(n.name));
  if (local === undefined) context.usageError(`${what} needs --node (one of ${target.resource.nodeNames.join(', ')}); no local node of ${target.resource.name} in the cluster file`);
  return local.name;
}

/** The node's executor: --node from the cluster file, else this machine (no cluster file needed). */
export async function nodeExecutor(context: CliContext, node: string | undefined): Promise<Executor> {
  if (node === undefined) return new LocalExecutor(hostname());
  const loaded = await context.loadCluster();
  if (!loaded.cluster.has(node)) context.usageError(`no node ${JSON.stringify(node)} in ${loaded.file.path} (it has ${loaded.cluster.names.join(', ')})`);
  return loaded.cluster.node(node).executor;
}
