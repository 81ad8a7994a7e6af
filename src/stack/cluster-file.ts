/**
 * The cluster file: which nodes there are, how each is reached (this machine,
 * or ssh as an unprivileged user with `sudo -n` for root commands), the
 * guests, and the DRBD resources by name. JSON, validated with zod; every bad
 * field is named by its path. The CLI reads it from /etc/hastor/cluster.json
 * (or --cluster / HASTOR_CLUSTER); library users can load the same file.
 */
import { open, realpath } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, HastorError } from '../errors.js';
import { parseJsonInput } from '../json-input.js';
import { formatIssuePath, isValidHostName, validateResourceDefinition, type ResourceDefinition } from '../drbd/config/index.js';
import { LocalExecutor, SshExecutor, type Executor, type SshTarget } from '../sys/executor.js';
import { isValidSshDestination, isValidUserName, splitSshDestination } from '../sys/ssh-host.js';
import { checkTrustedDirectory, checkTrustedOpenFile } from '../sys/trusted-path.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import { vgNameProblem } from '../lvm/names.js';
import { appendAll } from '../arrays.js';
import { pacemakerIdSchema } from '../pacemaker/generate/spec.js';

export const DEFAULT_CLUSTER_FILE = '/etc/hastor/cluster.json';

/** ssh -o keys are words; values must not break the argv ssh builds (no newlines). */
const sshOptionKey = z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'an ssh option name (letters and digits, e.g. ConnectTimeout)');
const sshOptionValue = z.string().min(1).regex(/^[^\n\r\0]*$/, 'no newlines or NUL characters');
const absolutePath = z.string().regex(/^\/[^\0\n]*$/, 'an absolute path');

const sshSchema = z.strictObject({
  /** An RFC 1123 host name, IPv4 or bracketless IPv6 address, optionally `user@` first. */
  host: z.string().refine(isValidSshDestination, 'a host name (RFC 1123), an IPv4 or IPv6 address (no brackets), optionally user@ first; no spaces, shell characters or leading "-"'),
  /** The unprivileged login; root logins are not the design but are accepted (sudo is then skipped). */
  user: z.string().refine(isValidUserName, 'a POSIX user name (letters, digits, "_", ".", "-"; not starting with "-")').optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** Host keys are checked against this file (UserKnownHostsFile, StrictHostKeyChecking=yes). */
  knownHostsFile: absolutePath.optional(),
  /** Folder for ssh's connection-sharing socket (ControlPath): repeated commands skip the handshake. */
  controlDir: absolutePath.optional(),
  /** Extra `-o Key=Value` options. */
  options: z.record(sshOptionKey, sshOptionValue).optional(),
  /** The ssh client binary. */
  ssh: z.string().min(1).optional(),
});

const reachSchema = {
  /** This machine (no ssh). */
  local: z.literal(true).optional(),
  ssh: sshSchema.optional(),
  /**
   * Root commands run through `sudo -n` (never a password prompt). false is
   * accepted only where no sudo is needed: an ssh login as root, or a local
   * node when hastor itself runs as root.
   */
  sudo: z.boolean().optional(),
};

const nodeSchema = z.strictObject({
  name: z.string().refine(isValidHostName, 'a host name as `uname -n` prints it'),
  ...reachSchema,
  /** lvmlockd with sanlock: this node's host_id (default: its position in `nodes`, from 1). */
  lvmHostId: z.number().int().min(1).max(2000).optional(),
});

const guestSchema = z.strictObject(reachSchema);

const agentSchema = z.string().regex(/^(?:ocf:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+|(?:systemd|lsb|service):[A-Za-z0-9_.@-]+)$/, 'an agent such as ocf:heartbeat:mysql or systemd:mariadb');
const paramValue = z.string().max(1024).regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters or newlines');
const paramsSchema = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'a parameter name'), paramValue);
const durationSchema = z.string().regex(/^\d{1,7}(?:ms|s|m|min|h)?$/, 'a duration such as 10s');

