/**
 * Which objects a growth touches, found from the live cluster: from a tier-2
 * LV (`vg/lv`) or a DRBD resource down to the tier-1 LV on every node, and
 * the guest's VG/LV when a guest is given. Discovery reads; it changes nothing.
 */
import { ConfigError } from '../../errors.js';
import type { ResourceDefinition } from '../../drbd/config/index.js';
import { readPvs } from '../../lvm/report.js';
import { lvmVersionOn } from '../../lvm/version.js';
import { runnerOf, type LvmRunnerPool } from '../../lvm/executor-runner.js';
import type { LvmRunner } from '../../lvm/lvm-shell.js';
import { validateLvName, validateVgName, type LvRef } from '../../lvm/names.js';
import { probeBlockDevice } from '../../sys/block-device.js';
import type { Executor } from '../../sys/executor.js';
import type { Cluster } from '../cluster.js';

export interface GuestTopology {
  /** Name for messages and for the plan's steps (the VM's name). */
  node: string;
  executor: Executor;
  /** The VG inside the guest whose only PV is the disk the tier-2 LV backs. */
  vg: string;
  /** The LV to grow inside the guest (its filesystem is grown too). */
  lv: string;
}

export interface GrowthTopology {
  cluster: Cluster;
  resource: string;
  minor: number;
  /** The DRBD device path, the tier-2 PV. */
  device: string;
  /** Nodes of the resource, in definition order, with the LV that backs DRBD there. */
  tier1: Array<{ node: string; vg: string; lv: string }>;
  /** The VG on the DRBD device, and for a guest disk the LV; null when no VG sits on the device. */
  tier2: { vg: string; lv: string | null } | null;
  guest: GuestTopology | null;
}

export type GrowthSelector = { resource: string } | { lv: LvRef };

/** `/dev/<vg>/<lv>` or `/dev/mapper/<vg>-<lv>` (dashes in names doubled) → vg/lv; null when it is not an LV path. */
export function lvRefFromPath(path: string): LvRef | null {
  const direct = /^\/dev\/([^/]+)\/([^/]+)$/.exec(path);
  if (direct !== null && direct[1] !== 'mapper' && direct[1] !== 'disk') return { vg: direct[1] as string, lv: direct[2] as string };
  const mapper = /^\/dev\/mapper\/((?:[^-]|--)+)-((?:[^-]|--)+)$/.exec(path);
  if (mapper !== null) return { vg: (mapper[1] as string).replaceAll('--', '-'), lv: (mapper[2] as string).replaceAll('--', '-') };
  return null;
}

/** Tier-1 LVs from the resource's definition as each node's drbdadm reads it. */
export function tier1FromDefinition(definition: ResourceDefinition): GrowthTopology['tier1'] {
  return definition.nodes.map((n) => {
    const volume = n.volumes[0];
    if (volume === undefined || n.volumes.length !== 1) {
      throw new ConfigError(`resource ${definition.name} on ${n.name} has ${n.volumes.length} volumes; growth handles exactly one`);
    }
    const ref = volume.disk === 'none' ? null : lvRefFromPath(volume.disk);
    if (ref === null) {
      throw new ConfigError(`resource ${definition.name} on ${n.name}: backing disk ${volume.disk} is not an LVM LV, so hastor cannot grow it`, [
        'tier 1 must be an LV (/dev/<vg>/<lv> or /dev/mapper/<vg>-<lv>)',
      ]);
    }
    return { node: n.name, ...ref };
  });
}

export interface DiscoverOptions {
  /**
   * Start these runners' lvm shells on the other nodes and the guest while discovery reads on
   * the first node (the growth's first read then finds them up); discovery's own lvm reads
   * use them too.
   */
  lvm?: LvmRunnerPool;
}

/**
 * Finds the resource, its tier-1 LVs and the tier-2 VG. With an LV selector,
 * the LV's VG must have exactly one PV and it must be a DRBD device.
 */
