/**
 * Issue 15, part 2: a real DRBD 8.4 split brain, resolved through hastor's
 * library without losing anyone's data.
 *
 * r0 (64 MiB, every after-sb policy `disconnect`, so DRBD leaves it
 * unresolved) is created and synced with node1 Primary; the link is cut,
 * node2 is promoted on its own, and each side writes its own pattern (two
 * ranges each, one of them overlapping the other side's). On reconnect the
 * kernel finds the split brain and both sides go StandAlone. Then:
 * - with node2's VG full, resolving is refused with the numbers and nothing changes;
 * - the compiled CLI in node2 (node1 over ssh, sudo -n) shows the report and
 *   plans with --dry-run --json without changing anything;
 * - resolveSplitBrain with node2 as the victim snapshots node2's LV, discards
 *   its writes and resyncs it from node1.
 * Checked with raw commands: node1's pattern is on both backing LVs, node2's
 * pattern reads back from the snapshot, the two LVs' data areas hash the
 * same, and online verify finds 0 out of sync.
 *
 * The tests build on each other (one lab); run the file.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationJsonSchema } from '../../src/cli/json-contract.js';
import { SafetyError } from '../../src/errors.js';
import type { ResourceDefinitionInput } from '../../src/index.js';
import { Cluster } from '../../src/stack/cluster.js';
import { DrbdResource } from '../../src/stack/drbd-resource.js';
import { SPLIT_BRAIN_SNAPSHOT_RULE, fullSnapshotBytes, inspectSplitBrain, resolveSplitBrain, type SplitBrainResult } from '../../src/stack/split-brain.js';
import { procDeviceBlock, procWords, secondsSince, waitForProc } from './drbd-scenario.js';
import { LabExecutor } from './harness/lab-executor.js';
import { startLab, type Lab } from './harness/lab.js';
import type { ExecResult, LabNode } from './harness/lab-node.js';
import { GUEST_NODE, projectRoot } from './harness/paths.js';
import { AGENT_SOCKET, BASE_SUDOERS, KNOWN_HOSTS, setupSshAccess } from './ssh-setup.js';

const VG = 'vg_lab';
const LV = 'r0_disk';
const LV_MIB = 64;
const MINOR = 0;
const BLOCK = 4096;

let lab: Lab;
let node1: LabNode;
let node2: LabNode;
let cluster: Cluster;
let r0: DrbdResource;
let definition: ResourceDefinitionInput;
const started = Date.now();

/** A range of 4 KiB blocks written with one side's pattern. */
interface Write {
  node: 'node1' | 'node2';
  startBlock: number;
  blocks: number;
}

// node2's first range overlaps node1's first: the same blocks written differently on each side.
const WRITES: Write[] = [
  { node: 'node1', startBlock: 256, blocks: 64 }, // 1 MiB, 256 KiB
  { node: 'node1', startBlock: 4096, blocks: 16 }, // 16 MiB, 64 KiB
  { node: 'node2', startBlock: 288, blocks: 64 }, // 1.125 MiB, 256 KiB
  { node: 'node2', startBlock: 2048, blocks: 128 }, // 8 MiB, 512 KiB
];

