/**
 * 8.4 (API 1): GET_STATUS dump replies and DRBD_EVENT broadcasts → the status
 * model. Messages are built from the tables (synthetic bytes) with the
 * figures of a real lab sync: /proc/drbd at t+20.7 s showed
 * `cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C`,
 * `ns:136456 dr:136456 al:8 oos:125644`, `(125644/262100)K`.
 */
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { deviceViews } from '../../../../src/drbd/status-model.js';
import { decodeNetlinkMessages } from '../../../../src/sys/netlink-codec.js';
import { DrbdCommand, SibReason } from '../../../../src/drbd/genl/constants.js';
import { decodeDrbdMessages } from '../../../../src/drbd/genl/decode.js';
import { DrbdNetlinkError } from '../../../../src/drbd/genl/errors.js';
import { encodeStateWord } from '../../../../src/drbd/genl/state-word.js';
import { applyDrbdEvent, decodeDrbdStatusDump, DrbdStatusTracker } from '../../../../src/drbd/genl/status-tracker.js';
import { doneMessage, drbdMessage, sockaddrIn } from './helpers.js';

// enum values of drbd.h 8.4.11
const R = { Unknown: 0, Primary: 1, Secondary: 2 };
const C = { StandAlone: 0, WFConnection: 8, Connected: 10, SyncSource: 16, PausedSyncS: 20 };
const D = { Diskless: 0, Inconsistent: 4, DUnknown: 6, UpToDate: 8 };

const KiB = 1024n;

function statusMessage(options: {
  cmd?: number;
  minor?: number | null;
  conn: number;
  pdsk: number;
  peer?: number;
  reason?: number;
  oosKiB?: bigint;
  rsTotalKiB?: bigint;
  userIsp?: boolean;
  seq?: number;
}) {
  const state = encodeStateWord({ role: R.Primary, peer: options.peer ?? R.Secondary, conn: options.conn, disk: D.UpToDate, pdsk: options.pdsk, userIsp: options.userIsp ?? false });
  return drbdMessage({
    api: 1,
    cmd: options.cmd ?? DrbdCommand.GET_STATUS,
    minor: options.minor === undefined ? 0 : options.minor,
    seq: options.seq ?? 7,
    structs: {
      drbd_cfg_context: {
        ctx_volume: 0,
        ctx_resource_name: 'r0',
        ctx_my_addr: sockaddrIn('10.99.0.1', 7789),
        ctx_peer_addr: sockaddrIn('10.99.0.2', 7789),
      },
      res_opts: { cpu_mask: '', on_no_data: 0 },
      disk_conf: { backing_dev: '/dev/vg0/r0', meta_dev: 'internal', meta_dev_idx: -1, resync_rate: 250 },
      net_conf: { wire_protocol: 3, two_primaries: false, timeout: 60 },
      state_info: {
        sib_reason: options.reason ?? SibReason.GET_STATUS_REPLY,
        current_state: state,
        capacity: 524200n, // sectors = 262100 KiB
        ed_uuid: 0x1234n,
        send_cnt: 272912n, // sectors = ns:136456
        recv_cnt: 0n,
        read_cnt: 272912n,
        writ_cnt: 0n,
        al_writ_cnt: 8n,
        bm_writ_cnt: 0n,
        ap_bio_cnt: 0,
        ap_pending_cnt: 2,
        rs_pending_cnt: 9,
        uuids: new Uint8Array(32).fill(1),
        disk_flags: 0,
        bits_total: 65525n,
        bits_oos: (options.oosKiB ?? 0n) / 4n,
        ...(options.rsTotalKiB === undefined ? {} : { bits_rs_total: options.rsTotalKiB / 4n, bits_rs_failed: 0n }),
      },
    },
  });
}

