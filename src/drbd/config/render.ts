/**
 * A resource definition → the text of a `.res` file, in DRBD 8.4 or DRBD 9
 * syntax (drbd.conf-8.4(5), drbd.conf-9.0(5)). Output is deterministic:
 * sections and options come in a fixed order (the option tables' order, then
 * `extra` options sorted by keyword), numbers in the unit drbdsetup uses,
 * strings quoted only when drbdadm would not read them back bare.
 *
 * Differences between the targets handled here:
 * - 8.4 writes `protocol` at resource level and `fencing` in `disk`; DRBD 9
 *   wants both in `net` (drbdadm 9.22 rejects `fencing` in `disk`);
 * - 8.4 writes a single volume 0 directly in the `on` section (as the 8.4
 *   manual does); DRBD 9 always writes `volume N { }` blocks, plus `node-id`
 *   and `connection-mesh` or `connection` sections.
 */
import { quoteValue, quoteWord } from './conf-syntax.js';
import { encodeOptionValue } from './option-codec.js';
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
import {
  parseResourceDefinition,
  type Address,
  type ConnectionDefinition,
  type ConnectionEndpoint,
  type ConnectionOverrides,
  type NodeDefinition,
  type ResourceDefinition,
  type ResourceDefinitionInput,
  type VolumeDefinition,
} from './schema.js';

export interface RenderOptions {
  /** Grammar to write; defaults to the definition's own `target`. */
  target?: DrbdTarget;
  /** Comment lines put before the resource (each prefixed with `# `). */
  header?: string;
}

const INDENT = '    ';

/** Lines of one section body; empty sections are left out by the caller. */
type Lines = string[];

function section(name: string, body: Lines): Lines {
  return body.length === 0 ? [] : [`${name} {`, ...body.map((l) => INDENT + l), '}'];
}

function optionLines(table: SectionTable, values: Readonly<Record<string, unknown>> | undefined, skip: ReadonlySet<string> = new Set()): Lines {
  if (values === undefined) return [];
  const lines: Lines = [];
  for (const [key, spec] of Object.entries(table)) {
    const value = values[key];
    if (value === undefined || skip.has(key)) continue;
    const text = encodeOptionValue(spec, value as boolean | number | string);
    lines.push(`${spec.keyword} ${spec.type === 'string' ? quoteValue(text) : text};`);
  }
  const extra = values.extra as Record<string, string | true> | undefined;
  for (const keyword of Object.keys(extra ?? {}).sort()) {
    const value = (extra as Record<string, string | true>)[keyword] as string | true;
    lines.push(value === true ? `${keyword};` : `${keyword} ${quoteValue(value)};`);
  }
  return lines;
}

function renderAddress(a: Address): string {
  return a.family === 'ipv6' ? `${a.family} [${a.ip}]:${a.port}` : `${a.family} ${a.ip}:${a.port}`;
}

function deviceLine(v: VolumeDefinition): string {
  return v.device === undefined ? `device minor ${v.minor};` : `device ${quoteWord(v.device)} minor ${v.minor};`;
}

function metaDiskLine(v: VolumeDefinition): Lines {
  const md = v.metaDisk;
  if (v.disk === 'none' || md === undefined) return [];
  if (md === 'internal') return ['meta-disk internal;'];
  return [md.index === undefined ? `meta-disk ${quoteWord(md.device)};` : `meta-disk ${quoteWord(md.device)} [${md.index}];`];
}

function volumeBody(v: VolumeDefinition): Lines {
  return [deviceLine(v), `disk ${quoteWord(v.disk)};`, ...metaDiskLine(v), ...section('disk', optionLines(DISK_OPTIONS, v.diskOptions))];
}

function nodeLines(node: NodeDefinition, target: DrbdTarget): Lines {
  const body: Lines = [];
  if (target === '9') {
    body.push(`node-id ${node.nodeId as number};`);
    if (node.address) body.push(`address ${renderAddress(node.address)};`);
    for (const v of node.volumes) body.push(...section(`volume ${v.volume}`, volumeBody(v)));
  } else {
    const only = node.volumes.length === 1 ? node.volumes[0] : undefined;
    if (only !== undefined && only.volume === 0 && only.diskOptions === undefined) {
      // The 8.4 manual's form: the single volume's statements right in the host section.
      body.push(deviceLine(only), `disk ${quoteWord(only.disk)};`);
      if (node.address) body.push(`address ${renderAddress(node.address)};`);
      body.push(...metaDiskLine(only));
    } else {
      for (const v of node.volumes) body.push(...section(`volume ${v.volume}`, volumeBody(v)));
      if (node.address) body.push(`address ${renderAddress(node.address)};`);
    }
  }
  return section(`on ${quoteWord(node.name)}`, body);
}

