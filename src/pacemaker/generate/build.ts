/**
 * Builders for the two stack topologies hastor knows, from DRBD- and
 * LVM-agnostic inputs (names, paths, agents). The stack layer
 * (src/stack/pacemaker-config.ts) fills the inputs from the cluster file.
 *
 * A, a service on DRBD: a promotable clone of ocf:linbit:drbd (one Promoted),
 * and a group Filesystem → IP → service colocated with the Promoted role and
 * ordered after the promotion.
 *
 * B, guests on clustered LVM on dual-primary DRBD: clones of
 * ocf:pacemaker:controld (dlm) and ocf:heartbeat:lvmlockd, the DRBD clone with
 * two Promoted, a shared LVM-activate clone, then the guests; ordered
 * dlm → lvmlockd → LVM-activate, DRBD promote → LVM-activate → guest, with a
 * colocation for each step.
 *
 * Operation timeouts are the ones the agents' meta-data recommends
 * (ocf:linbit:drbd of drbd-utils 9.22: start 240, promote/demote/notify 90,
 * stop 100, monitor 20 s every 10 s Promoted / 20 s Unpromoted).
 */
import { parseAgentName, validatePacemakerConfig, type PacemakerConfig, type PcmkColocation, type PcmkOp, type PcmkOrder, type PcmkPrimitive } from './spec.js';

export interface StonithDeviceInput {
  id: string;
  /** A fence agent, e.g. `fence_ipmilan`, `fence_virsh`, `fence_sbd`. */
  agent: string;
  /** Agent parameters, including `pcmk_host_list` or `pcmk_host_map`. */
  params: Record<string, string>;
  /** Default 60s. */
  monitorInterval?: string;
}

export interface FencingInput {
  devices: StonithDeviceInput[];
  /**
   * `priority-fencing-delay` (two nodes: the node running the higher-priority
   * resources, the Promoted one, is fenced later and so wins a split). Default
   * 10s; `0` leaves it off.
   */
  priorityFencingDelay?: string;
}

export interface DrbdCloneInput {
  /** The DRBD resource name (the agent's drbd_resource). */
  resource: string;
}

export interface ServiceTopologyInput {
  nodes: string[];
  fencing: FencingInput;
  drbd: DrbdCloneInput;
  filesystem: { device: string; directory: string; fstype: string; options?: string };
  /** The service: `ocf:heartbeat:mysql`, `systemd:mariadb`, … */
  service: { id: string; agent: string; params?: Record<string, string> };
  ip?: { address: string; cidrNetmask: number; nic?: string };
  /** Extra cluster properties. */
  properties?: Record<string, string>;
}

export interface GuestInput {
  id: string;
  /** Default ocf:heartbeat:VirtualDomain. */
  agent?: string;
  params?: Record<string, string>;
  /** meta allow-migrate (live migration); default true. */
  allowMigrate?: boolean;
}

export interface GuestsTopologyInput {
  nodes: string[];
  fencing: FencingInput;
  drbd: DrbdCloneInput;
  /** The shared VG on the DRBD device. */
  vg: string;
  guests: GuestInput[];
  properties?: Record<string, string>;
}

export const DRBD_OPS: readonly PcmkOp[] = [
  { name: 'monitor', interval: '10s', timeout: '20s', role: 'Promoted' },
  { name: 'monitor', interval: '20s', timeout: '20s', role: 'Unpromoted' },
  { name: 'start', interval: '0s', timeout: '240s' },
  { name: 'stop', interval: '0s', timeout: '100s' },
  { name: 'promote', interval: '0s', timeout: '90s' },
  { name: 'demote', interval: '0s', timeout: '90s' },
  { name: 'notify', interval: '0s', timeout: '90s' },
];

/** Ids the builders give, from the DRBD resource name; stable so a later run changes nothing. */
export const stackIds = {
  drbd: (resource: string) => `drbd-${resource}`,
  drbdClone: (resource: string) => `drbd-${resource}-clone`,
  filesystem: (resource: string) => `fs-${resource}`,
  ip: (service: string) => `ip-${service}`,
  group: (service: string) => `g-${service}`,
  dlm: 'dlm',
  dlmClone: 'dlm-clone',
  lvmlockd: 'lvmlockd',
  lvmlockdClone: 'lvmlockd-clone',
  lvm: (vg: string) => `lvm-${vg}`,
  lvmClone: (vg: string) => `lvm-${vg}-clone`,
};

