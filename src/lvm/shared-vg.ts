/**
 * Tier 2: a shared VG on a DRBD device, locked between nodes by lvmlockd (lvm2 2.03; clvmd is
 * gone there). Everything runs on a node through its Executor, lvm commands through an
 * LvmRunner (fork-per-call by default, the lvm shell when the caller passes one).
 *
 * Facts this follows (lvmlockd(8), and measured in the lab with lvm2 2.03.16 + sanlock 3.8):
 * - lvm.conf `global/use_lvmlockd = 1` on every node; sanlock also needs a unique
 *   `local/host_id` (1..2000) in lvmlocal.conf. Then the lock manager (sanlock, or corosync +
 *   dlm_controld) and `lvmlockd -g <manager>` run on every node.
 * - `vgcreate --shared` goes on the bare device: the first shared VG also holds the global
 *   lock, and a `pvcreate` before it fails with "Global lock failed". With sanlock it writes
 *   the leases of an internal `lvmlock` LV (256 MiB) and took 31–37 s in the lab.
 * - Every other node starts the VG's lockspace (`vgchange --lockstart`, 25–28 s with
 *   sanlock). Without udev, the first start on a second node fails ("invalid parameters for
 *   sanlock": /dev/mapper/<vg>-lvmlock appears just after lvmlockd looks for it); a retry
 *   succeeds.
 * - LVs are activated exclusively (`lvchange -aey`, one node) or shared (`-asy`, several);
 *   lvmlockd refuses a conflicting activation on another node with "LV locked by other host".
 * - Before a node leaves (DRBD demote): `lvchange -an`, then `vgchange --lockstop`; sanlock's
 *   lvmlock LV keeps the device open otherwise.
 */
import { CommandError, ConfigError, HastorError, LockError } from '../errors.js';
import type { Executor } from '../sys/executor.js';
import { LvmConfigFile } from './config-file.js';
import { runnerOf } from './executor-runner.js';
import type { LvmRunner } from './lvm-shell.js';
import { dmName, lvPath, validateVgName, type LvRef } from './names.js';
import { readVgs, type VolumeGroup } from './report.js';
import {
  DEFAULT_LVM_CONF,
  DEFAULT_LVMLOCAL_CONF,
  applyConfigPlan,
  configFileMap,
  planClusteredLocking,
  type ClusterLockManager,
  type ConfigPaths,
  type ConfigPlan,
} from './stack-config.js';
import { lvmVersionOn, type LvmVersionInfo } from './version.js';

// ---------------------------------------------------------------- versions per node

export { lvmVersionOn } from './version.js';

// ---------------------------------------------------------------- config files on a node

/** A file's text, or null when it does not exist. */
async function readOptionalFile(node: Executor, path: string): Promise<string | null> {
  const result = await node.run(['cat', '--', path], { root: true, okExitCodes: [0, 1] });
  if (result.exitCode === 0) return result.stdout;
  if (/No such file/.test(result.stderr)) return null;
  throw new CommandError(`${node.node}: cannot read ${path}: ${result.stderr.trim()}`, { argv: ['cat', '--', path], exitCode: result.exitCode, stderr: result.stderr, node: node.node });
}

// ---------------------------------------------------------------- lvmlockd set-up

export type DaemonStart = 'auto' | 'systemd' | 'direct' | 'none';

export interface LvmlockdSetupOptions {
  lockManager: ClusterLockManager;
  /** sanlock: this node's host_id, 1..2000, unique among the nodes sharing the VG. */
  hostId?: number;
  /** Known version of lvm on the node (skips `lvm version`). */
  version?: LvmVersionInfo;
  paths?: ConfigPaths;
  /**
   * How missing daemons are started: `systemd` (systemctl start), `direct` (run them, for
   * nodes without systemd such as the lab), `none` (only check), `auto` (default: systemd
   * when the node runs it, else direct).
   */
  daemons?: DaemonStart;
  /**
   * Direct start only. false runs `sanlock daemon -w 0`: no watchdog, so a node that loses
   * its leases is not reset. Acceptable in a test lab, never in production. Default true.
   */
  sanlockWatchdog?: boolean;
  /** Direct start only: sanlock's user and group (`-U`/`-G`); default sanlock's own (user "sanlock"). */
  sanlockUser?: string;
  sanlockGroup?: string;
  timeoutMs?: number;
  /** Plan only: read files and probe daemons; `written` and `started` then name what would be written and started. */
  dryRun?: boolean;
}

