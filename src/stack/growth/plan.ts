/**
 * The pure growth planner: current state of every tier + a target size →
 * ordered steps, each with its precondition and the check that proves it done.
 * Steps already satisfied by the state are left out, so planning again after a
 * partial run resumes where it stopped.
 */
import { ConfigError, SafetyError } from '../../errors.js';
import { isResyncState } from '../../drbd/lifecycle/resource-state.js';
import { checkGrowthTarget } from './limits.js';
import type { GrowthPlan, GrowthState, GrowthStep, GrowthTarget, Tier1NodeState } from './types.js';

const SECTOR = 512n;
const KIB4_SECTORS = 8n;
const AL_SECTORS = 64n; // 32 KiB activity log (DRBD 8.4 default al-stripes 1 × 32 KiB)
const BM_SECT_SHIFT = 15n; // one 512-byte bitmap sector covers 2^15 data sectors (16 MiB at 4 KiB per bit)
// XFS may leave a tail shorter than a minimal AG unused; ext4 fills the device.
const FS_SLACK = 1n << 20n;
const KIB4_BYTES = 4096n;
const MD_FIXED_BLOCKS = (KIB4_SECTORS + AL_SECTORS) / KIB4_SECTORS; // superblock + activity log, in 4 KiB blocks
const BLOCKS_PER_BITMAP_BLOCK = 1n << 15n; // data blocks one 4 KiB bitmap block covers (8 bitmap sectors × 2^15 sectors each)

/**
 * DRBD 8.4 internal (flexible) meta-data size in bytes for a backing device of
 * `backingBytes`, as the kernel's drbd_md_set_sector_offsets computes it:
 *   bitmap sectors = ALIGN(ceil(Cs / 2^15), 8)   (1 bit per 4 KiB, in whole 4 KiB)
 *   md sectors     = bitmap + 8 (4 KiB superblock) + 64 (32 KiB activity log)
 * i.e. Ms = ceil(Cs / 2^18) × 8 + 72 sectors, Cs the backing size in sectors.
 */
export function drbdInternalMetadataBytes(backingBytes: bigint): bigint {
  const sectors = backingBytes / SECTOR;
  const bitmapSectors = alignUp(ceilDiv(sectors, 1n << BM_SECT_SHIFT), KIB4_SECTORS);
  return (bitmapSectors + KIB4_SECTORS + AL_SECTORS) * SECTOR;
}

/** Usable DRBD size on a backing device: the meta data sits at its 4 KiB-aligned end. */
export function drbdUsableBytes(backingBytes: bigint): bigint {
  const aligned = (backingBytes / SECTOR / KIB4_SECTORS) * KIB4_SECTORS * SECTOR;
  const usable = aligned - drbdInternalMetadataBytes(backingBytes);
  return usable > 0n ? usable : 0n;
}

/**
 * Smallest backing size, a multiple of `unit`, whose usable DRBD size is at least `usable`.
 * Closed form, so the work does not grow with the size (a loop adding one unit at a time
 * ran for hours on huge targets). In 4 KiB blocks, a backing of b blocks leaves
 * b - ceil(b / 2^15) - 9 usable (bitmap: one block per 2^15 blocks; superblock and
 * activity log: 9). The least b with b - ceil(b / 2^15) >= need is
 * need + ceil(need / (2^15 - 1)). A unit that is no multiple of 4 KiB may end a few
 * sectors past a bitmap boundary, which costs one block: then the next block is enough.
 */
export function backingBytesFor(usable: bigint, unit: bigint): bigint {
  if (usable <= 0n) return 0n;
  const need = ceilDiv(usable, KIB4_BYTES) + MD_FIXED_BLOCKS;
  const blocks = need + ceilDiv(need, BLOCKS_PER_BITMAP_BLOCK - 1n);
  const backing = alignUp(blocks * KIB4_BYTES, unit);
  return drbdUsableBytes(backing) >= usable ? backing : alignUp((blocks + 1n) * KIB4_BYTES, unit);
}

