/**
 * The CIB as `cibadmin -Q` prints it (root `<cib>`): its configuration part
 * as a typed model (properties, nodes, resources, constraints, defaults) and
 * the node states of its status section. Resource history (lrm) is not read:
 * where resources run is crm_mon's to say.
 *
 * Rules (`<rule>`) are kept as their role, score and expressions; DRBD's own
 * fence constraints (`drbd-fence-by-handler-<resource>-<clone>`, written by
 * crm-fence-peer.sh / crm-fence-peer.9.sh) are recognised and listed apart.
 */
import { z } from 'zod';
import { ParseError } from '../errors.js';
import { attributesOf, xmlBoolean, xmlCount, xmlName } from './attributes.js';
import { normalizeRole, type PacemakerRole } from './roles.js';
import { childNamed, childrenNamed, elementExcerpt, parseXml, type XmlElement } from './xml.js';

const SOURCE = 'cibadmin -Q';

export interface CibOperation {
  id: string | null;
  name: string;
  interval: string | null;
  timeout: string | null;
  role: PacemakerRole | null;
}

export interface CibPrimitive {
  kind: 'primitive';
  id: string;
  /** ocf, stonith, systemd, lsb, service … */
  class: string;
  provider: string | null;
  type: string;
  /** class[:provider]:type, as crm_mon prints it. */
  agent: string;
  params: Record<string, string>;
  meta: Record<string, string>;
  operations: CibOperation[];
}

export interface CibGroup {
  kind: 'group';
  id: string;
  meta: Record<string, string>;
  resources: CibPrimitive[];
}

export interface CibClone {
  kind: 'clone';
  id: string;
  /** meta promotable=true, or the old `<master>` element. */
  promotable: boolean;
  /** The CIB element: `clone`, or `master` (Pacemaker before 2.0). */
  element: 'clone' | 'master';
  meta: Record<string, string>;
  /** promoted-max (or master-max) from meta, when set. */
  promotedMax: number | null;
  child: CibPrimitive | CibGroup | null;
}

export interface CibBundle {
  kind: 'bundle';
  id: string;
  primitive: CibPrimitive | null;
}

export type CibResource = CibPrimitive | CibGroup | CibClone | CibBundle;

export interface CibExpression {
  attribute: string;
  operation: string;
  value: string | null;
}

export interface CibRule {
  id: string | null;
  role: PacemakerRole | null;
  score: string | null;
  booleanOp: string | null;
  expressions: CibExpression[];
}

export interface CibLocation {
  kind: 'location';
  id: string;
  /** null when the constraint names resources by a set or a pattern. */
  rsc: string | null;
  rscPattern: string | null;
  role: PacemakerRole | null;
  score: string | null;
  node: string | null;
  rules: CibRule[];
  resourceSets: string[][];
}

export interface CibColocation {
  kind: 'colocation';
  id: string;
  rsc: string | null;
  withRsc: string | null;
  rscRole: PacemakerRole | null;
  withRscRole: PacemakerRole | null;
  score: string | null;
  resourceSets: string[][];
}

export interface CibOrder {
  kind: 'order';
  id: string;
  first: string | null;
  then: string | null;
  firstAction: string | null;
  thenAction: string | null;
  kindOrScore: string | null;
  symmetrical: boolean | null;
  resourceSets: string[][];
}

export interface CibTicket {
  kind: 'ticket';
  id: string;
  ticket: string;
  rsc: string | null;
  rscRole: PacemakerRole | null;
  lossPolicy: string | null;
  resourceSets: string[][];
}

export type CibConstraint = CibLocation | CibColocation | CibOrder | CibTicket;

/** A constraint DRBD's fence-peer handler placed: Promoted forbidden everywhere but `allowedNode`. */
export interface DrbdFenceConstraint {
  id: string;
  /** The DRBD resource named in the id, when the id ends with `-<rsc>`. */
  drbdResource: string | null;
  /** The promotable clone it constrains (the constraint's rsc). */
  cloneId: string | null;
  /** The node the rule keeps (`#uname ne <node>`): the only one that may be Promoted. */
  allowedNode: string | null;
  /** The CIB's other nodes: those the handler fenced out of the Promoted role. */
  excludedNodes: string[];
}

export interface CibNode {
  id: string;
  uname: string;
  type: string | null;
  /** Instance attributes (standby, maintenance, …), by name. */
  attributes: Record<string, string>;
}

export interface CibNodeState {
  id: string;
  uname: string | null;
  inCcm: string | null;
  crmd: string | null;
  join: string | null;
  expected: string | null;
}

