/**
 * Guests run the project's compiled code (dist/) with the host's node. When
 * a test is started without `npm run test:lab` (which compiles first), this
 * recompiles if any source under src/ or test/lab/ is newer than its output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { distPath, projectRoot } from './paths.js';

function* sources(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

export function staleOutputs(): string[] {
  const root = projectRoot();
  const stale: string[] = [];
  for (const source of [...sources(join(root, 'src')), ...sources(join(root, 'test', 'lab'))]) {
    const output = join(root, 'dist', relative(root, source)).replace(/\.ts$/, '.js');
    if (!existsSync(output) || statSync(output).mtimeMs < statSync(source).mtimeMs) stale.push(relative(root, source));
  }
  return stale;
}

/** HASTOR_LAB_NO_BUILD=1 runs dist/ as it is (e.g. a deliberately broken build, to see the suite go red). */
export function ensureBuilt(log: (line: string) => void): void {
  if (process.env['HASTOR_LAB_NO_BUILD'] === '1') return;
  const stale = staleOutputs();
  if (stale.length === 0) return;
  const root = projectRoot();
  log(`[lab] compiling (dist is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''})`);
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    // tsc still emits on type errors; report them and go on if the guest side exists.
    const out = String((error as { stdout?: Buffer }).stdout ?? '');
    log(`[lab] tsc reported errors:\n${out.split('\n').slice(0, 20).join('\n')}`);
  }
  if (!existsSync(distPath('guest', 'agent.js'))) throw new Error('lab: dist/test/lab/guest/agent.js missing after tsc; run `npx tsc -p tsconfig.json`');
}
