/**
 * DRBD metric families. The `drbd_*` ones carry the names, labels, units and
 * enum style of drbd-reactor's prometheus plugin (its enums mode: one sample
 * per possible state, 1 for the current one, the state in a label named like
 * the metric), so dashboards built for it work unchanged. A family whose
 * field the status model does not have on this DRBD generation is left out
 * rather than faked (docs/exporter.md lists them). The `hastor_*` ones add
 * what drbd-reactor lacks.
 */
import { CONN_NAMES_9 } from '../drbd/genl/constants.js';
import { canonicalConnectionState, DISK_STATES } from '../drbd/states.js';
import type { ConnectionStatus, DeviceStatus, DrbdStatus, PeerDeviceStatus, ResourceStatus } from '../drbd/status-model.js';
import type { DrbdState } from './drbd-state.js';
import type { Emit, FamilySpec, Labels } from './family.js';
import { connectionPeerKey } from './split-brain.js';

/** drbd-reactor's Role, ConnectionState and DiskState iterators, in its order. */
export const REACTOR_ROLES = ['Unknown', 'Primary', 'Secondary'] as const;
// DRBD 9's enum drbd_conn_state, the order drbd-reactor iterates in.
export const REACTOR_CONNECTION_STATES = CONN_NAMES_9;
export const REACTOR_DISK_STATES = DISK_STATES;

/** Fields DRBD 9 reports that the status model may carry (absent on 8.4). */
export interface Drbd9ResourceFields {
  mayPromote?: boolean | null;
  promotionScore?: number | null;
  forceIoFailures?: boolean | null;
}
export interface Drbd9DeviceFields {
  client?: boolean | null;
  quorum?: boolean | null;
  open?: boolean | null;
  alSuspended?: boolean | null;
}
export interface Drbd9ConnectionFields {
  apInFlightBytes?: bigint | null;
  rsInFlightBytes?: bigint | null;
}

export interface DrbdScrapeContext {
  drbd: DrbdState;
}

// ---------------------------------------------------------------- rows, computed once per status

export interface ResourceRow {
  resource: ResourceStatus & Drbd9ResourceFields;
  labels: Labels;
}
export interface ConnectionRow {
  resource: ResourceStatus;
  connection: ConnectionStatus & Drbd9ConnectionFields;
  labels: Labels;
  peerKey: string;
}
export interface DeviceRow {
  resource: ResourceStatus;
  device: DeviceStatus & Drbd9DeviceFields;
  labels: Labels;
}
export interface PeerDeviceRow {
  connection: ConnectionRow;
  peerDevice: PeerDeviceStatus;
  labels: Labels;
}
export interface DrbdRows {
  resources: ResourceRow[];
  connections: ConnectionRow[];
  devices: DeviceRow[];
  peerDevices: PeerDeviceRow[];
}

/** /proc/drbd on 8.x names no resources: such a resource is called after its minor. */
export function resourceLabel(resource: ResourceStatus): string {
  return resource.name ?? `drbd${resource.devices[0]?.minor ?? 'unknown'}`;
}

const text = (value: number | null | undefined): string => (value === null || value === undefined ? '' : String(value));

export function drbdRows(status: DrbdStatus | null): DrbdRows {
  const rows: DrbdRows = { resources: [], connections: [], devices: [], peerDevices: [] };
  if (status === null) return rows;
  for (const resource of status.resources) {
    const name = resourceLabel(resource);
    rows.resources.push({ resource, labels: { name } });
    for (const device of resource.devices) {
      rows.devices.push({ resource, device, labels: { name, volume: text(device.volume), minor: String(device.minor) } });
    }
    resource.connections.forEach((connection, index) => {
      // 8.4 has neither connection names nor node ids: both labels are empty there.
      const labels = { name, conn_name: connection.name ?? '', peer_node_id: text(connection.peerNodeId) };
      const row: ConnectionRow = { resource, connection, labels, peerKey: connectionPeerKey(connection, index) };
      rows.connections.push(row);
      connection.peerDevices.forEach((peerDevice, pdIndex) => {
        const volume = peerDevice.volume ?? resource.devices[pdIndex]?.volume ?? null;
        rows.peerDevices.push({ connection: row, peerDevice, labels: { ...labels, volume: text(volume) } });
      });
    });
  }
  return rows;
}

const cache = new WeakMap<DrbdState, { generation: number; rows: DrbdRows }>();

