/**
 * DRBD on one node, through its Executor: versions, one resource's state,
 * the running configuration, backing-device signatures, device users, and
 * drbdadm itself. Reads and parses only; deciding what to do is the
 * caller's (src/stack).
 */
import { CommandError } from '../../errors.js';
import type { Executor } from '../../sys/executor.js';
import type { RunResult } from '../../sys/local-exec.js';
import { parseDrbdadmDump, type ResourceDefinition } from '../config/index.js';
import { parseEvents2 } from '../events2.js';
import { parseGenerationIdentifiers, type GenerationIdentifiers } from '../generation-identifiers.js';
import { parseProcDrbd } from '../proc-drbd.js';
import type { DrbdStatus, ResourceStatus } from '../status-model.js';
import { fdScanArgv, mountsOf, parseDevNumber, parseFdScan, parseHolders, type DeviceUse } from './device-use.js';
import { assertResourceName, drbdadm, drbdadmAdjustDryRun, drbdadmVersion, drbdsetupEvents2Now, drbdsetupShow } from './drbdadm-argv.js';
import { parseDrbdadmVersion, type DrbdVersions } from './generation.js';
import { parseAdjustDryRun, parseDrbdsetupShow, type RunningConfig } from './running-config.js';
import { classifySignatures, parseWipefsTypes, wipefsArgv, type BackingSignatures } from './signatures.js';

export interface DrbdNodeOptions {
  /** Limit for one drbdadm command (create-md of a large disk, down waiting for I/O). Default 120 s. */
  commandTimeoutMs?: number;
  /** Limit for a state read. Default 20 s. */
  readTimeoutMs?: number;
}

const isMissingFile = (error: unknown): boolean =>
  (error instanceof CommandError && /No such file or directory/.test(error.stderr)) || (error as NodeJS.ErrnoException)?.code === 'ENOENT';

export class DrbdNode {
  readonly executor: Executor;
  private readonly commandTimeoutMs: number;
  private readonly readTimeoutMs: number;
  /** The read, not its result: callers at the same moment share one `drbdadm --version`. */
  private versionsRead: Promise<DrbdVersions> | undefined;

  constructor(executor: Executor, options: DrbdNodeOptions = {}) {
    this.executor = executor;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 120_000;
    this.readTimeoutMs = options.readTimeoutMs ?? 20_000;
  }

  get name(): string {
    return this.executor.node;
  }

  /** drbd-utils and kernel module versions (cached; `refresh` after loading the module). */
  versions(refresh = false): Promise<DrbdVersions> {
    if (this.versionsRead === undefined || refresh) {
      // As root too: over ssh a normal user's PATH (Debian: /usr/local/bin:/usr/bin:/bin) lacks /usr/sbin; sudo's secure_path has it.
      const read = this.run(drbdadmVersion(), { timeoutMs: this.readTimeoutMs }).then(({ stdout }) => parseDrbdadmVersion(stdout));
      // A failed read is not kept: the next call tries again.
      read.catch(() => {
        if (this.versionsRead === read) this.versionsRead = undefined;
      });
      this.versionsRead = read;
    }
    return this.versionsRead;
  }

  /** Runs a drbdadm/drbdsetup argv as root. */
  run(argv: readonly string[], options: { timeoutMs?: number; okExitCodes?: readonly number[] } = {}): Promise<RunResult> {
    return this.executor.run(argv, { root: true, timeoutMs: options.timeoutMs ?? this.commandTimeoutMs, ...(options.okExitCodes && { okExitCodes: options.okExitCodes }) });
  }

  /**
   * One resource as this node sees it, or null when it is not up here.
   * `drbdsetup events2 --now --statistics <res>` names the resource on every
   * generation (8.4 with drbd-utils 9 included) and prints only `exists -`
   * for a resource that is not up.
   */
  async status(resource: string): Promise<ResourceStatus | null> {
    const name = assertResourceName(resource);
    const [{ stdout }, versions] = await Promise.all([this.run(drbdsetupEvents2Now(name), { timeoutMs: this.readTimeoutMs }), this.versions()]);
    const status = parseEvents2(stdout, { drbd84: versions.generation === '8.4' || versions.generation === '8.3' });
    return status.resources.find((r) => r.name === name) ?? null;
  }

  /** Every resource that is up on this node (events2 --now for `all`). */
  async statusAll(): Promise<DrbdStatus> {
    const [{ stdout }, versions] = await Promise.all([
      this.run(['drbdsetup', 'events2', '--now', '--statistics', 'all'], { timeoutMs: this.readTimeoutMs }),
      this.versions(),
    ]);
    return parseEvents2(stdout, { drbd84: versions.generation === '8.4' || versions.generation === '8.3' });
  }

