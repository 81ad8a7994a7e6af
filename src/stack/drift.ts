/**
 * Drift between the nodes of one resource: the configuration each node's
 * drbdadm reads (`drbdadm dump <res>`, imported into the definition model,
 * so formatting and order do not count), the loaded drbd kernel module and
 * drbd-utils. Every difference is reported with each node's value.
 */
import { diffResources, type ResourceDefinition } from '../drbd/config/index.js';
import { assertResourceName, type DrbdVersions } from '../drbd/lifecycle/index.js';
import type { Cluster } from './cluster.js';
import { messageWithoutNode } from '../errors.js';

export type DriftKind = 'config' | 'config-unreadable' | 'kernel-module' | 'drbd-utils';

export interface DriftItem {
  kind: DriftKind;
  /** For `config`: the field that differs (`net.pingInt`, `nodes[name=node2].address.port`). */
  path?: string;
  /** Each node's value (undefined where the node lacks the field). */
  values: Record<string, unknown>;
  message: string;
}

export interface NodeDriftInfo {
  node: string;
  kernel: string | null;
  utils: string | null;
  /** The imported configuration, or null with `error` when it could not be read. */
  config: ResourceDefinition | null;
  error?: string;
}

export interface DriftReport {
  resource: string;
  nodes: NodeDriftInfo[];
  differences: DriftItem[];
  drifted: boolean;
}

const show = (v: unknown): string => (v === undefined ? '(unset)' : typeof v === 'bigint' ? v.toString() : JSON.stringify(v));

/** Compares every node of `resource` (or `options.nodes`) with the first one. */
export async function detectDrift(cluster: Cluster, resource: string, options: { nodes?: readonly string[] } = {}): Promise<DriftReport> {
  const name = assertResourceName(resource);
  const nodes = options.nodes ?? cluster.names;
  const outcomes = await cluster.each(
    async (n) => {
      const drbd = cluster.drbd(n.name);
      const versions: DrbdVersions = await drbd.versions(true);
      try {
        return { versions, config: await drbd.importConfig(name), error: undefined };
      } catch (error) {
        return { versions, config: null, error: messageWithoutNode(n.name, error) };
      }
    },
    { nodes },
  );
  const failed = outcomes.find((o) => !o.ok);
  if (failed !== undefined && !failed.ok) throw failed.error;
  const infos: NodeDriftInfo[] = outcomes.map((o) => {
    const v = (o as { value: { versions: DrbdVersions; config: ResourceDefinition | null; error: string | undefined } }).value;
    return { node: o.node, kernel: v.versions.kernel, utils: v.versions.utils, config: v.config, ...(v.error === undefined ? {} : { error: v.error }) };
  });

  const differences: DriftItem[] = [];
  const versionDrift = (kind: 'kernel-module' | 'drbd-utils', pick: (i: NodeDriftInfo) => string | null, what: string): void => {
    const values = Object.fromEntries(infos.map((i) => [i.node, pick(i)]));
    if (new Set(Object.values(values)).size > 1) {
      differences.push({ kind, values, message: `${what} differs: ${infos.map((i) => `${i.node} ${pick(i) ?? 'not loaded'}`).join(', ')}` });
    }
  };
  versionDrift('kernel-module', (i) => i.kernel, 'drbd kernel module');
  versionDrift('drbd-utils', (i) => i.utils, 'drbd-utils');

  for (const i of infos.filter((x) => x.config === null)) {
    differences.push({ kind: 'config-unreadable', values: { [i.node]: i.error }, message: `${i.node}: cannot import ${name}'s configuration: ${i.error}` });
  }
  const readable = infos.filter((i): i is NodeDriftInfo & { config: ResourceDefinition } => i.config !== null);
  const base = readable[0];
  if (base !== undefined) {
    const byPath = new Map<string, DriftItem>();
    for (const other of readable.slice(1)) {
      for (const d of diffResources(base.config, other.config)) {
        const item = byPath.get(d.path) ?? { kind: 'config' as const, path: d.path, values: { [base.node]: d.a }, message: '' };
        item.values[other.node] = d.b;
        byPath.set(d.path, item);
      }
    }
    for (const item of byPath.values()) {
      item.message = `configuration ${item.path} differs: ${Object.entries(item.values).map(([n, v]) => `${n} ${show(v)}`).join(', ')}`;
      differences.push(item);
    }
  }
  return { resource: name, nodes: infos, differences, drifted: differences.length > 0 };
}
