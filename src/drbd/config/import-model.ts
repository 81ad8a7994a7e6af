/**
 * What both importers (`drbdadm dump` text and `drbdadm dump-xml`) read a
 * resource into before it becomes a `ResourceDefinition`, and the one step
 * that turns it into one: options mapped onto the typed tables (everything
 * else kept in `extra`), `common` merged under the resource, resource-level
 * volumes inherited by the hosts, connection endpoints that merely repeat a
 * node's address reduced to the host name, and the result validated by the
 * schema. Every failure is a ParseError naming the line it came from.
 */
import { ParseError } from '../../errors.js';
import { decodeOptionValue } from './option-codec.js';
import {
  DISK_OPTIONS,
  HANDLERS,
  NET_OPTIONS,
  PEER_DEVICE_OPTIONS,
  RESOURCE_OPTIONS,
  STARTUP_OPTIONS,
  type DrbdTarget,
  type SectionTable,
} from './options.js';
import { matchesHost, validateResourceDefinition, type ResourceDefinition } from './schema.js';

export interface RawOption {
  keyword: string;
  /** `true` for a bare flag (`allow-two-primaries;`, `<option name="x"/>`). */
  value: string | true;
  line: number;
}

export interface RawSections {
  net: RawOption[];
  disk: RawOption[];
  options: RawOption[];
  startup: RawOption[];
  handlers: RawOption[];
}

export const SECTION_NAMES = ['net', 'disk', 'options', 'startup', 'handlers'] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

export function emptySections(): RawSections {
  return { net: [], disk: [], options: [], startup: [], handlers: [] };
}

export interface RawAddress {
  family: string;
  ip: string;
  port: string;
  line: number;
}

export type RawMetaDisk = 'internal' | { device: string; index?: string };

export interface RawVolume {
  vnr: number;
  minor?: number;
  device?: string;
  disk?: string;
  metaDisk?: RawMetaDisk;
  diskOptions: RawOption[];
  line: number;
}

export interface RawHost {
  name: string;
  nodeId?: number;
  address?: RawAddress;
  volumes: RawVolume[];
  line: number;
}

export interface RawEndpoint {
  host: string;
  address?: RawAddress;
  port?: string;
  line: number;
}

export interface RawConnection {
  /** Endpoints written directly in the connection (one implicit path). */
  hosts?: RawEndpoint[];
  paths?: RawEndpoint[][];
  net: RawOption[];
  disk: RawOption[];
  volumes: { vnr: number; disk: RawOption[]; line: number }[];
  line: number;
}

export interface RawMesh {
  hosts: string[];
  net: RawOption[];
  line: number;
}

export interface RawResource {
  name: string;
  line: number;
  /** Volumes defined at resource level, inherited by every host (DRBD 9 dump prints them there). */
  volumes: RawVolume[];
  hosts: RawHost[];
  connections: RawConnection[];
  meshes: RawMesh[];
  sections: RawSections;
}

export interface DrbdadmImportOptions {
  /** Grammar of the input; detected when absent (node ids or connections mean DRBD 9). */
  target?: DrbdTarget;
  /** DRBD 9 node ids by host name, for input without them (dump-xml). */
  nodeIds?: Readonly<Record<string, number>>;
  /** Name of the input for error messages. */
  source?: string;
}

export interface BuildOptions {
  source: string;
  /** The input's lines, for excerpts in errors. */
  lines: readonly string[];
  target: DrbdTarget;
  /** DRBD 9 node ids by host name, for input that does not carry them (dump-xml). */
  nodeIds?: Readonly<Record<string, number>>;
  /** Rebuild a `connection-mesh` from the full set of connections drbdadm expanded it into (dump-xml). */
  collapseMesh?: boolean;
}

type Values = Record<string, unknown>;

/** Where an error points: the source name and the input's lines for the excerpt. */
export interface Origin {
  source: string;
  lines: readonly string[];
}

export function failAt(origin: Origin, reason: string, line: number): never {
  throw new ParseError(reason, { source: origin.source, line, excerpt: (origin.lines[line - 1] ?? '').trim() });
}

/** Options of one section onto a table; `take` claims keywords handled elsewhere. */
function mapOptions(
  table: SectionTable,
  options: readonly RawOption[],
  origin: Origin,
  take: (o: RawOption) => boolean = () => false,
): Values {
  const out: Values = {};
  // A Map, so that a keyword like "__proto__" stays data.
  const extra = new Map<string, string | true>();
  const seen = new Set<string>();
  const keys = new Map(Object.entries(table).map(([key, spec]) => [spec.keyword, key]));
  for (const o of options) {
    if (seen.has(o.keyword)) failAt(origin, `option ${o.keyword} given twice in one section`, o.line);
    seen.add(o.keyword);
    if (take(o)) continue;
    const key = keys.get(o.keyword);
    if (key === undefined) {
      extra.set(o.keyword, o.value);
      continue;
    }
    const decoded = decodeOptionValue(table[key]!, o.value);
    if (!decoded.ok) failAt(origin, decoded.reason, o.line);
    out[key] = decoded.value;
  }
  if (extra.size > 0) out.extra = Object.fromEntries(extra);
  return out;
}

