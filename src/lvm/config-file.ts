/**
 * lvm.conf / lvmlocal.conf as text that can be read and edited without losing a byte.
 *
 * Syntax as libdevmapper's config parser reads it (lvm2 device_mapper/libdm-config.c):
 * `name { ... }` sections, `key = value` settings, `#` comments to the end of the line;
 * values are integers (strtoll base 0: "077" is octal 63), floats (digits with one "."),
 * "double quoted" strings (backslash escapes " and \, other backslashes stay), 'single
 * quoted' strings (no escapes), bare words, or arrays `[ v, v ]` (commas optional between
 * quoted strings, may span lines). A key may be a path (`p/q = 5` is `p { q = 5 }`);
 * repeated sections merge and a repeated key keeps its last value ("Ignoring duplicate
 * config value"). Checked against lvmconfig from lvm2 2.03.16.
 *
 * The file keeps its text: serializing an unedited file gives the same bytes, and an edit
 * replaces only the value it sets, or inserts one line, or removes the lines it unsets.
 */
import { ConfigError, ParseError } from '../errors.js';

export type LvmConfigScalar = string | number;
export type LvmConfigValue = LvmConfigScalar | LvmConfigScalar[];

type TokenType =
  | 'ident'
  | 'dstring'
  | 'sstring'
  | 'bare'
  | 'int'
  | 'float'
  | '{'
  | '}'
  | '['
  | ']'
  | ','
  | '='
  | 'eof';

interface Token {
  type: TokenType;
  start: number;
  end: number;
  line: number;
}

export interface ConfigSetting {
  kind: 'setting';
  /** Key as written (may contain "/"). */
  key: string;
  /** Full path from the root: enclosing section names, then the key's segments. */
  path: string[];
  value: LvmConfigValue;
  /** Offsets in the text: the key's first character and one past the value's last. */
  start: number;
  valueStart: number;
  end: number;
  line: number;
}

export interface ConfigSection {
  kind: 'section';
  name: string;
  path: string[];
  start: number;
  /** Offsets of "{" and "}". */
  open: number;
  close: number;
  line: number;
  children: ConfigNode[];
}

export type ConfigNode = ConfigSetting | ConfigSection;

const SPACE = /\s/;

function isSpace(c: string | undefined): boolean {
  return c !== undefined && SPACE.test(c);
}

class Tokenizer {
  pos = 0;
  line = 1;
  constructor(
    readonly text: string,
    readonly source: string,
  ) {}

  error(reason: string, line: number, at: number): ParseError {
    const lineStart = this.text.lastIndexOf('\n', at - 1) + 1;
    const lineEnd = this.text.indexOf('\n', at);
    return new ParseError(reason, { source: this.source, line, excerpt: this.text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd) });
  }

  private skipSpaceAndComments(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === '#') {
        while (this.pos < t.length && t[this.pos] !== '\n') this.pos++;
      } else if (isSpace(c)) {
        if (c === '\n') this.line++;
        this.pos++;
      } else if (c === '\0') {
        throw this.error('NUL byte in configuration text', this.line, this.pos);
      } else {
        break;
      }
    }
  }

  /** valuesAllowed: the previous token was "=", "[" or "," (libdm-config's rule). */
  next(valuesAllowed: boolean): Token {
    this.skipSpaceAndComments();
    const t = this.text;
    const start = this.pos;
    const line = this.line;
    if (start >= t.length) return { type: 'eof', start, end: start, line };
    const c = t[start] as string;
    const single = (type: TokenType): Token => {
      this.pos++;
      return { type, start, end: this.pos, line };
    };
    switch (c) {
      case '{':
        return single('{');
      case '}':
        return single('}');
      case '[':
        return single('[');
      case ']':
        return single(']');
      case ',':
        return single(',');
      case '=':
        return single('=');
      case '"':
      case "'": {
        let i = start + 1;
        while (i < t.length && t[i] !== c) {
          if (c === '"' && t[i] === '\\' && i + 1 < t.length) i++;
          if (t[i] === '\n') this.line++;
          i++;
        }
        if (i >= t.length) throw this.error('unterminated string', line, start);
        this.pos = i + 1;
        return { type: c === '"' ? 'dstring' : 'sstring', start, end: this.pos, line };
      }
      default:
        break;
    }
    if (valuesAllowed && /[0-9.+-]/.test(c)) {
      let type: TokenType = c === '.' ? 'float' : 'int';
      let i = start + 1;
      while (i < t.length) {
        const d = t[i] as string;
        if (d >= '0' && d <= '9') i++;
        else if (d === '.' && type !== 'float') {
          type = 'float';
          i++;
        } else break;
      }
      this.pos = i;
      return { type, start, end: i, line };
    }
    let i = start;
    while (i < t.length) {
      const d = t[i];
      if (isSpace(d) || d === '#' || d === '=' || d === '{' || d === '}') break;
      i++;
    }
    this.pos = i;
    return { type: valuesAllowed ? 'bare' : 'ident', start, end: i, line };
  }
}

