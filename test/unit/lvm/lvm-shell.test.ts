/**
 * The persistent lvm shell: its pure parts (argv to a shell line as lvm_split() reads it,
 * reply documents split out of the report descriptor's stream, the shell status read from
 * the command log) on the lab's recorded replies (test/fixtures/lab-lvm/shell-reply-*.json),
 * and LvmShell itself against a fake `lvm` on a temp dir that answers with those recorded
 * replies the way lvm 2.03.16 does (report part and log part written separately), and can
 * hang, crash or print garbage on request.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, ParseError } from '../../../src/errors.js';
import { LocalExecutor, SshExecutor, type ExecOptions, type Executor, type SpawnOptions } from '../../../src/sys/executor.js';
import { runLocal, spawnLocal } from '../../../src/sys/local-exec.js';
import {
  JsonDocumentSplitter,
  LVM_SHELL_MAX_WORDS,
  LvmShell,
  lvmShellLine,
  lvmShellProfile,
  parseShellReply,
  shellArgv,
  shellReplyProblems,
} from '../../../src/lvm/lvm-shell.js';
import { ExecutorLvmRunner, LvmRunnerPool, lvmRunnerFor, runnerOf, WarmingLvmRunner } from '../../../src/lvm/executor-runner.js';
import { lvsArgv, readLvs, readVgs } from '../../../src/lvm/report.js';
import type { LvmExec } from '../../../src/lvm/report.js';
import { detectLvmVersion } from '../../../src/lvm/version.js';
import { fixture } from './helpers.js';

const labFixture = (name: string): string => readFileSync(new URL(`../../fixtures/lab-lvm/${name}`, import.meta.url), 'utf8');
const reply = (name: string): string => labFixture(`shell-reply-${name}.json`).trim();
const version = detectLvmVersion(fixture('lab-2.03.16/lvm-version.txt'));

/** lvm2's lvm_split() (tools/lvmcmdline.c), transcribed to check lvmShellLine against. */
function lvmSplit(line: string): string[] {
  const isspace = (c: string | undefined) => c !== undefined && ' \t\n\v\f\r'.includes(c);
  const words: string[] = [];
  let b = 0;
  while (b < line.length) {
    while (b < line.length && isspace(line[b])) b++;
    if (b >= line.length || line[b] === '#') break;
    let quote: string | null = null;
    if (line[b] === "'" || line[b] === '"') quote = line[b++] as string;
    let e = b;
    while (e < line.length && (quote !== null ? line[e] !== quote : !isspace(line[e]))) e++;
    words.push(line.slice(b, e));
    if (e >= line.length) break;
    b = e + 1;
  }
  return words;
}

