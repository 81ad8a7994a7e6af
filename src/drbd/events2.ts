/**
 * `drbdsetup events2` (DRBD 9, and drbd-utils 9 against the 8.4 module):
 * one typed event per line, a reducer that keeps the current DrbdStatus, and
 * a line splitter for a live child process's stdout.
 *
 * Line format (drbd-utils `user/v9/drbdsetup_events2.c`):
 *   [<timestamp> ]<action> <object> key:value key:value ...
 * `change` lines carry only the keys that changed, so the reducer merges.
 * `--diff` prints `key:old->new`; typed values take the new side.
 */
import { ParseError } from '../errors.js';
import {
  applyDeviceCounters,
  applyPeerDeviceCounters,
  applyTypedField,
  CONNECTION_KEYS,
  DEVICE_KEYS,
  fail,
  PEER_DEVICE_KEYS,
  parseUint,
  parseYesNo,
  RESOURCE_KEYS,
  stripAnsi,
  syncProgress,
  UNKNOWN_MINOR,
  type ConnectionValues,
  type DeviceValues,
  type FieldContext,
  type PeerDeviceValues,
  type ProgressInputs,
  type ResourceValues,
  type Setter,
} from './drbdsetup-fields.js';
import { SYNCING_STATES, type ConnectionState, type DiskState, type ReplicationState, type Role } from './states.js';
import {
  emptyStatus,
  type ConnectionStatus,
  type DeviceCounters,
  type DeviceStatus,
  type DrbdStatus,
  type PeerDeviceStatus,
  type ResourceStatus,
} from './status-model.js';

const SOURCE = 'drbdsetup events2';

// Shared with the other drbdsetup parsers; still exported here for existing importers.
export { UNKNOWN_MINOR };
export type { ConnectionValues, DeviceValues, PeerDeviceValues, ResourceValues };

export const EVENTS2_ACTIONS = ['exists', 'create', 'change', 'destroy', 'call', 'response', 'rename'] as const;
export type Events2Action = (typeof EVENTS2_ACTIONS)[number];

export const EVENTS2_OBJECTS = ['resource', 'connection', 'device', 'peer-device', 'path', 'helper'] as const;
export type Events2ObjectKind = (typeof EVENTS2_OBJECTS)[number];

// ---------------------------------------------------------------------------
// Typed values of the objects only events2 prints (the others are in drbdsetup-fields.ts).

export interface PathValues {
  established?: boolean;
}

export interface HelperValues {
  /** Exit status, on `response helper` lines. */
  status?: number;
}

// ---------------------------------------------------------------------------
// Events

interface Events2Common {
  kind: Events2Action;
  /** From a `--timestamps` prefix; null without one. */
  timestamp: Date | null;
  /** Every key:value exactly as printed, known and unknown keys alike. */
  fields: Readonly<Record<string, string>>;
  /** 1-based line number in the stream, when known. */
  line: number | undefined;
}

export interface Events2ResourceEvent extends Events2Common {
  object: 'resource';
  resource: string;
  values: ResourceValues;
}

export interface Events2ConnectionEvent extends Events2Common {
  object: 'connection';
  resource: string;
  peerNodeId: number | null;
  connectionName: string | null;
  values: ConnectionValues;
}

export interface Events2DeviceEvent extends Events2Common {
  object: 'device';
  resource: string;
  volume: number;
  /** Absent on `destroy device` lines. */
  minor: number | null;
  values: DeviceValues;
}

export interface Events2PeerDeviceEvent extends Events2Common {
  object: 'peer-device';
  resource: string;
  peerNodeId: number | null;
  connectionName: string | null;
  volume: number;
  values: PeerDeviceValues;
}

export interface Events2PathEvent extends Events2Common {
  object: 'path';
  resource: string;
  peerNodeId: number | null;
  connectionName: string | null;
  /** e.g. `ipv4:10.0.0.1:7789` */
  local: string | null;
  peer: string | null;
  values: PathValues;
}

