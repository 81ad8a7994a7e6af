/**
 * Resolving a DRBD split brain without losing anyone's data.
 *
 * After a split brain both sides are StandAlone and each holds writes the
 * other lacks. DRBD's own way out, `connect --discard-my-data` on one side,
 * throws that side's writes away for good. hastor owns the LVM under DRBD,
 * so it first takes an LVM snapshot of the victim's backing LV (tier 1):
 * the discarded writes stay readable there until the operator removes it.
 *
 * inspectSplitBrain reads what an operator needs to choose: each side's
 * role, generation UUIDs, and how much it changed since the split.
 * resolveSplitBrain then snapshots, demotes the victim, reconnects it with
 * --discard-my-data, reconnects the survivor and waits for the resync.
 * Every rule is checked before the first action, so a refusal changes
 * nothing; `dryRun` returns the plan.
 */
import { ConfigError, SafetyError } from '../errors.js';
import { compareGenerations, showGiArgv, splitBrainRecords, type GenerationIdentifiers, type GenerationRelation, type SplitBrainRecord } from '../drbd/generation-identifiers.js';
import {
  assertResourceName,
  describeState,
  drbdadm,
  hasUpToDateData,
  isConnected,
  isInSync,
  isPrimary,
  isResyncing,
  isStandAlone,
  outOfSyncBytes,
  pollUntil,
  type DrbdGeneration,
} from '../drbd/lifecycle/index.js';
import type { DrbdStatus, ResourceStatus, SyncProgress } from '../drbd/status-model.js';
import { lvmVersionOn, readLvs, readVgs, runnerOf, validateLvName, type LogicalVolume, type VolumeGroup } from '../lvm/index.js';
import { ResourceStateError, performActions, type Action, type OperationResult } from './actions.js';
import type { DrbdResource } from './drbd-resource.js';
import { lvRefFromPath } from './growth/topology.js';
import { assertNotInUse } from './runtime-safety.js';

/** The rule that refuses to discard data it cannot keep a copy of. */
export const SPLIT_BRAIN_SNAPSHOT_RULE = 'split-brain-snapshot-room';
/** Tag on every snapshot hastor takes before discarding (find them with `lvs @hastor_split_brain`). */
export const SPLIT_BRAIN_SNAPSHOT_TAG = 'hastor_split_brain';
/** Classic snapshots use 4 KiB chunks so the room they need can be computed (lvcreate's default, stated). */
const CHUNK_BYTES = 4096n;
/** One exception entry of a classic snapshot's store is 16 bytes: 256 per 4 KiB metadata chunk. */
const EXCEPTIONS_PER_CHUNK = CHUNK_BYTES / 16n;

export interface BackingVolume {
  volume: number;
  minor: number;
  /** The disk path of the resource's configuration. */
  disk: string;
  vg: string;
  lv: string;
  sizeBytes: bigint;
  /** The thin pool holding the LV; null for a linear (classic) LV. */
  thinPool: string | null;
  vgFreeBytes: bigint;
  vgExtentBytes: bigint;
}

export interface SplitBrainVolume {
  volume: number;
  minor: number;
  /** Null when the resource is not up or the read failed (see `problems`). */
  identifiers: GenerationIdentifiers | null;
  /** show-gi's text as printed (with its legend). */
  showGi: string | null;
  /** Bytes this side wrote since the split (its bitmap's out-of-sync count); null when not reported. */
  changedBytes: bigint | null;
}

export interface SplitBrainSide {
  node: string;
  /** Null when the resource is not up there. */
  status: ResourceStatus | null;
  role: string | null;
  state: string;
  volumes: SplitBrainVolume[];
  /** Sum over the volumes; null when a volume's count is not reported. */
  changedBytes: bigint | null;
  /** The kernel's split-brain records for this resource, oldest first (superseded ones were followed by a reconnect). */
  kernelRecords: SplitBrainRecord[];
  /** The tier-1 LVs under the volumes; null when a disk is not an LVM LV or lvm could not be read (see `problems`). */
  backing: BackingVolume[] | null;
  problems: string[];
}

