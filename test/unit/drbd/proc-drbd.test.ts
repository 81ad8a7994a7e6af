import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseProcDrbd } from '../../../src/drbd/proc-drbd.js';
import { deviceViews } from '../../../src/drbd/status-model.js';
import type { DrbdStatus, ResourceStatus } from '../../../src/drbd/status-model.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/proc-drbd/', import.meta.url));
const KiB = 1024n;
const MiB = 1024n * 1024n;

function fixture(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

/**
 * The lab's multi-snapshot capture heads each snapshot with "=== t+<s>s" and
 * ends with a "SYNC_DONE …" line written by the capture script (see the
 * fixtures README); both are annotations, not /proc/drbd.
 */
function labSnapshots(text: string): string[] {
  const snapshots: string[] = [];
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('=== t+')) {
      if (current) snapshots.push(current.join('\n'));
      current = [];
    } else if (line.startsWith('SYNC_DONE') || line === '') {
      continue;
    } else {
      current?.push(line);
    }
  }
  if (current) snapshots.push(current.join('\n'));
  return snapshots;
}

function byMinor(status: DrbdStatus, minor: number): ResourceStatus {
  const r = status.resources.find((res) => res.devices[0]?.minor === minor);
  if (!r) throw new Error(`minor ${minor} not in result`);
  return r;
}

/** Flattened view of a one-device, one-peer 8.x resource, for compact assertions. */
function flat(r: ResourceStatus) {
  const d = r.devices[0]!;
  const c = r.connections[0]!;
  const p = c.peerDevices[0]!;
  return {
    minor: d.minor,
    role: r.role,
    peerRole: c.peerRole,
    cs: c.connectionState,
    repl: p.replicationState,
    disk: d.diskState,
    peerDisk: p.peerDiskState,
    protocol: c.protocol,
    ioFlags: d.ioFlags,
  };
}

describe('parseProcDrbd: the 8.3.2 SyncSource sample from the issue', () => {
  const status = parseProcDrbd(fixture('drbd-8.3.2-syncsource.txt'));

  it('reads the header', () => {
    expect(status.source).toBe('proc');
    expect(status.version).toEqual({
      version: '8.3.2',
      api: '88',
      protocolMin: 86,
      protocolMax: 90,
      gitHash: 'dd7985327f146f33b86d4bff5ca8c94234ce840e',
      srcVersion: null,
      buildInfo: 'mockbuild@v20z-x86-64.home.local, 2009-08-29 14:08:07',
      transports: [],
    });
    expect(status.unconfiguredMinors).toEqual([]);
  });

  it('maps minor 0 onto the model, sizes in bytes', () => {
    expect(status.resources).toEqual([
      {
        name: null,
        role: 'Primary',
        suspended: 'no',
        devices: [
          {
            volume: null,
            minor: 0,
            diskState: 'UpToDate',
            sizeBytes: null,
            ioFlags: 'r----',
            counters: {
              diskWrittenBytes: 0n,
              diskReadBytes: 366271552n * KiB,
              activityLogWrites: 0n,
              bitmapWrites: 22355n,
              localPending: 0,
              applicationPending: 0,
              epochs: 1,
              writeOrdering: 'barrier',
            },
          },
        ],
        connections: [
          {
            peerNodeId: null,
            name: null,
            connectionState: 'Connected',
            peerRole: 'Primary',
            protocol: 'C',
            congested: false,
            peerDevices: [
              {
                volume: null,
                replicationState: 'SyncSource',
                peerDiskState: 'Inconsistent',
                outOfSyncBytes: 53146012n * KiB,
                resyncSuspended: 'no',
                sync: {
                  percent: 87.4,
                  remainingBytes: 51900n * MiB,
                  totalBytes: 409584n * MiB,
                  etaSeconds: 1347,
                  speedBytesPerSecond: 39364 * 1024,
                  averageSpeedBytesPerSecond: 33888 * 1024,
                  wantBytesPerSecond: null,
                  stalled: false,
                },
                counters: {
                  networkSentBytes: 366271552n * KiB,
                  networkReceivedBytes: 0n,
                  peerPending: 0,
                  unacked: 0,
                },
              },
            ],
          },
        ],
      },
    ]);
  });

  it('gives one device view row', () => {
    const [view] = deviceViews(status);
    expect(view).toMatchObject({
      minor: 0,
      resource: null,
      role: 'Primary',
      peerRole: 'Primary',
      connectionState: 'Connected',
      replicationState: 'SyncSource',
      diskState: 'UpToDate',
      peerDiskState: 'Inconsistent',
      protocol: 'C',
    });
    expect(view?.sync?.percent).toBe(87.4);
  });
});

