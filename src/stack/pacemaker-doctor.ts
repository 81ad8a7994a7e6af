/**
 * The doctor's view of the cluster manager: what in Pacemaker's live state
 * makes the stack unsafe or keeps a failover from working. Pure: a view read
 * once (on the first node where Pacemaker runs), the definitions, and each
 * node's DRBD state.
 */
import type { ResourceDefinition } from '../drbd/config/index.js';
import { isInSync, type MaybeStatus } from '../drbd/lifecycle/index.js';
import { commandLine, failedActionTarget, type PacemakerView } from '../pacemaker/index.js';
import type { DoctorFinding } from './doctor.js';

export const PACEMAKER_DOCTOR_RULES = [
  'pacemaker-stonith-disabled',
  'pacemaker-no-stonith-device',
  'pacemaker-stonith-device-stopped',
  'pacemaker-no-quorum',
  'pacemaker-node-offline',
  'pacemaker-node-standby',
  'pacemaker-node-maintenance',
  'pacemaker-maintenance-mode',
  'pacemaker-unmanaged',
  'pacemaker-failed-action',
  'pacemaker-drbd-fence-constraint',
  'pacemaker-drbd-unknown-resource',
  'pacemaker-drbd-fencing',
] as const;

/** Findings about Pacemaker as read on `readOn`; `states` maps resource → node → DRBD state. */
export function pacemakerFindings(
  view: PacemakerView,
  readOn: string,
  definitions: readonly ResourceDefinition[],
  states: ReadonlyMap<string, Record<string, MaybeStatus>>,
): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const where = `Pacemaker (read on ${readOn})`;
  const add = (severity: DoctorFinding['severity'], rule: (typeof PACEMAKER_DOCTOR_RULES)[number], node: string | null, resource: string | null, message: string, fix: string): void => {
    out.push({ severity, rule, node, resource, message: `${where}: ${message}`, fix });
  };

  if (view.properties.stonithEnabled === false) {
    add('error', 'pacemaker-stonith-disabled', null, null, 'stonith-enabled=false: a failed node is never fenced, so DRBD resource-and-stonith waits forever and a split cannot be resolved safely', 'configure a fence device and run crm_attribute --type crm_config --name stonith-enabled --update true');
  }
  if (view.stonithDevices.length === 0) {
    add('error', 'pacemaker-no-stonith-device', null, null, 'no stonith device is configured: Pacemaker starts no resource, and no node can be fenced', 'add a fence device for every node (see docs/pacemaker.md), then check it with stonith_admin --list-registered');
  }
  for (const d of view.stonithDevices) {
    if (d.startedOn !== null && d.startedOn.length === 0) add('error', 'pacemaker-stonith-device-stopped', null, null, `stonith device ${d.id} (${d.agent}) runs nowhere: its start or monitor fails, so it cannot fence`, `look at its failed action, fix the device, then ${commandLine(['crm_resource', '--cleanup', '--resource', d.id])}`);
  }
  if (view.quorum === false) add('error', 'pacemaker-no-quorum', readOn, null, `the partition of ${readOn} has no quorum`, 'bring the other node back, or check corosync (corosync-quorumtool -s)');
  if (view.properties.maintenanceMode === true) add('warning', 'pacemaker-maintenance-mode', null, null, 'maintenance-mode=true: Pacemaker neither monitors nor fails over anything', 'hastor pacemaker maintenance off once the work is done');
  for (const n of view.nodes) {
    if (n.state === 'offline' || n.state === 'unclean') add(n.state === 'unclean' ? 'error' : 'warning', 'pacemaker-node-offline', n.name, null, `node ${n.name} is ${n.state}`, n.state === 'unclean' ? 'it waits to be fenced: check the fence device' : `start the cluster on ${n.name} (corosync and pacemaker)`);
    else if (n.standby === true) add('warning', 'pacemaker-node-standby', n.name, null, `node ${n.name} is in standby: nothing runs there and nothing fails over to it`, `crm_attribute --node ${n.name} --name standby --delete (or pcs node unstandby ${n.name})`);
    else if (n.maintenance === true) add('warning', 'pacemaker-node-maintenance', n.name, null, `node ${n.name} is in maintenance: Pacemaker leaves its resources alone`, `crm_attribute --node ${n.name} --name maintenance --delete`);
  }
  for (const f of view.failedActions ?? []) {
    const { resource } = failedActionTarget(f);
    add('warning', 'pacemaker-failed-action', f.node, null, `failed action ${f.opKey} on ${f.node}: exit ${f.exitCode} (${f.exitStatus})${f.exitReason === '' ? '' : `, ${f.exitReason}`}`, `find the cause, then ${commandLine(['crm_resource', '--cleanup', '--resource', resource, '--node', f.node])}`);
  }

  const byName = new Map(definitions.map((d) => [d.name, d]));
  for (const clone of view.drbdClones) {
    const name = clone.drbdResource;
    if (clone.managed === false && view.properties.maintenanceMode !== true) {
      add('warning', 'pacemaker-unmanaged', null, name, `${clone.cloneId} is unmanaged: Pacemaker neither monitors nor fails it over`, `hastor pacemaker maintenance off --resource ${clone.cloneId}`);
    }
    if (name === null) continue;
    const def = byName.get(name);
    if (def === undefined) {
      if (definitions.length > 0) add('warning', 'pacemaker-drbd-unknown-resource', null, name, `${clone.cloneId} manages DRBD resource ${name}, which the cluster file does not define`, `add ${name} to the cluster file, or fix drbd_resource of ${clone.primitiveId ?? clone.cloneId}`);
      continue;
    }
    if (def.disk.fencing !== 'resource-and-stonith') {
      add(
        (clone.promotedMax ?? 1) > 1 ? 'error' : 'warning',
        'pacemaker-drbd-fencing',
        null,
        name,
        `${name} runs under Pacemaker with fencing ${def.disk.fencing ?? 'not set'}${(clone.promotedMax ?? 1) > 1 ? ` and promoted-max=${clone.promotedMax}` : ''}: in a network split both sides may write (the lab lost writes with resource-only)`,
        `set disk.fencing to resource-and-stonith with the crm-fence-peer handlers in the definition, then hastor resource adjust ${name}`,
      );
    }
    const nodeStates = states.get(name) ?? {};
    const inSync = Object.keys(nodeStates).length > 0 && Object.values(nodeStates).every((s) => isInSync(s));
    for (const id of clone.fenceConstraints) {
      const c = view.constraints?.find((x) => x.id === id);
      const excluded = c?.drbdFence?.excludedNodes ?? [];
      add(
        inSync ? 'error' : 'warning',
        'pacemaker-drbd-fence-constraint',
        null,
        name,
        inSync
          ? `${id} is left behind: ${name} is connected and in sync, yet ${excluded.length === 0 ? 'a node' : excluded.join(', ')} may not be promoted, so a failover there is blocked`
          : `${id} keeps ${excluded.length === 0 ? 'the outdated node' : excluded.join(', ')} from being promoted while ${name} is not in sync (DRBD's fence-peer handler put it there; the unfence handler removes it after the resync)`,
        inSync ? `check that after-resync-target runs crm-unfence-peer; then cibadmin --delete --xml-text '<rsc_location id="${id}"/>'` : `let the resync finish; the constraint goes with it`,
      );
    }
  }
  return out;
}