export interface Events2HelperEvent extends Events2Common {
  object: 'helper';
  kind: 'call' | 'response';
  resource: string;
  peerNodeId: number | null;
  connectionName: string | null;
  volume: number | null;
  minor: number | null;
  /** Handler name, e.g. `before-resync-target`. */
  helper: string;
  values: HelperValues;
}

/** `exists -`: the initial state dump is complete. */
export interface Events2InitialDumpDoneEvent extends Events2Common {
  object: '-';
  kind: 'exists';
}

export type Events2Event =
  | Events2ResourceEvent
  | Events2ConnectionEvent
  | Events2DeviceEvent
  | Events2PeerDeviceEvent
  | Events2PathEvent
  | Events2HelperEvent
  | Events2InitialDumpDoneEvent;

const PATH_KEYS: ReadonlyMap<string, Setter<PathValues>> = new Map<string, Setter<PathValues>>([
  ['established', (t, k, v, c) => (t.established = parseYesNo(k, v, c))],
]);

const HELPER_KEYS: ReadonlyMap<string, Setter<HelperValues>> = new Map<string, Setter<HelperValues>>([
  ['status', (t, k, v, c) => (t.status = parseUint(k, v, c))],
]);

// The parser picks the table by object kind; `any` because each table's setters take their own values type.
const TYPED_KEYS: Record<Events2ObjectKind, ReadonlyMap<string, Setter<any>>> = {
  resource: RESOURCE_KEYS,
  connection: CONNECTION_KEYS,
  device: DEVICE_KEYS,
  'peer-device': PEER_DEVICE_KEYS,
  path: PATH_KEYS,
  helper: HELPER_KEYS,
};

// `%04u-%02u-%02uT%02u:%02u:%02u.%06u%+03d:%02u`; fixed widths, no backtracking.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})([+-])(\d{2}):(\d{2})$/;

// Events come in bursts with one timestamp; remember the last one parsed.
let lastStamp = '';
let lastStampMs = 0;

function parseTimestamp(token: string, ctx: FieldContext): Date {
  if (token === lastStamp) return new Date(lastStampMs);
  const m = TIMESTAMP.exec(token);
  if (m === null) fail(ctx, `malformed timestamp "${token}"`);
  const [year, month, day, hour, minute, second, micros, sign, offH, offM] = m.slice(1) as [
    string, string, string, string, string, string, string, string, string, string,
  ];
  const mo = Number(month);
  const d = Number(day);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60 || Number(offM) > 59) {
    fail(ctx, `timestamp out of range "${token}"`);
  }
  const offsetMs = (sign === '-' ? -1 : 1) * (Number(offH) * 60 + Number(offM)) * 60_000;
  const utc = Date.UTC(Number(year), mo - 1, d, Number(hour), Number(minute), Number(second), Math.floor(Number(micros) / 1000));
  lastStamp = token;
  lastStampMs = utc - offsetMs;
  return new Date(lastStampMs);
}

function isAction(word: string): word is Events2Action {
  return (EVENTS2_ACTIONS as readonly string[]).includes(word);
}

function isObjectKind(word: string): word is Events2ObjectKind {
  return (EVENTS2_OBJECTS as readonly string[]).includes(word);
}

function optionalUint(fields: Record<string, string>, key: string, ctx: FieldContext): number | null {
  const value = fields[key];
  return value === undefined ? null : parseUint(key, value, ctx);
}

function required(fields: Record<string, string>, key: string, ctx: FieldContext, what: string): string {
  const value = fields[key];
  if (value === undefined || value.length === 0) fail(ctx, `${what} line without ${key}:`);
  return value;
}

/**
 * Parses one events2 line into a typed event. Unknown keys are kept in
 * `fields`; unknown actions or objects, malformed `key:value` tokens and
 * known keys with bad values raise ParseError.
 */
