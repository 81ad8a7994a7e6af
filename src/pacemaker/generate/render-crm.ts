/**
 * A configuration as a crm shell script (`crm -f FILE`, or `crm configure`
 * line by line): `configure`, one statement per resource, constraint and
 * property, then `commit`. crmsh 4.4 syntax, Pacemaker 2.1 role names.
 */
import { agentName, validatePacemakerConfig, type PacemakerConfig, type PcmkPrimitive } from './spec.js';

const PLAIN = /^[A-Za-z0-9_./:@%+,-]+$/;

/** A value as crmsh's lexer reads it back: bare when plain, else in double quotes with `\` and `"` escaped. */
export function crmQuote(value: string): string {
  return PLAIN.test(value) ? value : `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const pairs = (values: Record<string, string>): string => Object.entries(values).map(([k, v]) => `${k}=${crmQuote(v)}`).join(' ');

function primitiveLine(p: PcmkPrimitive): string {
  const parts = [`primitive ${p.id} ${agentName(p)}`];
  if (Object.keys(p.params).length > 0) parts.push(`params ${pairs(p.params)}`);
  if (Object.keys(p.meta).length > 0) parts.push(`meta ${pairs(p.meta)}`);
  for (const o of p.ops) {
    parts.push(`op ${o.name} ${pairs({ interval: o.interval, ...(o.timeout === undefined ? {} : { timeout: o.timeout }), ...(o.role === undefined ? {} : { role: o.role }) })}`);
  }
  return parts.join(' \\\n    ');
}

const withRole = (id: string, role: string | undefined): string => (role === undefined ? id : `${id}:${role}`);

/** The script's lines (with continuation lines joined by ` \` + newline). */
export function renderCrmScript(input: PacemakerConfig): string {
  const config = validatePacemakerConfig(input);
  const lines: string[] = ['configure'];
  for (const p of config.primitives) lines.push(primitiveLine(p));
  for (const g of config.groups) {
    lines.push(`group ${g.id} ${g.members.join(' ')}${Object.keys(g.meta).length > 0 ? ` \\\n    meta ${pairs(g.meta)}` : ''}`);
  }
  for (const c of config.clones) {
    lines.push(`clone ${c.id} ${c.child}${Object.keys(c.meta).length > 0 ? ` \\\n    meta ${pairs(c.meta)}` : ''}`);
  }
  for (const l of config.constraints.locations) lines.push(`location ${l.id} ${l.rsc} ${l.score}: ${l.node}`);
  for (const c of config.constraints.colocations) {
    lines.push(`colocation ${c.id} ${c.score}: ${withRole(c.rsc, c.rscRole)} ${withRole(c.withRsc, c.withRscRole)}`);
  }
  for (const o of config.constraints.orders) {
    lines.push(`order ${o.id} ${o.kind ?? 'Mandatory'}: ${o.first}:${o.firstAction ?? 'start'} ${o.then}:${o.thenAction ?? 'start'}`);
  }
  if (Object.keys(config.properties).length > 0) lines.push(`property cib-bootstrap-options: ${pairs(config.properties)}`);
  lines.push('commit');
  return `${lines.join('\n')}\n`;
}
