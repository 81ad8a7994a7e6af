/**
 * A DRBD resource definition: the zod schema, its types, and
 * `parseResourceDefinition`, which returns the normalized definition or
 * throws one `ConfigError` listing every problem found.
 *
 * Limits and their sources:
 * - resource name: at most 127 characters (the kernel's `ctx_resource_name`
 *   is 128 bytes with the NUL; drbdadm 9.22's scanner stops at 128), from
 *   `[A-Za-z0-9_.+-]`, not starting with `-`, not `all` (drbdadm's word for
 *   every resource);
 * - host names as `uname -n` prints them: at most 64 characters (utsname);
 * - device paths: at most 127 characters (`backing_dev`/`meta_dev` are 128
 *   bytes with the NUL in drbd_genl.h);
 * - minors 0..2^20-1, volumes up to 65535 (8.4) / 65534 (9), node ids 0..31
 *   (DRBD_PEERS_MAX is 32), ports 1..65535 (drbd_limits.h).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { PROTOCOLS, type Protocol } from '../states.js';
import {
  DISK_OPTIONS,
  DRBD_TARGETS,
  FENCING_POLICIES,
  HANDLERS,
  NET_OPTIONS,
  PEER_DEVICE_OPTIONS,
  RESOURCE_OPTIONS,
  STARTUP_OPTIONS,
  availableOn,
  type CountSpec,
  type DiskOptions,
  type DrbdTarget,
  type EnumSpec,
  type FencingPolicy,
  type Handlers,
  type NetOptions,
  type NumberSpec,
  type OptionSpec,
  type PeerDeviceOptions,
  type ResourceOptions,
  type SectionTable,
  type StartupOptions,
  type StringSpec,
} from './options.js';
import { parseDrbdNumber } from './units.js';
import { appendAll } from '../../arrays.js';

export const RESOURCE_NAME_MAX = 127;
export const HOST_NAME_MAX = 64;
export const DEVICE_PATH_MAX = 127;
export const MINOR_MAX = (1 << 20) - 1;
export const VOLUME_MAX: Readonly<Record<DrbdTarget, number>> = { '8.4': 65535, '9': 65534 };
export const NODE_ID_MAX = 31;

const RESOURCE_NAME_RE = /^[A-Za-z0-9_.+][A-Za-z0-9_.+-]*$/;
const HOST_NAME_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
/** Device paths: absolute, printable, no shell or drbd.conf metacharacters. */
const DEVICE_PATH_RE = /^(?:\/[A-Za-z0-9_.+,:@=%~-]+)+$/;
/** Keywords of options kept verbatim in `extra`. */
const KEYWORD_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

export const ADDRESS_FAMILIES = ['ipv4', 'ipv6', 'ssocks', 'sdp', 'sci'] as const;
export type AddressFamily = (typeof ADDRESS_FAMILIES)[number];

export interface Address {
  family: AddressFamily;
  /** IPv4 notation for every family but ipv6. */
  ip: string;
  port: number;
}

export type MetaDisk = 'internal' | { device: string; index?: number };

export interface VolumeDefinition {
  /** Volume number; groups the devices of one replicated disk across nodes. */
  volume: number;
  minor: number;
  /** Device node; drbdadm's default is /dev/drbd<minor>. */
  device?: string;
  /** Backing block device, or `none` for a diskless DRBD 9 client. */
  disk: string;
  /** Required unless `disk` is `none`. */
  metaDisk?: MetaDisk;
  /** A `disk { }` section inside this volume. */
  diskOptions?: DiskOptions;
}

export interface NodeDefinition {
  /** As `uname -n` prints it on that node. */
  name: string;
  /** DRBD 9 only, required there. */
  nodeId?: number;
  /** Required for 8.4; DRBD 9 connections may carry the addresses instead. */
  address?: Address;
  volumes: VolumeDefinition[];
}

export interface ConnectionEndpoint {
  /** A node's name (drbdadm also accepts the part before the first dot). */
  host: string;
  /** Replaces the node's address on this connection. */
  address?: Address;
  /** Replaces only the node's port on this connection. */
  port?: number;
}