export interface NewerWrites {
  /** The side with the newer (more) writes, or null when it cannot be told. */
  node: string | null;
  why: string;
}

export interface SplitBrainReport {
  resource: string;
  /** Both sides StandAlone and a kernel record of the split brain on at least one. */
  splitBrain: boolean;
  /** Why it is not a split brain (empty when it is). */
  notSplitBrain: string;
  /** Per volume, in order, how the two sides' data relate. */
  relations: GenerationRelation[];
  sides: SplitBrainSide[];
  newer: NewerWrites;
}

export interface VictimChoice {
  /** The node whose writes since the split are discarded (after a snapshot). */
  victim?: string;
  /** The side with fewer changes since the split is the victim; refused on a tie. */
  keepMostChanges?: boolean;
}

export interface ChosenVictim {
  victim: string;
  survivor: string;
  why: string;
}

export interface SplitBrainSnapshot {
  node: string;
  vg: string;
  /** The origin: the victim's tier-1 LV. */
  origin: string;
  name: string;
  kind: 'classic' | 'thin';
  /** Classic: the snapshot's size (what the VG gives up); thin: null (the pool's space is used as blocks change). */
  sizeBytes: bigint | null;
  /** How the size was chosen, for the report. */
  sizing: string;
}

export interface ResolveSplitBrainOptions extends VictimChoice {
  dryRun?: boolean;
  /** false: discard without a snapshot (the CLI asks for --no-snapshot --yes). Default true. */
  snapshot?: boolean;
  /**
   * Classic snapshot size in bytes. Default: room for every block of the
   * origin to change (the application keeps writing through the survivor
   * while the snapshot lives, and every first write of a block copies it).
   */
  snapshotSizeBytes?: bigint;
  /** For the snapshot's name; default now. */
  now?: Date;
  pollIntervalMs?: number;
  /** Until the victim is Secondary. Default 30 s. */
  roleTimeoutMs?: number;
  /** Until both sides are Connected after the connects. Default 60 s. */
  connectTimeoutMs?: number;
  /** Until the resync ends. Default 10 min. */
  syncTimeoutMs?: number;
  /** Called at every state read while the resync runs. */
  onProgress?: (progress: SplitBrainProgress) => void;
  /** A report inspectSplitBrain just returned, used instead of reading again; dry runs only (a real run always reads afresh). */
  report?: SplitBrainReport;
}

export interface SplitBrainProgress {
  node: string;
  replicationState: string | null;
  sync: SyncProgress | null;
  outOfSyncBytes: bigint | null;
}

export interface SplitBrainResult extends OperationResult {
  report: SplitBrainReport;
  choice: ChosenVictim;
  /** One per volume of the victim; empty with snapshot: false. */
  snapshots: SplitBrainSnapshot[];
}

type States = Record<string, ResourceStatus | null>;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function isDrbd8(generation: DrbdGeneration | null): boolean {
  return generation === '8.4' || generation === '8.3';
}

/** `oos:` of one minor in /proc/drbd (8.x): the bitmap's count, readable while StandAlone. */
function procOutOfSync(proc: DrbdStatus, minor: number): bigint | null {
  for (const r of proc.resources) {
    const device = r.devices.find((d) => d.minor === minor);
    if (device === undefined) continue;
    const peers = r.connections.flatMap((c) => c.peerDevices).filter((p) => p.volume === device.volume || p.volume === null);
    return peers.find((p) => p.outOfSyncBytes !== null)?.outOfSyncBytes ?? null;
  }
  return null;
}

/** Events2's out-of-sync count for one volume (DRBD 9 keeps it per peer device while StandAlone). */
function events2OutOfSync(status: ResourceStatus | null, volume: number): bigint | null {
  if (status === null) return null;
  let total: bigint | null = null;
  for (const c of status.connections) for (const p of c.peerDevices) if (p.volume === volume && p.outOfSyncBytes !== null) total = (total ?? 0n) + p.outOfSyncBytes;
  return total;
}

function nodeVolumes(resource: DrbdResource, node: string) {
  return resource.definition.nodes.find((n) => n.name === node)?.volumes ?? [];
}

