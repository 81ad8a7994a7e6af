/**
 * Never behind Pacemaker's back: the hold read from crm_mon and the CIB
 * (Pacemaker 2.1.5 documents, test/fixtures/pacemaker), and DrbdResource's
 * default check refusing role and lifecycle changes of a managed resource.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetyError } from '../../../src/errors.js';
import { parseCrmMon } from '../../../src/pacemaker/index.js';
import { unsettledReasons } from '../../../src/pacemaker/operations.js';
import { assertClusterSettled, assertNotBehindClusterManager, pacemakerCheck, type PacemakerHold } from '../../../src/stack/cluster-manager.js';
import { Cluster } from '../../../src/stack/cluster.js';
import { DrbdResource } from '../../../src/stack/drbd-resource.js';
import { grow } from '../../../src/stack/growth/execute.js';
import type { GrowthTopology } from '../../../src/stack/growth/topology.js';
import type { Reply, ScriptedExecutor } from '../drbd/lifecycle/scripted-executor.js';
import { CRM_MON, EVENTS2, R0, R0_SAFE, SHOW, deviceUse, primarySecondary, twoNodes } from './two-nodes.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/pacemaker/${name}`, import.meta.url), 'utf8');
const ok = (stdout: string): Reply => ({ stdout, stderr: '', exitCode: 0 });
const CIBADMIN = 'cibadmin -Q';
const NOT_CONNECTED: Reply = { stdout: fixture('crm-mon-not-connected.xml'), stderr: '', exitCode: 102 };

/** node answers as a member of the fixtures' running cluster (r0 promoted on node1). */
function pacemakerOn(ex: ScriptedExecutor, crmMon = 'crm-mon-running.xml', cib = 'cib-drbd-running.xml'): void {
  ex.reply(CRM_MON, ok(fixture(crmMon))).reply(CIBADMIN, ok(fixture(cib)));
}

async function holdOf(resource: string, setup: (t: ReturnType<typeof twoNodes>) => void): Promise<{ hold: PacemakerHold | null; t: ReturnType<typeof twoNodes> }> {
  const t = twoNodes();
  setup(t);
  return { hold: await pacemakerCheck().hold(t.cluster, resource, ['node1', 'node2']), t };
}

