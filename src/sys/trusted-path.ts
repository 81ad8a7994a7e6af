/**
 * Paths root may trust: owned by root (or by the caller, when hastor runs as
 * an ordinary user) and not writable by group or others, checked without
 * following a final symlink. This is what ssh asks of its own config; it stops
 * a local user from planting a directory or file that redirects root's locks,
 * writes or commands.
 */
import { chmodSync, fstatSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { UnsafePathError } from '../errors.js';

const callerUid = (): number => (typeof process.getuid === 'function' ? process.getuid() : 0);

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

/** Why `st` is not trustworthy for a `kind` ('directory' | 'file'), or null when it is. */
export function untrustedBecause(st: Stats, kind: 'directory' | 'file'): string | null {
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (kind === 'directory' && !st.isDirectory()) return 'it is not a directory';
  if (kind === 'file' && !st.isFile()) return 'it is not a regular file';
  const uid = callerUid();
  if (st.uid !== 0 && st.uid !== uid) return `it is owned by uid ${st.uid}, not by root${uid === 0 ? '' : ` or uid ${uid} (the caller)`}`;
  const writers = [...((st.mode & 0o020) !== 0 ? ['its group'] : []), ...((st.mode & 0o002) !== 0 ? ['everyone'] : [])];
  if (writers.length > 0) return `it is writable by ${writers.join(' and ')} (mode ${octal(st.mode)})`;
  return null;
}

/** Throws UnsafePathError unless `path` (not followed if a symlink) is a trusted directory. */
export function checkTrustedDirectory(path: string, role: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (error) {
    throw new UnsafePathError(path, `cannot check ${role} ${path}: ${(error as Error).message}`);
  }
  const why = untrustedBecause(st, 'directory');
  if (why !== null) {
    throw new UnsafePathError(
      path,
      `refusing ${role} ${path}: ${why}, so another user could redirect or take over what hastor keeps there. ` +
        `Check who made it and what is in it; then make it a directory owned by root and not writable by group or others ` +
        `(chown root: ${path}; chmod go-w ${path}), or remove it so hastor creates it again`,
    );
  }
}

/** Throws UnsafePathError unless the open file `fd` (read from `path`) is trusted. */
export function checkTrustedOpenFile(fd: number, path: string, role: string): void {
  const why = untrustedBecause(fstatSync(fd), 'file');
  if (why !== null) {
    throw new UnsafePathError(
      path,
      `refusing ${role} ${path}: ${why}, so another user could change what root runs. ` +
        `Make it owned by root (or by the user running hastor) and writable by its owner only: chown root: ${path}; chmod 600 ${path}`,
    );
  }
}

/**
 * Makes `dir` with `mode` (default 0700) when it is missing (parents 0755), then
 * checks it: an existing one made by someone else is refused, never reused.
 * Errors creating it (EACCES, ENOTDIR …) are thrown as fs gives them.
 */
export function ensurePrivateDirectory(dir: string, role: string, mode = 0o700): void {
  let created = false;
  try {
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    mkdirSync(dir, { mode });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (created) chmodSync(dir, mode); // exactly `mode`, whatever the umask
  checkTrustedDirectory(dir, role);
}
