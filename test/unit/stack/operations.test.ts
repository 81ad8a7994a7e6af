import { describe, expect, it } from 'vitest';
import { ConfigError, SafetyError } from '../../../src/errors.js';
import { ResourceStateError } from '../../../src/stack/actions.js';
import { capture, fixtureReply } from '../drbd/lifecycle/scripted-executor.js';
import { CONFIG, DELETE_ACTIONS, EVENTS2, OK, SHOW, WIPEFS, deviceUse, primarySecondary, resource, twoNodes } from './two-nodes.js';

const argvOf = (r: { actions: { node: string; argv: readonly string[] }[] }): string[] => r.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`);

describe('online verify', () => {
  it('starts verify, waits until it ends, and reports the out-of-sync both nodes see (events2 and /proc/drbd)', async () => {
    const t = twoNodes();
    primarySecondary(t);
    t.node1.reply('drbdadm verify r0', 'verify').on('drbdadm verify r0', () => {
      t.node1.reply(EVENTS2, 'events2-verifying', 'events2-verified-oos-node1').reply('cat -- /proc/drbd', 'proc-verified-oos-node1');
      t.node2.reply(EVENTS2, 'events2-verified-oos-node2').reply('cat -- /proc/drbd', 'proc-verified-oos-node2');
    });
    const result = await resource(t.cluster).verify();
    expect(argvOf(result)).toEqual(['node1: drbdadm verify r0']);
    expect(result).toMatchObject({ node: 'node1', outOfSyncBeforeBytes: 0n, outOfSyncBytes: 65536n });
    expect(result.perNode).toEqual({ node1: { events2Bytes: 65536n, procBytes: 65536n }, node2: { events2Bytes: 65536n, procBytes: 65536n } });
    expect(t.node1.commands.filter((c) => c === EVENTS2).length).toBeGreaterThanOrEqual(3);
  });

  it('reports 0 when the replicas match; only waits when a verify is already running', async () => {
    const t = twoNodes();
    primarySecondary(t);
    t.node1.reply(EVENTS2, 'events2-verifying', 'events2-verified-clean').reply('cat -- /proc/drbd', 'proc-verifying');
    t.node2.reply('cat -- /proc/drbd', { ...capture('proc-verified-oos-node2'), stdout: capture('proc-verified-oos-node2').stdout.replace('oos:64', 'oos:0') });
    const result = await resource(t.cluster).verify();
    expect(result.actions).toEqual([]);
    expect(result.outOfSyncBytes).toBe(0n);
  });

  it('needs a verify algorithm in the running configuration, and a connected resource in sync', async () => {
    const t = twoNodes();
    primarySecondary(t);
    t.node1.reply(SHOW, fixtureReply('lab-8.4.11/drbdsetup-show.txt'));
    const noAlg = await resource(t.cluster).verify().catch((e: unknown) => e);
    expect(noAlg).toBeInstanceOf(ConfigError);
    expect((noAlg as ConfigError).issues).toEqual(['set net.verifyAlg (e.g. "crc32c" or "sha256") in the definition, then run adjust']);
    const u = twoNodes();
    u.node1.reply(EVENTS2, 'events2-syncsource-primary');
    u.node2.reply(EVENTS2, 'events2-synctarget');
    await expect(resource(u.cluster).verify()).rejects.toThrow(/needs both sides UpToDate and no resync running/);
    const v = twoNodes();
    v.node1.reply(EVENTS2, 'events2-standalone-primary');
    v.node2.reply(EVENTS2, 'events2-standalone-secondary');
    await expect(resource(v.cluster).verify()).rejects.toBeInstanceOf(ResourceStateError);
  });

  it('plans without running with dryRun', async () => {
    const t = twoNodes();
    primarySecondary(t);
    const plan = await resource(t.cluster).verify({ dryRun: true });
    expect(argvOf(plan)).toEqual(['node1: drbdadm verify r0']);
    expect(t.node1.mutations).toEqual([]);
  });
});

describe('down, up, disconnect, connect', () => {
  it('takes the Primary down first, refuses while it is in use, and does nothing once down', async () => {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-uptodate-secondary-node1');
    t.node2.reply(EVENTS2, 'events2-primary');
    deviceUse(t.node2, 'mounted');
    const r0 = resource(t.cluster);
    const error = await r0.down().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetyError);
    expect(error).toMatchObject({ rule: 'primary-in-use' });
    expect((error as Error).message).toContain('node2: refusing down of r0: /dev/drbd0 is in use (mounted on /mnt/r0 data)');
    deviceUse(t.node2, 'none');
    for (const n of [t.node1, t.node2]) n.reply('drbdadm down r0', 'down').on('drbdadm down r0', () => n.reply(EVENTS2, 'events2-down'));
    const result = await r0.down();
    expect(argvOf(result)).toEqual(['node2: drbdadm down r0', 'node1: drbdadm down r0']);
    expect(result.state).toEqual({ node1: null, node2: null });
    expect((await r0.down()).actions).toEqual([]);
  });

  it('downs only the nodes asked for', async () => {
    const t = twoNodes();
    primarySecondary(t);
    const plan = await resource(t.cluster).down({ nodes: ['node2'], dryRun: true });
    expect(argvOf(plan)).toEqual(['node2: drbdadm down r0']);
  });

  it('brings r0 up where it is down and waits for the connection; refuses nodes without the configuration', async () => {
    const t = twoNodes();
    await expect(resource(t.cluster).up()).rejects.toThrow(/\/etc\/drbd\.d\/r0\.res does not exist on node1, node2: create the resource first/);
    t.node1.reply(EVENTS2, 'events2-peer-down');
    t.node2.reply(`cat -- ${CONFIG}`, 'cat-config').reply('drbdadm up r0', 'up').on('drbdadm up r0', () => {
      t.node1.reply(EVENTS2, 'events2-uptodate-secondary-node1');
      t.node2.reply(EVENTS2, 'events2-uptodate-secondary-node2');
    });
    const result = await resource(t.cluster).up();
    expect(argvOf(result)).toEqual(['node2: drbdadm up r0']);
    expect(result.state.node2?.connections[0]?.connectionState).toBe('Connected');
  });

  it('disconnects to StandAlone and reconnects, waiting for the resync to end', async () => {
    const t = twoNodes();
    primarySecondary(t);
    t.node1.reply('drbdadm disconnect r0', 'disconnect').on('drbdadm disconnect r0', () => t.node1.reply(EVENTS2, 'events2-standalone-primary'));
    t.node2.reply('drbdadm disconnect r0', OK).on('drbdadm disconnect r0', () => t.node2.reply(EVENTS2, 'events2-standalone-secondary'));
    const r0 = resource(t.cluster);
    const off = await r0.disconnect();
    expect(argvOf(off)).toEqual(['node1: drbdadm disconnect r0', 'node2: drbdadm disconnect r0']);
    expect((await r0.disconnect()).actions).toEqual([]);
    t.node1.reply('drbdadm connect r0', 'connect').on('drbdadm connect r0', () => t.node1.reply(EVENTS2, 'events2-primary'));
    t.node2.reply('drbdadm connect r0', OK).on('drbdadm connect r0', () => t.node2.reply(EVENTS2, 'events2-invalidated', 'events2-secondary'));
    const on = await r0.connect();
    expect(argvOf(on)).toEqual(['node1: drbdadm connect r0', 'node2: drbdadm connect r0']);
    expect(on.state.node2?.devices[0]?.diskState).toBe('UpToDate');
    expect((await r0.connect()).actions).toEqual([]);
  });

  it('gives up waiting with the last state seen', async () => {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-standalone-primary').reply('drbdadm connect r0', 'connect');
    t.node2.reply(EVENTS2, 'events2-standalone-secondary').reply('drbdadm connect r0', OK);
    const error = await resource(t.cluster, undefined, { pollIntervalMs: 0, timeouts: { connectMs: 30 } }).connect().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_STATE_TIMEOUT', waitedFor: 'r0 connected' });
    expect((error as Error).message).toContain('last state: node1: Primary, UpToDate, StandAlone to Unknown/Outdated');
  });
});

describe('invalidate', () => {
  it('resyncs a Secondary from its UpToDate peer and waits for the end', async () => {
    const t = twoNodes();
    primarySecondary(t);
    t.node2.reply('drbdadm invalidate r0', 'invalidate').on('drbdadm invalidate r0', () => t.node2.reply(EVENTS2, 'events2-invalidated', 'events2-secondary'));
    const result = await resource(t.cluster).invalidate('node2');
    expect(argvOf(result)).toEqual(['node2: drbdadm invalidate r0']);
    expect(result.state.node2?.devices[0]?.diskState).toBe('UpToDate');
  });

  it('is refused without a connected peer holding UpToDate data; does nothing while the node already resyncs as target', async () => {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-syncsource-secondary');
    t.node2.reply(EVENTS2, 'events2-synctarget');
    const error = await resource(t.cluster).invalidate('node1').catch((e: unknown) => e);
    expect(error).toMatchObject({ rule: 'invalidate-without-uptodate-peer' });
    expect((await resource(t.cluster).invalidate('node2', { wait: false })).actions).toEqual([]);
  });
});

describe('adjust', () => {
  it('rewrites differing files and adjusts each node whose kernel still differs (once)', async () => {
    const t = twoNodes();
    primarySecondary(t);
    for (const n of [t.node1, t.node2]) n.reply(`cat -- ${CONFIG}`, 'cat-config');
    t.node1.reply('drbdadm -d adjust r0', 'adjust-dry-run-node1').reply('drbdadm adjust r0', 'adjust').on('drbdadm adjust r0', () => {
      t.node1.reply('drbdadm -d adjust r0', 'adjust-dry-run-clean');
      t.node2.reply('drbdadm -d adjust r0', 'adjust-dry-run-node2-after-node1');
    });
    t.node2.reply('drbdadm -d adjust r0', 'adjust-dry-run-node1').reply('drbdadm adjust r0', OK).on('drbdadm adjust r0', () => t.node2.reply('drbdadm -d adjust r0', 'adjust-dry-run-clean'));
    const r0 = resource(t.cluster);
    const result = await r0.adjust();
    expect(argvOf(result)).toEqual(['node1: write-file /etc/drbd.d/r0.res', 'node2: write-file /etc/drbd.d/r0.res', 'node1: drbdadm adjust r0', 'node2: drbdadm adjust r0']);
    expect(result.actions[3]?.reason).toMatch(/^the kernel differs from the configuration: drbdsetup-84 disk-options 0/);
    expect((await r0.adjust()).actions).toEqual([]);
  });
});

describe('delete', () => {
  it('is refused while a node is Primary', async () => {
    const t = twoNodes();
    primarySecondary(t);
    const error = await resource(t.cluster).delete().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetyError);
    expect(error).toMatchObject({ rule: 'delete-primary' });
    expect(t.node1.mutations).toEqual([]);
  });

  it('downs, wipes the meta data and removes the configuration; nothing the second time', async () => {
    const t = twoNodes();
    for (const [n, i] of [
      [t.node1, 1],
      [t.node2, 2],
    ] as const) {
      n.files.set(CONFIG, capture('cat-config').stdout);
      n.reply(EVENTS2, `events2-uptodate-secondary-node${i}`)
        .reply(WIPEFS, 'wipefs-drbd')
        .reply('drbdadm down r0', 'down')
        .on('drbdadm down r0', () => n.reply(EVENTS2, 'events2-down'))
        .reply('drbdadm -- --force wipe-md r0', 'wipe-md')
        .on('drbdadm -- --force wipe-md r0', () => n.reply(WIPEFS, 'wipefs-after-wipe-md'))
        .reply(`rm -f -- ${CONFIG}`, 'rm-config')
        .on(`rm -f -- ${CONFIG}`, () => n.files.delete(CONFIG));
    }
    const r0 = resource(t.cluster);
    const result = await r0.delete();
    expect(argvOf(result)).toEqual(DELETE_ACTIONS);
    expect(result.state).toEqual({ node1: null, node2: null });
    expect((await r0.delete()).actions).toEqual([]);
  });

  it('writes the configuration back first where it is gone but meta data is left (wipe-md reads it); keepConfig keeps the file', async () => {
    const t = twoNodes();
    t.node1.reply(WIPEFS, 'wipefs-drbd');
    t.node2.reply(WIPEFS, 'wipefs-drbd').reply(`cat -- ${CONFIG}`, 'cat-config');
    const plan = await resource(t.cluster).delete({ dryRun: true, keepConfig: true });
    expect(argvOf(plan)).toEqual(['node1: write-file /etc/drbd.d/r0.res', 'node1: drbdadm -- --force wipe-md r0', 'node2: drbdadm -- --force wipe-md r0']);
    expect(plan.actions[0]?.reason).toBe('wipe-md reads the backing device from the configuration');
  });
});

describe('overrides', () => {
  it('rejects unknown rule ids and rules that cannot be overridden', async () => {
    const t = twoNodes();
    primarySecondary(t);
    await expect(resource(t.cluster).promote('node1', { override: ['promote-without-uptodat'] })).rejects.toThrow(/is not a rule id/);
    await expect(resource(t.cluster).down({ override: ['primary-in-use'] })).rejects.toThrow(/primary-in-use cannot be overridden/);
  });
});
