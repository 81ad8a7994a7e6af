/** `hastor lvm report|lock|cluster-setup`. */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { Argument, Command, Option } from 'commander';
import {
  CommandError,
  LvmConfigFile,
  lockingDirFrom,
  lvmHostIdOf,
  lvmRunnerFor,
  lvmVersionOn,
  prioritiseWriteLocksFrom,
  readLvs,
  readPvs,
  readVgs,
  setupLvmlockd,
  startLockspace,
  withLvmLocks,
  type InterpretedReport,
  type LogicalVolume,
  type PhysicalVolume,
  type VolumeGroup,
} from '../../index.js';
import { SilentExit, type CliContext } from '../context.js';
import { parseDuration } from '../duration.js';
import { colorsFor, escapeControls, formatBytes, table } from '../format.js';
import { numbersForBigints, type ClusterSetupJson, type LvmReportJson } from '../json-contract.js';
import { collect } from '../operation-output.js';
import { nodeExecutor } from './resource-context.js';

type Kind = 'pvs' | 'vgs' | 'lvs';
const KINDS: readonly Kind[] = ['pvs', 'vgs', 'lvs'];

interface ReportOptions {
  node?: string;
  json?: boolean;
  vg?: string[];
  all?: boolean;
}

const size = (b: bigint): string => formatBytes(Number(b));

function pvTable(items: readonly PhysicalVolume[]): string {
  return table(['PV', 'VG', 'FMT', 'ATTR', 'SIZE', 'FREE'], items.map((p) => [p.name, p.vgName ?? '-', p.format, p.attr, size(p.sizeBytes), size(p.freeBytes)]));
}

function vgTable(items: readonly VolumeGroup[]): string {
  return table(
    ['VG', 'ATTR', '#PV', '#LV', 'SIZE', 'FREE', 'LOCK'],
    items.map((v) => [v.name, v.attr, String(v.pvCount), String(v.lvCount), size(v.sizeBytes), size(v.freeBytes), v.lockType ?? (v.clustered ? 'clvm' : '-')]),
  );
}

function lvTable(items: readonly LogicalVolume[]): string {
  const active = (l: LogicalVolume) => (l.active === null ? '?' : l.active ? (l.activeExclusively ? 'exclusive' : 'yes') : 'no');
  return table(['LV', 'VG', 'ATTR', 'SIZE', 'ACTIVE'], items.map((l) => [l.name, l.vgName, l.attr, size(l.sizeBytes), active(l)]));
}

function reportPart(report: InterpretedReport<unknown>) {
  return {
    complete: report.complete,
    problems: report.problems,
    items: numbersForBigints(report.items) as never[],
    log: report.log.map((e) => ({ type: e.type, message: e.message, objectType: e.objectType, objectName: e.objectName, retCode: e.retCode })),
  };
}


function reportCommand(context: CliContext): Command {
  return new Command('report')
    .description('pvs, vgs and lvs of a node, sizes in bytes (all three unless one is named)')
    .addArgument(new Argument('[kind]', 'pvs, vgs or lvs (default: all three)').choices(KINDS))
    .option('--node <node>', 'a node of the cluster file (default: this machine)')
    .option('--vg <vg>', 'only this VG (repeatable)', collect)
    .option('--all', 'lvs -a: hidden LVs too (lvmlockd\'s lvmlock, raid images)')
    .option('--json', 'print the reports as JSON (see docs/cli.md)')
    .addHelpText(
      'after',
      `
Examples:
  hastor lvm report                          pvs, vgs and lvs of this machine
  hastor lvm report vgs --node node2 --json  node2's VGs for a script
  hastor lvm report lvs --vg vg_host --all`,
    )
    .action(async (kind: string | undefined, options: ReportOptions) => {
      if (kind !== undefined && !KINDS.includes(kind as Kind)) context.usageError(`lvm report: ${JSON.stringify(kind)} is not one of ${KINDS.join(', ')}`);
      const kinds = kind === undefined ? KINDS : [kind as Kind];
      const executor = await nodeExecutor(context, options.node);
      const version = await lvmVersionOn(executor);
      const runner = lvmRunnerFor(executor);
      const base = { version, exec: runner.exec, ...(options.vg === undefined ? {} : { vgs: options.vg }), ...(options.all ? { all: true } : {}) };
      try {
        const json: LvmReportJson = { node: executor.node };
        const human: string[] = [];
        const problems: string[] = [];
        for (const k of kinds) {
          const report = k === 'pvs' ? await readPvs(base) : k === 'vgs' ? await readVgs(base) : await readLvs(base);
          json[k] = reportPart(report) as never;
          problems.push(...report.problems.map((p) => `${k}: ${p}`));
          const items = report.items as never[];
          human.push(items.length === 0 ? `no ${k.slice(0, 2).toUpperCase()}s` : k === 'pvs' ? pvTable(items) : k === 'vgs' ? vgTable(items) : lvTable(items));
        }
        if (options.json) context.out(`${JSON.stringify(json, null, 2)}\n`);
        else context.out(`${escapeControls(human.join('\n\n'), { newlines: true })}\n`);
        const colors = colorsFor(context.stderr, context.env);
        for (const p of problems) context.stderr.write(`${colors.yellow('hastor: warning')}: ${escapeControls(`incomplete report on ${executor.node}: ${p}`)}\n`);
      } finally {
        await runner.close();
      }
    });
}

