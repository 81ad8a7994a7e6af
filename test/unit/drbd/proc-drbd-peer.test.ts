import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDrbd9ProcPeer } from '../../../src/drbd/proc-drbd-peer.js';
import { ParseError } from '../../../src/errors.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/proc-drbd/debugfs-9/', import.meta.url));
const KiB = 1024n;
const MiB = 1024n * 1024n;

const fixture = (name: string) => readFileSync(FIXTURES + name, 'utf8');

describe('parseDrbd9ProcPeer: captured debugfs files (monzo/drbd9_exporter)', () => {
  it('reads an Established secondary whose peer is primary, whole result', () => {
    expect(parseDrbd9ProcPeer(fixture('monzo-peer-1-secondary-primary.txt'))).toEqual({
      minor: 1,
      role: 'Secondary',
      peerRole: 'Primary',
      protocol: 'C',
      suspended: 'no',
      device: {
        volume: null,
        minor: 1,
        diskState: 'UpToDate',
        sizeBytes: null,
        ioFlags: 'r-----',
        counters: {
          diskWrittenBytes: 161539164n * KiB,
          diskReadBytes: 0n,
          activityLogWrites: 2125n,
          bitmapWrites: 0n,
          localPending: 0,
          applicationPending: 0,
          epochs: 1,
          writeOrdering: 'flush',
        },
      },
      peerDevice: {
        volume: null,
        replicationState: 'Established',
        peerDiskState: 'UpToDate',
        outOfSyncBytes: 0n,
        resyncSuspended: 'no',
        sync: null,
        counters: {
          networkSentBytes: 0n,
          networkReceivedBytes: 119598720n * KiB,
          peerPending: 0,
          unacked: 0,
        },
      },
      activityLogBlocked: { requests: 0, peerRequests: 0, extentsNeeded: 0 },
      warnings: [],
    });
  });

  it('reads the other two captures', () => {
    const both = parseDrbd9ProcPeer(fixture('monzo-peer-0-secondary-secondary.txt'));
    expect(both).toMatchObject({ minor: 0, role: 'Secondary', peerRole: 'Secondary' });
    expect(both.device.counters.diskWrittenBytes).toBe(158780236n * KiB);
    expect(both.device.counters.activityLogWrites).toBe(1950n);

    const primary = parseDrbd9ProcPeer(fixture('monzo-peer-1-primary-secondary.txt'));
    expect(primary).toMatchObject({ minor: 1, role: 'Primary', peerRole: 'Secondary' });
    expect(primary.peerDevice.counters.networkSentBytes).toBe(119876764n * KiB);
    expect(primary.device.counters.diskReadBytes).toBe(14701504n * KiB);
  });
});

/* Built from peer_device_proc_drbd_show() and drbd_syncer_progress() in drbd_debugfs.c (DRBD 9). */
describe('parseDrbd9ProcPeer: format variants from drbd_debugfs.c', () => {
  const block = (cs: string, counters: string, detail = '') =>
    ` 3: cs:${cs} ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----\n    ${counters}\n${detail}` +
    '\tresync: used:1/61 hits:7 misses:1 starving:0 locked:0 changed:1\n' +
    '\tact_log: used:0/1237 hits:0 misses:0 starving:0 locked:0 changed:0\n' +
    '\tblocked on activity log: 2/1/3\n';

  it('sums pe:[ap;rs] and ap:[writes;reads], maps wo numbers, reads the sync and the sector line', () => {
    const r = parseDrbd9ProcPeer(
      block(
        'SyncTarget',
        'ns:0 nr:2048 dw:2048 dr:0 al:0 bm:1 lo:5 pe:[3;1] ua:2 ap:[2;5] ep:1 wo:1 oos:1048576',
        "\t[==>.................] sync'ed: 12.5% (1024/1170)M\n" +
          '\tfinish: 0:02:40 speed: 6,400 (6,100 -- 5,900) want: 102,400 K/sec\n' +
          '\t 12% sector pos: 292864/2396160\n',
      ),
    );
    expect(r.peerDevice.replicationState).toBe('SyncTarget');
    expect(r.peerDevice.counters.peerPending).toBe(4);
    expect(r.device.counters.applicationPending).toBe(7);
    expect(r.device.counters.localPending).toBe(5);
    expect(r.device.counters.writeOrdering).toBe('drain');
    expect(r.peerDevice.outOfSyncBytes).toBe(1048576n * KiB);
    expect(r.peerDevice.sync).toEqual({
      percent: 12.5,
      remainingBytes: 1024n * MiB,
      totalBytes: 1170n * MiB,
      etaSeconds: 160,
      speedBytesPerSecond: 6400 * 1024,
      averageSpeedBytesPerSecond: 5900 * 1024,
      wantBytesPerSecond: 102400 * 1024,
      stalled: false,
    });
    expect(r.activityLogBlocked).toEqual({ requests: 2, peerRequests: 1, extentsNeeded: 3 });
  });

  it('reads every DRBD 9 replication word and wo numbers 0 and 3', () => {
    for (const word of ['Off', 'Established', 'StartingSyncS', 'WFBitMapT', 'PausedSyncT', 'VerifyS', 'Ahead', 'Behind'] as const) {
      const r = parseDrbd9ProcPeer(block(word, 'ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:[0;0] ua:0 ap:[0;0] ep:1 wo:0 oos:0'));
      expect(r.peerDevice.replicationState).toBe(word);
      expect(r.device.counters.writeOrdering).toBe('none');
    }
    const barrier = parseDrbd9ProcPeer(block('Off', 'ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:[0;0] ua:0 ap:[0;0] ep:1 wo:3 oos:0'));
    expect(barrier.device.counters.writeOrdering).toBe('barrier');
  });

  it('accepts a file without the lru and activity-log lines (no local disk)', () => {
    const r = parseDrbd9ProcPeer(
      ' 7: cs:Established ro:Primary/Secondary ds:Diskless/UpToDate C r-----\n' +
        '    ns:16 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:[0;0] ua:0 ap:[0;0] ep:1 wo:2 oos:0\n' +
        '\tblocked on activity log: 0/0/0\n',
    );
    expect(r.device.diskState).toBe('Diskless');
    expect(r.activityLogBlocked).toEqual({ requests: 0, peerRequests: 0, extentsNeeded: 0 });
  });

  it('rejects what a single peer-device file cannot hold', () => {
    const one = fixture('monzo-peer-0-secondary-secondary.txt');
    const cases: Array<[string, RegExp]> = [
      ['', /empty input/],
      [one + one, /more than one device block/],
      [' 0: cs:Unconfigured\n', /cannot be "Unconfigured"/],
      [one.replace('cs:Established', 'cs:Connected'), /unknown replication state "Connected"/],
      [one + '    ns:0\n', /after the "blocked on activity log" line/],
      ['    ns:0 nr:0\n' + one, /expected the device line/],
      [one.split('\n')[0] + '\n', /without its counters line/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseDrbd9ProcPeer(text)).toThrow(ParseError);
      expect(() => parseDrbd9ProcPeer(text)).toThrow(message);
    }
  });

  it('names the file kind and line in its errors', () => {
    try {
      parseDrbd9ProcPeer(fixture('monzo-peer-0-secondary-secondary.txt').replace('pe:[0;0]', 'pe:[0;x]'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      const err = e as ParseError;
      expect(err.source).toBe('debugfs proc_drbd');
      expect(err.line).toBe(2);
      expect(err.message).toContain('pe:[0;x]');
    }
  });
});
