/**
 * A fault matrix on two real DRBD 8.4 nodes (issue 15, part 3): each fault is
 * injected while something runs (an initial sync, a writer, a resync, the
 * exporter), then three things are checked:
 *  - data: online verify finds 0 out of sync and the replicated area of both
 *    backing LVs has the same checksum;
 *  - nothing is left behind: no hastor process, no hastor lock;
 *  - what hastor says: `hastor status --json` in the node and the library's
 *    doctor, compared with what the kernel says in /proc/drbd.
 * The table of outcomes is printed at the end (docs/reliability.md keeps it).
 * The tests build on each other: run the file, not one test.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDrbdadmDump, type ResourceDefinition } from '../../src/drbd/config/index.js';
import { statusReportSchema, type StatusReport } from '../../src/drbd/status-report.js';
import { Cluster } from '../../src/stack/cluster.js';
import { runDoctor, type DoctorReport } from '../../src/stack/doctor.js';
import { createLv, createVg, loadModules, procWords, renderRes84, resource, secondsSince, upToDateBoth, waitForProc, type ProcWord } from './drbd-scenario.js';
import { LabExecutor } from './harness/lab-executor.js';
import { startLab, type Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';
import { distPath, GUEST_NODE, projectRoot } from './harness/paths.js';

const fileStart = Date.now();
const log = (line: string) => console.log(`[lab +${secondsSince(fileStart)}] ${line}`);

// 96 MiB at 8 MB/s: an initial sync or a full resync runs ~12 s, long enough to cut into.
const R0 = resource('r0', 0, 96, '8M');
const DEVICE = '/dev/drbd0';
const BACKING = `/dev/${R0.vg}/${R0.lv}`;
const DM_NAME = `${R0.vg}-${R0.lv}`;
const EXPORTER = '127.0.0.1:9942';

let lab: Lab | undefined;
let node1: LabNode;
let node2: LabNode;
let cluster: Cluster;
let definition: ResourceDefinition;

interface Row {
  fault: string;
  reported: string;
  data: string;
}
const matrix: Row[] = [];

/** r0 with what the matrix needs: detach on I/O errors, an online-verify algorithm. */
function renderR0(nodes: readonly LabNode[]): string {
  return renderRes84(R0, nodes).replace('  disk {\n', '  disk {\n    on-io-error detach;\n').replace('  net {\n', '  net {\n    verify-alg crc32c;\n');
}

async function proc(node: LabNode): Promise<ProcWord> {
  const words = procWords((await node.execOk(['cat', '/proc/drbd'])).stdout, R0.minor);
  if (words === null) throw new Error(`${node.name}: no minor ${R0.minor} in /proc/drbd`);
  return words;
}

async function hastorStatus(node: LabNode): Promise<StatusReport> {
  const run = await node.execOk([GUEST_NODE, join(projectRoot(), 'bin', 'hastor.js'), 'status', '--json']);
  return statusReportSchema.parse(JSON.parse(run.stdout));
}

const r0Of = (report: StatusReport) => {
  const device = report.devices.find((d) => d.minor === R0.minor);
  if (device === undefined) throw new Error(`hastor status shows no minor ${R0.minor}`);
  return device;
};

async function doctor(): Promise<DoctorReport> {
  return runDoctor(cluster, [definition], { timeoutMs: 20_000 });
}

const rules = (report: DoctorReport, node?: string): string[] =>
  report.findings.filter((f) => node === undefined || f.node === node).map((f) => `${f.severity}:${f.rule}`);

/** The replicated area (the DRBD device's size, internal meta data excluded) of a node's backing LV. */
async function backingChecksum(node: LabNode, bytes: number): Promise<string> {
  // The LV's page cache may hold blocks read before DRBD wrote under it (DRBD's I/O bypasses it): drop them first.
  const run = await node.execOk(['sh', '-c', `blockdev --flushbufs ${BACKING} && head -c ${bytes} ${BACKING} | md5sum`], { timeoutMs: 120_000 });
  return run.stdout.split(' ')[0] as string;
}

/** From sysfs: 8.4 refuses to open the device on a Secondary. */
async function deviceBytes(): Promise<number> {
  return Number((await node1.readFile('/sys/block/drbd0/size')).trim()) * 512;
}

