import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { parseDrbdadmDump } from '../../../../src/drbd/config/import-dump.js';
import { parseDrbdadmDumpXml } from '../../../../src/drbd/config/import-xml.js';

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

describe('parseDrbdadmDumpXml on drbdadm output', () => {
  it('reads the same 8.4 resource as the text dump does', () => {
    for (const base of ['drbd-utils-v84-man', 'drbd-utils-v9-drbd_8.4', 'hastor-84-dual-primary']) {
      expect(parseDrbdadmDumpXml(fixture(`${base}.dump-xml.xml`)), base).toEqual(parseDrbdadmDump(fixture(`${base}.dump.txt`)));
    }
  });

  it('needs node ids for DRBD 9, because dump-xml does not print them', () => {
    const e = parseError(() => parseDrbdadmDumpXml(fixture('drbd-utils-v9-man.dump-xml.xml')));
    expect(e.message).toContain('host undertest has no node-id (drbdadm dump-xml leaves node ids out');
    expect(e.line).toBe(6);
    expect(e.excerpt).toBe('<host name="undertest">');
  });

  it('reads DRBD 9 resources like the text dump once node ids are given', () => {
    const nodeIds = { 'n1.ryzen9.home': 0, 'n2.ryzen9.home': 1, undertest: 2 };
    expect(parseDrbdadmDumpXml(fixture('drbd-utils-v9-adjust_switch_interface_r0.dump-xml.xml'), { nodeIds })).toEqual(
      parseDrbdadmDump(fixture('drbd-utils-v9-adjust_switch_interface_r0.dump.txt')),
    );
  });

  it('rebuilds a connection-mesh from the per-pair connections dump-xml writes it as', () => {
    const [def] = parseDrbdadmDumpXml(fixture('drbd-utils-v9-man.dump-xml.xml'), { nodeIds: { undertest: 0, bob: 1 } });
    // The source has one explicit connection with only a protocol: the same thing as a mesh of the two.
    expect(def?.connectionMesh).toEqual({ hosts: ['undertest', 'bob'], protocol: 'C' });
    expect(def?.connections).toBeUndefined();
    const three = `<resource name="m" conf-file-line="x:1">
${['a', 'b', 'c']
  .map((h, i) => `<host name="${h}"><volume vnr="0"><device minor="0"></device><disk>/dev/x</disk><meta-disk>internal</meta-disk></volume><address family="ipv4" port="7000">10.0.0.${i + 1}</address></host>`)
  .join('\n')}
${[
  ['a', 1, 'b', 2],
  ['a', 1, 'c', 3],
  ['b', 2, 'c', 3],
]
  .map(
    ([x, i, y, j]) =>
      `<connection><host name="${x}"><address family="ipv4" port="7000">10.0.0.${i}</address></host><host name="${y}"><address family="ipv4" port="7000">10.0.0.${j}</address></host><section name="net"><option name="_name" value="${y}"/><option name="max-buffers" value="4k"/></section></connection>`,
  )
  .join('\n')}
</resource>`;
    const [mesh] = parseDrbdadmDumpXml(three, { nodeIds: { a: 0, b: 1, c: 2 } });
    expect(mesh?.connectionMesh).toEqual({ hosts: ['a', 'b', 'c'], net: { maxBuffers: 4096 } });
    // Drop one pair: no longer a mesh, the connections stay as they are.
    const partial = three.replace(/<connection>.*10\.0\.0\.3<\/address><\/host><section.*\n(?=<connection>.*<host name="b">)/, '');
    const [notMesh] = parseDrbdadmDumpXml(partial, { nodeIds: { a: 0, b: 1, c: 2 } });
    expect(notMesh?.connectionMesh).toBeUndefined();
    expect(notMesh?.connections?.map((c) => c.hosts?.map((e) => e.host))).toEqual([
      ['a', 'b'],
      ['b', 'c'],
    ]);
  });

  it('reads a public DRBD 9 sample (ClusterLabs Anvil!): addresses only on the connection, "(null)" on hosts', () => {
    expect(parseDrbdadmDumpXml(fixture('anvil-srv00-sql1.dump-xml.xml'), { nodeIds: { 'mk-a02n01': 0, 'mk-a02n02': 1 } })).toEqual([
      {
        name: 'srv00-sql1',
        target: '9',
        nodes: [
          {
            name: 'mk-a02n01',
            nodeId: 0,
            volumes: [{ volume: 0, minor: 0, device: '/dev/drbd_srv00-sql1_0', disk: '/dev/mk-a02n01_ssd0/srv00-sql1_0', metaDisk: 'internal' }],
          },
          {
            name: 'mk-a02n02',
            nodeId: 1,
            volumes: [{ volume: 0, minor: 0, device: '/dev/drbd_srv00-sql1_0', disk: '/dev/mk-a02n02_ssd0/srv00-sql1_0', metaDisk: 'internal' }],
          },
        ],
        connections: [
          {
            hosts: [
              { host: 'mk-a02n01', address: { family: 'ipv4', ip: '10.101.12.1', port: 7788 } },
              { host: 'mk-a02n02', address: { family: 'ipv4', ip: '10.101.12.2', port: 7788 } },
            ],
            protocol: 'C',
            fencing: 'resource-and-stonith',
            disk: { cMaxRate: 500 * 1024 },
          },
        ],
        net: {},
        disk: {},
        options: {},
        startup: {},
        handlers: {},
      },
    ]);
  });
});

