/**
 * `drbdadm dump-xml` → resource definitions. The element layout is the one
 * drbd-utils prints (user/v9/drbdadm_dump.c, user/v84/drbdadm_dump.c):
 * an optional `<config file>` wrapper with `<global>` and `<common>`, then one
 * `<resource>` per resource with `<host>` (volumes, address), `<connection>`
 * (DRBD 9 only) and `<section name>` of `<option name value>`.
 *
 * Three things dump-xml does differently from `drbdadm dump`, seen with
 * drbd-utils 9.22: DRBD 9 node ids are not printed at all (pass `nodeIds`, or
 * import `drbdadm dump`); a `connection-mesh` comes out as one `<connection>`
 * per host pair (the mesh is rebuilt when the connections are exactly that);
 * a host without its own address prints `family="(null)"`. The target is
 * taken as DRBD 9 when any `<connection>` is present (drbdadm 9 always prints
 * them, even for an implicit one), else 8.4; a one-node DRBD 9 resource needs
 * `target: '9'` from the caller.
 */
import { ParseError } from '../../errors.js';
import {
  SECTION_NAMES,
  buildDefinition,
  emptySections,
  failAt,
  type DrbdadmImportOptions,
  type Origin,
  type RawAddress,
  type RawConnection,
  type RawEndpoint,
  type RawHost,
  type RawOption,
  type RawResource,
  type RawSections,
  type RawVolume,
  type SectionName,
} from './import-model.js';
import type { DrbdTarget } from './options.js';
import type { ResourceDefinition } from './schema.js';
import { parseXml, type XmlElement } from './xml.js';
import { appendAll } from '../../arrays.js';

const SOURCE = 'drbdadm dump-xml';
const NULL = '(null)';

const isSection = (word: string): word is SectionName => (SECTION_NAMES as readonly string[]).includes(word);

class XmlReader {
  constructor(private readonly origin: Origin) {}

  fail(reason: string, at: XmlElement): never {
    return failAt(this.origin, reason, at.line);
  }

  attr(e: XmlElement, name: string): string {
    const value = e.attrs[name];
    if (value === undefined) this.fail(`<${e.name}> lacks the ${name} attribute`, e);
    return value as string;
  }

  integer(e: XmlElement, name: string, max = 0x7fffffff): number {
    const text = this.attr(e, name);
    if (!/^\d{1,10}$/.test(text) || Number(text) > max) this.fail(`${name}="${text}" is not a whole number`, e);
    return Number(text);
  }

  only(e: XmlElement, allowed: readonly string[]): void {
    for (const child of e.children) {
      if (!allowed.includes(child.name)) this.fail(`<${child.name}> inside <${e.name}> is not supported`, child);
    }
    if (e.children.length > 0 && e.text.trim() !== '') this.fail(`text mixed with elements in <${e.name}>`, e);
  }

  leafText(e: XmlElement): string {
    if (e.children.length > 0) this.fail(`<${e.name}> should hold text only`, e);
    return e.text.trim();
  }

  options(section: XmlElement): RawOption[] {
    this.only(section, ['option']);
    return section.children.map((o) => {
      const keyword = this.attr(o, 'name');
      if (o.children.length > 0 || o.text.trim() !== '') this.fail('<option> holds no content', o);
      return { keyword, value: o.attrs.value ?? true, line: o.line };
    });
  }

  sections(parent: XmlElement, into: RawSections): void {
    for (const s of parent.children.filter((c) => c.name === 'section')) {
      const name = this.attr(s, 'name');
      if (!isSection(name)) this.fail(`section ${name} is not supported`, s);
      appendAll(into[name], this.options(s));
    }
  }

  address(e: XmlElement): RawAddress | undefined {
    const family = this.attr(e, 'family');
    const port = this.attr(e, 'port');
    const ip = this.leafText(e);
    if (family === NULL && port === NULL && ip === NULL) return undefined;
    if (!/^\d{1,5}$/.test(port)) this.fail(`port="${port}" is not a port number`, e);
    return { family, ip, port, line: e.line };
  }

  volume(e: XmlElement): RawVolume {
    this.only(e, ['section', 'device', 'disk', 'meta-disk']);
    const v: RawVolume = { vnr: this.integer(e, 'vnr', 65535), diskOptions: [], line: e.line };
    for (const c of e.children) {
      if (c.name === 'section') {
        if (this.attr(c, 'name') !== 'disk') this.fail(`section ${c.attrs.name ?? ''} in a volume is not supported`, c);
        appendAll(v.diskOptions, this.options(c));
      } else if (c.name === 'device') {
        v.minor = this.integer(c, 'minor', 0xfffff);
        const path = this.leafText(c);
        if (path !== '') v.device = path;
      } else if (c.name === 'disk') {
        v.disk = this.leafText(c);
      } else {
        const path = this.leafText(c);
        const index = c.attrs.index;
        v.metaDisk = path === 'internal' && index === undefined ? 'internal' : index === undefined ? { device: path } : { device: path, index };
      }
    }
    return v;
  }

