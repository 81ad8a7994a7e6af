/**
 * `crm_mon --output-as=xml` (Pacemaker 2.1: root `<pacemaker-result>`; 2.0:
 * root `<crm_mon>`) as a typed model. Element and attribute names per
 * Pacemaker's API schemas (crm_mon-2.25.rng, nodes-2.24.rng,
 * resources-2.24.rng, failure-2.8.rng, fence-event-2.15.rng). Unknown
 * elements and attributes are ignored; a missing required attribute or a
 * value of the wrong kind is a ParseError. node_history and node_attributes
 * are not read.
 */
import { z } from 'zod';
import { HastorError, ParseError } from '../errors.js';
import { attributesOf, xmlBoolean, xmlCount, xmlInteger, xmlName } from './attributes.js';
import { normalizeRole, type PacemakerRole } from './roles.js';
import { childNamed, childrenNamed, elementExcerpt, parseXml, type XmlElement } from './xml.js';

const SOURCE = 'crm_mon --output-as=xml';

export interface CrmMonDc {
  present: boolean;
  name: string | null;
  id: string | null;
  version: string | null;
  withQuorum: boolean | null;
}

export interface CrmMonClusterOptions {
  stonithEnabled: boolean | null;
  symmetricCluster: boolean | null;
  noQuorumPolicy: string | null;
  maintenanceMode: boolean | null;
  stopAllResources: boolean | null;
  stonithTimeoutMs: number | null;
  priorityFencingDelayMs: number | null;
}

export interface CrmMonSummary {
  /** corosync, or unknown when crm_mon read a CIB file without cluster-infrastructure. */
  stack: string | null;
  dc: CrmMonDc | null;
  lastUpdate: string | null;
  lastChange: string | null;
  nodesConfigured: number | null;
  resourcesConfigured: number | null;
  resourcesDisabled: number | null;
  resourcesBlocked: number | null;
  options: CrmMonClusterOptions;
}

export interface CrmMonNode {
  name: string;
  id: string;
  online: boolean;
  standby: boolean;
  standbyOnFail: boolean;
  maintenance: boolean;
  pending: boolean;
  unclean: boolean;
  shutdown: boolean;
  expectedUp: boolean;
  isDc: boolean;
  /** member, remote, ping (and unknown). */
  type: string;
  resourcesRunning: number;
  health: string | null;
}

export interface CrmMonPrimitive {
  kind: 'primitive';
  id: string;
  /** class[:provider]:type, e.g. ocf:linbit:drbd, stonith:fence_xvm, systemd:mariadb. */
  resourceAgent: string;
  role: PacemakerRole;
  targetRole: string | null;
  active: boolean;
  orphaned: boolean;
  blocked: boolean;
  managed: boolean;
  failed: boolean;
  failureIgnored: boolean;
  /** An action in flight (e.g. "Starting"), when crm_mon shows pending actions. */
  pending: string | null;
  /** Names of the nodes it runs on (a clone instance: one). */
  nodes: string[];
}

export interface CrmMonGroup {
  kind: 'group';
  id: string;
  managed: boolean;
  disabled: boolean;
  resources: CrmMonPrimitive[];
}

export interface CrmMonClone {
  kind: 'clone';
  id: string;
  /** Promotable (multi_state in crm_mon's words). */
  promotable: boolean;
  unique: boolean;
  managed: boolean;
  disabled: boolean;
  failed: boolean;
  failureIgnored: boolean;
  targetRole: string | null;
  /** One entry per instance: a primitive, or a group for a cloned group. */
  instances: (CrmMonPrimitive | CrmMonGroup)[];
}

export interface CrmMonBundle {
  kind: 'bundle';
  id: string;
  type: string;
  image: string;
  unique: boolean;
  managed: boolean;
  failed: boolean;
  replicas: { id: number; resources: CrmMonPrimitive[] }[];
}

export type CrmMonResource = CrmMonPrimitive | CrmMonGroup | CrmMonClone | CrmMonBundle;