export interface ConnectionOverrides {
  protocol?: Protocol;
  fencing?: FencingPolicy;
  net?: NetOptions;
}

/** DRBD 9 `connection-mesh`: full mesh among `hosts`, each using its node address. */
export interface ConnectionMesh extends ConnectionOverrides {
  hosts: string[];
}

/**
 * DRBD 9 `connection`: exactly two endpoints, or several `path`s of two
 * endpoints. No name: drbdadm 9.22 ignores connection names ("explicitly
 * named connections are deprecated").
 */
export interface ConnectionDefinition extends ConnectionOverrides {
  hosts?: [ConnectionEndpoint, ConnectionEndpoint];
  paths?: [ConnectionEndpoint, ConnectionEndpoint][];
  disk?: PeerDeviceOptions;
  volumes?: { volume: number; disk: PeerDeviceOptions }[];
}

export interface ResourceDefinition {
  name: string;
  /** Which drbdadm grammar to render: DRBD 8.4 or DRBD 9. */
  target: DrbdTarget;
  /** Replication protocol; unset leaves DRBD's default (C) or a `common` section's. */
  protocol?: Protocol;
  nodes: NodeDefinition[];
  /** DRBD 9; defaults to a mesh of all nodes when no `connections` are given. */
  connectionMesh?: ConnectionMesh;
  connections?: ConnectionDefinition[];
  net: NetOptions;
  disk: DiskOptions;
  options: ResourceOptions;
  startup: StartupOptions;
  handlers: Handlers;
}

/** Numbers may be given in DRBD's unit syntax (`'200M'`); addresses as `'ipv6 [fd00::1]:7789'`. */
type Loose<T> = T extends number
  ? number | string
  : T extends (infer U)[]
    ? Loose<U>[]
    : T extends Address
      ? Address | { family?: AddressFamily; ip: string; port: number | string } | string
      : T extends object
        ? { [K in keyof T]: Loose<T[K]> }
        : T;
export type ResourceDefinitionInput = Omit<Loose<ResourceDefinition>, 'net' | 'disk' | 'options' | 'startup' | 'handlers'> &
  Partial<Pick<Loose<ResourceDefinition>, 'net' | 'disk' | 'options' | 'startup' | 'handlers'>>;

// ---------------------------------------------------------------------------
// Field schemas

// Guards for code that sees values before (or despite) validation.
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

export function isValidResourceName(name: string): boolean {
  return name.length <= RESOURCE_NAME_MAX && RESOURCE_NAME_RE.test(name) && name !== 'all' && !/^\.+$/.test(name);
}

export function isValidHostName(name: string): boolean {
  return name.length <= HOST_NAME_MAX && HOST_NAME_RE.test(name);
}

export function isValidDevicePath(path: string): boolean {
  return path.length <= DEVICE_PATH_MAX && DEVICE_PATH_RE.test(path) && !path.split('/').some((s) => s === '.' || s === '..');
}

const resourceNameSchema = z
  .string()
  .refine(isValidResourceName, {
    error: (issue) =>
      `resource name ${JSON.stringify(issue.input)} must be 1..${RESOURCE_NAME_MAX} characters of [A-Za-z0-9_.+-], not start with "-", and not be "all" or only dots`,
  });

const hostNameSchema = z.string().refine(isValidHostName, {
  error: (issue) =>
    `host name ${JSON.stringify(issue.input)} must be 1..${HOST_NAME_MAX} characters of [A-Za-z0-9_.-] as uname -n prints it, starting and ending with a letter, digit or "_"`,
});

const devicePathSchema = z.string().refine(isValidDevicePath, {
  error: (issue) =>
    `${JSON.stringify(issue.input)} must be an absolute device path of at most ${DEVICE_PATH_MAX} characters from [A-Za-z0-9_.+,:@=%~/-] without "." or ".." components`,
});

