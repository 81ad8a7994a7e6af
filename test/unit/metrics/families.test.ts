/**
 * What the exporter renders from recorded DRBD states: lab captures of DRBD
 * 8.4.11 (netlink GET_STATUS dumps, /proc/drbd) and drbd-utils' DRBD 9 events2
 * samples, parsed into the status model and fed to the registry. Names,
 * labels and types are checked against drbd-reactor's prometheus plugin
 * (LINBIT/drbd-reactor src/plugin/prometheus.rs).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeDrbdStatusDump } from '../../../src/drbd/genl/status-tracker.js';
import { parseEvents2 } from '../../../src/drbd/events2.js';
import { parseProcDrbd } from '../../../src/drbd/proc-drbd.js';
import { deviceViews, type DrbdStatus } from '../../../src/drbd/status-model.js';
import { DrbdState } from '../../../src/metrics/drbd-state.js';
import { createExporterRegistry } from '../../../src/metrics/registry.js';
import { LvmState } from '../../../src/metrics/lvm-state.js';
import { parseExposition, sampleOf } from './exposition.js';

const fixture = (path: string): string => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');

interface Capture {
  dumps: { label: string; kind: string; datagrams: string[]; proc?: string }[];
}
const capture = JSON.parse(fixture('netlink-drbd/capture-8.4.11-uml.json')) as Capture;
/** What the feed knows besides the dump: the module version from /proc/drbd. */
const as84 = (s: DrbdState): void => {
  s.moduleVersion = '8.4.11';
};
const dump = (label: string): DrbdStatus => {
  const d = capture.dumps.find((x) => x.label === label && x.kind === 'GET_STATUS');
  if (!d) throw new Error(`no dump ${label}`);
  return decodeDrbdStatusDump(d.datagrams.map((h) => Buffer.from(h, 'hex')), 1);
};

async function render(status: DrbdStatus, setup: (state: DrbdState) => void = () => undefined, lvm: LvmState | null = null) {
  const state = new DrbdState();
  state.source = 'netlink';
  state.mode = 'netlink';
  setup(state);
  state.setStatus(status);
  const metrics = createExporterRegistry(state, lvm);
  const text = await metrics.render();
  return { text, families: parseExposition(text), state, metrics };
}

/** drbd-reactor's families: type and label names (prometheus.rs, enums mode). */
const REACTOR: Record<string, { type: string; labels: string[] }> = {
  drbd_resource_resources: { type: 'gauge', labels: [] },
  drbd_resource_role: { type: 'gauge', labels: ['name', 'drbd_resource_role'] },
  drbd_resource_suspended: { type: 'gauge', labels: ['name'] },
  drbd_connection_state: { type: 'gauge', labels: ['name', 'conn_name', 'peer_node_id', 'drbd_connection_state'] },
  drbd_peerdevice_outofsync_bytes: { type: 'gauge', labels: ['name', 'conn_name', 'peer_node_id', 'volume'] },
  drbd_device_state: { type: 'gauge', labels: ['name', 'volume', 'minor', 'drbd_device_state'] },
  drbd_device_client: { type: 'gauge', labels: ['name', 'volume', 'minor'] },
  drbd_device_unintentionaldiskless: { type: 'gauge', labels: ['name', 'volume', 'minor'] },
  drbd_device_size_bytes: { type: 'gauge', labels: ['name', 'volume', 'minor'] },
  drbd_device_read_bytes_total: { type: 'counter', labels: ['name', 'volume', 'minor'] },
  drbd_device_written_bytes_total: { type: 'counter', labels: ['name', 'volume', 'minor'] },
  drbd_device_alwrites_total: { type: 'counter', labels: ['name', 'volume', 'minor'] },
  drbd_device_bmwrites_total: { type: 'counter', labels: ['name', 'volume', 'minor'] },
  drbd_device_upperpending: { type: 'gauge', labels: ['name', 'volume', 'minor'] },
  drbd_version: { type: 'gauge', labels: ['kmod', 'utils'] },
};

