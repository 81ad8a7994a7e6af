/**
 * genl_magic structs ↔ netlink attributes, driven by the tables. Decoding is
 * lenient about what it does not know (fields and structs a newer module
 * adds are skipped) and strict about what it does (an integer of the wrong
 * size is an error, not a guess). Framing is src/sys/netlink-codec's.
 */
import {
  attrNested,
  attrS32,
  attrString,
  attrU16,
  attrU32,
  attrU64,
  attrU8,
  encodeS32,
  encodeString,
  encodeU16,
  encodeU32,
  encodeU64,
  encodeU8,
  type AttributeInput,
  type NetlinkAttribute,
} from '../../sys/netlink-codec.js';
import { ParseError } from '../../errors.js';
import type { DecodedStruct, FieldSpec, FieldType, FieldValue, StructSpec } from './schema.js';

export const STRUCT_PARSE_SOURCE = 'drbd generic netlink';

const FIXED_SIZES: Partial<Record<FieldType, number>> = { flag: 1, u8: 1, u16: 2, u32: 4, s32: 4, u64: 8 };

function decodeField(spec: StructSpec, field: FieldSpec, attr: NetlinkAttribute): FieldValue {
  const size = FIXED_SIZES[field.type];
  if (size !== undefined && attr.payload.length !== size) {
    throw new ParseError(`${spec.name}.${field.name}: a ${field.type} of ${attr.payload.length} bytes, expected ${size}`, {
      source: STRUCT_PARSE_SOURCE,
      excerpt: attr.payload.subarray(0, 32).toString('hex'),
    });
  }
  switch (field.type) {
    case 'flag':
      return attrU8(attr) !== 0;
    case 'u8':
      return attrU8(attr);
    case 'u16':
      return attrU16(attr);
    case 'u32':
      return attrU32(attr);
    case 's32':
      return attrS32(attr);
    case 'u64':
      return attrU64(attr);
    case 'string':
      return attrString(attr);
    case 'binary':
      return Uint8Array.from(attr.payload);
  }
}

/**
 * Decodes the fields of one top-level struct attribute. Field types arrive
 * with bit 14 (DRBD_GENLA_F_MANDATORY) set or not; the codec already masked
 * it off. Type 0 is padding in front of 64-bit values (nla_put_64bit on
 * hosts without efficient unaligned access) and is skipped.
 */
// Field lookup by number, built once per table (net_conf has ~50 fields; a scan per attribute was the decoder's hot spot).
const fieldsByNumber = new WeakMap<StructSpec, ReadonlyMap<number, FieldSpec>>();

function fieldIndex(spec: StructSpec): ReadonlyMap<number, FieldSpec> {
  let index = fieldsByNumber.get(spec);
  if (index === undefined) {
    index = new Map(spec.fields.map((f) => [f.nr, f]));
    fieldsByNumber.set(spec, index);
  }
  return index;
}

export function decodeStruct(spec: StructSpec, tla: NetlinkAttribute): DecodedStruct {
  const out: Record<string, FieldValue> = {};
  const index = fieldIndex(spec);
  for (const child of attrNested(tla)) {
    if (child.type === 0) continue;
    const field = index.get(child.type);
    if (field === undefined) continue;
    out[field.name] = decodeField(spec, field, child);
  }
  return out;
}

function encodeFieldValue(field: FieldSpec, value: FieldValue): Buffer {
  const bad = (): never => {
    throw new TypeError(`${field.name}: ${typeof value} does not fit a ${field.type} field`);
  };
  switch (field.type) {
    case 'flag':
      if (typeof value === 'boolean') return encodeU8(value ? 1 : 0);
      return value === 0 || value === 1 ? encodeU8(value) : bad();
    case 'u8':
      return typeof value === 'number' ? encodeU8(value) : bad();
    case 'u16':
      return typeof value === 'number' ? encodeU16(value) : bad();
    case 'u32':
      return typeof value === 'number' ? encodeU32(value) : bad();
    case 's32':
      return typeof value === 'number' ? encodeS32(value) : bad();
    case 'u64':
      return typeof value === 'bigint' ? encodeU64(value) : typeof value === 'number' ? encodeU64(BigInt(value)) : bad();
    case 'string':
      // The kernel sends (and expects) the terminating NUL.
      return typeof value === 'string' ? encodeString(value) : bad();
    case 'binary':
      return value instanceof Uint8Array ? Buffer.from(value) : bad();
  }
}

export interface EncodeStructOptions {
  /** Set DRBD_GENLA_F_MANDATORY (bit 14) on fields that carry it, as drbdsetup does. Default true. */
  mandatoryBits?: boolean;
  /** Set NLA_F_NESTED on the struct attribute. Default false, as drbdsetup and the 6.1 kernel send it. */
  nestedFlag?: boolean;
}

/** A struct as its top-level attribute, fields in table order, for encodeAttributes(). */
export function encodeStruct(
  spec: StructSpec,
  values: Readonly<Record<string, FieldValue | undefined>>,
  options: EncodeStructOptions = {},
): AttributeInput {
  const mandatoryBits = options.mandatoryBits ?? true;
  for (const name of Object.keys(values)) {
    if (!spec.fields.some((f) => f.name === name)) throw new TypeError(`${spec.name} has no field ${name}`);
  }
  const children: AttributeInput[] = [];
  for (const field of spec.fields) {
    const value = values[field.name];
    if (value === undefined) continue;
    children.push({
      type: field.nr,
      value: encodeFieldValue(field, value),
      netByteOrder: mandatoryBits && field.mandatory,
    });
  }
  return { type: spec.tla, value: children, nested: options.nestedFlag ?? false };
}
