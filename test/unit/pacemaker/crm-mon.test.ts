import { describe, expect, it } from 'vitest';
import { crmMonPrimitives, failedActionTarget, parseCrmMon, PacemakerUnavailableError, type CrmMonClone } from '../../../src/pacemaker/index.js';
import { allFixtures, fixture } from './fixtures.js';

const clone = (id: string, text: string): CrmMonClone => {
  const c = parseCrmMon(text).resources.find((r) => r.id === id);
  if (c?.kind !== 'clone') throw new Error(`no clone ${id}`);
  return c;
};

describe('parseCrmMon on every fixture', () => {
  const docs = allFixtures().filter((f) => f.kind === 'crm-mon');
  it('finds crm_mon documents to parse', () => {
    expect(docs.length).toBeGreaterThanOrEqual(8);
  });
  for (const f of docs) {
    if (!f.text.includes('<summary')) {
      // crm_mon's answer when it cannot reach the cluster (exit 102).
      it(`${f.name}: PacemakerUnavailableError`, () => {
        expect(() => parseCrmMon(f.text)).toThrow(PacemakerUnavailableError);
      });
      continue;
    }
    it(`${f.name}: a model with nodes and resources`, () => {
      const s = parseCrmMon(f.text);
      expect(s.nodes.length).toBeGreaterThan(0);
      if (!f.name.startsWith('lab/')) expect(s.summary.nodesConfigured).toBe(s.nodes.length);
      for (const { primitive } of crmMonPrimitives(s)) {
        expect(primitive.resourceAgent).toMatch(/^[a-z]+(:[\w-]+)?:[\w.@-]+$/);
        expect(['Unknown', 'Stopped', 'Started', 'Unpromoted', 'Promoted']).toContain(primitive.role);
      }
    });
  }
});

describe('parseCrmMon on the running cluster', () => {
  const s = parseCrmMon(fixture('crm-mon-running.xml'));

  it('reads the summary: stack, DC with quorum, counts, cluster options', () => {
    expect(s.request).toBe('crm_mon -1 --output-as=xml');
    expect(s.summary.stack).toBe('corosync');
    expect(s.summary.dc).toEqual({ present: true, name: 'node1', id: '1', version: '2.1.5-a3f44794f94', withQuorum: true });
    expect(s.summary.nodesConfigured).toBe(2);
    expect(s.summary.resourcesConfigured).toBe(15);
    expect(s.summary.options).toMatchObject({ stonithEnabled: true, maintenanceMode: false, noQuorumPolicy: 'stop', priorityFencingDelayMs: 10000, stopAllResources: false, stonithTimeoutMs: 60000 });
  });

  it('reads both nodes, node1 the DC', () => {
    expect(s.nodes.map((n) => [n.name, n.id, n.online, n.isDc, n.type])).toEqual([
      ['node1', '1', true, true, 'member'],
      ['node2', '2', true, false, 'member'],
    ]);
    expect(s.nodes[0]!.resourcesRunning).toBe(9);
  });

  it('r0 is Promoted on node1 and Unpromoted on node2; r1 Promoted on both', () => {
    const r0 = clone('ms_drbd_r0', fixture('crm-mon-running.xml'));
    expect(r0.promotable).toBe(true);
    expect(r0.instances.map((i) => (i.kind === 'primitive' ? [i.id, i.resourceAgent, i.role, i.nodes] : null))).toEqual([
      ['p_drbd_r0', 'ocf:linbit:drbd', 'Promoted', ['node1']],
      ['p_drbd_r0', 'ocf:linbit:drbd', 'Unpromoted', ['node2']],
    ]);
    const r1 = clone('ms_drbd_r1', fixture('crm-mon-running.xml'));
    expect(r1.instances.map((i) => (i.kind === 'primitive' ? i.role : null))).toEqual(['Promoted', 'Promoted']);
  });

  it('reads stonith devices, a group and a cloned group', () => {
    const fence = s.resources.find((r) => r.id === 'fence_node1');
    expect(fence).toMatchObject({ kind: 'primitive', resourceAgent: 'stonith:fence_xvm', role: 'Started', nodes: ['node2'] });
    const g = s.resources.find((r) => r.id === 'g_mysql');
    expect(g?.kind === 'group' && g.resources.map((p) => p.resourceAgent)).toEqual(['ocf:heartbeat:Filesystem', 'ocf:heartbeat:IPaddr2', 'systemd:mariadb']);
    const locking = clone('cl_locking', fixture('crm-mon-running.xml'));
    expect(locking.promotable).toBe(false);
    expect(locking.instances.map((i) => (i.kind === 'group' ? `${i.id}:${i.resources.map((p) => p.id).join('+')}` : ''))).toEqual(['g_locking:0:dlm+lvmlockd', 'g_locking:1:dlm+lvmlockd']);
  });

  it('reads bans; no failures; no fence history offline', () => {
    expect(s.failures).toEqual([]);
    expect(s.fenceHistory).toBeNull();
    expect(s.bans).toContainEqual({ id: 'l_fence_node1', resource: 'fence_node1', node: 'node1', weight: -1000000, promotedOnly: false });
  });
});

