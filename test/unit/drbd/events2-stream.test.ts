import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { Events2State, parseEvents2, readEvents2, type Events2Update } from '../../../src/drbd/events2.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/events2/${name}`, import.meta.url), 'utf8');

async function collect(input: AsyncIterable<string | Uint8Array> | NodeJS.ReadableStream, options = {}): Promise<Events2Update[]> {
  const updates: Events2Update[] = [];
  for await (const update of readEvents2(input, options)) updates.push(update);
  return updates;
}

async function* chunks<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

describe('readEvents2', () => {
  it('splits lines fed one byte at a time and ends with the same state as parseEvents2', async () => {
    const text = fixture('drbd84-resize-stream-timestamps.txt');
    const bytes = [...Buffer.from(text)].map((b) => Uint8Array.of(b));
    const updates = await collect(chunks(bytes));
    expect(updates).toHaveLength(15);
    expect(updates.map((u) => u.event.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(updates.at(-1)?.status).toEqual(parseEvents2(text));
  });

  it('yields the status after each event, with the initial-dump flag', async () => {
    const updates = await collect(chunks([fixture('drbd84-resize-stream-timestamps.txt')]));
    expect(updates.map((u) => u.initialDumpComplete)).toEqual([false, false, false, false, ...Array<boolean>(11).fill(true)]);
    const atSyncTarget = updates[10];
    expect(atSyncTarget?.event).toMatchObject({ kind: 'change', object: 'peer-device', values: { replicationState: 'SyncTarget' } });
    expect(atSyncTarget?.event.timestamp?.toISOString()).toBe('2026-11-22T04:48:06.059Z');
    expect(atSyncTarget?.status.resources[0]?.connections[0]?.peerDevices[0]?.sync).toMatchObject({ percent: 0, totalBytes: 131_068n * 1024n });
    // Earlier snapshots are not changed by later events.
    expect(updates[3]?.status.resources[0]?.connections[0]?.peerDevices[0]?.replicationState).toBe('Established');
  });

  it('decodes a UTF-8 character split across chunks', async () => {
    const line = Buffer.from('exists resource name:r\u00e9sum\u00e9 role:Primary suspended:no\n');
    const split = line.indexOf(0xc3) + 1; // inside the two-byte é
    const updates = await collect(chunks([line.subarray(0, split), line.subarray(split)]));
    expect(updates[0]?.status.resources[0]?.name).toBe('r\u00e9sum\u00e9');
  });

  it('reads a Node stream, CRLF line ends and a last line without newline', async () => {
    const stream = Readable.from(['exists resource name:r0 role:Primary suspended:no\r\n', '\n', 'exists -'], { objectMode: false });
    const updates = await collect(stream);
    expect(updates.map((u) => u.event.object)).toEqual(['resource', '-']);
    expect(updates.map((u) => u.event.line)).toEqual([1, 3]);
    expect(updates[1]?.initialDumpComplete).toBe(true);
  });

  it('works on a live pipe that is still being written to', async () => {
    const pipe = new PassThrough();
    const iterator = readEvents2(pipe)[Symbol.asyncIterator]();
    pipe.write('exists resource name:r0 role:Secon');
    const pendingUpdate = iterator.next();
    pipe.write('dary suspended:no\nexists -\n');
    const first = await pendingUpdate;
    expect(first.value?.status.resources[0]?.role).toBe('Secondary');
    const second = await iterator.next();
    expect(second.value?.initialDumpComplete).toBe(true);
    pipe.end('change resource name:r0 role:Primary\n');
    expect((await iterator.next()).value?.status.resources[0]?.role).toBe('Primary');
    expect((await iterator.next()).done).toBe(true);
  });

  it('throws a ParseError with the line number by default', async () => {
    const error = await collect(chunks(['exists -\n', 'bogus line\n'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).line).toBe(2);
  });

  it('skips bad lines when onParseError is given', async () => {
    const errors: ParseError[] = [];
    const updates = await collect(chunks(['exists resource name:r0 role:Primary\nexists resource name:r0 role:Boss\nexists -\n']), {
      onParseError: (e: ParseError) => errors.push(e),
    });
    expect(updates.map((u) => u.event.object)).toEqual(['resource', '-']);
    expect(errors.map((e) => e.line)).toEqual([2]);
  });

  it('continues an existing state', async () => {
    const state = new Events2State({ drbd84: true });
    state.applyLine('exists resource name:r0 role:Secondary suspended:no');
    const updates = await collect(chunks(['change resource name:r0 role:Primary\n']), { state });
    expect(updates[0]?.status.resources).toHaveLength(1);
    expect(state.status.resources[0]?.role).toBe('Primary');
  });
});