export interface CrmMonFailure {
  opKey: string;
  node: string;
  exitStatus: string;
  exitReason: string;
  exitCode: number;
  call: number;
  status: string;
  lastRcChange: string | null;
  queuedMs: number | null;
  execMs: number | null;
  intervalMs: number | null;
  task: string | null;
}

export interface FenceEvent {
  target: string;
  action: string;
  delegate: string | null;
  client: string;
  origin: string;
  status: 'success' | 'failed' | 'pending';
  exitReason: string | null;
  completed: string | null;
}

export interface CrmMonBan {
  id: string;
  resource: string;
  node: string;
  weight: number;
  promotedOnly: boolean;
}

export interface CrmMonStatus {
  /** The request crm_mon echoes (pacemaker-result's `request`), if any. */
  request: string | null;
  summary: CrmMonSummary;
  nodes: CrmMonNode[];
  resources: CrmMonResource[];
  failures: CrmMonFailure[];
  /** null when the document has no fence_history (crm_mon leaves it out offline or with --fence-history=0). */
  fenceHistory: FenceEvent[] | null;
  bans: CrmMonBan[];
}

/** crm_mon answered but could not reach the cluster (`<status code="102" message="Not connected">`, exit 102). */
export class PacemakerUnavailableError extends HastorError {
  readonly node: string | undefined;
  readonly crmMonCode: number | null;

  constructor(message: string, details: { node?: string; crmMonCode?: number | null; cause?: unknown } = {}) {
    super('E_PACEMAKER_UNAVAILABLE', message, { cause: details.cause });
    this.node = details.node;
    this.crmMonCode = details.crmMonCode ?? null;
  }
}

const optional = <T extends z.ZodType>(schema: T) => schema.optional().transform((v) => (v === undefined ? null : v));

const dcSchema = z.object({
  present: xmlBoolean,
  name: optional(z.string()),
  id: optional(z.string()),
  version: optional(z.string()),
  with_quorum: optional(xmlBoolean),
});

const optionsSchema = z.object({
  'stonith-enabled': optional(xmlBoolean),
  'symmetric-cluster': optional(xmlBoolean),
  'no-quorum-policy': optional(z.string()),
  'maintenance-mode': optional(xmlBoolean),
  'stop-all-resources': optional(xmlBoolean),
  'stonith-timeout-ms': optional(xmlInteger),
  'priority-fencing-delay-ms': optional(xmlInteger),
});

const nodeSchema = z.object({
  name: xmlName,
  id: z.string(),
  online: xmlBoolean,
  standby: xmlBoolean,
  standby_onfail: xmlBoolean,
  maintenance: xmlBoolean,
  pending: xmlBoolean,
  unclean: xmlBoolean,
  shutdown: xmlBoolean,
  expected_up: xmlBoolean,
  is_dc: xmlBoolean,
  resources_running: xmlCount,
  type: z.string(),
  health: optional(z.string()),
});

const resourceSchema = z.object({
  id: xmlName,
  resource_agent: z.string(),
  role: z.string(),
  target_role: optional(z.string()),
  active: xmlBoolean,
  orphaned: xmlBoolean,
  blocked: optional(xmlBoolean),
  managed: xmlBoolean,
  failed: xmlBoolean,
  failure_ignored: xmlBoolean,
  nodes_running_on: xmlCount,
  pending: optional(z.string()),
});

const runningNodeSchema = z.object({ name: xmlName });

const groupSchema = z.object({ id: xmlName, managed: xmlBoolean, disabled: xmlBoolean });

const cloneSchema = z.object({
  id: xmlName,
  multi_state: xmlBoolean,
  unique: xmlBoolean,
  managed: xmlBoolean,
  disabled: xmlBoolean,
  failed: xmlBoolean,
  failure_ignored: xmlBoolean,
  target_role: optional(z.string()),
});

const bundleSchema = z.object({ id: xmlName, type: z.string(), image: z.string(), unique: xmlBoolean, managed: xmlBoolean, failed: xmlBoolean });

