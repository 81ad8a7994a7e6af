/**
 * The stack's Pacemaker configuration from the cluster file: the DRBD side
 * (fencing resource-and-stonith with the crm fence handlers of the DRBD
 * generation) checked or applied here, where DRBD definitions may be read,
 * and the cluster-manager side built and checked by src/pacemaker.
 *
 * DRBD's crm handlers by generation (drbd-utils ships both sets):
 * - 8.4: `fence-peer /usr/lib/drbd/crm-fence-peer.sh`, and the unfence as
 *   `after-resync-target /usr/lib/drbd/crm-unfence-peer.sh` (the 8.4 way;
 *   `fencing` is a disk option there);
 * - 9: `fence-peer /usr/lib/drbd/crm-fence-peer.9.sh` and
 *   `unfence-peer /usr/lib/drbd/crm-unfence-peer.9.sh` (`fencing` is a net
 *   option; the definition keeps it in `disk.fencing` and the renderer moves it).
 */
import { ConfigError, SafetyError } from '../errors.js';
import type { FencingPolicy, Handlers, ResourceDefinition } from '../drbd/config/index.js';
import {
  assertPacemakerConfigSafe,
  buildGuestsOnSharedLvm,
  buildServiceOnDrbd,
  type DrbdFacts,
  type FencingInput,
  type PacemakerConfig,
} from '../pacemaker/generate/index.js';
import type { ClusterFile } from './cluster-file.js';

export const STACK_TOPOLOGIES = ['service', 'guests'] as const;
export type StackTopology = (typeof STACK_TOPOLOGIES)[number];

/** The rule of `checkDrbdForPacemaker`. */
export const DRBD_PACEMAKER_RULE = 'drbd-crm-fence-handlers';

/** The handlers DRBD needs under Pacemaker, by generation. */
export const CRM_FENCE_HANDLERS: Readonly<Record<ResourceDefinition['target'], Handlers>> = {
  '8.4': { fencePeer: '/usr/lib/drbd/crm-fence-peer.sh', afterResyncTarget: '/usr/lib/drbd/crm-unfence-peer.sh' },
  '9': { fencePeer: '/usr/lib/drbd/crm-fence-peer.9.sh', unfencePeer: '/usr/lib/drbd/crm-unfence-peer.9.sh' },
};

const STRENGTH: Record<FencingPolicy | 'unset', number> = { unset: 0, 'dont-care': 0, 'resource-only': 1, 'resource-and-stonith': 2 };

/**
 * The facts src/pacemaker's rules need, taking the weakest link: a
 * connection (DRBD 9) that overrides the resource's fencing, protocol or
 * allow-two-primaries with less counts.
 */
export function drbdFactsOf(def: ResourceDefinition): DrbdFacts {
  const links = [
    { fencing: def.disk.fencing, protocol: def.protocol, two: def.net.allowTwoPrimaries },
    ...(def.connectionMesh === undefined ? [] : [def.connectionMesh]).map((m) => ({
      fencing: m.fencing ?? def.disk.fencing,
      protocol: m.protocol ?? def.protocol,
      two: m.net?.allowTwoPrimaries ?? def.net.allowTwoPrimaries,
    })),
    ...(def.connections ?? []).map((c) => ({
      fencing: c.fencing ?? def.disk.fencing,
      protocol: c.protocol ?? def.protocol,
      two: c.net?.allowTwoPrimaries ?? def.net.allowTwoPrimaries,
    })),
  ];
  const weakest = links.reduce((a, b) => (STRENGTH[b.fencing ?? 'unset'] < STRENGTH[a.fencing ?? 'unset'] ? b : a));
  return {
    fencing: weakest.fencing,
    allowTwoPrimaries: links.every((l) => l.two === true),
    protocol: links.every((l) => l.protocol === 'C') ? 'C' : (links.find((l) => l.protocol !== 'C')?.protocol ?? undefined),
    fencePeerHandler: def.handlers.fencePeer !== undefined,
  };
}

/**
 * Refuses a DRBD definition whose fence handlers are not the crm scripts of
 * its generation (a 9 script on 8.4 or the reverse fails, or fences the wrong
 * peer; no handler means promotion never waits for the peer's fencing).
 */