export function parseEvents2Line(line: string, lineNumber?: number): Events2Event {
  let clean = stripAnsi(line).trim();
  const ctx: FieldContext = { source: SOURCE, line: lineNumber, excerpt: clean };
  if (clean.length === 0) fail(ctx, 'empty line');
  if (clean.includes('\t')) clean = clean.replace(/\t/g, ' ');
  const tokens = clean.split(' ');
  const count = tokens.length;

  // Words before the key:value part; runs of spaces give empty tokens.
  let at = 0;
  const word = (): string | undefined => {
    while (at < count && tokens[at] === '') at++;
    return tokens[at++];
  };
  let timestamp: Date | null = null;
  let kind = word() as string;
  const c0 = kind.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    timestamp = parseTimestamp(kind, ctx);
    kind = word() ?? '';
  }
  const object = word();
  if (!isAction(kind)) fail(ctx, `unknown event action "${kind}"`);
  if (object === undefined) fail(ctx, `"${kind}" without an object`);

  if (object === '-') {
    if (kind !== 'exists' || word() !== undefined) fail(ctx, 'malformed end-of-initial-state marker (expected "exists -")');
    return { kind: 'exists', object: '-', timestamp, fields: Object.create(null) as Record<string, string>, line: lineNumber };
  }
  if (!isObjectKind(object)) fail(ctx, `unknown event object "${object}"`);
  if ((object === 'helper') !== (kind === 'call' || kind === 'response')) fail(ctx, `"${kind}" does not apply to "${object}"`);
  if (kind === 'rename' && object !== 'resource') fail(ctx, `"rename" does not apply to "${object}"`);

  // Null prototype: keys come from the input ("__proto__:x" must stay a plain key).
  const fields = Object.create(null) as Record<string, string>;
  const table = TYPED_KEYS[object];
  const values: Record<string, unknown> = {};
  for (; at < count; at++) {
    const token = tokens[at] as string;
    if (token.length === 0) continue;
    const colon = token.indexOf(':');
    if (colon <= 0) fail(ctx, `malformed key:value "${token}"`);
    const key = token.slice(0, colon);
    const value = token.slice(colon + 1);
    fields[key] = value;
    applyTypedField(table, values, key, value, ctx);
  }

  const resource = required(fields, 'name', ctx, object);
  switch (object) {
    case 'resource': {
      const typedValues = values as ResourceValues;
      if (kind === 'rename') typedValues.newName = required(fields, 'new_name', ctx, 'rename');
      return { kind, object, timestamp, fields, line: lineNumber, resource, values: typedValues };
    }
    case 'connection':
      return {
        kind,
        object,
        timestamp,
        fields,
        line: lineNumber,
        resource,
        peerNodeId: optionalUint(fields, 'peer-node-id', ctx),
        connectionName: fields['conn-name'] ?? null,
        values: values as ConnectionValues,
      };
    case 'device':
      return {
        kind,
        object,
        timestamp,
        fields,
        line: lineNumber,
        resource,
        volume: parseUint('volume', required(fields, 'volume', ctx, object), ctx),
        minor: optionalUint(fields, 'minor', ctx),
        values: values as DeviceValues,
      };
    case 'peer-device':
      return {
        kind,
        object,
        timestamp,
        fields,
        line: lineNumber,
        resource,
        peerNodeId: optionalUint(fields, 'peer-node-id', ctx),
        connectionName: fields['conn-name'] ?? null,
        volume: parseUint('volume', required(fields, 'volume', ctx, object), ctx),
        values: values as PeerDeviceValues,
      };
    case 'path':
      return {
        kind,
        object,
        timestamp,
        fields,
        line: lineNumber,
        resource,
        peerNodeId: optionalUint(fields, 'peer-node-id', ctx),
        connectionName: fields['conn-name'] ?? null,
        local: fields['local'] ?? null,
        peer: fields['peer'] ?? null,
        values: values as PathValues,
      };
    case 'helper':
      return {
        kind: kind as 'call' | 'response',
        object,
        timestamp,
        fields,
        line: lineNumber,
        resource,
        peerNodeId: optionalUint(fields, 'peer-node-id', ctx),
        connectionName: fields['conn-name'] ?? null,
        volume: optionalUint(fields, 'volume', ctx),
        minor: optionalUint(fields, 'minor', ctx),
        helper: required(fields, 'helper', ctx, object),
        values: values as HelperValues,
      };
  }
}

