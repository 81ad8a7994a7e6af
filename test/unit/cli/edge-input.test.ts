import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statusReportSchema } from '../../../src/index.js';
import { runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hastor-edge-input-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('hastor status on hostile captures', () => {
  it('5,000 levels of JSON: a ParseError, exit 3 (was a RangeError, exit 1)', async () => {
    for (const text of ['['.repeat(5000) + ']'.repeat(5000), `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`]) {
      const run = await runCli(['status', '--from-json', file('deep.json', text)]);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/^hastor: cannot parse drbdsetup status --json line 1: JSON nested more than 256 levels deep/);
    }
  });

  it('a cluster file 5,000 levels deep: exit 3', async () => {
    const run = await runCli(['--cluster', file('deep-cluster.json', `{"nodes":[${'['.repeat(5000)}${']'.repeat(5000)}]}`), 'doctor']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('nested more than 256 levels deep');
  });

  it('--from-proc /dev/zero stops at the 64 MiB cap: exit 3 (was "Invalid string length")', async () => {
    const run = await runCli(['status', '--from-proc', '/dev/zero']);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('hastor: /dev/zero is larger than the 64 MiB hastor reads from a capture; is it the right file?\n');
  });
});

describe('hastor status on a capture with hundreds of thousands of devices', () => {
  it('prints the table of 200,000 devices', async () => {
    const parts = ['version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 059B1B470318F053F5077D5 \n'];
    for (let minor = 0; minor < 200_000; minor++) {
      parts.push(`${String(minor).padStart(2)}: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n`);
    }
    const run = await runCli(['status', '--from-proc', file('many.txt', parts.join(''))]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[200_000]).toMatch(/^199999 {2}- {9}Primary\/Secondary/);
  }, 120_000);
});

describe('hastor status on empty captures', () => {
  it.each(['--from-proc', '--from-events2', '--from-json'])('%s of an empty file: exit 3', async (option) => {
    const run = await runCli(['status', option, file('empty.txt', '')]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^hastor: cannot parse .*: empty input/);
  });
});

describe('hastor exporter on a busy port', () => {
  it('exits 10 with the address and what to do (was exit 1, "a bug")', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const run = await runCli(['exporter', '--listen', `127.0.0.1:${port}`, '--no-lvm', '--poll-interval', '1']);
      expect(run.code).toBe(10);
      expect(run.stderr).toContain(`hastor: cannot listen on 127.0.0.1:${port}: the address is already in use`);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});

describe('terminal escapes from captures are printed escaped', () => {
  const ESC = '\u001b';
  it('a resource name from status --json and a /proc/drbd version string', async () => {
    const status = [{ name: `r0${ESC}]0;owned${'\u0007'}${ESC}[2J`, role: 'Primary', suspended: false, devices: [], connections: [] }];
    const fromJson = await runCli(['status', '--from-json', file('esc.json', JSON.stringify(status))]);
    expect(fromJson.code).toBe(0);
    expect(fromJson.stdout).not.toContain(ESC);
    const fromProc = await runCli([
      'status',
      '--from-proc',
      file('esc-proc.txt', `version: 8.4.11${ESC}[8m (api:1/proto:86-101)\nsrcversion: 059B1B470318F053F5077D5 \n 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n`),
    ]);
    expect(fromProc.code).toBe(0);
    expect(fromProc.stdout).not.toContain(ESC);
    expect(fromProc.stdout).toContain('DRBD 8.4.11\\x1b[8m');
  });

  it('in an error message on stderr', async () => {
    const run = await runCli(['status', '--from-proc', join(dir, `missing${ESC}]0;owned\u0007`)]);
    expect(run.code).toBe(3);
    expect(run.stderr).not.toContain(ESC);
    expect(run.stderr).toContain('missing\\x1b]0;owned\\x07');
  });
});

describe('hastor status on a /proc/drbd with fields it does not know', () => {
  const text =
    'version: 8.3.8 (api:88/proto:86-94)\nGIT-hash: d78846e52224fd00562f7c225bcc25b2d422321d build by fixture@hastor, 2010-06-02 12:00:00\n' +
    ' 0: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r----\n' +
    '    ns:0 nr:210272 dw:210272 dr:0 al:0 bm:13 lo:1 pe:8 ua:0 ap:0 ep:1 wo:b oos:813660\n' +
    "\t[===>................] sync'ed: 20.8% (813660/1023932)K queue_delay: 0.0 ms odd: 1\u001b[2J\n" +
    '\tfinish: 0:03:45 speed: 3,616 (3,504) want: 61,440 K/sec\n';

  it('shows the status, warns on stderr (escaped), and keeps the fields in --json', async () => {
    const path = file('unknown-field.txt', text);
    const human = await runCli(['status', '--from-proc', path]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('20.8%');
    expect(human.stderr).toBe('hastor: warning: /proc/drbd line 5: unknown field "odd: 1\\x1b[2J" after the resync progress (kept in sync.extra)\n');
    const json = await runCli(['status', '--from-proc', path, '--json']);
    expect(json.code).toBe(0);
    const report = statusReportSchema.parse(JSON.parse(json.stdout));
    expect(report.devices[0]?.sync?.extra).toEqual({ queue_delay: '0.0 ms', odd: '1\u001b[2J' });
  });
});
