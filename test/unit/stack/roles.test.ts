import { describe, expect, it } from 'vitest';
import { SafetyError } from '../../../src/errors.js';
import { ResourceStateError } from '../../../src/stack/actions.js';
import { capture } from '../drbd/lifecycle/scripted-executor.js';
import { EVENTS2, R0_SAFE, SHOW, deviceUse, primarySecondary, resource, twoNodes } from './two-nodes.js';

const argvOf = (r: { actions: { node: string; argv: readonly string[] }[] }): string[] => r.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`);

async function refusal(promise: Promise<unknown>): Promise<SafetyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SafetyError);
  return error as SafetyError;
}

describe('promote', () => {
  it('promotes a Secondary with UpToDate data, waits for Primary, and does nothing the second time', async () => {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-uptodate-secondary-node1').reply('drbdadm primary r0', 'primary').on('drbdadm primary r0', () => t.node1.reply(EVENTS2, 'events2-primary'));
    t.node2.reply(EVENTS2, 'events2-uptodate-secondary-node2');
    const r0 = resource(t.cluster);
    const result = await r0.promote('node1');
    expect(argvOf(result)).toEqual(['node1: drbdadm primary r0']);
    expect(result.state.node1?.role).toBe('Primary');
    expect((await r0.promote('node1')).actions).toEqual([]);
    expect(t.node1.mutations).toEqual(['drbdadm primary r0']);
  });

  it('refuses a node without UpToDate data unless forced; force uses primary --force', async () => {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-inconsistent-node1');
    t.node2.reply(EVENTS2, 'events2-inconsistent-node2');
    const r0 = resource(t.cluster);
    const error = await refusal(r0.promote('node1'));
    expect(error.rule).toBe('promote-without-uptodate');
    expect(error.message).toContain('node1: refusing to promote r0: this node has no UpToDate data (Secondary, Inconsistent, Connected to Secondary/Inconsistent)');
    expect(error.override).toMatch(/^force: true .* or override: \['promote-without-uptodate'\]/);
    expect(argvOf(await r0.promote('node1', { force: true, dryRun: true }))).toEqual(['node1: drbdadm primary --force r0']);
    expect(argvOf(await r0.promote('node1', { override: ['promote-without-uptodate'], dryRun: true }))).toEqual(['node1: drbdadm primary r0']);
    expect(t.node1.mutations).toEqual([]);
  });

  it('refuses --force while a connected peer has UpToDate data (the SyncTarget of an initial sync)', async () => {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-syncsource-secondary');
    t.node2.reply(EVENTS2, 'events2-synctarget');
    const r0 = resource(t.cluster);
    const error = await refusal(r0.promote('node2', { force: true }));
    expect(error.rule).toBe('force-primary-with-uptodate-peer');
    expect(error.message).toContain("node2: refusing primary --force for r0: a connected peer has UpToDate data");
    expect(argvOf(await r0.promote('node2', { force: true, override: ['force-primary-with-uptodate-peer'], dryRun: true }))).toEqual(['node2: drbdadm primary --force r0']);
    // A node with UpToDate data needs no force.
    expect(argvOf(await r0.promote('node1', { force: true, dryRun: true }))).toEqual(['node1: drbdadm primary r0']);
  });

  it('uses 8.3’s --overwrite-data-of-peer on an 8.3 node', async () => {
    const t = twoNodes();
    t.node1.reply('drbdadm --version', { ...capture('version'), stdout: capture('version').stdout.replace('0x08040b', '0x080308') }).reply(EVENTS2, 'events2-inconsistent-node1');
    t.node2.reply(EVENTS2, 'events2-inconsistent-node2');
    expect(argvOf(await resource(t.cluster).promote('node1', { force: true, dryRun: true }))).toEqual(['node1: drbdadm -- --overwrite-data-of-peer primary r0']);
  });

  it('will not add a second Primary while two primaries are not allowed', async () => {
    const t = twoNodes();
    primarySecondary(t);
    const error = await resource(t.cluster).promote('node2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceStateError);
    expect((error as Error).message).toMatch(/node1 is Primary and two primaries are not allowed: demote node1 first, or open a dual-primary window/);
  });

  it('refuses a node where r0 is not up, and unknown nodes', async () => {
    const t = twoNodes();
    await expect(resource(t.cluster).promote('node1')).rejects.toThrow(/r0 is not up on node1: run up first/);
    await expect(resource(t.cluster).promote('node7')).rejects.toThrow(/not nodes of r0/);
  });
});

describe('demote', () => {
  it('refuses while the device is mounted, open, or held by a stacked device, naming the user', async () => {
    for (const [use, words] of [
      ['mounted', 'mounted on /mnt/r0 data'],
      ['open', 'open by pid 806'],
      ['held', 'held by dm-3'],
    ] as const) {
      const t = twoNodes();
      primarySecondary(t);
      deviceUse(t.node1, use);
      const error = await refusal(resource(t.cluster).demote('node1'));
      expect(error.rule).toBe('primary-in-use');
      expect(error.message).toContain(`/dev/drbd0 is in use (${words})`);
      expect(error.override).toMatch(/cannot be overridden/);
      expect(t.node1.mutations).toEqual([]);
    }
  });

  it('demotes a Primary nobody uses, once', async () => {
    const t = twoNodes();
    primarySecondary(t);
    deviceUse(t.node1, 'none');
    t.node1.reply('drbdadm secondary r0', 'secondary').on('drbdadm secondary r0', () => t.node1.reply(EVENTS2, 'events2-uptodate-secondary-node1'));
    const r0 = resource(t.cluster);
    expect(argvOf(await r0.secondary('node1'))).toEqual(['node1: drbdadm secondary r0']);
    expect((await r0.demote('node1')).actions).toEqual([]);
  });
});

describe('the dual-primary window', () => {
  const stub = async () => ({ clusterAware: true, detail: 'stub: cluster-aware' });

  it('is refused while the definition lacks fencing and after-sb policies', async () => {
    const t = twoNodes();
    primarySecondary(t);
    const error = await refusal(resource(t.cluster).beginDualPrimary({ upperLayer: stub }));
    expect(error.rule).toBe('dual-primary-requires-fencing');
    expect(error.message).toMatch(/^refusing dual-primary for r0: allow-two-primaries on node1 - node2, but fencing is not set.*\(also: dual-primary-requires-after-sb\)/);
    // Overriding one rule leaves the next one standing.
    expect((await refusal(resource(t.cluster).beginDualPrimary({ upperLayer: stub, override: ['dual-primary-requires-fencing'] }))).rule).toBe('dual-primary-requires-after-sb');
    expect(t.node1.mutations).toEqual([]);
  });

  it('is refused when the layer above is not cluster-aware or nobody checked it', async () => {
    const t = twoNodes();
    primarySecondary(t);
    const unknown = await refusal(resource(t.cluster, R0_SAFE).beginDualPrimary());
    expect(unknown.rule).toBe('dual-primary-requires-cluster-aware-upper-layer');
    expect(unknown.message).toMatch(/no upper-layer check was given/);
    const local = await refusal(resource(t.cluster, R0_SAFE).beginDualPrimary({ upperLayer: async () => ({ clusterAware: false, detail: 'VG vg0 is local' }) }));
    expect(local.message).toMatch(/the layer above is not cluster-aware: VG vg0 is local/);
    expect(argvOf(await resource(t.cluster, R0_SAFE).beginDualPrimary({ override: ['dual-primary-requires-cluster-aware-upper-layer'], dryRun: true }))).toHaveLength(3);
  });

  it('is refused while the nodes are not connected and in sync', async () => {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-standalone-primary').reply(SHOW, 'show-safe');
    t.node2.reply(EVENTS2, 'events2-standalone-secondary').reply(SHOW, 'show-two-primaries-off-node2');
    const error = await refusal(resource(t.cluster, R0_SAFE, { upperLayer: stub }).beginDualPrimary());
    expect(error.rule).toBe('dual-primary-requires-connected-in-sync');
    expect(error.message).toContain('node1: Primary, UpToDate, StandAlone to Unknown/Outdated; node2: Secondary, Outdated, StandAlone to Unknown/DUnknown');
  });

  it('opens: allow-two-primaries on the running connection (8.4 passes it to the peer), second node promoted', async () => {
    const t = twoNodes();
    primarySecondary(t);
    t.node1.reply('drbdadm net-options --allow-two-primaries=yes r0', 'allow-two-primaries-yes').on('drbdadm net-options --allow-two-primaries=yes r0', () => {
      t.node1.reply(SHOW, 'show-two-primaries-node1');
      t.node2.reply(SHOW, 'show-two-primaries-node2');
    });
    t.node2.reply('drbdadm primary r0', 'primary-second').on('drbdadm primary r0', () => {
      t.node1.reply(EVENTS2, 'events2-dual-primary-node1');
      t.node2.reply(EVENTS2, 'events2-dual-primary-node2');
    });
    const r0 = resource(t.cluster, R0_SAFE, { upperLayer: stub });
    const plan = await r0.beginDualPrimary({ dryRun: true });
    expect(argvOf(plan)).toEqual(['node1: drbdadm net-options --allow-two-primaries=yes r0', 'node2: drbdadm net-options --allow-two-primaries=yes r0', 'node2: drbdadm primary r0']);
    const result = await r0.beginDualPrimary();
    expect(argvOf(result)).toEqual(['node1: drbdadm net-options --allow-two-primaries=yes r0', 'node2: drbdadm primary r0']);
    expect([result.state.node1?.role, result.state.node2?.role]).toEqual(['Primary', 'Primary']);
    expect((await r0.beginDualPrimary()).actions).toEqual([]);
    expect(t.node2.mutations).toEqual(['drbdadm primary r0']);
  });

  it('switches the option off again when the promotion fails', async () => {
    const t = twoNodes();
    primarySecondary(t);
    t.node1
      .reply('drbdadm net-options --allow-two-primaries=yes r0', 'allow-two-primaries-yes')
      .on('drbdadm net-options --allow-two-primaries=yes r0', () => {
        t.node1.reply(SHOW, 'show-two-primaries-node1');
        t.node2.reply(SHOW, 'show-two-primaries-node2');
      })
      .reply('drbdadm net-options --allow-two-primaries=no r0', 'allow-two-primaries-no')
      .on('drbdadm net-options --allow-two-primaries=no r0', () => {
        t.node1.reply(SHOW, 'show-safe');
        t.node2.reply(SHOW, 'show-two-primaries-off-node2');
      });
    t.node2.reply('drbdadm primary r0', 'primary-second-refused');
    const error = await resource(t.cluster, R0_SAFE, { upperLayer: stub }).beginDualPrimary().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_ACTION' });
    expect((error as Error).message).toMatch(/node2: drbdadm primary r0 .*Multiple primaries not allowed by config/);
    expect(t.node1.mutations).toEqual(['drbdadm net-options --allow-two-primaries=yes r0', 'drbdadm net-options --allow-two-primaries=no r0']);
  });

  function dual() {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-dual-primary-node1').reply(SHOW, 'show-two-primaries-node1');
    t.node2.reply(EVENTS2, 'events2-dual-primary-node2').reply(SHOW, 'show-two-primaries-node2');
    return t;
  }

  it('will not close by demoting a node whose device a process holds open', async () => {
    const t = dual();
    deviceUse(t.node2, 'open');
    const error = await refusal(resource(t.cluster, R0_SAFE).endDualPrimary({ keep: 'node1' }));
    expect(error.rule).toBe('primary-in-use');
    expect(error.message).toContain('node2: refusing demote of r0: /dev/drbd0 is in use (open by pid 806)');
  });

  it('closes: demotes the other node, switches the option off, checks it is off', async () => {
    const t = dual();
    deviceUse(t.node2, 'none');
    t.node2.reply('drbdadm secondary r0', 'secondary-node2').on('drbdadm secondary r0', () => {
      t.node1.reply(EVENTS2, 'events2-primary');
      t.node2.reply(EVENTS2, 'events2-secondary');
    });
    t.node1.reply('drbdadm net-options --allow-two-primaries=no r0', 'allow-two-primaries-no').on('drbdadm net-options --allow-two-primaries=no r0', () => {
      t.node1.reply(SHOW, 'show-safe');
      t.node2.reply(SHOW, 'show-two-primaries-off-node2');
    });
    const r0 = resource(t.cluster, R0_SAFE);
    const result = await r0.endDualPrimary({ keep: 'node1' });
    expect(argvOf(result)).toEqual(['node2: drbdadm secondary r0', 'node1: drbdadm net-options --allow-two-primaries=no r0']);
    expect([result.state.node1?.role, result.state.node2?.role]).toEqual(['Primary', 'Secondary']);
    expect((await r0.endDualPrimary({ keep: 'node1' })).actions).toEqual([]);
    await expect(r0.endDualPrimary({ keep: 'node2' })).rejects.toThrow(/node2 is not Primary .*would leave no Primary/);
  });

  it('leaves the option on when the definition allows two primaries for good', async () => {
    const t = dual();
    deviceUse(t.node2, 'none');
    const permanent = { ...R0_SAFE, net: { ...R0_SAFE.net, allowTwoPrimaries: true } };
    expect(argvOf(await resource(t.cluster, permanent).endDualPrimary({ keep: 'node1', dryRun: true }))).toEqual(['node2: drbdadm secondary r0']);
  });
});
