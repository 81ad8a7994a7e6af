/**
 * Never acting behind the cluster manager's back. Before hastor changes a
 * DRBD resource's role or lifecycle, it asks Pacemaker whether a promotable
 * clone of ocf:linbit:drbd manages that resource. If one does, and Pacemaker
 * has not been told to keep its hands off (maintenance-mode, the clone
 * unmanaged, or the node in maintenance), the operation is refused with the
 * Pacemaker command that does the same thing. Nodes without Pacemaker, or
 * where it is not running, are no obstacle: the first node where it runs
 * answers for the cluster.
 */
import { CommandError, HastorError, SafetyError } from '../errors.js';
import {
  assertSettled,
  banArgv,
  banPromotedArgv,
  buildPacemakerView,
  clearArgv,
  commandLine,
  deleteMetaArgv,
  PROMOTED_MAX,
  SAVED_PROMOTED_MAX,
  setMetaArgv,
  movePromotedArgv,
  PacemakerUnavailableError,
  readCib,
  readCrmMon,
  resourceMaintenanceArgv,
  unsettledReasons,
  type Cib,
  type CrmMonStatus,
  type DrbdCloneView,
  type PacemakerView,
} from '../pacemaker/index.js';
import type { Action } from './actions.js';
import type { Cluster } from './cluster.js';

/** What Pacemaker holds of one DRBD resource. */
export interface PacemakerHold {
  /** The node Pacemaker was read on. */
  readOn: string;
  /** The promotable clone that manages the resource. */
  clone: DrbdCloneView;
  /** Pacemaker leaves the resource alone everywhere: cluster maintenance-mode, or the clone unmanaged. */
  handsOff: boolean;
  /** Nodes in maintenance: Pacemaker leaves resources there alone. */
  nodesInMaintenance: string[];
  /** Why the cluster is not at rest ([] when it is). */
  unsettled: string[];
  /** The clone's meta attributes in the CIB (promoted-max, and what hastor saved there). */
  cloneMeta: Record<string, string>;
  view: PacemakerView;
}

/** How an operation learns whether a cluster manager holds a resource. */
export interface ClusterManagerCheck {
  hold(cluster: Cluster, resource: string, nodes: readonly string[]): Promise<PacemakerHold | null>;
}

/** Pacemaker's hold, from a status and a CIB already read; null when no DRBD clone names `resource`. */
export function pacemakerHoldFrom(readOn: string, crmMon: CrmMonStatus, cib: Cib | null, view: PacemakerView, resource: string): PacemakerHold | null {
  const clone = view.drbdClones.find((c) => c.drbdResource === resource);
  if (clone === undefined) return null;
  const configured = cib?.resources.find((r) => r.id === clone.cloneId);
  return {
    readOn,
    clone,
    handsOff: view.properties.maintenanceMode === true || clone.managed === false,
    nodesInMaintenance: view.nodes.filter((n) => n.maintenance === true).map((n) => n.name),
    unsettled: unsettledReasons(crmMon),
    cloneMeta: configured?.kind === 'clone' ? { ...configured.meta } : {},
    view,
  };
}

/** Pacemaker as read on one node: the first of `nodes` where it runs. */
export interface PacemakerReading {
  readOn: string;
  crmMon: CrmMonStatus;
  cib: Cib;
  view: PacemakerView;
}

/**
 * Reads Pacemaker on `nodes` in turn, the first node where it runs
 * answering. A node without it, where it is stopped, or that cannot be
 * reached is skipped (the caller reports an unreachable node itself); null
 * when it runs on none of them. A node that answers but will not say (sudo
 * refuses crm_mon, crm_mon fails or hangs) is a SafetyError
 * (pacemaker-unreadable), never "no Pacemaker".
 */
export async function readPacemakerOn(cluster: Cluster, nodes: readonly string[], options: { timeoutMs?: number } = {}): Promise<PacemakerReading | null> {
  for (const name of nodes) {
    const executor = cluster.node(name).executor;
    let crmMon: CrmMonStatus;
    try {
      crmMon = await readCrmMon(executor, options);
    } catch (error) {
      if (nodeCannotSay(error)) continue;
      throw unreadable(name, 'crm_mon -1 --output-as=xml', error);
    }
    let cib: Cib;
    try {
      cib = await readCib(executor, options);
    } catch (error) {
      throw unreadable(name, 'cibadmin -Q', error);
    }
    return { readOn: name, crmMon, cib, view: buildPacemakerView({ crmMon, cib }) };
  }
  return null;
}

