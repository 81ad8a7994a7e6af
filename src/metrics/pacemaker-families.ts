/**
 * Pacemaker metric families, from the read of this scrape (pacemaker-state.ts).
 * Everything but `hastor_pacemaker_up` and the read duration is absent while
 * crm_mon does not answer; what comes from the CIB (DRBD resource names,
 * fence constraints) is absent or empty while cibadmin does not.
 */
import { crmMonPrimitives, failedActionTarget } from '../pacemaker/crm-mon.js';
import type { Emit, FamilySpec, Labels } from './family.js';
import type { PacemakerSample, PacemakerState } from './pacemaker-state.js';

export interface PacemakerScrapeContext {
  pacemaker: PacemakerState | null;
}

type Spec = FamilySpec<PacemakerScrapeContext>;

const bool = (value: boolean): number => (value ? 1 : 0);

/** crm_mon's fence-event time: `2026-12-07 16:23:30Z` (2.1), else whatever Date.parse reads; null when unreadable. */
export function fenceTimeSeconds(text: string | null): number | null {
  if (text === null) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/.exec(text.trim());
  const ms = m === null ? Date.parse(text) : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isFinite(ms) ? ms / 1000 : null;
}

/** One sample per distinct label set: how many items have it. */
function emitCounts<T>(emit: Emit, items: readonly T[], labelsOf: (item: T) => Labels): void {
  const counts = new Map<string, { labels: Labels; value: number }>();
  for (const item of items) {
    const labels = labelsOf(item);
    const key = JSON.stringify(labels);
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { labels, value: 1 });
    else entry.value++;
  }
  for (const { labels, value } of counts.values()) emit(labels, value);
}

function spec(name: string, help: string, labelNames: readonly string[], samples: (state: PacemakerState, emit: Emit) => void): Spec {
  return {
    name,
    help,
    type: 'gauge',
    labelNames,
    samples: (c, emit) => {
      if (c.pacemaker !== null) samples(c.pacemaker, emit);
    },
  };
}

/** Samples from what crm_mon (and the CIB) said; none while crm_mon does not answer. */
const family = (name: string, help: string, labelNames: readonly string[], samples: (s: PacemakerSample, emit: Emit) => void): Spec =>
  spec(name, help, labelNames, (state, emit) => {
    if (state.sample !== null) samples(state.sample, emit);
  });

/** One unlabelled sample about the read itself, there even when crm_mon did not answer. */
const scalar = (name: string, help: string, value: (state: PacemakerState) => number | null): Spec =>
  spec(name, help, [], (state, emit) => {
    const v = value(state);
    if (v !== null) emit({}, v);
  });

function nodeFamily(name: string, help: string, value: (node: PacemakerSample['crmMon']['nodes'][number]) => boolean): Spec {
  return family(name, help, ['node'], (s, emit) => s.crmMon.nodes.forEach((n) => emit({ node: n.name }, bool(value(n)))));
}

/** Promotable DRBD clones, labelled by DRBD resource (empty when the CIB was not read) and clone id. */
const promotableClones = (s: PacemakerSample) =>
  s.view.drbdClones.filter((c) => c.promotable).map((c) => ({ clone: c, labels: { resource: c.drbdResource ?? '', clone: c.cloneId } }));

