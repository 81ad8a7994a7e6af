/**
 * A check-up of a live cluster: every node reachable under its name, drift
 * between the nodes, each definition and each node's running configuration
 * against the config safety rules, and the live state of every resource
 * against the runtime rules that describe a standing state (dual-primary
 * without sync or a cluster-aware upper layer, a Primary without UpToDate
 * data, I/O suspended, StandAlone, stalled resync). Rules that guard a single
 * operation (create-md on a signature, delete of a Primary, …) are checked
 * when that operation runs, not here. Reads only; never changes anything.
 */
import { z } from 'zod';
import { checkResourceSafety, diffResources, type Finding, type ResourceDefinition } from '../drbd/config/index.js';
import { describeState, hasUpToDateData, isInSync, isPrimary, isResyncing, type MaybeStatus } from '../drbd/lifecycle/index.js';
import type { ResourceStatus } from '../drbd/status-model.js';
import type { Cluster } from './cluster.js';
import { detectDrift, type DriftReport } from './drift.js';
import type { UpperLayerCheck } from './upper-layer.js';
import { appendAll } from '../arrays.js';
import { messageWithoutNode } from '../errors.js';
import { readPacemakerOn } from './cluster-manager.js';
import { PACEMAKER_DOCTOR_RULES, pacemakerFindings } from './pacemaker-doctor.js';

export const DOCTOR_SEVERITIES = ['error', 'warning', 'info'] as const;
export type DoctorSeverity = (typeof DOCTOR_SEVERITIES)[number];

export const doctorFindingSchema = z.object({
  severity: z.enum(DOCTOR_SEVERITIES),
  /** A safety rule id (config or runtime) or one of the doctor's own (DOCTOR_RULES). */
  rule: z.string().min(1),
  /** The node it concerns; null for a finding about a definition or the whole cluster. */
  node: z.string().nullable(),
  resource: z.string().nullable(),
  message: z.string().min(1),
  fix: z.string().min(1),
});

export const doctorReportSchema = z.object({
  nodes: z.array(z.string()),
  resources: z.array(z.string()),
  findings: z.array(doctorFindingSchema),
  errors: z.number().int().nonnegative(),
  warnings: z.number().int().nonnegative(),
});

export type DoctorFinding = z.infer<typeof doctorFindingSchema>;
export type DoctorReport = z.infer<typeof doctorReportSchema>;

/** The doctor's own finding ids (besides the config and runtime safety rules). */
export const DOCTOR_RULES = [
  'node-unreachable',
  'node-name-mismatch',
  'drbd-module-not-loaded',
  'drift-kernel-module',
  'drift-drbd-utils',
  'drift-config',
  'config-unreadable',
  'config-differs-from-definition',
  'resource-not-up',
  'connection-standalone',
  'peer-not-connected',
  'disk-not-uptodate',
  'resync-stalled',
  'out-of-sync-blocks',
  'io-suspended',
  'pacemaker-unreadable',
  ...PACEMAKER_DOCTOR_RULES,
] as const;

export interface DoctorOptions {
  /** The layer-above check used when a resource is Primary on several nodes (e.g. lvmUpperLayerCheck()). */
  upperLayer?: UpperLayerCheck;
  /** Only these resources (default: every one given). */
  resources?: readonly string[];
  timeoutMs?: number;
  /** Read Pacemaker too, on the first reachable node where it runs (default true). */
  pacemaker?: boolean;
}

const message = (error: unknown): string => (error as Error)?.message ?? String(error);

function fromSafety(f: Finding, resource: string, node: string | null, where: string): DoctorFinding {
  return { severity: f.severity, rule: f.rule, node, resource, message: `${where}: ${f.message}`, fix: `${f.fix} (at ${f.path})` };
}

