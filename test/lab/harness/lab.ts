/**
 * Boots N User-Mode Linux nodes in parallel and gives the tests a handle on
 * them. Each node: the host's / through hostfs under a private tmpfs overlay
 * (see ../guest/init.sh), sparse data disks as ubd devices, one L2TPv3 link
 * per peer on its own loopback address, the lab dir bound read-write, and a
 * command agent. State is written to <labDir>/state.json so another process
 * (the lab CLI) can find and stop a running lab.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statfsSync, writeFileSync, chmodSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBuilt } from './build.js';
import { LabNode, previousConsolePath, type HostLink, type NodeInfo, type NodeLaunch, type StopMethod } from './lab-node.js';
import { GUEST_NODE, labBaseDir, projectRoot, UML_KERNEL, umlKernelVersion } from './paths.js';
import type { AgentReady } from './protocol.js';
import { track, umlProcesses } from './reaper.js';

export interface LabOptions {
  nodes?: 2 | 3;
  /** Work dir name under the lab base dir; default a fresh unique name. */
  name?: string;
  /** Guest RAM in MiB (default 512). */
  memMiB?: number;
  /** Sparse data disks per node, sizes in MiB: ubda, ubdb, … (default one of 2048). */
  disksMiB?: number[];
  /** Keep running after this host process exits (the lab CLI); tests leave it false. */
  persistent?: boolean;
  /** Boot deadline per node (default 60 s). */
  bootTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface LabState {
  id: string;
  dir: string;
  root: string;
  kernel: string;
  createdAt: string;
  bootMs: number;
  nodes: NodeInfo[];
}

export interface NodeStopReport {
  name: string;
  method: StopMethod;
  consoleProblems: string[];
}

/** Console lines that mean the guest kernel misbehaved. */
export const CONSOLE_PROBLEM = /Kernel panic|WARNING|BUG:/;

export function consoleProblems(log: string): string[] {
  return log.split('\n').filter((line) => CONSOLE_PROBLEM.test(line));
}

/** Problems in every boot's console of a node; lines of earlier boots carry a `[boot N]` prefix. */
function nodeConsoleProblems(node: LabNode): string[] {
  const earlier = node.previousConsoleLogPaths().flatMap((path, i) => consoleProblems(readFileSync(path, 'utf8')).map((line) => `[boot ${i + 1}] ${line}`));
  return [...earlier, ...consoleProblems(node.consoleLog())];
}

export class LabConsoleError extends Error {
  constructor(readonly reports: NodeStopReport[]) {
    super(
      `lab: guest console reported problems:\n${reports
        .filter((r) => r.consoleProblems.length > 0)
        .map((r) => `${r.name}:\n  ${r.consoleProblems.join('\n  ')}`)
        .join('\n')}`,
    );
    this.name = 'LabConsoleError';
  }
}

export class Lab {
  private stopped = false;

  constructor(
    readonly state: LabState,
    readonly nodes: LabNode[],
    private readonly options: { log?: (line: string) => void; bootTimeoutMs?: number } = {},
  ) {}

  get dir(): string {
    return this.state.dir;
  }

  node(name: string): LabNode {
    const found = this.nodes.find((n) => n.name === name);
    if (!found) throw new Error(`lab: no node ${name} (have ${this.nodes.map((n) => n.name).join(', ')})`);
    return found;
  }

  /** Console lines matching CONSOLE_PROBLEM, per node, over all its boots. */
  checkConsoles(): Record<string, string[]> {
    return Object.fromEntries(this.nodes.map((n) => [n.name, nodeConsoleProblems(n)]));
  }

  private log(line: string): void {
    (this.options.log ?? ((l: string) => console.log(l)))(line);
  }

  private saveState(): void {
    this.state.nodes = this.nodes.map((n) => n.info());
    writeFileSync(join(this.dir, 'state.json'), JSON.stringify(this.state, null, 2));
  }

