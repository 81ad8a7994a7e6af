/**
 * DRBD 9 (API 2): GET_RESOURCES / GET_DEVICES / GET_CONNECTIONS /
 * GET_PEER_DEVICES replies and the *_STATE notifications → the status model.
 * Synthetic messages built from the DRBD 9 tables (no DRBD 9 kernel in the
 * lab); enum values from drbd-headers' drbd.h.
 */
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { deviceViews } from '../../../../src/drbd/status-model.js';
import { DrbdCommand, NOTIFY_CONTINUES, NotifyType } from '../../../../src/drbd/genl/constants.js';
import { applyDrbdEvent, decodeDrbdStatusDump } from '../../../../src/drbd/genl/status-tracker.js';
import { doneMessage, drbdMessage, sockaddrIn } from './helpers.js';

const R = { Primary: 1, Secondary: 2 };
const C = { StandAlone: 0, Connecting: 8, Connected: 9 };
const L = { Off: 9, Established: 10, SyncSource: 16 };
const D = { Diskless: 0, Detaching: 2, Inconsistent: 5, DUnknown: 7, UpToDate: 9 };
const S = 512n;

const ctx = (extra: Record<string, unknown> = {}) => ({ ctx_resource_name: 'vm1', ...extra });

const resource = drbdMessage({
  api: 2,
  cmd: DrbdCommand.GET_RESOURCES,
  structs: {
    drbd_cfg_context: ctx(),
    res_opts: { node_id: 1, auto_promote: true },
    resource_info: { res_role: R.Primary, res_susp: false, res_susp_nod: false, res_susp_fen: false, res_susp_quorum: false },
    resource_statistics: { res_stat_write_ordering: 2 },
  },
});

const device = (volume: number, minor: number, disk: number) =>
  drbdMessage({
    api: 2,
    cmd: DrbdCommand.GET_DEVICES,
    minor,
    structs: {
      drbd_cfg_context: ctx({ ctx_volume: volume }),
      device_info: { dev_disk_state: disk, dev_has_quorum: true },
      device_statistics: { dev_size: 2097152n, dev_read: 100n, dev_write: 200n, dev_al_writes: 3n, dev_bm_writes: 4n, dev_upper_pending: 1, dev_lower_pending: 2 },
    },
  });

const connection = (nodeId: number, name: string, cstate: number, role: number) =>
  drbdMessage({
    api: 2,
    cmd: DrbdCommand.GET_CONNECTIONS,
    structs: {
      drbd_cfg_context: ctx({ ctx_peer_node_id: nodeId, ctx_conn_name: name, ctx_my_addr: sockaddrIn('10.0.0.1', 7000), ctx_peer_addr: sockaddrIn('10.0.0.2', 7000) }),
      net_conf: { wire_protocol: 3, name },
      connection_info: { conn_connection_state: cstate, conn_role: role },
      connection_statistics: { conn_congested: false, ap_in_flight: 0n, rs_in_flight: 0n },
    },
  });

const peerDevice = (nodeId: number, volume: number, minor: number, repl: number, pdsk: number, stats: Record<string, unknown> = {}) =>
  drbdMessage({
    api: 2,
    cmd: DrbdCommand.GET_PEER_DEVICES,
    minor,
    structs: {
      drbd_cfg_context: ctx({ ctx_peer_node_id: nodeId, ctx_volume: volume }),
      peer_device_info: { peer_repl_state: repl, peer_disk_state: pdsk, peer_resync_susp_user: 0, peer_resync_susp_peer: 0, peer_resync_susp_dependency: 0 },
      peer_device_statistics: { peer_dev_received: 8n, peer_dev_sent: 16n, peer_dev_pending: 0, peer_dev_unacked: 1, peer_dev_out_of_sync: 0n, peer_dev_resync_failed: 0n, ...stats },
    },
  });

const syncing = {
  peer_dev_out_of_sync: 1048576n,
  peer_dev_rs_total: 2097152n,
  peer_dev_rs_dt_start_ms: 20_000n,
  peer_dev_rs_paused_ms: 0n,
  peer_dev_rs_dt1_ms: 1_000n,
  peer_dev_rs_db1_sectors: 20_480n,
  peer_dev_rs_c_sync_rate: 250_000,
};

const dump = [
  resource,
  doneMessage(),
  Buffer.concat([device(0, 1000, D.UpToDate), device(1, 1001, D.UpToDate), doneMessage()]),
  Buffer.concat([connection(2, 'beta', C.Connected, R.Secondary), connection(3, 'gamma', C.Connecting, 0), doneMessage()]),
  Buffer.concat([
    peerDevice(2, 0, 1000, L.Established, D.UpToDate),
    peerDevice(2, 1, 1001, L.SyncSource, D.Inconsistent, syncing),
    peerDevice(3, 0, 1000, L.Off, D.DUnknown),
    peerDevice(3, 1, 1001, L.Off, D.DUnknown),
    doneMessage(),
  ]),
];

