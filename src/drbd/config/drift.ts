/**
 * Drift between two definitions of the same resource, typically imported
 * from two nodes (`drbdadm dump` on each): every field that differs, with
 * both values. Lists are matched by identity, not position, so a reordered
 * file is not drift: nodes by name, volumes by number, connections by the
 * pair of hosts they join; other lists (mesh hosts, paths) compare whole.
 */
import type { ResourceDefinition } from './schema.js';

export interface ConfigDifference {
  /** `net.maxBuffers`, `nodes[name=node2].volumes[volume=0].disk`, `connections[hosts=a,b].protocol`. */
  path: string;
  /** The value in the first definition; `undefined` when it lacks the field. */
  a: unknown;
  b: unknown;
}

type Keyed = { key: string; value: unknown };

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How the elements of a list at `field` are identified, or undefined to compare the list whole. */
function identify(field: string, list: readonly unknown[]): Keyed[] | undefined {
  const by = (name: string, key: (v: Record<string, unknown>) => unknown): Keyed[] | undefined => {
    if (!list.every(isPlainObject)) return undefined;
    const keyed = list.map((v) => ({ key: `${name}=${String(key(v))}`, value: v }));
    return new Set(keyed.map((k) => k.key)).size === keyed.length ? keyed : undefined;
  };
  switch (field) {
    case 'nodes':
      return by('name', (n) => n.name);
    case 'volumes':
      return by('volume', (v) => v.volume);
    case 'connections':
      return by('hosts', (c) => {
        const ends = (c.hosts ?? (Array.isArray(c.paths) ? c.paths[0] : undefined)) as { host?: unknown }[] | undefined;
        return (ends ?? []).map((e) => String(e.host)).sort().join(',');
      });
    default:
      return undefined;
  }
}

function same(a: unknown, b: unknown): boolean {
  // Lists of names (mesh hosts) mean the same in any order.
  const names = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (names(a) && names(b)) return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
  return JSON.stringify(a) === JSON.stringify(b);
}

function walk(a: unknown, b: unknown, path: string, field: string, out: ConfigDifference[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !Object.hasOwn(a, k))];
    for (const k of keys) walk(a[k], b[k], path === '' ? k : `${path}.${k}`, k, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const ka = identify(field, a);
    const kb = identify(field, b);
    if (ka !== undefined && kb !== undefined) {
      const mb = new Map(kb.map((e) => [e.key, e.value]));
      const ma = new Map(ka.map((e) => [e.key, e.value]));
      for (const e of ka) walk(e.value, mb.get(e.key), `${path}[${e.key}]`, '', out);
      for (const e of kb) if (!ma.has(e.key)) walk(undefined, e.value, `${path}[${e.key}]`, '', out);
      return;
    }
  }
  if (!same(a, b)) out.push({ path, a, b });
}

/** Every difference between two definitions, in a stable order (a's fields first). */
export function diffResources(a: ResourceDefinition, b: ResourceDefinition): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  walk(a, b, '', '', out);
  return out;
}
