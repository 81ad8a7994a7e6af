/**
 * The stack's view of Pacemaker: what `hastor pacemaker status --json`
 * prints, built from a crm_mon status and/or a CIB (pure; the live reader is
 * in read-cluster.ts). crm_mon says where things run; the CIB says how they
 * are configured (DRBD resource names, promoted-max, constraints). With only a
 * CIB, placement (promotedOn, runningOn, startedOn) is null: unknown, not
 * empty. With only crm_mon, what the CIB alone holds (drbdResource,
 * promotedMax, constraints) is null.
 */
import { z } from 'zod';
import { crmMonPrimitives, type CrmMonStatus } from './crm-mon.js';
import { cibPrimitives, type Cib } from './cib.js';

export const DRBD_AGENT = 'ocf:linbit:drbd';

const nodeState = z.enum(['online', 'offline', 'standby', 'maintenance', 'unclean', 'pending', 'unknown']);

const role = z.enum(['Unknown', 'Stopped', 'Started', 'Unpromoted', 'Promoted']).nullable();

export const pacemakerViewSchema = z.object({
  sources: z.object({ crmMon: z.boolean(), cib: z.boolean() }),
  stack: z.string().nullable(),
  dc: z.string().nullable(),
  /** null when unknown (no DC, or a CIB without have-quorum). */
  quorum: z.boolean().nullable(),
  properties: z.object({
    stonithEnabled: z.boolean().nullable(),
    maintenanceMode: z.boolean().nullable(),
    noQuorumPolicy: z.string().nullable(),
    priorityFencingDelayMs: z.number().int().nullable(),
    stopAllResources: z.boolean().nullable(),
  }),
  nodes: z.array(
    z.object({
      name: z.string(),
      id: z.string().nullable(),
      state: nodeState,
      online: z.boolean().nullable(),
      standby: z.boolean().nullable(),
      maintenance: z.boolean().nullable(),
      unclean: z.boolean().nullable(),
      isDc: z.boolean().nullable(),
      resourcesRunning: z.number().int().nullable(),
    }),
  ),
  drbdClones: z.array(
    z.object({
      cloneId: z.string(),
      primitiveId: z.string().nullable(),
      drbdResource: z.string().nullable(),
      promotable: z.boolean(),
      promotedMax: z.number().int().nullable(),
      promotedOn: z.array(z.string()).nullable(),
      runningOn: z.array(z.string()).nullable(),
      managed: z.boolean().nullable(),
      failed: z.boolean().nullable(),
      /** Ids of DRBD's fence-peer constraints on this clone. */
      fenceConstraints: z.array(z.string()),
    }),
  ),
  stonithDevices: z.array(z.object({ id: z.string(), agent: z.string(), startedOn: z.array(z.string()).nullable(), role: role, managed: z.boolean().nullable() })),
  /** null without a CIB. */
  constraints: z
    .array(
      z.object({
        id: z.string(),
        kind: z.enum(['location', 'colocation', 'order', 'ticket']),
        resources: z.array(z.string()),
        score: z.string().nullable(),
        role: role,
        node: z.string().nullable(),
        summary: z.string(),
        drbdFence: z
          .object({ drbdResource: z.string().nullable(), cloneId: z.string().nullable(), allowedNode: z.string().nullable(), excludedNodes: z.array(z.string()) })
          .nullable(),
      }),
    )
    .nullable(),
  /** null without crm_mon. */
  failedActions: z
    .array(
      z.object({
        opKey: z.string(),
        node: z.string(),
        exitStatus: z.string(),
        exitReason: z.string(),
        exitCode: z.number().int(),
        call: z.number().int(),
        status: z.string(),
        lastRcChange: z.string().nullable(),
        queuedMs: z.number().int().nullable(),
        execMs: z.number().int().nullable(),
        intervalMs: z.number().int().nullable(),
        task: z.string().nullable(),
      }),
    )
    .nullable(),
  /** null when no fence history was read. */
  fenceHistory: z
    .array(
      z.object({
        target: z.string(),
        action: z.string(),
        delegate: z.string().nullable(),
        client: z.string(),
        origin: z.string(),
        status: z.enum(['success', 'failed', 'pending']),
        exitReason: z.string().nullable(),
        completed: z.string().nullable(),
      }),
    )
    .nullable(),
  warnings: z.array(z.string()),
});

export type PacemakerView = z.infer<typeof pacemakerViewSchema>;
export type PacemakerViewNode = PacemakerView['nodes'][number];
export type DrbdCloneView = PacemakerView['drbdClones'][number];
type ViewConstraint = NonNullable<PacemakerView['constraints']>[number];