const outOfSync = (procText: string): number => {
  const m = /oos:(\d+)/.exec(procText.split('\n').find((l) => l.includes('oos:')) ?? '');
  if (m === null) throw new Error(`no oos: in\n${procText}`);
  return Number(m[1]);
};

/** Online verify from node1 to its end, then both backing checksums. */
async function checkData(): Promise<string> {
  await waitForProc(node1, R0.minor, upToDateBoth, 'UpToDate/UpToDate', 180_000);
  await node1.execOk(['drbdadm', 'verify', R0.name]);
  // VerifyS appears, then Connected again when verify is done.
  await sleep(500);
  const [p1] = await Promise.all([waitForProc(node1, R0.minor, (w) => w.cs === 'Connected', 'verify done', 180_000), waitForProc(node2, R0.minor, (w) => w.cs === 'Connected', 'verify done', 180_000)]);
  const p2 = (await node2.execOk(['cat', '/proc/drbd'])).stdout;
  expect(outOfSync(p1)).toBe(0);
  expect(outOfSync(p2)).toBe(0);
  const bytes = await deviceBytes();
  const [c1, c2] = await Promise.all([backingChecksum(node1, bytes), backingChecksum(node2, bytes)]);
  expect(c1).toBe(c2);
  return `verify oos 0/0; backing md5 equal (${c1.slice(0, 8)})`;
}

/** No hastor process (the CLI or the exporter) and no hastor lock file on either node; a process stopping gets 10 s. */
async function nothingLeftBehind(): Promise<void> {
  for (const node of [node1, node2]) {
    let running = '';
    for (let i = 0; i < 20; i++) {
      running = (await node.exec(['pgrep', '-af', 'bin/hastor\\.js|exporter-run\\.js'])).stdout.trim();
      if (running === '') break;
      await sleep(500);
    }
    expect(running).toBe('');
    const locks = await node.exec(['sh', '-c', 'ls -A /run/lock/hastor 2>/dev/null']);
    expect(locks.stdout.trim()).toBe('');
  }
}

/** A writer of 1 MiB random blocks on node1's device, in the background; the function returned waits for its last line. */
async function startWriter(name: string, mebibytes: number, seed: number): Promise<() => Promise<string>> {
  const out = join(node1.nodeDir, `${name}.out`);
  const script = `i=0; while [ $i -lt ${mebibytes} ]; do
  dd if=/dev/urandom of=${DEVICE} bs=1M count=1 iflag=fullblock seek=$(( (i * 37 + ${seed}) % 90 )) conv=notrunc oflag=direct status=none || { echo "writer failed at $i"; exit 1; }
  i=$((i+1)); done; echo "writer done $i"`;
  await node1.spawnBackground(['sh', '-c', script], { stdoutPath: out });
  return async () => {
    for (let i = 0; i < 900; i++) {
      const text = await node1.exec(['cat', out]);
      if (/writer (done|failed)/.test(text.stdout)) return text.stdout.trim();
      await sleep(200);
    }
    throw new Error(`${name}: the writer did not finish`);
  };
}

beforeAll(async () => {
  lab = await startLab({ nodes: 2, disksMiB: [256], name: `faults-${process.pid}` });
  [node1, node2] = lab.nodes as [LabNode, LabNode];
  await loadModules(lab.nodes);
  const text = renderR0(lab.nodes);
  await Promise.all(
    lab.nodes.map(async (n) => {
      await createVg(n);
      await createLv(n, R0);
      await n.writeFile(`/etc/drbd.d/${R0.name}.res`, text);
      await n.execOk(['drbdadm', 'create-md', '--force', R0.name]);
      await n.execOk(['drbdadm', 'up', R0.name]);
    }),
  );
  [definition] = parseDrbdadmDump((await node1.execOk(['drbdadm', 'dump', R0.name])).stdout) as [ResourceDefinition];
  cluster = new Cluster(lab.nodes.map((n) => ({ name: n.name, executor: new LabExecutor(n) })));
  await waitForProc(node1, R0.minor, (w) => w.cs === 'Connected', 'Connected');
  log('r0 up on both nodes, Connected, Inconsistent');
}, 180_000);

afterAll(async () => {
  if (matrix.length > 0) {
    const table = ['| fault | what hastor reported | data checks |', '| --- | --- | --- |', ...matrix.map((r) => `| ${r.fault} | ${r.reported} | ${r.data} |`)].join('\n');
    console.log(`[lab] fault matrix (${new Date().toISOString().slice(0, 10)}):\n${table}`);
  }
  await lab?.stop();
});