/**
 * The Pacemaker side of the stack (`hastor pacemaker config`): fencing devices,
 * which topology, and what runs on top of DRBD. Optional: files without it
 * stay valid. Ids are checked as Pacemaker ids; agents and parameters reach
 * the CIB, a crm script and pcs argv.
 */
const pacemakerSchema = z.strictObject({
  /** service: a service on single-Primary DRBD; guests: guests on a shared VG on dual-Primary DRBD. */
  topology: z.enum(['service', 'guests']).optional(),
  /** The DRBD resource the stack runs on; default the file's only resource. */
  resource: z.string().min(1).optional(),
  fencing: z
    .strictObject({
      devices: z.array(
        z.strictObject({
          id: pacemakerIdSchema,
          /** A fence agent: fence_ipmilan, fence_virsh, fence_sbd, … */
          agent: z.string().regex(/^fence_[A-Za-z0-9_]+$|^external\/[A-Za-z0-9_-]+$/, 'a fence agent name such as fence_ipmilan'),
          params: paramsSchema,
          monitorInterval: durationSchema.optional(),
        }),
      ),
      /** Two nodes: the node running the Promoted DRBD waits this long before fencing the peer, so it wins a split. Default 10s. */
      priorityFencingDelay: durationSchema.optional(),
    })
    .optional(),
  /** Extra cluster properties (cib-bootstrap-options). */
  properties: paramsSchema.optional(),
  service: z
    .strictObject({
      id: pacemakerIdSchema,
      agent: agentSchema,
      params: paramsSchema.optional(),
      filesystem: z.strictObject({ directory: absolutePath, fstype: z.string().regex(/^[a-z0-9._-]+$/, 'a file system type such as ext4'), options: paramValue.optional() }),
      ip: z.strictObject({ address: z.string().refine((a) => isIP(a) !== 0, 'an IPv4 or IPv6 address'), cidrNetmask: z.number().int().min(1).max(128), nic: z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, 'an interface name').optional() }).optional(),
    })
    .optional(),
  guests: z
    .strictObject({
      /** The shared VG on the DRBD device (lvmlockd, lock type dlm). */
      vg: z.string().refine((v) => vgNameProblem(v) === null, 'a VG name'),
      list: z.array(
        z.strictObject({
          id: pacemakerIdSchema,
          /** Default ocf:heartbeat:VirtualDomain. */
          agent: agentSchema.optional(),
          params: paramsSchema.optional(),
          allowMigrate: z.boolean().optional(),
        }),
      ),
    })
    .optional(),
});

/** The fields; crossChecks() adds what spans fields (one way to reach each entry, unique names and host ids). */
export const clusterFileSchema = z.strictObject({
  nodes: z.array(nodeSchema).min(1, 'at least one node'),
  guests: z.record(z.string().refine(isValidHostName, 'a guest name (host-name characters)'), guestSchema).optional(),
  /** DRBD resource definitions by name (src/drbd/config/schema.ts); `name` may be left out. */
  resources: z.record(z.string(), z.unknown()).optional(),
  pacemaker: pacemakerSchema.optional(),
});

export type ClusterFileNode = z.infer<typeof nodeSchema>;
export type ClusterFileGuest = z.infer<typeof guestSchema>;
export type ClusterFileSsh = z.infer<typeof sshSchema>;
export type ClusterFilePacemaker = z.infer<typeof pacemakerSchema>;

export interface ClusterFile {
  /** Where it was read from (for messages). */
  path: string;
  nodes: ClusterFileNode[];
  guests: Record<string, ClusterFileGuest>;
  /** Validated and normalized, by name. */
  resources: Record<string, ResourceDefinition>;
  /** The `pacemaker` section, when the file has one. */
  pacemaker?: ClusterFilePacemaker;
}

