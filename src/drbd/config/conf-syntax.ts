/**
 * drbd.conf token syntax, both ways: when a word may stand bare and how to
 * quote it, and a tokenizer that turns configuration text (as `drbdadm dump`
 * prints it, or as people write it) into a tree of statements.
 *
 * Facts from drbd-utils' drbdadm_scanner.fl (9.22): bare strings are
 * `[a-zA-Z0-9/._-]{1,128}`; a bare word that is also a keyword, an integer
 * (`[0-9]{1,8}[MKGs]?`) or an IPv4 address lexes as that instead; double
 * quoted strings hold up to 255 characters with `\` escaping the next
 * character and no newline; `#` starts a comment up to the end of the line.
 * Option values may be strings or integers (drbdadm: "'TK_STRING | TK_INTEGER'
 * expected"), and a bare flag takes no value at all (`stacked-timeouts;`).
 */
import { ParseError } from '../../errors.js';

const BARE_RE = /^[A-Za-z0-9/._-]{1,128}$/;
const INTEGER_RE = /^[0-9]{1,8}[MKGs]?$/;
const IPV4_RE = /^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$/;

/** Words drbdadm's scanner returns as keywords (drbdadm_scanner.fl, v9). */
const KEYWORDS: ReadonlySet<string> = new Set([
  'on',
  'stacked-on-top-of',
  'floating',
  'no',
  'net',
  'yes',
  'ask',
  'via',
  'skip',
  'disk',
  'host',
  'hosts',
  'port',
  'proxy',
  'minor',
  'inside',
  'volume',
  'cmd-timeout-short',
  'cmd-timeout-medium',
  'cmd-timeout-long',
  'syncer',
  'device',
  'global',
  'common',
  'options',
  'outside',
  'address',
  'startup',
  'include',
  'handlers',
  'connection',
  'connection-mesh',
  'minor-count',
  'disable-ip-verification',
  'dialog-refresh',
  'resource',
  'meta-disk',
  'flexible-meta-disk',
  'node-id',
  'usage-count',
  '_this_host',
  '_remote_host',
  '_peer_node_id',
  '_is_standalone',
  'template-file',
  'path',
  'sci',
  'ssocks',
  'sdp',
  'ipv4',
  'ipv6',
]);

const quoted = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** A name (resource, host, path) as drbdadm reads it back: bare when that lexes as a plain string, else double-quoted. */
export function quoteWord(text: string): string {
  if (BARE_RE.test(text) && !KEYWORDS.has(text) && !INTEGER_RE.test(text) && !IPV4_RE.test(text)) return text;
  return quoted(text);
}

/** An option value: drbdadm takes a string or an integer token there, so numbers stay bare too. */
export function quoteValue(text: string): string {
  if (BARE_RE.test(text) && !KEYWORDS.has(text) && !IPV4_RE.test(text)) return text;
  return quoted(text);
}

export interface Token {
  /** `word` and `string` carry text; a quoted string is never a keyword. */
  kind: 'word' | 'string' | '{' | '}' | ';';
  text: string;
  line: number;
}

export interface Statement {
  /** The words before `;` or `{`. */
  words: Token[];
  /** The statements inside `{ }`, when the statement opens a section. */
  block?: Statement[];
  line: number;
}

const WORD_BREAK = /[\s{};"#]/;
/** drbdadm nests four levels at most (resource, connection, volume, disk); deeper input is refused, not followed. */
const MAX_DEPTH = 16;

export function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  const lines = text.split('\n');
  let line = 1;
  let i = 0;
  const excerpt = (): string => lines[line - 1] ?? '';
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '{' || c === '}' || c === ';') {
      tokens.push({ kind: c, text: c, line });
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        const d = text[i];
        if (d === undefined) throw new ParseError('unterminated quoted string', { source, line, excerpt: excerpt() });
        if (d === '\n') throw new ParseError('newline inside a quoted string', { source, line, excerpt: excerpt() });
        if (d === '"') break;
        if (d === '\\') {
          const e = text[i + 1];
          if (e === undefined || e === '\n') throw new ParseError('backslash at the end of a line in a quoted string', { source, line, excerpt: excerpt() });
          value += e;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', text: value, line });
    } else {
      let j = i;
      while (j < text.length && !WORD_BREAK.test(text[j] as string)) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j), line });
      i = j;
    }
  }
  return tokens;
}

/**
 * Statements of a whole file. `skip` sections (drbdadm ignores everything
 * from `skip` to the matching `}`) are dropped here.
 */
export function parseStatements(text: string, source: string): Statement[] {
  const tokens = tokenize(text, source);
  const lines = text.split('\n');
  let pos = 0;
  const fail = (reason: string, line: number): never => {
    throw new ParseError(reason, { source, line, excerpt: lines[line - 1] ?? '' });
  };
  const parseBlock = (depth: number): Statement[] => {
    const out: Statement[] = [];
    let words: Token[] = [];
    for (;;) {
      const t = tokens[pos];
      if (t === undefined) {
        if (words.length > 0) fail('statement not terminated by ";"', words[0]!.line);
        if (depth > 0) fail('missing "}" at the end of the input', lines.length);
        return out;
      }
      pos++;
      if (t.kind === 'word' || t.kind === 'string') {
        words.push(t);
      } else if (t.kind === ';') {
        if (words.length === 0) fail('empty statement', t.line);
        out.push({ words, line: words[0]!.line });
        words = [];
      } else if (t.kind === '{') {
        if (words.length === 0) fail('section without a keyword', t.line);
        if (depth >= MAX_DEPTH) fail('sections nested too deeply', t.line);
        const block = parseBlock(depth + 1);
        if (!(words[0]!.kind === 'word' && words[0]!.text === 'skip')) out.push({ words, block, line: words[0]!.line });
        words = [];
      } else {
        if (words.length > 0) fail('statement not terminated by ";"', words[0]!.line);
        if (depth === 0) fail('"}" without a matching "{"', t.line);
        return out;
      }
    }
  };
  return parseBlock(0);
}
