/** `hastor resource <operation> <name>`: one DRBD resource of the cluster file, through DrbdResource. */
import { Command } from 'commander';
import { assertSplitBrain, inspectSplitBrain, resolveSplitBrain, type DrbdResource, type OperationResult, type SplitBrainReport } from '../../index.js';
import { UsageError, type CliContext } from '../context.js';
import { progressBar, table } from '../format.js';
import { splitBrainReportJson } from '../json-contract.js';
import { collect, runChange, type ChangeOptions } from '../operation-output.js';
import { nodeOrLocal, resourceTarget } from './resource-context.js';

interface NodesOptions extends ChangeOptions {
  node?: string[];
}

interface CreateCliOptions extends ChangeOptions {
  syncSource?: string | false;
  stayPrimary?: boolean;
  wait?: boolean;
}

interface SplitBrainCliOptions extends ChangeOptions {
  victim?: string;
  keepMostChanges?: boolean;
  snapshot?: boolean;
}

const backingCell = (b: { vg: string; lv: string; vgFreeBytes: bigint } | undefined): string => (b === undefined ? '?' : `${b.vg}/${b.lv} (VG free ${b.vgFreeBytes} B)`);

/** Each side of a split brain, for the terminal. */
function renderSplitBrainReport(report: SplitBrainReport): string {
  const rows = report.sides.flatMap((s) =>
    s.volumes.map((v) => [
      s.node,
      s.role ?? '-',
      String(v.volume),
      v.identifiers?.current ?? '?',
      v.identifiers?.bitmap ?? '?',
      v.identifiers?.history.join(' ') ?? '?',
      v.changedBytes === null ? '?' : `${v.changedBytes}`,
      s.kernelRecords.some((r) => !r.superseded) ? 'yes' : s.kernelRecords.length > 0 ? 'only resolved ones' : 'no',
      backingCell(s.backing?.find((b) => b.volume === v.volume)),
    ]),
  );
  const lines = [
    table(['NODE', 'ROLE', 'VOL', 'CURRENT UUID', 'BITMAP UUID', 'HISTORY', 'CHANGED SINCE SPLIT (B)', 'SPLIT-BRAIN RECORD', 'BACKING LV'], rows)
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
    `  newer writes: ${report.newer.node ?? 'cannot be told'} (${report.newer.why})`,
    ...report.sides.flatMap((s) => [...s.kernelRecords.filter((r) => !r.superseded).slice(-1).map((r) => `  ${s.node} kernel: ${r.text}`), ...s.problems.map((p) => `  ${s.node}: ${p}`)]),
  ];
  return lines.join('\n');
}

interface NodeOptions extends ChangeOptions {
  node?: string;
  force?: boolean;
  wait?: boolean;
  keepConfig?: boolean;
}

/** The options every changing subcommand has. */
function changing(command: Command, destructive = false): Command {
  command
    .option('--dry-run', 'show the actions per node without running anything')
    .option('--json', 'print the result as JSON (see docs/cli.md)')
    .option('--override <rule>', 'accept a safety rule\'s risk on purpose (repeatable; see `hastor doctor` and docs/resources.md)', collect);
  if (destructive) command.option('--yes', 'go ahead with a destructive plan');
  return command;
}