  /** /proc/drbd: version header and, on 8.x, `oos:` per minor. */
  async procDrbd(): Promise<DrbdStatus> {
    return parseProcDrbd(await this.executor.readFile('/proc/drbd'));
  }

  /** The running configuration, or null when the resource is not up (drbdsetup show: rc 20, No such device). */
  async runningConfig(resource: string): Promise<RunningConfig | null> {
    const name = assertResourceName(resource);
    const result = await this.run(drbdsetupShow(name), { timeoutMs: this.readTimeoutMs, okExitCodes: [0, 20] });
    if (result.exitCode === 20) return null;
    return parseDrbdsetupShow(result.stdout, name);
  }

  /** What `drbdadm adjust` would run; empty when the kernel matches the file. */
  async adjustPlan(resource: string): Promise<string[]> {
    return parseAdjustDryRun((await this.run(drbdadmAdjustDryRun(resource), { timeoutMs: this.readTimeoutMs })).stdout);
  }

  /** `drbdadm dump <res>`: the configuration as this node's drbdadm reads it. */
  async dump(resource: string): Promise<string> {
    return (await this.run(drbdadm('dump', resource), { timeoutMs: this.readTimeoutMs })).stdout;
  }

  /** Every resource this node's drbdadm reads (`drbdadm dump all`), imported into the definition model. */
  async importAllConfigs(): Promise<ResourceDefinition[]> {
    const { stdout } = await this.run(['drbdadm', 'dump', 'all'], { timeoutMs: this.readTimeoutMs });
    return parseDrbdadmDump(stdout, { source: `drbdadm dump all on ${this.name}` });
  }

  /** The node's configuration of one resource, imported into the definition model. */
  async importConfig(resource: string): Promise<ResourceDefinition> {
    const defs = parseDrbdadmDump(await this.dump(resource), { source: `drbdadm dump ${resource} on ${this.name}` });
    const def = defs.find((d) => d.name === resource);
    if (def === undefined) throw new CommandError(`${this.name}: drbdadm dump ${resource} printed no resource ${resource}`, { argv: drbdadm('dump', resource), exitCode: 0, stderr: '', node: this.name });
    return def;
  }

  async signatures(device: string): Promise<BackingSignatures> {
    const { stdout } = await this.executor.run(wipefsArgv(device), { root: true, timeoutMs: this.readTimeoutMs });
    return classifySignatures(device, parseWipefsTypes(stdout));
  }

  /** Who uses /dev/drbd<minor> (and `devicePath`, when the device node has another name). */
  async deviceUse(minor: number, devicePath?: string): Promise<DeviceUse> {
    const sys = `/sys/block/drbd${minor}`;
    let devNumber: string;
    try {
      devNumber = parseDevNumber(await this.executor.readFile(`${sys}/dev`));
    } catch (error) {
      if (isMissingFile(error)) return { minor, devNumber: null, holders: [], mounts: [], openBy: [] };
      throw error;
    }
    const paths = [`/dev/drbd${minor}`, ...(devicePath === undefined ? [] : [devicePath])];
    const [holders, mountinfo, scan] = await Promise.all([
      this.executor.run(['ls', '-1', '--', `${sys}/holders`], { timeoutMs: this.readTimeoutMs }),
      this.executor.readFile('/proc/self/mountinfo'),
      // find exits 1 when a process ends during the scan; what it printed is still right.
      this.executor.run(fdScanArgv(paths), { root: true, timeoutMs: this.readTimeoutMs, okExitCodes: [0, 1] }),
    ]);
    return { minor, devNumber, holders: parseHolders(holders.stdout), mounts: mountsOf(mountinfo, devNumber), openBy: parseFdScan(scan.stdout) };
  }

  /** One volume's generation identifiers (argv from showGiArgv), with the text as printed. */
  async generationIdentifiers(argv: readonly string[]): Promise<{ text: string; identifiers: GenerationIdentifiers }> {
    const { stdout } = await this.run(argv, { timeoutMs: this.readTimeoutMs });
    const [identifiers] = parseGenerationIdentifiers(stdout, `${argv.join(' ')} on ${this.name}`);
    return { text: stdout, identifiers: identifiers as GenerationIdentifiers };
  }

  /** The kernel log ring buffer (`dmesg`, as root: dmesg_restrict hides it from others). */
  async kernelLog(): Promise<string> {
    return (await this.run(['dmesg'], { timeoutMs: this.readTimeoutMs })).stdout;
  }

  /** A file's text, or null when it does not exist. */
  async readFileIfExists(path: string): Promise<string | null> {
    try {
      return await this.executor.readFile(path, { root: true });
    } catch (error) {
      if (isMissingFile(error)) return null;
      throw error;
    }
  }
}
