/**
 * One DRBD resource across the nodes of a cluster: create, up, down, adjust,
 * connect, disconnect, promote/demote, the dual-primary window, online
 * verify, invalidate, delete.
 *
 * Every operation reads the state first and plans only what is missing, so
 * running it twice does nothing the second time; it returns the actions it
 * ran (`dryRun`: the actions it would run) and each node's state once it
 * settled. Safety rules are checked on the whole plan before the first
 * action runs, so a refusal changes nothing.
 *
 * Node order: definition order unless a step says otherwise. Reads run on
 * all nodes in parallel; actions run one at a time.
 */
import { ConfigError } from '../errors.js';
import { parseResourceDefinition, renderResource, type DrbdTarget, type ResourceDefinition, type ResourceDefinitionInput } from '../drbd/config/index.js';
import {
  describeState,
  drbdadm,
  drbdadmAllowTwoPrimaries,
  drbdadmCreateMd,
  drbdadmPrimary,
  drbdadmWipeMd,
  hasUpToDateData,
  isConnected,
  isFreshlyCreated,
  isInSync,
  isPrimary,
  isResyncing,
  isStandAlone,
  isVerifying,
  outOfSyncBytes,
  pollUntil,
  renderTargetFor,
  twoPrimariesAllowed,
  verifyAlgorithm,
  type DeviceUse,
  type DrbdGeneration,
  type DrbdNode,
  type DrbdVersions,
} from '../drbd/lifecycle/index.js';
import type { DrbdStatus, ResourceStatus } from '../drbd/status-model.js';
import { ResourceStateError, performActions, writeAction, type Action, type FileWrite, type OperationResult } from './actions.js';
import type { Cluster } from './cluster.js';
import {
  assertConnectedInSync,
  assertDualPrimaryConfig,
  assertInvalidateAllowed,
  assertNotInUse,
  assertNotPrimaryForDelete,
  assertUpperLayer,
  checkOverrides,
  decideCreateMd,
  decidePromotion,
  type CreateMdDecision,
} from './runtime-safety.js';
import type { UpperLayerCheck } from './upper-layer.js';
import { assertNotBehindClusterManager, assertPacemakerCanPromoteTwo, clearBansActions, closeWindowActions, openWindowActions, pacemakerCheck, type ClusterManagerCheck, type PacemakerHold } from './cluster-manager.js';

export interface LifecycleTimeouts {
  /** Until every node is Connected after up/connect/create. Default 60 s. */
  connectMs: number;
  /** Until a resync (initial sync, invalidate, reconnect) ends. Default 10 min. */
  syncMs: number;
  /** Until a role change or down is visible. Default 30 s. */
  roleMs: number;
  /** Until an online verify ends. Default 1 h. */
  verifyMs: number;
}

export interface DrbdResourceOptions {
  /** The check of the layer above the device, used by beginDualPrimary (the LVM layer provides one). */
  upperLayer?: UpperLayerCheck;
  /** Between state reads while waiting. Default 250 ms. */
  pollIntervalMs?: number;
  timeouts?: Partial<LifecycleTimeouts>;
  /** Where `.res` files live. Default /etc/drbd.d. */
  configDir?: string;
  /**
   * Asks the cluster manager before changing a role or the lifecycle, and
   * refuses what it would do behind Pacemaker's back. Default: Pacemaker,
   * read on the resource's nodes (nothing is refused where it does not run);
   * null turns the check off for a caller that is the cluster manager's agent.
   */
  clusterManager?: ClusterManagerCheck | null;
}

export interface OperationOptions {
  /** Plan only: read state, check the rules, return the actions without running them. */
  dryRun?: boolean;
  /** Safety rule ids whose risk the caller accepts on purpose. */
  override?: readonly string[];
}

export interface NodesOption {
  /** Only these nodes (default: every node of the resource). */
  nodes?: readonly string[];
}

export interface CreateOptions extends OperationOptions {
  /**
   * The node whose (empty) data becomes the initial sync source with
   * `primary --force` when every node has fresh meta data. Default: the
   * definition's first node; null leaves every node Inconsistent.
   */
  syncSource?: string | null;
  /** Keep the sync source Primary after starting the sync (default: demote it again). */
  stayPrimary?: boolean;
  /** Wait for the connection and the initial sync (default true). */
  wait?: boolean;
}

export interface PromoteOptions extends OperationOptions {
  /** primary --force: make this node's data the good copy although it is not UpToDate. */
  force?: boolean;
}

export interface DualPrimaryOptions extends OperationOptions {
  /** The node to promote as second Primary (default: the one that is not Primary). */
  node?: string;
  /** Replaces the resource's upperLayer check for this call. */
  upperLayer?: UpperLayerCheck;
}

export interface EndDualPrimaryOptions extends OperationOptions {
  /** The node that stays Primary. */
  keep: string;
}

export interface VerifyOptions extends OperationOptions {
  /** The node that runs the verify (default: the first connected node). */
  node?: string;
}

export interface VerifyNodeReport {
  /** Out-of-sync bytes as `drbdsetup events2` reports them. */
  events2Bytes: bigint | null;
  /** `oos:` of the resource's minors in /proc/drbd (DRBD 8.x; null on 9). */
  procBytes: bigint | null;
}

export interface VerifyResult extends OperationResult {
  /** The node the verify ran from. */
  node: string;
  /** Out-of-sync bytes found (largest figure any node reports after the verify; 0 when the replicas match). */
  outOfSyncBytes: bigint;
  /** Out-of-sync bytes already known before the verify started (e.g. writes while disconnected). */
  outOfSyncBeforeBytes: bigint;
  perNode: Record<string, VerifyNodeReport>;
}

