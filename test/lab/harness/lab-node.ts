/**
 * One UML node as the host sees it: its recorded pid, its agent, its lab
 * network interfaces. Commands are argv arrays run by the guest agent; a
 * string is a guest shell script (`sh -c`), never a host shell string.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutorProcess } from '../../../src/sys/executor.js';
import { AgentClient } from './agent-client.js';
import { distPath, GUEST_NODE } from './paths.js';
import { signalRecorded, umlProcesses, untrack } from './reaper.js';

export interface ExecOptions {
  /** Guest-side limit; the child is SIGKILLed when it passes. Default 60 s. */
  timeoutMs?: number;
  stdin?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  /** stdout as base64 of the raw bytes. */
  binary?: boolean;
}

export interface ExecResult {
  argv: string[];
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
}

export class LabCommandError extends Error {
  constructor(
    readonly node: string,
    readonly result: ExecResult,
  ) {
    const why = result.timedOut ? 'timed out' : result.exitCode === null ? `died (${result.signal})` : `exited ${result.exitCode}`;
    super(`${node}$ ${result.argv.join(' ')} ${why}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`);
    this.name = 'LabCommandError';
  }
}

export type StopMethod = 'poweroff' | 'SIGTERM' | 'SIGKILL' | 'already-stopped';

export interface NodeInfo {
  name: string;
  index: number;
  /** 10.99.0.N on the lab network. */
  address: string;
  umid: string;
  /** The UML kernel's host pid (a process group leader). */
  pid: number;
  /** The host shell that started UML and cleans up its process group when UML ends. */
  supervisorPid: number;
  nodeDir: string;
  consoleLog: string;
  /** Peer node name → the guest interface that reaches it. */
  interfaces: Record<string, string>;
  /** The host side of each link: UDP endpoints of the L2TPv3 tunnels (to check they are released). */
  hostLinks: HostLink[];
  /** Which boot of the node this is: 1 at startLab, +1 per Lab.bootNode. */
  boot?: number;
  /** How to start this node's supervisor again (Lab.bootNode); absent in state files of older labs. */
  launch?: NodeLaunch;
}

export interface NodeLaunch {
  /** The supervisor's argv: /bin/sh -c <supervisor> … linux.uml <kernel args>. */
  argv: string[];
  /** Where UML keeps guest RAM ($TMPDIR of the UML process). */
  ramDir: string;
  /** Started detached, to outlive the host process (the lab CLI). */
  persistent: boolean;
}

/** One boot of a node: its processes and the agent channel of that boot. */
interface Boot {
  pid: number;
  supervisorPid: number;
  child: ChildProcess | undefined;
  agent: AgentClient;
  exited: boolean;
}

export interface HostLink {
  peer: string;
  ifname: string;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

let transferSequence = 0;

/** Where boot N's console is kept once the node boots again. */
export function previousConsolePath(nodeDir: string, boot: number): string {
  return join(nodeDir, `console.boot${boot}.log`);
}

export class LabNode {
  readonly name: string;
  readonly index: number;
  readonly address: string;
  readonly umid: string;
  readonly nodeDir: string;
  /** The current boot's console; earlier boots' are kept as console.boot<N>.log (previousConsoleLogPaths). */
  readonly consoleLogPath: string;
  readonly interfaces: Record<string, string>;
  readonly hostLinks: HostLink[];
  readonly launch: NodeLaunch | undefined;
  private bootNumber: number;
  private current: Boot;

  constructor(info: NodeInfo, child?: ChildProcess) {
    this.name = info.name;
    this.index = info.index;
    this.address = info.address;
    this.umid = info.umid;
    this.nodeDir = info.nodeDir;
    this.consoleLogPath = info.consoleLog;
    this.interfaces = info.interfaces;
    this.hostLinks = info.hostLinks;
    this.launch = info.launch;
    this.bootNumber = info.boot ?? 1;
    this.current = this.track(info.pid, info.supervisorPid, child);
  }

  /** The current boot's UML kernel pid (a process group leader); changes with Lab.bootNode. */
  get pid(): number {
    return this.current.pid;
  }

  /** The host shell that started UML and cleans up its process group when UML ends. */
  get supervisorPid(): number {
    return this.current.supervisorPid;
  }

  /** 1 for the boot of startLab, then 2, 3, … after each Lab.bootNode. */
  get boot(): number {
    return this.bootNumber;
  }

  private get agent(): AgentClient {
    return this.current.agent;
  }

  private track(pid: number, supervisorPid: number, child: ChildProcess | undefined): Boot {
    const boot: Boot = { pid, supervisorPid, child, agent: new AgentClient(this.nodeDir), exited: false };
    // Bound to this boot: a late exit event of an old boot must not close the new boot's agent.
    child?.once('exit', (code, signal) => {
      boot.exited = true;
      untrack(boot.pid);
      boot.agent.close(`lab: ${this.name} (pid ${boot.pid}) exited (code ${code}, signal ${signal})\n${this.consoleTail()}`);
    });
    return boot;
  }

