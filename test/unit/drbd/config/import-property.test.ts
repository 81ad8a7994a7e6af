import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { parseDrbdadmDump } from '../../../../src/drbd/config/import-dump.js';
import { parseDrbdadmDumpXml } from '../../../../src/drbd/config/import-xml.js';

const dir = new URL('../../../fixtures/drbdadm-config/', import.meta.url);
const files = readdirSync(dir);
const dumps = files.filter((f) => f.endsWith('.dump.txt') || f.endsWith('.res')).map((f) => readFileSync(new URL(f, dir), 'utf8'));
const xmls = files.filter((f) => f.endsWith('.xml')).map((f) => readFileSync(new URL(f, dir), 'utf8'));

/** Either a value or a ParseError: any other exception fails the property. */
function valueOrParseError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    expect(error.code).toBe('E_PARSE');
    expect(error.line === undefined || error.line >= 1).toBe(true);
  }
}

const DUMP_WORDS = ['{', '}', ';', '"', '\\', '#', '\n', 'resource', 'on', 'volume', 'device', 'minor', 'disk', 'meta-disk', 'net', 'address', 'ipv6', '[fd00::1]:7000', '10.0.0.1:7789', 'node-id', 'connection', 'host', 'path', 'hosts', 'connection-mesh', 'common', 'skip', 'protocol', 'C', 'none', 'internal', '7', '200M', '-1', 'yes', 'r0', 'a'];
const XML_WORDS = ['<', '>', '/>', '</', '"', '&', '&amp;', '&#0;', '<!--', '-->', '<?xml?>', 'resource', 'host', 'volume', 'connection', 'section', 'option', 'name="x"', 'vnr="0"', 'minor="1"', 'value="1"', 'family="ipv4"', 'port="7"', '(null)', '\n', ' '];

/** A fixture with a slice cut out and a token dropped in. */
const mutated = (texts: string[], words: string[]): fc.Arbitrary<string> =>
  fc
    .record({ text: fc.constantFrom(...texts), at: fc.nat(), cut: fc.nat(40), insert: fc.array(fc.constantFrom(...words), { maxLength: 3 }) })
    .map(({ text, at, cut, insert }) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert.join(' ') + text.slice(i + cut);
    });

describe('importers only ever throw ParseError', () => {
  it('drbdadm dump: random text, token soup, mutated real dumps', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.constantFrom(...DUMP_WORDS), { maxLength: 60 }).map((w) => w.join(' ')), mutated(dumps, DUMP_WORDS)),
        (text) => valueOrParseError(() => parseDrbdadmDump(text)),
      ),
      { numRuns: 3000 },
    );
  });

  it('drbdadm dump-xml: random text, token soup, mutated real dumps', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.constantFrom(...XML_WORDS), { maxLength: 60 }).map((w) => w.join('')), mutated(xmls, XML_WORDS)),
        fc.boolean(),
        (text, withIds) =>
          valueOrParseError(() => parseDrbdadmDumpXml(text, withIds ? { nodeIds: { a: 0, b: 1, undertest: 0, bob: 1, node1: 0, node2: 1, store1: 0, store2: 1, client3: 2 } } : {})),
      ),
      { numRuns: 3000 },
    );
  });

  it('deeply nested input is refused, not a stack overflow', () => {
    expect(() => parseDrbdadmDump('resource r { '.repeat(20000))).toThrow(ParseError);
    expect(() => parseDrbdadmDumpXml('<a>'.repeat(20000))).toThrow(ParseError);
  });
});