  /**
   * Crashes a node: SIGKILL of its UML process group by the recorded pid (no
   * poweroff, no sync), and waits until none of its processes (supervisor,
   * kernel, UML helpers) is left and its UDP link ports are released. Peers
   * see the link go silent, as after a real crash. Disks stay for bootNode.
   */
  async killNode(name: string): Promise<void> {
    const node = this.node(name);
    const started = Date.now();
    await node.kill();
    await waitPortsFree(node, 5_000);
    this.log(`[lab] ${name} killed (pid ${node.pid}) in ${Date.now() - started} ms`);
  }

  /**
   * Boots a node that was killed (or stopped) again: same disk images with
   * their contents, same root disk (so /etc, /var/lib and /root are as the
   * crash left them; /run and /tmp start empty), same address and links, a
   * new console (the old one kept as console.boot<N>.log). Resolves when the
   * agent is ready; the same LabNode object now points at the new boot.
   */
  async bootNode(name: string): Promise<LabNode> {
    if (this.stopped) throw new Error(`lab: stopped; cannot boot ${name}`);
    const node = this.node(name);
    if (node.isRunning()) throw new Error(`lab: ${name} is running (pid ${node.pid}); killNode or stop it first`);
    if (!node.launch) throw new Error(`lab: ${name} has no launch record (state file of an older harness)`);
    const started = Date.now();
    await waitPortsFree(node, 5_000);
    // A crashed boot leaves UML's control dir, the ready flag and maybe unanswered requests: none may reach the new boot.
    rmSync(join(this.dir, 'uml', node.umid), { recursive: true, force: true });
    for (const entry of ['ready.json', 'req', 'res']) rmSync(join(node.nodeDir, entry), { recursive: true, force: true });
    if (existsSync(node.consoleLogPath)) renameSync(node.consoleLogPath, previousConsolePath(node.nodeDir, node.boot));
    const { child, pid } = await launchNode(node.launch, node.nodeDir, node.umid);
    node.adoptBoot(pid, child.pid as number, child);
    this.saveState();
    const ready = await waitReady(node, join(node.nodeDir, 'ready.json'), this.options.bootTimeoutMs ?? 60_000);
    this.log(`[lab] ${name} boot ${node.boot} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (guest uptime at agent start ${ready.uptimeSeconds.toFixed(1)} s, pid ${pid})`);
    return node;
  }

  /**
   * Stops every node (sysrq poweroff, then SIGTERM/SIGKILL of the recorded
   * pid), removes the disks and UML's control sockets, and throws
   * LabConsoleError if a console showed a panic, WARNING or BUG. The work dir
   * is removed when all is clean, else kept for the logs.
   */
  async stop(options: { keep?: boolean; ignoreConsole?: boolean } = {}): Promise<NodeStopReport[]> {
    if (this.stopped) return [];
    this.stopped = true;
    const methods = await Promise.all(this.nodes.map((n) => n.stop()));
    const reports = this.nodes.map((n, i) => ({ name: n.name, method: methods[i] as StopMethod, consoleProblems: nodeConsoleProblems(n) }));
    const leftovers = this.nodes.flatMap((n) => umlProcesses(n.umid).map((pid) => `${n.name} process ${pid}`));
    for (const link of this.nodes.flatMap((n) => n.hostLinks)) {
      if (!(await udpFree(link.src, link.srcPort))) leftovers.push(`UDP ${link.src}:${link.srcPort} still bound`);
    }
    rmSync(join(this.dir, 'uml'), { recursive: true, force: true });
    for (const n of this.nodes) {
      for (const entry of existsSync(n.nodeDir) ? readdirSync(n.nodeDir) : []) {
        if (entry.endsWith('.img') || ['req', 'res', 'xfer'].includes(entry)) rmSync(join(n.nodeDir, entry), { recursive: true, force: true });
      }
    }
    const problems = reports.some((r) => r.consoleProblems.length > 0);
    if (!options.keep && !problems && leftovers.length === 0) rmSync(this.dir, { recursive: true, force: true });
    else writeFileSync(join(this.dir, 'stopped.json'), JSON.stringify({ stoppedAt: new Date().toISOString(), reports }, null, 2));
    if (leftovers.length > 0) throw new Error(`lab: left behind after stop: ${leftovers.join(', ')}`);
    if (problems && !options.ignoreConsole) throw new LabConsoleError(reports);
    return reports;
  }
}

