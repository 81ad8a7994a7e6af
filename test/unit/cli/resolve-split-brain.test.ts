import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { operationJsonSchema, splitBrainReportJsonSchema } from '../../../src/cli/json-contract.js';
import { parseResourceDefinition, type LoadedCluster } from '../../../src/index.js';
import { fullSnapshotBytes } from '../../../src/stack/split-brain.js';
import { CHANGES, EVENTS2, NOW, R5, SNAPSHOT, VGS, changes, derived, file, scriptResolution, splitPair, type Pair } from '../stack/split-pair.js';
import { runCli } from './helpers.js';

function loaded(t: Pair): LoadedCluster {
  const r5 = parseResourceDefinition(R5);
  return {
    cluster: t.cluster,
    guests: new Map(),
    resources: new Map([['r5', r5]]),
    file: { path: 'test-cluster.json', nodes: [{ name: 'node1', local: true }, { name: 'node2', ssh: { host: '10.99.0.2', user: 'hastor' } }], guests: {}, resources: { r5 } },
  };
}

const resolve = (t: Pair, ...args: string[]) => runCli(['resource', 'resolve-split-brain', 'r5', ...args], { cluster: loaded(t) });

// The snapshot's name carries the time; only Date is faked (the waits keep real timers).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('hastor resource resolve-split-brain', () => {
  it('without a choice: shows both sides and which changed more, then refuses with usage (exit 2) saying how to choose', async () => {
    const t = splitPair();
    const run = await resolve(t);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^split brain of r5: yes$/m);
    for (const node of ['node1', 'node2']) {
      const current = file(`get-gi-split-brain-${node}.txt`).stdout.split(':')[0] as string;
      expect(run.stdout).toMatch(new RegExp(`^\\s+${node}\\s+Primary\\s+0\\s+${current}\\s`, 'm'));
    }
    expect(run.stdout).toMatch(/newer writes: node2 \(node2 holds the most changes/);
    expect(run.stderr).toMatch(/--victim NODE \(node1 or node2\) or --keep-most-changes/);
    expect(changes(t)).toEqual([]);
  });

  it('--json without a choice prints the report contract, still exit 2', async () => {
    const t = splitPair();
    const run = await resolve(t, '--json');
    expect(run.code).toBe(2);
    const report = splitBrainReportJsonSchema.parse(JSON.parse(run.stdout));
    expect(report.splitBrain).toBe(true);
    expect(report.sides.map((s) => s.kernelRecords.length)).toEqual([1, 1]);
  });

  it('--victim node2 --dry-run --json: the operation contract with the plan, the snapshot and the report; nothing changed', async () => {
    const t = splitPair();
    scriptResolution(t);
    const run = await resolve(t, '--victim', 'node2', '--dry-run', '--json');
    expect(run.code).toBe(0);
    const result = operationJsonSchema.parse(JSON.parse(run.stdout));
    expect(result).toMatchObject({ resource: 'r5', operation: 'resolveSplitBrain', dryRun: true });
    expect(result.actions.map((a) => `${a.node}: ${a.argv[0]}`)).toEqual(['node2: lvcreate', 'node2: drbdadm', 'node2: drbdadm', 'node1: drbdadm']);
    expect(result.splitBrain).toMatchObject({ victim: 'node2', survivor: 'node1', snapshots: [{ node: 'node2', vg: 'vg_lab', name: SNAPSHOT, kind: 'classic' }] });
    expect(changes(t)).toEqual([]);
  });

  it('runs it: snapshot first, resync from the survivor, and names the snapshot to recover from', async () => {
    const t = splitPair();
    scriptResolution(t);
    const run = await resolve(t, '--victim', 'node2');
    expect(run.code).toBe(0);
    expect(t.node2.commands.filter((c) => CHANGES.test(c))).toEqual([
      `lvcreate -s -n ${SNAPSHOT} -c 4k -L ${fullSnapshotBytes(64n << 20n, 4n << 20n)}b --addtag hastor_split_brain vg_lab/r5_disk`,
      'drbdadm secondary r5',
      'drbdadm connect --discard-my-data r5',
    ]);
    expect(t.node1.commands.filter((c) => CHANGES.test(c))).toEqual(['drbdadm connect r5']);
    expect(run.stdout).toContain(`node2's writes since the split are kept in vg_lab/${SNAPSHOT} on node2 (classic snapshot)`);
  });

  it('no room for the snapshot: exit 4 with the numbers; --no-snapshot needs --yes', async () => {
    const t = splitPair();
    scriptResolution(t);
    // Derived: the VG capture with 4 MiB free.
    t.node2.reply(VGS, derived(file('vgs-after-node2.json'), /"vg_free":"\d+"/, '"vg_free":"4194304"'));
    const refused = await resolve(t, '--victim', 'node2');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/which has 4194304 bytes free .*rule split-brain-snapshot-room; to override on purpose: --no-snapshot --yes/);
    // The snapshot rule is not an --override rule: only --no-snapshot --yes lifts it.
    const overridden = await resolve(t, '--victim', 'node2', '--override', 'split-brain-snapshot-room');
    expect(overridden.code).toBe(2);
    const noYes = await resolve(t, '--victim', 'node2', '--no-snapshot');
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/without a snapshot; run it again with --yes/);
    expect(changes(t)).toEqual([]);
  });

  it('not a split brain: exit 8 (wrong state) naming the state', async () => {
    const t = splitPair();
    t.node1.reply(EVENTS2, file('events2-now-statistics-resolved-node1.txt'));
    t.node2.reply(EVENTS2, file('events2-now-statistics-resolved-node2.txt'));
    const run = await resolve(t, '--victim', 'node2');
    expect(run.code).toBe(8);
    expect(run.stderr).toMatch(/r5 is not in a split brain: not StandAlone on node1 \(Primary, UpToDate, Connected/);
    expect(changes(t)).toEqual([]);
  });
});
