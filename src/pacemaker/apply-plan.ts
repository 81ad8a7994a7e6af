/**
 * What `applyPacemakerConfig` would change in a live CIB, and the one CIB
 * patch that does it. Pure: the live CIB's text and a configuration in, a
 * plan out; src/pacemaker/apply.ts reads and writes through an executor.
 *
 * What hastor owns: the cluster properties the configuration sets, and the
 * top-level resources (primitives, groups, clones with what they hold) and
 * constraints it generates, by id. Everything else (other resources and
 * constraints, DRBD's `drbd-fence-by-handler-*` constraints, properties
 * Pacemaker or the operator set) is left as it is. The ids hastor applied
 * last time are recorded in the CIB itself, in the cluster property set
 * `hastor-applied`, so an object the configuration no longer has is known
 * as hastor's ("stale"): reported, and deleted only when asked (prune).
 *
 * Objects are compared by what Pacemaker acts on (attributes, params, meta,
 * ops, members), not by the ids of nested elements, so a resource created
 * by pcs or crm from hastor's scripts counts as equal. One that differs is
 * replaced whole, in its place. Meta attributes an operator or hastor sets at
 * run time (target-role, is-managed, maintenance, the dual-primary window's
 * saved promoted-max) are not the configuration's: they are kept across a
 * replacement and ignored when comparing.
 *
 * The patch is Pacemaker's v2 XML patchset (`cibadmin --patch`), whose
 * source version (admin_epoch, epoch, num_updates) must equal the live CIB's
 * when it is applied (Pacemaker 2.1 xml_patch_version_check): a CIB that
 * changed after it was read refuses the patch whole ("Update was older than
 * existing configuration", exit 103), so a plan never lands half-applied or
 * on top of someone else's change.
 */
import { ParseError, SafetyError } from '../errors.js';
import { renderCib } from './generate/render-cib.js';
import { isValidPacemakerId, type PacemakerConfig } from './generate/spec.js';
import { xmlAttributes } from './generate/xml-escape.js';
import { SAVED_PROMOTED_MAX } from './operations.js';
import { childNamed, childrenNamed, elementXml, parseXml, type XmlElement } from './xml.js';

const SOURCE = 'cibadmin -Q';

/** The cluster property set recording what hastor applied, and its one nvpair. */
export const APPLIED_SET_ID = 'hastor-applied';
export const APPLIED_NAME = 'hastor-applied-objects';
/** Where new cluster properties go (Pacemaker's, pcs's and crm's own set). */
export const PROPERTY_SET_ID = 'cib-bootstrap-options';

/** Set at run time by operators (crm_resource, pcs) or hastor, never by the configuration: kept and not compared. */
export const RUNTIME_META = ['target-role', 'is-managed', 'maintenance', SAVED_PROMOTED_MAX] as const;

export type ApplyObjectKind = 'property' | 'resource' | 'constraint';

export interface CibVersion {
  adminEpoch: number;
  epoch: number;
  numUpdates: number;
}

export interface AttributeChange {
  /** `class`, `params.drbd_resource`, `meta.promoted-max`, `op monitor 10s Promoted`, `drbd-r0/params.drbd_resource` (nested), `value` (a property). */
  name: string;
  before: string | null;
  after: string | null;
}

export interface PacemakerChange {
  action: 'add' | 'replace' | 'delete';
  /** `record`: the hastor-applied property set. */
  kind: ApplyObjectKind | 'record';
  /** The property's name, or the element's id. */
  id: string;
  /** primitive, group, clone, rsc_location, rsc_colocation, rsc_order, nvpair, cluster_property_set. */
  element: string;
  attributes: AttributeChange[];
}

/** An object hastor applied before that the configuration no longer has. */
export interface StaleObject {
  kind: ApplyObjectKind;
  id: string;
  element: string;
  /** Deleted by this plan (prune); otherwise kept and still recorded. */
  deleted: boolean;
}

export interface ApplyPlan {
  /** The live CIB's version: the patch applies only to exactly this one. */
  version: CibVersion;
  changes: PacemakerChange[];
  stale: StaleObject[];
  /** Top-level resources and constraints hastor did not generate, left alone (ids). */
  foreign: string[];
  /** The `cibadmin --patch` document; null when nothing differs. */
  patch: string | null;
}

