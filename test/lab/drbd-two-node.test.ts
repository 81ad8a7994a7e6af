/**
 * Issue 3 on real kernels: two UML nodes, tier-1 LVM, a DRBD 8.4 resource,
 * initial sync watched through hastor's status model, the state read three
 * ways (/proc/drbd, `drbdsetup events2`, generic netlink) and compared, a
 * network cut and reconnection, a peer stopped. Everything DRBD-side runs in
 * the guests through the compiled guest scripts (test/lab/guest/).
 * One lab for the whole file: the tests run in order and build on each other.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connected,
  createLv,
  createVg,
  defineResource,
  loadModules,
  resource,
  secondsSince,
  upToDateBoth,
  waitForProc,
  waitingForPeer,
  type ResourceSpec,
} from './drbd-scenario.js';
import { comparable, readStatus, reportOf, syncPercents, type StatusResults, type WatchResult } from './guest-results.js';
import { startLab, type Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';
import { GUEST_NODE, projectRoot } from './harness/paths.js';
import { umlProcesses } from './harness/reaper.js';

const fileStart = Date.now();
const log = (line: string) => console.log(`[lab +${secondsSince(fileStart)}] ${line}`);

// Fixed-rate resync keeps the suite short; r1 runs on DRBD's default controller.
const R0: ResourceSpec = resource('r0', 0, 256, '100M');
const R1: ResourceSpec = resource('r1', 1, 128);

let lab: Lab | undefined;
let node1: LabNode;
let node2: LabNode;
const deviceSize: Record<string, bigint> = {};

/** The kernel's size of /dev/drbdN (sysfs counts 512-byte sectors; 8.4 refuses to open a Secondary's device). */
async function blockdevSize(node: LabNode, minor: number): Promise<bigint> {
  return BigInt((await node.readFile(`/sys/block/drbd${minor}/size`)).trim()) * 512n;
}

/** Starts watchers on both nodes (through hastor's /proc/drbd parser), then forces `primary` on one. */
async function observeInitialSync(primary: LabNode, secondary: LabNode, spec: ResourceSpec, timeoutMs: number) {
  const watch = (node: LabNode) => {
    const ready = join(node.nodeDir, `watch-${spec.name}.ready`);
    const result = node.guestScript<WatchResult>(
      'watch-sync',
      ['--source', 'proc', '--minor', String(spec.minor), '--interval-ms', '250', '--timeout-ms', String(timeoutMs), '--ready-file', ready],
      { timeoutMs: timeoutMs + 30_000 },
    );
    result.catch(() => undefined); // awaited below; keeps an early failure from going unhandled
    return { ready, result };
  };
  const source = watch(primary);
  const target = watch(secondary);
  const deadline = Date.now() + 30_000;
  while (!(existsSync(source.ready) && existsSync(target.ready))) {
    if (Date.now() > deadline) throw new Error('sync watchers did not start within 30 s');
    await sleep(50);
  }
  const started = Date.now();
  await primary.execOk(['drbdadm', 'primary', '--force', spec.name]);
  const [s, t] = await Promise.all([source.result, target.result]);
  log(`${spec.name}: initial sync of ${spec.sizeMiB} MiB (${spec.fixedResyncRate ? `resync-rate ${spec.fixedResyncRate}` : 'default controller'}) took ${secondsSince(started)}`);
  return { source: s, target: t };
}

function expectRisingProgress(result: WatchResult, replication: 'SyncSource' | 'SyncTarget', totalBytes: bigint): void {
  expect(result.lastError).toBeNull();
  expect(result.sawSync).toBe(true);
  expect(result.done).toBe(true);
  const syncing = result.samples.filter((s) => s.replicationState === replication);
  expect(syncing.length).toBeGreaterThanOrEqual(3);
  const percents = syncPercents(result);
  // Rises (never falls) through at least three distinct values…
  for (let i = 1; i < percents.length; i++) expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1] as number);
  expect(new Set(percents).size).toBeGreaterThanOrEqual(3);
  expect(percents.at(-1)).toBeGreaterThan(percents[0] as number);
  const remaining = result.samples.filter((s) => s.remainingBytes !== null).map((s) => s.remainingBytes as number);
  for (let i = 1; i < remaining.length; i++) expect(remaining[i]).toBeLessThanOrEqual(remaining[i - 1] as number);
  // …over the whole device…
  for (const s of result.samples.filter((x) => x.totalBytes !== null)) expect(s.totalBytes).toBe(Number(totalBytes));
  // …to the end: 100 %, both disks UpToDate.
  const last = result.samples.at(-1);
  expect(last).toMatchObject({ connectionState: 'Connected', replicationState: 'Established', diskState: 'UpToDate', peerDiskState: 'UpToDate' });
}

beforeAll(async () => {
  lab = await startLab({ nodes: 2 });
  node1 = lab.node('node1');
  node2 = lab.node('node2');
  log(`boot: ${(lab.state.bootMs / 1000).toFixed(1)} s`);
});

afterAll(async () => {
  await lab?.stop();
  log('done');
});

