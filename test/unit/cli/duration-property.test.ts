import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UsageError } from '../../../src/cli/context.js';
import { MAX_DURATION_SECONDS, parseDuration } from '../../../src/cli/duration.js';
import { hostileText, outcome } from '../property-helpers.js';

const MAX_MS = MAX_DURATION_SECONDS * 1000;

describe('parseDuration: UsageError or whole milliseconds within the bounds, whatever the input', () => {
  it('on random and number-like text, for every minimum the commands use', () => {
    const seen = { ok: 0, rejected: 0 };
    const numberLike = fc
      .tuple(fc.constantFrom('', '-', '+', ' '), fc.stringMatching(/^[0-9]{0,12}$/), fc.constantFrom('', '.', '.5', '.0004', '.9999', 'e3', 's'))
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(hostileText(40), numberLike), fc.constantFrom(0, 0.001, 0.1, 1), (text, minSeconds) => {
        const result = outcome((t: string) => parseDuration(t, '--x', { minSeconds }), text, UsageError);
        seen[result]++;
        if (result === 'ok') {
          const ms = parseDuration(text, '--x', { minSeconds });
          expect(Number.isInteger(ms)).toBe(true);
          expect(ms >= minSeconds * 1000 && ms <= MAX_MS).toBe(true);
          // What a timer can hold: the defect was a delay past 2^31-1 ms firing at once.
          expect(ms < 2 ** 31 - 1).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('reads back any whole number of milliseconds written as seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MS }), (ms) => {
        expect(parseDuration(String(ms / 1000), '--x', { minSeconds: 0 })).toBe(ms);
        expect(parseDuration((ms / 1000).toFixed(3), '--x', { minSeconds: 0 })).toBe(ms);
      }),
    );
  });
});
