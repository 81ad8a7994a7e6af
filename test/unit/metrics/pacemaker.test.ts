/**
 * The exporter's Pacemaker families from recorded crm_mon and CIB documents
 * (test/fixtures/pacemaker/, lab/ from the 2-node UML cluster), answered by
 * a scripted executor: exact metric lines per state, a node without
 * Pacemaker, a slow or failing crm_mon, and one crm_mon per scrape.
 */
import { describe, expect, it } from 'vitest';
import { DrbdState } from '../../../src/metrics/drbd-state.js';
import { exporterHealth } from '../../../src/metrics/exporter.js';
import { fenceTimeSeconds } from '../../../src/metrics/pacemaker-families.js';
import { createPacemakerCollector, PacemakerState, type PacemakerCollectorOptions } from '../../../src/metrics/pacemaker-state.js';
import { createExporterRegistry } from '../../../src/metrics/registry.js';
import type { RunResult } from '../../../src/sys/local-exec.js';
import { fixture } from '../pacemaker/fixtures.js';
import { ok, scripted, type Reply } from '../pacemaker/scripted-executor.js';
import { parseExposition, sampleOf } from './exposition.js';

const CRM_MON = 'crm_mon -1 --output-as=xml';
const late = (ms: number, reply: RunResult): Reply => () => new Promise((resolve) => setTimeout(() => resolve(reply), ms));
const CIBADMIN = 'cibadmin -Q';

function exporterWith(replies: Record<string, Reply>, options: Omit<PacemakerCollectorOptions, 'executor'> = {}) {
  const executor = scripted(replies);
  const errors: Error[] = [];
  const collector = createPacemakerCollector(new PacemakerState(), { onError: (e) => errors.push(e), ...options, executor });
  const drbd = new DrbdState();
  const metrics = createExporterRegistry(drbd, null, { pacemaker: collector });
  const crmMonRuns = (): number => executor.ran.filter((r) => r.argv.join(' ') === CRM_MON).length;
  return { executor, errors, state: collector.state, metrics, drbd, crmMonRuns };
}

/** The hastor_pacemaker_* sample lines of one scrape, but the read duration (a timing). */
function pacemakerLines(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('hastor_pacemaker_') && !l.startsWith('hastor_pacemaker_read_duration_seconds'));
}

async function scrape(crmMon: string, cib: string): Promise<string[]> {
  const { metrics } = exporterWith({ [CRM_MON]: ok(fixture(crmMon)), [CIBADMIN]: ok(fixture(cib)) });
  return pacemakerLines(await metrics.render());
}

type Pair = [number, number];
/** up, cib_up, quorum, maintenance-mode, then node1 and node2's online, standby and maintenance. */
const cluster = (maintenanceMode: number, online: Pair, standby: Pair = [0, 0], maintenance: Pair = [0, 0]): string[] => [
  'hastor_pacemaker_up 1',
  'hastor_pacemaker_cib_up 1',
  'hastor_pacemaker_quorum 1',
  `hastor_pacemaker_maintenance_mode ${maintenanceMode}`,
  ...(['online', 'standby', 'maintenance'] as const).flatMap((what, i) =>
    [online, standby, maintenance][i]!.map((value, n) => `hastor_pacemaker_node_${what}{node="node${n + 1}"} ${value}`),
  ),
];
const LAB_RESOURCES = ['fence-lab', 'drbd-r0', 'fs-r0'];
const GENERATED_RESOURCES = ['fence_node1', 'fence_node2', 'p_drbd_r0', 'fs_r0', 'ip_mysql', 'mysql', 'dlm', 'lvmlockd', 'p_drbd_r1', 'vg_shared'];
const unmanaged = (ids: string[], value: 0 | 1): string[] => ids.map((id) => `hastor_pacemaker_resource_unmanaged{resource="${id}"} ${value}`);
const LAB_R0 = 'resource="r0",clone="drbd-r0-clone"';

interface Case {
  title: string;
  crmMon: string;
  cib: string;
  lines: string[];
}

