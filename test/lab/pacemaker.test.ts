/**
 * A real Pacemaker 2.1.5 + Corosync 3.1.7 cluster on two lab nodes, with real
 * fencing (the host powers a node off: fence_lab → test/lab/harness/fence.ts),
 * running MariaDB on ext4 on DRBD 8.4 with the configuration hastor generates
 * (topology A: `ocf:linbit:drbd` promotable, Filesystem, IPaddr2, `ocf:heartbeat:mysql`).
 * A third node is the database's client and the switch between the two: its
 * links to node1 and node2 are bridged, so the service address floats on one
 * L2 segment as on a real LAN.
 *  a. the cluster comes up: both nodes online, a DC, quorum;
 *  b. without a STONITH device, Pacemaker refuses the configuration (crm_verify);
 *  c. the lab fence device is installed, registered, and its monitor reaches the host;
 *  d. r0 (resource-and-stonith, crm-fence-peer.sh) created by hastor, MariaDB's datadir
 *     on it, hastor's generated configuration loaded: MariaDB runs where r0 is promoted;
 *  e. HASTOR_LAB_RECORD=1: crm_mon XML and the CIB into test/fixtures/pacemaker/lab/;
 *  f. while node3 commits rows, the promoted node's UML process is SIGKILLed: the
 *     survivor fences it through the host (pid confirmed gone), promotes DRBD, mounts,
 *     starts MariaDB and takes the address; every acknowledged commit is there;
 *  g. the dead node boots again and rejoins as the unpromoted side;
 *  s. a planned switchover (crm_resource --move --promoted) under writes loses no commit;
 *  x. the exporter's Pacemaker metrics on the live cluster;
 *  h. hastor refuses to act behind Pacemaker, doctor reads it, maintenance hands over;
 *  n. a network split between the two: priority-fencing-delay lets the promoted node
 *     win, the other is fenced, the service never moves, no commit is lost.
 *
 * The tests build on each other (one lab); run the file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceDefinitionInput } from '../../src/index.js';
import { SafetyError } from '../../src/errors.js';
import { parseResourceDefinition, setPacemakerMaintenance } from '../../src/index.js';
import { parseClusterFile } from '../../src/stack/cluster-file.js';
import { Cluster } from '../../src/stack/cluster.js';
import { runDoctor } from '../../src/stack/doctor.js';
import { DrbdResource } from '../../src/stack/drbd-resource.js';
import { applyStackPacemakerConfig } from '../../src/stack/pacemaker-apply.js';
import { generateStackPacemakerConfig } from '../../src/stack/pacemaker-config.js';
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
import { distPath, GUEST_NODE, projectRoot } from './harness/paths.js';

const RECORD = process.env['HASTOR_LAB_RECORD'] === '1';
const FIXTURES = join(projectRoot(), 'test', 'fixtures', 'pacemaker', 'lab');
const VG = 'vg_lab';
const LV = 'r0_disk';
const LV_MIB = 128;
const MOUNT = '/mnt/r0';
const MEM_MIB = 768;
/** The service address, on the segment node3 bridges (node1's and node2's vec1 face node3). */
const VIP = '10.98.0.100';
const CLIENT_ADDRESS = '10.98.0.3/24';
const DB = {
  cnf: '/etc/mysql/lab-r0.cnf',
  datadir: `${MOUNT}/mysql`,
  // Node-local, as hastor's rule state-file-on-shared-filesystem demands.
  pid: '/run/mysqld/lab-r0.pid',
  socket: '/run/mysqld/lab-r0.sock',
  log: '/var/log/mysql/lab-r0.err',
};
// MariaDB 10.11 reserves address space for innodb_buffer_pool_size_max (8 TiB by default), which a UML guest cannot map.
const MY_CNF = `[mysqld]
bind-address = 0.0.0.0
innodb_buffer_pool_size = 32M
innodb_buffer_pool_size_max = 64M
innodb_log_file_size = 16M
innodb_flush_log_at_trx_commit = 1
skip-name-resolve
performance_schema = OFF
`;

const fileStart = Date.now();
const log = (line: string) => console.log(`[pacemaker-lab +${secondsSince(fileStart)}] ${line}`);

