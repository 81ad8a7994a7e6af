/** `hastor grow <resource|vg/lv> --to SIZE`: one online growth through every tier, planned, verified, resumable. */
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import {
  discoverGrowthTopology,
  grow,
  LvmRunnerPool,
  type GrowResult,
  type GrowthPlan,
  type GrowthProgress,
  type GrowthSelector,
  type GrowthIncrement,
  type GrowthTarget,
  type GuestTopology,
} from '../../index.js';
import type { CliContext } from '../context.js';
import { colorsFor, formatBytes, formatDuration, progressBar } from '../format.js';
import { parseSize } from '../size.js';

interface GrowCliOptions {
  to: string;
  guest?: string;
  guestLv?: string;
  keepLowerTiers?: boolean;
  skipResync?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

const examples = `
Examples:
  hastor grow vgshared/vm1 --to 256G --guest vm1 --guest-lv vg_guest/data --dry-run
  hastor grow vgshared/vm1 --to +64G --guest vm1 --guest-lv vg_guest/data --yes
  hastor grow r0 --to 2T --yes --json      grow the DRBD resource (tier 1, DRBD, the PV on top)

Running the same command again after a failure or a crash continues where it stopped.`;

export function growCommand(context: CliContext): Command {
  return new Command('grow')
    .description('grow a guest disk (a tier-2 LV) or a DRBD resource online: tier 1 on every node, DRBD, tier 2, the guest')
    .argument('<target>', 'a tier-2 LV as vg/lv, or a DRBD resource name')
    .requiredOption('--to <size>', 'new size (binary units: 512M, 256G, 2T, or bytes; +SIZE adds to the current size)')
    .option('--guest <name>', 'the guest (from the cluster file\'s "guests") whose disk the LV is: grows its PV, LV and filesystem too')
    .option('--guest-lv <vg/lv>', 'inside the guest: the VG on the disk and the LV to grow (with --guest)')
    .option('--keep-lower-tiers', 'refuse instead of growing tier 1 and DRBD when the tier-2 VG lacks room')
    .option('--skip-resync', 'neither zero nor resync the new DRBD area (drbdadm resize --assume-clean); ONLY when the new backing space already reads the same on every node (thin LVs, zeroed disks): otherwise the nodes differ there')
    .option('--dry-run', 'show the plan, with the exact command per node, and change nothing')
    .option('--yes', 'go ahead without asking')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples)
    .action(async (targetArg: string, options: GrowCliOptions) => {
      const selector = parseSelector(context, targetArg);
      const size = parseSize(options.to, '--to');
      if ((options.guest === undefined) !== (options.guestLv === undefined)) context.usageError('--guest and --guest-lv go together');
      if (options.guest !== undefined && 'resource' in selector) context.usageError('--guest needs the guest disk as vg/lv, not a resource name');
      if (options.keepLowerTiers === true && 'resource' in selector) context.usageError('--keep-lower-tiers applies to a guest disk (vg/lv)');

      const loaded = await context.loadCluster();
      await loaded.cluster.verifyNames();
      let guest: GuestTopology | null = null;
      if (options.guest !== undefined) {
        const executor = loaded.guests.get(options.guest);
        if (executor === undefined) context.usageError(`no guest ${JSON.stringify(options.guest)} in ${loaded.file.path} (it has ${[...loaded.guests.keys()].join(', ') || 'none'})`);
        const ref = /^([^/]+)\/([^/]+)$/.exec(options.guestLv!);
        if (ref === null) context.usageError(`--guest-lv must be vg/lv, got ${JSON.stringify(options.guestLv)}`);
        guest = { node: options.guest, executor, vg: ref[1]!, lv: ref[2]! };
      }
      // One set of lvm shells for discovery, the plan and the run, started where a node is idle (docs/growth.md).
      const lvm = new LvmRunnerPool();
      try {
        const topology = await discoverGrowthTopology(loaded.cluster, selector, guest, { lvm });

        // +SIZE: added to what grow's first read shows (no read of its own); the dry run's
        // absolute target is what a confirmed run then grows to.
        let target: GrowthTarget | GrowthIncrement;
        if (size.relative) {
          target = 'lv' in selector ? { kind: 'guest-disk', addBytes: size.bytes } : { kind: 'drbd', addBytes: size.bytes };
        } else {
          target = 'lv' in selector ? { kind: 'guest-disk', sizeBytes: size.bytes } : { kind: 'drbd', sizeBytes: size.bytes };
        }
        if (target.kind === 'guest-disk' && options.keepLowerTiers === true) target.lowerTiers = 'keep';

        const common = { skipResync: options.skipResync === true, lockTimeoutMs: 0, lvm };
        const json = options.json === true;
        if (options.dryRun === true || options.yes !== true) {
          // The plan to show (and, without --yes, to confirm); the real run reads again, as time passes while asking.
          const plan = await grow(topology, target, { ...common, dryRun: true });
          if (options.dryRun === true || plan.alreadyDone) {
            context.out(json ? `${JSON.stringify(resultJson(plan))}\n` : renderPlan(plan.plan, plan.alreadyDone, options.dryRun === true));
            return;
          }
          if (!json) context.out(renderPlan(plan.plan, false, false));
          await confirm(context);
          target = plan.target;
        }
        const progress = new GrowProgressView(context, json);
        const result = await grow(topology, target, {
          ...common,
          onProgress: (e) => {
            // With --yes the run's own first read gives the plan: no separate read to show it.
            if (e.type === 'plan' && options.yes === true && !json) context.out(renderPlan(e.plan, e.plan.steps.length === 0, false));
            progress.on(e);
          },
        });
        progress.end();
        if (json) {
          context.out(`${JSON.stringify(resultJson(result))}\n`);
          return;
        }
        if (!result.alreadyDone) context.out(renderDone(result));
      } finally {
        await lvm.close();
      }
    });
}