/** `common` first, the resource's own options override it keyword by keyword. */
function mergeCommon(common: readonly RawOption[], own: readonly RawOption[]): RawOption[] {
  const ownWords = new Set(own.map((o) => o.keyword));
  return [...common.filter((o) => !ownWords.has(o.keyword)), ...own];
}

function addressValue(a: RawAddress | undefined): Values | undefined {
  return a === undefined ? undefined : { family: a.family, ip: a.ip, port: a.port };
}

function volumeValue(v: RawVolume, inherited: RawVolume | undefined, origin: Origin): Values {
  const device = v.device ?? inherited?.device;
  let minor = v.minor ?? inherited?.minor;
  const m = device === undefined ? null : /^\/dev\/drbd(\d{1,7})$/.exec(device);
  if (minor === undefined && m) minor = Number(m[1]);
  if (minor === undefined) failAt(origin, `volume ${v.vnr} has no minor number`, v.line);
  const disk = v.disk ?? inherited?.disk;
  if (disk === undefined) failAt(origin, `volume ${v.vnr} has no backing disk`, v.line);
  const out: Values = { volume: v.vnr, minor, disk };
  if (device !== undefined) out.device = device;
  const md = v.metaDisk ?? inherited?.metaDisk;
  if (disk !== 'none' && md !== undefined) {
    out.metaDisk = md === 'internal' ? 'internal' : md.index === undefined ? { device: md.device } : { device: md.device, index: md.index };
  }
  const diskOptions = mergeCommon(inherited?.diskOptions ?? [], v.diskOptions);
  if (diskOptions.length > 0) out.diskOptions = mapOptions(DISK_OPTIONS, diskOptions, origin);
  return out;
}

function sameAddress(a: RawAddress | undefined, b: RawAddress | undefined): boolean {
  return a !== undefined && b !== undefined && a.family === b.family && a.ip === b.ip && a.port === b.port;
}

function endpointValue(e: RawEndpoint, hosts: readonly RawHost[]): Values {
  const node = hosts.find((h) => matchesHost(h.name, e.host));
  const out: Values = { host: e.host };
  if (e.address !== undefined && !sameAddress(e.address, node?.address)) {
    const own = node?.address;
    if (own !== undefined && own.family === e.address.family && own.ip === e.address.ip) out.port = e.address.port;
    else out.address = addressValue(e.address);
  } else if (e.port !== undefined && e.port !== node?.address?.port) out.port = e.port;
  return out;
}

/** drbdadm reads the protocol letter in either case. */
function protocolCase(o: RawOption): string | true {
  return o.keyword === 'protocol' && typeof o.value === 'string' ? o.value.toUpperCase() : o.value;
}

/** A connection's or mesh's `net`: protocol and fencing are fields of their own, `_name` is derived by drbdadm. */
function overrideValues(net: readonly RawOption[], origin: Origin): Values {
  const out: Values = {};
  const mapped = mapOptions(NET_OPTIONS, net, origin, (o) => {
    if (o.keyword === 'protocol' || o.keyword === 'fencing') {
      out[o.keyword] = protocolCase(o);
      return true;
    }
    return o.keyword === '_name';
  });
  if (Object.keys(mapped).length > 0) out.net = mapped;
  return out;
}

function connectionValue(c: RawConnection, hosts: readonly RawHost[], origin: Origin): Values {
  const out: Values = {};
  if (c.hosts !== undefined) out.hosts = c.hosts.map((e) => endpointValue(e, hosts));
  if (c.paths !== undefined) out.paths = c.paths.map((p) => p.map((e) => endpointValue(e, hosts)));
  Object.assign(out, overrideValues(c.net, origin));
  if (c.disk.length > 0) out.disk = mapOptions(PEER_DEVICE_OPTIONS, c.disk, origin);
  if (c.volumes.length > 0) out.volumes = c.volumes.map((v) => ({ volume: v.vnr, disk: mapOptions(PEER_DEVICE_OPTIONS, v.disk, origin) }));
  return out;
}

/**
 * drbdadm dump-xml writes a `connection-mesh` out as one connection per pair
 * of its hosts, each with the mesh's net options. When the connections are
 * exactly that, the mesh comes back; otherwise they stay connections.
 */