/** `net { }` of a mesh or connection: its protocol and fencing first, then net options. */
function overrideNet(c: ConnectionOverrides): Lines {
  const lines: Lines = [];
  if (c.protocol !== undefined) lines.push(`protocol ${c.protocol};`);
  if (c.fencing !== undefined) lines.push(`fencing ${c.fencing};`);
  return section('net', [...lines, ...optionLines(NET_OPTIONS, c.net)]);
}

function endpointLine(e: ConnectionEndpoint): string {
  if (e.address !== undefined) return `host ${quoteWord(e.host)} address ${renderAddress(e.address)};`;
  if (e.port !== undefined) return `host ${quoteWord(e.host)} port ${e.port};`;
  return `host ${quoteWord(e.host)};`;
}

function connectionLines(c: ConnectionDefinition): Lines {
  const body: Lines = [];
  if (c.hosts !== undefined) body.push(...c.hosts.map(endpointLine));
  for (const p of c.paths ?? []) body.push(...section('path', p.map(endpointLine)));
  body.push(...overrideNet(c), ...section('disk', optionLines(PEER_DEVICE_OPTIONS, c.disk)));
  for (const v of c.volumes ?? []) body.push(...section(`volume ${v.volume}`, section('disk', optionLines(PEER_DEVICE_OPTIONS, v.disk))));
  return section('connection', body);
}

function resourceBody(def: ResourceDefinition, target: DrbdTarget): Lines {
  const body: Lines = [];
  const netOptions = optionLines(NET_OPTIONS, def.net);
  const fencing = def.disk.fencing;
  if (target === '8.4') {
    if (def.protocol !== undefined) body.push(`protocol ${def.protocol};`);
    body.push(...section('options', optionLines(RESOURCE_OPTIONS, def.options)));
    body.push(...section('net', netOptions));
    body.push(...section('disk', optionLines(DISK_OPTIONS, def.disk)));
  } else {
    const head: Lines = [];
    if (def.protocol !== undefined) head.push(`protocol ${def.protocol};`);
    if (fencing !== undefined) head.push(`fencing ${fencing};`);
    body.push(...section('options', optionLines(RESOURCE_OPTIONS, def.options)));
    body.push(...section('net', [...head, ...netOptions]));
    body.push(...section('disk', optionLines(DISK_OPTIONS, def.disk, new Set(['fencing']))));
  }
  body.push(...section('startup', optionLines(STARTUP_OPTIONS, def.startup)));
  body.push(...section('handlers', optionLines(HANDLERS, def.handlers)));
  for (const node of def.nodes) body.push(...nodeLines(node, target));
  if (target === '9') {
    const mesh = def.connectionMesh;
    if (mesh !== undefined) body.push(...section('connection-mesh', [`hosts ${mesh.hosts.map(quoteWord).join(' ')};`, ...overrideNet(mesh)]));
    for (const c of def.connections ?? []) body.push(...connectionLines(c));
  }
  return body;
}

/**
 * The `.res` text for one resource. The definition is validated (and
 * normalized) first, for the requested target: a `ConfigError` lists every
 * problem, e.g. missing node ids when rendering an 8.4 definition as DRBD 9.
 */
export function renderResource(input: ResourceDefinition | ResourceDefinitionInput, options: RenderOptions = {}): string {
  const target = options.target ?? (input as { target?: DrbdTarget }).target;
  const def = parseResourceDefinition(target === undefined ? input : { ...(input as object), target });
  const header = options.header === undefined ? [] : options.header.split('\n').map((l) => (l === '' ? '#' : `# ${l}`));
  const lines = [...header, ...section(`resource ${quoteWord(def.name)}`, resourceBody(def, def.target))];
  return `${lines.join('\n')}\n`;
}
