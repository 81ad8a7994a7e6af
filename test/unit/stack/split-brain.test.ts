/**
 * resolveSplitBrain on two scripted nodes answering with what DRBD 8.4.11 and
 * lvm2 printed in the lab during a real split brain of r5
 * (test/fixtures/lab-8.4.11-split-brain), plus the pure rules: victim choice,
 * snapshot sizing and room, the action sequence.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, SafetyError } from '../../../src/errors.js';
import { ResourceStateError } from '../../../src/stack/actions.js';
import {
  SPLIT_BRAIN_SNAPSHOT_RULE,
  chooseVictim,
  discardMyDataArgv,
  snapshotArgv,
  fullSnapshotBytes,
  inspectSplitBrain,
  planSnapshots,
  resolveSplitBrain,
  snapshotName,
  type BackingVolume,
  type SplitBrainReport,
  type SplitBrainSide,
} from '../../../src/stack/split-brain.js';
import { CHANGES, EVENTS2, FD_SCAN_R5, NOW, SNAPSHOT, VGS, changes, derived, file, scriptResolution, splitPair } from './split-pair.js';

const fast = { now: NOW, pollIntervalMs: 0, roleTimeoutMs: 500, connectTimeoutMs: 500, syncTimeoutMs: 500 };

/** /proc/drbd's `oos:` (KiB) of minor 5, read straight from a capture. */
const oosBytes = (name: string): bigint => BigInt(/ 5: [\s\S]*?oos:(\d+)/.exec(file(name).stdout)?.[1] as string) * 1024n;