  host(e: XmlElement): RawHost {
    if (e.attrs.floating !== undefined) this.fail('floating hosts are not supported', e);
    const name = this.attr(e, 'name');
    if (/\s/.test(name)) this.fail(`host "${name}" names several hosts; one host per on section is supported`, e);
    this.only(e, ['section', 'volume', 'address']);
    const options = emptySections();
    this.sections(e, options);
    if (SECTION_NAMES.some((s) => options[s].length > 0)) this.fail('per-host options are not supported', e);
    const h: RawHost = { name, volumes: [], line: e.line };
    for (const c of e.children) {
      if (c.name === 'volume') h.volumes.push(this.volume(c));
      else if (c.name === 'address') {
        const a = this.address(c);
        if (a !== undefined) h.address = a;
      }
    }
    return h;
  }

  endpoint(e: XmlElement): RawEndpoint {
    this.only(e, ['address']);
    const address = e.children[0];
    if (e.children.length !== 1 || address === undefined) this.fail('a connection host holds one <address>', e);
    const a = this.address(address as XmlElement);
    return { host: this.attr(e, 'name'), ...(a && { address: a }), line: e.line };
  }

  connection(e: XmlElement): RawConnection {
    this.only(e, ['host', 'path', 'section', 'volume']);
    // Connection names are ignored, as drbdadm 9.22 itself ignores them.
    const c: RawConnection = { net: [], disk: [], volumes: [], line: e.line };
    for (const child of e.children) {
      if (child.name === 'host') (c.hosts ??= []).push(this.endpoint(child));
      else if (child.name === 'path') {
        this.only(child, ['host']);
        if (child.children.length !== 2) this.fail('a path joins exactly two hosts', child);
        (c.paths ??= []).push(child.children.map((h) => this.endpoint(h)));
      } else if (child.name === 'section') {
        const name = this.attr(child, 'name');
        if (name === 'net') appendAll(c.net, this.options(child));
        else if (name === 'disk') appendAll(c.disk, this.options(child));
        else this.fail(`section ${name} in a connection is not supported`, child);
      } else {
        this.only(child, ['section']);
        const disk: RawOption[] = [];
        for (const s of child.children) {
          if (this.attr(s, 'name') !== 'disk') this.fail('a connection volume holds disk options only', s);
          appendAll(disk, this.options(s));
        }
        c.volumes.push({ vnr: this.integer(child, 'vnr', 65535), disk, line: child.line });
      }
    }
    if ((c.hosts === undefined) === (c.paths === undefined)) this.fail('a connection has either two hosts or paths', e);
    if (c.hosts !== undefined && c.hosts.length !== 2) this.fail('a connection joins exactly two hosts', e);
    return c;
  }

  resource(e: XmlElement): RawResource {
    this.only(e, ['host', 'connection', 'section']);
    const r: RawResource = {
      name: this.attr(e, 'name'),
      line: e.line,
      volumes: [],
      hosts: [],
      connections: [],
      meshes: [],
      sections: emptySections(),
    };
    this.sections(e, r.sections);
    for (const c of e.children) {
      if (c.name === 'host') r.hosts.push(this.host(c));
      else if (c.name === 'connection') r.connections.push(this.connection(c));
    }
    return r;
  }
}

/** Every resource of a `drbdadm dump-xml`, as validated definitions. */
export function parseDrbdadmDumpXml(text: string, options: DrbdadmImportOptions = {}): ResourceDefinition[] {
  const source = options.source ?? SOURCE;
  const origin: Origin = { source, lines: text.split('\n') };
  const reader = new XmlReader(origin);
  const roots = parseXml(text, source);
  let top = roots;
  const config = roots.find((r) => r.name === 'config');
  if (config !== undefined) {
    if (roots.length !== 1) reader.fail('<config> must be the only top-level element', config);
    reader.only(config, ['global', 'common', 'resource']);
    top = config.children;
  }
  let common: RawSections | undefined;
  const resources: RawResource[] = [];
  for (const e of top) {
    if (e.name === 'resource') resources.push(reader.resource(e));
    else if (e.name === 'common') {
      if (common !== undefined) reader.fail('a second <common>', e);
      reader.only(e, ['section']);
      common = emptySections();
      reader.sections(e, common);
    } else if (e.name !== 'global') reader.fail(`unexpected top-level <${e.name}>`, e);
  }
  if (resources.length === 0) throw new ParseError('no <resource> in the input', { source, line: 1, excerpt: origin.lines[0] ?? '' });
  const seen = new Set<string>();
  for (const r of resources) {
    if (seen.has(r.name)) failAt(origin, `resource ${r.name} is defined twice`, r.line);
    seen.add(r.name);
  }
  const target: DrbdTarget = options.target ?? (resources.some((r) => r.connections.length > 0) ? '9' : '8.4');
  return resources.map((r) =>
    buildDefinition(r, common, { ...origin, target, collapseMesh: true, ...(options.nodeIds && { nodeIds: options.nodeIds }) }),
  );
}
