/**
 * Reads the live state of every tier a growth touches into the planner's
 * GrowthState: tier-1 VG/LV on each node, DRBD as each node sees it (size
 * from sysfs, which a DRBD 8.4 Secondary allows), tier-2 VG/LV on the nodes
 * where DRBD is Primary (with the size of each active device-mapper device),
 * and the guest's disk, VG, LV and filesystem.
 */
import { ConfigError, ParseError } from '../../errors.js';
import { isResyncing, isResyncState, type DrbdNode } from '../../drbd/lifecycle/index.js';
import type { ReplicationState } from '../../drbd/states.js';
import { deviceViews, type DeviceView, type ResourceStatus, type SyncProgress } from '../../drbd/status-model.js';
import { readFullReport, type FullReportVg, type LogicalVolume, type PhysicalVolume, type VolumeGroup } from '../../lvm/report.js';
import { LvmRunnerPool } from '../../lvm/executor-runner.js';
import { lvLockModeOn } from '../../lvm/lvmlockctl.js';
import { lvmVersionOn, type LvmVersionInfo } from '../../lvm/version.js';
import { probeBlockDevice, sysfsBlockBytes, sysfsDevBytes, type BlockDeviceInfo } from '../../sys/block-device.js';
import { readingThrough, ReadShell } from '../../sys/read-shell.js';
import { parseProcDrbd } from '../../drbd/proc-drbd.js';
import { dmName, lvPath } from '../../lvm/names.js';
import type { Executor } from '../../sys/executor.js';
import { fsGeometry, mountOf } from '../../sys/filesystem.js';
import type { GrowthTopology } from './topology.js';
import type { DrbdNodeState, GrowthState, GuestState, Tier1NodeState, Tier2State } from './types.js';

export interface DrbdSyncView {
  node: string;
  replicationState: ReplicationState | null;
  sync: SyncProgress | null;
}

/** What a state read returns beside the planner's state: the sync progress per node, for display. */
export interface GrowthReading {
  state: GrowthState;
  sync: DrbdSyncView[];
}

/** The VGs one fullreport found, and what lvm said about the others. */
interface VgReports {
  vgs: Map<string, FullReportVg>;
  problems: string[];
}

/** Reads of tier 2 started before DRBD said where it is Primary: the metadata on one node, the LV's device on each. */
interface Tier2Early {
  metadataNode: string;
  metadata: Promise<Tier2Metadata>;
  devices: Map<string, Promise<BlockDeviceInfo | null>>;
}

interface Tier2Metadata {
  vg: VolumeGroup;
  pv: PhysicalVolume;
  lv: LogicalVolume | undefined;
}

export interface GrowthReaderOptions {
  /**
   * Read LVM through one persistent lvm shell per node (started by warm(), or by
   * discovery when it shares its pool; ended by close()) instead of one lvm process per
   * read; until a node's shell is up, its reads fork. Default true; a node whose executor
   * cannot keep a process, or where the shell does not start, reads fork-per-call.
   */
  lvmShell?: boolean;
  /** Runners shared with discovery (shells warmed there); the caller closes them. */
  lvm?: LvmRunnerPool;
}

/** Reads a topology's state; remembers each active LV's device numbers so a step's check can read its size from sysfs. */
export class GrowthStateReader {
  /** `${node}:${vg}/${lv}` → the LV's device numbers, from the last report that showed it active. */
  private readonly lvDevices = new Map<string, { major: number; minor: number }>();
  /** Per node: an lvm start costs more than a report in a slow VM, so one shell serves every read. */
  private readonly lvmRunners: LvmRunnerPool;
  private readonly ownsRunners: boolean;
  /** Per node: the checks and resync polls read sysfs and /proc/drbd through one shell, not a process each. */
  private readonly readShells = new Map<Executor, ReadShell>();

  constructor(
    readonly topology: GrowthTopology,
    options: GrowthReaderOptions = {},
  ) {
    this.ownsRunners = options.lvm === undefined;
    this.lvmRunners = options.lvm ?? new LvmRunnerPool(options.lvmShell ?? true);
  }

