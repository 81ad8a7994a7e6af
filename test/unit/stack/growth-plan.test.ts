import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ConfigError, SafetyError } from '../../../src/errors.js';
import {
  backingBytesFor,
  drbdInternalMetadataBytes,
  drbdUsableBytes,
  planGrowth,
} from '../../../src/stack/growth/plan.js';
import type { GrowthState, GrowthStep } from '../../../src/stack/growth/types.js';

const KiB = 1024n;
const MiB = 1024n * KiB;
const GiB = 1024n * MiB;

// Two nodes after `hastor create` of a 128 MiB guest disk: everything full, 4 MiB extents.
function baseState(): GrowthState {
  return {
    tier1: ['a', 'b'].map((node) => ({
      node,
      vg: { name: 'vg_host', extentBytes: 4n * MiB, sizeBytes: 2n * GiB, freeBytes: 1n * GiB },
      lv: { name: 'r0_disk', sizeBytes: 128n * MiB },
    })),
    drbd: {
      resource: 'r0',
      device: '/dev/drbd0',
      sizeBytes: 131032n * KiB,
      resyncRunning: false,
      nodes: ['a', 'b'].map((node) => ({
        node,
        role: 'Primary' as const,
        diskState: 'UpToDate' as const,
        connectionState: 'Connected' as const,
        replicationState: 'Established' as const,
      })),
    },
    tier2: {
      vg: { name: 'vg_shared', extentBytes: 4n * MiB, peStartBytes: 1n * MiB, pvSizeBytes: 124n * MiB, sizeBytes: 124n * MiB, freeBytes: 0n },
      lv: {
        name: 'guest1',
        sizeBytes: 124n * MiB,
        activation: 'exclusive',
        activeOn: [{ node: 'a', deviceSizeBytes: 124n * MiB }],
      },
    },
  };
}

function withGuest(type: 'ext4' | 'xfs'): GrowthState {
  const s = baseState();
  s.guest = {
    node: 'vm',
    disk: { device: '/dev/sdb', transport: 'scsi', sizeBytes: 124n * MiB },
    vg: { name: 'vg_guest', extentBytes: 4n * MiB, peStartBytes: 1n * MiB, sizeBytes: 120n * MiB, freeBytes: 0n },
    lv: { name: 'data', sizeBytes: 120n * MiB },
    fs: { type, mountpoint: '/srv', sizeBytes: 120n * MiB },
  };
  return s;
}

const ids = (steps: GrowthStep[]): string[] => steps.map((s) => s.id);

function refusal(fn: () => unknown): SafetyError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetyError);
    return e as SafetyError;
  }
  throw new Error('expected a SafetyError, nothing was thrown');
}

describe('DRBD 8.4 internal meta data', () => {
  it('is 4 KiB superblock + 32 KiB activity log + 4 KiB bitmap per started 128 MiB', () => {
    // 128 MiB backing: 1 bitmap block → 80 sectors = 40 KiB; DRBD reports 131032 KiB.
    expect(drbdInternalMetadataBytes(128n * MiB)).toBe(40n * KiB);
    expect(drbdUsableBytes(128n * MiB)).toBe(131032n * KiB);
    // 1 GiB: 8 bitmap blocks → 32 KiB + 36 KiB = 68 KiB.
    expect(drbdInternalMetadataBytes(1n * GiB)).toBe(68n * KiB);
    // One sector past 128 MiB already needs a second bitmap block.
    expect(drbdInternalMetadataBytes(128n * MiB + 512n)).toBe(44n * KiB);
    expect(drbdInternalMetadataBytes(100n * MiB)).toBe(40n * KiB);
  });

  it('backingBytesFor returns the smallest extent multiple that leaves enough usable space', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n * MiB, max: 64n * GiB }), fc.constantFrom(4n * MiB, 32n * MiB), (usable, unit) => {
        const b = backingBytesFor(usable, unit);
        expect(b % unit).toBe(0n);
        expect(drbdUsableBytes(b)).toBeGreaterThanOrEqual(usable);
        expect(drbdUsableBytes(b - unit)).toBeLessThan(usable);
      }),
    );
  });
});

