/**
 * Host side: types of what the guest scripts print, and the projection used
 * to compare sources (what every source must agree on).
 */
import { canonicalConnectionState, type ConnectionState } from '../../src/drbd/states.js';
import type { StatusReport } from '../../src/drbd/status-report.js';
import type { LabNode } from './harness/lab-node.js';

export type SourceName = 'proc' | 'events2' | 'netlink' | 'auto';

export type SourceResult =
  | { ok: true; ms: number; report: StatusReport; raw: string | null; model: unknown }
  | { ok: false; ms: number; error: { name: string; code: string | null; message: string } };

export type StatusResults = Partial<Record<SourceName, SourceResult>>;

export interface SyncSample {
  t: number;
  connectionState: string | null;
  replicationState: string | null;
  diskState: string;
  peerDiskState: string | null;
  percent: number | null;
  remainingBytes: number | null;
  totalBytes: number | null;
  speedBytesPerSecond: number | null;
  etaSeconds: number | null;
}

export interface WatchResult {
  source: string;
  minor: number;
  done: boolean;
  sawSync: boolean;
  elapsedMs: number;
  samples: SyncSample[];
  lastError: { name: string; message: string } | null;
}

export async function readStatus(node: LabNode, sources: readonly SourceName[] = ['proc', 'events2', 'netlink']): Promise<StatusResults> {
  return node.guestScript<StatusResults>('status', sources.flatMap((s) => ['--source', s]));
}

/** The report of one source, failing with the guest's error message if it could not read. */
export function reportOf(results: StatusResults, source: SourceName): StatusReport {
  const result = results[source];
  if (!result) throw new Error(`no ${source} reading`);
  if (!result.ok) throw new Error(`${source} failed in the guest: ${result.error.name} ${result.error.code ?? ''}: ${result.error.message}`);
  return result.report;
}

export interface ComparableDevice {
  minor: number;
  role: string | null;
  peerRole: string | null;
  diskState: string;
  peerDiskState: string | null;
  /** 8.x words mapped onto DRBD 9's (WFConnection → Connecting). */
  connectionState: string | null;
  replicationState: string | null;
}

/** What every source must agree on; sizes are compared separately (/proc/drbd has none on 8.4). */
export function comparable(report: StatusReport): ComparableDevice[] {
  return report.devices.map((d) => ({
    minor: d.minor,
    role: d.role,
    peerRole: d.peerRole,
    diskState: d.diskState,
    peerDiskState: d.peerDiskState,
    connectionState: d.connectionState === null ? null : canonicalConnectionState(d.connectionState as ConnectionState),
    replicationState: d.replicationState,
  }));
}

/** Percent values seen while the device was syncing, in sample order. */
export function syncPercents(result: WatchResult): number[] {
  return result.samples.filter((s) => s.percent !== null).map((s) => s.percent as number);
}