  /**
   * Points this handle at a new boot of the same node (Lab.bootNode), so
   * callers holding it (executors, tests) reach the new guest. Not for tests.
   */
  adoptBoot(pid: number, supervisorPid: number, child?: ChildProcess): void {
    if (this.current.child && !this.current.exited) throw new Error(`lab: ${this.name}'s previous boot (pid ${this.pid}) still runs`);
    this.current.agent.close(`lab: ${this.name} was rebooted`);
    this.bootNumber++;
    this.current = this.track(pid, supervisorPid, child);
  }

  info(): NodeInfo {
    return {
      name: this.name,
      index: this.index,
      address: this.address,
      umid: this.umid,
      pid: this.pid,
      supervisorPid: this.supervisorPid,
      nodeDir: this.nodeDir,
      consoleLog: this.consoleLogPath,
      interfaces: this.interfaces,
      hostLinks: this.hostLinks,
      boot: this.bootNumber,
      ...(this.launch ? { launch: this.launch } : {}),
    };
  }

  /** True while any process of this node (supervisor, kernel, UML helpers) is alive. */
  isRunning(): boolean {
    if (this.current.child && !this.current.exited) return true;
    return umlProcesses(this.umid).length > 0;
  }

  consoleLog(): string {
    return existsSync(this.consoleLogPath) ? readFileSync(this.consoleLogPath, 'utf8') : '';
  }

  /** Consoles of the earlier boots of this node (kept by Lab.bootNode), oldest first. */
  previousConsoleLogPaths(): string[] {
    return Array.from({ length: this.bootNumber - 1 }, (_, i) => previousConsolePath(this.nodeDir, i + 1)).filter((p) => existsSync(p));
  }

  consoleTail(lines = 30): string {
    return this.consoleLog().split('\n').slice(-lines).join('\n');
  }

  async exec(command: readonly string[] | string, options: ExecOptions = {}): Promise<ExecResult> {
    const argv = typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
    const timeoutMs = options.timeoutMs ?? 60_000;
    const stdin = options.stdin === undefined ? undefined : Buffer.from(options.stdin).toString('base64');
    const response = await this.agent.request(
      {
        argv,
        timeoutMs,
        ...(stdin === undefined ? {} : { stdin }),
        ...(options.env ? { env: options.env } : {}),
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.binary ? { binaryStdout: true } : {}),
      },
      // The agent enforces timeoutMs; the margin covers polling and a slow guest.
      timeoutMs + 15_000,
    );
    return {
      argv,
      stdout: response.stdout,
      stderr: response.error ? `${response.stderr}${response.error}\n` : response.stderr,
      exitCode: response.exitCode,
      signal: response.signal,
      timedOut: response.timedOut,
      durationMs: response.durationMs,
    };
  }

  /** exec, throwing LabCommandError unless the command exited 0. */
  async execOk(command: readonly string[] | string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.exec(command, options);
    if (result.exitCode !== 0) throw new LabCommandError(this.name, result);
    return result;
  }

