import { describe, expect, it } from 'vitest';
import { cibPrimitives, parseCib, type CibClone } from '../../../src/pacemaker/index.js';
import { allFixtures, fixture } from './fixtures.js';

describe('parseCib on every fixture', () => {
  const docs = allFixtures().filter((f) => f.kind === 'cib');
  it('finds CIBs to parse', () => {
    expect(docs.length).toBeGreaterThanOrEqual(5);
  });
  for (const f of docs) {
    it(`${f.name}: a model`, () => {
      const cib = parseCib(f.text);
      expect(cib.validateWith).toMatch(/^pacemaker-\d/);
      expect(cib.epoch).toBeGreaterThanOrEqual(1);
      for (const c of cib.drbdFenceConstraints) expect(c.id.startsWith('drbd-fence-by-handler-')).toBe(true);
    });
  }
});

describe('parseCib on the configured cluster', () => {
  const cib = parseCib(fixture('cib-drbd.xml'));

  it('reads the cib attributes, properties and defaults', () => {
    expect(cib.validateWith).toBe('pacemaker-3.9');
    expect(cib.adminEpoch).toBe(0);
    expect(cib.properties).toEqual({ 'stonith-enabled': 'true', 'no-quorum-policy': 'stop', 'priority-fencing-delay': '10s', 'cluster-name': 'hastor-lab' });
    expect(cib.rscDefaults).toEqual({ 'resource-stickiness': '100', 'migration-threshold': '3' });
    expect(cib.opDefaults).toEqual({ timeout: '60s' });
    expect(cib.nodeStates).toBeNull();
  });

  it('reads the nodes', () => {
    expect(cib.nodes).toEqual([
      { id: '1', uname: 'node1', type: null, attributes: {} },
      { id: '2', uname: 'node2', type: null, attributes: {} },
    ]);
  });

  it('reads the promotable DRBD clones with params, meta and operations', () => {
    const r0 = cib.resources.find((r) => r.id === 'ms_drbd_r0') as CibClone;
    expect(r0).toMatchObject({ kind: 'clone', element: 'clone', promotable: true, promotedMax: 1 });
    expect(r0.meta.notify).toBe('true');
    expect(r0.child).toMatchObject({ kind: 'primitive', id: 'p_drbd_r0', class: 'ocf', provider: 'linbit', type: 'drbd', agent: 'ocf:linbit:drbd', params: { drbd_resource: 'r0' } });
    const ops = r0.child?.kind === 'primitive' ? r0.child.operations : [];
    expect(ops.find((o) => o.interval === '29s')).toEqual({ id: 'p_drbd_r0-monitor-29s', name: 'monitor', interval: '29s', timeout: '20s', role: 'Promoted' });
    expect((cib.resources.find((r) => r.id === 'ms_drbd_r1') as CibClone).promotedMax).toBe(2);
  });

  it('lists stonith devices and every primitive with its holder', () => {
    expect(cib.stonithDevices.map((d) => [d.id, d.agent, d.params.pcmk_host_list])).toEqual([
      ['fence_node1', 'stonith:fence_xvm', 'node1'],
      ['fence_node2', 'stonith:fence_xvm', 'node2'],
    ]);
    const all = cibPrimitives(cib).map((p) => `${p.clone?.id ?? '-'}/${p.group?.id ?? '-'}/${p.primitive.id}`);
    expect(all).toContain('cl_locking/g_locking/lvmlockd');
    expect(all).toContain('-/g_mysql/mysql');
    expect(cibPrimitives(cib).find((p) => p.primitive.id === 'mysql')?.primitive.agent).toBe('systemd:mariadb');
    expect(cibPrimitives(cib).find((p) => p.primitive.id === 'vg_shared')?.primitive.params).toMatchObject({ vgname: 'vg_shared', activation_mode: 'shared' });
  });

  it('reads location, colocation and order constraints', () => {
    expect(cib.constraints.map((c) => c.kind)).toEqual(['location', 'location', 'colocation', 'order', 'location', 'order', 'colocation', 'order', 'colocation']);
    expect(cib.constraints.find((c) => c.id === 'c_mysql_on_drbd')).toEqual({ kind: 'colocation', id: 'c_mysql_on_drbd', rsc: 'g_mysql', withRsc: 'ms_drbd_r0', rscRole: null, withRscRole: 'Promoted', score: 'INFINITY', resourceSets: [] });
    expect(cib.constraints.find((c) => c.id === 'o_drbd_before_mysql')).toMatchObject({ kind: 'order', first: 'ms_drbd_r0', firstAction: 'promote', then: 'g_mysql', thenAction: 'start', kindOrScore: 'Mandatory' });
    expect(cib.constraints.find((c) => c.id === 'l_fence_node1')).toMatchObject({ kind: 'location', rsc: 'fence_node1', node: 'node1', score: '-INFINITY' });
    expect(cib.drbdFenceConstraints).toEqual([]);
  });
});

