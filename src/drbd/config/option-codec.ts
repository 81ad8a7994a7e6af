/**
 * One option value between the model and the configuration text: booleans
 * are `yes`/`no` (a bare keyword means yes, as drbdadm reads flags), numbers
 * are written in the option's default unit, enums and strings verbatim.
 */
import type { OptionSpec } from './options.js';
import { parseDrbdNumber } from './units.js';

export type Decoded = { ok: true; value: boolean | number | string } | { ok: false; reason: string };

/** The text drbdadm reads for a model value (before quoting). */
export function encodeOptionValue(spec: OptionSpec, value: boolean | number | string): string {
  if (spec.type === 'boolean') return value === true ? 'yes' : 'no';
  return String(value);
}

/** A raw value as drbdadm prints it (`true` for a bare keyword) → the model value. */
export function decodeOptionValue(spec: OptionSpec, raw: string | true): Decoded {
  if (spec.type === 'boolean') {
    if (raw === true || raw === 'yes') return { ok: true, value: true };
    if (raw === 'no') return { ok: true, value: false };
    return { ok: false, reason: `${spec.keyword} takes yes or no, not ${JSON.stringify(raw)}` };
  }
  if (raw === true) return { ok: false, reason: `${spec.keyword} needs a value` };
  switch (spec.type) {
    case 'number': {
      const value = parseDrbdNumber(raw, spec.scale);
      return value === undefined
        ? { ok: false, reason: `${spec.keyword} takes a number with an optional K, M, G or s suffix, not ${JSON.stringify(raw)}` }
        : { ok: true, value };
    }
    case 'count': {
      if ((spec.symbols as readonly string[]).includes(raw)) return { ok: true, value: raw };
      const value = /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
      return value === undefined
        ? { ok: false, reason: `${spec.keyword} takes ${spec.symbols.join(', ')} or a node count, not ${JSON.stringify(raw)}` }
        : { ok: true, value };
    }
    default:
      // Enum words and strings are checked by the schema, which knows the target.
      return { ok: true, value: raw };
  }
}