  /**
   * Runs one of the compiled guest scripts (test/lab/guest/<name>.ts →
   * dist/test/lab/guest/<name>.js) with the host's node, and parses its JSON stdout.
   */
  async guestScript<T = unknown>(script: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<T> {
    const result = await this.execOk([GUEST_NODE, distPath('guest', `${script}.js`), ...args], options);
    try {
      return JSON.parse(result.stdout) as T;
    } catch {
      throw new Error(`lab: ${this.name} guest script ${script} printed no JSON:\n${result.stdout.slice(0, 2000)}\n${result.stderr.slice(0, 2000)}`);
    }
  }

  /**
   * A long-lived process in the guest with its three pipes, through the agent (stdin as
   * control requests, output as chunk files): what an ssh session gives hastor on a real node.
   */
  spawn(argv: readonly string[], options: { env?: Record<string, string> } = {}): ExecutorProcess {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stream = this.agent.stream({ argv: [...argv], ...(options.env ? { env: options.env } : {}) }, (kind, data) => (kind === 'out' ? stdout : stderr).write(data));
    const stdin = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        stream.write(chunk);
        callback();
      },
      final(callback) {
        stream.end();
        callback();
      },
    });
    const ended = stream.ended
      .then(
        (response) => ({ code: response.exitCode, signal: response.signal, ...(response.error ? { error: response.error } : {}) }),
        (error: unknown) => ({ code: null, signal: null, error: (error as Error).message }),
      )
      .then(async (end) => {
        stdout.end();
        stderr.end();
        // The last chunks' 'data' events come on a later tick: let readers see them first.
        await new Promise((resolve) => setImmediate(resolve));
        return end;
      });
    return { stdin, stdout, stderr, pid: undefined, ended, kill: () => stream.kill(), setRef: (on) => stream.setRef(on) };
  }

  /** Starts argv detached in the guest, output appended to host-visible files; resolves with the guest pid. */
  async spawnBackground(argv: readonly string[], files: { stdoutPath: string; stderrPath?: string }): Promise<number> {
    const response = await this.agent.request(
      { argv: [...argv], timeoutMs: 0, background: true, stdoutPath: files.stdoutPath, stderrPath: files.stderrPath ?? files.stdoutPath },
      30_000,
    );
    if (response.pid === undefined || response.pid === null) throw new Error(`lab: ${this.name} could not start ${argv.join(' ')}: ${response.error}`);
    return response.pid;
  }

  private transferPath(): string {
    const dir = join(this.nodeDir, 'xfer');
    mkdirSync(dir, { recursive: true });
    return join(dir, `${process.pid}-${transferSequence++}`);
  }

  async copyIn(hostPath: string, guestPath: string): Promise<void> {
    const staged = this.transferPath();
    copyFileSync(hostPath, staged);
    try {
      await this.execOk(['cp', staged, guestPath]);
    } finally {
      rmSync(staged, { force: true });
    }
  }

  async copyOut(guestPath: string, hostPath: string): Promise<void> {
    const staged = this.transferPath();
    try {
      await this.execOk(['cp', guestPath, staged]);
      copyFileSync(staged, hostPath);
    } finally {
      rmSync(staged, { force: true });
    }
  }

  async writeFile(guestPath: string, content: string | Buffer): Promise<void> {
    const staged = this.transferPath();
    writeFileSync(staged, content);
    try {
      await this.execOk(['cp', staged, guestPath]);
    } finally {
      rmSync(staged, { force: true });
    }
  }

  async readFile(guestPath: string): Promise<string> {
    return (await this.execOk(['cat', guestPath])).stdout;
  }

  private peerInterfaces(peer?: string): string[] {
    if (peer === undefined) return Object.values(this.interfaces);
    const ifname = this.interfaces[peer];
    if (!ifname) throw new Error(`lab: ${this.name} has no link to ${peer}`);
    return [ifname];
  }

  /** Cuts the lab link(s) to peer (all when omitted) by taking the guest interface down. */
  async linkDown(peer?: string): Promise<void> {
    for (const ifname of this.peerInterfaces(peer)) await this.execOk(['ip', 'link', 'set', ifname, 'down']);
  }

  /** Brings the link(s) back; the /32 route goes away with the link, so it is restored too. */
  async linkUp(peer?: string): Promise<void> {
    const peers = peer === undefined ? Object.keys(this.interfaces) : [peer];
    for (const name of peers) {
      const ifname = this.peerInterfaces(name)[0] as string;
      const peerIndex = Number(name.replace(/^node/, ''));
      await this.execOk(['ip', 'link', 'set', ifname, 'up']);
      await this.execOk(['ip', 'route', 'replace', `10.99.0.${peerIndex}/32`, 'dev', ifname]);
    }
  }

  private async waitExit(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!this.isRunning()) return true;
      await sleep(50);
    }
    return !this.isRunning();
  }

  private signal(signal: NodeJS.Signals): void {
    // Only the recorded pid (and with SIGKILL its process group), verified to be ours.
    signalRecorded(this.pid, this.umid, signal);
  }

  /**
   * A crash: SIGKILL of the recorded UML pid and its process group (no
   * poweroff, no sync), then waits until no process of this node is left.
   * The guest page cache is lost; what UML had written to the disk images
   * is in the host's page cache and stays.
   */
  async kill(options: { timeoutMs?: number } = {}): Promise<void> {
    this.signal('SIGKILL');
    if (!(await this.waitExit(options.timeoutMs ?? 10_000))) {
      this.signal('SIGKILL');
      if (!(await this.waitExit(3_000))) throw new Error(`lab: ${this.name} survived SIGKILL: processes ${umlProcesses(this.umid).join(', ')}`);
    }
    this.agent.close(`lab: ${this.name} was killed`);
    untrack(this.pid);
  }

  /** sysrq poweroff through the agent, then SIGTERM, then SIGKILL of the recorded pid. */
  async stop(options: { graceMs?: number } = {}): Promise<StopMethod> {
    if (!this.isRunning()) {
      this.agent.close(`lab: ${this.name} stopped`);
      return 'already-stopped';
    }
    let method: StopMethod = 'poweroff';
    try {
      this.agent.send({ argv: [], op: 'poweroff', timeoutMs: 0 });
    } catch {
      // lab dir gone: fall through to signals
    }
    if (!(await this.waitExit(options.graceMs ?? 10_000))) {
      method = 'SIGTERM';
      this.signal('SIGTERM');
      if (!(await this.waitExit(3_000))) {
        method = 'SIGKILL';
        this.signal('SIGKILL');
        await this.waitExit(5_000);
      }
    }
    if (this.isRunning()) {
      // Helpers of a kernel that died without a poweroff.
      this.signal('SIGKILL');
      await this.waitExit(3_000);
    }
    this.agent.close(`lab: ${this.name} stopped`);
    untrack(this.pid);
    return method;
  }
}
