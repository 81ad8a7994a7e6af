import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { lockFile } from '../../../src/sys/flock.js';
import { commandLineOf, deviceNumbers, findLockHolders, parseProcLocks, readProcLocks } from '../../../src/sys/proc-locks.js';

// Captured verbatim from /proc/locks on the development machine (kernel
// 6.18.44-fc-v669, ext4 root on fe:00) while util-linux flock(1) held an
// exclusive lock with a shared and an exclusive waiter queued behind it, two
// flock(1) processes shared another file, and python3 held an OFD read lock
// and a POSIX write lock on bytes 10-109.
const SAMPLE = `1: FLOCK  ADVISORY  READ 19572 fe:00:5311420 0 EOF
2: FLOCK  ADVISORY  READ 19571 fe:00:5311420 0 EOF
3: FLOCK  ADVISORY  WRITE 19566 fe:00:2146828 0 EOF
3: -> FLOCK  ADVISORY  READ 19731 fe:00:2146828 0 EOF
3:  -> FLOCK  ADVISORY  WRITE 19729 fe:00:2146828 0 EOF
4: OFDLCK ADVISORY  READ -1 fe:00:5311422 0 EOF
5: POSIX  ADVISORY  WRITE 19586 fe:00:5311421 10 109
`;

describe('parseProcLocks', () => {
  it('parses the captured sample, waiters and ranges included', () => {
    const entries = parseProcLocks(SAMPLE);
    expect(entries).toHaveLength(7);
    expect(entries[2]).toEqual({
      id: 3,
      waiting: false,
      kind: 'FLOCK',
      mode: 'ADVISORY',
      access: 'WRITE',
      pid: 19566,
      devMajor: 0xfe,
      devMinor: 0,
      inode: 2146828n,
      start: 0n,
      end: null,
    });
    expect(entries.filter((e) => e.waiting).map((e) => [e.id, e.pid, e.access])).toEqual([
      [3, 19731, 'READ'],
      [3, 19729, 'WRITE'],
    ]);
    expect(entries[5]).toMatchObject({ kind: 'OFDLCK', pid: -1, inode: 5311422n });
    expect(entries[6]).toMatchObject({ kind: 'POSIX', pid: 19586, start: 10n, end: 109n });
  });

  it('accepts lines without an inode and lease lines', () => {
    const [noInode, lease] = parseProcLocks('7: POSIX  *NOINODE* WRITE 12 <none>:0 0 EOF\n8: LEASE  ACTIVE    READ 99 08:01:77 0 EOF\n');
    expect(noInode).toMatchObject({ mode: '*NOINODE*', devMajor: null, devMinor: null, inode: null });
    expect(lease).toMatchObject({ kind: 'LEASE', mode: 'ACTIVE', devMajor: 8, devMinor: 1, inode: 77n });
  });

  it('raises ParseError with the line number and the line', () => {
    try {
      parseProcLocks('1: FLOCK  ADVISORY  WRITE 1 fe:00:1 0 EOF\n\ngarbage here\n');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ParseError);
      expect((error as ParseError).line).toBe(3);
      expect((error as ParseError).excerpt).toBe('garbage here');
      expect((error as ParseError).source).toBe('/proc/locks');
    }
  });

  it('gives entries or a ParseError for any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        try {
          parseProcLocks(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('finds holders in a given text by device and inode, skipping waiters unless asked', async () => {
    const file = { devMajor: 0xfe, devMinor: 0, inode: 2146828n };
    const held = await findLockHolders(file, { procLocks: SAMPLE });
    expect(held.map((h) => h.pid)).toEqual([19566]);
    const all = await findLockHolders(file, { procLocks: SAMPLE, includeWaiting: true });
    expect(all.map((h) => h.pid)).toEqual([19566, 19731, 19729]);
    const shared = await findLockHolders({ devMajor: 0xfe, devMinor: 0, inode: 5311420n }, { procLocks: SAMPLE });
    expect(shared.map((h) => h.pid)).toEqual([19572, 19571]);
    const posixOnly = await findLockHolders({ devMajor: 0xfe, devMinor: 0, inode: 5311421n }, { procLocks: SAMPLE });
    expect(posixOnly).toEqual([]);
  });
});

describe('deviceNumbers', () => {
  it('splits dev_t the way the kernel prints it', () => {
    expect(deviceNumbers(65024n)).toEqual({ major: 0xfe, minor: 0 }); // stat %d of fe:00
    expect(deviceNumbers(0x10301n)).toEqual({ major: 259, minor: 1 });
    expect(deviceNumbers(0x10082cn)).toEqual({ major: 8, minor: 300 });
    // glibc makedev(0x12345, 0x6789a): both numbers past their low bit fields
    const dev = (0x345n << 8n) | (0x12000n << 32n) | 0x9an | (0x67800n << 12n);
    expect(deviceNumbers(dev)).toEqual({ major: 0x12345, minor: 0x6789a });
  });
});

describe('on this machine', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hastor-proclocks-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads /proc/locks and finds this process holding a lock it took', async () => {
    const path = join(dir, 'V_live');
    const lock = await lockFile(path, { mode: 'exclusive', timeoutMs: 0 });
    try {
      const entries = await readProcLocks();
      expect(entries.some((e) => e.pid === process.pid && e.inode === lock.inode && e.kind === 'FLOCK')).toBe(true);
      const holders = await findLockHolders(path);
      expect(holders).toHaveLength(1);
      expect(holders[0]!.pid).toBe(process.pid);
      expect(holders[0]!.commandLine).toContain(process.execPath.split('/').pop()!);
      const st = statSync(path, { bigint: true });
      expect(deviceNumbers(st.dev)).toEqual({ major: lock.devMajor, minor: lock.devMinor });
    } finally {
      lock.release();
    }
  });

  it('reads command lines, and null for a pid that does not exist', async () => {
    expect(await commandLineOf(process.pid)).toMatch(/node/);
    expect(await commandLineOf(0)).toBeNull();
    expect(await commandLineOf(2 ** 22 + 12345)).toBeNull();
  });
});
