import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { DISK_STATES, REPLICATION_STATES, ROLES } from '../../../src/drbd/states.js';
import { parseEvents2, parseEvents2Line, readEvents2 } from '../../../src/drbd/events2.js';

const dir = new URL('../../fixtures/events2/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((name) => name.endsWith('.txt'))
  .map((name) => readFileSync(new URL(name, dir), 'utf8'));
const fixtureLines = fixtures.flatMap((text) => text.split('\n').filter((line) => line.length > 0));

/** The parser's contract: a value, or a ParseError; never any other exception. */
function valueOrParseError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    expect(error.code).toBe('E_PARSE');
  }
}

const lineArb = fc.constantFrom(...fixtureLines);
const noise = fc.string({ unit: fc.constantFrom(' ', ':', '-', '>', '\t', '\x1b', '0', '9', '.', 'a', 'Z', '\u00e9', '_', ',', '\r') });

// Mutations that keep most of a real line: the interesting inputs sit near valid ones.
const mutatedLine = fc.oneof(
  fc.tuple(lineArb, fc.nat(), fc.nat(200)).map(([line, at, len]) => line.slice(0, at % (line.length + 1)) + line.slice((at % (line.length + 1)) + len)),
  fc.tuple(lineArb, fc.nat(), noise).map(([line, at, s]) => line.slice(0, at % (line.length + 1)) + s + line.slice(at % (line.length + 1))),
  fc.tuple(lineArb, fc.nat(), fc.constantFrom(...ROLES, ...DISK_STATES, ...REPLICATION_STATES, 'nan', '-1', '1e3', '99999999999999999999999999999999', '')).map(
    ([line, at, word]) => {
      const tokens = line.split(' ');
      const i = at % tokens.length;
      const token = tokens[i] as string;
      const colon = token.indexOf(':');
      tokens[i] = colon === -1 ? word : token.slice(0, colon + 1) + word;
      return tokens.join(' ');
    },
  ),
  fc.tuple(lineArb, lineArb).map(([a, b]) => `${a.slice(0, a.length >> 1)}${b.slice(b.length >> 1)}`),
);

describe('events2 parser properties', () => {
  it('random strings: a value or a ParseError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        valueOrParseError(() => parseEvents2Line(s));
        valueOrParseError(() => parseEvents2(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated real lines: a value or a ParseError', () => {
    fc.assert(
      fc.property(mutatedLine, (line) => valueOrParseError(() => parseEvents2Line(line))),
      { numRuns: 3000 },
    );
  });

  it('mutated real streams, applied in order: a value or a ParseError', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(lineArb, mutatedLine), { maxLength: 40 }), fc.boolean(), (lines, drbd84) =>
        valueOrParseError(() => parseEvents2(lines.join('\n'), { drbd84 })),
      ),
      { numRuns: 1000 },
    );
  });

  it('generated valid device and peer-device lines read back exactly', () => {
    const kibArb = fc.bigInt({ min: 0n, max: 2n ** 50n });
    fc.assert(
      fc.property(
        fc.constantFrom(...DISK_STATES),
        fc.constantFrom(...REPLICATION_STATES),
        kibArb,
        kibArb,
        fc.integer({ min: 0, max: 10_000 }),
        fc.nat(1_000_000),
        (disk, repl, size, oos, hundredths, minor) => {
          const device = parseEvents2Line(`exists device name:r volume:0 minor:${minor} disk:${disk} size:${size}`);
          expect(device).toMatchObject({ minor, values: { diskState: disk, sizeBytes: size * 1024n } });
          const done = (hundredths / 100).toFixed(2);
          const pd = parseEvents2Line(`change peer-device name:r peer-node-id:3 conn-name:c volume:1 replication:${repl} out-of-sync:${oos} done:${done}`);
          expect(pd).toMatchObject({ peerNodeId: 3, volume: 1, values: { replicationState: repl, outOfSyncBytes: oos * 1024n, donePercent: Number(done) } });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('any chunking of a capture gives the same final state', async () => {
    const text = fixtures.join('');
    const expected = parseEvents2(text);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(text.length), { maxLength: 30 }), async (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        const bytes = Buffer.from(text);
        let last = 0;
        for (const p of points) {
          const at = Math.min(p, bytes.length);
          pieces.push(bytes.subarray(last, at));
          last = at;
        }
        pieces.push(bytes.subarray(last));
        let final;
        for await (const update of readEvents2((async function* () { yield* pieces; })())) final = update.status;
        expect(final).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('pathological long lines stay linear', () => {
    const long = 200_000;
    const inputs = [
      `exists resource name:r0 ${'a:'.repeat(long)}`,
      `exists device name:r0 volume:0 size:${'9'.repeat(long)}`,
      `${'1'.repeat(long)} exists -`,
      `exists resource name:r0${' '.repeat(long)}x`,
      `change peer-device name:r volume:0 done:${'1'.repeat(long)}.`,
    ];
    const started = performance.now();
    for (const input of inputs) valueOrParseError(() => parseEvents2Line(input));
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
