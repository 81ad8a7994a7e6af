import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { PacemakerUnavailableError, buildPacemakerView, parseCib, parseCrmMon, pacemakerViewSchema } from '../../../src/pacemaker/index.js';
import { hostileText, mutatedFixture, outcome } from '../property-helpers.js';
import { allFixtures } from './fixtures.js';

const all = allFixtures();
const crmMonDocs = all.filter((f) => f.kind === 'crm-mon').map((f) => f.text);
const cibDocs = all.filter((f) => f.kind === 'cib').map((f) => f.text);

/** crm_mon's "not connected" document is a PacemakerUnavailableError; everything else a model or a ParseError. */
function crmMonOutcome(text: string): 'ok' | 'rejected' {
  try {
    const status = parseCrmMon(text);
    // Whatever parses also builds a view that meets the JSON contract.
    pacemakerViewSchema.parse(buildPacemakerView({ crmMon: status }));
    return 'ok';
  } catch (e) {
    if (e instanceof ParseError || e instanceof PacemakerUnavailableError) return 'rejected';
    throw e;
  }
}

/** Replaces one attribute value of the document with `value`. */
function replaceAttribute(text: string, pick: number, value: string): string {
  const matches = [...text.matchAll(/="([^"]*)"/g)];
  if (matches.length === 0) return text;
  const m = matches[pick % matches.length]!;
  return `${text.slice(0, m.index)}="${value}"${text.slice(m.index + m[0].length)}`;
}

const attributeValue = fc.oneof(
  fc.constantFrom('', 'true', 'false', '-1', '0', '99999999999999999999', 'Master', 'Slave', 'Promoted', 'INFINITY', '&lt;', '&amp;', '&#0;', '&bogus;'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 20 }).map((s) => s.replaceAll('"', '')),
);

describe('Pacemaker XML parsers: properties', () => {
  it('random text: a model or a ParseError', () => {
    fc.assert(
      fc.property(hostileText(), (s) => {
        expect(['ok', 'rejected']).toContain(crmMonOutcome(s));
        expect(['ok', 'rejected']).toContain(outcome(parseCib, s, ParseError));
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated crm_mon fixtures: a model or a typed error', () => {
    fc.assert(fc.property(mutatedFixture(crmMonDocs), (text) => {
      expect(['ok', 'rejected']).toContain(crmMonOutcome(text));
    }), { numRuns: 600 });
  });

  it('mutated CIB fixtures: a model or a ParseError', () => {
    fc.assert(
      fc.property(mutatedFixture(cibDocs), (text) => {
        const result = outcome((t: string) => pacemakerViewSchema.parse(buildPacemakerView({ cib: parseCib(t) })), text, ParseError);
        expect(['ok', 'rejected']).toContain(result);
      }),
      { numRuns: 600 },
    );
  });

  it('one attribute value replaced: a model or a typed error', () => {
    fc.assert(
      fc.property(fc.constantFrom(...crmMonDocs), fc.constantFrom(...cibDocs), fc.nat(), attributeValue, (crm, cib, pick, value) => {
        expect(['ok', 'rejected']).toContain(crmMonOutcome(replaceAttribute(crm, pick, value)));
        expect(['ok', 'rejected']).toContain(outcome(parseCib, replaceAttribute(cib, pick, value), ParseError));
      }),
      { numRuns: 300 },
    );
  });

  it('every cut of a document: a ParseError (never a partial model)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...crmMonDocs.filter((d) => d.includes('<summary>')), ...cibDocs), fc.nat(), (text, at) => {
        const body = text.trimEnd();
        const cut = body.slice(0, at % body.length);
        expect(() => (text.includes('<cib') && text.indexOf('<cib') < 5 ? parseCib(cut) : parseCrmMon(cut))).toThrow(ParseError);
      }),
      { numRuns: 300 },
    );
  });
});