describe('8.4 GET_STATUS dump → DrbdStatus', () => {
  const syncing = statusMessage({ conn: C.SyncSource, pdsk: D.Inconsistent, oosKiB: 125644n, rsTotalKiB: 262100n });
  const dump = Buffer.concat([syncing, doneMessage()]);

  it('fills resource, device, connection and peer device from one reply', () => {
    const status = decodeDrbdStatusDump(dump, 1);
    expect(status.source).toBe('netlink');
    expect(status.resources).toHaveLength(1);
    const [resource] = status.resources;
    expect(resource).toMatchObject({ name: 'r0', role: 'Primary', suspended: 'no' });
    expect(resource?.devices).toEqual([
      {
        volume: 0,
        minor: 0,
        diskState: 'UpToDate',
        sizeBytes: 262100n * KiB,
        ioFlags: null,
        counters: { diskReadBytes: 136456n * KiB, diskWrittenBytes: 0n, activityLogWrites: 8n, bitmapWrites: 0n, applicationPending: 0 },
      },
    ]);
    const connection = resource?.connections[0];
    expect(connection).toMatchObject({ peerNodeId: null, name: null, connectionState: 'Connected', peerRole: 'Secondary', protocol: 'C' });
    const peerDevice = connection?.peerDevices[0];
    expect(peerDevice).toMatchObject({
      volume: 0,
      replicationState: 'SyncSource',
      peerDiskState: 'Inconsistent',
      outOfSyncBytes: 125644n * KiB,
      resyncSuspended: 'no',
      counters: { networkSentBytes: 136456n * KiB, networkReceivedBytes: 0n, peerPending: 11 },
    });
    expect(peerDevice?.sync).toMatchObject({ remainingBytes: 125644n * KiB, totalBytes: 262100n * KiB, percent: 52.1, stalled: false });
  });

  it('gives the same rows as /proc/drbd would through deviceViews', () => {
    const [view] = deviceViews(decodeDrbdStatusDump(dump, 1));
    expect(view).toMatchObject({
      minor: 0,
      resource: 'r0',
      role: 'Primary',
      peerRole: 'Secondary',
      diskState: 'UpToDate',
      peerDiskState: 'Inconsistent',
      connectionState: 'Connected',
      replicationState: 'SyncSource',
      protocol: 'C',
    });
  });

  it('accepts messages already split by the netlink codec', () => {
    expect(decodeDrbdStatusDump(decodeNetlinkMessages(dump), 1)).toEqual(decodeDrbdStatusDump(dump, 1));
  });

  it('maps 8.4 connection words through the /proc vocabulary', () => {
    const waiting = decodeDrbdStatusDump(statusMessage({ conn: C.WFConnection, pdsk: D.DUnknown, peer: R.Unknown }), 1);
    const c = waiting.resources[0]?.connections[0];
    expect(c?.connectionState).toBe('WFConnection');
    expect(c?.peerRole).toBe('Unknown');
    expect(c?.peerDevices[0]?.replicationState).toBe('Off');
    expect(c?.peerDevices[0]?.sync).toBeNull();
  });

  it('reports a paused resync and who paused it', () => {
    const paused = decodeDrbdStatusDump(statusMessage({ conn: C.PausedSyncS, pdsk: D.Inconsistent, oosKiB: 400n, rsTotalKiB: 800n, userIsp: true }), 1);
    const pd = paused.resources[0]?.connections[0]?.peerDevices[0];
    expect(pd?.replicationState).toBe('PausedSyncS');
    expect(pd?.resyncSuspended).toBe('user');
    expect(pd?.sync?.percent).toBe(50);
  });

  it('keeps a resource that has a connection but no volume (minor ~0)', () => {
    const bare = drbdMessage({
      api: 1,
      cmd: DrbdCommand.GET_STATUS,
      minor: null,
      structs: { drbd_cfg_context: { ctx_resource_name: 'r9' }, net_conf: { wire_protocol: 1 } },
    });
    const status = decodeDrbdStatusDump(bare, 1);
    expect(status.resources).toEqual([
      {
        name: 'r9',
        role: null,
        suspended: null,
        devices: [],
        connections: [
          { peerNodeId: null, name: null, connectionState: 'Unconnected', peerRole: null, protocol: 'A', congested: null, peerDevices: [] },
        ],
      },
    ]);
  });

  it('raises DrbdNetlinkError when the dump ended in an error (unknown resource: ENODEV)', () => {
    expect(() => decodeDrbdStatusDump(doneMessage(19), 1)).toThrow(DrbdNetlinkError);
    expect(() => decodeDrbdStatusDump(doneMessage(19), 1)).toThrow(/ENODEV/);
  });

  it('raises ParseError with the message number for an unknown enum value', () => {
    const bad = drbdMessage({
      api: 1,
      cmd: DrbdCommand.GET_STATUS,
      minor: 3,
      structs: { drbd_cfg_context: { ctx_resource_name: 'r0' }, state_info: { current_state: encodeStateWord({ conn: 30 }) } },
    });
    expect(() => decodeDrbdStatusDump(Buffer.concat([syncing, bad]), 1)).toThrow(ParseError);
    expect(() => decodeDrbdStatusDump(Buffer.concat([syncing, bad]), 1)).toThrow(/message 2 \(GET_STATUS minor 3\): connection state 30/);
    const error = (() => {
      try {
        decodeDrbdStatusDump(Buffer.concat([syncing, bad]), 1);
      } catch (e) {
        return e as ParseError;
      }
    })();
    expect(error?.line).toBe(2);
    expect(error?.excerpt).toMatch(/^02010000/); // the genl header of the offending message
  });

  it('raises ParseError naming the message for truncated bytes', () => {
    const cut = Buffer.concat([syncing, syncing.subarray(0, syncing.length - 6)]);
    try {
      decodeDrbdStatusDump(cut, 1);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ParseError);
      expect((error as ParseError).line).toBe(2);
      expect((error as ParseError).excerpt).toMatch(/^[0-9a-f]+$/);
    }
  });
});

