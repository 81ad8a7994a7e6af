/**
 * A configuration as pcs 0.11 commands: argv arrays (for an executor, or
 * `pcs -f FILE` against a CIB file), and the same as shell-quoted lines.
 * Resources are created in the spec's order; a group member joins its group
 * with `--group` (its position in the group is its creation order), a clone's
 * child is created with `clone`/`promotable <clone id> <options>`.
 * Nodes are not commands: pcs takes them from corosync.
 */
import { shellQuote } from '../../sys/executor.js';
import { agentName, validatePacemakerConfig, type PacemakerConfig, type PcmkPrimitive } from './spec.js';

const pairs = (values: Record<string, string>): string[] => Object.entries(values).map(([k, v]) => `${k}=${v}`);

function opArgs(p: PcmkPrimitive): string[] {
  return p.ops.flatMap((o) => [
    'op',
    o.name,
    `interval=${o.interval}`,
    ...(o.timeout === undefined ? [] : [`timeout=${o.timeout}`]),
    ...(o.role === undefined ? [] : [`role=${o.role}`]),
  ]);
}

export interface RenderPcsOptions {
  /** Put `-f FILE` after `pcs` in every command (work on a CIB file offline). */
  cibFile?: string;
}

/** One argv per command, `pcs` first. */
export function renderPcsCommands(input: PacemakerConfig, options: RenderPcsOptions = {}): string[][] {
  const config = validatePacemakerConfig(input);
  const pcs = ['pcs', ...(options.cibFile === undefined ? [] : ['-f', options.cibFile])];
  const out: string[][] = [];
  if (Object.keys(config.properties).length > 0) out.push([...pcs, 'property', 'set', ...pairs(config.properties)]);
  const groupOf = new Map(config.groups.flatMap((g) => g.members.map((m) => [m, g.id] as const)));
  const cloneOf = new Map(config.clones.map((c) => [c.child, c] as const));
  const cloneArgs = (clone: PacemakerConfig['clones'][number]): string[] => {
    const { promotable, ...meta } = clone.meta;
    return [promotable === 'true' ? 'promotable' : 'clone', clone.id, ...pairs(meta)];
  };
  for (const p of config.primitives) {
    const meta = Object.keys(p.meta).length === 0 ? [] : ['meta', ...pairs(p.meta)];
    if (p.class === 'stonith') {
      out.push([...pcs, 'stonith', 'create', p.id, p.type, ...pairs(p.params), ...meta, ...opArgs(p)]);
      continue;
    }
    const clone = cloneOf.get(p.id);
    const group = groupOf.get(p.id);
    out.push([
      ...pcs,
      'resource',
      'create',
      p.id,
      agentName(p),
      ...pairs(p.params),
      ...opArgs(p),
      ...meta,
      ...(clone === undefined ? [] : cloneArgs(clone)),
      ...(group === undefined ? [] : ['--group', group]),
    ]);
  }
  for (const g of config.groups) {
    if (Object.keys(g.meta).length > 0) out.push([...pcs, 'resource', 'meta', g.id, ...pairs(g.meta)]);
    const clone = cloneOf.get(g.id);
    if (clone !== undefined) {
      const [kind, ...rest] = cloneArgs(clone);
      out.push([...pcs, 'resource', kind as string, g.id, ...rest]);
    }
  }
  for (const l of config.constraints.locations) out.push([...pcs, 'constraint', 'location', 'add', l.id, l.rsc, l.node, l.score]);
  for (const c of config.constraints.colocations) {
    out.push([
      ...pcs,
      'constraint',
      'colocation',
      'add',
      ...(c.rscRole === undefined ? [] : [c.rscRole]),
      c.rsc,
      'with',
      ...(c.withRscRole === undefined ? [] : [c.withRscRole]),
      c.withRsc,
      c.score,
      `id=${c.id}`,
    ]);
  }
  for (const o of config.constraints.orders) {
    out.push([
      ...pcs,
      'constraint',
      'order',
      o.firstAction ?? 'start',
      o.first,
      'then',
      o.thenAction ?? 'start',
      o.then,
      `kind=${o.kind ?? 'Mandatory'}`,
      `id=${o.id}`,
    ]);
  }
  return out;
}

/** The commands as shell lines, every argument quoted where the shell would read it otherwise. */
export function renderPcsScript(input: PacemakerConfig, options: RenderPcsOptions = {}): string {
  return renderPcsCommands(input, options)
    .map((argv) => argv.map(shellQuote).join(' '))
    .join('\n')
    .concat('\n');
}