describe('parseProcDrbd: DRBD 8.0.12 (ganeti test data)', () => {
  const status = parseProcDrbd(fixture('ganeti-drbd-8.0.12.txt'));

  it('reads the 8.0 header (single protocol number, "build by XXX")', () => {
    expect(status.version).toMatchObject({
      version: '8.0.12',
      api: '86',
      protocolMin: 86,
      protocolMax: 86,
      gitHash: '5c9f89594553e32adb87d9638dce591782f947e3',
      buildInfo: 'XXX',
    });
  });

  it('lists every configured minor, st: as roles, and Unconfigured apart', () => {
    expect(status.resources.map(flat)).toEqual([
      { minor: 0, role: 'Primary', peerRole: 'Secondary', cs: 'Connected', repl: 'Established', disk: 'UpToDate', peerDisk: 'UpToDate', protocol: 'C', ioFlags: 'r---' },
      { minor: 1, role: 'Secondary', peerRole: 'Primary', cs: 'Connected', repl: 'Established', disk: 'UpToDate', peerDisk: 'UpToDate', protocol: 'C', ioFlags: 'r---' },
      { minor: 4, role: 'Primary', peerRole: 'Unknown', cs: 'WFConnection', repl: 'Off', disk: 'UpToDate', peerDisk: 'DUnknown', protocol: 'C', ioFlags: 'r---' },
      { minor: 5, role: 'Primary', peerRole: 'Secondary', cs: 'Connected', repl: 'Established', disk: 'UpToDate', peerDisk: 'Diskless', protocol: 'C', ioFlags: 'r---' },
      { minor: 6, role: 'Secondary', peerRole: 'Primary', cs: 'Connected', repl: 'Established', disk: 'Diskless', peerDisk: 'UpToDate', protocol: 'C', ioFlags: 'r---' },
      { minor: 7, role: 'Secondary', peerRole: 'Unknown', cs: 'WFConnection', repl: 'Off', disk: 'UpToDate', peerDisk: 'DUnknown', protocol: 'C', ioFlags: 'r---' },
      { minor: 8, role: 'Secondary', peerRole: 'Unknown', cs: 'StandAlone', repl: 'Off', disk: 'UpToDate', peerDisk: 'DUnknown', protocol: null, ioFlags: 'r---' },
    ]);
    expect(status.unconfiguredMinors).toEqual([2]);
  });

  it('has no ep/wo/oos before 8.2.6/8.3, and no congestion flag in four-letter flags', () => {
    const r = byMinor(status, 0);
    expect(r.devices[0]?.counters).toEqual({
      diskWrittenBytes: 4446279n * KiB,
      diskReadBytes: 674n * KiB,
      activityLogWrites: 1067n,
      bitmapWrites: 69n,
      localPending: 0,
      applicationPending: 0,
    });
    expect(r.connections[0]?.peerDevices[0]?.outOfSyncBytes).toBeNull();
    expect(r.connections[0]?.congested).toBeNull();
    expect(r.connections[0]?.peerDevices[0]?.counters.networkSentBytes).toBe(4375577n * KiB);
    expect(byMinor(status, 6).connections[0]?.peerDevices[0]?.counters.networkReceivedBytes).toBe(4375581n * KiB);
  });

  it('reads 8.0 with a blank line in the minor list', () => {
    const s = parseProcDrbd(fixture('ganeti-drbd-8.0.12-emptyline.txt'));
    expect(s.version?.buildInfo).toBe('root@node1.example.com, 2009-05-22 12:47:52');
    expect(s.resources.map((r) => r.devices[0]?.minor)).toEqual([0]);
    expect(s.unconfiguredMinors).toEqual([1, 2, 5, 6]);
    expect(s.resources[0]?.devices[0]?.counters.diskWrittenBytes).toBe(77675644n * KiB);
  });
});

