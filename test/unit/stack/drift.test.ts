import { describe, expect, it } from 'vitest';
import { detectDrift } from '../../../src/stack/drift.js';
import { twoNodes } from './two-nodes.js';

describe('detectDrift', () => {
  it('finds nothing when both nodes read the same configuration and run the same versions', async () => {
    const t = twoNodes();
    t.node1.reply('drbdadm dump r0', 'dump-node1');
    t.node2.reply('drbdadm dump r0', 'dump-node2');
    const report = await detectDrift(t.cluster, 'r0');
    expect(report.drifted).toBe(false);
    expect(report.differences).toEqual([]);
    expect(report.nodes.map((n) => [n.node, n.kernel, n.utils, n.config?.name])).toEqual([
      ['node1', '8.4.11', '9.22.0', 'r0'],
      ['node2', '8.4.11', '9.22.0', 'r0'],
    ]);
  });

  it("reports the field a hand edit changed in node2's file, with each node's value", async () => {
    const t = twoNodes();
    t.node1.reply('drbdadm dump r0', 'dump-node1');
    t.node2.reply('drbdadm dump r0', 'dump-node2-edited');
    const report = await detectDrift(t.cluster, 'r0');
    expect(report.differences).toEqual([{ kind: 'config', path: 'net.pingInt', values: { node1: 3, node2: 5 }, message: 'configuration net.pingInt differs: node1 3, node2 5' }]);
  });

  it('reports a node without the drbd module, and a node whose drbdadm does not know the resource', async () => {
    const t = twoNodes();
    t.node1.reply('drbdadm dump r0', 'dump-node1');
    t.node2.reply('drbdadm --version', 'version-no-module').reply('drbdadm dump r0', 'dump-absent');
    const report = await detectDrift(t.cluster, 'r0');
    expect(report.differences.map((d) => d.kind)).toEqual(['kernel-module', 'config-unreadable']);
    expect(report.differences[0]).toMatchObject({ values: { node1: '8.4.11', node2: null }, message: 'drbd kernel module differs: node1 8.4.11, node2 not loaded' });
    expect(report.differences[1]?.message).toMatch(/^node2: cannot import r0's configuration: .*not defined in your config/);
  });

  it('validates the resource name before it reaches argv', async () => {
    await expect(detectDrift(twoNodes().cluster, '--all')).rejects.toThrow(/invalid DRBD resource name/);
  });
});