/** The loop backingBytesFor used to be: right, but one unit per turn (hours for 2^80 B). Reference for small sizes. */
function backingBytesByStepping(usable: bigint, unit: bigint): bigint {
  const start = usable + drbdInternalMetadataBytes(usable);
  let backing = ((start + unit - 1n) / unit) * unit;
  while (drbdUsableBytes(backing) < usable) backing += unit;
  return backing;
}

describe('backingBytesFor: closed form (issue 15)', () => {
  it('equals stepping one unit at a time, around every bitmap boundary and for odd units', () => {
    const boundary = fc.bigInt({ min: 1n, max: 64n }).chain((k) => fc.bigInt({ min: -64n * KiB, max: 64n * KiB }).map((d) => k * 128n * MiB + d));
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt({ min: 1n, max: 8n * GiB }), boundary.filter((u) => u > 0n)),
        fc.constantFrom(512n, 1024n, 3072n, 4096n, 6n * KiB, 1n * MiB, 4n * MiB, 6n * MiB, 32n * MiB),
        (usable, unit) => {
          expect(backingBytesFor(usable, unit)).toBe(backingBytesByStepping(usable, unit));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives the least sufficient extent multiple for huge sizes too (2^62 and 2^80 B, where stepping never ended)', () => {
    for (const usable of [1n << 50n, 1n << 62n, 1n << 80n]) {
      for (const unit of [4n * MiB, 1024n]) {
        const b = backingBytesFor(usable, unit);
        expect(b % unit).toBe(0n);
        expect(drbdUsableBytes(b)).toBeGreaterThanOrEqual(usable);
        expect(drbdUsableBytes(b - unit)).toBeLessThan(usable);
      }
    }
    // 2^62 B usable: one bitmap bit per 4 KiB of the whole backing, i.e. 2^47 B for the data and
    // 2^32 B more for the bitmap's own area, plus 36 KiB superblock and activity log; rounded to 4 MiB.
    const b62 = backingBytesFor(1n << 62n, 4n * MiB);
    const over = b62 - (1n << 62n) - (1n << 47n) - (1n << 32n);
    expect(over).toBeGreaterThanOrEqual(36n * KiB);
    expect(over).toBeLessThan(4n * MiB + 36n * KiB + 4n * KiB);
  });
});

describe('planGrowth: targets beyond DRBD\'s 1 PiB', () => {
  it('refuses them with a ConfigError naming the limit, for both kinds of target', () => {
    for (const target of [
      { kind: 'drbd' as const, sizeBytes: (1n << 50n) + 1n },
      { kind: 'drbd' as const, sizeBytes: 1n << 62n },
      { kind: 'guest-disk' as const, sizeBytes: 1n << 80n },
    ]) {
      expect(() => planGrowth(baseState(), target)).toThrow(ConfigError);
      expect(() => planGrowth(baseState(), target)).toThrow(/above 1 PiB/);
    }
    expect(() => planGrowth(baseState(), { kind: 'drbd', sizeBytes: 0n })).toThrow(ConfigError);
  });

  it('plans exactly 1 PiB, the limit itself', () => {
    const s = baseState();
    for (const n of s.tier1) n.vg.freeBytes = 2n << 50n;
    const plan = planGrowth(s, { kind: 'drbd', sizeBytes: 1n << 50n });
    expect(plan.sizes.drbdBytes! >= 1n << 50n).toBe(true);
    expect(plan.sizes.tier1LvBytes).toBe(backingBytesFor(1n << 50n, 4n * MiB));
  });

  it('refuses an extent size of 0 instead of dividing by it', () => {
    const s = baseState();
    s.tier1[0]!.vg.extentBytes = 0n;
    expect(() => planGrowth(s, { kind: 'drbd', sizeBytes: 1n * GiB })).toThrow(ConfigError);
  });
});

