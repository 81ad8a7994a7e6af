import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { operationJsonSchema } from '../../../src/cli/json-contract.js';
import { CONFIG, CREATE_ACTIONS as CREATE, DELETE_ACTIONS, EVENTS2, R0_SAFE, WIPEFS, primarySecondary, scriptFreshCreate, type TwoNodes } from '../stack/two-nodes.js';
import { loadedCluster, twoNodes } from './cluster.js';
import { runCli } from './helpers.js';

/** Fresh LVs; the kernel's state follows the actions the way it did in the lab. */
const fresh = (): TwoNodes => scriptFreshCreate(twoNodes());

/** r0 up, connected, in sync, both Secondary, configuration written. */
function upToDate(): TwoNodes {
  const t = twoNodes();
  for (const [n, i] of [
    [t.node1, 1],
    [t.node2, 2],
  ] as const) {
    n.reply(EVENTS2, `events2-uptodate-secondary-node${i}`).reply(`cat -- ${CONFIG}`, 'cat-config').reply(WIPEFS, 'wipefs-drbd');
  }
  return t;
}

const mutations = (t: TwoNodes): string[] => [...t.node1.mutations, ...t.node2.mutations];

describe('hastor resource create', () => {
  it('--dry-run prints every action with its node and reason, and changes nothing', async () => {
    const t = fresh();
    const run = await runCli(['resource', 'create', 'r0', '--dry-run'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('resource create r0: would run');
    expect(lines[1]).toMatch(/^\s+NODE\s+COMMAND\s+WHY$/);
    expect(lines.slice(2, 10).map((l) => l.trim().split(/\s{2,}/).slice(0, 2).join(': '))).toEqual([
      'node1: write /etc/drbd.d/r0.res (mode 0644)',
      'node2: write /etc/drbd.d/r0.res (mode 0644)',
      ...CREATE.slice(2),
    ]);
    expect(run.stdout).toContain('no DRBD meta data on the backing device');
    expect(run.stdout).toContain('dry run: nothing was changed');
    expect(mutations(t)).toEqual([]);
  });

  it('--dry-run --json is the operation contract', async () => {
    const t = fresh();
    const run = await runCli(['resource', 'create', 'r0', '--dry-run', '--json'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(0);
    const result = operationJsonSchema.parse(JSON.parse(run.stdout));
    expect(result).toMatchObject({ resource: 'r0', operation: 'create', dryRun: true, state: { node1: null, node2: null } });
    expect(result.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`)).toEqual(CREATE);
    expect(result.actions[0]?.file).toEqual({ path: '/etc/drbd.d/r0.res', mode: '0644' });
    expect(mutations(t)).toEqual([]);
  });

  it('runs the plan and shows each node\'s state afterwards', async () => {
    const t = fresh();
    const run = await runCli(['resource', 'create', 'r0'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('resource create r0: will run');
    expect(run.stdout).toContain('done: 8 actions ran');
    expect(run.stdout).toMatch(/node1: Secondary, UpToDate, Connected to Secondary\/UpToDate/);
    expect(t.node1.mutations).toEqual(['write-file /etc/drbd.d/r0.res', 'drbdadm create-md r0', 'drbdadm up r0', 'drbdadm primary --force r0', 'drbdadm secondary r0']);
    expect(t.node2.mutations).toEqual(['write-file /etc/drbd.d/r0.res', 'drbdadm create-md r0', 'drbdadm up r0']);
  });

  it('a backing device with a file system is refused by a safety rule: exit 4, nothing changed', async () => {
    const t = fresh();
    t.node2.reply(WIPEFS, 'wipefs-ext4');
    const run = await runCli(['resource', 'create', 'r0'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^hastor: node2: refusing create-md for r0 .*rule create-md-on-signature/);
    expect(mutations(t)).toEqual([]);
  });

  it('a command failing on a node: exit 6, naming the node and the command', async () => {
    const t = fresh();
    t.node2.reply('drbdadm up r0', 'up-again');
    const run = await runCli(['resource', 'create', 'r0'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/^hastor: create: node2: drbdadm up r0 \(the resource is not up\) failed after 5 completed actions: .*exited with 1/);
  });

  it('an unknown --override rule is a usage error (2)', async () => {
    const run = await runCli(['resource', 'create', 'r0', '--override', 'no-such-rule', '--dry-run'], { cluster: loadedCluster(fresh()) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"no-such-rule" is not a rule id');
  });
});

describe('hastor resource: the other operations', () => {
  it('delete without --yes shows the plan, refuses (2) and changes nothing', async () => {
    const t = upToDate();
    const run = await runCli(['resource', 'delete', 'r0'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('node1  drbdadm down r0');
    expect(run.stdout).toContain('node2  drbdadm -- --force wipe-md r0');
    expect(run.stderr).toMatch(/resource delete r0 wipes DRBD's meta data of r0 on every node; run it again with --yes/);
    expect(mutations(t)).toEqual([]);
  });

  it('delete --dry-run needs no --yes', async () => {
    const run = await runCli(['resource', 'delete', 'r0', '--dry-run', '--json'], { cluster: loadedCluster(upToDate()) });
    expect(run.code).toBe(0);
    const plan = operationJsonSchema.parse(JSON.parse(run.stdout));
    expect(plan.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`)).toEqual(DELETE_ACTIONS);
    expect(plan.state.node1?.[0]).toMatchObject({ resource: 'r0', role: 'Secondary', diskState: 'UpToDate', replicationState: 'Established' });
  });

  it('primary defaults to the cluster file\'s local node', async () => {
    const t = upToDate();
    t.node1.reply('drbdsetup show r0', 'show-default');
    const run = await runCli(['resource', 'primary', 'r0', '--dry-run'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^resource primary r0 on node1: would run\n.*\n\s+node1\s+drbdadm primary r0/);
  });

  it('invalidate of a resource that is not up: the resource is in the wrong state (8)', async () => {
    const run = await runCli(['resource', 'invalidate', 'r0', '--node', 'node2', '--yes'], { cluster: loadedCluster(twoNodes()) });
    expect(run.code).toBe(8);
    expect(run.stderr).toContain('r0 is not up on node2: run up first');
  });

  it('an unknown resource is a usage error (2) naming the ones there are', async () => {
    const run = await runCli(['resource', 'up', 'r9'], { cluster: loadedCluster(twoNodes()) });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('hastor: no resource "r9" in test-cluster.json (it has r0)\n');
  });

  it('a node entry that reaches another host is bad input (3); an unreachable node is a command failure (6)', async () => {
    const wrong = twoNodes();
    wrong.node2.reply('uname -n', { stdout: 'elsewhere\n', stderr: '', exitCode: 0 });
    const run = await runCli(['resource', 'up', 'r0'], { cluster: loadedCluster(wrong) });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('the node entry node2 reaches a host whose uname -n is "elsewhere"');
    const down = twoNodes();
    down.node2.reply('uname -n', { stdout: '', stderr: 'ssh: connect to host 10.99.0.2 port 22: No route to host\n', exitCode: 255 });
    const unreachable = await runCli(['resource', 'up', 'r0'], { cluster: loadedCluster(down) });
    expect(unreachable.code).toBe(6);
    expect(unreachable.stderr).toContain('No route to host');
  });
});

describe('hastor dual-primary', () => {
  it('begin on a definition without fencing is refused by a safety rule (4)', async () => {
    const t = twoNodes();
    primarySecondary(t);
    const run = await runCli(['dual-primary', 'begin', 'r0'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/refusing dual-primary for r0: .*rule dual-primary-requires-/);
    expect(mutations(t)).toEqual([]);
  });

  it('end needs --keep (usage error 2)', async () => {
    const run = await runCli(['dual-primary', 'end', 'r0'], { cluster: loadedCluster(twoNodes(), R0_SAFE) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("required option '--keep <node>' not specified");
  });
});

describe('the cluster file as input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hastor-cli-cluster-'));

  it('an invalid cluster file is bad input (3), with the path of each bad field', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ nodes: [{ name: 'node1' }], resources: { r0: { target: '8.4' } } }));
    const run = await runCli(['--cluster', path, 'resource', 'up', 'r0']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`invalid cluster file ${path}`);
    expect(run.stderr).toContain('nodes[0]: give exactly one of "local": true or "ssh"');
    expect(run.stderr).toMatch(/resources\.r0\.nodes: /);
  });

  it('a JSON syntax error is bad input (3) with the line', async () => {
    const path = join(dir, 'syntax.json');
    writeFileSync(path, '{\n  "nodes": [,]\n}\n');
    const run = await runCli(['resource', 'up', 'r0', '--cluster', path]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot parse .*syntax\.json line 2: not valid JSON/);
  });

  it('HASTOR_CLUSTER names the file when --cluster does not; a missing one is bad input (3)', async () => {
    const path = join(dir, 'missing.json');
    const run = await runCli(['doctor'], { env: { HASTOR_CLUSTER: path } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`cannot read cluster file ${path} (ENOENT)`);
    const flag = await runCli(['--cluster', join(dir, 'other.json'), 'doctor'], { env: { HASTOR_CLUSTER: path } });
    expect(flag.stderr).toContain('other.json');
  });
});
