import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { LvmConfigFile, formatConfigValue } from '../../../src/lvm/config-file.js';
import type { LvmConfigScalar, LvmConfigValue } from '../../../src/lvm/config-file.js';
import { fixture } from './helpers.js';

const files = [
  fixture('conf-debian-2.03.16/lvm.conf'),
  fixture('conf-debian-2.03.16/lvmlocal.conf'),
  fixture('conf-2.02/example.conf.in'),
  fixture('conf-syntax/lvm.conf'),
];

const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
// lvm reads "-0" as 0, so negative zero is left out of the generated numbers.
const scalar: fc.Arbitrary<LvmConfigScalar> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ min: -1000, max: 1000, noNaN: true }).map((d) => Math.round(d * 100) / 100 || 0),
  fc.string({ maxLength: 20 }).filter((s) => !s.includes('\0')),
);
const value: fc.Arbitrary<LvmConfigValue> = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }));

describe('lvm.conf parser properties', () => {
  it('any text: a file that serializes to the same text, or a ParseError', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(fc.constantFrom('a', '{', '}', '=', '[', ']', ',', '"x"', "'y'", '1', '-2', '.5', '#c\n', '\n', ' ', '\t', 'b/c', '"'), { maxLength: 40 }).map((t) => t.join('')),
    );
    fc.assert(
      fc.property(text, (t) => {
        try {
          expect(LvmConfigFile.parse(t).toString()).toBe(t);
        } catch (error) {
          if (!(error instanceof ParseError)) throw error;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('generated files with comments and any layout read back the values written', () => {
    const layout = fc.record({ indent: fc.constantFrom('\t', '  ', '    ', ''), gap: fc.constantFrom(' ', '', '\t'), comment: fc.boolean(), blank: fc.boolean() });
    const section = fc.record({ name: word, settings: fc.uniqueArray(fc.tuple(word, value), { selector: ([k]) => k, maxLength: 5 }) });
    fc.assert(
      fc.property(fc.uniqueArray(section, { selector: (s) => s.name, maxLength: 4 }), layout, (sections, l) => {
        const text = sections
          .map((s) =>
            [
              ...(l.comment ? [`# section ${s.name}`] : []),
              `${s.name}${l.gap}{`,
              ...s.settings.map(([k, v]) => `${l.indent}${k}${l.gap}=${l.gap}${formatConfigValue(v)}${l.comment ? ' # note' : ''}`),
              '}',
              ...(l.blank ? [''] : []),
            ].join('\n'),
          )
          .join('\n');
        const conf = LvmConfigFile.parse(text);
        expect(conf.toString()).toBe(text);
        const expected = new Map(sections.flatMap((s) => s.settings.map(([k, v]) => [`${s.name}/${k}`, v] as const)));
        expect(conf.entries()).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('set and unset on real files change that setting only, and only near it', () => {
    const path = fc.oneof(
      fc.constantFrom('global/locking_type', 'global/use_lvmlockd', 'global/use_lvmetad', 'devices/filter', 'devices/global_filter', 'local/host_id', 'log/prefix', 'a/dup', 'a/multi'),
      fc.tuple(word, word).map(([a, b]) => `${a}/${b}`),
    );
    fc.assert(
      fc.property(fc.constantFrom(...files), path, value, (text, p, v) => {
        const conf = LvmConfigFile.parse(text);
        const before = conf.entries();
        const edited = conf.set(p, v);
        expect(edited.get(p)).toEqual(v);
        const after = edited.entries();
        after.delete(p);
        const others = new Map(before);
        others.delete(p);
        expect(after).toEqual(others);
        // Everything outside one region of the text is untouched.
        const a = text.split('\n');
        const b = edited.toString().split('\n');
        let head = 0;
        while (head < a.length && a[head] === b[head]) head++;
        let tail = 0;
        while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
        const multiLine = Array.isArray(conf.get(p)) ? 4 : 1;
        expect(a.length - head - tail).toBeLessThanOrEqual(multiLine);
        expect(b.length - head - tail).toBeLessThanOrEqual(5);
        // Setting it again is a no-op; unsetting brings back every other value.
        expect(edited.set(p, v)).toBe(edited);
        const removed = edited.unset(p);
        expect(removed.get(p)).toBeUndefined();
        expect(removed.entries()).toEqual(others);
      }),
      { numRuns: 400 },
    );
  });
});