export interface InvalidateOptions extends OperationOptions {
  /** Wait for the resync to finish (default true). */
  wait?: boolean;
}

export interface DeleteOptions extends OperationOptions {
  /** Leave /etc/drbd.d/<name>.res in place (default: remove it). */
  keepConfig?: boolean;
}

type States = Record<string, ResourceStatus | null>;

const DEFAULT_TIMEOUTS: LifecycleTimeouts = { connectMs: 60_000, syncMs: 600_000, roleMs: 30_000, verifyMs: 3_600_000 };
const HEADER = 'Written by hastor from the resource definition; change the definition, not this file.';

function hasSharedSecret(def: ResourceDefinition): boolean {
  return [def.net, def.connectionMesh?.net, ...(def.connections ?? []).map((c) => c.net)].some((n) => n?.sharedSecret !== undefined);
}

function sum(values: readonly (bigint | null)[]): bigint | null {
  return values.reduce<bigint | null>((a, v) => (v === null ? a : (a ?? 0n) + v), null);
}

/** `oos:` of the given minors in /proc/drbd (8.x names minors, not resources). */
function procOutOfSync(proc: DrbdStatus, minors: readonly number[]): bigint | null {
  const values: (bigint | null)[] = [];
  for (const r of proc.resources) {
    if (!r.devices.some((d) => minors.includes(d.minor))) continue;
    for (const c of r.connections) for (const p of c.peerDevices) values.push(p.outOfSyncBytes);
  }
  return sum(values);
}

export class DrbdResource {
  readonly cluster: Cluster;
  readonly definition: ResourceDefinition;
  readonly name: string;
  readonly configPath: string;
  private readonly options: DrbdResourceOptions;
  private readonly timeouts: LifecycleTimeouts;

  constructor(cluster: Cluster, definition: ResourceDefinition | ResourceDefinitionInput, options: DrbdResourceOptions = {}) {
    this.cluster = cluster;
    this.definition = parseResourceDefinition(definition);
    this.name = this.definition.name;
    this.options = options;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.configPath = `${(options.configDir ?? '/etc/drbd.d').replace(/\/+$/, '')}/${this.name}.res`;
    const missing = this.definition.nodes.map((n) => n.name).filter((n) => !cluster.has(n));
    if (missing.length > 0) {
      throw new ConfigError(`resource ${this.name} names nodes the cluster does not have`, missing.map((n) => `${n} is not one of ${cluster.names.join(', ')}`));
    }
  }

  /** The resource's nodes, in definition order. */
  get nodeNames(): string[] {
    return this.definition.nodes.map((n) => n.name);
  }

  private drbd(node: string): DrbdNode {
    return this.cluster.drbd(node);
  }

  private select(nodes: readonly string[] | undefined): string[] {
    if (nodes === undefined) return this.nodeNames;
    const unknown = nodes.filter((n) => !this.nodeNames.includes(n));
    if (unknown.length > 0) throw new ConfigError(`not nodes of ${this.name}`, unknown.map((n) => `${n} is not one of ${this.nodeNames.join(', ')}`));
    return this.nodeNames.filter((n) => nodes.includes(n));
  }

  private nodeDef(node: string) {
    return this.definition.nodes.find((n) => n.name === node) as ResourceDefinition['nodes'][number];
  }

  private minors(node: string): number[] {
    return this.nodeDef(node).volumes.map((v) => v.minor);
  }

  /** Each node's view of the resource (null where it is not up), read in parallel. */
  async states(nodes: readonly string[] = this.nodeNames): Promise<States> {
    const values = await this.cluster.all(`reading ${this.name}`, (n) => this.drbd(n.name).status(this.name), { nodes });
    return Object.fromEntries(nodes.map((n) => [n, values.get(n) ?? null]));
  }

  private async settle(what: string, nodes: readonly string[], done: (states: States) => boolean, timeoutMs: number): Promise<States> {
    return pollUntil(() => this.states(nodes), done, {
      what,
      timeoutMs,
      intervalMs: this.options.pollIntervalMs ?? 250,
      describe: (states) => Object.entries(states).map(([n, s]) => `${n}: ${describeState(s)}`).join('; '),
    });
  }

  /** What the cluster manager holds of this resource (null: none, or the check is off). */
  private async clusterManagerHold(): Promise<PacemakerHold | null> {
    const check = this.options.clusterManager === undefined ? pacemakerCheck() : this.options.clusterManager;
    return check === null ? null : check.hold(this.cluster, this.name, this.nodeNames);
  }

  /** Refuses `operation` on `nodes` while Pacemaker manages this resource and acts on it there. */
  private async assertClusterManagerAllows(operation: string, nodes: readonly string[]): Promise<PacemakerHold | null> {
    const hold = await this.clusterManagerHold();
    assertNotBehindClusterManager(hold, this.name, operation, nodes);
    return hold;
  }

  private result(operation: string, dryRun: boolean, actions: Action[], state: States): OperationResult {
    return { resource: this.name, operation, dryRun, actions, state };
  }

  private async versions(nodes: readonly string[], refresh = false): Promise<Map<string, DrbdVersions>> {
    return this.cluster.all('drbdadm --version', (n) => this.drbd(n.name).versions(refresh), { nodes });
  }