const intSchema = (min: number, max: number, what: string) =>
  z.unknown().transform((v, ctx) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${what} must be a whole number in ${min}..${max}, not ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

const portSchema = intSchema(1, 65535, 'port');

const ADDRESS_TEXT_RE = /^(?:(ipv4|ipv6|ssocks|sdp|sci)\s+)?(?:\[([^\]]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

function addressIssue(family: string, ip: string): string | undefined {
  if (family === 'ipv6') return isIPv6(ip) ? undefined : `${JSON.stringify(ip)} is not an IPv6 address`;
  return isIPv4(ip) ? undefined : `${JSON.stringify(ip)} is not an IPv4 address (family ${family} uses IPv4 notation)`;
}

const addressSchema = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const m = ADDRESS_TEXT_RE.exec(v.trim());
    if (!m) return v;
    const ip = m[2] ?? m[3];
    return { family: m[1] ?? (m[2] !== undefined ? 'ipv6' : 'ipv4'), ip, port: m[4] };
  },
  z
    .strictObject(
      {
        family: z.enum(ADDRESS_FAMILIES).default('ipv4'),
        ip: z.string(),
        port: portSchema,
      },
      { error: 'address must be {family, ip, port} or text like "ipv4 10.0.0.1:7789" or "ipv6 [fd00::1]:7789"' },
    )
    .superRefine((a, ctx) => {
      const problem = addressIssue(a.family, a.ip);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: ['ip'] });
    }),
);

function optionSchema(spec: OptionSpec, target: DrbdTarget): z.ZodType {
  if (!availableOn(spec, target)) {
    return z.undefined({ error: `${spec.keyword} is not a DRBD ${target} option (only ${(spec.targets ?? []).join(', ')})` });
  }
  switch (spec.type) {
    case 'boolean':
      return z.boolean({ error: `${spec.keyword} must be true or false` });
    case 'enum':
      return enumSchema(spec, target);
    case 'number':
      return numberSchema(spec, target);
    case 'count':
      return countSchema(spec);
    case 'string':
      return stringSchema(spec);
  }
}

function enumSchema(spec: EnumSpec<string, string>, target: DrbdTarget): z.ZodType {
  const values = spec.values[target];
  const prefix = spec.hostPrefix;
  const words = prefix === undefined ? values.join(', ') : `${values.join(', ')}, ${prefix}<host>`;
  return z.string({ error: `${spec.keyword} must be one of ${words}` }).refine(
    (v) => values.includes(v) || (prefix !== undefined && v.startsWith(prefix) && isValidHostName(v.slice(prefix.length))),
    { error: (issue) => `${spec.keyword} ${JSON.stringify(issue.input)} is not one of ${words} (DRBD ${target})` },
  );
}

