/**
 * Input and output of the growth planner (issue 6). Sizes are bytes as bigint,
 * already converted by the parsers; the planner never reads command output.
 */
import type { ConnectionState, DiskState, ReplicationState, Role } from '../../drbd/states.js';

export interface VolumeGroupView {
  name: string;
  extentBytes: bigint;
  /** vg_size: whole extents only. */
  sizeBytes: bigint;
  freeBytes: bigint;
}

/** Tier 1 on one node: the host VG and the LV that backs DRBD. */
export interface Tier1NodeState {
  node: string;
  vg: VolumeGroupView;
  lv: { name: string; sizeBytes: bigint };
}

/** How one node sees the DRBD resource (its own disk, its link to the peer). */
export interface DrbdNodeState {
  node: string;
  role: Role;
  diskState: DiskState;
  /** This node's connection to its peer. */
  connectionState: ConnectionState;
  /** null when the source does not report it (8.4 folds it into `cs:`). */
  replicationState: ReplicationState | null;
  /** Set when the node could not be reached at all (crashed, network): why. */
  unreachable?: string;
}

export interface DrbdGrowthState {
  resource: string;
  /** e.g. /dev/drbd0: the tier-2 PV. */
  device: string;
  /** Usable size of the DRBD device (the smallest over the nodes). */
  sizeBytes: bigint;
  resyncRunning: boolean;
  nodes: DrbdNodeState[];
}

/** Tier 2: a VG whose only PV is the DRBD device, and (for a guest-disk target) the guest disk LV in it. */
export interface Tier2State {
  /**
   * pvSizeBytes: pv_size, which lvm reports as the PV's extents only (pe_count × extent), so
   * the last extent ends at peStartBytes + pvSizeBytes.
   */
  vg: VolumeGroupView & { peStartBytes: bigint; pvSizeBytes: bigint };
  lv?: {
    name: string;
    /** Size in the LVM metadata. */
    sizeBytes: bigint;
    activation: 'exclusive' | 'shared';
    /** Nodes where the LV is active, with the size of the active device there. */
    activeOn: { node: string; deviceSizeBytes: bigint }[];
  };
}

/** Tier 3, inside the VM. */
export interface GuestState {
  /** Name under which the executor reaches the guest. */
  node: string;
  disk: { device: string; transport: 'scsi' | 'iscsi'; sizeBytes: bigint };
  /** The guest PV is the whole disk. */
  vg: VolumeGroupView & { peStartBytes: bigint };
  lv: { name: string; sizeBytes: bigint };
  /** sizeBytes: block count × block size of the filesystem. */
  fs: { type: 'ext4' | 'xfs'; mountpoint: string; sizeBytes: bigint };
}

export interface GrowthState {
  /** Only the nodes that answered; an unreachable node is listed in drbd.nodes with `unreachable`. */
  tier1: Tier1NodeState[];
  drbd: DrbdGrowthState;
  /** Absent when no VG sits on the DRBD device (only a `drbd` target makes sense then). */
  tier2?: Tier2State;
  guest?: GuestState;
}

export type GrowthTarget =
  /** New absolute size of the tier-2 LV (the guest's disk). `lowerTiers: 'keep'` forbids growing DRBD for it. */
  | { kind: 'guest-disk'; sizeBytes: bigint; lowerTiers?: 'grow' | 'keep' }
  /** New absolute usable size of the DRBD device. */
  | { kind: 'drbd'; sizeBytes: bigint };

/** A target as an amount to add to the current size (`--to +SIZE`), made absolute by grow()'s first read. */
export type GrowthIncrement = { kind: 'guest-disk'; addBytes: bigint; lowerTiers?: 'grow' | 'keep' } | { kind: 'drbd'; addBytes: bigint };

export type Tier = 1 | 'drbd' | 2 | 3;

export interface GrowthStep {
  id: string;
  tier: Tier;
  node: string;
  argv: string[];
  /** Bytes to feed on stdin (sysfs rescan through tee: argv, never a shell). */
  stdin?: string;
  why: string;
  precondition: string;
  /** True on a later state once this step has taken effect. */
  check: (state: GrowthState) => boolean;
  /**
   * The step's effect cannot be read back from the nodes (zeroes written where nobody reads
   * yet), so `check` cannot tell it done: it runs once per grow(), and a later run plans it
   * again. Such a step must be safe to repeat.
   */
  unobservable?: true;
  /** Bytes the step writes: its time limit grows with them (see grow()'s stepTimeoutMs). */
  writesBytes?: bigint;
  /**
   * Before the step runs, no process on `node` may match `processPattern` (pgrep -f): a zeroing
   * of the new area left running by a killed grow, or run by another grow, must end before this
   * step makes that area part of the PV.
   */
  waitsUntilNone?: { node: string; processPattern: string };
}

export interface GrowthPlan {
  /** The absolute sizes the plan aims at, for display and for the executor. */
  sizes: {
    tier1LvBytes: bigint | null;
    drbdBytes: bigint | null;
    tier2VgBytes: bigint | null;
    tier2LvBytes: bigint | null;
    guestVgBytes: bigint | null;
    guestLvBytes: bigint | null;
  };
  steps: GrowthStep[];
}
