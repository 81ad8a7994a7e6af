import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_OPS,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_NEWFAMILY,
  GENL_ID_CTRL,
  NLA_F_NESTED,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_DUMP,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  attrFlag,
  attrMap,
  attrNested,
  attrS32,
  attrS64,
  attrString,
  attrU16,
  attrU32,
  attrU64,
  attrU8,
  attrUint,
  decodeAttributes,
  decodeGenlHeader,
  decodeNetlinkMessages,
  encodeAttributes,
  encodeFlag,
  encodeGenlHeader,
  encodeNetlinkMessage,
  encodeS32,
  encodeString,
  encodeU16,
  encodeU32,
  encodeU64,
  encodeU8,
  nlAlign,
} from '../../../src/sys/netlink-codec.js';
import type { AttributeInput, NetlinkAttribute } from '../../../src/sys/netlink-codec.js';
import { readHexCapture } from './helpers/hex-fixture.js';

/** Runs `fn`; passes if it returns or throws a ParseError, fails on any other exception. */
function onlyParseErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    expect(error.source).toBe('netlink');
  }
}

describe('encodeNetlinkMessage', () => {
  it('produces the exact request bytes captured from the kernel exchange', () => {
    const { request } = readHexCapture('nlctrl-getfamily.hex');
    const payload = Buffer.concat([
      encodeGenlHeader(CTRL_CMD_GETFAMILY, 2),
      encodeAttributes([{ type: CTRL_ATTR_FAMILY_NAME, value: encodeString('nlctrl') }]),
    ]);
    const bytes = encodeNetlinkMessage({ type: GENL_ID_CTRL, flags: NLM_F_REQUEST, seq: 1, portId: 0, payload });
    expect(bytes.toString('hex')).toBe(request.toString('hex'));
  });

  it('keeps nlmsg_len unpadded while padding the buffer to 4 bytes', () => {
    const bytes = encodeNetlinkMessage({ type: 0x20, flags: 0, seq: 7, portId: 9, payload: Buffer.from([1, 2, 3]) });
    expect(bytes.length).toBe(20);
    expect(bytes.readUInt32LE(0)).toBe(19);
    expect([...bytes.subarray(16)]).toEqual([1, 2, 3, 0]);
  });

  it('rejects out-of-range header fields with a RangeError naming the field', () => {
    const payload = Buffer.alloc(0);
    expect(() => encodeNetlinkMessage({ type: 0x10000, flags: 0, seq: 0, portId: 0, payload })).toThrow(/type/);
    expect(() => encodeNetlinkMessage({ type: 1, flags: -1, seq: 0, portId: 0, payload })).toThrow(/flags/);
    expect(() => encodeNetlinkMessage({ type: 1, flags: 0, seq: 2 ** 32, portId: 0, payload })).toThrow(/seq/);
    expect(() => encodeNetlinkMessage({ type: 1, flags: 0, seq: 0, portId: 1.5, payload })).toThrow(RangeError);
  });
});