function numberSchema(spec: NumberSpec, target: DrbdTarget): z.ZodType {
  const range = spec.range[target];
  return z.unknown().transform((v, ctx) => {
    const n =
      typeof v === 'number' ? (Number.isSafeInteger(v) && v >= 0 ? v : undefined) : typeof v === 'string' ? parseDrbdNumber(v, spec.scale) : undefined;
    if (n === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${spec.keyword} must be a whole number of ${spec.unit}, or text with a K, M, G or s suffix such as "200M", not ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    if (n < range.min || n > range.max) {
      const shown = typeof v === 'string' && String(n) !== v ? `${v} (= ${n} ${spec.unit})` : `${n} ${spec.unit}`;
      ctx.addIssue({
        code: 'custom',
        message: `${spec.keyword} ${shown} is outside DRBD ${target}'s range ${range.min}..${range.max} ${spec.unit}`,
      });
      return z.NEVER;
    }
    return n;
  });
}

function countSchema(spec: CountSpec): z.ZodType {
  return z.union([z.enum(spec.symbols as [string, ...string[]]), z.number().int().min(spec.range.min).max(spec.range.max)], {
    error: `${spec.keyword} must be ${spec.symbols.join(', ')} or a node count ${spec.range.min}..${spec.range.max}`,
  });
}

function stringSchema(spec: StringSpec): z.ZodType {
  return z
    .string({ error: `${spec.keyword} must be a string` })
    .min(1, { error: `${spec.keyword} must not be empty` })
    .max(spec.maxLength, { error: `${spec.keyword} is longer than ${spec.maxLength} characters` })
    .refine((v) => !CONTROL_RE.test(v), { error: `${spec.keyword} must not contain control characters or newlines` });
}

/**
 * `extra`: keyword → raw value or `true`. Checked by hand rather than with
 * z.record, which would drop a "__proto__" key without a word.
 */
const extraSchema = z.unknown().transform((v, ctx): Record<string, string | true> => {
  if (!isRecord(v)) {
    ctx.addIssue({ code: 'custom', message: 'extra must be an object of keyword → value' });
    return z.NEVER;
  }
  const entries: [string, string | true][] = [];
  for (const [keyword, value] of Object.entries(v)) {
    if (!KEYWORD_RE.test(keyword)) {
      ctx.addIssue({ code: 'custom', message: 'extra option keywords are words like "max-io-depth"', path: [keyword] });
    }
    if (value !== true && (typeof value !== 'string' || value.length > 255 || CONTROL_RE.test(value))) {
      ctx.addIssue({
        code: 'custom',
        message: 'extra option values are strings (no control characters or newlines, at most 255), or true for a bare flag',
        path: [keyword],
      });
    }
    entries.push([keyword, value as string | true]);
  }
  return Object.fromEntries(entries);
});

function sectionSchema(table: SectionTable, target: DrbdTarget) {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, spec] of Object.entries(table)) shape[key] = optionSchema(spec, target).optional();
  const typedKeywords = new Map(Object.entries(table).map(([key, spec]) => [spec.keyword, key]));
  return z
    .strictObject({ ...shape, extra: extraSchema.optional() })
    .superRefine(
      (section: unknown, ctx) => {
        const extra = isRecord(section) && isRecord(section.extra) ? section.extra : {};
        for (const keyword of Object.keys(extra)) {
          const key = typedKeywords.get(keyword);
          if (key !== undefined) {
            ctx.addIssue({ code: 'custom', message: `${keyword} is typed: set ${key} instead of extra`, path: ['extra', keyword] });
          }
        }
      },
      { when: () => true },
    )
    .transform((section) => {
      const out: Record<string, unknown> = { ...section };
      if (out.extra !== undefined && Object.keys(out.extra as object).length === 0) delete out.extra;
      return out;
    });
}

/** The protocol and fencing a connection section may set, plus its net options. */
function overrideShape(target: DrbdTarget) {
  return {
    protocol: z.enum(PROTOCOLS).optional(),
    fencing: z.enum(FENCING_POLICIES).optional(),
    net: sectionSchema(NET_OPTIONS, target).optional(),
  };
}

const metaDiskDeviceSchema = z.strictObject({
  device: devicePathSchema,
  index: intSchema(0, 0x7fffffff, 'meta-disk index').optional(),
});
// A union would hide the object's own issues behind one "no branch matched".
const metaDiskSchema = z.unknown().transform((v, ctx): MetaDisk => {
  if (v === 'internal') return 'internal';
  if (!isRecord(v)) {
    ctx.addIssue({ code: 'custom', message: 'metaDisk must be "internal" or {device, index?}' });
    return z.NEVER;
  }
  const r = metaDiskDeviceSchema.safeParse(v);
  if (!r.success) {
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path as PropertyKey[] });
    return z.NEVER;
  }
  return r.data as MetaDisk;
});