describe('argv for the shell', () => {
  it('drops a leading "lvm" and the per-command log setting the shell refuses (rc 3 "not allowed here")', () => {
    const argv = lvsArgv({ version, vgs: ['vg_lab'] });
    expect(argv).toContain('log/report_command_log=1');
    const words = shellArgv(argv);
    expect(words).not.toContain('--config');
    expect(words).toEqual(argv.filter((w, i) => !(w === '--config' || argv[i - 1] === '--config')));
    expect(shellArgv(['lvm', 'fullreport', '--config', 'log/report_command_log=1', '-a'])).toEqual(['fullreport', '-a']);
    // Other --config strings are the caller's and stay.
    expect(shellArgv(['vgs', '--config', 'devices/scan_lvs=1'])).toEqual(['vgs', '--config', 'devices/scan_lvs=1']);
  });

  it('quotes what lvm_split() would otherwise cut: whitespace, a leading quote or #, empty words', () => {
    expect(lvmShellLine(['pvs', '-S', 'vg_name="a" || vg_name="b"', '-o', 'pv_name'])).toBe(`pvs -S 'vg_name="a" || vg_name="b"' -o pv_name`);
    expect(lvmShellLine(['lvs', "it's here"])).toBe(`lvs "it's here"`);
    expect(lvmShellLine(['lvs', '#x', '', "'q"])).toBe(`lvs '#x' '' "'q"`);
    expect(lvmSplit(`lvs '#x' '' "'q"`)).toEqual(['lvs', '#x', '', "'q"]);
  });

  it('gives null (fork-per-call) for what no shell line can carry', () => {
    expect(lvmShellLine([])).toBeNull();
    expect(lvmShellLine(['lvs', 'a\nb'])).toBeNull();
    expect(lvmShellLine(['lvs', 'tab\there'])).toBeNull();
    expect(lvmShellLine(['lvs', `both ' and "`])).toBeNull();
    expect(lvmShellLine(Array.from({ length: LVM_SHELL_MAX_WORDS + 1 }, () => 'x'))).toBeNull();
    expect(lvmShellLine(Array.from({ length: LVM_SHELL_MAX_WORDS }, () => 'x'))).not.toBeNull();
  });

  it('property: whenever a line is produced, lvm_split() reads back exactly the argv', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', "'", '"', '#', '|', '=', '-', '/', '\t', '\n', 'é'), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), (argv) => {
        const line = lvmShellLine(argv);
        if (line !== null) expect(lvmSplit(line)).toEqual(argv);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('reply documents on the report descriptor', () => {
  const docs = ['version', 'lvs', 'lvs-hastor', 'vgs-missing', 'lvcreate', 'lvremove', 'bad-option'].map(reply);

  it('the splitter finds each document however the stream is chunked (lvm writes report and log apart)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 60 }), (cuts) => {
        const stream = docs.map((d) => `  ${d}\n`).join('');
        const splitter = new JsonDocumentSplitter();
        const out: string[] = [];
        let at = 0;
        for (const cut of cuts) {
          out.push(...splitter.push(stream.slice(at, at + cut)));
          at += cut;
          if (at >= stream.length) break;
        }
        if (at < stream.length) out.push(...splitter.push(stream.slice(at)));
        expect(out).toEqual(docs);
        expect(splitter.pending).toBe('');
      }),
      { numRuns: 300 },
    );
  });

  it('braces inside strings do not end a document; text between documents is a ParseError', () => {
    const splitter = new JsonDocumentSplitter();
    expect(splitter.push('{"log": [{"log_message": "a } \\" { ]"}')).toEqual([]);
    expect(splitter.pending).toContain('a }');
    expect(splitter.push(']}\n')).toEqual(['{"log": [{"log_message": "a } \\" { ]"}]}']);
    expect(() => splitter.push('  lvm> ')).toThrow(ParseError);
  });

  it('reads the exit code from the shell status entry: 0, 5 (failed object), 3 (bad command line)', () => {
    expect(parseShellReply(reply('lvs'))).toMatchObject({ exitCode: 0, hasReport: true });
    const missing = parseShellReply(reply('vgs-missing'));
    expect(missing).toMatchObject({ exitCode: 5, hasReport: true });
    expect(shellReplyProblems(missing.log)).toEqual(['Volume group "no_such_vg" not found', 'Cannot process volume group no_such_vg']);
    const created = parseShellReply(reply('lvcreate'));
    expect(created).toMatchObject({ exitCode: 0, hasReport: false });
    expect(created.log.filter((e) => e.type === 'print').map((e) => e.message)).toEqual(['Logical volume "shellprobe" created.']);
    const bad = parseShellReply(reply('bad-option'));
    expect(bad.exitCode).toBe(3);
    expect(shellReplyProblems(bad.log)).toEqual(['Error during parsing of command line.']);
    const ver = parseShellReply(reply('version'));
    expect(detectLvmVersion(ver.log.filter((e) => e.type === 'print').map((e) => `  ${e.message}`).join('\n')).lvm).toBe('2.03.16');
  });

  it('a reply without the status entry or without a log is a ParseError; any text gives a reply or a ParseError, never another exception', () => {
    expect(() => parseShellReply('{"log": []}')).toThrow(/no shell status entry/);
    expect(() => parseShellReply('{"report": []}')).toThrow(/no "log" section/);
    expect(() => parseShellReply('[1]')).toThrow(ParseError);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.constantFrom(...docs).map((d) => d.slice(0, d.length / 2))), (text) => {
        try {
          parseShellReply(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the profile sets what the shell cannot take per command', () => {
    const profile = lvmShellProfile('json');
    expect(profile).toMatch(/output_format = "json"\n/);
    expect(profile).toMatch(/report_command_log = 1\n/);
    expect(profile).toContain('command_log_selection = "log_context=shell || !(log_type=status && message=success)"');
    expect(lvmShellProfile('json_std')).toMatch(/output_format = "json_std"\n/);
  });
});

// ---------------------------------------------------------------- a fake lvm

const FAKE_LVM = `
const fs = require('node:fs');
const env = process.env;
const args = process.argv.slice(2);
const log = (line) => fs.appendFileSync(env.FAKE_LOG, line + '\\n');
if (args.length > 0) { log('fork: ' + args.join(' ')); process.stdout.write('forked ' + args.join(' ') + '\\n'); process.exit(0); }
log('start profile=' + env.LVM_COMMAND_PROFILE + ' fd=' + env.LVM_REPORT_FD + ' LC_ALL=' + env.LC_ALL + ' extra=' + (env.FAKE_EXTRA || ''));
const profile = env.FAKE_PROFILE_DIR + '/' + env.LVM_COMMAND_PROFILE + '.profile';
if (!fs.existsSync(profile) || !/report_command_log = 1/.test(fs.readFileSync(profile, 'utf8'))) {
  process.stderr.write('  ' + profile + ': stat failed: No such file or directory\\n  Failed to apply command profile.\\n');
  process.exit(5);
}
const fd = Number(env.LVM_REPORT_FD);
const replies = JSON.parse(fs.readFileSync(env.FAKE_REPLIES, 'utf8'));
const write = (text) => fs.writeSync(fd, text);
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf('\\n')) >= 0) { const line = buffer.slice(0, nl); buffer = buffer.slice(nl + 1); handle(line); }
});
process.stdin.on('end', () => process.exit(0));
function handle(line) {
  log('line: ' + line);
  let cmd = line.split(' ')[0];
  if (cmd === 'lvs' && line.includes('lv_uuid')) cmd = 'lvs-hastor';
  if (cmd === 'exit') { write('  {\\n      "log": [\\n      ]\\n  }\\n'); process.exit(0); }
  if (cmd === 'hang') return;
  if (cmd === 'crash') { process.stderr.write('  Internal error: fake crash\\n'); process.exit(139); }
  if (cmd === 'garbage') { write('lvm> not json\\n'); return; }
  if (cmd === 'nostatus') { write('  {\\n      "log": [\\n      ]\\n  }\\n'); return; }
  if (cmd === 'warn') process.stderr.write('  WARNING: fake warning on stderr\\n');
  const doc = replies[cmd] || replies['bad-option'];
  const cut = doc.indexOf('"log"');
  write('  ' + doc.slice(0, cut));
  setTimeout(() => write(doc.slice(cut) + '\\n'), 20);
}
`;

let dir: string;
let lvm: string;
let profileDir: string;
let logFile: string;

function fakeLog(): string[] {
  return existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n') : [];
}

function newShell(options: Partial<ConstructorParameters<typeof LvmShell>[0]> = {}): LvmShell {
  return new LvmShell({
    version,
    lvm,
    profileDir,
    env: { FAKE_LOG: logFile, FAKE_PROFILE_DIR: profileDir, FAKE_REPLIES: join(dir, 'replies.json') },
    fallback: async (argv) => ({ stdout: `fallback ${argv.join(' ')}\n`, stderr: '', exitCode: 0 }),
    ...options,
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hastor-lvm-shell-'));
  profileDir = join(dir, 'profile');
  logFile = join(dir, 'fake.log');
  writeFileSync(join(dir, 'fake-lvm.cjs'), FAKE_LVM);
  lvm = join(dir, 'lvm');
  writeFileSync(lvm, `#!/bin/sh\nexec "${process.execPath}" "${join(dir, 'fake-lvm.cjs')}" "$@"\n`);
  chmodSync(lvm, 0o755);
  const replies = Object.fromEntries(['version', 'lvs', 'lvs-hastor', 'vgs-missing', 'lvcreate', 'bad-option'].map((n) => [n === 'vgs-missing' ? 'vgs' : n, reply(n)]));
  replies['warn'] = reply('lvremove');
  writeFileSync(join(dir, 'replies.json'), JSON.stringify(replies));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('LvmShell against a fake lvm', () => {
  it('writes its profile, starts one shell with LVM_REPORT_FD and LC_ALL=C, and answers reports through it', async () => {
    rmSync(logFile, { force: true });
    const shell = newShell({ env: { FAKE_LOG: logFile, FAKE_PROFILE_DIR: profileDir, FAKE_REPLIES: join(dir, 'replies.json'), FAKE_EXTRA: 'yes' } });
    try {
      const lvs = await readLvs({ version, exec: shell.exec, vgs: ['vg_lab'] });
      expect(lvs).toMatchObject({ complete: true, exitCode: 0, problems: [] });
      expect(lvs.items.map((l) => [l.name, l.vgName, l.sizeBytes, l.active])).toEqual([
        ['r0_disk', 'vg_lab', 400n * 2n ** 20n, true],
        ['r1_disk', 'vg_lab', 32n * 2n ** 20n, true],
      ]);
      expect(shell.stats).toMatchObject({ starts: 1, shellCommands: 1 });
    } finally {
      await shell.close();
    }
    expect(readFileSync(join(profileDir, 'hastor-lvmshell.profile'), 'utf8')).toBe(lvmShellProfile('json'));
    const log = fakeLog();
    expect(log[0]).toBe('start profile=hastor-lvmshell fd=1 LC_ALL=C extra=yes');
    expect(log[1]).toBe('line: version');
    expect(log[2]).toMatch(/^line: lvs --reportformat json --units b --nosuffix -o lv_uuid,.* vg_lab$/);
    expect(log[2]).not.toContain('report_command_log');
  });

  it('run(): the reply document as stdout, exit codes from the log, CommandError unless allowed', async () => {
    const shell = newShell();
    try {
      const ok = await shell.run(['lvs', '-o', 'lv_name']);
      expect(ok).toMatchObject({ via: 'shell', exitCode: 0, stderr: '' });
      expect(ok.stdout).toBe(reply('lvs'));
      expect(ok.log?.at(-1)).toMatchObject({ context: 'shell', type: 'status', retCode: 1 });

      const allowed = await shell.run(['vgs', 'no_such_vg'], { okExitCodes: [0, 5] });
      expect(allowed.exitCode).toBe(5);
      const refused = await shell.run(['vgs', 'no_such_vg']).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(CommandError);
      expect(refused).toMatchObject({ exitCode: 5, argv: ['vgs', 'no_such_vg'] });
      expect((refused as CommandError).message).toBe('vgs no_such_vg: exited with 5: Volume group "no_such_vg" not found; Cannot process volume group no_such_vg');
      await expect(shell.run(['vgchange', '--no-such-option'])).rejects.toMatchObject({ exitCode: 3, message: 'vgchange --no-such-option: exited with 3: Error during parsing of command line.' });

      // readVgs through the shell: exit 5 with a valid report is a partial report, as with fork-per-call.
      const vgs = await readVgs({ version, exec: shell.exec, vgs: ['no_such_vg'] }).catch((e: unknown) => e);
      expect(vgs).toMatchObject({ items: [], complete: false, exitCode: 5, problems: ['vg no_such_vg: Volume group "no_such_vg" not found', 'vg no_such_vg: Cannot process volume group no_such_vg'] });

      // stderr written during the command comes with its result.
      const warned = await shell.run(['warn']);
      expect(warned.stderr).toBe('  WARNING: fake warning on stderr\n');
      expect(shell.stats).toMatchObject({ starts: 1, shellCommands: 6, forkCommands: 0 });
    } finally {
      await shell.close();
    }
  });

  it('commands run one at a time in call order', async () => {
    rmSync(logFile, { force: true });
    const shell = newShell();
    try {
      const results = await Promise.all([shell.run(['lvs', '-o', 'a']), shell.run(['lvcreate', '-n', 'b']), shell.run(['lvs', '-o', 'c'])]);
      expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
      expect(fakeLog().filter((l) => l.startsWith('line: ') && l !== 'line: version')).toEqual(['line: lvs -o a', 'line: lvcreate -n b', 'line: lvs -o c']);
    } finally {
      await shell.close();
    }
  });

  it('a hung command: CommandError at the timeout, the shell killed, the next command in a new shell', async () => {
    const shell = newShell();
    try {
      await shell.run(['lvs']);
      const first = shell.pid;
      const started = Date.now();
      const error = await shell.run(['hang', 'now'], { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(error).toBeInstanceOf(CommandError);
      expect(error).toMatchObject({ exitCode: null, argv: ['hang', 'now'] });
      expect((error as Error).message).toBe('lvm shell: hang now: timed out after 300 ms; the shell was killed and restarts with the next command');
      expect(shell.pid).toBeNull();
      expect((await shell.run(['lvs'])).via).toBe('shell');
      expect(shell.pid).not.toBe(first);
      expect(shell.stats).toMatchObject({ starts: 2, timeouts: 1, crashes: 0 });
    } finally {
      await shell.close();
    }
  });

  it('a shell that dies: the running command fails with what lvm said, the next one restarts it', async () => {
    const shell = newShell();
    try {
      await shell.run(['lvs']);
      const error = await shell.run(['crash']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandError);
      expect((error as Error).message).toBe('lvm shell exited with 139 while running crash: Internal error: fake crash');
      expect((await shell.run(['lvs'])).via).toBe('shell');
      // Killed from outside while idle.
      process.kill(shell.pid as number, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(shell.pid).toBeNull();
      expect((await shell.run(['lvs'])).exitCode).toBe(0);
      expect(shell.stats).toMatchObject({ starts: 3, crashes: 2 });
    } finally {
      await shell.close();
    }
  });

  it('a reply that is not JSON or has no status: CommandError, and a fresh shell next time', async () => {
    const shell = newShell();
    try {
      const garbage = await shell.run(['garbage']).catch((e: unknown) => e);
      expect(garbage).toBeInstanceOf(CommandError);
      expect((garbage as CommandError).cause).toBeInstanceOf(ParseError);
      expect((await shell.run(['lvs'])).via).toBe('shell');
      const nostatus = await shell.run(['nostatus']).catch((e: unknown) => e);
      expect((nostatus as Error).message).toMatch(/^lvm shell: nostatus: unreadable reply: .*no shell status entry/);
      expect((await shell.run(['lvs'])).exitCode).toBe(0);
      expect(shell.stats.starts).toBe(3);
    } finally {
      await shell.close();
    }
  });

  it('falls back to a process per command when the shell cannot start, for good after two failures', async () => {
    const calls: string[][] = [];
    const fallback: LvmExec = async (argv) => {
      calls.push([...argv]);
      return { stdout: 'forked\n', stderr: '', exitCode: 0 };
    };
    // A profile dir that cannot be created (a file is in the way).
    writeFileSync(join(dir, 'not-a-dir'), '');
    const shell = newShell({ profileDir: join(dir, 'not-a-dir', 'profile'), fallback });
    const a = await shell.run(['lvs', '--config', 'log/report_command_log=1']);
    expect(a).toMatchObject({ via: 'fork', stdout: 'forked\n', log: null });
    expect(shell.fallbackReason).toBeNull();
    await shell.run(['lvm', 'vgs']);
    expect(shell.fallbackReason).toMatch(/^the lvm shell failed to start 2 times: /);
    await shell.run(['pvs']);
    // Fork-per-call keeps the argv as given (the per-command log setting is fine there).
    expect(calls).toEqual([
      ['lvm', 'lvs', '--config', 'log/report_command_log=1'],
      ['lvm', 'vgs'],
      ['lvm', 'pvs'],
    ]);
    expect(shell.stats).toMatchObject({ starts: 0, startFailures: 2, forkCommands: 3, shellCommands: 0 });
  });

  it('falls back when lvm is missing or dies at start (e.g. its profile refused)', async () => {
    const missing = newShell({ lvm: join(dir, 'no-such-lvm'), maxStartFailures: 1 });
    expect((await missing.run(['lvs'])).via).toBe('fork');
    expect(missing.fallbackReason).toMatch(/cannot run .*no-such-lvm|exited/);

    // The fake refuses a profile without the command log, as lvm refuses an unknown profile.
    writeFileSync(join(profileDir, 'broken.profile'), 'report {}\n');
    const refusing = newShell({ profileName: 'broken', profileDir: join(dir, 'elsewhere'), env: { FAKE_LOG: logFile, FAKE_PROFILE_DIR: profileDir, FAKE_REPLIES: join(dir, 'replies.json') }, maxStartFailures: 1 });
    expect((await refusing.run(['lvs'])).via).toBe('fork');
    expect(refusing.fallbackReason).toMatch(/lvm shell exited with 5 at start: .*stat failed/);
  });

  it('a command no shell line can carry runs as its own process; the shell stays', async () => {
    const shell = newShell();
    try {
      await shell.run(['lvs']);
      const pid = shell.pid;
      const odd = await shell.run(['lvs', '-S', `lv_name="it's here"`]);
      expect(odd).toMatchObject({ via: 'fork', stdout: `fallback lvm lvs -S lv_name="it's here"\n` });
      expect(shell.pid).toBe(pid);
      expect(shell.fallbackReason).toBeNull();
    } finally {
      await shell.close();
    }
  });

  it('lvm older than 2.02.158 (no command log): fork-per-call without trying a shell', async () => {
    const old = detectLvmVersion('  LVM version:     2.02.98(2) (2012-10-15)\n');
    const shell = newShell({ version: old });
    expect((await shell.run(['lvs'])).via).toBe('fork');
    expect(shell.fallbackReason).toBe('lvm2 2.02.98 has no command log report (needs 2.02.158)');
    expect(shell.stats.starts).toBe(0);
  });

  it('close() ends the shell; a later command starts a new one', async () => {
    const shell = newShell();
    await shell.run(['lvs']);
    const pid = shell.pid as number;
    await shell.close();
    expect(shell.pid).toBeNull();
    expect(() => process.kill(pid, 0)).toThrow();
    expect((await shell.run(['lvs'])).via).toBe('shell');
    await shell.close();
  });
});

describe('runners for a node', () => {
  class Recorder implements Executor {
    readonly node = 'n1';
    readonly calls: Array<{ argv: string[]; options: ExecOptions }> = [];
    async run(argv: readonly string[], options: ExecOptions = {}) {
      this.calls.push({ argv: [...argv], options });
      return { stdout: reply('lvs-hastor'), stderr: '', exitCode: 0 };
    }
    async readFile(): Promise<string> {
      return '';
    }
    async writeFile(): Promise<void> {}
  }

  it('fork-per-call through the executor, as root, with the timeout and exit codes asked for', async () => {
    const executor = new Recorder();
    const runner = new ExecutorLvmRunner(executor);
    const result = await runner.run(['lvchange', '-an', 'vg/lv'], { timeoutMs: 5000, okExitCodes: [0, 5] });
    expect(result).toMatchObject({ via: 'fork', log: null, exitCode: 0, argv: ['lvchange', '-an', 'vg/lv'] });
    const lvs = await readLvs({ version, exec: runner.exec, vgs: ['vg_lab'] });
    expect(lvs.items).toHaveLength(2);
    expect(executor.calls.map((c) => [c.argv[0], c.options.root])).toEqual([
      ['lvchange', true],
      ['lvs', true],
    ]);
    expect(executor.calls[0]?.options).toEqual({ root: true, timeoutMs: 5000, okExitCodes: [0, 5] });
    expect(runnerOf(executor)).toBeInstanceOf(ExecutorLvmRunner);
    expect(runnerOf(executor, runner)).toBe(runner);
  });

  it('the shell only when asked, and wherever the executor can keep a process (local, ssh); else fork', async () => {
    const local = lvmRunnerFor(new LocalExecutor(), { shell: { lvm, profileDir } });
    expect(local).toBeInstanceOf(LvmShell);
    await local.close();
    expect(lvmRunnerFor(new LocalExecutor())).toBeInstanceOf(ExecutorLvmRunner);
    const ssh = lvmRunnerFor(new SshExecutor({ host: 'node2' }), { shell: true });
    expect(ssh).toBeInstanceOf(LvmShell);
    expect(ssh.node).toBe('node2');
    const noSpawn: Executor = { node: 'n', run: async () => ({ stdout: '', stderr: '', exitCode: 0 }), readFile: async () => '', writeFile: async () => undefined };
    expect(lvmRunnerFor(noSpawn, { shell: true })).toBeInstanceOf(ExecutorLvmRunner);
  });
});

/** A node as hastor sees it through an Executor (here: this machine), recording what the shell asks of it. */
class RecordingSpawnExecutor implements Executor {
  readonly node = 'node9';
  readonly spawns: Array<{ argv: readonly string[]; options: SpawnOptions | undefined }> = [];
  readonly writes: Array<{ path: string; root: boolean | undefined; mode: number | undefined }> = [];
  readonly reads: string[] = [];

  run(argv: readonly string[], options: ExecOptions = {}) {
    return runLocal(argv, options);
  }

  async readFile(path: string): Promise<string> {
    this.reads.push(path);
    return readFileSync(path, 'utf8');
  }

  async writeFile(path: string, content: string, options: { root?: boolean; mode?: number } = {}): Promise<void> {
    this.writes.push({ path, root: options.root, mode: options.mode });
    writeFileSync(path, content);
  }

  spawn(argv: readonly string[], options?: SpawnOptions) {
    this.spawns.push({ argv, options });
    return spawnLocal(argv, options?.env);
  }
}

describe('LvmShell through an executor (a remote node)', () => {
  it('spawns lvm as root there with the report on stdout, writes the profile there only when it differs', async () => {
    const remoteProfiles = mkdtempSync(join(tmpdir(), 'hastor-remote-profile-'));
    const executor = new RecordingSpawnExecutor();
    const env = { FAKE_LOG: logFile, FAKE_PROFILE_DIR: remoteProfiles, FAKE_REPLIES: join(dir, 'replies.json') };
    try {
      rmSync(logFile, { force: true });
      const shell = new LvmShell({ executor, version, lvm, profileDir: remoteProfiles, env, fallback: async () => ({ stdout: 'forked', stderr: '', exitCode: 0 }) });
      const lvs = await readLvs({ version, exec: shell.exec, vgs: ['vg_lab'] });
      expect(lvs.items.map((l) => l.name)).toEqual(['r0_disk', 'r1_disk']);
      expect(shell.node).toBe('node9');
      expect(shell.stats).toMatchObject({ starts: 1, shellCommands: 1, forkCommands: 0 });
      await shell.close();
      expect(executor.spawns).toEqual([
        {
          argv: [lvm],
          options: {
            root: true,
            env: { LVM_REPORT_FD: '1', LVM_COMMAND_PROFILE: 'hastor-lvmshell', LVM_LOG_FILE_MAX_LINES: '0', LVM_SUPPRESS_FD_WARNINGS: '1', ...env },
          },
        },
      ]);
      const profile = join(remoteProfiles, 'hastor-lvmshell.profile');
      // Through the executor's atomic root write, with an explicit mode (issue 15): lvm reads it as root, nobody else writes it.
      expect(executor.writes).toEqual([{ path: profile, root: true, mode: 0o644 }]);
      expect(readFileSync(profile, 'utf8')).toBe(lvmShellProfile('json'));
      expect(fakeLog()[0]).toBe('start profile=hastor-lvmshell fd=1 LC_ALL=C extra=');

      // Another shell on the same node: the profile is known good, no round trip for it.
      const again = new LvmShell({ executor, version, lvm, profileDir: remoteProfiles, env });
      expect((await again.run(['lvs'])).via).toBe('shell');
      await again.close();
      expect(executor.writes).toHaveLength(1);
      expect(executor.reads).toEqual([profile]);
      // A node this process has not checked finds the profile as it should be: read, not written.
      const other = new RecordingSpawnExecutor();
      const third = new LvmShell({ executor: other, version, lvm, profileDir: remoteProfiles, env });
      expect((await third.run(['lvs'])).via).toBe('shell');
      await third.close();
      expect(other.reads).toEqual([profile]);
      expect(other.writes).toEqual([]);
    } finally {
      rmSync(remoteProfiles, { recursive: true, force: true });
    }
  });

  it('warming in the background: forks until the shell, started by warmNow(), is up; then the shell', async () => {
    class ForkRecorder extends RecordingSpawnExecutor {
      readonly forks: string[][] = [];
      override async run(argv: readonly string[]) {
        this.forks.push([...argv]);
        return { stdout: 'forked\n', stderr: '', exitCode: 0 };
      }
    }
    const env = { FAKE_LOG: logFile, FAKE_PROFILE_DIR: profileDir, FAKE_REPLIES: join(dir, 'replies.json') };
    const executor = new ForkRecorder();
    const runner = lvmRunnerFor(executor, { shell: { version, lvm, profileDir, env }, background: true }) as WarmingLvmRunner;
    expect(runner).toBeInstanceOf(WarmingLvmRunner);
    expect(runner.warming).toBeNull();
    expect(await runner.run(['vgs'])).toMatchObject({ via: 'fork', stdout: 'forked\n' });
    // A command does not start the shell behind the caller's back.
    expect(runner.warming).toBeNull();
    expect(executor.spawns).toHaveLength(0);
    runner.warmNow();
    expect(await runner.warming).toBe(true);
    expect(executor.spawns).toHaveLength(1);
    const lvs = await readLvs({ version, exec: runner.exec, vgs: ['vg_lab'] });
    expect(lvs.items.map((l) => l.name)).toEqual(['r0_disk', 'r1_disk']);
    expect(executor.forks).toEqual([['vgs']]);
    expect(runner.shell.stats).toMatchObject({ starts: 1, shellCommands: 1 });
    await runner.close();

    // A shell that cannot start leaves every command forking.
    const refused = new ForkRecorder();
    const never = lvmRunnerFor(refused, { shell: { version, lvm: join(dir, 'no-such-lvm'), profileDir, env, maxStartFailures: 1 }, background: true }) as WarmingLvmRunner;
    await never.run(['vgs']);
    never.warmNow();
    expect(await never.warming).toBe(false);
    await never.run(['lvs']);
    expect(refused.forks).toEqual([['vgs'], ['lvs']]);
    await never.close();
  });

  it('a pool warms a node ahead: the first command waits for the start under way instead of forking; a node not warmed forks; one runner per node', async () => {
    const env = { FAKE_LOG: logFile, FAKE_PROFILE_DIR: profileDir, FAKE_REPLIES: join(dir, 'replies.json') };
    class Node extends RecordingSpawnExecutor {
      readonly forks: string[][] = [];
      override async run(argv: readonly string[]) {
        this.forks.push([...argv]);
        return { stdout: 'forked\n', stderr: '', exitCode: 0 };
      }
    }
    const node = new Node();
    const pool = new LvmRunnerPool({ version, lvm, profileDir, env });
    pool.warm(node);
    const runner = pool.runner(node);
    expect(pool.runner(node)).toBe(runner);
    const lvs = await readLvs({ version, exec: runner.exec, vgs: ['vg_lab'] });
    expect(lvs.items.map((l) => l.name)).toEqual(['r0_disk', 'r1_disk']);
    expect(node.forks).toEqual([]);
    expect(node.spawns).toHaveLength(1);
    // A node the pool was not asked to warm forks, and no read starts its shell behind the caller's back.
    const cold = new Node();
    const coldRunner = pool.runner(cold);
    await coldRunner.run(['vgs']);
    await coldRunner.run(['lvs']);
    expect(cold.forks).toEqual([['vgs'], ['lvs']]);
    expect(cold.spawns).toHaveLength(0);
    await pool.close();
    // Without the shell: the same pool hands out fork-per-call runners, and warm() does nothing.
    const forkOnly = new LvmRunnerPool(false);
    forkOnly.warm(node);
    expect(forkOnly.runner(node)).toBeInstanceOf(ExecutorLvmRunner);
    expect(node.spawns).toHaveLength(1);
  });

  it('falls back to one process per command when the far side refuses the shell (sudo -n without a rule)', async () => {
    const executor = new RecordingSpawnExecutor();
    const refusing = join(dir, 'sudo-refuses');
    writeFileSync(refusing, '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n');
    chmodSync(refusing, 0o755);
    const forks: string[][] = [];
    const shell = new LvmShell({ executor, version, lvm: refusing, profileDir, maxStartFailures: 1, fallback: async (argv) => (forks.push([...argv]), { stdout: 'forked\n', stderr: '', exitCode: 0 }) });
    const result = await shell.run(['vgs']);
    expect(result).toMatchObject({ via: 'fork', stdout: 'forked\n' });
    expect(forks).toEqual([['lvm', 'vgs']]);
    expect(shell.fallbackReason).toMatch(/exited with 1 at start: sudo: a password is required/);
    await shell.close();
  });
});
