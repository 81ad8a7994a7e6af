/**
 * Where things are: the repository root (found from this file, so a clone
 * anywhere works, from test/lab/harness under vitest and from dist/ when
 * compiled), the lab work dir and the UML kernel.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UML_KERNEL = '/usr/bin/linux.uml';
export const UML_MODULES_DIR = '/usr/lib/uml/modules';
/** The host's node binary; guests see the host's / so the same path runs there. */
export const GUEST_NODE = process.execPath;

let cachedRoot: string | undefined;

export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (parsed.name === 'hastor') return (cachedRoot = dir);
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('lab: cannot find the repository root (package.json named "hastor")');
    dir = parent;
  }
}

/** Base for lab work dirs: $HASTOR_LAB_DIR, else <repo>/.lab (git-ignored). */
export function labBaseDir(): string {
  return process.env['HASTOR_LAB_DIR'] ?? join(projectRoot(), '.lab');
}

/** The compiled twin of a file under test/lab (dist/test/lab/...). */
export function distPath(...relative: string[]): string {
  return join(projectRoot(), 'dist', 'test', 'lab', ...relative);
}

/**
 * Where a guest's unprivileged users reach the repository (init.sh mounts it):
 * the clone's own path may pass through a directory only root may enter.
 */
export const GUEST_UNPRIVILEGED_ROOT = '/run/hastor-checkout';

/** distPath() as a guest's unprivileged user must open it. */
export function unprivilegedDistPath(...relative: string[]): string {
  return join(GUEST_UNPRIVILEGED_ROOT, 'dist', 'test', 'lab', ...relative);
}

/** The UML kernel's module tree version (the newest if several). */
export function umlKernelVersion(): string {
  const versions = existsSync(UML_MODULES_DIR) ? readdirSync(UML_MODULES_DIR).sort() : [];
  const last = versions[versions.length - 1];
  if (!existsSync(UML_KERNEL) || last === undefined) {
    throw new Error(`lab: ${UML_KERNEL} or ${UML_MODULES_DIR}/<ver> missing; run \`npm run lab:setup\` (as root)`);
  }
  return last;
}