function parseSelector(context: CliContext, text: string): GrowthSelector {
  const lv = /^([^/\s]+)\/([^/\s]+)$/.exec(text);
  if (lv !== null) return { lv: { vg: lv[1]!, lv: lv[2]! } };
  if (!/^[A-Za-z0-9_.+-]+$/.test(text)) context.usageError(`${JSON.stringify(text)} is neither vg/lv nor a DRBD resource name`);
  return { resource: text };
}

async function confirm(context: CliContext): Promise<void> {
  if (process.stdin.isTTY !== true || context.stdout.isTTY !== true) context.usageError('not on a terminal: pass --yes to grow (or --dry-run to see the plan)');
  const rl = createInterface({ input: process.stdin, output: context.stdout });
  const answer = await rl.question('Grow now? [y/N] ');
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) context.usageError('not confirmed; nothing was changed');
}

function renderPlan(plan: GrowthPlan, alreadyDone: boolean, dryRun: boolean): string {
  if (alreadyDone) return 'nothing to do: every tier already has the target size\n';
  const s = plan.sizes;
  const sizes = [
    s.tier1LvBytes !== null && `tier-1 LVs ${formatBytes(Number(s.tier1LvBytes))}`,
    s.drbdBytes !== null && `DRBD ${formatBytes(Number(s.drbdBytes))}`,
    s.tier2LvBytes !== null && `guest disk ${formatBytes(Number(s.tier2LvBytes))}`,
    s.guestLvBytes !== null && `guest LV ${formatBytes(Number(s.guestLvBytes))}`,
  ].filter(Boolean);
  const lines = plan.steps.map((step, i) => `  ${String(i + 1).padStart(2)}. ${step.node}: ${step.argv.join(' ')}${step.stdin === undefined ? '' : ` <<< ${JSON.stringify(step.stdin.trim())}`}\n      ${step.why}`);
  return `${dryRun ? 'plan (dry run, nothing changed)' : 'plan'}: ${sizes.join(', ')}\n${lines.join('\n')}\n`;
}

function renderDone(result: GrowResult): string {
  const s = result.state;
  const parts = [
    `tier-1 ${s.tier1.map((t) => `${t.node} ${formatBytes(Number(t.lv.sizeBytes))}`).join(', ')}`,
    `DRBD ${formatBytes(Number(s.drbd.sizeBytes))}`,
    s.tier2?.lv !== undefined && `guest disk ${formatBytes(Number(s.tier2.lv.sizeBytes))}`,
    s.guest !== undefined && `guest filesystem ${formatBytes(Number(s.guest.fs.sizeBytes))}`,
  ].filter(Boolean);
  return `grown in ${formatDuration(Math.round(result.durationMs / 1000))}: ${parts.join('; ')}\n`;
}

