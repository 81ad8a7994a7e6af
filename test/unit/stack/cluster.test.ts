import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError, HastorError, messageOnNode, messageWithoutNode } from '../../../src/errors.js';
import { Cluster, ClusterStepError } from '../../../src/stack/cluster.js';
import { ScriptedExecutor } from '../drbd/lifecycle/scripted-executor.js';
import { twoNodes } from './two-nodes.js';

describe('Cluster', () => {
  it('checks that each executor reaches the host it is named for', async () => {
    const { cluster } = twoNodes();
    await expect(cluster.verifyNames()).resolves.toBeUndefined();
    const a = new ScriptedExecutor('node1').reply('uname -n', { stdout: 'node2\n', stderr: '', exitCode: 0 });
    const b = new ScriptedExecutor('node2').reply('uname -n', { stdout: '', stderr: 'ssh: connect to host node2 port 22: No route to host\n', exitCode: 255 });
    const error = await Cluster.connect([
      { name: 'node1', executor: a },
      { name: 'node2', executor: b },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      'node1: the executor reaches a host whose uname -n is "node2"',
      expect.stringMatching(/^node2: uname -n failed: .*No route to host/),
    ]);
  });

  it('refuses bad or duplicate names and unknown nodes', () => {
    const ex = new ScriptedExecutor('x');
    expect(() => new Cluster([])).toThrow(ConfigError);
    expect(() => new Cluster([{ name: 'a b', executor: ex }])).toThrow(/not a host name/);
    expect(() => new Cluster([{ name: 'a', executor: ex }, { name: 'a', executor: ex }])).toThrow(/listed twice/);
    const { cluster } = twoNodes();
    expect(() => cluster.node('node3')).toThrow(/no node "node3"/);
    expect(cluster.drbd('node1')).toBe(cluster.drbd('node1'));
  });

  it('runs a step on every node at once, or one after another in the given order', async () => {
    const { cluster } = twoNodes();
    const log: string[] = [];
    const step = async (n: { name: string }) => {
      log.push(`start ${n.name}`);
      await sleep(n.name === 'node1' ? 20 : 0);
      log.push(`end ${n.name}`);
      return n.name.toUpperCase();
    };
    const parallel = await cluster.each(step);
    expect(log).toEqual(['start node1', 'start node2', 'end node2', 'end node1']);
    expect(parallel).toEqual([
      { node: 'node1', ok: true, value: 'NODE1' },
      { node: 'node2', ok: true, value: 'NODE2' },
    ]);
    log.length = 0;
    await cluster.each(step, { order: 'sequential', nodes: ['node2', 'node1'] });
    expect(log).toEqual(['start node2', 'end node2', 'start node1', 'end node1']);
  });

  it('collects errors per node; sequential stops at the first unless told not to', async () => {
    const { cluster } = twoNodes();
    const failOn1 = async (n: { name: string }) => {
      if (n.name === 'node1') throw new HastorError('E_X', 'boom');
      return 1;
    };
    const stopped = await cluster.each(failOn1, { order: 'sequential' });
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatchObject({ node: 'node1', ok: false });
    expect(await cluster.each(failOn1, { order: 'sequential', stopOnError: false })).toHaveLength(2);
  });

  it('all(): values by node; one failure is rethrown as it is, several as ClusterStepError', async () => {
    const { cluster } = twoNodes();
    expect(await cluster.all('x', async (n) => n.name.length)).toEqual(new Map([['node1', 5], ['node2', 5]]));
    const one = await cluster.all('x', async (n) => {
      if (n.name === 'node2') throw new ConfigError('only node2');
      return 0;
    }).catch((e: unknown) => e);
    expect(one).toBeInstanceOf(ConfigError);
    const both = await cluster.all('reading r0', async (n) => {
      throw new Error(`down ${n.name}`);
    }).catch((e: unknown) => e);
    expect(both).toBeInstanceOf(ClusterStepError);
    expect((both as ClusterStepError).message).toBe('reading r0 failed on node1, node2: node1: down node1; node2: down node2');
    expect((both as ClusterStepError).outcomes).toHaveLength(2);
  });

  it('names each node once when the executor error already starts with it (was "vm: vm: …")', async () => {
    const vm = new ScriptedExecutor('vm').reply('uname -n', { stdout: '', stderr: 'ssh: connect to host vm port 22: Connection refused\n', exitCode: 255 });
    const other = new ScriptedExecutor('other').reply('uname -n', { stdout: '', stderr: 'ssh: Could not resolve hostname other\n', exitCode: 255 });
    const cluster = new Cluster([
      { name: 'vm', executor: vm },
      { name: 'other', executor: other },
    ]);
    const error = await cluster.all('uname', (n) => n.executor.run(['uname', '-n'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterStepError);
    const message = (error as ClusterStepError).message;
    expect(message).toMatch(/^uname failed on vm, other: vm: uname -n: .*Connection refused; other: uname -n: .*other$/);
    expect(message).not.toContain('vm: vm:');
    expect(message).not.toContain('other: other:');
    const connect = await Cluster.connect([
      { name: 'vm', executor: vm },
      { name: 'other', executor: other },
    ]).catch((e: unknown) => e);
    expect((connect as ConfigError).issues[0]).toMatch(/^vm: uname -n failed: uname -n: /);
  });
});

describe('messageOnNode / messageWithoutNode', () => {
  it('name the node once', () => {
    expect(messageOnNode('vm', new Error('vm: lvs: exited with 5'))).toBe('vm: lvs: exited with 5');
    expect(messageOnNode('vm', new Error('lvs: exited with 5'))).toBe('vm: lvs: exited with 5');
    expect(messageWithoutNode('vm', new Error('vm: x'))).toBe('x');
    expect(messageWithoutNode('vm', 'vm1: x')).toBe('vm1: x');
  });
});