describe('inspecting a real split brain', () => {
  it('reports both sides StandAlone with the kernel record, their UUIDs and changes, and which side changed more', async () => {
    const t = splitPair();
    const report = await inspectSplitBrain(t.r5);
    expect(report.splitBrain).toBe(true);
    expect(report.relations).toEqual(['diverged']);
    const [n1, n2] = report.sides as [SplitBrainSide, SplitBrainSide];
    expect(n1.changedBytes).toBe(oosBytes('proc-drbd-standalone-node1.txt'));
    expect(n2.changedBytes).toBe(oosBytes('proc-drbd-standalone-node2.txt'));
    expect(n2.volumes[0]?.identifiers?.current).toBe(file('get-gi-split-brain-node2.txt').stdout.split(':')[0]);
    expect(n1.kernelRecords).toEqual([{ uptimeSeconds: expect.any(Number), text: expect.stringContaining('block drbd5: Split-Brain detected but unresolved'), superseded: false }]);
    expect(n1.role).toBe('Primary');
    expect(n2.backing?.[0]).toMatchObject({ vg: 'vg_lab', lv: 'r5_disk', sizeBytes: 67108864n, thinPool: null });
    const bigger = (n1.changedBytes as bigint) > (n2.changedBytes as bigint) ? 'node1' : 'node2';
    expect(report.newer.node).toBe(bigger);
    expect(report.newer.why).toMatch(/most changes/);
  });

  it('is no split brain while connected, or StandAlone without a kernel record; resolve refuses with the state and changes nothing', async () => {
    const t = splitPair();
    t.node1.reply(EVENTS2, file('events2-now-statistics-resolved-node1.txt'));
    t.node2.reply(EVENTS2, file('events2-now-statistics-resolved-node2.txt'));
    const error = await resolveSplitBrain(t.r5, { victim: 'node2', ...fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceStateError);
    expect((error as Error).message).toMatch(/not in a split brain: not StandAlone on node1 \(Primary, UpToDate, Connected.*\), node2 \(Secondary, UpToDate, Connected/);

    const u = splitPair();
    for (const n of [u.node1, u.node2]) n.reply('dmesg', derived(file('dmesg-drbd-r5-node1.txt'), /^.*Split-Brain detected.*$/m, ''));
    const report = await inspectSplitBrain(u.r5);
    expect(report.splitBrain).toBe(false);
    expect(report.notSplitBrain).toMatch(/neither kernel log has a "Split-Brain detected" record/);
    // An old split brain, resolved since (a reconnect follows the record), does not count either.
    const v = splitPair();
    for (const [n, name] of [
      [v.node1, 'node1'],
      [v.node2, 'node2'],
    ] as const) {
      const log = file(`dmesg-drbd-r5-${name}.txt`).stdout;
      const reconnect = log.split('\n').find((l) => /conn\( \S+ -> Connected \)/.test(l)) as string;
      n.reply('dmesg', { ...file(`dmesg-drbd-r5-${name}.txt`), stdout: `${log}${reconnect}\n` });
    }
    const old = await inspectSplitBrain(v.r5);
    expect(old.splitBrain).toBe(false);
    expect(old.notSplitBrain).toMatch(/record for it since it last connected/);
    await expect(resolveSplitBrain(u.r5, { victim: 'node2', ...fast })).rejects.toBeInstanceOf(ResourceStateError);
    expect([...changes(t), ...changes(u)]).toEqual([]);
  });
});

describe('resolving it', () => {
  it('snapshots the victim\'s LV first, then demotes it, discards its data, connects the survivor and waits for the resync', async () => {
    const t = splitPair();
    scriptResolution(t);
    const seen: string[] = [];
    const result = await resolveSplitBrain(t.r5, { victim: 'node2', ...fast, onProgress: (p) => seen.push(`${p.node} ${p.replicationState}`) });
    const expected = [
      `node2: lvcreate -s -n ${SNAPSHOT} -c 4k -L ${fullSnapshotBytes(67108864n, 4194304n)}b --addtag hastor_split_brain vg_lab/r5_disk`,
      'node2: drbdadm secondary r5',
      'node2: drbdadm connect --discard-my-data r5',
      'node1: drbdadm connect r5',
    ];
    expect(result.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`)).toEqual(expected);
    // The order the nodes really saw: the snapshot before anything changes DRBD.
    const order = [...t.node1.calls, ...t.node2.calls].map((c) => c.argv.join(' '));
    expect(t.node2.commands.findIndex((c) => c.startsWith('lvcreate'))).toBeLessThan(t.node2.commands.indexOf('drbdadm secondary r5'));
    expect(order.filter((c) => CHANGES.test(c))).toHaveLength(4);
    expect(result.snapshots).toEqual([expect.objectContaining({ node: 'node2', vg: 'vg_lab', origin: 'r5_disk', name: SNAPSHOT, kind: 'classic' })]);
    expect(result.choice).toMatchObject({ victim: 'node2', survivor: 'node1' });
    expect(result.state.node1?.connections[0]?.connectionState).toBe('Connected');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toMatch(/^node2 /);
  });

  it('plans the same sequence with dryRun and changes nothing', async () => {
    const t = splitPair();
    scriptResolution(t);
    // node1 changed less in the lab, so the rule makes it the victim.
    const plan = await resolveSplitBrain(t.r5, { keepMostChanges: true, dryRun: true, ...fast });
    expect(plan.dryRun).toBe(true);
    expect(oosBytes('proc-drbd-standalone-node1.txt')).toBeLessThan(oosBytes('proc-drbd-standalone-node2.txt'));
    expect(plan.actions.map((a) => `${a.node}: ${a.argv.slice(0, 3).join(' ')}`)).toEqual(['node1: lvcreate -s -n', 'node1: drbdadm secondary r5', 'node1: drbdadm connect --discard-my-data', 'node2: drbdadm connect r5']);
    expect(plan.choice.why).toMatch(/keep most changes/);
    expect(changes(t)).toEqual([]);
  });

  it('a dry run plans from a report just read without reading it again; a real run always reads afresh', async () => {
    const t = splitPair();
    scriptResolution(t);
    const report = await inspectSplitBrain(t.r5);
    const node1Reads = t.node1.calls.length;
    const plan = await resolveSplitBrain(t.r5, { victim: 'node2', dryRun: true, report, ...fast });
    expect(plan.actions).toHaveLength(4);
    expect(t.node1.calls.length).toBe(node1Reads);
    // Connected meanwhile: the stale report must not let a real run go ahead.
    t.node1.reply(EVENTS2, file('events2-now-statistics-resolved-node1.txt'));
    t.node2.reply(EVENTS2, file('events2-now-statistics-resolved-node2.txt'));
    await expect(resolveSplitBrain(t.r5, { victim: 'node2', report, ...fast })).rejects.toBeInstanceOf(ResourceStateError);
    expect(changes(t)).toEqual([]);
  });

  it('refuses when the victim\'s VG has no room for the snapshot, with the numbers; snapshot: false goes ahead without it', async () => {
    const t = splitPair();
    scriptResolution(t);
    // Derived: the VG capture with 64 MiB free (less than the snapshot needs).
    t.node2.reply(VGS, derived(file('vgs-after-node2.json'), /"vg_free":"\d+"/, '"vg_free":"67108864"'));
    const error = await resolveSplitBrain(t.r5, { victim: 'node2', ...fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetyError);
    expect((error as SafetyError).rule).toBe(SPLIT_BRAIN_SNAPSHOT_RULE);
    const needed = fullSnapshotBytes(67108864n, 4194304n);
    expect((error as Error).message).toContain(`needs ${needed} bytes in VG vg_lab, which has 67108864 bytes free (${needed - 67108864n} bytes short)`);
    expect((error as SafetyError).override).toMatch(/--no-snapshot --yes/);
    expect(changes(t)).toEqual([]);

    const result = await resolveSplitBrain(t.r5, { victim: 'node2', snapshot: false, ...fast });
    expect(result.snapshots).toEqual([]);
    expect(changes(t)).toEqual(['node1: drbdadm connect r5', 'node2: drbdadm secondary r5', 'node2: drbdadm connect --discard-my-data r5']);
  });

  it('refuses to demote a victim whose device is in use, before the snapshot', async () => {
    const t = splitPair();
    scriptResolution(t);
    t.node2.reply(FD_SCAN_R5, { stdout: '/proc/806/fd/0\n', stderr: '', exitCode: 0 });
    const error = await resolveSplitBrain(t.r5, { victim: 'node2', ...fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetyError);
    expect((error as SafetyError).rule).toBe('primary-in-use');
    expect((error as Error).message).toMatch(/\/dev\/drbd5 is in use/);
    expect(changes(t)).toEqual([]);
  });

  it('without a choice, refuses and says how to choose', async () => {
    const t = splitPair();
    const error = await resolveSplitBrain(t.r5, fast).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.join('\n')).toMatch(/--victim NODE.*--keep-most-changes/);
    expect(changes(t)).toEqual([]);
  });
});

// ---------------------------------------------------------------- pure rules

const side = (node: string, changedBytes: bigint | null): SplitBrainSide => ({
  node,
  status: null,
  role: 'Primary',
  state: 'Primary, UpToDate, StandAlone',
  volumes: [],
  changedBytes,
  kernelRecords: [],
  backing: null,
  problems: [],
});
const report = (a: bigint | null, b: bigint | null): SplitBrainReport => ({
  resource: 'r5',
  splitBrain: true,
  notSplitBrain: '',
  relations: ['diverged'],
  sides: [side('node1', a), side('node2', b)],
  newer: { node: null, why: '' },
});

describe('choosing the victim', () => {
  it('takes the operator\'s node, and refuses a node the resource does not have or two ways at once', () => {
    expect(chooseVictim(report(1n, 2n), { victim: 'node1' })).toMatchObject({ victim: 'node1', survivor: 'node2' });
    expect(() => chooseVictim(report(1n, 2n), { victim: 'node3' })).toThrow(/node3 is not a node of r5/);
    expect(() => chooseVictim(report(1n, 2n), { victim: 'node1', keepMostChanges: true })).toThrow(ConfigError);
  });

  it('keep-most-changes discards the side with fewer changes, whichever it is; refuses a tie or an unknown count', () => {
    for (const [a, b] of [
      [4096n, 73728n],
      [73728n, 4096n],
      [0n, 1n],
    ] as const) {
      const chosen = chooseVictim(report(a, b), { keepMostChanges: true });
      expect(chosen.victim).toBe(a < b ? 'node1' : 'node2');
      expect(chosen.survivor).toBe(a < b ? 'node2' : 'node1');
    }
    expect(() => chooseVictim(report(4096n, 4096n), { keepMostChanges: true })).toThrow(/cannot decide: both sides changed 4096 bytes/);
    expect(() => chooseVictim(report(null, 4096n), { keepMostChanges: true })).toThrow(/does not report/);
  });
});

describe('the snapshot', () => {
  const backing = (over: Partial<BackingVolume> = {}): BackingVolume => ({
    volume: 0,
    minor: 5,
    disk: '/dev/vg_lab/r5_disk',
    vg: 'vg_lab',
    lv: 'r5_disk',
    sizeBytes: 64n << 20n,
    thinPool: null,
    vgFreeBytes: 1n << 30n,
    vgExtentBytes: 4n << 20n,
    ...over,
  });

  it('has room for every origin chunk plus its exception table, in whole extents', () => {
    for (const [origin, extent] of [
      [64n << 20n, 4n << 20n],
      [1n << 40n, 4n << 20n],
      [4097n, 4096n],
    ] as const) {
      const bytes = fullSnapshotBytes(origin, extent);
      const chunks = (origin + 4095n) / 4096n;
      expect(bytes % extent).toBe(0n);
      expect(bytes).toBeGreaterThanOrEqual((chunks + chunks / 256n + 1n) * 4096n);
      expect(bytes - extent).toBeLessThan((chunks + (chunks + 255n) / 256n + 1n) * 4096n);
    }
  });

  it('is named after the LV and the time, and is thin (no size) on a thin LV', () => {
    expect(snapshotName('r5_disk', NOW)).toBe(SNAPSHOT);
    const [thin] = planSnapshots('r5', 'node2', [backing({ thinPool: 'pool0', vgFreeBytes: 0n })], { now: NOW });
    expect(thin).toMatchObject({ kind: 'thin', sizeBytes: null, name: SNAPSHOT });
  });

  it('refuses with needed and free bytes when the VG is short, counting every volume in the same VG', () => {
    const one = fullSnapshotBytes(64n << 20n, 4n << 20n);
    expect(planSnapshots('r5', 'node2', [backing({ vgFreeBytes: one })], { now: NOW })[0]?.sizeBytes).toBe(one);
    const two = [backing({ vgFreeBytes: one + one - 1n }), backing({ volume: 1, minor: 6, lv: 'r5_disk1', vgFreeBytes: one + one - 1n })];
    expect(() => planSnapshots('r5', 'node2', two, { now: NOW })).toThrow(new RegExp(`needs ${one + one} bytes in VG vg_lab, which has ${one + one - 1n} bytes free \\(1 bytes short\\)`));
    expect(planSnapshots('r5', 'node2', [backing({ vgFreeBytes: 8n << 20n })], { now: NOW, sizeBytes: 5n << 20n })[0]?.sizeBytes).toBe(8n << 20n);
  });
});

describe('argv', () => {
  it('puts --discard-my-data after connect on 8.4 and 9, before it on 8.3', () => {
    expect(discardMyDataArgv('r5', '8.4')).toEqual(['drbdadm', 'connect', '--discard-my-data', 'r5']);
    expect(discardMyDataArgv('r5', '9')).toEqual(['drbdadm', 'connect', '--discard-my-data', 'r5']);
    expect(discardMyDataArgv('r5', '8.3')).toEqual(['drbdadm', '--', '--discard-my-data', 'connect', 'r5']);
    expect(() => discardMyDataArgv('all', '8.4')).toThrow(/invalid DRBD resource name/);
  });

  it('gives a thin snapshot no size and a classic one its size and chunk', () => {
    const base = { node: 'node2', vg: 'vg_lab', origin: 'r5_disk', name: SNAPSHOT, sizing: '' };
    expect(snapshotArgv({ ...base, kind: 'thin', sizeBytes: null })).toEqual(['lvcreate', '-s', '-n', SNAPSHOT, '--addtag', 'hastor_split_brain', 'vg_lab/r5_disk']);
    expect(snapshotArgv({ ...base, kind: 'classic', sizeBytes: 8388608n })).toEqual(['lvcreate', '-s', '-n', SNAPSHOT, '-c', '4k', '-L', '8388608b', '--addtag', 'hastor_split_brain', 'vg_lab/r5_disk']);
  });
});
