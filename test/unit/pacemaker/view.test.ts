import { describe, expect, it } from 'vitest';
import {
  buildPacemakerView,
  drbdResourcesManagedByPacemaker,
  pacemakerManages,
  pacemakerViewSchema,
  parseCib,
  parseCrmMon,
} from '../../../src/index.js';
import { fixture } from './fixtures.js';

const crmMon = (name: string) => parseCrmMon(fixture(name));
const cib = (name: string) => parseCib(fixture(name));

describe('buildPacemakerView', () => {
  it('crm_mon + CIB: DRBD clones named, promoted and running nodes, fence constraint flagged', () => {
    const view = buildPacemakerView({ crmMon: crmMon('crm-mon-running.xml'), cib: cib('cib-fence-constraint.xml') });
    expect(pacemakerViewSchema.parse(view)).toEqual(view);
    expect(view.sources).toEqual({ crmMon: true, cib: true });
    expect(view).toMatchObject({ stack: 'corosync', dc: 'node1', quorum: true });
    expect(view.properties).toEqual({ stonithEnabled: true, maintenanceMode: false, noQuorumPolicy: 'stop', priorityFencingDelayMs: 10000, stopAllResources: false });
    expect(view.drbdClones).toEqual([
      { cloneId: 'ms_drbd_r0', primitiveId: 'p_drbd_r0', drbdResource: 'r0', promotable: true, promotedMax: 1, promotedOn: ['node1'], runningOn: ['node1', 'node2'], managed: true, failed: false, fenceConstraints: ['drbd-fence-by-handler-r0-ms_drbd_r0'] },
      { cloneId: 'ms_drbd_r1', primitiveId: 'p_drbd_r1', drbdResource: 'r1', promotable: true, promotedMax: 2, promotedOn: ['node1', 'node2'], runningOn: ['node1', 'node2'], managed: true, failed: false, fenceConstraints: [] },
    ]);
    expect(view.stonithDevices).toEqual([
      { id: 'fence_node1', agent: 'stonith:fence_xvm', startedOn: ['node2'], role: 'Started', managed: true },
      { id: 'fence_node2', agent: 'stonith:fence_xvm', startedOn: ['node1'], role: 'Started', managed: true },
    ]);
    expect(view.constraints).toHaveLength(10);
    expect(view.constraints?.find((c) => c.drbdFence !== null)).toMatchObject({ id: 'drbd-fence-by-handler-r0-ms_drbd_r0', role: 'Promoted', score: '-INFINITY', drbdFence: { allowedNode: 'node1', excludedNodes: ['node2'] } });
    expect(view.warnings.some((w) => w.includes('drbd-fence-by-handler-r0-ms_drbd_r0'))).toBe(true);
    expect(view.warnings.some((w) => w.includes('ms_drbd_r1 allows 2 Primaries'))).toBe(true);
    expect(view.nodes.map((n) => n.state)).toEqual(['online', 'online']);
  });

  it('crm_mon alone: placement known, DRBD names and constraints unknown', () => {
    const view = buildPacemakerView({ crmMon: crmMon('crm-mon-node2-down.xml') });
    expect(view.constraints).toBeNull();
    expect(view.drbdClones[0]).toMatchObject({ cloneId: 'ms_drbd_r0', drbdResource: null, promotedMax: null, promotedOn: ['node1'], runningOn: ['node1'] });
    expect(view.nodes.find((n) => n.name === 'node2')?.state).toBe('offline');
    expect(view.warnings).toContain('node node2 is offline');
    expect(view.stonithDevices.find((d) => d.id === 'fence_node1')?.startedOn).toEqual([]);
  });

  it('CIB alone: configuration known, placement null (unknown), node states from the status section', () => {
    const view = buildPacemakerView({ cib: cib('cib-drbd-running.xml') });
    expect(view.sources).toEqual({ crmMon: false, cib: true });
    expect(view.drbdClones.map((c) => [c.drbdResource, c.promotedOn, c.runningOn])).toEqual([
      ['r0', null, null],
      ['r1', null, null],
    ]);
    expect(view.nodes.map((n) => [n.name, n.state, n.isDc])).toEqual([
      ['node1', 'online', true],
      ['node2', 'online', false],
    ]);
    expect(view).toMatchObject({ dc: 'node1', quorum: true, stack: 'corosync', failedActions: null, fenceHistory: null });
    expect(view.properties.priorityFencingDelayMs).toBe(10000);
    expect(view.stonithDevices.map((d) => [d.id, d.startedOn])).toEqual([
      ['fence_node1', null],
      ['fence_node2', null],
    ]);
  });

  it('warns of stonith off, maintenance mode, no stonith device, standby, failed actions', () => {
    const maint = buildPacemakerView({ crmMon: crmMon('crm-mon-maintenance.xml') });
    expect(maint.warnings.filter((w) => /^(stonith-enabled=false|maintenance-mode=true)/.test(w))).toHaveLength(2);
    expect(maint.nodes.find((n) => n.name === 'node1')?.state).toBe('maintenance');
    const old = buildPacemakerView({ cib: cib('cib-old-master.xml') });
    expect(old.warnings).toContain('no stonith device is configured');
    expect(old.nodes.find((n) => n.name === 'node2')?.state).toBe('standby');
    const failed = buildPacemakerView({ crmMon: crmMon('crm-mon-failed-action.xml') });
    expect(failed.failedActions?.map((f) => f.opKey)).toEqual(['mysql_monitor_20000']);
    expect(failed.warnings.some((w) => w.startsWith('1 failed action'))).toBe(true);
    const healthy = buildPacemakerView({ crmMon: crmMon('crm-mon-running.xml'), cib: cib('cib-drbd-running.xml') });
    expect(healthy.warnings).toEqual(['DRBD clone ms_drbd_r1 allows 2 Primaries (dual-primary): needs fencing and a cluster-aware upper layer']);
  });

  it('needs at least one input', () => {
    expect(() => buildPacemakerView({})).toThrow(TypeError);
  });
});

