/**
 * `drbdsetup status [--verbose] [--statistics]` (and `drbdadm status`) text,
 * DRBD 9 and drbd-utils 9 against the 8.4 module.
 *
 * Layout (drbd-utils `user/v9/drbdsetup.c`, wrap_printf wraps at 80 columns):
 *   <resource> [node-id:] role: ...        column 0, continuations at 4
 *     volume:N minor: disk: ...            column 2, continuations at 6
 *     <peer-name> [node-id:] connection: … column 2, continuations at 6
 *       volume:N replication: peer-disk: … column 4, continuations at 8
 * Without --verbose, values at their usual state are left out (Connected,
 * Established, volume 0 of a single volume, minor); the defaults below put
 * them back. Older drbd-utils do not wrap: every object on one line.
 */
import type { ConnectionState, ReplicationState } from './states.js';
import {
  applyDeviceCounters,
  applyPeerDeviceCounters,
  applyTypedField,
  CONNECTION_KEYS,
  DEVICE_KEYS,
  fail as failAt,
  PEER_DEVICE_KEYS,
  parseUint,
  RESOURCE_KEYS,
  splitKeyValue,
  stripAnsi,
  syncProgress,
  UNKNOWN_MINOR,
  type ConnectionValues,
  type DeviceValues,
  type FieldContext,
  type PeerDeviceValues,
  type ResourceValues,
} from './drbdsetup-fields.js';
import { emptyStatus, type DeviceCounters, type DrbdStatus, type ResourceStatus } from './status-model.js';

const SOURCE = 'drbdsetup status';

export { UNKNOWN_MINOR };

export interface StatusTextOptions {
  /**
   * Output comes from DRBD 8.4 (drbd-utils 9 in compatibility mode): its
   * peer is always called `peer` and has no node id; the name is reported as
   * null, like /proc/drbd does.
   */
  drbd84?: boolean;
}

interface TextPeerDevice {
  volume: number | null;
  values: PeerDeviceValues;
  keys: Set<string>;
}

interface TextConnection {
  name: string | null;
  nodeId: number | null;
  values: ConnectionValues;
  peerDevices: TextPeerDevice[];
}

interface TextDevice {
  volume: number | null;
  minor: number | null;
  values: DeviceValues;
}

interface TextResource {
  name: string;
  values: ResourceValues;
  devices: TextDevice[];
  connections: TextConnection[];
}

type Current =
  | { kind: 'resource'; indent: number; resource: TextResource }
  | { kind: 'device'; indent: number; device: TextDevice }
  | { kind: 'connection'; indent: number; connection: TextConnection }
  | { kind: 'peer-device'; indent: number; connection: TextConnection; peerDevice: TextPeerDevice };

/** Parses `drbdsetup status` text into a DrbdStatus (source 'status-text'). */
export function parseStatusText(text: string, options: StatusTextOptions = {}): DrbdStatus {
  const resources: TextResource[] = [];
  let current: Current | null = null;

  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = stripAnsi(lines[index] as string).trimEnd();
    const content = raw.trimStart();
    // Blank lines separate resources; `# No currently configured DRBD found.` is a comment.
    if (content.length === 0 || content.startsWith('#')) continue;
    const ctx: FieldContext = { source: SOURCE, line: index + 1, excerpt: raw };
    const fail = (reason: string): never => failAt(ctx, reason);
    const indent = raw.length - content.length;
    for (let i = 0; i < indent; i++) if (raw.charCodeAt(i) !== 32) fail('indentation must be spaces');
    const tokens = content.split(/ +/);
    const first = tokens[0] as string;
    const firstKey = first.includes(':') ? first.slice(0, first.indexOf(':')) : null;

    const keyValues = (from: number, apply: (key: string, value: string) => void): void => {
      for (let i = from; i < tokens.length; i++) {
        const [key, value] = splitKeyValue(tokens[i] as string, ctx);
        apply(key, value);
      }
    };

    if (indent === 0) {
      if (firstKey !== null) fail('a resource line starts with the resource name');
      const resource: TextResource = { name: first, values: {}, devices: [], connections: [] };
      resources.push(resource);
      current = { kind: 'resource', indent, resource };
      keyValues(1, (k, v) => resourceField(resource, k, v, ctx));
      continue;
    }
    const resource = resources[resources.length - 1];
    if (resource === undefined || current === null) return fail('indented line before any resource line');

    if (indent === 2) {
      if (firstKey === 'volume' || firstKey === 'disk') {
        const device: TextDevice = { volume: null, minor: null, values: {} };
        resource.devices.push(device);
        current = { kind: 'device', indent, device };
        keyValues(0, (k, v) => deviceField(device, k, v, ctx));
      } else {
        const connection: TextConnection = { name: null, nodeId: null, values: {}, peerDevices: [] };
        if (firstKey === null) connection.name = first;
        else if (firstKey !== 'node-id') fail(`expected a volume, disk or peer name at column 2, got "${first}"`);
        resource.connections.push(connection);
        current = { kind: 'connection', indent, connection };
        keyValues(firstKey === null ? 1 : 0, (k, v) => connectionField(connection, k, v, ctx));
      }
      continue;
    }
    if (indent === 4 && (current.kind === 'connection' || current.kind === 'peer-device')) {
      const connection: TextConnection = current.connection;
      const peerDevice: TextPeerDevice = { volume: null, values: {}, keys: new Set() };
      connection.peerDevices.push(peerDevice);
      current = { kind: 'peer-device', indent, connection, peerDevice };
      keyValues(0, (k, v) => peerDeviceField(peerDevice, k, v, ctx));
      continue;
    }
    if (indent <= current.indent) fail(`unexpected indentation (${indent} columns)`);
    // A wrapped continuation of the object above.
    const target = current;
    keyValues(0, (k, v) => {
      switch (target.kind) {
        case 'resource':
          return resourceField(target.resource, k, v, ctx);
        case 'device':
          return deviceField(target.device, k, v, ctx);
        case 'connection':
          return connectionField(target.connection, k, v, ctx);
        case 'peer-device':
          return peerDeviceField(target.peerDevice, k, v, ctx);
      }
    });
  }

  const status = emptyStatus('status-text');
  status.resources = resources.map((r) => toModel(r, options));
  return status;
}