async function readBacking(resource: DrbdResource, node: string, problems: string[]): Promise<BackingVolume[] | null> {
  const executor = resource.cluster.node(node).executor;
  const volumes = nodeVolumes(resource, node);
  const refs: Array<{ volume: number; minor: number; disk: string; vg: string; lv: string }> = [];
  for (const v of volumes) {
    if (v.disk === 'none') {
      problems.push(`volume ${v.volume} is diskless on ${node}: nothing to snapshot`);
      return null;
    }
    let ref = lvRefFromPath(v.disk);
    if (ref === null) {
      // A symlink (/dev/disk/by-id/…, /dev/mapper/…) may still name an LV.
      const resolved = (await executor.run(['readlink', '-f', '--', v.disk], { timeoutMs: 10_000 })).stdout.trim();
      ref = lvRefFromPath(resolved);
    }
    if (ref === null) {
      problems.push(`backing disk ${v.disk} of volume ${v.volume} on ${node} is not an LVM LV, so hastor cannot snapshot it`);
      return null;
    }
    refs.push({ volume: v.volume, minor: v.minor, disk: v.disk, ...ref });
  }
  try {
    const version = await lvmVersionOn(executor);
    const { exec } = runnerOf(executor);
    const lvs = await readLvs({ version, exec, lvs: refs.map((r) => ({ vg: r.vg, lv: r.lv })) });
    const vgs = await readVgs({ version, exec, vgs: [...new Set(refs.map((r) => r.vg))] });
    return refs.map((r) => {
      const lv = lvs.items.find((l: LogicalVolume) => l.vgName === r.vg && l.name === r.lv);
      const vg = vgs.items.find((g: VolumeGroup) => g.name === r.vg);
      if (lv === undefined || vg === undefined) throw new Error(`lvs does not list ${r.vg}/${r.lv}`);
      return { ...r, sizeBytes: lv.sizeBytes, thinPool: lv.volumeType === 'V' ? lv.poolLv : null, vgFreeBytes: vg.freeBytes, vgExtentBytes: vg.extentSizeBytes };
    });
  } catch (error) {
    problems.push(`${node}: lvm could not be read: ${(error as Error).message}`);
    return null;
  }
}

async function readVolume(resource: DrbdResource, node: string, status: ResourceStatus | null, generation: DrbdGeneration | null, v: { volume: number; minor: number }, problems: string[]) {
  if (status === null) return { identifiers: null, showGi: null };
  const peer = resource.nodeNames.find((n) => n !== node);
  try {
    const gi = await resource.cluster.drbd(node).generationIdentifiers(showGiArgv(generation, { resource: resource.name, minor: v.minor, volume: v.volume, ...(peer === undefined ? {} : { peer }) }));
    return { identifiers: gi.identifiers, showGi: gi.text };
  } catch (error) {
    problems.push(`show-gi of volume ${v.volume}: ${(error as Error).message}`);
    return { identifiers: null, showGi: null };
  }
}

async function readSide(resource: DrbdResource, node: string, status: ResourceStatus | null): Promise<SplitBrainSide> {
  const drbd = resource.cluster.drbd(node);
  const problems: string[] = [];
  const generation = (await drbd.versions()).generation;
  const volumes = nodeVolumes(resource, node);
  // Independent reads at once: over ssh each is a round trip.
  const [proc, gis, kernelLog, backing] = await Promise.all([
    status !== null && isDrbd8(generation) ? drbd.procDrbd() : Promise.resolve(null),
    Promise.all(volumes.map((v) => readVolume(resource, node, status, generation, v, problems))),
    drbd.kernelLog(),
    readBacking(resource, node, problems),
  ]);
  const read: SplitBrainVolume[] = volumes.map((v, i) => ({
    volume: v.volume,
    minor: v.minor,
    ...(gis[i] as { identifiers: GenerationIdentifiers | null; showGi: string | null }),
    changedBytes: proc !== null ? procOutOfSync(proc, v.minor) : events2OutOfSync(status, v.volume),
  }));
  const changed = read.some((v) => v.changedBytes === null) ? null : read.reduce((a, v) => a + (v.changedBytes as bigint), 0n);
  return {
    node,
    status,
    role: status?.role ?? null,
    state: describeState(status),
    volumes: read,
    changedBytes: changed,
    kernelRecords: splitBrainRecords(kernelLog, { resource: resource.name, minors: volumes.map((v) => v.minor) }),
    backing,
    problems,
  };
}