describe('planGrowth: guest disk 128 MiB → 256 MiB', () => {
  it('orders tier 1 on every node, drbd resize, pvresize, lvextend, with absolute sizes', () => {
    const plan = planGrowth(baseState(), { kind: 'guest-disk', sizeBytes: 256n * MiB });
    expect(ids(plan.steps)).toEqual(['tier1-lvextend@a', 'tier1-lvextend@b', 'drbd-resize', 'drbd-zero-new-area', 'tier2-pvresize', 'tier2-lvextend']);
    // VG needs 256 MiB, PV 257 MiB (pe_start), backing 257 MiB + 48 KiB meta data → 260 MiB.
    expect(plan.steps[0]!.argv).toEqual(['lvextend', '-L', `${260n * MiB}b`, 'vg_host/r0_disk']);
    expect(plan.steps[1]!.argv).toEqual(plan.steps[0]!.argv);
    expect(plan.steps[1]!.node).toBe('b');
    // Both nodes stay UpToDate: no resync of the new area, which is zeroed through DRBD from the PV's last extent on.
    expect(plan.steps[2]!.argv).toEqual(['drbdadm', '--', '--assume-clean', 'resize', 'r0']);
    const drbdAfter = 260n * MiB - 48n * KiB;
    expect(plan.steps[3]!.argv).toEqual(['fallocate', '--zero-range', '--offset', `${125n * MiB}`, '--length', `${drbdAfter - 125n * MiB}`, '/dev/drbd0']);
    expect(plan.steps[4]!.argv).toEqual(['pvresize', '/dev/drbd0']);
    expect(plan.steps[5]!.argv).toEqual(['lvextend', '-L', `${256n * MiB}b`, 'vg_shared/guest1']);
    expect(plan.sizes.drbdBytes).toBe(260n * MiB - 48n * KiB);
    expect(plan.sizes.tier2VgBytes).toBe(256n * MiB);
    expect(plan.steps.map((s) => s.tier)).toEqual([1, 1, 'drbd', 'drbd', 2, 2]);
    for (const s of plan.steps) expect(s.precondition.length).toBeGreaterThan(0);
  });

  it('rounds tier 1 up to the extent size of both VGs and tier 2 up to its own', () => {
    const s = baseState();
    s.tier1[1]!.vg.extentBytes = 32n * MiB;
    // 4 MiB extents alone would give 260 MiB (see above); b's 32 MiB extents force 288 MiB.
    const plan = planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB - 1n });
    expect(plan.sizes.tier2LvBytes).toBe(256n * MiB);
    expect(plan.sizes.tier1LvBytes).toBe(288n * MiB);
    expect(plan.steps.filter((x) => x.tier === 1).map((x) => x.argv[2])).toEqual([`${288n * MiB}b`, `${288n * MiB}b`]);
  });

  it('checks prove each step done on a later state', () => {
    const plan = planGrowth(baseState(), { kind: 'guest-disk', sizeBytes: 256n * MiB });
    const before = baseState();
    for (const step of plan.steps) expect(step.check(before)).toBe(false);
    const after = baseState();
    for (const n of after.tier1) n.lv.sizeBytes = 260n * MiB;
    after.drbd.sizeBytes = 260n * MiB - 48n * KiB;
    after.tier2!.vg.sizeBytes = 256n * MiB;
    after.tier2!.vg.freeBytes = 132n * MiB;
    after.tier2!.lv!.sizeBytes = 256n * MiB;
    for (const step of plan.steps) expect(step.check(after)).toBe(true);
  });

  it('resumes: a node whose tier 1 is done gets no step, and the size stays the same', () => {
    const s = baseState();
    s.tier1[0]!.lv.sizeBytes = 260n * MiB;
    s.tier1[0]!.vg.freeBytes -= 132n * MiB;
    const plan = planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB });
    expect(ids(plan.steps)).toEqual(['tier1-lvextend@b', 'drbd-resize', 'drbd-zero-new-area', 'tier2-pvresize', 'tier2-lvextend']);
    expect(plan.steps[0]!.argv[2]).toBe(`${260n * MiB}b`);
  });

  it('resumes after the drbd resize (even with a resync running): the new area is zeroed again, then the PV grows', () => {
    const s = baseState();
    for (const n of s.tier1) n.lv.sizeBytes = 260n * MiB;
    s.drbd.sizeBytes = 260n * MiB - 48n * KiB;
    s.drbd.resyncRunning = true;
    s.drbd.nodes[1]!.replicationState = 'SyncTarget';
    s.drbd.nodes[1]!.diskState = 'Inconsistent';
    const plan = planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB });
    expect(ids(plan.steps)).toEqual(['drbd-zero-new-area', 'tier2-pvresize', 'tier2-lvextend']);
  });

  it('plans nothing when every tier is already grown', () => {
    const s = baseState();
    for (const n of s.tier1) n.lv.sizeBytes = 260n * MiB;
    s.drbd.sizeBytes = 260n * MiB - 48n * KiB;
    s.tier2!.lv!.sizeBytes = 256n * MiB;
    s.tier2!.lv!.activeOn[0]!.deviceSizeBytes = 256n * MiB;
    s.tier2!.vg.sizeBytes = 256n * MiB;
    expect(planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB }).steps).toEqual([]);
  });

  it('uses free tier-2 space without touching DRBD when it suffices', () => {
    const s = baseState();
    s.tier2!.lv!.sizeBytes = 64n * MiB;
    s.tier2!.vg.freeBytes = 60n * MiB;
    const plan = planGrowth(s, { kind: 'guest-disk', sizeBytes: 124n * MiB });
    expect(ids(plan.steps)).toEqual(['tier2-lvextend']);
  });
});