export function checkDrbdForPacemaker(def: ResourceDefinition, doing: 'generate' | 'apply' = 'generate'): void {
  const want = CRM_FENCE_HANDLERS[def.target];
  const wrong = (Object.entries(want) as [keyof Handlers, string][]).filter(([key, path]) => {
    if (def.target === '8.4' && key === 'afterResyncTarget') return def.handlers.afterResyncTarget !== path && def.handlers.unfencePeer !== path;
    return def.handlers[key] !== path;
  });
  if (wrong.length === 0) return;
  const set = Object.entries(want)
    .map(([key, path]) => `handlers.${key}: ${path}`)
    .join(', ');
  throw new SafetyError(
    DRBD_PACEMAKER_RULE,
    `refusing to ${doing} the Pacemaker configuration: DRBD ${def.target} resource ${def.name} has ${wrong.map(([key]) => `handlers.${key} ${def.handlers[key] === undefined ? 'unset' : JSON.stringify(def.handlers[key])}`).join(', ')}; under Pacemaker DRBD ${def.target} needs the crm handlers of its generation, or a promotion does not wait for the peer to be fenced. Fix: set ${set} (withPacemakerFencing does it)`,
    'none: fix the handlers',
  );
}

/** The definition with `fencing resource-and-stonith` and the crm handlers of its generation set. */
export function withPacemakerFencing(def: ResourceDefinition): ResourceDefinition {
  const handlers: Handlers = { ...def.handlers, ...CRM_FENCE_HANDLERS[def.target] };
  return { ...def, disk: { ...def.disk, fencing: 'resource-and-stonith' }, handlers };
}

export interface GenerateStackOptions {
  /** Overrides the file's pacemaker.topology (default service). */
  topology?: StackTopology;
  /** What a refusal says hastor will not do (default generate). */
  doing?: 'generate' | 'apply';
}

export interface GeneratedStack {
  topology: StackTopology;
  /** The DRBD resource the stack runs on. */
  resource: string;
  config: PacemakerConfig;
  /** What the safety rules were told about the DRBD resource (applyPacemakerConfig checks again with them). */
  drbd: Record<string, DrbdFacts>;
}

/**
 * Builds and checks the configuration: the file's `pacemaker` section, its
 * DRBD resource (checked for the crm handlers), then every rule of
 * src/pacemaker (stonith, fencing, dual-primary, ordering). A missing piece
 * of the file is a ConfigError; a refused configuration a SafetyError.
 */
export function generateStackPacemakerConfig(file: ClusterFile, options: GenerateStackOptions = {}): GeneratedStack {
  const section = file.pacemaker;
  const where = `${file.path}: pacemaker`;
  if (section === undefined) {
    throw new ConfigError(`${file.path} has no "pacemaker" section`, ['add one with fencing.devices and a service or guests part (docs/pacemaker-config.md)']);
  }
  const topology = options.topology ?? section.topology ?? 'service';
  const names = Object.keys(file.resources);
  const resourceName = section.resource ?? (names.length === 1 ? names[0] : undefined);
  if (resourceName === undefined) {
    throw new ConfigError(`${where}.resource: name the DRBD resource the stack runs on`, [`the file has ${names.length === 0 ? 'no resources' : names.join(', ')}`]);
  }
  const def = file.resources[resourceName];
  if (def === undefined) throw new ConfigError(`${where}.resource: ${resourceName} is not a resource of the file`, [`the file has ${names.join(', ') || 'no resources'}`]);
  const fencing: FencingInput = {
    devices: (section.fencing?.devices ?? []).map((d) => ({ ...d, params: { ...d.params } })),
    ...(section.fencing?.priorityFencingDelay === undefined ? {} : { priorityFencingDelay: section.fencing.priorityFencingDelay }),
  };
  const nodes = file.nodes.map((n) => n.name);
  const properties = section.properties ?? {};
  let config: PacemakerConfig;
  if (topology === 'service') {
    const service = section.service;
    if (service === undefined) throw new ConfigError(`${where}.service: the service topology needs a service (id, agent, filesystem)`);
    const volume = def.nodes[0]?.volumes[0];
    if (volume === undefined) throw new ConfigError(`resources.${resourceName}: no volume to put the file system on`);
    config = buildServiceOnDrbd({
      nodes,
      fencing,
      drbd: { resource: resourceName },
      filesystem: { device: volume.device ?? `/dev/drbd${volume.minor}`, ...service.filesystem },
      service: { id: service.id, agent: service.agent, ...(service.params === undefined ? {} : { params: service.params }) },
      ...(service.ip === undefined ? {} : { ip: service.ip }),
      properties,
    });
  } else {
    const guests = section.guests;
    if (guests === undefined) throw new ConfigError(`${where}.guests: the guests topology needs guests (vg, list)`);
    config = buildGuestsOnSharedLvm({ nodes, fencing, drbd: { resource: resourceName }, vg: guests.vg, guests: guests.list, properties });
  }
  checkDrbdForPacemaker(def, options.doing);
  const drbd = { [resourceName]: drbdFactsOf(def) };
  assertPacemakerConfigSafe(config, { drbd }, options.doing);
  return { topology, resource: resourceName, config, drbd };
}