const num = (v: bigint | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

/** The --json document: plan, what ran, the sizes each tier shows now. Byte counts are numbers. */
function resultJson(result: GrowResult): unknown {
  const s = result.state;
  return {
    dryRun: result.dryRun,
    target: { kind: result.target.kind, sizeBytes: num(result.target.sizeBytes) },
    alreadyDone: result.alreadyDone,
    durationMs: result.durationMs,
    plan: {
      sizes: Object.fromEntries(Object.entries(result.plan.sizes).map(([k, v]) => [k, num(v)])),
      steps: result.plan.steps.map((step) => ({ id: step.id, tier: step.tier, node: step.node, argv: step.argv, why: step.why, precondition: step.precondition })),
    },
    ran: result.ran.map((r) => ({ id: r.step.id, node: r.step.node, durationMs: r.durationMs })),
    state: {
      tier1: s.tier1.map((t) => ({ node: t.node, vg: t.vg.name, lv: t.lv.name, sizeBytes: num(t.lv.sizeBytes), vgFreeBytes: num(t.vg.freeBytes) })),
      drbd: { resource: s.drbd.resource, device: s.drbd.device, sizeBytes: num(s.drbd.sizeBytes), resyncRunning: s.drbd.resyncRunning, nodes: s.drbd.nodes },
      tier2: s.tier2 === undefined ? null : { vg: s.tier2.vg.name, vgSizeBytes: num(s.tier2.vg.sizeBytes), vgFreeBytes: num(s.tier2.vg.freeBytes), lv: s.tier2.lv === undefined ? null : { name: s.tier2.lv.name, sizeBytes: num(s.tier2.lv.sizeBytes), activation: s.tier2.lv.activation, activeOn: s.tier2.lv.activeOn.map((a) => ({ node: a.node, deviceSizeBytes: num(a.deviceSizeBytes) })) } },
      guest: s.guest === undefined ? null : { node: s.guest.node, diskBytes: num(s.guest.disk.sizeBytes), vgSizeBytes: num(s.guest.vg.sizeBytes), lvSizeBytes: num(s.guest.lv.sizeBytes), fs: { type: s.guest.fs.type, mountpoint: s.guest.fs.mountpoint, sizeBytes: num(s.guest.fs.sizeBytes) } },
    },
  };
}

/** Step lines as they finish; the resync as a bar redrawn in place on a terminal, a line every 10 s otherwise. */
class GrowProgressView {
  private readonly tty: boolean;
  private readonly colors;
  private lastLineAt = 0;
  private drawn = false;

  constructor(
    private readonly context: CliContext,
    private readonly quiet: boolean,
  ) {
    this.tty = context.stderr.isTTY === true;
    this.colors = colorsFor(context.stderr, context.env);
  }

  on(event: GrowthProgress): void {
    if (this.quiet) return;
    const err = this.context.stderr;
    if (event.type === 'step-start') err.write(`${this.clear()}[${event.index}/${event.total}] ${event.step.node}: ${event.step.argv.join(' ')} ...\n`);
    if (event.type === 'step-done') err.write(`${this.clear()}[${event.index}/${event.total}] ${event.step.node}: ${this.colors.green('done')} in ${(event.durationMs / 1000).toFixed(1)} s\n`);
    if (event.type === 'resync') {
      const view = event.views.find((v) => v.sync !== null) ?? event.views[0];
      const sync = view?.sync;
      const text = sync == null ? `resync of the new area: ${view?.replicationState ?? 'starting'}` : `resync of the new area: ${progressBar(sync.percent)} ${sync.percent.toFixed(1)}%${sync.etaSeconds === null ? '' : `  ETA ${formatDuration(sync.etaSeconds)}`}`;
      if (this.tty) {
        err.write(`\r\x1b[2K${text}`);
        this.drawn = true;
      } else if (Date.now() - this.lastLineAt >= 10_000) {
        err.write(`${text}\n`);
        this.lastLineAt = Date.now();
      }
    }
    if (event.type === 'resync-done') err.write(`${this.clear()}resync of the new area done in ${(event.durationMs / 1000).toFixed(1)} s\n`);
  }

  private clear(): string {
    if (!this.drawn) return '';
    this.drawn = false;
    return '\r\x1b[2K';
  }

  end(): void {
    if (!this.quiet) this.context.stderr.write(this.clear());
  }
}