export const PACEMAKER_FAMILIES: readonly Spec[] = [
  scalar('hastor_pacemaker_up', 'Boolean whether crm_mon answered with the cluster status in this scrape (0: Pacemaker not installed, not running, or the read failed)', (p) =>
    p.reads > 0 ? bool(p.up) : null,
  ),
  scalar('hastor_pacemaker_cib_up', 'Boolean whether cibadmin -Q answered in this scrape (DRBD resource names and fence constraints come from it); absent while crm_mon does not answer', (p) =>
    p.sample === null ? null : bool(p.sample.cib !== null),
  ),
  scalar('hastor_pacemaker_read_duration_seconds', "Seconds this scrape's Pacemaker read (crm_mon, then cibadmin -Q) took, up to its timeout", (p) =>
    p.lastDurationMs === null ? null : p.lastDurationMs / 1000,
  ),
  family('hastor_pacemaker_quorum', "Boolean whether this node's partition has quorum (absent while no DC is elected)", [], (s, emit) => {
    const dc = s.crmMon.summary.dc;
    if (dc?.present && dc.withQuorum !== null) emit({}, bool(dc.withQuorum));
  }),
  family('hastor_pacemaker_maintenance_mode', 'Boolean whether the cluster property maintenance-mode is on (Pacemaker starts, stops and monitors nothing)', [], (s, emit) => {
    const on = s.view.properties.maintenanceMode;
    if (on !== null) emit({}, bool(on));
  }),
  nodeFamily('hastor_pacemaker_node_online', 'Boolean whether the cluster node is online', (n) => n.online),
  nodeFamily('hastor_pacemaker_node_standby', 'Boolean whether the cluster node is in standby', (n) => n.standby),
  nodeFamily('hastor_pacemaker_node_maintenance', 'Boolean whether the cluster node is in maintenance', (n) => n.maintenance),
  family('hastor_pacemaker_resource_unmanaged', 'Boolean whether Pacemaker leaves the resource (a primitive; any of its clone instances) unmanaged', ['resource'], (s, emit) => {
    const unmanaged = new Map<string, boolean>();
    for (const { primitive } of crmMonPrimitives(s.crmMon)) unmanaged.set(primitive.id, (unmanaged.get(primitive.id) ?? false) || !primitive.managed);
    for (const [resource, value] of unmanaged) emit({ resource }, bool(value));
  }),
  family('hastor_pacemaker_failed_actions', 'Failed resource actions crm_mon lists (until crm_resource --cleanup clears them)', ['resource', 'node', 'operation'], (s, emit) =>
    emitCounts(emit, s.crmMon.failures, (f) => {
      const { resource, operation } = failedActionTarget(f);
      return { resource, node: f.node, operation };
    }),
  ),
  family('hastor_pacemaker_fence_events', "Fencing actions in crm_mon's fence history, by target, action and status (the history can be cleaned, so a gauge)", ['target', 'action', 'status'], (s, emit) =>
    emitCounts(emit, s.crmMon.fenceHistory ?? [], (e) => ({ target: e.target, action: e.action, status: e.status })),
  ),
  family('hastor_pacemaker_fence_last_success_timestamp_seconds', "Unix time the target was last fenced successfully, from crm_mon's fence history", ['target'], (s, emit) => {
    const last = new Map<string, number>();
    for (const e of s.crmMon.fenceHistory ?? []) {
      const at = e.status === 'success' ? fenceTimeSeconds(e.completed) : null;
      if (at !== null && at > (last.get(e.target) ?? -Infinity)) last.set(e.target, at);
    }
    for (const [target, at] of last) emit({ target }, at);
  }),
  family('hastor_pacemaker_drbd_promoted', 'Per node running an instance of the promotable DRBD clone: 1 promoted there, 0 running unpromoted', ['resource', 'clone', 'node'], (s, emit) => {
    for (const { clone, labels } of promotableClones(s)) {
      for (const node of clone.runningOn ?? []) emit({ ...labels, node }, bool(clone.promotedOn?.includes(node) ?? false));
    }
  }),
  family('hastor_pacemaker_drbd_promoted_instances', 'Promoted instances of the promotable DRBD clone', ['resource', 'clone'], (s, emit) => {
    for (const { clone, labels } of promotableClones(s)) if (clone.promotedOn !== null) emit(labels, clone.promotedOn.length);
  }),
  family('hastor_pacemaker_drbd_fence_constraint', "1 per DRBD fence-peer constraint (drbd-fence-by-handler-*) in the CIB: only allowed_node may be promoted until the peer's resync ends", ['resource', 'clone', 'constraint', 'allowed_node'], (s, emit) => {
    for (const f of s.cib?.drbdFenceConstraints ?? []) emit({ resource: f.drbdResource ?? '', clone: f.cloneId ?? '', constraint: f.id, allowed_node: f.allowedNode ?? '' }, 1);
  }),
];