describe('bring-up', () => {
  it('two nodes are up, named by uname -n, with the DRBD and device-mapper modules loaded', async () => {
    expect((await node1.execOk(['uname', '-n'])).stdout.trim()).toBe('node1');
    expect((await node2.execOk(['uname', '-n'])).stdout.trim()).toBe('node2');
    await loadModules([node1, node2]);
    for (const node of [node1, node2]) {
      const proc = await node.readFile('/proc/drbd');
      expect(proc).toMatch(/^version: 8\.4\.\d+ \(api:1\/proto:86-1\d\d\)/);
      expect((await node.execOk(['lsmod'])).stdout).toMatch(/^dm_mod /m);
    }
  });

  it('tier 1: a VG on each node\'s ubd disk and the LVs that back DRBD', async () => {
    await Promise.all(
      [node1, node2].map(async (node) => {
        await createVg(node);
        await createLv(node, R0);
        await createLv(node, R1);
      }),
    );
    for (const node of [node1, node2]) {
      const out = await node.execOk(['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,lv_name,lv_size,lv_attr']);
      const lvs = (JSON.parse(out.stdout) as { report: { lv: { vg_name: string; lv_name: string; lv_size: string; lv_attr: string }[] }[] }).report[0]?.lv ?? [];
      const sizes = Object.fromEntries(lvs.map((lv) => [`${lv.vg_name}/${lv.lv_name}`, lv.lv_size]));
      expect(sizes).toEqual({ 'vg_lab/r0_disk': String(256 * 2 ** 20), 'vg_lab/r1_disk': String(128 * 2 ** 20) });
      expect(lvs.every((lv) => lv.lv_attr[4] === 'a')).toBe(true); // active
    }
  });

  it('r0 (protocol C) is created, brought up and connects: Secondary/Secondary, Inconsistent/Inconsistent', async () => {
    const res = await defineResource([node1, node2], R0);
    expect(res).toMatch(/protocol C;/);
    expect(res).toMatch(/on node1 \{[^}]*address 10\.99\.0\.1:7789;/);
    await Promise.all([node1, node2].map((n) => waitForProc(n, 0, connected, 'Connected')));
    deviceSize['r0'] = await blockdevSize(node1, 0);
    expect(await blockdevSize(node2, 0)).toBe(deviceSize['r0']);
    const report = reportOf(await readStatus(node1, ['proc']), 'proc');
    expect(report.devices).toHaveLength(1);
    expect(report.devices[0]).toMatchObject({
      minor: 0,
      role: 'Secondary',
      peerRole: 'Secondary',
      diskState: 'Inconsistent',
      peerDiskState: 'Inconsistent',
      connectionState: 'Connected',
      replicationState: 'Established',
      protocol: 'C',
      outOfSyncBytes: Number(deviceSize['r0']),
    });
  });
});

describe('initial sync', () => {
  it('r0 (fixed resync rate): progress seen through hastor rises to 100 % on both sides', async () => {
    const { source, target } = await observeInitialSync(node1, node2, R0, 120_000);
    log(`r0 sync samples: node1 ${syncPercents(source).join(' ')}`);
    expectRisingProgress(source, 'SyncSource', deviceSize['r0'] as bigint);
    expectRisingProgress(target, 'SyncTarget', deviceSize['r0'] as bigint);
  });
});

describe('state read three ways', () => {
  const results: Record<string, StatusResults> = {};

  it('/proc/drbd through hastor: node1 Primary, node2 Secondary, UpToDate, Connected', async () => {
    results['node1'] = await readStatus(node1);
    results['node2'] = await readStatus(node2);
    expect(reportOf(results['node1'], 'proc').devices).toMatchObject([
      { minor: 0, role: 'Primary', peerRole: 'Secondary', diskState: 'UpToDate', peerDiskState: 'UpToDate', connectionState: 'Connected', replicationState: 'Established', protocol: 'C', outOfSyncBytes: 0, sync: null },
    ]);
    expect(reportOf(results['node2'], 'proc').devices).toMatchObject([
      { minor: 0, role: 'Secondary', peerRole: 'Primary', diskState: 'UpToDate', peerDiskState: 'UpToDate', connectionState: 'Connected', replicationState: 'Established' },
    ]);
  });

  it('drbdsetup events2 through hastor agrees with /proc/drbd, and names r0 with its size', () => {
    for (const node of ['node1', 'node2']) {
      const events2 = reportOf(results[node] as StatusResults, 'events2');
      expect(comparable(events2)).toEqual(comparable(reportOf(results[node] as StatusResults, 'proc')));
      expect(events2.devices[0]).toMatchObject({ resource: 'r0', volume: 0, sizeBytes: Number(deviceSize['r0']), outOfSyncBytes: 0 });
    }
  });

  it('the addon\'s netlink socket (family drbd, group events) agrees with /proc/drbd, and names r0 with its size', () => {
    for (const node of ['node1', 'node2']) {
      const netlink = reportOf(results[node] as StatusResults, 'netlink');
      expect(netlink.source).toBe('netlink');
      expect(comparable(netlink)).toEqual(comparable(reportOf(results[node] as StatusResults, 'proc')));
      expect(netlink.devices[0]).toMatchObject({ resource: 'r0', sizeBytes: Number(deviceSize['r0']) });
    }
  });

  it('`hastor status --json` in the guest prints the same state', async () => {
    const cli = join(projectRoot(), 'bin', 'hastor.js');
    const out = await node1.execOk([GUEST_NODE, cli, 'status', '--json', '--source', 'proc']);
    const report = JSON.parse(out.stdout) as { source: string; devices: unknown[] };
    expect(report.source).toBe('proc');
    expect(report.devices).toMatchObject([{ minor: 0, role: 'Primary', peerRole: 'Secondary', diskState: 'UpToDate', connectionState: 'Connected' }]);
    // Without --source, the live system is read over netlink (the drbd family exists here).
    const auto = JSON.parse((await node1.execOk([GUEST_NODE, cli, 'status', '--json'])).stdout) as { source: string; version: string | null; devices: unknown[] };
    expect(auto.source).toBe('netlink');
    expect(auto.version).toBe('8.4.11');
    expect(auto.devices).toMatchObject([{ minor: 0, resource: 'r0', role: 'Primary', peerRole: 'Secondary', diskState: 'UpToDate', connectionState: 'Connected' }]);
  });
});

