/**
 * `drbdadm dump` (the configuration as drbdadm normalized it: includes
 * resolved, one `resource` per section, optional `global` and `common`) →
 * resource definitions. Hand-written `.res` files in the same grammar work
 * too, as long as they stay within what the model holds.
 *
 * Things drbdadm can express that the model cannot are refused with a
 * ParseError rather than dropped: floating and stacked resources, proxies,
 * templates, `on` sections naming several hosts, per-host `options`.
 */
import { ParseError } from '../../errors.js';
import { parseStatements, type Statement, type Token } from './conf-syntax.js';
import {
  SECTION_NAMES,
  buildDefinition,
  emptySections,
  failAt,
  type Origin,
  type RawAddress,
  type RawConnection,
  type RawEndpoint,
  type RawHost,
  type RawMesh,
  type RawMetaDisk,
  type RawOption,
  type RawResource,
  type RawSections,
  type RawVolume,
  type DrbdadmImportOptions,
  type SectionName,
} from './import-model.js';
import type { DrbdTarget } from './options.js';
import type { ResourceDefinition } from './schema.js';
import { appendAll } from '../../arrays.js';

export type { DrbdadmImportOptions } from './import-model.js';

const SOURCE = 'drbdadm dump';

const isSection = (word: string): word is SectionName => (SECTION_NAMES as readonly string[]).includes(word);

class DumpReader {
  constructor(private readonly origin: Origin) {}

  fail(reason: string, line: number): never {
    return failAt(this.origin, reason, line);
  }

  /** The statement's words after the keyword. */
  args(s: Statement): Token[] {
    return s.words.slice(1);
  }

  keyword(s: Statement): string {
    const first = s.words[0] as Token;
    if (first.kind !== 'word') this.fail(`expected a keyword, found the string ${JSON.stringify(first.text)}`, s.line);
    return first.text;
  }

  noBlock(s: Statement): void {
    if (s.block !== undefined) this.fail(`${this.keyword(s)} does not open a section`, s.line);
  }

  needBlock(s: Statement): Statement[] {
    if (s.block === undefined) this.fail(`${this.keyword(s)} needs a { } section`, s.line);
    return s.block as Statement[];
  }

  single(s: Statement, what: string): string {
    const args = this.args(s);
    if (args.length !== 1) this.fail(`${this.keyword(s)} takes one ${what}`, s.line);
    return (args[0] as Token).text;
  }

  integer(text: string, what: string, line: number, max = 0x7fffffff): number {
    if (!/^\d{1,10}$/.test(text) || Number(text) > max) this.fail(`${what} must be a whole number, not ${JSON.stringify(text)}`, line);
    return Number(text);
  }

  options(block: Statement[]): RawOption[] {
    return block.map((s) => {
      const keyword = this.keyword(s);
      this.noBlock(s);
      const args = this.args(s);
      if (args.length > 1) this.fail(`option ${keyword} takes one value`, s.line);
      return { keyword, value: args.length === 0 ? true : (args[0] as Token).text, line: s.line };
    });
  }