/**
 * No Pacemaker here (not installed, not running), or the node cannot be
 * reached at all (ssh's 255, an executor that fails outright): another node
 * answers, and the operation reports an unreachable node itself.
 */
function nodeCannotSay(error: unknown): boolean {
  if (error instanceof PacemakerUnavailableError) return true;
  if (error instanceof CommandError) return error.exitCode === 255;
  return !(error instanceof HastorError);
}

/**
 * Anything else (sudo refusing crm_mon, a hung crm_mon, output that does not
 * parse) must not pass for "no Pacemaker": hastor would then act behind it.
 */
function unreadable(node: string, command: string, error: unknown): HastorError {
  if (!(error instanceof CommandError)) return error instanceof HastorError ? error : new HastorError('E_COMMAND', String(error));
  const sudo = /\bsudo\b/.test(error.stderr) || error.argv[0] === 'sudo';
  return new SafetyError(
    'pacemaker-unreadable',
    `${node}: cannot tell whether Pacemaker manages this resource: \`${command}\` failed (${error.message.split('\n')[0]})${sudo ? `; hastor's user needs the sudo rule for \`/usr/bin/env LC_ALL=C ${command}\` (docs/pacemaker.md)` : ''}`,
    'give hastor the right to read Pacemaker on that node, or, where no cluster manager runs, turn the check off (clusterManager: null)',
  );
}

/** The default check: Pacemaker, read on the resource's nodes. */
export function pacemakerCheck(options: { timeoutMs?: number } = {}): ClusterManagerCheck {
  return {
    async hold(cluster, resource, nodes) {
      const reading = await readPacemakerOn(cluster, nodes, options);
      return reading === null ? null : pacemakerHoldFrom(reading.readOn, reading.crmMon, reading.cib, reading.view, resource);
    },
  };
}

/** What to run instead of a refused operation: the Pacemaker way first. */
export function pacemakerWayFor(operation: string, clone: string, node: string | null): string[] {
  const ways: string[] = [];
  switch (operation) {
    case 'promote':
      if (node !== null) ways.push(`${commandLine(movePromotedArgv(clone, node))} (then ${commandLine(clearArgv(clone))} once it moved)`);
      break;
    case 'demote':
      if (node !== null) ways.push(`${commandLine(banPromotedArgv(clone, node))} (then ${commandLine(clearArgv(clone))} when it may be promoted there again)`);
      break;
    case 'down':
    case 'disconnect':
      if (node !== null) ways.push(`${commandLine(banArgv(clone, node))} (Pacemaker stops it there; ${commandLine(clearArgv(clone))} lets it start again)`);
      else ways.push(`crm_resource --resource ${clone} --meta --set-parameter target-role --parameter-value Stopped`);
      break;
    case 'up':
    case 'connect':
      ways.push(`${commandLine(clearArgv(clone))} and crm_resource --resource ${clone} --meta --delete-parameter target-role (Pacemaker starts it)`);
      break;
    case 'delete':
      ways.push(`remove ${clone} from the cluster configuration first (pcs resource delete ${clone}, or crm configure delete ${clone})`);
      break;
    default:
      break;
  }
  ways.push(`or take it out of Pacemaker's hands first: hastor pacemaker maintenance on --resource ${clone} (${commandLine(resourceMaintenanceArgv(clone, true))}), and give it back afterwards with hastor pacemaker maintenance off --resource ${clone}`);
  return ways;
}

/**
 * Refuses `operation` on `nodes` of `resource` while Pacemaker manages it and
 * acts on it there. Null (no cluster manager holds it) and hands-off pass.
 */
export function assertNotBehindClusterManager(hold: PacemakerHold | null, resource: string, operation: string, nodes: readonly string[]): void {
  if (hold === null || hold.handsOff) return;
  if (nodes.length > 0 && nodes.every((n) => hold.nodesInMaintenance.includes(n))) return;
  const node = nodes.length === 1 ? nodes[0]! : null;
  const ways = pacemakerWayFor(operation, hold.clone.cloneId, node);
  const where = hold.clone.promotedOn === null ? '' : ` (promoted on ${hold.clone.promotedOn.length === 0 ? 'no node' : hold.clone.promotedOn.join(', ')})`;
  throw new SafetyError(
    'pacemaker-managed',
    `Pacemaker manages ${resource} as ${hold.clone.cloneId}${where}, read on ${hold.readOn}: hastor will not ${operation} it behind the cluster manager's back; use ${ways[0]}`,
    ways.slice(1).join('; ') || ways[0]!,
  );
}