describe('parseCib: status and DRBD fence constraints', () => {
  it('the running CIB: quorum, DC and node states', () => {
    const cib = parseCib(fixture('cib-drbd-running.xml'));
    expect(cib.haveQuorum).toBe(true);
    expect(cib.dcUuid).toBe('1');
    expect(cib.properties['cluster-infrastructure']).toBe('corosync');
    expect(cib.nodeStates?.map((s) => [s.uname, s.crmd, s.inCcm, s.join])).toEqual([
      ['node1', 'online', 'true', 'member'],
      ['node2', 'online', 'true', 'member'],
    ]);
  });

  it("DRBD's handler constraint: resource r0, clone ms_drbd_r0, node2 excluded", () => {
    const cib = parseCib(fixture('cib-fence-constraint.xml'));
    expect(cib.drbdFenceConstraints).toEqual([
      { id: 'drbd-fence-by-handler-r0-ms_drbd_r0', drbdResource: 'r0', cloneId: 'ms_drbd_r0', allowedNode: 'node1', excludedNodes: ['node2'] },
    ]);
    const location = cib.constraints.find((c) => c.id === 'drbd-fence-by-handler-r0-ms_drbd_r0');
    expect(location).toMatchObject({ kind: 'location', rsc: 'ms_drbd_r0', rules: [{ role: 'Promoted', score: '-INFINITY', expressions: [{ attribute: '#uname', operation: 'ne', value: 'node1' }] }] });
  });

  it('an old CIB: <master>, master-max, Master/Slave roles, standby node attribute', () => {
    const cib = parseCib(fixture('cib-old-master.xml'));
    expect(cib).toMatchObject({ validateWith: 'pacemaker-1.2', epoch: 42, numUpdates: 7, adminEpoch: 1 });
    const ms = cib.resources.find((r) => r.id === 'ms_drbd_r0') as CibClone;
    expect(ms).toMatchObject({ element: 'master', promotable: true, promotedMax: 1 });
    expect(cib.nodes.find((n) => n.uname === 'node2')?.attributes).toEqual({ standby: 'on' });
    expect(cib.constraints.find((c) => c.id === 'c_fs_on_drbd')).toMatchObject({ withRscRole: 'Promoted' });
    expect(cib.constraints.find((c) => c.id === 'o_drbd_before_fs')).toMatchObject({ kindOrScore: 'INFINITY' });
    expect(cib.drbdFenceConstraints).toEqual([{ id: 'drbd-fence-by-handler-r0-ms_drbd_r0', drbdResource: 'r0', cloneId: 'ms_drbd_r0', allowedNode: 'node2', excludedNodes: ['node1'] }]);
  });

  it('resource sets and tickets; a hyphenated DRBD resource name', () => {
    const cib = parseCib(`<cib validate-with="pacemaker-3.9" epoch="3" num_updates="0" admin_epoch="0"><configuration><crm_config/>
      <nodes><node id="1" uname="a"/><node id="2" uname="b"/><node id="3" uname="c"/></nodes><resources/>
      <constraints>
        <rsc_order id="o_set"><resource_set id="s1"><resource_ref id="x"/><resource_ref id="y"/></resource_set></rsc_order>
        <rsc_ticket id="t1" ticket="site-a" rsc="ms_drbd_my-db" rsc-role="Master" loss-policy="demote"/>
        <rsc_location id="drbd-fence-by-handler-my-db-ms_drbd_my-db" rsc="ms_drbd_my-db"><rule role="Master" score="-INFINITY" id="r"><expression attribute="#uname" operation="ne" value="b" id="e"/></rule></rsc_location>
      </constraints></configuration><status/></cib>`);
    expect(cib.constraints[0]).toMatchObject({ kind: 'order', first: null, resourceSets: [['x', 'y']] });
    expect(cib.constraints[1]).toEqual({ kind: 'ticket', id: 't1', ticket: 'site-a', rsc: 'ms_drbd_my-db', rscRole: 'Promoted', lossPolicy: 'demote', resourceSets: [] });
    expect(cib.drbdFenceConstraints[0]).toMatchObject({ drbdResource: 'my-db', cloneId: 'ms_drbd_my-db', allowedNode: 'b', excludedNodes: ['a', 'c'] });
  });
});