let lab: Lab | undefined;
let fence: FenceService | undefined;
let node1: LabNode;
let node2: LabNode;
let node3: LabNode;
let clusterUp = false;
/** Where r0 was first promoted (the node f kills), and the other. */
let promoted: LabNode;
let survivor: LabNode;
/** Where r0 is promoted now, and the unpromoted side, as the steps move it. */
let active: LabNode;
let passive: LabNode;
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
  for (const n of lab!.nodes.filter((x) => x.isRunning() && x !== node3)) {
    const r = await n.exec(['sh', '-c', 'cat /proc/drbd; drbdadm status; dmesg | grep -i drbd | tail -n 40; tail -n 60 /var/log/pacemaker/pacemaker.log | grep -i -E "drbd|mysql|error"']);
    out.push(`--- ${n.name}\n${r.stdout}${r.stderr}`);
  }
  return out.join('\n');
}

const cib = (node: LabNode, scope: string, xml: string) => node.execOk(['cibadmin', '--create', '--scope', scope, '--xml-text', xml]);

/**
 * The database client in node3: one connection per INSERT (as an application
 * reconnecting after a failover would), a key it chose itself, and a line
 * `ok KEY MS` only after the server acknowledged the commit (autocommit,
 * exit 0). `timeout` bounds a connection to a server that died mid-query.
 */
const CLIENT = `VIP=$1; OUT=$2; STOP=$3; n=$4
while [ ! -e "$STOP" ]; do
  n=$((n+1))
  if timeout 5 mariadb --connect-timeout=2 -h "$VIP" -u lab -plab lab -e "INSERT INTO acks (k) VALUES ($n)" 2>>"$OUT.err"; then
    echo "ok $n $(date +%s%3N)" >> "$OUT"
  else
    echo "fail $n $(date +%s%3N)" >> "$OUT"
    sleep 0.3
  fi
done
echo "end $n $(date +%s%3N)" >> "$OUT"
`;

interface ClientLine {
  ok: boolean;
  key: number;
  atMs: number;
}

/** One run of the client: its keys are round × 10^6 + 1, 2, …, so runs never share a key. */
class DbClient {
  private readonly out: string;
  private readonly stop: string;
  constructor(readonly round: number) {
    this.out = `/tmp/db-client-${round}.log`;
    this.stop = `/tmp/db-client-${round}.stop`;
  }

  async start(): Promise<void> {
    await node3.writeFile('/tmp/db-client.sh', CLIENT);
    await node3.spawnBackground(['sh', '/tmp/db-client.sh', VIP, this.out, this.stop, String(this.round * 1_000_000)], { stdoutPath: `${this.out}.stdout` });
  }

  async lines(): Promise<ClientLine[]> {
    const text = await node3.readFile(this.out).catch(() => '');
    return text
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[0] === 'ok' || f[0] === 'fail')
      .map((f) => ({ ok: f[0] === 'ok', key: Number(f[1]), atMs: Number(f[2]) }));
  }

  async waitAcks(count: number, after: number, what: string, timeoutMs: number): Promise<ClientLine[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = await this.lines();
      if (lines.filter((l) => l.ok && l.atMs > after).length >= count) return lines;
      if (Date.now() > deadline) {
        const errors = (await node3.exec(['tail', '-n', '5', `${this.out}.err`])).stdout;
        throw new Error(`db client: no ${count} acknowledged commits ${what} within ${timeoutMs} ms (${lines.filter((l) => l.ok).length} ok, ${lines.filter((l) => !l.ok).length} failed); last errors:\n${errors}`);
      }
      await sleep(500);
    }
  }

  /** Stops the client and waits for its last line; returns every line. */
  async finish(): Promise<ClientLine[]> {
    await node3.execOk(['touch', this.stop]);
    const deadline = Date.now() + 30_000;
    while (!(await node3.readFile(this.out).catch(() => '')).includes('\nend ')) {
      if (Date.now() > deadline) throw new Error(`db client ${this.round} did not stop within 30 s`);
      await sleep(300);
    }
    return this.lines();
  }
}

/** Every acknowledged key of the run, read back on the node serving the database: none may be missing. */
async function lostCommits(server: LabNode, lines: readonly ClientLine[], round: number): Promise<{ acked: number; present: number; lost: number[] }> {
  const base = round * 1_000_000;
  const r = await server.execOk(['mariadb', '-S', DB.socket, '-N', '-B', '-e', `SELECT k FROM lab.acks WHERE k > ${base} AND k <= ${base + 999_999}`], { timeoutMs: 60_000 });
  const present = new Set(r.stdout.split('\n').filter((l) => l !== '').map(Number));
  const acked = lines.filter((l) => l.ok).map((l) => l.key);
  return { acked: acked.length, present: present.size, lost: acked.filter((k) => !present.has(k)) };
}