const examples = (lines: string[]): string => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`;

type Run = (resource: DrbdResource, dryRun: boolean) => Promise<OperationResult>;

export function resourceCommand(context: CliContext): Command {
  const root = new Command('resource')
    .description('create, start, stop and change a DRBD resource of the cluster file on all its nodes')
    .addHelpText(
      'after',
      examples([
        'hastor resource create r0 --dry-run         what create would run on each node',
        'hastor resource up r0',
        'hastor resource primary r0 --node node1',
        'hastor resource delete r0 --yes',
      ]),
    );

  const act = async (name: string, title: string, options: ChangeOptions, run: Run, destructive?: string): Promise<void> => {
    const target = await resourceTarget(context, name);
    await runChange(context, title, options, (dryRun) => run(target.resource, dryRun), destructive);
  };
  const common = (options: ChangeOptions, dryRun: boolean) => ({ dryRun, override: options.override ?? [] });
  const nodes = (options: NodesOptions) => (options.node === undefined || options.node.length === 0 ? {} : { nodes: options.node });

  root.addCommand(
    changing(new Command('create'))
      .description('write the configuration, create meta data, bring it up and start the initial sync')
      .argument('<name>', 'resource name in the cluster file')
      .option('--sync-source <node>', 'node whose data becomes the good copy when every node is new (default: the first node)')
      .option('--no-sync-source', 'leave every node Inconsistent (no initial sync)')
      .option('--stay-primary', 'keep the sync source Primary')
      .option('--no-wait', 'do not wait for the connection and the initial sync')
      .addHelpText('after', examples(['hastor resource create r0', 'hastor resource create r0 --sync-source node2 --no-wait', 'hastor resource create r0 --override create-md-on-signature --dry-run']))
      .action((name: string, options: CreateCliOptions) =>
        act(name, `resource create ${name}`, options, (r, dryRun) =>
          r.create({
            ...common(options, dryRun),
            ...(options.syncSource === undefined ? {} : { syncSource: options.syncSource === false ? null : options.syncSource }),
            ...(options.stayPrimary ? { stayPrimary: true } : {}),
            wait: options.wait !== false,
          }),
        ),
      ),
  );

  const perNodes = (verb: 'up' | 'down' | 'adjust' | 'connect' | 'disconnect', description: string, example: string[]) =>
    changing(new Command(verb))
      .description(description)
      .argument('<name>', 'resource name in the cluster file')
      .option('--node <node>', 'only this node (repeatable; default every node of the resource)', collect)
      .addHelpText('after', examples(example))
      .action((name: string, options: NodesOptions) => act(name, `resource ${verb} ${name}`, options, (r, dryRun) => r[verb]({ ...common(options, dryRun), ...nodes(options) })));

  root.addCommand(perNodes('up', 'drbdadm up where it is not up; waits for the connection', ['hastor resource up r0', 'hastor resource up r0 --node node2']));
  root.addCommand(perNodes('down', 'drbdadm down (Primaries first); refused while a device is in use', ['hastor resource down r0 --dry-run', 'hastor resource down r0 --node node2']));
  root.addCommand(perNodes('adjust', 'rewrite differing configuration files and apply them to the running resource', ['hastor resource adjust r0 --dry-run']));
  root.addCommand(perNodes('connect', 'drbdadm connect where StandAlone; waits for the connection and the resync', ['hastor resource connect r0']));
  root.addCommand(perNodes('disconnect', 'drbdadm disconnect where connected', ['hastor resource disconnect r0 --node node2']));

  root.addCommand(
    changing(new Command('primary'), true)
      .description('promote a node (drbdadm primary); --force makes its data the good copy')
      .argument('<name>', 'resource name in the cluster file')
      .option('--node <node>', 'the node to promote (default: the local node of the cluster file)')
      .option('--force', 'primary --force: this node\'s data wins although it is not UpToDate (needs --yes)')
      .addHelpText('after', examples(['hastor resource primary r0 --node node1', 'hastor resource primary r0 --node node2 --force --yes   after losing node1 for good']))
      .action(async (name: string, options: NodeOptions) => {
        const target = await resourceTarget(context, name);
        const node = nodeOrLocal(context, target, options.node, 'resource primary');
        await runChange(
          context,
          `resource primary ${name} on ${node}`,
          options,
          (dryRun) => target.resource.promote(node, { ...common(options, dryRun), ...(options.force ? { force: true } : {}) }),
          options.force ? `with --force makes ${node}'s data the good copy and overwrites the peers' on the next sync` : undefined,
        );
      }),
  );
  root.addCommand(
    changing(new Command('secondary'))
      .description('demote a node (drbdadm secondary); refused while its device is in use')
      .argument('<name>', 'resource name in the cluster file')
      .option('--node <node>', 'the node to demote (default: the local node of the cluster file)')
      .addHelpText('after', examples(['hastor resource secondary r0 --node node1']))
      .action(async (name: string, options: NodeOptions) => {
        const target = await resourceTarget(context, name);
        const node = nodeOrLocal(context, target, options.node, 'resource secondary');
        await runChange(context, `resource secondary ${name} on ${node}`, options, (dryRun) => target.resource.demote(node, common(options, dryRun)));
      }),
  );
  root.addCommand(
    changing(new Command('verify'))
      .description('online verify: compare the replicas block by block and report what differs')
      .argument('<name>', 'resource name in the cluster file')
      .option('--node <node>', 'the node that runs the verify (default: the first connected node)')
      .addHelpText('after', examples(['hastor resource verify r0', 'hastor resource verify r0 --json | jq .verify.outOfSyncBytes']))
      .action(async (name: string, options: NodeOptions) => {
        const target = await resourceTarget(context, name);
        const result = await runChange(context, `resource verify ${name}`, options, (dryRun) =>
          target.resource.verify({ ...common(options, dryRun), ...(options.node === undefined ? {} : { node: options.node }) }),
        );
        if (!options.json && !options.dryRun) {
          context.out(`out of sync: ${result.outOfSyncBytes} bytes (${result.outOfSyncBeforeBytes} bytes were already known before the verify)\n`);
        }
      }),
  );
  root.addCommand(
    changing(new Command('invalidate'), true)
      .description('throw a node\'s data away and resync it fully from an UpToDate peer (needs --yes)')
      .argument('<name>', 'resource name in the cluster file')
      .option('--node <node>', 'the node whose data is discarded (default: the local node of the cluster file)')
      .option('--no-wait', 'do not wait for the resync')
      .addHelpText('after', examples(['hastor resource invalidate r0 --node node2 --dry-run', 'hastor resource invalidate r0 --node node2 --yes']))
      .action(async (name: string, options: NodeOptions) => {
        const target = await resourceTarget(context, name);
        const node = nodeOrLocal(context, target, options.node, 'resource invalidate');
        await runChange(
          context,
          `resource invalidate ${name} on ${node}`,
          options,
          (dryRun) => target.resource.invalidate(node, { ...common(options, dryRun), wait: options.wait !== false }),
          `discards ${node}'s copy of ${name}`,
        );
      }),
  );
  root.addCommand(
    // No --override: the one rule it has (snapshot room) is lifted by --no-snapshot --yes.
    new Command('resolve-split-brain')
      .option('--dry-run', 'show the report and the actions per node without running anything')
      .option('--json', 'print the result as JSON (see docs/cli.md)')
      .description("after a split brain: snapshot the victim's backing LV, then discard its writes and resync it from the survivor")
      .argument('<name>', 'resource name in the cluster file')
      .option('--victim <node>', 'the node whose writes since the split are discarded (kept in an LVM snapshot first)')
      .option('--keep-most-changes', 'the side with fewer changes since the split is the victim (refused on a tie)')
      .option('--no-snapshot', 'discard without a snapshot (needs --yes; only when the VG has no room)')
      .option('--yes', 'go ahead with --no-snapshot')
      .addHelpText(
        'after',
        examples([
          'hastor resource resolve-split-brain r0                      show both sides and how to choose',
          'hastor resource resolve-split-brain r0 --victim node2 --dry-run',
          'hastor resource resolve-split-brain r0 --keep-most-changes',
          'lvs @hastor_split_brain                                     the snapshots it took (docs/resources.md: recovering files)',
        ]),
      )
      .action(async (name: string, options: SplitBrainCliOptions) => {
        const target = await resourceTarget(context, name);
        const report = await inspectSplitBrain(target.resource);
        if (!options.json) context.out(`split brain of ${name}: ${report.splitBrain ? 'yes' : `no (${report.notSplitBrain})`}\n${renderSplitBrainReport(report)}\n`);
        assertSplitBrain(report);
        if (options.victim === undefined && !options.keepMostChanges) {
          if (options.json) context.out(`${JSON.stringify(splitBrainReportJson(report), null, 2)}\n`);
          throw new UsageError(
            `choose whose writes since the split of ${name} are discarded (a snapshot of its backing LV keeps them): --victim NODE (${target.resource.nodeNames.join(' or ')}) or --keep-most-changes (the side with fewer changes)`,
          );
        }
        const now = new Date();
        let shown = '';
        const result = await runChange(
          context,
          `resource resolve-split-brain ${name}`,
          options,
          (dryRun) =>
            resolveSplitBrain(target.resource, {
              ...(options.victim === undefined ? {} : { victim: options.victim }),
              ...(options.keepMostChanges ? { keepMostChanges: true } : {}),
              snapshot: options.snapshot !== false,
              dryRun,
              // The plan uses the report just shown; the real run reads again.
              report,
              now,
              onProgress: (p) => {
                if (options.json || p.sync === null) return;
                const line = `resync of ${p.node}: ${progressBar(p.sync.percent)} ${p.sync.percent.toFixed(1)}%`;
                if (line !== shown) context.stderr.write(`${line}\n`);
                shown = line;
              },
            }),
          options.snapshot === false ? 'discards the victim\'s writes since the split without a snapshot' : undefined,
        );
        if (!options.json && !options.dryRun) {
          for (const s of result.snapshots) {
            context.out(`${result.choice.victim}'s writes since the split are kept in ${s.vg}/${s.name} on ${s.node} (${s.kind} snapshot); recover files from it, then lvremove ${s.vg}/${s.name} (docs/resources.md)\n`);
          }
        }
      }),
  );
  root.addCommand(
    changing(new Command('delete'), true)
      .description('take it down everywhere, wipe DRBD\'s meta data and remove the configuration (needs --yes)')
      .argument('<name>', 'resource name in the cluster file')
      .option('--keep-config', 'leave /etc/drbd.d/<name>.res in place')
      .addHelpText('after', examples(['hastor resource delete r0 --dry-run', 'hastor resource delete r0 --yes']))
      .action((name: string, options: NodeOptions) =>
        act(name, `resource delete ${name}`, options, (r, dryRun) => r.delete({ ...common(options, dryRun), ...(options.keepConfig ? { keepConfig: true } : {}) }), `wipes DRBD's meta data of ${name} on every node`),
      ),
  );
  return root;
}