describe('drbd-reactor families on DRBD 8.4.11 (netlink dump from the lab, during the initial sync)', () => {
  it('renders every family drbd-reactor has that the 8.4 model carries, with its type and exact label names', async () => {
    const { families } = await render(dump('syncsource-10'), (s) => {
      s.moduleVersion = '8.4.11';
      s.utilsVersion = '9.22.0';
    });
    for (const [name, want] of Object.entries(REACTOR)) {
      const family = families.get(name);
      expect(family, name).toBeDefined();
      expect(family!.type, name).toBe(want.type);
      expect(family!.samples.length, name).toBeGreaterThan(0);
      for (const sample of family!.samples) expect(Object.keys(sample.labels).sort(), name).toEqual([...want.labels].sort());
    }
    expect(sampleOf(families, 'drbd_version', { kmod: '8.4.11', utils: '9.22.0' })).toBe(1);
  });

  it('says what the lab saw: one resource r0, Primary, Connected, UpToDate, syncing to an Inconsistent peer', async () => {
    const status = dump('syncsource-10');
    const { families } = await render(status, as84);
    expect(sampleOf(families, 'drbd_resource_resources')).toBe(1);
    // Enums: one sample per state, exactly one of them 1.
    expect(families.get('drbd_resource_role')!.samples).toHaveLength(3);
    expect(sampleOf(families, 'drbd_resource_role', { name: 'r0', drbd_resource_role: 'Primary' })).toBe(1);
    expect(sampleOf(families, 'drbd_resource_role', { name: 'r0', drbd_resource_role: 'Secondary' })).toBe(0);
    expect(families.get('drbd_connection_state')!.samples).toHaveLength(10);
    // 8.4 has no connection names or peer node ids: empty labels, not invented ones.
    expect(sampleOf(families, 'drbd_connection_state', { name: 'r0', conn_name: '', peer_node_id: '', drbd_connection_state: 'Connected' })).toBe(1);
    expect(families.get('drbd_device_state')!.samples.filter((s) => s.value === 1).map((s) => s.labels['drbd_device_state'])).toEqual(['UpToDate']);
    expect(sampleOf(families, 'drbd_device_state', { name: 'r0', volume: '0', minor: '0', drbd_device_state: 'UpToDate' })).toBe(1);
    const view = deviceViews(status)[0]!;
    expect(sampleOf(families, 'drbd_device_size_bytes', { minor: '0' })).toBe(Number(view.sizeBytes));
    expect(sampleOf(families, 'drbd_peerdevice_outofsync_bytes', { name: 'r0', volume: '0' })).toBe(Number(view.outOfSyncBytes));
    expect(Number(view.outOfSyncBytes)).toBeGreaterThan(0);
    expect(sampleOf(families, 'hastor_peerdevice_replication_state', { hastor_peerdevice_replication_state: 'SyncSource' })).toBe(1);
    expect(sampleOf(families, 'hastor_peerdevice_peer_disk_state', { hastor_peerdevice_peer_disk_state: 'Inconsistent' })).toBe(1);
    // 8.4 has no diskless clients: known false, so unintentional diskless is computable.
    expect(sampleOf(families, 'drbd_device_client', { minor: '0' })).toBe(0);
    expect(sampleOf(families, 'drbd_device_unintentionaldiskless', { minor: '0' })).toBe(0);
  });

  it('sync percent and remaining bytes are the model\'s, and rise across the captured sync', async () => {
    const percents: number[] = [];
    for (const label of ['syncsource-3', 'syncsource-10', 'syncsource-20']) {
      const status = dump(label);
      const { families } = await render(status);
      const percent = sampleOf(families, 'hastor_peerdevice_sync_percent', { name: 'r0', volume: '0' });
      expect(percent).toBe(deviceViews(status)[0]!.sync!.percent);
      expect(percent).toBeGreaterThan(0);
      expect(percent).toBeLessThan(100);
      expect(sampleOf(families, 'hastor_peerdevice_sync_remaining_bytes', { name: 'r0' })).toBe(Number(deviceViews(status)[0]!.sync!.remainingBytes));
      expect(sampleOf(families, 'hastor_peerdevice_sync_stalled', { name: 'r0' })).toBe(0);
      percents.push(percent);
    }
    expect(percents[1]).toBeGreaterThan(percents[0]!);
    expect(percents[2]).toBeGreaterThan(percents[1]!);
  });

  it('leaves out what DRBD 8.4 does not report instead of inventing it', async () => {
    const { families } = await render(dump('connected-primary-uptodate'));
    for (const absent of [
      'drbd_resource_maypromote',
      'drbd_resource_promotionscore',
      'drbd_resource_forceiofailures',
      'drbd_device_quorum',
      'drbd_device_open',
      'drbd_device_alsuspended',
      'drbd_connection_apinflight_bytes',
      'drbd_connection_rsinflight_bytes',
      'drbd_connection_congested',
    ]) {
      expect(families.get(absent)?.samples ?? [], absent).toEqual([]);
    }
    // No sync running: no progress samples at all (absence, not 0 or 100).
    expect(families.get('hastor_peerdevice_sync_percent')?.samples ?? []).toEqual([]);
  });

  it('a StandAlone connection after the cut shows StandAlone and no split-brain without a handshake refusal', async () => {
    const { families } = await render(dump('standalone-primary'));
    expect(sampleOf(families, 'drbd_connection_state', { drbd_connection_state: 'StandAlone' })).toBe(1);
    expect(sampleOf(families, 'hastor_connection_split_brain', { name: 'r0' })).toBe(0);
  });
});

