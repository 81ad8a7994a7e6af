import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandError, UnsafePathError } from '../../../src/errors.js';
import { sudoersWriteCommand, WRITE_FILE_SCRIPT, writeFileAtomic, writeFileByCommand } from '../../../src/sys/atomic-write.js';
import { LocalExecutor, SshExecutor, type Executor } from '../../../src/sys/executor.js';
import { asNobody, canPlayAttacker, worldWritableDir } from './helpers/as-nobody.js';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'hastor-atomic-'));

/** An ssh that runs the remote command with sh on this machine, as sshd would. */
function loopbackSsh(): SshExecutor {
  const dir = fresh();
  const path = join(dir, 'ssh');
  writeFileSync(path, '#!/bin/sh\nfor last; do :; done\nexec sh -c "$last"\n');
  chmodSync(path, 0o755);
  return new SshExecutor({ host: 'node2', user: 'root', ssh: path }, 'node2');
}

// The local write (this process) and the remote one (a fixed script through ssh) must behave alike.
const writers: Array<[string, () => Executor]> = [
  ['locally', () => new LocalExecutor('here')],
  ['through a command (ssh)', loopbackSsh],
];

describe.each(writers)('writing a file %s', (_how, make) => {
  const write = (path: string, content: string, mode: number): Promise<void> => make().writeFile(path, content, { root: true, mode });
  const refusal = async (path: string): Promise<Error> => {
    const error = await write(path, 'data\n', 0o644).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error instanceof UnsafePathError || error instanceof CommandError).toBe(true);
    return error as Error;
  };

  it('gives the file exactly the mode asked for, whatever the umask, and leaves no temp file', async () => {
    const dir = fresh();
    const path = join(dir, 'r0.res');
    await write(path, 'resource r0 {}\n', 0o666);
    expect(statSync(path).mode & 0o7777).toBe(0o666);
    await write(path, 'resource r0 { }\n', 0o600);
    expect(statSync(path).mode & 0o7777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('resource r0 { }\n');
    expect(readdirSync(dir)).toEqual(['r0.res']);
  });

  it('keeps names and content verbatim (no shell sees them)', async () => {
    const dir = join(fresh(), 'a dir $(id) `x`');
    const path = join(dir, "it's; rm -rf x.conf");
    const content = '$HOME `id` "; exit 1\n\0binary\n';
    await write(path, content, 0o644);
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('replaces a symlink at the target instead of writing through it', async () => {
    const dir = fresh();
    const elsewhere = join(fresh(), 'root-only');
    const path = join(dir, 'hastor.profile');
    symlinkSync(elsewhere, path);
    await write(path, 'new\n', 0o644);
    expect(existsSync(elsewhere)).toBe(false);
    expect(lstatSync(path).isFile()).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('new\n');
  });

  it('refuses a directory writable by group or others, and writes nothing there', async () => {
    const dir = worldWritableDir('hastor-atomic-ww-');
    const path = join(dir, 'lvm.conf');
    const error = await refusal(path);
    expect(error.message).toMatch(/writable by (its group and everyone \(mode 01777\)|group or others)/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a target that is a directory, leaving no temp file', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'x.res'));
    await expect(write(join(dir, 'x.res'), 'data\n', 0o644)).rejects.toThrow(/directory|EISDIR/);
    expect(readdirSync(dir)).toEqual(['x.res']);
  });

  it.skipIf(!canPlayAttacker)('refuses a directory another user owns (nobody made it), and writes nothing there', async () => {
    const parent = worldWritableDir('hastor-atomic-parent-');
    const dir = join(parent, 'profile');
    asNobody('mkdir "$1" && chmod 755 "$1"', dir);
    const error = await refusal(join(dir, 'hastor.profile'));
    expect(error.message).toMatch(/owned by uid \d+, not by root|not owned by root/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('writeFileAtomic', () => {
  it('checks its arguments', async () => {
    await expect(writeFileAtomic('relative.conf', 'x', { mode: 0o644 })).rejects.toThrow(TypeError);
    await expect(writeFileAtomic(join(fresh(), 'x'), 'x', { mode: 0o10000 })).rejects.toThrow(RangeError);
  });

  it('the command form passes path and mode as arguments to a fixed script, content on stdin', async () => {
    const calls: Array<{ argv: readonly string[]; root: boolean; input: string }> = [];
    await writeFileByCommand(async (argv, options) => calls.push({ argv, ...options }), '/etc/drbd.d/r0.res', 'resource r0 {}\n', { mode: 0o600, root: true });
    expect(calls).toEqual([{ argv: ['sh', '-c', WRITE_FILE_SCRIPT, 'hastor-write', '/etc/drbd.d/r0.res', '600'], root: true, input: 'resource r0 {}\n' }]);
  });
});

describe('the sudoers rule for the write script', () => {
  const docs = join(import.meta.dirname, '..', '..', '..', 'docs');

  it('docs/resources.md and docs/lvm.md give the rule for exactly the script hastor runs', () => {
    expect(readFileSync(join(docs, 'resources.md'), 'utf8')).toContain(`hastor ALL=(root) NOPASSWD: ${sudoersWriteCommand('/etc/drbd.d/*', '*')}\n`);
    expect(readFileSync(join(docs, 'lvm.md'), 'utf8')).toContain(`hastor ALL=(root) NOPASSWD: ${sudoersWriteCommand('/etc/lvm/profile/hastor-lvmshell.profile', '644')}\n`);
  });

  it('escapes what sudo needs escaped and keeps the script on one line', () => {
    const rule = sudoersWriteCommand('/etc/drbd.d/*', '*');
    expect(rule).toMatch(/^\/usr\/bin\/env LC_ALL\\=C sh -c set -eu; target\\="\$1"; /);
    expect(rule).not.toMatch(/\n|(?<!\\)[,:=]/);
  });
});