/** Double-quoted strings: \" and \\ lose their backslash, any other stays (dm_unescape_double_quotes). */
function unescapeDouble(body: string): string {
  return body.replace(/\\(["\\])/g, '$1');
}

/** strtoll(text, NULL, 0) for the integers the tokenizer accepts (decimal or leading-0 octal). */
function parseInteger(text: string): number {
  const m = /^([+-]?)(\d*)/.exec(text);
  const sign = m?.[1] === '-' ? -1 : 1;
  const digits = m?.[2] ?? '';
  if (digits.length > 1 && digits.startsWith('0')) {
    const octal = /^[0-7]*/.exec(digits.slice(1))?.[0] ?? '';
    return sign * (octal === '' ? 0 : parseInt(octal, 8));
  }
  return digits === '' ? 0 : sign * Number(digits);
}

function parseFloatToken(text: string): number {
  const v = Number.parseFloat(text);
  return Number.isNaN(v) ? 0 : v;
}

class Parser {
  private tok: Token;
  private readonly lex: Tokenizer;

  constructor(
    private readonly text: string,
    source: string,
  ) {
    this.lex = new Tokenizer(text, source);
    this.tok = this.lex.next(false);
  }

  /** The current token's type, read afresh (advance() replaces the token). */
  private peek(): TokenType {
    return this.tok.type;
  }

  private advance(): void {
    const prev = this.tok.type;
    this.tok = this.lex.next(prev === '=' || prev === '[' || prev === ',');
  }

  private err(reason: string, token: Token = this.tok): ParseError {
    return this.lex.error(reason, token.line, token.start);
  }

  private tokenText(token: Token): string {
    return this.text.slice(token.start, token.end);
  }

  parseFile(): ConfigNode[] {
    const nodes: ConfigNode[] = [];
    while (this.tok.type !== 'eof') {
      if (this.tok.type === '}') throw this.err('"}" without a matching "{"');
      nodes.push(this.parseStatement([]));
    }
    return nodes;
  }

  private parseName(): { name: string; token: Token } {
    const token = this.tok;
    let name: string;
    if (token.type === 'ident') name = this.tokenText(token);
    else if (token.type === 'dstring') name = unescapeDouble(this.tokenText(token).slice(1, -1));
    else if (token.type === 'sstring') name = this.tokenText(token).slice(1, -1);
    else throw this.err(`expected a section or setting name, found ${JSON.stringify(this.tokenText(token) || token.type)}`);
    if (name === '') throw this.err('empty section or setting name');
    this.advance();
    return { name, token };
  }

  private parseStatement(parentPath: string[]): ConfigNode {
    const { name, token } = this.parseName();
    const segments = name.split('/').filter((s) => s !== '');
    if (segments.length === 0) throw this.err(`invalid name ${JSON.stringify(name)}`, token);
    const path = [...parentPath, ...segments];
    if (this.tok.type === '{') {
      const open = this.tok.start;
      this.advance();
      const children: ConfigNode[] = [];
      while (this.peek() !== '}') {
        if (this.peek() === 'eof') throw this.err(`section "${name}" opened on line ${token.line} is not closed`, token);
        children.push(this.parseStatement(path));
      }
      const close = this.tok.start;
      this.advance();
      return { kind: 'section', name, path, start: token.start, open, close, line: token.line, children };
    }
    if (this.tok.type !== '=') throw this.err(`expected "=" or "{" after ${JSON.stringify(name)}`);
    this.advance();
    const valueStart = this.tok.start;
    const { value, end } = this.parseValue();
    return { kind: 'setting', key: name, path, value, start: token.start, valueStart, end, line: token.line };
  }

  private parseScalar(): LvmConfigScalar {
    const token = this.tok;
    const text = this.tokenText(token);
    let value: LvmConfigScalar;
    switch (token.type) {
      case 'int':
        value = parseInteger(text);
        break;
      case 'float':
        value = parseFloatToken(text);
        break;
      case 'dstring':
        value = unescapeDouble(text.slice(1, -1));
        break;
      case 'sstring':
        value = text.slice(1, -1);
        break;
      case 'bare':
        value = text;
        break;
      default:
        throw this.err(`expected a value, found ${JSON.stringify(text || token.type)}`);
    }
    this.advance();
    return value;
  }

  private parseValue(): { value: LvmConfigValue; end: number } {
    if (this.tok.type !== '[') {
      const end = this.tok.end;
      return { value: this.parseScalar(), end };
    }
    const open = this.tok;
    this.advance();
    const items: LvmConfigScalar[] = [];
    while (this.peek() !== ']') {
      if (this.peek() === 'eof') throw this.err(`array opened on line ${open.line} is not closed`, open);
      items.push(this.parseScalar());
      if (this.peek() === ',') this.advance();
    }
    const end = this.tok.end;
    this.advance();
    return { value: items, end };
  }
}

// ---------------------------------------------------------------- values to text

function formatScalar(value: LvmConfigScalar, path: string): string {
  if (typeof value === 'string') {
    if (value.includes('\0')) throw new ConfigError(`${path}: a configuration string cannot contain NUL`);
    return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(`${path}: expected a string or a finite number, got ${String(value)}`);
  }
  const text = String(value);
  if (!/^-?\d+(?:\.\d+)?$/.test(text)) throw new ConfigError(`${path}: ${text} cannot be written in lvm.conf syntax`);
  return text;
}

/** lvm.conf text for a value, in lvm's own style: 1, "text", [ "a", "b" ]. */
export function formatConfigValue(value: LvmConfigValue, path = 'value'): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    return `[ ${value.map((v) => formatScalar(v, path)).join(', ')} ]`;
  }
  return formatScalar(value as LvmConfigScalar, path);
}

export function configValuesEqual(a: LvmConfigValue | undefined, b: LvmConfigValue | undefined): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

// ---------------------------------------------------------------- the file

/** "section/key" (or its parts) for lookups: non-empty segments. */
function splitPath(path: string | readonly string[]): string[] {
  const parts = typeof path === 'string' ? path.split('/') : [...path];
  if (parts.length === 0 || parts.some((p) => typeof p !== 'string' || p === '' || p.includes('/') || p.includes('\0'))) {
    throw new ConfigError(`invalid configuration path ${JSON.stringify(typeof path === 'string' ? path : path.join('/'))}: expected section/key`);
  }
  return parts;
}

/** Paths that set() writes must be plain words lvm reads back as names. */
function writablePath(path: string | readonly string[]): string[] {
  const parts = splitPath(path);
  if (parts.some((p) => !/^[A-Za-z0-9_.+-]+$/.test(p) || p.startsWith('#'))) {
    throw new ConfigError(`cannot write configuration path ${JSON.stringify(parts.join('/'))}: use letters, digits, _ . + - in section and key names`);
  }
  return parts;
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineEndOf(text: string, offset: number): number {
  const i = text.indexOf('\n', offset);
  return i === -1 ? text.length : i;
}

function indentOf(text: string, offset: number): string {
  const start = lineStartOf(text, offset);
  return /^[ \t]*/.exec(text.slice(start, offset))?.[0] ?? '';
}

function onlySpaceBefore(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStartOf(text, offset), offset));
}