export interface LoadedCluster {
  cluster: Cluster;
  guests: Map<string, Executor>;
  resources: Map<string, ResourceDefinition>;
  file: ClusterFile;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the field schemas cannot see: one way to reach each entry, sudo only
 * skipped for root, unique names and host ids. Runs on the raw value, so these
 * problems are listed together with the field errors.
 */
function crossChecks(raw: unknown): string[] {
  const issues: string[] = [];
  if (!isRecord(raw)) return issues;
  const reach = (entry: unknown, path: (string | number)[]): void => {
    if (!isRecord(entry)) return;
    const where = formatIssuePath(path);
    if ((entry.local === true) === (entry.ssh !== undefined)) issues.push(`${where}: give exactly one of "local": true or "ssh": {...}`);
    const destination = isRecord(entry.ssh) && typeof entry.ssh.host === 'string' ? splitSshDestination(entry.ssh.host) : undefined;
    if (destination?.user !== undefined && isRecord(entry.ssh) && entry.ssh.user !== undefined) {
      issues.push(`${where}.ssh: give the login once, as "user" or as user@ in "host", not both`);
    }
    const login = destination?.user ?? (isRecord(entry.ssh) ? entry.ssh.user : undefined);
    if (entry.sudo === false && isRecord(entry.ssh) && login !== 'root') {
      issues.push(`${where}.sudo: sudo: false needs ssh.user "root"; an unprivileged login runs root commands with sudo -n`);
    }
  };
  if (Array.isArray(raw.nodes)) {
    const names = new Map<string, number>();
    const hostIds = new Map<number, string>();
    raw.nodes.forEach((node: unknown, i: number) => {
      reach(node, ['nodes', i]);
      if (!isRecord(node) || typeof node.name !== 'string') return;
      const first = names.get(node.name);
      if (first !== undefined) issues.push(`nodes[${i}].name: ${node.name} is already nodes[${first}]`);
      else names.set(node.name, i);
      const id = typeof node.lvmHostId === 'number' ? node.lvmHostId : i + 1;
      const other = hostIds.get(id);
      if (other !== undefined) issues.push(`nodes[${i}].lvmHostId: host id ${id} is also ${other}'s; each node needs its own`);
      else hostIds.set(id, node.name);
    });
  }
  if (isRecord(raw.guests)) for (const [name, guest] of Object.entries(raw.guests)) reach(guest, ['guests', name]);
  return issues;
}

/**
 * Validates a cluster file's text. Syntax errors are a ParseError with the
 * line; every content problem is listed in one ConfigError as `path: message`
 * (resource problems under `resources.<name>.…`). Pure.
 */
export function parseClusterFile(text: string, path: string): ClusterFile {
  const raw = parseJsonInput(text, path);
  const issues: string[] = [];
  const result = clusterFileSchema.safeParse(raw);
  appendAll(issues, crossChecks(raw));
  if (!result.success) appendAll(issues, result.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`));

  const resources: Record<string, ResourceDefinition> = {};
  const nodeNames = new Set(result.success ? result.data.nodes.map((n) => n.name) : []);
  const rawResources = result.success ? (result.data.resources ?? {}) : {};
  for (const [name, input] of Object.entries(rawResources)) {
    const where = formatIssuePath(['resources', name]);
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      issues.push(`${where}: a resource definition object`);
      continue;
    }
    const given = (input as { name?: unknown }).name;
    if (given !== undefined && given !== name) {
      issues.push(`${where}.name: ${JSON.stringify(given)} differs from its key ${JSON.stringify(name)}`);
      continue;
    }
    const validated = validateResourceDefinition({ ...input, name });
    if (!validated.ok) {
      appendAll(issues, validated.issues.map((i) => `${where}.${i}`));
      continue;
    }
    validated.value.nodes.forEach((n, i) => {
      if (!nodeNames.has(n.name)) issues.push(`${where}.nodes[${i}].name: ${n.name} is not one of the cluster's nodes (${[...nodeNames].join(', ')})`);
    });
    resources[name] = validated.value;
  }

  if (issues.length > 0 || !result.success) {
    throw new ConfigError(`invalid cluster file ${path}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`, issues);
  }
  return {
    path,
    nodes: result.data.nodes,
    guests: result.data.guests ?? {},
    resources,
    ...(result.data.pacemaker === undefined ? {} : { pacemaker: result.data.pacemaker }),
  };
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