interface LockOptions {
  timeout: string;
  shared?: boolean;
  lockingDir?: string;
}

async function lvmConf(): Promise<LvmConfigFile | undefined> {
  try {
    return LvmConfigFile.parse(await readFile('/etc/lvm/lvm.conf', 'utf8'), '/etc/lvm/lvm.conf');
  } catch {
    return undefined; // lvm's defaults then
  }
}

function lockCommand(context: CliContext): Command {
  return new Command('lock')
    .description("hold one of lvm's own file locks on this machine (a VG's, or the global one) while a command runs")
    .argument('<target>', 'a VG name, or "global"')
    .argument('<command...>', 'the command to run, after --')
    .option('--timeout <seconds>', 'give up when the lock is not free within this time', '60')
    .option('--shared', 'a shared (read) lock; default exclusive')
    .option('--locking-dir <dir>', "lvm's locking_dir (default: from /etc/lvm/lvm.conf, else /run/lock/lvm)")
    .addHelpText(
      'after',
      `
The command's exit code is passed through; 5 means the lock was not free in time
(the message names the holder). These are per-host locks, as lvm takes them.
Like flock(1), the command inherits the lock: if hastor is killed, the command
keeps it until it exits. SIGTERM and SIGHUP are passed on to the command.

Examples:
  hastor lvm lock vg_host -- dd if=/dev/vg_host/r0_disk of=/backup/r0.img bs=1M
  hastor lvm lock global --timeout 5 -- sh -c 'pvs; vgs'`,
    )
    .action(async (target: string, command: string[], options: LockOptions) => {
      const timeoutMs = parseDuration(options.timeout, '--timeout', { minSeconds: 0 });
      const conf = options.lockingDir === undefined ? await lvmConf() : undefined;
      const lockingDir = options.lockingDir ?? lockingDirFrom(conf);
      const code = await withLvmLocks(
        {
          mode: options.shared ? 'shared' : 'exclusive',
          ...(target === 'global' ? { global: true } : { vgs: [target] }),
          timeoutMs,
          lockingDir,
          prioritiseWriteLocks: prioritiseWriteLocksFrom(conf),
        },
        (locks) => runHolding(context, command, locks.fds()),
      );
      if (code !== 0) throw new SilentExit(code);
    });
}

/** Forwarded to the command: it decides when it is done, and holds the locks until then. */
const FORWARDED_SIGNALS = ['SIGTERM', 'SIGHUP'] as const;

/**
 * Runs argv holding the locks itself, as flock(1) does: it inherits the lock
 * descriptors, so the locks live as long as it does even if hastor is killed
 * (SIGKILL included). stdin is inherited and its output forwarded; resolves with
 * its exit code (128+n for a signal, as shells do).
 */
function runHolding(context: CliContext, argv: string[], lockFds: readonly number[]): Promise<number> {
  const [file, ...args] = argv;
  // The CLI's own streams are handed over as they are; captured ones (tests, library callers) are piped.
  const own = context.stdout === process.stdout && context.stderr === process.stderr;
  return new Promise((resolve, reject) => {
    const child = spawn(file as string, args, { stdio: ['inherit', own ? 'inherit' : 'pipe', own ? 'inherit' : 'pipe', ...lockFds] });
    child.stdout?.on('data', (chunk: Buffer) => context.stdout.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => context.stderr.write(chunk));
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const stopForwarding = (): void => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.on('error', (error) => {
      stopForwarding();
      reject(new CommandError(`cannot run ${argv.join(' ')}: ${error.message}`, { argv, exitCode: null, stderr: '', cause: error }));
    });
    child.on('close', (code, signal) => {
      stopForwarding();
      const signo = signal === null ? undefined : (constants.signals as Record<string, number>)[signal];
      resolve(code ?? 128 + (signo ?? 0));
    });
  });
}