function primitive(id: string, agent: string, params: Record<string, string>, ops: PcmkOp[], meta: Record<string, string> = {}): PcmkPrimitive {
  return { id, ...parseAgentName(agent), params, meta, ops };
}

const colocation = (rsc: string, withRsc: string, withRscRole?: 'Promoted'): PcmkColocation => ({
  id: `col-${rsc}-with-${withRsc}${withRscRole === undefined ? '' : `-${withRscRole.toLowerCase()}`}`,
  rsc,
  withRsc,
  ...(withRscRole === undefined ? {} : { withRscRole }),
  score: 'INFINITY',
});

const order = (first: string, then: string, firstAction: 'start' | 'promote' = 'start'): PcmkOrder => ({
  id: `order-${first}-${firstAction === 'promote' ? 'promote-' : ''}then-${then}`,
  first,
  firstAction,
  then,
  thenAction: 'start',
  kind: 'Mandatory',
});

function stonithPrimitives(fencing: FencingInput): PcmkPrimitive[] {
  return fencing.devices.map((d) => ({
    id: d.id,
    class: 'stonith',
    type: d.agent,
    params: { ...d.params },
    meta: {},
    ops: [{ name: 'monitor', interval: d.monitorInterval ?? '60s' }],
  }));
}

function properties(nodes: string[], fencing: FencingInput, extra: Record<string, string> = {}): Record<string, string> {
  const delay = fencing.priorityFencingDelay ?? '10s';
  return {
    'stonith-enabled': 'true',
    ...(nodes.length === 2 && delay !== '0' && delay !== '0s' ? { 'priority-fencing-delay': delay } : {}),
    ...extra,
  };
}

function drbdPrimitives(drbd: DrbdCloneInput, promotedMax: 1 | 2): { primitive: PcmkPrimitive; clone: PacemakerConfig['clones'][number] } {
  const id = stackIds.drbd(drbd.resource);
  return {
    primitive: primitive(id, 'ocf:linbit:drbd', { drbd_resource: drbd.resource }, [...DRBD_OPS]),
    clone: {
      id: stackIds.drbdClone(drbd.resource),
      child: id,
      meta: {
        promotable: 'true',
        'promoted-max': String(promotedMax),
        'promoted-node-max': '1',
        'clone-max': '2',
        'clone-node-max': '1',
        notify: 'true',
        // With priority-fencing-delay the Promoted instance counts priority + 1: its node wins a split.
        priority: '1',
      },
    },
  };
}

/** Topology A: one service on a single-Primary DRBD resource. */
export function buildServiceOnDrbd(input: ServiceTopologyInput): PacemakerConfig {
  const { primitive: drbd, clone } = drbdPrimitives(input.drbd, 1);
  const fsId = stackIds.filesystem(input.drbd.resource);
  const fs = primitive(
    fsId,
    'ocf:heartbeat:Filesystem',
    {
      device: input.filesystem.device,
      directory: input.filesystem.directory,
      fstype: input.filesystem.fstype,
      ...(input.filesystem.options === undefined ? {} : { options: input.filesystem.options }),
    },
    [
      { name: 'monitor', interval: '20s', timeout: '40s' },
      { name: 'start', interval: '0s', timeout: '60s' },
      { name: 'stop', interval: '0s', timeout: '60s' },
    ],
  );
  const members: PcmkPrimitive[] = [fs];
  if (input.ip !== undefined) {
    members.push(
      primitive(
        stackIds.ip(input.service.id),
        'ocf:heartbeat:IPaddr2',
        { ip: input.ip.address, cidr_netmask: String(input.ip.cidrNetmask), ...(input.ip.nic === undefined ? {} : { nic: input.ip.nic }) },
        [{ name: 'monitor', interval: '10s', timeout: '20s' }],
      ),
    );
  }
  members.push(primitive(input.service.id, input.service.agent, { ...input.service.params }, [{ name: 'monitor', interval: '30s', timeout: '60s' }]));
  const group = { id: stackIds.group(input.service.id), members: members.map((m) => m.id), meta: {} };
  return validatePacemakerConfig({
    nodes: input.nodes.map((name) => ({ name })),
    properties: properties(input.nodes, input.fencing, input.properties),
    primitives: [...stonithPrimitives(input.fencing), drbd, ...members],
    clones: [clone],
    groups: [group],
    constraints: {
      locations: [],
      colocations: [colocation(group.id, clone.id, 'Promoted')],
      orders: [order(clone.id, group.id, 'promote')],
    },
  });
}

