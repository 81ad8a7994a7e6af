/**
 * Issue 7, the exporter on real kernels, one 2-node lab, three parts:
 *  1. promtool: the alert rules check and pass their unit tests; hastor's
 *     exporter runs inside node1 (the compiled code, the host's node) and a
 *     real scrape passes `promtool check metrics`.
 *  2. A real Prometheus server inside node1 (Debian's package, loopback only,
 *     1 s scrapes, tsdb under /tmp) scrapes it while r0's initial sync runs at
 *     a slow fixed rate; its query API returns the sync percent, rising.
 *  3. As an unprivileged user (nobody, no capabilities): the exporter still
 *     follows DRBD over netlink (8.4's GET_STATUS and the events group need no
 *     CAP_NET_ADMIN); lvm refuses. SIGTERM ends both exporters cleanly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connected, createLv, createVg, defineResource, loadModules, resource, secondsSince, waitForProc } from './drbd-scenario.js';
import { startLab, type Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';
import { distPath, GUEST_NODE, projectRoot, unprivilegedDistPath } from './harness/paths.js';

const fileStart = Date.now();
const log = (line: string) => console.log(`[lab +${secondsSince(fileStart)}] ${line}`);

// 128 MiB at 2 MB/s: the sync runs ~60 s, long enough for a dozen 1 s scrapes.
const R0 = resource('r0', 0, 128, '2M');
const EXPORTER = '127.0.0.1:9942';
const EXPORTER_NOBODY = '127.0.0.1:9943';
const PROMETHEUS = '127.0.0.1:9090';
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];

let lab: Lab | undefined;
let node1: LabNode;
const guestPids: number[] = [];

interface Line {
  event: string;
  [key: string]: unknown;
}

function lines(path: string): Line[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

async function waitForLine(path: string, event: string, timeoutMs = 60_000): Promise<Line> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = lines(path).find((l) => l.event === event);
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`no "${event}" line in ${path} within ${timeoutMs} ms:\n${existsSync(path) ? readFileSync(path, 'utf8').slice(-3000) : '(no file)'}`);
}

async function startExporterIn(node: LabNode, listen: string, name: string, extra: string[] = [], prefix: string[] = []): Promise<{ out: string; pid: number; listening: Line }> {
  const out = join(node.nodeDir, `${name}.out`);
  // An unprivileged exporter runs the checkout through the guest's view it can read.
  const script = prefix.length === 0 ? distPath('guest', 'exporter-run.js') : unprivilegedDistPath('guest', 'exporter-run.js');
  const pid = await node.spawnBackground([...prefix, GUEST_NODE, script, '--listen', listen, ...extra], { stdoutPath: out });
  guestPids.push(pid);
  return { out, pid, listening: await waitForLine(out, 'listening') };
}

const curl = async (node: LabNode, url: string): Promise<string> => (await node.execOk(['curl', '-sS', '--fail', '--max-time', '10', url])).stdout;

beforeAll(async () => {
  lab = await startLab({ nodes: 2, name: `exporter-${process.pid}` });
  node1 = lab.node('node1');
  await loadModules(lab.nodes);
  await Promise.all(
    lab.nodes.map(async (n) => {
      await createVg(n);
      await createLv(n, R0);
    }),
  );
  await defineResource(lab.nodes, R0);
  await Promise.all(lab.nodes.map((n) => waitForProc(n, 0, connected, 'Connected')));
  log('r0 connected, both Inconsistent; sync not started yet');
});

afterAll(async () => {
  if (lab) {
    // The guests go down with the lab; stop ours first so their ends are clean.
    for (const pid of guestPids) await lab.nodes[0]?.exec(['kill', '-TERM', String(pid)]).catch(() => undefined);
    await lab.stop();
  }
  log('done');
});

describe('part 1: promtool', () => {
  it('the alert rules pass promtool check rules and promtool test rules', () => {
    const dir = join(projectRoot(), 'contrib', 'prometheus');
    const check = execFileSync('promtool', ['check', 'rules', 'hastor-alerts.yml'], { cwd: dir, encoding: 'utf8' });
    expect(check).toMatch(/SUCCESS: \d+ rules found/);
    const test = execFileSync('promtool', ['test', 'rules', 'hastor-alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(test).toMatch(/SUCCESS/);
  });

  it('the exporter runs in node1 on netlink; a real scrape passes promtool check metrics', async () => {
    const { listening } = await startExporterIn(node1, EXPORTER, 'exporter-root', ['--lvm-interval', '2']);
    expect(listening).toMatchObject({ url: `http://${EXPORTER}`, uid: 0, health: { ok: true, drbd: { mode: 'netlink', source: 'netlink', resources: 1 } } });
    const health = JSON.parse(await curl(node1, `http://${EXPORTER}/healthz`)) as { ok: boolean; drbd: { source: string }; lvm: { enabled: boolean } };
    expect(health).toMatchObject({ ok: true, drbd: { source: 'netlink' }, lvm: { enabled: true } });
    // The LVM side arrives with the first refresh (lvm shell, not per scrape).
    let metrics = '';
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !/hastor_lvm_vg_size_bytes\{vg="vg_lab",tier="1"\} \d+/.test(metrics)) {
      metrics = await curl(node1, `http://${EXPORTER}/metrics`);
      await sleep(500);
    }
    expect(metrics).toMatch(/^drbd_resource_resources 1$/m);
    expect(metrics).toMatch(/^drbd_resource_role\{name="r0",drbd_resource_role="Secondary"\} 1$/m);
    expect(metrics).toMatch(/^drbd_device_state\{name="r0",volume="0",minor="0",drbd_device_state="Inconsistent"\} 1$/m);
    expect(metrics).toMatch(/^drbd_version\{kmod="8\.4\.11",utils="9\.\d+\.\d+"\} 1$/m);
    expect(metrics).toMatch(/^hastor_lvm_vg_size_bytes\{vg="vg_lab",tier="1"\} \d+$/m);
    expect(metrics).toMatch(/^hastor_lvm_lv_size_bytes\{vg="vg_lab",lv="r0_disk",tier="1"\} 134217728$/m);
    const check = await node1.exec(['/bin/sh', '-c', `curl -sS --fail http://${EXPORTER}/metrics | promtool check metrics`]);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.exitCode).toBe(0);
    expect((await node1.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${EXPORTER}/nothing`])).stdout).toBe('404');
  });
});

describe('part 2: a real Prometheus scrapes it during a sync', () => {
  it("Prometheus's query API returns r0's sync percent, between 0 and 100 and rising", async () => {
    const config = `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: hastor\n    static_configs:\n      - targets: ['${EXPORTER}']\n`;
    await node1.execOk(['mkdir', '-p', '/tmp/prom/data']);
    await node1.writeFile('/tmp/prom/prometheus.yml', config);
    await node1.execOk(['promtool', 'check', 'config', '/tmp/prom/prometheus.yml']);
    const out = join(node1.nodeDir, 'prometheus.out');
    guestPids.push(
      await node1.spawnBackground(
        ['prometheus', '--config.file=/tmp/prom/prometheus.yml', '--storage.tsdb.path=/tmp/prom/data', `--web.listen-address=${PROMETHEUS}`, '--log.level=warn'],
        { stdoutPath: out },
      ),
    );
    // Up once the target is scraped.
    const query = async (q: string) => {
      const res = await node1.exec(['curl', '-sS', '--fail', '--max-time', '5', '--get', `http://${PROMETHEUS}/api/v1/query`, '--data-urlencode', `query=${q}`]);
      if (res.exitCode !== 0) return null;
      return JSON.parse(res.stdout) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    };
    let deadline = Date.now() + 90_000;
    while (Date.now() < deadline && (await query('up{job="hastor"} == 1'))?.data.result.length !== 1) await sleep(1000);
    expect((await query('up{job="hastor"}'))?.data.result[0]?.value[1]).toBe('1');
    log('prometheus scrapes the exporter; starting the initial sync');

    await node1.execOk(['drbdadm', 'primary', '--force', 'r0']);
    const seen: number[] = [];
    deadline = Date.now() + 120_000;
    while (Date.now() < deadline && new Set(seen).size < 4) {
      const r = await query('hastor_peerdevice_sync_percent{job="hastor",name="r0"}');
      const sample = r?.data.result[0];
      if (sample) {
        expect(sample.metric).toMatchObject({ name: 'r0', volume: '0', instance: EXPORTER });
        const value = Number(sample.value[1]);
        if (seen.at(-1) !== value) seen.push(value);
      }
      await sleep(1000);
    }
    log(`sync percent as Prometheus stored it: ${seen.join(', ')}`);
    expect(new Set(seen).size).toBeGreaterThanOrEqual(4);
    // 0 is a valid first reading (the sync had just started); then strictly inside (0, 100).
    for (const value of seen) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(100);
    }
    expect(seen.filter((v) => v > 0).length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
    // Prometheus read the companion series too.
    const replication = await query('hastor_peerdevice_replication_state{hastor_peerdevice_replication_state="SyncSource"}');
    expect(replication?.data.result[0]?.value[1]).toBe('1');
    const role = await query('drbd_resource_role{drbd_resource_role="Primary"}');
    expect(role?.data.result[0]?.value[1]).toBe('1');
  });
});

describe('part 3: unprivileged', () => {
  it('as nobody without capabilities the exporter follows DRBD over netlink; lvm is refused', async () => {
    const id = await node1.execOk([...NOBODY, 'id', '-u']);
    expect(id.stdout.trim()).toBe('65534');
    const { out, pid, listening } = await startExporterIn(node1, EXPORTER_NOBODY, 'exporter-nobody', ['--no-lvm'], NOBODY);
    expect(listening).toMatchObject({ uid: 65534, health: { ok: true, drbd: { mode: 'netlink', source: 'netlink', resources: 1 }, lvm: { enabled: false } } });
    const metrics = await curl(node1, `http://${EXPORTER_NOBODY}/metrics`);
    expect(metrics).toMatch(/^drbd_resource_role\{name="r0",drbd_resource_role="Primary"\} 1$/m);
    expect(metrics).toMatch(/^hastor_drbd_source_up\{source="netlink"\} 1$/m);
    // A state change reaches the unprivileged watch (the events group needs no privilege either).
    await node1.execOk(['drbdadm', 'pause-sync', 'r0']);
    let after = '';
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !/hastor_peerdevice_replication_state\{[^}]*="PausedSyncS"\} 1/.test(after)) {
      after = await curl(node1, `http://${EXPORTER_NOBODY}/metrics`);
      await sleep(250);
    }
    await node1.execOk(['drbdadm', 'resume-sync', 'r0']);
    expect(after).toMatch(/hastor_peerdevice_replication_state\{[^}]*="PausedSyncS"\} 1/);
    // What lvm says to the same user: the reason the unit file runs LVM metrics only with --lvm as root (docs/exporter.md).
    const lvm = await node1.exec([...NOBODY, 'vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix']);
    log(`lvm as nobody: exit ${lvm.exitCode}; ${(lvm.stderr || lvm.stdout).trim().split('\n').slice(0, 3).join(' | ')}`);
    expect(lvm.stdout).not.toContain('vg_lab');
    // SIGTERM: a clean stop.
    await node1.execOk(['kill', '-TERM', String(pid)]);
    expect(await waitForLine(out, 'stopped', 10_000)).toMatchObject({ signal: 'SIGTERM' });
    guestPids.splice(guestPids.indexOf(pid), 1);
  });
});
