import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '../../../src/errors.js';
import { parseListenAddress } from '../../../src/metrics/server.js';
import { hostileText, outcome } from '../property-helpers.js';

describe('parseListenAddress', () => {
  it('ConfigError or a port from 0 to 65535 and a host without brackets, whatever the input', () => {
    const seen = { ok: 0, rejected: 0 };
    const near = fc.tuple(fc.constantFrom('', '[', '[::1]', '127.0.0.1', 'host', '::'), fc.constantFrom(':', '::', ']:', ''), fc.oneof(fc.nat(), fc.constantFrom('65535', '65536', '099999', '-1', '1e3', ' 80'))).map(([h, sep, p]) => `${h}${sep}${p}`);
    fc.assert(
      fc.property(fc.oneof(hostileText(80), near), (text) => {
        const result = outcome(parseListenAddress, text, ConfigError);
        seen[result]++;
        if (result === 'ok') {
          const { host, port } = parseListenAddress(text);
          expect(Number.isInteger(port) && port >= 0 && port <= 65535).toBe(true);
          expect(host).not.toBe('');
          expect(host).not.toMatch(/[[\]]/);
        }
      }),
      { numRuns: 600 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('reads back host:port and [v6]:port as written', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.domain()), fc.nat({ max: 65535 }), (host, port) => {
        expect(parseListenAddress(`${host}:${port}`)).toEqual({ host, port });
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.nat({ max: 65535 }), (host, port) => {
        expect(parseListenAddress(`[${host}]:${port}`)).toEqual({ host, port });
      }),
    );
  });
});
