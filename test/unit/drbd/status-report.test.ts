import { describe, expect, it } from 'vitest';
import { statusReportSchema, toStatusReport, type DrbdStatus } from '../../../src/index.js';

// A DRBD 9 resource with two peers: one syncing from us, one established.
const status: DrbdStatus = {
  source: 'status-json',
  version: null,
  unconfiguredMinors: [],
  resources: [
    {
      name: 'vm1',
      role: 'Primary',
      suspended: 'no',
      devices: [
        { volume: 1, minor: 1001, diskState: 'UpToDate', sizeBytes: 2n ** 40n, ioFlags: null, counters: {} },
        { volume: 0, minor: 1000, diskState: 'UpToDate', sizeBytes: 1024n, ioFlags: null, counters: {} },
      ],
      connections: [
        {
          peerNodeId: 2,
          name: 'beta',
          connectionState: 'Connected',
          peerRole: 'Secondary',
          protocol: 'C',
          congested: false,
          peerDevices: [
            { volume: 0, replicationState: 'Established', peerDiskState: 'UpToDate', outOfSyncBytes: 0n, resyncSuspended: 'no', sync: null, counters: {} },
            {
              volume: 1,
              replicationState: 'SyncSource',
              peerDiskState: 'Inconsistent',
              outOfSyncBytes: 3n * 2n ** 30n,
              resyncSuspended: 'no',
              sync: {
                percent: 25,
                remainingBytes: 3n * 2n ** 30n,
                totalBytes: 4n * 2n ** 30n,
                etaSeconds: 30,
                speedBytesPerSecond: 100 * 2 ** 20,
                averageSpeedBytesPerSecond: null,
                wantBytesPerSecond: null,
                stalled: false,
              },
              counters: {},
            },
          ],
        },
        {
          peerNodeId: 3,
          name: 'gamma',
          connectionState: 'Connecting',
          peerRole: 'Unknown',
          protocol: 'C',
          congested: null,
          peerDevices: [],
        },
      ],
    },
  ],
};

describe('toStatusReport', () => {
  const report = toStatusReport(status);

  it('is valid against the exported schema', () => {
    expect(() => statusReportSchema.parse(report)).not.toThrow();
  });

  it('orders devices by minor and matches peer devices by volume, not position', () => {
    expect(report.devices.map((d) => d.minor)).toEqual([1000, 1001]);
    expect(report.devices[0]).toMatchObject({ volume: 0, replicationState: 'Established', sync: null, resource: 'vm1' });
    expect(report.devices[1]).toMatchObject({ volume: 1, replicationState: 'SyncSource', peerDiskState: 'Inconsistent' });
  });

  it('converts bigint bytes to JSON numbers exactly', () => {
    expect(report.devices[1]!.sizeBytes).toBe(2 ** 40);
    expect(report.devices[1]!.sync).toMatchObject({ remainingBytes: 3 * 2 ** 30, totalBytes: 4 * 2 ** 30 });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('lists every peer, including one that has no peer device yet', () => {
    const peers = report.devices[1]!.peers;
    expect(peers.map((p) => [p.connectionName, p.connectionState, p.replicationState])).toEqual([
      ['beta', 'Connected', 'SyncSource'],
      ['gamma', 'Connecting', 'Off'],
    ]);
  });
});
