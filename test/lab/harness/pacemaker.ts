/**
 * Pacemaker 2.1 + Corosync 3 in lab nodes, without systemd (see
 * /work/shared/PACEMAKER-LAB-NOTES.md for the measured facts this follows):
 *
 * - prepareClusterNodes: the image fixes Pacemaker's helpers need (/dev/fd), log dirs;
 * - writeCorosyncConfig: corosync.conf (knet over 10.99.0.N, aes256/sha256,
 *   votequorum two_node) and one shared authkey, written atomically and synced;
 * - startCluster: corosync, then pacemakerd, detached (setsid -f), pids recorded in
 *   /run, logs in /var/log/{corosync,pacemaker}; waits for every node online and a DC;
 * - installFenceAgent: /usr/sbin/fence_lab, a fence agent (fence-agents stdin
 *   protocol) whose power actions the host's fence service (fence.ts) carries out;
 * - crmMon / parseCrmMon / waitForCluster: `crm_mon --output-as=xml` read into a small shape;
 * - stopCluster: pacemakerd, then corosync, by recorded pid, waiting for both to end.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fenceDir } from './fence.js';
import type { LabNode } from './lab-node.js';

export const COROSYNC_CONF = '/etc/corosync/corosync.conf';
export const COROSYNC_AUTHKEY = '/etc/corosync/authkey';
export const COROSYNC_LOG = '/var/log/corosync/corosync.log';
export const PACEMAKER_LOG = '/var/log/pacemaker/pacemaker.log';
/** Where Pacemaker 2.1.5 (Debian) looks for fence agents: fence_* in /usr/sbin (PCMK__FENCE_BINDIR). */
export const FENCE_AGENT = '/usr/sbin/fence_lab';
const PIDS = { corosync: '/run/lab-corosync.pid', pacemakerd: '/run/lab-pacemakerd.pid' } as const;

export interface CorosyncOptions {
  clusterName?: string;
  /**
   * totem token timeout in ms (default 5000): UML guests under load were seen
   * unscheduled for 3.7 s, past corosync's 3000 ms default for two nodes.
   */
  tokenMs?: number;
  /** totem consensus in ms (default 1.2 × token, corosync's own rule). */
  consensusMs?: number;
}

/** corosync.conf for the nodes: knet over each node's 10.99.0.N, crypto on, two_node quorum. */
export function renderCorosyncConf(nodes: readonly LabNode[], options: CorosyncOptions = {}): string {
  const token = options.tokenMs ?? 5000;
  const consensus = options.consensusMs ?? Math.round(token * 1.2);
  const nodelist = nodes.map((n) => `    node {\n        ring0_addr: ${n.address}\n        name: ${n.name}\n        nodeid: ${n.index}\n    }\n`).join('');
  return `# Written by the hastor lab harness (test/lab/harness/pacemaker.ts).
totem {
    version: 2
    cluster_name: ${options.clusterName ?? 'hastor-lab'}
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    # UML guests under load stall up to ~3.7 s: leave room before a node is declared lost.
    token: ${token}
    consensus: ${consensus}
}

nodelist {
${nodelist}}

quorum {
    provider: corosync_votequorum
${nodes.length === 2 ? '    two_node: 1\n' : ''}}

logging {
    to_logfile: yes
    logfile: ${COROSYNC_LOG}
    to_stderr: no
    to_syslog: no
    timestamp: on
}
`;
}

/** Writes a file in a node atomically (a temp file renamed into place) with a mode, and syncs. */
export async function writeFileSynced(node: LabNode, path: string, content: string | Buffer, mode = '0644'): Promise<void> {
  const tmp = `${path}.lab-tmp`;
  await node.writeFile(tmp, content);
  await node.execOk(['sh', '-c', `chmod ${mode} "$1" && mv -f "$1" "$2" && sync`, 'sh', tmp, path]);
}

/** What Pacemaker's helpers and DRBD's crm-*-peer.sh need in the lab image (no udev, no systemd-tmpfiles). */
export async function prepareClusterNodes(nodes: readonly LabNode[]): Promise<void> {
  await Promise.all(
    nodes.map((n) =>
      n.execOk(['sh', '-c', '[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd; mkdir -p /var/log/corosync /var/log/pacemaker /var/lib/pacemaker/cores']),
    ),
  );
}

/** corosync.conf and one shared 256-byte authkey into every node (atomic, synced). */
export async function writeCorosyncConfig(nodes: readonly LabNode[], options: CorosyncOptions = {}): Promise<string> {
  const conf = renderCorosyncConf(nodes, options);
  const key = randomBytes(256);
  await Promise.all(
    nodes.map(async (n) => {
      await n.execOk(['mkdir', '-p', '/etc/corosync']);
      await writeFileSynced(n, COROSYNC_AUTHKEY, key, '0400');
      await writeFileSynced(n, COROSYNC_CONF, conf, '0644');
    }),
  );
  return conf;
}