describe('decodeNetlinkMessages on captured kernel replies', () => {
  it('decodes the nlctrl CTRL_CMD_NEWFAMILY reply field by field', () => {
    const [reply] = readHexCapture('nlctrl-getfamily.hex').replies;
    const messages = decodeNetlinkMessages(reply!);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({ type: GENL_ID_CTRL, flags: 0, seq: 1, portId: 0x5604 });
    expect(message!.payload.length).toBe(136 - 16);
    const genl = decodeGenlHeader(message!.payload);
    expect(genl.cmd).toBe(CTRL_CMD_NEWFAMILY);
    expect(genl.version).toBe(2);
    const attrs = decodeAttributes(genl.body);
    expect(attrs.map((a) => a.type)).toEqual([2, 1, 3, 4, 5, 6, 7]);
    const map = attrMap(attrs);
    expect(attrString(map.get(CTRL_ATTR_FAMILY_NAME)!)).toBe('nlctrl');
    expect(attrU16(map.get(CTRL_ATTR_FAMILY_ID)!)).toBe(16);
    expect(attrU32(map.get(3)!)).toBe(2);
    expect(attrU32(map.get(4)!)).toBe(0);
    expect(attrU32(map.get(5)!)).toBe(0);
    const ops = attrNested(map.get(CTRL_ATTR_OPS)!).map((op) => attrNested(op).map((field) => attrU32(field)));
    expect(ops).toEqual([
      [3, 0x0e],
      [10, 0x0c],
    ]);
    const groups = attrNested(map.get(CTRL_ATTR_MCAST_GROUPS)!);
    expect(groups).toHaveLength(1);
    const group = attrMap(attrNested(groups[0]!));
    expect(attrString(group.get(1)!)).toBe('notify');
    expect(attrU32(group.get(2)!)).toBe(16);
    // The kernel does not set NLA_F_NESTED on nlctrl's nests.
    expect(map.get(CTRL_ATTR_OPS)!.nested).toBe(false);
  });

  it('decodes a capped NLMSG_ERROR carrying ENOENT', () => {
    const [reply] = readHexCapture('getfamily-unknown.hex').replies;
    const [message] = decodeNetlinkMessages(reply!);
    expect(message).toMatchObject({ type: NLMSG_ERROR, flags: NLM_F_CAPPED, seq: 2 });
    expect(message!.error).toEqual({ errno: 2 });
  });

  it('decodes an NLMSG_ERROR with the kernel extended ack text and offset', () => {
    const [reply] = readHexCapture('getfamily-invalid.hex').replies;
    const [message] = decodeNetlinkMessages(reply!);
    expect(message!.type).toBe(NLMSG_ERROR);
    expect(message!.flags).toBe(NLM_F_CAPPED | NLM_F_ACK_TLVS);
    expect(message!.error).toEqual({ errno: 34, message: 'Attribute failed policy validation', offset: 20 });
  });

  it('decodes a whole dump datagram: 15 families then NLMSG_DONE with status 0', () => {
    const capture = readHexCapture('getfamily-dump.hex');
    expect(capture.replies).toHaveLength(1);
    const messages = decodeNetlinkMessages(capture.replies[0]!);
    expect(messages).toHaveLength(16);
    expect(messages.every((m) => m.seq === 3)).toBe(true);
    expect(messages.slice(0, 15).every((m) => m.type === GENL_ID_CTRL && m.flags === NLM_F_MULTI)).toBe(true);
    const done = messages[15]!;
    expect(done.type).toBe(NLMSG_DONE);
    expect(done.error).toEqual({ errno: 0 });
    const names = messages.slice(0, 15).map((m) => {
      const attrs = attrMap(decodeAttributes(decodeGenlHeader(m.payload).body));
      return `${attrString(attrs.get(CTRL_ATTR_FAMILY_NAME)!)}:${attrU16(attrs.get(CTRL_ATTR_FAMILY_ID)!)}`;
    });
    expect(names).toEqual([
      'nlctrl:16',
      'VFS_DQUOT:17',
      'thermal:19',
      'netdev:20',
      'ethtool:21',
      'NLBL_MGMT:22',
      'NLBL_CIPSOv4:23',
      'NLBL_CALIPSO:24',
      'NLBL_UNLBL:25',
      'acpi_event:26',
      'tcp_metrics:27',
      'mptcp_pm:28',
      'SEG6:29',
      'IOAM6:30',
      'TASKSTATS:31',
    ]);
    expect(capture.request.readUInt16LE(6)).toBe(NLM_F_REQUEST | NLM_F_DUMP);
  });

  it('raises ParseError (never RangeError) on every truncation of the captured bytes', () => {
    const [reply] = readHexCapture('getfamily-dump.hex').replies;
    let failures = 0;
    for (let cut = 1; cut < reply!.length; cut++) {
      try {
        decodeNetlinkMessages(reply!.subarray(0, cut));
      } catch (error) {
        expect(error).toBeInstanceOf(ParseError);
        failures++;
      }
    }
    // Only cuts that land exactly on a message boundary decode cleanly.
    expect(failures).toBeGreaterThan(reply!.length - 20);
  });
});

