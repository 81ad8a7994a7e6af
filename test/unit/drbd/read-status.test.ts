/**
 * addProcDetails on real bytes: GET_STATUS dumps captured in the lab during
 * an initial sync, each followed by a read of /proc/drbd
 * (test/fixtures/netlink-drbd/README.md).
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addProcDetails, readLiveStatus, readStatusFile } from '../../../src/drbd/read-status.js';
import { decodeDrbdStatusDump } from '../../../src/drbd/genl/status-tracker.js';
import { deviceViews } from '../../../src/drbd/status-model.js';
import { parseProcDrbd } from '../../../src/drbd/proc-drbd.js';
import { ParseError } from '../../../src/errors.js';

interface Capture {
  dumps: { label: string; kind: string; datagrams: string[]; proc?: string }[];
}
const capture = JSON.parse(
  readFileSync(new URL('../../fixtures/netlink-drbd/capture-8.4.11-uml.json', import.meta.url), 'utf8'),
) as Capture;
const syncing = capture.dumps.filter((d) => d.kind === 'GET_STATUS' && d.label.startsWith('syncsource-') && d.proc);

describe('addProcDetails (netlink + /proc/drbd on DRBD 8.4)', () => {
  it('has syncing captures to work on', () => {
    expect(syncing.length).toBeGreaterThan(5);
  });

  it('adds speed, ETA and version to netlink progress, keeping netlink bit counts', () => {
    for (const dump of syncing) {
      const netlink = decodeDrbdStatusDump(dump.datagrams.map((h) => Buffer.from(h, 'hex')), 1);
      const proc = parseProcDrbd(dump.proc!);
      const before = deviceViews(netlink)[0]!.sync!;
      expect(before.speedBytesPerSecond).toBeNull();
      const merged = addProcDetails(netlink, proc);
      const after = deviceViews(merged)[0]!.sync!;
      const procSync = deviceViews(proc)[0]!.sync!;
      expect(after.remainingBytes).toBe(before.remainingBytes);
      expect(after.totalBytes).toBe(before.totalBytes);
      expect(after.percent).toBe(before.percent);
      expect(after.speedBytesPerSecond).toBe(procSync.speedBytesPerSecond);
      expect(after.averageSpeedBytesPerSecond).toBe(procSync.averageSpeedBytesPerSecond);
      if (procSync.speedBytesPerSecond! > 0) {
        expect(after.etaSeconds).toBe(Math.round(Number(before.remainingBytes) / procSync.speedBytesPerSecond!));
      }
      expect(merged.version?.version).toBe('8.4.11');
      // The input is not mutated.
      expect(deviceViews(netlink)[0]!.sync!.speedBytesPerSecond).toBeNull();
    }
  });

  it('leaves a device alone when /proc/drbd has no sync for its minor', () => {
    const dump = syncing[0]!;
    const netlink = decodeDrbdStatusDump(dump.datagrams.map((h) => Buffer.from(h, 'hex')), 1);
    const merged = addProcDetails(netlink, { ...parseProcDrbd(dump.proc!), resources: [] });
    expect(deviceViews(merged)[0]!.sync).toEqual(deviceViews(netlink)[0]!.sync);
  });
});

describe('readLiveStatus / readStatusFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hastor-read-'));

  it('reads a given /proc/drbd path with source proc', async () => {
    const path = join(dir, 'drbd');
    writeFileSync(path, syncing[0]!.proc!);
    const status = await readLiveStatus({ source: 'proc', procPath: path });
    expect(status.source).toBe('proc');
    expect(deviceViews(status)[0]!.replicationState).toBe('SyncSource');
  });

  it('auto: without a drbd family, drbdsetup or /proc/drbd says DRBD is unavailable', async () => {
    await expect(
      readLiveStatus({ procPath: join(dir, 'missing'), drbdsetup: join(dir, 'no-drbdsetup') }),
    ).rejects.toMatchObject({ code: 'E_DRBD_UNAVAILABLE' });
  });

  it('auto: falls back to /proc/drbd when netlink and drbdsetup are missing', async () => {
    const path = join(dir, 'drbd-auto');
    writeFileSync(path, syncing[0]!.proc!);
    const status = await readLiveStatus({ procPath: path, drbdsetup: join(dir, 'no-drbdsetup') });
    expect(status.source).toBe('proc');
  });

  it('a saved file in the wrong format is a ParseError, not a crash', async () => {
    const path = join(dir, 'proc-as-json');
    writeFileSync(path, syncing[0]!.proc!);
    await expect(readStatusFile(path, 'json')).rejects.toBeInstanceOf(ParseError);
  });
});