export interface CrmMonNode {
  name: string;
  id: string;
  online: boolean;
  standby: boolean;
  unclean: boolean;
}

export interface CrmMonResource {
  id: string;
  agent: string;
  active: boolean;
  failed: boolean;
  /**
   * The role; Pacemaker 2.1.5's XML shows an operation in flight as a role
   * ("Starting", "Stopping", "Promoting", …) with active="true" while it runs.
   */
  role: string;
  /** crm_mon's `pending` attribute when present (other Pacemaker versions); absent when settled. */
  pending?: string;
  /** Nodes it runs on. */
  nodes: string[];
}

export interface CrmMon {
  dc: string | null;
  quorum: boolean;
  nodes: CrmMonNode[];
  /** Every primitive, also those inside clones and groups. */
  resources: CrmMonResource[];
  xml: string;
}

const attrs = (text: string): Record<string, string> => Object.fromEntries([...text.matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));

/** Reads the parts of `crm_mon --output-as=xml` (Pacemaker 2.1) the lab waits on. */
export function parseCrmMon(xml: string): CrmMon {
  const dcAttrs = attrs(/<current_dc\s([^>]*)\/?>/.exec(xml)?.[1] ?? '');
  const nodesBlock = /<nodes>([\s\S]*?)<\/nodes>/.exec(xml)?.[1] ?? '';
  const nodes = [...nodesBlock.matchAll(/<node\s([^>]*?)\/?>/g)].map((m) => {
    const a = attrs(m[1] as string);
    return { name: a['name'] ?? '', id: a['id'] ?? '', online: a['online'] === 'true', standby: a['standby'] === 'true', unclean: a['unclean'] === 'true' };
  });
  const resourcesBlock = /<resources>([\s\S]*?)<\/resources>/.exec(xml)?.[1] ?? '';
  const resources = [...resourcesBlock.matchAll(/<resource\s([^>]*?)(?:\/>|>([\s\S]*?)<\/resource>)/g)].map((m) => {
    const a = attrs(m[1] as string);
    const on = [...(m[2] ?? '').matchAll(/<node\s([^>]*?)\/?>/g)].map((n) => attrs(n[1] as string)['name'] ?? '');
    return {
      id: a['id'] ?? '',
      agent: a['resource_agent'] ?? '',
      role: a['role'] ?? '',
      active: a['active'] === 'true',
      failed: a['failed'] === 'true',
      ...(a['pending'] ? { pending: a['pending'] } : {}),
      nodes: on,
    };
  });
  return { dc: dcAttrs['present'] === 'true' ? (dcAttrs['name'] ?? null) : null, quorum: dcAttrs['with_quorum'] === 'true', nodes, resources, xml };
}