describe('decodeNetlinkMessages errors', () => {
  it('names the byte offset and shows the bytes in hex', () => {
    const bad = Buffer.alloc(20);
    bad.writeUInt32LE(400, 0);
    try {
      decodeNetlinkMessages(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ParseError);
      const parse = error as ParseError;
      expect(parse.message).toMatch(/length 400 exceeds the 20 bytes left at byte 0 of 20/);
      expect(parse.excerpt).toBe(bad.toString('hex'));
    }
  });

  it('rejects a message length below the header size (which would loop forever)', () => {
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(8, 0);
    expect(() => decodeNetlinkMessages(bad)).toThrow(/below header size/);
  });

  it('rejects trailing bytes too short for a header', () => {
    const one = encodeNetlinkMessage({ type: 0x20, flags: 0, seq: 1, portId: 0, payload: Buffer.alloc(0) });
    expect(() => decodeNetlinkMessages(Buffer.concat([one, Buffer.alloc(8)]))).toThrow(/truncated netlink header/);
  });

  it('rejects an NLMSG_ERROR too short to hold errno and the echoed header', () => {
    const short = encodeNetlinkMessage({ type: NLMSG_ERROR, flags: 0, seq: 1, portId: 0, payload: Buffer.alloc(4) });
    expect(() => decodeNetlinkMessages(short)).toThrow(ParseError);
  });

  it('treats an NLMSG_ERROR with errno 0 as an acknowledgement', () => {
    const payload = Buffer.alloc(20);
    payload.writeUInt32LE(16, 4);
    const ack = encodeNetlinkMessage({ type: NLMSG_ERROR, flags: NLM_F_CAPPED, seq: 5, portId: 0, payload });
    expect(decodeNetlinkMessages(ack)[0]!.error).toEqual({ errno: 0 });
  });

  it('reads the echoed request when the ack is not capped', () => {
    const echoed = encodeNetlinkMessage({ type: 0x30, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 9, portId: 0, payload: Buffer.from([1, 2, 3]) });
    const errno = Buffer.alloc(4);
    errno.writeInt32LE(-22, 0);
    const tlvs = encodeAttributes([{ type: 1, value: encodeString('bad thing') }]);
    const bytes = encodeNetlinkMessage({
      type: NLMSG_ERROR,
      flags: NLM_F_ACK_TLVS,
      seq: 9,
      portId: 0,
      payload: Buffer.concat([errno, echoed, tlvs]),
    });
    expect(decodeNetlinkMessages(bytes)[0]!.error).toEqual({ errno: 22, message: 'bad thing' });
  });
});

describe('generic netlink header', () => {
  it('round-trips and exposes the body', () => {
    const payload = Buffer.concat([encodeGenlHeader(7, 1), Buffer.from([9, 9])]);
    expect(decodeGenlHeader(payload)).toEqual({ cmd: 7, version: 1, body: Buffer.from([9, 9]) });
  });

  it('refuses a payload shorter than the genl header', () => {
    expect(() => decodeGenlHeader(Buffer.from([1, 2]))).toThrow(ParseError);
  });

  it('refuses cmd/version outside a byte', () => {
    expect(() => encodeGenlHeader(256, 0)).toThrow(RangeError);
    expect(() => encodeGenlHeader(0, -1)).toThrow(RangeError);
  });
});