/** Findings about one node's live view of a resource. */
function stateFindings(resource: string, node: string, s: ResourceStatus): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const add = (severity: DoctorSeverity, rule: string, text: string, fix: string): void => {
    out.push({ severity, rule, node, resource, message: text, fix });
  };
  if (s.suspended !== null && s.suspended !== 'no') {
    add('error', 'io-suspended', `I/O on ${resource} is suspended (${s.suspended}): writers hang`, 'resolve the fencing or quorum that suspended it, then drbdadm resume-io');
  }
  for (const c of s.connections) {
    const peer = c.name ?? (c.peerNodeId === null ? 'the peer' : `peer ${c.peerNodeId}`);
    if (c.connectionState === 'StandAlone') {
      add(
        'error',
        'connection-standalone',
        `${resource} is StandAlone towards ${peer}: no replication, and DRBD will not reconnect by itself (after a split brain or a refused connection)`,
        `after a split brain: hastor resource resolve-split-brain ${resource} shows both sides and, with --victim NODE or --keep-most-changes, snapshots the victim's backing LV before discarding its writes; if there was none (no "Split-Brain" in the kernel log), hastor resource connect ${resource}`,
      );
    } else if (c.connectionState !== 'Connected') {
      add('warning', 'peer-not-connected', `${resource} is ${c.connectionState} towards ${peer}: writes are not replicated`, `check the peer and the replication link; hastor resource up ${resource} on the peer`);
    }
    for (const p of c.peerDevices) {
      if (p.sync?.stalled) add('warning', 'resync-stalled', `the resync of ${resource} with ${peer} is stalled at ${p.sync.percent}%`, 'check the link and the resync controller (c-min-rate, resync-rate); drbdadm resume-sync if paused');
      if (p.replicationState === 'Established' && p.outOfSyncBytes !== null && p.outOfSyncBytes > 0n) {
        add('warning', 'out-of-sync-blocks', `${resource} has ${p.outOfSyncBytes} bytes marked out of sync with ${peer} while connected (found by verify?)`, `resync them: hastor resource disconnect ${resource} then hastor resource connect ${resource}`);
      }
    }
  }
  const resyncing = isResyncing(s);
  for (const d of s.devices) {
    if (d.diskState === 'UpToDate' || (resyncing && (d.diskState === 'Inconsistent' || d.diskState === 'Outdated'))) continue;
    add('warning', 'disk-not-uptodate', `volume ${d.volume ?? d.minor} of ${resource} is ${d.diskState} and no resync is running`, d.diskState === 'Diskless' ? `attach the backing disk (hastor resource adjust ${resource})` : `connect to a peer with UpToDate data (hastor resource connect ${resource})`);
  }
  if (isPrimary(s) && !hasUpToDateData(s)) {
    add(
      resyncing ? 'warning' : 'error',
      'promote-without-uptodate',
      `${node} is Primary for ${resource} without UpToDate data (${describeState(s)})${resyncing ? ': reads go to the peer until the resync ends' : ''}`,
      'promote a node whose data is UpToDate, or let the resync finish',
    );
  }
  return out;
}

