/**
 * Guest side: hastor's persistent lvm shell against the node's real lvm.
 * - bench: N `lvs` reports of --vg through the shell and N through a process each
 *   (readLvs, same argv), side by side, with the items compared;
 * - timeout: the VG's lvm lock held by this process (withLvmLocks), an `lvs` of that VG
 *   through the shell with a short timeout → CommandError, shell killed; the next command
 *   runs in a new shell;
 * - crash: the shell SIGKILLed from outside → the next command restarts it;
 * - replies: the raw report-descriptor documents of a few commands, for fixtures.
 * Prints one JSON object.
 * Usage: node lvm-shell-probe.js --vg vg_lab [--count 50] [--timeout-ms 1500]
 */
import { errorInfo, option, parseArgs, toJson } from './cli-args.js';
import { LvmShell } from '../../../src/lvm/lvm-shell.js';
import { withLvmLocks } from '../../../src/lvm/locks.js';
import { lvsArgv, readLvs } from '../../../src/lvm/report.js';
import { detectLvmVersion } from '../../../src/lvm/version.js';
import { runLocal } from '../../../src/sys/local-exec.js';

const options = parseArgs(process.argv.slice(2));
const vg = option(options, 'vg', 'vg_lab');
const count = Number(option(options, 'count', '50'));
const timeoutMs = Number(option(options, 'timeout-ms', '1500'));

const version = detectLvmVersion((await runLocal(['lvm', 'version'])).stdout);
const replies: Array<{ name: string; argv: string[]; document: string }> = [];
let recording: string | null = null;
const shell = new LvmShell({
  version,
  onReply: (argv, document) => {
    if (recording !== null) replies.push({ name: recording, argv: [...argv], document });
  },
});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};
const round = (x: number): number => Math.round(x * 10) / 10;

// First use starts the shell: timed on its own.
let t = performance.now();
const first = await readLvs({ version, exec: shell.exec, vgs: [vg] });
const startMs = performance.now() - t;
const firstPid = shell.pid;

// Side by side: the same report, alternating, so neither side gets a warmer system.
const shellMs: number[] = [];
const forkMs: number[] = [];
let same = true;
const names = (items: Array<{ name: string; sizeBytes: bigint }>) => items.map((i) => `${i.name}:${i.sizeBytes}`).join(',');
for (let i = 0; i < count; i++) {
  t = performance.now();
  const a = await readLvs({ version, exec: shell.exec, vgs: [vg] });
  shellMs.push(performance.now() - t);
  t = performance.now();
  const b = await readLvs({ version, vgs: [vg] });
  forkMs.push(performance.now() - t);
  if (names(a.items) !== names(b.items)) same = false;
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

// Raw replies for the fixtures: a report, a failed report, a change, a refused command line.
const recorded: Record<string, unknown> = {};
for (const [name, argv] of [
  ['version', ['version']],
  ['lvs', ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'lv_name,vg_name,lv_size,lv_attr', vg]],
  ['lvs-hastor', lvsArgv({ version, vgs: [vg] })],
  ['vgs-missing', ['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name', 'no_such_vg']],
  ['lvcreate', ['lvcreate', '-y', '-L', '8m', '-n', 'shellprobe', vg]],
  ['lvremove', ['lvremove', '-y', `${vg}/shellprobe`]],
  ['bad-option', ['lvs', '--no-such-option']],
] as Array<[string, readonly string[]]>) {
  recording = name;
  try {
    const r = await shell.run(argv, { okExitCodes: [0, 3, 5] });
    recorded[name] = { exitCode: r.exitCode, via: r.via };
  } catch (error) {
    recorded[name] = { error: errorInfo(error) };
  }
  recording = null;
}

// A hung command: this process holds the VG's lvm lock, so `lvs <vg>` in the shell waits on it.
const timeout = await withLvmLocks({ vgs: [vg], mode: 'exclusive', timeoutMs: 5000 }, async () => {
  const before = shell.pid;
  const started = performance.now();
  try {
    await readLvs({ version, exec: shell.exec, vgs: [vg], timeoutMs });
    return { error: null, elapsedMs: round(performance.now() - started), pidBefore: before, pidAfter: shell.pid };
  } catch (error) {
    return { error: errorInfo(error), exitCode: (error as { exitCode?: unknown }).exitCode ?? null, elapsedMs: round(performance.now() - started), pidBefore: before, pidAfter: shell.pid };
  }
});
const afterTimeout = await readLvs({ version, exec: shell.exec, vgs: [vg] });
const pidAfterRestart = shell.pid;

// A crash: the shell killed from outside while idle.
const killed = shell.pid;
if (killed !== null) process.kill(killed, 'SIGKILL');
await new Promise((resolve) => setTimeout(resolve, 200));
const afterCrash = await shell.run(['vgs', '-o', 'vg_name', vg]);
const statsBeforeClose = shell.stats;
await shell.close();

process.stdout.write(
  `${toJson({
    version: version.lvm,
    first: { items: first.items.length, startMs: round(startMs), pid: firstPid },
    bench: {
      count,
      shellTotalMs: round(sum(shellMs)),
      forkTotalMs: round(sum(forkMs)),
      shellMedianMs: round(median(shellMs)),
      forkMedianMs: round(median(forkMs)),
      sameResults: same,
    },
    recorded,
    replies,
    timeout: { ...timeout, timeoutMs, nextItems: afterTimeout.items.length, pidAfterRestart },
    crash: { killed, via: afterCrash.via, newPid: statsBeforeClose.starts, exitCode: afterCrash.exitCode },
    stats: statsBeforeClose,
  })}\n`,
);