describe('parseProcDrbd: DRBD 8.3', () => {
  it('8.3.8: keeps "delay_probe:" after the MiB pair and reads the finish line', () => {
    const s = parseProcDrbd(fixture('checkmk-drbd-8.3.8-delay-probe.txt'));
    const r = s.resources[0]!;
    expect(flat(r)).toEqual({
      minor: 0, role: 'Primary', peerRole: 'Secondary', cs: 'Connected', repl: 'SyncSource',
      disk: 'UpToDate', peerDisk: 'Inconsistent', protocol: 'C', ioFlags: 'r----',
    });
    expect(r.connections[0]?.peerDevices[0]?.sync).toEqual({
      percent: 42.4,
      remainingBytes: 294656n * MiB,
      totalBytes: 510908n * MiB,
      etaSeconds: 1 * 3600 + 23 * 60 + 28,
      speedBytesPerSecond: 60172 * 1024,
      averageSpeedBytesPerSecond: 51448 * 1024,
      wantBytesPerSecond: null,
      stalled: false,
      extra: { delay_probe: '145637' },
    });
    // A field drbd_proc.c printed: kept, not a warning.
    expect(s.warnings).toBeUndefined();
    expect(r.devices[0]?.counters).toMatchObject({ localPending: 37, writeOrdering: 'barrier' });
    expect(r.connections[0]?.peerDevices[0]?.counters.unacked).toBe(37);
    expect(r.connections[0]?.peerDevices[0]?.outOfSyncBytes).toBe(301729988n * KiB);
  });

  it('8.3.11 SyncTarget: srcversion header, KiB pair, want: and a trailing space after oos', () => {
    const s = parseProcDrbd(fixture('ganeti-drbd-8.3.11-sync-want.txt'));
    expect(s.version).toMatchObject({ version: '8.3.11', api: '88', protocolMin: 86, protocolMax: 96, gitHash: null, srcVersion: '2D876214BAAD53B31ADC1D6', buildInfo: null });
    expect(s.unconfiguredMinors).toEqual([1, 2, 3]);
    const r = s.resources[0]!;
    expect(flat(r)).toMatchObject({ role: 'Secondary', peerRole: 'Primary', repl: 'SyncTarget', disk: 'Inconsistent', peerDisk: 'UpToDate' });
    expect(r.connections[0]?.peerDevices[0]?.sync).toEqual({
      percent: 44.4,
      remainingBytes: 588416n * KiB,
      totalBytes: 1048576n * KiB,
      etaSeconds: 8,
      speedBytesPerSecond: 65736 * 1024,
      averageSpeedBytesPerSecond: 65736 * 1024,
      wantBytesPerSecond: 61440 * 1024,
      stalled: false,
    });
    expect(r.connections[0]?.peerDevices[0]?.counters).toEqual({
      networkSentBytes: 0n,
      networkReceivedBytes: 460288n * KiB,
      peerPending: 4,
      unacked: 1,
    });
    expect(r.devices[0]?.counters.localPending).toBe(2);
  });
});

