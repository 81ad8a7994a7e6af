import { describe, expect, it } from 'vitest';
import { doctorReportSchema } from '../../../src/index.js';
import { EVENTS2, R0, R0_SAFE, primarySecondary, type TwoNodes } from '../stack/two-nodes.js';
import { loadedCluster, twoNodes } from './cluster.js';
import { runCli } from './helpers.js';

/** node1 Primary, node2 Secondary, in sync; each node's drbdadm dump as the lab printed it. */
function healthy(): TwoNodes {
  const t = twoNodes();
  primarySecondary(t);
  t.node1.reply('drbdadm dump r0', 'dump-node1');
  t.node2.reply('drbdadm dump r0', 'dump-node2');
  return t;
}

const FINDING_LINE = /^(ERROR|WARNING|INFO) [a-z0-9-]+ [\w.-]+: .+ — fix: .+$/;

describe('hastor doctor', () => {
  it('a healthy Primary/Secondary pair: no error, exit 0, nothing changed', async () => {
    const t = healthy();
    const run = await runCli(['doctor'], { cluster: loadedCluster(t) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^doctor: 0 errors, \d+ warnings? \(2 nodes, 1 resource\)\n$/m);
    expect([...t.node1.mutations, ...t.node2.mutations]).toEqual([]);
  });

  it('drift between the nodes is an error finding on its own line: exit 4', async () => {
    const t = healthy();
    t.node2.reply('drbdadm dump r0', 'dump-node2-edited');
    const run = await runCli(['doctor'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(4);
    const lines = run.stdout.trim().split('\n');
    const findings = lines.slice(0, -1);
    for (const line of findings) expect(line).toMatch(FINDING_LINE);
    expect(findings.find((l) => l.startsWith('ERROR drift-config cluster: configuration net.'))).toMatch(/— fix: hastor resource adjust r0/);
    expect(lines.at(-1)).toMatch(/^doctor: [1-9]\d* errors?, /);
  });

  it('--json is the doctor report contract', async () => {
    const t = healthy();
    t.node2.reply('drbdadm dump r0', 'dump-node2-edited');
    const run = await runCli(['doctor', '--json'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(4);
    const report = doctorReportSchema.parse(JSON.parse(run.stdout));
    expect(report.nodes).toEqual(['node1', 'node2']);
    expect(report.resources).toEqual(['r0']);
    expect(report.errors).toBeGreaterThan(0);
    expect(report.findings.some((f) => f.rule === 'drift-config' && f.severity === 'error' && f.resource === 'r0')).toBe(true);
  });

  it('both nodes Primary without fencing or a cluster-aware upper layer: the dual-primary rules fire', async () => {
    const t = healthy();
    t.node1.reply(EVENTS2, 'events2-dual-primary-node1');
    t.node2.reply(EVENTS2, 'events2-dual-primary-node2');
    const run = await runCli(['doctor', '--json'], { cluster: loadedCluster(t, R0) });
    expect(run.code).toBe(4);
    const rules = doctorReportSchema.parse(JSON.parse(run.stdout)).findings.filter((f) => f.severity === 'error').map((f) => f.rule);
    expect(rules).toEqual(expect.arrayContaining(['dual-primary-requires-fencing', 'dual-primary-requires-after-sb', 'dual-primary-requires-cluster-aware-upper-layer']));
  });

  it('a definition breaking a config rule is reported even when the nodes agree', async () => {
    const t = healthy();
    const risky = { ...R0_SAFE, net: { ...R0_SAFE.net, afterSb1pri: 'violently-as0p' as const } };
    const run = await runCli(['doctor'], { cluster: loadedCluster(t, risky) });
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/^ERROR after-sb-discards-silently cluster: definition of r0: .* — fix: .*net\.afterSb1pri/m);
  });

  it('an unreachable node is an error finding, not a crash', async () => {
    const t = healthy();
    t.node2.reply('uname -n', { stdout: '', stderr: 'ssh: connect to host node2 port 22: Connection refused\n', exitCode: 255 });
    const run = await runCli(['doctor'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/^ERROR node-unreachable node2: cannot run commands on node2: .*Connection refused — fix: /m);
    // The executor's error already starts with the node; it is not named twice ("node2: node2: …").
    expect(run.stdout).not.toContain('node2: node2:');
  });

  it('--resource must name a resource of the cluster file (usage error 2)', async () => {
    const run = await runCli(['doctor', '--resource', 'r7'], { cluster: loadedCluster(healthy()) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no resource r7 in test-cluster.json');
  });
});