export class LvmConfigFile {
  readonly text: string;
  readonly source: string;
  readonly nodes: readonly ConfigNode[];

  private constructor(text: string, source: string, nodes: ConfigNode[]) {
    this.text = text;
    this.source = source;
    this.nodes = nodes;
  }

  /** Parses lvm.conf syntax; malformed text raises a ParseError naming the line. */
  static parse(text: string, source = 'lvm.conf'): LvmConfigFile {
    if (typeof text !== 'string') throw new ParseError('expected text', { source });
    return new LvmConfigFile(text, source, new Parser(text, source).parseFile());
  }

  /** The text, byte for byte (edits included). */
  toString(): string {
    return this.text;
  }

  /** Every setting in file order, with full paths. */
  settings(): ConfigSetting[] {
    const out: ConfigSetting[] = [];
    const walk = (nodes: readonly ConfigNode[]): void => {
      for (const n of nodes) {
        if (n.kind === 'setting') out.push(n);
        else walk(n.children);
      }
    };
    walk(this.nodes);
    return out;
  }

  /** Sections in file order (a name may appear several times; lvm merges them). */
  sections(path?: string | readonly string[]): ConfigSection[] {
    const want = path === undefined ? undefined : splitPath(path);
    const out: ConfigSection[] = [];
    const walk = (nodes: readonly ConfigNode[]): void => {
      for (const n of nodes) {
        if (n.kind !== 'section') continue;
        if (want === undefined || samePath(n.path, want)) out.push(n);
        walk(n.children);
      }
    };
    walk(this.nodes);
    return out;
  }

