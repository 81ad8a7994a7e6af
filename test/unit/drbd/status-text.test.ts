import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseStatusText, UNKNOWN_MINOR } from '../../../src/drbd/status-text.js';
import { deviceViews } from '../../../src/drbd/status-model.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/status-text/${name}`, import.meta.url), 'utf8');
const MIB = 1024 * 1024;

describe('parseStatusText on DRBD 8.4.11 lab captures', () => {
  it('--verbose --statistics: the whole model, sizes in bytes', () => {
    expect(parseStatusText(fixture('drbd84-verbose-statistics.txt'))).toEqual({
      source: 'status-text',
      version: null,
      unconfiguredMinors: [],
      resources: [
        {
          name: 'r0',
          role: 'Primary',
          suspended: 'no',
          devices: [
            {
              volume: 0,
              minor: 0,
              diskState: 'UpToDate',
              sizeBytes: 262_100n * 1024n,
              ioFlags: null,
              counters: {
                diskReadBytes: 262_100n * 1024n,
                diskWrittenBytes: 0n,
                activityLogWrites: 8n,
                bitmapWrites: 0n,
                applicationPending: 0,
                localPending: 0,
                writeOrdering: 'flush',
              },
            },
          ],
          connections: [
            {
              peerNodeId: null,
              name: 'peer',
              connectionState: 'Connected',
              peerRole: 'Secondary',
              protocol: null,
              congested: false,
              peerDevices: [
                {
                  volume: 0,
                  replicationState: 'Established',
                  peerDiskState: 'UpToDate',
                  outOfSyncBytes: 0n,
                  resyncSuspended: 'no',
                  sync: null,
                  counters: { networkReceivedBytes: 0n, networkSentBytes: 262_100n * 1024n, peerPending: 0, unacked: 0 },
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('dual primary', () => {
    expect(deviceViews(parseStatusText(fixture('drbd84-dual-primary.txt')))[0]).toMatchObject({ role: 'Primary', peerRole: 'Primary' });
  });

  it('after a network cut: Connecting (8.4 /proc/drbd says WFConnection), 4 KiB out of sync', () => {
    const connection = parseStatusText(fixture('drbd84-after-cut-connecting.txt')).resources[0]?.connections[0];
    expect(connection).toMatchObject({ connectionState: 'Connecting', peerRole: 'Unknown', congested: false });
    expect(connection?.peerDevices[0]).toMatchObject({ replicationState: 'Off', peerDiskState: 'DUnknown', outOfSyncBytes: 4096n, sync: null });
  });

  it('drbdadm status (not verbose): defaults for what is left out', () => {
    const status = parseStatusText(fixture('drbd84-drbdadm-status.txt'), { drbd84: true });
    expect(status.resources[0]).toMatchObject({ name: 'r0', role: 'Primary', suspended: 'no' });
    expect(status.resources[0]?.devices[0]).toMatchObject({ volume: 0, minor: UNKNOWN_MINOR, diskState: 'UpToDate', sizeBytes: null });
    expect(status.resources[0]?.connections[0]).toMatchObject({ peerNodeId: null, name: null, connectionState: 'Connected', peerRole: 'Secondary' });
    expect(status.resources[0]?.connections[0]?.peerDevices[0]).toMatchObject({ replicationState: 'Established', peerDiskState: 'UpToDate', outOfSyncBytes: null });
  });
});

describe('parseStatusText on DRBD 9 output', () => {
  it('-vs during SyncSource, wrapped at 80 columns: done, eta, dbdt1 and node ids', () => {
    const status = parseStatusText(fixture('drbd9-vs-syncsource-wrapped.txt'));
    const resource = status.resources[0];
    expect(resource).toMatchObject({ name: 'postgres', role: 'Primary', suspended: 'no' });
    expect(resource?.devices[0]).toMatchObject({ volume: 0, minor: 0, diskState: 'UpToDate', sizeBytes: 104_854_364n * 1024n });
    expect(resource?.devices[0]?.counters).toMatchObject({ bitmapWrites: 1069n, localPending: 4, applicationPending: 0 });
    const connection = resource?.connections[0];
    expect(connection).toMatchObject({ peerNodeId: 1, name: 'instance-12', connectionState: 'Connected', peerRole: 'Secondary', congested: false });
    const pd = connection?.peerDevices[0];
    expect(pd).toMatchObject({ replicationState: 'SyncSource', peerDiskState: 'Inconsistent', resyncSuspended: 'no', outOfSyncBytes: 80_476_296n * 1024n });
    expect(pd?.counters).toEqual({ networkReceivedBytes: 0n, networkSentBytes: 24_378_184n * 1024n, peerPending: 5, unacked: 4 });
    expect(pd?.sync).toEqual({
      percent: 23.25,
      remainingBytes: 80_476_296n * 1024n,
      // out-of-sync / (1 - 23.25%)
      totalBytes: (80_476_296n * 1024n * 10_000n) / 7_675n,
      etaSeconds: 811,
      speedBytesPerSecond: 96.88 * MIB,
      averageSpeedBytesPerSecond: null,
      wantBytesPerSecond: null,
      stalled: false,
    });
  });

  it('-vs during SyncTarget, one line per object (older drbd-utils)', () => {
    const views = deviceViews(parseStatusText(fixture('drbd9-vs-synctarget-unwrapped.txt')));
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({
      minor: 2,
      resource: 'r1',
      role: 'Secondary',
      diskState: 'Inconsistent',
      peerRole: 'Primary',
      replicationState: 'SyncTarget',
      outOfSyncBytes: 6_411_740n * 1024n,
    });
    expect(views[0]?.sync).toMatchObject({ percent: 23.53, etaSeconds: 68, speedBytesPerSecond: 92.39 * MIB, totalBytes: (6_411_740n * 1024n * 10_000n) / 7_647n });
    // The derived total lands next to the device size (8384220 KiB).
    expect(Number(views[0]?.sync?.totalBytes) / Number(views[0]?.sizeBytes)).toBeCloseTo(1, 3);
  });

  it('--verbose with two peers: one Connected, one Unconnected', () => {
    const status = parseStatusText(fixture('drbd9-verbose-outdated-unconnected.txt'));
    expect(status.resources[0]?.devices[0]).toMatchObject({ minor: 3194, diskState: 'Outdated' });
    expect(status.resources[0]?.connections.map((c) => [c.peerNodeId, c.name, c.connectionState, c.peerRole])).toEqual([
      [1, 'm11c37', 'Connected', 'Secondary'],
      [3, 'm8c8', 'Unconnected', 'Unknown'],
    ]);
    expect(status.resources[0]?.connections[1]?.peerDevices[0]).toMatchObject({ replicationState: 'Off', peerDiskState: 'DUnknown', outOfSyncBytes: null });
  });

  it('--verbose on a diskless client', () => {
    const status = parseStatusText(fixture('drbd9-verbose-diskless-client.txt'));
    expect(status.resources[0]).toMatchObject({ role: 'Primary', devices: [{ minor: 3194, diskState: 'Diskless' }] });
    expect(status.resources[0]?.connections[1]?.peerDevices[0]?.peerDiskState).toBe('Outdated');
  });

  it('drbdadm status: SyncTarget from one peer, a diskless Primary peer', () => {
    const status = parseStatusText(fixture('drbd9-status-synctarget-diskless-peer.txt'));
    const [syncing, diskless] = status.resources[0]?.connections ?? [];
    expect(syncing).toMatchObject({ name: 'm10c17', peerRole: 'Secondary' });
    expect(syncing?.peerDevices[0]).toMatchObject({ replicationState: 'SyncTarget', peerDiskState: 'UpToDate' });
    // No byte counts without --statistics: percent only.
    expect(syncing?.peerDevices[0]?.sync).toMatchObject({ percent: 51.52, remainingBytes: 0n, totalBytes: 0n });
    expect(diskless?.peerDevices[0]).toMatchObject({ replicationState: 'Established', peerDiskState: 'Diskless', sync: null });
  });

  it('drbdadm status: a StandAlone peer prints no peer devices', () => {
    const status = parseStatusText(fixture('drbd9-status-standalone-quorum-lost.txt'));
    expect(status.resources[0]?.devices[0]).toMatchObject({ diskState: 'Outdated' });
    expect(status.resources[0]?.connections.map((c) => [c.name, c.connectionState, c.peerRole, c.peerDevices.length])).toEqual([
      ['m10c27', 'StandAlone', 'Unknown', 0],
      ['m13c29', 'Connected', 'Secondary', 1],
      ['m13c9', 'Connected', 'Primary', 1],
    ]);
  });

  it('drbdadm status: congested peer', () => {
    const connection = parseStatusText(fixture('drbd9-status-congested-syncsource.txt')).resources[0]?.connections[1];
    expect(connection).toMatchObject({ name: 'm13c23', congested: true });
    expect(connection?.peerDevices[0]?.sync?.percent).toBe(72.42);
  });

  it('two volumes, two peers, resync suspended by a peer', () => {
    const status = parseStatusText(fixture('drbd9-status-multi-volume.txt'));
    expect(status.resources[0]?.devices.map((d) => [d.volume, d.diskState])).toEqual([
      [0, 'Inconsistent'],
      [1, 'Inconsistent'],
    ]);
    const [node1, node2] = status.resources[0]?.connections ?? [];
    expect(node1?.peerDevices.map((pd) => [pd.volume, pd.replicationState, pd.sync?.percent])).toEqual([
      [0, 'SyncTarget', 10.17],
      [1, 'SyncTarget', 74.08],
    ]);
    expect(node2?.peerDevices.map((pd) => [pd.volume, pd.peerDiskState, pd.resyncSuspended])).toEqual([
      [0, 'Inconsistent', 'peer'],
      [1, 'Inconsistent', 'peer'],
    ]);
    expect(deviceViews(status).map((v) => v.sync?.percent)).toEqual([10.17, 74.08]);
  });

  it('three resources separated by blank lines', () => {
    const status = parseStatusText(fixture('drbd9-status-multi-resource.txt'));
    expect(status.resources.map((r) => [r.name, r.role])).toEqual([
      ['haqm1', 'Primary'],
      ['haqm2', 'Secondary'],
      ['haqm3', 'Secondary'],
    ]);
    expect(status.resources[0]?.connections[1]?.peerDevices[0]?.sync?.percent).toBe(90.91);
  });
});

describe('parseStatusText edge cases', () => {
  it('no resources', () => {
    expect(parseStatusText('# No currently configured DRBD found.\n').resources).toEqual([]);
    expect(parseStatusText('').resources).toEqual([]);
  });

  it('strips --color escapes', () => {
    const status = parseStatusText('r0 role:\x1b[1;36mPrimary\x1b[0m\n  disk:\x1b[1;32mUpToDate\x1b[0m\n');
    expect(status.resources[0]).toMatchObject({ role: 'Primary', devices: [{ diskState: 'UpToDate' }] });
  });

  it('a connection with no name is identified by node-id', () => {
    const status = parseStatusText('r0 role:Secondary\n  disk:UpToDate\n  node-id:2 connection:Connecting\n');
    expect(status.resources[0]?.connections[0]).toMatchObject({ peerNodeId: 2, name: null, connectionState: 'Connecting', peerRole: 'Unknown' });
  });

  it('suspended, paused and verifying states', () => {
    const status = parseStatusText(
      'r0 role:Primary suspended:user,quorum\n  disk:UpToDate\n  b role:Secondary\n    replication:PausedSyncS peer-disk:Inconsistent done:5.00 resync-suspended:user\n',
    );
    expect(status.resources[0]?.suspended).toBe('user,quorum');
    expect(status.resources[0]?.connections[0]?.peerDevices[0]?.sync).toMatchObject({ percent: 5, stalled: true, etaSeconds: null });
  });

  it.each([
    ['  disk:UpToDate\n', 1, 'before any resource'],
    ['role:Primary\n', 1, 'starts with the resource name'],
    ['r0 role:Primary\n  disk:UpToDate\n  peer role:Secondary\n    replication:Established peer-disk:Bogus\n', 4, 'unknown disk state "Bogus"'],
    ['r0 role:Primary\n  volume:x disk:UpToDate\n', 2, 'volume: expected a non-negative integer'],
    ['r0 role:Primary\n  peer role\n', 2, 'malformed key:value "role"'],
    ['r0 role:Primary\n  role:Secondary\n', 2, 'expected a volume, disk or peer name'],
    ['r0 role:Primary\n\tdisk:UpToDate\n', 2, 'indentation must be spaces'],
    ['r0 role:Primary\n  peer role:Secondary\n    replication:Established\n  \n    x\n', 5, 'malformed key:value "x"'],
  ])('rejects %j at line %i', (text, line, reason) => {
    let error: unknown;
    try {
      parseStatusText(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).line).toBe(line);
    expect((error as ParseError).message).toContain(reason);
  });
});
