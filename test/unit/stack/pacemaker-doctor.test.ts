/** The doctor's Pacemaker findings, on Pacemaker 2.1.5 documents (test/fixtures/pacemaker). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseResourceDefinition } from '../../../src/drbd/config/index.js';
import type { MaybeStatus } from '../../../src/drbd/lifecycle/index.js';
import { parseEvents2 } from '../../../src/drbd/events2.js';
import { buildPacemakerView, parseCib, parseCrmMon } from '../../../src/pacemaker/index.js';
import { runDoctor } from '../../../src/stack/doctor.js';
import { pacemakerFindings } from '../../../src/stack/pacemaker-doctor.js';
import { capture, type Reply } from '../drbd/lifecycle/scripted-executor.js';
import { CRM_MON, EVENTS2, R0, R0_SAFE, twoNodes } from './two-nodes.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/pacemaker/${name}`, import.meta.url), 'utf8');
const ok = (stdout: string): Reply => ({ stdout, stderr: '', exitCode: 0 });
const view = (crmMon: string | null, cib: string | null = 'cib-drbd-running.xml') =>
  buildPacemakerView({ crmMon: crmMon === null ? null : parseCrmMon(fixture(crmMon)), cib: cib === null ? null : parseCib(fixture(cib)) });
const status = (name: string): MaybeStatus => parseEvents2(capture(name).stdout).resources[0] ?? null;
const inSync = new Map([['r0', { node1: status('events2-primary'), node2: status('events2-uptodate-secondary-node2') }]]);
const syncing = new Map([['r0', { node1: status('events2-syncsource-primary'), node2: status('events2-synctarget') }]]);
/** r0 and the fixtures' dual-primary r1, both with resource-and-stonith. */
const R1_SAFE = {
  ...R0_SAFE,
  name: 'r1',
  nodes: R0_SAFE.nodes.map((n) => ({ ...n, address: 'ipv4 10.99.0.' + n.name.slice(-1) + ':7790', volumes: n.volumes.map((v) => ({ ...v, minor: 1, device: '/dev/drbd1', disk: '/dev/vg_lab/r1_disk' })) })),
};
const safe = [parseResourceDefinition(R0_SAFE), parseResourceDefinition(R1_SAFE)];
const rules = (findings: { rule: string; severity: string }[]): string[] => findings.map((f) => `${f.severity} ${f.rule}`);

describe('pacemakerFindings', () => {
  it('a healthy cluster with a safe definition: nothing', () => {
    expect(pacemakerFindings(view('crm-mon-running.xml'), 'node1', safe, inSync)).toEqual([]);
  });

  it('stonith off, maintenance-mode, a node in maintenance', () => {
    const found = pacemakerFindings(view('crm-mon-maintenance.xml'), 'node1', safe, inSync);
    expect(rules(found)).toEqual(['error pacemaker-stonith-disabled', 'warning pacemaker-maintenance-mode', 'warning pacemaker-node-maintenance']);
    expect(found[0]!.message).toMatch(/^Pacemaker \(read on node1\): stonith-enabled=false/);
  });

  it('no stonith device at all (an old CIB alone)', () => {
    expect(rules(pacemakerFindings(view(null, 'cib-old-master.xml'), 'node1', [], new Map()))).toContain('error pacemaker-no-stonith-device');
  });

  it('a failed action names the cleanup command for its resource and node', () => {
    const found = pacemakerFindings(view('crm-mon-failed-action.xml'), 'node1', safe, inSync).filter((f) => f.rule === 'pacemaker-failed-action');
    expect(found).toHaveLength(1);
    expect(found[0]!.node).toBe('node1');
    expect(found[0]!.fix).toContain('crm_resource --cleanup --resource mysql --node node1');
  });

  it('a standby node and an offline node', () => {
    expect(rules(pacemakerFindings(view('crm-mon-standby.xml'), 'node1', safe, inSync))).toContain('warning pacemaker-node-standby');
    expect(rules(pacemakerFindings(view('crm-mon-node2-down.xml'), 'node1', safe, inSync))).toContain('warning pacemaker-node-offline');
  });

  it("DRBD's fence constraint: doing its job while r0 resyncs, left behind (blocking a failover) once in sync", () => {
    const fenced = view('crm-mon-running.xml', 'cib-fence-constraint.xml');
    const during = pacemakerFindings(fenced, 'node1', safe, syncing).filter((f) => f.rule === 'pacemaker-drbd-fence-constraint');
    expect(during.map((f) => f.severity)).toEqual(['warning']);
    const after = pacemakerFindings(fenced, 'node1', safe, inSync).filter((f) => f.rule === 'pacemaker-drbd-fence-constraint');
    expect(after.map((f) => f.severity)).toEqual(['error']);
    expect(after[0]!.message).toContain('drbd-fence-by-handler-r0-ms_drbd_r0 is left behind');
    expect(after[0]!.message).toContain('node2 may not be promoted');
  });

  it('a definition without resource-and-stonith under Pacemaker; a DRBD resource the cluster file lacks', () => {
    const found = pacemakerFindings(view('crm-mon-running.xml'), 'node1', [parseResourceDefinition(R0)], inSync);
    expect(rules(found)).toEqual(['warning pacemaker-drbd-fencing', 'warning pacemaker-drbd-unknown-resource']);
    expect(found[1]!.resource).toBe('r1');
  });
});

describe('runDoctor reads Pacemaker on the first node where it runs', () => {
  it('its findings join the report; with pacemaker: false it is not asked', async () => {
    const t = twoNodes();
    for (const [ex, dump, events] of [
      [t.node1, 'dump-node1', 'events2-primary'],
      [t.node2, 'dump-node2', 'events2-uptodate-secondary-node2'],
    ] as const) {
      ex.reply('drbdadm dump r0', dump).reply(EVENTS2, events);
    }
    t.node2.reply(CRM_MON, ok(fixture('crm-mon-maintenance.xml'))).reply('cibadmin -Q', ok(fixture('cib-drbd-running.xml')));
    const defs = [parseResourceDefinition(R0_SAFE)];
    const report = await runDoctor(t.cluster, defs);
    const found = report.findings.filter((f) => f.rule.startsWith('pacemaker-'));
    expect(found.map((f) => f.rule)).toContain('pacemaker-stonith-disabled');
    expect(found[0]!.message).toContain('read on node2');
    const without = await runDoctor(t.cluster, defs, { pacemaker: false });
    expect(without.findings.some((f) => f.rule.startsWith('pacemaker-'))).toBe(false);
  });
});