/** The bytes one side writes at a range: its name and the block number in every line, so no two ranges match. */
function pattern(w: Write): Buffer {
  const line = (block: number, i: number) => `${w.node} wrote block ${String(block).padStart(8, '0')} line ${String(i).padStart(4, '0')} during the split\n`;
  const out: string[] = [];
  for (let b = w.startBlock; b < w.startBlock + w.blocks; b++) {
    let text = '';
    for (let i = 0; text.length < BLOCK; i++) text += line(b, i);
    out.push(text.slice(0, BLOCK));
  }
  return Buffer.from(out.join(''));
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** sha256 of a block range of a device, read with O_DIRECT (DRBD writes the backing LV beside the page cache). */
async function rangeHash(node: LabNode, device: string, startBlock: number, blocks: number): Promise<string> {
  // 1 MiB reads with byte offsets: 4 KiB direct reads of a whole LV are slow in UML.
  const [skip, count] = [startBlock * BLOCK, blocks * BLOCK];
  const r = await node.execOk(['sh', '-c', `dd if=${device} bs=1M skip=${skip} count=${count} iflag=direct,skip_bytes,count_bytes 2>/dev/null | sha256sum`]);
  return r.stdout.split(' ')[0] as string;
}

async function writePattern(node: LabNode, w: Write): Promise<void> {
  const file = `/tmp/pattern-${w.startBlock}`;
  await node.writeFile(file, pattern(w));
  await node.execOk(['dd', `if=${file}`, `of=/dev/drbd${MINOR}`, `bs=${BLOCK}`, `seek=${w.startBlock}`, `count=${w.blocks}`, 'oflag=direct', 'conv=notrunc,fsync', 'status=none']);
}

const proc = async (node: LabNode): Promise<string> => (await node.execOk(['cat', '/proc/drbd'])).stdout;
const oosKiB = (text: string): number => Number(/oos:(\d+)/.exec(procDeviceBlock(text, MINOR) ?? '')?.[1] ?? Number.NaN);
const lvNames = async (node: LabNode): Promise<string[]> =>
  (await node.execOk(['lvs', '--noheadings', '-o', 'lv_name', VG])).stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '').sort();
const dmesg = async (node: LabNode): Promise<string> => (await node.execOk(['dmesg'])).stdout;

const CLUSTER_FILE = '/etc/hastor/cluster.json';
// What the CLI runs as root on node1 (the survivor) besides BASE_SUDOERS: the kernel log and lvm reports.
const SUDOERS = `${BASE_SUDOERS}hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C dmesg
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C lvm version, /usr/bin/env LC_ALL\\=C lvs *, /usr/bin/env LC_ALL\\=C vgs *
`;

/** The compiled `hastor` in node2 (the victim, local in its cluster file), node1 over ssh as `hastor` with sudo -n. */
function hastor(args: string[]): Promise<ExecResult> {
  return node2.exec([GUEST_NODE, `${projectRoot()}/bin/hastor.js`, ...args], { env: { SSH_AUTH_SOCK: AGENT_SOCKET }, timeoutMs: 120_000 });
}

beforeAll(async () => {
  lab = await startLab({ nodes: 2, disksMiB: [384] });
  [node1, node2] = lab.nodes as [LabNode, LabNode];
  await Promise.all(
    lab.nodes.map(async (n) => {
      await n.execOk(['modprobe', '-a', 'dm-mod', 'drbd']);
      await n.execOk(['pvcreate', '-y', '/dev/ubda']);
      await n.execOk(['vgcreate', '-y', VG, '/dev/ubda']);
      await n.execOk(['lvcreate', '-y', '-L', `${LV_MIB}m`, '-n', LV, VG]);
    }),
  );
  cluster = await Cluster.connect(lab.nodes.map((n) => ({ name: n.name, executor: new LabExecutor(n) })));
  definition = {
    name: 'r0',
    target: '8.4',
    protocol: 'C',
    // disconnect everywhere: DRBD must leave the split brain for hastor.
    net: { pingInt: 3, pingTimeout: 10, connectInt: 3, timeout: 20, verifyAlg: 'crc32c', afterSb0pri: 'disconnect', afterSb1pri: 'disconnect', afterSb2pri: 'disconnect' },
    disk: { cPlanAhead: 0, resyncRate: '200M' },
    nodes: [node1, node2].map((n) => ({
      name: n.name,
      address: `ipv4 ${n.address}:7789`,
      volumes: [{ volume: 0, minor: MINOR, device: `/dev/drbd${MINOR}`, disk: `/dev/${VG}/${LV}`, metaDisk: 'internal' as const }],
    })),
  };
  r0 = new DrbdResource(cluster, definition);
  // The CLI runs in node2 with node1 over ssh, as an operator on the victim would run it.
  const { name: _name, ...inFile } = definition;
  const clusterFile = {
    nodes: [
      { name: node1.name, ssh: { host: node1.address, user: 'hastor', knownHostsFile: KNOWN_HOSTS, controlDir: '/run/hastor-ssh', options: { ConnectTimeout: '10' } }, sudo: true },
      { name: node2.name, local: true },
    ],
    resources: { r0: inFile },
  };
  await Promise.all([
    r0.create({ syncSource: 'node1', stayPrimary: true }),
    (async () => {
      await setupSshAccess(node1, node2, SUDOERS);
      await node2.execOk(['mkdir', '-p', '/etc/hastor']);
      await node2.writeFile(CLUSTER_FILE, `${JSON.stringify(clusterFile, null, 2)}\n`);
    })(),
  ]);
  console.log(`[split-brain] r0 created and in sync, node1 Primary (${secondsSince(started)})`);
}, 180_000);

