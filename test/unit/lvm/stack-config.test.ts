import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { LvmConfigFile } from '../../../src/lvm/config-file.js';
import {
  DEFAULT_LVMLOCAL_CONF,
  DEFAULT_LVM_CONF,
  applyConfigPlan,
  clvmToSharedVgSteps,
  configFileMap,
  deviceFilterRules,
  planClusteredLocking,
  planDeviceFilters,
} from '../../../src/lvm/stack-config.js';
import type { ConfigPlan, LvmConfigFiles } from '../../../src/lvm/stack-config.js';
import { detectLvmVersion } from '../../../src/lvm/version.js';
import { fixture, thrown } from './helpers.js';

const lvm203 = detectLvmVersion(fixture('lab-2.03.16/lvm-version.txt'));
const lvm202 = detectLvmVersion(fixture('lvm-version/ubuntu-18.04-2.02.176.txt'));
const lvm20266 = detectLvmVersion('  LVM version:     2.02.66(2) (2010-05-20)\n');
const debian = (): LvmConfigFiles => ({
  lvmConf: LvmConfigFile.parse(fixture('conf-debian-2.03.16/lvm.conf'), DEFAULT_LVM_CONF),
  lvmLocalConf: LvmConfigFile.parse(fixture('conf-debian-2.03.16/lvmlocal.conf'), DEFAULT_LVMLOCAL_CONF),
});
const old = (): LvmConfigFiles => ({ lvmConf: LvmConfigFile.parse(fixture('conf-2.02/example.conf.in'), DEFAULT_LVM_CONF) });

function apply(plan: ConfigPlan, files: LvmConfigFiles): Map<string, LvmConfigFile> {
  return applyConfigPlan(plan, configFileMap(files));
}

/**
 * lvm's filter semantics (lvm.conf(5), devices/filter): per name the first matching rule
 * counts; a device is used when any of its names first matches an "a" rule, dropped when
 * every matching name first matches an "r" rule, and used when no name matches at all.
 */
function accepted(rules: readonly string[], names: readonly string[]): boolean {
  const verdicts = names.map((name) => {
    for (const rule of rules) {
      const m = /^([ar])(.)(.*)\2$/.exec(rule);
      if (m === null) throw new Error(`bad rule ${rule}`);
      if (new RegExp(m[3] ?? '').test(name)) return m[1];
    }
    return undefined;
  });
  if (verdicts.includes('a')) return true;
  return !verdicts.includes('r');
}

