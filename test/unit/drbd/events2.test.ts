import { readFileSync } from 'node:fs';
import { parseErrorOf } from '../parse-error-of.js';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { Events2State, parseEvents2, parseEvents2Line, UNKNOWN_MINOR } from '../../../src/drbd/events2.js';
import { deviceViews } from '../../../src/drbd/status-model.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/events2/${name}`, import.meta.url), 'utf8');
const MIB = 1024 * 1024;


describe('parseEvents2Line', () => {
  it('types a DRBD 8.4 device line with --statistics (KiB to bytes)', () => {
    const event = parseEvents2Line(
      'exists device name:r0 volume:0 minor:0 disk:UpToDate size:262100 read:262100 written:0 al-writes:8 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no',
      3,
    );
    expect(event).toMatchObject({ kind: 'exists', object: 'device', resource: 'r0', volume: 0, minor: 0, timestamp: null, line: 3 });
    if (event.object !== 'device') throw new Error('device expected');
    expect(event.values).toEqual({
      diskState: 'UpToDate',
      sizeBytes: 262100n * 1024n,
      readBytes: 262100n * 1024n,
      writtenBytes: 0n,
      activityLogWrites: 8n,
      bitmapWrites: 0n,
      upperPending: 0,
      lowerPending: 0,
      activityLogSuspended: false,
      blocked: 'no',
    });
    expect(event.fields['size']).toBe('262100');
  });

  it('reads the --timestamps prefix to the microsecond-truncated instant', () => {
    const event = parseEvents2Line('2026-11-22T04:48:05.314931+00:00 exists -');
    expect(event).toMatchObject({ kind: 'exists', object: '-' });
    expect(event.timestamp?.toISOString()).toBe('2026-11-22T04:48:05.314Z');
    const local = parseEvents2Line('2017-03-27T08:28:17.072611-07:00 exists resource name:test0 role:Primary suspended:no write-ordering:flush');
    expect(local.timestamp?.toISOString()).toBe('2017-03-27T15:28:17.072Z');
  });

  it('types DRBD 9 resource promotion fields and keeps unknown keys', () => {
    const event = parseEvents2Line(
      'change resource name:some-resource role:Secondary suspended:no force-io-failures:no may_promote:yes promotion_score:10101 future-key:42',
    );
    if (event.object !== 'resource') throw new Error('resource expected');
    expect(event.values).toEqual({ role: 'Secondary', suspended: 'no', forceIoFailures: false, mayPromote: true, promotionScore: 10101 });
    expect(event.fields['future-key']).toBe('42');
  });

  it('types DRBD 9 sync progress: done, eta, dbdt1 (MiB/s to bytes/s)', () => {
    const event = parseEvents2Line(
      'change peer-device name:some-resource peer-node-id:1 conn-name:some-peer volume:0 replication:SyncSource peer-disk:Inconsistent peer-client:no done:37.50 received:5 sent:10 out-of-sync:2500 pending:30 unacked:40 dbdt1:0.24 eta:10',
    );
    expect(event).toMatchObject({ object: 'peer-device', peerNodeId: 1, connectionName: 'some-peer', volume: 0 });
    if (event.object !== 'peer-device') throw new Error('peer-device expected');
    expect(event.values).toEqual({
      replicationState: 'SyncSource',
      peerDiskState: 'Inconsistent',
      peerClient: false,
      donePercent: 37.5,
      receivedBytes: 5120n,
      sentBytes: 10240n,
      outOfSyncBytes: 2500n * 1024n,
      pending: 30,
      unacked: 40,
      speedBytesPerSecond: 0.24 * MIB,
      etaSeconds: 10,
    });
  });

  it('reads eta:nan (no progress in DRBD\'s last window) as null', () => {
    const event = parseEvents2Line('change peer-device name:r peer-node-id:1 conn-name:p volume:0 done:10.00 dbdt1:0.00 eta:nan');
    if (event.object !== 'peer-device') throw new Error('peer-device expected');
    expect(event.values.etaSeconds).toBeNull();
  });

  it('types path, helper and rename lines', () => {
    const path = parseEvents2Line(
      'create path name:some-resource peer-node-id:1 conn-name:some-peer local:ipv4:1.2.3.4:7789 peer:ipv4:5.6.7.8:7790 established:no',
    );
    expect(path).toMatchObject({ object: 'path', local: 'ipv4:1.2.3.4:7789', peer: 'ipv4:5.6.7.8:7790', values: { established: false } });
    const helper = parseEvents2Line(
      'response helper name:r0 peer-node-id:0 conn-name:peer volume:0 minor:0 helper:before-resync-target status:0',
    );
    expect(helper).toMatchObject({ kind: 'response', object: 'helper', helper: 'before-resync-target', volume: 0, minor: 0, values: { status: 0 } });
    const rename = parseEvents2Line('rename resource name:old new_name:new');
    expect(rename).toMatchObject({ kind: 'rename', object: 'resource', resource: 'old', values: { newName: 'new' } });
  });

  it('takes the new side of --diff values', () => {
    const event = parseEvents2Line('change connection name:r peer-node-id:1 conn-name:p connection:Connecting->Connected role:Unknown->Secondary');
    expect(event).toMatchObject({ values: { connectionState: 'Connected', peerRole: 'Secondary' } });
    expect(event.fields['connection']).toBe('Connecting->Connected');
  });

  it('strips --color escape sequences', () => {
    const event = parseEvents2Line('create device name:some-resource volume:0 minor:1000 disk:\x1b[1;31mDiskless\x1b[0m client:no quorum:yes');
    expect(event).toMatchObject({ values: { diskState: 'Diskless', client: false, quorum: true } });
  });

  it('keeps "__proto__" as a plain key', () => {
    const event = parseEvents2Line('exists resource name:r0 __proto__:x role:Primary');
    expect(event.fields['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(event.fields)).toBeNull();
  });

  it.each([
    ['', 'empty line'],
    ['exist resource name:r0', 'unknown event action "exist"'],
    ['exists volume name:r0', 'unknown event object "volume"'],
    ['exists', 'without an object'],
    ['exists - extra', 'end-of-initial-state'],
    ['change - ', 'end-of-initial-state'],
    ['call resource name:r0', 'does not apply'],
    ['exists helper name:r0 helper:x', 'does not apply'],
    ['exists resource role:Primary', 'without name:'],
    ['exists resource name:r0 role', 'malformed key:value "role"'],
    ['exists resource name:r0 :x', 'malformed key:value ":x"'],
    ['exists resource name:r0 role:Master', 'unknown role "Master"'],
    ['exists device name:r0 volume:0 minor:0 disk:UpToDat', 'unknown disk state "UpToDat"'],
    ['exists device name:r0 volume:0 minor:0 size:12k', 'size: expected a non-negative integer'],
    ['exists device name:r0 minor:0', 'without volume:'],
    ['exists peer-device name:r0 volume:0 replication:Syncing', 'unknown replication state "Syncing"'],
    ['exists peer-device name:r0 volume:0 done:12,5', 'done: expected a decimal number'],
    ['exists connection name:r0 connection:WFConection', 'unknown connection state "WFConection"'],
    ['exists connection name:r0 congested:maybe', 'congested: expected yes or no'],
    ['exists resource name:r0 suspended:User', 'suspended: malformed value'],
    ['rename resource name:r0', 'without new_name:'],
    ['2026-13-22T04:48:05.314931+00:00 exists -', 'timestamp out of range'],
    ['2026-11-22 04:48:05 exists -', 'malformed timestamp'],
  ])('rejects %j with a ParseError', (line, reason) => {
    const error = parseErrorOf(() => parseEvents2Line(line, 7));
    expect(error.message).toContain(reason);
    expect(error.line).toBe(7);
    expect(error.code).toBe('E_PARSE');
  });
});

describe('parseEvents2 on DRBD 8.4.11 lab captures', () => {
  it('events2 --now: state without statistics', () => {
    const status = parseEvents2(fixture('drbd84-now.txt'));
    expect(status).toEqual({
      source: 'events2',
      version: null,
      unconfiguredMinors: [],
      resources: [
        {
          name: 'r0',
          role: 'Primary',
          suspended: 'no',
          devices: [{ volume: 0, minor: 0, diskState: 'UpToDate', sizeBytes: null, ioFlags: null, counters: {} }],
          connections: [
            {
              peerNodeId: 0,
              name: 'peer',
              connectionState: 'Connected',
              peerRole: 'Secondary',
              protocol: null,
              congested: null,
              peerDevices: [
                {
                  volume: 0,
                  replicationState: 'Established',
                  peerDiskState: 'UpToDate',
                  outOfSyncBytes: null,
                  resyncSuspended: 'no',
                  sync: null,
                  counters: {},
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('events2 --now --statistics: sizes and counters in bytes', () => {
    const [resource] = parseEvents2(fixture('drbd84-now-statistics.txt')).resources;
    expect(resource?.devices[0]).toEqual({
      volume: 0,
      minor: 0,
      diskState: 'UpToDate',
      sizeBytes: 268_390_400n,
      ioFlags: null,
      counters: {
        diskReadBytes: 268_390_400n,
        diskWrittenBytes: 0n,
        activityLogWrites: 8n,
        bitmapWrites: 0n,
        applicationPending: 0,
        localPending: 0,
        writeOrdering: 'flush',
      },
    });
    expect(resource?.connections[0]).toMatchObject({ congested: false, peerRole: 'Secondary' });
    expect(resource?.connections[0]?.peerDevices[0]).toMatchObject({
      outOfSyncBytes: 0n,
      counters: { networkReceivedBytes: 0n, networkSentBytes: 268_390_400n, peerPending: 0, unacked: 0 },
    });
  });

  it('dual primary: the peer is Primary too', () => {
    const views = deviceViews(parseEvents2(fixture('drbd84-dual-primary.txt')));
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({ minor: 0, role: 'Primary', peerRole: 'Primary', replicationState: 'Established' });
  });

  it('StandAlone after disconnect: no conn-name printed, 4 KiB out of sync', () => {
    const status = parseEvents2(fixture('drbd84-standalone.txt'));
    const connection = status.resources[0]?.connections[0];
    expect(connection).toMatchObject({ peerNodeId: 0, name: null, connectionState: 'StandAlone', peerRole: 'Unknown' });
    expect(connection?.peerDevices[0]).toMatchObject({ replicationState: 'Off', peerDiskState: 'DUnknown', outOfSyncBytes: 4096n, sync: null });
  });

  it('drbd84 option reports the placeholder peer id and name as null', () => {
    const connection = parseEvents2(fixture('drbd84-now.txt'), { drbd84: true }).resources[0]?.connections[0];
    expect(connection).toMatchObject({ peerNodeId: null, name: null, connectionState: 'Connected' });
    expect(connection?.peerDevices).toHaveLength(1);
  });

  it('resize stream: merges partial change lines and ends UpToDate at the new size', () => {
    const status = parseEvents2(fixture('drbd84-resize-stream-timestamps.txt'));
    const device = status.resources[0]?.devices[0];
    expect(device?.diskState).toBe('UpToDate');
    expect(device?.sizeBytes).toBe(393_168n * 1024n);
    expect(device?.counters.diskWrittenBytes).toBe(139_682n * 1024n);
    const pd = status.resources[0]?.connections[0]?.peerDevices[0];
    // peer-disk is not repeated in the change lines: the exists value stays.
    expect(pd).toMatchObject({ replicationState: 'Established', peerDiskState: 'UpToDate', outOfSyncBytes: 0n, sync: null });
    expect(pd?.counters.networkReceivedBytes).toBe(131_068n * 1024n);
  });

  it('resize stream: 8.4 sync progress from the out-of-sync remembered at the start', () => {
    const state = new Events2State();
    const lines = fixture('drbd84-resize-stream-timestamps.txt').split('\n');
    // Up to the SyncTarget change (line 11).
    lines.slice(0, 11).forEach((line, i) => state.applyLine(line, i + 1));
    const pd = state.status.resources[0]?.connections[0]?.peerDevices[0];
    expect(pd?.replicationState).toBe('SyncTarget');
    expect(pd?.sync).toEqual({
      percent: 0,
      remainingBytes: 131_068n * 1024n,
      totalBytes: 131_068n * 1024n,
      etaSeconds: null,
      speedBytesPerSecond: null,
      averageSpeedBytesPerSecond: null,
      wantBytesPerSecond: null,
      stalled: false,
    });
    expect(state.status.resources[0]?.devices[0]?.diskState).toBe('Inconsistent');
  });
});

describe('parseEvents2 on DRBD 9 output', () => {
  it('drbd-utils events2-sync --statistics: done, eta and dbdt1 become SyncProgress', () => {
    const status = parseEvents2(fixture('drbd9-utils-sync-statistics.txt'));
    const resource = status.resources[0];
    expect(resource).toMatchObject({ name: 'some-resource', role: 'Secondary', suspended: 'no' });
    expect(resource?.devices[0]).toMatchObject({ minor: 1000, diskState: 'UpToDate', sizeBytes: 5120n });
    const connection = resource?.connections[0];
    expect(connection).toMatchObject({ peerNodeId: 1, name: 'some-peer', connectionState: 'Connected', peerRole: 'Secondary', congested: false });
    const pd = connection?.peerDevices[0];
    expect(pd).toMatchObject({ replicationState: 'SyncSource', peerDiskState: 'Inconsistent', outOfSyncBytes: 2_560_000n });
    // total = 2500 KiB / (1 - 0.375) = 4000 KiB
    expect(pd?.sync).toEqual({
      percent: 37.5,
      remainingBytes: 2_560_000n,
      totalBytes: 4_096_000n,
      etaSeconds: 10,
      speedBytesPerSecond: 0.24 * MIB,
      averageSpeedBytesPerSecond: null,
      wantBytesPerSecond: null,
      stalled: false,
    });
  });

  it('drbd-utils events2-sync without --statistics: percent only, byte counts unknown (0n)', () => {
    const pd = parseEvents2(fixture('drbd9-utils-sync.txt')).resources[0]?.connections[0]?.peerDevices[0];
    expect(pd?.outOfSyncBytes).toBeNull();
    expect(pd?.sync).toMatchObject({ percent: 37.5, remainingBytes: 0n, totalBytes: 0n, etaSeconds: null });
  });

  it('Centreon capture: one resource, two peers by node id', () => {
    const status = parseEvents2(fixture('drbd9-centreon-now-statistics.txt'));
    const views = deviceViews(status);
    expect(views).toHaveLength(1);
    expect(views[0]?.minor).toBe(1);
    expect(views[0]?.sizeBytes).toBe(765_868n * 1024n);
    expect(views[0]?.peers.map((p) => [p.peerNodeId, p.connectionName, p.peerRole])).toEqual([
      [0, 'central-2004', 'Primary'],
      [1, 'poller-2004-1', 'Secondary'],
    ]);
    expect(status.resources[0]?.connections[0]?.peerDevices[0]?.counters.networkReceivedBytes).toBe(765_868n * 1024n);
  });

  it('create then destroy of every object leaves nothing', () => {
    const state = new Events2State();
    const lines = fixture('drbd9-utils-create-destroy.txt').trim().split('\n');
    lines.slice(0, 6).forEach((line) => state.applyLine(line));
    expect(state.initialDumpComplete).toBe(true);
    expect(state.status.resources[0]?.connections[0]?.peerDevices).toHaveLength(1);
    state.applyLine(lines[6] as string); // destroy path: no effect on the model
    state.applyLine(lines[7] as string); // destroy peer-device
    expect(state.status.resources[0]?.connections[0]?.peerDevices).toEqual([]);
    state.applyLine(lines[8] as string); // destroy connection
    expect(state.status.resources[0]?.connections).toEqual([]);
    state.applyLine(lines[9] as string); // destroy device
    expect(state.status.resources[0]?.devices).toEqual([]);
    state.applyLine(lines[10] as string); // destroy resource
    expect(state.status.resources).toEqual([]);
  });

  it('a second volume created after the initial dump', () => {
    const status = parseEvents2(fixture('drbd9-utils-promotion-score-devices.txt'));
    expect(status.resources[0]?.devices.map((d) => [d.volume, d.minor, d.diskState])).toEqual([
      [0, 1000, 'UpToDate'],
      [1, 1001, 'UpToDate'],
    ]);
  });

  it('helper call/response lines parse and leave the state alone', () => {
    const state = new Events2State();
    const events = fixture('drbd9-utils-helper.txt')
      .trim()
      .split('\n')
      .map((line) => state.applyLine(line));
    expect(events.filter((e) => e.object === 'helper').map((e) => e.kind)).toEqual(['call', 'response']);
    expect(state.status.resources[0]?.connections[0]?.connectionState).toBe('StandAlone');
  });

  it('--color output parses like plain output', () => {
    const status = parseEvents2(fixture('drbd9-utils-color.txt'));
    expect(status.resources[0]).toMatchObject({ role: 'Primary', devices: [{ diskState: 'UpToDate' }] });
    expect(status.resources[0]?.connections[0]).toMatchObject({ connectionState: 'Connected' });
    expect(status.resources[0]?.connections[0]?.peerDevices[0]?.peerDiskState).toBe('UpToDate');
  });
});

describe('Events2State', () => {
  it('reports initialDumpComplete only after "exists -"', () => {
    const state = new Events2State();
    state.applyLine('exists resource name:r0 role:Primary suspended:no');
    expect(state.initialDumpComplete).toBe(false);
    state.applyLine('exists -');
    expect(state.initialDumpComplete).toBe(true);
  });

  it('snapshots do not change with later events', () => {
    const state = new Events2State();
    state.applyLine('exists resource name:r0 role:Secondary suspended:no');
    const before = state.snapshot();
    state.applyLine('change resource name:r0 role:Primary');
    expect(before.resources[0]?.role).toBe('Secondary');
    expect(state.status.resources[0]?.role).toBe('Primary');
  });

  it('creates objects seen first in a change line, minor unknown until printed', () => {
    const state = new Events2State();
    state.applyLine('change device name:r9 volume:2 disk:Outdated');
    expect(state.status.resources[0]).toMatchObject({ name: 'r9', role: null, devices: [{ volume: 2, minor: UNKNOWN_MINOR, diskState: 'Outdated' }] });
    state.applyLine('change device name:r9 volume:2 minor:12');
    expect(state.status.resources[0]?.devices[0]).toMatchObject({ minor: 12, diskState: 'Outdated' });
  });

  it('renames a resource', () => {
    const state = new Events2State();
    state.applyLine('exists resource name:old role:Primary suspended:no');
    state.applyLine('rename resource name:old new_name:new');
    expect(state.status.resources.map((r) => [r.name, r.role])).toEqual([['new', 'Primary']]);
  });

  // Synthetic lines in drbd-utils' format: a 8.4-style resync seen with --timestamps.
  it('derives the average speed from event times when DRBD gives none', () => {
    const state = new Events2State({ drbd84: true });
    state.applyLine('2026-01-01T00:00:00.000000+00:00 exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:SyncTarget out-of-sync:1000');
    state.applyLine('2026-01-01T00:00:10.000000+00:00 change peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:SyncTarget out-of-sync:600');
    const sync = state.status.resources[0]?.connections[0]?.peerDevices[0]?.sync;
    expect(sync).toMatchObject({ percent: 40, remainingBytes: 600n * 1024n, totalBytes: 1000n * 1024n, averageSpeedBytesPerSecond: 40 * 1024 });
  });

  it('marks a paused or suspended resync as stalled and forgets progress after it ends', () => {
    const state = new Events2State();
    state.applyLine('exists peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:PausedSyncT peer-disk:UpToDate resync-suspended:user done:50.00 out-of-sync:100');
    expect(state.status.resources[0]?.connections[0]?.peerDevices[0]?.sync).toMatchObject({ percent: 50, stalled: true, etaSeconds: null, totalBytes: 200n * 1024n });
    state.applyLine('change peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:Established');
    expect(state.status.resources[0]?.connections[0]?.peerDevices[0]?.sync).toBeNull();
    state.applyLine('change peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:SyncTarget');
    // Nothing known about the new resync yet: no stale progress carried over.
    expect(state.status.resources[0]?.connections[0]?.peerDevices[0]?.sync).toMatchObject({ percent: 0, totalBytes: 100n * 1024n });
  });

  it('eta:nan marks the resync stalled', () => {
    const state = new Events2State();
    state.applyLine('exists peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:SyncSource done:10.00 out-of-sync:900 dbdt1:0.00 eta:nan');
    expect(state.status.resources[0]?.connections[0]?.peerDevices[0]?.sync).toMatchObject({ stalled: true, etaSeconds: null, speedBytesPerSecond: 0 });
  });

  it('applyLine errors carry the line number', () => {
    const state = new Events2State();
    const error = parseErrorOf(() => parseEvents2('exists -\nexists resource name:r0 role:Bogus\n'));
    expect(error.line).toBe(2);
    expect(error.excerpt).toBe('exists resource name:r0 role:Bogus');
    expect(() => state.applyLine('garbage')).toThrow(ParseError);
  });
});

describe('parseEvents2 on empty input', () => {
  // The proc and JSON readers already refused empty input; events2 returned "no devices".
  it.each(['', '\n', '  \n\n\t\n'])('refuses %j with a ParseError', (text) => {
    expect(() => parseEvents2(text)).toThrow(ParseError);
    expect(() => parseEvents2(text)).toThrow(/^cannot parse drbdsetup events2: empty input/);
  });

  it('still reads "exists -" alone as no resources', () => {
    expect(parseEvents2('exists -\n').resources).toEqual([]);
  });
});
