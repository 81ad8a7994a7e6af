/**
 * Safety rules on a resource definition alone (no cluster state needed):
 * what makes dual-primary safe, after-split-brain policies that lose data
 * without telling anyone, handlers a policy depends on. Errors make
 * `assertSafe` throw a SafetyError unless the caller overrides that rule by
 * id; warnings are only reported.
 *
 * Facts behind the rules (drbd.conf-8.4(5), drbd.conf-9.0(5)):
 * - protocol C is the only one that acknowledges a write after both disks
 *   have it; A and B lose acknowledged writes when a primary dies, which with
 *   two primaries means the survivor misses writes the other one confirmed;
 * - `fencing resource-and-stonith` freezes I/O on a primary that lost its
 *   peer and calls the `fence-peer` handler; without the handler the freeze
 *   lasts until `drbdadm resume-io`;
 * - for two primaries DRBD offers `disconnect`, `violently-as0p` and
 *   `call-pri-lost-after-sb`; `violently-as0p` applies the 0pri decision to a
 *   primary and so silently discards its writes ("DANGEROUS", "may crash");
 *   `call-pri-lost-after-sb` only helps when the `pri-lost-after-sb` handler
 *   exists; `rr-conflict violently` syncs onto a primary ("do not use").
 */
import { ConfigError, SafetyError } from '../../errors.js';
import type { Protocol } from '../states.js';
import type { FencingPolicy, NetOptions } from './options.js';
import { parseResourceDefinition, type ResourceDefinition, type ResourceDefinitionInput } from './schema.js';

export const SAFETY_RULES = [
  'dual-primary-requires-protocol-c',
  'dual-primary-requires-fencing',
  'dual-primary-requires-after-sb',
  'after-sb-discards-silently',
  'call-pri-lost-requires-handler',
  'fencing-requires-fence-peer-handler',
  'shared-secret-requires-cram-hmac-alg',
  'write-ordering-disabled',
] as const;
export type SafetyRule = (typeof SAFETY_RULES)[number];

export interface Finding {
  rule: SafetyRule;
  /** `error` findings make `assertSafe` throw; `warning`s are advice. */
  severity: 'error' | 'warning';
  message: string;
  /** What to change in the definition. */
  fix: string;
  /** Where in the definition, e.g. `net.afterSb2pri` or `connections[1].protocol`. */
  path: string;
}

/** One replication link with the settings that apply to it. */
interface Link {
  label: string;
  /** Path prefix of the section that overrides resource-level settings on this link. */
  where: string | undefined;
  protocol: Protocol | undefined;
  fencing: FencingPolicy | undefined;
  net: NetOptions;
}

function links(def: ResourceDefinition): Link[] {
  const base = { protocol: def.protocol, fencing: def.disk.fencing, net: def.net };
  if (def.target === '8.4') return [{ label: def.nodes.map((n) => n.name).join(' - '), where: undefined, ...base }];
  const out: Link[] = [];
  const mesh = def.connectionMesh;
  if (mesh !== undefined) {
    out.push({
      label: `mesh ${mesh.hosts.join(', ')}`,
      where: 'connectionMesh',
      protocol: mesh.protocol ?? base.protocol,
      fencing: mesh.fencing ?? base.fencing,
      net: { ...base.net, ...mesh.net },
    });
  }
  (def.connections ?? []).forEach((c, i) => {
    const ends = c.hosts ?? c.paths?.[0];
    out.push({
      label: ends === undefined ? `connection ${i}` : `${ends[0].host} - ${ends[1].host}`,
      where: `connections[${i}]`,
      protocol: c.protocol ?? base.protocol,
      fencing: c.fencing ?? base.fencing,
      net: { ...base.net, ...c.net },
    });
  });
  // A resource with one node has no link yet; its resource-level settings still count.
  return out.length > 0 ? out : [{ label: def.nodes[0]?.name ?? def.name, where: undefined, ...base }];
}

/** Where to set a net option for a link: the link's own section if it has one, else the resource's. */
const netPath = (link: Link, key: string): string => (link.where === undefined ? `net.${key}` : `${link.where}.net.${key} or net.${key}`);