describe('faults on two DRBD 8.4 nodes', () => {
  it('network cut during the initial sync: the sync resumes where it stopped and both sides end equal', async () => {
    await node1.execOk(['drbdadm', 'primary', '--force', R0.name]);
    const writer = await startWriter('initial-sync-writer', 40, 1);
    await waitForProc(node1, R0.minor, (w) => w.cs === 'SyncSource', 'SyncSource');
    await sleep(2000);
    await node1.linkDown('node2');
    await waitForProc(node1, R0.minor, (w) => w.cs === 'WFConnection', 'WFConnection', 60_000);
    const during = r0Of(await hastorStatus(node1));
    expect(during).toMatchObject({ role: 'Primary', diskState: 'UpToDate', connectionState: 'WFConnection' });
    expect(during.outOfSyncBytes).toBeGreaterThan(0);
    const doc = await doctor();
    expect(rules(doc, 'node1')).toContain('warning:peer-not-connected');
    await node1.linkUp('node2');
    expect(await writer()).toBe('writer done 40');
    const data = await checkData();
    await nothingLeftBehind();
    matrix.push({
      fault: 'network cut during the initial sync (writer on node1)',
      reported: `status: ${during.role}/${during.diskState}/${during.connectionState}, ${during.outOfSyncBytes} B out of sync; doctor: ${rules(doc, 'node1').join(', ')}`,
      data,
    });
  }, 300_000);

  it('the peer killed mid-resync: the survivor keeps the bitmap, the rebooted peer resyncs to equal', async () => {
    await node1.execOk(['drbdadm', 'disconnect', R0.name]);
    const writer = await startWriter('resync-writer', 60, 2);
    expect(await writer()).toBe('writer done 60');
    await node1.execOk(['drbdadm', 'connect', R0.name]);
    await waitForProc(node1, R0.minor, (w) => w.cs === 'SyncSource', 'SyncSource', 60_000);
    await lab!.killNode('node2');
    await waitForProc(node1, R0.minor, (w) => w.cs === 'WFConnection', 'WFConnection after the peer died', 60_000);
    const during = r0Of(await hastorStatus(node1));
    // 8.4 keeps what it last knew of a peer that was Inconsistent (ds:UpToDate/Inconsistent): hastor must say the same.
    const kernel = await proc(node1);
    expect(during).toMatchObject({ role: 'Primary', diskState: 'UpToDate', connectionState: 'WFConnection', peerDiskState: kernel.ds.split('/')[1] });
    expect(during.outOfSyncBytes).toBeGreaterThan(0);
    const doc = await doctor();
    expect(rules(doc, 'node2')).toContain('error:node-unreachable');
    await lab!.bootNode('node2');
    await node2.execOk(['modprobe', '-a', 'dm-mod', 'drbd']);
    await node2.execOk(['vgchange', '-ay', R0.vg]);
    await node2.execOk(['drbdadm', 'up', R0.name]);
    const data = await checkData();
    await nothingLeftBehind();
    matrix.push({
      fault: 'peer (node2) SIGKILLed mid-resync, booted again',
      reported: `status on node1: ${during.connectionState}, peer ${during.peerDiskState}, ${during.outOfSyncBytes} B out of sync; doctor: ${rules(doc, 'node2').join(', ')}`,
      data,
    });
  }, 300_000);

  it('the backing disk fails under the Primary: DRBD detaches, the writer goes on through the peer, re-attach resyncs', async () => {
    const table = (await node1.execOk(['dmsetup', 'table', DM_NAME])).stdout.trim();
    const sectors = table.split(' ')[1] as string;
    const writer = await startWriter('failing-disk-writer', 80, 3);
    await sleep(500);
    // Every I/O to the tier-1 LV now fails, as a dead disk's would.
    await node1.execOk(['dmsetup', 'load', DM_NAME, '--table', `0 ${sectors} error`]);
    await node1.execOk(['dmsetup', 'resume', DM_NAME]);
    await waitForProc(node1, R0.minor, (w) => w.ds.startsWith('Diskless'), 'Diskless after the I/O error', 60_000);
    const during = r0Of(await hastorStatus(node1));
    expect(during).toMatchObject({ role: 'Primary', diskState: 'Diskless', connectionState: 'Connected', peerDiskState: 'UpToDate' });
    const doc = await doctor();
    expect(rules(doc, 'node1')).toEqual(expect.arrayContaining(['warning:disk-not-uptodate', 'error:promote-without-uptodate']));
    const kernel = (await node1.execOk(['dmesg'])).stdout;
    expect(kernel).toMatch(/drbd0: .*(Local IO failed|disk\( UpToDate -> Failed \))/);
    // The application never saw an error: its writes went to node2.
    expect(await writer()).toBe('writer done 80');
    await node1.execOk(['dmsetup', 'load', DM_NAME, '--table', table]);
    await node1.execOk(['dmsetup', 'resume', DM_NAME]);
    await node1.execOk(['drbdadm', 'attach', R0.name]);
    const data = await checkData();
    await nothingLeftBehind();
    matrix.push({
      fault: 'tier-1 disk on the Primary fails (dm error table), writer running',
      reported: `status on node1: ${during.role}/${during.diskState}, peer ${during.peerDiskState}; doctor: ${rules(doc, 'node1').join(', ')}; the writer finished without an error`,
      data,
    });
  }, 300_000);

  it('the DRBD module unloaded and loaded again under a running exporter: it says DRBD is gone, then follows r0 again', async () => {
    const out = join(node1.nodeDir, 'exporter.out');
    const pid = await node1.spawnBackground([GUEST_NODE, distPath('guest', 'exporter-run.js'), '--listen', EXPORTER, '--no-lvm'], { stdoutPath: out });
    const scrape = async (): Promise<string> => (await node1.execOk(['curl', '-sS', '--fail', '--max-time', '10', `http://${EXPORTER}/metrics`])).stdout;
    const until = async (what: string, test: (metrics: string) => boolean, timeoutMs = 30_000): Promise<string> => {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        last = await scrape().catch((e: unknown) => String(e));
        if (test(last)) return last;
        await sleep(500);
      }
      throw new Error(`the exporter never showed ${what} within ${timeoutMs} ms; last scrape:\n${last.slice(0, 3000)}`);
    };
    const sourceUp = (metrics: string): string[] => [...metrics.matchAll(/^hastor_drbd_source_up\{source="(\w+)"\} 1$/gm)].map((m) => m[1] as string);
    const r0Role = (metrics: string): string | undefined => /^drbd_resource_role\{name="r0",drbd_resource_role="(\w+)"\} 1$/m.exec(metrics)?.[1];
    try {
      const before = await until('r0 Primary over netlink', (m) => r0Role(m) === 'Primary' && sourceUp(m).includes('netlink'));
      expect(r0Role(before)).toBe('Primary');
      await node1.execOk(['drbdadm', 'secondary', R0.name]);
      await node1.execOk(['drbdadm', 'down', R0.name]);
      await node1.execOk(['rmmod', 'drbd']);
      const gone = await until('no r0 and no DRBD source up', (m) => r0Role(m) === undefined && sourceUp(m).length === 0);
      await node1.execOk(['modprobe', 'drbd']);
      await node1.execOk(['drbdadm', 'up', R0.name]);
      const back = await until('r0 again, over netlink', (m) => r0Role(m) === 'Secondary' && sourceUp(m).includes('netlink'), 60_000);
      expect(back).toMatch(/^hastor_drbd_watch_restarts_total \d+$/m);
      const data = await checkData();
      const health = JSON.parse((await node1.execOk(['curl', '-sS', '--max-time', '10', `http://${EXPORTER}/healthz`])).stdout) as { ok: boolean };
      expect(health.ok).toBe(true);
      await node1.execOk(['kill', '-TERM', String(pid)]);
      await nothingLeftBehind();
      matrix.push({
        fault: 'DRBD module unloaded and loaded again under the exporter',
        reported: `before: r0 ${r0Role(before)}, source ${sourceUp(before).join(',')}; unloaded: no r0 series, source_up ${sourceUp(gone).length === 0 ? '0' : sourceUp(gone).join(',')}; loaded + up: r0 ${r0Role(back)}, source ${sourceUp(back).join(',')}`,
        data,
      });
    } finally {
      await node1.exec(['kill', '-TERM', String(pid)]);
    }
  }, 300_000);
});
