/**
 * JSON from outside the process (captures, command output, the cluster file):
 * every failure is a ParseError naming the line, never a SyntaxError or a
 * RangeError. Nesting is bounded before parsing, so no later walk over the
 * value (zod, JSON.stringify of an excerpt, a recursive reader) can run out
 * of stack.
 */
import { ParseError } from './errors.js';

/** Far above anything drbdsetup, lvm, findmnt or a cluster file nests (under 20). */
export const JSON_MAX_DEPTH = 256;

/** 1-based line of a character offset. */
export function lineAtOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The text of 1-based line `line` (trailing space dropped); '' past the end. */
export function lineText(text: string, line: number): string {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf('\n', start);
    if (next < 0) return '';
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? undefined : end).trimEnd();
}

/** Offset of the bracket that opens level `maxDepth + 1`, or -1. Strings are skipped; one pass, no recursion. */
function tooDeepAt(text: string, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      depth++;
      if (depth > maxDepth) return i;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth = Math.max(0, depth - 1);
  }
  return -1;
}

/**
 * Where JSON.parse failed. V8 names a position for some errors; for an
 * unexpected token Node 20 quotes the text around it instead, which is found
 * again in the input.
 */
function syntaxErrorLine(text: string, message: string): number | undefined {
  const lineMatch = /line (\d+)/.exec(message);
  if (lineMatch) return Number(lineMatch[1]);
  const position = /position (\d+)/.exec(message);
  if (position) return lineAtOffset(text, Number(position[1]));
  if (/Unexpected end of JSON input/.test(message)) return lineAtOffset(text, text.trimEnd().length);
  const snippet = /(?:\.\.\.)?"([\s\S]*)"(?:\.\.\.)? is not valid JSON$/.exec(message)?.[1];
  const token = /Unexpected token '([\s\S])'/.exec(message)?.[1];
  if (snippet === undefined || snippet === '') return undefined;
  const at = text.indexOf(snippet);
  if (at < 0) return undefined;
  return lineAtOffset(text, at + Math.max(0, token === undefined ? 0 : snippet.indexOf(token)));
}

export interface JsonInputOptions {
  maxDepth?: number;
  /** Added to the reason of a syntax error, e.g. why this input may not be JSON at all. */
  hint?: string;
}

/** JSON.parse for outside input: a ParseError (with the line) for bad syntax, too deep nesting or an engine limit. */
export function parseJsonInput(text: string, source: string, options: JsonInputOptions = {}): unknown {
  const maxDepth = options.maxDepth ?? JSON_MAX_DEPTH;
  const deep = tooDeepAt(text, maxDepth);
  if (deep >= 0) {
    const line = lineAtOffset(text, deep);
    throw new ParseError(`JSON nested more than ${maxDepth} levels deep`, { source, line, excerpt: lineText(text, line) });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const line = error instanceof SyntaxError ? syntaxErrorLine(text, message) : undefined;
    const excerpt = line === undefined ? text.trim().slice(0, 80) : lineText(text, line);
    // V8: "... in JSON at position 42 (line 3 column 5)": the line is shown by ParseError already.
    const reason = `not valid JSON${options.hint ?? ''} (${message.replace(/\s*\(line \d+ column \d+\)$/, '')})`;
    throw new ParseError(reason, { source, ...(line === undefined ? {} : { line }), ...(excerpt === '' ? {} : { excerpt }) });
  }
}
