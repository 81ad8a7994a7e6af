import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { parseLvmlockctlInfo } from '../../../src/lvm/lvmlockctl.js';
import { hostileText, mutatedFixture, outcome } from '../property-helpers.js';

const fixtures = ['lvmlockctl-info-node1.txt', 'lvmlockctl-info-node2.txt'].map((f) => readFileSync(new URL(`../../fixtures/lab-lvm/${f}`, import.meta.url), 'utf8'));

describe('parseLvmlockctlInfo', () => {
  it('ParseError or VGs with lock modes lvmlockd knows, whatever the input', () => {
    const seen = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.oneof(hostileText(), mutatedFixture(fixtures)), (text) => {
        const result = outcome(parseLvmlockctlInfo, text, ParseError);
        seen[result]++;
        if (result === 'ok') {
          for (const vg of parseLvmlockctlInfo(text)) {
            expect(vg.vg).toMatch(/^\S+$/);
            for (const mode of vg.lvLocks.values()) expect(['ex', 'sh', 'un']).toContain(mode);
          }
        }
      }),
      { numRuns: 600 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('reads back generated VG sections', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_.+-]{1,16}$/);
    const vg = fc.record({ name: token, type: fc.constantFrom('sanlock', 'dlm'), uuid: token, started: fc.boolean(), locks: fc.uniqueArray(fc.tuple(token, fc.constantFrom('ex', 'sh', 'un')), { selector: ([u]) => u, maxLength: 4 }) });
    fc.assert(
      fc.property(fc.array(vg, { maxLength: 4 }), (vgs) => {
        const text = vgs
          .map((v) => [`VG ${v.name} lock_type=${v.type} ${v.uuid}`, ...(v.started ? [`LS ${v.type} lvm_${v.name}`] : []), 'LK VG un ver 5', ...v.locks.map(([u, m]) => `LK LV ${m} ${u}`)].join('\n'))
          .join('\n');
        const parsed = parseLvmlockctlInfo(text);
        expect(parsed.map((p) => [p.vg, p.lockType, p.uuid, p.lockspaceStarted, [...p.lvLocks]])).toEqual(vgs.map((v) => [v.name, v.type, v.uuid, v.started, v.locks]));
      }),
    );
  });
});