  /** The setting lvm would use for path (the last one when repeated), or undefined. */
  setting(path: string | readonly string[]): ConfigSetting | undefined {
    const want = splitPath(path);
    return this.settings()
      .filter((s) => samePath(s.path, want))
      .at(-1);
  }

  /** The effective value at "section/key", or undefined when the file does not set it. */
  get(path: string | readonly string[]): LvmConfigValue | undefined {
    return this.setting(path)?.value;
  }

  has(path: string | readonly string[]): boolean {
    return this.setting(path) !== undefined;
  }

  /** Effective values of every setting, keyed "section/key". */
  entries(): Map<string, LvmConfigValue> {
    const map = new Map<string, LvmConfigValue>();
    for (const s of this.settings()) map.set(s.path.join('/'), s.value);
    return map;
  }

  private reparse(text: string): LvmConfigFile {
    return LvmConfigFile.parse(text, this.source);
  }

  /** The unit one nesting level adds: the first indented setting's indentation, else a tab. */
  private indentUnit(): string {
    for (const section of this.sections()) {
      const child = section.children[0];
      if (child !== undefined && onlySpaceBefore(this.text, child.start)) {
        const inner = indentOf(this.text, child.start);
        const outer = onlySpaceBefore(this.text, section.start) ? indentOf(this.text, section.start) : '';
        if (inner.startsWith(outer) && inner.length > outer.length) return inner.slice(outer.length);
      }
    }
    return '\t';
  }

