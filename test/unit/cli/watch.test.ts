import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchEventJsonSchema } from '../../../src/cli/json-contract.js';
import { fakeBin, runCli, withPath } from './helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');
const fixture = (relative: string): string => join(root, 'test', 'fixtures', relative);
const LAB_STREAM = fixture('lab-8.4.11/events2-stream-node1.txt');
const SYNC9 = fixture('events2/drbd9-utils-sync-statistics.txt');

/**
 * A fake drbdsetup: `events2 all --statistics` prints a recorded stream and
 * stays open (as the real one does); `events2 --now` prints a snapshot, the
 * DRBD 9 sync at 37.5 % and then, derived from it, at 62.5 % and 87.5 %.
 */
function fakeDrbdsetup(stream: string): string {
  return fakeBin({
    drbdsetup: `
case "$*" in
  *--now*)
    n=$(cat "$(dirname "$0")/calls" 2>/dev/null || echo 0); echo $((n + 1)) > "$(dirname "$0")/calls"
    case $((n % 3)) in 0) d=37.50 ;; 1) d=62.50 ;; *) d=87.50 ;; esac
    sed "s/done:37.50/done:$d/" ${SYNC9} ;;
  *) cat ${stream}; exec sleep 30 ;;
esac`,
  });
}

describe('hastor watch without a terminal', () => {
  it('one line per device first, then one line per state change; --count stops it with exit 0', async () => {
    const run = await withPath(fakeDrbdsetup(LAB_STREAM), () => runCli(['watch', '--source', 'events2', '--count', '3']));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''))).toEqual([
      'r0/0 minor 0: Secondary Inconsistent/Inconsistent Connected Established',
      'r0 resource role: Secondary -> Primary',
      'r0 device volume 0 diskState: Inconsistent -> UpToDate',
    ]);
    for (const line of lines) expect(line).toMatch(/^\d\d:\d\d:\d\d /);
    expect(run.stdout).not.toMatch(/\u001b\[/);
  });

  it('--json: one event object per line, each parsed by the contract', async () => {
    const run = await withPath(fakeDrbdsetup(LAB_STREAM), () => runCli(['watch', '--source', 'events2', '--json', '--count', '4']));
    expect(run.code).toBe(0);
    const events = run.stdout.trimEnd().split('\n').map((l) => watchEventJsonSchema.parse(JSON.parse(l)));
    expect(events).toHaveLength(4);
    expect(events[0]?.changes.every((c) => c.from === null)).toBe(true);
    expect(events[0]?.status.devices[0]).toMatchObject({ resource: 'r0', diskState: 'Inconsistent' });
    expect(events.slice(1).flatMap((e) => e.changes.map((c) => `${c.field}:${c.from}->${c.to}`))).toEqual(
      expect.arrayContaining(['role:Secondary->Primary', 'diskState:Inconsistent->UpToDate']),
    );
    for (const e of events) expect(e.source).toBe('events2');
  });

  it('--timeout ends a quiet watch with exit 0', async () => {
    const started = Date.now();
    const run = await withPath(fakeDrbdsetup(LAB_STREAM), () => runCli(['watch', '--source', 'events2', '--timeout', '0.5']));
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(run.stdout.split('\n').length).toBeGreaterThan(5);
  });

  it('a source that ends is a command failure (6); bad numbers are usage errors (2)', async () => {
    const gone = fakeBin({ drbdsetup: 'echo "drbdsetup: cannot talk to the kernel" >&2; exit 20' });
    const run = await withPath(gone, () => runCli(['watch', '--source', 'events2', '--timeout', '5']));
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('cannot talk to the kernel');
    for (const args of [['--count', '0'], ['--count', '1.5'], ['--timeout', 'soon'], ['--interval', '-1']]) {
      const bad = await runCli(['watch', ...args]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(args[0] === '--count' ? /must be a positive/ : /expected a number of seconds/);
    }
  });
});

describe('hastor watch on a terminal', () => {
  it('redraws the status in place, with the progress bar, percent and ETA advancing', async () => {
    const run = await withPath(fakeDrbdsetup(SYNC9), () =>
      runCli(['watch', '--source', 'events2', '--timeout', '1.6', '--interval', '0.2'], { tty: true, env: { TERM: 'xterm' } }),
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Cursor hidden while drawing, shown again at the end.
    expect(run.stdout.startsWith('\u001b[?25l')).toBe(true);
    expect(run.stdout.endsWith('\u001b[?25h')).toBe(true);
    // Every frame after the first moves the cursor back up over the previous one, overwrites each
    // line (clearing its rest) and clears what is left below; never the whole screen.
    const frames = run.stdout.split('\r').slice(1);
    expect(frames.length).toBeGreaterThan(3);
    expect(run.stdout.match(/\u001b\[\d+A\r/g)?.length).toBe(frames.length - 1);
    for (const f of frames) expect(f).toMatch(/\u001b\[K\n\u001b\[J/);
    expect(run.stdout).not.toMatch(/\u001b\[2J|\u001b\[H/);
    const percents = frames.map((f) => /\] (\d+\.\d)%/.exec(f)?.[1]).filter((p): p is string => p !== undefined);
    expect(new Set(percents)).toEqual(new Set(['37.5', '62.5', '87.5']));
    expect(frames.some((f) => /ETA 10 s \(0:00:10\)/.test(f))).toBe(true);
    expect(frames.at(-1)).toMatch(/^\u001b\[1mhastor watch {2}\d\d:\d\d:\d\d {2}\(events2; Ctrl-C stops\)/);
  });

  it('NO_COLOR: the same live view without colour sequences', async () => {
    const run = await withPath(fakeDrbdsetup(SYNC9), () =>
      runCli(['watch', '--source', 'events2', '--timeout', '0.5', '--interval', '0.2'], { tty: true, env: { TERM: 'xterm', NO_COLOR: '1' } }),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\] \d+\.\d%/);
    expect(run.stdout).not.toMatch(/\u001b\[\d*m/);
  });
});

describe('hastor watch and SIGINT', () => {
  it('Ctrl-C (SIGINT) stops the compiled CLI with exit code 0', async () => {
    const bin = fakeDrbdsetup(LAB_STREAM);
    const child = spawn(process.execPath, [join(root, 'bin', 'hastor.js'), 'watch', '--source', 'events2'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += String(chunk);
      // Once: a second Ctrl-C during shutdown would find no handler and kill it, as it should.
      if (out.includes('\n') && !sent) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(out).toMatch(/r0\/0 minor 0: /);
  });
});