// ---------------------------------------------------------------------------
// Reducer

export interface Events2Options {
  /**
   * Input comes from DRBD 8.4 (drbd-utils 9 in compatibility mode). Its
   * `peer-node-id:0` and `conn-name:peer` are placeholders and are reported
   * as null, like /proc/drbd does.
   */
  drbd84?: boolean;
}

interface ProgressRecord {
  done: number | null;
  eta: number | null;
  etaUnknown: boolean;
  speed: number | null;
  average: number | null;
  want: number | null;
  resyncTotal: bigint | null;
  verifyLeft: bigint | null;
  /** Largest out-of-sync seen since this resync began. */
  maxOutOfSync: bigint | null;
  startedAt: Date | null;
  lastAt: Date | null;
}

interface PeerDeviceRecord {
  volume: number;
  replicationState: ReplicationState;
  peerDiskState: DiskState | null;
  outOfSyncBytes: bigint | null;
  resyncSuspended: string | null;
  counters: DeviceCounters;
  progress: ProgressRecord;
}

interface ConnectionRecord {
  peerNodeId: number | null;
  name: string | null;
  connectionState: ConnectionState;
  peerRole: Role | null;
  congested: boolean | null;
  peerDevices: Map<number, PeerDeviceRecord>;
}

interface DeviceRecord {
  volume: number;
  minor: number;
  diskState: DiskState;
  sizeBytes: bigint | null;
  counters: DeviceCounters;
}

interface ResourceRecord {
  name: string;
  role: Role | null;
  suspended: string | null;
  writeOrdering: string | null;
  devices: Map<number, DeviceRecord>;
  connections: ConnectionRecord[];
}

// States on the way into a resync: the out-of-sync they show is what will be synced.
const RESYNC_STATES: ReadonlySet<ReplicationState> = new Set<ReplicationState>([
  ...SYNCING_STATES,
  'StartingSyncS',
  'StartingSyncT',
  'WFBitMapS',
  'WFBitMapT',
  'WFSyncUUID',
]);

function freshProgress(): ProgressRecord {
  return {
    done: null,
    eta: null,
    etaUnknown: false,
    speed: null,
    average: null,
    want: null,
    resyncTotal: null,
    verifyLeft: null,
    maxOutOfSync: null,
    startedAt: null,
    lastAt: null,
  };
}

/**
 * Applies events2 events to keep a current DrbdStatus (source 'events2').
 * create/exists add (or update), change merges the printed keys, destroy
 * removes. Sizes and byte counters are converted from KiB once, here.
 *
 * Sync progress: DRBD 9 prints `done:` (and with --statistics `eta:`,
 * `dbdt1:`); 8.4 prints neither, so the state remembers the largest
 * out-of-sync seen since the resync began as the total, and the current
 * out-of-sync as remaining. With `--timestamps`, the average speed since the
 * resync began is derived from the event times when DRBD gives none.
 */
export class Events2State {
  readonly #resources = new Map<string, ResourceRecord>();
  readonly #drbd84: boolean;
  #initialDumpComplete = false;

  constructor(options: Events2Options = {}) {
    this.#drbd84 = options.drbd84 ?? false;
  }

  /** True once `exists -` was seen: the state is complete from then on. */
  get initialDumpComplete(): boolean {
    return this.#initialDumpComplete;
  }

  /** A fresh snapshot of the current state. */
  get status(): DrbdStatus {
    return this.snapshot();
  }

  /** Parses and applies one line; returns the event. */
  applyLine(line: string, lineNumber?: number): Events2Event {
    const event = parseEvents2Line(line, lineNumber);
    this.apply(event);
    return event;
  }

  apply(event: Events2Event): void {
    switch (event.object) {
      case '-':
        this.#initialDumpComplete = true;
        return;
      case 'path':
      case 'helper':
        // The model has no paths or helper calls; the events still reach the caller.
        return;
      case 'resource':
        this.#applyResource(event);
        return;
      case 'connection':
        this.#applyConnection(event);
        return;
      case 'device':
        this.#applyDevice(event);
        return;
      case 'peer-device':
        this.#applyPeerDevice(event);
        return;
    }
  }

