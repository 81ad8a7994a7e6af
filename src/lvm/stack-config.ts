/**
 * lvm.conf settings a DRBD stack needs, as a plan of edits (file, path, old, new) that a
 * caller can show (dry run) and then apply. Pure: files come in parsed, edits go out.
 *
 * Device filters. Tier 1 LVs back DRBD devices, so a backing LV shows the same PV label as
 * the DRBD device on top of it: scanning both gives duplicate PVs. Tier-2 LVs hold guests'
 * disks, whose PVs must never be scanned (or activated) on the host. lvm filter rules are
 * tried in order per device name; a device is used if any of its names first matches an
 * "a" rule (lvm.conf(5), devices/filter). An allow-list (the host's PVs, /dev/drbd*, then
 * r|.*|) is the only reliable form on lvm2 2.02, which scans LVs; lvm2 >= 2.03.03 no longer
 * scans LVs for PVs (devices/scan_lvs = 0), so a deny-list suffices there.
 *
 * Clustered locking. lvm2 2.02: `locking_type = 3` with clvmd, exactly what
 * `lvmconf --enable-cluster` wrote (lvm2 scripts/lvmconf.sh: global/locking_type = 3 and,
 * once lvmetad existed (2.02.93), global/use_lvmetad = 0). lvm2 2.03 has no clvmd (removed in
 * 2.03.00): `use_lvmlockd = 1` and, for sanlock, a per-host `local/host_id` (1..2000) in
 * lvmlocal.conf (lvmlockd(8)).
 */
import { ConfigError } from '../errors.js';
import { LvmConfigFile, configValuesEqual } from './config-file.js';
import type { LvmConfigValue } from './config-file.js';
import { dmName, validateLvName, validateVgName } from './names.js';
import type { LvRef } from './names.js';
import { atLeast } from './version.js';
import type { LvmVersionInfo } from './version.js';
import { appendAll } from '../arrays.js';

export const DEFAULT_LVM_CONF = '/etc/lvm/lvm.conf';
export const DEFAULT_LVMLOCAL_CONF = '/etc/lvm/lvmlocal.conf';
/** The block major of DRBD devices (/dev/block/147:N). */
export const DRBD_MAJOR = 147;

export interface ConfigEdit {
  /** Path of the file to edit. */
  file: string;
  /** "section/key". */
  path: string;
  /** undefined when the file does not set it. */
  old: LvmConfigValue | undefined;
  /** undefined: remove the setting (lvm's default applies). */
  new: LvmConfigValue | undefined;
  reason: string;
}

export interface ConfigPlan {
  edits: ConfigEdit[];
  /** What else has to happen for the settings to work (daemons, commands), in order. */
  notes: string[];
}

export interface LvmConfigFiles {
  lvmConf: LvmConfigFile;
  /** Missing or empty: treated as an empty file. */
  lvmLocalConf?: LvmConfigFile;
}

export interface ConfigPaths {
  lvmConf?: string;
  lvmLocalConf?: string;
}

interface Desired {
  path: string;
  value: LvmConfigValue | undefined;
  reason: string;
}

function editsFor(file: LvmConfigFile, filePath: string, desired: readonly Desired[]): ConfigEdit[] {
  const edits: ConfigEdit[] = [];
  for (const d of desired) {
    const old = file.get(d.path);
    if (d.value === undefined ? old === undefined : configValuesEqual(old, d.value)) continue;
    edits.push({ file: filePath, path: d.path, old, new: d.value, reason: d.reason });
  }
  return edits;
}

/**
 * Applies a plan: returns every edited file by path, each changed only where the plan says.
 * `files` maps paths to their current content (a missing file starts empty).
 */
export function applyConfigPlan(plan: ConfigPlan, files: ReadonlyMap<string, LvmConfigFile>): Map<string, LvmConfigFile> {
  const out = new Map<string, LvmConfigFile>();
  for (const edit of plan.edits) {
    const current = out.get(edit.file) ?? files.get(edit.file) ?? LvmConfigFile.parse('', edit.file);
    const actual = current.get(edit.path);
    if (!configValuesEqual(actual, edit.old)) {
      throw new ConfigError(
        `${edit.file}: ${edit.path} is ${JSON.stringify(actual)} but the plan expected ${JSON.stringify(edit.old)}; the file changed since the plan was made, plan again`,
      );
    }
    out.set(edit.file, edit.new === undefined ? current.unset(edit.path) : current.set(edit.path, edit.new));
  }
  return out;
}

