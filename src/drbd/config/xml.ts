/**
 * A small, strict XML reader for what `drbdadm dump-xml` prints: elements,
 * attributes, text, comments and an optional `<?xml ?>` declaration. The five
 * predefined entities and numeric character references are decoded;
 * anything else (DOCTYPE, CDATA, unknown entities, stray `<`, mismatched tags)
 * is a ParseError with the line it was found on.
 */
import { ParseError } from '../../errors.js';

export interface XmlElement {
  name: string;
  attrs: Readonly<Record<string, string>>;
  children: XmlElement[];
  /** Text directly inside the element, entities decoded, untrimmed. */
  text: string;
  line: number;
}

/** Deeper nesting than drbdadm ever prints is refused rather than followed. */
const MAX_DEPTH = 32;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:-]*/;
const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function parseXml(text: string, source: string): XmlElement[] {
  const lines = text.split('\n');
  let pos = 0;
  let line = 1;
  const fail = (reason: string, at = line): never => {
    throw new ParseError(reason, { source, line: at, excerpt: lines[at - 1] ?? '' });
  };
  const advance = (to: number): void => {
    for (let i = pos; i < to; i++) if (text.charCodeAt(i) === 10) line++;
    pos = to;
  };
  const decode = (raw: string, at: number): string =>
    raw.replace(/&([^;&\s]{0,10});?/g, (whole, name: string) => {
      if (!whole.endsWith(';')) fail(`"&" not followed by an entity reference`, at);
      const named = ENTITIES[name];
      if (named !== undefined) return named;
      const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(name);
      const code = m ? (m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2])) : Number.NaN;
      if (!Number.isInteger(code) || code > 0x10ffff || code === 0) fail(`unknown entity &${name};`, at);
      return String.fromCodePoint(code);
    });

  const roots: XmlElement[] = [];
  const stack: XmlElement[] = [];
  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const chunkEnd = lt === -1 ? text.length : lt;
    if (chunkEnd > pos) {
      const at = line;
      const raw = text.slice(pos, chunkEnd);
      if (raw.includes('>')) fail('stray ">" in text', at);
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (raw.trim() !== '') fail('text outside any element', at);
      } else top.text += decode(raw, at);
      advance(chunkEnd);
      if (lt === -1) break;
    }
    const at = line;
    if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos + 4);
      if (end === -1) fail('unterminated comment', at);
      advance(end + 3);
    } else if (text.startsWith('<?', pos)) {
      const end = text.indexOf('?>', pos + 2);
      if (end === -1 || stack.length > 0 || roots.length > 0) fail('misplaced or unterminated <? ?> declaration', at);
      advance(end + 2);
    } else if (text.startsWith('</', pos)) {
      const m = NAME_RE.exec(text.slice(pos + 2, pos + 130));
      const name = m?.[0];
      const close = name === undefined ? -1 : pos + 2 + name.length;
      const rest = close === -1 ? null : /^\s*>/.exec(text.slice(close, close + 64));
      if (name === undefined || rest === null) fail('malformed end tag', at);
      const open = stack.pop();
      if (open === undefined || open.name !== name) fail(`end tag </${name as string}> does not close ${open ? `<${open.name}>` : 'anything'}`, at);
      advance(close + (rest as RegExpExecArray)[0].length);
    } else if (text.startsWith('<!', pos)) {
      fail('DOCTYPE and CDATA are not part of drbdadm output', at);
    } else {
      const m = NAME_RE.exec(text.slice(pos + 1, pos + 130));
      if (m === null) fail('malformed start tag', at);
      const name = (m as RegExpExecArray)[0];
      let i = pos + 1 + name.length;
      // No prototype: attribute names are data, even "__proto__" or "constructor".
      const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
      let selfClosing = false;
      for (;;) {
        const ws = /^\s*/.exec(text.slice(i, i + 4096)) as RegExpExecArray;
        i += ws[0].length;
        if (text.startsWith('/>', i)) {
          selfClosing = true;
          i += 2;
          break;
        }
        if (text[i] === '>') {
          i += 1;
          break;
        }
        if (ws[0].length === 0) fail(`malformed attributes in <${name}>`, at);
        const a = /^([A-Za-z_][A-Za-z0-9_.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(text.slice(i, i + 65536));
        if (a === null) fail(`malformed attribute in <${name}>`, at);
        const [whole, attrName, , dq, sq] = a as RegExpExecArray;
        if (Object.hasOwn(attrs, attrName as string)) fail(`attribute ${attrName as string} given twice`, at);
        attrs[attrName as string] = decode((dq ?? sq) as string, at);
        i += whole.length;
      }
      const element: XmlElement = { name, attrs, children: [], text: '', line: at };
      const parent = stack[stack.length - 1];
      if (parent === undefined) roots.push(element);
      else parent.children.push(element);
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) fail('elements nested too deeply', at);
        stack.push(element);
      }
      advance(i);
    }
  }
  const open = stack[stack.length - 1];
  if (open !== undefined) fail(`<${open.name}> is not closed`, open.line);
  return roots;
}