function checkLink(def: ResourceDefinition, link: Link, add: (f: Finding) => void): void {
  const dual = link.net.allowTwoPrimaries === true;
  const on = `on ${link.label}`;
  if (dual) {
    if (link.protocol !== 'C') {
      add({
        rule: 'dual-primary-requires-protocol-c',
        severity: 'error',
        message: `allow-two-primaries ${on} with protocol ${link.protocol ?? 'not set (a common section could change it)'}: with two primaries, writes one node acknowledged can be missing on the other after a failure unless both disks have every write first (protocol C)`,
        fix: "set protocol: 'C'",
        path: link.where === undefined ? 'protocol' : `${link.where}.protocol or protocol`,
      });
    }
    const handler = def.handlers.fencePeer;
    if (link.fencing !== 'resource-and-stonith' || handler === undefined) {
      const problem =
        link.fencing !== 'resource-and-stonith'
          ? `fencing is ${link.fencing ?? 'not set (dont-care)'}`
          : 'fencing is resource-and-stonith but there is no fence-peer handler';
      add({
        rule: 'dual-primary-requires-fencing',
        severity: 'error',
        message: `allow-two-primaries ${on}, but ${problem}: when the link breaks both primaries keep writing and the data splits`,
        fix: `set disk.fencing: 'resource-and-stonith' and handlers.fencePeer (e.g. ${def.target === '8.4' ? '/usr/lib/drbd/crm-fence-peer.sh' : '/usr/lib/drbd/crm-fence-peer.9.sh'})`,
        path: link.fencing !== 'resource-and-stonith' ? (link.where === undefined ? 'disk.fencing' : `${link.where}.fencing or disk.fencing`) : 'handlers.fencePeer',
      });
    }
    const missing = (['afterSb0pri', 'afterSb1pri', 'afterSb2pri'] as const).filter((k) => link.net[k] === undefined);
    if (missing.length > 0) {
      add({
        rule: 'dual-primary-requires-after-sb',
        severity: 'error',
        message: `allow-two-primaries ${on} without ${missing.map((k) => k.replace('afterSb', 'after-sb-')).join(', ')}: a split brain between two primaries needs a decided recovery policy for every case`,
        fix: "set net.afterSb0pri (e.g. 'discard-zero-changes'), net.afterSb1pri ('discard-secondary') and net.afterSb2pri ('disconnect')",
        path: missing.map((k) => netPath(link, k)).join(', '),
      });
    }
  }
  for (const key of ['afterSb1pri', 'afterSb2pri'] as const) {
    if (link.net[key] === 'violently-as0p') {
      add({
        rule: 'after-sb-discards-silently',
        severity: 'error',
        message: `${key.replace('afterSb', 'after-sb-')} violently-as0p ${on}: after a split brain DRBD throws away a primary's writes under a running application, without anyone deciding`,
        fix: `set ${key} to 'disconnect' (resolve by hand) or 'call-pri-lost-after-sb' with handlers.priLostAfterSb`,
        path: netPath(link, key),
      });
    }
    if (link.net[key] === 'call-pri-lost-after-sb' && def.handlers.priLostAfterSb === undefined) {
      add({
        rule: 'call-pri-lost-requires-handler',
        severity: 'error',
        message: `${key.replace('afterSb', 'after-sb-')} call-pri-lost-after-sb ${on} without a pri-lost-after-sb handler: the primary that lost keeps running on discarded data`,
        fix: 'set handlers.priLostAfterSb (e.g. "/usr/lib/drbd/notify-pri-lost-after-sb.sh; echo b > /proc/sysrq-trigger ; reboot -f")',
        path: 'handlers.priLostAfterSb',
      });
    }
  }
  if (link.net.rrConflict === 'violently') {
    add({
      rule: 'after-sb-discards-silently',
      severity: 'error',
      message: `rr-conflict violently ${on}: DRBD resyncs onto a primary, changing data under the application`,
      fix: "set net.rrConflict to 'disconnect'",
      path: netPath(link, 'rrConflict'),
    });
  }
  if (link.net.rrConflict === 'call-pri-lost' && def.handlers.priLost === undefined) {
    add({
      rule: 'call-pri-lost-requires-handler',
      severity: 'error',
      message: `rr-conflict call-pri-lost ${on} without a pri-lost handler: nothing makes the primary give up its role`,
      fix: 'set handlers.priLost',
      path: 'handlers.priLost',
    });
  }
  if (!dual && link.fencing !== undefined && link.fencing !== 'dont-care' && def.handlers.fencePeer === undefined) {
    add({
      rule: 'fencing-requires-fence-peer-handler',
      severity: 'error',
      message: `fencing ${link.fencing} ${on} without a fence-peer handler: ${
        link.fencing === 'resource-and-stonith'
          ? 'a primary that loses its peer freezes I/O until someone runs drbdadm resume-io'
          : 'the peer is never outdated, so fencing does nothing'
      }`,
      fix: 'set handlers.fencePeer',
      path: 'handlers.fencePeer',
    });
  }
  if (link.net.sharedSecret !== undefined && link.net.cramHmacAlg === undefined) {
    add({
      rule: 'shared-secret-requires-cram-hmac-alg',
      severity: 'warning',
      message: `shared-secret without cram-hmac-alg ${on}: peer authentication stays off and the secret does nothing`,
      fix: "set net.cramHmacAlg (e.g. 'sha256')",
      path: netPath(link, 'cramHmacAlg'),
    });
  }
}

