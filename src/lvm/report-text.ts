/**
 * The text report for lvm2 without JSON (older than 2.02.158):
 * `<cmd> --noheadings --separator '|' --units b --nosuffix -o <fields>`.
 * lvm indents every row by two spaces and, without --aligned, pads nothing; values never
 * contain the separator because names, tags and UUIDs cannot hold "|" (lvm's own
 * character rules). One row per line, fields in the order asked for.
 */
import { ParseError } from '../errors.js';
import type { RawRow } from './report-values.js';

export const TEXT_SEPARATOR = '|';

export interface TextRow {
  row: RawRow;
  line: number;
  text: string;
}

export function parseTextReport(text: string, fields: readonly string[], source: string): TextRow[] {
  if (typeof text !== 'string') throw new ParseError('expected text', { source });
  const rows: TextRow[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    const line = raw.replace(/^\s+/, '');
    const values = line.split(TEXT_SEPARATOR);
    if (values.length !== fields.length) {
      throw new ParseError(`expected ${fields.length} fields separated by "${TEXT_SEPARATOR}", found ${values.length}`, {
        source,
        line: index + 1,
        excerpt: raw,
      });
    }
    const row: Record<string, string> = {};
    fields.forEach((field, i) => {
      row[field] = values[i] ?? '';
    });
    rows.push({ row, line: index + 1, text: raw });
  });
  return rows;
}
