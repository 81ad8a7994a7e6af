/**
 * The JSON document of `--reportformat json` / `json_std`:
 * { "report": [ { "<type>": [ {field: value, ...}, ... ], ... }, ... ], "log": [ ... ] }.
 * pvs/vgs/lvs print one report item; `lvm fullreport` prints one per VG (vg, pv, lv,
 * pvseg, seg) plus one for orphan PVs (pv, pvseg only). "log" is there when the command
 * log is reported (log/report_command_log = 1).
 */
import { z } from 'zod';
import { ParseError } from '../errors.js';
import { parseJsonKeepingIntegers } from './report-values.js';
import type { RawRow } from './report-values.js';

const rawValue = z.union([z.string(), z.number(), z.null(), z.array(z.string())]);
const rawRow = z.record(z.string(), rawValue);
const documentSchema = z.looseObject({
  report: z.array(z.record(z.string(), z.array(rawRow))),
  log: z.array(rawRow).optional(),
});

export interface JsonReportDocument {
  /** One entry per report item, keyed by report type (pv, vg, lv, seg, pvseg). */
  items: Array<Record<string, RawRow[]>>;
  log: RawRow[];
}

export function parseJsonReportDocument(text: string, source: string): JsonReportDocument {
  if (typeof text !== 'string') throw new ParseError('expected text', { source });
  if (text.trim() === '') throw new ParseError('empty output, expected a JSON report', { source });
  const parsed = parseJsonKeepingIntegers(text, source);
  const result = documentSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw new ParseError(`not an lvm report${where}: ${issue?.message ?? 'unexpected shape'}`, {
      source,
      excerpt: text.trim().slice(0, 80),
    });
  }
  return { items: result.data.report, log: result.data.log ?? [] };
}

/** A row shortened for error messages. */
export function rowExcerpt(row: RawRow): string {
  return JSON.stringify(row);
}
