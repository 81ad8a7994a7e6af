import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { decodeAttributes, encodeAttributes, encodeU32, encodeU64 } from '../../../../src/sys/netlink-codec.js';
import { STRUCTS_84, TABLES_84 } from '../../../../src/drbd/genl/attributes-84.js';
import { STRUCTS_9 } from '../../../../src/drbd/genl/attributes-9.js';
import { DrbdNla } from '../../../../src/drbd/genl/constants.js';
import type { FieldSpec, FieldValue, StructSpec } from '../../../../src/drbd/genl/schema.js';
import { decodeStruct, encodeStruct } from '../../../../src/drbd/genl/struct-codec.js';

function arbitraryValue(field: FieldSpec): fc.Arbitrary<FieldValue> {
  switch (field.type) {
    case 'flag':
      return fc.boolean();
    case 'u8':
      return fc.integer({ min: 0, max: 0xff });
    case 'u16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'u32':
      return fc.integer({ min: 0, max: 0xffff_ffff });
    case 's32':
      return fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
    case 'u64':
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'string':
      return fc.string({ unit: fc.constantFrom(...'abcdefgh-_.0123456789'), maxLength: 40 });
    case 'binary':
      return fc.uint8Array({ maxLength: 40 });
  }
}

function arbitraryStruct(spec: StructSpec): fc.Arbitrary<Record<string, FieldValue | undefined>> {
  const shape: Record<string, fc.Arbitrary<FieldValue>> = {};
  for (const field of spec.fields) shape[field.name] = arbitraryValue(field);
  return fc.record(shape, { requiredKeys: [] });
}

const decodeOne = (spec: StructSpec, bytes: Buffer) => {
  const [tla] = decodeAttributes(bytes);
  if (!tla) throw new Error('no attribute');
  return decodeStruct(spec, tla);
};

describe('genl_magic struct codec', () => {
  for (const [api, structs] of [
    ['8.4', STRUCTS_84],
    ['9', STRUCTS_9],
  ] as const) {
    it(`round-trips every ${api} struct, with and without the mandatory bit`, () => {
      for (const spec of structs) {
        fc.assert(
          fc.property(arbitraryStruct(spec), fc.boolean(), fc.boolean(), (values, mandatoryBits, nestedFlag) => {
            const bytes = encodeAttributes([encodeStruct(spec, values, { mandatoryBits, nestedFlag })]);
            expect(decodeOne(spec, bytes)).toEqual(values);
          }),
          { numRuns: 40 },
        );
      }
    });
  }

  it('sets bit 14 only on fields the header marks DRBD_GENLA_F_MANDATORY', () => {
    const spec = TABLES_84.byName.get('state_info') as StructSpec;
    const bytes = encodeAttributes([encodeStruct(spec, { sib_reason: 1, current_state: 5 })]);
    // tla header, then sib_reason (1 | 0x4000), then current_state (2, REQUIRED but not mandatory)
    expect(bytes.readUInt16LE(2)).toBe(DrbdNla.STATE_INFO);
    expect(bytes.readUInt16LE(6)).toBe(0x4001);
    expect(bytes.readUInt16LE(14)).toBe(0x0002);
  });

  it('skips pad attributes (type 0) that nla_put_64bit puts before a u64, and unknown fields', () => {
    const spec = TABLES_84.byName.get('state_info') as StructSpec;
    const bytes = encodeAttributes([
      {
        type: DrbdNla.STATE_INFO,
        nested: false,
        value: [
          { type: 2, value: encodeU32(0x9109) },
          { type: 0, value: Buffer.alloc(0) },
          { type: 3, value: encodeU64(524200n), netByteOrder: true },
          { type: 99, value: encodeU32(7) },
        ],
      },
    ]);
    expect(decodeOne(spec, bytes)).toEqual({ current_state: 0x9109, capacity: 524200n });
  });

  it('raises ParseError for an integer of the wrong size', () => {
    const spec = TABLES_84.byName.get('state_info') as StructSpec;
    const bytes = encodeAttributes([{ type: DrbdNla.STATE_INFO, nested: false, value: [{ type: 2, value: Buffer.alloc(3) }] }]);
    expect(() => decodeOne(spec, bytes)).toThrow(ParseError);
    expect(() => decodeOne(spec, bytes)).toThrow(/state_info\.current_state: a u32 of 3 bytes/);
  });

  it('reads a string without its NUL and refuses values of the wrong kind when encoding', () => {
    const spec = TABLES_84.byName.get('drbd_cfg_context') as StructSpec;
    const bytes = encodeAttributes([
      { type: DrbdNla.CFG_CONTEXT, nested: false, value: [{ type: 2, value: Buffer.from('r0\0junk') }] },
    ]);
    expect(decodeOne(spec, bytes)).toEqual({ ctx_resource_name: 'r0' });
    expect(() => encodeStruct(spec, { ctx_volume: 'zero' })).toThrow(TypeError);
    expect(() => encodeStruct(spec, { no_such_field: 1 })).toThrow(/no field/);
  });
});