describe('parseCrmMon on the other states', () => {
  it('a failed monitor of mysql on node1', () => {
    const s = parseCrmMon(fixture('crm-mon-failed-action.xml'));
    expect(s.failures).toHaveLength(1);
    expect(s.failures[0]).toMatchObject({ opKey: 'mysql_monitor_20000', node: 'node1', exitStatus: 'not running', exitCode: 7, exitReason: 'Simulated action result', status: 'complete', intervalMs: 20000, task: 'monitor', queuedMs: 0, execMs: 0 });
    expect(s.failures[0]!.lastRcChange).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  });

  it('node2 in standby runs nothing', () => {
    const node2 = parseCrmMon(fixture('crm-mon-standby.xml')).nodes.find((n) => n.name === 'node2');
    expect(node2).toMatchObject({ online: true, standby: true, resourcesRunning: 0 });
  });

  it('node2 down: offline, its r0 instance Stopped', () => {
    const s = parseCrmMon(fixture('crm-mon-node2-down.xml'));
    expect(s.nodes.find((n) => n.name === 'node2')).toMatchObject({ online: false, unclean: false, expectedUp: false });
    const r0 = clone('ms_drbd_r0', fixture('crm-mon-node2-down.xml'));
    expect(r0.instances.map((i) => (i.kind === 'primitive' ? [i.role, i.active, i.nodes] : null))).toEqual([
      ['Promoted', true, ['node1']],
      ['Stopped', false, []],
    ]);
  });

  it('maintenance: node1 and the cluster, stonith off, resources unmanaged', () => {
    const s = parseCrmMon(fixture('crm-mon-maintenance.xml'));
    expect(s.summary.options.maintenanceMode).toBe(true);
    expect(s.summary.options.stonithEnabled).toBe(false);
    expect(s.nodes.find((n) => n.name === 'node1')?.maintenance).toBe(true);
    expect(crmMonPrimitives(s).every((p) => !p.primitive.managed)).toBe(true);
  });

  it('old role names Master/Slave read as Promoted/Unpromoted', () => {
    expect(fixture('crm-mon-old-roles.xml')).toContain('role="Slave"');
    const r0 = clone('ms_drbd_r0', fixture('crm-mon-old-roles.xml'));
    expect(r0.instances.map((i) => (i.kind === 'primitive' ? i.role : null))).toEqual(['Promoted', 'Unpromoted']);
  });

  it('fence history events', () => {
    const s = parseCrmMon(fixture('crm-mon-fence-history.xml'));
    expect(s.fenceHistory).toEqual([
      { target: 'node2', action: 'reboot', delegate: 'node1', client: 'pacemaker-controld.1234', origin: 'node1', status: 'success', exitReason: null, completed: '2026-12-07 15:37:29Z' },
      { target: 'node2', action: 'reboot', delegate: 'node1', client: 'stonith_admin.5678', origin: 'node1', status: 'failed', exitReason: 'fence_xvm timed out', completed: '2026-12-07 15:30:02Z' },
    ]);
  });

  it('crm_mon with no cluster (code 102): PacemakerUnavailableError, not a ParseError', () => {
    expect(() => parseCrmMon(fixture('crm-mon-not-connected.xml'))).toThrow(PacemakerUnavailableError);
    try {
      parseCrmMon(fixture('crm-mon-not-connected.xml'));
    } catch (error) {
      expect((error as PacemakerUnavailableError).code).toBe('E_PACEMAKER_UNAVAILABLE');
      expect((error as PacemakerUnavailableError).crmMonCode).toBe(102);
      expect((error as Error).message).toMatch(/Not connected.*is Pacemaker running/);
    }
  });

  it('a pre-2.1 <crm_mon> root with a bundle', () => {
    const s = parseCrmMon(`<crm_mon version="2.0.5"><summary><current_dc present="false"/></summary>
      <nodes><node name="a" id="1" online="true" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" shutdown="false" expected_up="true" is_dc="false" resources_running="1" type="member"/></nodes>
      <resources><bundle id="web" type="podman" image="httpd" unique="false" managed="true" failed="false"><replica id="0">
        <resource id="web-0" resource_agent="ocf:heartbeat:apache" role="Started" active="true" orphaned="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1"><node name="a" id="1" cached="false"/></resource>
      </replica></bundle></resources></crm_mon>`);
    expect(s.summary.dc).toEqual({ present: false, name: null, id: null, version: null, withQuorum: null });
    expect(s.resources[0]).toMatchObject({ kind: 'bundle', id: 'web', type: 'podman', replicas: [{ id: 0, resources: [{ id: 'web-0', nodes: ['a'], blocked: false }] }] });
  });
});

