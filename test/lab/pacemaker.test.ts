/**
 * A real Pacemaker 2.1.5 + Corosync 3.1.7 cluster on two lab nodes, with real
 * fencing (the host powers a node off: fence_lab → test/lab/harness/fence.ts),
 * managing DRBD 8.4 (`ocf:linbit:drbd`, promotable) and an ext4 filesystem on it:
 *  a. the cluster comes up: both nodes online, a DC, quorum;
 *  b. without a STONITH device, Pacemaker refuses the configuration (crm_verify);
 *  c. the lab fence device is installed, registered, and its monitor reaches the host;
 *  d. r0 (resource-and-stonith, crm-fence-peer.sh) under a promotable clone,
 *     the filesystem mounted where it is promoted, known data written;
 *  e. HASTOR_LAB_RECORD=1: crm_mon XML and the CIB into test/fixtures/pacemaker/lab/;
 *  f. the promoted node's UML process is SIGKILLed: the survivor fences it
 *     through the host (pid confirmed gone), promotes DRBD, mounts, data intact;
 *  g. the dead node boots again and rejoins as the unpromoted side.
 *
 * The tests build on each other (one lab); run the file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceDefinitionInput } from '../../src/index.js';
import { SafetyError } from '../../src/errors.js';
import { parseResourceDefinition, setPacemakerMaintenance } from '../../src/index.js';
import { Cluster } from '../../src/stack/cluster.js';
import { runDoctor } from '../../src/stack/doctor.js';
import { DrbdResource } from '../../src/stack/drbd-resource.js';
import { secondsSince, upToDateBoth, waitForProc } from './drbd-scenario.js';
import { startFenceService, type FenceService } from './harness/fence.js';
import { LabExecutor } from './harness/lab-executor.js';
import { startLab, type Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';
import {
  allOnlineWithDc,
  crmMon,
  installFenceAgent,
  parseCrmMon,
  prepareClusterNodes,
  startCluster,
  startCorosync,
  startPacemaker,
  stopCluster,
  waitForCluster,
  whereRole,
  writeCorosyncConfig,
  type CrmMon,
} from './harness/pacemaker.js';
import { projectRoot } from './harness/paths.js';

const RECORD = process.env['HASTOR_LAB_RECORD'] === '1';
const FIXTURES = join(projectRoot(), 'test', 'fixtures', 'pacemaker', 'lab');
const VG = 'vg_lab';
const LV = 'r0_disk';
const LV_MIB = 128;
const MOUNT = '/mnt/r0';
const MEM_MIB = 768;

const fileStart = Date.now();
const log = (line: string) => console.log(`[pacemaker-lab +${secondsSince(fileStart)}] ${line}`);

let lab: Lab | undefined;
let fence: FenceService | undefined;
let node1: LabNode;
let node2: LabNode;
let clusterUp = false;
let promoted: LabNode;
let survivor: LabNode;
let dataSum = '';
const recorded: { name: string; what: string }[] = [];
let definition: ResourceDefinitionInput;
const versions: Record<string, string> = {};

function record(name: string, content: string, what: string): void {
  if (!RECORD) return;
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(join(FIXTURES, name), content.endsWith('\n') ? content : `${content}\n`);
  recorded.push({ name, what });
}

async function recordState(node: LabNode, tag: string, what: string): Promise<void> {
  if (!RECORD) return;
  record(`crm_mon-${tag}.xml`, (await node.execOk(['crm_mon', '-1', '--output-as=xml'])).stdout, `\`crm_mon -1 --output-as=xml\` in ${node.name}: ${what}`);
  record(`cib-${tag}.xml`, (await node.execOk(['cibadmin', '-Q'])).stdout, `\`cibadmin -Q\` in ${node.name}: ${what}`);
}

/** Memory in use in the guest (MiB), from /proc/meminfo: MemTotal − MemAvailable. */
async function memUsedMiB(node: LabNode): Promise<number> {
  const text = await node.readFile('/proc/meminfo');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return Math.round((kb('MemTotal') - kb('MemAvailable')) / 1024);
}

/** What is mounted on MOUNT in the node ("device fstype"), from /proc/mounts; '' when nothing. */
async function mountOf(node: LabNode): Promise<string> {
  const lines = (await node.readFile('/proc/mounts')).split('\n').map((l) => l.split(' ')).filter((f) => f[1] === MOUNT);
  return lines.map((f) => `${f[0]} ${f[2]}`).join('\n');
}