  /** The generation every node runs; a ConfigError when they differ (one .res serves all). Null when no module is loaded anywhere. */
  private commonGeneration(versions: Map<string, DrbdVersions>): DrbdGeneration | null {
    const loaded = [...versions].filter(([, v]) => v.generation !== null);
    const generations = new Set(loaded.map(([, v]) => v.generation));
    if (generations.size > 1) {
      throw new ConfigError(`the nodes of ${this.name} run different DRBD generations; hastor writes one configuration for all of them`, loaded.map(([n, v]) => `${n}: DRBD ${v.kernel}`));
    }
    return loaded[0]?.[1].generation ?? null;
  }

  private configFile(target: DrbdTarget): FileWrite {
    return {
      path: this.configPath,
      content: renderResource(this.definition, { target, header: HEADER }),
      mode: hasSharedSecret(this.definition) ? 0o600 : 0o644,
    };
  }

  /** Writes of the configuration file where it is missing or different; returns them with the nodes whose file changes. */
  private async configWrites(nodes: readonly string[], target: DrbdTarget): Promise<Action[]> {
    const file = this.configFile(target);
    const existing = await this.cluster.all(`reading ${this.configPath}`, (n) => this.drbd(n.name).readFileIfExists(this.configPath), { nodes });
    return nodes.flatMap((n) => {
      const text = existing.get(n) ?? null;
      if (text === file.content) return [];
      return [writeAction(n, file, text === null ? `${this.configPath} is missing` : `${this.configPath} differs from the definition`)];
    });
  }

  private async renderTarget(nodes: readonly string[]): Promise<{ target: DrbdTarget; generation: DrbdGeneration | null; unloaded: string[] }> {
    const versions = await this.versions(nodes);
    const generation = this.commonGeneration(versions);
    const unloaded = nodes.filter((n) => versions.get(n)?.generation === null);
    return { target: generation === null ? this.definition.target : renderTargetFor(generation), generation, unloaded };
  }

  /** How each volume's meta data device looks, decided by the create-md rule. */
  private async createMdDecision(node: string, override: readonly string[]): Promise<CreateMdDecision> {
    const decisions: CreateMdDecision[] = [];
    for (const v of this.nodeDef(node).volumes) {
      if (v.disk === 'none') continue;
      // Internal meta data lives at the end of the disk; external on its own device.
      const device = v.metaDisk === undefined || v.metaDisk === 'internal' ? v.disk : v.metaDisk.device;
      decisions.push(decideCreateMd(node, this.name, await this.drbd(node).signatures(device), override));
    }
    if (decisions.length === 0 || decisions.every((d) => d === 'skip')) return 'skip';
    if (decisions.includes('skip')) {
      throw new ResourceStateError(this.name, `${node}: some volumes of ${this.name} have DRBD meta data and some do not; run drbdadm create-md <res>/<volume> for the missing ones by hand`);
    }
    return decisions.includes('force') ? 'force' : 'create';
  }

  private async deviceUses(node: string): Promise<DeviceUse[]> {
    const drbd = this.drbd(node);
    return Promise.all(this.nodeDef(node).volumes.map((v) => drbd.deviceUse(v.minor, v.device)));
  }

  private async assertNodeNotInUse(node: string, operation: string): Promise<void> {
    for (const use of await this.deviceUses(node)) assertNotInUse(node, this.name, operation, use);
  }

  // ---------------------------------------------------------------------------
  // create / up / down / adjust / connect / disconnect