  #resource(name: string): ResourceRecord {
    let resource = this.#resources.get(name);
    if (resource === undefined) {
      resource = { name, role: null, suspended: null, writeOrdering: null, devices: new Map(), connections: [] };
      this.#resources.set(name, resource);
    }
    return resource;
  }

  #identity(peerNodeId: number | null, name: string | null): { peerNodeId: number | null; name: string | null } {
    return this.#drbd84 ? { peerNodeId: null, name: null } : { peerNodeId, name };
  }

  #findConnection(resource: ResourceRecord, peerNodeId: number | null, name: string | null): ConnectionRecord | undefined {
    const id = this.#identity(peerNodeId, name);
    if (id.peerNodeId !== null) return resource.connections.find((c) => c.peerNodeId === id.peerNodeId);
    if (id.name !== null) return resource.connections.find((c) => c.name === id.name);
    return resource.connections.length === 1 ? resource.connections[0] : undefined;
  }

  #connection(resource: ResourceRecord, peerNodeId: number | null, name: string | null): ConnectionRecord {
    let connection = this.#findConnection(resource, peerNodeId, name);
    if (connection === undefined) {
      connection = {
        ...this.#identity(peerNodeId, name),
        connectionState: 'Unconnected',
        peerRole: null,
        congested: null,
        peerDevices: new Map(),
      };
      resource.connections.push(connection);
    }
    return connection;
  }

  #applyResource(event: Events2ResourceEvent): void {
    if (event.kind === 'destroy') {
      this.#resources.delete(event.resource);
      return;
    }
    if (event.kind === 'rename') {
      const resource = this.#resources.get(event.resource);
      const newName = event.values.newName as string;
      if (resource === undefined || newName === event.resource) return;
      this.#resources.delete(event.resource);
      resource.name = newName;
      this.#resources.set(newName, resource);
      return;
    }
    const resource = this.#resource(event.resource);
    const v = event.values;
    if (v.role !== undefined) resource.role = v.role;
    if (v.suspended !== undefined) resource.suspended = v.suspended;
    if (v.writeOrdering !== undefined) resource.writeOrdering = v.writeOrdering;
  }

  #applyConnection(event: Events2ConnectionEvent): void {
    if (event.kind === 'destroy') {
      const resource = this.#resources.get(event.resource);
      const connection = resource && this.#findConnection(resource, event.peerNodeId, event.connectionName);
      if (resource && connection) resource.connections.splice(resource.connections.indexOf(connection), 1);
      return;
    }
    const connection = this.#connection(this.#resource(event.resource), event.peerNodeId, event.connectionName);
    const v = event.values;
    if (v.connectionState !== undefined) connection.connectionState = v.connectionState;
    if (v.peerRole !== undefined) connection.peerRole = v.peerRole;
    if (v.congested !== undefined) connection.congested = v.congested;
  }

  #applyDevice(event: Events2DeviceEvent): void {
    if (event.kind === 'destroy') {
      this.#resources.get(event.resource)?.devices.delete(event.volume);
      return;
    }
    const resource = this.#resource(event.resource);
    let device = resource.devices.get(event.volume);
    if (device === undefined) {
      device = { volume: event.volume, minor: event.minor ?? UNKNOWN_MINOR, diskState: 'DUnknown', sizeBytes: null, counters: {} };
      resource.devices.set(event.volume, device);
    }
    if (event.minor !== null) device.minor = event.minor;
    const v = event.values;
    if (v.diskState !== undefined) device.diskState = v.diskState;
    if (v.sizeBytes !== undefined) device.sizeBytes = v.sizeBytes;
    applyDeviceCounters(device.counters, v);
  }

  #applyPeerDevice(event: Events2PeerDeviceEvent): void {
    if (event.kind === 'destroy') {
      const resource = this.#resources.get(event.resource);
      const connection = resource && this.#findConnection(resource, event.peerNodeId, event.connectionName);
      connection?.peerDevices.delete(event.volume);
      return;
    }
    const connection = this.#connection(this.#resource(event.resource), event.peerNodeId, event.connectionName);
    let pd = connection.peerDevices.get(event.volume);
    if (pd === undefined) {
      pd = {
        volume: event.volume,
        replicationState: 'Off',
        peerDiskState: null,
        outOfSyncBytes: null,
        resyncSuspended: null,
        counters: {},
        progress: freshProgress(),
      };
      connection.peerDevices.set(event.volume, pd);
    }
    const v = event.values;
    const f = event.fields;
    const wasResyncing = RESYNC_STATES.has(pd.replicationState);
    if (v.replicationState !== undefined) pd.replicationState = v.replicationState;
    if (v.peerDiskState !== undefined) pd.peerDiskState = v.peerDiskState;
    if (v.outOfSyncBytes !== undefined) pd.outOfSyncBytes = v.outOfSyncBytes;
    if (v.resyncSuspended !== undefined) pd.resyncSuspended = v.resyncSuspended;
    applyPeerDeviceCounters(pd.counters, v);

    const resyncing = RESYNC_STATES.has(pd.replicationState);
    if (!resyncing || !wasResyncing) pd.progress = freshProgress();
    if (!resyncing) return;

    const p = pd.progress;
    // Statistics lines print the whole set: a key missing there means "no longer reported".
    const statistics = f['done'] !== undefined || f['out-of-sync'] !== undefined || f['received'] !== undefined;
    if (statistics) {
      p.done = v.donePercent ?? null;
      p.eta = v.etaSeconds ?? null;
      p.etaUnknown = v.etaSeconds === null;
      p.speed = v.speedBytesPerSecond ?? null;
      p.average = v.averageSpeedBytesPerSecond ?? null;
      p.want = v.wantBytesPerSecond ?? null;
      p.resyncTotal = v.resyncTotalBytes ?? null;
      p.verifyLeft = v.verifyLeftBytes ?? null;
    }
    if (pd.outOfSyncBytes !== null && (p.maxOutOfSync === null || pd.outOfSyncBytes > p.maxOutOfSync)) {
      p.maxOutOfSync = pd.outOfSyncBytes;
    }
    if (event.timestamp !== null) {
      if (p.startedAt === null && SYNCING_STATES.has(pd.replicationState)) p.startedAt = event.timestamp;
      p.lastAt = event.timestamp;
    }
  }

  /** Builds a DrbdStatus from the current state; later events do not change it. */
  snapshot(): DrbdStatus {
    const status = emptyStatus('events2');
    for (const r of this.#resources.values()) {
      const devices: DeviceStatus[] = [...r.devices.values()]
        .sort((a, b) => a.volume - b.volume)
        .map((d) => ({
          volume: d.volume,
          minor: d.minor,
          diskState: d.diskState,
          sizeBytes: d.sizeBytes,
          ioFlags: null,
          counters: r.writeOrdering === null ? { ...d.counters } : { ...d.counters, writeOrdering: r.writeOrdering },
        }));
      const connections: ConnectionStatus[] = r.connections.map((c) => ({
        peerNodeId: c.peerNodeId,
        name: c.name,
        connectionState: c.connectionState,
        peerRole: c.peerRole,
        protocol: null,
        congested: c.congested,
        peerDevices: [...c.peerDevices.values()].sort((a, b) => a.volume - b.volume).map(peerDeviceSnapshot),
      }));
      const resource: ResourceStatus = { name: r.name, role: r.role, suspended: r.suspended, devices, connections };
      status.resources.push(resource);
    }
    return status;
  }
}