describe('which DRBD resources Pacemaker manages', () => {
  const full = buildPacemakerView({ crmMon: crmMon('crm-mon-running.xml'), cib: cib('cib-drbd-running.xml') });

  it('by the drbd_resource param', () => {
    expect([...drbdResourcesManagedByPacemaker(full).keys()]).toEqual(['r0', 'r1']);
    expect(pacemakerManages(full, 'r0')?.cloneId).toBe('ms_drbd_r0');
    expect(pacemakerManages(full, 'r1')?.promotedMax).toBe(2);
    expect(pacemakerManages(full, 'r2')).toBeNull();
  });

  it('crm_mon alone: by the clone or primitive id ending in the name', () => {
    const view = buildPacemakerView({ crmMon: crmMon('crm-mon-running.xml') });
    expect(drbdResourcesManagedByPacemaker(view).size).toBe(0);
    expect(pacemakerManages(view, 'r0')?.cloneId).toBe('ms_drbd_r0');
    expect(pacemakerManages(view, 'r')).toBeNull();
    expect(pacemakerManages(view, '0')).toBeNull();
  });
});

describe('node states from a CIB status section', () => {
  it('in_ccm/crmd as words (2.1.5) or timestamps (later); false/0/offline when down', () => {
    const text = fixture('cib-drbd-running.xml')
      .replace('uname="node1" in_ccm="true" crmd="online"', 'uname="node1" in_ccm="1733580000" crmd="1733580001"')
      .replace('uname="node2" in_ccm="true" crmd="online"', 'uname="node2" in_ccm="false" crmd="offline"');
    const view = buildPacemakerView({ cib: parseCib(text) });
    expect(view.nodes.map((n) => [n.name, n.state, n.online])).toEqual([
      ['node1', 'online', true],
      ['node2', 'offline', false],
    ]);
  });
});
