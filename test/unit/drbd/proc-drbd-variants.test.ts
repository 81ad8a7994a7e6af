/**
 * /proc/drbd as the 8.0–8.4 kernels print it, field by field from drbd_proc.c
 * (fixtures in test/fixtures/proc-drbd/from-source/, see the README there), and
 * what happens to fields no release printed: kept and reported, never fatal.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseProcDrbd } from '../../../src/drbd/proc-drbd.js';
import type { DrbdStatus } from '../../../src/drbd/status-model.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/proc-drbd/from-source/${name}`, import.meta.url), 'utf8');
const KiB = 1024n;
const MiB = 1024n * 1024n;
const peer = (s: DrbdStatus, i = 0) => s.resources[i]!.connections[0]!.peerDevices[0]!;

const HEADER_838 = 'version: 8.3.8 (api:88/proto:86-94)\nGIT-hash: d78846e52224fd00562f7c225bcc25b2d422321d build by fixture@hastor, 2010-06-02 12:00:00\n';
const TARGET_838 =
  ' 0: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r----\n' +
  '    ns:0 nr:210272 dw:210272 dr:0 al:0 bm:13 lo:1 pe:8 ua:0 ap:0 ep:1 wo:b oos:813660\n';
const FINISH = '\tfinish: 0:03:45 speed: 3,616 (3,504) want: 61,440 K/sec\n';

describe('/proc/drbd fields of drbd_proc.c 8.0–8.4', () => {
  it('8.3.8: "queue_delay: 0.0 ms" after the KiB pair (the issue\'s sample), "delay_probe:", a speed of exactly 1000, "stalled"', () => {
    const s = parseProcDrbd(fixture('drbd-8.3.8-resync-fields.txt'));
    expect(s.warnings).toBeUndefined();
    expect(peer(s, 0).sync).toEqual({
      percent: 20.8,
      remainingBytes: 813660n * KiB,
      totalBytes: 1023932n * KiB,
      etaSeconds: 225,
      speedBytesPerSecond: 3616 * 1024,
      averageSpeedBytesPerSecond: 3504 * 1024,
      wantBytesPerSecond: 61440 * 1024,
      stalled: false,
      extra: { queue_delay: '0.0 ms' },
    });
    // Up to 8.3.8 speeds were grouped only above 1000: exactly 1000 prints "1000".
    expect(peer(s, 1).sync).toMatchObject({ remainingBytes: 2048n * MiB, totalBytes: 8192n * MiB, speedBytesPerSecond: 1000 * 1024, extra: { delay_probe: '4711' } });
    expect(peer(s, 2).sync).toMatchObject({ percent: 55, stalled: true, etaSeconds: null, extra: { queue_delay: '12.3 ms' } });
  });

  it('8.2.5: online verify "NN% oos:B  done / total " counts out-of-sync bits where the counters have no oos:', () => {
    const s = parseProcDrbd(fixture('drbd-8.2.5-verify-oos.txt'));
    expect(peer(s).replicationState).toBe('VerifyS');
    expect(peer(s).sync).toMatchObject({ percent: 24, remainingBytes: (65536n - 16384n) * 4096n, totalBytes: 65536n * 4096n });
    expect(peer(s).outOfSyncBytes).toBe(3n * 4096n);
  });

  it('8.3.16 with proc_details=2: "verified:", "(a -- b)" speeds, want of 1,000, stop sector, lru stats and a dump with FREE rows', () => {
    const s = parseProcDrbd(fixture('drbd-8.3.16-proc-details-2.txt'));
    expect(s.version?.version).toBe('8.3.16rc1');
    expect(peer(s).sync).toMatchObject({ percent: 25.6, etaSeconds: 12, speedBytesPerSecond: 32768 * 1024, averageSpeedBytesPerSecond: 28000 * 1024, wantBytesPerSecond: 1000 * 1024 });
    expect(s.warnings).toBeUndefined();
  });

  it('8.4.11 with drbd_proc_details=2: "(stalled)", sector pos, lru stats with locked:, "blocked on activity log: N"', () => {
    const s = parseProcDrbd(fixture('drbd-8.4.11-proc-details-2.txt'));
    expect(peer(s).sync).toMatchObject({ remainingBytes: 8192n * MiB, totalBytes: 9216n * MiB, stalled: true, averageSpeedBytesPerSecond: 1048576 * 1024, wantBytesPerSecond: 4096 * 1024 });
  });

  it('a known field with a value not in the kernel format is still an error', () => {
    const bad = HEADER_838 + TARGET_838 + "\t[===>................] sync'ed: 20.8% (813660/1023932)K queue_delay: soon\n" + FINISH;
    expect(() => parseProcDrbd(bad)).toThrow(ParseError);
    expect(() => parseProcDrbd(bad)).toThrow(/line 5: field "queue_delay: soon" is not in the kernel's format/);
  });
});

describe('fields no release printed are kept and reported, not fatal', () => {
  it('unknown "key: value" fields after the pair: in sync.extra, one warning each, with the line', () => {
    const text = HEADER_838 + TARGET_838 + "\t[===>................] sync'ed: 20.8% (813660/1023932)K queue_delay: 0.0 ms rs_planned: 12 KiB fill: 3\n" + FINISH;
    const s = parseProcDrbd(text);
    expect(peer(s).sync).toMatchObject({ percent: 20.8, etaSeconds: 225, extra: { queue_delay: '0.0 ms', rs_planned: '12 KiB', fill: '3' } });
    expect(s.warnings).toEqual([
      { source: '/proc/drbd', line: 5, message: 'unknown field "rs_planned: 12 KiB" after the resync progress (kept in sync.extra)', excerpt: expect.stringContaining('rs_planned') },
      { source: '/proc/drbd', line: 5, message: 'unknown field "fill: 3" after the resync progress (kept in sync.extra)', excerpt: expect.stringContaining('fill: 3') },
    ]);
  });

  it('after the finish line, and after a glued "finish:"', () => {
    const s = parseProcDrbd(HEADER_838 + TARGET_838 + "\t[===>................] sync'ed: 20.8% (813660/1023932)K\n\tfinish: 0:03:45 speed: 3,616 (3,504) K/sec c_plan: 9\n");
    expect(peer(s).sync).toMatchObject({ speedBytesPerSecond: 3616 * 1024, extra: { c_plan: '9' } });
    expect(s.warnings).toHaveLength(1);
    const glued = parseProcDrbd(HEADER_838 + TARGET_838 + "\t[===>................] sync'ed: 20.8% (813660/1023932)Mfinish: 0:03:45 speed: 3,616 (3,504) K/sec (stalled) new: x\n");
    expect(peer(glued).sync).toMatchObject({ stalled: true, extra: { new: 'x' } });
  });

  it('an unknown counter of any form: in counters.extra with a warning (a non-numeric one was fatal)', () => {
    const s = parseProcDrbd(HEADER_838 + TARGET_838.replace('oos:813660', 'oos:813660 zz:abc qd:[1;2]'));
    expect(s.resources[0]!.devices[0]!.counters.extra).toEqual({ zz: 'abc', qd: '[1;2]' });
    expect(s.warnings?.map((w) => w.message)).toEqual(['unknown counter "zz:abc" (kept in counters.extra)', 'unknown counter "qd:[1;2]" (kept in counters.extra)']);
  });

  it('a negative (wrapped) speed is unknown with a warning, the rest of the line stands', () => {
    const s = parseProcDrbd(HEADER_838 + TARGET_838 + "\t[===>................] sync'ed: 20.8% (813660/1023932)K\n\tfinish: 0:03:45 speed: -18014398509481,616 (3,504) K/sec\n");
    expect(peer(s).sync).toMatchObject({ speedBytesPerSecond: null, averageSpeedBytesPerSecond: 3504 * 1024, etaSeconds: 225 });
    expect(s.warnings?.[0]?.message).toMatch(/^negative current speed -18014398509481,616 K\/sec/);
  });

  it('keeps a field named __proto__ or constructor like any other', () => {
    const s = parseProcDrbd(HEADER_838 + TARGET_838.replace('oos:813660', 'oos:813660 constructor:1') + "\t[===>................] sync'ed: 20.8% (813660/1023932)K __proto__: x\n" + FINISH);
    expect(Object.entries(peer(s).sync!.extra!)).toEqual([['__proto__', 'x']]);
    expect(Object.entries(s.resources[0]!.devices[0]!.counters.extra!)).toEqual([['constructor', '1']]);
  });

  it('text that is no "key: value" after the pair is still an error', () => {
    expect(() => parseProcDrbd(HEADER_838 + TARGET_838 + "\t[===>................] sync'ed: 20.8% (813660/1023932)K ???\n")).toThrow(/unexpected text after the resync progress pair/);
  });
});
