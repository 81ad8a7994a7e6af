import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseFullReport, parseReport } from '../../../src/lvm/report.js';
import type { ReportFormat } from '../../../src/lvm/report.js';
import type { ReportKind } from '../../../src/lvm/report-fields.js';
import { fixture } from './helpers.js';

const KINDS: ReportKind[] = ['pv', 'vg', 'lv', 'seg', 'pvseg'];
const jsonFixtures = readdirSync(new URL('../../fixtures/lvm/host-2.03.16/', import.meta.url))
  .filter((f) => f.includes('json') && !f.includes('stderr'))
  .map((f) => fixture(`host-2.03.16/${f}`))
  .concat(['lab-2.03.16/lvs-json-all-fields.txt', 'lab-2.03.16/pvs-json.txt', 'json-std/report-format-test-json-std.txt'].map(fixture));
const textFixtures: Array<[ReportKind, string]> = [
  ['pv', fixture('host-2.03.16/pvs-text.txt')],
  ['vg', fixture('host-2.03.16/vgs-text.txt')],
  ['lv', fixture('host-2.03.16/lvs-text.txt')],
  ['seg', fixture('host-2.03.16/lvs-segments-text.txt')],
  ['pvseg', fixture('host-2.03.16/pvs-segments-text.txt')],
];

/** Runs a parser: it may return or throw ParseError, nothing else. */
function valueOrParseError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    expect(error.code).toBe('E_PARSE');
  }
}

function parseAll(text: string, format: ReportFormat): void {
  for (const kind of KINDS) valueOrParseError(() => parseReport(kind, text, { format }));
  if (format !== 'text') valueOrParseError(() => parseFullReport(text, format));
}

/** Replaces the value at one position of a JSON document. */
function mutate(doc: unknown, pick: number, replacement: unknown): unknown {
  const copy = structuredClone(doc);
  const slots: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach((child, i) => (slots.push({ parent: node, key: i }), walk(child)));
    else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) (slots.push({ parent: node as Record<string, unknown>, key }), walk(child));
    }
  };
  walk(copy);
  const slot = slots[pick % Math.max(slots.length, 1)];
  if (slot !== undefined) (slot.parent as Record<string | number, unknown>)[slot.key] = replacement;
  return copy;
}

describe('report parser properties', () => {
  it('random text and random JSON: a value or a ParseError, in every format', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 5 })), fc.constantFrom<ReportFormat>('json', 'json_std', 'text'), (text, format) =>
        parseAll(text, format),
      ),
      { numRuns: 1500 },
    );
  });

  it('real reports with one value replaced: a value or a ParseError', () => {
    const docs = jsonFixtures.map((t) => JSON.parse(t) as unknown);
    const replacement = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('', '-1', 'unknown', '1.5', '99999999999999999999', 2 ** 60, -1, null, [], ['x'], 'a,b', '/dev/x(', '(1)', '-wi-a-----', 'wz--ns'),
    );
    fc.assert(
      fc.property(fc.constantFrom(...docs), fc.nat(), replacement, fc.constantFrom<ReportFormat>('json', 'json_std'), (doc, pick, value, format) =>
        parseAll(JSON.stringify(mutate(doc, pick, value)), format),
      ),
      { numRuns: 3000 },
    );
  });

  it('real reports cut short or with a byte changed: a value or a ParseError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...jsonFixtures), fc.nat(), fc.string({ maxLength: 3 }), (text, at, insert) => {
        const i = at % (text.length + 1);
        parseAll(text.slice(0, i), 'json');
        parseAll(text.slice(0, i) + insert + text.slice(i + 1), 'json_std');
      }),
      { numRuns: 2000 },
    );
  });

  it('text reports with a cell replaced or a line cut: a value or a ParseError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...textFixtures), fc.nat(), fc.nat(), fc.string({ maxLength: 12 }), ([kind, text], line, cellIndex, value) => {
        const lines = text.split('\n');
        const n = line % lines.length;
        const cells = (lines[n] ?? '').split('|');
        cells[cellIndex % cells.length] = value;
        lines[n] = cells.join('|');
        valueOrParseError(() => parseReport(kind, lines.join('\n'), { format: 'text' }));
        valueOrParseError(() => parseReport(kind, text.slice(0, (line * 7) % (text.length + 1)), { format: 'text' }));
      }),
      { numRuns: 2000 },
    );
  });

  it('sizes survive any byte count lvm can print', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.boolean(), (size, quoted) => {
        const cell = quoted ? `"${size}"` : String(size);
        const text = fixture('host-2.03.16/pvs-json.txt').replace('"pv_size":"130023424"', `"pv_size":${cell}`);
        const [pv] = parseReport('pv', text, { format: quoted ? 'json' : 'json_std' }).items;
        expect(pv?.sizeBytes).toBe(size);
      }),
      { numRuns: 500 },
    );
  });
});