function averageFromTimes(p: ProgressRecord, remaining: bigint | null, total: bigint | null): number | null {
  if (p.startedAt === null || p.lastAt === null || remaining === null || total === null) return null;
  const seconds = (p.lastAt.getTime() - p.startedAt.getTime()) / 1000;
  const done = total - remaining;
  return seconds > 0 && done > 0n ? Number(done) / seconds : null;
}

function peerDeviceSnapshot(pd: PeerDeviceRecord): PeerDeviceStatus {
  const p = pd.progress;
  const inputs: ProgressInputs = {
    replicationState: pd.replicationState,
    outOfSyncBytes: pd.outOfSyncBytes,
    donePercent: p.done,
    etaSeconds: p.eta,
    etaUnknown: p.etaUnknown,
    speedBytesPerSecond: p.speed,
    averageSpeedBytesPerSecond: p.average,
    wantBytesPerSecond: p.want,
    resyncTotalBytes: p.resyncTotal,
    verifyLeftBytes: p.verifyLeft,
    rememberedTotalBytes: p.maxOutOfSync,
    resyncSuspended: pd.resyncSuspended,
  };
  let sync = syncProgress(inputs);
  if (sync !== null && sync.averageSpeedBytesPerSecond === null && sync.totalBytes > 0n) {
    const average = averageFromTimes(p, sync.remainingBytes, sync.totalBytes);
    if (average !== null) sync = { ...sync, averageSpeedBytesPerSecond: average };
  }
  return {
    volume: pd.volume,
    replicationState: pd.replicationState,
    peerDiskState: pd.peerDiskState,
    outOfSyncBytes: pd.outOfSyncBytes,
    resyncSuspended: pd.resyncSuspended,
    sync,
    counters: { ...pd.counters },
  };
}