describe('device filters', () => {
  // The lab's stack: vg0/r0 on /dev/ubda backs /dev/drbd0, which holds the shared VG vgshared.
  const lab = { lvm: lvm203, hostPvs: ['/dev/ubda'], drbdBackingLvs: [{ vg: 'vg0', lv: 'r0' }], guestDiskVgs: ['vgshared'] };

  it('tier-1 host that also runs tier 2: allow-list of host PVs and /dev/drbd*', () => {
    const rules = deviceFilterRules({ ...lab, drbdDevices: 'accept' });
    expect(rules).toEqual([
      'r|^/dev/vg0/r0$|',
      'r|^/dev/mapper/vg0-r0$|',
      'r|^/dev/vgshared/|',
      'r|^/dev/mapper/vgshared-[^-]|',
      'a|^/dev/ubda$|',
      'a|^/dev/drbd[0-9]+$|',
      'r|.*|',
    ]);
    expect(accepted(rules, ['/dev/ubda', '/dev/disk/by-path/x'])).toBe(true);
    expect(accepted(rules, ['/dev/drbd0', '/dev/drbd/by-res/r0/0'])).toBe(true);
    expect(accepted(rules, ['/dev/vg0/r0', '/dev/mapper/vg0-r0', '/dev/dm-0'])).toBe(false);
    expect(accepted(rules, ['/dev/vgshared/guest1', '/dev/mapper/vgshared-guest1', '/dev/dm-3'])).toBe(false);
    expect(accepted(rules, ['/dev/sdb'])).toBe(false);
  });

  it('a host that must not see tier 2 rejects every name of a DRBD device', () => {
    const rules = deviceFilterRules({ ...lab, drbdDevices: 'reject' });
    expect(rules.slice(4, 7)).toEqual(['r|^/dev/drbd[0-9]+$|', 'r|^/dev/drbd/|', 'r|^/dev/block/147:|']);
    expect(accepted(rules, ['/dev/drbd0', '/dev/drbd/by-res/r0/0', '/dev/block/147:0'])).toBe(false);
    expect(accepted(rules, ['/dev/ubda'])).toBe(true);
  });

  it('names with dots, pluses and hyphens are matched literally', () => {
    const rules = deviceFilterRules({
      lvm: lvm203,
      hostPvs: ['/dev/loop0'],
      drbdBackingLvs: [{ vg: 'vg.t2-shared', lv: 'guest+disk-1' }],
      drbdDevices: 'accept',
      guestDiskVgs: ['vg-a'],
    });
    expect(rules.slice(0, 4)).toEqual([
      'r|^/dev/vg[.]t2-shared/guest[+]disk-1$|',
      'r|^/dev/mapper/vg[.]t2--shared-guest[+]disk--1$|',
      'r|^/dev/vg-a/|',
      'r|^/dev/mapper/vg--a-[^-]|',
    ]);
    expect(accepted(rules, ['/dev/mapper/vgXt2--shared-guest+disk--1'])).toBe(false); // r|.*| still drops it
    expect(accepted(rules.slice(0, 4), ['/dev/mapper/vgXt2--shared-guestXdisk--1'])).toBe(true);
    // VG "vg" must not catch VG "vg-a" (dm name vg--a-...), and the other way round.
    const deny = deviceFilterRules({ lvm: lvm203, drbdDevices: 'accept', guestDiskVgs: ['vg'] });
    expect(accepted(deny, ['/dev/mapper/vg-lv'])).toBe(false);
    expect(accepted(deny, ['/dev/mapper/vg--a-lv'])).toBe(true);
  });

  it('deny-list only where lvm no longer scans LVs (lvm2 >= 2.03.03)', () => {
    const rules = deviceFilterRules({ lvm: lvm203, drbdBackingDevices: ['/dev/sdb1'], drbdDevices: 'accept', guestDiskVgs: ['vgshared'] });
    expect(rules).toEqual(['r|^/dev/sdb1$|', 'r|^/dev/vgshared/|', 'r|^/dev/mapper/vgshared-[^-]|', 'a|^/dev/drbd[0-9]+$|', 'a|.*|']);
    const error = thrown(() => deviceFilterRules({ lvm: lvm202, drbdDevices: 'accept' })) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('lvm2 2.02.176 scans LVs for PVs, so only an allow-list');
  });

  it('refuses paths and names that would break the filter', () => {
    for (const bad of ['/dev/x|y', 'sda', '/dev/../etc', '/dev/a b', '/dev/']) {
      expect(thrown(() => deviceFilterRules({ lvm: lvm203, hostPvs: [bad], drbdDevices: 'accept' }))).toBeInstanceOf(ConfigError);
    }
    expect(thrown(() => deviceFilterRules({ lvm: lvm203, hostPvs: ['/dev/sda'], drbdBackingLvs: [{ vg: 'vg', lv: 'x_tmeta' }], drbdDevices: 'accept' }))).toBeInstanceOf(ConfigError);
    expect(thrown(() => deviceFilterRules({ lvm: lvm203, drbdDevices: 'maybe' as 'accept' }))).toBeInstanceOf(ConfigError);
  });

  it('plan for Debian lvm2 2.03.16: global_filter and filter next to their commented defaults', () => {
    const files = debian();
    const plan = planDeviceFilters({ ...lab, drbdDevices: 'accept' }, files);
    const rules = deviceFilterRules({ ...lab, drbdDevices: 'accept' });
    expect(plan.edits).toEqual([
      { file: DEFAULT_LVM_CONF, path: 'devices/global_filter', old: undefined, new: rules, reason: expect.stringContaining('only the host PVs') },
      { file: DEFAULT_LVM_CONF, path: 'devices/filter', old: undefined, new: rules, reason: expect.stringContaining('same rules') },
    ]);
    const out = apply(plan, files).get(DEFAULT_LVM_CONF);
    const lines = (out?.toString() ?? '').split('\n');
    const at = lines.indexOf('\t# global_filter = [ "a|.*|" ]');
    expect(lines[at + 1]).toBe(`\tglobal_filter = [ ${rules.map((r) => JSON.stringify(r)).join(', ')} ]`);
    expect(out?.get('devices/filter')).toEqual(rules);
    expect(lines).toHaveLength(fixture('conf-debian-2.03.16/lvm.conf').split('\n').length + 2);
    // Planning again on the result: nothing left to do.
    expect(planDeviceFilters({ ...lab, drbdDevices: 'accept' }, { lvmConf: out as LvmConfigFile }).edits).toEqual([]);
  });

  it('deny-list plan also pins scan_lvs = 0', () => {
    const plan = planDeviceFilters({ lvm: lvm203, drbdDevices: 'accept', guestDiskVgs: ['vgshared'] }, debian(), {});
    expect(plan.edits.map((e) => [e.path, e.new])).toContainEqual(['devices/scan_lvs', 0]);
  });

  it('plan for lvm2 2.02 replaces the old filter and turns off the device cache', () => {
    const plan = planDeviceFilters({ ...lab, lvm: lvm202, drbdDevices: 'accept' }, old());
    expect(plan.edits.map((e) => [e.path, e.old])).toEqual([
      ['devices/global_filter', undefined],
      ['devices/filter', ['a/.*/']],
      ['devices/write_cache_state', 1],
    ]);
    expect(plan.notes[0]).toBe('remove /etc/lvm/cache/.cache so lvm2 2.02 rescans with the new filter');
  });
});

