/**
 * Safety rules that need the cluster's live state, checked before an
 * operation runs anything. Each refusal is a SafetyError with the rule id,
 * why it is dangerous, and how to override it on purpose (`override: [id]`
 * on the operation, or `force` where DRBD's own force is the override).
 * The definition-only rules (dual-primary needs protocol C, fencing,
 * after-sb policies …) live in src/drbd/config/safety.ts and are applied here
 * to the dual-primary window with their own ids.
 */
import { ConfigError, SafetyError } from '../errors.js';
import { SAFETY_RULES, checkResourceSafety, type Finding, type ResourceDefinition } from '../drbd/config/index.js';
import {
  describeState,
  describeUse,
  hasUpToDateData,
  isInSync,
  isInUse,
  peerHasUpToDateData,
  type BackingSignatures,
  type DeviceUse,
} from '../drbd/lifecycle/index.js';
import type { ResourceStatus } from '../drbd/status-model.js';
import type { UpperLayerVerdict } from './upper-layer.js';

export const RUNTIME_RULES = [
  'create-md-on-signature',
  'promote-without-uptodate',
  'force-primary-with-uptodate-peer',
  'dual-primary-requires-cluster-aware-upper-layer',
  'dual-primary-requires-connected-in-sync',
  'primary-in-use',
  'delete-primary',
  'invalidate-without-uptodate-peer',
] as const;
export type RuntimeRule = (typeof RUNTIME_RULES)[number];

/** Rules no override lifts: DRBD itself would refuse, or nothing could make the step safe. */
const NOT_OVERRIDABLE: ReadonlySet<string> = new Set<RuntimeRule>(['primary-in-use', 'delete-primary']);

/** Rejects override lists naming unknown rules (a typo must not silently keep a rule on). */
export function checkOverrides(override: readonly string[] = []): readonly string[] {
  const known = new Set<string>([...RUNTIME_RULES, ...SAFETY_RULES]);
  const unknown = override.filter((r) => !known.has(r));
  const fixed = override.filter((r) => NOT_OVERRIDABLE.has(r));
  if (unknown.length > 0 || fixed.length > 0) {
    throw new ConfigError('invalid safety override', [
      ...unknown.map((r) => `${JSON.stringify(r)} is not a rule id (runtime: ${RUNTIME_RULES.join(', ')}; config: ${SAFETY_RULES.join(', ')})`),
      ...fixed.map((r) => `${r} cannot be overridden`),
    ]);
  }
  return override;
}

const overridden = (override: readonly string[], rule: string): boolean => override.includes(rule);
const hint = (rule: string): string => `override: ['${rule}']`;

export type CreateMdDecision = 'skip' | 'create' | 'force';

/**
 * create-md only on a device with no signature (DRBD's own meta data means
 * create-md already ran). Internal meta data goes into the last part of the
 * backing device, over whatever file system or LVM label is there.
 */
export function decideCreateMd(node: string, resource: string, signatures: BackingSignatures, override: readonly string[]): CreateMdDecision {
  if (signatures.drbdMetaData) return 'skip';
  if (signatures.foreign.length === 0) return 'create';
  const rule: RuntimeRule = 'create-md-on-signature';
  if (overridden(override, rule)) return 'force';
  throw new SafetyError(
    rule,
    `${node}: refusing create-md for ${resource} on ${signatures.device}: it carries a ${signatures.foreign.join(', ')} signature and no DRBD meta data, so it holds someone's data and DRBD's meta data would be written over its end. Use an empty device, or wipe it (wipefs -a ${signatures.device}) if the data is really unwanted`,
    `${hint(rule)} (runs drbdadm -- --force create-md)`,
  );
}

/**
 * Promotion: a node without UpToDate data becomes Primary only on purpose —
 * `force` (primary --force: its data becomes the good copy) or an override
 * (plain primary; DRBD then serves reads from an UpToDate peer). `--force`
 * is refused while a connected peer has UpToDate data: it would throw that
 * good copy away. Returns whether to pass --force.
 */
