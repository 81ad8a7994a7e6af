import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../../src/errors.js';
import { LocalExecutor, shellQuote, SshExecutor } from '../../../src/sys/executor.js';

const dir = mkdtempSync(join(tmpdir(), 'hastor-exec-'));

/** A fake ssh that records its argv and runs the remote command with sh, as sshd would. */
function fakeSsh(): { path: string; log: string } {
  const path = join(dir, 'ssh');
  const log = join(dir, 'ssh.log');
  writeFileSync(
    path,
    `#!/bin/sh
printf '%s\\n' "$@" > ${shellQuote(log)}
# The remote command is the last argument; the remote side runs it with a shell.
for last; do :; done
exec sh -c "$last"
`,
  );
  chmodSync(path, 0o755);
  return { path, log };
}

describe('shellQuote', () => {
  it('leaves plain words alone and quotes everything else so the shell gives it back verbatim', async () => {
    expect(shellQuote('/dev/drbd0')).toBe('/dev/drbd0');
    const nasty = [`it's`, '$(reboot)', 'a b', '`x`', '"; rm -rf /', '', '\n', '*'];
    const local = new LocalExecutor();
    const { stdout } = await local.run(['sh', '-c', `printf '%s\\0' ${nasty.map(shellQuote).join(' ')}`]);
    expect(stdout.split('\0').slice(0, -1)).toEqual(nasty);
  });
});

describe('LocalExecutor', () => {
  const local = new LocalExecutor('alpha');

  it('runs argv and returns stdout', async () => {
    expect((await local.run(['printf', '%s|', 'a b', 'c'])).stdout).toBe('a b|c|');
  });

  it('tags failures with the node name', async () => {
    const error = await local.run(['sh', '-c', 'echo boom >&2; exit 3']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ node: 'alpha', exitCode: 3 });
    expect((error as Error).message).toMatch(/^alpha: .*exited with 3: boom/);
  });

  it('run passes env (with LC_ALL=C) to the command, and refuses a bad variable name', async () => {
    const { stdout } = await local.run(['sh', '-c', 'printf "%s|%s" "$CIB_file" "$LC_ALL"'], { env: { CIB_file: '/tmp/a b.xml' } });
    expect(stdout).toBe('/tmp/a b.xml|C');
    await expect(local.run(['true'], { env: { 'A B': '1' } })).rejects.toThrow(/not an environment variable name/);
  });

  it('writes files atomically with the asked mode and reads them back', async () => {
    const path = join(dir, 'sub', 'r0.res');
    await local.writeFile(path, 'resource r0 {}\n', { mode: 0o600 });
    expect(readFileSync(path, 'utf8')).toBe('resource r0 {}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await local.readFile(path)).toBe('resource r0 {}\n');
  });
});

describe('SshExecutor', () => {
  it('builds a BatchMode ssh argv with sudo -n and LC_ALL=C after it', () => {
    const ssh = new SshExecutor({ host: 'node1.example', user: 'hastor', port: 2222, controlDir: '/run/hastor' });
    expect(ssh.sshArgv(['drbdadm', 'primary', 'r 0'], true)).toEqual([
      'ssh',
      '-o', 'BatchMode=yes',
      '-o', 'ControlMaster=auto',
      '-o', 'ControlPath=/run/hastor/%C',
      '-o', 'ControlPersist=60',
      '-p', '2222',
      '-l', 'hastor',
      '--',
      'node1.example',
      "sudo -n -- env LC_ALL=C drbdadm primary 'r 0'",
    ]);
    expect(ssh.sshArgv(['true'], true).at(-1)).toBe('sudo -n -- env LC_ALL=C true');
    expect(new SshExecutor({ host: 'h', user: 'root' }).sshArgv(['true'], true).at(-1)).toBe('env LC_ALL=C true');
  });

  it('runs through the ssh binary with arguments intact, and writes files through it', async () => {
    const fake = fakeSsh();
    const ssh = new SshExecutor({ host: 'node2', ssh: fake.path }, 'node2');
    expect((await ssh.run(['printf', '%s|', "it's", '$(id)'])).stdout).toBe("it's|$(id)|");
    expect(readFileSync(fake.log, 'utf8').split('\n')).toContain('node2');
    const path = join(dir, 'remote.conf');
    await ssh.writeFile(path, 'line one\n$HOME `x`\n', { mode: 0o640 });
    expect(readFileSync(path, 'utf8')).toBe('line one\n$HOME `x`\n');
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(await ssh.readFile(path)).toBe('line one\n$HOME `x`\n');
  });

  it('spawns a long-lived remote process: its environment after sudo, its pipes through ssh', async () => {
    const ssh = new SshExecutor({ host: 'h', user: 'hastor' });
    expect(ssh.sshArgv(['lvm'], true, { LVM_REPORT_FD: '1', X: 'a b' }).at(-1)).toBe("sudo -n -- env LC_ALL=C LVM_REPORT_FD=1 'X=a b' lvm");
    expect(() => ssh.sshArgv(['lvm'], true, { 'A B': '1' })).toThrow(/not an environment variable name/);
    const fake = fakeSsh();
    const remote = new SshExecutor({ host: 'node2', ssh: fake.path }, 'node2');
    const child = remote.spawn(['sh', '-c', 'while read l; do echo "got $l $GREETING"; echo "err $l" >&2; done; exit 7'], { env: { GREETING: 'hi' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdin.write('one\n');
    child.stdin.end('two\n');
    expect(await child.ended).toEqual({ code: 7, signal: null });
    expect(out).toBe('got one hi\ngot two hi\n');
    expect(err).toBe('err one\nerr two\n');
    expect(typeof child.pid).toBe('number');
  });

  it('a spawned process that is killed, or cannot run, ends with why', async () => {
    const local = new LocalExecutor();
    const sleeper = local.spawn(['sleep', '30']);
    sleeper.kill();
    expect(await sleeper.ended).toEqual({ code: null, signal: 'SIGKILL' });
    const missing = local.spawn([join(dir, 'no-such-program')]);
    expect((await missing.ended).error).toMatch(/ENOENT/);
  });

  it('run sets env on the far side (after sudo), not on the ssh client', async () => {
    const fake = fakeSsh();
    const ssh = new SshExecutor({ host: 'node2', ssh: fake.path }, 'node2');
    expect((await ssh.run(['sh', '-c', 'printf %s "$CIB_file"'], { env: { CIB_file: '/tmp/cib.xml' } })).stdout).toBe('/tmp/cib.xml');
    expect(readFileSync(fake.log, 'utf8')).toContain("env LC_ALL=C CIB_file=/tmp/cib.xml sh -c");
  });

  it('reports a failed remote command with the node and exit code', async () => {
    const fake = fakeSsh();
    const ssh = new SshExecutor({ host: 'node2', ssh: fake.path }, 'node2');
    await expect(ssh.run(['false'])).rejects.toMatchObject({ node: 'node2', exitCode: 1 });
  });
});
