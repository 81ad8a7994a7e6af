/**
 * The LVM answer to "is what sits on this DRBD device cluster-aware?", for the dual-primary
 * safety rule: every VG whose PVs are the resource's devices must be shared (lvmlockd:
 * sanlock, dlm) or clustered (clvmd). A device with no VG on it is not cluster-aware as far
 * as LVM can tell (a cluster file system may be there; that layer needs its own check).
 *
 * Every node of the resource is asked, because DRBD 8.4 does not let a Secondary open its
 * device: only a Primary's lvm sees the PV. What the nodes see is merged per device; a VG
 * any node reports as local counts as local.
 */
import type { ResourceDefinition } from '../drbd/config/index.js';
import { lvmVersionOn, runnerOf, vgLockingOf, readPvs, readVgs, type LvmRunner, type VgLocking } from '../lvm/index.js';
import type { Cluster, ClusterNode } from './cluster.js';
import type { UpperLayerCheck, UpperLayerVerdict } from './upper-layer.js';
import { messageWithoutNode } from '../errors.js';

/** What one node's lvm reported for the resource's devices. */
export interface LvmNodeFindings {
  node: string;
  /** device → PVs on it: the VG each belongs to (null: a PV in no VG). */
  devices: Record<string, Array<{ pv: string; vg: string | null }>>;
  /** Locking of every VG named above, by VG name. */
  vgs: Record<string, VgLocking>;
  /** The node could not be asked (lvm failed): the check cannot vouch for anything. */
  error: string | null;
}

/** The devices of the resource on each node: volume.device, or drbdadm's default /dev/drbd<minor>. */
export function resourceDevices(resource: ResourceDefinition): Map<string, string[]> {
  return new Map(resource.nodes.map((n) => [n.name, n.volumes.map((v) => v.device ?? `/dev/drbd${v.minor}`)]));
}

/** Pure: the verdict from each node's findings. */
export function lvmVerdict(devices: readonly string[], findings: readonly LvmNodeFindings[]): UpperLayerVerdict {
  const asked = findings.map((f) => f.node);
  const failed = findings.filter((f) => f.error !== null);
  const parts: string[] = [];
  let aware = devices.length > 0;
  for (const device of devices) {
    const vgs = new Map<string, VgLocking>();
    const orphanPvs = new Set<string>();
    for (const f of findings) {
      for (const pv of f.devices[device] ?? []) {
        if (pv.vg === null) {
          orphanPvs.add(pv.pv);
          continue;
        }
        const locking = f.vgs[pv.vg];
        const seen = vgs.get(pv.vg);
        // A node that sees the VG as local wins: never vouch on the more hopeful report.
        if (locking !== undefined && (seen === undefined || (seen.clusterAware && !locking.clusterAware))) vgs.set(pv.vg, locking);
        if (locking === undefined && seen === undefined) {
          vgs.set(pv.vg, { vg: pv.vg, clusterAware: false, kind: 'local', lockType: null, attr: '', detail: `VG ${pv.vg} could not be read` });
        }
      }
    }
    if (vgs.size === 0) {
      aware = false;
      const orphan = orphanPvs.size > 0 ? ` (a PV in no VG)` : '';
      parts.push(`no VG on ${device}${orphan} (looked with pvs on ${asked.join(', ') || 'no node'}): nothing LVM-managed coordinates writers there (a cluster filesystem? that layer needs its own check)`);
      continue;
    }
    for (const locking of vgs.values()) {
      if (!locking.clusterAware) aware = false;
      parts.push(`${locking.detail.replace(/^VG (\S+)/, `VG $1 on ${device}`)}`);
    }
  }
  for (const f of failed) {
    aware = false;
    parts.push(`${f.node}: LVM could not be read (${f.error})`);
  }
  if (devices.length === 0) parts.push('the resource has no devices on these nodes');
  return { clusterAware: aware, detail: parts.join('; ') };
}

export interface LvmUpperLayerOptions {
  /** How lvm runs on a node (default: fork-per-call through its executor). */
  runner?: (node: ClusterNode) => LvmRunner;
  timeoutMs?: number;
}

/** The canonical path of a device on the node (/dev/drbd/by-res/r0/0 → /dev/drbd0). */
async function canonical(node: ClusterNode, device: string): Promise<string> {
  try {
    const r = await node.executor.run(['readlink', '-f', '--', device], { timeoutMs: 10_000 });
    return r.stdout.trim() || device;
  } catch {
    return device;
  }
}

/** Asks one node's lvm which PVs and VGs are on the devices. */
export async function lvmFindingsOn(node: ClusterNode, devices: readonly string[], options: LvmUpperLayerOptions = {}): Promise<LvmNodeFindings> {
  const findings: LvmNodeFindings = { node: node.name, devices: {}, vgs: {}, error: null };
  try {
    const version = await lvmVersionOn(node.executor);
    const runner = options.runner?.(node) ?? runnerOf(node.executor);
    const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
    const pvs = await readPvs({ version, exec: runner.exec, ...timeout });
    const names = new Set<string>();
    for (const device of devices) {
      const aliases = new Set([device, await canonical(node, device)]);
      const on = pvs.items.filter((pv) => aliases.has(pv.name));
      findings.devices[device] = on.map((pv) => ({ pv: pv.name, vg: pv.vgName }));
      for (const pv of on) if (pv.vgName !== null) names.add(pv.vgName);
    }
    if (names.size > 0) {
      const vgs = await readVgs({ version, exec: runner.exec, vgs: [...names], ...timeout });
      for (const vg of vgs.items) findings.vgs[vg.name] = vgLockingOf(vg);
    }
  } catch (error) {
    findings.error = messageWithoutNode(node.name, error);
  }
  return findings;
}

/**
 * The UpperLayerCheck for LVM: asks every node of the resource (that the cluster has) for
 * the VGs on the resource's devices.
 */
export function lvmUpperLayerCheck(options: LvmUpperLayerOptions = {}): UpperLayerCheck {
  return async (resource: ResourceDefinition, cluster: Cluster): Promise<UpperLayerVerdict> => {
    const perNode = resourceDevices(resource);
    const nodes = [...perNode.keys()].filter((name) => cluster.has(name)).map((name) => cluster.node(name));
    const devices = [...new Set(nodes.flatMap((n) => perNode.get(n.name) ?? []))];
    const findings = await Promise.all(nodes.map((n) => lvmFindingsOn(n, perNode.get(n.name) ?? [], options)));
    return lvmVerdict(devices, findings);
  };
}