/** Each case: every hastor_pacemaker_* line of one scrape, in order. */
function cases(list: Case[]): void {
  for (const c of list) it(c.title, async () => expect(await scrape(c.crmMon, c.cib)).toEqual(c.lines));
}

describe('Pacemaker families on the lab captures (Pacemaker 2.1.5, DRBD r0 as a promotable clone)', () => {
  cases([
    {
      title: 'promoted: r0 Promoted on node2 and running unpromoted on node1',
      crmMon: 'lab/crm_mon-promoted.xml',
      cib: 'lab/cib-promoted.xml',
      lines: [
        ...cluster(0, [1, 1]),
        ...unmanaged(LAB_RESOURCES, 0),
        `hastor_pacemaker_drbd_promoted{${LAB_R0},node="node2"} 1`,
        `hastor_pacemaker_drbd_promoted{${LAB_R0},node="node1"} 0`,
        `hastor_pacemaker_drbd_promoted_instances{${LAB_R0}} 1`,
      ],
    },
    {
      title: "after failover: node2 fenced (off) and offline, r0 Promoted on node1, the handler's fence constraint in the CIB",
      crmMon: 'lab/crm_mon-after-failover.xml',
      cib: 'lab/cib-after-failover.xml',
      lines: [
        ...cluster(0, [1, 0]),
        ...unmanaged(LAB_RESOURCES, 0),
        'hastor_pacemaker_fence_events{target="node2",action="off",status="success"} 1',
        // completed="2026-12-07 16:23:30Z"
        'hastor_pacemaker_fence_last_success_timestamp_seconds{target="node2"} 1796660610',
        `hastor_pacemaker_drbd_promoted{${LAB_R0},node="node1"} 1`,
        `hastor_pacemaker_drbd_promoted_instances{${LAB_R0}} 1`,
        `hastor_pacemaker_drbd_fence_constraint{${LAB_R0},constraint="drbd-fence-by-handler-r0-drbd-r0-clone",allowed_node="node1"} 1`,
      ],
    },
    {
      title: 'standby: node2 in standby with its r0 instance stopped (no series for it), the earlier fence still in the history',
      crmMon: 'lab/crm_mon-standby.xml',
      cib: 'lab/cib-standby.xml',
      lines: [
        ...cluster(0, [1, 1], [0, 1]),
        ...unmanaged(LAB_RESOURCES, 0),
        'hastor_pacemaker_fence_events{target="node2",action="off",status="success"} 1',
        'hastor_pacemaker_fence_last_success_timestamp_seconds{target="node2"} 1796660610',
        `hastor_pacemaker_drbd_promoted{${LAB_R0},node="node1"} 1`,
        `hastor_pacemaker_drbd_promoted_instances{${LAB_R0}} 1`,
      ],
    },
    {
      title: 'no STONITH and no resources yet: no DRBD series at all, the nodes still there',
      crmMon: 'lab/crm_mon-no-stonith.xml',
      cib: 'lab/cib-no-stonith.xml',
      lines: cluster(0, [1, 1]),
    },
  ]);
});