describe('planGrowth: shared activation', () => {
  it('extends with --lockopt skiplv, then refreshes on the other node', () => {
    const s = baseState();
    s.tier2!.lv!.activation = 'shared';
    s.tier2!.lv!.activeOn = [
      { node: 'a', deviceSizeBytes: 124n * MiB },
      { node: 'b', deviceSizeBytes: 124n * MiB },
    ];
    const plan = planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB });
    expect(ids(plan.steps).slice(-2)).toEqual(['tier2-lvextend', 'tier2-refresh@b']);
    expect(plan.steps.at(-2)!.argv).toEqual(['lvextend', '--lockopt', 'skiplv', '-L', `${256n * MiB}b`, 'vg_shared/guest1']);
    expect(plan.steps.at(-1)!.argv).toEqual(['lvchange', '--refresh', 'vg_shared/guest1']);
    expect(plan.steps.at(-1)!.node).toBe('b');

    // Resume: metadata grown and node a active at the new size, b not refreshed yet.
    s.tier2!.lv!.sizeBytes = 256n * MiB;
    s.tier2!.vg.sizeBytes = 256n * MiB;
    s.tier2!.lv!.activeOn[0]!.deviceSizeBytes = 256n * MiB;
    for (const n of s.tier1) n.lv.sizeBytes = 260n * MiB;
    s.drbd.sizeBytes = 260n * MiB - 48n * KiB;
    const rest = planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB });
    expect(ids(rest.steps)).toEqual(['tier2-refresh@b']);
    s.tier2!.lv!.activeOn[1]!.deviceSizeBytes = 256n * MiB;
    expect(rest.steps[0]!.check(s)).toBe(true);
  });

  it('an exclusive LV gets no lock option and no refresh', () => {
    const plan = planGrowth(baseState(), { kind: 'guest-disk', sizeBytes: 256n * MiB });
    expect(plan.steps.some((x) => x.argv.includes('--lockopt') || x.id.startsWith('tier2-refresh'))).toBe(false);
  });
});

