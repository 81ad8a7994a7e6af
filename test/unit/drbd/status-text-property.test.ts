import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { DISK_STATES, REPLICATION_STATES } from '../../../src/drbd/states.js';
import { parseStatusText } from '../../../src/drbd/status-text.js';

const dir = new URL('../../fixtures/status-text/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((name) => name.endsWith('.txt'))
  .map((name) => readFileSync(new URL(name, dir), 'utf8'));

function valueOrParseError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    expect(error.code).toBe('E_PARSE');
  }
}

const textArb = fc.constantFrom(...fixtures);
const noise = fc.string({ unit: fc.constantFrom(' ', '  ', ':', '\n', '\t', '0', '.', 'a', 'volume:', 'disk:', 'node-id:', '#', '\x1b[0m', '\u00e9') });

// Line-level edits of real output: drop, repeat, re-indent, splice noise, swap words.
const mutated = fc.oneof(
  fc.tuple(textArb, fc.nat(), fc.nat(8)).map(([text, at, indent]) => {
    const lines = text.split('\n');
    const i = at % lines.length;
    lines[i] = ' '.repeat(indent) + (lines[i] as string).trimStart();
    return lines.join('\n');
  }),
  fc.tuple(textArb, fc.nat(), fc.boolean()).map(([text, at, repeat]) => {
    const lines = text.split('\n');
    const i = at % lines.length;
    lines.splice(i, repeat ? 0 : 1, ...(repeat ? [lines[i] as string] : []));
    return lines.join('\n');
  }),
  fc.tuple(textArb, fc.nat(), noise).map(([text, at, s]) => text.slice(0, at % (text.length + 1)) + s + text.slice(at % (text.length + 1))),
  fc.tuple(textArb, fc.nat(), fc.constantFrom(...DISK_STATES, ...REPLICATION_STATES, 'nan', '-1', '', 'x:y')).map(([text, at, word]) => {
    const words = text.split(' ');
    const i = at % words.length;
    const w = words[i] as string;
    const colon = w.indexOf(':');
    words[i] = colon === -1 ? word : w.slice(0, colon + 1) + word;
    return words.join(' ');
  }),
  fc.tuple(textArb, textArb, fc.nat()).map(([a, b, at]) => a + b.slice(at % (b.length + 1))),
);

const indentOf = (line: string): number => line.length - line.trimStart().length;

/** Joins continuation lines (indented 4 more than their object's line) onto that line. */
function unwrap(text: string): string {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const head = lines.at(-1);
    if (head !== undefined && line.trim() !== '' && head.trim() !== '' && indentOf(line) >= indentOf(head) + 4) {
      lines[lines.length - 1] = `${head} ${line.trim()}`;
    } else {
      lines.push(line);
    }
  }
  return lines.join('\n');
}

/** Wraps each object line like drbdsetup's wrap_printf: continuations 4 columns deeper. */
function rewrap(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.trim() === '') return line;
      const indent = indentOf(line);
      const out: string[] = [];
      let current = ' '.repeat(indent);
      let empty = true;
      for (const token of line.trim().split(' ')) {
        if (!empty && current.length + 1 + token.length > width) {
          out.push(current);
          current = ' '.repeat(indent + 4);
          empty = true;
        }
        current += empty ? token : ` ${token}`;
        empty = false;
      }
      out.push(current);
      return out.join('\n');
    })
    .join('\n');
}

describe('status text parser properties', () => {
  it('random strings: a value or a ParseError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.boolean(), (s, drbd84) => valueOrParseError(() => parseStatusText(s, { drbd84 }))),
      { numRuns: 2000 },
    );
  });

  it('mutated real output: a value or a ParseError', () => {
    fc.assert(
      fc.property(mutated, (text) => valueOrParseError(() => parseStatusText(text))),
      { numRuns: 3000 },
    );
  });

  it('wrapping at any width (drbdsetup wraps at 80, older versions not at all) keeps the same status', () => {
    fc.assert(
      fc.property(textArb, fc.integer({ min: 10, max: 200 }), (text, width) => {
        const wrapped = rewrap(unwrap(text), width);
        expect(parseStatusText(wrapped)).toEqual(parseStatusText(text));
      }),
      { numRuns: 500 },
    );
    const wrappedFixture = fixtures.find((t) => t.startsWith('postgres ')) as string;
    expect(unwrap(wrappedFixture).split('\n').length).toBeLessThan(wrappedFixture.split('\n').length);
  });

  it('pathological inputs stay linear', () => {
    const started = performance.now();
    for (const input of [`r0${' '.repeat(200_000)}x`, `r0 ${'a:'.repeat(100_000)}`, `r0\n${' '.repeat(100_000)}\n`, `r0\n${'  disk:UpToDate\n'.repeat(20_000)}`]) {
      valueOrParseError(() => parseStatusText(input));
    }
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