  /**
   * Starts the lvm shell and the read shell on every node and the guest where none runs
   * (while they wait on a resync, say): the checks after it read through them.
   */
  warm(): void {
    const topo = this.topology;
    for (const executor of [...topo.cluster.nodes.map((n) => n.executor), ...(topo.guest === null ? [] : [topo.guest.executor])]) {
      this.lvmRunners.warm(executor);
      this.readShellOf(executor).start();
    }
  }

  /** Ends the read shells, and the lvm shells this reader started (not a pool it was given); a later read starts them again. */
  async close(): Promise<void> {
    for (const shell of this.readShells.values()) shell.close();
    this.readShells.clear();
    if (this.ownsRunners) await this.lvmRunners.close();
  }

  private readShellOf(executor: Executor): ReadShell {
    let shell = this.readShells.get(executor);
    if (shell === undefined) {
      shell = new ReadShell(executor);
      this.readShells.set(executor, shell);
    }
    return shell;
  }

  /** The executor with its plain file reads through the node's read shell. */
  private reading(executor: Executor): Executor {
    return readingThrough(executor, this.readShellOf(executor));
  }

  /**
   * Every tier, all at once. Tier 2 is read while DRBD is read: its metadata, which every
   * node shares, on the first node (where discovery found it), and its LV's device on every
   * node; what DRBD then shows is not a Primary is dropped or read again on a Primary.
   */
  async read(): Promise<GrowthReading> {
    const topo = this.topology;
    // The lvm reports, the longest reads, are asked for first: a small node starts one process
    // at a time, in the order asked. Their versions are known by now (discovery read them).
    const versions = new Map(await Promise.all(topo.tier1.map(async (t) => [t.node, await lvmVersionOn(topo.cluster.node(t.node).executor).catch(() => undefined)] as const)));
    const guestRead = topo.guest === null ? Promise.resolve(undefined) : this.readGuest();
    const metadataNode = this.tier2MetadataNode();
    // One lvm process per node, for both VGs on the node that reads tier 2 (in a slow VM an
    // lvm start costs more than its report). Tier 2 on one node only: two nodes taking a
    // shared VG's lock at the same moment can make lvmlockd wait seconds for sanlock.
    const reports = new Map<string, Promise<VgReports>>();
    for (const t of topo.tier1) {
      const vgs = topo.tier2 === null || t.node !== metadataNode ? [t.vg] : [t.vg, topo.tier2.vg];
      const report = this.fullReports(topo.cluster.node(t.node).executor, vgs, t.node, versions.get(t.node));
      report.catch(() => undefined); // each reader below awaits it and decides
      reports.set(t.node, report);
    }
    let early: Tier2Early | undefined;
    if (topo.tier2 !== null) {
      const metadata = this.readTier2Metadata(metadataNode, reports.get(metadataNode));
      metadata.catch(() => undefined); // awaited below only if DRBD is Primary there
      early = { metadataNode, metadata, devices: new Map(topo.tier1.map((t) => [t.node, this.probeTier2Device(t.node)])) };
    }
    const [tier1Reads, drbd] = await Promise.all([Promise.all(topo.tier1.map((t) => this.readTier1(t, reports.get(t.node)).catch(unreachableOr))), this.readDrbd()]);
    const tier1 = tier1Reads.filter((t): t is Tier1NodeState => t !== null);
    const tier2 = topo.tier2 === null ? undefined : await this.readTier2(primariesOf(drbd.state), early);
    const guest = await guestRead;
    const state: GrowthState = { tier1, drbd: drbd.state, ...(tier2 === undefined ? {} : { tier2 }), ...(guest === undefined ? {} : { guest }) };
    return { state, sync: drbd.sync };
  }