function volumeSchema(target: DrbdTarget) {
  return z
    .strictObject({
      volume: intSchema(0, VOLUME_MAX[target], 'volume number'),
      minor: intSchema(0, MINOR_MAX, 'minor'),
      device: devicePathSchema.optional(),
      disk: z.union([z.literal('none'), devicePathSchema], { error: 'disk must be a device path or "none"' }),
      metaDisk: metaDiskSchema.optional(),
      diskOptions: sectionSchema(DISK_OPTIONS, target).optional(),
    })
    .superRefine((v, ctx) => {
      if (v.disk === 'none') {
        if (target === '8.4') ctx.addIssue({ code: 'custom', message: 'disk "none" (diskless) needs DRBD 9', path: ['disk'] });
      } else if (v.metaDisk === undefined) {
        ctx.addIssue({ code: 'custom', message: 'metaDisk is required with a backing disk ("internal" or {device, index?})', path: ['metaDisk'] });
      }
      const m = v.device === undefined ? null : /^\/dev\/drbd(\d+)$/.exec(v.device);
      if (m && Number(m[1]) !== v.minor) {
        ctx.addIssue({ code: 'custom', message: `device ${v.device} names minor ${m[1]} but minor is ${v.minor}`, path: ['device'] });
      }
    })
    .transform((v) => {
      // A diskless volume has no meta data; drop what the schema would otherwise carry around.
      if (v.disk === 'none') {
        const { metaDisk: _dropped, ...rest } = v;
        return rest;
      }
      return v;
    });
}

function nodeSchema(target: DrbdTarget) {
  return z.strictObject({
    name: hostNameSchema,
    nodeId: intSchema(0, NODE_ID_MAX, 'node-id').optional(),
    address: addressSchema.optional(),
    volumes: z
      .array(volumeSchema(target))
      .min(1, { error: 'a node needs at least one volume' })
      .transform((vs) => [...vs].sort((a, b) => (a.volume as number) - (b.volume as number))),
  });
}

const endpointSchema = z.strictObject({
  host: hostNameSchema,
  address: addressSchema.optional(),
  port: portSchema.optional(),
});
const endpointPair = z.tuple([endpointSchema, endpointSchema]);

function connectionSchema(target: DrbdTarget) {
  return z.strictObject({
    hosts: endpointPair.optional(),
    paths: z.array(endpointPair).min(1).optional(),
    ...overrideShape(target),
    disk: sectionSchema(PEER_DEVICE_OPTIONS, target).optional(),
    volumes: z
      .array(z.strictObject({ volume: intSchema(0, VOLUME_MAX[target], 'volume number'), disk: sectionSchema(PEER_DEVICE_OPTIONS, target) }))
      .optional(),
  });
}

function meshSchema(target: DrbdTarget) {
  return z.strictObject({ hosts: z.array(hostNameSchema).min(2, { error: 'a connection mesh needs at least two hosts' }), ...overrideShape(target) });
}

function resourceSchema(target: DrbdTarget) {
  return z
    .strictObject({
      name: resourceNameSchema,
      target: z.literal(target),
      protocol: z.enum(PROTOCOLS, { error: 'protocol must be A, B or C' }).optional(),
      nodes: z.array(nodeSchema(target)),
      connectionMesh: meshSchema(target).optional(),
      connections: z.array(connectionSchema(target)).optional(),
      net: sectionSchema(NET_OPTIONS, target).default({}),
      disk: sectionSchema(DISK_OPTIONS, target).default({}),
      options: sectionSchema(RESOURCE_OPTIONS, target).default({}),
      startup: sectionSchema(STARTUP_OPTIONS, target).default({}),
      handlers: sectionSchema(HANDLERS, target).default({}),
    })
    .superRefine((value, ctx) => checkResource(value, ctx, target), { when: () => true })
    .transform((value) => {
      const out = { ...value } as Record<string, unknown>;
      const nodes = value.nodes as { name: string }[];
      if (target === '9' && value.connectionMesh === undefined && value.connections === undefined && nodes.length >= 2) {
        out.connectionMesh = { hosts: nodes.map((n) => n.name) };
      }
      return out as unknown as ResourceDefinition;
    });
}

// ---------------------------------------------------------------------------
// Checks across fields. They run even when some field failed, so they only
// trust values they have checked the type of.

type Ctx = z.core.$RefinementCtx<unknown>;
type Path = (string | number)[];