/** Rows of the state's current status, computed once per status however many families read them. */
export function rowsOf(state: DrbdState): DrbdRows {
  const cached = cache.get(state);
  if (cached && cached.generation === state.generation) return cached.rows;
  const rows = drbdRows(state.status);
  cache.set(state, { generation: state.generation, rows });
  return rows;
}

const bool = (value: boolean): number => (value ? 1 : 0);
const bytes = (value: bigint | null | undefined): number | null => (value === null || value === undefined ? null : Number(value));

function emitEnum(emit: Emit, labels: Labels, key: string, values: readonly string[], current: string | null): void {
  for (const value of values) emit({ ...labels, [key]: value }, bool(value === current));
}

/** Only the current state, value 1: a third of the series of a full enum for the states hastor adds. */
function emitState(emit: Emit, labels: Labels, key: string, current: string): void {
  emit({ ...labels, [key]: current }, 1);
}

function emitIf(emit: Emit, labels: Labels, value: number | null | undefined): void {
  if (value !== null && value !== undefined) emit(labels, value);
}

type Spec = FamilySpec<DrbdScrapeContext>;

function resourceFamily(name: string, help: string, value: (row: ResourceRow) => number | null | undefined, type: Spec['type'] = 'gauge'): Spec {
  return { name, help, type, labelNames: ['name'], samples: (c, emit) => rowsOf(c.drbd).resources.forEach((r) => emitIf(emit, r.labels, value(r))) };
}
function connectionFamily(name: string, help: string, value: (row: ConnectionRow, c: DrbdScrapeContext) => number | null | undefined, type: Spec['type'] = 'gauge'): Spec {
  return {
    name,
    help,
    type,
    labelNames: ['name', 'conn_name', 'peer_node_id'],
    samples: (c, emit) => rowsOf(c.drbd).connections.forEach((r) => emitIf(emit, r.labels, value(r, c))),
  };
}
function deviceFamily(name: string, help: string, value: (row: DeviceRow, c: DrbdScrapeContext) => number | null | undefined, type: Spec['type'] = 'gauge'): Spec {
  return { name, help, type, labelNames: ['name', 'volume', 'minor'], samples: (c, emit) => rowsOf(c.drbd).devices.forEach((r) => emitIf(emit, r.labels, value(r, c))) };
}
function peerDeviceFamily(name: string, help: string, value: (row: PeerDeviceRow) => number | null | undefined, type: Spec['type'] = 'gauge'): Spec {
  return {
    name,
    help,
    type,
    labelNames: ['name', 'conn_name', 'peer_node_id', 'volume'],
    samples: (c, emit) => rowsOf(c.drbd).peerDevices.forEach((r) => emitIf(emit, r.labels, value(r))),
  };
}

/** Intentional diskless: a DRBD 9 field; 8.x has no diskless clients, so there it is known to be false. */
function clientOf(row: DeviceRow, c: DrbdScrapeContext): boolean | null {
  if (row.device.client !== undefined && row.device.client !== null) return row.device.client;
  return c.drbd.isDrbd8 === true ? false : null;
}

