/**
 * Safety rules on a Pacemaker configuration, pure over the spec so they run
 * on a generated configuration and on one read back from a live CIB alike.
 *
 * Facts behind the rules (docs/pacemaker-config.md, the lab's measurements):
 * - without a STONITH device Pacemaker starts nothing ("Resource start-up
 *   disabled since no STONITH resources have been defined"), and with
 *   stonith-enabled=false a node that vanished is assumed dead: both halves
 *   of a split run the service on the same data;
 * - a node no device can fence is a node the survivor cannot make safe;
 * - DRBD `fencing resource-only` lost writes in the lab (the cut Primary
 *   kept writing until it was killed); `resource-and-stonith` froze its I/O
 *   and nothing was lost;
 * - two Primaries need DRBD's resource-and-stonith, allow-two-primaries and
 *   protocol C, or a split lets both write;
 * - LVM-activate with lvmlockd needs lvmlockd running, which needs dlm; a
 *   Filesystem on DRBD must run where DRBD is Promoted, and only after the
 *   promotion.
 *
 * DRBD's own settings come in as plain facts (`drbd`), by DRBD resource
 * name; this layer does not read DRBD definitions.
 */
import { SafetyError } from '../../errors.js';
import type { PacemakerConfig, PcmkPrimitive } from './spec.js';

export const PACEMAKER_RULES = [
  'stonith-disabled',
  'no-stonith-device',
  'node-not-fenced',
  'drbd-fencing-resource-only',
  'drbd-fencing-required',
  'dual-primary-requires-drbd-fencing',
  'lvmlockd-after-dlm',
  'lvm-activate-after-lvmlockd',
  'lvm-activate-after-drbd-promote',
  'filesystem-with-promoted',
  'state-file-on-shared-filesystem',
] as const;
export type PacemakerRule = (typeof PACEMAKER_RULES)[number];

/** What the checker needs to know about a DRBD resource the configuration manages. */
export interface DrbdFacts {
  /** The `fencing` policy in effect (unset: DRBD's default dont-care). */
  fencing: 'dont-care' | 'resource-only' | 'resource-and-stonith' | undefined;
  allowTwoPrimaries: boolean;
  protocol: 'A' | 'B' | 'C' | undefined;
  /** A fence-peer handler is set. */
  fencePeerHandler: boolean;
}

export interface PacemakerFinding {
  rule: PacemakerRule;
  message: string;
  fix: string;
  /** The resource or constraint the finding is about, when there is one. */
  id?: string;
}

export interface CheckPacemakerOptions {
  /** DRBD facts by DRBD resource name (the ocf:linbit:drbd `drbd_resource`). Missing facts are findings. */
  drbd?: Readonly<Record<string, DrbdFacts>>;
}

/** Agent params naming per-run state: pid files, sockets, lock files (mysql's pid/socket, pgsql's pgdata-less pid, …). */
const STATE_FILE_PARAM = /^(pid|pidfile|pid_file|socket|lockfile|lock_file)$/;

const FALSE_WORDS = new Set(['false', 'no', 'n', 'off', '0']);

const is = (p: PcmkPrimitive, provider: string, type: string): boolean => p.class === 'ocf' && p.provider === provider && p.type === type;

/** Host names a stonith device says it fences: pcmk_host_list (spaces, commas, semicolons) and pcmk_host_map's keys. */
export function fencedHosts(device: PcmkPrimitive): string[] {
  const hosts: string[] = [];
  const list = device.params.pcmk_host_list;
  if (list !== undefined) hosts.push(...list.split(/[\s,;]+/).filter((h) => h !== ''));
  const map = device.params.pcmk_host_map;
  if (map !== undefined) {
    for (const entry of map.split(/[\s,;]+/)) {
      const host = entry.split(/[:=]/)[0];
      if (host !== undefined && host !== '') hosts.push(host);
    }
  }
  return hosts;
}

/** Resolves membership: a primitive's parents (group, clone) up to the top. */
class Topology {
  private readonly parent = new Map<string, string>();
  private readonly groupOrder = new Map<string, string[]>();