function issue(ctx: Ctx, path: Path, message: string): void {
  ctx.addIssue({ code: 'custom', message, path });
}

/** drbdadm matches a connection's host name to an `on` section by full name or by the part before the first dot. */
export function matchesHost(nodeName: string, hostWord: string): boolean {
  return nodeName === hostWord || nodeName.split('.')[0] === hostWord;
}

function familyOf(a: unknown): string | undefined {
  return isRecord(a) ? (str(a.family) ?? 'ipv4') : undefined;
}

function addressKey(a: unknown): string | undefined {
  if (!isRecord(a)) return undefined;
  const ip = str(a.ip);
  const port = int(a.port);
  return ip === undefined || port === undefined ? undefined : `${str(a.family) ?? 'ipv4'} ${ip}:${port}`;
}

function checkResource(value: unknown, ctx: Ctx, target: DrbdTarget): void {
  if (!isRecord(value)) return;
  const nodes = asArray(value.nodes).filter(isRecord);
  const names = nodes.map((n) => str(n.name)).filter((n): n is string => n !== undefined);
  const resolve = (word: string): string | undefined => names.find((n) => matchesHost(n, word));

  if (target === '8.4' && nodes.length !== 2) issue(ctx, ['nodes'], `DRBD 8.4 replicates between exactly two nodes; got ${nodes.length}`);
  if (target === '9' && (nodes.length < 1 || nodes.length > NODE_ID_MAX + 1)) {
    issue(ctx, ['nodes'], `DRBD 9 needs 1..${NODE_ID_MAX + 1} nodes; got ${nodes.length}`);
  }

  const seenNames = new Map<string, number>();
  const seenIds = new Map<number, number>();
  const seenAddresses = new Map<string, number>();
  nodes.forEach((node, i) => {
    const name = str(node.name);
    if (name !== undefined) {
      const first = seenNames.get(name);
      if (first !== undefined) issue(ctx, ['nodes', i, 'name'], `node name ${name} is also nodes[${first}]`);
      else seenNames.set(name, i);
    }
    if (target === '9') {
      const id = int(node.nodeId);
      if (node.nodeId === undefined) issue(ctx, ['nodes', i, 'nodeId'], 'DRBD 9 needs a node-id on every node');
      else if (id !== undefined) {
        const first = seenIds.get(id);
        if (first !== undefined) issue(ctx, ['nodes', i, 'nodeId'], `node-id ${id} is also used by nodes[${first}]`);
        else seenIds.set(id, i);
      }
    } else {
      if (node.nodeId !== undefined) issue(ctx, ['nodes', i, 'nodeId'], 'node-id is DRBD 9 only');
      if (node.address === undefined) issue(ctx, ['nodes', i, 'address'], 'DRBD 8.4 needs an address on every node');
    }
    const key = addressKey(node.address);
    if (key !== undefined) {
      const first = seenAddresses.get(key);
      if (first !== undefined) issue(ctx, ['nodes', i, 'address'], `address ${key} is also used by nodes[${first}]`);
      else seenAddresses.set(key, i);
    }
    checkVolumes(node, i, ctx);
  });

  // Every node carries the same volume numbers: a volume is one replicated disk.
  const volumeSets = nodes.map((n) =>
    asArray(n.volumes)
      .filter(isRecord)
      .map((v) => int(v.volume))
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b)
      .join(','),
  );
  volumeSets.forEach((set, i) => {
    if (i > 0 && set !== volumeSets[0]) {
      issue(ctx, ['nodes', i, 'volumes'], `volumes [${set}] differ from nodes[0]'s [${volumeSets[0] ?? ''}]`);
    }
  });

  if (target === '8.4') {
    const [fa, fb] = nodes.map((n) => familyOf(n.address));
    if (fa !== undefined && fb !== undefined && fa !== fb) {
      issue(ctx, ['nodes', 1, 'address'], `address family ${fb} differs from nodes[0]'s ${fa}; both ends of a connection use one family`);
    }
    if (value.connectionMesh !== undefined) issue(ctx, ['connectionMesh'], 'connection-mesh is DRBD 9 only');
    if (value.connections !== undefined) issue(ctx, ['connections'], 'connection sections are DRBD 9 only');
  } else {
    checkConnections(value, nodes, resolve, ctx);
  }

  const startup = isRecord(value.startup) ? value.startup : {};
  const net = isRecord(value.net) ? value.net : {};
  const bpo = str(startup.becomePrimaryOn);
  if (bpo !== undefined) {
    if (bpo === 'both') {
      if (net.allowTwoPrimaries !== true) {
        issue(ctx, ['startup', 'becomePrimaryOn'], 'become-primary-on both needs net.allowTwoPrimaries (drbdadm refuses it otherwise)');
      }
    } else if (!names.includes(bpo)) {
      issue(ctx, ['startup', 'becomePrimaryOn'], `become-primary-on ${bpo} is not one of the nodes (${names.join(', ')}) or "both"`);
    }
  }
  const sb0 = str(net.afterSb0pri);
  if (sb0?.startsWith('discard-node-') === true && !names.includes(sb0.slice('discard-node-'.length))) {
    issue(ctx, ['net', 'afterSb0pri'], `${sb0} names no node of this resource`);
  }
}