// ---------------------------------------------------------------------------
// Whole captures and live streams

/** Applies every line of a saved events2 capture; blank lines are skipped. */
export function parseEvents2(text: string, options: Events2Options = {}): DrbdStatus {
  // As the proc and JSON readers: no text is no status (events2 --now prints "exists -" even with no resources).
  if (text.trim().length === 0) throw new ParseError('empty input (drbdsetup events2 --now prints at least "exists -")', { source: SOURCE });
  const state = new Events2State(options);
  let start = 0;
  let lineNumber = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber++;
    const line = text.slice(start, end);
    if (line.trim().length > 0) state.applyLine(line, lineNumber);
    start = end + 1;
  }
  return state.snapshot();
}

export interface ReadEvents2Options extends Events2Options {
  /** Continue from an existing state instead of a new one. */
  state?: Events2State;
  /**
   * Called for a line that does not parse; the line is skipped. Without it
   * the generator throws the ParseError.
   */
  onParseError?: (error: ParseError) => void;
}

export interface Events2Update {
  event: Events2Event;
  /** Snapshot after this event. */
  status: DrbdStatus;
  initialDumpComplete: boolean;
}

/**
 * Reads events2 lines from a stream (e.g. `execa('drbdsetup', ['events2',
 * 'all', '--statistics', '--timestamps']).stdout`) and yields each event with
 * the status after it. Lines may be split anywhere across chunks, including
 * inside a multi-byte character.
 */
export async function* readEvents2(
  input: NodeJS.ReadableStream | AsyncIterable<string | Uint8Array>,
  options: ReadEvents2Options = {},
): AsyncGenerator<Events2Update, void, undefined> {
  const state = options.state ?? new Events2State(options);
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let lineNumber = 0;

  const handle = (line: string): Events2Update | null => {
    lineNumber++;
    if (line.trim().length === 0) return null;
    let event: Events2Event;
    try {
      event = state.applyLine(line, lineNumber);
    } catch (error) {
      if (error instanceof ParseError && options.onParseError) {
        options.onParseError(error);
        return null;
      }
      throw error;
    }
    return { event, status: state.snapshot(), initialDumpComplete: state.initialDumpComplete };
  };

  for await (const chunk of input as AsyncIterable<string | Uint8Array>) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf('\n');
    if (newline === -1) continue;
    let start = 0;
    while (newline !== -1) {
      const update = handle(pending.slice(start, newline));
      if (update !== null) yield update;
      start = newline + 1;
      newline = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
  }
  pending += decoder.decode();
  if (pending.length > 0) {
    const update = handle(pending);
    if (update !== null) yield update;
  }
}
