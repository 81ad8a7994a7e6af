/**
 * Real bytes: datagrams captured from the kernel in the UML lab (Linux
 * 6.1.176, in-tree DRBD 8.4.11, drbd-utils 9.22.0), see
 * test/fixtures/netlink-drbd/README.md. Each GET_STATUS dump was followed by
 * a read of /proc/drbd; the decoded model must say what /proc/drbd says.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deviceViews, type DrbdStatus } from '../../../../src/drbd/status-model.js';
import { splitLegacyConnectionState } from '../../../../src/drbd/states.js';
import { decodeGenlFamily } from '../../../../src/sys/genl-family.js';
import { decodeNetlinkMessages } from '../../../../src/sys/netlink-codec.js';
import { STRUCTS_84 } from '../../../../src/drbd/genl/attributes-84.js';
import { drbdCommandName } from '../../../../src/drbd/genl/constants.js';
import { decodeDrbdMessages } from '../../../../src/drbd/genl/decode.js';
import { toDrbdObject } from '../../../../src/drbd/genl/objects.js';
import { decodeDrbdStatusDump, DrbdStatusTracker } from '../../../../src/drbd/genl/status-tracker.js';

interface Capture {
  uname: string;
  drbdVersion: string;
  familyReply: { request: string; datagrams: string[] };
  dumps: { label: string; kind: string; t: number; request: string; datagrams: string[]; proc?: string }[];
  events: { t: number; hex?: string }[];
}

const capture = JSON.parse(
  readFileSync(new URL('../../../fixtures/netlink-drbd/capture-8.4.11-uml.json', import.meta.url), 'utf8'),
) as Capture;
const bytes = (hex: string[]) => hex.map((h) => Buffer.from(h, 'hex'));
const KiB = 1024n;

/** The few /proc/drbd 8.4 fields the comparison needs, for minor 0. */
function proc(text: string) {
  // The protocol letter is blank when the resource has no network config.
  const head = /\s0: cs:(\S+) ro:(\w+)\/(\w+) ds:(\w+)\/(\w+) ([ABC ]) [rs]/.exec(text);
  const counters = /ns:(\d+) nr:(\d+) dw:(\d+) dr:(\d+) al:(\d+)/.exec(text);
  const oos = /oos:(\d+)/.exec(text);
  const sync = /sync'ed:\s*[\d.]+% \((\d+)\/(\d+)\)K/.exec(text);
  if (!head || !counters || !oos) throw new Error(`unexpected /proc/drbd:\n${text}`);
  return {
    cs: head[1] as string,
    role: head[2],
    peerRole: head[3],
    disk: head[4],
    peerDisk: head[5],
    protocol: head[6] === ' ' ? null : head[6],
    sentKiB: BigInt(counters[1] as string),
    readKiB: BigInt(counters[4] as string),
    al: BigInt(counters[5] as string),
    oosKiB: BigInt(oos[1] as string),
    sync: sync ? { leftKiB: BigInt(sync[1] as string), totalKiB: BigInt(sync[2] as string) } : null,
  };
}

const statusDumps = capture.dumps.filter((d) => d.kind === 'GET_STATUS');