afterAll(async () => {
  await lab?.stop();
  console.log(`[split-brain] lab wall time ${secondsSince(started)}`);
});

describe('a real split brain on DRBD 8.4, resolved without losing anyone\'s data', () => {
  it('both sides write while cut off; on reconnect the kernel finds the split brain and both go StandAlone', async () => {
    await node1.linkDown();
    await node2.linkDown();
    // Each side must have given up on the other before writing (protocol C would block node1's writes otherwise).
    await Promise.all([node1, node2].map((n) => waitForProc(n, MINOR, (w) => w.cs === 'WFConnection', 'WFConnection after the cut')));
    await node2.execOk(['drbdadm', 'primary', 'r0']);
    for (const w of WRITES) await writePattern(w.node === 'node1' ? node1 : node2, w);
    const before = { node1: oosKiB(await proc(node1)), node2: oosKiB(await proc(node2)) };
    // Each side's bitmap counts the blocks it wrote (ranges of one side do not overlap each other).
    for (const side of ['node1', 'node2'] as const) {
      expect(before[side] * 1024).toBe(WRITES.filter((w) => w.node === side).reduce((a, w) => a + w.blocks * BLOCK, 0));
    }
    console.log(`[split-brain] written while cut off: node1 ${before.node1} KiB, node2 ${before.node2} KiB (oos:)`);

    await node1.linkUp();
    await node2.linkUp();
    const seen = Date.now();
    await Promise.all([node1, node2].map((n) => waitForProc(n, MINOR, (w) => w.cs === 'StandAlone', 'StandAlone after the split brain')));
    console.log(`[split-brain] both StandAlone ${secondsSince(seen)} after the links came back`);
    for (const n of [node1, node2]) {
      expect(await dmesg(n)).toMatch(new RegExp(`block drbd${MINOR}: Split-Brain detected but unresolved, dropping connection!`));
      expect(procWords(await proc(n), MINOR)).toMatchObject({ cs: 'StandAlone', ro: 'Primary/Unknown', ds: 'UpToDate/DUnknown' });
    }
    const report = await inspectSplitBrain(r0);
    expect(report.splitBrain).toBe(true);
    expect(report.relations).toEqual(['diverged']);
    expect(report.sides.map((s) => s.changedBytes)).toEqual([BigInt(before.node1 * 1024), BigInt(before.node2 * 1024)]);
    expect(report.newer.node).toBe(before.node1 > before.node2 ? 'node1' : 'node2');
    console.log(`[split-brain] report: ${report.sides.map((s) => `${s.node} ${s.volumes[0]?.identifiers?.current}/${s.volumes[0]?.identifiers?.bitmap} changed ${s.changedBytes} B`).join('; ')}; newer: ${report.newer.why}`);
  });

  it('refuses when node2\'s VG has no room for the snapshot, with the numbers, and changes nothing', async () => {
    await node2.execOk(['lvcreate', '-y', '-l', '100%FREE', '-n', 'filler', VG]);
    const free = BigInt((await node2.execOk(['vgs', '--noheadings', '--units', 'b', '--nosuffix', '-o', 'vg_free', VG])).stdout.trim());
    const extent = BigInt((await node2.execOk(['vgs', '--noheadings', '--units', 'b', '--nosuffix', '-o', 'vg_extent_size', VG])).stdout.trim());
    const lvsBefore = await lvNames(node2);
    const error = await resolveSplitBrain(r0, { victim: 'node2' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetyError);
    expect((error as SafetyError).rule).toBe(SPLIT_BRAIN_SNAPSHOT_RULE);
    const needed = fullSnapshotBytes(BigInt(LV_MIB) << 20n, extent);
    expect((error as Error).message).toContain(`needs ${needed} bytes in VG ${VG}, which has ${free} bytes free`);
    console.log(`[split-brain] refused: ${(error as Error).message}`);
    expect(await lvNames(node2)).toEqual(lvsBefore);
    for (const n of [node1, node2]) expect(procWords(await proc(n), MINOR)).toMatchObject({ cs: 'StandAlone', ro: 'Primary/Unknown' });
    await node2.execOk(['lvremove', '-y', `${VG}/filler`]);
  });

  it('the CLI (in node2, node1 over ssh) plans with --dry-run --json, reporting both sides, without changing anything', async () => {
    // One run: node's start-up alone is ~7 s in a UML node; the report's human form and the no-choice refusal are unit-tested.
    const t0 = Date.now();
    const planned = await hastor(['resource', 'resolve-split-brain', 'r0', '--victim', 'node2', '--dry-run', '--json']);
    console.log(`[split-brain] hastor resource resolve-split-brain r0 --victim node2 --dry-run --json in node2: exit ${planned.exitCode} in ${secondsSince(t0)}`);
    expect(planned.stderr).toBe('');
    expect(planned.exitCode).toBe(0);
    const plan = operationJsonSchema.parse(JSON.parse(planned.stdout));
    expect(plan.actions.map((a) => `${a.node}: ${a.argv.slice(0, 3).join(' ')}`)).toEqual([
      'node2: lvcreate -s -n',
      'node2: drbdadm secondary r0',
      'node2: drbdadm connect --discard-my-data',
      'node1: drbdadm connect r0',
    ]);
    expect(plan.splitBrain?.snapshots[0]?.name).toMatch(new RegExp(`^${LV}_sb_\\d{14}$`));
    const sides = plan.splitBrain?.report.sides ?? [];
    expect(sides.map((s) => s.node)).toEqual(['node1', 'node2']);
    for (const side of sides) {
      expect(side.kernelRecords.filter((r) => !r.superseded).map((r) => r.text)).toEqual([expect.stringContaining('Split-Brain detected but unresolved')]);
      expect(side.changedBytes).toBe(WRITES.filter((w) => w.node === side.node).reduce((a, w) => a + w.blocks * BLOCK, 0));
    }
    const written = (node: string) => WRITES.filter((w) => w.node === node).reduce((a, w) => a + w.blocks, 0);
    expect(plan.splitBrain?.report.newer.node).toBe(written('node1') > written('node2') ? 'node1' : 'node2');
    expect(await lvNames(node2)).toEqual([LV]);
    for (const n of [node1, node2]) expect(procWords(await proc(n), MINOR)?.cs).toBe('StandAlone');
  });

  let result: SplitBrainResult;

  it('resolves it with node2 as the victim: snapshot first, then node1\'s data on both', async () => {
    const t0 = Date.now();
    const percents: number[] = [];
    result = await resolveSplitBrain(r0, { victim: 'node2', onProgress: (p) => p.sync !== null && percents.push(p.sync.percent) });
    console.log(`[split-brain] resolved in ${secondsSince(t0)}: ${result.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`).join(' | ')}; progress samples ${percents.join(', ') || 'none (resync ended between reads)'}`);
    expect(result.actions.map((a) => `${a.node}: ${a.argv[0]} ${a.argv[1]}`)).toEqual(['node2: lvcreate -s', 'node2: drbdadm secondary', 'node2: drbdadm connect', 'node1: drbdadm connect']);
    const [snapshot] = result.snapshots;
    expect(snapshot).toMatchObject({ node: 'node2', vg: VG, origin: LV, kind: 'classic' });
    expect(await lvNames(node2)).toEqual([LV, snapshot?.name].sort());
    for (const n of [node1, node2]) expect(procWords(await proc(n), MINOR)).toMatchObject({ cs: 'Connected', ds: 'UpToDate/UpToDate' });
    expect(procWords(await proc(node2), MINOR)?.ro).toBe('Secondary/Primary');

    const lv = `/dev/${VG}/${LV}`;
    for (const w of WRITES.filter((x) => x.node === 'node1')) {
      expect(await rangeHash(node1, lv, w.startBlock, w.blocks)).toBe(sha(pattern(w)));
      expect(await rangeHash(node2, lv, w.startBlock, w.blocks)).toBe(sha(pattern(w)));
    }
    // node2's writes are gone from its LV (it holds node1's data there) and kept in the snapshot.
    const snap = `/dev/${VG}/${snapshot?.name}`;
    for (const w of WRITES.filter((x) => x.node === 'node2')) {
      expect(await rangeHash(node2, lv, w.startBlock, w.blocks)).toBe(await rangeHash(node1, lv, w.startBlock, w.blocks));
      expect(await rangeHash(node2, lv, w.startBlock, w.blocks)).not.toBe(sha(pattern(w)));
      expect(await rangeHash(node2, snap, w.startBlock, w.blocks)).toBe(sha(pattern(w)));
    }
    // The data area of both LVs, whole (DRBD's size, the meta data at the end excluded).
    const blocks = (Number((await node1.execOk(['cat', `/sys/block/drbd${MINOR}/size`])).stdout.trim()) * 512) / BLOCK;
    const [whole1, whole2] = await Promise.all([rangeHash(node1, lv, 0, blocks), rangeHash(node2, lv, 0, blocks)]);
    expect(whole2).toBe(whole1);
    const snapUse = (await node2.execOk(['lvs', '--noheadings', '-o', 'data_percent', `${VG}/${snapshot?.name}`])).stdout.trim();
    console.log(`[split-brain] snapshot ${VG}/${snapshot?.name}: ${snapshot?.sizeBytes} B, ${snapUse}% used; data areas equal (${blocks} blocks)`);
  });

  it('online verify finds 0 out of sync on both nodes', async () => {
    const marker = `hastor-lab verify ${Date.now()}`;
    for (const n of [node1, node2]) await n.execOk(['sh', '-c', `echo "${marker}" > /dev/kmsg`]);
    await node1.execOk(['drbdadm', 'verify', 'r0']);
    // The verify's end is in the kernel log ("Online verify done"); /proc shows VerifyS until then.
    const deadline = Date.now() + 120_000;
    let log = '';
    while (Date.now() < deadline) {
      log = (await dmesg(node1)).split(marker)[1] ?? '';
      if (/Online verify done/.test(log)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(log).toMatch(/Online verify done/);
    await Promise.all([node1, node2].map((n) => waitForProc(n, MINOR, (w) => w.cs === 'Connected', 'Connected after the verify')));
    for (const n of [node1, node2]) {
      expect(oosKiB(await proc(n))).toBe(0);
      const since = (await dmesg(n)).split(marker);
      expect(since).toHaveLength(2);
      expect(since[1]).not.toMatch(/Out of sync/);
    }
    console.log(`[split-brain] verify: ${/Online verify done.*$/m.exec(log)?.[0]}; oos:0 on both`);
  });
});