/** DRBD's view in both nodes, for a failure message. */
async function drbdDiagnostics(): Promise<string> {
  const out: string[] = [];
  for (const n of lab!.nodes.filter((x) => x.isRunning())) {
    const r = await n.exec(['sh', '-c', 'cat /proc/drbd; drbdadm status; dmesg | grep -i drbd | tail -n 40; tail -n 40 /var/log/pacemaker/pacemaker.log | grep -i drbd']);
    out.push(`--- ${n.name}\n${r.stdout}${r.stderr}`);
  }
  return out.join('\n');
}

const cib = (node: LabNode, scope: string, xml: string) => node.execOk(['cibadmin', '--create', '--scope', scope, '--xml-text', xml]);

beforeAll(async () => {
  lab = await startLab({ nodes: 2, memMiB: MEM_MIB, disksMiB: [256] });
  [node1, node2] = lab.nodes as [LabNode, LabNode];
  fence = startFenceService(lab, { log });
  await prepareClusterNodes(lab.nodes);
  await Promise.all([
    writeCorosyncConfig(lab.nodes),
    ...lab.nodes.map(async (n) => {
      await n.execOk(['modprobe', '-a', 'dm-mod', 'drbd']);
      await n.execOk(['pvcreate', '-y', '/dev/ubda']);
      await n.execOk(['vgcreate', '-y', VG, '/dev/ubda']);
      await n.execOk(['lvcreate', '-y', '-L', `${LV_MIB}m`, '-n', LV, VG]);
      await n.execOk(['mkdir', '-p', MOUNT]);
      await installFenceAgent(n);
    }),
  ]);
  log(`lab ready (boot ${(lab.state.bootMs / 1000).toFixed(1)} s); guest memory in use before the cluster: ${(await Promise.all(lab.nodes.map(memUsedMiB))).join(', ')} MiB of ${MEM_MIB}`);
}, 180_000);

afterAll(async () => {
  try {
    if (clusterUp && lab) {
      const running = lab.nodes.filter((n) => n.isRunning());
      const t = Date.now();
      await stopCluster(running).then(
        () => log(`cluster stopped cleanly on ${running.map((n) => n.name).join(', ')} in ${secondsSince(t)}`),
        (e: unknown) => log(`cluster stop failed: ${(e as Error).message.split('\n')[0]}`),
      );
    }
  } finally {
    fence?.stop();
    await lab?.stop();
    if (RECORD && recorded.length > 0) writeReadme();
    log(`lab wall time ${secondsSince(fileStart)}`);
  }
}, 300_000);

