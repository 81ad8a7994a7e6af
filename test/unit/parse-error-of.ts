import { expect } from 'vitest';
import { ParseError } from '../../src/errors.js';

/** The ParseError `fn` throws; fails the test when it throws something else or nothing. */
export function parseErrorOf(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ParseError);
    return error as ParseError;
  }
  throw new Error('expected a ParseError, got a result');
}
