/**
 * Acting through Pacemaker instead of behind its back: the argv of the
 * crm_resource / crm_attribute calls that move, ban, stop or unmanage a
 * resource, and the test of a cluster at rest. Pure; the stack runs them.
 */
import { ConfigError, SafetyError } from '../errors.js';
import { isValidPacemakerId, isValidPacemakerNodeName } from './generate/spec.js';
import { crmMonPrimitives, type CrmMonStatus } from './crm-mon.js';

/** A Pacemaker id or node name that reaches argv, checked first (a ConfigError names it). */
export function assertPacemakerId(id: string, what = 'resource id'): string {
  if (!isValidPacemakerId(id)) throw new ConfigError(`invalid Pacemaker ${what}`, [`${JSON.stringify(id)} is not a Pacemaker id: [A-Za-z0-9_.-], starting with a letter or _`]);
  return id;
}

function assertNodeName(node: string): string {
  if (!isValidPacemakerNodeName(node)) throw new ConfigError('invalid node name', [`${JSON.stringify(node)} is not a node name (host-name characters, as uname -n prints it)`]);
  return node;
}

/** Pacemaker's own meta attribute names, with the one hastor adds to remember promoted-max during a dual-primary window. */
export const PROMOTED_MAX = 'promoted-max';
export const SAVED_PROMOTED_MAX = 'hastor-promoted-max-before';

const resourceArgv = (id: string): string[] => ['crm_resource', '--resource', assertPacemakerId(id)];

/** Sets a meta attribute of a resource (crm_resource changes the CIB atomically). */
export function setMetaArgv(id: string, name: string, value: string): string[] {
  return [...resourceArgv(id), '--meta', '--set-parameter', name, '--parameter-value', value];
}

export function deleteMetaArgv(id: string, name: string): string[] {
  return [...resourceArgv(id), '--meta', '--delete-parameter', name];
}

/** Moves the promoted instance of a promotable clone to `node` (a cli-prefer constraint, removed with clearArgv). */
export function movePromotedArgv(id: string, node: string): string[] {
  return [...resourceArgv(id), '--move', '--promoted', '--node', assertNodeName(node)];
}

/** Keeps the promoted instance off `node` (a cli-ban constraint, removed with clearArgv). */
export function banPromotedArgv(id: string, node: string): string[] {
  return [...resourceArgv(id), '--ban', '--promoted', '--node', assertNodeName(node)];
}

/** Keeps every instance off `node`: Pacemaker stops it there. */
export function banArgv(id: string, node: string): string[] {
  return [...resourceArgv(id), '--ban', '--node', assertNodeName(node)];
}

/** Removes the constraints --move and --ban made for the resource. */
export function clearArgv(id: string): string[] {
  return [...resourceArgv(id), '--clear'];
}

/** Unmanages (on) or manages again (off) one resource: Pacemaker stops acting on it but keeps it configured. */
export function resourceMaintenanceArgv(id: string, on: boolean): string[] {
  return on ? setMetaArgv(id, 'is-managed', 'false') : deleteMetaArgv(id, 'is-managed');
}

/** The cluster-wide maintenance-mode property. */
export function clusterMaintenanceArgv(on: boolean): string[] {
  return ['crm_attribute', '--type', 'crm_config', '--name', 'maintenance-mode', '--update', on ? 'true' : 'false'];
}

/** Shell-quoted for a message an operator copies. */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Why the cluster is not at rest, or [] when it is: a DC elected with quorum,
 * no node joining, leaving or unclean, and no resource action in flight.
 * Pacemaker records pending actions by default (record-pending), so crm_mon
 * shows a promotion or a start as it runs.
 */
export function unsettledReasons(status: CrmMonStatus): string[] {
  const reasons: string[] = [];
  const dc = status.summary.dc;
  if (dc === null || !dc.present) reasons.push('no DC is elected');
  else if (dc.withQuorum === false) reasons.push(`the partition of ${dc.name ?? 'the DC'} has no quorum`);
  for (const n of status.nodes) {
    if (n.unclean) reasons.push(`node ${n.name} is unclean (waiting to be fenced)`);
    else if (n.pending) reasons.push(`node ${n.name} is joining`);
    else if (n.shutdown) reasons.push(`node ${n.name} is shutting down`);
  }
  for (const { primitive } of crmMonPrimitives(status)) {
    if (primitive.pending !== null) reasons.push(`${primitive.id}: ${primitive.pending}${primitive.nodes.length > 0 ? ` on ${primitive.nodes.join(', ')}` : ''}`);
  }
  return reasons;
}

/**
 * Refuses work that needs the cluster at rest while Pacemaker is electing,
 * fencing or moving resources: `reasons` as unsettledReasons gives them,
 * `readOn` the node crm_mon ran on, `doing` what hastor will not do meanwhile.
 */
export function assertSettled(readOn: string, reasons: readonly string[], doing: string): void {
  if (reasons.length === 0) return;
  throw new SafetyError(
    'pacemaker-in-transition',
    `Pacemaker is not at rest (read on ${readOn}): ${reasons.join('; ')}; hastor will not ${doing} meanwhile`,
    'wait until crm_mon shows no pending action and a DC with quorum, then run it again',
  );
}