export interface Cib {
  epoch: number | null;
  numUpdates: number | null;
  adminEpoch: number | null;
  validateWith: string | null;
  haveQuorum: boolean | null;
  dcUuid: string | null;
  /** crm_config's nvpairs by name (the first set that names a property wins). */
  properties: Record<string, string>;
  nodes: CibNode[];
  resources: CibResource[];
  /** Primitives of class stonith, wherever they are. */
  stonithDevices: CibPrimitive[];
  constraints: CibConstraint[];
  drbdFenceConstraints: DrbdFenceConstraint[];
  rscDefaults: Record<string, string>;
  opDefaults: Record<string, string>;
  /** null when the CIB has no status section (or an empty one). */
  nodeStates: CibNodeState[] | null;
}

const optional = <T extends z.ZodType>(schema: T) => schema.optional().transform((v) => (v === undefined ? null : v));

const cibSchema = z.object({
  epoch: optional(xmlCount),
  num_updates: optional(xmlCount),
  admin_epoch: optional(xmlCount),
  'validate-with': optional(z.string()),
  'have-quorum': optional(xmlBoolean),
  'dc-uuid': optional(z.string()),
});
const nvpairSchema = z.object({ name: xmlName, value: z.string().optional() });
const nodeSchema = z.object({ id: xmlName, uname: xmlName, type: optional(z.string()) });
const nodeStateSchema = z.object({ id: xmlName, uname: optional(z.string()), in_ccm: optional(z.string()), crmd: optional(z.string()), join: optional(z.string()), expected: optional(z.string()) });
const primitiveSchema = z.object({ id: xmlName, class: xmlName, provider: optional(z.string()), type: xmlName });
const idSchema = z.object({ id: xmlName });
const opSchema = z.object({ id: optional(z.string()), name: xmlName, interval: optional(z.string()), timeout: optional(z.string()), role: optional(z.string()) });
const locationSchema = z.object({ id: xmlName, rsc: optional(z.string()), 'rsc-pattern': optional(z.string()), role: optional(z.string()), score: optional(z.string()), node: optional(z.string()) });
const ruleSchema = z.object({ id: optional(z.string()), role: optional(z.string()), score: optional(z.string()), 'score-attribute': optional(z.string()), 'boolean-op': optional(z.string()) });
const expressionSchema = z.object({ attribute: z.string(), operation: z.string(), value: optional(z.string()) });
const colocationSchema = z.object({ id: xmlName, rsc: optional(z.string()), 'with-rsc': optional(z.string()), 'rsc-role': optional(z.string()), 'with-rsc-role': optional(z.string()), score: optional(z.string()) });
const orderSchema = z.object({ id: xmlName, first: optional(z.string()), then: optional(z.string()), 'first-action': optional(z.string()), 'then-action': optional(z.string()), kind: optional(z.string()), score: optional(z.string()), symmetrical: optional(xmlBoolean) });
const ticketSchema = z.object({ id: xmlName, ticket: z.string(), rsc: optional(z.string()), 'rsc-role': optional(z.string()), 'loss-policy': optional(z.string()) });

function role(element: XmlElement, word: string | null): PacemakerRole | null {
  if (word === null) return null;
  const r = normalizeRole(word);
  if (r === null) throw new ParseError(`<${element.name}> unknown role ${JSON.stringify(word)}`, { source: SOURCE, excerpt: elementExcerpt(element) });
  return r;
}