describe('pacemakerCheck: who holds a DRBD resource', () => {
  it('finds the promotable clone whose drbd_resource is the resource, where it is promoted, and a cluster at rest', async () => {
    const { hold, t } = await holdOf('r0', (t) => pacemakerOn(t.node1));
    expect(hold).not.toBeNull();
    expect(hold!.readOn).toBe('node1');
    expect(hold!.clone.cloneId).toBe('ms_drbd_r0');
    expect(hold!.clone.promotedOn).toEqual(['node1']);
    expect(hold!.handsOff).toBe(false);
    expect(hold!.unsettled).toEqual([]);
    // The first node where Pacemaker runs answers for the cluster.
    expect(t.node2.commands).toEqual([]);
  });

  it('a resource no clone names is not held', async () => {
    const { hold } = await holdOf('r7', (t) => pacemakerOn(t.node1));
    expect(hold).toBeNull();
  });

  it('skips a node where Pacemaker is stopped and reads the next', async () => {
    const { hold, t } = await holdOf('r0', (t) => {
      t.node1.reply(CRM_MON, NOT_CONNECTED);
      pacemakerOn(t.node2);
    });
    expect(hold?.readOn).toBe('node2');
    expect(t.node1.commands).toEqual([CRM_MON]);
  });

  it('a node that cannot be reached (its executor fails outright) is skipped, as growth reads skip it', async () => {
    const t = twoNodes();
    const down = { node: 'node1', run: async () => { throw new Error('node1: the lab node is not running'); }, readFile: async () => '', writeFile: async () => undefined };
    const cluster = new Cluster([
      { name: 'node1', executor: down },
      { name: 'node2', executor: t.node2 },
    ]);
    pacemakerOn(t.node2);
    expect((await pacemakerCheck().hold(cluster, 'r0', ['node1', 'node2']))?.readOn).toBe('node2');
    t.node2.reply(CRM_MON, { stdout: '', stderr: 'sh: 1: crm_mon: not found\n', exitCode: 127 });
    expect(await pacemakerCheck().hold(cluster, 'r0', ['node1', 'node2'])).toBeNull();
  });

  it('crm_mon output that does not parse is an error, not "no Pacemaker"', async () => {
    const t = twoNodes();
    t.node1.reply(CRM_MON, ok('<pacemaker-result><summary>'));
    await expect(pacemakerCheck().hold(t.cluster, 'r0', ['node1', 'node2'])).rejects.toThrow(/XML/);
  });

  it('sudo refusing crm_mon is an error naming the rule, never "no Pacemaker" (hastor would act behind it)', async () => {
    const t = twoNodes();
    t.node1.reply(CRM_MON, { stdout: '', stderr: 'sudo: a password is required\n', exitCode: 1 });
    pacemakerOn(t.node2);
    const error = await pacemakerCheck().hold(t.cluster, 'r0', ['node1', 'node2']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetyError);
    expect((error as SafetyError).rule).toBe('pacemaker-unreadable');
    expect((error as Error).message).toMatch(/^node1: cannot tell whether Pacemaker manages this resource/);
    expect((error as Error).message).toContain('sudo rule for `/usr/bin/env LC_ALL=C crm_mon -1 --output-as=xml`');
    // node2 would have answered, but a node that will not say is not skipped.
    expect(t.node2.commands).toEqual([]);
  });

  it('ssh failing to connect (255) skips the node like an unreachable one', async () => {
    const { hold, t } = await holdOf('r0', (t) => {
      t.node1.reply(CRM_MON, { stdout: '', stderr: 'ssh: connect to host 10.0.0.1 port 22: No route to host\n', exitCode: 255 });
      pacemakerOn(t.node2);
    });
    expect(hold?.readOn).toBe('node2');
    expect(t.node1.commands).toEqual([CRM_MON]);
  });

  it('crm_mon answering but the CIB refused is an error too', async () => {
    const t = twoNodes();
    t.node1.reply(CRM_MON, ok(fixture('crm-mon-running.xml'))).reply(CIBADMIN, { stdout: '', stderr: 'sudo: a password is required\n', exitCode: 1 });
    const error = await pacemakerCheck().hold(t.cluster, 'r0', ['node1', 'node2']).catch((e: unknown) => e);
    expect((error as SafetyError).rule).toBe('pacemaker-unreadable');
    expect((error as Error).message).toContain('`cibadmin -Q` failed');
  });

  it('no Pacemaker on any node: not held, and the CIB is never asked for', async () => {
    const { hold, t } = await holdOf('r0', () => undefined);
    expect(hold).toBeNull();
    expect([...t.node1.commands, ...t.node2.commands]).toEqual([CRM_MON, CRM_MON]);
  });

  it('maintenance-mode and an unmanaged clone are hands off', async () => {
    const { hold } = await holdOf('r0', (t) => pacemakerOn(t.node1, 'crm-mon-maintenance.xml'));
    expect(hold?.handsOff).toBe(true);
    expect(hold?.nodesInMaintenance).toEqual(['node1']);
    expect(() => assertNotBehindClusterManager(hold, 'r0', 'promote', ['node2'])).not.toThrow();
  });
});