describe('parseProcDrbd: DRBD 8.4.2 (ganeti test data)', () => {
  it('reads gaps, Diskless, wo:b and StandAlone without protocol', () => {
    const s = parseProcDrbd(fixture('ganeti-drbd-8.4.2.txt'));
    expect(s.version).toMatchObject({ version: '8.4.2', api: '1', protocolMin: 86, protocolMax: 101 });
    expect(s.resources.map(flat)).toEqual([
      { minor: 0, role: 'Primary', peerRole: 'Secondary', cs: 'Connected', repl: 'Established', disk: 'UpToDate', peerDisk: 'UpToDate', protocol: 'C', ioFlags: 'r-----' },
      { minor: 1, role: 'Secondary', peerRole: 'Primary', cs: 'Connected', repl: 'Established', disk: 'UpToDate', peerDisk: 'UpToDate', protocol: 'C', ioFlags: 'r-----' },
      { minor: 4, role: 'Primary', peerRole: 'Unknown', cs: 'WFConnection', repl: 'Off', disk: 'UpToDate', peerDisk: 'DUnknown', protocol: 'C', ioFlags: 'r-----' },
      { minor: 6, role: 'Secondary', peerRole: 'Primary', cs: 'Connected', repl: 'Established', disk: 'Diskless', peerDisk: 'UpToDate', protocol: 'C', ioFlags: 'r-----' },
      { minor: 8, role: 'Secondary', peerRole: 'Unknown', cs: 'StandAlone', repl: 'Off', disk: 'UpToDate', peerDisk: 'DUnknown', protocol: null, ioFlags: 'r-----' },
    ]);
    expect(s.unconfiguredMinors).toEqual([2]);
    expect(byMinor(s, 6).devices[0]?.counters.writeOrdering).toBe('barrier');
    expect(byMinor(s, 4).connections[0]?.peerDevices[0]?.outOfSyncBytes).toBe(1048320n * KiB);
    expect(byMinor(s, 0).devices[0]?.counters.diskReadBytes).toBe(1048776n * KiB);
  });

  it('reads a SyncSource with network congestion (flag n) and wo:d', () => {
    const s = parseProcDrbd(fixture('ganeti-drbd-8.4.2-sync.txt'));
    expect(s.unconfiguredMinors).toEqual([3]);
    expect(byMinor(s, 0).devices[0]?.counters.writeOrdering).toBe('drain');
    expect(byMinor(s, 0).connections[0]?.congested).toBe(false);
    const syncing = byMinor(s, 5);
    expect(syncing.devices[0]?.ioFlags).toBe('r---n-');
    expect(syncing.connections[0]?.congested).toBe(true);
    expect(syncing.connections[0]?.peerDevices[0]?.sync).toEqual({
      percent: 68.5,
      remainingBytes: 335744n * KiB,
      totalBytes: 1048576n * KiB,
      etaSeconds: 5,
      speedBytesPerSecond: 64800 * 1024,
      averageSpeedBytesPerSecond: 64800 * 1024,
      wantBytesPerSecond: null,
      stalled: false,
    });
    expect(syncing.connections[0]?.peerDevices[0]?.counters).toMatchObject({ peerPending: 33, unacked: 18 });
  });

  it('reads a file whose first line after the header is blank (minor 0 missing)', () => {
    const s = parseProcDrbd(fixture('ganeti-drbd-8.4.2-emptyfirst.txt'));
    expect(s.resources.map((r) => r.devices[0]?.minor)).toEqual([1, 4, 6, 8]);
    expect(s.unconfiguredMinors).toEqual([2]);
  });
});

