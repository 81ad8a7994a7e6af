/**
 * The command agent inside a lab node. It polls `<nodeDir>/req/` on the
 * shared lab directory (hostfs: no inotify across the host boundary), runs
 * each request as an argv array and answers in `<nodeDir>/res/`. Files are
 * written under a temporary name and renamed, so neither side ever reads a
 * half-written message. Protocol types live in ../harness/protocol.ts.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentReady, AgentRequest, AgentResponse } from '../harness/protocol.js';

const nodeDir = process.argv[2];
if (!nodeDir) {
  process.stderr.write('usage: agent.js <nodeDir>\n');
  process.exit(2);
}
const reqDir = join(nodeDir, 'req');
const resDir = join(nodeDir, 'res');
const streamDir = join(nodeDir, 'stream');
mkdirSync(reqDir, { recursive: true });
mkdirSync(resDir, { recursive: true });
mkdirSync(streamDir, { recursive: true });

// Poll fast while commands keep coming, slower when idle (guest syscalls are costly).
const HOT_MS = 3;
const IDLE_MS = 20;
const HOT_WINDOW_MS = 3000;
let lastActivity = Date.now();
const running = new Set<string>();

function answer(response: AgentResponse): void {
  const tmp = join(resDir, `.${response.id}.tmp`);
  writeFileSync(tmp, JSON.stringify(response));
  renameSync(tmp, join(resDir, `${response.id}.json`));
}

/** A 'stream' process: stdin fed in seq order from control requests, output out as chunk files. */
interface Stream {
  child: ReturnType<typeof spawn>;
  nextIn: number;
  waiting: Map<number, AgentRequest>;
  chunks: number;
}
const streams = new Map<string, Stream>();
/** Controls read before their stream's start (one poll sees both, in directory order). */
const early = new Map<string, AgentRequest[]>();
const endedStreams = new Set<string>();

function startStream(request: AgentRequest, file: string, args: string[], env: NodeJS.ProcessEnv, started: number): void {
  const child = spawn(file, args, { cwd: request.cwd ?? '/', env, stdio: ['pipe', 'pipe', 'pipe'] });
  const stream: Stream = { child, nextIn: 0, waiting: new Map(), chunks: 0 };
  streams.set(request.id, stream);
  const chunk = (kind: 'out' | 'err') => (data: Buffer) => {
    const name = `${request.id}.${stream.chunks++}.${kind}`;
    writeFileSync(join(streamDir, `.${name}.tmp`), data);
    renameSync(join(streamDir, `.${name}.tmp`), join(streamDir, name));
  };
  child.stdout?.on('data', chunk('out'));
  child.stderr?.on('data', chunk('err'));
  child.stdin?.on('error', () => undefined);
  let spawnError: string | undefined;
  child.on('error', (error) => {
    spawnError = error.message;
  });
  child.on('close', (code, signal) => {
    streams.delete(request.id);
    endedStreams.add(request.id);
    running.delete(request.id);
    answer({ id: request.id, exitCode: code, signal, stdout: '', stderr: '', timedOut: false, durationMs: Date.now() - started, pid: child.pid ?? null, error: spawnError, chunks: stream.chunks });
  });
  for (const waiting of early.get(request.id) ?? []) control(waiting);
  early.delete(request.id);
}

/** stdin data / end for a stream, applied in seq order; kill at once. */
function control(request: AgentRequest): void {
  const id = request.stream ?? '';
  const stream = streams.get(id);
  if (stream === undefined) {
    if (!endedStreams.has(id)) early.set(id, [...(early.get(id) ?? []), request]);
    return;
  }
  if (request.op === 'kill') {
    stream.child.kill('SIGKILL');
    return;
  }
  stream.waiting.set(request.seq ?? 0, request);
  for (let next = stream.waiting.get(stream.nextIn); next !== undefined; next = stream.waiting.get(stream.nextIn)) {
    stream.waiting.delete(stream.nextIn++);
    if (next.op === 'stdin-end') stream.child.stdin?.end();
    else stream.child.stdin?.write(Buffer.from(next.stdin ?? '', 'base64'));
  }
}

