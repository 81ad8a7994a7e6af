import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UsageError } from '../../../src/cli/context.js';
import { formatBytes } from '../../../src/cli/format.js';
import { parseSize } from '../../../src/cli/size.js';
import { hostileText, outcome } from '../property-helpers.js';

const PiB = 1n << 50n;
const UNITS: [string, bigint][] = [['', 1n], ['K', 1n << 10n], ['M', 1n << 20n], ['G', 1n << 30n], ['T', 1n << 40n], ['P', PiB]];
const parse = (text: string) => parseSize(text, '--to');

describe('parseSize: UsageError or a size from 1 B to 1 PiB, whatever the input', () => {
  it('on random and size-like text', () => {
    const seen = { ok: 0, rejected: 0 };
    const sizeLike = fc
      .tuple(fc.constantFrom('', '+', '-', ' '), fc.stringMatching(/^[0-9]{0,25}$/), fc.constantFrom('', '.', '.5', '.000001', '..1'), fc.constantFrom('', ' ', 'k', 'M', 'g', 'T', 'p', 'E', 'x'), fc.constantFrom('', 'b', 'iB', 'IB', 'bb'))
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(hostileText(60), sizeLike), (text) => {
        const result = outcome(parse, text, UsageError);
        seen[result]++;
        if (result === 'ok') {
          const { bytes } = parse(text);
          expect(bytes >= 1n && bytes <= PiB).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('reads back NUMBER+UNIT exactly, with or without iB and a leading +', () => {
    fc.assert(
      fc.property(fc.constantFrom(...UNITS), fc.boolean(), fc.constantFrom('', 'iB', 'B'), fc.bigInt({ min: 1n, max: PiB }), ([unit, scale], plus, suffix, n) => {
        const count = n % (PiB / scale) === 0n ? PiB / scale : n % (PiB / scale);
        expect(parse(`${plus ? '+' : ''}${count}${unit}${unit === '' ? '' : suffix}`)).toEqual({ bytes: count * scale, relative: plus });
      }),
    );
  });

  it('reads back what formatBytes prints, to the precision it prints', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: PiB }), (bytes) => {
        const shown = formatBytes(Number(bytes));
        const back = parse(shown).bytes;
        // One decimal of the unit shown: within 0.05 of it (and the float's own rounding).
        const unit = UNITS.find(([u]) => u !== '' && shown.endsWith(` ${u}iB`))?.[1] ?? 1n;
        const diff = back > bytes ? back - bytes : bytes - back;
        expect(diff * 20n <= unit + unit / 1000n).toBe(true);
      }),
    );
  });

  it('refuses one byte past 1 PiB and takes 1 PiB, however it is written', () => {
    for (const text of ['1P', '1024T', '1048576G', `${PiB}`, '1.0P', '0.5P', '+1PiB']) expect(parse(text).bytes <= PiB).toBe(true);
    for (const text of [`${PiB + 1n}`, '1.000000000000001P', '1024.00001T', '1E', '2P']) expect(() => parse(text), text).toThrow(UsageError);
  });
});