describe('failedActionTarget: resource and operation of an op key', () => {
  it('the recorded failed action: mysql monitor', () => {
    const [failure] = parseCrmMon(fixture('crm-mon-failed-action.xml')).failures;
    expect(failedActionTarget(failure!)).toEqual({ resource: 'mysql', operation: 'monitor' });
  });

  it('underscores in the resource id, and the two-word migrate operations, with and without crm_mon\'s task', () => {
    expect(failedActionTarget({ opKey: 'p_drbd_r0_promote_0', task: 'promote' })).toEqual({ resource: 'p_drbd_r0', operation: 'promote' });
    expect(failedActionTarget({ opKey: 'p_drbd_r0_monitor_15000', task: null })).toEqual({ resource: 'p_drbd_r0', operation: 'monitor' });
    expect(failedActionTarget({ opKey: 'vm_web_migrate_to_0', task: null })).toEqual({ resource: 'vm_web', operation: 'migrate_to' });
    expect(failedActionTarget({ opKey: 'vm_web_migrate_from_0', task: 'migrate_from' })).toEqual({ resource: 'vm_web', operation: 'migrate_from' });
    expect(failedActionTarget({ opKey: 'fs-r0_reload-agent_0', task: null })).toEqual({ resource: 'fs-r0', operation: 'reload-agent' });
  });

  it('a key without an interval, or a task it does not end with: the whole key is the resource', () => {
    expect(failedActionTarget({ opKey: 'odd', task: null })).toEqual({ resource: 'odd', operation: '' });
    expect(failedActionTarget({ opKey: 'a_stop_0', task: 'start' })).toEqual({ resource: 'a_stop_0', operation: 'start' });
    expect(failedActionTarget({ opKey: '_start_0', task: null })).toEqual({ resource: '_start_0', operation: '' });
  });
});