describe('Pacemaker families on the generated fixtures (r0 and dual-primary r1)', () => {
  const DRBD_RUNNING = [
    'hastor_pacemaker_drbd_promoted{resource="r0",clone="ms_drbd_r0",node="node1"} 1',
    'hastor_pacemaker_drbd_promoted{resource="r0",clone="ms_drbd_r0",node="node2"} 0',
    'hastor_pacemaker_drbd_promoted{resource="r1",clone="ms_drbd_r1",node="node1"} 1',
    'hastor_pacemaker_drbd_promoted{resource="r1",clone="ms_drbd_r1",node="node2"} 1',
    'hastor_pacemaker_drbd_promoted_instances{resource="r0",clone="ms_drbd_r0"} 1',
    'hastor_pacemaker_drbd_promoted_instances{resource="r1",clone="ms_drbd_r1"} 2',
  ];
  const cib = 'cib-drbd-running.xml';

  cases([
    {
      title: 'maintenance: maintenance-mode on, node1 in maintenance, every resource unmanaged',
      crmMon: 'crm-mon-maintenance.xml',
      cib,
      lines: [...cluster(1, [1, 1], [0, 0], [1, 0]), ...unmanaged(GENERATED_RESOURCES, 1), ...DRBD_RUNNING],
    },
    {
      title: 'failed action: the mysql monitor on node1, counted by resource, node and operation',
      crmMon: 'crm-mon-failed-action.xml',
      cib,
      lines: [
        ...cluster(0, [1, 1]),
        ...unmanaged(GENERATED_RESOURCES, 0),
        'hastor_pacemaker_failed_actions{resource="mysql",node="node1",operation="monitor"} 1',
        ...DRBD_RUNNING,
      ],
    },
    {
      title: "fence history: a failed and a successful reboot of node2; the timestamp is the successful one's",
      crmMon: 'crm-mon-fence-history.xml',
      cib,
      lines: [
        ...cluster(0, [1, 0]),
        ...unmanaged(GENERATED_RESOURCES, 0),
        'hastor_pacemaker_fence_events{target="node2",action="reboot",status="success"} 1',
        'hastor_pacemaker_fence_events{target="node2",action="reboot",status="failed"} 1',
        // completed="2026-12-07 15:37:29Z"; the failed one (15:30:02) does not count.
        'hastor_pacemaker_fence_last_success_timestamp_seconds{target="node2"} 1796657849',
        'hastor_pacemaker_drbd_promoted{resource="r0",clone="ms_drbd_r0",node="node1"} 1',
        'hastor_pacemaker_drbd_promoted{resource="r1",clone="ms_drbd_r1",node="node1"} 1',
        'hastor_pacemaker_drbd_promoted_instances{resource="r0",clone="ms_drbd_r0"} 1',
        'hastor_pacemaker_drbd_promoted_instances{resource="r1",clone="ms_drbd_r1"} 1',
      ],
    },
  ]);

  it('a failed fence later than the successful one does not move the timestamp', async () => {
    const crmMon = fixture('crm-mon-fence-history.xml').replace('completed="2026-12-07 15:30:02Z"', 'completed="2026-12-07 15:50:00Z"');
    expect(crmMon).toContain('15:50:00Z');
    const { metrics } = exporterWith({ [CRM_MON]: ok(crmMon), [CIBADMIN]: ok(fixture('cib-drbd-running.xml')) });
    expect(pacemakerLines(await metrics.render())).toContain('hastor_pacemaker_fence_last_success_timestamp_seconds{target="node2"} 1796657849');
  });

  it('fence constraint: crm-fence-peer.9.sh\'s constraint on ms_drbd_r0 keeps the Promoted role on node1', async () => {
    const lines = await scrape('crm-mon-running.xml', 'cib-fence-constraint.xml');
    expect(lines.filter((l) => l.startsWith('hastor_pacemaker_drbd_'))).toEqual([
      ...DRBD_RUNNING,
      'hastor_pacemaker_drbd_fence_constraint{resource="r0",clone="ms_drbd_r0",constraint="drbd-fence-by-handler-r0-ms_drbd_r0",allowed_node="node1"} 1',
    ]);
    // Without it: no fence-constraint series.
    expect((await scrape('crm-mon-running.xml', 'cib-drbd-running.xml')).filter((l) => l.includes('fence_constraint'))).toEqual([]);
  });

  it('a label value with a quote is escaped as the text format wants', async () => {
    const crmMon = fixture('crm-mon-fence-history.xml').replaceAll('target="node2"', 'target="no&quot;de\\2"');
    const { metrics } = exporterWith({ [CRM_MON]: ok(crmMon), [CIBADMIN]: ok(fixture('cib-drbd-running.xml')) });
    const lines = pacemakerLines(await metrics.render());
    expect(lines).toContain('hastor_pacemaker_fence_last_success_timestamp_seconds{target="no\\"de\\\\2"} 1796657849');
  });
});