function resourceField(resource: TextResource, key: string, value: string, ctx: FieldContext): void {
  if (key === 'node-id') resource.values.nodeId = parseUint(key, value, ctx);
  else applyTypedField(RESOURCE_KEYS, resource.values, key, value, ctx);
}

function deviceField(device: TextDevice, key: string, value: string, ctx: FieldContext): void {
  if (key === 'volume') device.volume = parseUint(key, value, ctx);
  else if (key === 'minor') device.minor = parseUint(key, value, ctx);
  else applyTypedField(DEVICE_KEYS, device.values, key, value, ctx);
}

function connectionField(connection: TextConnection, key: string, value: string, ctx: FieldContext): void {
  if (key === 'node-id') connection.nodeId = parseUint(key, value, ctx);
  else applyTypedField(CONNECTION_KEYS, connection.values, key, value, ctx);
}

function peerDeviceField(peerDevice: TextPeerDevice, key: string, value: string, ctx: FieldContext): void {
  peerDevice.keys.add(key);
  if (key === 'volume') peerDevice.volume = parseUint(key, value, ctx);
  else applyTypedField(PEER_DEVICE_KEYS, peerDevice.values, key, value, ctx);
}

function toModel(r: TextResource, options: StatusTextOptions): ResourceStatus {
  const writeOrdering = r.values.writeOrdering;
  return {
    name: r.name,
    role: r.values.role ?? null,
    // Printed whenever it is not "no".
    suspended: r.values.suspended ?? 'no',
    devices: r.devices.map((d) => {
      const v = d.values;
      const counters: DeviceCounters = {};
      applyDeviceCounters(counters, v);
      if (writeOrdering !== undefined) counters.writeOrdering = writeOrdering;
      return {
        // Only volume 0 of a single-volume resource goes unprinted.
        volume: d.volume ?? 0,
        minor: d.minor ?? UNKNOWN_MINOR,
        diskState: v.diskState ?? 'DUnknown',
        sizeBytes: v.sizeBytes ?? null,
        ioFlags: null,
        counters,
      };
    }),
    connections: r.connections.map((c) => {
      const v = c.values;
      // Left out when Connected; the peer role is printed only when Connected.
      const connectionState: ConnectionState = v.connectionState ?? 'Connected';
      const connected = connectionState === 'Connected';
      const legacy = options.drbd84 === true;
      return {
        peerNodeId: legacy ? null : c.nodeId,
        name: legacy ? null : c.name,
        connectionState,
        peerRole: v.peerRole ?? (connected ? null : 'Unknown'),
        protocol: null,
        // Without --verbose, printed only when congested.
        congested: v.congested ?? false,
        peerDevices: c.peerDevices.map((pd) => {
          const p = pd.values;
          // Left out at Established (Connected) or Off; peer-disk left out when DUnknown and Off.
          const replicationState: ReplicationState = p.replicationState ?? (connected ? 'Established' : 'Off');
          const statistics = pd.keys.has('received') || pd.keys.has('sent');
          const outOfSyncBytes = p.outOfSyncBytes ?? (statistics ? 0n : null);
          const resyncSuspended = p.resyncSuspended ?? 'no';
          const counters: DeviceCounters = {};
          applyPeerDeviceCounters(counters, p);
          return {
            volume: pd.volume ?? 0,
            replicationState,
            peerDiskState: p.peerDiskState ?? 'DUnknown',
            outOfSyncBytes,
            resyncSuspended,
            sync: syncProgress({
              replicationState,
              outOfSyncBytes,
              donePercent: p.donePercent ?? null,
              etaSeconds: p.etaSeconds ?? null,
              etaUnknown: p.etaSeconds === null,
              speedBytesPerSecond: p.speedBytesPerSecond ?? null,
              averageSpeedBytesPerSecond: p.averageSpeedBytesPerSecond ?? null,
              wantBytesPerSecond: p.wantBytesPerSecond ?? null,
              resyncTotalBytes: p.resyncTotalBytes ?? null,
              verifyLeftBytes: p.verifyLeftBytes ?? null,
              rememberedTotalBytes: null,
              resyncSuspended,
            }),
            counters,
          };
        }),
      };
    }),
  };
}
