import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statusReportSchema } from '../../../src/index.js';
import { runCli } from './helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');
const sample = join(root, 'samples', 'proc-drbd-8.3-syncsource.txt');
const MiB = 1024 * 1024;

describe('hastor status --from-proc on the 8.3 sample', () => {
  it('prints the device, its states and the sync progress for humans', async () => {
    const run = await runCli(['status', '--from-proc', sample]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const [header, row] = run.stdout.split('\n');
    expect(header).toMatch(/^MINOR\s+RESOURCE\s+ROLE\s+DISK\s+CONNECTION\s+REPLICATION/);
    expect(row?.split(/\s+/).slice(0, 7)).toEqual([
      '0',
      '-',
      'Primary/Primary',
      'UpToDate/Inconsistent',
      'Connected',
      'SyncSource',
      'C',
    ]);
    expect(run.stdout).toContain('87.4%');
    expect(run.stdout).toContain('remaining 51900 MiB of 409584 MiB');
    expect(run.stdout).toContain('ETA 1347 s (0:22:27)');
    expect(run.stdout).not.toMatch(/\u001b\[/);
  });

  it('prints the JSON contract with byte counts as numbers', async () => {
    const run = await runCli(['status', '--from-proc', sample, '--json']);
    expect(run.code).toBe(0);
    const report = statusReportSchema.parse(JSON.parse(run.stdout));
    expect(report.source).toBe('proc');
    expect(report.version).toBe('8.3.2');
    expect(report.devices).toHaveLength(1);
    const device = report.devices[0]!;
    expect(device).toMatchObject({
      minor: 0,
      resource: null,
      role: 'Primary',
      peerRole: 'Primary',
      diskState: 'UpToDate',
      peerDiskState: 'Inconsistent',
      connectionState: 'Connected',
      replicationState: 'SyncSource',
      protocol: 'C',
      outOfSyncBytes: 53146012 * 1024,
    });
    expect(device.sync).toEqual({
      percent: 87.4,
      remainingBytes: 51900 * MiB,
      totalBytes: 409584 * MiB,
      etaSeconds: 1347,
      speedBytesPerSecond: 39364 * 1024,
      averageSpeedBytesPerSecond: 33888 * 1024,
      wantBytesPerSecond: null,
      stalled: false,
    });
  });

  it('colours only on a TTY and never with NO_COLOR', async () => {
    const tty = await runCli(['status', '--from-proc', sample], { tty: true, env: { TERM: 'xterm' } });
    expect(tty.stdout).toMatch(/\u001b\[3\dm/);
    const noColor = await runCli(['status', '--from-proc', sample], { tty: true, env: { TERM: 'xterm', NO_COLOR: '1' } });
    expect(noColor.stdout).not.toMatch(/\u001b\[/);
  });
});

describe('hastor status errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hastor-cli-'));

  it('garbage input: one line naming the line number, exit code 3', async () => {
    const file = join(dir, 'garbage.txt');
    writeFileSync(file, 'version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Bogus ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n');
    const run = await runCli(['status', '--from-proc', file]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^hastor: cannot parse \/proc\/drbd line 2/);
  });

  it('a missing file: exit code 3 and the path in the message', async () => {
    const run = await runCli(['status', '--from-proc', join(dir, 'nope.txt')]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('nope.txt');
  });

  it('two input files at once is a usage error (2)', async () => {
    const run = await runCli(['status', '--from-proc', sample, '--from-events2', sample]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('at most one');
  });

  it('an unknown option is a usage error (2)', async () => {
    const run = await runCli(['status', '--frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown option');
  });

  it('--help lists the options with examples and exits 0', async () => {
    const run = await runCli(['status', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--json', '--from-proc', '--from-events2', '--from-json', '--source']) expect(run.stdout).toContain(flag);
    expect(run.stdout).toContain('Examples:');
  });
});

describe('the installed bin', () => {
  const bin = join(root, 'bin', 'hastor.js');

  it('runs the compiled CLI and exits with the documented code, no stack trace', () => {
    const ok = execFileSync(process.execPath, [bin, 'status', '--from-proc', sample, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(ok).devices[0].sync.etaSeconds).toBe(1347);
    const bad = spawnSync(process.execPath, [bin, 'status', '--from-json', sample], { encoding: 'utf8' });
    expect(bad.status).toBe(3);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