  /**
   * Writes the configuration to every node, creates meta data where there is
   * none (refusing devices that carry other data), brings the resource up,
   * waits for the connection and, when every node is fresh, makes the sync
   * source's data the good copy with `primary --force` and waits for the
   * initial sync.
   */
  async create(options: CreateOptions = {}): Promise<OperationResult> {
    const operation = 'create';
    const dryRun = options.dryRun ?? false;
    const override = checkOverrides(options.override);
    const names = this.nodeNames;
    const source = options.syncSource === undefined ? names[0] : options.syncSource;
    if (source !== null && source !== undefined && !names.includes(source)) {
      throw new ConfigError(`syncSource ${source} is not a node of ${this.name}`, [`choose one of ${names.join(', ')}`]);
    }
    const done: Action[] = [];

    let { target, generation, unloaded } = await this.renderTarget(names);
    const modprobe: Action[] = unloaded.map((n) => ({ node: n, argv: ['modprobe', 'drbd'], reason: 'the drbd kernel module is not loaded' }));
    if (modprobe.length > 0 && !dryRun) {
      await performActions(this.cluster, operation, modprobe, done);
      ({ target, generation } = await this.renderTargetAfterLoad(names));
      unloaded = [];
    }

    const writes = await this.configWrites(names, target);
    const changed = new Set(writes.map((w) => w.node));
    const states: States = Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, unloaded.includes(n) ? null : await this.drbd(n).status(this.name)] as const)),
    );

    const bringUp: Action[] = [];
    const createsMd = new Set<string>();
    for (const n of names) {
      if (states[n] !== null) {
        if (changed.has(n)) bringUp.push({ node: n, argv: drbdadm('adjust', this.name), reason: 'the configuration changed while the resource is up' });
        continue;
      }
      const decision = await this.createMdDecision(n, override);
      if (decision !== 'skip') {
        createsMd.add(n);
        bringUp.push({
          node: n,
          argv: drbdadmCreateMd(this.name, { force: decision === 'force' }),
          reason: decision === 'force' ? 'no DRBD meta data; the device carries another signature (create-md-on-signature overridden)' : 'no DRBD meta data on the backing device',
        });
      }
      bringUp.push({ node: n, argv: drbdadm('up', this.name), reason: 'the resource is not up' });
    }

    const syncActions = (force: string[]): Action[] => {
      if (source === null || source === undefined) return [];
      return [
        { node: source, argv: force, reason: `initial sync: every node has fresh meta data; ${source}'s data becomes the good copy and is synced to the peers` },
        ...(options.stayPrimary ? [] : [{ node: source, argv: drbdadm('secondary', this.name), reason: 'back to Secondary once the initial sync has started' }]),
      ];
    };

    if (dryRun) {
      const fresh = names.every((n) => createsMd.has(n) || isFreshlyCreated(states[n]));
      const predicted = fresh ? syncActions(drbdadmPrimary(this.name, { force: true, generation: generation ?? (target === '9' ? '9' : '8.4') })) : [];
      return this.result(operation, true, [...modprobe, ...writes, ...bringUp, ...predicted], states);
    }

    await performActions(this.cluster, operation, [...writes, ...bringUp], done);
    if (options.wait === false) {
      const now = await this.states();
      if (source && names.every((n) => isFreshlyCreated(now[n]))) await this.startInitialSync(source, now, generation, override, syncActions, done);
      return this.result(operation, false, done, await this.states());
    }

    let now = await this.settle(`${this.name} connected on ${names.join(', ')}`, names, (s) => names.every((n) => isConnected(s[n])), this.timeouts.connectMs);
    const fresh = names.every((n) => isFreshlyCreated(now[n]));
    if (source && fresh) {
      await this.startInitialSync(source, now, generation, override, syncActions, done);
    }
    if (!fresh || source) {
      now = await this.settle(`${this.name} in sync`, names, (s) => names.every((n) => isInSync(s[n])), this.timeouts.syncMs);
    }
    return this.result(operation, false, done, now);
  }

  private async renderTargetAfterLoad(names: readonly string[]): Promise<{ target: DrbdTarget; generation: DrbdGeneration | null }> {
    const versions = await this.versions(names, true);
    const generation = this.commonGeneration(versions);
    return { target: generation === null ? this.definition.target : renderTargetFor(generation), generation };
  }

  private async startInitialSync(
    source: string,
    states: States,
    generation: DrbdGeneration | null,
    override: readonly string[],
    syncActions: (force: string[]) => Action[],
    done: Action[],
  ): Promise<void> {
    const status = states[source] as ResourceStatus;
    const force = decidePromotion(source, this.name, status, { force: true, override });
    const [promote, ...rest] = syncActions(drbdadmPrimary(this.name, { force, generation }));
    if (promote === undefined) return;
    await performActions(this.cluster, 'create', [promote], done);
    await this.settle(`${source} Primary`, [source], (s) => isPrimary(s[source]), this.timeouts.roleMs);
    if (rest.length > 0) {
      await performActions(this.cluster, 'create', rest, done);
      await this.settle(`${source} Secondary`, [source], (s) => s[source]?.role === 'Secondary', this.timeouts.roleMs);
    }
  }

  /** `drbdadm up` where the resource is not up; waits for the connection when every node is up. */
  async up(options: OperationOptions & NodesOption = {}): Promise<OperationResult> {
    const dryRun = options.dryRun ?? false;
    const nodes = this.select(options.nodes);
    const states = await this.states(nodes);
    const down = nodes.filter((n) => states[n] === null);
    const configs = await this.cluster.all(`reading ${this.configPath}`, (n) => this.drbd(n.name).readFileIfExists(this.configPath), { nodes: down });
    const missing = down.filter((n) => configs.get(n) === null);
    if (missing.length > 0) throw new ResourceStateError(this.name, `${this.configPath} does not exist on ${missing.join(', ')}: create the resource first`);
    const plan: Action[] = down.map((n) => ({ node: n, argv: drbdadm('up', this.name), reason: 'the resource is not up' }));
    if (plan.length > 0) await this.assertClusterManagerAllows('up', [...new Set(plan.map((a) => a.node))]);
    if (dryRun) return this.result('up', true, plan, states);
    const done: Action[] = [];
    await performActions(this.cluster, 'up', plan, done);
    const all = this.nodeNames;
    const everyNode = await this.states(all);
    const final = all.every((n) => everyNode[n] !== null)
      ? await this.settle(`${this.name} connected`, all, (s) => all.every((n) => isConnected(s[n])), this.timeouts.connectMs)
      : everyNode;
    return this.result('up', false, done, final);
  }

  /**
   * `drbdadm down` where the resource is up: Primaries first (a Secondary
   * leaving first would make the Primary lose its peer and, with fencing,
   * call the fence-peer handler). Refused for a Primary whose device is in use.
   */
  async down(options: OperationOptions & NodesOption = {}): Promise<OperationResult> {
    const dryRun = options.dryRun ?? false;
    checkOverrides(options.override);
    const nodes = this.select(options.nodes);
    const states = await this.states(nodes);
    const up = nodes.filter((n) => states[n] !== null);
    const primaries = up.filter((n) => isPrimary(states[n]));
    if (up.length > 0) await this.assertClusterManagerAllows('down', up);
    for (const n of primaries) await this.assertNodeNotInUse(n, 'down');
    const ordered = [...primaries, ...up.filter((n) => !primaries.includes(n))];
    const plan: Action[] = ordered.map((n) => ({
      node: n,
      argv: drbdadm('down', this.name),
      reason: primaries.includes(n) ? 'up as Primary, not in use: down demotes, disconnects and detaches' : 'the resource is up',
    }));
    if (dryRun) return this.result('down', true, plan, states);
    const done: Action[] = [];
    await performActions(this.cluster, 'down', plan, done);
    const final = await this.settle(`${this.name} down on ${nodes.join(', ')}`, nodes, (s) => nodes.every((n) => s[n] === null), this.timeouts.roleMs);
    return this.result('down', false, done, final);
  }

  /**
   * Rewrites the configuration where it differs from the definition, then
   * runs `drbdadm adjust` on every up node whose kernel state differs from
   * its file (`drbdadm -d adjust` prints something).
   */
  async adjust(options: OperationOptions & NodesOption = {}): Promise<OperationResult> {
    const dryRun = options.dryRun ?? false;
    const nodes = this.select(options.nodes);
    const { target } = await this.renderTarget(nodes);
    const writes = await this.configWrites(nodes, target);
    const states = await this.states(nodes);
    const up = nodes.filter((n) => states[n] !== null);
    const changed = new Set(writes.map((w) => w.node));
    if (dryRun) {
      const plan = [...writes];
      for (const n of up) {
        const pending = changed.has(n) ? ['(the new file)'] : await this.drbd(n).adjustPlan(this.name);
        if (pending.length > 0) plan.push({ node: n, argv: drbdadm('adjust', this.name), reason: `the kernel differs from the configuration: ${pending.slice(0, 3).join('; ')}` });
      }
      return this.result('adjust', true, plan, states);
    }
    const done: Action[] = [];
    await performActions(this.cluster, 'adjust', writes, done);
    for (const n of up) {
      const pending = await this.drbd(n).adjustPlan(this.name);
      if (pending.length === 0) continue;
      await performActions(this.cluster, 'adjust', [{ node: n, argv: drbdadm('adjust', this.name), reason: `the kernel differs from the configuration: ${pending.slice(0, 3).join('; ')}` }], done);
    }
    return this.result('adjust', false, done, await this.states(nodes));
  }

  /**
   * `drbdadm connect` where the resource is StandAlone; when every node is up,
   * waits for Connected and then for the resync that follows to end.
   */
  async connect(options: OperationOptions & NodesOption = {}): Promise<OperationResult> {
    const dryRun = options.dryRun ?? false;
    const nodes = this.select(options.nodes);
    const states = await this.states(nodes);
    const notUp = nodes.filter((n) => states[n] === null);
    if (notUp.length > 0) throw new ResourceStateError(this.name, `${this.name} is not up on ${notUp.join(', ')}: run up first`);
    const plan: Action[] = nodes.filter((n) => isStandAlone(states[n])).map((n) => ({ node: n, argv: drbdadm('connect', this.name), reason: 'StandAlone' }));
    if (plan.length > 0) await this.assertClusterManagerAllows('connect', [...new Set(plan.map((a) => a.node))]);
    if (dryRun) return this.result('connect', true, plan, states);
    const done: Action[] = [];
    await performActions(this.cluster, 'connect', plan, done);
    const all = this.nodeNames;
    const everyNode = await this.states(all);
    if (!all.every((n) => everyNode[n] !== null)) return this.result('connect', false, done, everyNode);
    await this.settle(`${this.name} connected`, all, (s) => all.every((n) => isConnected(s[n])), this.timeouts.connectMs);
    // A reconnect resyncs what changed meanwhile (or what a verify found); the state settles when that ends.
    const final = await this.settle(`${this.name} in sync after connecting`, all, (s) => all.every((n) => isInSync(s[n])), this.timeouts.syncMs);
    return this.result('connect', false, done, final);
  }

  /** `drbdadm disconnect` where the resource is connected or trying to; waits for StandAlone. */
  async disconnect(options: OperationOptions & NodesOption = {}): Promise<OperationResult> {
    const dryRun = options.dryRun ?? false;
    const nodes = this.select(options.nodes);
    const states = await this.states(nodes);
    const plan: Action[] = nodes
      .filter((n) => states[n] !== null && !isStandAlone(states[n]))
      .map((n) => ({ node: n, argv: drbdadm('disconnect', this.name), reason: `${describeState(states[n])}` }));
    if (plan.length > 0) await this.assertClusterManagerAllows('disconnect', [...new Set(plan.map((a) => a.node))]);
    if (dryRun) return this.result('disconnect', true, plan, states);
    const done: Action[] = [];
    await performActions(this.cluster, 'disconnect', plan, done);
    const final = await this.settle(`${this.name} StandAlone`, nodes, (s) => nodes.every((n) => s[n] === null || isStandAlone(s[n])), this.timeouts.roleMs);
    return this.result('disconnect', false, done, final);
  }

  // ---------------------------------------------------------------------------
  // roles

  /** Makes `node` Primary (safety: UpToDate data, no --force over an UpToDate peer); waits for the role. */
  async promote(node: string, options: PromoteOptions = {}): Promise<OperationResult> {
    const dryRun = options.dryRun ?? false;
    const override = checkOverrides(options.override);
    this.select([node]);
    const states = await this.states();
    const status = states[node] ?? null;
    if (status === null) throw new ResourceStateError(this.name, `${this.name} is not up on ${node}: run up first`);
    if (isPrimary(status)) return this.result('promote', dryRun, [], states);
    // Under Pacemaker the way to switch over is its own move: say so before anything else.
    await this.assertClusterManagerAllows('promote', [node]);
    const others = this.nodeNames.filter((n) => n !== node && isPrimary(states[n]));
    if (others.length > 0) {
      const running = await this.drbd(node).runningConfig(this.name);
      if (running === null || !twoPrimariesAllowed(running)) {
        throw new ResourceStateError(this.name, `${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} Primary and two primaries are not allowed: demote ${others.join(', ')} first, or open a dual-primary window (beginDualPrimary)`);
      }
    }
    const force = decidePromotion(node, this.name, status, { force: options.force ?? false, override });
    const generation = (await this.drbd(node).versions()).generation;
    const plan: Action[] = [
      {
        node,
        argv: drbdadmPrimary(this.name, { force, generation }),
        reason: force ? `${node} has no UpToDate data; force makes it the good copy` : hasUpToDateData(status) ? `${node} is Secondary with UpToDate data` : `${node} is Secondary; promote-without-uptodate overridden`,
      },
    ];
    if (dryRun) return this.result('promote', true, plan, states);
    const done: Action[] = [];
    await performActions(this.cluster, 'promote', plan, done);
    const final = await this.settle(`${node} Primary`, this.nodeNames, (s) => isPrimary(s[node]), this.timeouts.roleMs);
    return this.result('promote', false, done, final);
  }

  /** Makes `node` Secondary; refused while its device is in use. Waits for the role. */
  async demote(node: string, options: OperationOptions = {}): Promise<OperationResult> {
    const dryRun = options.dryRun ?? false;
    this.select([node]);
    const states = await this.states();
    if (!isPrimary(states[node])) return this.result('demote', dryRun, [], states);
    await this.assertClusterManagerAllows('demote', [node]);
    await this.assertNodeNotInUse(node, 'demote');
    const plan: Action[] = [{ node, argv: drbdadm('secondary', this.name), reason: `${node} is Primary and not in use` }];
    if (dryRun) return this.result('demote', true, plan, states);
    const done: Action[] = [];
    await performActions(this.cluster, 'demote', plan, done);
    const final = await this.settle(`${node} Secondary`, this.nodeNames, (s) => s[node]?.role === 'Secondary', this.timeouts.roleMs);
    return this.result('demote', false, done, final);
  }

  /** drbdadm's word for promote. */
  primary(node: string, options: PromoteOptions = {}): Promise<OperationResult> {
    return this.promote(node, options);
  }

  /** drbdadm's word for demote. */
  secondary(node: string, options: OperationOptions = {}): Promise<OperationResult> {
    return this.demote(node, options);
  }

  // ---------------------------------------------------------------------------
  // the dual-primary window

  /** Sets allow-two-primaries on the running connection of each node that differs; 8.4 passes it on to the peer, so later nodes often need nothing. */
  private async setTwoPrimaries(allow: boolean, nodes: readonly string[], operation: string, done: Action[]): Promise<void> {
    for (const n of nodes) {
      const running = await this.drbd(n).runningConfig(this.name);
      if (running === null || twoPrimariesAllowed(running) === allow) continue;
      await performActions(this.cluster, operation, [{ node: n, argv: drbdadmAllowTwoPrimaries(this.name, allow), reason: allow ? 'open the dual-primary window' : 'close the dual-primary window' }], done);
    }
  }

  private async twoPrimariesPlan(allow: boolean, nodes: readonly string[], reason: string): Promise<Action[]> {
    const running = await this.cluster.all(`drbdsetup show ${this.name}`, (n) => this.drbd(n.name).runningConfig(this.name), { nodes });
    return nodes
      .filter((n) => {
        const config = running.get(n) ?? null;
        return config !== null && twoPrimariesAllowed(config) !== allow;
      })
      .map((n) => ({ node: n, argv: drbdadmAllowTwoPrimaries(this.name, allow), reason }));
  }

  /**
   * Opens a dual-primary window (live migration): checks the definition's
   * dual-primary rules, the layer above, and that both nodes are connected
   * and in sync; sets allow-two-primaries on the running connection; promotes
   * the second node; waits until both are Primary. If the promotion fails,
   * the option is switched off again.
   */
  async beginDualPrimary(options: DualPrimaryOptions = {}): Promise<OperationResult> {
    const operation = 'beginDualPrimary';
    const dryRun = options.dryRun ?? false;
    const override = checkOverrides(options.override);
    const states = await this.states();
    const names = this.nodeNames;
    const primaries = names.filter((n) => isPrimary(states[n]));
    const target = options.node ?? names.find((n) => !primaries.includes(n));
    if (target === undefined) {
      const open = await this.twoPrimariesPlan(true, names, '');
      if (open.length === 0) return this.result(operation, dryRun, [], states);
      throw new ResourceStateError(this.name, `every node of ${this.name} is Primary but allow-two-primaries is off on ${open.map((a) => a.node).join(', ')}`);
    }
    this.select([target]);
    const first = primaries.filter((n) => n !== target);
    if (first.length !== 1) {
      throw new ResourceStateError(
        this.name,
        first.length === 0 ? `no node of ${this.name} is Primary: promote the node that runs the workload first, then open the window to ${target}` : `${first.join(', ')} are already Primary`,
      );
    }
    if (isPrimary(states[target])) {
      const open = await this.twoPrimariesPlan(true, names, 'open the dual-primary window');
      if (open.length === 0) return this.result(operation, dryRun, [], states);
    }

    assertDualPrimaryConfig(this.definition, override);
    const check = options.upperLayer ?? this.options.upperLayer;
    assertUpperLayer(this.name, check === undefined ? undefined : await check(this.definition, this.cluster), override);
    assertConnectedInSync(this.name, states, override);

    const open = await this.twoPrimariesPlan(true, names, 'open the dual-primary window');
    // Under Pacemaker the window opens through the CIB: promoted-max 2, and Pacemaker promotes the second node.
    const hold = await this.clusterManagerHold();
    const viaPacemaker = hold !== null && !hold.handsOff;
    if (viaPacemaker) assertPacemakerCanPromoteTwo(this.name, hold, this.definition.net.allowTwoPrimaries === true);
    // Already Primary (the option was switched off under it): only the option is missing.
    const promote: Action[] = isPrimary(states[target])
      ? []
      : viaPacemaker
        ? openWindowActions(hold)
        : [{ node: target, argv: drbdadmPrimary(this.name), reason: `second Primary for the window (${first[0]} stays Primary)` }];
    if (dryRun) return this.result(operation, true, [...open, ...promote], states);

    const done: Action[] = [];
    await this.setTwoPrimaries(true, names, operation, done);
    try {
      await performActions(this.cluster, operation, promote, done);
    } catch (error) {
      // Do not leave the option on for a window that never opened.
      await this.setTwoPrimaries(false, names, operation, done).catch(() => undefined);
      throw error;
    }
    const final = await this.settle(`${this.name} Primary on ${names.join(', ')}`, names, (s) => [target, ...first].every((n) => isPrimary(s[n])), this.timeouts.roleMs);
    return this.result(operation, false, done, final);
  }

  /**
   * Closes the window: demotes every Primary but `keep` (refused while its
   * device is in use), then switches allow-two-primaries off on the running
   * connection (left on when the definition itself allows two primaries).
   */
  async endDualPrimary(options: EndDualPrimaryOptions): Promise<OperationResult> {
    const operation = 'endDualPrimary';
    const dryRun = options.dryRun ?? false;
    const { keep } = options;
    this.select([keep]);
    const states = await this.states();
    const names = this.nodeNames;
    if (!isPrimary(states[keep])) {
      throw new ResourceStateError(this.name, `${keep} is not Primary (${describeState(states[keep])}): ending the window there would leave no Primary; keep a node that is`);
    }
    const others = names.filter((n) => n !== keep && isPrimary(states[n]));
    for (const n of others) await this.assertNodeNotInUse(n, 'demote');
    const demotes: Action[] = others.map((n) => ({ node: n, argv: drbdadm('secondary', this.name), reason: `end of the dual-primary window; ${keep} stays Primary` }));
    const permanent = this.definition.net.allowTwoPrimaries === true;
    const hold = others.length > 0 ? await this.clusterManagerHold() : null;
    const viaPacemaker = hold !== null && !hold.handsOff;
    const demote = viaPacemaker ? closeWindowActions(hold, others) : demotes;
    if (dryRun) {
      const close = permanent ? [] : await this.twoPrimariesPlan(false, names, 'close the dual-primary window');
      return this.result(operation, true, [...demote, ...close, ...(viaPacemaker ? clearBansActions(hold, others) : [])], states);
    }
    const done: Action[] = [];
    await performActions(this.cluster, operation, demote, done);
    await this.settle(`${others.join(', ')} Secondary`, names, (s) => others.every((n) => s[n]?.role === 'Secondary'), this.timeouts.roleMs);
    if (viaPacemaker) await performActions(this.cluster, operation, clearBansActions(hold, others), done);
    if (!permanent) {
      await this.setTwoPrimaries(false, names, operation, done);
      const left = await this.twoPrimariesPlan(false, names, '');
      if (left.length > 0) throw new ResourceStateError(this.name, `allow-two-primaries is still on for ${this.name} on ${left.map((a) => a.node).join(', ')} after switching it off`);
    }
    return this.result(operation, false, done, await this.states());
  }

  // ---------------------------------------------------------------------------
  // verify, invalidate, delete

  /**
   * Online verify: starts `drbdadm verify` on one node (unless one is running),
   * waits until no node is verifying, and reports the out-of-sync found: from
   * events2 on every generation and from /proc/drbd's `oos:` on 8.x. Blocks
   * found are marked out of sync; a disconnect/connect resyncs them.
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const operation = 'verify';
    const dryRun = options.dryRun ?? false;
    const names = this.nodeNames;
    const states = await this.states();
    const node = options.node ?? names.find((n) => isConnected(states[n]));
    if (node === undefined || !isConnected(states[node])) {
      throw new ResourceStateError(this.name, `online verify needs ${this.name} connected (${names.map((n) => `${n}: ${describeState(states[n])}`).join('; ')})`);
    }
    this.select([node]);
    const plan: Action[] = [];
    if (!isVerifying(states[node])) {
      if (!isInSync(states[node])) {
        throw new ResourceStateError(this.name, `online verify needs both sides UpToDate and no resync running (${node}: ${describeState(states[node])}); wait for the resync`);
      }
      const running = await this.drbd(node).runningConfig(this.name);
      if (running === null || verifyAlgorithm(running) === null) {
        throw new ConfigError(`online verify of ${this.name} needs a verify algorithm, and the running configuration has none`, [
          'set net.verifyAlg (e.g. "crc32c" or "sha256") in the definition, then run adjust',
        ]);
      }
      plan.push({ node, argv: drbdadm('verify', this.name), reason: 'start online verify' });
    }
    const before = names.map((n) => outOfSyncBytes(states[n]) ?? 0n).reduce((a, b) => (b > a ? b : a), 0n);
    const base = { node, outOfSyncBeforeBytes: before };
    if (dryRun) return { ...this.result(operation, true, plan, states), ...base, outOfSyncBytes: before, perNode: {} };
    const done: Action[] = [];
    await performActions(this.cluster, operation, plan, done);
    const final = await this.settle(`online verify of ${this.name}`, names, (s) => names.every((n) => !isVerifying(s[n])), this.timeouts.verifyMs);
    const perNode: Record<string, VerifyNodeReport> = {};
    for (const n of names) {
      const generation = (await this.drbd(n).versions()).generation;
      const procBytes = generation === '8.4' || generation === '8.3' ? procOutOfSync(await this.drbd(n).procDrbd(), this.minors(n)) : null;
      perNode[n] = { events2Bytes: outOfSyncBytes(final[n]), procBytes };
    }
    const found = Object.values(perNode)
      .flatMap((r) => [r.events2Bytes, r.procBytes])
      .reduce<bigint>((a, v) => (v !== null && v > a ? v : a), 0n);
    return { ...this.result(operation, false, done, final), ...base, outOfSyncBytes: found, perNode };
  }

  /**
   * `drbdadm invalidate` on `node`: its data is thrown away and fully resynced
   * from a connected peer with UpToDate data (refused without one). Nothing
   * to do while it is already resyncing as the target.
   */
  async invalidate(node: string, options: InvalidateOptions = {}): Promise<OperationResult> {
    const dryRun = options.dryRun ?? false;
    const override = checkOverrides(options.override);
    this.select([node]);
    const states = await this.states();
    const status = states[node] ?? null;
    if (status === null) throw new ResourceStateError(this.name, `${this.name} is not up on ${node}: run up first`);
    const syncingHere = isResyncing(status) && status.devices.every((d) => d.diskState === 'Inconsistent');
    if (syncingHere) {
      if (dryRun || options.wait === false) return this.result('invalidate', dryRun, [], states);
      return this.result('invalidate', false, [], await this.settle(`${this.name} in sync`, this.nodeNames, (s) => this.nodeNames.every((n) => isInSync(s[n])), this.timeouts.syncMs));
    }
    assertInvalidateAllowed(node, this.name, status, override);
    const plan: Action[] = [{ node, argv: drbdadm('invalidate', this.name), reason: `resync ${node}'s data from its UpToDate peer` }];
    if (dryRun) return this.result('invalidate', true, plan, states);
    const done: Action[] = [];
    await performActions(this.cluster, 'invalidate', plan, done);
    if (options.wait === false) return this.result('invalidate', false, done, await this.states());
    // The resync may not have started by the first read: wait for it to start or be over, then for the end.
    await this.settle(`${node} resync started`, [node], (s) => isResyncing(s[node]) || (s[node]?.devices ?? []).some((d) => d.diskState !== 'UpToDate') || isInSync(s[node]), this.timeouts.roleMs);
    const final = await this.settle(`${this.name} in sync`, this.nodeNames, (s) => this.nodeNames.every((n) => isInSync(s[n])), this.timeouts.syncMs);
    return this.result('invalidate', false, done, final);
  }

  /**
   * Takes the resource down everywhere, wipes DRBD's meta data from every
   * backing device that has it, and removes the configuration file. Refused
   * while any node is Primary. The data area of the backing devices is left
   * as it was.
   */
  async delete(options: DeleteOptions = {}): Promise<OperationResult> {
    const operation = 'delete';
    const dryRun = options.dryRun ?? false;
    checkOverrides(options.override);
    const names = this.nodeNames;
    const states = await this.states();
    for (const n of names) assertNotPrimaryForDelete(n, this.name, states[n]);
    const downs: Action[] = names.filter((n) => states[n] !== null).map((n) => ({ node: n, argv: drbdadm('down', this.name), reason: 'the resource is up' }));
    const configs = await this.cluster.all(`reading ${this.configPath}`, (n) => this.drbd(n.name).readFileIfExists(this.configPath));
    const cleanup: Action[] = [];
    let target: DrbdTarget | undefined;
    for (const n of names) {
      const hasMd = await this.hasMetaData(n);
      let config = configs.get(n) ?? null;
      if (hasMd) {
        if (config === null) {
          target ??= (await this.renderTarget(names)).target;
          const file = this.configFile(target);
          cleanup.push(writeAction(n, file, 'wipe-md reads the backing device from the configuration'));
          config = file.content;
        }
        cleanup.push({ node: n, argv: drbdadmWipeMd(this.name), reason: 'DRBD meta data on the backing device' });
      }
      if (config !== null && !options.keepConfig) cleanup.push({ node: n, argv: ['rm', '-f', '--', this.configPath], reason: 'remove the configuration' });
    }
    const plan = [...downs, ...cleanup];
    if (plan.length > 0) await this.assertClusterManagerAllows(operation, names);
    if (dryRun) return this.result(operation, true, plan, states);
    const done: Action[] = [];
    await performActions(this.cluster, operation, plan, done);
    return this.result(operation, false, done, await this.states());
  }

  private async hasMetaData(node: string): Promise<boolean> {
    for (const v of this.nodeDef(node).volumes) {
      if (v.disk === 'none') continue;
      const device = v.metaDisk === undefined || v.metaDisk === 'internal' ? v.disk : v.metaDisk.device;
      if ((await this.drbd(node).signatures(device)).drbdMetaData) return true;
    }
    return false;
  }
}
