import { describe, expect, it } from 'vitest';
import { StateTimeoutError, pollUntil } from '../../../../src/drbd/lifecycle/wait.js';

function clock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms) };
}

describe('pollUntil', () => {
  it('returns the first value that satisfies the condition, reading at once', async () => {
    const values = ['Connecting', 'Connecting', 'Connected'];
    const reads: string[] = [];
    const c = clock();
    const value = await pollUntil(
      async () => {
        const v = values.shift() ?? 'Connected';
        reads.push(v);
        return v;
      },
      (v) => v === 'Connected',
      { what: 'r0 connected', timeoutMs: 1000, intervalMs: 100, describe: (v) => v, ...c },
    );
    expect(value).toBe('Connected');
    expect(reads).toEqual(['Connecting', 'Connecting', 'Connected']);
    expect(c.now()).toBe(200);
  });

  it('gives up after the timeout with the last state in the error', async () => {
    const c = clock();
    const error = await pollUntil(async () => 'StandAlone', () => false, { what: 'r0 connected', timeoutMs: 500, intervalMs: 100, describe: (v) => `node1: ${v}`, ...c }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateTimeoutError);
    expect(error).toMatchObject({ code: 'E_STATE_TIMEOUT', waitedFor: 'r0 connected', timeoutMs: 500, lastState: 'node1: StandAlone' });
    expect((error as Error).message).toMatch(/^r0 connected did not happen within 0\.5 s; last state: node1: StandAlone/);
    expect(c.now()).toBe(500);
  });
});