/** The files of a plan keyed by path, for applyConfigPlan. */
export function configFileMap(files: LvmConfigFiles, paths: ConfigPaths = {}): Map<string, LvmConfigFile> {
  const map = new Map<string, LvmConfigFile>([[paths.lvmConf ?? DEFAULT_LVM_CONF, files.lvmConf]]);
  if (files.lvmLocalConf !== undefined) map.set(paths.lvmLocalConf ?? DEFAULT_LVMLOCAL_CONF, files.lvmLocalConf);
  return map;
}

// ---------------------------------------------------------------- device filters

export interface DeviceFilterInput {
  lvm: LvmVersionInfo;
  /**
   * Every device holding one of the host's own PVs (tier-1 VG, root VG, ...). Given: an
   * allow-list ending in r|.*|. Empty: a deny-list, accepted on lvm2 >= 2.03.03 only.
   */
  hostPvs?: readonly string[];
  /** LVs backing DRBD devices: never scanned (their content is the DRBD device's). */
  drbdBackingLvs?: readonly LvRef[];
  /** Backing devices of DRBD that are not LVs (partitions, whole disks). */
  drbdBackingDevices?: readonly string[];
  /** accept: this host uses LVM on /dev/drbd* (tier 2); reject: it must not see tier 2. */
  drbdDevices: 'accept' | 'reject';
  /** VGs whose LVs are guest disks (tier-2 VGs): their LVs are never scanned on the host. */
  guestDiskVgs?: readonly string[];
  /** Also write devices/filter (same rules). Default true: a stale filter could hide /dev/drbd*. */
  setFilter?: boolean;
}

const DEVICE_PATH_RE = /^\/dev\/[A-Za-z0-9_.+:@=,/-]+$/;

function checkDevicePath(path: string): string {
  if (typeof path !== 'string' || !DEVICE_PATH_RE.test(path) || path.split('/').includes('..') || path.endsWith('/')) {
    throw new ConfigError(`not a device path usable in an lvm filter: ${JSON.stringify(path)}`, [
      'expected /dev/... with letters, digits and _ . + : @ = , - only',
    ]);
  }
  return path;
}

/** A literal path as lvm filter regex text: "." and "+" bracketed, so no backslashes are needed. */
function literal(text: string): string {
  return text.replace(/[.+]/g, (c) => `[${c}]`);
}

/** The ordered filter rules (each "a|regex|" or "r|regex|") for this host. */
export function deviceFilterRules(input: DeviceFilterInput): string[] {
  const hostPvs = (input.hostPvs ?? []).map(checkDevicePath);
  if (input.drbdDevices !== 'accept' && input.drbdDevices !== 'reject') {
    throw new ConfigError(`drbdDevices must be "accept" or "reject", not ${JSON.stringify(input.drbdDevices)}`);
  }
  const rules: string[] = [];
  for (const ref of input.drbdBackingLvs ?? []) {
    validateVgName(ref.vg);
    validateLvName(ref.lv);
    rules.push(`r|^/dev/${literal(ref.vg)}/${literal(ref.lv)}$|`, `r|^/dev/mapper/${literal(dmName(ref))}$|`);
  }
  for (const device of input.drbdBackingDevices ?? []) rules.push(`r|^${literal(checkDevicePath(device))}$|`);
  for (const vg of input.guestDiskVgs ?? []) {
    validateVgName(vg);
    // "vg-" followed by a non-hyphen: the hyphen that separates VG and LV, not a doubled one.
    rules.push(`r|^/dev/${literal(vg)}/|`, `r|^/dev/mapper/${literal(vg.replaceAll('-', '--'))}-[^-]|`);
  }
  if (input.drbdDevices === 'reject') {
    rules.push('r|^/dev/drbd[0-9]+$|', 'r|^/dev/drbd/|', `r|^/dev/block/${DRBD_MAJOR}:|`);
  }
  if (hostPvs.length > 0) {
    appendAll(rules, hostPvs.map((pv) => `a|^${literal(pv)}$|`));
    if (input.drbdDevices === 'accept') rules.push('a|^/dev/drbd[0-9]+$|');
    rules.push('r|.*|');
    return rules;
  }
  if (!input.lvm.features.scanLvsOffByDefault) {
    throw new ConfigError(
      `lvm2 ${input.lvm.lvm} scans LVs for PVs, so only an allow-list keeps DRBD backing LVs and guests' PVs out: name the host's PVs (hostPvs)`,
    );
  }
  if (input.drbdDevices === 'accept') rules.push('a|^/dev/drbd[0-9]+$|');
  rules.push('a|.*|');
  return rules;
}

