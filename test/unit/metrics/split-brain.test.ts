/**
 * Split-brain detection from the state changes watchDrbd reports. The
 * sequences are the lab's real 8.4.11 ones (dmesg and the watch test):
 * disconnect is Connected → Disconnecting → StandAlone; a handshake that
 * finds split-brain is WFConnection → WFReportParams → Disconnecting → StandAlone.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeDrbdStatusDump } from '../../../src/drbd/genl/status-tracker.js';
import type { ConnectionState } from '../../../src/drbd/states.js';
import type { DrbdStatus } from '../../../src/drbd/status-model.js';
import { diffStatus } from '../../../src/drbd/watch.js';
import { DrbdState } from '../../../src/metrics/drbd-state.js';
import { createExporterRegistry } from '../../../src/metrics/registry.js';
import { SplitBrainDetector } from '../../../src/metrics/split-brain.js';
import { parseExposition, sampleOf } from './exposition.js';

const capture = JSON.parse(readFileSync(new URL('../../fixtures/netlink-drbd/capture-8.4.11-uml.json', import.meta.url), 'utf8')) as {
  dumps: { label: string; kind: string; datagrams: string[] }[];
};
const base = decodeDrbdStatusDump(capture.dumps.find((d) => d.label === 'connected-primary-uptodate')!.datagrams.map((h) => Buffer.from(h, 'hex')), 1);

function withConnection(state: ConnectionState): DrbdStatus {
  const status = structuredClone(base);
  status.resources[0]!.connections[0]!.connectionState = state;
  return status;
}

/** Feeds the states one after another as watch deliveries; returns the state. */
function feed(states: ConnectionState[], drbd = new DrbdState()): DrbdState {
  let previous: DrbdStatus | null = drbd.status;
  for (const s of states) {
    const status = withConnection(s);
    drbd.applyEvent({ status, changes: diffStatus(previous, status), receivedAt: 0n, source: 'netlink' });
    previous = status;
  }
  return drbd;
}

async function splitBrainMetric(drbd: DrbdState): Promise<number> {
  return sampleOf(parseExposition(await createExporterRegistry(drbd, null).render()), 'hastor_connection_split_brain', { name: 'r0' });
}

describe('SplitBrainDetector', () => {
  it('flags StandAlone reached from the handshake (split-brain, unrelated data)', async () => {
    const drbd = feed(['Connected', 'NetworkFailure', 'Unconnected', 'WFConnection', 'WFReportParams', 'Disconnecting', 'StandAlone']);
    expect(drbd.splitBrain.active).toHaveLength(1);
    expect(drbd.splitBrain.active[0]).toMatchObject({ resource: 'r0', during: 'WFReportParams' });
    expect(drbd.splitBrain.total).toBe(1);
    expect(await splitBrainMetric(drbd)).toBe(1);
  });

  it('does not flag a user disconnect (from Connected or from WFConnection)', async () => {
    expect((await splitBrainMetric(feed(['Connected', 'Disconnecting', 'StandAlone'])))).toBe(0);
    expect((await splitBrainMetric(feed(['Connected', 'NetworkFailure', 'WFConnection', 'Disconnecting', 'StandAlone'])))).toBe(0);
  });

  it('flags when the stream skipped the Disconnecting step', () => {
    expect(feed(['WFConnection', 'WFReportParams', 'StandAlone']).splitBrain.active).toHaveLength(1);
  });

  it('clears once the connection leaves StandAlone, and keeps the count', async () => {
    const drbd = feed(['WFConnection', 'WFReportParams', 'Disconnecting', 'StandAlone']);
    feed(['Unconnected', 'WFConnection', 'WFReportParams', 'Connected'], drbd);
    expect(drbd.splitBrain.active).toEqual([]);
    expect(drbd.splitBrain.total).toBe(1);
    expect(await splitBrainMetric(drbd)).toBe(0);
  });

  it('forgets a resource that went away', () => {
    const detector = new SplitBrainDetector();
    detector.observe([
      { resource: 'r0', object: 'connection', peer: '0', field: 'connectionState', from: 'WFReportParams', to: 'Disconnecting' },
      { resource: 'r0', object: 'connection', peer: '0', field: 'connectionState', from: 'Disconnecting', to: 'StandAlone' },
    ]);
    expect(detector.get('r0', '0')).toBeDefined();
    detector.observe([{ resource: 'r0', object: 'resource', field: 'role', from: 'Primary', to: null }]);
    expect(detector.get('r0', '0')).toBeUndefined();
  });

  it('a status that starts StandAlone (exporter started after the fact) is not flagged', () => {
    expect(feed(['StandAlone']).splitBrain.active).toEqual([]);
  });
});
