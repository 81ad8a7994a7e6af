/** Shared pieces of the fast-check property tests for parsers fed hostile input. */
import fc from 'fast-check';

/**
 * Runs `parse` on `input`; 'ok' or 'rejected' when it throws `expected` (the parser's typed
 * error). Any other exception escapes, and so fails the property.
 */
export function outcome<T>(parse: (input: T) => unknown, input: T, expected: abstract new (...args: never[]) => Error): 'ok' | 'rejected' {
  try {
    parse(input);
    return 'ok';
  } catch (e) {
    if (e instanceof expected) return 'rejected';
    throw e;
  }
}

/** Random text of every kind: any code unit, ASCII control characters, printable ASCII. */
export const hostileText = (maxLength = 300): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'binary-ascii', maxLength }),
    fc.string({ unit: 'grapheme-ascii', maxLength }),
  );

export type Mutation =
  | { kind: 'deleteChar' | 'duplicateChar' | 'swapChars' | 'truncate'; at: number }
  | { kind: 'replaceChar'; at: number; char: string }
  | { kind: 'deleteLine' | 'duplicateLine' | 'swapLines'; at: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('deleteChar', 'duplicateChar', 'swapChars', 'truncate'), at: fc.nat() }),
  fc.record({ kind: fc.constant('replaceChar'), at: fc.nat(), char: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }) }),
  fc.record({ kind: fc.constantFrom('deleteLine', 'duplicateLine', 'swapLines'), at: fc.nat() }),
) as fc.Arbitrary<Mutation>;

/** Real captures with characters and lines deleted, duplicated, swapped, replaced or cut. */
export function mutate(text: string, m: Mutation): string {
  if (m.kind === 'deleteLine' || m.kind === 'duplicateLine' || m.kind === 'swapLines') {
    const lines = text.split('\n');
    const i = m.at % lines.length;
    if (m.kind === 'deleteLine') lines.splice(i, 1);
    else if (m.kind === 'duplicateLine') lines.splice(i, 0, lines[i]!);
    else if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    return lines.join('\n');
  }
  if (text.length === 0) return text;
  const i = m.at % text.length;
  switch (m.kind) {
    case 'deleteChar':
      return text.slice(0, i) + text.slice(i + 1);
    case 'duplicateChar':
      return text.slice(0, i + 1) + text.slice(i);
    case 'swapChars':
      return i + 1 < text.length ? text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2) : text;
    case 'truncate':
      return text.slice(0, i);
    case 'replaceChar':
      return text.slice(0, i) + m.char + text.slice(i + 1);
  }
}

/** A fixture mutated one to four times. */
export const mutatedFixture = (fixtures: readonly string[]): fc.Arbitrary<string> =>
  fc.tuple(fc.nat({ max: fixtures.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([i, ms]) => ms.reduce(mutate, fixtures[i]!));
