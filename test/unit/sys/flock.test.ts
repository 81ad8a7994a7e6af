import { closeSync, existsSync, fstatSync, lstatSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LockError, NativeError } from '../../../src/errors.js';
import { lockFile } from '../../../src/sys/flock.js';
import type { FileLock } from '../../../src/sys/flock.js';
import { startHelper } from './helpers/children.js';
import type { Child } from './helpers/children.js';
import { compileForChildren } from './helpers/compile-for-children.js';
import type { CompiledPackage } from './helpers/compile-for-children.js';

let compiled: CompiledPackage;
let dir: string;
const children: Child[] = [];
const locks: FileLock[] = [];

beforeAll(() => {
  compiled = compileForChildren();
});
afterAll(() => {
  compiled.remove();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hastor-flock-'));
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  for (const lock of locks.splice(0)) lock.release();
  rmSync(dir, { recursive: true, force: true });
});

async function holder(path: string, mode: 'shared' | 'exclusive'): Promise<{ child: Child; inode: bigint }> {
  const child = startHelper('lock-holder.mjs', [compiled.root, path, mode]);
  children.push(child);
  const inode = BigInt(await child.line('ready'));
  return { child, inode };
}

async function take(path: string, mode: 'shared' | 'exclusive', timeoutMs?: number): Promise<FileLock> {
  const options = timeoutMs === undefined ? { mode } : { mode, timeoutMs };
  const lock = await lockFile(path, options);
  locks.push(lock);
  return lock;
}

async function failure(promise: Promise<unknown>): Promise<LockError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LockError);
  return error as LockError;
}