describe('parseProcDrbd: DRBD 8.4.11 captured in our lab', () => {
  const lab = (name: string) => parseProcDrbd(fixture(`lab-8.4.11/${name}`));

  it('reads the in-tree header (srcversion padded with a space)', () => {
    expect(lab('proc-drbd-dual-primary.txt').version).toEqual({
      version: '8.4.11',
      api: '1',
      protocolMin: 86,
      protocolMax: 101,
      gitHash: null,
      srcVersion: '059B1B470318F053F5077D5',
      buildInfo: null,
      transports: [],
    });
  });

  it('reads each state the lab went through', () => {
    expect(flat(lab('proc-drbd-connected-inconsistent.txt').resources[0]!)).toEqual({
      minor: 0, role: 'Secondary', peerRole: 'Secondary', cs: 'Connected', repl: 'Established',
      disk: 'Inconsistent', peerDisk: 'Inconsistent', protocol: 'C', ioFlags: 'r-----',
    });
    expect(flat(lab('proc-drbd-connected-primary-secondary.txt').resources[0]!)).toMatchObject({ role: 'Primary', peerRole: 'Secondary', disk: 'UpToDate', peerDisk: 'UpToDate' });
    expect(flat(lab('proc-drbd-dual-primary.txt').resources[0]!)).toMatchObject({ role: 'Primary', peerRole: 'Primary', cs: 'Connected' });
    expect(flat(lab('proc-drbd-node2-secondary.txt').resources[0]!)).toMatchObject({ role: 'Secondary', peerRole: 'Primary' });
    for (const name of ['proc-drbd-after-cut-node1.txt', 'proc-drbd-after-cut-node2.txt', 'proc-drbd-after-cut-node1-later.txt']) {
      const r = lab(name).resources[0]!;
      expect(flat(r)).toMatchObject({ role: 'Primary', peerRole: 'Unknown', cs: 'WFConnection', repl: 'Off', peerDisk: 'DUnknown' });
      expect(r.connections[0]?.peerDevices[0]?.outOfSyncBytes).toBe(4n * KiB);
    }
  });

  it('reads the counters of the connected inconsistent pair', () => {
    const r = lab('proc-drbd-connected-inconsistent.txt').resources[0]!;
    expect(r.devices[0]?.counters).toEqual({
      diskWrittenBytes: 0n,
      diskReadBytes: 0n,
      activityLogWrites: 8n,
      bitmapWrites: 0n,
      localPending: 0,
      applicationPending: 0,
      epochs: 1,
      writeOrdering: 'flush',
    });
    expect(r.connections[0]?.peerDevices[0]?.outOfSyncBytes).toBe(262100n * KiB);
    const node2 = lab('proc-drbd-after-cut-node2.txt').resources[0]!;
    expect(node2.connections[0]?.peerDevices[0]?.counters).toEqual({
      networkSentBytes: 196625n * KiB,
      networkReceivedBytes: 470937n * KiB,
      peerPending: 0,
      unacked: 0,
    });
    expect(node2.devices[0]?.counters.activityLogWrites).toBe(27n);
  });

  describe('the initial sync, sampled every ~1.3 s', () => {
    const snapshots = labSnapshots(fixture('lab-8.4.11/proc-drbd-initial-sync-samples.txt')).map((s) => parseProcDrbd(s));
    const syncs = snapshots.map((s) => s.resources[0]?.connections[0]?.peerDevices[0]?.sync ?? null);

    it('parses all 23 snapshots', () => {
      expect(snapshots).toHaveLength(23);
    });

    it('reads the first sample exactly (tab-indented, two spaces before a one-digit percent)', () => {
      expect(syncs[0]).toEqual({
        percent: 1.6,
        remainingBytes: 262072n * KiB,
        totalBytes: 262100n * KiB,
        etaSeconds: 10 * 60 + 55,
        speedBytesPerSecond: 28 * 1024,
        averageSpeedBytesPerSecond: 28 * 1024,
        wantBytesPerSecond: null,
        stalled: false,
      });
    });

    it('reads a sample with thousands separators and diverging speeds', () => {
      // "finish: 0:00:00 speed: 12,004 (9,140) K/sec", 98.5% (6136/262100)K
      expect(syncs[21]).toEqual({
        percent: 98.5,
        remainingBytes: 6136n * KiB,
        totalBytes: 262100n * KiB,
        etaSeconds: 0,
        speedBytesPerSecond: 12004 * 1024,
        averageSpeedBytesPerSecond: 9140 * 1024,
        wantBytesPerSecond: null,
        stalled: false,
      });
    });

    it('sees remaining bytes fall, then the sync end', () => {
      const during = syncs.slice(0, 22);
      expect(during.every((s) => s !== null)).toBe(true);
      const remaining = during.map((s) => s!.remainingBytes);
      for (let i = 1; i < remaining.length; i++) expect(remaining[i]! <= remaining[i - 1]!).toBe(true);
      expect(syncs[22]).toBeNull();
      expect(flat(snapshots[22]!.resources[0]!)).toMatchObject({ cs: 'Connected', repl: 'Established', peerDisk: 'UpToDate' });
    });

    it('keeps out-of-sync equal to the remaining KiB while syncing', () => {
      for (const s of snapshots.slice(0, 22)) {
        const pd = s.resources[0]!.connections[0]!.peerDevices[0]!;
        expect(pd.outOfSyncBytes).toBe(pd.sync!.remainingBytes);
      }
    });
  });
});