function sshTarget(ssh: ClusterFileSsh): SshTarget {
  const destination = splitSshDestination(ssh.host);
  const user = ssh.user ?? destination.user;
  const options: Record<string, string> = {};
  if (ssh.knownHostsFile !== undefined) {
    options.UserKnownHostsFile = ssh.knownHostsFile;
    options.StrictHostKeyChecking = 'yes';
  }
  Object.assign(options, ssh.options);
  return {
    host: destination.host,
    ...(user === undefined ? {} : { user }),
    ...(ssh.port === undefined ? {} : { port: ssh.port }),
    ...(Object.keys(options).length === 0 ? {} : { options }),
    ...(ssh.controlDir === undefined ? {} : { controlDir: ssh.controlDir }),
    ...(ssh.ssh === undefined ? {} : { ssh: ssh.ssh }),
  };
}

/** The Executor for a node or guest entry of a cluster file. */
export function executorFor(name: string, entry: { local?: true | undefined; ssh?: ClusterFileSsh | undefined; sudo?: boolean | undefined }): Executor {
  if (entry.ssh !== undefined) return new SshExecutor(sshTarget(entry.ssh), name);
  if (entry.sudo === false && !isRoot()) {
    throw new ConfigError(`${name}: "sudo": false on a local node needs hastor to run as root`, ['run hastor as root, or drop "sudo": false (root commands then use sudo -n)']);
  }
  return new LocalExecutor(name);
}

/** Builds the cluster (no remote check: call `cluster.verifyNames()` before changing anything), the guests and the resources. */
export function clusterFromFile(file: ClusterFile, options: ClusterOptions = {}): LoadedCluster {
  const cluster = new Cluster(
    file.nodes.map((n) => ({ name: n.name, executor: executorFor(n.name, n) })),
    options,
  );
  const guests = new Map(Object.entries(file.guests).map(([name, g]) => [name, executorFor(name, g)] as const));
  return { cluster, guests, resources: new Map(Object.entries(file.resources)), file };
}

/**
 * The file's text, once it is known to be one only root or the caller could
 * have written: it names the commands hastor runs as root (ssh, its options,
 * ProxyCommand), so like ssh with its own config, hastor refuses a file, or a
 * directory holding it, that another user owns or that group or others can write.
 */
async function readTrustedClusterFile(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    checkTrustedOpenFile(handle.fd, path, 'cluster file');
    const real = await realpath(path);
    for (const dir of new Set([dirname(resolve(path)), dirname(real)])) checkTrustedDirectory(dir, `the directory of cluster file ${path}`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Reads, validates and builds a cluster file (default /etc/hastor/cluster.json); see readTrustedClusterFile for who may own it. */
export async function loadClusterFile(path: string = DEFAULT_CLUSTER_FILE, options: ClusterOptions = {}): Promise<LoadedCluster> {
  let text: string;
  try {
    text = await readTrustedClusterFile(path);
  } catch (error) {
    if (error instanceof HastorError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read cluster file ${path}${code ? ` (${code})` : ''}: ${(error as Error).message}`, [
      'write one (see docs/cli.md, "The cluster file"), or name another with --cluster FILE or HASTOR_CLUSTER',
    ]);
  }
  return clusterFromFile(parseClusterFile(text, path), options);
}

/** A node's lvmlockd host_id: `lvmHostId`, else its position in the file (from 1). */
export function lvmHostIdOf(file: ClusterFile, node: string): number {
  const index = file.nodes.findIndex((n) => n.name === node);
  if (index < 0) throw new ConfigError(`no node ${JSON.stringify(node)} in ${file.path}`, [`the file has ${file.nodes.map((n) => n.name).join(', ')}`]);
  return file.nodes[index]?.lvmHostId ?? index + 1;
}
