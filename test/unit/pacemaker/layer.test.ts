import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..', '..', '..', 'src', 'pacemaker');
const sources = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, imports: [...readFileSync(join(dir, f), 'utf8').matchAll(/^import [^;]*? from '([^']+)';/gms)].map((m) => m[1]!) }));

describe('src/pacemaker layer rule', () => {
  it('imports neither src/drbd, src/lvm, src/stack nor the CLI', () => {
    expect(sources.length).toBeGreaterThanOrEqual(7);
    for (const { file, imports } of sources) {
      for (const i of imports) expect(`${file}: ${i}`).not.toMatch(/: \.\.\/(drbd|lvm|stack|cli|metrics)\//);
    }
  });

  it('only xml.ts knows the XML library', () => {
    const users = sources.filter((s) => s.imports.includes('fast-xml-parser')).map((s) => s.file);
    expect(users).toEqual(['xml.ts']);
  });
});
