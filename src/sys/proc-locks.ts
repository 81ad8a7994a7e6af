/**
 * Who holds a lock on a file: /proc/locks lists every lock with the holder's
 * pid and the file as major:minor:inode (device numbers in hex).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { ParseError } from '../errors.js';
import type { LockHolder } from '../errors.js';

export interface ProcLockEntry {
  /** Position in /proc/locks; a waiter shares the number of the lock it waits on. */
  id: number;
  /** A request blocked behind lock `id` (the "->" lines), not a held lock. */
  waiting: boolean;
  /** FLOCK, POSIX, OFDLCK, ACCESS, LEASE, DELEG, ... */
  kind: string;
  /** ADVISORY, MANDATORY, or a lease state such as ACTIVE / BREAKING. */
  mode: string;
  /** READ, WRITE, UNLCK. */
  access: string;
  /** Holder's pid in our pid namespace; 0 when not visible (other namespace, or gone); -1 for OFD locks. */
  pid: number;
  /** null when the kernel printed "<none>" (no inode). */
  devMajor: number | null;
  devMinor: number | null;
  inode: bigint | null;
  start: bigint;
  /** null for "EOF" (to the end of the file). */
  end: bigint | null;
}

const SOURCE = '/proc/locks';
// "1: -> FLOCK  ADVISORY  WRITE 1234 fd:00:2531448 0 EOF"; leases print a state word and may
// print "UNKNOWN UNKNOWN" for kinds this parser never heard of: all single tokens.
const LINE =
  /^(\d+):\s+(?:(->)\s+)?([A-Z*]+)\s+([A-Z*]+)\s+([A-Z]+)\s+(-?\d+)\s+(?:([0-9a-f]+):([0-9a-f]+):(\d+)|<none>:0)\s+(\d+)\s+(\d+|EOF)$/;

export function parseProcLocks(text: string): ProcLockEntry[] {
  const entries: ProcLockEntry[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const m = LINE.exec(line);
    if (m === null) throw new ParseError('not a lock line', { source: SOURCE, line: index + 1, excerpt: raw });
    const [, id, arrow, kind, mode, access, pid, major, minor, inode, start, end] = m;
    entries.push({
      id: Number(id),
      waiting: arrow !== undefined,
      kind: kind ?? '',
      mode: mode ?? '',
      access: access ?? '',
      pid: Number(pid),
      devMajor: major === undefined ? null : parseInt(major, 16),
      devMinor: minor === undefined ? null : parseInt(minor, 16),
      inode: inode === undefined ? null : BigInt(inode),
      start: BigInt(start ?? '0'),
      end: end === 'EOF' || end === undefined ? null : BigInt(end),
    });
  });
  return entries;
}

export async function readProcLocks(file = '/proc/locks'): Promise<ProcLockEntry[]> {
  return parseProcLocks(await readFile(file, 'utf8'));
}

/** Linux dev_t as stat returns it, split the way /proc/locks prints it (MAJOR/MINOR of the kernel). */
export function deviceNumbers(dev: bigint): { major: number; minor: number } {
  // glibc's gnu_dev_major/minor: 12+20 major bits, 8+24 minor bits.
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

export interface LockedFile {
  devMajor: number;
  devMinor: number;
  inode: bigint;
}

export interface HolderQuery {
  /** Lock kinds to consider; FLOCK only unless given (that is what LVM uses). */
  kinds?: readonly string[];
  /** Also list processes waiting for the lock. */
  includeWaiting?: boolean;
  /** Alternative /proc/locks text (tests). */
  procLocks?: string;
}

/** The command line of a pid, NULs turned into spaces; null if it is gone or unreadable. */
export async function commandLineOf(pid: number): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    const text = raw.replace(/\0+$/, '').replace(/\0/g, ' ');
    return text === '' ? null : text;
  } catch {
    return null;
  }
}

/**
 * Processes holding a lock on a file, given by path (stat'ed now) or by its
 * device numbers and inode. Each pid appears once.
 */
export async function findLockHolders(target: string | LockedFile, query: HolderQuery = {}): Promise<LockHolder[]> {
  let file: LockedFile;
  if (typeof target === 'string') {
    const st = statSync(target, { bigint: true });
    const { major, minor } = deviceNumbers(st.dev);
    file = { devMajor: major, devMinor: minor, inode: st.ino };
  } else {
    file = target;
  }
  const entries = query.procLocks === undefined ? await readProcLocks() : parseProcLocks(query.procLocks);
  const kinds = query.kinds ?? ['FLOCK'];
  const matches = entries.filter(
    (e) =>
      kinds.includes(e.kind) &&
      (query.includeWaiting === true || !e.waiting) &&
      e.inode === file.inode &&
      e.devMajor === file.devMajor &&
      e.devMinor === file.devMinor,
  );
  const pids = [...new Set(matches.map((e) => e.pid))];
  const holders = await Promise.all(pids.map(async (pid) => ({ pid, commandLine: await commandLineOf(pid) })));
  // An flock belongs to the open file, and /proc/locks names the process that took it. When that
  // process is gone, a child that inherited the descriptor (hastor lvm lock, flock(1)) holds it now.
  if (query.procLocks === undefined && holders.some((h) => !existsSync(`/proc/${h.pid}`))) {
    const openers = await processesWithFileOpen(file);
    if (openers.length > 0) return Promise.all(openers.map(async (pid) => ({ pid, commandLine: await commandLineOf(pid) })));
  }
  return holders;
}

/** Pids with a descriptor open on the file (every /proc/<pid>/fd entry stat'ed; for diagnostics only). */
export async function processesWithFileOpen(file: LockedFile): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${name}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      try {
        const st = await stat(`/proc/${name}/fd/${fd}`, { bigint: true });
        const { major, minor } = deviceNumbers(st.dev);
        if (st.ino === file.inode && major === file.devMajor && minor === file.devMinor) {
          found.push(Number(name));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return found;
}