describe('network cut', () => {
  it('with node1\'s link down both sides fall to WFConnection (seen in /proc/drbd)', async () => {
    const cut = Date.now();
    await node1.linkDown('node2');
    const [text1, text2] = await Promise.all([node1, node2].map((n) => waitForProc(n, 0, waitingForPeer, 'WFConnection', 60_000)));
    log(`network cut noticed by both nodes after ${secondsSince(cut)}`);
    expect(text1).toMatch(/cs:WFConnection ro:Primary\/Unknown ds:UpToDate\/DUnknown/);
    expect(text2).toMatch(/cs:WFConnection ro:Secondary\/Unknown ds:UpToDate\/DUnknown/);
    const results = await readStatus(node1);
    const proc = reportOf(results, 'proc');
    expect(proc.devices).toMatchObject([{ role: 'Primary', peerRole: 'Unknown', peerDiskState: 'DUnknown', connectionState: 'WFConnection', replicationState: 'Off' }]);
    expect(comparable(reportOf(results, 'events2'))).toEqual(comparable(proc));
    expect(comparable(reportOf(results, 'netlink'))).toEqual(comparable(proc));
  });

  it('with the link back both reconnect: Connected, UpToDate/UpToDate', async () => {
    const back = Date.now();
    await node1.linkUp('node2');
    await Promise.all([node1, node2].map((n) => waitForProc(n, 0, upToDateBoth, 'Connected UpToDate/UpToDate', 60_000)));
    log(`reconnected after ${secondsSince(back)}`);
    const proc = reportOf(await readStatus(node2, ['proc']), 'proc');
    expect(proc.devices).toMatchObject([{ role: 'Secondary', peerRole: 'Primary', diskState: 'UpToDate', peerDiskState: 'UpToDate', connectionState: 'Connected' }]);
  });
});

describe('default resync controller', () => {
  it('r1 (no resync-rate tuning): progress rises to 100 %, node2 as SyncSource', async () => {
    await defineResource([node1, node2], R1);
    await Promise.all([node1, node2].map((n) => waitForProc(n, 1, connected, 'Connected')));
    deviceSize['r1'] = await blockdevSize(node2, 1);
    const { source, target } = await observeInitialSync(node2, node1, R1, 240_000);
    log(`r1 sync samples: node2 ${syncPercents(source).join(' ')}`);
    expectRisingProgress(source, 'SyncSource', deviceSize['r1'] as bigint);
    expectRisingProgress(target, 'SyncTarget', deviceSize['r1'] as bigint);
  });
});

describe('peer stopped', () => {
  it('node2 powered off: node1 waits for it (WFConnection) on both resources', async () => {
    expect(await node2.stop()).toBe('poweroff');
    expect(umlProcesses(node2.umid)).toEqual([]);
    await waitForProc(node1, 0, waitingForPeer, 'WFConnection', 60_000);
    await waitForProc(node1, 1, waitingForPeer, 'WFConnection', 60_000);
    const proc = reportOf(await readStatus(node1, ['proc']), 'proc');
    expect(proc.devices).toMatchObject([
      { minor: 0, role: 'Primary', peerRole: 'Unknown', diskState: 'UpToDate', peerDiskState: 'DUnknown', connectionState: 'WFConnection' },
      { minor: 1, role: 'Secondary', peerRole: 'Unknown', diskState: 'UpToDate', peerDiskState: 'DUnknown', connectionState: 'WFConnection' },
    ]);
  });

  it('the lab stops: no UML process or socket left, consoles free of panics, WARNINGs and BUGs', async () => {
    const state = lab!.state;
    const reports = await lab!.stop(); // throws on console problems or leftovers
    lab = undefined;
    expect(reports.map((r) => [r.name, r.method])).toEqual([
      ['node1', 'poweroff'],
      ['node2', 'already-stopped'],
    ]);
    for (const n of state.nodes) expect(umlProcesses(n.umid)).toEqual([]);
    expect(existsSync(state.dir)).toBe(false);
  });
});