/**
 * The longest time without an acknowledged commit from the last one before
 * `fromMs` on: what the client lived through (kill, cut or move → writes
 * acknowledged again).
 */
function writeGapMs(lines: readonly ClientLine[], fromMs: number): number {
  const acks = lines.filter((l) => l.ok).map((l) => l.atMs);
  const start = acks.filter((at) => at <= fromMs).pop() ?? fromMs;
  let previous = start;
  let longest = 0;
  for (const at of acks.filter((a) => a > start)) {
    longest = Math.max(longest, at - previous);
    previous = at;
  }
  return longest;
}

/** The cluster file hastor generates the configuration from: r0, the lab fence device, MariaDB behind the address. */
function clusterFileText(overrides: { pid?: string } = {}): string {
  return JSON.stringify({
    nodes: [
      { name: 'node1', local: true },
      { name: 'node2', ssh: { host: node2.address, user: 'hastor' } },
    ],
    resources: { r0: definition },
    pacemaker: {
      topology: 'service',
      resource: 'r0',
      fencing: { devices: [{ id: 'fence-lab-hastor', agent: 'fence_lab', params: { pcmk_host_list: 'node1 node2' } }], priorityFencingDelay: '10s' },
      // Power off, not reboot: a fenced node stays down until the test boots it (no fence loop, explicit rejoin).
      properties: { 'stonith-action': 'off' },
      service: {
        id: 'db',
        agent: 'ocf:heartbeat:mysql',
        params: { config: DB.cnf, datadir: DB.datadir, pid: overrides.pid ?? DB.pid, socket: DB.socket, log: DB.log, user: 'mysql', group: 'mysql' },
        filesystem: { directory: MOUNT, fstype: 'ext4' },
        ip: { address: VIP, cidrNetmask: 24, nic: 'vec1' },
      },
    },
  });
}

/** Waits (asking `reader`) until r0 is promoted on exactly one node, `on` when given, and the whole db group runs there. */
async function waitServiceOn(reader: LabNode, on: LabNode | null, timeoutMs: number): Promise<CrmMon> {
  return waitForCluster(
    reader,
    (m) => {
      const p = whereRole(m, 'drbd-r0', 'Promoted');
      return p.length === 1 && (on === null || p[0] === on.name) && ['fs-r0', 'ip-db', 'db'].every((id) => whereRole(m, id, 'Started').join() === p[0]);
    },
    `r0 promoted and fs-r0, ip-db, db started on ${on === null ? 'one node' : on.name}`,
    timeoutMs,
  );
}

/** Pacemaker's results for the stack's start/promote operations in the node's log since `sinceMs`, as "+S s op rsc rc" for the timeline. */
async function operationTimeline(node: LabNode, sinceMs: number): Promise<string> {
  const r = await node.exec(['sh', '-c', `grep -h -E "Result of (start|promote) operation for (drbd-r0|fs-r0|ip-db|db) " /var/log/pacemaker/pacemaker.log | tail -n 20`]);
  const year = new Date(sinceMs).getFullYear();
  return r.stdout
    .split('\n')
    .map((line) => {
      const m = /^(\w{3} \d+ \d\d:\d\d:\d\d)\S* .*Result of (\w+) operation for (\S+) on \S+: (.*?)(?: \||$)/.exec(line);
      if (m === null) return null;
      const at = Date.parse(`${m[1]} ${year}`);
      return at + 1000 < sinceMs ? null : `+${((at - sinceMs) / 1000).toFixed(0)} s ${m[2]} ${m[3]}: ${m[4]}`;
    })
    .filter((x) => x !== null)
    .join('; ');
}

beforeAll(async () => {
  lab = await startLab({ nodes: 3, memMiB: MEM_MIB, disksMiB: [256] });
  [node1, node2, node3] = lab.nodes as [LabNode, LabNode, LabNode];
  fence = startFenceService(lab, { log });
  const pair = [node1, node2];
  await prepareClusterNodes(pair);
  await Promise.all([
    writeCorosyncConfig(pair),
    ...pair.map(async (n) => {
      await n.execOk(['modprobe', '-a', 'dm-mod', 'drbd']);
      await n.execOk(['pvcreate', '-y', '/dev/ubda']);
      await n.execOk(['vgcreate', '-y', VG, '/dev/ubda']);
      await n.execOk(['lvcreate', '-y', '-L', `${LV_MIB}m`, '-n', LV, VG]);
      await n.execOk(['mkdir', '-p', MOUNT, '/etc/mysql', '/var/log/mysql']);
      await n.writeFile(DB.cnf, MY_CNF);
      await installFenceAgent(n);
    }),
    // node3 switches between its links to node1 and node2 and is the client on that segment.
    node3.execOk(['sh', '-c', `modprobe bridge && ip link add br0 type bridge && ip link set vec0 master br0 && ip link set vec1 master br0 && ip addr add ${CLIENT_ADDRESS} dev br0 && ip link set br0 up`]),
  ]);
  log(`lab ready (boot ${(lab.state.bootMs / 1000).toFixed(1)} s); guest memory in use before the cluster: ${(await Promise.all(pair.map(memUsedMiB))).join(', ')} MiB of ${MEM_MIB}`);
}, 180_000);