  /**
   * `previous` with only what `step` changes read again: enough for the step's check at a
   * fraction of a full read. An LV's new size is its device-mapper device's size in sysfs
   * (lvextend reloads the active table), not another lvm command; VG and PV sizes, which
   * exist only in LVM's metadata, are read from lvm.
   */
  async refreshAfter(step: { id: string; tier: 1 | 'drbd' | 2 | 3; node: string }, previous: GrowthReading): Promise<GrowthReading> {
    const state: GrowthState = { ...previous.state };
    let sync = previous.sync;
    const kind = step.id.split('@')[0];
    if (step.tier === 1) {
      const t = this.topology.tier1.find((x) => x.node === step.node);
      if (t === undefined) return this.read();
      const old = previous.state.tier1.find((x) => x.node === step.node);
      const size = old === undefined ? null : await this.lvDeviceBytes(this.topology.cluster.node(t.node).executor, step.node, t.vg, t.lv);
      const fresh: Tier1NodeState =
        old !== undefined && size !== null
          ? { node: old.node, vg: { ...old.vg, freeBytes: old.vg.freeBytes - (size - old.lv.sizeBytes) }, lv: { ...old.lv, sizeBytes: size } }
          : await this.readTier1(t);
      state.tier1 = [...previous.state.tier1.filter((x) => x.node !== step.node), fresh].sort((a, b) => this.tier1Order(a.node) - this.tier1Order(b.node));
    } else if (step.tier === 'drbd') {
      const drbd = await this.readDrbd(false);
      state.drbd = drbd.state;
      sync = drbd.sync;
    } else if (step.tier === 2 && this.topology.tier2 !== null) {
      const t2 = this.topology.tier2;
      const lv = previous.state.tier2?.lv;
      if ((kind === 'tier2-lvextend' || kind === 'tier2-refresh') && lv !== undefined && t2.lv !== null) {
        const size = await this.lvDeviceBytes(this.topology.cluster.node(step.node).executor, step.node, t2.vg, t2.lv);
        if (size === null) {
          state.tier2 = await this.readTier2(primariesOf(state.drbd));
        } else {
          const activeOn = lv.activeOn.map((a) => (a.node === step.node ? { node: a.node, deviceSizeBytes: size } : a));
          // lvextend changes the metadata size and, on its node, the active device alike.
          const sizeBytes = kind === 'tier2-lvextend' ? size : lv.sizeBytes;
          const vg = previous.state.tier2!.vg;
          state.tier2 = { vg: { ...vg, freeBytes: vg.freeBytes - (sizeBytes - lv.sizeBytes) }, lv: { ...lv, sizeBytes, activeOn } };
        }
      } else if (kind === 'tier2-pvresize' && previous.state.tier2 !== undefined) {
        // The VG's size is in the metadata every node shares: one report on the step's node, nothing else.
        const report = await this.fullReport(this.topology.cluster.node(step.node).executor, t2.vg, step.node);
        const pv = report.pvs.find((p) => p.name === this.topology.device);
        state.tier2 = {
          ...previous.state.tier2,
          vg: {
            ...previous.state.tier2.vg,
            sizeBytes: report.vg.sizeBytes,
            freeBytes: report.vg.freeBytes,
            peStartBytes: pv?.dataStartBytes ?? previous.state.tier2.vg.peStartBytes,
            pvSizeBytes: pv?.sizeBytes ?? previous.state.tier2.vg.pvSizeBytes,
          },
        };
      } else {
        state.tier2 = await this.readTier2(primariesOf(state.drbd));
      }
    } else if (step.tier === 3 && this.topology.guest !== null && previous.state.guest !== undefined) {
      const g = this.topology.guest;
      const old = previous.state.guest;
      if (kind === 'guest-rescan') {
        state.guest = { ...old, disk: { ...old.disk, sizeBytes: await sysfsBlockBytes(this.reading(g.executor), old.disk.device.replace(/^\/dev\//, '')) } };
      } else if (kind === 'guest-lvextend') {
        const size = await this.lvDeviceBytes(g.executor, g.node, g.vg, g.lv);
        state.guest = size === null ? await this.readGuest() : { ...old, vg: { ...old.vg, freeBytes: old.vg.freeBytes - (size - old.lv.sizeBytes) }, lv: { ...old.lv, sizeBytes: size } };
      } else if (kind === 'guest-pvresize') {
        // Only the VG's size changed, and it lives in the metadata: one lvm report.
        const report = await this.fullReport(g.executor, g.vg, g.node);
        state.guest = { ...old, vg: { ...old.vg, sizeBytes: report.vg.sizeBytes, freeBytes: report.vg.freeBytes } };
      } else if (kind === 'guest-fs-grow') {
        const fs = await fsGeometry(g.executor, old.fs.type, `/dev/${g.vg}/${g.lv}`, old.fs.mountpoint);
        state.guest = { ...old, fs: { ...old.fs, sizeBytes: fs.sizeBytes } };
      } else {
        state.guest = await this.readGuest();
      }
    } else if (step.tier === 3 && this.topology.guest !== null) {
      state.guest = await this.readGuest();
    }
    return { state, sync };
  }

  /** The active LV's device size from sysfs, by the numbers the last lvm report gave; null when not known. */
  private async lvDeviceBytes(executor: Executor, node: string, vg: string, lv: string): Promise<bigint | null> {
    const dev = this.lvDevices.get(`${node}:${vg}/${lv}`);
    return dev === undefined ? null : sysfsDevBytes(this.reading(executor), dev.major, dev.minor);
  }

  private rememberLvDevices(node: string, report: FullReportVg): void {
    for (const lv of report.lvs) {
      if (lv.kernelMajor !== null && lv.kernelMinor !== null && lv.kernelMajor >= 0 && lv.kernelMinor >= 0) {
        this.lvDevices.set(`${node}:${report.vg.name}/${lv.name}`, { major: lv.kernelMajor, minor: lv.kernelMinor });
      }
    }
  }

  /** DRBD alone, every node. */
  async readDrbdOnly(previous: GrowthReading): Promise<GrowthReading> {
    const drbd = await this.readDrbd();
    return { state: { ...previous.state, drbd: drbd.state }, sync: drbd.sync };
  }

  /**
   * While a resync runs: one node's view is enough, since a resync shows on both ends
   * (on 8.x /proc/drbd alone, one read and no process; else its status), and polling
   * every node would take CPU from the resync itself. When that view shows the resync
   * over, every node is read again to prove it.
   */
  async pollResync(previous: GrowthReading): Promise<GrowthReading> {
    const topo = this.topology;
    const node = previous.state.drbd.nodes.find((n) => n.unreachable === undefined && n.diskState !== 'DUnknown')?.node ?? topo.tier1[0]!.node;
    const drbd = topo.cluster.drbd(node);
    const fromProc = await this.procView(node);
    let replicationState: ReplicationState | null;
    let sync: SyncProgress | null;
    if (fromProc !== undefined) {
      replicationState = fromProc.replicationState;
      sync = fromProc.sync;
    } else {
      const peer = (await drbd.status(topo.resource))?.connections[0]?.peerDevices[0];
      replicationState = peer?.replicationState ?? null;
      sync = peer?.sync ?? null;
    }
    if (replicationState !== null && isResyncState(replicationState)) {
      return { state: { ...previous.state, drbd: { ...previous.state.drbd, resyncRunning: true } }, sync: [{ node, replicationState, sync }] };
    }
    return this.readDrbdOnly(previous);
  }

  /** The resource's device as one node's /proc/drbd shows it (8.x; on 9 it lists no devices). */
  private async procView(node: string): Promise<DeviceView | undefined> {
    const proc = await this.reading(this.topology.cluster.drbd(node).executor).readFile('/proc/drbd').then(parseProcDrbd).catch(() => null);
    return proc === null ? undefined : deviceViews(proc).find((d) => d.minor === this.topology.minor);
  }

  private tier1Order(node: string): number {
    return this.topology.tier1.findIndex((t) => t.node === node);
  }

  /** One `lvm fullreport` of the VG: VG, PVs and LVs under one VG lock (lvm commands are the slow part). */
  private async fullReport(executor: Executor, vg: string, node: string = executor.node, reports?: Promise<VgReports>): Promise<FullReportVg> {
    const read = await (reports ?? this.fullReports(executor, [vg], node));
    const found = read.vgs.get(vg);
    if (found === undefined) throw new ConfigError(`${executor.node}: VG ${vg} not found${read.problems.map((p) => `: ${p}`).join('')}`);
    return found;
  }

  /** One `lvm fullreport` of several VGs; a VG the node cannot read is missing from the map (the report names why). */
  private async fullReports(executor: Executor, vgs: string[], node: string, known?: LvmVersionInfo): Promise<VgReports> {
    const version = known ?? (await lvmVersionOn(executor));
    const report = await readFullReport({ version, exec: this.lvmRunners.runner(executor).exec, vgs });
    const found = new Map<string, FullReportVg>();
    for (const v of report.vgs) {
      if (!vgs.includes(v.vg.name)) continue;
      this.rememberLvDevices(node, v);
      found.set(v.vg.name, v);
    }
    if (found.size === 0) throw new ConfigError(`${executor.node}: VG ${vgs.join(', ')} not found${report.problems.map((p) => `: ${p}`).join('')}`);
    return { vgs: found, problems: report.problems };
  }

  private async readTier1(t: GrowthTopology['tier1'][number], reports?: Promise<VgReports>): Promise<Tier1NodeState> {
    const executor = this.topology.cluster.node(t.node).executor;
    const report = await this.fullReport(executor, t.vg, t.node, reports);
    const vg = report.vg;
    const lv = report.lvs.find((l) => l.name === t.lv);
    if (lv === undefined) throw new ConfigError(`${t.node}: tier-1 LV ${t.vg}/${t.lv} not found`);
    return { node: t.node, vg: { name: vg.name, extentBytes: vg.extentSizeBytes, sizeBytes: vg.sizeBytes, freeBytes: vg.freeBytes }, lv: { name: lv.name, sizeBytes: lv.sizeBytes } };
  }

  /** `withProgress: false` skips /proc/drbd's percent and ETA (a step's check needs the states only). */
  private async readDrbd(withProgress = true): Promise<{ state: GrowthState['drbd']; sync: DrbdSyncView[] }> {
    const topo = this.topology;
    const kernelName = `drbd${topo.minor}`;
    // Discovery took the minor from this node's configuration.
    const discoveredOn = topo.cluster.nodes[0]?.name;
    const per = await Promise.all(
      topo.tier1.map(async (t) => {
        const drbd: DrbdNode = topo.cluster.drbd(t.node);
        try {
          const status = await drbd.status(topo.resource);
          if (t.node === discoveredOn && status !== null && status.devices.length > 0 && !status.devices.some((d) => d.minor === topo.minor)) {
            throw new ConfigError(
              `${t.node}: DRBD runs ${topo.resource} on minor ${status.devices.map((d) => d.minor).join(', ')}, but its configuration says minor ${topo.minor}; apply the configuration (drbdadm adjust) before growing`,
            );
          }
          // events2's statistics carry the size; sysfs is one more command, for when they do not.
          const size = status?.devices[0]?.sizeBytes ?? (await sysfsBlockBytes(drbd.executor, kernelName).catch(() => null));
          return { node: t.node, status, size, unreachable: undefined };
        } catch (error) {
          unreachableOr(error);
          return { node: t.node, status: null, size: null, unreachable: (error as Error).message.split('\n')[0] };
        }
      }),
    );
    const nodes: DrbdNodeState[] = per.map(({ node, status, unreachable }) => ({ ...nodeView(node, status), ...(unreachable === undefined ? {} : { unreachable }) }));
    const sizes = per.map((p) => p.size).filter((s): s is bigint => s !== null && s > 0n);
    const sync = await Promise.all(
      per.map(async ({ node, status }) => {
        const peer = status?.connections[0]?.peerDevices[0];
        const replicationState = peer?.replicationState ?? null;
        let progress = peer?.sync ?? null;
        // DRBD 8.x events2 has no percent or ETA; /proc/drbd has both (one read, no process).
        if (withProgress && replicationState !== null && isResyncState(replicationState) && (progress === null || progress.etaSeconds === null)) {
          const fromProc = (await this.procView(node))?.sync;
          if (fromProc != null) progress = fromProc;
        }
        return { node, replicationState, sync: progress };
      }),
    );
    const resyncRunning = per.some((p) => isResyncing(p.status));
    return {
      state: { resource: topo.resource, device: topo.device, sizeBytes: sizes.length === 0 ? 0n : sizes.reduce((a, b) => (a < b ? a : b)), resyncRunning, nodes },
      sync,
    };
  }

  /** The node that reads tier 2's metadata: discovery's node when it backs DRBD, else the first that does. */
  private tier2MetadataNode(): string {
    const topo = this.topology;
    const first = topo.cluster.nodes[0]?.name;
    return topo.tier1.find((t) => t.node === first)?.node ?? topo.tier1[0]!.node;
  }

  /** The tier-2 VG, its one PV and the LV, from one node's report (the metadata every node shares). */
  private async readTier2Metadata(node: string, reports?: Promise<VgReports>): Promise<Tier2Metadata> {
    const topo = this.topology;
    const t2 = topo.tier2!;
    const report = await this.fullReport(topo.cluster.node(node).executor, t2.vg, node, reports);
    const pv = report.pvs.find((p) => p.name === topo.device);
    const lv = t2.lv === null ? undefined : report.lvs.find((l) => l.name === t2.lv);
    if (pv === undefined || report.pvs.length !== 1) {
      throw new ConfigError(`${node}: a tier-2 VG for growth has exactly one PV, the DRBD device ${topo.device}; ${t2.vg} has ${report.pvs.map((p) => p.name).join(', ') || 'none'}`);
    }
    if (t2.lv !== null && lv === undefined) throw new ConfigError(`${node}: tier-2 LV ${t2.vg}/${t2.lv} not found`);
    return { vg: report.vg, pv, lv };
  }

  /**
   * The tier-2 LV's device-mapper device on a node, null where it is not active: from sysfs,
   * no lvm command. Its numbers are kept for the size checks after the LV's steps.
   */
  private async probeTier2Device(node: string): Promise<BlockDeviceInfo | null> {
    const t2 = this.topology.tier2;
    if (t2 === null || t2.lv === null) return null;
    const ref = { vg: t2.vg, lv: t2.lv };
    const device = await probeBlockDevice(this.topology.cluster.node(node).executor, `/dev/${lvPath(ref)}`).catch(unreachableOr);
    // A /dev node left behind for another device is not this LV.
    if (device === null || device.dmName !== dmName(ref)) return null;
    this.lvDevices.set(`${node}:${t2.vg}/${t2.lv}`, { major: device.major, minor: device.minor });
    return device;
  }

  /** Tier 2 as the DRBD Primaries see it (a Secondary's device cannot be opened on 8.4). */
  private async readTier2(primaries: string[], early?: Tier2Early): Promise<Tier2State> {
    const topo = this.topology;
    const t2 = topo.tier2!;
    if (primaries.length === 0) throw new ConfigError(`DRBD ${topo.resource} is Primary nowhere, so the tier-2 VG ${t2.vg} on ${topo.device} cannot be read or grown`);
    const metadataNode = early !== undefined && primaries.includes(early.metadataNode) ? early.metadataNode : primaries[0]!;
    const [meta, devices] = await Promise.all([
      early?.metadataNode === metadataNode ? early.metadata : this.readTier2Metadata(metadataNode),
      Promise.all(primaries.map(async (node) => ({ node, device: await (early?.devices.get(node) ?? this.probeTier2Device(node)) }))),
    ]);
    const view: Tier2State = {
      vg: { name: meta.vg.name, extentBytes: meta.vg.extentSizeBytes, sizeBytes: meta.vg.sizeBytes, freeBytes: meta.vg.freeBytes, peStartBytes: meta.pv.dataStartBytes, pvSizeBytes: meta.pv.sizeBytes },
    };
    if (meta.lv !== undefined) {
      const active = devices.filter((d): d is { node: string; device: BlockDeviceInfo } => d.device !== null);
      // The report and sysfs must agree where both look: a wrong "inactive" would plan the LV's steps without its lock option.
      const seen = (meta.lv.activeLocally ?? meta.lv.active) === true;
      if (seen && !active.some((a) => a.node === metadataNode)) {
        throw new ConfigError(`${metadataNode}: lvm reports ${t2.vg}/${t2.lv} active, but no device-mapper device ${dmName({ vg: t2.vg, lv: meta.lv.name })} was found for /dev/${t2.vg}/${meta.lv.name}`);
      }
      // Active on one node only: under lvmlockd only lvmlockd knows whether that activation is shared.
      const only = active.length === 1 && meta.vg.shared ? active[0]! : null;
      const lockMode = only === null ? null : await lvLockModeOn(topo.cluster.node(only.node).executor, meta.vg.name, meta.lv.uuid);
      const shared = active.length > 1 || lockMode === 'sh' || (meta.vg.clustered && meta.lv.activeExclusively === false);
      view.lv = {
        name: meta.lv.name,
        sizeBytes: meta.lv.sizeBytes,
        activation: shared ? 'shared' : 'exclusive',
        activeOn: active.map((a) => ({ node: a.node, deviceSizeBytes: a.device.sizeBytes })),
      };
    }
    return view;
  }

  private async readGuest(): Promise<GuestState> {
    const g = this.topology.guest!;
    const executor = g.executor;
    const lvDevice = `/dev/${lvPath({ vg: g.vg, lv: g.lv })}`;
    // The mount and filesystem do not wait for lvm's report: two chains at once.
    const mounted = mountOf(executor, lvDevice).then(async (mount): Promise<GuestState['fs']> => {
      if (mount === null) throw new ConfigError(`guest ${g.node}: ${g.vg}/${g.lv} is not mounted; hastor grows a mounted filesystem online`);
      if (mount.fstype !== 'ext4' && mount.fstype !== 'xfs') throw new ConfigError(`guest ${g.node}: ${g.vg}/${g.lv} holds ${mount.fstype}; hastor grows ext4 and xfs`);
      const type = mount.fstype;
      const geometry = await fsGeometry(executor, type, lvDevice, mount.target);
      return { type, mountpoint: mount.target, sizeBytes: geometry.sizeBytes };
    });
    mounted.catch(() => undefined); // awaited below, after the report's own checks
    // The disk under the LV, with its size and sysfs path, at once with the report.
    const probe = probeBlockDevice(executor, lvDevice).catch(() => null);
    const report = await this.fullReport(executor, g.vg, g.node);
    const vg = report.vg;
    const lv = report.lvs.find((l) => l.name === g.lv);
    if (lv === undefined) throw new ConfigError(`guest ${g.node}: ${g.vg}/${g.lv} not found`);
    if (report.pvs.length !== 1) throw new ConfigError(`guest ${g.node}: VG ${g.vg} has ${report.pvs.length} PVs; hastor grows a guest VG whose only PV is the disk`);
    const pv = report.pvs[0]!;
    const slaves = (await probe)?.slaves ?? [];
    // The probe's disk is the PV when lvm names it by its kernel name; a PV named by a symlink is probed itself.
    const disk = (slaves.length === 1 && `/dev/${slaves[0]!.kernelName}` === pv.name ? slaves[0] : null) ?? (await probeBlockDevice(executor, pv.name));
    if (disk === null) throw new ConfigError(`guest ${g.node}: the PV ${pv.name} of ${g.vg} is no block device there`);
    const transport = /\/session\d+\//.test(disk.sysPath) ? 'iscsi' : /\/host\d+\/target/.test(disk.sysPath) ? 'scsi' : null;
    if (transport === null) throw new ConfigError(`guest ${g.node}: disk ${pv.name} (${disk.sysPath}) is neither SCSI nor iSCSI; hastor does not know how to rescan it`);
    const fs = await mounted;
    return {
      node: g.node,
      disk: { device: `/dev/${disk.kernelName}`, transport, sizeBytes: disk.sizeBytes },
      vg: { name: vg.name, extentBytes: vg.extentSizeBytes, sizeBytes: vg.sizeBytes, freeBytes: vg.freeBytes, peStartBytes: pv.dataStartBytes },
      lv: { name: lv.name, sizeBytes: lv.sizeBytes },
      fs,
    };
  }
}

/**
 * A node that cannot be reached (crashed, cut off) is part of the state, not an error:
 * the planner refuses what needs it and names it. What the node answered but hastor
 * cannot use (a missing VG, unparsable output) stays an error.
 */
function unreachableOr(error: unknown): null {
  if (error instanceof ConfigError || error instanceof ParseError) throw error;
  return null;
}

function primariesOf(drbd: GrowthState['drbd']): string[] {
  return drbd.nodes.filter((n) => n.role === 'Primary').map((n) => n.node);
}

function nodeView(node: string, status: ResourceStatus | null): DrbdNodeState {
  if (status === null) return { node, role: 'Unknown', diskState: 'DUnknown', connectionState: 'StandAlone', replicationState: null };
  const connection = status.connections[0];
  return {
    node,
    role: status.role ?? 'Unknown',
    diskState: status.devices[0]?.diskState ?? 'Diskless',
    connectionState: connection?.connectionState ?? 'StandAlone',
    replicationState: connection?.peerDevices[0]?.replicationState ?? null,
  };
}

/** One read of every tier. */
export async function readGrowthState(topology: GrowthTopology, options: GrowthReaderOptions = {}): Promise<GrowthReading> {
  const reader = new GrowthStateReader(topology, options);
  try {
    return await reader.read();
  } finally {
    await reader.close();
  }
}