/** Pure: which side holds the newer writes, and why (or why it cannot be told). */
export function newerWrites(sides: readonly SplitBrainSide[], relations: readonly GenerationRelation[]): NewerWrites {
  const [a, b] = sides;
  if (a === undefined || b === undefined) return { node: null, why: 'a split brain needs two sides' };
  if (relations.length > 0 && relations.every((r) => r === 'first-newer')) return { node: a.node, why: `${b.node}'s data is an ancestor of ${a.node}'s (generation UUIDs): ${a.node} is newer` };
  if (relations.length > 0 && relations.every((r) => r === 'second-newer')) return { node: b.node, why: `${a.node}'s data is an ancestor of ${b.node}'s (generation UUIDs): ${b.node} is newer` };
  if (a.changedBytes === null || b.changedBytes === null) return { node: null, why: 'cannot be told: a side does not report its out-of-sync count' };
  const counts = `${a.node} changed ${a.changedBytes} bytes, ${b.node} ${b.changedBytes} bytes since the split`;
  if (a.changedBytes === b.changedBytes) return { node: null, why: `cannot be told: ${counts}; DRBD does not record which writes came later` };
  const most = a.changedBytes > b.changedBytes ? a : b;
  return { node: most.node, why: `${most.node} holds the most changes (${counts}); DRBD does not record which side wrote last` };
}

/** Pure: split brain or not, and why not. */
export function splitBrainVerdict(sides: readonly SplitBrainSide[]): { splitBrain: boolean; why: string } {
  const notUp = sides.filter((s) => s.status === null);
  if (notUp.length > 0) return { splitBrain: false, why: `the resource is not up on ${notUp.map((s) => s.node).join(', ')}` };
  const connected = sides.filter((s) => !isStandAlone(s.status));
  if (connected.length > 0) return { splitBrain: false, why: `not StandAlone on ${connected.map((s) => `${s.node} (${s.state})`).join(', ')}; a split brain leaves both sides StandAlone` };
  if (sides.every((s) => s.kernelRecords.every((r) => r.superseded))) {
    const old = sides.some((s) => s.kernelRecords.length > 0) ? ' since it last connected' : '';
    return { splitBrain: false, why: `both sides are StandAlone, but neither kernel log has a "Split-Brain detected" record for it${old} (disconnected by hand? then \`hastor resource connect\`)` };
  }
  return { splitBrain: true, why: '' };
}

/** Reads both sides; does not change anything. */
export async function inspectSplitBrain(resource: DrbdResource): Promise<SplitBrainReport> {
  const names = resource.nodeNames;
  if (names.length !== 2) throw new ConfigError(`split-brain resolution handles two-node resources; ${resource.name} has ${plural(names.length, 'node')}`);
  const states = await resource.states();
  const sides = await Promise.all(names.map((n) => readSide(resource, n, states[n] ?? null)));
  const [a, b] = sides as [SplitBrainSide, SplitBrainSide];
  const relations = a.volumes.map((v, i) => {
    const other = b.volumes[i]?.identifiers ?? null;
    return v.identifiers === null || other === null ? 'unrelated' : compareGenerations(v.identifiers, other);
  });
  const verdict = splitBrainVerdict(sides);
  return { resource: resource.name, splitBrain: verdict.splitBrain, notSplitBrain: verdict.why, relations, sides, newer: newerWrites(sides, relations) };
}

/** Refuses with the state when the report is no split brain. */
export function assertSplitBrain(report: SplitBrainReport): void {
  if (report.splitBrain) return;
  throw new ResourceStateError(report.resource, `${report.resource} is not in a split brain: ${report.notSplitBrain} (${report.sides.map((s) => `${s.node}: ${s.state}`).join('; ')})`);
}

