import { describe, expect, it } from 'vitest';
import { ActionError, performActions, writeAction, type Action } from '../../../src/stack/actions.js';
import { OK, twoNodes } from './two-nodes.js';

describe('performActions', () => {
  it('runs commands as root and writes files atomically through the executor, in order', async () => {
    const t = twoNodes();
    t.node1.reply('drbdadm up r0', 'up');
    const done: Action[] = [];
    const actions: Action[] = [writeAction('node2', { path: '/etc/drbd.d/r0.res', content: 'x', mode: 0o600 }, 'missing'), { node: 'node1', argv: ['drbdadm', 'up', 'r0'], reason: 'not up' }];
    await performActions(t.cluster, 'create', actions, done);
    expect(done).toEqual(actions);
    expect(t.node2.writes).toEqual([{ path: '/etc/drbd.d/r0.res', content: 'x', mode: 0o600, root: true }]);
    expect(t.node1.calls.at(-1)).toEqual({ argv: ['drbdadm', 'up', 'r0'], root: true });
  });

  it('stops at the first failure and says what already ran', async () => {
    const t = twoNodes();
    t.node1.reply('drbdadm create-md r0', OK).reply('drbdadm up r0', 'up-again');
    const done: Action[] = [];
    const error = await performActions(
      t.cluster,
      'create',
      [
        { node: 'node1', argv: ['drbdadm', 'create-md', 'r0'], reason: 'a' },
        { node: 'node1', argv: ['drbdadm', 'up', 'r0'], reason: 'b' },
        { node: 'node2', argv: ['drbdadm', 'up', 'r0'], reason: 'c' },
      ],
      done,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionError);
    expect((error as ActionError).done.map((a) => a.reason)).toEqual(['a']);
    expect((error as ActionError).failed.reason).toBe('b');
    expect((error as Error).message).toMatch(/^create: node1: drbdadm up r0 \(b\) failed after 1 completed action: .*exited with 1: Device '0' is configured!/);
    expect(t.node2.calls).toEqual([]);
  });
});
