/**
 * The configuration the kernel runs with, which can differ from the file:
 * `drbdsetup show <res>` (options changed at run time, e.g. by the
 * dual-primary window) and `drbdadm -d adjust <res>` (what adjust would run
 * to bring the kernel in line with the file; no output means in line).
 *
 * `drbdsetup show` prints drbd.conf syntax with `_this_host`/`_remote_host`
 * (8.4) or `connection { _peer_node_id …; net { … } }` (9) sections and
 * leaves out options at their default: `allow-two-primaries no` is never
 * printed.
 */
import { ParseError } from '../../errors.js';
import { parseStatements, type Statement } from '../config/conf-syntax.js';

export interface RunningConfig {
  resource: string;
  /** Net options of every connection, keyword → value as printed (`yes` for a bare flag). 8.4 has one, DRBD 9 one per peer. */
  nets: Record<string, string>[];
}

const SOURCE = 'drbdsetup show';

function word(s: Statement): string {
  return s.words[0]?.text ?? '';
}

function options(block: readonly Statement[]): Record<string, string> {
  // No prototype: a keyword like __proto__ is kept as data, not taken for the object's prototype.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const s of block) {
    if (s.block !== undefined) continue;
    out[word(s)] = s.words[1]?.text ?? 'yes';
  }
  return out;
}

export function parseDrbdsetupShow(text: string, resource: string): RunningConfig {
  const statements = parseStatements(text, SOURCE);
  const res = statements.find((s) => word(s) === 'resource' && s.words[1]?.text === resource);
  if (res === undefined || res.block === undefined) {
    throw new ParseError(`no resource ${resource} section`, { source: SOURCE, line: 1, excerpt: text.split('\n')[0] ?? '' });
  }
  const nets: Record<string, string>[] = [];
  const topNet = res.block.find((s) => word(s) === 'net' && s.block !== undefined);
  const connections = res.block.filter((s) => word(s) === 'connection' && s.block !== undefined);
  if (connections.length === 0) nets.push({ ...options(topNet?.block ?? []) });
  for (const c of connections) {
    const net = (c.block as Statement[]).find((s) => word(s) === 'net' && s.block !== undefined);
    nets.push({ ...options(topNet?.block ?? []), ...options(net?.block ?? []) });
  }
  return { resource, nets };
}

/** True when every connection runs with allow-two-primaries. */
export function twoPrimariesAllowed(config: RunningConfig): boolean {
  return config.nets.length > 0 && config.nets.every((n) => n['allow-two-primaries'] === 'yes');
}

/** The verify algorithm every connection runs with, or null when one has none (online verify then fails with -14). */
export function verifyAlgorithm(config: RunningConfig): string | null {
  const algs = config.nets.map((n) => n['verify-alg']);
  return algs.length > 0 && algs.every((a) => a !== undefined) ? (algs[0] as string) : null;
}

/** The commands `drbdadm -d adjust` printed, one a line; empty when nothing needs adjusting. */
export function parseAdjustDryRun(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