function checkVolumes(node: Record<string, unknown>, i: number, ctx: Ctx): void {
  const numbers = new Set<number>();
  const minors = new Set<number>();
  const devices = new Set<string>();
  asArray(node.volumes).forEach((v, j) => {
    if (!isRecord(v)) return;
    const vnr = int(v.volume);
    const minor = int(v.minor);
    const device = str(v.device);
    if (vnr !== undefined) {
      if (numbers.has(vnr)) issue(ctx, ['nodes', i, 'volumes', j, 'volume'], `volume ${vnr} is defined twice on this node`);
      numbers.add(vnr);
    }
    if (minor !== undefined) {
      if (minors.has(minor)) issue(ctx, ['nodes', i, 'volumes', j, 'minor'], `minor ${minor} is used twice on this node`);
      minors.add(minor);
    }
    if (device !== undefined) {
      if (devices.has(device)) issue(ctx, ['nodes', i, 'volumes', j, 'device'], `device ${device} is used twice on this node`);
      devices.add(device);
    }
  });
}

function checkConnections(
  value: Record<string, unknown>,
  nodes: Record<string, unknown>[],
  resolve: (word: string) => string | undefined,
  ctx: Ctx,
): void {
  const addressOf = new Map(nodes.map((n) => [str(n.name), n.address]));
  const mesh = value.connectionMesh;
  if (isRecord(mesh)) {
    const seen = new Set<string>();
    asArray(mesh.hosts).forEach((h, j) => {
      const word = str(h);
      if (word === undefined) return;
      const node = resolve(word);
      if (node === undefined) issue(ctx, ['connectionMesh', 'hosts', j], `${word} is not one of the nodes`);
      else if (seen.has(node)) issue(ctx, ['connectionMesh', 'hosts', j], `${word} is listed twice`);
      else {
        seen.add(node);
        if (addressOf.get(node) === undefined) issue(ctx, ['connectionMesh', 'hosts', j], `${word} has no address for the mesh to use`);
      }
    });
    const families = new Set([...seen].map((n) => familyOf(addressOf.get(n))).filter((f) => f !== undefined));
    if (families.size > 1) issue(ctx, ['connectionMesh', 'hosts'], `the mesh mixes address families (${[...families].join(', ')}); every connection uses one`);
  }
  if (value.connections === undefined) return;
  if (mesh !== undefined) issue(ctx, ['connections'], 'use either connectionMesh or connections, not both');
  const pairs = new Map<string, number>();
  asArray(value.connections).forEach((c, i) => {
    if (!isRecord(c)) return;
    if ((c.hosts === undefined) === (c.paths === undefined)) {
      issue(ctx, ['connections', i], 'a connection needs either hosts (two endpoints) or paths, not both');
      return;
    }
    const endpointPairs: [unknown[], Path][] =
      c.hosts !== undefined ? [[asArray(c.hosts), ['connections', i, 'hosts']]] : asArray(c.paths).map((p, j) => [asArray(p), ['connections', i, 'paths', j]]);
    let pairKey: string | undefined;
    for (const [pair, path] of endpointPairs) {
      const resolved = pair.map((e, k) => {
        if (!isRecord(e)) return undefined;
        const word = str(e.host);
        if (word === undefined) return undefined;
        const node = resolve(word);
        if (node === undefined) issue(ctx, [...path, k, 'host'], `${word} is not one of the nodes`);
        else if (e.address === undefined && addressOf.get(node) === undefined) {
          issue(ctx, [...path, k], `${word} has no address here nor on its node`);
        }
        return node;
      });
      const [a, b] = resolved;
      const [fa, fb] = pair.map((e, k) => familyOf(isRecord(e) && e.address !== undefined ? e.address : addressOf.get(resolved[k])));
      if (fa !== undefined && fb !== undefined && fa !== fb) issue(ctx, path, `the two ends use different address families (${fa}, ${fb})`);
      if (a !== undefined && b !== undefined) {
        if (a === b) issue(ctx, path, `a connection joins two different nodes, not ${a} with itself`);
        const key = [a, b].sort().join(' ');
        if (pairKey !== undefined && pairKey !== key) issue(ctx, path, 'all paths of a connection join the same two nodes');
        pairKey = key;
      }
    }
    if (pairKey !== undefined) {
      const first = pairs.get(pairKey);
      if (first !== undefined) issue(ctx, ['connections', i], `${pairKey.replace(' ', ' and ')} are already connected by connections[${first}]`);
      else pairs.set(pairKey, i);
    }
  });
}