describe('8.4 DRBD_EVENT stream', () => {
  it('estimates speed and ETA from successive sync-progress events, then clears sync when it ends', () => {
    let now = 0;
    const tracker = new DrbdStatusTracker(1, { now: () => now });
    const event = (oosKiB: bigint, conn = C.SyncSource, pdsk = D.Inconsistent) =>
      decodeDrbdMessages(
        statusMessage({ cmd: DrbdCommand.EVENT, conn, pdsk, oosKiB, rsTotalKiB: 262100n, reason: SibReason.SYNC_PROGRESS }),
        1,
      );
    tracker.applyMessages(event(143896n));
    let sync = tracker.snapshot().resources[0]?.connections[0]?.peerDevices[0]?.sync;
    expect(sync?.speedBytesPerSecond).toBeNull();
    now = 1_310; // /proc samples 1.31 s apart: 143896 → 125644 KiB left
    tracker.applyMessages(event(125644n));
    sync = tracker.snapshot().resources[0]?.connections[0]?.peerDevices[0]?.sync;
    const speed = Number((143896n - 125644n) * KiB) / 1.31;
    expect(sync?.speedBytesPerSecond).toBeCloseTo(speed, 3);
    expect(sync?.etaSeconds).toBe(Math.round(Number(125644n * KiB) / speed));
    expect(sync?.averageSpeedBytesPerSecond).toBeCloseTo(speed, 3);

    now = 9_000;
    tracker.applyMessages(event(0n, C.Connected, D.UpToDate));
    const pd = tracker.snapshot().resources[0]?.connections[0]?.peerDevices[0];
    expect(pd?.replicationState).toBe('Established');
    expect(pd?.peerDiskState).toBe('UpToDate');
    expect(pd?.sync).toBeNull();
  });

  it('marks a resync stalled when nothing moved for 24 s', () => {
    let now = 0;
    const tracker = new DrbdStatusTracker(1, { now: () => now });
    const event = () =>
      decodeDrbdMessages(statusMessage({ cmd: DrbdCommand.EVENT, conn: C.SyncSource, pdsk: D.Inconsistent, oosKiB: 4000n, rsTotalKiB: 8000n }), 1);
    tracker.applyMessages(event());
    now = 25_000;
    tracker.applyMessages(event());
    expect(tracker.snapshot().resources[0]?.connections[0]?.peerDevices[0]?.sync?.stalled).toBe(true);
  });

  it('applyDrbdEvent returns a new status and leaves the old one alone', () => {
    const before = decodeDrbdStatusDump(statusMessage({ conn: C.Connected, pdsk: D.UpToDate }), 1);
    const copy = structuredClone(before);
    const after = applyDrbdEvent(before, statusMessage({ cmd: DrbdCommand.EVENT, conn: C.StandAlone, pdsk: D.DUnknown, peer: R.Unknown, reason: SibReason.STATE_CHANGE }), 1);
    expect(before).toEqual(copy);
    expect(after.resources[0]?.connections[0]?.connectionState).toBe('StandAlone');
  });

  it('removes a device on the backported DEVICE_STATE destroy notification, ignores its other notifications', () => {
    const base = decodeDrbdStatusDump(statusMessage({ conn: C.Connected, pdsk: D.UpToDate }), 1);
    const change = drbdMessage({
      api: 1,
      cmd: DrbdCommand.DEVICE_STATE,
      minor: 0,
      structs: { drbd_cfg_context: { ctx_resource_name: 'r0', ctx_volume: 0 }, drbd_notification_header: { nh_type: 2 }, device_info: { dev_disk_state: D.Diskless } },
    });
    expect(applyDrbdEvent(base, change, 1)).toEqual(base);
    const destroy = drbdMessage({
      api: 1,
      cmd: DrbdCommand.DEVICE_STATE,
      minor: 0,
      structs: { drbd_cfg_context: { ctx_resource_name: 'r0', ctx_volume: 0 }, drbd_notification_header: { nh_type: 3 } },
    });
    expect(applyDrbdEvent(base, destroy, 1).resources[0]?.devices).toEqual([]);
  });
});