export function planDeviceFilters(input: DeviceFilterInput, files: LvmConfigFiles, paths: ConfigPaths = {}): ConfigPlan {
  const rules = deviceFilterRules(input);
  const lvmConfPath = paths.lvmConf ?? DEFAULT_LVM_CONF;
  const allowList = (input.hostPvs ?? []).length > 0;
  const desired: Desired[] = [
    {
      path: 'devices/global_filter',
      value: rules,
      reason: allowList
        ? 'only the host PVs and the devices this tier uses are scanned; DRBD backing LVs and guest disks are not'
        : 'DRBD backing devices and guest disks are never scanned',
    },
  ];
  if (input.setFilter ?? true) {
    desired.push({ path: 'devices/filter', value: rules, reason: 'same rules, so a stale filter cannot hide or expose devices' });
  }
  const notes: string[] = [];
  if (!allowList) {
    desired.push({ path: 'devices/scan_lvs', value: 0, reason: 'LVs (tier-1 backing LVs, guest disks) are not scanned for PVs' });
  }
  if (!atLeast(input.lvm, '2.03.0')) {
    desired.push({
      path: 'devices/write_cache_state',
      value: 0,
      reason: 'lvm2 2.02 caches scanned device names in /etc/lvm/cache/.cache; a stale cache can bypass the new filter',
    });
    notes.push('remove /etc/lvm/cache/.cache so lvm2 2.02 rescans with the new filter');
  }
  notes.push('check with `pvs -a` that the host PVs and (tier 2) /dev/drbd* are listed and the backing LVs are not');
  return { edits: editsFor(files.lvmConf, lvmConfPath, desired), notes };
}

// ---------------------------------------------------------------- clustered locking

export type ClusterLockManager = 'sanlock' | 'dlm';
export type ClusterLockingMethod = 'clvmd' | 'lvmlockd';

export interface ClusteredLockingInput {
  lvm: LvmVersionInfo;
  /** Default: clvmd on lvm2 2.02, lvmlockd on 2.03 (which has no clvmd). */
  method?: ClusterLockingMethod;
  /** lvmlockd: which lock manager (required). */
  lockManager?: ClusterLockManager;
  /** sanlock: this host's unique host_id, 1..2000 (lvmlockd(8)). */
  hostId?: number;
}

/** lvmetad (and global/use_lvmetad) first shipped in lvm2 2.02.93. */
const LVMETAD_SINCE = '2.02.93';

export function clusteredLockingMethod(input: ClusteredLockingInput): ClusterLockingMethod {
  const v203 = atLeast(input.lvm, '2.03.0');
  const method = input.method ?? (v203 ? 'lvmlockd' : 'clvmd');
  if (method !== 'clvmd' && method !== 'lvmlockd') throw new ConfigError(`unknown clustered locking method ${JSON.stringify(method)}`);
  if (method === 'clvmd' && v203) {
    throw new ConfigError(`lvm2 ${input.lvm.lvm} has no clvmd (removed in 2.03.00): use lvmlockd (use_lvmlockd = 1 with sanlock or dlm)`);
  }
  if (method === 'clvmd' && !input.lvm.features.clvmd) {
    throw new ConfigError(`this lvm2 ${input.lvm.lvm} was built without clvmd (configure --with-clvmd=none)`);
  }
  if (method === 'lvmlockd' && !input.lvm.features.lvmlockd) {
    throw new ConfigError(`this lvm2 ${input.lvm.lvm} has no lvmlockd support (needs 2.02.124+ built with --enable-lvmlockd-sanlock or -dlm)`);
  }
  return method;
}