  /** `[family] addr:port` with IPv6 in brackets. */
  address(words: Token[], line: number): RawAddress {
    const texts = words.map((w) => w.text);
    const family = texts.length === 2 ? (texts[0] as string) : undefined;
    const rest = texts[texts.length - 1];
    if (texts.length < 1 || texts.length > 2 || rest === undefined) this.fail('address takes [family] address:port', line);
    const m = /^(?:\[([^\]]*)\]|([^[\]:]+)):(\d{1,5})$/.exec(rest as string);
    if (!m) this.fail(`malformed address ${JSON.stringify(rest)} (expected a.b.c.d:port or [ipv6]:port)`, line);
    const [, v6, v4, port] = m as RegExpExecArray;
    return { family: family ?? (v6 !== undefined ? 'ipv6' : 'ipv4'), ip: (v6 ?? v4) as string, port: port as string, line };
  }

  /** Statements a volume holds; `into` collects them (also used for the implicit volume of `on` sections). */
  volumeStatement(s: Statement, into: RawVolume): boolean {
    const keyword = this.keyword(s);
    const args = this.args(s).map((t) => t.text);
    switch (keyword) {
      case 'device': {
        this.noBlock(s);
        let rest = args;
        if (rest[0] !== undefined && rest[0] !== 'minor') {
          into.device = rest[0];
          rest = rest.slice(1);
        }
        if (rest.length === 2 && rest[0] === 'minor') into.minor = this.integer(rest[1] as string, 'minor', s.line);
        else if (rest.length !== 0 || into.device === undefined) this.fail('device takes [path] [minor N]', s.line);
        return true;
      }
      case 'disk':
        if (s.block !== undefined) appendAll(into.diskOptions, this.options(s.block));
        else into.disk = this.single(s, 'device path or none');
        return true;
      case 'meta-disk':
      case 'flexible-meta-disk': {
        this.noBlock(s);
        into.metaDisk = this.metaDisk(args, s.line);
        return true;
      }
      default:
        return false;
    }
  }

  metaDisk(args: string[], line: number): RawMetaDisk {
    if (args.length === 1 && args[0] === 'internal') return 'internal';
    const joined = args.join(' ');
    const m = /^(\S+?)(?:\s*\[(\d{1,10})\])?$/.exec(joined);
    if (!m || args.length === 0 || args.length > 2) this.fail('meta-disk takes internal, or a device with an optional [index]', line);
    const [, device, index] = m as RegExpExecArray;
    return index === undefined ? { device: device as string } : { device: device as string, index };
  }

  volume(s: Statement): RawVolume {
    const vnr = this.integer(this.single(s, 'volume number'), 'volume number', s.line, 65535);
    const v: RawVolume = { vnr, diskOptions: [], line: s.line };
    for (const inner of this.needBlock(s)) {
      if (!this.volumeStatement(inner, v)) this.fail(`unexpected ${this.keyword(inner)} in a volume`, inner.line);
    }
    return v;
  }

  host(s: Statement): RawHost {
    const names = this.args(s).map((t) => t.text);
    if (names.length !== 1) this.fail(`an on section naming ${names.length} hosts is not supported (one host per on section)`, s.line);
    const host: RawHost = { name: names[0] as string, volumes: [], line: s.line };
    const implicit: RawVolume = { vnr: 0, diskOptions: [], line: s.line };
    let hasImplicit = false;
    for (const inner of this.needBlock(s)) {
      const keyword = this.keyword(inner);
      if (keyword === 'node-id') {
        this.noBlock(inner);
        host.nodeId = this.integer(this.single(inner, 'node id'), 'node-id', inner.line, 255);
      } else if (keyword === 'address') {
        this.noBlock(inner);
        host.address = this.address(this.args(inner), inner.line);
      } else if (keyword === 'volume') {
        host.volumes.push(this.volume(inner));
      } else if (this.volumeStatement(inner, implicit)) {
        if (!hasImplicit) implicit.line = inner.line;
        hasImplicit = true;
      } else {
        this.fail(`${keyword} in an on section is not supported`, inner.line);
      }
    }
    if (hasImplicit) {
      if (host.volumes.some((v) => v.vnr === 0)) this.fail('volume 0 is given both inline and as a volume section', s.line);
      host.volumes.unshift(implicit);
    }
    return host;
  }

  endpoint(s: Statement): RawEndpoint {
    const words = this.args(s);
    if (words.some((w) => w.kind === 'word' && w.text === 'via')) this.fail('connections via DRBD proxy are not supported', s.line);
    this.noBlock(s);
    const host = words[0]?.text;
    if (host === undefined) this.fail('host needs a name', s.line);
    const e: RawEndpoint = { host: host as string, line: s.line };
    const rest = words.slice(1);
    const first = rest[0]?.text;
    if (first === 'address') e.address = this.address(rest.slice(1), s.line);
    else if (first === 'port' && rest.length === 2) e.port = String(this.integer((rest[1] as Token).text, 'port', s.line, 65535));
    else if (rest.length > 0) this.fail('host takes a name and optionally address ... or port N', s.line);
    return e;
  }

  connection(s: Statement): RawConnection {
    // A name after `connection` is dropped, as drbdadm 9.22 does ("named connections are deprecated").
    if (this.args(s).length > 1) this.fail('connection takes at most a name', s.line);
    const c: RawConnection = { net: [], disk: [], volumes: [], line: s.line };
    for (const inner of this.needBlock(s)) {
      const keyword = this.keyword(inner);
      if (keyword === 'host') (c.hosts ??= []).push(this.endpoint(inner));
      else if (keyword === 'path') {
        const path = this.needBlock(inner).map((p) => {
          if (this.keyword(p) !== 'host') this.fail(`unexpected ${this.keyword(p)} in a path`, p.line);
          return this.endpoint(p);
        });
        if (path.length !== 2) this.fail('a path joins exactly two hosts', inner.line);
        (c.paths ??= []).push(path);
      } else if (keyword === 'net') appendAll(c.net, this.options(this.needBlock(inner)));
      else if (keyword === 'disk') appendAll(c.disk, this.options(this.needBlock(inner)));
      else if (keyword === 'volume') {
        const vnr = this.integer(this.single(inner, 'volume number'), 'volume number', inner.line, 65535);
        const disk: RawOption[] = [];
        for (const d of this.needBlock(inner)) {
          if (this.keyword(d) !== 'disk') this.fail(`unexpected ${this.keyword(d)} in a connection volume`, d.line);
          appendAll(disk, this.options(this.needBlock(d)));
        }
        c.volumes.push({ vnr, disk, line: inner.line });
      } else this.fail(`${keyword} in a connection is not supported`, inner.line);
    }
    if (c.hosts !== undefined && c.paths !== undefined) this.fail('a connection has either host statements or paths', s.line);
    if (c.hosts !== undefined && c.hosts.length !== 2) this.fail('a connection joins exactly two hosts', s.line);
    if (c.hosts === undefined && c.paths === undefined) this.fail('a connection needs two hosts or paths', s.line);
    return c;
  }

  mesh(s: Statement): RawMesh {
    const m: RawMesh = { hosts: [], net: [], line: s.line };
    for (const inner of this.needBlock(s)) {
      const keyword = this.keyword(inner);
      if (keyword === 'hosts') {
        this.noBlock(inner);
        appendAll(m.hosts, this.args(inner).map((t) => t.text));
      } else if (keyword === 'net') appendAll(m.net, this.options(this.needBlock(inner)));
      else this.fail(`${keyword} in a connection-mesh is not supported`, inner.line);
    }
    return m;
  }

  /** `net`, `disk`, ... and the 8.4 resource-level `protocol`; false for anything else. */
  sectionStatement(s: Statement, sections: RawSections): boolean {
    const keyword = this.keyword(s);
    if (keyword === 'protocol' && s.block === undefined) {
      sections.net.push({ keyword: 'protocol', value: this.single(s, 'protocol letter'), line: s.line });
      return true;
    }
    if (!isSection(keyword)) return false;
    if (s.block === undefined) return false;
    if (this.args(s).length > 0) this.fail(`${keyword} takes no name`, s.line);
    appendAll(sections[keyword], this.options(s.block));
    return true;
  }

  resource(s: Statement): RawResource {
    const name = this.single(s, 'name');
    const r: RawResource = { name, line: s.line, volumes: [], hosts: [], connections: [], meshes: [], sections: emptySections() };
    const implicit: RawVolume = { vnr: 0, diskOptions: [], line: s.line };
    let hasImplicit = false;
    for (const inner of this.needBlock(s)) {
      const keyword = this.keyword(inner);
      if (this.sectionStatement(inner, r.sections)) continue;
      if (keyword === 'on') r.hosts.push(this.host(inner));
      else if (keyword === 'volume') r.volumes.push(this.volume(inner));
      else if (keyword === 'connection') r.connections.push(this.connection(inner));
      else if (keyword === 'connection-mesh') r.meshes.push(this.mesh(inner));
      else if (this.volumeStatement(inner, implicit)) {
        if (!hasImplicit) implicit.line = inner.line;
        hasImplicit = true;
      } else this.fail(`${keyword} is not supported in a resource`, inner.line);
    }
    if (hasImplicit) r.volumes.unshift(implicit);
    return r;
  }
}