  constructor(private readonly config: PacemakerConfig) {
    for (const g of config.groups) {
      this.groupOrder.set(g.id, g.members);
      for (const m of g.members) this.parent.set(m, g.id);
    }
    for (const c of config.clones) this.parent.set(c.child, c.id);
  }

  /** The id itself and every container above it. */
  chain(id: string): string[] {
    const out = [id];
    for (let p = this.parent.get(id); p !== undefined; p = this.parent.get(p)) out.push(p);
    return out;
  }

  /** The clone holding a primitive (directly or through a group). */
  cloneOf(id: string): string | undefined {
    const clones = new Set(this.config.clones.map((c) => c.id));
    return this.chain(id).find((c) => clones.has(c));
  }

  /**
   * `then` cannot start before `first` did `action`: Mandatory orders (on the
   * resources or their containers) and group member order, transitively.
   */
  orderedAfter(then: string, first: string, action: 'start' | 'promote'): boolean {
    const targets = new Set(this.chain(first));
    const seen = new Set<string>();
    const queue = [then];
    while (queue.length > 0) {
      const id = queue.shift() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      const here = this.chain(id);
      for (const o of this.config.constraints.orders) {
        if ((o.kind ?? 'Mandatory') !== 'Mandatory' || !here.includes(o.then)) continue;
        const firstAction = o.firstAction ?? 'start';
        if (targets.has(o.first) && (action === 'promote' ? firstAction === 'promote' : firstAction === 'start' || firstAction === 'promote')) return true;
        queue.push(o.first);
      }
      for (const c of here) {
        // A group member starts after the members listed before it.
        const group = this.parent.get(c);
        const members = group === undefined ? undefined : this.groupOrder.get(group);
        if (members === undefined) continue;
        for (const m of members.slice(0, members.indexOf(c))) {
          if (action === 'start' && targets.has(m)) return true;
          queue.push(m);
        }
      }
    }
    return false;
  }

  /** `rsc` is placed (INFINITY) with `withRsc` in role `role`, directly or through its containers, or transitively. */
  colocatedWith(rsc: string, withRsc: string, role?: 'Promoted'): boolean {
    const targets = new Set(this.chain(withRsc));
    const seen = new Set<string>();
    const queue = this.chain(rsc);
    while (queue.length > 0) {
      const id = queue.shift() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const c of this.config.constraints.colocations) {
        if (c.rsc !== id || c.score !== 'INFINITY' && c.score !== '+INFINITY') continue;
        if (targets.has(c.withRsc) && (role === undefined || c.withRscRole === role)) return true;
        if (role === undefined || c.withRscRole === undefined) queue.push(...this.chain(c.withRsc));
      }
      // Members of one group run together.
      const group = this.parent.get(id);
      if (group !== undefined && this.groupOrder.has(group)) queue.push(group);
    }
    return false;
  }
}

