/**
 * Report cell values in the three shapes lvm prints them, turned into one typed form.
 *
 * `--reportformat json` prints every value as a string ("" when undefined); `json_std`
 * (lvm2 >= 2.03.17, see lvmreport(7)) prints numbers unquoted, null for undefined
 * numbers, binary fields as 1/0 and string lists as arrays; the text form
 * (`--noheadings --separator`) prints what `json` quotes. Sizes are requested with
 * `--units b --nosuffix`, so they arrive as byte counts and become bigint here, once.
 */
import { ParseError } from '../errors.js';
import { parseJsonInput } from '../json-input.js';

/** A cell as it appears in a parsed report row. */
export type RawValue = string | number | null | readonly string[];
export type RawRow = Readonly<Record<string, RawValue>>;

export interface CellContext {
  source: string;
  line?: number;
  /** Shown in errors: the offending row or line. */
  excerpt: string;
}

function fail(reason: string, field: string, value: unknown, ctx: CellContext): never {
  throw new ParseError(`${field}: ${reason} (got ${JSON.stringify(value)})`, {
    source: ctx.source,
    ...(ctx.line === undefined ? {} : { line: ctx.line }),
    excerpt: ctx.excerpt,
  });
}

/** Fails with every field of `fields` the row lacks (an lvm that left them out of -o). */
export function requireFields(row: RawRow, fields: readonly string[], ctx: CellContext): void {
  const missing = fields.filter((f) => !Object.hasOwn(row, f));
  if (missing.length > 0) {
    throw new ParseError(`field${missing.length > 1 ? 's' : ''} missing from the report: ${missing.join(', ')}`, {
      source: ctx.source,
      ...(ctx.line === undefined ? {} : { line: ctx.line }),
      excerpt: ctx.excerpt,
    });
  }
}

function cell(row: RawRow, field: string, ctx: CellContext): RawValue {
  if (!Object.hasOwn(row, field)) fail('field missing from the report', field, undefined, ctx);
  return row[field] as RawValue;
}

export function readString(row: RawRow, field: string, ctx: CellContext): string {
  const v = cell(row, field, ctx);
  if (typeof v !== 'string') fail('expected a string', field, v, ctx);
  return v;
}

/** "" (lvm's blank) becomes null. */
export function readOptionalString(row: RawRow, field: string, ctx: CellContext): string | null {
  const v = readString(row, field, ctx);
  return v === '' ? null : v;
}

const INTEGER_RE = /^-?\d+$/;

function integerText(v: RawValue, field: string, ctx: CellContext): string | null {
  if (v === null || v === '') return null;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail('expected an integer', field, v, ctx);
    return String(v);
  }
  if (typeof v !== 'string' || !INTEGER_RE.test(v)) fail('expected an integer', field, v, ctx);
  return v;
}

/** Byte counts (`--units b --nosuffix`); null when lvm left the field blank. */
export function readOptionalBytes(row: RawRow, field: string, ctx: CellContext): bigint | null {
  const text = integerText(cell(row, field, ctx), field, ctx);
  if (text === null) return null;
  const value = BigInt(text);
  if (value < 0n) fail('expected a size in bytes', field, text, ctx);
  return value;
}

export function readBytes(row: RawRow, field: string, ctx: CellContext): bigint {
  const v = readOptionalBytes(row, field, ctx);
  if (v === null) fail('expected a size in bytes', field, row[field], ctx);
  return v;
}

/** Counts and numbers such as -1 for "no kernel major"; null when blank. */
export function readOptionalInteger(row: RawRow, field: string, ctx: CellContext): number | null {
  const text = integerText(cell(row, field, ctx), field, ctx);
  if (text === null) return null;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) fail('integer out of range', field, text, ctx);
  return value;
}

export function readInteger(row: RawRow, field: string, ctx: CellContext): number {
  const v = readOptionalInteger(row, field, ctx);
  if (v === null) fail('expected an integer', field, row[field], ctx);
  return v;
}

const PERCENT_RE = /^\d+(?:\.\d+)?$/;

/** Data%, Cpy%Sync: "100.00" or 100.0 or blank/null. */
export function readPercent(row: RawRow, field: string, ctx: CellContext): number | null {
  const v = cell(row, field, ctx);
  if (v === null || v === '') return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) fail('expected a percentage', field, v, ctx);
    return v;
  }
  if (typeof v !== 'string' || !PERCENT_RE.test(v)) fail('expected a percentage', field, v, ctx);
  return Number(v);
}

/** String lists (tags, devices): "a,b" in json/text, ["a","b"] in json_std. */
export function readList(row: RawRow, field: string, ctx: CellContext): string[] {
  const v = cell(row, field, ctx);
  if (Array.isArray(v)) {
    if (!v.every((item) => typeof item === 'string')) fail('expected a list of strings', field, v, ctx);
    return [...v];
  }
  if (typeof v !== 'string') fail('expected a list', field, v, ctx);
  return v === '' ? [] : v.split(',');
}

/**
 * Binary fields: json/text print the field's word when set ("active locally"), "" when
 * not and "unknown" when lvm cannot tell; json_std prints 1, 0 and -1 (or null).
 */
export function readBinary(row: RawRow, field: string, ctx: CellContext): boolean | null {
  const v = cell(row, field, ctx);
  if (v === null || v === -1 || v === 'unknown' || v === '-1') return null;
  if (v === 1 || v === '1') return true;
  if (v === 0 || v === '0' || v === '') return false;
  if (typeof v === 'string' && /^[a-z][a-z ]*$/.test(v)) return true;
  fail('expected a binary value', field, v, ctx);
}

/**
 * JSON.parse, except that integers too large for a double come back as strings so that
 * json_std sizes above 2^53 bytes keep every digit, and that a comma right before a closing
 * bracket is dropped: lvm2 2.03.16 writes one after the last command-log row it prints when
 * the row after it was filtered out by log/command_log_selection (e.g. `vgs missing_vg vg`).
 */
export function parseJsonKeepingIntegers(text: string, source = 'lvm JSON'): unknown {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c === ',') {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j] ?? '')) j++;
      if (text[j] === ']' || text[j] === '}') {
        out += text.slice(last, i);
        last = i + 1;
      }
      continue;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < text.length && (text[j] ?? '') >= '0' && (text[j] ?? '') <= '9') j++;
      const next = text[j];
      const isInteger = next !== '.' && next !== 'e' && next !== 'E';
      const digits = text.slice(c === '-' ? i + 1 : i, j);
      if (isInteger && digits.length > 15) {
        out += `${text.slice(last, i)}"${text.slice(i, j)}"`;
        last = j;
      }
      i = j - 1;
    }
  }
  // Quotes are added and commas dropped on the same lines, so error lines still match the input.
  return parseJsonInput(out + text.slice(last), source);
}
