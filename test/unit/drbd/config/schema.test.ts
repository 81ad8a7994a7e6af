import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import {
  isValidDevicePath,
  isValidHostName,
  isValidResourceName,
  parseResourceDefinition,
  validateResourceDefinition,
  type ResourceDefinitionInput,
} from '../../../../src/drbd/config/schema.js';
import { CONNECTIONS_9, LAB_84, MESH_9 } from './definitions.js';

/** The issues of an invalid definition (fails the test when it is valid). */
function issuesOf(input: unknown): string[] {
  const result = validateResourceDefinition(input);
  if (result.ok) throw new Error('expected the definition to be refused');
  return result.issues;
}

const twoNodes84 = (over: Partial<Record<string, unknown>> = {}): Record<string, unknown> => ({
  name: 'r0',
  target: '8.4',
  nodes: [
    { name: 'a', address: '10.0.0.1:7789', volumes: [{ volume: 0, minor: 0, disk: '/dev/vg/r0', metaDisk: 'internal' }] },
    { name: 'b', address: '10.0.0.2:7789', volumes: [{ volume: 0, minor: 0, disk: '/dev/vg/r0', metaDisk: 'internal' }] },
  ],
  ...over,
});

const twoNodes9 = (over: Partial<Record<string, unknown>> = {}): Record<string, unknown> => ({
  name: 'r0',
  target: '9',
  nodes: [
    { name: 'a', nodeId: 0, address: '10.0.0.1:7789', volumes: [{ volume: 0, minor: 0, disk: '/dev/vg/r0', metaDisk: 'internal' }] },
    { name: 'b', nodeId: 1, address: '10.0.0.2:7789', volumes: [{ volume: 0, minor: 0, disk: '/dev/vg/r0', metaDisk: 'internal' }] },
  ],
  ...over,
});

describe('resource definitions that are accepted', () => {
  it('converts DRBD unit syntax into the unit drbdsetup uses and addresses into objects', () => {
    const def = parseResourceDefinition(LAB_84);
    expect(def.net.maxBuffers).toBe(8192);
    expect(def.disk.resyncRate).toBe(204800);
    expect(def.disk.extra).toEqual({ size: '10G' });
    expect(def.nodes[0]?.address).toEqual({ family: 'ipv4', ip: '10.99.0.1', port: 7789 });
    expect(def.options).toEqual({});
    expect(def.connectionMesh).toBeUndefined();
  });

  it('keeps DRBD 9 structure: node ids, IPv6, external meta data with index, the mesh with its options', () => {
    const def = parseResourceDefinition(MESH_9);
    expect(def.nodes.map((n) => n.nodeId)).toEqual([0, 1]);
    expect(def.nodes[0]?.address).toEqual({ family: 'ipv6', ip: 'fd00:99::1', port: 7000 });
    expect(def.nodes[0]?.volumes[1]?.metaDisk).toEqual({ device: '/dev/vg_host/drbd_md', index: 1 });
    expect(def.disk.cFillTarget).toBe(2048);
    expect(def.disk.cMaxRate).toBe(700 * 1024);
    expect(def.connectionMesh?.net).toEqual({ maxBuffers: 36864, sndbufSize: 10 * 1024 * 1024 });
    expect(def.startup.extra).toEqual({ 'stacked-timeouts': true });
  });

  it('accepts explicit connections with paths, port overrides and a diskless node', () => {
    const def = parseResourceDefinition(CONNECTIONS_9);
    expect(def.connections).toHaveLength(3);
    expect(def.connections?.[1]?.hosts?.[1]).toEqual({ host: 'client3', port: 7011 });
    expect(def.nodes[2]?.volumes[0]).toEqual({ volume: 0, minor: 1000, disk: 'none' });
    expect(def.connectionMesh).toBeUndefined();
  });

  it('gives a DRBD 9 resource without connections a mesh of all its nodes', () => {
    expect(parseResourceDefinition(twoNodes9()).connectionMesh).toEqual({ hosts: ['a', 'b'] });
  });

  it('sorts volumes by number and drops meta data of diskless volumes', () => {
    const def = parseResourceDefinition(
      twoNodes9({
        nodes: [
          {
            name: 'a',
            nodeId: 0,
            address: '10.0.0.1:7789',
            volumes: [
              { volume: 1, minor: 1, disk: '/dev/vg/r1', metaDisk: 'internal' },
              { volume: 0, minor: 0, disk: 'none', metaDisk: 'internal' },
            ],
          },
          {
            name: 'b',
            nodeId: 1,
            address: '10.0.0.2:7789',
            volumes: [
              { volume: 0, minor: 0, disk: '/dev/vg/r0', metaDisk: 'internal' },
              { volume: 1, minor: 1, disk: '/dev/vg/r1', metaDisk: 'internal' },
            ],
          },
        ],
      }),
    );
    expect(def.nodes[0]?.volumes).toEqual([
      { volume: 0, minor: 0, disk: 'none' },
      { volume: 1, minor: 1, disk: '/dev/vg/r1', metaDisk: 'internal' },
    ]);
  });

  it('matches connection hosts by the short name, as drbdadm does', () => {
    const input = twoNodes9({ connections: [{ hosts: [{ host: 'a' }, { host: 'b' }] }] });
    const nodes = input.nodes as { name: string }[];
    nodes[0]!.name = 'a.example.net';
    expect(parseResourceDefinition(input).connections).toHaveLength(1);
  });
});

