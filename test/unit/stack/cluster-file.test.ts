import { chmodSync, chownSync, existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, ParseError, UnsafePathError } from '../../../src/errors.js';
import { runCli } from '../cli/helpers.js';
import { asNobody, canPlayAttacker, worldWritableDir } from '../sys/helpers/as-nobody.js';
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

describe('ssh destinations in the cluster file', () => {
  const withHost = (ssh: Record<string, unknown>): string => JSON.stringify({ nodes: [{ name: 'node1', local: true }, { name: 'node2', ssh }] });

  it.each(['node2', 'node2.example.com', 'n-2.ex-ample.org', '10.99.0.2', '::1', 'fe80::1%eth0', '2001:db8::2', 'hastor@node2', 'root@10.99.0.2', 'svc_backup@h'])('accepts %s', (host) => {
    expect(() => parseClusterFile(withHost({ host }), 'c.json')).not.toThrow();
  });

  it.each([
    'node2;${IFS}reboot',
    'node2;reboot',
    'node2 reboot',
    'node2\treboot',
    '$(reboot)',
    '`reboot`',
    'node2|x',
    'node2&',
    "node2'",
    'node2>x',
    '-oProxyCommand=touch${IFS}/tmp/x',
    '-node2',
    'node2-',
    '[::1]',
    '1.2.3.256',
    'a..b',
    'node_2',
    'user name@node2',
    '-l@node2',
    'a@b@c',
    '',
    'x'.repeat(254),
  ])('refuses %j with a message naming the field', (host) => {
    const issues = issuesOf(withHost({ host }));
    expect(issues.some((i) => i.startsWith('nodes[1].ssh.host: a host name (RFC 1123)'))).toBe(true);
  });

  it('refuses a user that is not a POSIX user name, and a login given twice', () => {
    expect(issuesOf(withHost({ host: 'node2', user: '-oProxyCommand=x' })).some((i) => i.startsWith('nodes[1].ssh.user: a POSIX user name'))).toBe(true);
    expect(issuesOf(withHost({ host: 'hastor@node2', user: 'hastor' }))).toContain('nodes[1].ssh: give the login once, as "user" or as user@ in "host", not both');
  });

  it('user@host becomes ssh -l user, the host alone after --', () => {
    const loaded = clusterFromFile(parseClusterFile(withHost({ host: 'hastor@node2' }), 'c.json'));
    const argv = (loaded.cluster.node('node2').executor as SshExecutor).sshArgv(['true']);
    expect(argv.slice(-4)).toEqual(['hastor', '--', 'node2', 'env LC_ALL=C true']);
    expect(argv[argv.indexOf('--') - 2]).toBe('-l');
  });

  it('SshExecutor itself refuses a host a library caller passes unchecked', () => {
    expect(() => new SshExecutor({ host: 'node2;${IFS}reboot' })).toThrow(ConfigError);
    expect(() => new SshExecutor({ host: '-oProxyCommand=x' })).toThrow(ConfigError);
    expect(() => new SshExecutor({ host: 'node2', user: '-x' })).toThrow(ConfigError);
  });
});

describe('loadClusterFile: a file only root (or the caller) can change, as ssh asks of its config', () => {
  const proxy = (marker: string): string =>
    JSON.stringify({ nodes: [{ name: 'node1', local: true }, { name: 'node2', ssh: { host: 'node2', options: { ProxyCommand: `touch ${marker}` } } }] });
  const good = JSON.stringify(GOOD);
  const privateDir = (): string => mkdtempSync(join(tmpdir(), 'hastor-cluster-trust-'));
  const refused = async (path: string): Promise<UnsafePathError> => {
    const error = await loadClusterFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePathError);
    return error as UnsafePathError;
  };

  it('loads a file that is the caller\'s and writable by it alone (0600, 0644)', async () => {
    for (const mode of [0o600, 0o644]) {
      const path = join(privateDir(), 'cluster.json');
      writeFileSync(path, good, { mode });
      chmodSync(path, mode);
      expect((await loadClusterFile(path)).cluster.names).toEqual(['node1', 'node2']);
    }
  });

  it.each(['0666', '0664', '0646'])('refuses a file with mode %s (writable by group or others), saying how to fix it', async (octal) => {
    const mode = parseInt(octal, 8);
    const path = join(privateDir(), 'cluster.json');
    writeFileSync(path, good);
    chmodSync(path, mode);
    const error = await refused(path);
    expect(error.code).toBe('E_SAFETY');
    expect(error.message).toMatch(/^refusing cluster file .*: it is writable by .*chmod 600/);
  });

  it('refuses a file in a directory others can write, also when reached through a symlink', async () => {
    const open = worldWritableDir('hastor-cluster-ww-');
    const path = join(open, 'cluster.json');
    writeFileSync(path, good, { mode: 0o600 });
    expect((await refused(path)).message).toMatch(/refusing the directory of cluster file .*writable by its group and everyone/);
    const link = join(privateDir(), 'cluster.json');
    symlinkSync(path, link);
    expect((await refused(link)).message).toMatch(/writable by its group and everyone/);
  });

  it.skipIf(!canPlayAttacker)('refuses a file another user owns, even unwritable by others', async () => {
    const path = join(privateDir(), 'cluster.json');
    writeFileSync(path, good, { mode: 0o644 });
    chownSync(path, 65534, 65534);
    expect((await refused(path)).message).toMatch(/it is owned by uid 65534, not by root/);
  });

  it.skipIf(!canPlayAttacker)('nobody plants a cluster file with a ProxyCommand: hastor (root) exits 4 and the command never runs', async () => {
    const open = worldWritableDir('hastor-cluster-attack-');
    const marker = join(mkdtempSync(join(tmpdir(), 'hastor-marker-')), 'proxy-ran');
    const path = join(open, 'cluster.json');
    asNobody('umask 022; printf "%s" "$2" > "$1"', path, proxy(marker));
    const run = await runCli(['--cluster', path, 'lvm', 'report', '--node', 'node2']);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/refusing .*cluster file .*owned by uid \d+, not by root/);
    expect(existsSync(marker)).toBe(false);
  });
});