const failureSchema = z.object({
  op_key: optional(z.string()),
  id: optional(z.string()),
  node: z.string(),
  exitstatus: z.string(),
  exitreason: optional(z.string()),
  exitcode: xmlInteger,
  call: xmlInteger,
  status: z.string(),
  'last-rc-change': optional(z.string()),
  queued: optional(xmlCount),
  exec: optional(xmlCount),
  interval: optional(xmlCount),
  task: optional(z.string()),
});

const fenceEventSchema = z.object({
  status: z.enum(['success', 'failed', 'pending']),
  action: z.string(),
  target: z.string(),
  client: z.string(),
  origin: z.string(),
  delegate: optional(z.string()),
  'exit-reason': optional(z.string()),
  completed: optional(z.string()),
});

const banSchema = z.object({ id: z.string(), resource: z.string(), node: z.string(), weight: xmlInteger, 'promoted-only': optional(xmlBoolean), master_only: optional(xmlBoolean) });

const statusSchema = z.object({ code: xmlInteger, message: optional(z.string()) });

function primitive(element: XmlElement): CrmMonPrimitive {
  const a = attributesOf(element, resourceSchema, SOURCE);
  const role = normalizeRole(a.role);
  if (role === null) throw new ParseError(`<resource> unknown role ${JSON.stringify(a.role)}`, { source: SOURCE, excerpt: elementExcerpt(element) });
  return {
    kind: 'primitive',
    id: a.id,
    resourceAgent: a.resource_agent,
    role,
    targetRole: a.target_role,
    active: a.active,
    orphaned: a.orphaned,
    blocked: a.blocked ?? false,
    managed: a.managed,
    failed: a.failed,
    failureIgnored: a.failure_ignored,
    pending: a.pending,
    nodes: childrenNamed(element, 'node').map((n) => attributesOf(n, runningNodeSchema, SOURCE).name),
  };
}

function group(element: XmlElement): CrmMonGroup {
  const a = attributesOf(element, groupSchema, SOURCE);
  return { kind: 'group', id: a.id, managed: a.managed, disabled: a.disabled, resources: childrenNamed(element, 'resource').map(primitive) };
}

function clone(element: XmlElement): CrmMonClone {
  const a = attributesOf(element, cloneSchema, SOURCE);
  const instances = element.children.flatMap((c): (CrmMonPrimitive | CrmMonGroup)[] => (c.name === 'resource' ? [primitive(c)] : c.name === 'group' ? [group(c)] : []));
  return {
    kind: 'clone',
    id: a.id,
    promotable: a.multi_state,
    unique: a.unique,
    managed: a.managed,
    disabled: a.disabled,
    failed: a.failed,
    failureIgnored: a.failure_ignored,
    targetRole: a.target_role,
    instances,
  };
}

function bundle(element: XmlElement): CrmMonBundle {
  const a = attributesOf(element, bundleSchema, SOURCE);
  return {
    kind: 'bundle',
    id: a.id,
    type: a.type,
    image: a.image,
    unique: a.unique,
    managed: a.managed,
    failed: a.failed,
    replicas: childrenNamed(element, 'replica').map((r) => ({
      id: attributesOf(r, z.object({ id: xmlCount }), SOURCE).id,
      resources: childrenNamed(r, 'resource').map(primitive),
    })),
  };
}

function resource(element: XmlElement): CrmMonResource[] {
  switch (element.name) {
    case 'resource':
      return [primitive(element)];
    case 'group':
      return [group(element)];
    case 'clone':
      return [clone(element)];
    case 'bundle':
      return [bundle(element)];
    default:
      return [];
  }
}