export interface PlanOptions {
  /** Delete stale objects (hastor's before, not in the configuration now). */
  prune?: boolean;
}

const FALSE_WORDS = new Set(['false', 'no', 'n', 'off', '0']);

/** `0.24.28` as Pacemaker prints a CIB version. */
export const formatCibVersion = (v: CibVersion): string => `${v.adminEpoch}.${v.epoch}.${v.numUpdates}`;

/** The version attributes of a `<cib>` element (missing counts as 0, as Pacemaker reads them). */
export function cibVersionOf(root: XmlElement): CibVersion {
  const int = (name: string): number => {
    const word = root.attributes[name];
    if (word === undefined) return 0;
    if (!/^\d{1,15}$/.test(word)) throw new ParseError(`<cib> ${name} is not a count`, { source: SOURCE, excerpt: word });
    return Number(word);
  };
  return { adminEpoch: int('admin_epoch'), epoch: int('epoch'), numUpdates: int('num_updates') };
}

const el = (name: string, attributes: Record<string, string>, children: XmlElement[] = []): XmlElement => ({ name, attributes, children, text: '' });

/** Attributes but `id` (and `skip`), sorted, as `a=1 b=2`; nested elements follow in brackets. */
function canonical(e: XmlElement, skip: readonly string[] = []): string {
  const attrs = Object.entries(e.attributes)
    .filter(([k]) => k !== 'id' && !skip.includes(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  const inner = e.children.map((c) => `${c.name}[${canonical(c)}]`);
  return [...attrs, ...(e.text === '' ? [] : [`text=${e.text}`]), ...inner].join(' ');
}

const NVSETS: Readonly<Record<string, string>> = { instance_attributes: 'params', meta_attributes: 'meta', utilization: 'utilization' };
const RESOURCE_ELEMENTS = new Set(['primitive', 'group', 'clone', 'master', 'bundle']);
const onlyId = (e: XmlElement): boolean => Object.keys(e.attributes).every((k) => k === 'id');

/**
 * What Pacemaker acts on in an object, as name → value: its attributes, its
 * params/meta/utilization by name, its ops by name, interval and role, its
 * members in order, nested resources under `<id>/`; anything else (rules,
 * sets with a score) as canonical text. Nested ids are left out.
 */
export function objectFacts(e: XmlElement, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (prefix === '') out.set('element', e.name);
  for (const [k, v] of Object.entries(e.attributes)) if (k !== 'id') out.set(`${prefix}${k}`, v);
  const members = e.children.filter((c) => RESOURCE_ELEMENTS.has(c.name)).map((c) => c.attributes.id ?? '?');
  if (members.length > 0) out.set(`${prefix}resources`, members.join(' '));
  e.children.forEach((c, index) => {
    const set = NVSETS[c.name];
    if (set !== undefined && onlyId(c) && c.children.every((p) => p.name === 'nvpair' && p.attributes.name !== undefined && p.children.length === 0)) {
      for (const p of c.children) {
        const key = `${prefix}${set}.${p.attributes.name}`;
        if (!out.has(key)) out.set(key, p.attributes.value ?? '');
      }
    } else if (c.name === 'operations' && onlyId(c) && c.children.every((o) => o.name === 'op')) {
      for (const o of c.children) {
        const key = `${prefix}op ${[o.attributes.name, o.attributes.interval, o.attributes.role].filter((w) => w !== undefined).join(' ')}`;
        out.set(key, canonical(o, ['name', 'interval', 'role']));
      }
    } else if (RESOURCE_ELEMENTS.has(c.name) && c.attributes.id !== undefined) {
      objectFacts(c, `${prefix}${c.attributes.id}/`, out);
      out.set(`${prefix}${c.attributes.id}/element`, c.name);
    } else {
      out.set(`${prefix}${c.name}[${index}]`, canonical(c));
    }
  });
  return out;
}

const RUNTIME_KEY = new RegExp(`(^|/)meta\\.(${RUNTIME_META.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);

/** The attributes that differ; live run-time meta the configuration does not set is not a difference. */
function factChanges(live: Map<string, string> | null, want: Map<string, string> | null): AttributeChange[] {
  const changes: AttributeChange[] = [];
  const keys = [...(want?.keys() ?? []), ...[...(live?.keys() ?? [])].filter((k) => !want?.has(k))];
  for (const name of keys) {
    const before = live?.get(name) ?? null;
    const after = want?.get(name) ?? null;
    if (want !== null && after === null && RUNTIME_KEY.test(name)) continue;
    if (before !== after) changes.push({ name, before, after });
  }
  return changes;
}

/** Run-time meta attributes of `live` (and the resources it holds) by owner id. */
function runtimeMeta(live: XmlElement, out = new Map<string, [string, string][]>()): Map<string, [string, string][]> {
  const id = live.attributes.id;
  for (const c of live.children) {
    if (c.name === 'meta_attributes' && id !== undefined) {
      for (const p of childrenNamed(c, 'nvpair')) {
        const name = p.attributes.name;
        if (name !== undefined && (RUNTIME_META as readonly string[]).includes(name)) out.set(id, [...(out.get(id) ?? []), [name, p.attributes.value ?? '']]);
      }
    } else if (RESOURCE_ELEMENTS.has(c.name)) runtimeMeta(c, out);
  }
  return out;
}

/** `want` with the live run-time meta attributes it does not set itself added back, on the same resources. */
function withRuntimeMeta(want: XmlElement, kept: Map<string, [string, string][]>): XmlElement {
  const id = want.attributes.id;
  let children = want.children.map((c) => (RESOURCE_ELEMENTS.has(c.name) ? withRuntimeMeta(c, kept) : c));
  const extra = id === undefined ? [] : (kept.get(id) ?? []);
  if (extra.length > 0) {
    const existing = children.find((c) => c.name === 'meta_attributes');
    const setId = existing?.attributes.id ?? `${id}-meta_attributes`;
    const names = new Set((existing?.children ?? []).map((p) => p.attributes.name));
    const added = extra.filter(([name]) => !names.has(name)).map(([name, value]) => el('nvpair', { id: `${setId}-${name}`, name, value }));
    if (existing !== undefined) children = children.map((c) => (c === existing ? { ...c, children: [...c.children, ...added] } : c));
    else {
      // After the params, before the ops and nested resources, where renderCib puts meta.
      const at = children.filter((c) => c.name === 'instance_attributes').length;
      children = [...children.slice(0, at), el('meta_attributes', { id: setId }, added), ...children.slice(at)];
    }
  }
  return { ...want, children };
}

interface PatchChange {
  xml: string;
}

/** A path Pacemaker's v2 patch search understands: `/cib/configuration/resources/primitive[@id='x']`. */
function childPath(parent: string, e: XmlElement): string {
  const id = e.attributes.id;
  if (id === undefined || !isValidPacemakerId(id)) throw new ParseError(`<${e.name}> has no usable id, so it cannot be changed by a patch`, { source: SOURCE, excerpt: elementXml(e).slice(0, 80) });
  return `${parent}/${e.name}[@id='${id}']`;
}

/**
 * The patch changes for one parent element: `remove` deleted, `replace`
 * swapped in their place, `append` added at the end. Deletions come first;
 * creations name their final positions (Pacemaker inserts them in position
 * order, after the deletions). Positions count element children; a comment
 * in the section would shift a replaced object by one, which is harmless.
 */
function parentChanges(path: string, parent: XmlElement, edit: { remove?: ReadonlySet<string>; replace?: ReadonlyMap<string, XmlElement>; append?: readonly XmlElement[] }): PatchChange[] {
  const deletes: PatchChange[] = [];
  const final: { e: XmlElement; created: boolean }[] = [];
  for (const c of parent.children) {
    const id = c.attributes.id;
    const replacement = id === undefined ? undefined : edit.replace?.get(id);
    // Paths need no escaping: element names and checked Pacemaker ids only.
    if (id !== undefined && (edit.remove?.has(id) || replacement !== undefined)) deletes.push({ xml: `  <change operation="delete" path="${childPath(path, c)}"/>` });
    if (id !== undefined && edit.remove?.has(id)) continue;
    final.push({ e: replacement ?? c, created: replacement !== undefined });
  }
  for (const e of edit.append ?? []) final.push({ e, created: true });
  const creates = final.flatMap(({ e, created }, position) =>
    created ? [{ xml: [`  <change operation="create" path="${path}" position="${position}">`, elementXml(e, '    '), '  </change>'].join('\n') }] : [],
  );
  return [...deletes, ...creates];
}

/** Every id in the element and below it. */
function idsIn(e: XmlElement, out: string[] = []): string[] {
  if (e.attributes.id !== undefined) out.push(e.attributes.id);
  for (const c of e.children) idsIn(c, out);
  return out;
}

/** The ids a constraint or tag points at: rsc, with-rsc, first, then, resource_ref and obj_ref. */
function referencesIn(e: XmlElement, out: string[] = []): string[] {
  for (const a of ['rsc', 'with-rsc', 'first', 'then']) if (e.attributes[a] !== undefined) out.push(e.attributes[a]);
  if ((e.name === 'resource_ref' || e.name === 'obj_ref') && e.attributes.id !== undefined) out.push(e.attributes.id);
  for (const c of e.children) if (c.name !== 'rule') referencesIn(c, out);
  return out;
}

function section(configuration: XmlElement, name: string): XmlElement {
  const s = childNamed(configuration, name);
  if (s === undefined) throw new ParseError(`<configuration> has no <${name}>`, { source: SOURCE });
  return s;
}

/** The record's entries, `resource:drbd-r0-clone`, as a set. */
function recordOf(crmConfig: XmlElement): { set: XmlElement | undefined; entries: Set<string> } {
  const set = childrenNamed(crmConfig, 'cluster_property_set').find((s) => s.attributes.id === APPLIED_SET_ID);
  const value = set === undefined ? undefined : childrenNamed(set, 'nvpair').find((p) => p.attributes.name === APPLIED_NAME)?.attributes.value;
  return { set, entries: new Set((value ?? '').split(/\s+/).filter((w) => /^(property|resource|constraint):./.test(w))) };
}

const entry = (kind: ApplyObjectKind, id: string): string => `${kind}:${id}`;

interface SectionPlan {
  changes: PacemakerChange[];
  stale: StaleObject[];
  foreign: string[];
  patch: PatchChange[];
  /** Live top-level elements this plan deletes or replaces (their ids are free for the new ones). */
  freed: XmlElement[];
  created: XmlElement[];
}

/** Resources or constraints: hastor's by id added, replaced when they differ, stale ones reported or pruned. */
function planSection(kind: 'resource' | 'constraint', live: XmlElement, wanted: readonly XmlElement[], record: ReadonlySet<string>, prune: boolean): SectionPlan {
  const path = `/cib/configuration/${live.name}`;
  const liveById = new Map(live.children.flatMap((c) => (c.attributes.id === undefined ? [] : [[c.attributes.id, c] as const])));
  const wantedIds = new Set(wanted.map((w) => w.attributes.id));
  const plan: SectionPlan = { changes: [], stale: [], foreign: [], patch: [], freed: [], created: [] };
  const replace = new Map<string, XmlElement>();
  const append: XmlElement[] = [];
  const remove = new Set<string>();
  for (const want of wanted) {
    const id = want.attributes.id as string;
    const current = liveById.get(id);
    const attributes = factChanges(current === undefined ? null : objectFacts(current), objectFacts(want));
    if (current === undefined) {
      append.push(want);
      plan.created.push(want);
      plan.changes.push({ action: 'add', kind, id, element: want.name, attributes });
    } else if (attributes.length > 0) {
      const replacement = withRuntimeMeta(want, runtimeMeta(current));
      replace.set(id, replacement);
      plan.freed.push(current);
      plan.created.push(replacement);
      plan.changes.push({ action: 'replace', kind, id, element: want.name, attributes });
    }
  }
  for (const [id, current] of liveById) {
    if (wantedIds.has(id)) continue;
    if (!record.has(entry(kind, id))) {
      plan.foreign.push(id);
      continue;
    }
    plan.stale.push({ kind, id, element: current.name, deleted: prune });
    if (prune) {
      remove.add(id);
      plan.freed.push(current);
      plan.changes.push({ action: 'delete', kind, id, element: current.name, attributes: factChanges(objectFacts(current), null) });
    }
  }
  plan.patch = parentChanges(path, live, { remove, replace, append });
  return plan;
}

/** The cluster properties: each name the configuration sets, in whichever property set holds it, else added to cib-bootstrap-options. */
function planProperties(
  crmConfig: XmlElement,
  properties: Readonly<Record<string, string>>,
  record: ReadonlySet<string>,
  prune: boolean,
): Pick<SectionPlan, 'changes' | 'stale' | 'patch'> & { newSet: XmlElement | null } {
  const changes: PacemakerChange[] = [];
  const stale: StaleObject[] = [];
  const sets = childrenNamed(crmConfig, 'cluster_property_set').filter((s) => s.attributes.id !== APPLIED_SET_ID);
  const holding = (name: string) =>
    sets.flatMap((s) =>
      childrenNamed(s, 'nvpair')
        .filter((p) => p.attributes.name === name)
        .map((p) => {
          // Needed to patch it; Pacemaker's schema requires it anyway.
          if (p.attributes.id === undefined) throw new ParseError(`property ${name} in ${s.attributes.id ?? 'a property set'} has no id`, { source: SOURCE });
          return { set: s, pair: p };
        }),
    );
  const edits = new Map<XmlElement, { remove: Set<string>; replace: Map<string, XmlElement> }>();
  const editOf = (s: XmlElement) => edits.get(s) ?? edits.set(s, { remove: new Set(), replace: new Map() }).get(s)!;
  const added: XmlElement[] = [];
  for (const [name, value] of Object.entries(properties)) {
    const found = holding(name);
    if (found.length === 0) {
      added.push(el('nvpair', { id: `${PROPERTY_SET_ID}-${name}`, name, value }));
      changes.push({ action: 'add', kind: 'property', id: name, element: 'nvpair', attributes: [{ name: 'value', before: null, after: value }] });
      continue;
    }
    const wrong = found.filter(({ pair }) => (pair.attributes.value ?? '') !== value);
    if (wrong.length === 0) continue;
    for (const { set, pair } of wrong) editOf(set).replace.set(pair.attributes.id as string, { ...pair, attributes: { ...pair.attributes, value } });
    changes.push({ action: 'replace', kind: 'property', id: name, element: 'nvpair', attributes: [{ name: 'value', before: wrong[0]!.pair.attributes.value ?? '', after: value }] });
  }
  for (const e of record) {
    const name = e.slice('property:'.length);
    if (!e.startsWith('property:') || Object.hasOwn(properties, name)) continue;
    const found = holding(name);
    if (found.length === 0) continue;
    stale.push({ kind: 'property', id: name, element: 'nvpair', deleted: prune });
    if (!prune) continue;
    for (const { set, pair } of found) editOf(set).remove.add(pair.attributes.id as string);
    changes.push({ action: 'delete', kind: 'property', id: name, element: 'nvpair', attributes: [{ name: 'value', before: found[0]!.pair.attributes.value ?? '', after: null }] });
  }
  const bootstrap = sets.find((s) => s.attributes.id === PROPERTY_SET_ID);
  if (added.length > 0 && bootstrap !== undefined) editOf(bootstrap);
  const patch = [...edits].flatMap(([s, edit]) =>
    parentChanges(childPath('/cib/configuration/crm_config', s), s, { ...edit, append: s === bootstrap ? added : [] }),
  );
  // No cib-bootstrap-options yet (a new CIB): the caller adds it to crm_config along with the record.
  const newSet = added.length > 0 && bootstrap === undefined ? el('cluster_property_set', { id: PROPERTY_SET_ID }, added) : null;
  return { changes, stale, patch, newSet };
}

/** Refuses what the patch must not do to objects hastor did not generate, and to a cluster it was not written for. */
function assertSafeToApply(configuration: XmlElement, config: PacemakerConfig, plans: SectionPlan[], resources: XmlElement, constraints: XmlElement, liveStonith: string | undefined): void {
  // Nodes: a CIB naming a node the cluster file does not have is another cluster's.
  const known = new Set(config.nodes.map((n) => n.name));
  const nodes = childNamed(configuration, 'nodes');
  const others = (nodes === undefined ? [] : childrenNamed(nodes, 'node'))
    .filter((n) => (n.attributes.type ?? 'member') === 'member' && n.attributes.uname !== undefined && !known.has(n.attributes.uname))
    .map((n) => n.attributes.uname as string);
  if (others.length > 0) {
    throw new SafetyError(
      'pacemaker-other-cluster',
      `refusing to apply: the live CIB has node${others.length === 1 ? '' : 's'} ${others.join(', ')}, which the configuration (nodes ${[...known].join(', ')}) does not: it was generated for another cluster`,
      'none: apply the cluster file of this cluster, or fix its node names',
    );
  }
  if (liveStonith !== undefined && FALSE_WORDS.has(liveStonith.toLowerCase()) && !Object.hasOwn(config.properties, 'stonith-enabled')) {
    throw new SafetyError(
      'live-stonith-disabled',
      'refusing to apply: the live cluster has stonith-enabled=false and this configuration does not set it: its resources would run without fencing, and both halves of a split would run them on the same data',
      'none: set stonith-enabled=true in the configuration (hastor\'s builders do), or on the cluster first',
    );
  }
  const freed = plans.flatMap((p) => p.freed);
  const created = plans.flatMap((p) => p.created);
  // A replaced DRBD clone would lose the promoted-max an open dual-primary window set.
  for (const f of freed) {
    if ([...runtimeMeta(f).values()].flat().some(([name]) => name === SAVED_PROMOTED_MAX)) {
      throw new SafetyError(
        'pacemaker-dual-primary-window',
        `refusing to apply: ${f.attributes.id} has a dual-primary window open (meta ${SAVED_PROMOTED_MAX}); replacing it would end the window behind hastor dual-primary's back`,
        'close the window first (hastor dual-primary end), then apply',
      );
    }
  }
  // Ids: a new object may reuse only ids of the live objects this patch removes.
  const freedIds = new Set(freed.flatMap((f) => idsIn(f)));
  const liveOwner = new Map<string, string>();
  for (const top of configuration.children.flatMap((s) => s.children)) for (const id of idsIn(top)) liveOwner.set(id, `${top.name} ${top.attributes.id ?? '?'}`);
  for (const c of created) {
    for (const id of idsIn(c)) {
      const owner = liveOwner.get(id);
      if (owner !== undefined && !freedIds.has(id)) {
        throw new SafetyError(
          'pacemaker-foreign-object',
          `refusing to apply: id ${id} of hastor's ${c.name} ${c.attributes.id} is already used by ${owner} in the live CIB, which hastor did not generate and leaves alone`,
          `none: remove or rename ${owner.split(' ')[1]} yourself (e.g. crm configure delete, pcs resource delete), then apply`,
        );
      }
    }
  }
  // References: a constraint or tag hastor does not replace must still find what it names.
  const before = new Set(idsIn(resources));
  const after = new Set([...[...before].filter((id) => !freedIds.has(id)), ...created.flatMap((c) => idsIn(c))]);
  const freedTop = new Set(freed.map((f) => f.attributes.id));
  const tags = childNamed(configuration, 'tags');
  for (const holder of [...constraints.children, ...(tags?.children ?? [])]) {
    if (freedTop.has(holder.attributes.id)) continue;
    const lost = referencesIn(holder).filter((id) => before.has(id) && !after.has(id));
    if (lost.length > 0) {
      throw new SafetyError(
        'pacemaker-foreign-reference',
        `refusing to apply: ${holder.name} ${holder.attributes.id ?? '?'} names ${[...new Set(lost)].join(', ')}, which this change would remove`,
        `none: delete or change ${holder.attributes.id ?? 'it'} first (hastor leaves objects it did not generate alone)`,
      );
    }
  }
}

