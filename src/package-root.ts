/**
 * The package's own root (the folder holding hastor's package.json), found
 * from this file so it works from `src/` under vitest and from `dist/src/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string } | undefined;

function locate(): { root: string; version: string } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'hastor') {
        cached = { root: dir, version: parsed.version ?? '0.0.0' };
        return cached;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('hastor: cannot find the package root (package.json named "hastor")');
    dir = parent;
  }
}

export const packageRoot = (): string => locate().root;
export const packageVersion = (): string => locate().version;