function collapseToMesh(connections: readonly RawConnection[], hosts: readonly RawHost[]): RawMesh | undefined {
  if (connections.length === 0) return undefined;
  const netKey = (c: RawConnection): string =>
    JSON.stringify(c.net.filter((o) => o.keyword !== '_name').map((o) => [o.keyword, o.value]));
  const first = connections[0] as RawConnection;
  const members = new Set<string>();
  const pairs = new Set<string>();
  for (const c of connections) {
    if (c.paths !== undefined || c.disk.length > 0 || c.volumes.length > 0) return undefined;
    if (c.hosts === undefined || c.hosts.length !== 2 || netKey(c) !== netKey(first)) return undefined;
    const names: string[] = [];
    for (const e of c.hosts) {
      const node = hosts.find((h) => matchesHost(h.name, e.host));
      if (node === undefined || (e.address !== undefined && !sameAddress(e.address, node.address))) return undefined;
      names.push(node.name);
    }
    names.sort();
    pairs.add(names.join(' '));
    for (const n of names) members.add(n);
  }
  const ordered = hosts.map((h) => h.name).filter((n) => members.has(n));
  if (pairs.size !== (ordered.length * (ordered.length - 1)) / 2 || pairs.size !== connections.length) return undefined;
  return { hosts: ordered, net: first.net.filter((o) => o.keyword !== '_name'), line: first.line };
}

/** One raw resource (with `common` merged in) → a validated definition. */
export function buildDefinition(raw: RawResource, common: RawSections | undefined, options: BuildOptions): ResourceDefinition {
  const { target } = options;
  const origin: Origin = options;
  const section = (name: SectionName): RawOption[] => mergeCommon(common?.[name] ?? [], raw.sections[name]);
  const def: Values = { name: raw.name, target };

  let fencing: string | true | undefined;
  def.net = mapOptions(NET_OPTIONS, section('net'), origin, (o) => {
    if (o.keyword === 'protocol') {
      def.protocol = protocolCase(o);
      return true;
    }
    if (o.keyword === 'fencing' && target === '9') {
      fencing = o.value;
      return true;
    }
    return o.keyword === '_name';
  });
  def.disk = mapOptions(DISK_OPTIONS, section('disk'), origin);
  if (fencing !== undefined) (def.disk as Values).fencing = fencing;
  def.options = mapOptions(RESOURCE_OPTIONS, section('options'), origin);
  def.startup = mapOptions(STARTUP_OPTIONS, section('startup'), origin);
  def.handlers = mapOptions(HANDLERS, section('handlers'), origin);

  def.nodes = raw.hosts.map((h) => {
    const node: Values = { name: h.name };
    const nodeId = h.nodeId ?? (target === '9' ? options.nodeIds?.[h.name] : undefined);
    if (nodeId !== undefined) node.nodeId = nodeId;
    else if (target === '9') {
      failAt(
        origin,
        `host ${h.name} has no node-id (drbdadm dump-xml leaves node ids out: import \`drbdadm dump\` instead, or pass nodeIds)`,
        h.line,
      );
    }
    const address = addressValue(h.address);
    if (address !== undefined) node.address = address;
    const own = new Map(h.volumes.map((v) => [v.vnr, v]));
    const vnrs = [...new Set([...raw.volumes.map((v) => v.vnr), ...own.keys()])].sort((a, b) => a - b);
    node.volumes = vnrs.map((vnr) => {
      const inherited = raw.volumes.find((v) => v.vnr === vnr);
      const v = own.get(vnr) ?? { vnr, diskOptions: [], line: inherited?.line ?? h.line };
      return volumeValue(v, inherited, origin);
    });
    return node;
  });

  if (target === '9') {
    const meshes = [...raw.meshes];
    let connections = raw.connections;
    if (options.collapseMesh === true && meshes.length === 0) {
      const mesh = collapseToMesh(connections, raw.hosts);
      if (mesh !== undefined) {
        meshes.push(mesh);
        connections = [];
      }
    }
    if (meshes.length > 1) failAt(origin, 'more than one connection-mesh in a resource is not supported', (meshes[1] as RawMesh).line);
    const mesh = meshes[0];
    if (mesh !== undefined) def.connectionMesh = { hosts: mesh.hosts, ...overrideValues(mesh.net, origin) };
    if (connections.length > 0) def.connections = connections.map((c) => connectionValue(c, raw.hosts, origin));
  }

  const result = validateResourceDefinition(def);
  if (!result.ok) {
    failAt(origin, `resource ${raw.name} is not a definition hastor accepts: ${result.issues.join('; ')}`, raw.line);
  }
  return result.value;
}