/** `crm_mon --output-as=xml` in the node, parsed. */
export async function crmMon(node: LabNode): Promise<CrmMon> {
  const r = await node.execOk(['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 30_000 });
  return parseCrmMon(r.stdout);
}

/** Polls crm_mon in `node` until `test` holds; returns the last state. Failed crm_mon calls (cluster not up yet) are retried. */
export async function waitForCluster(node: LabNode, test: (mon: CrmMon) => boolean, what: string, timeoutMs = 120_000, intervalMs = 1000): Promise<CrmMon> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await node.exec(['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 30_000 });
    last = `${r.stdout}${r.stderr}`;
    if (r.exitCode === 0) {
      const mon = parseCrmMon(r.stdout);
      if (test(mon)) return mon;
    }
    await sleep(intervalMs);
  }
  throw new Error(`lab: ${node.name}: ${what} not seen within ${timeoutMs} ms; last crm_mon:\n${last.slice(-6000)}`);
}

export const allOnlineWithDc =
  (names: readonly string[]) =>
  (mon: CrmMon): boolean =>
    mon.dc !== null && names.every((n) => mon.nodes.some((x) => x.name === n && x.online));

/**
 * The nodes where the resource `id` (a clone's primitive id) runs with `role`,
 * settled: crm_mon lists a resource whose start or promote is still running
 * with that role already (and `pending`), so those are left out.
 */
export function whereRole(mon: CrmMon, id: string, role: string): string[] {
  return mon.resources.filter((r) => r.id === id && r.role === role && r.active && !r.failed && r.pending === undefined).flatMap((r) => r.nodes);
}

/** Starts corosync in the node (detached, pid in /run), if not running. */
export async function startCorosync(node: LabNode): Promise<void> {
  await node.execOk(['sh', '-c', `setsid -f sh -c 'echo $$ > ${PIDS.corosync}; exec corosync -f' >/var/log/corosync/stdout.log 2>&1 </dev/null`]);
}

/** Starts pacemakerd in the node (detached, pid in /run, log file instead of syslog). */
export async function startPacemaker(node: LabNode): Promise<void> {
  await node.execOk([
    'sh',
    '-c',
    `PCMK_logfile=${PACEMAKER_LOG} PCMK_logfacility=none setsid -f sh -c 'echo $$ > ${PIDS.pacemakerd}; exec pacemakerd' >/var/log/pacemaker/stdout.log 2>&1 </dev/null`,
  ]);
}

export interface ClusterStart {
  /** From the first corosync start to crm_mon showing every node online and a DC. */
  ms: number;
  dc: string;
  mon: CrmMon;
}

/** Corosync and pacemakerd in every node; resolves once crm_mon (XML) in the first shows them all online and a DC. */
export async function startCluster(nodes: readonly LabNode[], options: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<ClusterStart> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  await Promise.all(nodes.map((n) => startCorosync(n)));
  await Promise.all(nodes.map((n) => waitCorosyncRing(n, 60_000)));
  log(`[pacemaker] corosync ring up on ${nodes.map((n) => n.name).join(', ')} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await Promise.all(nodes.map((n) => startPacemaker(n)));
  const mon = await waitForCluster(nodes[0] as LabNode, allOnlineWithDc(nodes.map((n) => n.name)), 'every node online with a DC', options.timeoutMs ?? 180_000);
  const ms = Date.now() - started;
  log(`[pacemaker] cluster up in ${(ms / 1000).toFixed(1)} s: DC ${mon.dc}, quorum ${mon.quorum}`);
  return { ms, dc: mon.dc as string, mon };
}

/** Waits until corosync in the node reports quorum membership of itself (corosync-quorumtool answers). */
async function waitCorosyncRing(node: LabNode, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await node.exec(['corosync-quorumtool', '-s']);
    last = `${r.stdout}${r.stderr}`;
    if (/Quorate:\s+Yes/.test(r.stdout)) return;
    await sleep(500);
  }
  const logTail = (await node.exec(['tail', '-n', '30', COROSYNC_LOG])).stdout;
  throw new Error(`lab: ${node.name}: corosync not quorate within ${timeoutMs} ms:\n${last}\n--- ${COROSYNC_LOG}\n${logTail}`);
}

/**
 * Stops Pacemaker (which stops its resources) then corosync, in every node at
 * once, by the pids recorded at start; resolves when both have ended.
 */
export async function stopCluster(nodes: readonly LabNode[], options: { timeoutMs?: number } = {}): Promise<void> {
  const timeoutS = Math.round((options.timeoutMs ?? 180_000) / 1000);
  const stop = (pidFile: string) =>
    `p=$(cat ${pidFile} 2>/dev/null) || exit 0; kill -TERM "$p" 2>/dev/null || exit 0; i=0; while kill -0 "$p" 2>/dev/null; do i=$((i+1)); [ $i -gt ${timeoutS * 2} ] && exit 1; sleep 0.5; done; rm -f ${pidFile}`;
  await Promise.all(
    nodes.map(async (n) => {
      await n.execOk(['sh', '-c', stop(PIDS.pacemakerd)], { timeoutMs: timeoutS * 1000 + 10_000 });
      await n.execOk(['sh', '-c', stop(PIDS.corosync)], { timeoutMs: 60_000 });
    }),
  );
}

/**
 * The fence agent of the lab, installed as /usr/sbin/fence_lab in `node`: the
 * fence-agents protocol (key=value lines on stdin, or -o ACTION -n PLUG),
 * actions off, reboot, on, status, monitor, list, metadata, validate-all. It
 * writes a request into the node's lab fence dir and waits for the host's
 * fence service (startFenceService) to answer: off/reboot succeed (0) only
 * when the host confirmed the target's UML process is gone; status exits 0
 * (on) or 2 (off); monitor succeeds only when the host service answers.
 * The file is synced: a crash must not leave an empty agent that "succeeds".
 */
export async function installFenceAgent(node: LabNode, options: { waitSeconds?: number } = {}): Promise<void> {
  const dir = fenceDir(node);
  const waitTenths = (options.waitSeconds ?? 90) * 10;
  const script = `#!/bin/sh
# fence_lab: fence agent of the hastor UML lab (test/lab/harness/pacemaker.ts).
# The host powers lab nodes off and on (it runs them); this agent asks it through
# the shared lab directory ${dir} and reports only what the host confirmed.
DIR='${dir}'
SELF='${node.name}'
action=''
plug=''
if [ $# -eq 0 ]; then
  while IFS= read -r line; do
    line=$(printf '%s' "$line" | sed 's/^[[:space:]]*//')
    case "$line" in
      action=*|option=*) action=\${line#*=} ;;
      port=*|plug=*) plug=\${line#*=} ;;
      nodename=*) [ -n "$plug" ] || plug=\${line#*=} ;;
    esac
  done
else
  while [ $# -gt 0 ]; do
    case "$1" in
      -o|--action) action=$2; shift 2 ;;
      --action=*) action=\${1#*=}; shift ;;
      -n|--plug) plug=$2; shift 2 ;;
      --plug=*) plug=\${1#*=}; shift ;;
      *) shift ;;
    esac
  done
fi
[ -n "$action" ] || action=reboot

metadata() {
  cat <<'XML'
<?xml version="1.0" ?>
<resource-agent name="fence_lab" shortdesc="Fence agent of the hastor UML lab: the host powers the node off">
<longdesc>fence_lab asks the host that runs the User-Mode Linux lab nodes to power a node off (SIGKILL of its UML process, confirmed gone before answering), on, or to report its state, through a request file in the lab directory shared with the host.</longdesc>
<parameters>
	<parameter name="action" unique="0" required="1">
		<getopt mixed="-o, --action=[action]" />
		<content type="string" default="reboot" />
		<shortdesc lang="en">Fencing action</shortdesc>
	</parameter>
	<parameter name="plug" unique="0" required="0" obsoletes="port">
		<getopt mixed="-n, --plug=[id]" />
		<content type="string" />
		<shortdesc lang="en">Lab node name to act on</shortdesc>
	</parameter>
	<parameter name="port" unique="0" required="0" deprecated="1">
		<getopt mixed="-n, --plug=[id]" />
		<content type="string" />
		<shortdesc lang="en">Lab node name to act on</shortdesc>
	</parameter>
</parameters>
<actions>
	<action name="on" automatic="0"/>
	<action name="off" />
	<action name="reboot" />
	<action name="status" />
	<action name="list" />
	<action name="monitor" />
	<action name="metadata" />
	<action name="validate-all" />
</actions>
</resource-agent>
XML
}

# ask ACTION TARGET: writes the request, waits for the host's answer, prints it.
ask() {
  id="$(date +%s%N)-$$"
  printf '{"from":"%s","target":"%s","id":"%s","action":"%s"}\\n' "$SELF" "$2" "$id" "$1" > "$DIR/$id.tmp" && mv "$DIR/$id.tmp" "$DIR/$id.req" || return 1
  i=0
  while [ $i -lt ${waitTenths} ]; do
    if [ -f "$DIR/$id.res" ]; then cat "$DIR/$id.res"; return 0; fi
    sleep 0.1; i=$((i+1))
  done
  echo "fence_lab: no answer from the host for $1 $2" >&2
  return 1
}

case "$action" in
  metadata) metadata; exit 0 ;;
  validate-all) exit 0 ;;
  monitor)
    ask monitor '' | grep -q '"result":"ok"' && exit 0
    exit 1 ;;
  list|list-status)
    out=$(ask list '') || exit 1
    printf '%s\\n' "$out" | sed 's/.*"nodes":\\[//; s/\\].*//; s/"//g' | tr ',' '\\n' | sed '/^$/d'
    exit 0 ;;
  status)
    [ -n "$plug" ] || { echo "fence_lab: status needs a plug" >&2; exit 1; }
    out=$(ask status "$plug") || exit 1
    case "$out" in *'"result":"on"'*) echo "Status: ON"; exit 0 ;; *'"result":"off"'*) echo "Status: OFF"; exit 2 ;; esac
    exit 1 ;;
  off|reboot)
    [ -n "$plug" ] || { echo "fence_lab: $action needs a plug" >&2; exit 1; }
    out=$(ask "$action" "$plug") || exit 1
    case "$out" in *'"result":"off"'*) echo "Success: Powered OFF"; exit 0 ;; esac
    echo "fence_lab: host answered $out" >&2
    exit 1 ;;
  on)
    [ -n "$plug" ] || { echo "fence_lab: on needs a plug" >&2; exit 1; }
    out=$(ask on "$plug") || exit 1
    case "$out" in *'"result":"on"'*) echo "Success: Powered ON"; exit 0 ;; esac
    exit 1 ;;
  *) echo "fence_lab: unsupported action $action" >&2; exit 1 ;;
esac
`;
  await writeFileSynced(node, FENCE_AGENT, script, '0755');
}