export function decidePromotion(node: string, resource: string, status: ResourceStatus, options: { force?: boolean; override: readonly string[] }): boolean {
  const upToDate = hasUpToDateData(status);
  if (options.force) {
    if (upToDate) return false; // nothing to force
    const rule: RuntimeRule = 'force-primary-with-uptodate-peer';
    if (peerHasUpToDateData(status) && !overridden(options.override, rule)) {
      throw new SafetyError(
        rule,
        `${node}: refusing primary --force for ${resource}: a connected peer has UpToDate data (${describeState(status)}); forcing would make this node's ${[...new Set(status.devices.map((d) => d.diskState))].join('/')} data win and overwrite the good copy. Promote without force (DRBD reads from the peer) or wait for the resync`,
        hint(rule),
      );
    }
    return true;
  }
  const rule: RuntimeRule = 'promote-without-uptodate';
  if (!upToDate && !overridden(options.override, rule)) {
    throw new SafetyError(
      rule,
      `${node}: refusing to promote ${resource}: this node has no UpToDate data (${describeState(status)}). Wait for the resync, or promote a node whose data is UpToDate`,
      `force: true to make this node's data the good copy (primary --force), or ${hint(rule)} to promote without force and let DRBD read from an UpToDate peer`,
    );
  }
  return false;
}

/** Demoting or taking down a Primary that something still uses: DRBD refuses ("held open by someone"); say who. */
export function assertNotInUse(node: string, resource: string, operation: string, use: DeviceUse): void {
  if (!isInUse(use)) return;
  throw new SafetyError(
    'primary-in-use',
    `${node}: refusing ${operation} of ${resource}: /dev/drbd${use.minor} is in use (${describeUse(use)}); DRBD would refuse too ("Device is held open by someone"). Stop its users first (umount, vgchange -an, stop the VM or process)`,
    'none: stop what uses the device; this rule cannot be overridden',
  );
}

export function assertNotPrimaryForDelete(node: string, resource: string, status: ResourceStatus | null | undefined): void {
  if (status?.role !== 'Primary') return;
  throw new SafetyError(
    'delete-primary',
    `${node}: refusing to delete ${resource}: this node is Primary, so its data is live. Demote it (secondary) after stopping its users, then delete`,
    'none: demote first; delete never wipes a Primary',
  );
}

/** The definition's rules with allow-two-primaries switched on: what the window will run with. */
export function assertDualPrimaryConfig(definition: ResourceDefinition, override: readonly string[]): Finding[] {
  const findings = checkResourceSafety({ ...definition, net: { ...definition.net, allowTwoPrimaries: true } });
  const blocking = findings.filter((f) => f.severity === 'error' && !overridden(override, f.rule));
  const first = blocking[0];
  if (first !== undefined) {
    const more = blocking.length > 1 ? ` (also: ${[...new Set(blocking.slice(1).map((f) => f.rule))].join(', ')})` : '';
    throw new SafetyError(first.rule, `refusing dual-primary for ${definition.name}: ${first.message}. Fix: ${first.fix} at ${first.path}, then adjust${more}`, hint(first.rule));
  }
  return findings;
}

export function assertUpperLayer(resource: string, verdict: UpperLayerVerdict | undefined, override: readonly string[]): void {
  const rule: RuntimeRule = 'dual-primary-requires-cluster-aware-upper-layer';
  if (overridden(override, rule) || verdict?.clusterAware === true) return;
  const why =
    verdict === undefined
      ? 'no upper-layer check was given, so nothing shows that what uses the device (a VG, a file system) coordinates writes between nodes'
      : `the layer above is not cluster-aware: ${verdict.detail}`;
  throw new SafetyError(
    rule,
    `refusing dual-primary for ${resource}: ${why}. Two nodes writing through a plain VG or a local file system corrupt it. Use a shared VG (lvmlockd) or a cluster file system and pass its check as upperLayer`,
    hint(rule),
  );
}

/** Promoting a second node while not connected and in sync is a split brain by construction. */
export function assertConnectedInSync(resource: string, states: Record<string, ResourceStatus | null | undefined>, override: readonly string[]): void {
  const rule: RuntimeRule = 'dual-primary-requires-connected-in-sync';
  if (overridden(override, rule)) return;
  const bad = Object.entries(states).filter(([, s]) => !isInSync(s));
  if (bad.length === 0) return;
  throw new SafetyError(
    rule,
    `refusing dual-primary for ${resource}: not every node is connected with UpToDate data on both sides (${bad.map(([n, s]) => `${n}: ${describeState(s)}`).join('; ')}); a second Primary now would diverge from the first. Connect and let the resync finish`,
    hint(rule),
  );
}

/** invalidate throws this node's data away; some connected peer must hold an UpToDate copy to sync from. */
export function assertInvalidateAllowed(node: string, resource: string, status: ResourceStatus, override: readonly string[]): void {
  const rule: RuntimeRule = 'invalidate-without-uptodate-peer';
  if (peerHasUpToDateData(status) || overridden(override, rule)) return;
  throw new SafetyError(
    rule,
    `${node}: refusing to invalidate ${resource}: no connected peer has UpToDate data (${describeState(status)}), so this node's copy may be the only good one. Connect to a peer with UpToDate data first`,
    hint(rule),
  );
}