describe('planGrowth: guest', () => {
  it('ext4: rescan, pvresize, lvextend, resize2fs', () => {
    const plan = planGrowth(withGuest('ext4'), { kind: 'guest-disk', sizeBytes: 256n * MiB });
    const guest = plan.steps.filter((x) => x.tier === 3);
    expect(ids(guest)).toEqual(['guest-rescan', 'guest-pvresize', 'guest-lvextend', 'guest-fs-grow']);
    expect(guest.every((x) => x.node === 'vm')).toBe(true);
    expect(guest[0]!.argv).toEqual(['tee', '/sys/class/block/sdb/device/rescan']);
    expect(guest[0]!.stdin).toBe('1\n');
    expect(guest[1]!.argv).toEqual(['pvresize', '/dev/sdb']);
    // 256 MiB disk − 1 MiB pe_start → 252 MiB of 4 MiB extents, all of it for the LV.
    expect(guest[2]!.argv).toEqual(['lvextend', '-L', `${252n * MiB}b`, 'vg_guest/data']);
    expect(guest[3]!.argv).toEqual(['resize2fs', '/dev/vg_guest/data']);
    expect(ids(plan.steps).indexOf('guest-rescan')).toBe(ids(plan.steps).indexOf('tier2-lvextend') + 1);
  });

  it('xfs: grows through the mount point; iscsi rescans the session', () => {
    const s = withGuest('xfs');
    s.guest!.disk.transport = 'iscsi';
    const plan = planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB });
    expect(plan.steps.find((x) => x.id === 'guest-fs-grow')!.argv).toEqual(['xfs_growfs', '/srv']);
    expect(plan.steps.find((x) => x.id === 'guest-rescan')!.argv).toEqual(['iscsiadm', '-m', 'session', '--rescan']);
  });

  it('resumes inside the guest: only the filesystem is left', () => {
    const s = withGuest('ext4');
    for (const n of s.tier1) n.lv.sizeBytes = 260n * MiB;
    s.drbd.sizeBytes = 260n * MiB - 48n * KiB;
    Object.assign(s.tier2!.vg, { sizeBytes: 256n * MiB });
    s.tier2!.lv!.sizeBytes = 256n * MiB;
    s.tier2!.lv!.activeOn[0]!.deviceSizeBytes = 256n * MiB;
    const g = s.guest!;
    g.disk.sizeBytes = 256n * MiB;
    g.vg.sizeBytes = 252n * MiB;
    g.lv.sizeBytes = 252n * MiB;
    const plan = planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB });
    expect(ids(plan.steps)).toEqual(['guest-fs-grow']);
    g.fs.sizeBytes = 252n * MiB;
    expect(plan.steps[0]!.check(s)).toBe(true);
  });
});

describe('planGrowth: DRBD target', () => {
  it('grows tier 1, DRBD and the PV of the VG on top (no LV)', () => {
    const plan = planGrowth(baseState(), { kind: 'drbd', sizeBytes: 512n * MiB });
    expect(ids(plan.steps)).toEqual(['tier1-lvextend@a', 'tier1-lvextend@b', 'drbd-resize', 'drbd-zero-new-area', 'tier2-pvresize']);
    // 512 MiB + 56 KiB meta data (5 bitmap blocks) → 516 MiB.
    expect(plan.sizes.tier1LvBytes).toBe(516n * MiB);
    // 516 MiB - 56 KiB usable, 1 MiB pe_start, whole 4 MiB extents → 512 MiB.
    expect(plan.sizes.tier2VgBytes).toBe(512n * MiB);
    expect(plan.sizes.tier2LvBytes).toBeNull();
  });

  it('grows tier 1 and DRBD only when no VG sits on the device', () => {
    const s = baseState();
    delete s.tier2;
    s.drbd.nodes[1]!.role = 'Secondary';
    const plan = planGrowth(s, { kind: 'drbd', sizeBytes: 512n * MiB });
    expect(ids(plan.steps)).toEqual(['tier1-lvextend@a', 'tier1-lvextend@b', 'drbd-resize']);
    expect(() => planGrowth(s, { kind: 'guest-disk', sizeBytes: 512n * MiB })).toThrow(/needs the tier-2 VG and LV/);
  });

  it('resumes a DRBD target after the resize: only the PV is left', () => {
    const s = baseState();
    for (const n of s.tier1) n.lv.sizeBytes = 516n * MiB;
    s.drbd.sizeBytes = 516n * MiB - 56n * KiB;
    expect(ids(planGrowth(s, { kind: 'drbd', sizeBytes: 512n * MiB }).steps)).toEqual(['drbd-zero-new-area', 'tier2-pvresize']);
    s.tier2!.vg.sizeBytes = 512n * MiB;
    expect(planGrowth(s, { kind: 'drbd', sizeBytes: 512n * MiB }).steps).toEqual([]);
  });
});

