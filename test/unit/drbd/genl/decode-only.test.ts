/**
 * Status reads decode only STATUS_STRUCTS: the model built from them must be
 * the one built from every struct, on the real 8.4.11 dumps.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeDrbdMessages } from '../../../../src/drbd/genl/decode.js';
import { STATUS_STRUCTS } from '../../../../src/drbd/genl/objects.js';
import { DrbdStatusTracker } from '../../../../src/drbd/genl/status-tracker.js';

interface Capture {
  dumps: { label: string; kind: string; datagrams: string[] }[];
}
const capture = JSON.parse(
  readFileSync(new URL('../../../fixtures/netlink-drbd/capture-8.4.11-uml.json', import.meta.url), 'utf8'),
) as Capture;
const dumps = capture.dumps.filter((d) => d.kind === 'GET_STATUS');

const statusOf = (messages: ReturnType<typeof decodeDrbdMessages>) => {
  const tracker = new DrbdStatusTracker(1, { now: () => 0 });
  tracker.applyMessages(messages);
  return tracker.snapshot();
};

describe('decodeDrbdMessages({ only: STATUS_STRUCTS })', () => {
  it('skips the config structs the model does not read, and keeps the rest', () => {
    const bytes = dumps[0]!.datagrams.map((h) => Buffer.from(h, 'hex'));
    const all = decodeDrbdMessages(bytes, 1);
    const some = decodeDrbdMessages(bytes, 1, { only: STATUS_STRUCTS });
    const allNames = new Set(all.flatMap((m) => Object.keys(m.structs)));
    const someNames = new Set(some.flatMap((m) => Object.keys(m.structs)));
    expect(allNames.has('disk_conf')).toBe(true);
    expect(someNames.has('disk_conf')).toBe(false);
    expect([...someNames].every((n) => STATUS_STRUCTS.has(n))).toBe(true);
    expect(someNames.has('state_info')).toBe(true);
    expect(someNames.has('net_conf')).toBe(true);
  });

  it('gives the same status model as a full decode on every captured dump', () => {
    expect(dumps.length).toBeGreaterThan(5);
    for (const dump of dumps) {
      const bytes = dump.datagrams.map((h) => Buffer.from(h, 'hex'));
      expect(statusOf(decodeDrbdMessages(bytes, 1, { only: STATUS_STRUCTS }))).toEqual(statusOf(decodeDrbdMessages(bytes, 1)));
    }
  });
});