interface SetupOptions {
  vg?: string[];
  lockManager: 'sanlock' | 'dlm';
  node?: string[];
  daemons: 'auto' | 'systemd' | 'direct' | 'none';
  sanlockWatchdog?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

function clusterSetupCommand(context: CliContext): Command {
  return new Command('cluster-setup')
    .description('configure every node for shared VGs (lvmlockd): lvm.conf, lvmlocal.conf host_id, daemons; then start the VGs\' lockspaces')
    .option('--vg <vg>', 'a shared VG whose lockspace to start on every node (repeatable)', collect)
    .addOption(new Option('--lock-manager <manager>', 'lvmlockd\'s lock manager').choices(['sanlock', 'dlm']).default('sanlock'))
    .addOption(new Option('--daemons <how>', 'how to start missing daemons').choices(['auto', 'systemd', 'direct', 'none']).default('auto'))
    .option('--no-sanlock-watchdog', 'run sanlock without a watchdog (test labs only: a node losing its leases is not reset)')
    .option('--node <node>', 'only this node (repeatable; default every node of the cluster file)', collect)
    .option('--dry-run', 'show the edits and daemon starts per node without changing anything')
    .option('--json', 'print the result as JSON (see docs/cli.md)')
    .addHelpText(
      'after',
      `
host_id (sanlock): each node's "lvmHostId" in the cluster file, else its position (1, 2, …).

Examples:
  hastor lvm cluster-setup --dry-run
  hastor lvm cluster-setup --vg vgshared
  hastor lvm cluster-setup --lock-manager dlm --vg vgshared --json`,
    )
    .action(async (options: SetupOptions) => {
      const loaded = await context.loadCluster();
      const nodes = options.node ?? loaded.cluster.names;
      for (const n of nodes) if (!loaded.cluster.has(n)) context.usageError(`no node ${JSON.stringify(n)} in ${loaded.file.path}`);
      const dryRun = options.dryRun === true;
      const json: ClusterSetupJson = { dryRun, lockManager: options.lockManager, nodes: [] };
      const colors = colorsFor(context.stdout, context.env);
      // One node after another: a half-configured cluster is easier to read node by node.
      for (const name of nodes) {
        const executor = loaded.cluster.node(name).executor;
        const hostId = options.lockManager === 'sanlock' ? lvmHostIdOf(loaded.file, name) : null;
        const result = await setupLvmlockd(executor, {
          lockManager: options.lockManager,
          ...(hostId === null ? {} : { hostId }),
          daemons: options.daemons,
          ...(options.sanlockWatchdog === false ? { sanlockWatchdog: false } : {}),
          dryRun,
        });
        const lockspaces: ClusterSetupJson['nodes'][number]['lockspaces'] = [];
        for (const vg of options.vg ?? []) {
          if (dryRun) {
            lockspaces.push({ vg, started: false, attempts: 0 });
            continue;
          }
          const started = await startLockspace(executor, vg);
          lockspaces.push({ vg, started: true, attempts: started.attempts.length });
        }
        json.nodes.push({ node: name, hostId, edits: result.plan.edits.map((e) => ({ file: e.file, path: e.path, old: e.old ?? null, new: e.new ?? null, reason: e.reason })), written: result.written, started: result.started, running: result.running, lockspaces });
        if (!options.json) {
          const lines = [colors.bold(`${name}${hostId === null ? '' : ` (host_id ${hostId})`}`)];
          for (const e of result.plan.edits) lines.push(`  ${dryRun ? 'would set' : 'set'} ${e.file}: ${e.path} = ${JSON.stringify(e.new)} (was ${e.old === undefined ? 'unset' : JSON.stringify(e.old)}; ${e.reason})`);
          if (result.plan.edits.length === 0) lines.push('  lvm.conf and lvmlocal.conf already configured');
          if (result.started.length > 0) lines.push(`  ${dryRun ? 'would start' : 'started'}: ${result.started.join(', ')}`);
          if (result.running.length > 0) lines.push(`  running: ${result.running.join(', ')}`);
          for (const l of lockspaces) lines.push(`  ${dryRun ? 'would run' : 'ran'}: vgchange --lockstart ${l.vg}${dryRun ? '' : ` (${l.attempts} attempt${l.attempts === 1 ? '' : 's'})`}`);
          context.out(`${lines.join('\n')}\n`);
        }
      }
      if (options.json) context.out(`${JSON.stringify(json, null, 2)}\n`);
      else if (dryRun) context.out('dry run: nothing was changed\n');
    });
}

export function lvmCommand(context: CliContext): Command {
  const root = new Command('lvm')
    .description('LVM on the nodes: reports, lvm\'s file locks, lvmlockd set-up')
    .addHelpText(
      'after',
      `
Examples:
  hastor lvm report vgs --json
  hastor lvm lock vg_host -- lvs vg_host
  hastor lvm cluster-setup --vg vgshared --dry-run`,
    );
  root.addCommand(reportCommand(context));
  root.addCommand(lockCommand(context));
  root.addCommand(clusterSetupCommand(context));
  return root;
}