function summary(element: XmlElement | undefined): CrmMonSummary {
  const get = (name: string) => (element === undefined ? undefined : childNamed(element, name));
  const dcElement = get('current_dc');
  const dc = dcElement === undefined ? null : attributesOf(dcElement, dcSchema, SOURCE);
  const stack = get('stack')?.attributes.type ?? null;
  const nodesConfigured = get('nodes_configured');
  const resourcesConfigured = get('resources_configured');
  const counts =
    resourcesConfigured === undefined
      ? null
      : attributesOf(resourcesConfigured, z.object({ number: xmlCount, disabled: optional(xmlCount), blocked: optional(xmlCount) }), SOURCE);
  const optionsElement = get('cluster_options');
  const o = optionsElement === undefined ? undefined : attributesOf(optionsElement, optionsSchema, SOURCE);
  return {
    stack,
    dc: dc === null ? null : { present: dc.present, name: dc.name, id: dc.id, version: dc.version, withQuorum: dc.with_quorum },
    lastUpdate: get('last_update')?.attributes.time ?? null,
    lastChange: get('last_change')?.attributes.time || null,
    nodesConfigured: nodesConfigured === undefined ? null : attributesOf(nodesConfigured, z.object({ number: xmlCount }), SOURCE).number,
    resourcesConfigured: counts?.number ?? null,
    resourcesDisabled: counts?.disabled ?? null,
    resourcesBlocked: counts?.blocked ?? null,
    options: {
      stonithEnabled: o?.['stonith-enabled'] ?? null,
      symmetricCluster: o?.['symmetric-cluster'] ?? null,
      noQuorumPolicy: o?.['no-quorum-policy'] ?? null,
      maintenanceMode: o?.['maintenance-mode'] ?? null,
      stopAllResources: o?.['stop-all-resources'] ?? null,
      stonithTimeoutMs: o?.['stonith-timeout-ms'] ?? null,
      priorityFencingDelayMs: o?.['priority-fencing-delay-ms'] ?? null,
    },
  };
}

/** The `<status code message>` crm_mon 2.1 ends its document with, if any. */
function resultStatus(root: XmlElement): { code: number; message: string | null; errors: string[] } | null {
  const element = childNamed(root, 'status');
  if (element === undefined) return null;
  const a = attributesOf(element, statusSchema, SOURCE);
  const errors = childNamed(element, 'errors');
  return { code: a.code, message: a.message, errors: errors === undefined ? [] : childrenNamed(errors, 'error').map((e) => e.text) };
}

/** Parses `crm_mon --output-as=xml`. A document saying crm_mon could not reach the cluster is a PacemakerUnavailableError. */
export function parseCrmMon(text: string): CrmMonStatus {
  const source = SOURCE;
  const root = parseXml(text, source);
  if (root.name === 'cib') {
    throw new ParseError('this is a CIB (cibadmin -Q), not crm_mon --output-as=xml output; read it with the CIB parser (--from-cib)', { source, excerpt: elementExcerpt(root) });
  }
  if (root.name !== 'pacemaker-result' && root.name !== 'crm_mon') {
    throw new ParseError(`root element <${root.name}>, expected <pacemaker-result> (crm_mon 2.1) or <crm_mon> (2.0)`, { source, excerpt: elementExcerpt(root) });
  }
  return readCrmMon(root);
}