describe('planGrowth refusals', () => {
  it('refuses a shrink, with both sizes', () => {
    const e = refusal(() => planGrowth(baseState(), { kind: 'guest-disk', sizeBytes: 100n * MiB }));
    expect(e.rule).toBe('no-shrink');
    expect(e.message).toContain(`${100n * MiB}`);
    expect(e.message).toContain(`${124n * MiB}`);
    expect(refusal(() => planGrowth(baseState(), { kind: 'drbd', sizeBytes: 64n * MiB })).rule).toBe('no-shrink');
  });

  it('refuses when a tier-1 VG on some node lacks space', () => {
    const s = baseState();
    s.tier1[1]!.vg.freeBytes = 100n * MiB;
    const e = refusal(() => planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB }));
    expect(e.rule).toBe('tier1-free-space');
    expect(e.message).toContain('on b');
    expect(e.message).toContain(`${100n * MiB} B free`);
    expect(e.message).toContain(`${132n * MiB} B`);
  });

  it('refuses a target that fits raw but not after DRBD meta data', () => {
    const s = baseState();
    // b can reach exactly 512 MiB; 512 MiB usable needs 516 MiB of backing.
    s.tier1[1]!.vg.freeBytes = 384n * MiB;
    const e = refusal(() => planGrowth(s, { kind: 'drbd', sizeBytes: 512n * MiB }));
    expect(e.rule).toBe('drbd-metadata-fit');
    expect(e.message).toContain(`${512n * MiB - 52n * KiB} B after DRBD internal meta data`);
  });

  it('refuses a target that does not fit in the tier-2 VG when lower tiers must stay', () => {
    const e = refusal(() => planGrowth(baseState(), { kind: 'guest-disk', sizeBytes: 256n * MiB, lowerTiers: 'keep' }));
    expect(e.rule).toBe('tier2-free-space');
    expect(e.message).toContain(`${132n * MiB} B short`);
  });

  it('refuses while a resync runs', () => {
    const s = baseState();
    s.drbd.nodes[0]!.replicationState = 'SyncSource';
    const e = refusal(() => planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB }));
    expect(e.rule).toBe('no-resync');
    expect(e.message).toContain('a: SyncSource');
    const t = baseState();
    t.drbd.resyncRunning = true;
    expect(refusal(() => planGrowth(t, { kind: 'drbd', sizeBytes: 256n * MiB })).rule).toBe('no-resync');
  });

  it('refuses when a peer is not Connected/UpToDate', () => {
    const s = baseState();
    s.drbd.nodes[1]!.connectionState = 'Connecting';
    s.drbd.nodes[1]!.replicationState = 'Off';
    s.drbd.nodes[1]!.diskState = 'Outdated';
    const e = refusal(() => planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB }));
    expect(e.rule).toBe('peers-uptodate');
    expect(e.message).toContain('b: disk Outdated, connection Connecting/Off');
  });

  it('needs no DRBD growth when the tier-2 VG already has room, even if it fills the PV', () => {
    const s = baseState();
    s.tier2!.lv!.sizeBytes = 100n * MiB;
    s.tier2!.vg.freeBytes = 24n * MiB;
    s.drbd.resyncRunning = true;
    expect(ids(planGrowth(s, { kind: 'guest-disk', sizeBytes: 124n * MiB }).steps)).toEqual(['tier2-lvextend']);
  });

  it('does not refuse a tier-2-only growth while the peer is away', () => {
    const s = baseState();
    s.tier2!.lv!.sizeBytes = 64n * MiB;
    s.tier2!.vg.freeBytes = 60n * MiB;
    s.drbd.nodes[1]!.connectionState = 'Connecting';
    expect(ids(planGrowth(s, { kind: 'guest-disk', sizeBytes: 124n * MiB }).steps)).toEqual(['tier2-lvextend']);
  });
});