/**
 * The plan: changes, stale and foreign objects, and the patch. Throws a
 * SafetyError for what it refuses (another cluster's CIB, stonith disabled
 * live and not fixed, an open dual-primary window on an object it would
 * replace, an id a foreign object holds, a foreign reference it would break).
 */
export function planPacemakerApply(liveText: string, config: PacemakerConfig, options: PlanOptions = {}): ApplyPlan {
  const root = parseXml(liveText, SOURCE);
  if (root.name !== 'cib') throw new ParseError(`root element <${root.name}>, expected <cib>`, { source: SOURCE });
  const version = cibVersionOf(root);
  const configuration = childNamed(root, 'configuration');
  if (configuration === undefined) throw new ParseError('<cib> has no <configuration>', { source: SOURCE });
  const crmConfig = section(configuration, 'crm_config');
  const resources = section(configuration, 'resources');
  const constraints = section(configuration, 'constraints');
  const wanted = childNamed(parseXml(renderCib(config), 'the generated CIB'), 'configuration') as XmlElement;
  const prune = options.prune === true;
  const { set: recordSet, entries: record } = recordOf(crmConfig);

  const resourcePlan = planSection('resource', resources, section(wanted, 'resources').children, record, prune);
  const constraintPlan = planSection('constraint', constraints, section(wanted, 'constraints').children, record, prune);
  const propertyPlan = planProperties(crmConfig, config.properties, record, prune);
  const liveStonith = childrenNamed(crmConfig, 'cluster_property_set')
    .flatMap((s) => childrenNamed(s, 'nvpair'))
    .find((p) => p.attributes.name === 'stonith-enabled')?.attributes.value;
  assertSafeToApply(configuration, config, [resourcePlan, constraintPlan], resources, constraints, liveStonith);

  const changes = [...propertyPlan.changes, ...resourcePlan.changes, ...constraintPlan.changes];
  const stale = [...propertyPlan.stale, ...resourcePlan.stale, ...constraintPlan.stale];
  const patch = [...propertyPlan.patch, ...resourcePlan.patch, ...constraintPlan.patch];

  // The record: what hastor owns now, plus the stale objects it keeps.
  const owned = [
    ...Object.keys(config.properties).map((n) => entry('property', n)),
    ...section(wanted, 'resources').children.map((c) => entry('resource', c.attributes.id as string)),
    ...section(wanted, 'constraints').children.map((c) => entry('constraint', c.attributes.id as string)),
    ...stale.filter((s) => !s.deleted).map((s) => entry(s.kind, s.id)),
  ];
  const sets = propertyPlan.newSet === null ? [] : [propertyPlan.newSet];
  const replaceRecord = new Map<string, XmlElement>();
  if (owned.length !== record.size || owned.some((e) => !record.has(e))) {
    const value = owned.join(' ');
    const set = el('cluster_property_set', { id: APPLIED_SET_ID }, [el('nvpair', { id: APPLIED_NAME, name: APPLIED_NAME, value })]);
    if (recordSet === undefined) sets.push(set);
    else replaceRecord.set(APPLIED_SET_ID, set);
    const before = recordSet === undefined ? null : [...record].join(' ');
    changes.push({ action: recordSet === undefined ? 'add' : 'replace', kind: 'record', id: APPLIED_SET_ID, element: 'cluster_property_set', attributes: [{ name: APPLIED_NAME, before, after: value }] });
  }
  patch.push(...parentChanges('/cib/configuration/crm_config', crmConfig, { append: sets, replace: replaceRecord }));

  const target = { ...version, epoch: version.epoch + 1, numUpdates: 0 };
  const versionXml = (tag: string, v: CibVersion) => `    <${tag}${xmlAttributes({ admin_epoch: String(v.adminEpoch), epoch: String(v.epoch), num_updates: String(v.numUpdates) })}/>`;
  return {
    version,
    changes,
    stale,
    foreign: [...resourcePlan.foreign, ...constraintPlan.foreign],
    patch:
      patch.length === 0
        ? null
        : ['<diff format="2">', '  <version>', versionXml('source', version), versionXml('target', target), '  </version>', ...patch.map((p) => p.xml), '</diff>', ''].join('\n'),
  };
}