/** The nvpairs of every child set named `setName` (instance_attributes, meta_attributes, cluster_property_set), first wins. */
function nvpairs(element: XmlElement | undefined, setName: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (element === undefined) return out;
  for (const set of childrenNamed(element, setName)) {
    for (const pair of childrenNamed(set, 'nvpair')) {
      const a = attributesOf(pair, nvpairSchema, SOURCE);
      // defineProperty: a name such as __proto__ stays a plain key.
      if (!Object.hasOwn(out, a.name)) Object.defineProperty(out, a.name, { value: a.value ?? '', enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function primitive(element: XmlElement): CibPrimitive {
  const a = attributesOf(element, primitiveSchema, SOURCE);
  const operations = childNamed(element, 'operations');
  return {
    kind: 'primitive',
    id: a.id,
    class: a.class,
    provider: a.provider,
    type: a.type,
    agent: a.provider === null ? `${a.class}:${a.type}` : `${a.class}:${a.provider}:${a.type}`,
    params: nvpairs(element, 'instance_attributes'),
    meta: nvpairs(element, 'meta_attributes'),
    operations: operations === undefined ? [] : childrenNamed(operations, 'op').map((op) => {
      const o = attributesOf(op, opSchema, SOURCE);
      return { id: o.id, name: o.name, interval: o.interval, timeout: o.timeout, role: role(op, o.role) };
    }),
  };
}

function group(element: XmlElement): CibGroup {
  return { kind: 'group', id: attributesOf(element, idSchema, SOURCE).id, meta: nvpairs(element, 'meta_attributes'), resources: childrenNamed(element, 'primitive').map(primitive) };
}

function clone(element: XmlElement): CibClone {
  const id = attributesOf(element, idSchema, SOURCE).id;
  const meta = nvpairs(element, 'meta_attributes');
  const isMaster = element.name === 'master';
  const promotableWord = meta.promotable;
  let promotable = isMaster;
  if (!isMaster && promotableWord !== undefined) {
    const parsed = xmlBoolean.safeParse(promotableWord);
    if (!parsed.success) throw new ParseError(`<clone id="${id}"> meta promotable is not a boolean`, { source: SOURCE, excerpt: promotableWord });
    promotable = parsed.data;
  }
  const maxWord = meta['promoted-max'] ?? meta['master-max'];
  let promotedMax: number | null = null;
  if (maxWord !== undefined) {
    const parsed = xmlCount.safeParse(maxWord);
    if (!parsed.success) throw new ParseError(`<${element.name} id="${id}"> meta promoted-max is not a count`, { source: SOURCE, excerpt: maxWord });
    promotedMax = parsed.data;
  }
  const childElement = element.children.find((c) => c.name === 'primitive' || c.name === 'group');
  const child = childElement === undefined ? null : childElement.name === 'primitive' ? primitive(childElement) : group(childElement);
  return { kind: 'clone', id, promotable, element: isMaster ? 'master' : 'clone', meta, promotedMax, child };
}

function resource(element: XmlElement): CibResource[] {
  switch (element.name) {
    case 'primitive':
      return [primitive(element)];
    case 'group':
      return [group(element)];
    case 'clone':
    case 'master':
      return [clone(element)];
    case 'bundle': {
      const p = childNamed(element, 'primitive');
      return [{ kind: 'bundle', id: attributesOf(element, idSchema, SOURCE).id, primitive: p === undefined ? null : primitive(p) }];
    }
    default:
      return [];
  }
}

function resourceSets(element: XmlElement): string[][] {
  return childrenNamed(element, 'resource_set').map((set) => childrenNamed(set, 'resource_ref').map((ref) => attributesOf(ref, idSchema, SOURCE).id));
}

function rule(element: XmlElement): CibRule {
  const a = attributesOf(element, ruleSchema, SOURCE);
  return {
    id: a.id,
    role: role(element, a.role),
    score: a.score ?? a['score-attribute'],
    booleanOp: a['boolean-op'],
    expressions: childrenNamed(element, 'expression').map((e) => attributesOf(e, expressionSchema, SOURCE)),
  };
}

function constraint(element: XmlElement): CibConstraint[] {
  switch (element.name) {
    case 'rsc_location': {
      const a = attributesOf(element, locationSchema, SOURCE);
      return [{ kind: 'location', id: a.id, rsc: a.rsc, rscPattern: a['rsc-pattern'], role: role(element, a.role), score: a.score, node: a.node, rules: childrenNamed(element, 'rule').map(rule), resourceSets: resourceSets(element) }];
    }
    case 'rsc_colocation': {
      const a = attributesOf(element, colocationSchema, SOURCE);
      return [{ kind: 'colocation', id: a.id, rsc: a.rsc, withRsc: a['with-rsc'], rscRole: role(element, a['rsc-role']), withRscRole: role(element, a['with-rsc-role']), score: a.score, resourceSets: resourceSets(element) }];
    }
    case 'rsc_order': {
      const a = attributesOf(element, orderSchema, SOURCE);
      return [{ kind: 'order', id: a.id, first: a.first, then: a.then, firstAction: a['first-action'], thenAction: a['then-action'], kindOrScore: a.kind ?? a.score, symmetrical: a.symmetrical, resourceSets: resourceSets(element) }];
    }
    case 'rsc_ticket': {
      const a = attributesOf(element, ticketSchema, SOURCE);
      return [{ kind: 'ticket', id: a.id, ticket: a.ticket, rsc: a.rsc, rscRole: role(element, a['rsc-role']), lossPolicy: a['loss-policy'], resourceSets: resourceSets(element) }];
    }
    default:
      return [];
  }
}

export const DRBD_FENCE_CONSTRAINT_PREFIX = 'drbd-fence-by-handler-';

/** DRBD's handler constraint, if `c` is one: its id names the DRBD resource and the clone, its rule the node kept. */
export function drbdFenceConstraint(c: CibConstraint, nodeNames: readonly string[]): DrbdFenceConstraint | null {
  if (c.kind !== 'location' || !c.id.startsWith(DRBD_FENCE_CONSTRAINT_PREFIX)) return null;
  const rest = c.id.slice(DRBD_FENCE_CONSTRAINT_PREFIX.length);
  const drbdResource = c.rsc !== null && rest.endsWith(`-${c.rsc}`) && rest.length > c.rsc.length + 1 ? rest.slice(0, rest.length - c.rsc.length - 1) : null;
  let allowedNode: string | null = null;
  for (const r of c.rules) {
    const e = r.expressions.find((x) => x.attribute === '#uname' && x.operation === 'ne' && x.value !== null);
    if (e !== undefined) {
      allowedNode = e.value;
      break;
    }
  }
  return {
    id: c.id,
    drbdResource,
    cloneId: c.rsc,
    allowedNode,
    excludedNodes: allowedNode === null ? [] : nodeNames.filter((n) => n !== allowedNode),
  };
}

/** Every primitive of the configuration, with the clone and group holding it. */
export function cibPrimitives(cib: Pick<Cib, 'resources'>): { primitive: CibPrimitive; clone: CibClone | null; group: CibGroup | null }[] {
  const out: { primitive: CibPrimitive; clone: CibClone | null; group: CibGroup | null }[] = [];
  const walk = (r: CibResource | null, clone: CibClone | null, group: CibGroup | null): void => {
    if (r === null) return;
    if (r.kind === 'primitive') out.push({ primitive: r, clone, group });
    else if (r.kind === 'group') for (const p of r.resources) walk(p, clone, r);
    else if (r.kind === 'clone') walk(r.child, r, null);
    else walk(r.primitive, null, null);
  };
  for (const r of cib.resources) walk(r, null, null);
  return out;
}

/** Parses `cibadmin -Q` (a whole CIB). */
export function parseCib(text: string): Cib {
  const root = parseXml(text, SOURCE);
  if (root.name === 'pacemaker-result' || root.name === 'crm_mon') {
    throw new ParseError('this is crm_mon --output-as=xml output, not a CIB (cibadmin -Q); read it with the crm_mon parser (--from-crm-mon)', { source: SOURCE, excerpt: elementExcerpt(root) });
  }
  if (root.name !== 'cib') throw new ParseError(`root element <${root.name}>, expected <cib>`, { source: SOURCE, excerpt: elementExcerpt(root) });
  const a = attributesOf(root, cibSchema, SOURCE);
  const configuration = childNamed(root, 'configuration');
  if (configuration === undefined) throw new ParseError('<cib> has no <configuration>', { source: SOURCE, excerpt: elementExcerpt(root) });
  const nodesElement = childNamed(configuration, 'nodes');
  const nodes: CibNode[] = nodesElement === undefined ? [] : childrenNamed(nodesElement, 'node').map((n) => {
    const na = attributesOf(n, nodeSchema, SOURCE);
    return { id: na.id, uname: na.uname, type: na.type, attributes: nvpairs(n, 'instance_attributes') };
  });
  const resourcesElement = childNamed(configuration, 'resources');
  const resources = resourcesElement === undefined ? [] : resourcesElement.children.flatMap(resource);
  const constraintsElement = childNamed(configuration, 'constraints');
  const constraints = constraintsElement === undefined ? [] : constraintsElement.children.flatMap(constraint);
  const names = nodes.map((n) => n.uname);
  const status = childNamed(root, 'status');
  const states = status === undefined ? [] : childrenNamed(status, 'node_state');
  return {
    epoch: a.epoch,
    numUpdates: a.num_updates,
    adminEpoch: a.admin_epoch,
    validateWith: a['validate-with'],
    haveQuorum: a['have-quorum'],
    dcUuid: a['dc-uuid'],
    properties: nvpairs(childNamed(configuration, 'crm_config'), 'cluster_property_set'),
    nodes,
    resources,
    stonithDevices: cibPrimitives({ resources }).map((p) => p.primitive).filter((p) => p.class === 'stonith'),
    constraints,
    drbdFenceConstraints: constraints.flatMap((c) => drbdFenceConstraint(c, names) ?? []),
    rscDefaults: nvpairs(childNamed(configuration, 'rsc_defaults'), 'meta_attributes'),
    opDefaults: nvpairs(childNamed(configuration, 'op_defaults'), 'meta_attributes'),
    nodeStates:
      states.length === 0
        ? null
        : states.map((s) => {
            const sa = attributesOf(s, nodeStateSchema, SOURCE);
            return { id: sa.id, uname: sa.uname, inCcm: sa.in_ccm, crmd: sa.crmd, join: sa.join, expected: sa.expected };
          }),
  };
}