function readCrmMon(root: XmlElement): CrmMonStatus {
  const status = resultStatus(root);
  const summaryElement = childNamed(root, 'summary');
  if (status !== null && status.code !== 0) {
    const why = [status.message, ...status.errors].filter((t): t is string => t !== null && t !== '').join('; ');
    if (summaryElement === undefined) {
      throw new PacemakerUnavailableError(`crm_mon could not read the cluster (code ${status.code}${why === '' ? '' : `: ${why}`}); is Pacemaker running on this node?`, { crmMonCode: status.code });
    }
  }
  if (summaryElement === undefined) {
    throw new ParseError(`<${root.name}> has no <summary>: not a full crm_mon status (was it run with --output-as=xml and no section filter?)`, { source: SOURCE, excerpt: elementExcerpt(root) });
  }
  const nodesElement = childNamed(root, 'nodes');
  const resourcesElement = childNamed(root, 'resources');
  const failuresElement = childNamed(root, 'failures');
  const fenceElement = childNamed(root, 'fence_history');
  const bansElement = childNamed(root, 'bans');
  return {
    request: root.attributes.request ?? null,
    summary: summary(summaryElement),
    nodes: nodesElement === undefined ? [] : childrenNamed(nodesElement, 'node').map((n) => {
      const a = attributesOf(n, nodeSchema, SOURCE);
      return {
        name: a.name,
        id: a.id,
        online: a.online,
        standby: a.standby,
        standbyOnFail: a.standby_onfail,
        maintenance: a.maintenance,
        pending: a.pending,
        unclean: a.unclean,
        shutdown: a.shutdown,
        expectedUp: a.expected_up,
        isDc: a.is_dc,
        type: a.type,
        resourcesRunning: a.resources_running,
        health: a.health,
      };
    }),
    resources: resourcesElement === undefined ? [] : resourcesElement.children.flatMap(resource),
    failures: failuresElement === undefined ? [] : childrenNamed(failuresElement, 'failure').map((f) => {
      const a = attributesOf(f, failureSchema, SOURCE);
      const opKey = a.op_key ?? a.id;
      if (opKey === null) throw new ParseError('<failure> has neither op_key nor id', { source: SOURCE, excerpt: elementExcerpt(f) });
      return {
        opKey,
        node: a.node,
        exitStatus: a.exitstatus,
        exitReason: a.exitreason ?? '',
        exitCode: a.exitcode,
        call: a.call,
        status: a.status,
        lastRcChange: a['last-rc-change'],
        queuedMs: a.queued,
        execMs: a.exec,
        intervalMs: a.interval,
        task: a.task,
      };
    }),
    fenceHistory: fenceElement === undefined ? null : childrenNamed(fenceElement, 'fence_event').map((e) => {
      const a = attributesOf(e, fenceEventSchema, SOURCE);
      return { target: a.target, action: a.action, delegate: a.delegate, client: a.client, origin: a.origin, status: a.status, exitReason: a['exit-reason'], completed: a.completed };
    }),
    bans: bansElement === undefined ? [] : childrenNamed(bansElement, 'ban').map((b) => {
      const a = attributesOf(b, banSchema, SOURCE);
      return { id: a.id, resource: a.resource, node: a.node, weight: a.weight, promotedOnly: a['promoted-only'] ?? a.master_only ?? false };
    }),
  };
}

/** Every primitive of the status, clone instances and group members included, with the clone or group holding it. */
export function crmMonPrimitives(status: CrmMonStatus): { primitive: CrmMonPrimitive; clone: CrmMonClone | null; group: CrmMonGroup | null }[] {
  const out: { primitive: CrmMonPrimitive; clone: CrmMonClone | null; group: CrmMonGroup | null }[] = [];
  for (const r of status.resources) {
    if (r.kind === 'primitive') out.push({ primitive: r, clone: null, group: null });
    else if (r.kind === 'group') for (const p of r.resources) out.push({ primitive: p, clone: null, group: r });
    else if (r.kind === 'clone') {
      for (const i of r.instances) {
        if (i.kind === 'primitive') out.push({ primitive: i, clone: r, group: null });
        else for (const p of i.resources) out.push({ primitive: p, clone: r, group: i });
      }
    } else for (const replica of r.replicas) for (const p of replica.resources) out.push({ primitive: p, clone: null, group: null });
  }
  return out;
}

/**
 * The resource and operation of a failed action. Its op key is
 * `<resource>_<operation>_<interval ms>`; resource ids and migrate_to /
 * migrate_from hold underscores too, so crm_mon's `task` (when given) or the
 * known two-word operations say where the resource id ends.
 */
export function failedActionTarget(failure: Pick<CrmMonFailure, 'opKey' | 'task'>): { resource: string; operation: string } {
  const { opKey, task } = failure;
  const head = opKey.replace(/_\d+$/, '');
  const operation = task ?? /_(migrate_to|migrate_from|[^_]+)$/.exec(head)?.[1] ?? null;
  if (head === opKey || operation === null || !head.endsWith(`_${operation}`) || head.length <= operation.length + 1) return { resource: opKey, operation: task ?? '' };
  return { resource: head.slice(0, head.length - operation.length - 1), operation };
}