describe('resource definitions that are refused', () => {
  it('lists every problem in one ConfigError, with paths', () => {
    const input = {
      name: '-r0',
      target: '9',
      protocol: 'D',
      net: { maxBuffers: 5, afterSb2pri: 'discard-secondary', bogus: 1, extra: { 'max-buffers': '100' } },
      disk: { resyncRate: '9G', fencing: 'always' },
      options: { quorum: 'most' },
      nodes: [
        { name: 'a', nodeId: 0, address: '10.0.0.1:7789', volumes: [] },
        { name: 'a', nodeId: 40, address: '10.0.0.300:7789', volumes: [{ volume: 0, minor: 'x', disk: 'dev/sdb' }] },
      ],
      connectionMesh: { hosts: ['a', 'zz'] },
    };
    let error: unknown;
    try {
      parseResourceDefinition(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues).toEqual([
      'name: resource name "-r0" must be 1..127 characters of [A-Za-z0-9_.+-], not start with "-", and not be "all" or only dots',
      'protocol: protocol must be A, B or C',
      'nodes[0].volumes: a node needs at least one volume',
      'nodes[1].nodeId: node-id must be a whole number in 0..31, not 40',
      'nodes[1].address.ip: "10.0.0.300" is not an IPv4 address (family ipv4 uses IPv4 notation)',
      'nodes[1].volumes[0].minor: minor must be a whole number in 0..1048575, not "x"',
      'nodes[1].volumes[0].disk: "dev/sdb" must be an absolute device path of at most 127 characters from [A-Za-z0-9_.+,:@=%~/-] without "." or ".." components',
      "net.afterSb2pri: after-sb-2pri \"discard-secondary\" is not one of disconnect, violently-as0p, call-pri-lost-after-sb (DRBD 9)",
      "net.maxBuffers: max-buffers 5 pages is outside DRBD 9's range 32..131072 pages",
      'net: Unrecognized key: "bogus"',
      'net.extra["max-buffers"]: max-buffers is typed: set maxBuffers instead of extra',
      'disk.fencing: fencing "always" is not one of dont-care, resource-only, resource-and-stonith (DRBD 9)',
      "disk.resyncRate: resync-rate 9G (= 9437184 KiB/s) is outside DRBD 9's range 1..8388608 KiB/s",
      'options.quorum: quorum must be off, majority, all or a node count 1..32',
      'nodes[1].name: node name a is also nodes[0]',
      "nodes[1].volumes: volumes [0] differ from nodes[0]'s []",
      'connectionMesh.hosts[1]: zz is not one of the nodes',
    ]);
    expect((error as ConfigError).code).toBe('E_CONFIG');
    expect((error as ConfigError).message).toContain('invalid DRBD resource definition "-r0": 17 problems');
    expect((error as ConfigError).message).toContain('  - protocol: protocol must be A, B or C');
  });

  it('refuses a missing or unknown target and still reports the other problems', () => {
    expect(issuesOf({ ...twoNodes9(), target: undefined, name: 'all' })).toEqual([
      'target: must be "8.4" or "9", not undefined',
      'name: resource name "all" must be 1..127 characters of [A-Za-z0-9_.+-], not start with "-", and not be "all" or only dots',
    ]);
    expect(issuesOf({ ...twoNodes84(), target: '8.3' })[0]).toBe('target: must be "8.4" or "9", not "8.3"');
    expect(issuesOf(null)[0]).toBe('target: must be "8.4" or "9", not undefined');
  });

  it('applies each target’s own ranges from drbd_limits.h', () => {
    expect(issuesOf(twoNodes84({ disk: { resyncRate: '5G' } }))).toEqual([
      "disk.resyncRate: resync-rate 5G (= 5242880 KiB/s) is outside DRBD 8.4's range 1..4194304 KiB/s",
    ]);
    expect(parseResourceDefinition(twoNodes9({ disk: { resyncRate: '5G' } })).disk.resyncRate).toBe(5242880);
    expect(issuesOf(twoNodes84({ disk: { alExtents: 6434 } }))).toEqual([
      "disk.alExtents: al-extents 6434 extents is outside DRBD 8.4's range 7..6433 extents",
    ]);
    expect(issuesOf(twoNodes9({ disk: { alExtents: 7 } }))).toEqual(["disk.alExtents: al-extents 7 extents is outside DRBD 9's range 67..65534 extents"]);
    expect(issuesOf(twoNodes84({ disk: { cMaxRate: 0 } }))).toEqual([
      "disk.cMaxRate: c-max-rate 0 KiB/s is outside DRBD 8.4's range 250..4194304 KiB/s",
    ]);
    expect(parseResourceDefinition(twoNodes9({ disk: { cMaxRate: 0 } })).disk.cMaxRate).toBe(0);
    expect(issuesOf(twoNodes84({ disk: { cFillTarget: '600M' } }))).toEqual([
      "disk.cFillTarget: c-fill-target 600M (= 1228800 sectors) is outside DRBD 8.4's range 0..1048576 sectors",
    ]);
  });

  it('refuses numbers that are not DRBD number syntax', () => {
    expect(issuesOf(twoNodes84({ net: { timeout: 1.5, pingInt: '10 s', koCount: true } }))).toEqual([
      'net.timeout: timeout must be a whole number of 1/10 s, or text with a K, M, G or s suffix such as "200M", not 1.5',
      'net.pingInt: ping-int must be a whole number of s, or text with a K, M, G or s suffix such as "200M", not "10 s"',
      'net.koCount: ko-count must be a whole number of timeouts, or text with a K, M, G or s suffix such as "200M", not true',
    ]);
  });

  it('keeps DRBD 9 features out of 8.4 definitions', () => {
    const nodes = (twoNodes84().nodes as Record<string, unknown>[]).map((n, i) => ({ ...n, nodeId: i }));
    expect(
      issuesOf(
        twoNodes84({
          nodes,
          options: { quorum: 'majority', autoPromote: false },
          net: { rrConflict: 'retry-connect' },
          handlers: { quorumLost: '/bin/true' },
          connectionMesh: { hosts: ['a', 'b'] },
        }),
      ),
    ).toEqual([
      'net.rrConflict: rr-conflict "retry-connect" is not one of disconnect, violently, call-pri-lost (DRBD 8.4)',
      'options.autoPromote: auto-promote is not a DRBD 8.4 option (only 9)',
      'options.quorum: quorum is not a DRBD 8.4 option (only 9)',
      'handlers.quorumLost: quorum-lost is not a DRBD 8.4 option (only 9)',
      'nodes[0].nodeId: node-id is DRBD 9 only',
      'nodes[1].nodeId: node-id is DRBD 9 only',
      'connectionMesh: connection-mesh is DRBD 9 only',
    ]);
    expect(issuesOf(twoNodes9({ net: { unplugWatermark: 128 } }))).toEqual(['net.unplugWatermark: unplug-watermark is not a DRBD 9 option (only 8.4)']);
  });

  it('requires what each target needs on nodes', () => {
    const noIds = (twoNodes9().nodes as Record<string, unknown>[]).map(({ nodeId: _id, ...n }) => n);
    expect(issuesOf(twoNodes9({ nodes: noIds }))).toEqual(['nodes[0].nodeId: DRBD 9 needs a node-id on every node', 'nodes[1].nodeId: DRBD 9 needs a node-id on every node']);
    const noAddress = (twoNodes84().nodes as Record<string, unknown>[]).map(({ address: _a, ...n }) => n);
    expect(issuesOf(twoNodes84({ nodes: noAddress }))).toEqual(['nodes[0].address: DRBD 8.4 needs an address on every node', 'nodes[1].address: DRBD 8.4 needs an address on every node']);
    expect(issuesOf(twoNodes84({ nodes: (twoNodes84().nodes as unknown[]).slice(0, 1) }))).toEqual(['nodes: DRBD 8.4 replicates between exactly two nodes; got 1']);
  });

  it('checks volumes: meta data, device names, minors, the same volumes everywhere, diskless only on DRBD 9', () => {
    const volumes = [
      { volume: 0, minor: 0, device: '/dev/drbd1', disk: '/dev/vg/r0' },
      { volume: 1, minor: 0, disk: 'none', metaDisk: 'internal' },
      { volume: 1, minor: 2, disk: '/dev/vg/r2', metaDisk: { device: '/dev/vg/md', index: -1 } },
    ];
    const nodes = twoNodes84().nodes as Record<string, unknown>[];
    expect(issuesOf(twoNodes84({ nodes: [{ ...nodes[0], volumes }, nodes[1]] }))).toEqual([
      'nodes[0].volumes[0].metaDisk: metaDisk is required with a backing disk ("internal" or {device, index?})',
      'nodes[0].volumes[0].device: device /dev/drbd1 names minor 1 but minor is 0',
      'nodes[0].volumes[1].disk: disk "none" (diskless) needs DRBD 9',
      'nodes[0].volumes[2].metaDisk.index: meta-disk index must be a whole number in 0..2147483647, not -1',
      'nodes[0].volumes[1].minor: minor 0 is used twice on this node',
      'nodes[0].volumes[2].volume: volume 1 is defined twice on this node',
      "nodes[1].volumes: volumes [0] differ from nodes[0]'s [0,1,1]",
    ]);
  });

  it('checks addresses: families, uniqueness, text form', () => {
    const nodes = twoNodes84().nodes as Record<string, unknown>[];
    expect(issuesOf(twoNodes84({ nodes: [nodes[0], { ...nodes[1], address: 'ipv6 [fd00::2]:7789' }] }))).toEqual([
      "nodes[1].address: address family ipv6 differs from nodes[0]'s ipv4; both ends of a connection use one family",
    ]);
    expect(issuesOf(twoNodes84({ nodes: [nodes[0], { ...nodes[1], address: nodes[0]?.address }] }))).toEqual([
      'nodes[1].address: address ipv4 10.0.0.1:7789 is also used by nodes[0]',
    ]);
    expect(issuesOf(twoNodes84({ nodes: [nodes[0], { ...nodes[1], address: 'ipv6 10.0.0.2:7789' }] }))).toEqual([
      'nodes[1].address.ip: "10.0.0.2" is not an IPv6 address',
      "nodes[1].address: address family ipv6 differs from nodes[0]'s ipv4; both ends of a connection use one family",
    ]);
    expect(issuesOf(twoNodes84({ nodes: [nodes[0], { ...nodes[1], address: 'somewhere' }] }))).toEqual([
      'nodes[1].address: address must be {family, ip, port} or text like "ipv4 10.0.0.1:7789" or "ipv6 [fd00::1]:7789"',
    ]);
    expect(issuesOf(twoNodes84({ nodes: [nodes[0], { ...nodes[1], address: { ip: '10.0.0.2', port: 0 } }] }))).toEqual([
      'nodes[1].address.port: port must be a whole number in 1..65535, not 0',
    ]);
  });

  it('checks startup and split-brain words against the nodes', () => {
    expect(issuesOf(twoNodes84({ startup: { becomePrimaryOn: 'both' }, net: { afterSb0pri: 'discard-node-c' } }))).toEqual([
      'startup.becomePrimaryOn: become-primary-on both needs net.allowTwoPrimaries (drbdadm refuses it otherwise)',
      'net.afterSb0pri: discard-node-c names no node of this resource',
    ]);
    expect(issuesOf(twoNodes84({ startup: { becomePrimaryOn: 'c' } }))).toEqual(['startup.becomePrimaryOn: become-primary-on c is not one of the nodes (a, b) or "both"']);
    expect(parseResourceDefinition(twoNodes84({ net: { afterSb0pri: 'discard-node-b' } })).net.afterSb0pri).toBe('discard-node-b');
  });

  it('checks DRBD 9 connections', () => {
    expect(
      issuesOf(
        twoNodes9({
          connectionMesh: { hosts: ['a', 'b'] },
          connections: [
            { hosts: [{ host: 'a' }, { host: 'a' }] },
            { hosts: [{ host: 'a' }, { host: 'x' }] },
            { hosts: [{ host: 'a' }, { host: 'b' }], paths: [] },
            { paths: [[{ host: 'a' }, { host: 'b', address: 'ipv6 [fd00::2]:7000' }]] },
            { hosts: [{ host: 'b' }, { host: 'a' }] },
          ],
        }),
      ),
    ).toEqual([
      'connections[2].paths: Too small: expected array to have >=1 items',
      'connections: use either connectionMesh or connections, not both',
      'connections[0].hosts: a connection joins two different nodes, not a with itself',
      'connections[1].hosts[1].host: x is not one of the nodes',
      'connections[2]: a connection needs either hosts (two endpoints) or paths, not both',
      'connections[3].paths[0]: the two ends use different address families (ipv4, ipv6)',
      'connections[4]: a and b are already connected by connections[3]',
    ]);
  });

  it('keeps typed options out of extra and extra keywords sane', () => {
    expect(issuesOf(twoNodes84({ startup: { extra: { 'wfc-timeout': '5', 'bad word': 'x', 'ok-flag': 3 } } }))).toEqual([
      'startup.extra["bad word"]: extra option keywords are words like "max-io-depth"',
      'startup.extra["ok-flag"]: extra option values are strings (no control characters or newlines, at most 255), or true for a bare flag',
      'startup.extra["wfc-timeout"]: wfc-timeout is typed: set wfcTimeout instead of extra',
    ]);
  });

  it('refuses strings DRBD cannot hold', () => {
    expect(issuesOf(twoNodes84({ net: { sharedSecret: 'x'.repeat(64), cramHmacAlg: '' }, handlers: { splitBrain: 'a\nb' } }))).toEqual([
      'net.cramHmacAlg: cram-hmac-alg must not be empty',
      'net.sharedSecret: shared-secret is longer than 63 characters',
      'handlers.splitBrain: split-brain must not contain control characters or newlines',
    ]);
  });
});

describe('names that reach argv and file names', () => {
  it('resource names', () => {
    for (const ok of ['r0', 'vm-disks', 'pvc-3f1c_0000', 'a.b+c', 'x'.repeat(127), '_r']) expect(isValidResourceName(ok), ok).toBe(true);
    for (const bad of ['', '-r0', 'all', '.', '..', 'r 0', 'r/0', 'r;0', 'x'.repeat(128), 'rö', '$(id)']) expect(isValidResourceName(bad), bad).toBe(false);
  });

  it('host names as uname -n prints them', () => {
    for (const ok of ['node1', 'hv-a.example.net', 'n_1', 'a']) expect(isValidHostName(ok), ok).toBe(true);
    for (const bad of ['', '-a', 'a-', '.a', 'a b', 'x'.repeat(65), 'a;b']) expect(isValidHostName(bad), bad).toBe(false);
  });

  it('device paths', () => {
    for (const ok of ['/dev/vg0/r0', '/dev/disk/by-path/pci-0000:00:1f.2-ata-1', '/dev/mapper/vg-lv+x']) expect(isValidDevicePath(ok), ok).toBe(true);
    for (const bad of ['dev/sda', '/dev/../etc/passwd', '/dev/sd a', '/dev/x"', '/', '/dev//sda', `/${'a'.repeat(127)}`]) expect(isValidDevicePath(bad), bad).toBe(false);
  });
});

it('parses the input type without casts (compile-time check of ResourceDefinitionInput)', () => {
  const input: ResourceDefinitionInput = {
    name: 'r9',
    target: '9',
    nodes: [{ name: 'a', nodeId: 0, address: { ip: '10.0.0.1', port: '7000' }, volumes: [{ volume: 0, minor: 9, disk: '/dev/vg/r9', metaDisk: 'internal' }] }],
    disk: { resyncRate: '100M' },
  };
  expect(parseResourceDefinition(input).nodes[0]?.address?.port).toBe(7000);
});

it('refuses arbitrary input with a ConfigError and nothing else', () => {
  const mutate = (base: unknown, path: string[], value: unknown): unknown => {
    const copy = structuredClone(base) as Record<string, unknown>;
    let node: Record<string, unknown> = copy;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== 'object' || next === null) return copy;
      node = next as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
    return copy;
  };
  const paths = [['name'], ['target'], ['nodes'], ['net'], ['disk', 'resyncRate'], ['nodes', '0', 'address'], ['nodes', '1', 'volumes'], ['startup', 'becomePrimaryOn'], ['connectionMesh']];
  fc.assert(
    fc.property(
      fc.oneof(
        fc.anything(),
        fc.tuple(fc.constantFrom(LAB_84, MESH_9, CONNECTIONS_9), fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 2 })).map(([base, path, value]) => mutate(base, path, value)),
      ),
      (input) => {
        try {
          parseResourceDefinition(input);
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          expect((e as ConfigError).issues.length).toBeGreaterThan(0);
        }
      },
    ),
    { numRuns: 1500 },
  );
});
