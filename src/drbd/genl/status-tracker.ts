/**
 * Folds DRBD netlink messages into the shared status model. A status dump is
 * the fold of its replies over an empty status; the event stream folds
 * broadcasts over the last dump. The same code serves both because dump
 * replies and broadcasts carry the same structs (GET_STATUS ≈ DRBD_EVENT on
 * 8.4, GET_* ≈ *_STATE on DRBD 9).
 *
 * Where counters go: disk-side ones (read/written, AL/bitmap writes,
 * application and local pending) on the device, network-side ones (sent,
 * received, pending at the peer, unacked) on the peer device — DRBD 9's split,
 * applied to 8.4 too.
 */
import { emptyStatus, progressFromCounts, type ConnectionStatus, type DeviceCounters, type DeviceStatus, type DrbdStatus, type PeerDeviceStatus, type ResourceStatus, type SyncProgress } from '../status-model.js';
import type { ReplicationState } from '../states.js';
import { BM_BLOCK_BYTES, SECTOR_BYTES, type DrbdApiVersion } from './constants.js';
import { decodeDrbdMessages, type DrbdGenlMessage, type NetlinkInput } from './decode.js';
import {
  toDrbdObject,
  type CfgContext,
  type ConnectionObject,
  type DeviceObject,
  type DrbdObject,
  type LegacyDeviceStatus,
  type PeerDeviceObject,
  type ResourceObject,
  STATUS_STRUCTS,
} from './objects.js';

/** States in which a resync moves data; verify progress is not in these counters. */
const RESYNC_STATES: ReadonlySet<ReplicationState> = new Set(['SyncSource', 'SyncTarget', 'PausedSyncS', 'PausedSyncT']);
const PAUSED_STATES: ReadonlySet<ReplicationState> = new Set(['PausedSyncS', 'PausedSyncT']);

/** /proc/drbd calls a resync stalled when no progress mark moved for DRBD_SYNC_MARKS × DRBD_SYNC_MARK_STEP (8 × 3 s). */
const STALL_AFTER_MS = 24_000;
/** Samples closer than this give no new speed figure (events can come in bursts). */
const MIN_SAMPLE_GAP_MS = 500;

/** Connection key of 8.4 (one peer, unnamed). */
const SINGLE_PEER = '\u0000single';

export interface DrbdStatusTrackerOptions {
  /** Milliseconds clock for speed estimates from successive events; default Date.now. */
  now?: () => number;
  /** Start from this status (deep-copied) instead of an empty one. */
  initial?: DrbdStatus;
}

interface SyncSample {
  totalBytes: bigint;
  firstAt: number;
  firstRemaining: bigint;
  lastAt: number;
  lastRemaining: bigint;
  lastProgressAt: number;
  speed: number | null;
}

const clone = (status: DrbdStatus): DrbdStatus => structuredClone(status);
const bytesOf = (count: bigint | null, unit: bigint): bigint | undefined => (count === null ? undefined : count * unit);