describe('DRBD 9 object dumps → DrbdStatus', () => {
  const status = decodeDrbdStatusDump(dump, 2);
  const [vm1] = status.resources;

  it('builds the resource with its devices', () => {
    expect(vm1).toMatchObject({ name: 'vm1', role: 'Primary', suspended: 'no' });
    expect(vm1?.devices.map((d) => [d.volume, d.minor, d.diskState, d.sizeBytes])).toEqual([
      [0, 1000, 'UpToDate', 2097152n * S],
      [1, 1001, 'UpToDate', 2097152n * S],
    ]);
    expect(vm1?.devices[0]?.counters).toEqual({
      diskReadBytes: 100n * S,
      diskWrittenBytes: 200n * S,
      activityLogWrites: 3n,
      bitmapWrites: 4n,
      applicationPending: 1,
      localPending: 2,
    });
  });

  it('keys connections by peer node id and keeps their names', () => {
    expect(vm1?.connections.map((c) => [c.peerNodeId, c.name, c.connectionState, c.peerRole, c.protocol, c.congested])).toEqual([
      [2, 'beta', 'Connected', 'Secondary', 'C', false],
      [3, 'gamma', 'Connecting', 'Unknown', 'C', false],
    ]);
  });

  it('computes resync progress and speeds from the peer-device statistics', () => {
    const pd = vm1?.connections[0]?.peerDevices[1];
    expect(pd).toMatchObject({ volume: 1, replicationState: 'SyncSource', peerDiskState: 'Inconsistent', outOfSyncBytes: 1048576n * S });
    expect(pd?.sync).toEqual({
      percent: 50,
      remainingBytes: 1048576n * S,
      totalBytes: 2097152n * S,
      speedBytesPerSecond: 20_480 * 512,
      averageSpeedBytesPerSecond: (1048576 * 512) / 20,
      wantBytesPerSecond: 250_000 * 1024,
      etaSeconds: Math.round((1048576 * 512) / (20_480 * 512)),
      stalled: false,
    });
    expect(pd?.counters).toEqual({ networkSentBytes: 16n * S, networkReceivedBytes: 8n * S, peerPending: 0, unacked: 1 });
  });

  it('lists one view per device with every peer', () => {
    const views = deviceViews(status);
    expect(views.map((v) => [v.minor, v.replicationState, v.peers.length])).toEqual([
      [1000, 'Established', 2],
      [1001, 'SyncSource', 2],
    ]);
    expect(views[1]?.sync?.percent).toBe(50);
  });

  it('decodes DRBD 9 disk states with Detaching in the enum', () => {
    const s = decodeDrbdStatusDump([resource, device(0, 1000, D.Detaching)], 2);
    expect(s.resources[0]?.devices[0]?.diskState).toBe('Detaching');
  });

  it('refuses a replication state below L_OFF', () => {
    expect(() => decodeDrbdStatusDump(peerDevice(2, 0, 1000, 3, D.UpToDate), 2)).toThrow(ParseError);
  });

  it('skips replies whose ret_code is an error (resource gone between two dumps)', () => {
    const gone = drbdMessage({ api: 2, cmd: DrbdCommand.GET_DEVICES, minor: null, retCode: 158 });
    expect(decodeDrbdStatusDump([resource, gone], 2).resources[0]?.devices).toEqual([]);
  });
});

describe('DRBD 9 notifications', () => {
  const base = decodeDrbdStatusDump(dump, 2);
  const note = (cmd: number, type: number, structs: Record<string, Record<string, unknown>>, minor: number | null = null) =>
    drbdMessage({ api: 2, cmd, minor, structs: { drbd_notification_header: { nh_type: type }, ...structs } as never });

  it('applies a peer-device change: resync done', () => {
    const done = note(
      DrbdCommand.PEER_DEVICE_STATE,
      NotifyType.CHANGE,
      {
        drbd_cfg_context: ctx({ ctx_peer_node_id: 2, ctx_volume: 1 }),
        peer_device_info: { peer_repl_state: L.Established, peer_disk_state: D.UpToDate },
        peer_device_statistics: { peer_dev_out_of_sync: 0n },
      },
      1001,
    );
    const after = applyDrbdEvent(base, done, 2);
    const pd = after.resources[0]?.connections[0]?.peerDevices[1];
    expect(pd).toMatchObject({ replicationState: 'Established', peerDiskState: 'UpToDate', outOfSyncBytes: 0n, sync: null });
  });

  it('removes a connection on destroy and a resource on destroy', () => {
    const gone = note(DrbdCommand.CONNECTION_STATE, NotifyType.DESTROY, { drbd_cfg_context: ctx({ ctx_peer_node_id: 3, ctx_conn_name: 'gamma' }) });
    expect(applyDrbdEvent(base, gone, 2).resources[0]?.connections.map((c) => c.name)).toEqual(['beta']);
    const down = note(DrbdCommand.RESOURCE_STATE, NotifyType.DESTROY, { drbd_cfg_context: ctx() });
    expect(applyDrbdEvent(base, down, 2).resources).toEqual([]);
  });

  it('creates objects from initial-state messages flagged NOTIFY_CONTINUES', () => {
    const created = note(DrbdCommand.RESOURCE_STATE, NotifyType.EXISTS | NOTIFY_CONTINUES, {
      drbd_cfg_context: { ctx_resource_name: 'vm2' },
      resource_info: { res_role: R.Secondary, res_susp: true },
    });
    const after = applyDrbdEvent(base, created, 2);
    expect(after.resources.map((r) => [r.name, r.role, r.suspended])).toEqual([
      ['vm1', 'Primary', 'no'],
      ['vm2', 'Secondary', 'user'],
    ]);
  });

  it('ignores helper notifications and the end of the initial state', () => {
    const helper = note(DrbdCommand.HELPER, NotifyType.CALL, { drbd_cfg_context: ctx(), drbd_helper_info: { helper_name: 'before-resync-target', helper_status: 0 } });
    const doneMarker = note(DrbdCommand.INITIAL_STATE_DONE, NotifyType.EXISTS, {});
    expect(applyDrbdEvent(applyDrbdEvent(base, helper, 2), doneMarker, 2)).toEqual(base);
  });
});
