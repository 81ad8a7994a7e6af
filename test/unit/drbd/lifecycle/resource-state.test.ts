import { describe, expect, it } from 'vitest';
import { parseEvents2 } from '../../../../src/drbd/events2.js';
import {
  describeState,
  hasUpToDateData,
  isAttached,
  isConnected,
  isFreshlyCreated,
  isInSync,
  isPrimary,
  isResyncing,
  isStandAlone,
  isUp,
  isVerifying,
  outOfSyncBytes,
  peerHasUpToDateData,
  peerIsPrimary,
} from '../../../../src/drbd/lifecycle/resource-state.js';
import type { ResourceStatus } from '../../../../src/drbd/status-model.js';
import { capture } from './scripted-executor.js';

const state = (name: string): ResourceStatus | null => parseEvents2(capture(name).stdout, { drbd84: true }).resources.find((r) => r.name === 'r0') ?? null;

describe('questions about one node’s view of r0 (real 8.4 events2)', () => {
  it('not up', () => {
    const s = state('events2-absent');
    expect(s).toBeNull();
    expect([isUp(s), isConnected(s), isStandAlone(s), isPrimary(s), hasUpToDateData(s), isInSync(s)]).toEqual([false, false, false, false, false, false]);
    expect(outOfSyncBytes(s)).toBeNull();
    expect(describeState(s)).toBe('not up');
    expect(describeState(undefined)).toBe('not up');
  });

  it('fresh meta data, waiting for the peer, then connected', () => {
    const waiting = state('events2-up-waiting');
    expect(isFreshlyCreated(waiting)).toBe(true);
    expect(isConnected(waiting)).toBe(false);
    expect(isStandAlone(waiting)).toBe(false);
    const connected = state('events2-inconsistent-node1');
    expect([isConnected(connected), isFreshlyCreated(connected), hasUpToDateData(connected), peerHasUpToDateData(connected), isInSync(connected)]).toEqual([true, true, false, false, false]);
    expect(outOfSyncBytes(connected)).toBe(65496n * 1024n);
  });

  it('initial sync: the source has the data, the target sees an UpToDate peer', () => {
    const source = state('events2-syncsource-primary');
    expect([isPrimary(source), hasUpToDateData(source), isResyncing(source), isInSync(source)]).toEqual([true, true, true, false]);
    const target = state('events2-synctarget');
    expect([hasUpToDateData(target), peerHasUpToDateData(target), peerIsPrimary(target), isResyncing(target)]).toEqual([false, true, true, true]);
    expect(describeState(target)).toBe('Secondary, Inconsistent, Connected (SyncTarget) to Primary/UpToDate');
  });

  it('in sync, single and dual Primary', () => {
    expect(isInSync(state('events2-uptodate-secondary-node1'))).toBe(true);
    expect(isInSync(state('events2-primary'))).toBe(true);
    expect(isPrimary(state('events2-primary'))).toBe(true);
    const dual = state('events2-dual-primary-node2');
    expect([isPrimary(dual), peerIsPrimary(dual), isInSync(dual)]).toEqual([true, true, true]);
    expect(describeState(dual)).toBe('Primary, UpToDate, Connected to Primary/UpToDate');
  });

  it('online verify running, and what it left behind', () => {
    expect(isVerifying(state('events2-verifying'))).toBe(true);
    expect(isResyncing(state('events2-verifying'))).toBe(false);
    expect(isVerifying(state('events2-verified-oos-node1'))).toBe(false);
    expect(outOfSyncBytes(state('events2-verified-oos-node1'))).toBe(65536n);
    expect(outOfSyncBytes(state('events2-verified-clean'))).toBe(0n);
  });

  it('StandAlone after disconnect; the Secondary Outdated', () => {
    const primary = state('events2-standalone-primary');
    expect([isStandAlone(primary), isConnected(primary), hasUpToDateData(primary), peerHasUpToDateData(primary)]).toEqual([true, false, true, false]);
    const secondary = state('events2-standalone-secondary');
    expect([isStandAlone(secondary), hasUpToDateData(secondary), isAttached(secondary)]).toEqual([true, false, true]);
    expect(describeState(secondary)).toBe('Secondary, Outdated, StandAlone to Unknown/DUnknown');
  });

  it('right after invalidate: Outdated, waiting for the sync UUID', () => {
    const s = state('events2-invalidated');
    expect([isResyncing(s), hasUpToDateData(s), peerHasUpToDateData(s)]).toEqual([true, false, true]);
  });
});