describe('clustered locking', () => {
  it('lvm2 2.02: exactly what lvmconf --enable-cluster wrote (checked against its result)', () => {
    const files = old();
    const plan = planClusteredLocking({ lvm: lvm202 }, files);
    expect(plan.edits.map((e) => [e.file, e.path, e.old, e.new])).toEqual([
      [DEFAULT_LVM_CONF, 'global/locking_type', 1, 3],
      [DEFAULT_LVM_CONF, 'global/use_lvmetad', undefined, 0],
    ]);
    expect(plan.notes[0]).toContain('clvmd on every node');
    const ours = apply(plan, files).get(DEFAULT_LVM_CONF) as LvmConfigFile;
    const theirs = LvmConfigFile.parse(fixture('conf-2.02/example.conf.in.lvmconf-enable-cluster'));
    expect(ours.entries()).toEqual(theirs.entries());
    expect(ours.toString().split('\n')).toHaveLength(theirs.toString().split('\n').length);
  });

  it('lvm2 2.02 before lvmetad: locking_type only', () => {
    const plan = planClusteredLocking({ lvm: lvm20266 }, old());
    expect(plan.edits.map((e) => e.path)).toEqual(['global/locking_type']);
  });

  it('lvm2 2.03 with sanlock: use_lvmlockd in lvm.conf, host_id in lvmlocal.conf', () => {
    const files = debian();
    const plan = planClusteredLocking({ lvm: lvm203, lockManager: 'sanlock', hostId: 2 }, files);
    expect(plan.edits.map((e) => [e.file, e.path, e.old, e.new])).toEqual([
      [DEFAULT_LVM_CONF, 'global/use_lvmlockd', undefined, 1],
      [DEFAULT_LVMLOCAL_CONF, 'local/host_id', undefined, 2],
    ]);
    const out = apply(plan, files);
    expect(out.get(DEFAULT_LVM_CONF)?.get('global/use_lvmlockd')).toBe(1);
    // The commented default stays; the setting goes right under it.
    expect(out.get(DEFAULT_LVM_CONF)?.toString()).toContain('\t# use_lvmlockd = 0\n\tuse_lvmlockd = 1\n');
    expect(out.get(DEFAULT_LVMLOCAL_CONF)?.toString()).toContain('\t# host_id = 0\n\thost_id = 2\n}');
    expect(plan.notes.join('\n')).toContain('lvmlockd -g sanlock');
    expect(plan.notes.join('\n')).toContain('vgchange --lock-start');
  });

  it('lvm2 2.03 with dlm: no host_id; a leftover locking_type = 3 is removed', () => {
    const files = { lvmConf: LvmConfigFile.parse('global {\n\tlocking_type = 3\n\tuse_lvmetad = 0\n}\n') };
    const plan = planClusteredLocking({ lvm: lvm203, lockManager: 'dlm' }, files);
    expect(plan.edits.map((e) => [e.path, e.old, e.new])).toEqual([
      ['global/use_lvmlockd', undefined, 1],
      ['global/locking_type', 3, undefined],
    ]);
    expect(apply(plan, files).get(DEFAULT_LVM_CONF)?.toString()).toBe('global {\n\tuse_lvmetad = 0\n\tuse_lvmlockd = 1\n}\n');
    expect(plan.notes[0]).toContain('dlm_controld');
  });

  it('without lvmlocal.conf the host_id goes into a new file', () => {
    const plan = planClusteredLocking({ lvm: lvm203, lockManager: 'sanlock', hostId: 2000 }, { lvmConf: LvmConfigFile.parse('') });
    const out = apply(plan, { lvmConf: LvmConfigFile.parse('') });
    expect(out.get(DEFAULT_LVMLOCAL_CONF)?.toString()).toBe('local {\n\thost_id = 2000\n}\n');
  });

  it('refuses what the installed lvm2 cannot do', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => planClusteredLocking({ lvm: lvm203, method: 'clvmd' }, debian()), 'has no clvmd (removed in 2.03.00)'],
      [() => planClusteredLocking({ lvm: lvm203 }, debian()), 'lvmlockd needs a lock manager'],
      [() => planClusteredLocking({ lvm: lvm203, lockManager: 'sanlock' }, debian()), 'integer 1..2000 (got undefined)'],
      [() => planClusteredLocking({ lvm: lvm203, lockManager: 'sanlock', hostId: 2001 }, debian()), 'integer 1..2000 (got 2001)'],
      [() => planClusteredLocking({ lvm: lvm203, lockManager: 'dlm', hostId: 1 }, debian()), 'host_id is used by sanlock only'],
      [() => planClusteredLocking({ lvm: lvm202, hostId: 1 }, old()), 'belong to lvmlockd'],
      [() => planClusteredLocking({ lvm: detectLvmVersion('  LVM version:     2.03.16(2) (2022-05-18)\n  Configuration:   ./configure --enable-lvmlockd-dlm\n'), lockManager: 'sanlock', hostId: 1 }, debian()), 'built without lvmlockd sanlock support'],
      [() => planClusteredLocking({ lvm: detectLvmVersion('  LVM version:     2.02.187(2) (2020-03-24)\n  Configuration:   ./configure --with-clvmd=none\n') }, old()), 'built without clvmd'],
      [() => planClusteredLocking({ lvm: lvm20266, method: 'lvmlockd', lockManager: 'dlm' }, old()), 'no lvmlockd support'],
    ];
    for (const [run, message] of cases) {
      const error = thrown(run) as ConfigError;
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain(message);
    }
  });

  it('a plan applied to a file that changed since refuses to overwrite it', () => {
    const plan = planClusteredLocking({ lvm: lvm202 }, old());
    const changed = new Map([[DEFAULT_LVM_CONF, old().lvmConf.set('global/locking_type', 4)]]);
    expect((thrown(() => applyConfigPlan(plan, changed)) as ConfigError).message).toContain('global/locking_type is 4 but the plan expected 1');
  });

  it('converting a clvm VG to a shared VG (lvmlockd(8))', () => {
    expect(clvmToSharedVgSteps('vgshared', 'sanlock', { clvmdRunning: true })).toEqual([
      ['vgchange', '-cn', 'vgshared'],
      ['vgchange', '--lock-type', 'sanlock', 'vgshared'],
      ['vgchange', '--lock-start', 'vgshared'],
    ]);
    expect(clvmToSharedVgSteps('vgshared', 'dlm', { clvmdRunning: false })[0]).toEqual(['vgchange', '--lock-type', 'none', '--lock-opt', 'force', 'vgshared']);
    expect(thrown(() => clvmToSharedVgSteps('-vg', 'dlm', { clvmdRunning: false }))).toBeInstanceOf(ConfigError);
  });
});
