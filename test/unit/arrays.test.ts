import { describe, expect, it } from 'vitest';
import { appendAll, maxOf } from '../../src/arrays.js';

// Far past the ~100,000 arguments a spread into a call can pass.
const MANY = 500_000;

describe('appendAll', () => {
  it('appends every item in order, even 500,000 of them', () => {
    const target = [-1];
    const items = Array.from({ length: MANY }, (_, i) => i);
    expect(appendAll(target, items)).toBe(target);
    expect(target).toHaveLength(MANY + 1);
    expect(target[MANY]).toBe(MANY - 1);
  });
});

describe('maxOf', () => {
  it('finds the largest of 500,000 numbers and falls back when empty', () => {
    const values = Array.from({ length: MANY }, (_, i) => (i * 7919) % MANY);
    expect(maxOf(values)).toBe(MANY - 1);
    expect(maxOf([], 0)).toBe(0);
    expect(maxOf([-3, -1, -2])).toBe(-1);
  });
});