describe('parseProcDrbd: DRBD 9', () => {
  it('reads the version and transports and returns no resources', () => {
    const s = parseProcDrbd(fixture('hwameistor-drbd-9.0.32.txt'));
    expect(s).toEqual({
      source: 'proc',
      version: {
        version: '9.0.32-1',
        api: '2',
        protocolMin: 86,
        protocolMax: 121,
        gitHash: '7d2933d5a3764fcc5e0bf54b71fd9cfb0363be1a',
        srcVersion: null,
        buildInfo: '@4904565a901d, 2022-09-07 08:53:17',
        transports: ['tcp'],
      },
      resources: [],
      unconfiguredMinors: [],
    });
  });

  // Built from drbd_print_transports_loaded(): " %s (%s)" per loaded transport.
  it('lists several transports', () => {
    const s = parseProcDrbd(
      'version: 9.2.8 (api:2/proto:86-122)\n' +
        'GIT-hash: e163b05a76254c0f51f999970e861d72bb16409a build by @buildsystem, 2024-03-06 11:30:00\n' +
        'Transports (api:20): tcp (9.2.8) lb-tcp (9.2.8) rdma (9.2.8)\n',
    );
    expect(s.version?.transports).toEqual(['tcp', 'lb-tcp', 'rdma']);
    expect(s.version?.protocolMax).toBe(122);
  });

  // drbd8-compat resources: drbd_show_legacy_device() prints them in the 8.4
  // format and then leaves out the Transports line.
  it('reads drbd8-compat devices, whose congestion flag is always "-"', () => {
    const s = parseProcDrbd(
      'version: 9.3.0 (api:2/proto:86-122)\n' +
        'GIT-hash: 0123456789abcdef0123456789abcdef01234567 build by @host, 2026-01-01 00:00:00\n' +
        ' 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n' +
        '    ns:4 nr:0 dw:4 dr:8 al:1 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n',
    );
    expect(s.version?.transports).toEqual([]);
    expect(flat(s.resources[0]!)).toMatchObject({ minor: 0, cs: 'Connected', repl: 'Established' });
    expect(s.resources[0]?.connections[0]?.congested).toBeNull();
  });
});

/*
 * Variants no captured fixture shows; each line is built from the printf
 * formats in the kernel's drbd_proc.c of the version named.
 */