/** Pure: the victim from the operator's name or the stated rule; a ConfigError says how to choose. */
export function chooseVictim(report: SplitBrainReport, choice: VictimChoice): ChosenVictim {
  const names = report.sides.map((s) => s.node);
  const how = `name the victim with victim: NODE (--victim NODE; one of ${names.join(', ')}) or choose keepMostChanges (--keep-most-changes: the side with fewer changes since the split is discarded)`;
  if (choice.victim !== undefined && choice.keepMostChanges) throw new ConfigError('choose the victim one way: a named victim or keepMostChanges, not both', [how]);
  if (choice.victim !== undefined) {
    if (!names.includes(choice.victim)) throw new ConfigError(`${choice.victim} is not a node of ${report.resource}`, [how]);
    const survivor = names.find((n) => n !== choice.victim) as string;
    return { victim: choice.victim, survivor, why: `named by the operator; ${survivor}'s data is kept` };
  }
  if (choice.keepMostChanges) {
    const [a, b] = report.sides as [SplitBrainSide, SplitBrainSide];
    if (a.changedBytes === null || b.changedBytes === null) {
      throw new ConfigError('keepMostChanges cannot decide: a side does not report how much it changed since the split', [how.replace(/ or choose.*/, '')]);
    }
    if (a.changedBytes === b.changedBytes) {
      throw new ConfigError(`keepMostChanges cannot decide: both sides changed ${a.changedBytes} bytes since the split`, [how.replace(/ or choose.*/, '')]);
    }
    const [keep, drop] = a.changedBytes > b.changedBytes ? [a, b] : [b, a];
    return { victim: drop.node, survivor: keep.node, why: `keep most changes: ${keep.node} changed ${keep.changedBytes} bytes, ${drop.node} ${drop.changedBytes} bytes since the split` };
  }
  throw new ConfigError(`choose which side of ${report.resource} loses its writes since the split (they are kept in an LVM snapshot first)`, [how]);
}

/** `<lv>_sb_<UTC yyyymmddhhmmss>`: sorts by time, and says what it is. */
export function snapshotName(lv: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return validateLvName(`${lv}_sb_${stamp}`);
}

const roundUp = (value: bigint, unit: bigint): bigint => ((value + unit - 1n) / unit) * unit;

/**
 * Bytes a classic snapshot with 4 KiB chunks needs so that every block of
 * the origin can change without the snapshot filling up (which would make
 * it invalid): a chunk per origin chunk, the exception table, its header,
 * rounded up to whole extents.
 */
export function fullSnapshotBytes(originBytes: bigint, extentBytes: bigint): bigint {
  const chunks = roundUp(originBytes, CHUNK_BYTES) / CHUNK_BYTES;
  const tableChunks = roundUp(chunks, EXCEPTIONS_PER_CHUNK) / EXCEPTIONS_PER_CHUNK;
  return roundUp((chunks + tableChunks + 1n) * CHUNK_BYTES, extentBytes);
}

/** Pure: the snapshots to take on the victim, or a SafetyError with the numbers when its VG lacks the room. */
export function planSnapshots(resource: string, victim: string, backing: readonly BackingVolume[], options: { now: Date; sizeBytes?: bigint }): SplitBrainSnapshot[] {
  const snapshots = backing.map((b): SplitBrainSnapshot => {
    const name = snapshotName(b.lv, options.now);
    if (b.thinPool !== null) {
      return { node: victim, vg: b.vg, origin: b.lv, name, kind: 'thin', sizeBytes: null, sizing: `thin snapshot in pool ${b.thinPool}: takes pool space only as blocks change` };
    }
    if (options.sizeBytes !== undefined) {
      const size = roundUp(options.sizeBytes, b.vgExtentBytes);
      return { node: victim, vg: b.vg, origin: b.lv, name, kind: 'classic', sizeBytes: size, sizing: `${size} bytes as asked (${((Number(size) * 100) / Number(b.sizeBytes)).toFixed(1)}% of the ${b.sizeBytes}-byte origin); it becomes invalid if more changes than that` };
    }
    const size = fullSnapshotBytes(b.sizeBytes, b.vgExtentBytes);
    return { node: victim, vg: b.vg, origin: b.lv, name, kind: 'classic', sizeBytes: size, sizing: `room for all ${b.sizeBytes} bytes of the origin to change (4 KiB chunks and their exception table), so it cannot fill up` };
  });
  // Several volumes may share a VG: their snapshots add up.
  const needed = new Map<string, bigint>();
  for (const s of snapshots) if (s.sizeBytes !== null) needed.set(s.vg, (needed.get(s.vg) ?? 0n) + s.sizeBytes);
  for (const [vg, bytes] of needed) {
    const free = backing.find((b) => b.vg === vg)?.vgFreeBytes ?? 0n;
    if (bytes > free) {
      throw new SafetyError(
        SPLIT_BRAIN_SNAPSHOT_RULE,
        `${victim}: refusing to discard ${victim}'s writes to ${resource}: the snapshot that keeps them needs ${bytes} bytes in VG ${vg}, which has ${free} bytes free (${bytes - free} bytes short). Add a PV to ${vg} (vgextend), free space there, or ask for a smaller snapshot (library: snapshotSizeBytes)`,
        '--no-snapshot --yes (library: snapshot: false) discards them without a copy',
      );
    }
  }
  return snapshots;
}