describe('other sources and generations', () => {
  it('/proc/drbd on 8.4 (no resource names): resources are named after their minor, WFConnection counts as Connecting', async () => {
    const { families } = await render(parseProcDrbd(fixture('lab-8.4.11/proc-drbd-cut-node1.txt')));
    expect(sampleOf(families, 'drbd_connection_state', { name: 'drbd0', drbd_connection_state: 'Connecting' })).toBe(1);
    expect(sampleOf(families, 'drbd_resource_role', { name: 'drbd0', drbd_resource_role: 'Primary' })).toBe(1);
    // /proc/drbd has lo: (8.4's netlink state carries no local pending count).
    expect(families.get('drbd_device_lowerpending')!.samples).toHaveLength(1);
  });

  it('DRBD 9 events2: conn_name and peer_node_id filled, ap/rs in flight absent from the model', async () => {
    const status = parseEvents2(fixture('events2/drbd9-utils-sync-statistics.txt'));
    const { families } = await render(status);
    const percent = sampleOf(families, 'hastor_peerdevice_sync_percent', { name: 'some-resource', conn_name: 'some-peer', peer_node_id: '1', volume: '0' });
    expect(percent).toBe(deviceViews(status)[0]!.sync!.percent);
    expect(sampleOf(families, 'drbd_connection_state', { name: 'some-resource', conn_name: 'some-peer', peer_node_id: '1', drbd_connection_state: 'Connected' })).toBe(1);
    expect(sampleOf(families, 'drbd_peerdevice_sent_bytes', { name: 'some-resource', conn_name: 'some-peer' })).toBe(Number(status.resources[0]!.connections[0]!.peerDevices[0]!.counters.networkSentBytes));
    expect(families.get('drbd_peerdevice_sent_bytes')!.type).toBe('untyped');
  });

  it('DRBD 9 fields the model carries are rendered under drbd-reactor\'s names', async () => {
    const status = parseEvents2(fixture('events2/drbd9-utils-sync-statistics.txt'));
    const resource = status.resources[0]! as (typeof status.resources)[0] & { mayPromote?: boolean; promotionScore?: number };
    resource.mayPromote = true;
    resource.promotionScore = 10101;
    const { families } = await render(status);
    expect(sampleOf(families, 'drbd_resource_maypromote', { name: 'some-resource' })).toBe(1);
    expect(sampleOf(families, 'drbd_resource_promotionscore', { name: 'some-resource' })).toBe(10101);
  });

  it('dual-primary: both roles Primary over a Connected link opens the window metric', async () => {
    const { families } = await render(parseEvents2(fixture('events2/drbd84-dual-primary.txt'), { drbd84: true }));
    expect(sampleOf(families, 'hastor_resource_dual_primary', { name: 'r0' })).toBe(1);
    expect(sampleOf(families, 'hastor_connection_peer_role', { hastor_connection_peer_role: 'Primary' })).toBe(1);
    const single = await render(dump('connected-primary-uptodate'));
    expect(sampleOf(single.families, 'hastor_resource_dual_primary', { name: 'r0' })).toBe(0);
  });

  it('no status yet: no DRBD samples, the source reported down, and the output is still valid text', async () => {
    const state = new DrbdState();
    const metrics = createExporterRegistry(state, null);
    const families = parseExposition(await metrics.render());
    expect(families.get('drbd_resource_resources')?.samples ?? []).toEqual([]);
    expect(sampleOf(families, 'hastor_drbd_source_up', {})).toBe(0);
  });

  it('scrape duration: absent on the first scrape, then the previous scrape\'s time', async () => {
    const { metrics } = await render(dump('syncsource-10'));
    const second = parseExposition(await metrics.render());
    const seconds = sampleOf(second, 'hastor_scrape_duration_seconds');
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(5);
    expect(metrics.scrape.scrapes).toBe(2);
  });

  it('escapes label values it does not control (resource names are validated by DRBD, but not by us here)', async () => {
    const status = parseEvents2(fixture('events2/drbd9-utils-sync-statistics.txt'));
    status.resources[0]!.name = 'we"ird\\name';
    const { text, families } = await render(status);
    expect(text).toContain('name="we\\"ird\\\\name"');
    expect(families.get('drbd_resource_role')!.samples).toHaveLength(3);
  });

  it('the cached rendering is the text prom-client renders, and a new status or LVM sample replaces it', async () => {
    const { state, metrics } = await render(dump('syncsource-3'), as84);
    const lvm = new LvmState();
    const cached = createExporterRegistry(state, lvm);
    const uncached = createExporterRegistry(state, lvm, { cache: false });
    const strip = (t: string) => t.replace(/^hastor_scrape_duration_seconds .*\n/m, '');
    const first = await cached.render();
    expect(strip(await cached.render())).toBe(strip(first));
    expect(strip(first)).toBe(strip(await uncached.registry.metrics()));
    state.setStatus(dump('syncsource-20'));
    lvm.set({ vgs: [{ name: 'vg_lab', tier: '1', sizeBytes: 100n, freeBytes: 40n, lockType: null, lockspaceStarted: null }], lvs: [] }, 5);
    const after = parseExposition(await cached.render());
    expect(sampleOf(after, 'hastor_peerdevice_sync_percent', { name: 'r0' })).toBe(deviceViews(dump('syncsource-20'))[0]!.sync!.percent);
    expect(sampleOf(after, 'hastor_lvm_vg_free_bytes', { vg: 'vg_lab', tier: '1' })).toBe(40);
    expect(strip(await cached.render())).toBe(strip(await uncached.render()));
    expect(metrics.scrape.scrapes).toBe(1);
  });
});