function setCounters(target: DeviceCounters, values: DeviceCounters): DeviceCounters {
  const out: DeviceCounters = { ...target };
  for (const [key, value] of Object.entries(values) as [keyof DeviceCounters, DeviceCounters[keyof DeviceCounters]][]) {
    if (value !== undefined && value !== null) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

function connectionKey(ctx: CfgContext): string {
  if (ctx.peerNodeId !== null) return `id:${ctx.peerNodeId}`;
  if (ctx.connectionName !== null) return `name:${ctx.connectionName}`;
  return SINGLE_PEER;
}

function keyOfConnection(connection: ConnectionStatus): string {
  if (connection.peerNodeId !== null) return `id:${connection.peerNodeId}`;
  if (connection.name !== null) return `name:${connection.name}`;
  return SINGLE_PEER;
}

const byVolumeThenMinor = (a: DeviceStatus, b: DeviceStatus): number =>
  (a.volume ?? Number.MAX_SAFE_INTEGER) - (b.volume ?? Number.MAX_SAFE_INTEGER) || a.minor - b.minor;

export class DrbdStatusTracker {
  readonly api: DrbdApiVersion;
  private status: DrbdStatus;
  private readonly now: () => number;
  private readonly samples = new Map<string, SyncSample>();

  constructor(api: DrbdApiVersion, options: DrbdStatusTrackerOptions = {}) {
    this.api = api;
    this.now = options.now ?? Date.now;
    this.status = options.initial ? clone(options.initial) : emptyStatus('netlink');
    this.status.source = 'netlink';
  }

  /** Forget everything (before applying a fresh dump). Speed samples survive: a re-dump does not restart a resync. */
  reset(): void {
    this.status = emptyStatus('netlink');
  }

  /** A deep copy of the current status. */
  snapshot(): DrbdStatus {
    return clone(this.status);
  }

  /** Applies decoded messages; returns true when any of them changed the model. */
  applyMessages(messages: readonly DrbdGenlMessage[]): boolean {
    let changed = false;
    for (const message of messages) changed = this.applyMessage(message) || changed;
    return changed;
  }

  applyMessage(message: DrbdGenlMessage): boolean {
    // A refused request (e.g. the resource vanished between two dumps) describes nothing.
    if (message.retCode !== 101) return false;
    return this.applyObject(toDrbdObject(message, this.api));
  }

  applyObject(object: DrbdObject): boolean {
    switch (object.kind) {
      case 'legacy-device':
        return this.applyLegacy(object);
      case 'resource':
        return this.skipOnLegacy(object) ? false : this.applyResource(object);
      case 'device':
        return this.skipOnLegacy(object) ? false : this.applyDevice(object);
      case 'connection':
        return this.skipOnLegacy(object) ? false : this.applyConnection(object);
      case 'peer-device':
        return this.skipOnLegacy(object) ? false : this.applyPeerDevice(object);
      case 'other':
        return false;
    }
  }

  /**
   * The 8.4.11 module broadcasts DRBD_EVENT and, for the same change, the
   * backported *_STATE notifications, which lack the resync counters. On API 1
   * DRBD_EVENT is authoritative; from the notifications only the removal of a
   * device or resource counts (DRBD_EVENT has no "gone"). A connection is not
   * removed: 8.4 keeps showing it, StandAlone, as /proc/drbd does (the lab saw
   * `drbdadm disconnect` destroy it right after DRBD_EVENT said StandAlone).
   * Dump replies asked for explicitly still apply in full.
   */
  private skipOnLegacy(object: { kind: string; notification: boolean; action: string }): boolean {
    if (this.api !== 1 || !object.notification) return false;
    return !(object.action === 'destroy' && (object.kind === 'resource' || object.kind === 'device'));
  }

  /* ---------------- lookups ---------------- */

  private findResource(name: string | null): ResourceStatus | undefined {
    return name === null ? undefined : this.status.resources.find((r) => r.name === name);
  }

  private ensureResource(name: string | null, minor: number | null): ResourceStatus {
    let resource = this.findResource(name);
    if (resource === undefined && name === null && minor !== null) {
      resource = this.status.resources.find((r) => r.name === null && r.devices.some((d) => d.minor === minor));
    }
    if (resource === undefined) {
      resource = { name, role: null, suspended: null, devices: [], connections: [] };
      this.status.resources.push(resource);
    }
    return resource;
  }

  private removeMinorElsewhere(minor: number, keep: ResourceStatus): void {
    for (const resource of this.status.resources) {
      if (resource === keep) continue;
      resource.devices = resource.devices.filter((d) => d.minor !== minor);
    }
  }

  private ensureConnection(resource: ResourceStatus, ctx: CfgContext): ConnectionStatus {
    const key = connectionKey(ctx);
    let connection = resource.connections.find((c) => keyOfConnection(c) === key);
    if (connection === undefined) {
      connection = {
        peerNodeId: ctx.peerNodeId,
        name: ctx.connectionName,
        // Placeholder until the connection's own message arrives.
        connectionState: 'Unconnected',
        peerRole: null,
        protocol: null,
        congested: null,
        peerDevices: [],
      };
      resource.connections.push(connection);
    }
    return connection;
  }

  private ensurePeerDevice(connection: ConnectionStatus, volume: number | null): PeerDeviceStatus {
    let peerDevice = connection.peerDevices.find((pd) => pd.volume === volume);
    if (peerDevice === undefined) {
      peerDevice = {
        volume,
        replicationState: 'Off',
        peerDiskState: null,
        outOfSyncBytes: null,
        resyncSuspended: null,
        sync: null,
        counters: {},
      };
      connection.peerDevices.push(peerDevice);
      connection.peerDevices.sort((a, b) => (a.volume ?? Number.MAX_SAFE_INTEGER) - (b.volume ?? Number.MAX_SAFE_INTEGER));
    }
    return peerDevice;
  }

  private upsertDevice(resource: ResourceStatus, minor: number | null, volume: number | null): DeviceStatus {
    let device =
      (minor !== null ? resource.devices.find((d) => d.minor === minor) : undefined) ??
      (volume !== null ? resource.devices.find((d) => d.volume === volume) : undefined);
    if (device === undefined) {
      device = { volume, minor: minor ?? -1, diskState: 'DUnknown', sizeBytes: null, ioFlags: null, counters: {} };
      resource.devices.push(device);
    }
    if (minor !== null) {
      device.minor = minor;
      this.removeMinorElsewhere(minor, resource);
    }
    if (volume !== null) device.volume = volume;
    resource.devices.sort(byVolumeThenMinor);
    return device;
  }

  /* ---------------- sync progress ---------------- */

  private progress(
    key: string,
    replicationState: ReplicationState,
    remainingBytes: bigint,
    totalBytes: bigint,
    kernel: { speed: number | null; average: number | null; want: number | null },
  ): SyncProgress {
    const now = this.now();
    let sample = this.samples.get(key);
    if (sample === undefined || sample.totalBytes !== totalBytes) {
      sample = {
        totalBytes,
        firstAt: now,
        firstRemaining: remainingBytes,
        lastAt: now,
        lastRemaining: remainingBytes,
        lastProgressAt: now,
        speed: null,
      };
      this.samples.set(key, sample);
    } else if (now - sample.lastAt >= MIN_SAMPLE_GAP_MS) {
      // Application writes during a resync can set bits again: never report negative speed.
      const moved = sample.lastRemaining - remainingBytes;
      sample.speed = Math.max(0, Number(moved) / ((now - sample.lastAt) / 1000));
      if (moved > 0n) sample.lastProgressAt = now;
      sample.lastAt = now;
      sample.lastRemaining = remainingBytes;
    }
    const elapsed = (now - sample.firstAt) / 1000;
    const estimatedAverage = elapsed > 0 ? Math.max(0, Number(sample.firstRemaining - remainingBytes) / elapsed) : null;
    const paused = PAUSED_STATES.has(replicationState);
    return progressFromCounts(remainingBytes, totalBytes, {
      speedBytesPerSecond: kernel.speed ?? sample.speed,
      averageSpeedBytesPerSecond: kernel.average ?? estimatedAverage,
      wantBytesPerSecond: kernel.want,
      stalled: !paused && now - sample.lastProgressAt >= STALL_AFTER_MS,
    });
  }

  private dropSample(key: string): void {
    this.samples.delete(key);
  }

  /* ---------------- 8.4 GET_STATUS / DRBD_EVENT ---------------- */

  private applyLegacy(object: LegacyDeviceStatus): boolean {
    const ctx = object.context;
    const resource = this.ensureResource(ctx.resourceName, object.minor);
    if (object.minor === null || object.state === null) {
      // A resource with a network config but no volume yet.
      if (object.hasNetConf) {
        const connection = this.ensureConnection(resource, ctx);
        connection.protocol = object.protocol ?? connection.protocol;
      }
      return true;
    }
    const state = object.state;
    resource.role = state.role;
    resource.suspended = state.suspended;

    const device = this.upsertDevice(resource, object.minor, ctx.volume);
    device.diskState = state.diskState;
    if (object.capacitySectors !== null) device.sizeBytes = object.capacitySectors * SECTOR_BYTES;
    const c = object.counters;
    device.counters = setCounters(device.counters, {
      diskReadBytes: bytesOf(c.readSectors, SECTOR_BYTES),
      diskWrittenBytes: bytesOf(c.writtenSectors, SECTOR_BYTES),
      activityLogWrites: c.activityLogWrites ?? undefined,
      bitmapWrites: c.bitmapWrites ?? undefined,
      applicationPending: c.applicationBios ?? undefined,
    });

    const connection = this.ensureConnection(resource, ctx);
    connection.connectionState = state.connectionState;
    connection.peerRole = state.peerRole;
    if (object.protocol !== null) connection.protocol = object.protocol;

    const peerDevice = this.ensurePeerDevice(connection, device.volume);
    peerDevice.replicationState = state.replicationState;
    peerDevice.peerDiskState = state.peerDiskState;
    peerDevice.resyncSuspended = state.resyncSuspended;
    // No local disk, no bitmap: the kernel leaves bits_* out.
    peerDevice.outOfSyncBytes = bytesOf(object.bitsOutOfSync, BM_BLOCK_BYTES) ?? null;
    peerDevice.counters = setCounters(peerDevice.counters, {
      networkSentBytes: bytesOf(c.sentSectors, SECTOR_BYTES),
      networkReceivedBytes: bytesOf(c.receivedSectors, SECTOR_BYTES),
      peerPending:
        c.pendingRequests === null && c.resyncPendingRequests === null
          ? undefined
          : (c.pendingRequests ?? 0) + (c.resyncPendingRequests ?? 0),
    });

    const key = `${resource.name ?? ''}/${object.minor}`;
    const total = object.bitsResyncTotal;
    if (RESYNC_STATES.has(state.replicationState) && total !== null && total > 0n && object.bitsOutOfSync !== null) {
      // /proc/drbd's rs_left: bits still set minus the ones that failed to sync.
      let left = object.bitsOutOfSync - (object.bitsResyncFailed ?? 0n);
      if (left < 0n) left = 0n;
      peerDevice.sync = this.progress(key, state.replicationState, left * BM_BLOCK_BYTES, total * BM_BLOCK_BYTES, {
        speed: null,
        average: null,
        want: null,
      });
    } else if (!RESYNC_STATES.has(state.replicationState)) {
      peerDevice.sync = null;
      this.dropSample(key);
    }
    // Still resyncing but this message lacks the counters (no disk): keep the last figures.
    return true;
  }

  /* ---------------- object messages ---------------- */

  private applyResource(object: ResourceObject): boolean {
    const name = object.context.resourceName;
    if (object.action === 'destroy') {
      const before = this.status.resources.length;
      this.status.resources = this.status.resources.filter((r) => r.name !== name);
      for (const key of [...this.samples.keys()]) if (key.startsWith(`${name ?? ''}/`)) this.samples.delete(key);
      return this.status.resources.length !== before;
    }
    if (name === null) return false;
    const resource = this.ensureResource(name, null);
    if (object.role !== null) resource.role = object.role;
    if (object.suspended !== null) resource.suspended = object.suspended;
    return true;
  }

  private applyDevice(object: DeviceObject): boolean {
    const ctx = object.context;
    if (object.action === 'destroy') {
      const resource = this.findResource(ctx.resourceName) ?? this.status.resources.find((r) => r.devices.some((d) => d.minor === object.minor));
      if (resource === undefined) return false;
      const before = resource.devices.length;
      resource.devices = resource.devices.filter((d) =>
        object.minor !== null ? d.minor !== object.minor : d.volume !== ctx.volume,
      );
      for (const connection of resource.connections) {
        connection.peerDevices = connection.peerDevices.filter((pd) => pd.volume !== ctx.volume);
      }
      return resource.devices.length !== before;
    }
    if (ctx.resourceName === null) return false;
    const resource = this.ensureResource(ctx.resourceName, object.minor);
    const device = this.upsertDevice(resource, object.minor, ctx.volume);
    if (object.diskState !== null) device.diskState = object.diskState;
    if (object.sizeSectors !== null) device.sizeBytes = object.sizeSectors * SECTOR_BYTES;
    device.counters = setCounters(device.counters, {
      diskReadBytes: bytesOf(object.readSectors, SECTOR_BYTES),
      diskWrittenBytes: bytesOf(object.writtenSectors, SECTOR_BYTES),
      activityLogWrites: object.activityLogWrites ?? undefined,
      bitmapWrites: object.bitmapWrites ?? undefined,
      applicationPending: object.upperPending ?? undefined,
      localPending: object.lowerPending ?? undefined,
    });
    return true;
  }

  private applyConnection(object: ConnectionObject): boolean {
    const ctx = object.context;
    const resource = this.findResource(ctx.resourceName);
    if (object.action === 'destroy') {
      if (resource === undefined) return false;
      const key = connectionKey(ctx);
      const before = resource.connections.length;
      resource.connections = resource.connections.filter((c) => keyOfConnection(c) !== key);
      return resource.connections.length !== before;
    }
    if (ctx.resourceName === null) return false;
    const connection = this.ensureConnection(this.ensureResource(ctx.resourceName, null), ctx);
    if (ctx.connectionName !== null) connection.name = ctx.connectionName;
    if (object.connectionState !== null) connection.connectionState = object.connectionState;
    if (object.peerRole !== null) connection.peerRole = object.peerRole;
    if (object.congested !== null) connection.congested = object.congested;
    if (object.protocol !== null) connection.protocol = object.protocol;
    return true;
  }

  private applyPeerDevice(object: PeerDeviceObject): boolean {
    const ctx = object.context;
    if (object.action === 'destroy') {
      const resource = this.findResource(ctx.resourceName);
      const key = connectionKey(ctx);
      const connection = resource?.connections.find((c) => keyOfConnection(c) === key);
      if (connection === undefined) return false;
      const before = connection.peerDevices.length;
      connection.peerDevices = connection.peerDevices.filter((pd) => pd.volume !== ctx.volume);
      return connection.peerDevices.length !== before;
    }
    if (ctx.resourceName === null) return false;
    const resource = this.ensureResource(ctx.resourceName, object.minor);
    const connection = this.ensureConnection(resource, ctx);
    const peerDevice = this.ensurePeerDevice(connection, ctx.volume);
    if (object.replicationState !== null) peerDevice.replicationState = object.replicationState;
    if (object.peerDiskState !== null) peerDevice.peerDiskState = object.peerDiskState;
    if (object.resyncSuspended !== null) peerDevice.resyncSuspended = object.resyncSuspended;
    if (object.outOfSyncSectors !== null) peerDevice.outOfSyncBytes = object.outOfSyncSectors * SECTOR_BYTES;
    peerDevice.counters = setCounters(peerDevice.counters, {
      networkSentBytes: bytesOf(object.sentSectors, SECTOR_BYTES),
      networkReceivedBytes: bytesOf(object.receivedSectors, SECTOR_BYTES),
      peerPending: object.pending ?? undefined,
      unacked: object.unacked ?? undefined,
    });

    const key = `${resource.name ?? ''}/${connectionKey(ctx)}/${ctx.volume ?? ''}`;
    const repl = peerDevice.replicationState;
    const total = object.resyncTotalSectors;
    if (RESYNC_STATES.has(repl) && total !== null && total > 0n && object.outOfSyncSectors !== null) {
      let left = object.outOfSyncSectors - (object.resyncFailedSectors ?? 0n);
      if (left < 0n) left = 0n;
      const totalBytes = total * SECTOR_BYTES;
      const leftBytes = left * SECTOR_BYTES;
      const markMs = object.markMs ?? 0n;
      const activeMs = (object.resyncElapsedMs ?? 0n) - (object.resyncPausedMs ?? 0n);
      peerDevice.sync = this.progress(key, repl, leftBytes, totalBytes, {
        speed: markMs > 0n && object.markSectors !== null ? (Number(object.markSectors * SECTOR_BYTES) * 1000) / Number(markMs) : null,
        average: activeMs > 0n ? (Number(totalBytes - leftBytes) * 1000) / Number(activeMs) : null,
        want: object.controllerRateKiB !== null && object.controllerRateKiB > 0 ? object.controllerRateKiB * 1024 : null,
      });
    } else if (!RESYNC_STATES.has(repl)) {
      peerDevice.sync = null;
      this.dropSample(key);
    }
    return true;
  }
}

/** Decodes a whole status dump (the replies of one or more dump requests) into the model. */
export function decodeDrbdStatusDump(messages: NetlinkInput, apiVersion: DrbdApiVersion): DrbdStatus {
  const tracker = new DrbdStatusTracker(apiVersion);
  tracker.applyMessages(decodeDrbdMessages(messages, apiVersion, { only: STATUS_STRUCTS }));
  return tracker.snapshot();
}

/**
 * Applies one event (a multicast datagram, or an already decoded message) to
 * a status and returns the new status; the input is not modified. Speeds need
 * successive samples: use a DrbdStatusTracker for a live stream.
 */
export function applyDrbdEvent(
  status: DrbdStatus,
  event: NetlinkInput | DrbdGenlMessage,
  apiVersion: DrbdApiVersion,
): DrbdStatus {
  const tracker = new DrbdStatusTracker(apiVersion, { initial: status });
  const messages = isDecoded(event) ? [event] : decodeDrbdMessages(event, apiVersion, { only: STATUS_STRUCTS });
  tracker.applyMessages(messages);
  return tracker.snapshot();
}

function isDecoded(event: NetlinkInput | DrbdGenlMessage): event is DrbdGenlMessage {
  return !(event instanceof Uint8Array) && !Array.isArray(event) && typeof (event as DrbdGenlMessage).cmd === 'number';
}
