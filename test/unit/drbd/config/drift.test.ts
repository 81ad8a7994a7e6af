import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diffResources } from '../../../../src/drbd/config/drift.js';
import { parseDrbdadmDump } from '../../../../src/drbd/config/import-dump.js';
import { parseResourceDefinition } from '../../../../src/drbd/config/schema.js';
import { CONNECTIONS_9, MESH_9 } from './definitions.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/drbdadm-config/${name}`, import.meta.url), 'utf8');
const imported = (name: string) => parseDrbdadmDump(fixture(name))[0]!;

describe('diffResources', () => {
  it('finds no drift between two nodes dumping the same file', () => {
    expect(diffResources(imported('hastor-84-dual-primary.dump.txt'), imported('hastor-84-dual-primary.node2.dump.txt'))).toEqual([]);
  });

  it('reports every field a hand edit on node2 changed, with both values', () => {
    expect(diffResources(imported('hastor-84-dual-primary.dump.txt'), imported('edited-84-dual-primary.dump.txt'))).toEqual([
      { path: 'nodes[name=node2].address.port', a: 7789, b: 7790 },
      { path: 'nodes[name=node2].volumes[volume=0].disk', a: '/dev/vg0/r0', b: '/dev/vg0/r0b' },
      { path: 'net.afterSb1pri', a: 'discard-secondary', b: 'consensus' },
      { path: 'net.maxBuffers', a: 8192, b: 4096 },
      { path: 'net.verifyAlg', a: 'crc32c', b: undefined },
      { path: 'disk.diskTimeout', a: undefined, b: 600 },
    ]);
  });

  it('matches nodes, volumes and connections by identity, not position', () => {
    const a = parseResourceDefinition(CONNECTIONS_9);
    const b = parseResourceDefinition({
      ...CONNECTIONS_9,
      nodes: [...(CONNECTIONS_9.nodes as object[])].reverse(),
      connections: [...(CONNECTIONS_9.connections as object[])].reverse(),
    });
    expect(diffResources(a, b)).toEqual([]);
  });

  it('reports nodes, volumes and connections that exist on one side only as a whole', () => {
    const a = parseResourceDefinition(MESH_9);
    const nodes = (MESH_9.nodes as { volumes: object[] }[]).map((n) => ({ ...n, volumes: n.volumes.slice(0, 1) }));
    const b = parseResourceDefinition({ ...MESH_9, nodes });
    const diff = diffResources(a, b);
    expect(diff.map((d) => d.path)).toEqual(['nodes[name=hv-a.example.net].volumes[volume=1]', 'nodes[name=hv-b.example.net].volumes[volume=1]']);
    expect(diff[0]?.a).toEqual(a.nodes[0]?.volumes[1]);
    expect(diff[0]?.b).toBeUndefined();

    const c = parseResourceDefinition(CONNECTIONS_9);
    const d = parseResourceDefinition({ ...CONNECTIONS_9, connections: (CONNECTIONS_9.connections as object[]).slice(0, 2) });
    expect(diffResources(c, d)).toEqual([{ path: 'connections[hosts=client3,store2]', a: c.connections?.[2], b: undefined }]);
  });

  it('compares lists without identity as a whole; mesh host order does not matter', () => {
    const a = parseResourceDefinition(MESH_9);
    const b = parseResourceDefinition({ ...MESH_9, connectionMesh: { ...MESH_9.connectionMesh!, hosts: ['hv-b.example.net', 'hv-a.example.net'] } });
    expect(diffResources(a, b)).toEqual([]);
    const c = parseResourceDefinition(CONNECTIONS_9);
    const paths = structuredClone(CONNECTIONS_9.connections as { paths?: unknown[] }[]);
    paths[0]!.paths = paths[0]!.paths!.slice(0, 1);
    const e = parseResourceDefinition({ ...CONNECTIONS_9, connections: paths });
    expect(diffResources(c, e).map((x) => x.path)).toEqual(['connections[hosts=store1,store2].paths']);
  });
});