describe('Pacemaker + Corosync on two lab nodes, with fencing through the host', () => {
  it('a. the cluster comes up: both nodes online, a DC, quorum', async () => {
    const up = await startCluster(lab!.nodes, { log });
    clusterUp = true;
    expect(up.mon.nodes.map((n) => [n.name, n.online]).sort()).toEqual([
      ['node1', true],
      ['node2', true],
    ]);
    expect(['node1', 'node2']).toContain(up.dc);
    expect(up.mon.quorum).toBe(true);
    // The other node sees the same DC.
    const other = await waitForCluster(node2, allOnlineWithDc(['node1', 'node2']), 'both online from node2', 60_000);
    expect(other.dc).toBe(up.dc);
    const quorum = (await node1.execOk(['corosync-quorumtool', '-s'])).stdout;
    expect(quorum).toMatch(/Quorate:\s+Yes/);
    expect(quorum).toMatch(/Flags:.*2Node/);
    versions['pacemaker'] = (await node1.execOk(['pacemakerd', '--version'])).stdout.split('\n')[0]?.trim() ?? '?';
    versions['corosync'] = /version '([^']+)'/.exec((await node1.execOk(['corosync', '-v'])).stdout)?.[1] ?? '?';
    versions['drbd-utils'] = /DRBDADM_VERSION=(\S+)/.exec((await node1.execOk(['drbdadm', '--version'])).stdout)?.[1] ?? '?';
    versions['drbd'] = /^version: (\S+)/m.exec(await node1.readFile('/proc/drbd'))?.[1] ?? '?';
    versions['kernel'] = (await node1.execOk(['uname', '-r'])).stdout.trim();
    log(`versions: ${JSON.stringify(versions)}; guest memory in use with the cluster: ${(await Promise.all(lab!.nodes.map(memUsedMiB))).join(', ')} MiB`);
    await recordState(node1, 'no-stonith', 'both nodes online, a DC, quorum, no resources and no STONITH device yet');
  });

  it('b. without a STONITH device, crm_verify refuses the configuration', async () => {
    // -V: without it crm_verify prints only "Errors found during check: config not valid".
    const r = await node1.exec(['crm_verify', '-L', '-V']);
    expect(r.exitCode).not.toBe(0);
    const text = `${r.stdout}${r.stderr}`;
    expect(text).toContain('Resource start-up disabled since no STONITH resources have been defined');
    expect(text).toMatch(/Errors found during check: config not valid/);
    log(`crm_verify -L without STONITH: rc ${r.exitCode}: ${text.trim().split('\n').join(' | ')}`);
  });

  it('c. the lab fence device: installed, registered, and its monitor reaches the host', async () => {
    const installed = await node1.execOk(['stonith_admin', '--list-installed']);
    expect(installed.stdout.split('\n').map((l) => l.trim())).toContain('fence_lab');
    const meta = await node1.execOk(['stonith_admin', '--metadata', '--agent', 'fence_lab']);
    expect(meta.stdout).toContain('<resource-agent name="fence_lab"');
    expect(meta.stdout).toMatch(/<action name="off"/);
    // The agent's own status action, through the host.
    const status = await node1.exec(['fence_lab'], { stdin: 'action=status\nport=node2\n' });
    expect([status.exitCode, status.stdout.trim()]).toEqual([0, 'Status: ON']);

    await cib(
      node1,
      'resources',
      '<primitive id="fence-lab" class="stonith" type="fence_lab"><instance_attributes id="fence-lab-ia"><nvpair id="fence-lab-hosts" name="pcmk_host_list" value="node1 node2"/></instance_attributes><operations><op id="fence-lab-monitor" name="monitor" interval="60s"/></operations></primitive>',
    );
    // Power off, not reboot: a fenced node stays down until the test boots it (no fence loop, explicit rejoin).
    await node1.execOk(['crm_attribute', '--type', 'crm_config', '--name', 'stonith-action', '--update', 'off']);
    const verify = await node1.exec(['crm_verify', '-L']);
    expect([verify.exitCode, `${verify.stdout}${verify.stderr}`.trim()]).toEqual([0, '']);
    const t = Date.now();
    await waitForCluster(node1, (m) => m.resources.some((r) => r.id === 'fence-lab' && r.active), 'fence-lab started', 120_000);
    log(`fence-lab started ${secondsSince(t)} after it was added`);
    const registered = await node1.execOk(['stonith_admin', '--list-registered']);
    expect(registered.stdout).toContain('fence-lab');
    const canFence = await node1.execOk(['stonith_admin', '--list', 'node2']);
    expect(canFence.stdout).toContain('fence-lab');
    const monitorsBefore = fence!.queries.filter((q) => q.action === 'monitor').length;
    const query = await node1.execOk(['stonith_admin', '--query', 'fence-lab'], { timeoutMs: 120_000 });
    log(`stonith_admin --query fence-lab: ${query.stdout.trim()}`);
    expect(fence!.queries.filter((q) => q.action === 'monitor').length).toBeGreaterThan(monitorsBefore);
    expect(fence!.fenced).toEqual([]);
  });

  it('d. DRBD r0 under a promotable clone, ext4 mounted where it is promoted, known data written', async () => {
    definition = {
      name: 'r0',
      target: '8.4',
      protocol: 'C',
      net: { pingInt: 3, pingTimeout: 10, connectInt: 3, timeout: 20 },
      disk: { cPlanAhead: 0, resyncRate: '200M', fencing: 'resource-and-stonith' },
      handlers: { fencePeer: '/usr/lib/drbd/crm-fence-peer.sh', afterResyncTarget: '/usr/lib/drbd/crm-unfence-peer.sh' },
      nodes: [node1, node2].map((n) => ({
        name: n.name,
        address: `ipv4 ${n.address}:7789`,
        volumes: [{ volume: 0, minor: 0, device: '/dev/drbd0', disk: `/dev/${VG}/${LV}`, metaDisk: 'internal' as const }],
      })),
    };
    const cluster = await Cluster.connect(lab!.nodes.map((n) => ({ name: n.name, executor: new LabExecutor(n) })));
    const r0 = new DrbdResource(cluster, definition);
    let t = Date.now();
    await r0.create({ syncSource: 'node1', stayPrimary: true });
    await waitForProc(node1, 0, upToDateBoth, 'UpToDate/UpToDate', 120_000);
    log(`r0 created and synced (${LV_MIB} MiB) in ${secondsSince(t)}`);
    const res = await node1.readFile('/etc/drbd.d/r0.res');
    expect(res).toMatch(/fencing\s+resource-and-stonith/);
    expect(res).toMatch(/fence-peer\s+"?\/usr\/lib\/drbd\/crm-fence-peer\.sh/);
    await node1.execOk(['mkfs.ext4', '-q', '-F', '-E', 'nodiscard', '/dev/drbd0'], { timeoutMs: 120_000 });
    await node1.execOk(['drbdadm', 'secondary', 'r0']);

    // UML under load (2 cores shared with other labs): Pacemaker's 20 s default op timeout failed a drbd start.
    await node1.execOk(['crm_attribute', '--type', 'op_defaults', '--name', 'timeout', '--update', '120s']);
    t = Date.now();
    await cib(
      node1,
      'resources',
      `<clone id="drbd-r0-clone">
        <meta_attributes id="drbd-r0-clone-meta">
          <nvpair id="drbd-r0-clone-promotable" name="promotable" value="true"/>
          <nvpair id="drbd-r0-clone-promoted-max" name="promoted-max" value="1"/>
          <nvpair id="drbd-r0-clone-promoted-node-max" name="promoted-node-max" value="1"/>
          <nvpair id="drbd-r0-clone-clone-max" name="clone-max" value="2"/>
          <nvpair id="drbd-r0-clone-clone-node-max" name="clone-node-max" value="1"/>
          <nvpair id="drbd-r0-clone-notify" name="notify" value="true"/>
        </meta_attributes>
        <primitive id="drbd-r0" class="ocf" provider="linbit" type="drbd">
          <instance_attributes id="drbd-r0-ia"><nvpair id="drbd-r0-resource" name="drbd_resource" value="r0"/></instance_attributes>
          <operations>
            <op id="drbd-r0-start" name="start" interval="0s" timeout="240s"/>
            <op id="drbd-r0-stop" name="stop" interval="0s" timeout="100s"/>
            <op id="drbd-r0-promote" name="promote" interval="0s" timeout="90s"/>
            <op id="drbd-r0-demote" name="demote" interval="0s" timeout="90s"/>
            <op id="drbd-r0-monitor-promoted" name="monitor" interval="15s" role="Promoted" timeout="60s"/>
            <op id="drbd-r0-monitor-unpromoted" name="monitor" interval="20s" role="Unpromoted" timeout="60s"/>
          </operations>
        </primitive>
      </clone>`,
    );
    await cib(
      node1,
      'resources',
      `<primitive id="fs-r0" class="ocf" provider="heartbeat" type="Filesystem">
        <instance_attributes id="fs-r0-ia">
          <nvpair id="fs-r0-device" name="device" value="/dev/drbd0"/>
          <nvpair id="fs-r0-directory" name="directory" value="${MOUNT}"/>
          <nvpair id="fs-r0-fstype" name="fstype" value="ext4"/>
        </instance_attributes>
        <operations><op id="fs-r0-monitor" name="monitor" interval="20s" timeout="60s"/></operations>
      </primitive>`,
    );
    await cib(node1, 'constraints', '<rsc_colocation id="fs-r0-with-promoted" score="INFINITY" rsc="fs-r0" with-rsc="drbd-r0-clone" with-rsc-role="Promoted"/>');
    await cib(node1, 'constraints', '<rsc_order id="fs-r0-after-promote" kind="Mandatory" first="drbd-r0-clone" first-action="promote" then="fs-r0" then-action="start"/>');
    const verify = await node1.exec(['crm_verify', '-L']);
    expect([verify.exitCode, `${verify.stdout}${verify.stderr}`.trim()]).toEqual([0, '']);

    let promotedAt = 0;
    const mon = await waitForCluster(
      node1,
      (m) => {
        if (promotedAt === 0 && whereRole(m, 'drbd-r0', 'Promoted').length === 1) promotedAt = Date.now();
        return whereRole(m, 'drbd-r0', 'Promoted').length === 1 && whereRole(m, 'drbd-r0', 'Unpromoted').length === 1 && whereRole(m, 'fs-r0', 'Started').length === 1;
      },
      'r0 promoted on one node, unpromoted on the other, fs-r0 started',
      240_000,
    );
    const where = whereRole(mon, 'drbd-r0', 'Promoted')[0] as string;
    expect(mon.resources.find((r) => r.id === 'fs-r0')?.nodes).toEqual([where]);
    log(`promoted on ${where} ${((promotedAt - t) / 1000).toFixed(1)} s after the clone was added, mounted after ${secondsSince(t)}`);
    promoted = lab!.node(where);
    survivor = promoted === node1 ? node2 : node1;
    // The kernel agrees with Pacemaker: Primary and mounted there, Secondary on the other.
    expect((await promoted.readFile('/proc/drbd')).match(/ro:(\S+)/)?.[1]).toBe('Primary/Secondary');
    expect((await survivor.readFile('/proc/drbd')).match(/ro:(\S+)/)?.[1]).toBe('Secondary/Primary');
    expect(await mountOf(promoted)).toBe('/dev/drbd0 ext4');
    expect(await mountOf(survivor)).toBe('');

    await promoted.execOk(['sh', '-c', `dd if=/dev/urandom of=${MOUNT}/data bs=1M count=8 status=none && sync`]);
    dataSum = (await promoted.execOk(['sha256sum', `${MOUNT}/data`])).stdout.split(' ')[0] as string;
    expect(dataSum).toMatch(/^[0-9a-f]{64}$/);
    log(`8 MiB written to ${promoted.name}:${MOUNT}/data, sha256 ${dataSum.slice(0, 16)}…; guest memory in use: ${(await Promise.all(lab!.nodes.map(memUsedMiB))).join(', ')} MiB`);
    await recordState(promoted, 'promoted', `r0 promoted and fs-r0 mounted on ${promoted.name}, ${survivor.name} unpromoted, fence-lab started`);
  });

  it('f. the promoted node crashes: the survivor fences it through the host, promotes r0, mounts it, the data is intact', async () => {
    const victim = promoted;
    const victimPid = victim.pid;
    const before = fence!.fenced.length;
    const t0 = Date.now();
    await lab!.killNode(victim.name);
    log(`${victim.name} (pid ${victimPid}) SIGKILLed`);
    let fencedAt = 0;
    let promotedAt = 0;
    let mountedAt = 0;
    let last: CrmMon | undefined;
    const deadline = t0 + 180_000;
    while (Date.now() < deadline && mountedAt === 0) {
      if (fencedAt === 0 && fence!.fenced.slice(before).some((f) => f.result === 'off')) fencedAt = Date.now();
      const r = await survivor.exec(['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 30_000 });
      if (r.exitCode === 0) {
        last = parseCrmMon(r.stdout);
        if (promotedAt === 0 && whereRole(last, 'drbd-r0', 'Promoted').includes(survivor.name)) promotedAt = Date.now();
        if (promotedAt !== 0 && whereRole(last, 'fs-r0', 'Started').includes(survivor.name) && (await mountOf(survivor)) === '/dev/drbd0 ext4') mountedAt = Date.now();
      }
      if (mountedAt === 0) await sleep(500);
    }
    const s = (at: number) => (at === 0 ? 'never' : `${((at - t0) / 1000).toFixed(1)} s`);
    log(`failover: kill → fenced ${s(fencedAt)}, → promoted ${s(promotedAt)}, → mounted ${s(mountedAt)}`);
    expect(mountedAt, `not mounted on ${survivor.name} within 180 s; last crm_mon:\n${last?.xml ?? ''}`).toBeGreaterThan(0);

    const fences = fence!.fenced.slice(before);
    expect(fences).toEqual([expect.objectContaining({ from: survivor.name, target: victim.name, action: 'off', result: 'off', targetPid: victimPid })]);
    expect(existsSync(`/proc/${victimPid}`)).toBe(false);
    expect(fencedAt).toBeLessThanOrEqual(promotedAt);
    // Pacemaker's own fence history names the lab device and the survivor.
    const history = await survivor.execOk(['stonith_admin', '--history', victim.name, '--verbose']);
    log(`fence history: ${history.stdout.trim().split('\n').join(' | ')}`);
    expect(history.stdout).toMatch(new RegExp(`${survivor.name}.*(fence-lab|turning off|off)|(fence-lab|off).*${survivor.name}`));

    expect((await survivor.readFile('/proc/drbd')).match(/ro:(\S+)/)?.[1]).toBe('Primary/Unknown');
    expect(await mountOf(survivor)).toBe('/dev/drbd0 ext4');
    const sum = (await survivor.execOk(['sha256sum', `${MOUNT}/data`])).stdout.split(' ')[0];
    expect(sum).toBe(dataSum);
    // crm-fence-peer.sh left its constraint: the victim may not be promoted until it has resynced.
    const constraints = (await survivor.execOk(['cibadmin', '-Q', '--scope', 'constraints'])).stdout;
    expect(constraints).toMatch(/drbd-fence-by-handler-r0/);
    const mon = await crmMon(survivor);
    expect(mon.nodes.find((n) => n.name === victim.name)?.online).toBe(false);
    await recordState(survivor, 'after-failover', `${victim.name} SIGKILLed and fenced (off) by ${survivor.name}; r0 promoted and fs-r0 mounted on ${survivor.name}`);
  });

  it('g. the fenced node boots again and rejoins as the unpromoted side', async () => {
    const victim = promoted;
    const t0 = Date.now();
    await lab!.bootNode(victim.name);
    await prepareClusterNodes([victim]);
    // What lvm2's activation does at boot on a real machine: r0's backing LV must be there for DRBD.
    await victim.execOk(['vgchange', '-ay', VG]);
    // Booted with no cluster running (no init system): nothing starts until asked.
    expect((await victim.exec(['sh', '-c', 'pidof corosync pacemakerd'])).exitCode).not.toBe(0);
    await startCorosync(victim);
    await startPacemaker(victim);
    const mon = await waitForCluster(
      survivor,
      (m) => m.nodes.find((n) => n.name === victim.name)?.online === true && whereRole(m, 'drbd-r0', 'Unpromoted').includes(victim.name),
      `${victim.name} online and r0 unpromoted there`,
      180_000,
    );
    log(`${victim.name} back online with r0 unpromoted ${secondsSince(t0)} after its boot`);
    expect(whereRole(mon, 'drbd-r0', 'Promoted')).toEqual([survivor.name]);
    await waitForProc(survivor, 0, upToDateBoth, 'UpToDate/UpToDate after the rejoin', 120_000).catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}\n${await drbdDiagnostics()}`);
    });
    log(`${victim.name} resynced ${secondsSince(t0)} after its boot`);
    // crm-unfence-peer.sh (after-resync-target) removed the constraint.
    const deadline = Date.now() + 30_000;
    let constraints = '';
    while (Date.now() < deadline) {
      constraints = (await survivor.execOk(['cibadmin', '-Q', '--scope', 'constraints'])).stdout;
      if (!constraints.includes('drbd-fence-by-handler-r0')) break;
      await sleep(1000);
    }
    expect(constraints).not.toMatch(/drbd-fence-by-handler-r0/);
    if (RECORD) {
      // Standby of the unpromoted node: it stops its instance; nothing moves.
      await survivor.execOk(['crm_attribute', '--node', victim.name, '--name', 'standby', '--update', 'on']);
      // crm_mon lists an instance being stopped with role "Stopping": wait until it is "Stopped".
      await waitForCluster(
        survivor,
        (m) => m.nodes.find((n) => n.name === victim.name)?.standby === true && m.resources.filter((r) => r.id === 'drbd-r0').map((r) => r.role).sort().join() === 'Promoted,Stopped',
        `${victim.name} in standby, its r0 instance stopped`,
        120_000,
      );
      await recordState(survivor, 'standby', `${victim.name} in standby (its r0 instance stopped), r0 promoted and fs-r0 mounted on ${survivor.name}`);
      await survivor.execOk(['crm_attribute', '--node', victim.name, '--name', 'standby', '--delete']);
    }
  });
});

describe('hastor under Pacemaker (issue 16): never behind its back', () => {
  it('h. down of the unpromoted side and a switchover are refused with the crm_resource way; doctor reads the cluster; maintenance hands r0 over and back', async () => {
    const victim = promoted;
    const cluster = await Cluster.connect(lab!.nodes.map((n) => ({ name: n.name, executor: new LabExecutor(n) })));
    const r0 = new DrbdResource(cluster, definition);
    const before = (await survivor.execOk(['cat', '/proc/drbd'])).stdout;

    const down = await r0.down({ nodes: [victim.name] }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(SafetyError);
    expect((down as SafetyError).rule).toBe('pacemaker-managed');
    expect((down as Error).message).toContain(`Pacemaker manages r0 as drbd-r0-clone (promoted on ${survivor.name})`);
    expect((down as Error).message).toContain(`crm_resource --resource drbd-r0-clone --ban --node ${victim.name}`);
    const switchover = await r0.promote(victim.name).catch((e: unknown) => e);
    expect((switchover as SafetyError).rule).toBe('pacemaker-managed');
    expect((switchover as Error).message).toContain(`crm_resource --resource drbd-r0-clone --move --promoted --node ${victim.name}`);
    // Nothing changed: both still up and connected, the same roles.
    expect((await survivor.execOk(['cat', '/proc/drbd'])).stdout.split('\n')[2]?.replace(/ns:.*/, '')).toBe(before.split('\n')[2]?.replace(/ns:.*/, ''));

    const report = await runDoctor(cluster, [parseResourceDefinition(definition)]);
    const pcmk = report.findings.filter((f) => f.rule.startsWith('pacemaker-'));
    log(`doctor's Pacemaker findings on the healthy cluster: ${pcmk.map((f) => `${f.severity} ${f.rule}`).join(', ') || 'none'}`);
    expect(pcmk.filter((f) => f.severity === 'error')).toEqual([]);

    const t = Date.now();
    const on = await setPacemakerMaintenance(cluster.node(survivor.name).executor, { on: true, resource: 'drbd-r0-clone' });
    expect(on).toMatchObject({ already: false, resource: 'drbd-r0-clone' });
    log(`maintenance on for drbd-r0-clone: crm_mon showed it unmanaged ${secondsSince(t)} after`);
    const unmanaged = await runDoctor(cluster, [parseResourceDefinition(definition)]);
    expect(unmanaged.findings.map((f) => f.rule)).toContain('pacemaker-unmanaged');
    // Hands off: hastor plans the down itself (not run: Pacemaker gets r0 back as it was).
    const plan = await r0.down({ nodes: [victim.name], dryRun: true });
    expect(plan.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`)).toEqual([`${victim.name}: drbdadm down r0`]);
    const off = await setPacemakerMaintenance(cluster.node(survivor.name).executor, { on: false, resource: 'drbd-r0-clone' });
    expect(off.already).toBe(false);
    expect((await r0.down({ nodes: [victim.name], dryRun: true }).catch((e: unknown) => e) as SafetyError).rule).toBe('pacemaker-managed');
  });
});

function writeReadme(): void {
  const lines = [
    '# Pacemaker state captured in the lab',
    '',
    'Written by `HASTOR_LAB_RECORD=1 npx vitest run --project lab test/lab/pacemaker.test.ts`',
    '(test/lab/pacemaker.test.ts): a real two-node cluster in User-Mode Linux nodes,',
    'fenced through the host by `stonith:fence_lab`, managing DRBD r0 (8.4, protocol C,',
    '`fencing resource-and-stonith` with crm-fence-peer.sh / crm-unfence-peer.sh) as a',
    'promotable clone of `ocf:linbit:drbd` and an ext4 `ocf:heartbeat:Filesystem` on',
    '/dev/drbd0, colocated with and ordered after the promoted instance.',
    '',
    'Versions:',
    '',
    `- Pacemaker: ${versions['pacemaker'] ?? '?'}`,
    `- corosync: ${versions['corosync'] ?? '?'}`,
    `- drbd-utils: ${versions['drbd-utils'] ?? '?'} (kernel module DRBD ${versions['drbd'] ?? '?'})`,
    `- kernel: ${versions['kernel'] ?? '?'} (User-Mode Linux)`,
    '',
    '| file | state |',
    '| --- | --- |',
    ...recorded.map((r) => `| \`${r.name}\` | ${r.what} |`),
    '',
  ];
  writeFileSync(join(FIXTURES, 'README.md'), lines.join('\n'));
}
