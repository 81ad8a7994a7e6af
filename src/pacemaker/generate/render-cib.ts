/**
 * A configuration as a full CIB document (`<cib>` with `<configuration>` and
 * an empty `<status>`) that `crm_verify -x` and `cibadmin --replace` accept.
 * Ids of nested elements are derived from their owner's id the way pcs
 * derives them (`<rsc>-instance_attributes-<name>`, `<rsc>-monitor-interval-10s`),
 * so the same spec always gives the same document.
 */
import { validatePacemakerConfig, type PacemakerConfig, type PcmkOp, type PcmkPrimitive } from './spec.js';
import { xmlAttributes } from './xml-escape.js';

/** The schema Pacemaker 2.1.5 validates a new CIB with (`cibadmin --empty` on 2.1.5). */
export const CIB_VALIDATE_WITH = 'pacemaker-3.9';

export interface RenderCibOptions {
  /** Default CIB_VALIDATE_WITH. */
  validateWith?: string;
  /** The CIB's epoch (default 1). */
  epoch?: number;
}

const tag = (name: string, attributes: Record<string, string | undefined>, children?: string[], indent = ''): string[] => {
  if (children === undefined || children.length === 0) return [`${indent}<${name}${xmlAttributes(attributes)}/>`];
  return [`${indent}<${name}${xmlAttributes(attributes)}>`, ...children, `${indent}</${name}>`];
};

function nvset(kind: 'instance_attributes' | 'meta_attributes', owner: string, values: Record<string, string>, indent: string): string[] {
  const entries = Object.entries(values);
  if (entries.length === 0) return [];
  const id = `${owner}-${kind}`;
  return tag(
    kind,
    { id },
    entries.flatMap(([name, value]) => tag('nvpair', { id: `${id}-${name}`, name, value }, undefined, `${indent}  `)),
    indent,
  );
}

/** `drbd-r0-monitor-interval-10s`; a role is added only when two ops would otherwise share an id. */
export function opIds(rsc: string, ops: readonly PcmkOp[]): string[] {
  const base = ops.map((o) => `${rsc}-${o.name}-interval-${o.interval}`);
  return base.map((id, i) => {
    const op = ops[i] as PcmkOp;
    return base.indexOf(id) !== base.lastIndexOf(id) && op.role !== undefined ? `${id}-${op.role.toLowerCase()}` : id;
  });
}

function primitiveXml(p: PcmkPrimitive, indent: string): string[] {
  const inner = `${indent}  `;
  const ids = opIds(p.id, p.ops);
  const ops = p.ops.map((o, i) => tag('op', { id: ids[i], name: o.name, interval: o.interval, timeout: o.timeout, role: o.role }, undefined, `${inner}  `).join(''));
  return tag(
    'primitive',
    { id: p.id, class: p.class, provider: p.provider, type: p.type },
    [
      ...nvset('instance_attributes', p.id, p.params, inner),
      ...nvset('meta_attributes', p.id, p.meta, inner),
      ...(ops.length === 0 ? [] : [`${inner}<operations>`, ...ops, `${inner}</operations>`]),
    ],
    indent,
  );
}

/** The resources section's children: top-level primitives, groups and clones, children inside their parents. */
function resourcesXml(config: PacemakerConfig, indent: string): string[] {
  const primitives = new Map(config.primitives.map((p) => [p.id, p]));
  const groups = new Map(config.groups.map((g) => [g.id, g]));
  const nested = new Set([...config.groups.flatMap((g) => g.members), ...config.clones.map((c) => c.child)]);
  const groupXml = (id: string, ind: string): string[] => {
    const g = groups.get(id);
    if (g === undefined) return [];
    return tag(
      'group',
      { id: g.id },
      [...nvset('meta_attributes', g.id, g.meta, `${ind}  `), ...g.members.flatMap((m) => primitiveXml(primitives.get(m) as PcmkPrimitive, `${ind}  `))],
      ind,
    );
  };
  const child = (id: string, ind: string): string[] => (groups.has(id) ? groupXml(id, ind) : primitiveXml(primitives.get(id) as PcmkPrimitive, ind));
  const out: string[] = [];
  // Document order: the spec's order of primitives, a container where its first top-level member would be.
  const placed = new Set<string>();
  const topOf = (id: string): string => {
    const clone = config.clones.find((c) => c.child === id);
    if (clone !== undefined) return clone.id;
    const group = config.groups.find((g) => g.members.includes(id));
    return group === undefined ? id : topOf(group.id);
  };
  for (const p of config.primitives) {
    const top = topOf(p.id);
    if (placed.has(top)) continue;
    placed.add(top);
    const clone = config.clones.find((c) => c.id === top);
    if (clone !== undefined) {
      out.push(...tag('clone', { id: clone.id }, [...nvset('meta_attributes', clone.id, clone.meta, `${indent}  `), ...child(clone.child, `${indent}  `)], indent));
    } else if (groups.has(top)) out.push(...groupXml(top, indent));
    else if (!nested.has(top)) out.push(...primitiveXml(p, indent));
  }
  return out;
}

function constraintsXml(config: PacemakerConfig, indent: string): string[] {
  const c = config.constraints;
  return [
    ...c.locations.map((l) => `${indent}<rsc_location${xmlAttributes({ id: l.id, rsc: l.rsc, node: l.node, score: l.score })}/>`),
    ...c.colocations.map(
      (x) =>
        `${indent}<rsc_colocation${xmlAttributes({ id: x.id, rsc: x.rsc, 'rsc-role': x.rscRole, 'with-rsc': x.withRsc, 'with-rsc-role': x.withRscRole, score: x.score })}/>`,
    ),
    ...c.orders.map(
      (o) =>
        `${indent}<rsc_order${xmlAttributes({ id: o.id, first: o.first, 'first-action': o.firstAction, then: o.then, 'then-action': o.thenAction, kind: o.kind })}/>`,
    ),
  ];
}

/**
 * The CIB document. The nodes section stays empty: Pacemaker fills it from
 * corosync's membership with corosync's node ids (a node written here with
 * no status would also count as unclean to crm_verify).
 */
export function renderCib(input: PacemakerConfig, options: RenderCibOptions = {}): string {
  const config = validatePacemakerConfig(input);
  const props = Object.entries(config.properties);
  const lines = [
    `<cib${xmlAttributes({ 'validate-with': options.validateWith ?? CIB_VALIDATE_WITH, admin_epoch: '0', epoch: String(options.epoch ?? 1), num_updates: '0' })}>`,
    '  <configuration>',
    '    <crm_config>',
    ...tag(
      'cluster_property_set',
      { id: 'cib-bootstrap-options' },
      props.map(([name, value]) => `        <nvpair${xmlAttributes({ id: `cib-bootstrap-options-${name}`, name, value })}/>`),
      '      ',
    ),
    '    </crm_config>',
    // Pacemaker adds each node with corosync's node id when it joins; ids written here could disagree.
    '    <nodes/>',
    '    <resources>',
    ...resourcesXml(config, '      '),
    '    </resources>',
    '    <constraints>',
    ...constraintsXml(config, '      '),
    '    </constraints>',
    '  </configuration>',
    '  <status/>',
    '</cib>',
  ];
  return `${lines.join('\n')}\n`;
}