describe('when the CIB cannot be read', () => {
  it('crm_mon\'s part stays; cib_up 0, the DRBD resource label empty, no fence constraints; the error reported once', async () => {
    const { metrics, errors, state } = exporterWith({
      [CRM_MON]: ok(fixture('crm-mon-running.xml')),
      [CIBADMIN]: { stdout: '', stderr: 'Call cib_query failed (-13): Permission denied', exitCode: 13 },
    });
    await metrics.render();
    const lines = pacemakerLines(await metrics.render());
    expect(lines.slice(0, 2)).toEqual(['hastor_pacemaker_up 1', 'hastor_pacemaker_cib_up 0']);
    expect(lines).toContain('hastor_pacemaker_drbd_promoted_instances{resource="",clone="ms_drbd_r0"} 1');
    expect(lines.filter((l) => l.includes('fence_constraint'))).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['cibadmin -Q: exited with 13']);
    expect(state.lastError).toBe('cibadmin -Q: exited with 13');
  });
});

describe('a node without Pacemaker, or where crm_mon fails', () => {
  it('not installed (exit 127 through env/sudo): hastor_pacemaker_up 0 and nothing else, no cibadmin, the scrape succeeds', async () => {
    const { metrics, executor, errors, state } = exporterWith({ [CRM_MON]: { stdout: '', stderr: "env: 'crm_mon': No such file or directory", exitCode: 127 } });
    const text = await metrics.render();
    expect(pacemakerLines(text)).toEqual(['hastor_pacemaker_up 0']);
    expect(sampleOf(parseExposition(text), 'hastor_pacemaker_read_duration_seconds')).toBeGreaterThanOrEqual(0);
    expect(executor.ran.map((r) => r.argv.join(' '))).toEqual([CRM_MON]);
    expect(state.unavailable).toBe(true);
    // Said once, not at every scrape.
    await metrics.render();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^node1: crm_mon not found: Pacemaker is not installed/);
    expect(exporterHealth(new DrbdState(), null, Date.now(), state)).toMatchObject({ pacemaker: { enabled: true, up: false, cib: null, unavailable: true } });
  });

  it('not running (exit 102, "Not connected"): up 0, unavailable', async () => {
    const { metrics, state } = exporterWith({ [CRM_MON]: { stdout: fixture('crm-mon-not-connected.xml'), stderr: '', exitCode: 102 } });
    expect(pacemakerLines(await metrics.render())).toEqual(['hastor_pacemaker_up 0']);
    expect(state.unavailable).toBe(true);
    expect(state.lastError).toMatch(/Pacemaker is not running on this node/);
  });

  it('another failure (exit 13): up 0, reported, and not taken for a missing Pacemaker', async () => {
    const { metrics, errors, state } = exporterWith({ [CRM_MON]: { stdout: '', stderr: 'crm_mon: permission denied', exitCode: 13 } });
    expect(pacemakerLines(await metrics.render())).toEqual(['hastor_pacemaker_up 0']);
    expect(state.unavailable).toBe(false);
    expect(errors.map((e) => e.message)).toEqual(['crm_mon -1 --output-as=xml: exited with 13']);
  });

  it('a crm_mon that never answers: the scrape ends at the timeout with up 0, and crm_mon was given that timeout', async () => {
    const { metrics, executor, errors } = exporterWith({ [CRM_MON]: () => new Promise(() => undefined) }, { timeoutMs: 150 });
    const started = performance.now();
    const text = await metrics.render();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2_000);
    expect(pacemakerLines(text)).toEqual(['hastor_pacemaker_up 0']);
    expect(sampleOf(parseExposition(text), 'hastor_pacemaker_read_duration_seconds')).toBeGreaterThanOrEqual(0.14);
    expect(executor.ran[0]!.options).toMatchObject({ timeoutMs: 150, root: false });
    expect(errors.map((e) => e.message)).toEqual(['node1: Pacemaker did not answer within 150 ms (crm_mon, cibadmin -Q)']);
    // The DRBD families are there as always.
    expect(text).toMatch(/^hastor_drbd_source_up\{source="none"\} 0$/m);
  });

  it('a slow crm_mon leaves cibadmin only the rest of the deadline', async () => {
    const { metrics, executor } = exporterWith({ [CRM_MON]: late(200, ok(fixture('crm-mon-running.xml'))), [CIBADMIN]: ok(fixture('cib-drbd-running.xml')) }, { timeoutMs: 1_000 });
    expect(pacemakerLines(await metrics.render()).slice(0, 2)).toEqual(['hastor_pacemaker_up 1', 'hastor_pacemaker_cib_up 1']);
    const cibTimeout = executor.ran.find((r) => r.argv.join(' ') === CIBADMIN)!.options!.timeoutMs!;
    expect(cibTimeout).toBeLessThanOrEqual(810);
    expect(cibTimeout).toBeGreaterThan(0);
  });

  it('what an earlier read said is not shown once crm_mon stops answering', async () => {
    let answer = ok(fixture('crm-mon-running.xml'));
    const { metrics, errors } = exporterWith({ [CRM_MON]: () => answer, [CIBADMIN]: ok(fixture('cib-drbd-running.xml')) });
    expect(pacemakerLines(await metrics.render())).toContain('hastor_pacemaker_drbd_promoted_instances{resource="r0",clone="ms_drbd_r0"} 1');
    answer = { stdout: '<not-xml', stderr: '', exitCode: 0 };
    expect(pacemakerLines(await metrics.render())).toEqual(['hastor_pacemaker_up 0']);
    expect(errors).toHaveLength(1);
    // Back: reported again if it breaks again.
    answer = ok(fixture('crm-mon-running.xml'));
    expect(pacemakerLines(await metrics.render())[0]).toBe('hastor_pacemaker_up 1');
  });
});

