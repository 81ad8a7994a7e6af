/**
 * The package's own root (the folder holding hastor's package.json), found
 * from this file so it works from `src/` under vitest and from `dist/src/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function readManifest(dir: string): { name?: unknown; version?: unknown } | undefined {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return undefined;
  try {
    return JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    // an unreadable manifest is not ours; keep looking upwards
    return undefined;
  }
}

/** The nearest directory upwards from `start` holding hastor's own package.json. */
export function findPackageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = start;
  for (;;) {
    if (readManifest(dir)?.name === 'hastor') return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let cached: { root: string; version: string } | undefined;

function locate(): { root: string; version: string } {
  if (cached) return cached;
  const root = findPackageRoot();
  if (root === undefined) throw new Error('hastor: cannot find the package root (package.json named "hastor")');
  const version = readManifest(root)?.version;
  cached = { root, version: typeof version === 'string' ? version : '0.0.0' };
  return cached;
}

export const packageRoot = (): string => locate().root;
export const packageVersion = (): string => locate().version;