describe('lockFile across processes', () => {
  it('fails at once when another process holds it exclusively, naming that pid and command', async () => {
    const path = join(dir, 'V_vg0');
    const { child } = await holder(path, 'exclusive');
    const started = Date.now();
    const error = await failure(take(path, 'shared', 0));
    expect(Date.now() - started).toBeLessThan(500);
    expect(error.code).toBe('E_LOCK');
    expect(error.path).toBe(path);
    expect(error.holders).toHaveLength(1);
    expect(error.holders[0]!.pid).toBe(child.pid);
    expect(error.holders[0]!.commandLine).toMatch(/lock-holder\.mjs/);
    expect(error.message).toContain(`held by pid ${child.pid}`);
    expect(error.message).toContain(path);
    expect((error.cause as NativeError).syscall).toBe('flock');
  });

  it('waits for the timeout, then fails naming the holder; the event loop keeps running meanwhile', async () => {
    const path = join(dir, 'V_vg0');
    const { child } = await holder(path, 'exclusive');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = Date.now();
    const error = await failure(take(path, 'exclusive', 600));
    const elapsed = Date.now() - started;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(2000);
    expect(ticks).toBeGreaterThanOrEqual(20); // ~60 if nothing blocked the loop
    expect(error.holders.map((h) => h.pid)).toEqual([child.pid]);
    expect(error.message).toMatch(/waited 0\.6 s,/);
    expect((error.cause as NativeError).errno).toBe(110);
  });

  it('gets the lock at once when the holder is SIGKILLed', async () => {
    const path = join(dir, 'V_vg0');
    const { child, inode } = await holder(path, 'exclusive');
    const waiting = take(path, 'exclusive', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the wait start
    const killed = Date.now();
    child.kill('SIGKILL');
    const lock = await waiting;
    expect(Date.now() - killed).toBeLessThan(300);
    expect(lock.inode).toBe(inode);
    expect(lock.attempts).toBe(1);
    expect((await child.exited).signal).toBe('SIGKILL');
  });

  it('waits without a timeout until the holder releases', async () => {
    const path = join(dir, 'V_vg0');
    const { child } = await holder(path, 'shared');
    const waiting = take(path, 'exclusive');
    setTimeout(() => child.send('release\n'), 100);
    const lock = await waiting;
    expect(lock.mode).toBe('exclusive');
    // Release is unlock, then try-exclusive-and-unlink: either our waiter got
    // in between (file kept), or the holder unlinked it and our waiter, finding
    // its inode gone from the path, locked a fresh file. Both end on the file
    // that is at the path.
    const unlinked = await child.line('released');
    expect(lock.attempts).toBe(unlinked === 'true' ? 2 : 1);
    expect(statSync(path, { bigint: true }).ino).toBe(lock.inode);
  });

  it('lets shared locks coexist and refuses exclusive against shared', async () => {
    const path = join(dir, 'P_orphans');
    const { child } = await holder(path, 'shared');
    const mine = await take(path, 'shared', 0);
    expect(mine.mode).toBe('shared');
    const error = await failure(take(path, 'exclusive', 0));
    // Both shared holders are listed: the child and this process.
    expect(error.holders.map((h) => h.pid).sort()).toEqual([child.pid, process.pid].sort());
  });

  it('refuses shared against exclusive', async () => {
    const path = join(dir, 'P_global');
    await holder(path, 'exclusive');
    await failure(take(path, 'shared', 0));
  });

  it('re-locks the file now at the path when the one it waited on was unlinked (LVM same-inode check)', async () => {
    const path = join(dir, 'V_vg0');
    const { child, inode: oldInode } = await holder(path, 'exclusive');
    const waiting = take(path, 'exclusive', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Keep the old inode alive so the filesystem cannot hand its number to the new file.
    const keep = openSync(path, 'r');
    unlinkSync(path); // the waiter is blocked on the old, now nameless inode
    child.kill('SIGKILL');
    const lock = await waiting.finally(() => closeSync(keep));
    expect(lock.attempts).toBe(2);
    expect(existsSync(path)).toBe(true);
    const now = statSync(path, { bigint: true });
    expect(lock.inode).toBe(now.ino);
    expect(lock.inode).not.toBe(oldInode);
  });
});

describe('lockFile in one process', () => {
  it('creates the file like lvm (mode 0777 minus umask) and unlinks it on release', async () => {
    const path = join(dir, 'V_vg1');
    const lock = await take(path, 'exclusive', 0);
    expect(statSync(path).mode & 0o777).toBe(0o777 & ~process.umask());
    expect(lock.released).toBe(false);
    expect(lock.release()).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(lock.released).toBe(true);
    expect(lock.release()).toBe(false); // idempotent
  });

  it('keeps the file while another shared holder remains, and removes it with the last one', async () => {
    const path = join(dir, 'V_vg2');
    const first = await take(path, 'shared', 0);
    const second = await take(path, 'shared', 0);
    expect(first.inode).toBe(second.inode);
    expect(first.release()).toBe(false);
    expect(existsSync(path)).toBe(true);
    expect(second.release()).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('conflicts with itself on a second open file description (flock semantics), naming this pid', async () => {
    const path = join(dir, 'V_vg3');
    await take(path, 'exclusive', 0);
    const error = await failure(take(path, 'exclusive', 0));
    expect(error.holders.map((h) => h.pid)).toEqual([process.pid]);
  });

  it('stores an absolute path so release works after a cwd change', async () => {
    const path = join(dir, 'V_vg4');
    const lock = await take(relative(process.cwd(), path), 'exclusive', 0);
    expect(lock.path).toBe(path);
  });

  it('reports a missing lock directory as LockError with the open errno', async () => {
    const error = await failure(take(join(dir, 'missing', 'V_vg'), 'exclusive', 0));
    const cause = error.cause as NativeError;
    expect(cause).toBeInstanceOf(NativeError);
    expect(cause.syscall).toBe('open');
    expect(cause.errno).toBe(2);
    expect(error.message).toMatch(/does the directory exist/);
  });

  it('never follows a symlink at the lock path: nothing is created at its target, LockError ELOOP (try and wait alike)', async () => {
    const target = join(dir, 'root-only-file');
    const path = join(dir, 'grow-r0.lock');
    symlinkSync(target, path);
    for (const timeoutMs of [0, 200]) {
      const error = await failure(take(path, 'exclusive', timeoutMs));
      expect((error.cause as NativeError).errno).toBe(40);
      expect(error.message).toMatch(/symbolic link/);
      expect(existsSync(target)).toBe(false);
    }
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
  });

  it('exposes the locking descriptor until release', async () => {
    const lock = await take(join(dir, 'V_vg5'), 'exclusive', 0);
    expect(fstatSync(lock.fd).ino).toBe(Number(lock.inode));
    lock.release();
    expect(() => lock.fd).toThrow(LockError);
  });

  it('validates its arguments', async () => {
    await expect(lockFile('', { mode: 'shared' })).rejects.toThrow(TypeError);
    await expect(lockFile(join(dir, 'x'), { mode: 'both' as 'shared' })).rejects.toThrow(TypeError);
    await expect(lockFile(join(dir, 'x'), { mode: 'shared', timeoutMs: -1 })).rejects.toThrow(RangeError);
    await expect(lockFile(join(dir, 'x'), { mode: 'shared', timeoutMs: 0.5 })).rejects.toThrow(RangeError);
  });
});