/** Every finding; an empty list means the configuration passes. */
export function checkPacemakerConfig(config: PacemakerConfig, options: CheckPacemakerOptions = {}): PacemakerFinding[] {
  const findings: PacemakerFinding[] = [];
  const add = (f: PacemakerFinding): void => void findings.push(f);
  const topo = new Topology(config);

  const enabled = config.properties['stonith-enabled'];
  if (enabled !== undefined && FALSE_WORDS.has(enabled.toLowerCase())) {
    add({
      rule: 'stonith-disabled',
      message: 'stonith-enabled is false: a node that stops answering is assumed dead, so both halves of a split run the services on the same data',
      fix: 'set the property stonith-enabled=true and configure a fence device for every node',
    });
  }
  const devices = config.primitives.filter((p) => p.class === 'stonith');
  if (devices.length === 0) {
    add({
      rule: 'no-stonith-device',
      message: 'no STONITH device: Pacemaker starts nothing ("Resource start-up disabled since no STONITH resources have been defined"), and nothing could fence a lost node',
      fix: 'add a fence device (pacemaker.fencing.devices in the cluster file) whose pcmk_host_list or pcmk_host_map names the nodes',
    });
  } else {
    const covered = new Set(devices.flatMap(fencedHosts));
    for (const node of config.nodes) {
      if (!covered.has(node.name)) {
        add({
          rule: 'node-not-fenced',
          id: node.name,
          message: `no STONITH device names node ${node.name} in pcmk_host_list or pcmk_host_map: the other node cannot fence it, and recovery stops after a failure`,
          fix: `add ${node.name} to a device's pcmk_host_list (or pcmk_host_map), or add a device for it`,
        });
      }
    }
  }

  for (const p of config.primitives.filter((x) => is(x, 'linbit', 'drbd'))) {
    const resource = p.params.drbd_resource ?? '';
    const cloneId = topo.cloneOf(p.id);
    const clone = config.clones.find((c) => c.id === cloneId);
    const promotedMax = Number(clone?.meta['promoted-max'] ?? clone?.meta['master-max'] ?? '1');
    const facts = options.drbd?.[resource];
    if (facts === undefined) {
      add({
        rule: 'drbd-fencing-required',
        id: p.id,
        message: `${p.id} manages DRBD resource ${JSON.stringify(resource)}, whose fencing settings are unknown (not a resource of the cluster file)`,
        fix: 'define the DRBD resource in the cluster file with fencing resource-and-stonith and the crm fence handlers',
      });
      continue;
    }
    if (facts.fencing === 'resource-only') {
      add({
        rule: 'drbd-fencing-resource-only',
        id: p.id,
        message: `DRBD resource ${resource} uses fencing resource-only: in the lab a cut Primary kept writing until it was killed, the survivor was promoted, and the writes split (split brain on reconnect)`,
        fix: "set the DRBD resource's fencing to resource-and-stonith (DRBD then freezes I/O until the peer is fenced)",
      });
    } else if (facts.fencing !== 'resource-and-stonith' || !facts.fencePeerHandler) {
      add({
        rule: 'drbd-fencing-required',
        id: p.id,
        message: `DRBD resource ${resource} under Pacemaker ${facts.fencing === 'resource-and-stonith' ? 'has no fence-peer handler' : `uses fencing ${facts.fencing ?? 'dont-care (not set)'}`}: after a split the peer is not fenced before a promotion, so the data can split`,
        fix: 'set fencing resource-and-stonith and the fence-peer (and unfence) handlers: crm-fence-peer.sh / crm-unfence-peer.sh on 8.4, crm-fence-peer.9.sh / crm-unfence-peer.9.sh on 9',
      });
    }
    if (promotedMax >= 2 && (facts.fencing !== 'resource-and-stonith' || !facts.allowTwoPrimaries || facts.protocol !== 'C')) {
      const missing = [
        ...(facts.fencing === 'resource-and-stonith' ? [] : ['fencing resource-and-stonith']),
        ...(facts.allowTwoPrimaries ? [] : ['allow-two-primaries']),
        ...(facts.protocol === 'C' ? [] : ['protocol C']),
      ];
      add({
        rule: 'dual-primary-requires-drbd-fencing',
        id: clone?.id ?? p.id,
        message: `${clone?.id ?? p.id} lets ${promotedMax} nodes be Promoted, but DRBD resource ${resource} lacks ${missing.join(', ')}: two Primaries without them lose or split writes`,
        fix: `set ${missing.join(', ')} on the DRBD resource, or promoted-max=1`,
      });
    }
  }

  const dlms = config.primitives.filter((p) => is(p, 'pacemaker', 'controld'));
  const lockds = config.primitives.filter((p) => is(p, 'heartbeat', 'lvmlockd'));
  for (const l of lockds) {
    if (!dlms.some((d) => topo.orderedAfter(l.id, d.id, 'start'))) {
      add({
        rule: 'lvmlockd-after-dlm',
        id: l.id,
        message: `${l.id} (lvmlockd) is not ordered after a dlm (ocf:pacemaker:controld) resource: lvmlockd with lock type dlm fails to start its lockspaces without dlm_controld`,
        fix: `add the order ${dlms[0] === undefined ? 'dlm-clone' : (topo.cloneOf(dlms[0].id) ?? dlms[0].id)} then ${topo.cloneOf(l.id) ?? l.id}${dlms.length === 0 ? ' and the dlm clone itself' : ''}`,
      });
    }
  }
  const drbds = config.primitives.filter((x) => is(x, 'linbit', 'drbd'));
  for (const a of config.primitives.filter((p) => is(p, 'heartbeat', 'LVM-activate'))) {
    if (a.params.vg_access_mode === 'lvmlockd' && !lockds.some((l) => topo.orderedAfter(a.id, l.id, 'start'))) {
      add({
        rule: 'lvm-activate-after-lvmlockd',
        id: a.id,
        message: `${a.id} activates VG ${a.params.vgname ?? '?'} through lvmlockd but is not ordered after an lvmlockd resource: activation fails (or runs without locks) while lvmlockd is down`,
        fix: `add the order ${lockds[0] === undefined ? 'lvmlockd-clone' : (topo.cloneOf(lockds[0].id) ?? lockds[0].id)} then ${topo.cloneOf(a.id) ?? a.id}`,
      });
    }
    if (drbds.length > 0 && !drbds.some((d) => topo.orderedAfter(a.id, d.id, 'promote') && topo.colocatedWith(a.id, d.id, 'Promoted'))) {
      add({
        rule: 'lvm-activate-after-drbd-promote',
        id: a.id,
        message: `${a.id} is not ordered after, and colocated with, a Promoted DRBD clone: the VG on the DRBD device cannot be activated on a Secondary`,
        fix: `add the order ${topo.cloneOf(drbds[0]?.id ?? '') ?? 'the DRBD clone'}:promote then ${topo.cloneOf(a.id) ?? a.id}:start and a colocation with its Promoted role`,
      });
    }
  }
  for (const f of config.primitives.filter((p) => is(p, 'heartbeat', 'Filesystem'))) {
    const device = f.params.device ?? '';
    if (!/^\/dev\/drbd/.test(device) || drbds.length === 0) continue;
    const ok = drbds.some((d) => topo.colocatedWith(f.id, d.id, 'Promoted') && topo.orderedAfter(f.id, d.id, 'promote'));
    if (!ok) {
      const clone = topo.cloneOf(drbds[0]?.id ?? '') ?? drbds[0]?.id ?? 'the DRBD clone';
      add({
        rule: 'filesystem-with-promoted',
        id: f.id,
        message: `${f.id} mounts ${device} but is not colocated (INFINITY) with the Promoted role of ${clone} and ordered after its promotion: it would try to mount on a Secondary, where DRBD refuses to open the device`,
        fix: `add colocation ${f.id} with ${clone} role Promoted (INFINITY) and order ${clone}:promote then ${f.id}:start (or on the group holding it)`,
      });
    }
  }
  const shared = config.primitives.filter((p) => is(p, 'heartbeat', 'Filesystem') && /^\/dev\/drbd/.test(p.params.device ?? '')).map((f) => (f.params.directory ?? '').replace(/\/+$/, ''));
  for (const p of config.primitives) {
    for (const [name, value] of Object.entries(p.params)) {
      if (!STATE_FILE_PARAM.test(name)) continue;
      const under = shared.find((dir) => dir !== '' && value.startsWith(`${dir}/`));
      if (under === undefined) continue;
      add({
        rule: 'state-file-on-shared-filesystem',
        id: p.id,
        message: `${p.id}'s ${name} ${value} lies on the shared filesystem ${under}: a node that dies leaves it there, and an agent that checks the pid in it (ocf:heartbeat:mysql does, by /proc/PID) takes any process of the survivor with that pid for the service, reports it running and never starts it`,
        fix: `keep ${name} on node-local storage (e.g. under /run), away from ${under}`,
      });
    }
  }
  return findings;
}

/** Throws a SafetyError for the first finding (`doing`: what is refused, default generate); returns the configuration when there is none. */
export function assertPacemakerConfigSafe(config: PacemakerConfig, options: CheckPacemakerOptions = {}, doing: 'generate' | 'apply' = 'generate'): PacemakerConfig {
  const findings = checkPacemakerConfig(config, options);
  const first = findings[0];
  if (first !== undefined) {
    const more = findings.length > 1 ? ` (${findings.length - 1} more: ${[...new Set(findings.slice(1).map((f) => f.rule))].join(', ')})` : '';
    throw new SafetyError(first.rule, `refusing to ${doing} this Pacemaker configuration: ${first.message}. Fix: ${first.fix}${more}`, 'none: fix the configuration');
  }
  return config;
}