describe('attributes', () => {
  it('encodes nested lists with NLA_F_NESTED by default and pads every value', () => {
    const bytes = encodeAttributes([
      { type: 1, value: encodeU8(5) },
      { type: 2, value: [{ type: 3, value: encodeU16(0x1234) }] },
      { type: 4, value: encodeFlag(), netByteOrder: true },
    ]);
    expect(bytes.toString('hex')).toBe('05000100' + '05000000' + '0c000280' + '06000300' + '34120000' + '04000440');
    const attrs = decodeAttributes(bytes);
    expect(attrs.map((a) => [a.type, a.nested, a.netByteOrder])).toEqual([
      [1, false, false],
      [2, true, false],
      [4, false, true],
    ]);
    expect(attrU16(attrNested(attrs[1]!)[0]!)).toBe(0x1234);
    expect(attrFlag(attrMap(attrs).get(4))).toBe(true);
    expect(attrFlag(attrMap(attrs).get(9))).toBe(false);
  });

  it('lets a nested list go without NLA_F_NESTED (as DRBD 8.4 and nlctrl send them)', () => {
    const bytes = encodeAttributes([{ type: 6, value: [{ type: 1, value: encodeU32(1) }], nested: false }]);
    expect(bytes.readUInt16LE(2) & NLA_F_NESTED).toBe(0);
  });

  it('reads every integer width and strings', () => {
    const attrs = attrMap(
      decodeAttributes(
        encodeAttributes([
          { type: 1, value: encodeU8(255) },
          { type: 2, value: encodeU16(65535) },
          { type: 3, value: encodeU32(0xffffffff) },
          { type: 4, value: encodeU64(0xfedcba9876543210n) },
          { type: 5, value: encodeS32(-5) },
          { type: 6, value: encodeU64(0xffffffffffffffffn) },
          { type: 7, value: encodeString('héllo') },
          { type: 8, value: Buffer.from('no-nul') },
        ]),
      ),
    );
    expect(attrU8(attrs.get(1)!)).toBe(255);
    expect(attrU16(attrs.get(2)!)).toBe(65535);
    expect(attrU32(attrs.get(3)!)).toBe(0xffffffff);
    expect(attrU64(attrs.get(4)!)).toBe(0xfedcba9876543210n);
    expect(attrS32(attrs.get(5)!)).toBe(-5);
    expect(attrS64(attrs.get(6)!)).toBe(-1n);
    expect(attrString(attrs.get(7)!)).toBe('héllo');
    expect(attrString(attrs.get(8)!)).toBe('no-nul');
    expect(attrUint(attrs.get(1)!)).toBe(255n);
    expect(attrUint(attrs.get(2)!)).toBe(65535n);
    expect(attrUint(attrs.get(3)!)).toBe(0xffffffffn);
    expect(attrUint(attrs.get(4)!)).toBe(0xfedcba9876543210n);
  });

  it('keeps the last of repeated types in attrMap, like nla_parse', () => {
    const attrs = decodeAttributes(
      encodeAttributes([
        { type: 1, value: encodeU8(1) },
        { type: 1, value: encodeU8(2) },
      ]),
    );
    expect(attrs).toHaveLength(2);
    expect(attrU8(attrMap(attrs).get(1)!)).toBe(2);
  });

  it('raises ParseError on a wrong-size integer, naming the attribute', () => {
    const [attr] = decodeAttributes(encodeAttributes([{ type: 9, value: Buffer.from([1, 2, 3]) }]));
    expect(() => attrU32(attr!)).toThrow(/attribute 9 is 3 bytes, a u32 needs 4/);
    expect(() => attrU16(attr!)).toThrow(ParseError);
    expect(() => attrU64(attr!)).toThrow(ParseError);
    expect(() => attrUint(attr!)).toThrow(ParseError);
  });

  it('raises ParseError on attribute lengths that lie', () => {
    expect(() => decodeAttributes(Buffer.from([3, 0, 1, 0]))).toThrow(/below header size/);
    expect(() => decodeAttributes(Buffer.from([9, 0, 1, 0, 0]))).toThrow(/exceeds/);
    expect(() => decodeAttributes(Buffer.from([8, 0, 1, 0, 0, 0, 0, 0, 1]))).toThrow(/truncated attribute header/);
  });

  it('refuses values that do not fit when encoding', () => {
    expect(() => encodeU8(256)).toThrow(RangeError);
    expect(() => encodeU16(-1)).toThrow(RangeError);
    expect(() => encodeU32(2 ** 32)).toThrow(RangeError);
    expect(() => encodeS32(2 ** 31)).toThrow(RangeError);
    expect(() => encodeU64(-1n)).toThrow(RangeError);
    expect(() => encodeAttributes([{ type: 0x4000, value: Buffer.alloc(0) }])).toThrow(/attribute type/);
    expect(() => encodeAttributes([{ type: 1, value: Buffer.alloc(70000) }])).toThrow(/attribute length/);
  });
});