function run(request: AgentRequest): void {
  const started = Date.now();
  if (request.op === 'stdin' || request.op === 'stdin-end' || request.op === 'kill') {
    control(request);
    return;
  }
  if (request.op === 'poweroff') {
    // Clean poweroff; no answer, the host watches the process exit.
    try {
      writeFileSync('/proc/sysrq-trigger', 's');
      writeFileSync('/proc/sysrq-trigger', 'o');
    } catch {
      process.exit(0);
    }
    return;
  }
  const [file, ...args] = request.argv;
  if (file === undefined) {
    answer({ id: request.id, exitCode: null, signal: null, stdout: '', stderr: 'empty argv', timedOut: false, durationMs: 0, error: 'empty argv' });
    return;
  }
  const env = { ...process.env, ...(request.env ?? {}) };
  if (request.op === 'stream') {
    startStream(request, file, args, env, started);
    return;
  }
  if (request.background) {
    // Detached, output to files in the lab dir; answered at once with the pid.
    const out = openSync(request.stdoutPath ?? '/dev/null', 'a');
    const err = openSync(request.stderrPath ?? '/dev/null', 'a');
    const child = spawn(file, args, { cwd: request.cwd ?? '/', env, stdio: ['ignore', out, err], detached: true });
    closeSync(out);
    closeSync(err);
    child.on('error', () => undefined);
    child.unref();
    answer({ id: request.id, exitCode: child.pid === undefined ? null : 0, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: Date.now() - started, pid: child.pid ?? null, error: child.pid === undefined ? 'spawn failed' : undefined });
    return;
  }
  const child = spawn(file, args, { cwd: request.cwd ?? '/', env, stdio: [request.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let timedOut = false;
  let spawnError: string | undefined;
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  if (request.stdin !== undefined && child.stdin) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(Buffer.from(request.stdin, 'base64'));
  }
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, request.timeoutMs);
  child.on('error', (error) => {
    spawnError = error.message;
  });
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    running.delete(request.id);
    const stdout = Buffer.concat(out);
    answer({
      id: request.id,
      exitCode: code,
      signal,
      stdout: request.binaryStdout ? stdout.toString('base64') : stdout.toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      timedOut,
      durationMs: Date.now() - started,
      error: spawnError,
    });
  });
}

function poll(): void {
  let names: string[] = [];
  try {
    names = readdirSync(reqDir);
  } catch {
    names = [];
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const id = name.slice(0, -'.json'.length);
    if (running.has(id)) continue;
    const path = join(reqDir, name);
    let request: AgentRequest;
    try {
      request = JSON.parse(readFileSync(path, 'utf8')) as AgentRequest;
      unlinkSync(path);
    } catch {
      continue;
    }
    lastActivity = Date.now();
    running.add(id);
    try {
      run(request);
    } catch (error) {
      running.delete(id);
      answer({ id, exitCode: null, signal: null, stdout: '', stderr: String(error), timedOut: false, durationMs: 0, error: String(error) });
    }
    if (request.background || request.op === 'poweroff' || request.op === 'stdin' || request.op === 'stdin-end' || request.op === 'kill') running.delete(id);
  }
  // A stream waiting for input does not keep the poll hot; its input does (lastActivity).
  const hot = Date.now() - lastActivity < HOT_WINDOW_MS || running.size > streams.size;
  setTimeout(poll, hot ? HOT_MS : IDLE_MS);
}

const ready: AgentReady = {
  pid: process.pid,
  uptimeSeconds: Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]),
  hostname: readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(),
  kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
};
writeFileSync(join(nodeDir, '.ready.tmp'), JSON.stringify(ready));
renameSync(join(nodeDir, '.ready.tmp'), join(nodeDir, 'ready.json'));
poll();