export function snapshotArgv(snapshot: SplitBrainSnapshot): string[] {
  const origin = `${snapshot.vg}/${snapshot.origin}`;
  if (snapshot.kind === 'thin') return ['lvcreate', '-s', '-n', snapshot.name, '--addtag', SPLIT_BRAIN_SNAPSHOT_TAG, origin];
  return ['lvcreate', '-s', '-n', snapshot.name, '-c', '4k', '-L', `${snapshot.sizeBytes}b`, '--addtag', SPLIT_BRAIN_SNAPSHOT_TAG, origin];
}

/** `connect --discard-my-data`: 8.4 and 9 take the option after the command; 8.3 only before it. */
export function discardMyDataArgv(resource: string, generation: DrbdGeneration | null): string[] {
  const name = assertResourceName(resource);
  if (generation === '8.3') return ['drbdadm', '--', '--discard-my-data', 'connect', name];
  return ['drbdadm', 'connect', '--discard-my-data', name];
}

export interface PlanInput {
  report: SplitBrainReport;
  choice: ChosenVictim;
  snapshots: readonly SplitBrainSnapshot[];
  generation: DrbdGeneration | null;
}

/** Pure: the actions, in order: snapshot, demote, discard-connect, connect. */
export function planResolution({ report, choice, snapshots, generation }: PlanInput): Action[] {
  const victim = report.sides.find((s) => s.node === choice.victim) as SplitBrainSide;
  const survivor = report.sides.find((s) => s.node === choice.survivor) as SplitBrainSide;
  const changed = victim.changedBytes === null ? 'its writes since the split' : `its ${victim.changedBytes} bytes written since the split`;
  const actions: Action[] = snapshots.map((s) => ({
    node: s.node,
    argv: snapshotArgv(s),
    reason: `keep ${choice.victim}'s data readable before it is discarded (${s.sizing})`,
  }));
  if (isPrimary(victim.status)) actions.push({ node: choice.victim, argv: drbdadm('secondary', report.resource), reason: `${choice.victim} is Primary; --discard-my-data needs it Secondary` });
  actions.push({
    node: choice.victim,
    argv: discardMyDataArgv(report.resource, generation),
    reason: `${choice.victim} is the victim (${choice.why}): reconnect, discarding ${changed}${snapshots.length > 0 ? ` (kept in ${snapshots.map((s) => `${s.vg}/${s.name}`).join(', ')})` : ' (no snapshot)'}`,
  });
  if (isStandAlone(survivor.status)) actions.push({ node: choice.survivor, argv: drbdadm('connect', report.resource), reason: `${choice.survivor} keeps its data and becomes the resync source` });
  return actions;
}

/**
 * Resolves the split brain of a two-node resource. Refused (nothing changed)
 * when it is not a split brain, when no victim is chosen, when the survivor
 * has no UpToDate data, when the victim's device is in use, or when the
 * victim's VG has no room for the snapshot (unless `snapshot: false`).
 */