/**
 * Runs UML in the background, records its pid, and SIGKILLs its process
 * group when UML ends or the supervisor is told to stop: UML's helper
 * processes outlive a kernel that was killed instead of powered off.
 */
const SUPERVISOR = `"$@" &
uml=$!
echo "$uml" > "$LAB_PIDFILE"
trap 'kill -KILL "-$uml" "$uml" 2>/dev/null; exit 143' TERM INT HUP
wait "$uml"
rc=$?
kill -KILL "-$uml" 2>/dev/null
exit $rc`;

/**
 * Starts a node's supervisor (console appended to <nodeDir>/console.log) and
 * waits for UML's recorded pid. Tests' nodes carry PR_SET_PDEATHSIG so they
 * end with this process, even on SIGKILL; persistent ones are detached.
 */
async function launchNode(launch: NodeLaunch, nodeDir: string, umid: string): Promise<{ child: ChildProcess; pid: number }> {
  const pidFile = join(nodeDir, 'uml.pid');
  rmSync(pidFile, { force: true }); // a previous boot's pid must not be taken for this one
  const out = openSync(join(nodeDir, 'console.log'), 'a');
  const [file, ...argv] = launch.persistent ? launch.argv : ['/usr/bin/setpriv', '--pdeathsig', 'TERM', '--', ...launch.argv];
  const child = spawn(file as string, argv, {
    stdio: ['ignore', out, out],
    detached: launch.persistent,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', TMPDIR: launch.ramDir, LAB_PIDFILE: pidFile },
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`lab: could not start ${UML_KERNEL}`);
  if (launch.persistent) child.unref();
  const pid = await readPidFile(pidFile, child.pid);
  // A persistent lab must outlive this process; everything else is killed if we exit without stop().
  if (!launch.persistent) track(pid, umid);
  return { child, pid };
}

async function readPidFile(path: string, supervisorPid: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
    if (/^\d+$/.test(text)) return Number(text);
    await sleep(5);
  }
  throw new Error(`lab: the node supervisor (pid ${supervisorPid}) did not record UML's pid in ${path}`);
}

/** The root disk is the last ubd slot (UML has 16), /dev/ubdp in the guest, out of the data disks' way. */
const ROOT_DISK_UBD = 15;
const ROOT_DISK_DEVICE = '/dev/ubdp';
const ROOT_DISK_MIB = 1024;

/** Always a new sparse file: a truncated old one keeps LVM/DRBD metadata. */
function sparseFile(path: string, sizeMiB: number): void {
  rmSync(path, { force: true });
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, sizeMiB * 2 ** 20);
  } finally {
    closeSync(fd);
  }
}

const hostAddress = (net: [number, number], index: number): string => `127.${net[0]}.${net[1]}.${index}`;
const linkPort = (from: number, to: number): number => 17000 + from * 10 + to;
const sessionId = (from: number, to: number): number => from * 10 + to;

/** Waits until the node's own link ports can be bound again (its UML sockets are closed). */
async function waitPortsFree(node: LabNode, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const busy: string[] = [];
    for (const link of node.hostLinks) if (!(await udpFree(link.src, link.srcPort))) busy.push(`${link.src}:${link.srcPort}`);
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`lab: ${node.name}'s link ports still bound: ${busy.join(', ')}`);
    await sleep(50);
  }
}

