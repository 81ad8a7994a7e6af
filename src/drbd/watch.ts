/**
 * `watchDrbd()`: DRBD state changes as they happen, with what changed.
 *
 * The kernel's netlink `events` group is the source (no process, no polling:
 * a state change reaches the callback as one datagram); where the `drbd`
 * family is missing or unusable it falls back to a `drbdsetup events2` child.
 * Each delivery carries the whole status plus the list of state words that
 * differ from the previous delivery (`diffStatus`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { HastorError } from '../errors.js';
import { readEvents2 } from './events2.js';
import { watchDrbdNetlink, type DrbdNetlinkDeps } from './netlink-status.js';
import type { ConnectionStatus, DeviceStatus, DrbdStatus, PeerDeviceStatus, ResourceStatus } from './status-model.js';

export type WatchSource = 'netlink' | 'events2';
export type StatusObject = 'resource' | 'device' | 'connection' | 'peer-device';

/** One state word that changed; `from` null: the object appeared, `to` null: it went away. */
export interface StatusChange {
  resource: string | null;
  object: StatusObject;
  /** Device and peer-device volume (null where the source has none). */
  volume?: number | null;
  /** Device minor. */
  minor?: number;
  /** Connection and peer device: the peer's connection name, else its node id, else its position. */
  peer?: string | null;
  field: string;
  from: string | null;
  to: string | null;
}

export interface WatchEvent {
  status: DrbdStatus;
  /** Empty only when `everyStatus` asked for deliveries without state changes (counters, sync progress). */
  changes: StatusChange[];
  /** process.hrtime.bigint() when the status reached this module (ns, monotonic). */
  receivedAt: bigint;
  source: WatchSource;
}

export interface WatchDrbdOptions {
  /** Errors after which the watch goes on (an unreadable datagram) and the one that ends it. */
  onError: (error: Error) => void;
  /** Force a source; by default netlink, falling back to events2 when netlink is unavailable. */
  source?: WatchSource;
  /** Also deliver statuses whose state words did not change (sync progress, counters). */
  everyStatus?: boolean;
  /** The drbdsetup executable for the events2 fallback. */
  drbdsetup?: string;
  /** Where /proc/drbd lives (tells the events2 parser whether the module is 8.x). */
  procPath?: string;
  /** Netlink socket and family lookup (tests). */
  deps?: DrbdNetlinkDeps;
  timeoutMs?: number;
}

export interface DrbdWatch {
  /** Resolves after the first delivery (the initial state); rejects when no source could start. */
  readonly ready: Promise<void>;
  /** The source in use once `ready` resolved; null before. */
  readonly source: WatchSource | null;
  close(): void;
}

// ---------------------------------------------------------------------------
// diffStatus

const RESOURCE_FIELDS = ['role', 'suspended'] as const;
const DEVICE_FIELDS = ['diskState'] as const;
const CONNECTION_FIELDS = ['connectionState', 'peerRole'] as const;
const PEER_DEVICE_FIELDS = ['replicationState', 'peerDiskState', 'resyncSuspended'] as const;

type Keyed<T> = Map<string, T>;

function byKey<T>(items: readonly T[], key: (item: T, index: number) => string): Keyed<T> {
  const map = new Map<string, T>();
  items.forEach((item, index) => {
    let k = key(item, index);
    // Two objects with one key (a source without names): keep both, by position.
    if (map.has(k)) k = `${k}#${index}`;
    map.set(k, item);
  });
  return map;
}

const resourceKey = (r: ResourceStatus): string => (r.name !== null ? `name:${r.name}` : `minor:${r.devices[0]?.minor ?? '?'}`);
const deviceKey = (d: DeviceStatus): string => (d.volume !== null ? `volume:${d.volume}` : `minor:${d.minor}`);
const connectionKey = (c: ConnectionStatus, index: number): string =>
  c.name !== null ? `name:${c.name}` : c.peerNodeId !== null ? `node:${c.peerNodeId}` : `index:${index}`;
const peerDeviceKey = (p: PeerDeviceStatus, index: number): string => (p.volume !== null ? `volume:${p.volume}` : `index:${index}`);
const peerLabel = (c: ConnectionStatus, index: number): string =>
  c.name ?? (c.peerNodeId !== null ? String(c.peerNodeId) : String(index));

