/**
 * The nodes of a cluster, each reached through its Executor, and the way a
 * step runs on them: all at once, or one after another in the order the
 * caller gives (node order by default), with every node's outcome collected.
 *
 * A node's name is its `uname -n`: DRBD picks its `on <host>` section by it,
 * so `Cluster.connect` checks each executor really reaches the node it is
 * named for before anything runs there.
 */
import { ConfigError, HastorError, messageOnNode, messageWithoutNode } from '../errors.js';
import { isValidHostName } from '../drbd/config/index.js';
import { DrbdNode, type DrbdNodeOptions } from '../drbd/lifecycle/index.js';
import type { Executor } from '../sys/executor.js';

export interface ClusterNode {
  /** As `uname -n` prints it on that node. */
  name: string;
  executor: Executor;
}

export type NodeOutcome<T> = { node: string; ok: true; value: T } | { node: string; ok: false; error: unknown };

export interface StepOptions {
  /** `parallel` (default) runs every node at once; `sequential` runs them in `nodes` order. */
  order?: 'parallel' | 'sequential';
  /** Which nodes, in which order (default: all, in cluster order). */
  nodes?: readonly string[];
  /** Sequential only: stop at the first failure (default true); later nodes are then not run and not listed. */
  stopOnError?: boolean;
}

/** A step failed on some nodes; `outcomes` has every node's result or error. */
export class ClusterStepError extends HastorError {
  readonly outcomes: readonly NodeOutcome<unknown>[];

  constructor(what: string, outcomes: readonly NodeOutcome<unknown>[]) {
    const failed = outcomes.filter((o): o is { node: string; ok: false; error: unknown } => !o.ok);
    super(
      'E_CLUSTER_STEP',
      `${what} failed on ${failed.map((f) => f.node).join(', ')}: ${failed.map((f) => messageOnNode(f.node, f.error)).join('; ')}`,
      { cause: failed[0]?.error },
    );
    this.outcomes = outcomes;
  }
}

export interface ClusterOptions {
  drbd?: DrbdNodeOptions;
}

export class Cluster {
  readonly nodes: readonly ClusterNode[];
  private readonly drbdNodes = new Map<string, DrbdNode>();
  private readonly drbdOptions: DrbdNodeOptions;

  /** No remote check; use `Cluster.connect` to verify each node's name first. */
  constructor(nodes: readonly ClusterNode[], options: ClusterOptions = {}) {
    const issues: string[] = [];
    if (nodes.length === 0) issues.push('a cluster needs at least one node');
    const seen = new Set<string>();
    for (const n of nodes) {
      if (!isValidHostName(n.name)) issues.push(`node name ${JSON.stringify(n.name)} is not a host name as uname -n prints it`);
      if (seen.has(n.name)) issues.push(`node ${n.name} is listed twice`);
      seen.add(n.name);
    }
    if (issues.length > 0) throw new ConfigError('invalid cluster', issues);
    this.nodes = [...nodes];
    this.drbdOptions = options.drbd ?? {};
  }

  /** Builds the cluster after checking that every executor's `uname -n` is the node's name. */
  static async connect(nodes: readonly ClusterNode[], options: ClusterOptions & { timeoutMs?: number } = {}): Promise<Cluster> {
    const cluster = new Cluster(nodes, options);
    await cluster.verifyNames(options.timeoutMs);
    return cluster;
  }

  get names(): string[] {
    return this.nodes.map((n) => n.name);
  }

  has(name: string): boolean {
    return this.nodes.some((n) => n.name === name);
  }

  node(name: string): ClusterNode {
    const found = this.nodes.find((n) => n.name === name);
    if (found === undefined) throw new ConfigError(`no node ${JSON.stringify(name)} in the cluster`, [`the cluster has ${this.names.join(', ')}`]);
    return found;
  }

  /** DRBD on one node (one instance per node, so versions are read once). */
  drbd(name: string): DrbdNode {
    let drbd = this.drbdNodes.get(name);
    if (drbd === undefined) {
      drbd = new DrbdNode(this.node(name).executor, this.drbdOptions);
      this.drbdNodes.set(name, drbd);
    }
    return drbd;
  }

  /** Runs `uname -n` on every node; a ConfigError lists each executor that reaches another host. */
  async verifyNames(timeoutMs = 20_000): Promise<void> {
    const outcomes = await this.each((n) => n.executor.run(['uname', '-n'], { timeoutMs }).then((r) => r.stdout.trim()));
    const issues: string[] = [];
    for (const o of outcomes) {
      if (!o.ok) issues.push(`${o.node}: uname -n failed: ${messageWithoutNode(o.node, o.error)}`);
      else if (o.value !== o.node) issues.push(`${o.node}: the executor reaches a host whose uname -n is ${JSON.stringify(o.value)}`);
    }
    if (issues.length > 0) throw new ConfigError('cluster nodes do not match their executors; fix the node names or the executors', issues);
  }

  /** Runs `step` on the nodes and returns every outcome, in the order the nodes were given. */
  async each<T>(step: (node: ClusterNode) => Promise<T>, options: StepOptions = {}): Promise<NodeOutcome<T>[]> {
    const targets = (options.nodes ?? this.names).map((name) => this.node(name));
    const run = async (node: ClusterNode): Promise<NodeOutcome<T>> => {
      try {
        return { node: node.name, ok: true, value: await step(node) };
      } catch (error) {
        return { node: node.name, ok: false, error };
      }
    };
    if ((options.order ?? 'parallel') === 'parallel') return Promise.all(targets.map(run));
    const outcomes: NodeOutcome<T>[] = [];
    for (const node of targets) {
      const outcome = await run(node);
      outcomes.push(outcome);
      if (!outcome.ok && (options.stopOnError ?? true)) break;
    }
    return outcomes;
  }

  /**
   * Like `each`, but returns the values by node name. When one node failed its
   * own error is thrown (it keeps its class; command errors name the node);
   * when several failed, a ClusterStepError with every outcome.
   */
  async all<T>(what: string, step: (node: ClusterNode) => Promise<T>, options: StepOptions = {}): Promise<Map<string, T>> {
    const outcomes = await this.each(step, options);
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length === 1) throw (failed[0] as { error: unknown }).error;
    if (failed.length > 1) throw new ClusterStepError(what, outcomes);
    return new Map(outcomes.map((o) => [o.node, (o as { value: T }).value]));
  }
}