/** Topology B: guests on a shared VG on dual-Primary DRBD, under dlm and lvmlockd. */
export function buildGuestsOnSharedLvm(input: GuestsTopologyInput): PacemakerConfig {
  const { primitive: drbd, clone: drbdClone } = drbdPrimitives(input.drbd, 2);
  const cloneMeta = { interleave: 'true', 'clone-max': '2', 'clone-node-max': '1' };
  drbdClone.meta.interleave = 'true';
  const dlm = primitive(stackIds.dlm, 'ocf:pacemaker:controld', {}, [
    { name: 'monitor', interval: '30s', timeout: '60s' },
    { name: 'start', interval: '0s', timeout: '90s' },
    { name: 'stop', interval: '0s', timeout: '100s' },
  ]);
  const lvmlockd = primitive(stackIds.lvmlockd, 'ocf:heartbeat:lvmlockd', {}, [
    { name: 'monitor', interval: '30s', timeout: '90s' },
    { name: 'start', interval: '0s', timeout: '90s' },
    { name: 'stop', interval: '0s', timeout: '90s' },
  ]);
  const lvm = primitive(stackIds.lvm(input.vg), 'ocf:heartbeat:LVM-activate', { vgname: input.vg, vg_access_mode: 'lvmlockd', activation_mode: 'shared' }, [
    { name: 'monitor', interval: '30s', timeout: '90s' },
    { name: 'start', interval: '0s', timeout: '90s' },
    { name: 'stop', interval: '0s', timeout: '90s' },
  ]);
  const clones = [
    { id: stackIds.dlmClone, child: dlm.id, meta: { ...cloneMeta } },
    { id: stackIds.lvmlockdClone, child: lvmlockd.id, meta: { ...cloneMeta } },
    drbdClone,
    { id: stackIds.lvmClone(input.vg), child: lvm.id, meta: { ...cloneMeta } },
  ];
  const lvmClone = stackIds.lvmClone(input.vg);
  const guests = input.guests.map((g) =>
    primitive(
      g.id,
      g.agent ?? 'ocf:heartbeat:VirtualDomain',
      { ...g.params },
      [
        { name: 'monitor', interval: '30s', timeout: '60s' },
        { name: 'start', interval: '0s', timeout: '120s' },
        { name: 'stop', interval: '0s', timeout: '120s' },
        ...(g.allowMigrate === false
          ? []
          : [
              { name: 'migrate_to' as const, interval: '0s', timeout: '120s' },
              { name: 'migrate_from' as const, interval: '0s', timeout: '120s' },
            ]),
      ],
      g.allowMigrate === false ? {} : { 'allow-migrate': 'true' },
    ),
  );
  return validatePacemakerConfig({
    nodes: input.nodes.map((name) => ({ name })),
    properties: properties(input.nodes, input.fencing, input.properties),
    primitives: [...stonithPrimitives(input.fencing), dlm, lvmlockd, drbd, lvm, ...guests],
    clones,
    groups: [],
    constraints: {
      locations: [],
      colocations: [
        colocation(stackIds.lvmlockdClone, stackIds.dlmClone),
        colocation(lvmClone, stackIds.lvmlockdClone),
        colocation(lvmClone, drbdClone.id, 'Promoted'),
        ...guests.map((g) => colocation(g.id, lvmClone)),
      ],
      orders: [
        order(stackIds.dlmClone, stackIds.lvmlockdClone),
        order(stackIds.lvmlockdClone, lvmClone),
        order(drbdClone.id, lvmClone, 'promote'),
        ...guests.map((g) => order(lvmClone, g.id)),
      ],
    },
  });
}