function checkWriteOrdering(def: ResourceDefinition, add: (f: Finding) => void): void {
  for (const [i, node] of def.nodes.entries()) {
    for (const [j, v] of node.volumes.entries()) {
      const d = { ...def.disk, ...v.diskOptions };
      if (d.diskBarrier !== true && d.diskFlushes === false && d.diskDrain === false) {
        add({
          rule: 'write-ordering-disabled',
          severity: 'warning',
          message: `volume ${v.volume} on ${node.name} has disk-barrier, disk-flushes and disk-drain all off: writes can reach the disk reordered, differently on each node`,
          fix: 'leave diskDrain (or diskFlushes) on unless the backing store has a battery-backed cache and you know it keeps order',
          path: v.diskOptions === undefined ? 'disk.diskDrain' : `nodes[${i}].volumes[${j}].diskOptions.diskDrain`,
        });
      }
    }
  }
}

/** Every finding for a definition; an invalid definition is a ConfigError. */
export function checkResourceSafety(input: ResourceDefinition | ResourceDefinitionInput): Finding[] {
  const def = parseResourceDefinition(input);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (f: Finding): void => {
    const key = `${f.rule}\u0000${f.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      findings.push(f);
    }
  };
  for (const link of links(def)) checkLink(def, link, add);
  checkWriteOrdering(def, add);
  return findings;
}

export interface AssertSafeOptions {
  /** Rule ids the caller accepts the risk of, on purpose. */
  override?: readonly string[];
}

/**
 * Throws a SafetyError for the first error finding whose rule is not
 * overridden; returns all findings otherwise (warnings included) so callers
 * can show them.
 */
export function assertSafe(input: ResourceDefinition | ResourceDefinitionInput, options: AssertSafeOptions = {}): Finding[] {
  const override = options.override ?? [];
  const unknown = override.filter((r) => !(SAFETY_RULES as readonly string[]).includes(r));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown safety rule id${unknown.length === 1 ? '' : 's'} in override`,
      unknown.map((r) => `${JSON.stringify(r)} is not one of ${SAFETY_RULES.join(', ')}`),
    );
  }
  const findings = checkResourceSafety(input);
  const blocking = findings.filter((f) => f.severity === 'error' && !override.includes(f.rule));
  const first = blocking[0];
  if (first !== undefined) {
    const more = blocking.length > 1 ? ` (${blocking.length - 1} more: ${[...new Set(blocking.slice(1).map((f) => f.rule))].join(', ')})` : '';
    throw new SafetyError(first.rule, `${first.message}. Fix: ${first.fix} at ${first.path}${more}`, `override: ['${first.rule}']`);
  }
  return findings;
}