// ---------------------------------------------------------------------------
// Entry points

const schemas = new Map<DrbdTarget, z.ZodType<ResourceDefinition>>();

/** The schema for one target (the definition's `target` field picks it in `parseResourceDefinition`). */
export function resourceDefinitionSchema(target: DrbdTarget): z.ZodType<ResourceDefinition> {
  let schema = schemas.get(target);
  if (schema === undefined) {
    schema = resourceSchema(target) as unknown as z.ZodType<ResourceDefinition>;
    schemas.set(target, schema);
  }
  return schema;
}

/** `nodes[0].volumes[1].disk`, `net.extra["max-io-depth"]`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out === '' ? '(definition)' : out;
}

export type ValidationResult = { ok: true; value: ResourceDefinition } | { ok: false; issues: string[] };

/** Every problem of a definition, one line each (`path: message`), or the normalized definition. */
export function validateResourceDefinition(input: unknown): ValidationResult {
  const rawTarget = isRecord(input) ? input.target : undefined;
  const target = DRBD_TARGETS.find((t) => t === rawTarget);
  const issues: string[] = [];
  if (target === undefined) issues.push(`target: must be "8.4" or "9", not ${JSON.stringify(rawTarget) ?? 'undefined'}`);
  // Without a valid target the DRBD 9 rules (the wider ones) still find the other problems.
  const candidate = target === undefined && isRecord(input) ? { ...input, target: '9' } : input;
  const result = resourceDefinitionSchema(target ?? '9').safeParse(candidate);
  if (result.success && issues.length === 0) return { ok: true, value: result.data };
  if (!result.success) appendAll(issues, result.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`));
  return { ok: false, issues };
}

/** The normalized definition, or a `ConfigError` whose `issues` list every problem. */
export function parseResourceDefinition(input: ResourceDefinitionInput | unknown): ResourceDefinition {
  const result = validateResourceDefinition(input);
  if (result.ok) return result.value;
  const name = isRecord(input) && typeof input.name === 'string' ? ` ${JSON.stringify(input.name)}` : '';
  throw new ConfigError(
    `invalid DRBD resource definition${name}: ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}; fix them and try again`,
    result.issues,
  );
}
