import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, ParseError } from '../../../src/errors.js';
import { clusterFromFile, loadClusterFile, lvmHostIdOf, parseClusterFile } from '../../../src/stack/cluster-file.js';
import { LocalExecutor, SshExecutor } from '../../../src/sys/executor.js';
import { R0 } from './two-nodes.js';

const { name: _name, ...r0WithoutName } = R0;

const GOOD = {
  nodes: [
    { name: 'node1', local: true },
    {
      name: 'node2',
      ssh: { host: '10.99.0.2', user: 'hastor', port: 2222, knownHostsFile: '/etc/hastor/known_hosts', options: { ConnectTimeout: '5' } },
      sudo: true,
      lvmHostId: 7,
    },
  ],
  guests: { vm1: { ssh: { host: '10.99.0.10', user: 'hastor' }, sudo: true } },
  resources: { r0: r0WithoutName },
};

function issuesOf(text: string): string[] {
  try {
    parseClusterFile(text, 'cluster.json');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseClusterFile', () => {
  it('reads nodes, guests and resources; the resource takes its name from its key', () => {
    const file = parseClusterFile(JSON.stringify(GOOD), '/etc/hastor/cluster.json');
    expect(file.path).toBe('/etc/hastor/cluster.json');
    expect(file.nodes.map((n) => n.name)).toEqual(['node1', 'node2']);
    expect(Object.keys(file.guests)).toEqual(['vm1']);
    expect(file.resources.r0?.name).toBe('r0');
    expect(file.resources.r0?.nodes.map((n) => n.name)).toEqual(['node1', 'node2']);
  });

  it('builds a LocalExecutor for the local node and an SshExecutor with the ssh settings mapped to ssh -o options', () => {
    const { cluster, guests, resources } = clusterFromFile(parseClusterFile(JSON.stringify(GOOD), 'c.json'));
    const node1 = cluster.node('node1').executor;
    const node2 = cluster.node('node2').executor;
    expect(node1).toBeInstanceOf(LocalExecutor);
    expect(node1.node).toBe('node1');
    expect(node2).toBeInstanceOf(SshExecutor);
    expect(node2.node).toBe('node2');
    expect((node2 as SshExecutor).sshArgv(['drbdadm', 'up', 'r0'], true)).toEqual([
      'ssh',
      '-o',
      'BatchMode=yes',
      '-o',
      'UserKnownHostsFile=/etc/hastor/known_hosts',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'ConnectTimeout=5',
      '-p',
      '2222',
      '-l',
      'hastor',
      '--',
      '10.99.0.2',
      'sudo -n -- env LC_ALL=C drbdadm up r0',
    ]);
    expect(guests.get('vm1')).toBeInstanceOf(SshExecutor);
    expect([...resources.keys()]).toEqual(['r0']);
  });

  it('gives each node an lvmlockd host id: its own, else its position', () => {
    const file = parseClusterFile(JSON.stringify(GOOD), 'c.json');
    expect(lvmHostIdOf(file, 'node1')).toBe(1);
    expect(lvmHostIdOf(file, 'node2')).toBe(7);
    expect(() => lvmHostIdOf(file, 'node9')).toThrow(ConfigError);
  });

  it('names the path of every bad field in one ConfigError', () => {
    const bad = {
      nodes: [
        { name: 'node 1', local: true },
        { name: 'node2', ssh: { host: 'h', port: 70000 }, colour: 'blue' },
        { name: 'node3' },
        { name: 'node4', local: true, ssh: { host: 'x' } },
        { name: 'node5', ssh: { host: 'y', user: 'hastor' }, sudo: false },
      ],
      guests: { vm1: { ssh: { host: 'z', options: { 'Bad Key': 'v', ProxyCommand: 'a\nb' } } } },
    };
    const issues = issuesOf(JSON.stringify(bad));
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^nodes\[0\]\.name: /),
        expect.stringMatching(/^nodes\[1\]\.ssh\.port: /),
        expect.stringMatching(/^nodes\[1\]: .*colour/),
        expect.stringMatching(/^nodes\[2\]: give exactly one of "local": true or "ssh"/),
        expect.stringMatching(/^nodes\[3\]: give exactly one of/),
        expect.stringMatching(/^nodes\[4\]\.sudo: sudo: false needs ssh\.user "root"/),
        expect.stringMatching(/^guests\.vm1\.ssh\.options/),
      ]),
    );
  });

  it('reports resource problems under resources.<name>, and nodes the cluster does not have', () => {
    const withProblems = {
      nodes: GOOD.nodes,
      resources: {
        r0: { ...r0WithoutName, protocol: 'D' },
        r1: { ...r0WithoutName, name: 'other' },
        r2: { ...r0WithoutName, nodes: [{ ...R0.nodes[0], name: 'node9' }, R0.nodes[1]] },
        r3: 'not an object',
      },
    };
    const issues = issuesOf(JSON.stringify(withProblems));
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^resources\.r0\.protocol: /),
        'resources.r1.name: "other" differs from its key "r1"',
        expect.stringMatching(/^resources\.r2\.nodes\[0\]\.name: node9 is not one of the cluster's nodes \(node1, node2\)/),
        'resources.r3: a resource definition object',
      ]),
    );
  });

  it('refuses duplicate node names and duplicate host ids', () => {
    const issues = issuesOf(JSON.stringify({ nodes: [{ name: 'a', local: true }, { name: 'b', ssh: { host: 'b' }, lvmHostId: 1 }, { name: 'a', ssh: { host: 'c' } }] }));
    expect(issues).toContain('nodes[2].name: a is already nodes[0]');
    expect(issues.some((i) => i.startsWith('nodes[1].lvmHostId: host id 1 is also a'))).toBe(true);
  });

  it('a JSON syntax error is a ParseError with the line and the offending text', () => {
    const text = '{\n  "nodes": [\n    { "name": "node1", "local": true },\n  ]\n}\n';
    let error: unknown;
    try {
      parseClusterFile(text, 'cluster.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).line).toBe(4);
    expect((error as ParseError).message).toMatch(/^cannot parse cluster\.json line 4: not valid JSON/);
  });

  it('never throws anything but ParseError or ConfigError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ nodes: v }))), (text) => {
        try {
          parseClusterFile(text, 'x.json');
        } catch (error) {
          expect(error instanceof ParseError || error instanceof ConfigError).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('loadClusterFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hastor-cluster-file-'));

  it('reads the file and builds the cluster', async () => {
    const path = join(dir, 'cluster.json');
    writeFileSync(path, JSON.stringify(GOOD));
    const loaded = await loadClusterFile(path);
    expect(loaded.cluster.names).toEqual(['node1', 'node2']);
    expect(loaded.file.path).toBe(path);
    expect(loaded.resources.get('r0')?.target).toBe('8.4');
  });

  it('a missing file is a ConfigError naming it and how to point elsewhere', async () => {
    const error = await loadClusterFile(join(dir, 'nope.json')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/cannot read cluster file .*nope\.json \(ENOENT\)/);
    expect((error as Error).message).toContain('--cluster FILE or HASTOR_CLUSTER');
  });
});