/** Refuses work that needs the cluster at rest (growth) while Pacemaker is electing, fencing, or moving resources. */
export function assertClusterSettled(hold: PacemakerHold | null, resource: string, operation: string): void {
  if (hold !== null) assertSettled(hold.readOn, hold.unsettled, `${operation} ${resource}`);
}

/** Marks "promoted-max was not set" in the saved attribute, so the end deletes it rather than writing 1. */
const UNSET = 'unset';

/**
 * The CIB changes that open a dual-primary window through Pacemaker: the
 * clone's promoted-max saved in a meta attribute of hastor's, then set to 2,
 * on the node Pacemaker was read on. Pacemaker then promotes the second
 * node itself. None when promoted-max already allows two.
 */
export function openWindowActions(hold: PacemakerHold): Action[] {
  if ((hold.clone.promotedMax ?? 1) >= 2) return [];
  const clone = hold.clone.cloneId;
  const before = hold.cloneMeta[PROMOTED_MAX] ?? hold.cloneMeta['master-max'] ?? UNSET;
  return [
    { node: hold.readOn, argv: setMetaArgv(clone, SAVED_PROMOTED_MAX, before), reason: `remember ${clone}'s promoted-max (${before}) to restore it when the window closes` },
    { node: hold.readOn, argv: setMetaArgv(clone, PROMOTED_MAX, '2'), reason: `let Pacemaker promote ${clone} on two nodes` },
  ];
}

/**
 * Closing the window through Pacemaker: keep the promoted role off the nodes
 * to demote (a ban with the promoted role), then restore promoted-max. Once
 * they are Secondary, clearBansActions lifts the bans.
 */
export function closeWindowActions(hold: PacemakerHold, demote: readonly string[]): Action[] {
  const clone = hold.clone.cloneId;
  const saved = hold.cloneMeta[SAVED_PROMOTED_MAX];
  const restore: Action[] =
    saved === undefined
      ? [{ node: hold.readOn, argv: setMetaArgv(clone, PROMOTED_MAX, '1'), reason: `no promoted-max saved by hastor: one promoted instance` }]
      : [
          saved === UNSET
            ? { node: hold.readOn, argv: deleteMetaArgv(clone, PROMOTED_MAX), reason: `promoted-max was not set before the window` }
            : { node: hold.readOn, argv: setMetaArgv(clone, PROMOTED_MAX, saved), reason: `restore promoted-max ${saved} from before the window` },
          { node: hold.readOn, argv: deleteMetaArgv(clone, SAVED_PROMOTED_MAX), reason: 'the saved value is used' },
        ];
  return [...demote.map((n) => ({ node: hold.readOn, argv: banPromotedArgv(clone, n), reason: `Pacemaker demotes ${clone} on ${n} (the window closes)` })), ...restore];
}

/** Lifts the promoted-role bans closeWindowActions placed. */
export function clearBansActions(hold: PacemakerHold, nodes: readonly string[]): Action[] {
  return nodes.map((n) => ({ node: hold.readOn, argv: [...clearArgv(hold.clone.cloneId), '--promoted', '--node', n], reason: `${n} may be promoted again later` }));
}

/**
 * ocf:linbit:drbd promotes with promoted-max > 1 only when `drbdadm dump`
 * shows allow-two-primaries, i.e. in the configuration file: the runtime
 * option a plain window sets is not enough, and the agent's OCF_ERR_CONFIGURED
 * makes Pacemaker stop the resource on every node.
 */
export function assertPacemakerCanPromoteTwo(resource: string, hold: PacemakerHold, configAllowsTwoPrimaries: boolean): void {
  if (configAllowsTwoPrimaries || (hold.clone.promotedMax ?? 1) >= 2) return;
  throw new SafetyError(
    'pacemaker-dual-primary-needs-config',
    `Pacemaker manages ${resource} as ${hold.clone.cloneId}: a dual-primary window raises its promoted-max to 2, and ocf:linbit:drbd then promotes only if the configuration file allows two primaries (it checks drbdadm dump, not the running option); otherwise the promotion fails with OCF_ERR_CONFIGURED and Pacemaker stops ${resource} on every node`,
    `set net.allowTwoPrimaries in the definition of ${resource} and run hastor resource adjust ${resource} first (DRBD still refuses a second Primary unless it is asked for)`,
  );
}