describe('planGrowth: the same target again after it was reached', () => {
  it('is not a shrink when rounding made every tier a little larger than asked', () => {
    // 250 MiB rounds up to 252 MiB (4 MiB extents); once there, asking 250 MiB again plans nothing.
    const s = baseState();
    for (const n of s.tier1) n.lv.sizeBytes = 260n * MiB;
    s.drbd.sizeBytes = 260n * MiB - 48n * KiB;
    s.tier2!.vg.sizeBytes = 256n * MiB;
    s.tier2!.vg.freeBytes = 4n * MiB;
    s.tier2!.lv!.sizeBytes = 252n * MiB;
    s.tier2!.lv!.activeOn[0]!.deviceSizeBytes = 252n * MiB;
    expect(planGrowth(s, { kind: 'guest-disk', sizeBytes: 250n * MiB }).steps).toEqual([]);
    expect(planGrowth(s, { kind: 'drbd', sizeBytes: 259n * MiB }).steps).toEqual([]);
    expect(() => planGrowth(s, { kind: 'drbd', sizeBytes: 255n * MiB })).toThrow(/growth never shrinks/);
  });
});

describe('planGrowth: a node that cannot be reached', () => {
  it('refuses a DRBD growth and names the node and why', () => {
    const s = baseState();
    s.tier1 = s.tier1.filter((t) => t.node !== 'b');
    Object.assign(s.drbd.nodes[1]!, { role: 'Unknown', diskState: 'DUnknown', connectionState: 'StandAlone', replicationState: null, unreachable: 'b: lab node is not running' });
    const e = refusal(() => planGrowth(s, { kind: 'guest-disk', sizeBytes: 256n * MiB }));
    expect(e.rule).toBe('peers-uptodate');
    expect(e.message).toContain('b: unreachable (b: lab node is not running)');
  });
});