function truthy(word: string | undefined): boolean {
  return word !== undefined && ['true', 'yes', 'on', 'y', '1'].includes(word.trim().toLowerCase());
}

/** Pacemaker's duration words (10s, 1min, 500ms, 2h, bare seconds) in milliseconds; null when not one. */
export function durationMs(word: string | undefined): number | null {
  if (word === undefined) return null;
  const m = /^\s*(\d+)\s*(ms|msec|s|sec|m|min|h|hr)?\s*$/i.exec(word);
  if (m === null) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const factor = unit === 'ms' || unit === 'msec' ? 1 : unit === 's' || unit === 'sec' ? 1000 : unit === 'm' || unit === 'min' ? 60_000 : 3_600_000;
  return n * factor;
}

function nodesFromCrmMon(status: CrmMonStatus): PacemakerViewNode[] {
  return status.nodes.map((n) => ({
    name: n.name,
    id: n.id,
    state: n.unclean ? 'unclean' : !n.online ? 'offline' : n.pending ? 'pending' : n.maintenance ? 'maintenance' : n.standby ? 'standby' : 'online',
    online: n.online,
    standby: n.standby,
    maintenance: n.maintenance,
    unclean: n.unclean,
    isDc: n.isDc,
    resourcesRunning: n.resourcesRunning,
  }));
}

function nodesFromCib(cib: Cib): PacemakerViewNode[] {
  return cib.nodes.map((n) => {
    const state = cib.nodeStates?.find((s) => s.id === n.id || s.uname === n.uname);
    // 2.1.5 writes in_ccm="true" crmd="online"; later versions write timestamps for both, "0"/"false"/"offline" when down.
    const up = (word: string | null) => word !== null && !['false', '0', 'offline', 'no'].includes(word);
    const online = state === undefined ? null : up(state.crmd) && up(state.inCcm);
    const standby = truthy(n.attributes.standby);
    const maintenance = truthy(n.attributes.maintenance);
    return {
      name: n.uname,
      id: n.id,
      state: online === false ? 'offline' : maintenance ? 'maintenance' : standby ? 'standby' : online === true ? 'online' : 'unknown',
      online,
      standby,
      maintenance,
      unclean: null,
      isDc: cib.dcUuid === null ? null : cib.dcUuid === n.id,
      resourcesRunning: null,
    };
  });
}

function constraintView(cib: Cib): ViewConstraint[] {
  return cib.constraints.map((c) => {
    const fence = cib.drbdFenceConstraints.find((f) => f.id === c.id) ?? null;
    const sets = c.resourceSets.flat();
    switch (c.kind) {
      case 'location': {
        const ruleRole = c.rules.find((r) => r.role !== null)?.role ?? null;
        const score = c.score ?? c.rules[0]?.score ?? null;
        const where = c.node !== null ? `on ${c.node}` : c.rules.length > 0 ? `by rule (${c.rules.flatMap((r) => r.expressions.map((e) => `${e.attribute} ${e.operation}${e.value === null ? '' : ` ${e.value}`}`)).join(', ')})` : '';
        return {
          id: c.id,
          kind: c.kind,
          resources: [...(c.rsc === null ? [] : [c.rsc]), ...sets],
          score,
          role: c.role ?? ruleRole,
          node: c.node,
          summary: `${c.rsc ?? c.rscPattern ?? sets.join(' ')}${(c.role ?? ruleRole) === null ? '' : ` (${c.role ?? ruleRole})`} ${score ?? '?'} ${where}`.trim(),
          drbdFence: fence === null ? null : { drbdResource: fence.drbdResource, cloneId: fence.cloneId, allowedNode: fence.allowedNode, excludedNodes: fence.excludedNodes },
        };
      }
      case 'colocation':
        return {
          id: c.id,
          kind: c.kind,
          resources: [...[c.rsc, c.withRsc].filter((r): r is string => r !== null), ...sets],
          score: c.score,
          role: c.withRscRole,
          node: null,
          summary: `${c.rsc ?? sets.join(' ')}${c.rscRole === null ? '' : ` (${c.rscRole})`} with ${c.withRsc ?? '-'}${c.withRscRole === null ? '' : ` (${c.withRscRole})`} ${c.score ?? ''}`.trim(),
          drbdFence: null,
        };
      case 'order':
        return {
          id: c.id,
          kind: c.kind,
          resources: [...[c.first, c.then].filter((r): r is string => r !== null), ...sets],
          score: c.kindOrScore,
          role: null,
          node: null,
          summary: `${c.firstAction ?? 'start'} ${c.first ?? sets.join(' ')} then ${c.thenAction ?? c.firstAction ?? 'start'} ${c.then ?? '-'}${c.kindOrScore === null ? '' : ` (${c.kindOrScore})`}`,
          drbdFence: null,
        };
      case 'ticket':
        return {
          id: c.id,
          kind: c.kind,
          resources: [...(c.rsc === null ? [] : [c.rsc]), ...sets],
          score: null,
          role: c.rscRole,
          node: null,
          summary: `${c.rsc ?? sets.join(' ')} needs ticket ${c.ticket}`,
          drbdFence: null,
        };
    }
  });
}

