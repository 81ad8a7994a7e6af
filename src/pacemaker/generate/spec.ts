/**
 * The cluster manager's configuration as plain data: nodes, cluster
 * properties, primitives (stonith devices are primitives of class `stonith`),
 * clones, groups and constraints. DRBD- and LVM-agnostic: builders fill it,
 * renderers turn it into CIB XML, a crm shell script or pcs commands, and the
 * safety checker reads it. The shapes follow the CIB's own elements so that a
 * parsed CIB maps onto them one to one.
 *
 * Names that reach XML ids or argv are validated here first: ids are XML
 * NCNames as Pacemaker's schema wants them (a letter or `_` first, then
 * letters, digits, `_`, `.`, `-`), parameter names are words, values have no
 * control characters.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';

export const PCMK_ID_MAX = 100;
const ID_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const NODE_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const SCORE_RE = /^(?:[-+]?INFINITY|[-+]?\d{1,10})$/;
const INTERVAL_RE = /^\d{1,7}(?:ms|s|m|min|h)?$/;

export function isValidPacemakerId(id: string): boolean {
  return id.length >= 1 && id.length <= PCMK_ID_MAX && ID_RE.test(id);
}

export function isValidPacemakerNodeName(name: string): boolean {
  return name.length >= 1 && name.length <= 64 && NODE_RE.test(name);
}

export const pacemakerIdSchema = z.string().refine(isValidPacemakerId, {
  error: (issue) => `${JSON.stringify(issue.input)} is not a Pacemaker id: 1..${PCMK_ID_MAX} characters of [A-Za-z0-9_.-], starting with a letter or "_"`,
});
const nodeNameSchema = z.string().refine(isValidPacemakerNodeName, {
  error: (issue) => `${JSON.stringify(issue.input)} is not a node name (host-name characters, as uname -n prints it)`,
});
const nameSchema = z.string().max(PCMK_ID_MAX).regex(NAME_RE, 'a name of [A-Za-z0-9_.-], starting with a letter or "_"');
const valueSchema = z
  .string()
  .max(1024, 'at most 1024 characters')
  .refine((v) => !CONTROL_RE.test(v), 'no control characters or newlines');
const nvSchema = z.record(nameSchema, valueSchema);
const scoreSchema = z.string().regex(SCORE_RE, 'a score: INFINITY, -INFINITY or a whole number');
const intervalSchema = z.string().regex(INTERVAL_RE, 'a duration such as 0, 10s, 90s or 2min');

export const PCMK_ROLES = ['Promoted', 'Unpromoted', 'Started', 'Stopped'] as const;
export type PcmkRole = (typeof PCMK_ROLES)[number];
export const PCMK_ACTIONS = ['start', 'stop', 'promote', 'demote'] as const;
export type PcmkAction = (typeof PCMK_ACTIONS)[number];
export const RESOURCE_CLASSES = ['ocf', 'systemd', 'lsb', 'service', 'stonith'] as const;
export type ResourceClass = (typeof RESOURCE_CLASSES)[number];

const opSchema = z.strictObject({
  name: z.enum(['monitor', 'start', 'stop', 'promote', 'demote', 'notify', 'migrate_to', 'migrate_from', 'reload']),
  interval: intervalSchema,
  timeout: intervalSchema.optional(),
  role: z.enum(['Promoted', 'Unpromoted']).optional(),
});

const primitiveSchema = z
  .strictObject({
    id: pacemakerIdSchema,
    class: z.enum(RESOURCE_CLASSES),
    provider: nameSchema.optional(),
    /** The agent: `drbd`, `Filesystem`, a systemd unit name, `fence_ipmilan`. */
    type: z.string().min(1).max(PCMK_ID_MAX).regex(/^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/, 'an agent or unit name'),
    params: nvSchema,
    meta: nvSchema,
    ops: z.array(opSchema),
  })
  .superRefine((p, ctx) => {
    if ((p.class === 'ocf') !== (p.provider !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'an ocf resource needs a provider; other classes have none', path: ['provider'] });
    }
  });

const cloneSchema = z.strictObject({ id: pacemakerIdSchema, child: pacemakerIdSchema, meta: nvSchema });
const groupSchema = z.strictObject({ id: pacemakerIdSchema, members: z.array(pacemakerIdSchema).min(1), meta: nvSchema });

const locationSchema = z.strictObject({ id: pacemakerIdSchema, rsc: pacemakerIdSchema, node: nodeNameSchema, score: scoreSchema });
const colocationSchema = z.strictObject({
  id: pacemakerIdSchema,
  rsc: pacemakerIdSchema,
  withRsc: pacemakerIdSchema,
  rscRole: z.enum(PCMK_ROLES).optional(),
  withRscRole: z.enum(PCMK_ROLES).optional(),
  score: scoreSchema,
});
const orderSchema = z.strictObject({
  id: pacemakerIdSchema,
  first: pacemakerIdSchema,
  firstAction: z.enum(PCMK_ACTIONS).optional(),
  then: pacemakerIdSchema,
  thenAction: z.enum(PCMK_ACTIONS).optional(),
  kind: z.enum(['Mandatory', 'Optional', 'Serialize']).optional(),
});

