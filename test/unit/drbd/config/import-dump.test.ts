import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { parseDrbdadmDump } from '../../../../src/drbd/config/import-dump.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/drbdadm-config/${name}`, import.meta.url), 'utf8');

function parseError(run: () => unknown): ParseError {
  try {
    run();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('expected a ParseError');
}

describe('parseDrbdadmDump on drbdadm output', () => {
  it('reads drbdadm-84 dump of the drbd.conf-8.4 manual example (drbd-utils tests/v84/man.res)', () => {
    expect(parseDrbdadmDump(fixture('drbd-utils-v84-man.dump.txt'))).toEqual([
      {
        name: 'r0',
        target: '8.4',
        protocol: 'C',
        nodes: [
          {
            name: 'undertest',
            address: { family: 'ipv4', ip: '10.1.1.31', port: 7789 },
            volumes: [{ volume: 0, minor: 1, disk: '/dev/sda7', metaDisk: 'internal' }],
          },
          {
            name: 'bob',
            address: { family: 'ipv4', ip: '10.1.1.32', port: 7789 },
            volumes: [{ volume: 0, minor: 1, disk: '/dev/sda7', metaDisk: 'internal' }],
          },
        ],
        net: { cramHmacAlg: 'sha1', sharedSecret: 'FooFunFactory' },
        disk: { resyncRate: 10240 },
        options: {},
        startup: {},
        handlers: {},
      },
    ]);
  });

  it('reads a DRBD 9 dump with a resource-level volume the hosts inherit and a port-only connection', () => {
    const [def] = parseDrbdadmDump(fixture('drbd-utils-v9-man.dump.txt'));
    expect(def?.target).toBe('9');
    expect(def?.nodes.map((n) => [n.name, n.nodeId, n.volumes])).toEqual([
      ['undertest', 0, [{ volume: 0, minor: 1, device: '/dev/drbd1', disk: '/dev/sda7', metaDisk: 'internal' }]],
      ['bob', 1, [{ volume: 0, minor: 1, device: '/dev/drbd1', disk: '/dev/sda7', metaDisk: 'internal' }]],
    ]);
    // `host undertest port 7000` repeats the node's own port: nothing to override.
    expect(def?.connections).toEqual([{ hosts: [{ host: 'undertest' }, { host: 'bob' }], protocol: 'C' }]);
    expect(def?.connectionMesh).toBeUndefined();
  });

  it('reads three nodes without own addresses, connections by short host name over paths, a diskless node', () => {
    const [def] = parseDrbdadmDump(fixture('drbd-utils-v9-adjust_switch_interface_r0.dump.txt'));
    expect(def?.nodes.map((n) => [n.name, n.nodeId, n.address, n.volumes[0]?.disk])).toEqual([
      ['n1.ryzen9.home', 0, undefined, '/dev/scratch/r0_0'],
      ['n2.ryzen9.home', 1, undefined, '/dev/scratch/r0_0'],
      ['undertest', 2, undefined, 'none'],
    ]);
    expect(def?.nodes[2]?.volumes[0]).toEqual({ volume: 0, minor: 10, disk: 'none' });
    expect(def?.connections?.[1]).toEqual({
      paths: [
        [
          { host: 'n1', address: { family: 'ipv4', ip: '192.168.123.1', port: 7001 } },
          { host: 'undertest', address: { family: 'ipv4', ip: '192.168.123.3', port: 7001 } },
        ],
      ],
    });
    expect(def?.options).toEqual({ quorum: 'majority', onNoQuorum: 'suspend-io', onNoDataAccessible: 'suspend-io', onSuspendedPrimaryOutdated: 'force-secondary' });
    expect(def?.net).toEqual({ afterSb0pri: 'discard-zero-changes', rrConflict: 'retry-connect', verifyAlg: 'md5' });
  });

  it('merges common under the resource (drbd-utils tests/v9/drbd_8.4.res through drbdadm-84)', () => {
    const [def] = parseDrbdadmDump(fixture('drbd-utils-v9-drbd_8.4.dump.txt'));
    expect(def?.protocol).toBe('C');
    expect(def?.net).toEqual({
      timeout: 50,
      connectInt: 10,
      pingInt: 5,
      pingTimeout: 50,
      koCount: 0,
      cramHmacAlg: 'md5',
      sharedSecret: 'gaeWoor7dawei3Oo',
      csumsAlg: 'md5',
      csumsAfterCrashOnly: true,
      verifyAlg: 'crc32c',
    });
    expect(def?.disk).toEqual({
      onIoError: 'call-local-io-error',
      fencing: 'resource-and-stonith',
      diskFlushes: false,
      mdFlushes: false,
      resyncRate: 25 * 1024,
      cMaxRate: 500 * 1024,
      cMinRate: 20 * 1024,
      alExtents: 379,
      diskTimeout: 0,
    });
    expect(def?.handlers).toEqual({
      fencePeer: '/opt/root-scripts/bin/fence-peer',
      localIoError: '/opt/root-scripts/bin/handle-io-error',
      priOnInconDegr: '/opt/root-scripts/bin/handle-io-error',
    });
    expect(def?.startup).toEqual({ wfcTimeout: 1 });
    expect(def?.nodes[1]?.volumes).toEqual([{ volume: 0, minor: 1, device: '/dev/drbd1', disk: '/dev/dbdata01/lvdbdata01', metaDisk: 'internal' }]);
  });
});

describe('parseDrbdadmDump on hand-written configuration', () => {
  const HANDWRITTEN = `# two resources, written the way the 8.4 manual shows
global { usage-count no; }
common { net { protocol B; } startup { wfc-timeout 5; } }
resource r1 {
  protocol C;                      # overrides common
  device    minor 1;
  meta-disk internal;
  disk      /dev/vg/r1;
  net { allow-two-primaries; after-sb-2pri disconnect; no-tcp-cork; }
  skip disk { this is ignored entirely; }
  on alice { address 10.2.2.100:7801; }
  on bob { address 10.2.2.101:7801; disk /dev/vg/other; flexible-meta-disk /dev/vg/md; }
}
resource "r2" {
  on alice { device /dev/drbd2; disk /dev/vg/r2; meta-disk /dev/vg/md[3]; address ipv4 10.2.2.100:7802; }
  on bob { device /dev/drbd2; disk /dev/vg/r2; meta-disk /dev/vg/md [4]; address 10.2.2.101:7802; }
}
`;

  it('inherits resource-level volume statements, merges common, keeps unknown flags in extra', () => {
    const [r1, r2] = parseDrbdadmDump(HANDWRITTEN);
    expect(r1?.protocol).toBe('C');
    expect(r1?.startup).toEqual({ wfcTimeout: 5 });
    expect(r1?.net).toEqual({ allowTwoPrimaries: true, afterSb2pri: 'disconnect', extra: { 'no-tcp-cork': true } });
    expect(r1?.disk).toEqual({});
    expect(r1?.nodes.map((n) => n.volumes)).toEqual([
      [{ volume: 0, minor: 1, disk: '/dev/vg/r1', metaDisk: 'internal' }],
      [{ volume: 0, minor: 1, disk: '/dev/vg/other', metaDisk: { device: '/dev/vg/md' } }],
    ]);
    expect(r2?.protocol).toBe('B');
    expect(r2?.nodes.map((n) => n.volumes[0])).toEqual([
      { volume: 0, minor: 2, device: '/dev/drbd2', disk: '/dev/vg/r2', metaDisk: { device: '/dev/vg/md', index: 3 } },
      { volume: 0, minor: 2, device: '/dev/drbd2', disk: '/dev/vg/r2', metaDisk: { device: '/dev/vg/md', index: 4 } },
    ]);
  });

  it('takes the target from the caller when asked', () => {
    const text = fixture('drbd-utils-v84-man.dump.txt');
    expect(() => parseDrbdadmDump(text, { target: '9' })).toThrow(/node-id/);
    const withIds = parseDrbdadmDump(text, { target: '9', nodeIds: { undertest: 0, bob: 1 } });
    expect(withIds[0]?.connectionMesh).toEqual({ hosts: ['undertest', 'bob'] });
  });
});

describe('parseDrbdadmDump refuses, with the line', () => {
  const wrap = (body: string): string => `resource r0 {\n${body}\n  on a { address 10.0.0.1:7789; device minor 0; disk /dev/a; meta-disk internal; }\n  on b { address 10.0.0.2:7789; device minor 0; disk /dev/a; meta-disk internal; }\n}\n`;

  it.each([
    ['floating 10.0.0.9:7788 { }', 2, 'floating is not supported in a resource'],
    ['stacked-on-top-of r9 { address 10.0.0.9:7788; }', 2, 'stacked-on-top-of is not supported'],
    ['proxy { memlimit 100M; }', 2, 'proxy is not supported'],
    ['template-file "/etc/x";', 2, 'template-file is not supported'],
    ['net { max-buffers 2000; max-buffers 3000; }', 2, 'given twice'],
    ['net { max-buffers lots; }', 2, 'max-buffers takes a number'],
    ['net { allow-two-primaries maybe; }', 2, 'takes yes or no'],
    ['net { verify-alg md5 sha1; }', 2, 'takes one value'],
    ['disk { on-io-error; }', 2, 'needs a value'],
    ['"options" { }', 2, 'expected a keyword'],
  ])('%s', (body, line, reason) => {
    const e = parseError(() => parseDrbdadmDump(wrap(body)));
    expect(e.line).toBe(line);
    expect(e.message).toContain(reason);
    expect(e.source).toBe('drbdadm dump');
  });

  it.each([
    ['include "drbd.d/*.res";', 1, 'include is not followed'],
    ['resource r0 { on a b { address 10.0.0.1:7789; } }', 1, 'naming 2 hosts'],
    ['resource r0 {\n on a {\n  options { quorum off; }\n }\n}', 3, 'options in an on section'],
    ['resource r0 {\n on a {\n  address 10.0.0.1;\n }\n}', 3, 'malformed address'],
    ['resource r0 {\n on a {\n  device /dev/drbd_r0;\n }\n}', 3, 'no minor number'],
    ['resource r0 {\n on a {\n  device minor 0;\n  meta-disk a b c;\n }\n}', 4, 'meta-disk takes'],
    ['resource r0 {\n connection {\n  host a via proxy on x { }\n }\n}', 3, 'via DRBD proxy are not supported'],
    ['resource r0 {\n connection {\n  host a;\n }\n}', 2, 'exactly two hosts'],
    ['common { syncer { rate 10M; } }', 1, 'syncer in common'],
    ['resource r0 { }\nresource r0 { }', 2, 'defined twice'],
    ['global { }', 1, 'no resource'],
    ['resource r0 {\n  volume 0 { device minor 0; }\n  on a { node-id 0; address 10.0.0.1:7789; }\n  on b { node-id 1; address 10.0.0.2:7789; }\n}', 2, 'no backing disk'],
  ])('%j', (text, line, reason) => {
    const e = parseError(() => parseDrbdadmDump(text));
    expect(e.line).toBe(line);
    expect(e.message).toContain(reason);
  });

  it('reports a configuration hastor cannot model at the resource, with every problem', () => {
    const e = parseError(() =>
      parseDrbdadmDump('# dump\nresource "r 1" {\n on a { node-id 0; address 10.0.0.1:7789; volume 0 { device minor 0; disk /dev/a; } }\n}\n'),
    );
    expect(e.line).toBe(2);
    expect(e.message).toContain('resource r 1 is not a definition hastor accepts: name: resource name "r 1" must be');
    expect(e.message).toContain('metaDisk is required');
    expect(e.excerpt).toBe('resource "r 1" {');
  });
});

it('reads the protocol letter in either case, as drbdadm does', () => {
  const text = fixture('drbd-utils-v84-man.dump.txt').replace('protocol           C;', 'protocol c;');
  expect(text).toContain('protocol c;');
  expect(parseDrbdadmDump(text)[0]?.protocol).toBe('C');
});
