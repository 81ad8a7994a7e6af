/**
 * The one place that knows the XML library (fast-xml-parser 5). Everything
 * else in src/pacemaker reads a plain element tree: a name, its attributes as
 * strings, its child elements in order. No single-versus-array ambiguity and
 * no attribute prefixes leak out, and the library can be swapped here alone.
 *
 * Bad input (not well-formed, no root element, several roots, nesting past
 * XML_MAX_DEPTH) is a ParseError naming the line, never a library exception.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ParseError } from '../errors.js';
import { lineAtOffset, lineText } from '../json-input.js';
import { xmlAttributes, xmlEscape } from './generate/xml-escape.js';

/** Far above anything crm_mon or a CIB nests (under 15). */
export const XML_MAX_DEPTH = 64;

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Text directly inside the element, trimmed and joined ('' when none). */
  readonly text: string;
}

const ATTRIBUTES = ':@';
const TEXT = '#text';

/** Offset of the tag that opens level `maxDepth + 1`, or -1; a rough scan, before the library walks anything. */
function tooDeepAt(text: string, maxDepth: number): number {
  let depth = 0;
  for (let i = text.indexOf('<'); i >= 0 && i < text.length; i = text.indexOf('<', i + 1)) {
    const next = text.charCodeAt(i + 1);
    if (next === 33 /* ! */ || next === 63 /* ? */) continue;
    if (next === 47 /* / */) {
      depth = Math.max(0, depth - 1);
      continue;
    }
    const close = text.indexOf('>', i);
    if (close < 0) return -1;
    if (text.charCodeAt(close - 1) !== 47) {
      depth++;
      if (depth > maxDepth) return i;
    }
    i = close;
  }
  return -1;
}

type Raw = Record<string, unknown>;

function toElement(raw: Raw, name: string): XmlElement {
  const attributes: Record<string, string> = {};
  const rawAttributes = raw[ATTRIBUTES];
  if (rawAttributes !== null && typeof rawAttributes === 'object') {
    for (const [key, value] of Object.entries(rawAttributes as Raw)) attributes[key] = String(value);
  }
  const children: XmlElement[] = [];
  const texts: string[] = [];
  const content = raw[name];
  if (Array.isArray(content)) {
    for (const item of content as Raw[]) {
      const key = Object.keys(item).find((k) => k !== ATTRIBUTES);
      if (key === undefined) continue;
      if (key === TEXT) texts.push(String(item[TEXT]).trim());
      else if (!key.startsWith('?') && !key.startsWith('!')) children.push(toElement(item, key));
    }
  }
  return { name, attributes, children, text: texts.filter((t) => t !== '').join(' ') };
}

/** Parses a whole XML document; its root element. */
export function parseXml(text: string, source: string): XmlElement {
  if (text.trim() === '') throw new ParseError('empty input (expected an XML document)', { source });
  const deep = tooDeepAt(text, XML_MAX_DEPTH);
  if (deep >= 0) {
    const line = lineAtOffset(text, deep);
    throw new ParseError(`XML nested more than ${XML_MAX_DEPTH} levels deep`, { source, line, excerpt: lineText(text, line).trim() });
  }
  let valid: ReturnType<typeof XMLValidator.validate>;
  try {
    valid = XMLValidator.validate(text);
  } catch (error) {
    throw new ParseError(`not well-formed XML (${(error as Error).message})`, { source, excerpt: text.trim().slice(0, 80) });
  }
  if (valid !== true) {
    const line = valid.err.line;
    throw new ParseError(`not well-formed XML (${valid.err.msg})`, { source, line, excerpt: lineText(text, line).trim() });
  }
  let raw: unknown;
  try {
    raw = new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      attributeNamePrefix: '',
      parseAttributeValue: false,
      parseTagValue: false,
      trimValues: true,
      ignoreDeclaration: true,
      ignorePiTags: true,
      commentPropName: false,
      maxNestedTags: XML_MAX_DEPTH + 1,
    }).parse(text);
  } catch (error) {
    throw new ParseError(`not well-formed XML (${(error as Error).message})`, { source, excerpt: text.trim().slice(0, 80) });
  }
  const roots = (Array.isArray(raw) ? (raw as Raw[]) : []).flatMap((item) => {
    const key = Object.keys(item).find((k) => k !== ATTRIBUTES);
    return key === undefined || key === TEXT || key.startsWith('?') || key.startsWith('!') ? [] : [toElement(item, key)];
  });
  if (roots.length !== 1) {
    throw new ParseError(roots.length === 0 ? 'no root element' : `${roots.length} root elements`, { source, excerpt: text.trim().slice(0, 80) });
  }
  return roots[0]!;
}

/** Child elements named `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** The first child element named `name`, if any. */
export function childNamed(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

/** A short text of an element for error excerpts: `<name a="b" …>`. */
export function elementExcerpt(element: XmlElement): string {
  const attrs = Object.entries(element.attributes)
    .map(([k, v]) => `${k}="${v}"`)
    .join(' ');
  return `<${element.name}${attrs === '' ? '' : ` ${attrs}`}>`;
}

/** The element as indented XML text (attributes in their order, escaped); parseXml reads it back the same. */
export function elementXml(element: XmlElement, indent = ''): string {
  const open = `${indent}<${element.name}${xmlAttributes(element.attributes)}`;
  if (element.children.length === 0 && element.text === '') return `${open}/>`;
  if (element.children.length === 0) return `${open}>${xmlEscape(element.text)}</${element.name}>`;
  return [`${open}>`, ...element.children.map((c) => elementXml(c, `${indent}  `)), `${indent}</${element.name}>`].join('\n');
}