function fieldChanges<T extends object>(
  before: T | undefined,
  after: T | undefined,
  fields: readonly (keyof T & string)[],
  base: Omit<StatusChange, 'field' | 'from' | 'to'>,
  out: StatusChange[],
): void {
  for (const field of fields) {
    const from = before === undefined ? null : ((before[field] as string | null | undefined) ?? null);
    const to = after === undefined ? null : ((after[field] as string | null | undefined) ?? null);
    if (from !== to) out.push({ ...base, field, from, to });
  }
}

/** Union of keys, the old order first, then new keys in their order. */
function keysOf<T>(a: Keyed<T>, b: Keyed<T>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])];
}

/**
 * The state words that differ between two statuses: resource role and
 * suspension, device disk state, connection state and peer role, peer-device
 * replication state, peer disk state and resync suspension. Objects that
 * appear list their words with `from: null`, objects that go away with
 * `to: null`. Counters, sizes and sync progress are not state words. Pure.
 */
export function diffStatus(before: DrbdStatus | null, after: DrbdStatus): StatusChange[] {
  const out: StatusChange[] = [];
  const oldResources = byKey(before?.resources ?? [], resourceKey);
  const newResources = byKey(after.resources, resourceKey);
  for (const rk of keysOf(oldResources, newResources)) {
    const a = oldResources.get(rk);
    const b = newResources.get(rk);
    const resource = (b ?? a)?.name ?? null;
    fieldChanges(a, b, RESOURCE_FIELDS, { resource, object: 'resource' }, out);

    const oldDevices = byKey(a?.devices ?? [], deviceKey);
    const newDevices = byKey(b?.devices ?? [], deviceKey);
    for (const dk of keysOf(oldDevices, newDevices)) {
      const da = oldDevices.get(dk);
      const db = newDevices.get(dk);
      const device = (db ?? da) as DeviceStatus;
      fieldChanges(da, db, DEVICE_FIELDS, { resource, object: 'device', volume: device.volume, minor: device.minor }, out);
    }

    const oldConnections = byKey(a?.connections ?? [], connectionKey);
    const newConnections = byKey(b?.connections ?? [], connectionKey);
    const connectionKeys = keysOf(oldConnections, newConnections);
    connectionKeys.forEach((ck, index) => {
      const ca = oldConnections.get(ck);
      const cb = newConnections.get(ck);
      const peer = peerLabel((cb ?? ca) as ConnectionStatus, index);
      fieldChanges(ca, cb, CONNECTION_FIELDS, { resource, object: 'connection', peer }, out);
      const oldPeerDevices = byKey(ca?.peerDevices ?? [], peerDeviceKey);
      const newPeerDevices = byKey(cb?.peerDevices ?? [], peerDeviceKey);
      for (const pk of keysOf(oldPeerDevices, newPeerDevices)) {
        const pa = oldPeerDevices.get(pk);
        const pb = newPeerDevices.get(pk);
        const volume = ((pb ?? pa) as PeerDeviceStatus).volume;
        fieldChanges(pa, pb, PEER_DEVICE_FIELDS, { resource, object: 'peer-device', volume, peer }, out);
      }
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// watchDrbd

/** Errors that mean "this source cannot run here", so the default mode tries the next one. */
function isUnavailable(error: unknown): boolean {
  return error instanceof HastorError && ['E_NO_DRBD_FAMILY', 'E_DRBD_NETLINK', 'E_NATIVE'].includes(error.code);
}

async function moduleIsDrbd8(procPath: string): Promise<boolean> {
  try {
    return /^version: 8\./.test((await readFile(procPath, 'utf8')).slice(0, 64));
  } catch {
    return false;
  }
}

interface SourceHandle {
  ready: Promise<void>;
  close(): void;
}

type Deliver = (status: DrbdStatus) => void;

function startNetlink(deliver: Deliver, onError: (error: Error) => void, options: WatchDrbdOptions): SourceHandle {
  return watchDrbdNetlink(deliver, onError, {
    ...(options.deps === undefined ? {} : { deps: options.deps }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

function startEvents2(deliver: Deliver, onError: (error: Error) => void, options: WatchDrbdOptions): SourceHandle {
  const drbdsetup = options.drbdsetup ?? 'drbdsetup';
  const argv = ['events2', 'all', '--statistics'];
  let child: ChildProcess | undefined;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    child?.kill('SIGTERM');
  };
  let markReady: () => void = () => undefined;
  let failReady: (error: Error) => void = () => undefined;
  let started = false;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = () => {
      started = true;
      resolve();
    };
    failReady = reject;
  });
  const fail = (error: Error): void => {
    if (closed) return;
    close();
    if (!started) failReady(error);
    onError(error);
  };

  const run = async (): Promise<void> => {
    const drbd84 = await moduleIsDrbd8(options.procPath ?? '/proc/drbd');
    if (closed) return;
    const proc = spawn(drbdsetup, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    child = proc;
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    const exited = new Promise<Error>((resolve) => {
      proc.on('error', (error) =>
        resolve(new HastorError('E_COMMAND', `cannot run ${drbdsetup} ${argv.join(' ')}: ${error.message}`, { cause: error })),
      );
      proc.on('close', (code, signal) =>
        resolve(
          new HastorError(
            'E_COMMAND',
            `${drbdsetup} ${argv.join(' ')} ended (exit ${code ?? signal}): ${stderr.trim() || 'no output on stderr'}; the watch has stopped`,
          ),
        ),
      );
    });
    const stream = readEvents2(proc.stdout as NodeJS.ReadableStream, {
      drbd84,
      // One bad line must not end the watch; the next line carries the state again.
      onParseError: (error) => onError(error),
    });
    for await (const update of stream) {
      if (closed) return;
      if (!update.initialDumpComplete) continue;
      deliver(update.status);
      if (!started) markReady();
    }
    const end = await exited;
    if (!closed) fail(end);
  };
  run().catch((error: unknown) => fail(error instanceof Error ? error : new HastorError('E_COMMAND', String(error))));
  ready.catch(() => undefined);
  return { ready, close };
}

/**
 * Calls `onChange` with the initial state (every state word as a change from
 * null), then after every change of a state word (see diffStatus). Errors go
 * to `options.onError`; one that ends the watch is the last call. Close it
 * with `close()`.
 */
export function watchDrbd(onChange: (event: WatchEvent) => void, options: WatchDrbdOptions): DrbdWatch {
  let previous: DrbdStatus | null = null;
  let active: SourceHandle | undefined;
  let activeSource: WatchSource | null = null;
  let closed = false;

  const deliverFrom =
    (source: WatchSource): Deliver =>
    (status) => {
      const receivedAt = process.hrtime.bigint();
      if (closed) return;
      const changes = diffStatus(previous, status);
      const first = previous === null;
      previous = status;
      if (!first && changes.length === 0 && options.everyStatus !== true) return;
      onChange({ status, changes, receivedAt, source });
    };

  const start = async (source: WatchSource, fallbackAllowed: boolean): Promise<void> => {
    // While a source is starting, its errors may only mean "try the next one": hold them.
    let starting = true;
    const held: Error[] = [];
    const onError = (error: Error): void => {
      if (closed) return;
      if (starting) held.push(error);
      else options.onError(error);
    };
    const handle = source === 'netlink' ? startNetlink(deliverFrom(source), onError, options) : startEvents2(deliverFrom(source), onError, options);
    active = handle;
    try {
      await handle.ready;
    } catch (error) {
      starting = false;
      if (closed) return;
      if (fallbackAllowed && isUnavailable(error)) return start('events2', false);
      for (const e of held) if (e !== error) options.onError(e);
      options.onError(error as Error);
      throw error;
    }
    starting = false;
    activeSource = source;
    for (const e of held) options.onError(e);
    if (closed) handle.close();
  };

  const ready = start(options.source ?? 'netlink', options.source === undefined);
  ready.catch(() => undefined);
  return {
    ready,
    get source() {
      return activeSource;
    },
    close(): void {
      if (closed) return;
      closed = true;
      active?.close();
    },
  };
}
