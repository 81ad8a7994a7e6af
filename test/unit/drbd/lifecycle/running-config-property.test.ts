import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../../../src/errors.js';
import { parseDrbdsetupShow } from '../../../../src/drbd/lifecycle/running-config.js';
import { hostileText, mutatedFixture, outcome } from '../../property-helpers.js';
import { capture, fixtureReply } from './scripted-executor.js';

const fixtures = [
  capture('show-default').stdout,
  capture('show-two-primaries-node1').stdout,
  capture('show-safe').stdout,
  fixtureReply('lab-8.4.11/drbdsetup-show.txt').stdout,
  ...['drbd9-set-option-connect.txt', 'drbd9-tiebreaker-swap.txt'].map((f) => readFileSync(new URL(`../../../fixtures/drbdsetup-show/${f}`, import.meta.url), 'utf8')),
];

/** Pieces of drbd.conf syntax, so random texts reach sections, strings and nesting. */
const FRAGMENTS = ['resource', ' r0', ' "r0"', ' {', '}', ';', '\n', ' net', ' connection', ' allow-two-primaries', ' yes', ' "a \\" b"', ' #c\n', ' skip', ' _peer_node_id 1', '"', '\\', ' __proto__', ' constructor'];

const parseR0 = (text: string) => parseDrbdsetupShow(text, 'r0');

describe('parseDrbdsetupShow', () => {
  it('ParseError or net options as strings, whatever the input', () => {
    const seen = { ok: 0, rejected: 0 };
    const texts = fc.oneof(hostileText(), mutatedFixture(fixtures), fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((p) => p.join('')));
    fc.assert(
      fc.property(texts, (text) => {
        const result = outcome(parseR0, text, ParseError);
        seen[result]++;
        if (result === 'ok') {
          const config = parseR0(text);
          expect(config.resource).toBe('r0');
          expect(config.nets.length).toBeGreaterThan(0);
          for (const net of config.nets) for (const value of Object.values(net)) expect(typeof value).toBe('string');
        }
      }),
      { numRuns: 1000 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('reads back the net options it was shown, quoted or not, whatever the keyword', () => {
    const keyword = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,20}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(keyword, value, fc.boolean()), { selector: ([k]) => k, maxLength: 8 }), (options) => {
        const lines = options.map(([k, v, quoted]) => `        ${k} ${quoted ? `"${v}"` : v};`);
        const config = parseR0(`resource r0 {\n    net {\n${lines.join('\n')}\n    }\n}\n`);
        expect(Object.entries(config.nets[0]!)).toEqual(options.map(([k, v]) => [k, v]));
      }),
    );
  });

  it('keeps an option named __proto__ as data (regression: a plain object took it for its prototype and dropped it)', () => {
    const config = parseR0('resource r0 {\n    net {\n        __proto__ "x";\n        allow-two-primaries yes;\n    }\n}\n');
    expect(Object.entries(config.nets[0]!)).toEqual([
      ['__proto__', 'x'],
      ['allow-two-primaries', 'yes'],
    ]);
  });
});