/** The dual-primary rules while more than one node is Primary. */
async function dualPrimaryFindings(
  cluster: Cluster,
  def: ResourceDefinition,
  states: Record<string, MaybeStatus>,
  primaries: string[],
  options: DoctorOptions,
  seen: Set<string>,
): Promise<DoctorFinding[]> {
  const out: DoctorFinding[] = [];
  const name = def.name;
  const where = `${name} is Primary on ${primaries.join(' and ')}`;
  const notInSync = Object.entries(states).filter(([, s]) => !isInSync(s));
  if (notInSync.length > 0) {
    out.push({
      severity: 'error',
      rule: 'dual-primary-requires-connected-in-sync',
      node: null,
      resource: name,
      message: `${where} while not every node is connected and in sync (${notInSync.map(([n, s]) => `${n}: ${describeState(s)}`).join('; ')}): the copies diverge`,
      fix: `stop the workload on one node and demote it (hastor dual-primary end ${name} --keep <node>), then reconnect`,
    });
  }
  if (options.upperLayer === undefined) {
    out.push({
      severity: 'warning',
      rule: 'dual-primary-requires-cluster-aware-upper-layer',
      node: null,
      resource: name,
      message: `${where} and no upper-layer check was given, so nothing shows the layer above coordinates writers`,
      fix: 'use a shared VG (lvmlockd) or a cluster file system on the device',
    });
  } else {
    try {
      const verdict = await options.upperLayer(def, cluster);
      if (!verdict.clusterAware) {
        out.push({
          severity: 'error',
          rule: 'dual-primary-requires-cluster-aware-upper-layer',
          node: null,
          resource: name,
          message: `${where} but the layer above is not cluster-aware: ${verdict.detail}`,
          fix: `end the window (hastor dual-primary end ${name} --keep <node>) or put a shared VG (lvmlockd) on the device`,
        });
      }
    } catch (error) {
      out.push({ severity: 'error', rule: 'dual-primary-requires-cluster-aware-upper-layer', node: null, resource: name, message: `${where} and the upper-layer check failed: ${message(error)}`, fix: 'make lvm readable on every node, then run doctor again' });
    }
  }
  // The definition's rules as the window runs them (allow-two-primaries on).
  for (const f of checkResourceSafety({ ...def, net: { ...def.net, allowTwoPrimaries: true } })) {
    const key = `${f.rule}|${f.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(fromSafety(f, name, null, `${where}, and its definition with allow-two-primaries`));
  }
  return out;
}

/**
 * Runs every check and returns the findings, errors first. Never throws for
 * what it finds on the nodes (an unreachable node is a finding).
 */
export async function runDoctor(
  cluster: Cluster,
  definitions: ReadonlyMap<string, ResourceDefinition> | readonly ResourceDefinition[],
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const all: ResourceDefinition[] = Array.isArray(definitions) ? [...(definitions as readonly ResourceDefinition[])] : [...(definitions as ReadonlyMap<string, ResourceDefinition>).values()];
  const defs = options.resources === undefined ? all : all.filter((d) => options.resources?.includes(d.name));
  const findings: DoctorFinding[] = [];

  // Reachable, and the executor reaches the node it is named for.
  const names = await cluster.each((n) => n.executor.run(['uname', '-n'], { timeoutMs: options.timeoutMs ?? 20_000 }).then((r) => r.stdout.trim()));
  const reachable = new Set<string>();
  for (const o of names) {
    if (!o.ok) findings.push({ severity: 'error', rule: 'node-unreachable', node: o.node, resource: null, message: `cannot run commands on ${o.node}: ${messageWithoutNode(o.node, o.error)}`, fix: 'check ssh (agent, known_hosts, user) and sudo rules for this node in the cluster file' });
    else if (o.value !== o.node) findings.push({ severity: 'error', rule: 'node-name-mismatch', node: o.node, resource: null, message: `the executor for ${o.node} reaches a host whose uname -n is ${JSON.stringify(o.value)}`, fix: 'fix the node name or its address in the cluster file (DRBD picks its section by uname -n)' });
    else reachable.add(o.node);
  }

  const statesByResource = new Map<string, Record<string, MaybeStatus>>();
  for (const def of defs) {
    const name = def.name;
    const seen = new Set<string>();
    for (const f of checkResourceSafety(def)) {
      seen.add(`${f.rule}|${f.path}`);
      findings.push(fromSafety(f, name, null, `definition of ${name}`));
    }
    const nodes = def.nodes.map((n) => n.name).filter((n) => reachable.has(n));
    if (nodes.length === 0) continue;

    let drift: DriftReport | null = null;
    try {
      drift = await detectDrift(cluster, name, { nodes });
    } catch (error) {
      findings.push({ severity: 'error', rule: 'config-unreadable', node: null, resource: name, message: `cannot compare ${name} between ${nodes.join(', ')}: ${message(error)}`, fix: 'check drbd-utils on every node' });
    }
    if (drift !== null) {
      for (const info of drift.nodes) {
        if (info.kernel === null) findings.push({ severity: 'warning', rule: 'drbd-module-not-loaded', node: info.node, resource: name, message: `the drbd kernel module is not loaded on ${info.node}`, fix: `modprobe drbd, or hastor resource up ${name}` });
      }
      for (const d of drift.differences) {
        if (d.kind === 'kernel-module' && Object.values(d.values).some((v) => v === null)) continue; // reported above
        const rule = d.kind === 'config' ? 'drift-config' : d.kind === 'config-unreadable' ? 'config-unreadable' : d.kind === 'kernel-module' ? 'drift-kernel-module' : 'drift-drbd-utils';
        const node = d.kind === 'config-unreadable' ? (Object.keys(d.values)[0] ?? null) : null;
        findings.push({
          severity: d.kind === 'config' || d.kind === 'config-unreadable' ? 'error' : 'warning',
          rule,
          node,
          resource: name,
          message: d.message,
          fix: d.kind === 'config' || d.kind === 'config-unreadable' ? `hastor resource adjust ${name} (writes the definition to every node)` : 'run the same DRBD and drbd-utils versions on every node',
        });
      }
      for (const info of drift.nodes) {
        if (info.config === null) continue;
        const differences = diffResources(def, info.config);
        if (differences.length > 0) {
          findings.push({
            severity: 'warning',
            rule: 'config-differs-from-definition',
            node: info.node,
            resource: name,
            message: `${info.node}'s configuration of ${name} differs from the cluster file: ${differences.slice(0, 3).map((x) => x.path).join(', ')}${differences.length > 3 ? ` and ${differences.length - 3} more` : ''}`,
            fix: `hastor resource adjust ${name}`,
          });
        }
        for (const f of checkResourceSafety(info.config)) {
          const key = `${f.rule}|${f.path}`;
          if (seen.has(key)) continue;
          findings.push(fromSafety(f, name, info.node, `${info.node}'s configuration of ${name}`));
        }
      }
    }

    const states: Record<string, MaybeStatus> = {};
    const outcomes = await cluster.each((n) => cluster.drbd(n.name).status(name), { nodes });
    for (const o of outcomes) {
      if (!o.ok) {
        findings.push({ severity: 'error', rule: 'node-unreachable', node: o.node, resource: name, message: `cannot read the state of ${name} on ${o.node}: ${messageWithoutNode(o.node, o.error)}`, fix: 'check drbd-utils and the sudo rules on that node' });
        continue;
      }
      states[o.node] = o.value;
      if (o.value === null) {
        findings.push({ severity: 'warning', rule: 'resource-not-up', node: o.node, resource: name, message: `${name} is not up on ${o.node}`, fix: `hastor resource up ${name}` });
        continue;
      }
      appendAll(findings, stateFindings(name, o.node, o.value));
    }
    statesByResource.set(name, states);
    const primaries = Object.entries(states).filter(([, s]) => isPrimary(s)).map(([n]) => n);
    if (primaries.length > 1) appendAll(findings, await dualPrimaryFindings(cluster, def, states, primaries, options, seen));
  }

  if (options.pacemaker !== false) {
    const order = cluster.names.filter((n) => reachable.has(n));
    try {
      const reading = await readPacemakerOn(cluster, order, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
      if (reading !== null) appendAll(findings, pacemakerFindings(reading.view, reading.readOn, all, statesByResource));
    } catch (error) {
      findings.push({ severity: 'warning', rule: 'pacemaker-unreadable', node: null, resource: null, message: `Pacemaker runs but its state cannot be read: ${message(error)}`, fix: 'run crm_mon -1 --output-as=xml and cibadmin -Q on a node to see why' });
    }
  }

  const rank: Record<DoctorSeverity, number> = { error: 0, warning: 1, info: 2 };
  findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
  return {
    nodes: cluster.names,
    resources: defs.map((d) => d.name),
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}