// ----------------------------------------------------------- property tests

interface Tree {
  type: number;
  value: Buffer | Tree[];
  netByteOrder: boolean;
}

const leaf: fc.Arbitrary<Tree> = fc.record({
  type: fc.integer({ min: 0, max: 0x3fff }),
  value: fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)),
  netByteOrder: fc.boolean(),
});
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({
      type: fc.integer({ min: 0, max: 0x3fff }),
      value: fc.array(tie('tree'), { maxLength: 3 }),
      netByteOrder: fc.boolean(),
    }),
  ),
}));

function expectTree(decoded: NetlinkAttribute[], input: readonly Tree[]): void {
  expect(decoded).toHaveLength(input.length);
  input.forEach((item, i) => {
    const got = decoded[i]!;
    expect(got.type).toBe(item.type);
    expect(got.netByteOrder).toBe(item.netByteOrder);
    if (Buffer.isBuffer(item.value)) {
      expect(got.nested).toBe(false);
      expect(got.payload.equals(item.value)).toBe(true);
    } else {
      expect(got.nested).toBe(true);
      expectTree(attrNested(got), item.value);
    }
  });
}

describe('properties', () => {
  it('attributes round-trip through encode/decode, nesting included', () => {
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 5 }), (list) => {
        const bytes = encodeAttributes(list as AttributeInput[]);
        expect(bytes.length % 4).toBe(0);
        expectTree(decodeAttributes(bytes), list);
      }),
    );
  });

  it('several messages per datagram round-trip, alignment included', () => {
    const message = fc.record({
      type: fc.integer({ min: 0x10, max: 0xffff }),
      flags: fc.integer({ min: 0, max: 0xffff }),
      seq: fc.integer({ min: 0, max: 0xffffffff }),
      portId: fc.integer({ min: 0, max: 0xffffffff }),
      payload: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), (list) => {
        const datagram = Buffer.concat(list.map(encodeNetlinkMessage));
        const decoded = decodeNetlinkMessages(datagram);
        expect(decoded.map((m) => ({ ...m, payload: Buffer.from(m.payload) }))).toEqual(list);
      }),
    );
  });

  it('arbitrary bytes give messages or a ParseError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        onlyParseErrors(() => decodeNetlinkMessages(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary bytes behind a plausible header still give only ParseErrors', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(NLMSG_ERROR, NLMSG_DONE, GENL_ID_CTRL),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 120 }),
        (type, flags, body) => {
          const bytes = encodeNetlinkMessage({ type, flags, seq: 1, portId: 0, payload: Buffer.from(body) });
          onlyParseErrors(() => {
            for (const m of decodeNetlinkMessages(bytes)) {
              const genl = decodeGenlHeader(m.payload);
              for (const attr of decodeAttributes(genl.body)) {
                attrNested(attr);
                attrString(attr);
              }
            }
          });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('integer helpers on arbitrary payloads return a value or a ParseError', () => {
    const readers = [attrU8, attrU16, attrU32, attrS32, attrU64, attrS64, attrUint, attrString];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.integer({ min: 0, max: readers.length - 1 }), (payload, which) => {
        const attr: NetlinkAttribute = { type: 1, nested: false, netByteOrder: false, payload: Buffer.from(payload) };
        onlyParseErrors(() => readers[which]!(attr));
      }),
    );
  });

  it('nlAlign rounds up to a multiple of 4', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), (n) => {
        const aligned = nlAlign(n);
        expect(aligned % 4).toBe(0);
        expect(aligned - n).toBeGreaterThanOrEqual(0);
        expect(aligned - n).toBeLessThan(4);
      }),
    );
  });
});