describe('parseDrbdadmDumpXml refuses, with the line', () => {
  const host = (name: string, extra = ''): string =>
    `<host name="${name}"${extra}><volume vnr="0"><device minor="0"></device><disk>/dev/x</disk><meta-disk>internal</meta-disk></volume><address family="ipv4" port="7000">10.0.0.${name === 'a' ? 1 : 2}</address></host>`;
  const resource = (inner: string): string => `<resource name="r0" conf-file-line="x:1">\n${host('a')}\n${host('b')}\n${inner}\n</resource>`;

  it.each([
    [resource('<section name="proxy"><option name="memlimit" value="1M"/></section>'), 4, 'section proxy is not supported'],
    [resource('<template file="/x"/>'), 4, '<template> inside <resource> is not supported'],
    [resource('<section name="net"><option name="max-buffers" value="few"/></section>'), 4, 'max-buffers takes a number'],
    [resource('<section name="net"><option value="1"/></section>'), 4, 'lacks the name attribute'],
    [resource('<section name="net"><option name="a">x</option></section>'), 4, 'holds no content'],
    [`<resource name="r0">\n<host floating="1"></host>\n</resource>`, 2, 'floating hosts'],
    [`<resource name="r0">\n<host name="a b"></host>\n</resource>`, 2, 'names several hosts'],
    [`<resource name="r0">\n<host name="a"><section name="options"><option name="cpu-mask" value="1"/></section></host>\n</resource>`, 2, 'per-host options'],
    [`<resource name="r0">\n<host name="a"><volume vnr="x"></volume></host>\n</resource>`, 2, 'vnr="x" is not a whole number'],
    [`<resource name="r0">\n<host name="a"><volume vnr="0"><device minor="0"><b/></device></volume></host>\n</resource>`, 2, 'should hold text only'],
    [`<resource name="r0">\n<host name="a"><address family="ipv4" port="(null)">1.2.3.4</address></host>\n</resource>`, 2, 'is not a port number'],
    [`<resource name="r0">\n<connection><host name="a"/></connection>\n</resource>`, 2, 'holds one <address>'],
    [`<config>\n<resource name="a"/>\n<resource name="a"/>\n</config>`, 3, 'defined twice'],
    [`<config>\n<global/>\n</config>`, 1, 'no <resource>'],
    [`<config/>\n<config/>`, 1, 'must be the only top-level element'],
    [`<drbd/>`, 1, 'unexpected top-level <drbd>'],
  ])('%#: %s', (text, line, reason) => {
    const e = parseError(() => parseDrbdadmDumpXml(text));
    expect(e.message).toContain(reason);
    expect(e.line).toBe(line);
  });
});

it('treats attribute and option names as data, even __proto__', () => {
  const text = `<resource name="r0"><section name="net"><option name="__proto__" value="x"/></section>
<host name="a" __proto__="y"><volume vnr="0"><device minor="0"></device><disk>/dev/x</disk><meta-disk>internal</meta-disk></volume><address family="ipv4" port="7000">10.0.0.1</address></host>
<host name="b"><volume vnr="0"><device minor="0"></device><disk>/dev/x</disk><meta-disk>internal</meta-disk></volume><address family="ipv4" port="7000">10.0.0.2</address></host>
</resource>`;
  const e = parseError(() => parseDrbdadmDumpXml(text));
  expect(e.message).toContain('net.extra.__proto__: extra option keywords are words');
  expect(({} as Record<string, unknown>).x).toBeUndefined();
});