describe('parseProcDrbd: format variants from drbd_proc.c', () => {
  const HEADER_84 = 'version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 059B1B470318F053F5077D5 \n';
  const dev = (cs: string, flags = 'r-----', roles = 'Primary/Secondary', disks = 'UpToDate/Inconsistent') =>
    ` 0: cs:${cs} ro:${roles} ds:${disks} C ${flags}\n    ns:10 nr:0 dw:0 dr:10 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:100\n`;
  const syncOf = (s: DrbdStatus) => s.resources[0]?.connections[0]?.peerDevices[0]?.sync;

  it('8.3.11+/8.4 with more than 4 GiB to sync: "finish:" glued to ")M"', () => {
    const s = parseProcDrbd(
      HEADER_84 + dev('SyncSource') + "\t[>....................] sync'ed:  0.4% (189468/190200)Mfinish: 5:14:06 speed: 10,284 (10,252) K/sec\n",
    );
    expect(syncOf(s)).toEqual({
      percent: 0.4,
      remainingBytes: 189468n * MiB,
      totalBytes: 190200n * MiB,
      etaSeconds: 5 * 3600 + 14 * 60 + 6,
      speedBytesPerSecond: 10284 * 1024,
      averageSpeedBytesPerSecond: 10252 * 1024,
      wantBytesPerSecond: null,
      stalled: false,
    });
  });

  it('8.4 SyncTarget: want, (stalled), a GiB/s speed and proc_details "a -- b"', () => {
    const s = parseProcDrbd(
      HEADER_84 +
        dev('SyncTarget', 'r-----', 'Secondary/Primary', 'Inconsistent/UpToDate') +
        "\t[=>..................] sync'ed: 10.0% (900/1000)K\n" +
        '\tfinish: 1:02:03 speed: 1,234,567 (2,000 -- 1,500) want: 10,240 K/sec (stalled)\n' +
        '\t 10% sector pos: 200/2000\n' +
        '\tresync: used:1/61 hits:0 misses:1 starving:0 locked:0 changed:1\n' +
        '\tact_log: used:0/1237 hits:0 misses:0 starving:0 locked:0 changed:0\n',
    );
    expect(syncOf(s)).toEqual({
      percent: 10,
      remainingBytes: 900n * KiB,
      totalBytes: 1000n * KiB,
      etaSeconds: 3723,
      speedBytesPerSecond: 1234567 * 1024,
      averageSpeedBytesPerSecond: 1500 * 1024,
      wantBytesPerSecond: 10240 * 1024,
      stalled: true,
    });
  });

  it('8.4 online verify prints "verified:"', () => {
    const s = parseProcDrbd(
      HEADER_84 + dev('VerifyS', 'r-----', 'Primary/Secondary', 'UpToDate/UpToDate') +
        "\t[=====>..............] verified: 27.3% (744/1024)M\n\tfinish: 0:00:31 speed: 24,548 (24,548) want: 102,400 K/sec\n",
    );
    expect(flat(s.resources[0]!)).toMatchObject({ cs: 'Connected', repl: 'VerifyS' });
    expect(syncOf(s)).toMatchObject({ percent: 27.3, remainingBytes: 744n * MiB, totalBytes: 1024n * MiB, wantBytesPerSecond: 102400 * 1024 });
  });

  it('8.2/early 8.3: a "stalled" line instead of the finish line', () => {
    const s = parseProcDrbd(
      'version: 8.2.6 (api:88/proto:86-88)\nGIT-hash: 3e69822d3bb4920a8c1bfdf7d647169eba7d2eb4 build by root@h, 2008-06-24 10:00:00\n' +
        dev('SyncTarget', 'r---', 'Secondary/Primary', 'Inconsistent/UpToDate') +
        "\t[>....................] sync'ed:  2.0% (98/100)K\n\tstalled\n",
    );
    expect(syncOf(s)).toMatchObject({ percent: 2, etaSeconds: null, speedBytesPerSecond: null, stalled: true });
  });

  it('8.2/early 8.3 online verify: "NN%  done/total" in 4 KiB bitmap bits', () => {
    const s = parseProcDrbd(
      'version: 8.3.0 (api:88/proto:86-89)\nGIT-hash: 9ba8b93e24d842f0dd3fb1f9b90e8348ddb95829 build by root@h, 2008-12-18 16:02:26\n' +
        dev('VerifyT', 'r---', 'Secondary/Primary', 'UpToDate/UpToDate') +
        '\t 25%      64/256\n',
    );
    expect(syncOf(s)).toEqual({
      percent: 25,
      remainingBytes: 192n * 4096n,
      totalBytes: 256n * 4096n,
      etaSeconds: null,
      speedBytesPerSecond: null,
      averageSpeedBytesPerSecond: null,
      wantBytesPerSecond: null,
      stalled: false,
    });
  });

  it('reads io flags: suspended I/O, resync paused by user, peer and dependency, backing-device congestion', () => {
    const s = parseProcDrbd(HEADER_84 + dev('PausedSyncS', 'sapub-'));
    const r = s.resources[0]!;
    expect(r.suspended).toBe('yes');
    expect(r.connections[0]?.peerDevices[0]?.resyncSuspended).toBe('user,peer,dependency');
    expect(r.connections[0]?.congested).toBe(false);
    expect(flat(r)).toMatchObject({ cs: 'Connected', repl: 'PausedSyncS' });
    expect(parseProcDrbd(HEADER_84 + dev('SyncSource', 'r---a-')).resources[0]?.connections[0]?.congested).toBe(true);
  });

  it('reads 8.x connection words that are not replication states', () => {
    for (const word of ['Unconnected', 'Timeout', 'BrokenPipe', 'NetworkFailure', 'ProtocolError', 'TearDown', 'Disconnecting', 'WFReportParams'] as const) {
      const r = parseProcDrbd(HEADER_84 + dev(word)).resources[0]!;
      expect(flat(r)).toMatchObject({ cs: word, repl: 'Off' });
    }
    for (const word of ['StartingSyncS', 'WFBitMapT', 'WFSyncUUID', 'Ahead', 'Behind'] as const) {
      expect(flat(parseProcDrbd(HEADER_84 + dev(word)).resources[0]!)).toMatchObject({ cs: 'Connected', repl: word });
    }
  });

  it('reads the earliest 8.0 device line, without protocol and flags', () => {
    const s = parseProcDrbd(
      'version: 8.0.0 (api:86/proto:86)\nGIT-hash: 0123456789abcdef0123456789abcdef01234567 build by phil@h, 2007-01-01 00:00:00\n' +
        ' 0: cs:Connected st:Primary/Secondary ds:UpToDate/UpToDate\n    ns:1 nr:0 dw:1 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0\n',
    );
    const r = s.resources[0]!;
    expect(flat(r)).toMatchObject({ protocol: null, ioFlags: null });
    expect(r.suspended).toBeNull();
    expect(r.connections[0]?.peerDevices[0]?.resyncSuspended).toBeNull();
  });

  it('reads "built-in", proc_details ≥ 2 lru dumps, CRLF line ends and a high minor', () => {
    const s = parseProcDrbd(
      'version: 8.4.3 (api:1/proto:86-101)\r\nbuilt-in\r\n' +
        '\r\n147: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\r\n' +
        '    ns:0 nr:8 dw:8 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\r\n' +
        '\tresync: used:0/61 hits:0 misses:0 starving:0 locked:0 changed:0\r\n' +
        '\tnn: lc_number (new nr) refcnt rs_left\r\n' +
        ' \t    0:     12 -"-           0     0 --------- ------\r\n' +
        '\t    1:     -1       44      1    12 NO_WRITES LOCKED\r\n',
    );
    expect(s.version?.buildInfo).toBe('built-in');
    expect(s.resources[0]?.devices[0]?.minor).toBe(147);
  });
});

describe('parseProcDrbd: size', () => {
  // The exporter reads /proc/drbd at every scrape; 1,000 devices must stay cheap.
  it('parses 1,000 syncing devices in one pass', () => {
    let text = 'version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 059B1B470318F053F5077D5 \n';
    for (let minor = 0; minor < 1000; minor++) {
      text +=
        `${String(minor).padStart(2)}: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n` +
        `    ns:${minor} nr:0 dw:0 dr:${minor} al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:262072\n` +
        "\t[>....................] sync'ed:  1.6% (262072/262100)K\n" +
        '\tfinish: 0:10:55 speed: 28 (28) K/sec\n';
    }
    const start = performance.now();
    const s = parseProcDrbd(text);
    const ms = performance.now() - start;
    expect(s.resources).toHaveLength(1000);
    expect(s.resources[999]?.devices[0]?.counters.diskReadBytes).toBe(999n * KiB);
    // Generous bound (a few ms on the dev machine) that still catches quadratic work.
    expect(ms).toBeLessThan(1000);
  });
});
