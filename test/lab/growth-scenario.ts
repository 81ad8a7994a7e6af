/**
 * The three-tier stack of issue 6 in a 3-node lab, shared by the growth test and
 * the growth benchmark: tier-1 VG on node1/node2, DRBD 8.4 r0 (400 MiB)
 * dual-primary, a shared (lvmlockd + sanlock) VG on /dev/drbd0 with the guest
 * disk LV active shared on both, exported over iSCSI from node1 to node3 (the VM),
 * and inside node3 a VG, an LV and ext4 with a known pattern.
 */
import type { ResourceDefinitionInput } from '../../src/drbd/config/index.js';
import { activate, createSharedVg, setupLvmlockd, startLockspace } from '../../src/lvm/shared-vg.js';
import { Cluster } from '../../src/stack/cluster.js';
import { DrbdResource } from '../../src/stack/drbd-resource.js';
import { lvmUpperLayerCheck } from '../../src/stack/upper-layer-lvm.js';
import { attachIscsiDisk, exportBlockDeviceIscsi, GUEST_LVM_CONF } from './guest-vm.js';
import { FENCE_HANDLER, installDrbdFenceHandler, startFenceService, type FenceService } from './harness/fence.js';
import { LabExecutor, type LabExecutorCall } from './harness/lab-executor.js';
import type { Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';

export const VG = 'vg_lab';
export const SHARED_VG = 'vgshared';
export const GUEST_LV = 'vm1';
export const GUEST_VG = 'vg_guest';
export const GUEST_DATA_LV = 'data';
export const IQN = 'iqn.2026-11.lab.hastor:vm1';
export const INITIATOR = 'iqn.2026-11.lab.hastor:node3';
export const MiB = 1024n * 1024n;


export interface GrowthStack {
  node1: LabNode;
  node2: LabNode;
  node3: LabNode;
  e1: LabExecutor;
  e2: LabExecutor;
  e3: LabExecutor;
  cluster: Cluster;
  r0: DrbdResource;
  /** Every executor call, for the tests' cost summaries. */
  calls: LabExecutorCall[];
  guestDevice: string;
  /** The host's fence service (DRBD's fence-peer handler in node1/node2 asks it). */
  fence: FenceService;
}

export function growthDefinition(nodes: readonly LabNode[]): ResourceDefinitionInput {
  return {
    name: 'r0',
    target: '8.4',
    protocol: 'C',
    net: { pingInt: 3, pingTimeout: 10, connectInt: 3, timeout: 20, verifyAlg: 'crc32c', afterSb0pri: 'discard-zero-changes', afterSb1pri: 'discard-secondary', afterSb2pri: 'disconnect' },
    // c-min-rate: the guest's writer must not throttle resync to DRBD's 250 KiB/s floor in the lab.
    disk: { cPlanAhead: 0, resyncRate: '100M', cMinRate: 20480, fencing: 'resource-and-stonith' },
    // Stand-in for a STONITH agent: the lab kills nodes for real, so "peer was fenced" (exit 7) is true.
    handlers: { fencePeer: FENCE_HANDLER },
    nodes: nodes.map((n) => ({
      name: n.name,
      address: `ipv4 ${n.address}:7789`,
      volumes: [{ volume: 0, minor: 0, device: '/dev/drbd0', disk: `/dev/${VG}/r0_disk`, metaDisk: 'internal' as const }],
    })),
  };
}

/** Executors and the cluster; nothing created yet. */
export async function connectGrowthLab(lab: Lab): Promise<GrowthStack> {
  const [node1, node2, node3] = lab.nodes as [LabNode, LabNode, LabNode];
  const calls: LabExecutorCall[] = [];
  const e1 = new LabExecutor(node1, { onCall: (c) => calls.push(c) });
  const e2 = new LabExecutor(node2, { onCall: (c) => calls.push(c) });
  const e3 = new LabExecutor(node3, { onCall: (c) => calls.push(c) });
  await Promise.all([node1, node2].map((n) => n.execOk(['modprobe', '-a', 'dm-mod', 'drbd'])));
  // Real fencing: the host powers the peer off. node2 asks 5 s later, so node1 (the guest's iSCSI target) wins a split.
  const fence = startFenceService(lab);
  await installDrbdFenceHandler(node1, 'node2');
  await installDrbdFenceHandler(node2, 'node1', 5);
  const cluster = await Cluster.connect([
    { name: 'node1', executor: e1 },
    { name: 'node2', executor: e2 },
  ]);
  const r0 = new DrbdResource(cluster, growthDefinition([node1, node2]));
  return { node1, node2, node3, e1, e2, e3, cluster, r0, calls, guestDevice: '', fence };
}

/** Tier 1 (400 MiB LVs) and r0 created and synced, node1 Primary. */
export async function buildTier1AndDrbd(stack: GrowthStack): Promise<void> {
  for (const n of [stack.node1, stack.node2]) {
    await n.execOk(['pvcreate', '-y', '/dev/ubda']);
    await n.execOk(['vgcreate', '-y', VG, '/dev/ubda']);
    await n.execOk(['lvcreate', '-y', '-L', '400m', '-n', 'r0_disk', VG]);
  }
  await stack.r0.create({ syncSource: 'node1', stayPrimary: true });
}

/** lvmlockd + sanlock on both, the shared VG, dual-primary, the guest disk LV (128 MiB) active shared on both. Returns phase timings. */
export async function buildSharedTier2(stack: GrowthStack): Promise<{ vgcreateMs: number; lockstartMs: number }> {
  for (const [e, hostId] of [
    [stack.e1, 1],
    [stack.e2, 2],
  ] as const) {
    await setupLvmlockd(e, { lockManager: 'sanlock', hostId, daemons: 'direct', sanlockWatchdog: false });
  }
  let started = Date.now();
  await createSharedVg(stack.e1, { vg: SHARED_VG, device: '/dev/drbd0', lockType: 'sanlock' });
  const vgcreateMs = Date.now() - started;
  await stack.r0.beginDualPrimary({ upperLayer: lvmUpperLayerCheck() });
  started = Date.now();
  await startLockspace(stack.e2, SHARED_VG, { retryDelayMs: 1000 });
  const lockstartMs = Date.now() - started;
  await stack.node1.execOk(['lvcreate', '-y', '-an', '-n', GUEST_LV, '-L', '128m', SHARED_VG]);
  await activate(stack.e1, { vg: SHARED_VG, lv: GUEST_LV }, 'shared');
  await activate(stack.e2, { vg: SHARED_VG, lv: GUEST_LV }, 'shared');
  return { vgcreateMs, lockstartMs };
}

/** node3 attaches the LV over iSCSI; inside: VG, LV, ext4 on /data, a 48 MiB random pattern with its checksum in /root. */
export async function buildGuest(stack: GrowthStack): Promise<string> {
  await exportBlockDeviceIscsi(stack.node1, `/dev/${SHARED_VG}/${GUEST_LV}`, { iqn: IQN, initiatorIqn: INITIATOR });
  const { device } = await attachIscsiDisk(stack.node3, `${stack.node1.address}:3260`, IQN, INITIATOR);
  await stack.node3.writeFile('/etc/lvm/lvm.conf', GUEST_LVM_CONF);
  await stack.node3.execOk(
    [
      'sh',
      '-c',
      `set -e; pvcreate -y ${device}; vgcreate -y ${GUEST_VG} ${device}; lvcreate -y -l 100%FREE -n ${GUEST_DATA_LV} ${GUEST_VG};
       mkfs.ext4 -q /dev/${GUEST_VG}/${GUEST_DATA_LV}; mkdir -p /data; mount /dev/${GUEST_VG}/${GUEST_DATA_LV} /data;
       head -c 48M /dev/urandom > /data/pattern.bin; sync; sha256sum /data/pattern.bin > /root/pattern.sha256`,
    ],
    { timeoutMs: 120_000 },
  );
  stack.guestDevice = device;
  return device;
}