export async function discoverGrowthTopology(cluster: Cluster, selector: GrowthSelector, guest: GuestTopology | null = null, options: DiscoverOptions = {}): Promise<GrowthTopology> {
  const first = cluster.nodes[0]!;
  // Discovery's own reads go first: a small node starts one process at a time, in the order asked.
  let underLv: Promise<string[] | null> | undefined;
  let allConfigs: Promise<ResourceDefinition[]> | undefined;
  if ('lv' in selector) {
    validateVgName(selector.lv.vg);
    validateLvName(selector.lv.lv);
    // One round, not a chain: the device under the LV, and every resource's configuration
    // (which one is ours is known only from the device).
    underLv = devicesUnderLv(first.executor, selector.lv);
    allConfigs = cluster.drbd(first.name).importAllConfigs();
    allConfigs.catch(() => undefined); // a configuration the importer cannot read falls back below
  }
  // What the first read needs and depends on nothing, read while discovery runs: lvm's and
  // DRBD's versions on every node (each read once per process).
  for (const node of cluster.nodes) {
    lvmVersionOn(node.executor).catch(() => undefined);
    cluster.drbd(node.name).versions().catch(() => undefined);
  }
  if (guest !== null) lvmVersionOn(guest.executor).catch(() => undefined);
  // No lvm shell on the node discovery and the first read lean on most: its start would compete with them.
  for (const executor of [...cluster.nodes.slice(1).map((n) => n.executor), ...(guest === null ? [] : [guest.executor])]) options.lvm?.warm(executor);
  const lvmOf = (executor: Executor) => options.lvm?.runner(executor) ?? runnerOf(executor);
  let resource: string;
  let tier2: GrowthTopology['tier2'] = null;
  let definition: ResourceDefinition;
  if ('lv' in selector) {
    const pvs = (await underLv!) ?? (await pvsOfVg(cluster, selector.lv.vg, lvmOf));
    if (pvs.length !== 1) {
      throw new ConfigError(`VG ${selector.lv.vg} has ${pvs.length} PVs (${pvs.join(', ') || 'none found on any node'}); a tier-2 VG for growth has exactly one, the DRBD device`);
    }
    const minor = drbdMinorOf(pvs[0]!);
    if (minor === null) throw new ConfigError(`the PV of VG ${selector.lv.vg} is ${pvs[0]}, not a DRBD device: nothing below it for hastor to grow`);
    const onMinor = ((await allConfigs!.catch(() => undefined)) ?? []).filter((d) => d.nodes.find((n) => n.name === first.name)?.volumes.some((v) => v.minor === minor));
    if (onMinor.length === 1) {
      // Every state read checks that the kernel runs this resource on this minor.
      definition = onMinor[0]!;
    } else {
      // Another resource's configuration the importer refuses must not stop this growth: ask the kernel, dump ours alone.
      const status = await cluster.drbd(first.name).statusAll();
      const found = status.resources.find((r) => r.devices.some((d) => d.minor === minor));
      if (found?.name == null) throw new ConfigError(`no DRBD resource with minor ${minor} is up on ${first.name}`);
      definition = await cluster.drbd(first.name).importConfig(found.name);
    }
    resource = definition.name;
    tier2 = { vg: selector.lv.vg, lv: selector.lv.lv };
  } else {
    resource = selector.resource;
    definition = await cluster.drbd(first.name).importConfig(resource);
  }
  const volume = definition.nodes.find((n) => n.name === first.name)?.volumes[0] ?? definition.nodes[0]?.volumes[0];
  if (volume === undefined) throw new ConfigError(`resource ${resource} has no volume`);
  const device = volume.device ?? `/dev/drbd${volume.minor}`;
  const tier1 = tier1FromDefinition(definition);
  for (const t of tier1) {
    if (!cluster.has(t.node)) throw new ConfigError(`resource ${resource} names node ${t.node}, which is not in the cluster (${cluster.names.join(', ')})`);
  }
  if (tier2 === null) {
    const vg = await vgOnDevice(cluster, device, lvmOf);
    tier2 = vg === null ? null : { vg, lv: null };
  }
  return { cluster, resource, minor: volume.minor, device, tier1, tier2, guest };
}

/**
 * The devices an active LV maps onto, from its device-mapper node in sysfs: one small
 * command instead of an lvm one. Null when the LV is not active here (no device node).
 * That its VG has no other PV is checked by every state read.
 */
async function devicesUnderLv(executor: Executor, lv: LvRef): Promise<string[] | null> {
  const probe = await probeBlockDevice(executor, `/dev/${lv.vg}/${lv.lv}`);
  return probe === null || probe.slaves.length === 0 ? null : probe.slaves.map((s) => `/dev/${s.kernelName}`);
}

/** PV device paths of a VG as the first node that sees it reports them. */
async function pvsOfVg(cluster: Cluster, vg: string, lvmOf: (executor: Executor) => LvmRunner): Promise<string[]> {
  for (const node of cluster.nodes) {
    const version = await lvmVersionOn(node.executor);
    const report = await readPvs({ version, exec: lvmOf(node.executor).exec, vgs: [vg] });
    const names = report.items.filter((p) => p.vgName === vg).map((p) => p.name);
    if (names.length > 0) return names;
  }
  return [];
}

/** The VG whose PV is `device`, from the first node that can read it (a DRBD Secondary on 8.4 cannot). */
async function vgOnDevice(cluster: Cluster, device: string, lvmOf: (executor: Executor) => LvmRunner): Promise<string | null> {
  for (const node of cluster.nodes) {
    const version = await lvmVersionOn(node.executor);
    const report = await readPvs({ version, exec: lvmOf(node.executor).exec, pvs: [device] });
    const pv = report.items.find((p) => p.name === device);
    if (pv !== undefined) return pv.vgName;
  }
  return null;
}

function drbdMinorOf(path: string): number | null {
  const m = /^\/dev\/drbd(\d+)$/.exec(path);
  return m === null ? null : Number(m[1]);
}