/** drbd-reactor's families, same names, labels and help. */
export const REACTOR_FAMILIES: readonly Spec[] = [
  {
    name: 'drbd_version',
    help: 'Version of the loaded DRBD kernel module and DRBD utils',
    type: 'gauge',
    labelNames: ['kmod', 'utils'],
    samples: (c, emit) => {
      const kmod = c.drbd.moduleVersion ?? c.drbd.status?.version?.version ?? null;
      if (kmod !== null) emit({ kmod, utils: c.drbd.utilsVersion ?? '' }, 1);
    },
  },
  {
    name: 'drbd_resource_resources',
    help: 'Number of resources',
    type: 'gauge',
    labelNames: [],
    samples: (c, emit) => {
      if (c.drbd.status !== null) emit({}, c.drbd.status.resources.length);
    },
  },
  {
    name: 'drbd_resource_role',
    help: 'DRBD role of the resource',
    type: 'gauge',
    labelNames: ['name', 'drbd_resource_role'],
    samples: (c, emit) => rowsOf(c.drbd).resources.forEach((r) => emitEnum(emit, r.labels, 'drbd_resource_role', REACTOR_ROLES, r.resource.role ?? 'Unknown')),
  },
  resourceFamily('drbd_resource_suspended', 'Boolean whether the resource is suspended', (r) =>
    r.resource.suspended === null ? null : bool(r.resource.suspended !== 'no'),
  ),
  resourceFamily('drbd_resource_maypromote', 'Boolean whether the resource may be promoted to Primary', (r) =>
    typeof r.resource.mayPromote === 'boolean' ? bool(r.resource.mayPromote) : null,
  ),
  resourceFamily('drbd_resource_promotionscore', 'The promotion score (higher is better) for the resource', (r) => r.resource.promotionScore ?? null),
  resourceFamily(
    'drbd_resource_forceiofailures',
    'Boolean whether the resource is configured (could be temporarily) to force IO failures (e.g., during secondary --force)',
    (r) => (typeof r.resource.forceIoFailures === 'boolean' ? bool(r.resource.forceIoFailures) : null),
  ),
  {
    name: 'drbd_connection_state',
    help: 'DRBD connection state',
    type: 'gauge',
    labelNames: ['name', 'conn_name', 'peer_node_id', 'drbd_connection_state'],
    samples: (c, emit) =>
      rowsOf(c.drbd).connections.forEach((r) =>
        // 8.4's WFConnection and WFReportParams are DRBD 9's Connecting.
        emitEnum(emit, r.labels, 'drbd_connection_state', REACTOR_CONNECTION_STATES, canonicalConnectionState(r.connection.connectionState)),
      ),
  },
  peerDeviceFamily(
    'drbd_peerdevice_outofsync_bytes',
    'Number of bytes currently out of sync with this peer, according to the bitmap that DRBD has for it',
    (r) => bytes(r.peerDevice.outOfSyncBytes),
  ),
  // Counters in drbd-reactor; untyped here because promtool's lint wants counters to end in _total.
  peerDeviceFamily('drbd_peerdevice_sent_bytes', 'Number of bytes currently sent to this peer', (r) => bytes(r.peerDevice.counters.networkSentBytes), 'untyped'),
  peerDeviceFamily('drbd_peerdevice_received_bytes', 'Number of bytes currently received from this peer', (r) => bytes(r.peerDevice.counters.networkReceivedBytes), 'untyped'),
  connectionFamily('drbd_connection_congested', 'Boolean whether the TCP send buffer of the data connection is more than 80% filled', (r) =>
    r.connection.congested === null ? null : bool(r.connection.congested),
  ),
  connectionFamily('drbd_connection_apinflight_bytes', 'Number of application requests in flight (not completed)', (r) => bytes(r.connection.apInFlightBytes)),
  connectionFamily('drbd_connection_rsinflight_bytes', 'Number of resync requests in flight', (r) => bytes(r.connection.rsInFlightBytes)),
  {
    name: 'drbd_device_state',
    help: 'DRBD device state',
    type: 'gauge',
    labelNames: ['name', 'volume', 'minor', 'drbd_device_state'],
    samples: (c, emit) => rowsOf(c.drbd).devices.forEach((r) => emitEnum(emit, r.labels, 'drbd_device_state', REACTOR_DISK_STATES, r.device.diskState)),
  },
  deviceFamily('drbd_device_client', 'Boolean whether this device is a client (i.e., intentional diskless)', (r, c) => {
    const client = clientOf(r, c);
    return client === null ? null : bool(client);
  }),
  deviceFamily('drbd_device_unintentionaldiskless', 'Boolean whether the devices is unintentional diskless', (r, c) => {
    const client = clientOf(r, c);
    return client === null ? null : bool(!client && r.device.diskState === 'Diskless');
  }),
  deviceFamily('drbd_device_quorum', 'Boolean if this device has DRBD quorum', (r) => (typeof r.device.quorum === 'boolean' ? bool(r.device.quorum) : null)),
  deviceFamily('drbd_device_open', 'Boolean if this device is opened', (r) => (typeof r.device.open === 'boolean' ? bool(r.device.open) : null)),
  deviceFamily('drbd_device_size_bytes', 'Device size in bytes', (r) => bytes(r.device.sizeBytes)),
  deviceFamily('drbd_device_read_bytes_total', 'Net data read from local hard disk', (r) => bytes(r.device.counters.diskReadBytes), 'counter'),
  deviceFamily('drbd_device_written_bytes_total', 'Net data written on local disk', (r) => bytes(r.device.counters.diskWrittenBytes), 'counter'),
  deviceFamily('drbd_device_alwrites_total', 'Number of updates of the activity log area of the meta data', (r) => bytes(r.device.counters.activityLogWrites), 'counter'),
  deviceFamily('drbd_device_bmwrites_total', 'Number of updates of the bitmap area of the meta data', (r) => bytes(r.device.counters.bitmapWrites), 'counter'),
  deviceFamily('drbd_device_upperpending', 'Number of block I/O requests forwarded to DRBD, but not yet answered by DRBD.', (r) => r.device.counters.applicationPending ?? null),
  deviceFamily('drbd_device_lowerpending', 'Number of open requests to the local I/O sub-system issued by DRBD', (r) => r.device.counters.localPending ?? null),
  deviceFamily('drbd_device_alsuspended', 'Boolean whether the Activity-Log is suspended', (r) => (typeof r.device.alSuspended === 'boolean' ? bool(r.device.alSuspended) : null)),
];

