import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseStatusJson } from '../../../src/drbd/status-json.js';
import { deviceViews } from '../../../src/drbd/status-model.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/status-json/${name}`, import.meta.url), 'utf8');
const MIB = 1024 * 1024;

function parseError(text: string): ParseError {
  try {
    parseStatusJson(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ParseError);
    return error as ParseError;
  }
  throw new Error('expected a ParseError');
}

// One resource in the shape of drbd-utils' peer_device_status_json during a resync (synthetic values).
const syncing = {
  name: 'vm1',
  'node-id': 0,
  role: 'Primary',
  suspended: false,
  'suspended-user': false,
  'suspended-no-data': false,
  'suspended-fencing': false,
  'suspended-quorum': false,
  'force-io-failures': false,
  'write-ordering': 'flush',
  devices: [{ volume: 0, minor: 1000, 'disk-state': 'UpToDate', client: false, open: true, quorum: true, size: 8000 }],
  connections: [
    {
      'peer-node-id': 1,
      name: 'beta',
      'connection-state': 'Connected',
      congested: false,
      'peer-role': 'Secondary',
      tls: false,
      paths: [],
      peer_devices: [
        {
          volume: 0,
          'replication-state': 'SyncSource',
          'peer-disk-state': 'Inconsistent',
          'peer-client': false,
          'resync-suspended': 'no',
          received: 0,
          sent: 1000,
          'out-of-sync': 3000,
          pending: 0,
          unacked: 0,
          'has-sync-details': true,
          'has-online-verify-details': false,
          'percent-in-sync': 62.5,
          'rs-total': 8000,
          'rs-dt-start-ms': 20000,
          'rs-paused-ms': 0,
          'rs-dt0-ms': 3000,
          'rs-db0-sectors': 600,
          'rs-dt1-ms': 3000,
          'rs-db1-sectors': 600,
          'rs-failed': 0,
          'rs-same-csum': 0,
          want: 0,
          'db0/dt0 [MiB/s]': 0.1,
          'db1/dt1 [MiB/s]': 0.1,
          'estimated-seconds-to-finish': 30,
          'db/dt [MiB/s]': 0.05,
          'percent-resync-done': 50,
        },
      ],
    },
  ],
};

describe('parseStatusJson', () => {
  it('ha_cluster_exporter issue capture: the whole model, KiB to bytes', () => {
    expect(parseStatusJson(fixture('drbd9-ha-cluster-exporter-issue25.json'))).toEqual({
      source: 'status-json',
      version: null,
      unconfiguredMinors: [],
      resources: [
        {
          name: '1-single-0',
          role: 'Primary',
          suspended: 'no',
          devices: [
            {
              volume: 0,
              minor: 2,
              diskState: 'UpToDate',
              sizeBytes: 409_600n * 1024n,
              ioFlags: null,
              counters: {
                diskReadBytes: 8457n * 1024n,
                diskWrittenBytes: 536_513n * 1024n,
                activityLogWrites: 4n,
                bitmapWrites: 0n,
                applicationPending: 0,
                localPending: 0,
                writeOrdering: 'flush',
              },
            },
          ],
          connections: [
            {
              peerNodeId: 2,
              name: 'SLE15-sp1-gm-drbd1145296-node2',
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
                  counters: { networkReceivedBytes: 8202n * 1024n, networkSentBytes: 534_390n * 1024n, peerPending: 0, unacked: 0 },
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('ha_cluster_exporter fixture: two resources, quorum lost on one', () => {
    const views = deviceViews(parseStatusJson(fixture('drbd9-ha-cluster-exporter-fake.json')));
    expect(views.map((v) => [v.resource, v.minor, v.role, v.peerRole, v.sizeBytes])).toEqual([
      ['1-single-0', 2, 'Secondary', 'Primary', 409_600n * 1024n],
      ['1-single-1', 3, 'Secondary', 'Primary', 10_200n * 1024n],
    ]);
  });

  it('resync details: rs-total (sectors) as total, MiB/s speeds, estimated seconds', () => {
    const pd = parseStatusJson(JSON.stringify([syncing])).resources[0]?.connections[0]?.peerDevices[0];
    expect(pd?.outOfSyncBytes).toBe(3000n * 1024n);
    expect(pd?.sync).toEqual({
      percent: 50,
      remainingBytes: 3000n * 1024n,
      totalBytes: 8000n * 512n,
      etaSeconds: 30,
      speedBytesPerSecond: 0.1 * MIB,
      averageSpeedBytesPerSecond: 0.05 * MIB,
      wantBytesPerSecond: null,
      stalled: false,
    });
  });

  it('drbdsetup\'s "cannot estimate" ETA marks the resync stalled', () => {
    const stuck = structuredClone(syncing);
    Object.assign(stuck.connections[0]!.peer_devices[0]!, { 'estimated-seconds-to-finish': 987654321, 'db1/dt1 [MiB/s]': 0 });
    expect(parseStatusJson(JSON.stringify([stuck])).resources[0]?.connections[0]?.peerDevices[0]?.sync).toMatchObject({ etaSeconds: null, stalled: true });
  });

  it('suspend reasons become the same words as the text formats', () => {
    const suspended = { ...syncing, suspended: true, 'suspended-user': true, 'suspended-quorum': true };
    expect(parseStatusJson(JSON.stringify([suspended])).resources[0]?.suspended).toBe('user,quorum');
    const { 'suspended-user': _u, 'suspended-no-data': _n, 'suspended-fencing': _f, 'suspended-quorum': _q, ...older } = { ...syncing, suspended: true };
    expect(parseStatusJson(JSON.stringify([older])).resources[0]?.suspended).toBe('yes');
  });

  it('keeps going with unknown keys', () => {
    const future = { ...syncing, 'new-key': { nested: [1, 2] } };
    expect(parseStatusJson(JSON.stringify([future])).resources[0]?.name).toBe('vm1');
  });

  it('no resources', () => {
    expect(parseStatusJson('[\n]\n').resources).toEqual([]);
  });

  it('DRBD 8.4: "unrecognized option" is a ParseError that says why', () => {
    const error = parseError(fixture('drbd84-unrecognized-option.txt'));
    expect(error.message).toContain('no --json');
    expect(error.source).toBe('drbdsetup status --json');
  });

  it('malformed JSON points at the line', () => {
    const error = parseError('[\n{\n  "name": "r0",\n  "role": }\n]');
    expect(error.message).toContain('not valid JSON');
    expect(error.excerpt).toBeDefined();
  });

  it.each([
    ['', 'empty input'],
    ['{}', 'expected array'],
    [JSON.stringify([{ ...syncing, role: 'Master' }]), '[0].role'],
    [JSON.stringify([{ ...syncing, devices: [{ volume: 0, minor: 1, 'disk-state': 'UpToDat' }] }]), '[0].devices[0].disk-state'],
    [JSON.stringify([{ ...syncing, devices: [{ volume: -1, minor: 1, 'disk-state': 'UpToDate' }] }]), '[0].devices[0].volume'],
    [JSON.stringify([{ ...syncing, connections: [{ ...syncing.connections[0], peer_devices: [{ volume: 0 }] }] }]), 'replication-state'],
    [JSON.stringify([{ name: 'r0' }]), '[0].role'],
  ])('rejects %j', (text, reason) => {
    expect(parseError(text).message).toContain(reason);
  });

  it('the excerpt shows the offending value', () => {
    expect(parseError(JSON.stringify([{ ...syncing, role: 'Master' }])).excerpt).toBe('[0].role = "Master"');
  });
});