export async function udpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, address, () => socket.close(() => resolve(true)));
  });
}

/** Picks a 127.A.B.0/24 whose lab ports are free, so labs on one host do not collide. */
async function pickLoopbackNet(count: number): Promise<[number, number]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const net: [number, number] = [100 + Math.floor(Math.random() * 100), 1 + Math.floor(Math.random() * 250)];
    let free = true;
    for (let i = 1; i <= count && free; i++) {
      for (let j = 1; j <= count && free; j++) if (i !== j) free = await udpFree(hostAddress(net, i), linkPort(i, j));
    }
    if (free) return net;
  }
  throw new Error('lab: no free loopback address/port set for the lab network');
}

/** Where UML keeps guest RAM: $TMPDIR if set, else /dev/shm when it has room, else the OS temp dir. */
function ramDir(neededMiB: number): string {
  if (process.env['TMPDIR']) return process.env['TMPDIR'];
  try {
    const fs = statfsSync('/dev/shm');
    if ((fs.bavail * fs.bsize) / 2 ** 20 > neededMiB + 256) return '/dev/shm';
  } catch {
    // no /dev/shm
  }
  return tmpdir();
}

function uniqueName(): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(4, 14);
  return `${stamp}-${process.pid}-${Math.floor(Math.random() * 1296).toString(36)}`;
}

