/**
 * Malformed bytes must end in ParseError (or, for a well-formed kernel error
 * reply, DrbdNetlinkError) — never a RangeError, TypeError or a wrong model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { encodeAttributes, encodeGenlHeader, encodeNetlinkMessage, type AttributeInput } from '../../../../src/sys/netlink-codec.js';
import { DrbdCommand, type DrbdApiVersion } from '../../../../src/drbd/genl/constants.js';
import { DrbdNetlinkError } from '../../../../src/drbd/genl/errors.js';
import { encodeStateWord } from '../../../../src/drbd/genl/state-word.js';
import { applyDrbdEvent, decodeDrbdStatusDump } from '../../../../src/drbd/genl/status-tracker.js';
import { doneMessage, drbdMessage, FAMILY_ID, sockaddrIn } from './helpers.js';

function outcome(run: () => unknown): 'ok' | 'parse' | 'kernel' {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (error instanceof DrbdNetlinkError) return 'kernel';
    if (error instanceof ParseError) {
      // Every ParseError says which message and shows the bytes.
      if (!(error.line !== undefined && error.line > 0 && error.excerpt)) throw new Error(`ParseError without position: ${error.message}`);
      return 'parse';
    }
    throw error;
  }
}

const valid84 = Buffer.concat([
  drbdMessage({
    api: 1,
    cmd: DrbdCommand.GET_STATUS,
    minor: 0,
    structs: {
      drbd_cfg_context: { ctx_volume: 0, ctx_resource_name: 'r0', ctx_my_addr: sockaddrIn('10.99.0.1', 7789) },
      net_conf: { wire_protocol: 3 },
      state_info: {
        sib_reason: 1,
        current_state: encodeStateWord({ role: 1, peer: 2, conn: 16, disk: 8, pdsk: 4 }),
        capacity: 524200n,
        bits_oos: 31411n,
        bits_rs_total: 65525n,
        bits_rs_failed: 0n,
        uuids: new Uint8Array(32),
      },
    },
  }),
  doneMessage(),
]);

const valid9 = Buffer.concat([
  drbdMessage({ api: 2, cmd: DrbdCommand.GET_RESOURCES, structs: { drbd_cfg_context: { ctx_resource_name: 'vm1' }, resource_info: { res_role: 1 } } }),
  drbdMessage({
    api: 2,
    cmd: DrbdCommand.GET_PEER_DEVICES,
    minor: 1000,
    structs: {
      drbd_cfg_context: { ctx_resource_name: 'vm1', ctx_volume: 0, ctx_peer_node_id: 2 },
      peer_device_info: { peer_repl_state: 16, peer_disk_state: 5 },
      peer_device_statistics: { peer_dev_out_of_sync: 10n, peer_dev_rs_total: 20n },
    },
  }),
  doneMessage(),
]);

/** Random edits of a valid dump: flip, cut, insert. */
const mutated = (base: Buffer) =>
  fc
    .array(
      fc.oneof(
        fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
        fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((edits) => {
      let bytes = Buffer.from(base);
      for (const edit of edits) {
        const at = bytes.length === 0 ? 0 : edit.at % bytes.length;
        if (edit.op === 'flip') bytes[at] = edit.value ?? 0;
        else if (edit.op === 'cut') bytes = bytes.subarray(0, at);
        else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(edit.value ?? 0), bytes.subarray(at)]);
      }
      return bytes;
    });

/** Well-framed messages with random commands and random (possibly nonsense) attribute trees. */
const attribute: fc.Arbitrary<AttributeInput> = fc.letrec((tie) => ({
  leaf: fc.record({ type: fc.integer({ min: 0, max: 40 }), value: fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u)) }),
  node: fc.record({ type: fc.integer({ min: 0, max: 30 }), value: fc.array(tie('any'), { maxLength: 4 }) }),
  any: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('node')),
})).any as fc.Arbitrary<AttributeInput>;

const framed = fc
  .record({
    cmd: fc.constantFrom(1, 2, 30, 31, 32, 33, 34, 35, 36, 37, 40, 41, 99),
    minor: fc.oneof(fc.constant(0xffffffff), fc.nat({ max: 20 })),
    retCode: fc.constantFrom(101, 158),
    attrs: fc.array(attribute, { maxLength: 5 }),
  })
  .map(({ cmd, minor, retCode, attrs }) => {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(minor, 0);
    head.writeInt32LE(retCode, 4);
    return encodeNetlinkMessage({
      type: FAMILY_ID,
      flags: 2,
      seq: 1,
      portId: 1,
      payload: Buffer.concat([encodeGenlHeader(cmd, 1), head, encodeAttributes(attrs)]),
    });
  });

const apis: DrbdApiVersion[] = [1, 2];

describe('decoder robustness', () => {
  it('decodes the valid dumps it mutates (sanity)', () => {
    expect(outcome(() => decodeDrbdStatusDump(valid84, 1))).toBe('ok');
    expect(outcome(() => decodeDrbdStatusDump(valid9, 2))).toBe('ok');
  });

  it('turns arbitrary bytes into a status or a ParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(...apis), (bytes, api) => {
        expect(outcome(() => decodeDrbdStatusDump(bytes, api))).toMatch(/ok|parse|kernel/);
      }),
      { numRuns: 500 },
    );
  });

  it('turns mutated 8.4 and DRBD 9 dumps into a status or a ParseError', () => {
    fc.assert(
      fc.property(mutated(valid84), (bytes) => {
        expect(outcome(() => decodeDrbdStatusDump(bytes, 1))).toMatch(/ok|parse|kernel/);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(mutated(valid9), (bytes) => {
        expect(outcome(() => decodeDrbdStatusDump(bytes, 2))).toMatch(/ok|parse|kernel/);
      }),
      { numRuns: 1000 },
    );
  });

  it('survives well-framed messages with random attribute trees, as dump and as event', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.array(framed, { minLength: 1, maxLength: 3 }), fc.constantFrom(...apis), (messages, api) => {
        const bytes = Buffer.concat(messages);
        const dump = outcome(() => decodeDrbdStatusDump(bytes, api));
        seen.add(dump);
        expect(dump).toMatch(/ok|parse|kernel/);
        expect(outcome(() => applyDrbdEvent(decodeDrbdStatusDump(valid84, 1), bytes, api))).toMatch(/ok|parse|kernel/);
      }),
      { numRuns: 1000 },
    );
    // Both paths were exercised, not only the early rejections.
    expect([...seen].sort()).toEqual(['ok', 'parse']);
  });

  it('reports where it broke: message number and a hex excerpt', () => {
    const broken = Buffer.concat([valid84.subarray(0, valid84.length - 20), Buffer.from('ff', 'hex')]);
    try {
      decodeDrbdStatusDump(Buffer.concat([valid84, broken]), 1);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ParseError);
      const e = error as ParseError;
      expect(e.source).toBe('drbd generic netlink');
      expect(e.line).toBeGreaterThanOrEqual(3);
      expect(e.excerpt).toMatch(/^[0-9a-f]+/);
    }
  });
});