describe('captured 8.4.11 netlink traffic', () => {
  it('comes from the lab kernel the README names', () => {
    expect(capture.uname).toBe('6.1.176');
    expect(capture.drbdVersion).toContain('8.4.11 (api:1/proto:86-101)');
  });

  it('the controller describes the family as the tables assume', () => {
    const family = decodeGenlFamily(bytes(capture.familyReply.datagrams).flatMap((d) => decodeNetlinkMessages(d)));
    expect(family).toMatchObject({ name: 'drbd', version: 1, headerSize: 8, maxAttribute: Math.max(...STRUCTS_84.map((s) => s.tla)) });
    expect(family.multicastGroups.map((g) => g.name)).toEqual(['events']);
    for (const op of family.operations) expect(drbdCommandName(op.id)).not.toMatch(/UNKNOWN/);
  });

  it(`decodes all ${statusDumps.length} GET_STATUS dumps to what /proc/drbd showed right after`, () => {
    let compared = 0;
    for (const dump of statusDumps) {
      const p = proc(dump.proc ?? '');
      const [view] = deviceViews(decodeDrbdStatusDump(bytes(dump.datagrams), 1));
      const split = splitLegacyConnectionState(p.cs);
      expect(view, dump.label).toMatchObject({
        minor: 0,
        resource: 'r0',
        volume: 0,
        role: p.role,
        peerRole: p.peerRole,
        diskState: p.disk,
        peerDiskState: p.peerDisk,
        connectionState: split?.connectionState,
        replicationState: split?.replicationState,
        sizeBytes: 131032n * KiB,
      });
      expect(view?.protocol, dump.label).toBe(p.protocol);
      // A resync moves on between the dump and the read of /proc: allow 1 %.
      const close = (actual: bigint | null | undefined, expected: bigint) =>
        expect(Math.abs(Number((actual ?? -1n) - expected))).toBeLessThanOrEqual(Number(131032n * KiB) / 100);
      close(view?.outOfSyncBytes, p.oosKiB * KiB);
      if (p.sync) {
        close(view?.sync?.remainingBytes, p.sync.leftKiB * KiB);
        expect(view?.sync?.totalBytes).toBe(p.sync.totalKiB * KiB);
      } else {
        expect(view?.sync).toBeNull();
      }
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('puts the /proc counters where the model wants them', () => {
    const dump = statusDumps.find((d) => d.label === 'connected-primary-uptodate');
    const p = proc(dump?.proc ?? '');
    const status = decodeDrbdStatusDump(bytes(dump?.datagrams ?? []), 1);
    const device = status.resources[0]?.devices[0];
    const peer = status.resources[0]?.connections[0]?.peerDevices[0];
    expect(device?.counters.diskReadBytes).toBe(p.readKiB * KiB);
    expect(device?.counters.activityLogWrites).toBe(p.al);
    expect(peer?.counters.networkSentBytes).toBe(p.sentKiB * KiB);
    expect(peer?.outOfSyncBytes).toBe(0n);
  });

  it('reads the kernel layout: mandatory bits on context and state_info, NLA_F_NESTED on config nests, pads before u64s', () => {
    const [message] = decodeNetlinkMessages(bytes(statusDumps[0]?.datagrams ?? [])[0] as Buffer);
    const body = message?.payload.subarray(12) as Buffer;
    const tlaTypes: number[] = [];
    for (let at = 0; at < body.length; at += (body.readUInt16LE(at) + 3) & ~3) tlaTypes.push(body.readUInt16LE(at + 2));
    expect(tlaTypes).toEqual([0x0002, 0x8004, 0x8003, 0x8005, 0x0008]);
    const structs = decodeDrbdMessages(bytes(statusDumps[0]?.datagrams ?? []), 1)[0]?.structs;
    expect(structs?.['state_info']).toMatchObject({ sib_reason: 1, capacity: 262064n, bits_total: 32758n, bits_oos: 32758n });
    expect(structs?.['drbd_cfg_context']).toMatchObject({ ctx_resource_name: 'r0', ctx_volume: 0 });
    expect(structs?.['net_conf']).toMatchObject({ wire_protocol: 3, ping_int: 3, connect_int: 3, timeout: 20 });
    expect(structs?.['disk_conf']).toMatchObject({ backing_dev: '/dev/vg_lab/r0_disk', resync_rate: 4096, c_plan_ahead: 0 });
  });

  it('decodes the object dumps the 8.4.11 module also answers, agreeing with GET_STATUS', () => {
    for (const label of ['connected-secondary-inconsistent', 'connected-primary-uptodate']) {
      const objects = capture.dumps.filter((d) => d.label === label && d.kind.startsWith('OBJECTS'));
      expect(objects.map((d) => d.kind)).toEqual(['OBJECTS_30', 'OBJECTS_31', 'OBJECTS_32', 'OBJECTS_33']);
      const fromObjects = deviceViews(decodeDrbdStatusDump(objects.flatMap((d) => bytes(d.datagrams)), 1));
      const fromStatus = deviceViews(decodeDrbdStatusDump(bytes(statusDumps.find((d) => d.label === label)?.datagrams ?? []), 1));
      const pick = (v: (typeof fromStatus)[number] | undefined) => ({
        minor: v?.minor,
        role: v?.role,
        peerRole: v?.peerRole,
        diskState: v?.diskState,
        peerDiskState: v?.peerDiskState,
        connectionState: v?.connectionState,
        replicationState: v?.replicationState,
        sizeBytes: v?.sizeBytes,
        protocol: v?.protocol,
      });
      expect(pick(fromObjects[0]), label).toEqual(pick(fromStatus[0]));
    }
  });
});

describe('captured 8.4.11 DRBD_EVENT stream', () => {
  const initial = statusDumps[0];

  function replay(until: number): { tracker: DrbdStatusTracker; statuses: { t: number; status: DrbdStatus }[] } {
    let now = 0;
    const tracker = new DrbdStatusTracker(1, { now: () => now });
    tracker.applyMessages(decodeDrbdMessages(bytes(initial?.datagrams ?? []), 1));
    const statuses: { t: number; status: DrbdStatus }[] = [];
    for (const event of capture.events) {
      if (event.hex === undefined || event.t > until) continue;
      now = event.t;
      if (tracker.applyMessages(decodeDrbdMessages(Buffer.from(event.hex, 'hex'), 1))) {
        statuses.push({ t: event.t, status: tracker.snapshot() });
      }
    }
    return { tracker, statuses };
  }

  it('holds DRBD_EVENT, the backported notifications and helper calls, all decodable', () => {
    const commands = new Set<string>();
    for (const event of capture.events) {
      for (const message of decodeDrbdMessages(Buffer.from(event.hex ?? '', 'hex'), 1)) {
        commands.add(message.command);
        toDrbdObject(message, 1);
      }
    }
    expect([...commands].sort()).toEqual(['CONNECTION_STATE', 'DEVICE_STATE', 'EVENT', 'HELPER', 'PEER_DEVICE_STATE', 'RESOURCE_STATE']);
  });

  it('follows the initial sync: SyncSource with falling remaining bytes, a speed, then Established', () => {
    const { statuses } = replay(36_000);
    const rows = statuses.map(({ t, status }) => ({ t, view: deviceViews(status)[0] }));
    const syncing = rows.filter((r) => r.view?.replicationState === 'SyncSource' && r.view.sync !== null);
    expect(syncing.length).toBeGreaterThanOrEqual(8);
    const remaining = syncing.map((r) => Number(r.view?.sync?.remainingBytes));
    expect([...remaining].sort((a, b) => b - a)).toEqual(remaining);
    // resync-rate 4M in the lab's .res: the estimate from successive events lands near it.
    const speeds = syncing.map((r) => r.view?.sync?.speedBytesPerSecond).filter((s): s is number => s !== null && s !== undefined);
    expect(speeds.length).toBeGreaterThanOrEqual(6);
    for (const speed of speeds) {
      expect(speed / 1024).toBeGreaterThan(3000);
      expect(speed / 1024).toBeLessThan(4600);
    }
    expect(syncing.at(-2)?.view?.sync?.etaSeconds).toBeGreaterThan(0);
    const last = rows.at(-1)?.view;
    expect(last).toMatchObject({ replicationState: 'Established', peerDiskState: 'UpToDate', sync: null, outOfSyncBytes: 0n });
  });

  it('after disconnect shows StandAlone like the GET_STATUS dump taken then, and ends like the last dump', () => {
    const standalone = statusDumps.find((d) => d.label === 'standalone-primary') as (typeof statusDumps)[number];
    const pick = (status: DrbdStatus) => {
      const v = deviceViews(status)[0];
      return [v?.role, v?.peerRole, v?.diskState, v?.peerDiskState, v?.connectionState, v?.replicationState];
    };
    const atStandalone = replay(standalone.t).tracker.snapshot();
    expect(pick(atStandalone)).toEqual(pick(decodeDrbdStatusDump(bytes(standalone.datagrams), 1)));
    expect(pick(atStandalone)).toEqual(['Primary', 'Unknown', 'UpToDate', 'DUnknown', 'StandAlone', 'Off']);
    const last = statusDumps.at(-1) as (typeof statusDumps)[number];
    expect(pick(replay(Number.MAX_SAFE_INTEGER).tracker.snapshot())).toEqual(pick(decodeDrbdStatusDump(bytes(last.datagrams), 1)));
  });
});