describe('planGrowth: the new area of DRBD under a tier-2 PV is zeroed, not resynced', () => {
  const zeroSteps = (steps: GrowthStep[]) => steps.filter((s) => s.id.startsWith('drbd-zero-new-area'));
  const rangeOf = (s: GrowthStep) => ({ offset: BigInt(s.argv[3]!), length: BigInt(s.argv[5]!) });
  const roomy = () => {
    const s = baseState();
    for (const t of s.tier1) t.vg.freeBytes = t.vg.sizeBytes = 4n << 40n;
    return s;
  };

  it('starts at the end of the last extent (pe_start + pv_size), not at pv_size, and ends at the new DRBD size', () => {
    const plan = planGrowth(baseState(), { kind: 'drbd', sizeBytes: 512n * MiB });
    const [zero] = zeroSteps(plan.steps);
    // pv_size (124 MiB) counts extents only; zeroing from there would wipe the last 1 MiB of data.
    expect(rangeOf(zero!)).toEqual({ offset: 125n * MiB, length: plan.sizes.drbdBytes! - 125n * MiB });
    expect(zero).toMatchObject({ node: 'a', unobservable: true, writesBytes: plan.sizes.drbdBytes! - 125n * MiB });
  });

  it('splits a large growth into at most 32 contiguous 1 MiB-aligned steps that cover the new area exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 64n * 1024n }), (addMiB) => {
        const plan = planGrowth(roomy(), { kind: 'drbd', sizeBytes: 131032n * KiB + addMiB * MiB });
        const zeros = zeroSteps(plan.steps);
        expect(zeros.length).toBeGreaterThanOrEqual(1);
        expect(zeros.length).toBeLessThanOrEqual(32);
        let at = 125n * MiB;
        for (const z of zeros) {
          const { offset, length } = rangeOf(z);
          expect(offset).toBe(at);
          expect(length).toBeGreaterThan(0n);
          expect((offset - 125n * MiB) % MiB).toBe(0n);
          at += length;
        }
        expect(at).toBe(plan.sizes.drbdBytes);
        expect(new Set(zeros.map((z) => z.id)).size).toBe(zeros.length);
      }),
      { numRuns: 200 },
    );
    const huge = zeroSteps(planGrowth(roomy(), { kind: 'drbd', sizeBytes: 1n << 40n }).steps);
    expect(huge).toHaveLength(32);
    expect(huge.map((z) => z.id).slice(0, 2)).toEqual(['drbd-zero-new-area#1', 'drbd-zero-new-area#2']);
  });

  it('skipResync: assume-clean and no zeroing; without a tier-2 PV: a plain resize that DRBD resyncs', () => {
    const skip = planGrowth(baseState(), { kind: 'drbd', sizeBytes: 512n * MiB }, { skipResync: true });
    expect(zeroSteps(skip.steps)).toEqual([]);
    expect(skip.steps.find((s) => s.id === 'drbd-resize')!.argv).toEqual(['drbdadm', '--', '--assume-clean', 'resize', 'r0']);
    const s = baseState();
    delete s.tier2;
    s.drbd.nodes[1]!.role = 'Secondary';
    const bare = planGrowth(s, { kind: 'drbd', sizeBytes: 512n * MiB });
    expect(zeroSteps(bare.steps)).toEqual([]);
    expect(bare.steps.find((x) => x.id === 'drbd-resize')!.argv).toEqual(['drbdadm', 'resize', 'r0']);
  });

  it('a zero step counts as done once DRBD has its new size (its zeroes cannot be read back)', () => {
    const plan = planGrowth(baseState(), { kind: 'drbd', sizeBytes: 512n * MiB });
    const [zero] = zeroSteps(plan.steps);
    const after = baseState();
    expect(zero!.check(after)).toBe(false);
    after.drbd.sizeBytes = plan.sizes.drbdBytes!;
    expect(zero!.check(after)).toBe(true);
  });
});

describe('planGrowth: a resync of the new area with two Primaries is refused', () => {
  it('without a tier-2 PV, both nodes Primary: SafetyError dual-primary-resync naming both, unless skipResync', () => {
    const s = baseState();
    delete s.tier2;
    expect(() => planGrowth(s, { kind: 'drbd', sizeBytes: 512n * MiB })).toThrow(SafetyError);
    try {
      planGrowth(s, { kind: 'drbd', sizeBytes: 512n * MiB });
    } catch (e) {
      expect((e as SafetyError).rule).toBe('dual-primary-resync');
      expect((e as Error).message).toMatch(/Primary on a and b/);
    }
    expect(ids(planGrowth(s, { kind: 'drbd', sizeBytes: 512n * MiB }, { skipResync: true }).steps)).toContain('drbd-resize');
    // Nothing left to resize: nothing to refuse.
    for (const n of s.tier1) n.lv.sizeBytes = 516n * MiB;
    s.drbd.sizeBytes = 516n * MiB - 56n * KiB;
    expect(planGrowth(s, { kind: 'drbd', sizeBytes: 512n * MiB }).steps).toEqual([]);
  });

  it('with a tier-2 PV the new area is zeroed, so two Primaries are fine', () => {
    expect(ids(planGrowth(baseState(), { kind: 'drbd', sizeBytes: 512n * MiB }).steps)).toContain('drbd-zero-new-area');
  });
});
