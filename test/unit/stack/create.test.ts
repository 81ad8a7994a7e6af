import { describe, expect, it } from 'vitest';
import { ConfigError, SafetyError } from '../../../src/errors.js';
import { capture } from '../drbd/lifecycle/scripted-executor.js';
import { CONFIG, CREATE_ACTIONS as CREATE, EVENTS2, OK, R0, WIPEFS, resource, scriptFreshCreate, twoNodes, type TwoNodes } from './two-nodes.js';

/** Fresh LVs; the kernel's state follows the actions the way it did in the lab. */
const fresh = (): TwoNodes => scriptFreshCreate(twoNodes());

const argvOf = (r: { actions: { node: string; argv: readonly string[] }[] }): string[] => r.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`);

describe('create', () => {
  it('plans every step with dryRun and changes nothing', async () => {
    const t = fresh();
    const plan = await resource(t.cluster).create({ dryRun: true });
    expect(plan.dryRun).toBe(true);
    expect(argvOf(plan)).toEqual(CREATE);
    expect(plan.actions.map((a) => a.reason)).toContain('no DRBD meta data on the backing device');
    expect(plan.state).toEqual({ node1: null, node2: null });
    expect([...t.node1.mutations, ...t.node2.mutations]).toEqual([]);
  });

  it('writes the rendered configuration, creates meta data, brings r0 up and makes node1 the sync source', async () => {
    const t = fresh();
    const result = await resource(t.cluster).create();
    expect(argvOf(result)).toEqual(CREATE);
    expect(t.node1.mutations).toEqual(['write-file /etc/drbd.d/r0.res', 'drbdadm create-md r0', 'drbdadm up r0', 'drbdadm primary --force r0', 'drbdadm secondary r0']);
    expect(t.node2.mutations).toEqual(['write-file /etc/drbd.d/r0.res', 'drbdadm create-md r0', 'drbdadm up r0']);
    const written = t.node1.writes[0];
    expect(written).toMatchObject({ path: CONFIG, mode: 0o644, root: true });
    expect(written?.content).toMatch(/^# Written by hastor[^\n]*\nresource r0 \{\n/);
    expect(written?.content).toBe(t.node2.writes[0]?.content);
    expect(t.node1.calls.filter((c) => c.argv[0] === 'drbdadm' && c.argv[1] !== '--version').every((c) => c.root)).toBe(true);
    expect(result.state.node1).toMatchObject({ role: 'Secondary', devices: [{ diskState: 'UpToDate' }] });
    expect(result.state.node2?.connections[0]?.peerDevices[0]).toMatchObject({ replicationState: 'Established', peerDiskState: 'UpToDate' });
  });

  it('does nothing the second time', async () => {
    const t = fresh();
    const r0 = resource(t.cluster);
    await r0.create();
    const before = [t.node1.mutations.length, t.node2.mutations.length];
    const again = await r0.create();
    expect(again.actions).toEqual([]);
    expect([t.node1.mutations.length, t.node2.mutations.length]).toEqual(before);
    expect(again.state.node1?.role).toBe('Secondary');
  });

  it('leaves both nodes Inconsistent with syncSource null, and keeps the source Primary with stayPrimary', async () => {
    const t = fresh();
    const none = await resource(t.cluster).create({ syncSource: null });
    expect(argvOf(none)).toEqual(CREATE.slice(0, 6));
    expect(none.state.node1?.devices[0]?.diskState).toBe('Inconsistent');
    const u = fresh();
    const stay = await resource(u.cluster).create({ dryRun: true, stayPrimary: true, syncSource: 'node2' });
    expect(argvOf(stay).slice(6)).toEqual(['node2: drbdadm primary --force r0']);
    await expect(resource(u.cluster).create({ syncSource: 'node3' })).rejects.toThrow(ConfigError);
  });

  it('refuses create-md on a disk with an ext4 or LVM signature before changing anything; the override forces it', async () => {
    for (const [signature, type] of [
      ['wipefs-ext4', 'ext4'],
      ['wipefs-lvm', 'LVM2_member'],
    ] as const) {
      const t = fresh();
      t.node2.reply(WIPEFS, signature);
      const error = await resource(t.cluster).create().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SafetyError);
      expect(error).toMatchObject({ rule: 'create-md-on-signature', override: "override: ['create-md-on-signature'] (runs drbdadm -- --force create-md)" });
      expect((error as Error).message).toContain(`node2: refusing create-md for r0 on /dev/vg_lab/r0_disk: it carries a ${type} signature`);
      expect([...t.node1.mutations, ...t.node2.mutations]).toEqual([]);
      const forced = await resource(t.cluster).create({ dryRun: true, override: ['create-md-on-signature'] });
      expect(argvOf(forced)).toContain('node2: drbdadm -- --force create-md r0');
      expect(argvOf(forced)).toContain('node1: drbdadm create-md r0');
    }
  });

  it('skips create-md where DRBD meta data is already there (a used disk also shows its file system)', async () => {
    const t = fresh();
    t.node2.reply(WIPEFS, { ...capture('wipefs-drbd'), stdout: `ext4\n${capture('wipefs-drbd').stdout}` });
    const plan = await resource(t.cluster).create({ dryRun: true });
    expect(argvOf(plan)).not.toContain('node2: drbdadm create-md r0');
    expect(argvOf(plan)).toContain('node2: drbdadm up r0');
  });

  it('loads the module first where it is not loaded, then renders for the generation it reports', async () => {
    const t = fresh();
    t.node2.reply('drbdadm --version', 'version-no-module', 'version').reply('modprobe drbd', OK);
    const dry = await resource(t.cluster).create({ dryRun: true });
    expect(argvOf(dry)[0]).toBe('node2: modprobe drbd');
    const result = await resource(t.cluster).create();
    expect(argvOf(result)).toEqual(['node2: modprobe drbd', ...CREATE]);
  });

  it('refuses nodes of different generations, and renders nothing for 8.3', async () => {
    const t = fresh();
    t.node2.reply('drbdadm --version', { ...capture('version'), stdout: capture('version').stdout.replace('0x08040b', '0x090111') });
    await expect(resource(t.cluster).create({ dryRun: true })).rejects.toThrow(/run different DRBD generations/);
    const u = fresh();
    for (const n of [u.node1, u.node2]) n.reply('drbdadm --version', { ...capture('version'), stdout: capture('version').stdout.replace('0x08040b', '0x080308') });
    await expect(resource(u.cluster).create({ dryRun: true })).rejects.toThrow(/8\.4 and 9 only/);
  });

  it('runs adjust instead of up where r0 is already up with another configuration', async () => {
    const t = fresh();
    for (const [n, i] of [
      [t.node1, 1],
      [t.node2, 2],
    ] as const) {
      n.reply(EVENTS2, `events2-uptodate-secondary-node${i}`).reply(`cat -- ${CONFIG}`, 'cat-config');
    }
    const plan = await resource(t.cluster).create({ dryRun: true });
    expect(argvOf(plan)).toEqual(['node1: write-file /etc/drbd.d/r0.res', 'node2: write-file /etc/drbd.d/r0.res', 'node1: drbdadm adjust r0', 'node2: drbdadm adjust r0']);
    expect(plan.actions[0]?.reason).toBe('/etc/drbd.d/r0.res differs from the definition');
  });

  it('writes the file 0600 when it holds a shared secret', async () => {
    const t = fresh();
    const plan = await resource(t.cluster, { ...R0, net: { ...R0.net, cramHmacAlg: 'sha256', sharedSecret: 'x' } }).create({ dryRun: true });
    expect(plan.actions[0]?.file?.mode).toBe(0o600);
  });
});