  /**
   * Sets path to value and returns the edited file (this one is unchanged). An existing
   * setting has only its value replaced; a new one goes after the section's commented
   * example of that key ("# key = ..."), or at the end of the section; a missing section
   * is created at the end of its parent.
   */
  set(path: string | readonly string[], value: LvmConfigValue): LvmConfigFile {
    const parts = writablePath(path);
    const name = parts.join('/');
    const formatted = formatConfigValue(value, name);
    const existing = this.setting(parts);
    if (existing !== undefined) {
      if (configValuesEqual(existing.value, value)) return this;
      return this.reparse(this.text.slice(0, existing.valueStart) + formatted + this.text.slice(existing.end));
    }
    const key = parts.at(-1) as string;
    const parentPath = parts.slice(0, -1);
    return this.insert(parentPath, `${key} = ${formatted}`, key);
  }

  /** Inserts a statement line into the section at parentPath, creating sections as needed. */
  private insert(parentPath: string[], statement: string, key: string | null): LvmConfigFile {
    const text = this.text;
    const unit = this.indentUnit();
    if (parentPath.length === 0) {
      const sep = text === '' || text.endsWith('\n') ? '' : '\n';
      return this.reparse(`${text}${sep}${statement}\n`);
    }
    const section = this.sections(parentPath).at(-1);
    if (section === undefined) {
      const name = parentPath.at(-1) as string;
      const grand = parentPath.slice(0, -1);
      const block = `${name} {\n${unit}${statement.replaceAll('\n', `\n${unit}`)}\n}`;
      if (grand.length === 0) {
        const sep = text === '' ? '' : text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
        return this.reparse(`${text}${sep}${block}\n`);
      }
      return this.insert(grand, block, null);
    }
    const sectionIndent = onlySpaceBefore(text, section.start) ? indentOf(text, section.start) : '';
    // Next to lvm's own commented example of the key, when the section has one.
    if (key !== null) {
      const body = text.slice(section.open + 1, section.close);
      const example = new RegExp(`^([ \\t]*)#[ \\t]*${key.replace(/[.+]/g, '\\$&')}[ \\t]*=.*$`, 'gm');
      let last: RegExpExecArray | null = null;
      for (let m = example.exec(body); m !== null; m = example.exec(body)) last = m;
      if (last !== null) {
        const at = section.open + 1 + last.index + last[0].length;
        return this.reparse(`${text.slice(0, at)}\n${last[1] ?? ''}${statement}${text.slice(at)}`);
      }
    }
    const lastChild = section.children.at(-1);
    const childIndent =
      lastChild !== undefined && onlySpaceBefore(text, lastChild.start) ? indentOf(text, lastChild.start) : sectionIndent + unit;
    const indented = statement.replaceAll('\n', `\n${childIndent}`);
    if (onlySpaceBefore(text, section.close)) {
      const at = lineStartOf(text, section.close);
      return this.reparse(`${text.slice(0, at)}${childIndent}${indented}\n${text.slice(at)}`);
    }
    return this.reparse(`${text.slice(0, section.close)}\n${childIndent}${indented}\n${sectionIndent}${text.slice(section.close)}`);
  }

  /** Removes every setting at path (lvm's default applies again); whole lines when they hold nothing else. */
  unset(path: string | readonly string[]): LvmConfigFile {
    const parts = splitPath(path);
    const targets = this.settings().filter((s) => samePath(s.path, parts));
    if (targets.length === 0) return this;
    let text = this.text;
    for (const s of [...targets].reverse()) {
      const lineStart = lineStartOf(text, s.start);
      const lineEnd = lineEndOf(text, s.end);
      const after = text.slice(s.end, lineEnd);
      if (onlySpaceBefore(text, s.start) && /^[ \t]*(?:#.*)?$/.test(after)) {
        const removeEnd = lineEnd < text.length ? lineEnd + 1 : lineEnd;
        text = text.slice(0, lineStart) + text.slice(removeEnd);
      } else {
        const trailing = /^[ \t]*/.exec(after)?.[0].length ?? 0;
        text = text.slice(0, s.start) + text.slice(s.end + trailing);
      }
    }
    return this.reparse(text);
  }
}

export function parseLvmConfig(text: string, source?: string): LvmConfigFile {
  return LvmConfigFile.parse(text, source);
}
