/** Reads test/fixtures/lvm/<folder>/<file>. */
import { readFileSync } from 'node:fs';

const root = new URL('../../fixtures/lvm/', import.meta.url);

export function fixture(path: string): string {
  return readFileSync(new URL(path, root), 'utf8');
}

/** Runs fn and returns what it threw (fails the test when it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an exception');
}
