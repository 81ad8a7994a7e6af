/**
 * Is a DRBD device in use? DRBD 8.4 refuses to demote or take down a device
 * that is open ("(-12) Device is held open by someone") but does not say by
 * whom, and exposes no open count. Three places name the users:
 * - `/sys/block/drbdN/holders/`: stacked devices (device-mapper LVs of a VG
 *   on the DRBD device, md);
 * - `/proc/self/mountinfo`: file systems mounted from it (major:minor field);
 * - `/proc/<pid>/fd/*` links to the device node: processes that opened it
 *   (VMs, dd, an application using the raw device).
 * Only a Primary can be open on 8.4 (a Secondary refuses every open).
 */
import { ParseError } from '../../errors.js';

export interface DeviceUse {
  minor: number;
  /** `major:minor` from sysfs, null when the device does not exist. */
  devNumber: string | null;
  holders: string[];
  /** Mount points in the reading process's mount namespace. */
  mounts: string[];
  /** Processes holding the device open. */
  openBy: number[];
}

export const isInUse = (use: DeviceUse): boolean => use.holders.length > 0 || use.mounts.length > 0 || use.openBy.length > 0;

/** "holders drbd9-vg-lv; mounted on /mnt; open by pid 812" for messages. */
export function describeUse(use: DeviceUse): string {
  const parts: string[] = [];
  if (use.holders.length > 0) parts.push(`held by ${use.holders.join(', ')}`);
  if (use.mounts.length > 0) parts.push(`mounted on ${use.mounts.join(', ')}`);
  if (use.openBy.length > 0) parts.push(`open by pid ${use.openBy.join(', ')}`);
  return parts.length === 0 ? 'not in use' : parts.join('; ');
}

const DEV_NUMBER_RE = /^\d+:\d+$/;

/** The text of /sys/block/drbdN/dev (`147:9\n`). */
export function parseDevNumber(text: string): string {
  const value = text.trim();
  if (!DEV_NUMBER_RE.test(value)) throw new ParseError('expected major:minor', { source: 'sysfs dev', line: 1, excerpt: text });
  return value;
}

/** `ls -1` of a holders directory: one block device name a line. */
export function parseHolders(text: string): string[] {
  const names: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const name = raw.trim();
    if (name === '') return;
    if (!/^[A-Za-z0-9_.:!+-]+$/.test(name)) throw new ParseError('expected a block device name', { source: 'sysfs holders', line: index + 1, excerpt: raw });
    names.push(name);
  });
  return names;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescapeMountinfo = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** Mount points of the device `devNumber` (proc(5) mountinfo: field 3 is major:minor, field 5 the mount point). */
export function mountsOf(mountinfo: string, devNumber: string): string[] {
  const mounts: string[] = [];
  mountinfo.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const fields = line.split(' ');
    if (fields.length < 7 || !DEV_NUMBER_RE.test(fields[2] as string) || !fields.includes('-')) {
      throw new ParseError('not a mountinfo line', { source: '/proc/self/mountinfo', line: index + 1, excerpt: line });
    }
    if (fields[2] === devNumber) mounts.push(unescapeMountinfo(fields[4] as string));
  });
  return mounts;
}

/** argv listing `/proc/<pid>/fd/<n>` links that point at one of `paths` (needs root to see other users' processes). */
export function fdScanArgv(paths: readonly string[]): string[] {
  const names = [...new Set(paths)];
  const tests = names.flatMap((p, i) => (i === 0 ? ['-lname', p] : ['-o', '-lname', p]));
  return ['find', '/proc', '-mindepth', '3', '-maxdepth', '3', '-path', '/proc/[0-9]*/fd/*', '(', ...tests, ')', '-print'];
}

/** The pids in find's output (sorted, each once). */
export function parseFdScan(text: string): number[] {
  const pids = new Set<number>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const m = /^\/proc\/(\d+)\/fd\/\d+$/.exec(line);
    if (!m) throw new ParseError('expected /proc/<pid>/fd/<n>', { source: 'find /proc fd links', line: index + 1, excerpt: raw });
    pids.add(Number(m[1]));
  });
  return [...pids].sort((a, b) => a - b);
}