describe('one crm_mon per scrape', () => {
  it('each scrape runs crm_mon (and cibadmin) exactly once, however many families read it', async () => {
    const { metrics, executor, crmMonRuns } = exporterWith({ [CRM_MON]: ok(fixture('crm-mon-running.xml')), [CIBADMIN]: ok(fixture('cib-drbd-running.xml')) });
    await metrics.render();
    expect(crmMonRuns()).toBe(1);
    expect(executor.ran.map((r) => r.argv.join(' '))).toEqual([CRM_MON, CIBADMIN]);
    await metrics.render();
    await metrics.render();
    expect(crmMonRuns()).toBe(3);
    expect(executor.ran).toHaveLength(6);
  });

  it('scrapes that overlap share one read', async () => {
    const { metrics, crmMonRuns } = exporterWith({ [CRM_MON]: late(50, ok(fixture('crm-mon-running.xml'))), [CIBADMIN]: ok(fixture('cib-drbd-running.xml')) });
    const [a, b] = await Promise.all([metrics.render(), metrics.render()]);
    expect(crmMonRuns()).toBe(1);
    expect(pacemakerLines(a)).toEqual(pacemakerLines(b));
    expect(pacemakerLines(a)[0]).toBe('hastor_pacemaker_up 1');
  });

  it('without a collector (--no-pacemaker) no Pacemaker family is declared', async () => {
    const text = await createExporterRegistry(new DrbdState(), null).render();
    expect(text).not.toContain('hastor_pacemaker_');
    expect(exporterHealth(new DrbdState(), null)).toMatchObject({ pacemaker: { enabled: false } });
  });
});

describe('fenceTimeSeconds', () => {
  it("reads crm_mon 2.1's UTC form, and an older local-time form through Date.parse; null when unreadable", () => {
    expect(fenceTimeSeconds('2026-12-07 16:23:30Z')).toBe(Date.UTC(2026, 11, 7, 16, 23, 30) / 1000);
    expect(fenceTimeSeconds('Mon Dec  7 16:23:30 2026')).toBe(new Date(2026, 11, 7, 16, 23, 30).getTime() / 1000);
    expect(fenceTimeSeconds('soon')).toBeNull();
    expect(fenceTimeSeconds(null)).toBeNull();
  });
});
