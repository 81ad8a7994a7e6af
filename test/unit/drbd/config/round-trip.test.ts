import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDrbdadmDump } from '../../../../src/drbd/config/import-dump.js';
import { parseDrbdadmDumpXml } from '../../../../src/drbd/config/import-xml.js';
import { renderResource } from '../../../../src/drbd/config/render.js';
import { parseResourceDefinition } from '../../../../src/drbd/config/schema.js';
import { CONNECTIONS_9, LAB_84, MESH_9 } from './definitions.js';
import { arbitraryDefinition } from './arbitrary-definition.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/drbdadm-config/${name}`, import.meta.url), 'utf8');

describe('render → drbdadm → import gives the definition back', () => {
  const cases = [
    ['hastor-84-dual-primary', LAB_84, {}],
    ['hastor-9-mesh', MESH_9, { 'hv-a.example.net': 0, 'hv-b.example.net': 1 }],
    ['hastor-9-connections', CONNECTIONS_9, { store1: 0, store2: 1, client3: 2 }],
  ] as const;

  it.each(cases)('%s through drbdadm dump', (base, def) => {
    expect(parseDrbdadmDump(fixture(`${base}.dump.txt`))).toEqual([parseResourceDefinition(def)]);
  });

  it.each(cases)('%s through drbdadm dump-xml', (base, def, nodeIds) => {
    expect(parseDrbdadmDumpXml(fixture(`${base}.dump-xml.xml`), { nodeIds })).toEqual([parseResourceDefinition(def)]);
  });
});

describe('render → import (hastor reading its own .res files)', () => {
  it('gives back any valid definition, and rendering again gives the same text', () => {
    fc.assert(
      fc.property(arbitraryDefinition(), (input) => {
        const def = parseResourceDefinition(input);
        const text = renderResource(def);
        const [back] = parseDrbdadmDump(text, { source: 'rendered' });
        expect(back).toEqual(def);
        expect(renderResource(back!)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