async function waitReady(node: LabNode, readyPath: string, deadlineMs: number): Promise<AgentReady> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (existsSync(readyPath)) {
      try {
        return JSON.parse(readFileSync(readyPath, 'utf8')) as AgentReady;
      } catch {
        // being renamed into place
      }
    }
    if (!node.isRunning()) throw new Error(`lab: ${node.name} died while booting:\n${node.consoleTail(40)}`);
    await sleep(20);
  }
  throw new Error(`lab: ${node.name} not ready within ${deadlineMs} ms:\n${node.consoleTail(40)}`);
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const log = options.log ?? ((line: string) => console.log(line));
  const count = options.nodes ?? 2;
  const memMiB = options.memMiB ?? 512;
  const disks = options.disksMiB ?? [2048];
  if (disks.length > ROOT_DISK_UBD) throw new Error(`lab: at most ${ROOT_DISK_UBD} data disks (ubd${ROOT_DISK_UBD} is the root disk)`);
  const root = projectRoot();
  const kernel = umlKernelVersion();
  ensureBuilt(log);

  const dir = join(labBaseDir(), options.name ?? uniqueName());
  if (existsSync(join(dir, 'state.json'))) throw new Error(`lab: ${dir} holds a lab already (state.json); stop it first`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'uml'), { recursive: true });
  // The init script must be executable; a copy in the lab dir does not rely on git's file modes.
  const init = join(dir, 'init.sh');
  copyFileSync(join(root, 'test', 'lab', 'guest', 'init.sh'), init);
  chmodSync(init, 0o755);

  const net = await pickLoopbackNet(count);
  const ram = ramDir(count * memMiB);
  const labId = `hl${net[0]}x${net[1]}`;
  const started = Date.now();
  const nodes: LabNode[] = [];

  for (let i = 1; i <= count; i++) {
    const name = `node${i}`;
    const nodeDir = join(dir, name);
    mkdirSync(nodeDir, { recursive: true });
    const umid = `${labId}-${name}`;
    const args = [
      `mem=${memMiB}M`,
      `umid=${umid}`,
      `uml_dir=${join(dir, 'uml')}`,
      'root=/dev/root',
      'rootfstype=hostfs',
      'rootflags=/',
      'rw',
      `init=${init}`,
      'con=null',
      'con0=null,fd:1',
      'ssl=null',
    ];
    disks.forEach((sizeMiB, d) => {
      const image = join(nodeDir, `disk${d}.img`);
      sparseFile(image, sizeMiB);
      args.push(`ubd${d}=${image}`);
    });
    // The root disk: ext4 holding the overlay's upper layer (see guest/init.sh), so /etc survives a reboot.
    const rootImage = join(nodeDir, 'root.img');
    sparseFile(rootImage, ROOT_DISK_MIB);
    execFileSync('/usr/sbin/mkfs.ext4', ['-q', '-F', '-L', `${name}-root`, '-m', '0', '-N', '16384', '-J', 'size=16', '-E', 'root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0', rootImage], { stdio: 'pipe' });
    args.push(`ubd${ROOT_DISK_UBD}=${rootImage}`);
    const interfaces: Record<string, string> = {};
    const hostLinks: HostLink[] = [];
    const addrs: string[] = [];
    let vec = 0;
    for (let j = 1; j <= count; j++) {
      if (j === i) continue;
      const ifname = `vec${vec}`;
      interfaces[`node${j}`] = ifname;
      hostLinks.push({ peer: `node${j}`, ifname, src: hostAddress(net, i), srcPort: linkPort(i, j), dst: hostAddress(net, j), dstPort: linkPort(j, i) });
      addrs.push(`${ifname}:10.99.0.${i}:10.99.0.${j}`);
      args.push(
        `${ifname}:transport=l2tpv3,udp=1,src=${hostAddress(net, i)},dst=${hostAddress(net, j)},srcport=${linkPort(i, j)},dstport=${linkPort(j, i)},` +
          `rx_session=${sessionId(j, i)},tx_session=${sessionId(i, j)},mac=52:54:00:99:0${i}:0${j}`,
      );
      vec++;
    }
    // Unknown name=value parameters reach init as environment variables.
    args.push(`LAB_NODE=${name}`, `LAB_DIR=${dir}`, `LAB_ROOT=${root}`, `LAB_NODE_BIN=${GUEST_NODE}`, `LAB_ADDRS=${addrs.join(',')}`, `LAB_ROOT_DISK=${ROOT_DISK_DEVICE}`);

    const consoleLog = join(nodeDir, 'console.log');
    const launch: NodeLaunch = { argv: ['/bin/sh', '-c', SUPERVISOR, 'hastor-lab-node', UML_KERNEL, ...args], ramDir: ram, persistent: options.persistent ?? false };
    const { child, pid } = await launchNode(launch, nodeDir, umid);
    const info: NodeInfo = { name, index: i, address: `10.99.0.${i}`, umid, pid, supervisorPid: child.pid as number, nodeDir, consoleLog, interfaces, hostLinks, boot: 1, launch };
    nodes.push(new LabNode(info, child));
  }

  const state: LabState = { id: labId, dir, root, kernel, createdAt: new Date().toISOString(), bootMs: 0, nodes: nodes.map((n) => n.info()) };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));
  const lab = new Lab(state, nodes, { log, ...(options.bootTimeoutMs === undefined ? {} : { bootTimeoutMs: options.bootTimeoutMs }) });
  try {
    const ready = await Promise.all(nodes.map((n) => waitReady(n, join(n.nodeDir, 'ready.json'), options.bootTimeoutMs ?? 60_000)));
    state.bootMs = Date.now() - started;
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));
    log(
      `[lab] ${count} nodes ready in ${(state.bootMs / 1000).toFixed(1)} s (guest uptime at agent start: ${ready
        .map((r, i) => `${nodes[i]?.name} ${r.uptimeSeconds.toFixed(1)} s`)
        .join(', ')}); dir ${dir}`,
    );
  } catch (error) {
    await lab.stop({ keep: true, ignoreConsole: true }).catch(() => undefined);
    throw error;
  }
  return lab;
}

/** Finds a lab started by another process (the lab CLI) from its state.json. */
export function attachLab(dir: string): Lab {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) throw new Error(`lab: no running lab in ${dir} (no state.json)`);
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as LabState;
  return new Lab(state, state.nodes.map((info) => new LabNode(info)));
}
