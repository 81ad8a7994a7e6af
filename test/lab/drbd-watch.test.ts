/**
 * Issue 4: watchDrbd() reports the state changes of a disconnect/reconnect
 * within 100 ms of the kernel event, on a real DRBD 8.4.11 pair. The guest
 * script (guest/watch-latency.ts) maps the kernel log clock onto
 * process.hrtime with /dev/kmsg markers and pairs every `conn( A -> B )` line
 * DRBD logged with the watch delivery that showed B.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connected, createLv, createVg, defineResource, loadModules, resource, waitForProc } from './drbd-scenario.js';
import { startLab, type Lab } from './harness/lab.js';

interface Row {
  kernelLine: string;
  from: string;
  to: string;
  deliveryIndex: number | null;
  latencyMs: number | null;
  events2LatencyMs: number | null;
  changes: string[];
}

interface WatchLatencyResult {
  error?: { message: string };
  calibration: { markers: number; errorMs: number; afterErrorMs: number; driftMs: number; stampStepUsec: number; markerWriteMs: number[] };
  transitions: Row[];
  deliveries: unknown[];
  watchErrors: unknown[];
}

let lab: Lab;

beforeAll(async () => {
  lab = await startLab({ nodes: 2, name: `watch-${process.pid}` });
  const [node1, node2] = lab.nodes;
  if (!node1 || !node2) throw new Error('lab: fewer than two nodes');
  await loadModules(lab.nodes);
  const r0 = resource('r0', 0, 16, '100M');
  await Promise.all(lab.nodes.map(async (n) => {
    await createVg(n);
    await createLv(n, r0);
  }));
  await defineResource(lab.nodes, r0);
  await Promise.all(lab.nodes.map((n) => waitForProc(n, 0, connected, 'Connected')));
  // Both sides start empty: skip the initial sync, so the reconnect is a plain handshake.
  await node1.execOk(['drbdadm', '--', '--clear-bitmap', 'new-current-uuid', 'r0']);
  await waitForProc(node1, 0, (w) => w.cs === 'Connected' && w.ds === 'UpToDate/UpToDate', 'UpToDate/UpToDate');
});

afterAll(async () => {
  await lab?.stop();
});

describe('watchDrbd on a real DRBD 8.4 pair', () => {
  it('delivers every connection state change of a disconnect/reconnect, none before its kernel event (latency printed; the 100 ms goal is measured, not asserted)', async () => {
    const node1 = lab.nodes[0]!;
    const result = await node1.guestScript<WatchLatencyResult>('watch-latency', ['--resource', 'r0'], { timeoutMs: 120_000 });
    expect(result.error).toBeUndefined();
    const { calibration, transitions } = result;
    console.log(
      `kernel log clock → hrtime (${calibration.markers} markers): ±${calibration.errorMs.toFixed(3)} ms (after the test: ±${calibration.afterErrorMs.toFixed(3)} ms), ` +
        `offset moved ${calibration.driftMs.toFixed(3)} ms over the test, kernel stamp step ${calibration.stampStepUsec} µs`,
    );
    console.log('   watch  events2  transition');
    for (const row of transitions) {
      console.log(
        `${(row.latencyMs?.toFixed(1) ?? 'MISSED').padStart(8)}${(row.events2LatencyMs?.toFixed(1) ?? '-').padStart(9)}  ${row.from} -> ${row.to}  [${row.changes.join('; ')}]  « ${row.kernelLine.trim()} »`,
      );
    }
    console.log(JSON.stringify(result.deliveries));
    // The anchor must be good to well under the budget, or the figures say nothing.
    expect(calibration.errorMs).toBeLessThan(10);
    expect(Math.abs(calibration.driftMs)).toBeLessThan(calibration.errorMs + calibration.afterErrorMs + 1);
    // disconnect: Connected → Disconnecting → StandAlone; connect: StandAlone → Unconnected → WFConnection → WFReportParams → Connected.
    const words = transitions.map((t) => `${t.from}->${t.to}`);
    expect(words).toEqual(expect.arrayContaining(['Connected->Disconnecting', 'Disconnecting->StandAlone', 'StandAlone->Unconnected', 'WFReportParams->Connected']));
    for (const row of transitions) {
      expect(row.deliveryIndex, `no watch delivery for ${row.kernelLine}`).not.toBeNull();
      // No timed assertion: under a loaded CI host a UML guest can stall for longer than any budget.
      // A delivery cannot precede its kernel event by more than the calibration error.
      expect(row.latencyMs!).toBeGreaterThan(-(calibration.errorMs + Math.abs(calibration.driftMs) + 1));
    }
    expect(result.watchErrors).toEqual([]);
  });
});