describe('the refusal', () => {
  it('names the clone, where it is promoted, and the crm_resource command that does it through Pacemaker', async () => {
    const { hold } = await holdOf('r0', (t) => pacemakerOn(t.node1));
    let error: unknown;
    try {
      assertNotBehindClusterManager(hold, 'r0', 'promote', ['node2']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SafetyError);
    expect((error as SafetyError).rule).toBe('pacemaker-managed');
    expect((error as SafetyError).message).toContain('Pacemaker manages r0 as ms_drbd_r0 (promoted on node1), read on node1');
    expect((error as SafetyError).message).toContain('crm_resource --resource ms_drbd_r0 --move --promoted --node node2');
    expect((error as SafetyError).override).toContain('hastor pacemaker maintenance on --resource ms_drbd_r0');
  });

  it('demote and down suggest a ban; delete says to remove the clone first', async () => {
    const { hold } = await holdOf('r0', (t) => pacemakerOn(t.node1));
    expect(() => assertNotBehindClusterManager(hold, 'r0', 'demote', ['node1'])).toThrow(/crm_resource --resource ms_drbd_r0 --ban --promoted --node node1/);
    expect(() => assertNotBehindClusterManager(hold, 'r0', 'down', ['node2'])).toThrow(/crm_resource --resource ms_drbd_r0 --ban --node node2/);
    expect(() => assertNotBehindClusterManager(hold, 'r0', 'delete', ['node1', 'node2'])).toThrow(/pcs resource delete ms_drbd_r0/);
  });

  it('an operation only on nodes in maintenance passes; one that also touches a managed node does not', async () => {
    const running = (await holdOf('r0', (t) => pacemakerOn(t.node1))).hold!;
    const hold: PacemakerHold = { ...running, nodesInMaintenance: ['node2'] };
    expect(() => assertNotBehindClusterManager(hold, 'r0', 'demote', ['node2'])).not.toThrow();
    expect(() => assertNotBehindClusterManager(hold, 'r0', 'down', ['node1', 'node2'])).toThrow(SafetyError);
  });
});

describe('a cluster in transition', () => {
  it('an action in flight, a node without a DC or unclean, each is a reason; a cluster at rest has none', () => {
    const running = fixture('crm-mon-running.xml');
    expect(unsettledReasons(parseCrmMon(running))).toEqual([]);
    // Derived: Pacemaker records a pending promotion as the resource's pending attribute.
    const promoting = running.replace('<resource id="p_drbd_r0" resource_agent="ocf:linbit:drbd" role="Unpromoted"', '<resource id="p_drbd_r0" resource_agent="ocf:linbit:drbd" role="Unpromoted" pending="Promoting"');
    expect(unsettledReasons(parseCrmMon(promoting))).toEqual(['p_drbd_r0: Promoting on node2']);
    const unclean = running.replace('name="node2" id="2" online="true"', 'name="node2" id="2" online="false"').replace(/(name="node2"[^>]*?)unclean="false"/, '$1unclean="true"');
    expect(unsettledReasons(parseCrmMon(unclean))).toContain('node node2 is unclean (waiting to be fenced)');
  });

  it('grow reads Pacemaker first and refuses while a promotion is in flight, dry run or not, having run nothing else', async () => {
    const running = fixture('crm-mon-running.xml');
    const promoting = running.replace('<resource id="p_drbd_r0" resource_agent="ocf:linbit:drbd" role="Unpromoted"', '<resource id="p_drbd_r0" resource_agent="ocf:linbit:drbd" role="Unpromoted" pending="Promoting"');
    for (const dryRun of [true, false]) {
      const t = twoNodes();
      t.node1.reply(CRM_MON, ok(promoting)).reply(CIBADMIN, ok(fixture('cib-drbd-running.xml')));
      const topology: GrowthTopology = { cluster: t.cluster, resource: 'r0', minor: 0, device: '/dev/drbd0', tier1: [{ node: 'node1', vg: 'vg', lv: 'lv' }, { node: 'node2', vg: 'vg', lv: 'lv' }], tier2: null, guest: null };
      const error = await grow(topology, { kind: 'drbd', sizeBytes: 1n << 30n }, { dryRun, lockDir: mkdtempSync(join(tmpdir(), 'hastor-grow-pcmk-')), lvmShell: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SafetyError);
      expect((error as SafetyError).rule).toBe('pacemaker-in-transition');
      expect((error as Error).message).toContain('p_drbd_r0: Promoting on node2');
      expect([...t.node1.commands, ...t.node2.commands]).toEqual([CRM_MON, CIBADMIN]);
    }
  });

  it('grow-style work is refused while Pacemaker is not at rest', async () => {
    const { hold } = await holdOf('r0', (t) => pacemakerOn(t.node1));
    expect(() => assertClusterSettled(hold, 'r0', 'grow')).not.toThrow();
    expect(() => assertClusterSettled({ ...hold!, unsettled: ['p_drbd_r0: Promoting on node2'] }, 'r0', 'grow')).toThrow(/rule pacemaker-in-transition/);
    expect(() => assertClusterSettled(null, 'r0', 'grow')).not.toThrow();
  });
});

describe('DrbdResource asks Pacemaker by default', () => {
  /** Both Secondary with UpToDate data; node1's promotion answers as recorded. */
  function secondaries(t: ReturnType<typeof twoNodes>): void {
    t.node1.reply(EVENTS2, 'events2-uptodate-secondary-node1').reply('drbdadm primary r0', 'primary').on('drbdadm primary r0', () => t.node1.reply(EVENTS2, 'events2-primary'));
    t.node2.reply(EVENTS2, 'events2-uptodate-secondary-node2');
  }

  it('a promotion of a managed resource is refused, also as a dry run, and nothing runs', async () => {
    const t = twoNodes();
    secondaries(t);
    pacemakerOn(t.node1);
    const r0 = new DrbdResource(t.cluster, R0, { pollIntervalMs: 0 });
    for (const dryRun of [true, false]) {
      await expect(r0.promote('node1', { dryRun })).rejects.toThrow(/rule pacemaker-managed/);
    }
    expect([...t.node1.commands, ...t.node2.commands]).not.toContain('drbdadm primary r0');
    expect(t.node1.commands).toContain(CRM_MON);
    expect(t.node1.commands).toContain(CIBADMIN);
  });

  it('a switchover (node1 Primary, promote node2) points to Pacemaker’s move, before the two-primaries rule; a demote before the in-use check', async () => {
    const t = twoNodes();
    primarySecondary(t);
    pacemakerOn(t.node1);
    const r0 = new DrbdResource(t.cluster, R0, { pollIntervalMs: 0 });
    const promote = await r0.promote('node2').catch((e: unknown) => e);
    expect((promote as SafetyError).rule).toBe('pacemaker-managed');
    expect((promote as Error).message).toContain('crm_resource --resource ms_drbd_r0 --move --promoted --node node2');
    const demote = await r0.demote('node1').catch((e: unknown) => e);
    expect((demote as SafetyError).rule).toBe('pacemaker-managed');
    expect(t.node1.commands.some((c) => c.includes('mountinfo'))).toBe(false);
  });

  it('without Pacemaker on the nodes the same promotion runs', async () => {
    const t = twoNodes();
    secondaries(t);
    const r0 = new DrbdResource(t.cluster, R0, { pollIntervalMs: 0, timeouts: { roleMs: 500 } });
    const result = await r0.promote('node1');
    expect(result.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`)).toEqual(['node1: drbdadm primary r0']);
    expect(t.node1.commands).toContain(CRM_MON);
    expect(t.node2.commands).toContain(CRM_MON);
  });

  it('clusterManager: null turns the check off (for the cluster manager’s own agent)', async () => {
    const t = twoNodes();
    secondaries(t);
    pacemakerOn(t.node1);
    const r0 = new DrbdResource(t.cluster, R0, { pollIntervalMs: 0, clusterManager: null });
    const plan = await r0.promote('node1', { dryRun: true });
    expect(plan.actions.map((a) => a.argv.join(' '))).toEqual(['drbdadm primary r0']);
    expect(t.node1.commands).not.toContain(CRM_MON);
  });

  it('in maintenance-mode hastor acts itself', async () => {
    const t = twoNodes();
    secondaries(t);
    pacemakerOn(t.node1, 'crm-mon-maintenance.xml');
    const r0 = new DrbdResource(t.cluster, R0, { pollIntervalMs: 0 });
    const plan = await r0.promote('node1', { dryRun: true });
    expect(plan.actions.map((a) => a.argv.join(' '))).toEqual(['drbdadm primary r0']);
  });
});

describe('the dual-primary window through Pacemaker', () => {
  const stub = async () => ({ clusterAware: true, detail: 'stub: cluster-aware' });
  const R0_TWO = { ...R0_SAFE, net: { ...R0_SAFE.net, allowTwoPrimaries: true } };
  const SET_SAVED = 'crm_resource --resource ms_drbd_r0 --meta --set-parameter hastor-promoted-max-before --parameter-value 1';
  const SET_TWO = 'crm_resource --resource ms_drbd_r0 --meta --set-parameter promoted-max --parameter-value 2';

  /** node1 Primary, node2 Secondary, allow-two-primaries in the running configuration of both. */
  function primaryWithTwoAllowed(t: ReturnType<typeof twoNodes>): void {
    t.node1.reply(EVENTS2, 'events2-primary').reply(SHOW, 'show-two-primaries-node1');
    t.node2.reply(EVENTS2, 'events2-secondary').reply(SHOW, 'show-two-primaries-node2');
  }

  it('is refused unless the configuration file allows two primaries (ocf:linbit:drbd reads drbdadm dump)', async () => {
    const t = twoNodes();
    primarySecondary(t);
    pacemakerOn(t.node1);
    const error = await new DrbdResource(t.cluster, R0_SAFE, { pollIntervalMs: 0, upperLayer: stub }).beginDualPrimary({ dryRun: true }).catch((e: unknown) => e);
    expect((error as SafetyError).rule).toBe('pacemaker-dual-primary-needs-config');
    expect((error as Error).message).toContain('OCF_ERR_CONFIGURED');
  });

  it('opens by saving promoted-max and raising it to 2; Pacemaker promotes the second node; no drbdadm primary by hastor', async () => {
    const t = twoNodes();
    primaryWithTwoAllowed(t);
    pacemakerOn(t.node1);
    t.node1.reply(SET_SAVED, ok('')).reply(SET_TWO, ok('')).on(SET_TWO, () => {
      t.node1.reply(EVENTS2, 'events2-dual-primary-node1');
      t.node2.reply(EVENTS2, 'events2-dual-primary-node2');
    });
    const r0 = new DrbdResource(t.cluster, R0_TWO, { pollIntervalMs: 0, upperLayer: stub, timeouts: { roleMs: 500 } });
    const plan = await r0.beginDualPrimary({ dryRun: true });
    expect(plan.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`)).toEqual([`node1: ${SET_SAVED}`, `node1: ${SET_TWO}`]);
    const result = await r0.beginDualPrimary();
    expect([result.state.node1?.role, result.state.node2?.role]).toEqual(['Primary', 'Primary']);
    expect([...t.node1.commands, ...t.node2.commands].filter((c) => c.startsWith('drbdadm primary'))).toEqual([]);
  });

  it('closes by banning the promoted role from the other node, restoring the saved promoted-max, then lifting the ban', async () => {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-dual-primary-node1').reply(SHOW, 'show-two-primaries-node1');
    t.node2.reply(EVENTS2, 'events2-dual-primary-node2').reply(SHOW, 'show-two-primaries-node2');
    deviceUse(t.node2, 'none');
    // Derived: the CIB as hastor's window left it (promoted-max 2, the old value saved).
    const cib = fixture('cib-drbd-running.xml').replace(
      '<nvpair id="ms_drbd_r0-promoted-max" name="promoted-max" value="1"/>',
      '<nvpair id="ms_drbd_r0-promoted-max" name="promoted-max" value="2"/><nvpair id="ms_drbd_r0-meta_attributes-hastor-promoted-max-before" name="hastor-promoted-max-before" value="1"/>',
    );
    t.node1.reply(CRM_MON, ok(fixture('crm-mon-running.xml'))).reply(CIBADMIN, ok(cib));
    const BAN = 'crm_resource --resource ms_drbd_r0 --ban --promoted --node node2';
    const RESTORE = 'crm_resource --resource ms_drbd_r0 --meta --set-parameter promoted-max --parameter-value 1';
    const FORGET = 'crm_resource --resource ms_drbd_r0 --meta --delete-parameter hastor-promoted-max-before';
    const CLEAR = 'crm_resource --resource ms_drbd_r0 --clear --promoted --node node2';
    t.node1.reply(BAN, ok('')).reply(FORGET, ok('')).reply(CLEAR, ok('')).reply(RESTORE, ok('')).on(RESTORE, () => {
      t.node1.reply(EVENTS2, 'events2-primary');
      t.node2.reply(EVENTS2, 'events2-secondary');
    });
    const r0 = new DrbdResource(t.cluster, R0_TWO, { pollIntervalMs: 0, timeouts: { roleMs: 500 } });
    const result = await r0.endDualPrimary({ keep: 'node1' });
    expect(result.actions.map((a) => a.argv.join(' '))).toEqual([BAN, RESTORE, FORGET, CLEAR]);
    expect(t.node2.commands.filter((c) => c.startsWith('drbdadm secondary'))).toEqual([]);
    expect(result.state.node2?.role).toBe('Secondary');
  });
});