export interface PlanGrowthOptions {
  /**
   * The new backing space is known to read the same on every node (thin LVs, zeroed disks):
   * `drbdadm -- --assume-clean resize`, and the new area is neither resynced nor zeroed.
   */
  skipResync?: boolean;
}

export function planGrowth(state: GrowthState, target: GrowthTarget, options: PlanGrowthOptions = {}): GrowthPlan {
  if (state.tier1.length === 0) throw new ConfigError('growth state has no tier-1 node');
  checkGrowthTarget(target);
  const badExtent = state.tier1.find((n) => n.vg.extentBytes <= 0n) ?? (state.tier2 !== undefined && state.tier2.vg.extentBytes <= 0n ? state.tier2 : undefined);
  if (badExtent !== undefined) throw new ConfigError(`growth state: ${badExtent.vg.name} has an extent size of ${badExtent.vg.extentBytes} B`);
  const steps: GrowthStep[] = [];
  const t2 = state.tier2;

  // 1. What DRBD size is needed, and what the tier-2 LV should become.
  let tier2LvBytes: bigint | null = null;
  let requiredDrbd: bigint;
  let requiredVg2: bigint | null = null;
  if (target.kind === 'guest-disk') {
    if (t2?.lv === undefined) throw new ConfigError('a guest-disk target needs the tier-2 VG and LV in the growth state');
    const ext2 = t2.vg.extentBytes;
    tier2LvBytes = alignUp(target.sizeBytes, ext2);
    // Compared after rounding, so running the same target again once done is not a "shrink".
    if (tier2LvBytes < t2.lv.sizeBytes) {
      throw new SafetyError(
        'no-shrink',
        `target ${target.sizeBytes} B is smaller than ${t2.vg.name}/${t2.lv.name} (${t2.lv.sizeBytes} B); growth never shrinks`,
        'shrink by hand after shrinking every layer above it',
      );
    }
    const missing = tier2LvBytes - t2.lv.sizeBytes - t2.vg.freeBytes;
    requiredVg2 = missing > 0n ? t2.vg.sizeBytes + missing : t2.vg.sizeBytes;
    if (missing > 0n && target.lowerTiers === 'keep') {
      throw new SafetyError(
        'tier2-free-space',
        `${t2.vg.name} has ${t2.vg.freeBytes} B free but growing ${t2.lv.name} from ${t2.lv.sizeBytes} B to ${tier2LvBytes} B needs ${tier2LvBytes - t2.lv.sizeBytes} B (${missing} B short) and growing DRBD was not allowed`,
        'allow growing the lower tiers, or free space in the VG',
      );
    }
    // DRBD must grow only when the VG lacks room; 0n means "no requirement".
    requiredDrbd = missing > 0n ? t2.vg.peStartBytes + requiredVg2 : 0n;
  } else {
    // Growing to the target gives whole extents of backing, so DRBD may end a little above it:
    // a target that rounds up to at least the current size is the same growth again, not a shrink.
    const unit = state.tier1.map((n) => n.vg.extentBytes).reduce(lcm);
    if (drbdUsableBytes(backingBytesFor(target.sizeBytes, unit)) < state.drbd.sizeBytes) {
      throw new SafetyError(
        'no-shrink',
        `target ${target.sizeBytes} B is smaller than DRBD ${state.drbd.resource} (${state.drbd.sizeBytes} B); growth never shrinks`,
        'shrink by hand after shrinking every layer above it',
      );
    }
    requiredDrbd = target.sizeBytes;
  }

  // 2. Tier 1 + DRBD, only when DRBD is too small.
  let tier1LvBytes: bigint | null = null;
  let drbdBytes: bigint | null = null;
  if (state.drbd.sizeBytes < requiredDrbd) {
    checkDrbdHealthy(state);
    const unit = state.tier1.map((n) => n.vg.extentBytes).reduce(lcm);
    const largest = state.tier1.reduce((m, n) => (n.lv.sizeBytes > m ? n.lv.sizeBytes : m), 0n);
    const backing = maxBig(backingBytesFor(requiredDrbd, unit), alignUp(largest, unit));
    tier1LvBytes = backing;
    drbdBytes = drbdUsableBytes(backing);
    checkTier1Space(state.tier1, backing, requiredDrbd, unit);
    for (const n of state.tier1) {
      if (n.lv.sizeBytes >= backing) continue;
      const node = n.node;
      steps.push({
        id: `tier1-lvextend@${node}`,
        tier: 1,
        node,
        argv: ['lvextend', '-L', `${backing}b`, `${n.vg.name}/${n.lv.name}`],
        why: `DRBD needs ${requiredDrbd} B usable; with internal meta data (${drbdInternalMetadataBytes(backing)} B) the backing LV must be ${backing} B on every node`,
        precondition: `${n.vg.name} on ${node} has at least ${backing - n.lv.sizeBytes} B free`,
        check: (s) => (s.tier1.find((x) => x.node === node)?.lv.sizeBytes ?? 0n) >= backing,
      });
    }
    refuseDualPrimaryResync(state, t2 !== undefined || options.skipResync === true);
    const resizeNode = (state.drbd.nodes.find((n) => n.role === 'Primary') ?? state.drbd.nodes[0])?.node ?? state.tier1[0]!.node;
    const need = requiredDrbd;
    steps.push({
      id: 'drbd-resize',
      tier: 'drbd',
      node: resizeNode,
      // With a tier-2 PV on top, the new area is zeroed through DRBD below instead of resynced.
      argv: options.skipResync === true || t2 !== undefined ? ['drbdadm', '--', '--assume-clean', 'resize', state.drbd.resource] : ['drbdadm', 'resize', state.drbd.resource],
      why:
        t2 !== undefined && options.skipResync !== true
          ? `make ${state.drbd.device} use the grown backing LVs (${state.drbd.sizeBytes} B → ${drbdBytes} B), both nodes staying UpToDate: the new area is zeroed next`
          : `make ${state.drbd.device} use the grown backing LVs (${state.drbd.sizeBytes} B → ${drbdBytes} B)`,
      precondition: `backing LV is ${backing} B on every node; resource Connected and UpToDate on both sides; no resync running`,
      check: (s) => s.drbd.sizeBytes >= need,
    });
  }

  // 3. Tier 2: PV, then LV (+ refresh on the other nodes when shared).
  let tier2VgBytes: bigint | null = null;
  const afterDrbd = drbdBytes ?? state.drbd.sizeBytes;
  // A drbd target grows the VG on top too, to all the device gives.
  if (target.kind === 'drbd' && t2 !== undefined) requiredVg2 = alignDown(afterDrbd - t2.vg.peStartBytes, t2.vg.extentBytes);
  if (t2 !== undefined && requiredVg2 !== null && t2.vg.sizeBytes < requiredVg2) {
    const vgAfter = alignDown(afterDrbd - t2.vg.peStartBytes, t2.vg.extentBytes);
    tier2VgBytes = vgAfter;
    const need = requiredVg2;
    if (options.skipResync !== true) {
      // pv_size counts the extents only: the last one ends pe_start further on. (A second
      // metadata area, pvcreate --pvmetadatacopies 2, would lie past it: docs/growth.md.)
      const pvEnd = t2.vg.peStartBytes + t2.vg.pvSizeBytes;
      if (afterDrbd > pvEnd) steps.push(...zeroNewAreaSteps(state, tier2Node(state), pvEnd, afterDrbd));
    }
    steps.push({
      id: 'tier2-pvresize',
      tier: 2,
      node: tier2Node(state),
      argv: ['pvresize', state.drbd.device],
      why: `grow the PV of ${t2.vg.name} to the new DRBD size so the VG gains ${vgAfter - t2.vg.sizeBytes} B`,
      precondition: `${state.drbd.device} is at least ${requiredDrbd} B on this node; no zeroing of its new area still runs there`,
      check: (s) => (s.tier2?.vg.sizeBytes ?? 0n) >= need,
      ...(options.skipResync === true ? {} : { waitsUntilNone: { node: tier2Node(state), processPattern: zeroingPattern(state.drbd.device) } }),
    });
  }
  if (tier2LvBytes !== null && t2?.lv !== undefined) {
    const lvBytes = tier2LvBytes;
    const full = `${t2.vg.name}/${t2.lv.name}`;
    const shared = t2.lv.activation === 'shared';
    const first = tier2Node(state);
    if (t2.lv.sizeBytes < lvBytes) {
      steps.push({
        id: 'tier2-lvextend',
        tier: 2,
        node: first,
        argv: shared
          ? ['lvextend', '--lockopt', 'skiplv', '-L', `${lvBytes}b`, full]
          : ['lvextend', '-L', `${lvBytes}b`, full],
        why: shared
          ? `grow the guest disk to ${lvBytes} B; the LV is active shared, so the LV lock is skipped and the other nodes refresh`
          : `grow the guest disk to ${lvBytes} B`,
        precondition: `${t2.vg.name} has at least ${lvBytes - t2.lv.sizeBytes} B free`,
        check: (s) => (s.tier2?.lv?.sizeBytes ?? 0n) >= lvBytes,
      });
    }
    if (shared) {
      for (const a of t2.lv.activeOn.slice(1)) {
        if (a.deviceSizeBytes >= lvBytes) continue;
        const node = a.node;
        steps.push({
          id: `tier2-refresh@${node}`,
          tier: 2,
          node,
          argv: ['lvchange', '--refresh', full],
          why: `reload the device-mapper table on ${node} so its active ${full} shows ${lvBytes} B`,
          precondition: `${full} is ${lvBytes} B in the LVM metadata`,
          check: (s) => (s.tier2?.lv?.activeOn.find((x) => x.node === node)?.deviceSizeBytes ?? 0n) >= lvBytes,
        });
      }
    }
  }

  // 4. Tier 3, in the guest.
  let guestVgBytes: bigint | null = null;
  let guestLvBytes: bigint | null = null;
  const g = state.guest;
  if (g !== undefined && tier2LvBytes !== null) {
    const disk = tier2LvBytes;
    const vgNew = maxBig(alignDown(disk - g.vg.peStartBytes, g.vg.extentBytes), g.vg.sizeBytes);
    const lvNew = g.lv.sizeBytes + g.vg.freeBytes + (vgNew - g.vg.sizeBytes);
    guestVgBytes = vgNew;
    guestLvBytes = lvNew;
    const full = `${g.vg.name}/${g.lv.name}`;
    const dev = g.disk.device.replace(/^\/dev\//, '');
    if (g.disk.sizeBytes < disk) {
      const rescan =
        g.disk.transport === 'iscsi'
          ? { argv: ['iscsiadm', '-m', 'session', '--rescan'] }
          : { argv: ['tee', `/sys/class/block/${dev}/device/rescan`], stdin: '1\n' };
      steps.push({
        id: 'guest-rescan',
        tier: 3,
        node: g.node,
        ...rescan,
        why: `make the guest kernel see ${g.disk.device} at its new size ${disk} B`,
        precondition: `the tier-2 LV is ${disk} B and active on the node exporting it`,
        check: (s) => (s.guest?.disk.sizeBytes ?? 0n) >= disk,
      });
    }
    if (g.vg.sizeBytes < vgNew) {
      steps.push({
        id: 'guest-pvresize',
        tier: 3,
        node: g.node,
        argv: ['pvresize', g.disk.device],
        why: `grow the guest PV so ${g.vg.name} becomes ${vgNew} B`,
        precondition: `${g.disk.device} is ${disk} B in the guest`,
        check: (s) => (s.guest?.vg.sizeBytes ?? 0n) >= vgNew,
      });
    }
    if (g.lv.sizeBytes < lvNew) {
      steps.push({
        id: 'guest-lvextend',
        tier: 3,
        node: g.node,
        argv: ['lvextend', '-L', `${lvNew}b`, full],
        why: `give ${full} all of ${g.vg.name} (${lvNew} B)`,
        precondition: `${g.vg.name} has at least ${lvNew - g.lv.sizeBytes} B free`,
        check: (s) => (s.guest?.lv.sizeBytes ?? 0n) >= lvNew,
      });
    }
    if (g.fs.sizeBytes + FS_SLACK < lvNew) {
      steps.push({
        id: 'guest-fs-grow',
        tier: 3,
        node: g.node,
        argv: g.fs.type === 'ext4' ? ['resize2fs', `/dev/${full}`] : ['xfs_growfs', g.fs.mountpoint],
        why: `grow the ${g.fs.type} filesystem online to fill ${full}`,
        precondition: `${full} is ${lvNew} B${g.fs.type === 'xfs' ? ` and mounted on ${g.fs.mountpoint}` : ''}`,
        check: (s) => (s.guest?.fs.sizeBytes ?? 0n) + FS_SLACK >= lvNew,
      });
    }
  }

  return {
    sizes: { tier1LvBytes, drbdBytes, tier2VgBytes, tier2LvBytes, guestVgBytes, guestLvBytes },
    steps,
  };
}

/**
 * What `pgrep -f` finds while a zeroing step of the device runs (the first letter in brackets,
 * so the pattern does not match the shell that runs pgrep with it on its command line).
 */
export function zeroingPattern(device: string): string {
  return `[f]allocate --zero-range --offset [0-9]+ --length [0-9]+ ${device.replace(/[^A-Za-z0-9/_-]/g, '\\$&')}$`;
}

/** At most this many zeroing steps, each a progress line, whatever the growth. */
const MAX_ZERO_STEPS = 32n;
const ZERO_STEP_MIN_BYTES = 1n << 30n;

/**
 * Zeroes the DRBD device from the PV's end to its new end through DRBD, so both nodes hold the
 * same bytes there and stay UpToDate: a resync would make one of them Inconsistent, and with two
 * Primaries DRBD picks which by its tie-breaker, not by who serves I/O (docs/growth.md). Past the
 * PV's last extent nobody reads or writes until pvresize, so a step is safe to repeat after a crash.
 */
function zeroNewAreaSteps(state: GrowthState, node: string, from: bigint, to: bigint): GrowthStep[] {
  const total = to - from;
  const count = minBig(MAX_ZERO_STEPS, ceilDiv(total, ZERO_STEP_MIN_BYTES));
  const chunk = alignUp(ceilDiv(total, count), 1n << 20n);
  const steps: GrowthStep[] = [];
  for (let offset = from, i = 1; offset < to; offset += chunk, i++) {
    const length = minBig(chunk, to - offset);
    steps.push({
      id: count === 1n ? 'drbd-zero-new-area' : `drbd-zero-new-area#${i}`,
      tier: 'drbd',
      node,
      argv: ['fallocate', '--zero-range', '--offset', `${offset}`, '--length', `${length}`, state.drbd.device],
      why: `write zeroes to ${length} B of the new area through DRBD, so both nodes hold the same bytes there without a resync`,
      precondition: `${state.drbd.device} is ${to} B; nothing uses it past ${from} B (the end of the PV's last extent)`,
      check: (s) => s.drbd.sizeBytes >= to,
      unobservable: true,
      writesBytes: length,
    });
  }
  return steps;
}

/**
 * A plain resize with two Primaries: DRBD picks the sync source of the new area by its
 * tie-breaker, so the node serving I/O may become an Inconsistent SyncTarget, and a link cut in
 * that window fences nobody (docs/growth.md). With a tier-2 PV the new area is zeroed instead.
 */
function refuseDualPrimaryResync(state: GrowthState, noResync: boolean): void {
  const primaries = state.drbd.nodes.filter((n) => n.role === 'Primary').map((n) => n.node);
  if (noResync || primaries.length < 2) return;
  throw new SafetyError(
    'dual-primary-resync',
    `DRBD ${state.drbd.resource} is Primary on ${primaries.join(' and ')} and has no tier-2 PV on it, so its new area would be resynced: with two Primaries DRBD picks the sync source by its tie-breaker, the node serving I/O may become an Inconsistent SyncTarget, and a link cut then fences nobody`,
    'demote all but the node serving I/O for the resize (the Primary is then the sync source), or, when the new backing space reads the same on every node, grow with skipResync (--skip-resync)',
  );
}

function checkDrbdHealthy(state: GrowthState): void {
  const d = state.drbd;
  const syncing = d.nodes.filter((n) => n.replicationState !== null && isResyncState(n.replicationState));
  if (d.resyncRunning || syncing.length > 0) {
    const who = syncing.map((n) => `${n.node}: ${n.replicationState}`).join(', ');
    throw new SafetyError(
      'no-resync',
      `DRBD ${d.resource} is resyncing${who === '' ? '' : ` (${who})`}; resizing now would grow a device whose data is not yet identical on both nodes`,
      'wait for the resync to finish, then plan again',
    );
  }
  const bad = d.nodes.filter(
    (n) =>
      n.unreachable !== undefined ||
      n.diskState !== 'UpToDate' ||
      n.connectionState !== 'Connected' ||
      (n.replicationState !== null && n.replicationState !== 'Established'),
  );
  if (bad.length > 0 || d.nodes.length < 2) {
    const detail = bad
      .map((n) =>
        n.unreachable !== undefined
          ? `${n.node}: unreachable (${n.unreachable})`
          : `${n.node}: disk ${n.diskState}, connection ${n.connectionState}${n.replicationState === null ? '' : `/${n.replicationState}`}`,
      )
      .join('; ');
    throw new SafetyError(
      'peers-uptodate',
      `DRBD ${d.resource} must be Connected and UpToDate on every node to resize, ${d.nodes.length} node(s) reported${detail === '' ? '' : `: ${detail}`}`,
      'reconnect the peer and let it become UpToDate, then plan again',
    );
  }
}

function checkTier1Space(nodes: Tier1NodeState[], backing: bigint, requiredDrbd: bigint, unit: bigint): void {
  for (const n of nodes) {
    const grow = backing - n.lv.sizeBytes;
    if (grow <= n.vg.freeBytes) continue;
    const maxBacking = alignDown(n.lv.sizeBytes + n.vg.freeBytes, unit);
    const md = drbdInternalMetadataBytes(backing);
    if (maxBacking >= requiredDrbd) {
      // The raw bytes would fit; the meta data is what does not.
      throw new SafetyError(
        'drbd-metadata-fit',
        `on ${n.node}, ${n.vg.name}/${n.lv.name} can grow to at most ${maxBacking} B, which leaves only ${drbdUsableBytes(maxBacking)} B after DRBD internal meta data; ${requiredDrbd} B usable needs a ${backing} B backing LV (${md} B meta data)`,
        `free at least ${grow - n.vg.freeBytes} B more in ${n.vg.name} on ${n.node}`,
      );
    }
    throw new SafetyError(
      'tier1-free-space',
      `${n.vg.name} on ${n.node} has ${n.vg.freeBytes} B free but ${n.lv.name} must grow by ${grow} B (from ${n.lv.sizeBytes} B to ${backing} B, incl. ${md} B DRBD meta data); ${grow - n.vg.freeBytes} B short`,
      `add a PV to ${n.vg.name} on ${n.node} or pick a smaller target`,
    );
  }
}

/** Where tier-2 commands run: the first node the LV is active on, else the first tier-1 node. */
function tier2Node(state: GrowthState): string {
  return state.tier2?.lv?.activeOn[0]?.node ?? state.tier1[0]!.node;
}


function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
function alignUp(a: bigint, unit: bigint): bigint {
  return ceilDiv(a, unit) * unit;
}
function alignDown(a: bigint, unit: bigint): bigint {
  return a <= 0n ? 0n : (a / unit) * unit;
}
function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
function gcd(a: bigint, b: bigint): bigint {
  return b === 0n ? a : gcd(b, a % b);
}
function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}
