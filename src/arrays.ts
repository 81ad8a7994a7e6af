/**
 * Array helpers for lists whose length comes from input. `a.push(...b)` and
 * `Math.max(...b)` pass every element as an argument and overflow the stack
 * at around 100,000 elements; these loop instead.
 */

export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** The largest of `values`, or `empty` when there are none. */
export function maxOf(values: Iterable<number>, empty = -Infinity): number {
  let max = empty;
  let any = false;
  for (const value of values) {
    max = any ? Math.max(max, value) : value;
    any = true;
  }
  return max;
}