function detectTarget(resources: readonly RawResource[]): DrbdTarget {
  const nine = resources.some((r) => r.connections.length > 0 || r.meshes.length > 0 || r.hosts.some((h) => h.nodeId !== undefined));
  return nine ? '9' : '8.4';
}

/** Every resource of a `drbdadm dump` (or a `.res` file), as validated definitions. */
export function parseDrbdadmDump(text: string, options: DrbdadmImportOptions = {}): ResourceDefinition[] {
  const source = options.source ?? SOURCE;
  const origin: Origin = { source, lines: text.split('\n') };
  const reader = new DumpReader(origin);
  const statements = parseStatements(text, source);
  let common: RawSections | undefined;
  const resources: RawResource[] = [];
  for (const s of statements) {
    const keyword = reader.keyword(s);
    if (keyword === 'global') reader.needBlock(s);
    else if (keyword === 'common') {
      if (common !== undefined) reader.fail('a second common section', s.line);
      common = emptySections();
      for (const inner of reader.needBlock(s)) {
        if (!reader.sectionStatement(inner, common)) reader.fail(`${reader.keyword(inner)} in common is not supported`, inner.line);
      }
    } else if (keyword === 'resource') resources.push(reader.resource(s));
    else if (keyword === 'include') reader.fail('include is not followed; import the output of drbdadm dump, which resolves includes', s.line);
    else reader.fail(`unexpected top-level ${keyword}`, s.line);
  }
  if (resources.length === 0) throw new ParseError('no resource in the input', { source, line: 1, excerpt: origin.lines[0] ?? '' });
  const seen = new Set<string>();
  for (const r of resources) {
    if (seen.has(r.name)) reader.fail(`resource ${r.name} is defined twice`, r.line);
    seen.add(r.name);
  }
  const target = options.target ?? detectTarget(resources);
  return resources.map((r) => buildDefinition(r, common, { ...origin, target, ...(options.nodeIds && { nodeIds: options.nodeIds }) }));
}