export async function resolveSplitBrain(resource: DrbdResource, options: ResolveSplitBrainOptions = {}): Promise<SplitBrainResult> {
  const operation = 'resolveSplitBrain';
  const dryRun = options.dryRun ?? false;
  const report = dryRun && options.report !== undefined ? options.report : await inspectSplitBrain(resource);
  assertSplitBrain(report);
  const choice = chooseVictim(report, options);
  const states: States = Object.fromEntries(report.sides.map((s) => [s.node, s.status]));
  const victim = report.sides.find((s) => s.node === choice.victim) as SplitBrainSide;
  if (!hasUpToDateData(states[choice.survivor])) {
    throw new ResourceStateError(resource.name, `${choice.survivor} would be the resync source but has no UpToDate data (${describeState(states[choice.survivor])}); choose the other side, or repair its disk first`);
  }
  if (isPrimary(victim.status)) {
    for (const v of nodeVolumes(resource, choice.victim)) {
      assertNotInUse(choice.victim, resource.name, 'demote (to discard its data)', await resource.cluster.drbd(choice.victim).deviceUse(v.minor, v.device));
    }
  }
  let snapshots: SplitBrainSnapshot[] = [];
  if (options.snapshot !== false) {
    if (victim.backing === null) {
      throw new SafetyError(
        SPLIT_BRAIN_SNAPSHOT_RULE,
        `${choice.victim}: refusing to discard ${choice.victim}'s writes to ${resource.name} without a copy: ${victim.problems.join('; ') || 'its backing LV is unknown'}`,
        '--no-snapshot --yes (library: snapshot: false) discards them without a copy',
      );
    }
    snapshots = planSnapshots(resource.name, choice.victim, victim.backing, { now: options.now ?? new Date(), ...(options.snapshotSizeBytes === undefined ? {} : { sizeBytes: options.snapshotSizeBytes }) });
  }
  const generation = (await resource.cluster.drbd(choice.victim).versions()).generation;
  const plan = planResolution({ report, choice, snapshots, generation });
  const result = (actions: Action[], state: States, dry: boolean): SplitBrainResult => ({ resource: resource.name, operation, dryRun: dry, actions, state, report, choice, snapshots });
  if (dryRun) return result(plan, states, true);

  const done: Action[] = [];
  const names = resource.nodeNames;
  const interval = options.pollIntervalMs ?? 250;
  const describe = (s: States) => Object.entries(s).map(([n, v]) => `${n}: ${describeState(v)}`).join('; ');
  const settle = (what: string, test: (s: States) => boolean, timeoutMs: number) => pollUntil(() => resource.states(), test, { what, timeoutMs, intervalMs: interval, describe });
  const [snapshotActions, rest] = [plan.filter((a) => a.argv[0] === 'lvcreate'), plan.filter((a) => a.argv[0] !== 'lvcreate')];
  await performActions(resource.cluster, operation, snapshotActions, done);
  const demote = rest.filter((a) => a.argv[1] === 'secondary');
  await performActions(resource.cluster, operation, demote, done);
  if (demote.length > 0) await settle(`${choice.victim} Secondary`, (s) => s[choice.victim]?.role === 'Secondary', options.roleTimeoutMs ?? 30_000);
  await performActions(resource.cluster, operation, rest.filter((a) => a.argv[1] !== 'secondary'), done);
  await settle(`${resource.name} connected on ${names.join(', ')}`, (s) => names.every((n) => isConnected(s[n])), options.connectTimeoutMs ?? 60_000);
  const final = await settle(
    `${resource.name} in sync after discarding ${choice.victim}'s data`,
    (s) => {
      if (options.onProgress !== undefined) {
        const peer = s[choice.victim]?.connections.flatMap((c) => c.peerDevices)[0];
        options.onProgress({ node: choice.victim, replicationState: peer?.replicationState ?? null, sync: peer?.sync ?? null, outOfSyncBytes: outOfSyncBytes(s[choice.victim]) });
      }
      return names.every((n) => isInSync(s[n])) && !names.some((n) => isResyncing(s[n]));
    },
    options.syncTimeoutMs ?? 600_000,
  );
  return result(done, final, false);
}
