import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { DISK_STATES, REPLICATION_STATES } from '../../../src/drbd/states.js';
import { parseStatusJson } from '../../../src/drbd/status-json.js';

const dir = new URL('../../fixtures/status-json/', import.meta.url);
const fixtures = readdirSync(dir).map((name) => readFileSync(new URL(name, dir), 'utf8'));
const documents = fixtures.flatMap((text) => {
  try {
    return [JSON.parse(text) as unknown];
  } catch {
    return [];
  }
});

function valueOrParseError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    expect(error.code).toBe('E_PARSE');
  }
}

/** Replaces the value at a random path of a JSON document. */
function mutate(doc: unknown, pick: number, replacement: unknown): unknown {
  const copy = structuredClone(doc);
  const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
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

describe('status --json parser properties', () => {
  it('random strings and random JSON: a value or a ParseError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 4 })), (s) => valueOrParseError(() => parseStatusJson(s))),
      { numRuns: 2000 },
    );
  });

  it('real documents with one value replaced: a value or a ParseError', () => {
    const replacement = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(...DISK_STATES, ...REPLICATION_STATES, -1, 1.5, 2 ** 60, '', null, 987654321),
    );
    fc.assert(
      fc.property(fc.constantFrom(...documents), fc.nat(), replacement, (doc, pick, value) =>
        valueOrParseError(() => parseStatusJson(JSON.stringify(mutate(doc, pick, value)))),
      ),
      { numRuns: 3000 },
    );
  });

  it('truncated real documents: a ParseError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...fixtures.filter((f) => f.startsWith('['))), fc.nat(), (text, at) => {
        const cut = text.slice(0, at % text.trimEnd().length);
        expect(() => parseStatusJson(cut)).toThrow(ParseError);
      }),
      { numRuns: 500 },
    );
  });
});
