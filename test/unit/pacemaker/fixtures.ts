/** Every Pacemaker fixture: the generated ones and any recorded in the lab (test/fixtures/pacemaker/lab/). */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURE_DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'pacemaker');
const DIRS = [FIXTURE_DIR, join(FIXTURE_DIR, 'lab')];

export interface Fixture {
  name: string;
  text: string;
  kind: 'cib' | 'crm-mon';
}

export function fixture(name: string): string {
  return readFileSync(join(FIXTURE_DIR, name), 'utf8');
}

/** Every *.xml, told apart by its root element. */
export function allFixtures(): Fixture[] {
  return DIRS.filter((d) => existsSync(d)).flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.xml'))
      .sort()
      .map((f) => {
        const text = readFileSync(join(dir, f), 'utf8');
        return { name: `${dir === FIXTURE_DIR ? '' : 'lab/'}${f}`, text, kind: /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<cib[\s>]/.test(text) ? 'cib' : 'crm-mon' } as Fixture;
      }),
  );
}
