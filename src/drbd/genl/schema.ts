/**
 * How a genl_magic struct is laid out on the wire: one top-level attribute
 * (NLA_NESTED, numbered by the struct's tag) holding one attribute per field,
 * numbered per struct from 1. The tables in attributes-84.ts / attributes-9.ts
 * are data in this shape.
 */

/**
 * Wire types of genl_magic fields (genl_magic_struct.h):
 * __flg_field is NLA_U8 holding 0/1, __s32_field travels as NLA_U32,
 * __str_field is NLA_NUL_STRING, __bin_field NLA_BINARY.
 */
export type FieldType = 'flag' | 'u8' | 'u16' | 'u32' | 's32' | 'u64' | 'string' | 'binary';

export interface FieldSpec {
  readonly name: string;
  /** Attribute number inside the struct's nest. */
  readonly nr: number;
  readonly type: FieldType;
  /** DRBD_GENLA_F_MANDATORY in the header: senders OR bit 14 into the type. */
  readonly mandatory: boolean;
  /** maxlen of string/binary fields (including the NUL for strings). */
  readonly maxLength?: number;
}

export interface StructSpec {
  /** The C struct name, e.g. `state_info`. */
  readonly name: string;
  /** Top-level attribute number (`DRBD_NLA_*`). */
  readonly tla: number;
  readonly fields: readonly FieldSpec[];
}

/** Field builders keep the tables close to the header's own notation. */
export const flg = (nr: number, name: string, mandatory = false): FieldSpec => ({ nr, name, type: 'flag', mandatory });
export const u32 = (nr: number, name: string, mandatory = false): FieldSpec => ({ nr, name, type: 'u32', mandatory });
export const s32 = (nr: number, name: string, mandatory = false): FieldSpec => ({ nr, name, type: 's32', mandatory });
export const u64 = (nr: number, name: string, mandatory = false): FieldSpec => ({ nr, name, type: 'u64', mandatory });
export const str = (nr: number, name: string, maxLength: number, mandatory = false): FieldSpec => ({
  nr,
  name,
  type: 'string',
  mandatory,
  maxLength,
});
export const bin = (nr: number, name: string, maxLength: number, mandatory = false): FieldSpec => ({
  nr,
  name,
  type: 'binary',
  mandatory,
  maxLength,
});

export const M = true; // DRBD_GENLA_F_MANDATORY

export type FieldValue = number | bigint | boolean | string | Uint8Array;
/** A decoded struct: field name → value, only the fields present on the wire. */
export type DecodedStruct = Readonly<Record<string, FieldValue>>;

export interface ApiTables {
  /** Structs by top-level attribute number. */
  readonly byTla: ReadonlyMap<number, StructSpec>;
  /** Structs by C name. */
  readonly byName: ReadonlyMap<string, StructSpec>;
}

export function buildTables(structs: readonly StructSpec[]): ApiTables {
  const byTla = new Map<number, StructSpec>();
  const byName = new Map<string, StructSpec>();
  for (const spec of structs) {
    if (byTla.has(spec.tla)) throw new Error(`duplicate top-level attribute ${spec.tla} (${spec.name})`);
    const seen = new Set<number>();
    for (const field of spec.fields) {
      if (seen.has(field.nr)) throw new Error(`duplicate field number ${field.nr} in ${spec.name}`);
      seen.add(field.nr);
    }
    byTla.set(spec.tla, spec);
    byName.set(spec.name, spec);
  }
  return { byTla, byName };
}

export function fieldByNumber(spec: StructSpec, nr: number): FieldSpec | undefined {
  return spec.fields.find((f) => f.nr === nr);
}

export function fieldByName(spec: StructSpec, name: string): FieldSpec | undefined {
  return spec.fields.find((f) => f.name === name);
}
