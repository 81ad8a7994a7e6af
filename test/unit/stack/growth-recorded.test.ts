/**
 * The planner on states hastor read from the real stack in the lab
 * (test/fixtures/lab-growth, recorded by test/lab/growth.test.ts with HASTOR_LAB_RECORD=1):
 * DRBD 8.4.11, lvm2 2.03.16 with a shared (sanlock) tier-2 VG, the guest over iSCSI.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, SafetyError } from '../../../src/errors.js';
import { resolveGrowthTarget } from '../../../src/stack/growth/execute.js';
import { drbdUsableBytes, planGrowth } from '../../../src/stack/growth/plan.js';
import type { GrowthState } from '../../../src/stack/growth/types.js';

const MiB = 1024n * 1024n;

/** Byte counts were written as decimal strings; every such key ends in "Bytes". */
function recorded(name: string): GrowthState {
  const text = readFileSync(new URL(`../../fixtures/lab-growth/${name}`, import.meta.url), 'utf8');
  return JSON.parse(text, (key, value: unknown) => (key.endsWith('Bytes') && typeof value === 'string' ? BigInt(value) : value)) as GrowthState;
}

const ids = (state: GrowthState, sizeBytes: bigint) => planGrowth(state, { kind: 'guest-disk', sizeBytes }).steps.map((s) => s.id);

describe('planGrowth on recorded lab states', () => {
  it('the stack as built: 128 MiB guest disk on a 400 MiB DRBD; growing to 256 MiB plans every tier on both nodes', () => {
    const state = recorded('state-before.json');
    expect(state.tier1.map((t) => [t.node, t.lv.sizeBytes])).toEqual([
      ['node1', 400n * MiB],
      ['node2', 400n * MiB],
    ]);
    expect(state.tier2?.lv).toMatchObject({ name: 'vm1', sizeBytes: 128n * MiB, activation: 'shared' });
    expect(state.tier2?.lv?.activeOn.map((a) => a.node)).toEqual(['node1', 'node2']);
    expect(state.guest).toMatchObject({ node: 'node3', disk: { transport: 'iscsi', sizeBytes: 128n * MiB }, fs: { type: 'ext4', mountpoint: '/data' } });
    // What the kernel reported for DRBD is what the meta-data arithmetic predicts for 400 MiB.
    expect(state.drbd.sizeBytes).toBe(drbdUsableBytes(400n * MiB));

    const plan = planGrowth(state, { kind: 'guest-disk', sizeBytes: 256n * MiB });
    const pvEnd = state.tier2!.vg.peStartBytes + state.tier2!.vg.pvSizeBytes;
    expect(plan.steps.map((s) => `${s.node} ${s.argv.join(' ')}`)).toEqual([
      `node1 lvextend -L ${plan.sizes.tier1LvBytes}b vg_lab/r0_disk`,
      `node2 lvextend -L ${plan.sizes.tier1LvBytes}b vg_lab/r0_disk`,
      'node1 drbdadm -- --assume-clean resize r0',
      `node1 fallocate --zero-range --offset ${pvEnd} --length ${drbdUsableBytes(plan.sizes.tier1LvBytes!) - pvEnd} /dev/drbd0`,
      'node1 pvresize /dev/drbd0',
      `node1 lvextend --lockopt skiplv -L ${256n * MiB}b vgshared/vm1`,
      'node2 lvchange --refresh vgshared/vm1',
      'node3 iscsiadm -m session --rescan',
      'node3 pvresize /dev/sda',
      `node3 lvextend -L ${plan.sizes.guestLvBytes}b vg_guest/data`,
      'node3 resize2fs /dev/vg_guest/data',
    ]);
    // Whole 4 MiB extents, and enough that the VG on top gains the 128 MiB the LV needs.
    expect(plan.sizes.tier1LvBytes! % (4n * MiB)).toBe(0n);
    expect(drbdUsableBytes(plan.sizes.tier1LvBytes!) - state.tier2!.vg.peStartBytes).toBeGreaterThanOrEqual(state.tier2!.vg.sizeBytes + 128n * MiB - state.tier2!.vg.freeBytes);
  });

  it('after the grow every tier is done: the same target plans nothing, a smaller one is a shrink', () => {
    const state = recorded('state-after.json');
    expect(ids(state, 256n * MiB)).toEqual([]);
    expect(() => planGrowth(state, { kind: 'guest-disk', sizeBytes: 128n * MiB })).toThrow(SafetyError);
    expect(state.guest?.fs.sizeBytes).toBe(state.guest?.lv.sizeBytes);
  });

  it('node2 crashed: a DRBD growth is refused and names it', () => {
    const state = recorded('state-node2-down.json');
    expect(state.tier1.map((t) => t.node)).toEqual(['node1']);
    let error: unknown;
    try {
      planGrowth(state, { kind: 'guest-disk', sizeBytes: 320n * MiB });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SafetyError);
    expect((error as SafetyError).rule).toBe('peers-uptodate');
    expect((error as Error).message).toMatch(/node2: unreachable/);
  });

  it('node2 back after the crash: the plan resumes with node2 tier 1, at the size node1 already has', () => {
    const state = recorded('state-resume-after-crash.json');
    const plan = planGrowth(state, { kind: 'guest-disk', sizeBytes: 320n * MiB });
    const node1 = state.tier1.find((t) => t.node === 'node1')!;
    expect(plan.steps[0]).toMatchObject({ id: 'tier1-lvextend@node2', argv: ['lvextend', '-L', `${node1.lv.sizeBytes}b`, 'vg_lab/r0_disk'] });
    expect(plan.steps.map((s) => s.id)).not.toContain('tier1-lvextend@node1');
    expect(plan.steps).toHaveLength(10);
  });
});

describe('resolveGrowthTarget on the recorded state', () => {
  const before = recorded('state-before.json');

  it('adds an increment to the guest disk or to DRBD as read, and keeps an absolute target as given', () => {
    const lv = before.tier2!.lv!.sizeBytes;
    expect(resolveGrowthTarget({ kind: 'guest-disk', addBytes: 32n << 20n, lowerTiers: 'keep' }, before)).toEqual({ kind: 'guest-disk', sizeBytes: lv + (32n << 20n), lowerTiers: 'keep' });
    expect(resolveGrowthTarget({ kind: 'drbd', addBytes: 1n << 20n }, before)).toEqual({ kind: 'drbd', sizeBytes: before.drbd.sizeBytes + (1n << 20n) });
    expect(resolveGrowthTarget({ kind: 'drbd', sizeBytes: 5n }, before)).toEqual({ kind: 'drbd', sizeBytes: 5n });
  });

  it('refuses an increment of a size it could not read', () => {
    const { tier2: _dropped, ...noTier2 } = before;
    expect(() => resolveGrowthTarget({ kind: 'guest-disk', addBytes: 1n }, noTier2)).toThrow(ConfigError);
    expect(() => resolveGrowthTarget({ kind: 'drbd', addBytes: 1n }, { ...before, drbd: { ...before.drbd, sizeBytes: 0n } })).toThrow(/give an absolute size/);
  });
});
