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
  'set -eu',
  'target=$1 mode=$2',
  'fail() { echo "hastor-write: $*" >&2; exit 2; }',
  'case $target in /*) ;; *) fail "$target is not an absolute path" ;; esac',
  'dir=${target%/*}; [ -n "$dir" ] || dir=/',
  'base=${target##*/}',
  'umask 022',
  'mkdir -p -- "$dir"',
  '{ [ -d "$dir" ] && [ ! -L "$dir" ]; } || fail "$dir is not a directory"',
  'owner=$(stat -c %u -- "$dir"); perm=$(stat -c %a -- "$dir")',
  '[ "$owner" = 0 ] || [ "$owner" = "$(id -u)" ] || fail "refusing $dir: owned by uid $owner, not by root; another user could replace $target"',
  '[ $((0$perm & 022)) = 0 ] || fail "refusing $dir: writable by group or others (mode $perm); make it chmod go-w"',
  '[ ! -d "$target" ] || fail "$target is a directory (or a link to one)"',
  'tmp=$(mktemp "$dir/.$base.hastor-XXXXXX")',
  "trap 'rm -f -- \"$tmp\"' EXIT",
  'cat > "$tmp"',
  'chmod "$mode" "$tmp"',
  'sync -- "$tmp" 2>/dev/null || sync',
  'mv -f -- "$tmp" "$target"',
  'trap - EXIT',
  'sync -- "$dir" 2>/dev/null || sync',
].join('\n');

export type CommandRunner = (argv: readonly string[], options: { root: boolean; input: string }) => Promise<unknown>;

/** Replaces `path` atomically through `run` (sudo here, or a node over ssh): argv only, content on stdin. */
export async function writeFileByCommand(run: CommandRunner, path: string, content: string, options: AtomicWriteOptions & { root?: boolean }): Promise<void> {
  checkArguments(path, options.mode);
  await run(['sh', '-c', WRITE_FILE_SCRIPT, 'hastor-write', path, options.mode.toString(8)], { root: options.root ?? false, input: content });
}