afterAll(async () => {
  try {
    if (clusterUp && lab) {
      const running = [node1, node2].filter((n) => n.isRunning());
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
    const up = await startCluster([node1, node2], { log });
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
    log(`versions: ${JSON.stringify(versions)}; guest memory in use with the cluster: ${(await Promise.all([node1, node2].map(memUsedMiB))).join(', ')} MiB`);
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

  it('d. r0 by hastor, MariaDB on it, and hastor\'s generated configuration: the database runs where r0 is promoted', async () => {
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
    // The generator refuses a pid file on the shared filesystem before anything is loaded.
    const refused = (() => {
      try {
        generateStackPacemakerConfig(parseClusterFile(clusterFileText({ pid: `${DB.datadir}/mysqld.pid` }), 'lab-cluster.json'));
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect((refused as SafetyError).rule).toBe('state-file-on-shared-filesystem');
    const generated = generateStackPacemakerConfig(parseClusterFile(clusterFileText(), 'lab-cluster.json'));
    expect(generated.config.primitives.map((p) => p.id)).toContain('db');

    const cluster = await Cluster.connect([node1, node2].map((n) => ({ name: n.name, executor: new LabExecutor(n) })));
    const r0 = new DrbdResource(cluster, definition);
    let t = Date.now();
    await r0.create({ syncSource: 'node1', stayPrimary: true });
    await waitForProc(node1, 0, upToDateBoth, 'UpToDate/UpToDate', 120_000);
    log(`r0 created and synced (${LV_MIB} MiB) in ${secondsSince(t)}`);
    const res = await node1.readFile('/etc/drbd.d/r0.res');
    expect(res).toMatch(/fencing\s+resource-and-stonith/);
    expect(res).toMatch(/fence-peer\s+"?\/usr\/lib\/drbd\/crm-fence-peer\.sh/);
    t = Date.now();
    await node1.execOk(['mkfs.ext4', '-q', '-F', '-E', 'nodiscard', '/dev/drbd0'], { timeoutMs: 120_000 });
    await node1.execOk(['mount', '/dev/drbd0', MOUNT]);
    await node1.execOk(['mariadb-install-db', `--defaults-file=${DB.cnf}`, '--user=mysql', `--datadir=${DB.datadir}`, '--skip-test-db', '--auth-root-authentication-method=socket'], { timeoutMs: 180_000 });
    await node1.execOk(['umount', MOUNT]);
    await node1.execOk(['drbdadm', 'secondary', 'r0']);
    log(`ext4 and MariaDB's datadir on r0 in ${secondsSince(t)}`);

    // UML under load (2 cores shared with other labs): Pacemaker's 20 s default op timeout failed a drbd start.
    await node1.execOk(['crm_attribute', '--type', 'op_defaults', '--name', 'timeout', '--update', '120s']);
    t = Date.now();
    // The generated configuration names its own fence device: the hand-made one of c goes (apply never takes over an object it did not make).
    await node1.execOk(['cibadmin', '--delete', '--xml-text', '<primitive id="fence-lab"/>']);
    // apply refuses while the cluster is in transition (the device being stopped).
    await node1.execOk(['crm_resource', '--wait'], { timeoutMs: 180_000 });
    const file = parseClusterFile(clusterFileText(), 'lab-cluster.json');
    const plan = await applyStackPacemakerConfig(file, new LabExecutor(node1), { dryRun: true });
    expect(plan.result.applied).toBe(false);
    expect(plan.result.changes.map((c) => c.id)).toEqual(expect.arrayContaining(['fence-lab-hastor', 'drbd-r0-clone', 'g-db']));
    const applied = await applyStackPacemakerConfig(file, new LabExecutor(node1));
    expect([applied.result.applied, applied.result.verify?.ok]).toEqual([true, true]);
    log(`hastor's configuration applied (${applied.result.changes.length} changes, CIB epoch ${applied.result.before.epoch} → ${applied.result.after?.epoch})`);
    const verify = await node1.exec(['crm_verify', '-L']);
    expect([verify.exitCode, `${verify.stdout}${verify.stderr}`.trim()]).toEqual([0, '']);

    const mon = await waitServiceOn(node1, null, 300_000).catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}\n${await drbdDiagnostics()}`);
    });
    const where = whereRole(mon, 'drbd-r0', 'Promoted')[0] as string;
    expect(whereRole(mon, 'drbd-r0', 'Unpromoted')).toHaveLength(1);
    // Idempotent: on the running cluster a second apply finds nothing to do and writes nothing.
    const again = await applyStackPacemakerConfig(file, new LabExecutor(node1));
    expect([again.result.already, again.result.applied, again.result.changes]).toEqual([true, false, []]);
    log(`MariaDB up on ${where} ${secondsSince(t)} after the configuration was loaded; operations: ${await operationTimeline(lab!.node(where), t)}`);
    promoted = lab!.node(where);
    survivor = promoted === node1 ? node2 : node1;
    // The kernel agrees with Pacemaker: Primary and mounted there, Secondary on the other; the address is there only.
    expect((await promoted.readFile('/proc/drbd')).match(/ro:(\S+)/)?.[1]).toBe('Primary/Secondary');
    expect((await survivor.readFile('/proc/drbd')).match(/ro:(\S+)/)?.[1]).toBe('Secondary/Primary');
    expect(await mountOf(promoted)).toBe('/dev/drbd0 ext4');
    expect(await mountOf(survivor)).toBe('');
    expect((await promoted.execOk(['ip', '-o', 'addr', 'show', 'dev', 'vec1'])).stdout).toContain(`${VIP}/24`);
    expect((await survivor.execOk(['ip', '-o', 'addr', 'show', 'dev', 'vec1'])).stdout).not.toContain(VIP);

    await promoted.execOk(
      ['mariadb', '-S', DB.socket, '-e', "CREATE DATABASE lab; CREATE USER 'lab'@'%' IDENTIFIED BY 'lab'; GRANT ALL ON lab.* TO 'lab'@'%'; CREATE TABLE lab.acks (k BIGINT PRIMARY KEY, at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB"],
      { timeoutMs: 60_000 },
    );
    await promoted.execOk(['sh', '-c', `dd if=/dev/urandom of=${MOUNT}/data bs=1M count=8 status=none && sync`]);
    dataSum = (await promoted.execOk(['sha256sum', `${MOUNT}/data`])).stdout.split(' ')[0] as string;
    expect(dataSum).toMatch(/^[0-9a-f]{64}$/);
    // The client reaches the database through the address, across node3's bridge.
    const probe = await node3.execOk(['mariadb', '--connect-timeout=5', '-h', VIP, '-u', 'lab', '-plab', 'lab', '-N', '-B', '-e', 'SELECT @@hostname'], { timeoutMs: 30_000 });
    expect(probe.stdout.trim()).toBe(promoted.name);
    log(`guest memory in use with MariaDB: ${(await Promise.all([node1, node2].map(memUsedMiB))).join(', ')} MiB`);
    await recordState(promoted, 'promoted', `r0 promoted and the db group (fs-r0, ip-db, db) started on ${promoted.name}, ${survivor.name} unpromoted, fence-lab started`);
  });

  it('f. the promoted node crashes under writes: fenced through the host, the database back on the survivor, no acknowledged commit lost', async () => {
    const victim = promoted;
    const victimPid = victim.pid;
    const client = new DbClient(1);
    await client.start();
    await client.waitAcks(10, 0, 'before the crash', 120_000);
    const before = fence!.fenced.length;
    const t0 = Date.now();
    await lab!.killNode(victim.name);
    log(`${victim.name} (pid ${victimPid}) SIGKILLed while node3 commits`);
    let fencedAt = 0;
    let promotedAt = 0;
    let mountedAt = 0;
    let dbAt = 0;
    let last: CrmMon | undefined;
    const deadline = t0 + 240_000;
    while (Date.now() < deadline && dbAt === 0) {
      if (fencedAt === 0 && fence!.fenced.slice(before).some((f) => f.result === 'off')) fencedAt = Date.now();
      const r = await survivor.exec(['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 30_000 });
      if (r.exitCode === 0) {
        last = parseCrmMon(r.stdout);
        if (promotedAt === 0 && whereRole(last, 'drbd-r0', 'Promoted').includes(survivor.name)) promotedAt = Date.now();
        if (mountedAt === 0 && promotedAt !== 0 && (await mountOf(survivor)) === '/dev/drbd0 ext4') mountedAt = Date.now();
        if (mountedAt !== 0 && whereRole(last, 'db', 'Started').includes(survivor.name)) dbAt = Date.now();
      }
      if (dbAt === 0) await sleep(500);
    }
    const s = (at: number) => (at === 0 ? 'never' : `${((at - t0) / 1000).toFixed(1)} s`);
    expect(dbAt, `MariaDB not started on ${survivor.name} within 240 s; last crm_mon:\n${last?.xml ?? ''}\n${await drbdDiagnostics()}`).toBeGreaterThan(0);
    await client.waitAcks(5, dbAt, 'after the failover', 120_000);
    const lines = await client.finish();
    const gap = writeGapMs(lines, t0);
    log(`failover: kill → fenced ${s(fencedAt)}, → promoted ${s(promotedAt)}, → mounted ${s(mountedAt)}, → db started ${s(dbAt)}, → writes acknowledged again (longest time without an acknowledged commit) ${(gap / 1000).toFixed(1)} s`);
    log(`operations on ${survivor.name} after the kill: ${await operationTimeline(survivor, t0)}`);

    const fences = fence!.fenced.slice(before);
    expect(fences).toEqual([expect.objectContaining({ from: survivor.name, target: victim.name, action: 'off', result: 'off', targetPid: victimPid })]);
    expect(existsSync(`/proc/${victimPid}`)).toBe(false);
    expect(fencedAt).toBeLessThanOrEqual(promotedAt);
    // Pacemaker's own fence history names the lab device and the survivor.
    const history = await survivor.execOk(['stonith_admin', '--history', victim.name, '--verbose']);
    expect(history.stdout).toMatch(new RegExp(`${survivor.name}.*(fence-lab|turning off|off)|(fence-lab|off).*${survivor.name}`));

    // Every commit the client saw acknowledged is in the survivor's database.
    const result = await lostCommits(survivor, lines, 1);
    log(`commits: ${result.acked} acknowledged, ${result.present} in the table on ${survivor.name}, lost: ${result.lost.length}`);
    expect(result.acked).toBeGreaterThanOrEqual(15);
    expect(result.lost).toEqual([]);
    // The dead node left MariaDB's files on the shared filesystem mid-write: the survivor started on them.
    const recovery = (await survivor.execOk(['sh', '-c', `grep -c -i -E "crash recovery|Starting final batch to recover|recovery" ${DB.log} || true`])).stdout.trim();
    log(`MariaDB's log on ${survivor.name}: ${recovery} recovery line(s)`);
    expect((await survivor.readFile('/proc/drbd')).match(/ro:(\S+)/)?.[1]).toBe('Primary/Unknown');
    expect((await survivor.execOk(['sha256sum', `${MOUNT}/data`])).stdout.split(' ')[0]).toBe(dataSum);
    expect((await survivor.execOk(['ip', '-o', 'addr', 'show', 'dev', 'vec1'])).stdout).toContain(`${VIP}/24`);
    // crm-fence-peer.sh left its constraint: the victim may not be promoted until it has resynced.
    const constraints = (await survivor.execOk(['cibadmin', '-Q', '--scope', 'constraints'])).stdout;
    expect(constraints).toMatch(/drbd-fence-by-handler-r0/);
    const mon = await crmMon(survivor);
    expect(mon.nodes.find((n) => n.name === victim.name)?.online).toBe(false);
    await recordState(survivor, 'after-failover', `${victim.name} SIGKILLed and fenced (off) by ${survivor.name}; r0 promoted and the db group started on ${survivor.name}`);
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
    active = survivor;
    passive = victim;
  });
});

describe('MariaDB under Pacemaker: a planned switchover and a network split lose no commit', () => {
  it('s. a planned switchover under writes (crm_resource --move --promoted, then --clear): the database moves, no acknowledged commit lost', async () => {
    const from = active;
    const to = passive;
    const client = new DbClient(2);
    await client.start();
    await client.waitAcks(10, 0, 'before the switchover', 120_000);
    const t0 = Date.now();
    await from.execOk(['crm_resource', '--resource', 'drbd-r0-clone', '--move', '--promoted', '--node', to.name]);
    await waitServiceOn(to, to, 240_000).then(
      (m) => expect(whereRole(m, 'drbd-r0', 'Promoted')).toEqual([to.name]),
      async (e: unknown) => {
        throw new Error(`${(e as Error).message}\n${await drbdDiagnostics()}`);
      },
    );
    const movedAt = Date.now();
    await from.execOk(['crm_resource', '--resource', 'drbd-r0-clone', '--clear']);
    await client.waitAcks(5, movedAt, 'after the switchover', 120_000);
    const lines = await client.finish();
    const result = await lostCommits(to, lines, 2);
    log(`switchover ${from.name} → ${to.name}: db group started there ${((movedAt - t0) / 1000).toFixed(1)} s after the move, longest time without an acknowledged commit ${(writeGapMs(lines, t0) / 1000).toFixed(1)} s; commits ${result.acked} acknowledged, lost ${result.lost.length}`);
    expect(result.lost).toEqual([]);
    expect((await to.execOk(['ip', '-o', 'addr', 'show', 'dev', 'vec1'])).stdout).toContain(`${VIP}/24`);
    expect(fence!.fenced.filter((f) => f.atMs > t0)).toEqual([]);
    const unpromoted = await waitForCluster(to, (m) => whereRole(m, 'drbd-r0', 'Unpromoted').includes(from.name), `r0 unpromoted on ${from.name}`, 120_000);
    expect(unpromoted.resources.some((r) => r.failed === true)).toBe(false);
    active = to;
    passive = from;
  });
});

describe('hastor under Pacemaker (issue 16): never behind its back', () => {
  it('x. the exporter (--pacemaker) in the promoted node shows where r0 is promoted, the fencing of f and a cluster out of maintenance', async () => {
    const out = join(active.nodeDir, 'exporter-pacemaker.out');
    const pid = await active.spawnBackground([GUEST_NODE, distPath('guest', 'exporter-run.js'), '--listen', '127.0.0.1:9942', '--no-lvm', '--pacemaker'], { stdoutPath: out });
    try {
      const deadline = Date.now() + 60_000;
      while (!(existsSync(out) && readFileSync(out, 'utf8').includes('"listening"'))) {
        if (Date.now() > deadline) throw new Error(`the exporter did not listen within 60 s:\n${existsSync(out) ? readFileSync(out, 'utf8') : ''}`);
        await sleep(200);
      }
      const metrics = (await active.execOk(['curl', '-sS', '--fail', '--max-time', '30', 'http://127.0.0.1:9942/metrics'], { timeoutMs: 40_000 })).stdout;
      const clone = 'resource="r0",clone="drbd-r0-clone"';
      expect(metrics).toMatch(/^hastor_pacemaker_up 1$/m);
      expect(metrics).toContain(`hastor_pacemaker_drbd_promoted{${clone},node="${active.name}"} 1\n`);
      expect(metrics).toContain(`hastor_pacemaker_drbd_promoted{${clone},node="${passive.name}"} 0\n`);
      expect(metrics).toMatch(new RegExp(`^hastor_pacemaker_fence_events\\{target="${promoted.name}",action="off",status="success"\\} [1-9]`, 'm'));
      expect(metrics).toMatch(/^hastor_pacemaker_maintenance_mode 0$/m);
      expect(metrics).not.toMatch(/^hastor_pacemaker_drbd_fence_constraint\{/m);
      log(`exporter in ${active.name}: ${metrics.split('\n').filter((l) => /^hastor_pacemaker_(drbd_promoted|fence_events|quorum)/.test(l)).join(' | ')}`);
    } finally {
      await active.exec(['kill', '-TERM', String(pid)]);
    }
  });

  it('h. down of the unpromoted side and a switchover are refused with the crm_resource way; doctor reads the cluster; maintenance hands r0 over and back', async () => {
    const cluster = await Cluster.connect([node1, node2].map((n) => ({ name: n.name, executor: new LabExecutor(n) })));
    const r0 = new DrbdResource(cluster, definition);
    const before = (await active.execOk(['cat', '/proc/drbd'])).stdout;

    const down = await r0.down({ nodes: [passive.name] }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(SafetyError);
    expect((down as SafetyError).rule).toBe('pacemaker-managed');
    expect((down as Error).message).toContain(`Pacemaker manages r0 as drbd-r0-clone (promoted on ${active.name})`);
    expect((down as Error).message).toContain(`crm_resource --resource drbd-r0-clone --ban --node ${passive.name}`);
    const switchover = await r0.promote(passive.name).catch((e: unknown) => e);
    expect((switchover as SafetyError).rule).toBe('pacemaker-managed');
    expect((switchover as Error).message).toContain(`crm_resource --resource drbd-r0-clone --move --promoted --node ${passive.name}`);
    // Nothing changed: both still up and connected, the same roles.
    expect((await active.execOk(['cat', '/proc/drbd'])).stdout.split('\n')[2]?.replace(/ns:.*/, '')).toBe(before.split('\n')[2]?.replace(/ns:.*/, ''));

    const report = await runDoctor(cluster, [parseResourceDefinition(definition)]);
    const pcmk = report.findings.filter((f) => f.rule.startsWith('pacemaker-'));
    log(`doctor's Pacemaker findings on the healthy cluster: ${pcmk.map((f) => `${f.severity} ${f.rule}`).join(', ') || 'none'}`);
    expect(pcmk.filter((f) => f.severity === 'error')).toEqual([]);

    const t = Date.now();
    const on = await setPacemakerMaintenance(cluster.node(active.name).executor, { on: true, resource: 'drbd-r0-clone' });
    expect(on).toMatchObject({ already: false, resource: 'drbd-r0-clone' });
    log(`maintenance on for drbd-r0-clone: crm_mon showed it unmanaged ${secondsSince(t)} after`);
    const unmanaged = await runDoctor(cluster, [parseResourceDefinition(definition)]);
    expect(unmanaged.findings.map((f) => f.rule)).toContain('pacemaker-unmanaged');
    // Hands off: hastor plans the down itself (not run: Pacemaker gets r0 back as it was).
    const plan = await r0.down({ nodes: [passive.name], dryRun: true });
    expect(plan.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`)).toEqual([`${passive.name}: drbdadm down r0`]);
    const off = await setPacemakerMaintenance(cluster.node(active.name).executor, { on: false, resource: 'drbd-r0-clone' });
    expect(off.already).toBe(false);
    expect((await r0.down({ nodes: [passive.name], dryRun: true }).catch((e: unknown) => e) as SafetyError).rule).toBe('pacemaker-managed');
  });
});


describe('a network split between the two nodes', () => {
  it('n. priority-fencing-delay: the promoted node wins, the other is fenced, the database never moves, no acknowledged commit lost', async () => {
    const winner = active;
    const loser = passive;
    const loserPid = loser.pid;
    const client = new DbClient(3);
    await client.start();
    await client.waitAcks(10, 0, 'before the split', 120_000);
    const before = fence!.fenced.length;
    const t0 = Date.now();
    // Only the link between the two: node3 still reaches both (the service address stays reachable).
    await Promise.all([winner.linkDown(loser.name), loser.linkDown(winner.name)]);
    log(`link ${winner.name} ↔ ${loser.name} cut while node3 commits`);
    const deadline = t0 + 180_000;
    while (Date.now() < deadline && !fence!.fenced.slice(before).some((f) => f.result === 'off')) await sleep(500);
    const fencedAt = Date.now();
    await client.waitAcks(5, fencedAt, 'after the split', 120_000);
    const lines = await client.finish();
    const fences = fence!.fenced.slice(before);
    log(`split: ${fences.map((f) => `${f.from} fenced ${f.target} (${f.result}) ${((f.atMs - t0) / 1000).toFixed(1)} s after the cut`).join('; ') || 'no fencing'}; longest time without an acknowledged commit ${(writeGapMs(lines, t0) / 1000).toFixed(1)} s`);
    expect(fences).toEqual([expect.objectContaining({ from: winner.name, target: loser.name, result: 'off', targetPid: loserPid })]);
    expect(loser.isRunning()).toBe(false);
    // The service never moved: still promoted, mounted and addressed on the winner.
    const mon = await waitServiceOn(winner, winner, 60_000);
    expect(whereRole(mon, 'drbd-r0', 'Promoted')).toEqual([winner.name]);
    expect(mon.nodes.find((n) => n.name === loser.name)?.online).toBe(false);
    expect((await winner.readFile('/proc/drbd')).match(/ro:(\S+)/)?.[1]).toBe('Primary/Unknown');
    const result = await lostCommits(winner, lines, 3);
    log(`commits: ${result.acked} acknowledged, lost ${result.lost.length}`);
    expect(result.lost).toEqual([]);
    // Every round's acknowledged commits are still there on the last node standing.
    expect((await winner.execOk(['sha256sum', `${MOUNT}/data`])).stdout.split(' ')[0]).toBe(dataSum);
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