export function planClusteredLocking(input: ClusteredLockingInput, files: LvmConfigFiles, paths: ConfigPaths = {}): ConfigPlan {
  const method = clusteredLockingMethod(input);
  const lvmConfPath = paths.lvmConf ?? DEFAULT_LVM_CONF;
  const lvmLocalPath = paths.lvmLocalConf ?? DEFAULT_LVMLOCAL_CONF;
  const lvmConf = files.lvmConf;
  const lvmLocal = files.lvmLocalConf ?? LvmConfigFile.parse('', lvmLocalPath);

  if (method === 'clvmd') {
    if (input.lockManager !== undefined || input.hostId !== undefined) {
      throw new ConfigError('lockManager and hostId belong to lvmlockd; clvmd takes its membership from the cluster stack');
    }
    const desired: Desired[] = [
      { path: 'global/locking_type', value: 3, reason: 'built-in clustered locking through clvmd (lvmconf --enable-cluster)' },
    ];
    if (atLeast(input.lvm, LVMETAD_SINCE)) {
      desired.push({ path: 'global/use_lvmetad', value: 0, reason: 'lvmetad does not work with clustered locking (lvmconf --enable-cluster)' });
    }
    if (lvmConf.get('global/use_lvmlockd') !== undefined && lvmConf.get('global/use_lvmlockd') !== 0) {
      desired.push({ path: 'global/use_lvmlockd', value: 0, reason: 'clvmd and lvmlockd exclude each other' });
    }
    return {
      edits: editsFor(lvmConf, lvmConfPath, desired),
      notes: [
        'run the cluster stack (corosync and dlm, or cman) and clvmd on every node',
        'make the shared VG clustered: vgcreate -cy <vg> <pv>, or vgchange -cy <vg> while clvmd runs',
      ],
    };
  }

  const lm = input.lockManager;
  if (lm !== 'sanlock' && lm !== 'dlm') throw new ConfigError('lvmlockd needs a lock manager: lockManager "sanlock" or "dlm"');
  if (input.lvm.lockManagers !== null && !input.lvm.lockManagers.includes(lm)) {
    throw new ConfigError(`this lvm2 was built without lvmlockd ${lm} support (configure has ${input.lvm.lockManagers.join(', ') || 'none'})`);
  }
  const desired: Desired[] = [{ path: 'global/use_lvmlockd', value: 1, reason: 'shared VGs are locked through lvmlockd' }];
  const lockingType = lvmConf.get('global/locking_type');
  if (lockingType !== undefined && lockingType !== 1) {
    desired.push({
      path: 'global/locking_type',
      value: atLeast(input.lvm, '2.03.0') ? undefined : 1,
      reason: atLeast(input.lvm, '2.03.0') ? 'locking_type is obsolete in lvm2 2.03 (clustered locking is lvmlockd)' : 'lvmlockd works with local file locking (type 1)',
    });
  }
  const edits = editsFor(lvmConf, lvmConfPath, desired);
  const notes: string[] = [];
  if (lm === 'sanlock') {
    const id = input.hostId;
    if (id === undefined || !Number.isInteger(id) || id < 1 || id > 2000) {
      throw new ConfigError(`sanlock needs this host's unique host_id, an integer 1..2000 (got ${String(id)})`);
    }
    appendAll(edits, editsFor(lvmLocal, lvmLocalPath, [{ path: 'local/host_id', value: id, reason: 'sanlock host_id, unique among the hosts sharing the VG' }]));
    notes.push('run sanlock (with wdmd, or `sanlock daemon -w 0` without a watchdog) and `lvmlockd -g sanlock` on every node');
  } else {
    if (input.hostId !== undefined) throw new ConfigError('host_id is used by sanlock only; dlm takes node ids from corosync');
    notes.push('run corosync, dlm_controld and `lvmlockd -g dlm` on every node');
  }
  notes.push('start the shared VG\'s lockspace on every node: vgchange --lock-start <vg> (retry once: the first start can race the lvmlock LV appearing)');
  return { edits, notes };
}

/**
 * Commands that turn a clvm (clustered) VG into an lvmlockd shared VG (lvmlockd(8),
 * "Changing a clvm/clustered VG to a shared VG"). All LVs must be inactive. With clvmd
 * still running (lvm2 2.02) `vgchange -cn` makes it local; with no clvm cluster left (lvm2
 * 2.03 has no clvmd) only the forced form works and is safe only when no node uses the VG.
 */
export function clvmToSharedVgSteps(vg: string, lockManager: ClusterLockManager, options: { clvmdRunning: boolean }): string[][] {
  validateVgName(vg);
  if (lockManager !== 'sanlock' && lockManager !== 'dlm') throw new ConfigError('lockManager must be "sanlock" or "dlm"');
  const toLocal = options.clvmdRunning ? ['vgchange', '-cn', vg] : ['vgchange', '--lock-type', 'none', '--lock-opt', 'force', vg];
  return [toLocal, ['vgchange', '--lock-type', lockManager, vg], ['vgchange', '--lock-start', vg]];
}
