/**
 * Which objects a growth touches, found from the live cluster: from a tier-2
 * LV (`vg/lv`) or a DRBD resource down to the tier-1 LV on every node, and
 * the guest's VG/LV when a guest is given. Discovery reads; it changes nothing.
 */
import { ConfigError } from '../../errors.js';
import type { ResourceDefinition } from '../../drbd/config/index.js';
import { readPvs } from '../../lvm/report.js';
import { lvmVersionOn } from '../../lvm/shared-vg.js';
import { runnerOf, type LvmRunnerPool } from '../../lvm/executor-runner.js';
import type { LvmRunner } from '../../lvm/lvm-shell.js';
import { validateLvName, validateVgName, type LvRef } from '../../lvm/names.js';
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
   * Start these runners' lvm shells on every node and the guest while discovery reads (the
   * growth's first read then finds them up); discovery's own lvm reads use them too.
   */
  lvm?: LvmRunnerPool;
}

/**
 * Finds the resource, its tier-1 LVs and the tier-2 VG. With an LV selector,
 * the LV's VG must have exactly one PV and it must be a DRBD device.
 */
export async function discoverGrowthTopology(cluster: Cluster, selector: GrowthSelector, guest: GuestTopology | null = null, options: DiscoverOptions = {}): Promise<GrowthTopology> {
  for (const executor of [...cluster.nodes.map((n) => n.executor), ...(guest === null ? [] : [guest.executor])]) options.lvm?.warm(executor);
  const lvmOf = (executor: Executor) => options.lvm?.runner(executor) ?? runnerOf(executor);
  const first = cluster.nodes[0]!;
  let resource: string;
  let tier2: GrowthTopology['tier2'] = null;
  if ('lv' in selector) {
    validateVgName(selector.lv.vg);
    validateLvName(selector.lv.lv);
    // Both reads at once: the device under the LV and what DRBD runs here.
    const [pvs, status] = await Promise.all([devicesUnderLv(first.executor, selector.lv).then((d) => d ?? pvsOfVg(cluster, selector.lv.vg, lvmOf)), cluster.drbd(first.name).statusAll()]);
    if (pvs.length !== 1) {
      throw new ConfigError(`VG ${selector.lv.vg} has ${pvs.length} PVs (${pvs.join(', ') || 'none found on any node'}); a tier-2 VG for growth has exactly one, the DRBD device`);
    }
    const minor = drbdMinorOf(pvs[0]!);
    if (minor === null) throw new ConfigError(`the PV of VG ${selector.lv.vg} is ${pvs[0]}, not a DRBD device: nothing below it for hastor to grow`);
    const found = status.resources.find((r) => r.devices.some((d) => d.minor === minor));
    if (found?.name == null) throw new ConfigError(`no DRBD resource with minor ${minor} is up on ${first.name}`);
    resource = found.name;
    tier2 = { vg: selector.lv.vg, lv: selector.lv.lv };
  } else {
    resource = selector.resource;
  }
  const definition = await cluster.drbd(first.name).importConfig(resource);
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
 * The devices an active LV maps onto, from its device-mapper node in sysfs: two small
 * reads instead of an lvm command. Null when the LV is not active here (no device node).
 * That its VG has no other PV is checked by every state read.
 */
async function devicesUnderLv(executor: Executor, lv: LvRef): Promise<string[] | null> {
  // By device numbers: /dev/mapper nodes are not always symlinks to dm-N (no udev).
  const stat = await executor.run(['stat', '-L', '-c', '%t:%T', '--', `/dev/${lv.vg}/${lv.lv}`], { okExitCodes: [0, 1] });
  const numbers = /^([0-9a-f]+):([0-9a-f]+)$/.exec(stat.stdout.trim());
  if (stat.exitCode !== 0 || numbers === null) return null;
  const dev = `${parseInt(numbers[1]!, 16)}:${parseInt(numbers[2]!, 16)}`;
  const slaves = await executor.run(['ls', '-1', '--', `/sys/dev/block/${dev}/slaves`], { okExitCodes: [0, 2] });
  const names = slaves.stdout.split('\n').filter((n) => n !== '');
  return slaves.exitCode === 0 && names.length > 0 ? names.map((n) => `/dev/${n}`) : null;
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
