import { describe, expect, it } from 'vitest';
import { ConfigError, SafetyError } from '../../../src/errors.js';
import { parseResourceDefinition } from '../../../src/drbd/config/index.js';
import { parseEvents2 } from '../../../src/drbd/events2.js';
import { classifySignatures } from '../../../src/drbd/lifecycle/signatures.js';
import type { ResourceStatus } from '../../../src/drbd/status-model.js';
import {
  RUNTIME_RULES,
  assertConnectedInSync,
  assertDualPrimaryConfig,
  assertInvalidateAllowed,
  assertNotInUse,
  assertNotPrimaryForDelete,
  assertUpperLayer,
  checkOverrides,
  decideCreateMd,
  decidePromotion,
} from '../../../src/stack/runtime-safety.js';
import { capture } from '../drbd/lifecycle/scripted-executor.js';
import { R0, R0_SAFE } from './two-nodes.js';

const state = (name: string): ResourceStatus => parseEvents2(capture(name).stdout, { drbd84: true }).resources[0] as ResourceStatus;
const rule = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    if (error instanceof SafetyError) return error.rule;
    throw error;
  }
  return undefined;
};

describe('runtime safety rules: each fires where it should and only there', () => {
  it('create-md-on-signature', () => {
    const sig = (types: string[]) => classifySignatures('/dev/x', types);
    expect(decideCreateMd('n', 'r0', sig([]), [])).toBe('create');
    expect(decideCreateMd('n', 'r0', sig(['drbd']), [])).toBe('skip');
    expect(decideCreateMd('n', 'r0', sig(['ext4', 'drbd']), [])).toBe('skip');
    expect(rule(() => decideCreateMd('n', 'r0', sig(['xfs']), []))).toBe('create-md-on-signature');
    expect(decideCreateMd('n', 'r0', sig(['xfs']), ['create-md-on-signature'])).toBe('force');
  });

  it('promote-without-uptodate and force-primary-with-uptodate-peer', () => {
    expect(decidePromotion('n', 'r0', state('events2-uptodate-secondary-node1'), { override: [] })).toBe(false);
    expect(rule(() => decidePromotion('n', 'r0', state('events2-inconsistent-node1'), { override: [] }))).toBe('promote-without-uptodate');
    expect(decidePromotion('n', 'r0', state('events2-inconsistent-node1'), { force: true, override: [] })).toBe(true);
    expect(decidePromotion('n', 'r0', state('events2-synctarget'), { override: ['promote-without-uptodate'] })).toBe(false);
    expect(rule(() => decidePromotion('n', 'r0', state('events2-synctarget'), { force: true, override: [] }))).toBe('force-primary-with-uptodate-peer');
    // Disconnected from the good copy: forcing is the operator's call, not refused.
    expect(decidePromotion('n', 'r0', state('events2-standalone-secondary'), { force: true, override: [] })).toBe(true);
  });

  it('primary-in-use and delete-primary', () => {
    const none = { minor: 0, devNumber: '147:0', holders: [], mounts: [], openBy: [] };
    expect(rule(() => assertNotInUse('n', 'r0', 'down', none))).toBeUndefined();
    expect(rule(() => assertNotInUse('n', 'r0', 'down', { ...none, openBy: [1] }))).toBe('primary-in-use');
    expect(rule(() => assertNotPrimaryForDelete('n', 'r0', state('events2-secondary')))).toBeUndefined();
    expect(rule(() => assertNotPrimaryForDelete('n', 'r0', null))).toBeUndefined();
    expect(rule(() => assertNotPrimaryForDelete('n', 'r0', state('events2-primary')))).toBe('delete-primary');
  });

  it('dual-primary rules: the definition with allow-two-primaries on, the upper layer, connected and in sync', () => {
    expect(rule(() => assertDualPrimaryConfig(parseResourceDefinition(R0), []))).toBe('dual-primary-requires-fencing');
    expect(rule(() => assertDualPrimaryConfig(parseResourceDefinition({ ...R0, protocol: 'A' }), []))).toBe('dual-primary-requires-protocol-c');
    expect(assertDualPrimaryConfig(parseResourceDefinition(R0_SAFE), []).filter((f) => f.severity === 'error')).toEqual([]);
    expect(rule(() => assertUpperLayer('r0', undefined, []))).toBe('dual-primary-requires-cluster-aware-upper-layer');
    expect(rule(() => assertUpperLayer('r0', { clusterAware: false, detail: 'x' }, []))).toBe('dual-primary-requires-cluster-aware-upper-layer');
    expect(rule(() => assertUpperLayer('r0', { clusterAware: true, detail: 'x' }, []))).toBeUndefined();
    expect(rule(() => assertConnectedInSync('r0', { a: state('events2-primary'), b: state('events2-secondary') }, []))).toBeUndefined();
    expect(rule(() => assertConnectedInSync('r0', { a: state('events2-primary'), b: state('events2-synctarget') }, []))).toBe('dual-primary-requires-connected-in-sync');
    expect(rule(() => assertConnectedInSync('r0', { a: state('events2-primary'), b: null }, ['dual-primary-requires-connected-in-sync']))).toBeUndefined();
  });

  it('invalidate-without-uptodate-peer', () => {
    expect(rule(() => assertInvalidateAllowed('n', 'r0', state('events2-secondary'), []))).toBeUndefined();
    expect(rule(() => assertInvalidateAllowed('n', 'r0', state('events2-standalone-secondary'), []))).toBe('invalidate-without-uptodate-peer');
    expect(rule(() => assertInvalidateAllowed('n', 'r0', state('events2-standalone-secondary'), ['invalidate-without-uptodate-peer']))).toBeUndefined();
  });

  it('every refusal says why and how to override', () => {
    const error = (() => {
      try {
        assertUpperLayer('r0', undefined, []);
      } catch (e) {
        return e as SafetyError;
      }
      throw new Error('no refusal');
    })();
    expect(error.message).toMatch(/\(rule dual-primary-requires-cluster-aware-upper-layer; to override on purpose: override: \['dual-primary-requires-cluster-aware-upper-layer'\]\)$/);
  });

  it('checks override lists', () => {
    expect(checkOverrides(['create-md-on-signature', 'dual-primary-requires-fencing'])).toHaveLength(2);
    expect(() => checkOverrides(['nope'])).toThrow(ConfigError);
    expect(() => checkOverrides(['delete-primary'])).toThrow(/cannot be overridden/);
    expect(RUNTIME_RULES).toContain('dual-primary-requires-connected-in-sync');
  });
});
