/**
 * Writing a file root (or other tools) will read, so that nobody ever sees half
 * of it and no other user can steer the write: a new temp file in the same
 * directory (O_EXCL|O_NOFOLLOW, explicit mode), fsync, rename over the target,
 * fsync of the directory. The directory must be one only root (or the caller)
 * can write; a symlink at the target is replaced, never followed.
 *
 * Two forms: writeFileAtomic on this machine, writeFileByCommand through a
 * command runner (sudo, ssh), both doing the same steps.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute } from 'node:path';
import { checkTrustedDirectory } from './trusted-path.js';

export interface AtomicWriteOptions {
  /** Permission bits of the file, e.g. 0o644, or 0o600 for a secret; applied whatever the umask. */
  mode: number;
}

function checkArguments(path: string, mode: number): void {
  if (typeof path !== 'string' || !isAbsolute(path) || path.includes('\0') || path.endsWith('/')) {
    throw new TypeError(`Expected an absolute file path but received ${JSON.stringify(path)}`);
  }
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new RangeError(`Expected mode to be permission bits from 0 to 0o7777 but received ${String(mode)}`);
  }
}

/** Replaces `path` on this machine atomically and durably (see the file comment). */
export async function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  checkArguments(path, options.mode);
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  checkTrustedDirectory(dir, `the directory of ${path}`);
  const temp = `${dir}/.${basename(path)}.hastor-${randomBytes(6).toString('hex')}`;
  // O_CLOEXEC is implied: libuv opens every file close-on-exec.
  const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode);
  try {
    try {
      await file.chmod(options.mode);
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  // The rename itself survives a crash only once the directory is on disk.
  const directory = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * The same steps as one fixed sh script: the path and mode are positional
 * arguments and the content comes on stdin, so no data is ever part of shell
 * code. Refuses a directory owned by another user or writable by group or
 * others, and a target that is (or links to) a directory.
 */
export const WRITE_FILE_SCRIPT = [
  // One line without [ # % : , so a sudoers rule can name it word for word (docs/resources.md).
  // Only POSIX sh, coreutils and find; every check runs before anything is created.
  'set -eu',
  'target="$1"',
  'mode="$2"',
  'fail() { echo "hastor-write refused $*" >&2; exit 2; }',
  'case "$target" in /*) ;; *) fail "$target (not an absolute path)" ;; esac',
  'dir=$(dirname -- "$target")',
  'base=$(basename -- "$target")',
  'umask 022',
  'mkdir -p -- "$dir"',
  'if test -L "$dir" || ! test -d "$dir"; then fail "$dir (not a directory)"; fi',
  // -O: owned by the user writing (root for a root write; a user can only write its own directories).
  'if ! test -O "$dir"; then fail "$dir (not owned by root so another user could replace $target)"; fi',
  'if test -n "$(find "$dir" -maxdepth 0 -perm /022)"; then fail "$dir (writable by group or others; chmod go-w it)"; fi',
  'if test -d "$target"; then fail "$target (a directory or a link to one)"; fi',
  'tmp=$(mktemp "$dir/.$base.hastor-XXXXXX")',
  "trap 'rm -f -- \"$tmp\"' EXIT",
  'cat > "$tmp"',
  'chmod "$mode" "$tmp"',
  'sync -- "$tmp" 2>/dev/null || sync',
  'mv -f -- "$tmp" "$target"',
  'trap - EXIT',
  'sync -- "$dir" 2>/dev/null || sync',
].join('; ');

export type CommandRunner = (argv: readonly string[], options: { root: boolean; input: string }) => Promise<unknown>;

/** Replaces `path` atomically through `run` (sudo here, or a node over ssh): argv only, content on stdin. */
export async function writeFileByCommand(run: CommandRunner, path: string, content: string, options: AtomicWriteOptions & { root?: boolean }): Promise<void> {
  checkArguments(path, options.mode);
  await run(['sh', '-c', WRITE_FILE_SCRIPT, 'hastor-write', path, options.mode.toString(8)], { root: options.root ?? false, input: content });
}

/** A sudoers argument: sudo wants `\ , : =` escaped there. */
function sudoersEscape(word: string): string {
  return word.replace(/[\\,:=]/g, (c) => `\\${c}`);
}

/**
 * The sudoers command that allows exactly this write as root for an ssh user
 * (`pathPattern` and `modePattern` may use sudo's wildcards), e.g.
 * `hastor ALL=(root) NOPASSWD: ${sudoersWriteCommand('/etc/drbd.d/*', '*')}`.
 */
export function sudoersWriteCommand(pathPattern: string, modePattern: string): string {
  return ['/usr/bin/env', 'LC_ALL=C', 'sh', '-c', WRITE_FILE_SCRIPT, 'hastor-write', pathPattern, modePattern].map(sudoersEscape).join(' ');
}
