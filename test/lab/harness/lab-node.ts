/**
 * One UML node as the host sees it: its recorded pid, its agent, its lab
 * network interfaces. Commands are argv arrays run by the guest agent; a
 * string is a guest shell script (`sh -c`), never a host shell string.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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

export class LabNode {
  readonly name: string;
  readonly index: number;
  readonly address: string;
  readonly umid: string;
  readonly pid: number;
  readonly supervisorPid: number;
  readonly nodeDir: string;
  readonly consoleLogPath: string;
  readonly interfaces: Record<string, string>;
  readonly hostLinks: HostLink[];
  private readonly agent: AgentClient;
  private exited = false;

  constructor(
    info: NodeInfo,
    private readonly child?: ChildProcess,
  ) {
    this.name = info.name;
    this.index = info.index;
    this.address = info.address;
    this.umid = info.umid;
    this.pid = info.pid;
    this.supervisorPid = info.supervisorPid;
    this.nodeDir = info.nodeDir;
    this.consoleLogPath = info.consoleLog;
    this.interfaces = info.interfaces;
    this.hostLinks = info.hostLinks;
    this.agent = new AgentClient(info.nodeDir);
    if (child) {
      child.once('exit', (code, signal) => {
        this.exited = true;
        untrack(this.pid);
        this.agent.close(`lab: ${this.name} (pid ${this.pid}) exited (code ${code}, signal ${signal})\n${this.consoleTail()}`);
      });
    }
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
    };
  }

  /** True while any process of this node (supervisor, kernel, UML helpers) is alive. */
  isRunning(): boolean {
    if (this.child && !this.exited) return true;
    return umlProcesses(this.umid).length > 0;
  }

  consoleLog(): string {
    return existsSync(this.consoleLogPath) ? readFileSync(this.consoleLogPath, 'utf8') : '';
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