/** Combines what crm_mon and the CIB say into the stack's view; at least one of them. */
export function buildPacemakerView(input: { crmMon?: CrmMonStatus | null; cib?: Cib | null }): PacemakerView {
  const crmMon = input.crmMon ?? null;
  const cib = input.cib ?? null;
  if (crmMon === null && cib === null) throw new TypeError('buildPacemakerView needs a crm_mon status, a CIB, or both');
  const props = cib?.properties ?? {};
  const options = crmMon?.summary.options;
  const boolProp = (name: string): boolean | null => (props[name] === undefined ? null : truthy(props[name]));

  const nodes = crmMon !== null ? nodesFromCrmMon(crmMon) : nodesFromCib(cib!);
  const dcNode = crmMon !== null ? (crmMon.summary.dc?.present ? crmMon.summary.dc.name : null) : (cib!.nodes.find((n) => n.id === cib!.dcUuid)?.uname ?? null);
  const quorum = crmMon !== null ? (crmMon.summary.dc?.present ? crmMon.summary.dc.withQuorum : null) : cib!.haveQuorum;

  // DRBD clones: from the CIB's configuration and/or crm_mon's instances, merged by clone id.
  const clones = new Map<string, DrbdCloneView>();
  if (cib !== null) {
    for (const { primitive, clone } of cibPrimitives(cib)) {
      if (clone === null || primitive.agent !== DRBD_AGENT || clones.has(clone.id)) continue;
      clones.set(clone.id, {
        cloneId: clone.id,
        primitiveId: primitive.id,
        drbdResource: primitive.params.drbd_resource ?? null,
        promotable: clone.promotable,
        promotedMax: clone.promotedMax,
        promotedOn: null,
        runningOn: null,
        managed: null,
        failed: null,
        fenceConstraints: cib.drbdFenceConstraints.filter((f) => f.cloneId === clone.id).map((f) => f.id),
      });
    }
  }
  if (crmMon !== null) {
    for (const { primitive, clone } of crmMonPrimitives(crmMon)) {
      if (clone === null || primitive.resourceAgent !== DRBD_AGENT) continue;
      let view = clones.get(clone.id);
      if (view === undefined) {
        view = { cloneId: clone.id, primitiveId: primitive.id, drbdResource: null, promotable: clone.promotable, promotedMax: null, promotedOn: [], runningOn: [], managed: clone.managed, failed: clone.failed, fenceConstraints: [] };
        clones.set(clone.id, view);
      }
      view.promotedOn ??= [];
      view.runningOn ??= [];
      view.managed = clone.managed;
      view.failed = clone.failed;
      if (primitive.active) {
        for (const n of primitive.nodes) {
          if (!view.runningOn.includes(n)) view.runningOn.push(n);
          if (primitive.role === 'Promoted' && !view.promotedOn.includes(n)) view.promotedOn.push(n);
        }
      }
    }
  }

  const stonithDevices: PacemakerView['stonithDevices'] = [];
  if (crmMon !== null) {
    for (const { primitive } of crmMonPrimitives(crmMon)) {
      if (!primitive.resourceAgent.startsWith('stonith:')) continue;
      const existing = stonithDevices.find((d) => d.id === primitive.id);
      const on = primitive.active ? primitive.nodes : [];
      if (existing === undefined) stonithDevices.push({ id: primitive.id, agent: primitive.resourceAgent, startedOn: [...on], role: primitive.role, managed: primitive.managed });
      else existing.startedOn = [...(existing.startedOn ?? []), ...on];
    }
  }
  if (cib !== null) {
    for (const d of cib.stonithDevices) {
      if (!stonithDevices.some((s) => s.id === d.id)) stonithDevices.push({ id: d.id, agent: d.agent, startedOn: crmMon === null ? null : [], role: crmMon === null ? null : 'Stopped', managed: null });
    }
  }

  const properties: PacemakerView['properties'] = {
    stonithEnabled: options?.stonithEnabled ?? boolProp('stonith-enabled'),
    maintenanceMode: options?.maintenanceMode ?? boolProp('maintenance-mode'),
    noQuorumPolicy: options?.noQuorumPolicy ?? props['no-quorum-policy'] ?? null,
    priorityFencingDelayMs: options?.priorityFencingDelayMs ?? durationMs(props['priority-fencing-delay']),
    stopAllResources: options?.stopAllResources ?? boolProp('stop-all-resources'),
  };
  // Unset in the CIB: Pacemaker's defaults (stonith on, maintenance off).
  if (crmMon === null && properties.stonithEnabled === null) properties.stonithEnabled = true;
  if (crmMon === null && properties.maintenanceMode === null) properties.maintenanceMode = false;

  const view: PacemakerView = {
    sources: { crmMon: crmMon !== null, cib: cib !== null },
    stack: crmMon?.summary.stack ?? props['cluster-infrastructure'] ?? null,
    dc: dcNode,
    quorum,
    properties,
    nodes,
    drbdClones: [...clones.values()],
    stonithDevices,
    constraints: cib === null ? null : constraintView(cib),
    failedActions: crmMon === null ? null : crmMon.failures.map((f) => ({ ...f })),
    fenceHistory: crmMon?.fenceHistory?.map((e) => ({ ...e })) ?? null,
    warnings: [],
  };
  view.warnings = viewWarnings(view);
  return view;
}