export interface LvmlockdSetupResult {
  node: string;
  version: LvmVersionInfo;
  /** The edits the node's files needed (none when already configured). */
  plan: ConfigPlan;
  /** Files rewritten (only those the plan touches; every other byte is kept). */
  written: string[];
  /** Daemons started by this call, and those found running. */
  started: string[];
  running: string[];
}

/** True when the command exits 0 (a probe: is the daemon answering?). */
async function probe(node: Executor, argv: string[], timeoutMs = 10_000): Promise<boolean> {
  try {
    await node.run(argv, { root: true, timeoutMs });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, node: Executor, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new HastorError('E_DAEMON', `${node.node}: ${what} did not come up within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const sanlockRunning = (node: Executor) => probe(node, ['sanlock', 'client', 'status']);
const lvmlockdRunning = (node: Executor) => probe(node, ['lvmlockctl', '--info']);

async function startDaemons(node: Executor, options: LvmlockdSetupOptions, result: LvmlockdSetupResult): Promise<void> {
  const lm = options.lockManager;
  const mode = options.daemons ?? 'auto';
  const timeoutMs = options.timeoutMs ?? 60_000;
  const needSanlock = lm === 'sanlock';
  const sanlockUp = needSanlock ? await sanlockRunning(node) : false;
  const lvmlockdUp = await lvmlockdRunning(node);
  if (sanlockUp) result.running.push('sanlock');
  if (lvmlockdUp) result.running.push('lvmlockd');
  if ((!needSanlock || sanlockUp) && lvmlockdUp) return;
  const missing = [...(needSanlock && !sanlockUp ? ['sanlock'] : []), ...(lvmlockdUp ? [] : ['lvmlockd'])];
  if (options.dryRun === true) {
    result.started.push(...missing);
    return;
  }
  if (mode === 'none') {
    throw new HastorError('E_DAEMON', `${node.node}: ${missing.join(' and ')} not running; start ${lm === 'dlm' ? 'corosync, dlm_controld and ' : ''}${missing.join(' and ')} (lvmlockd -g ${lm})`);
  }
  const systemd = mode === 'systemd' || (mode === 'auto' && (await probe(node, ['test', '-d', '/run/systemd/system'])));
  if (systemd) {
    const units = [...(needSanlock && !sanlockUp ? [...(options.sanlockWatchdog === false ? [] : ['wdmd']), 'sanlock'] : []), ...(lvmlockdUp ? [] : ['lvmlockd'])];
    await node.run(['systemctl', 'start', ...units], { root: true, timeoutMs });
  } else {
    if (needSanlock && !sanlockUp) {
      await node.run(['mkdir', '-p', '/run/sanlock'], { root: true });
      const argv = ['sanlock', 'daemon'];
      if (options.sanlockWatchdog === false) argv.push('-w', '0');
      if (options.sanlockUser !== undefined) argv.push('-U', options.sanlockUser);
      if (options.sanlockGroup !== undefined) argv.push('-G', options.sanlockGroup);
      await node.run(argv, { root: true, timeoutMs });
      // lvmlockd -g sanlock wants sanlock answering when it starts.
      await waitFor('sanlock', node, () => sanlockRunning(node), timeoutMs);
    }
    if (!lvmlockdUp) {
      await node.run(['mkdir', '-p', '/run/lvm'], { root: true });
      // lvmlockd forks into the background itself.
      await node.run(['lvmlockd', '-g', lm], { root: true, timeoutMs });
    }
  }
  if (needSanlock && systemd) await waitFor('sanlock', node, () => sanlockRunning(node), timeoutMs);
  await waitFor('lvmlockd', node, () => lvmlockdRunning(node), timeoutMs);
  result.started.push(...missing);
}

/**
 * Configures a node for shared VGs: use_lvmlockd = 1 in lvm.conf, host_id in lvmlocal.conf
 * (sanlock), each file changed only where needed; then starts the lock manager and lvmlockd
 * when they are not running. Running it again changes nothing.
 */
export async function setupLvmlockd(node: Executor, options: LvmlockdSetupOptions): Promise<LvmlockdSetupResult> {
  const version = options.version ?? (await lvmVersionOn(node));
  const lvmConfPath = options.paths?.lvmConf ?? DEFAULT_LVM_CONF;
  const lvmLocalPath = options.paths?.lvmLocalConf ?? DEFAULT_LVMLOCAL_CONF;
  const lvmConfText = await readOptionalFile(node, lvmConfPath);
  const lvmLocalText = await readOptionalFile(node, lvmLocalPath);
  const files = {
    lvmConf: LvmConfigFile.parse(lvmConfText ?? '', lvmConfPath),
    ...(lvmLocalText === null ? {} : { lvmLocalConf: LvmConfigFile.parse(lvmLocalText, lvmLocalPath) }),
  };
  const paths = { lvmConf: lvmConfPath, lvmLocalConf: lvmLocalPath };
  const plan = planClusteredLocking(
    { lvm: version, method: 'lvmlockd', lockManager: options.lockManager, ...(options.hostId === undefined ? {} : { hostId: options.hostId }) },
    files,
    paths,
  );
  const result: LvmlockdSetupResult = { node: node.node, version, plan, written: [], started: [], running: [] };
  const edited = applyConfigPlan(plan, configFileMap(files, paths));
  for (const [path, file] of edited) {
    if (options.dryRun !== true) await node.writeFile(path, file.toString(), { root: true, mode: 0o644 });
    result.written.push(path);
  }
  await startDaemons(node, options, result);
  return result;
}

// ---------------------------------------------------------------- the VG's locking

export interface VgLocking {
  vg: string;
  /** Shared (lvmlockd) or clustered (clvmd): writers on several nodes are coordinated. */
  clusterAware: boolean;
  kind: 'lvmlockd' | 'clvm' | 'local';
  /** sanlock, dlm, idm, clvm; null for a local VG. */
  lockType: string | null;
  attr: string;
  /** For messages: "VG vgshared is shared (lvmlockd, sanlock)". */
  detail: string;
}

const LVMLOCKD_TYPES = new Set(['sanlock', 'dlm', 'idm']);

/** What a VG's report says about its locking (vg_attr 6th character, vg_lock_type). */
export function vgLockingOf(vg: VolumeGroup): VgLocking {
  const lockType = vg.lockType === null || vg.lockType === '' || vg.lockType === 'none' ? null : vg.lockType;
  if (vg.shared || (lockType !== null && LVMLOCKD_TYPES.has(lockType))) {
    return { vg: vg.name, clusterAware: true, kind: 'lvmlockd', lockType, attr: vg.attr, detail: `VG ${vg.name} is shared (lvmlockd, ${lockType ?? 'lock type not reported'})` };
  }
  if (vg.clustered || lockType === 'clvm') {
    return { vg: vg.name, clusterAware: true, kind: 'clvm', lockType: 'clvm', attr: vg.attr, detail: `VG ${vg.name} is clustered (clvmd, attr ${vg.attr})` };
  }
  return {
    vg: vg.name,
    clusterAware: false,
    kind: 'local',
    lockType: null,
    attr: vg.attr,
    detail: `VG ${vg.name} is a local VG (attr ${vg.attr}, no lvmlockd or clvmd lock type)`,
  };
}

export interface LvmNodeOptions {
  /** How lvm commands run on the node (default: fork-per-call through the executor). */
  lvm?: LvmRunner;
  version?: LvmVersionInfo;
  timeoutMs?: number;
}

/** Reads the VG on the node and says whether it is cluster-aware. */
export async function isClusterAware(node: Executor, vg: string, options: LvmNodeOptions = {}): Promise<VgLocking> {
  validateVgName(vg);
  const version = options.version ?? (await lvmVersionOn(node));
  const runner = runnerOf(node, options.lvm);
  const report = await readVgs({ version, exec: runner.exec, vgs: [vg], ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  const found = report.items.find((v) => v.name === vg);
  if (found === undefined) {
    throw new CommandError(`${node.node}: VG ${vg} not found${report.problems.length > 0 ? `: ${report.problems.join('; ')}` : ''}`, {
      argv: ['vgs', vg],
      exitCode: report.exitCode,
      stderr: report.problems.join('\n'),
      node: node.node,
    });
  }
  return vgLockingOf(found);
}

// ---------------------------------------------------------------- lvmlockd refusals

export type ActivationMode = 'exclusive' | 'shared' | 'off';

export type ClusterLockReason = 'held-by-other-host' | 'incompatible-mode' | 'lockspace-not-started' | 'lvmlockd-unavailable';

/**
 * lvmlockd refused a lock: another node holds the LV (or the VG/global lock), this node holds
 * it in another mode, or the VG's lockspace is not started here. `path` names where the lock
 * lives: sanlock's lvmlock LV, or the dlm lockspace.
 */
export class LvmClusterLockError extends LockError {
  readonly node: string;
  readonly vg: string;
  readonly lv: string | null;
  readonly requested: ActivationMode | 'lockstart' | 'command';
  readonly reason: ClusterLockReason;
  readonly lvmMessage: string;

  constructor(
    message: string,
    details: { node: string; vg: string; lv: string | null; requested: LvmClusterLockError['requested']; reason: ClusterLockReason; lvmMessage: string; lockType?: string | null; cause?: unknown },
  ) {
    const path = details.lockType === 'dlm' ? `dlm lockspace lvm_${details.vg}` : `/dev/mapper/${dmName({ vg: details.vg, lv: 'lvmlock' })}`;
    super(message, { path, cause: details.cause });
    this.node = details.node;
    this.vg = details.vg;
    this.lv = details.lv;
    this.requested = details.requested;
    this.reason = details.reason;
    this.lvmMessage = details.lvmMessage;
  }
}

// lvm2 lib/locking/lvmlockd.c messages, most specific first.
const REFUSALS: Array<{ re: RegExp; reason: ClusterLockReason }> = [
  { re: /LV locked by other host|held by other host|locked by another host/i, reason: 'held-by-other-host' },
  { re: /already locked with incompatible mode|incompatible (?:lock )?mode/i, reason: 'incompatible-mode' },
  { re: /lockspace (?:not found|is starting)|lock start in progress|no lockspace|lockspace not started/i, reason: 'lockspace-not-started' },
  { re: /lvmlockd (?:is )?not running|Cannot connect to lvmlockd|Locking failed for LV/i, reason: 'lvmlockd-unavailable' },
];

/**
 * Which lvmlockd refusal an lvm error message is, if any. Lines lvm only warns with
 * ("Skipping global lock: lockspace not found or started", printed by every command on a
 * node whose global lockspace is elsewhere) are not the refusal.
 */
export function classifyLockRefusal(text: string): { reason: ClusterLockReason; line: string } | null {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^(?:WARNING: )?Skipping global lock/i.test(l));
  for (const { re, reason } of REFUSALS) {
    const line = lines.find((l) => re.test(l));
    if (line !== undefined) return { reason, line };
  }
  return null;
}

const ADVICE: Record<ClusterLockReason, string> = {
  'held-by-other-host': 'another node holds its lvmlockd lock: deactivate it there first (lvchange -an), or activate it shared (-asy) on every node that needs it',
  'incompatible-mode': 'this node already holds the lock in another mode: deactivate it here (lvchange -an) and activate again in the mode wanted',
  'lockspace-not-started': "the VG's lockspace is not started on this node: vgchange --lockstart it first",
  'lvmlockd-unavailable': 'lvmlockd (or its lock manager) is not running on this node',
};

const ACTIVATE_FLAG: Record<ActivationMode, string> = { exclusive: '-aey', shared: '-asy', off: '-an' };
const MODE_WORD: Record<ActivationMode, string> = { exclusive: 'exclusively', shared: 'shared', off: '(deactivate)' };

export interface ActivationResult {
  node: string;
  lv: string;
  mode: ActivationMode;
  durationMs: number;
}

function toLockError(node: Executor, error: unknown, vg: string, lv: string | null, requested: LvmClusterLockError['requested'], what: string): unknown {
  if (!(error instanceof CommandError)) return error;
  const refusal = classifyLockRefusal(`${error.stderr}\n${error.message}`);
  if (refusal === null) return error;
  return new LvmClusterLockError(`${node.node}: ${what}: ${refusal.line}; ${ADVICE[refusal.reason]}`, {
    node: node.node,
    vg,
    lv,
    requested,
    reason: refusal.reason,
    lvmMessage: refusal.line,
    cause: error,
  });
}

/**
 * Activates an LV of a shared VG exclusively (`lvchange -aey`), shared (`-asy`), or
 * deactivates it (`-an`). A refusal by lvmlockd is an LvmClusterLockError saying why.
 */
export async function activate(node: Executor, ref: LvRef, mode: ActivationMode, options: LvmNodeOptions = {}): Promise<ActivationResult> {
  const target = lvPath(ref);
  if (!(mode in ACTIVATE_FLAG)) throw new ConfigError(`activation mode must be exclusive, shared or off, not ${JSON.stringify(mode)}`);
  const runner = runnerOf(node, options.lvm);
  const started = performance.now();
  try {
    await runner.run(['lvchange', ACTIVATE_FLAG[mode], target], { timeoutMs: options.timeoutMs ?? 120_000 });
  } catch (error) {
    throw toLockError(node, error, ref.vg, ref.lv, mode, `cannot activate ${target} ${MODE_WORD[mode]}`);
  }
  return { node: node.node, lv: target, mode, durationMs: performance.now() - started };
}

// ---------------------------------------------------------------- the VG and its lockspace

export interface CreateSharedVgOptions extends LvmNodeOptions {
  vg: string;
  /** The bare device, e.g. /dev/drbd0 (not pvcreate'd before: vgcreate --shared does it). */
  device: string;
  /** Default: the lock manager lvmlockd runs with (its -g). */
  lockType?: ClusterLockManager;
}

export interface CreateSharedVgResult {
  node: string;
  vg: string;
  created: boolean;
  locking: VgLocking;
  durationMs: number;
}

/**
 * `vgcreate --shared` on the bare device. An existing shared VG of that name is left as it
 * is (created: false); an existing local one is a ConfigError.
 */
export async function createSharedVg(node: Executor, options: CreateSharedVgOptions): Promise<CreateSharedVgResult> {
  const vg = validateVgName(options.vg);
  if (typeof options.device !== 'string' || !/^\/dev\/\S+$/.test(options.device)) throw new ConfigError(`not a device path: ${JSON.stringify(options.device)}`);
  const version = options.version ?? (await lvmVersionOn(node));
  const runner = runnerOf(node, options.lvm);
  const started = performance.now();
  const existing = await readVgs({ version, exec: runner.exec, vgs: [vg] });
  const found = existing.items.find((v) => v.name === vg);
  if (found !== undefined) {
    const locking = vgLockingOf(found);
    if (locking.kind !== 'lvmlockd') throw new ConfigError(`${node.node}: VG ${vg} exists and is not shared: ${locking.detail}`);
    return { node: node.node, vg, created: false, locking, durationMs: performance.now() - started };
  }
  const argv = ['vgcreate', '--shared', ...(options.lockType === undefined ? [] : ['--locktype', options.lockType]), vg, options.device];
  try {
    await runner.run(argv, { timeoutMs: options.timeoutMs ?? 300_000 });
  } catch (error) {
    throw toLockError(node, error, vg, null, 'command', `cannot create shared VG ${vg} on ${options.device}`);
  }
  const locking = await isClusterAware(node, vg, { version, lvm: runner });
  return { node: node.node, vg, created: true, locking, durationMs: performance.now() - started };
}

export interface LockspaceOptions extends LvmNodeOptions {
  /** Extra attempts after a failed start (default 2). */
  retries?: number;
  /** Between attempts (default 2 s). */
  retryDelayMs?: number;
}

export interface LockspaceResult {
  node: string;
  vg: string;
  /** Every attempt's outcome; the last one succeeded. */
  attempts: Array<{ ok: boolean; message: string; durationMs: number }>;
  durationMs: number;
}

/**
 * `vgchange --lockstart <vg>`, waiting until the locks are usable. A failed start is retried
 * (the second node's first start loses a race with its lvmlock device appearing).
 */
export async function startLockspace(node: Executor, vg: string, options: LockspaceOptions = {}): Promise<LockspaceResult> {
  validateVgName(vg);
  const runner = runnerOf(node, options.lvm);
  const retries = options.retries ?? 2;
  const started = performance.now();
  const attempts: LockspaceResult['attempts'] = [];
  for (let attempt = 0; ; attempt++) {
    const t = performance.now();
    try {
      const r = await runner.run(['vgchange', '--lockstart', vg], { timeoutMs: options.timeoutMs ?? 300_000 });
      attempts.push({ ok: true, message: r.stderr.trim(), durationMs: performance.now() - t });
      return { node: node.node, vg, attempts, durationMs: performance.now() - started };
    } catch (error) {
      const message = error instanceof CommandError ? (error.stderr.trim() || error.message) : String(error);
      attempts.push({ ok: false, message, durationMs: performance.now() - t });
      if (!(error instanceof CommandError) || error.exitCode === null || attempt >= retries) {
        if (!(error instanceof CommandError)) throw error;
        const said = error.stderr
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !/^Skipping global lock/.test(l));
        throw new CommandError(`${node.node}: cannot start the lockspace of ${vg} (${attempts.length} attempt${attempts.length === 1 ? '' : 's'}): ${said.at(-1) ?? error.message}`, {
          argv: error.argv,
          exitCode: error.exitCode,
          stderr: error.stderr,
          node: node.node,
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 2000));
    }
  }
}

/** `vgchange --lockstop <vg>`: every LV of the VG must be inactive on this node first. */
export async function stopLockspace(node: Executor, vg: string, options: LvmNodeOptions = {}): Promise<void> {
  validateVgName(vg);
  const runner = runnerOf(node, options.lvm);
  try {
    await runner.run(['vgchange', '--lockstop', vg], { timeoutMs: options.timeoutMs ?? 120_000 });
  } catch (error) {
    throw toLockError(node, error, vg, null, 'command', `cannot stop the lockspace of ${vg}`);
  }
}
