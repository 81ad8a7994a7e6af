/**
 * Attribute values arrive as strings; each element's attributes are checked
 * and converted by a zod schema here, and a failure is a ParseError naming
 * the element, the attribute and the element's text.
 */
import { z } from 'zod';
import { ParseError } from '../errors.js';
import { elementExcerpt, type XmlElement } from './xml.js';

/** Pacemaker's booleans as crm_mon prints them ("true"/"false"); the CIB also says yes/no, on/off, 1/0. */
export const xmlBoolean = z
  .string()
  .transform((v, ctx) => {
    const word = v.trim().toLowerCase();
    if (['true', 'yes', 'on', 'y', '1'].includes(word)) return true;
    if (['false', 'no', 'off', 'n', '0'].includes(word)) return false;
    ctx.addIssue({ code: 'custom', message: `not a boolean: ${JSON.stringify(v.slice(0, 40))}` });
    return z.NEVER;
  });

/** A non-negative decimal integer (counts, exit codes, milliseconds). */
export const xmlCount = z
  .string()
  .regex(/^\s*\d{1,15}\s*$/, 'not a non-negative integer')
  .transform((v) => Number(v));

/** A signed decimal integer (call ids are -1 for a pending action, ban weights are negative). */
export const xmlInteger = z
  .string()
  .regex(/^\s*[-+]?\d{1,15}\s*$/, 'not an integer')
  .transform((v) => Number(v));

export const xmlName = z.string().min(1, 'empty');

/** Reads `element`'s attributes through `schema`; a ParseError names what is wrong. */
export function attributesOf<T extends z.ZodType>(element: XmlElement, schema: T, source: string): z.output<T> {
  const result = schema.safeParse(element.attributes);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const shown = issues
    .slice(0, 3)
    .map((issue) => `attribute ${issue.path.map(String).join('.') || '(all)'}: ${issue.message}`)
    .join('; ');
  throw new ParseError(`<${element.name}> ${shown}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}`, {
    source,
    excerpt: elementExcerpt(element),
  });
}