export const pacemakerConfigSchema = z.strictObject({
  nodes: z.array(z.strictObject({ name: nodeNameSchema })).min(1),
  /** cib-bootstrap-options: `stonith-enabled`, `priority-fencing-delay`, … */
  properties: nvSchema,
  primitives: z.array(primitiveSchema),
  clones: z.array(cloneSchema),
  groups: z.array(groupSchema),
  constraints: z.strictObject({
    locations: z.array(locationSchema),
    colocations: z.array(colocationSchema),
    orders: z.array(orderSchema),
  }),
});

export type PcmkOp = z.infer<typeof opSchema>;
export type PcmkPrimitive = z.infer<typeof primitiveSchema>;
export type PcmkClone = z.infer<typeof cloneSchema>;
export type PcmkGroup = z.infer<typeof groupSchema>;
export type PcmkLocation = z.infer<typeof locationSchema>;
export type PcmkColocation = z.infer<typeof colocationSchema>;
export type PcmkOrder = z.infer<typeof orderSchema>;
export type PacemakerConfig = z.infer<typeof pacemakerConfigSchema>;

const where = (path: readonly PropertyKey[]): string => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(config)';

/**
 * Checks every name and value, and that every id is defined once and every
 * reference names a defined resource. Returns the config; a ConfigError
 * lists every problem.
 */
export function validatePacemakerConfig(input: unknown): PacemakerConfig {
  const result = pacemakerConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      'invalid Pacemaker configuration',
      result.error.issues.map((i) => `${where(i.path)}: ${i.message}`),
    );
  }
  const config = result.data;
  const issues: string[] = [];
  const ids = new Map<string, string>();
  const define = (id: string, what: string): void => {
    const first = ids.get(id);
    if (first !== undefined) issues.push(`id ${id} is used by ${first} and by ${what}; ids are unique in a CIB`);
    else ids.set(id, what);
  };
  for (const p of config.primitives) define(p.id, `primitive ${p.id}`);
  for (const g of config.groups) define(g.id, `group ${g.id}`);
  for (const c of config.clones) define(c.id, `clone ${c.id}`);
  const resources = new Set(ids.keys());
  const constraints = [...config.constraints.locations, ...config.constraints.colocations, ...config.constraints.orders];
  for (const c of constraints) define(c.id, `constraint ${c.id}`);

  const primitiveIds = new Set(config.primitives.map((p) => p.id));
  const groupIds = new Set(config.groups.map((g) => g.id));
  const contained = new Map<string, string>();
  const contain = (child: string, parent: string): void => {
    const first = contained.get(child);
    if (first !== undefined) issues.push(`${child} is in ${first} and in ${parent}; a resource has one parent`);
    else contained.set(child, parent);
  };
  for (const g of config.groups) {
    for (const m of g.members) {
      if (!primitiveIds.has(m)) issues.push(`group ${g.id}: member ${m} is not a primitive`);
      else contain(m, g.id);
    }
  }
  for (const c of config.clones) {
    if (!primitiveIds.has(c.child) && !groupIds.has(c.child)) issues.push(`clone ${c.id}: child ${c.child} is not a primitive or group`);
    else contain(c.child, c.id);
  }
  const ref = (id: string, what: string): void => {
    if (!resources.has(id)) issues.push(`${what} names ${id}, which is not a resource of this configuration`);
  };
  for (const l of config.constraints.locations) ref(l.rsc, `location ${l.id}`);
  for (const c of config.constraints.colocations) {
    ref(c.rsc, `colocation ${c.id}`);
    ref(c.withRsc, `colocation ${c.id}`);
  }
  for (const o of config.constraints.orders) {
    ref(o.first, `order ${o.id}`);
    ref(o.then, `order ${o.id}`);
  }
  const nodes = new Set<string>();
  for (const n of config.nodes) {
    if (nodes.has(n.name)) issues.push(`node ${n.name} is listed twice`);
    nodes.add(n.name);
  }
  for (const l of config.constraints.locations) if (!nodes.has(l.node)) issues.push(`location ${l.id} names node ${l.node}, which is not a node`);
  if (issues.length > 0) throw new ConfigError('invalid Pacemaker configuration', issues);
  return config;
}

/** `ocf:heartbeat:IPaddr2`, `systemd:mariadb`, `stonith:fence_ipmilan`. */
export function agentName(p: Pick<PcmkPrimitive, 'class' | 'provider' | 'type'>): string {
  return p.provider === undefined ? `${p.class}:${p.type}` : `${p.class}:${p.provider}:${p.type}`;
}

/** Splits `ocf:heartbeat:mysql` / `systemd:mariadb` / `mysql` (ocf:heartbeat) into class, provider, type. */
export function parseAgentName(agent: string): Pick<PcmkPrimitive, 'class' | 'provider' | 'type'> {
  const parts = agent.split(':');
  const [a, b, c] = parts;
  if (parts.length === 3 && a === 'ocf' && b !== undefined && c !== undefined) return { class: 'ocf', provider: b, type: c };
  if (parts.length === 2 && a !== undefined && b !== undefined && (RESOURCE_CLASSES as readonly string[]).includes(a) && a !== 'ocf') {
    return { class: a as ResourceClass, type: b };
  }
  throw new ConfigError(`cannot read agent name ${JSON.stringify(agent)}`, [
    'give ocf:PROVIDER:TYPE (e.g. ocf:heartbeat:mysql), systemd:UNIT, lsb:SCRIPT, service:NAME or stonith:AGENT',
  ]);
}