/** What drbd-reactor does not export. */
export const HASTOR_DRBD_FAMILIES: readonly Spec[] = [
  peerDeviceFamily('hastor_peerdevice_sync_percent', 'Resync or online-verify progress with this peer, 0-100; present only while one runs', (r) => r.peerDevice.sync?.percent ?? null),
  peerDeviceFamily('hastor_peerdevice_sync_remaining_bytes', 'Bytes still to resync (or verify) with this peer; present only while one runs', (r) => bytes(r.peerDevice.sync?.remainingBytes)),
  peerDeviceFamily('hastor_peerdevice_sync_eta_seconds', 'Estimated seconds until the running resync with this peer ends, at the current speed', (r) => r.peerDevice.sync?.etaSeconds ?? null),
  peerDeviceFamily('hastor_peerdevice_resync_speed_bytes_per_second', 'Current resync (or verify) speed with this peer in bytes per second', (r) => r.peerDevice.sync?.speedBytesPerSecond ?? null),
  peerDeviceFamily('hastor_peerdevice_sync_stalled', 'Boolean whether the running resync with this peer made no progress recently', (r) =>
    r.peerDevice.sync ? bool(r.peerDevice.sync.stalled) : null,
  ),
  {
    name: 'hastor_peerdevice_replication_state',
    help: 'DRBD replication state with this peer (one series, the current state, value 1)',
    type: 'gauge',
    labelNames: ['name', 'conn_name', 'peer_node_id', 'volume', 'hastor_peerdevice_replication_state'],
    samples: (c, emit) => rowsOf(c.drbd).peerDevices.forEach((r) => emitState(emit, r.labels, 'hastor_peerdevice_replication_state', r.peerDevice.replicationState)),
  },
  {
    name: 'hastor_peerdevice_peer_disk_state',
    help: "The peer's disk state as this node knows it (one series, the current state, value 1)",
    type: 'gauge',
    labelNames: ['name', 'conn_name', 'peer_node_id', 'volume', 'hastor_peerdevice_peer_disk_state'],
    samples: (c, emit) => rowsOf(c.drbd).peerDevices.forEach((r) => emitState(emit, r.labels, 'hastor_peerdevice_peer_disk_state', r.peerDevice.peerDiskState ?? 'DUnknown')),
  },
  {
    name: 'hastor_connection_peer_role',
    help: "The peer's role as this node knows it (one series, the current role, value 1)",
    type: 'gauge',
    labelNames: ['name', 'conn_name', 'peer_node_id', 'hastor_connection_peer_role'],
    samples: (c, emit) => rowsOf(c.drbd).connections.forEach((r) => emitState(emit, r.labels, 'hastor_connection_peer_role', r.connection.peerRole ?? 'Unknown')),
  },
  connectionFamily(
    'hastor_connection_split_brain',
    'Boolean whether DRBD dropped this connection in the handshake (split-brain or unrelated data) and it has stayed StandAlone since',
    (r, c) => bool(c.drbd.splitBrain.get(r.resource.name, r.peerKey) !== undefined),
  ),
  resourceFamily('hastor_resource_dual_primary', 'Boolean whether this node and a connected peer are both Primary (the dual-primary window is open)', (r) =>
    bool(r.resource.role === 'Primary' && r.resource.connections.some((c) => c.peerRole === 'Primary' && c.connectionState === 'Connected')),
  ),
  {
    name: 'hastor_split_brain_detected_total',
    help: 'Split-brains (handshake refusals) seen since the exporter started',
    type: 'counter',
    labelNames: [],
    samples: (c, emit) => emit({}, c.drbd.splitBrain.total),
  },
];