function viewWarnings(view: PacemakerView): string[] {
  const w: string[] = [];
  if (view.properties.stonithEnabled === false) w.push('stonith-enabled=false: the cluster will not fence a failed node; DRBD fencing (resource-and-stonith) and dual-primary are unsafe');
  if (view.properties.maintenanceMode === true) w.push('maintenance-mode=true: Pacemaker neither starts, stops nor monitors resources');
  if (view.properties.stopAllResources === true) w.push('stop-all-resources=true: every resource is to be stopped');
  if (view.stonithDevices.length === 0) w.push('no stonith device is configured');
  if (view.sources.crmMon && view.quorum === false) w.push('the cluster has no quorum');
  if (view.sources.crmMon && view.dc === null) w.push('no DC (designated controller) is elected');
  for (const n of view.nodes) {
    if (n.state === 'unclean') w.push(`node ${n.name} is unclean (to be fenced)`);
    else if (n.state === 'offline') w.push(`node ${n.name} is offline`);
    else if (n.state === 'standby') w.push(`node ${n.name} is in standby`);
    else if (n.state === 'maintenance') w.push(`node ${n.name} is in maintenance`);
  }
  for (const c of view.drbdClones) {
    if (c.promotedOn !== null && c.promotedOn.length === 0) w.push(`DRBD clone ${c.cloneId}${c.drbdResource === null ? '' : ` (${c.drbdResource})`} is not promoted on any node`);
    if (c.promotedMax !== null && c.promotedMax > 1) w.push(`DRBD clone ${c.cloneId} allows ${c.promotedMax} Primaries (dual-primary): needs fencing and a cluster-aware upper layer`);
    if (c.fenceConstraints.length > 0) w.push(`DRBD fence constraint ${c.fenceConstraints.join(', ')} is in place: a peer was fenced out of the Promoted role; it is removed by DRBD's after-resync-target handler`);
  }
  if (view.failedActions !== null && view.failedActions.length > 0) w.push(`${view.failedActions.length} failed action${view.failedActions.length === 1 ? '' : 's'} (crm_resource --cleanup clears them once fixed)`);
  return w;
}

/** Every DRBD resource Pacemaker manages here, by DRBD resource name (clones whose name is unknown are left out). */
export function drbdResourcesManagedByPacemaker(view: PacemakerView): Map<string, DrbdCloneView> {
  const out = new Map<string, DrbdCloneView>();
  for (const c of view.drbdClones) if (c.drbdResource !== null && !out.has(c.drbdResource)) out.set(c.drbdResource, c);
  return out;
}

/**
 * The clone managing DRBD resource `drbdResourceName`, if Pacemaker manages it;
 * callers refuse to act on it behind Pacemaker's back. A view from crm_mon alone
 * does not know DRBD resource names: then a clone whose primitive or clone id
 * names the resource (p_drbd_r0, ms_drbd_r0) is taken as a match.
 */
export function pacemakerManages(view: PacemakerView, drbdResourceName: string): DrbdCloneView | null {
  const named = drbdResourcesManagedByPacemaker(view).get(drbdResourceName);
  if (named !== undefined) return named;
  const suffix = new RegExp(`(^|[_-])${drbdResourceName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return view.drbdClones.find((c) => c.drbdResource === null && (suffix.test(c.cloneId) || (c.primitiveId !== null && suffix.test(c.primitiveId)))) ?? null;
}
