/**
 * Child processes are plain `node`, which cannot load TypeScript. This
 * transpiles the modules under test into a throwaway package (named hastor,
 * with `build/` linked to the real addon) so children run the real wrappers,
 * not copies of their logic. It also proves the loader finds the package
 * root from a second location, as it must from dist/src/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const helpersDir = dirname(fileURLToPath(import.meta.url));

const MODULES = [
  'src/errors.ts',
  'src/package-root.ts',
  'src/native.ts',
  'src/sys/netlink-codec.ts',
  'src/sys/netlink-socket.ts',
  'src/sys/genl-family.ts',
  'src/sys/proc-locks.ts',
  'src/sys/flock.ts',
];

export interface CompiledPackage {
  root: string;
  /** Absolute path of the compiled module for a source path like "src/sys/flock.ts". */
  module(source: string): string;
  remove(): void;
}

/** `build`: link the real addon (default), leave it out, or put a corrupt file in its place. */
export function compileForChildren(build: 'link' | 'none' | 'corrupt' = 'link'): CompiledPackage {
  const root = mkdtempSync(join(tmpdir(), 'hastor-compiled-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'hastor', type: 'module' }));
  if (build === 'link') symlinkSync(join(repoRoot, 'build'), join(root, 'build'));
  if (build === 'corrupt') {
    mkdirSync(join(root, 'build', 'Release'), { recursive: true });
    writeFileSync(join(root, 'build', 'Release', 'hastor_native.node'), 'not an ELF object');
  }
  for (const source of MODULES) {
    const text = readFileSync(join(repoRoot, source), 'utf8');
    const out = ts.transpileModule(text, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: source,
    });
    const target = join(root, source.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
  return {
    root,
    module: (source) => join(root, source.replace(/\.ts$/, '.js')),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
