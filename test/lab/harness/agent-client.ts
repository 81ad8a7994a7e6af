/**
 * Host side of the file protocol with the guest agent: write a request into
 * `<nodeDir>/req/`, wait for `<nodeDir>/res/<id>.json`. The host can use
 * inotify on the lab dir (the UML process writes real host files), with a
 * slow poll as a safety net. A stream (a long-lived process) sends its stdin
 * as control requests and gets its output as chunk files in `<nodeDir>/stream/`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { AgentRequest, AgentResponse } from './protocol.js';

interface Pending {
  resolve: (response: AgentResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

let sequence = 0;
const newId = (): string => `${process.pid.toString(36)}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;

/** A process the agent keeps running for us. */
export interface AgentStream {
  readonly id: string;
  write(data: Buffer | string): void;
  /** Closes its stdin. */
  end(): void;
  /** SIGKILL in the guest. */
  kill(): void;
  /** Whether waiting for it keeps this process alive. */
  setRef(on: boolean): void;
  /** The agent's answer, once the process ended and every chunk of its output was delivered. */
  readonly ended: Promise<AgentResponse>;
}

interface StreamState {
  onChunk: (kind: 'out' | 'err', data: Buffer) => void;
  /** Next output chunk to deliver, and those that came early. */
  next: number;
  early: Map<number, { kind: 'out' | 'err'; data: Buffer }>;
  /** Next stdin control's seq. */
  inSeq: number;
  ref: boolean;
  /** Set by the answer: deliver up to here, then `done`. */
  total: number | null;
  done: () => void;
}

const CHUNK_NAME = /^(.+)\.(\d+)\.(out|err)$/;

export class AgentClient {
  private readonly reqDir: string;
  private readonly resDir: string;
  private readonly pending = new Map<string, Pending>();
  private readonly streamDir: string;
  private readonly streams = new Map<string, StreamState>();
  private streamWatcher: FSWatcher | undefined;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private closedReason: string | undefined;

  constructor(readonly nodeDir: string) {
    this.reqDir = join(nodeDir, 'req');
    this.resDir = join(nodeDir, 'res');
    mkdirSync(this.reqDir, { recursive: true });
    mkdirSync(this.resDir, { recursive: true });
    this.streamDir = join(nodeDir, 'stream');
    mkdirSync(this.streamDir, { recursive: true });
  }

  private start(): void {
    if (this.watcher || this.closedReason) return;
    this.watcher = watch(this.resDir, (_event, name) => {
      if (name && name.endsWith('.json')) this.collect(name.slice(0, -5));
    });
    this.watcher.on('error', () => undefined);
    this.poller = setInterval(() => {
      for (const id of this.pending.keys()) this.collect(id);
      if (this.streams.size > 0) this.scanChunks();
    }, 100);
    this.poller.unref();
    this.updateRefs();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.streamWatcher?.close();
    this.streamWatcher = undefined;
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }

  private collect(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    const path = join(this.resDir, `${id}.json`);
    let response: AgentResponse;
    try {
      response = JSON.parse(readFileSync(path, 'utf8')) as AgentResponse;
    } catch {
      return; // not there yet
    }
    try {
      unlinkSync(path);
    } catch {
      // the poll and the watcher raced; harmless
    }
    this.settle(id);
    entry.resolve(response);
  }

  private settle(id: string): void {
    const entry = this.pending.get(id);
    if (entry?.timer) clearTimeout(entry.timer);
    this.pending.delete(id);
    if (this.pending.size === 0 && this.streams.size === 0) this.stopWatching();
  }

  /**
   * Starts argv in the guest and keeps it running: output to onChunk in the order the
   * guest read it, stdin through write()/end().
   */
  stream(request: Pick<AgentRequest, 'argv' | 'env' | 'cwd'>, onChunk: (kind: 'out' | 'err', data: Buffer) => void): AgentStream {
    const id = newId();
    let resolveDone: () => void = () => undefined;
    const delivered = new Promise<void>((resolve) => (resolveDone = resolve));
    const state: StreamState = { onChunk, next: 0, early: new Map(), inSeq: 0, ref: true, total: null, done: resolveDone };
    this.streams.set(id, state);
    const answered = this.request({ ...request, op: 'stream', timeoutMs: 0 }, null, id);
    this.armStreamWatcher();
    const ended = answered.then(
      async (response) => {
        state.total = response.chunks ?? 0;
        this.scanChunks();
        this.deliver(id, state);
        await delivered;
        return response;
      },
      (error: unknown) => {
        this.streams.delete(id);
        throw error;
      },
    );
    const control = (op: 'stdin' | 'stdin-end' | 'kill', data?: Buffer | string) => {
      if (this.closedReason || !this.streams.has(id)) return;
      this.send({ argv: [], op, stream: id, timeoutMs: 0, ...(op === 'kill' ? {} : { seq: state.inSeq++ }), ...(data === undefined ? {} : { stdin: Buffer.from(data).toString('base64') }) });
    };
    return {
      id,
      write: (data) => control('stdin', data),
      end: () => control('stdin-end'),
      kill: () => control('kill'),
      setRef: (on) => {
        state.ref = on;
        this.updateRefs();
      },
      ended,
    };
  }

  private armStreamWatcher(): void {
    if (this.streamWatcher || this.closedReason) return;
    this.streamWatcher = watch(this.streamDir, (_event, name) => {
      if (name) this.collectChunk(name);
    });
    this.streamWatcher.on('error', () => undefined);
    this.start();
    this.updateRefs();
  }

  /** Waiting on a stream keeps this process alive only while someone waits on it (a timed request holds its own timer). */
  private updateRefs(): void {
    const wanted = [...this.streams.values()].some((s) => s.ref);
    for (const handle of [this.watcher, this.streamWatcher]) {
      if (wanted) handle?.ref();
      else handle?.unref();
    }
  }

  private scanChunks(): void {
    let names: string[] = [];
    try {
      names = readdirSync(this.streamDir);
    } catch {
      return;
    }
    for (const name of names) this.collectChunk(name);
  }

  private collectChunk(name: string): void {
    const m = CHUNK_NAME.exec(name);
    if (m === null) return;
    const state = this.streams.get(m[1]!);
    if (state === undefined) return;
    const path = join(this.streamDir, name);
    let data: Buffer;
    try {
      data = readFileSync(path);
      unlinkSync(path);
    } catch {
      return; // the watcher and the scan raced
    }
    state.early.set(Number(m[2]), { kind: m[3] as 'out' | 'err', data });
    this.deliver(m[1]!, state);
  }

  private deliver(id: string, state: StreamState): void {
    for (let chunk = state.early.get(state.next); chunk !== undefined; chunk = state.early.get(state.next)) {
      state.early.delete(state.next++);
      state.onChunk(chunk.kind, chunk.data);
    }
    if (state.total !== null && state.next >= state.total) {
      this.streams.delete(id);
      state.done();
      if (this.pending.size === 0 && this.streams.size === 0) this.stopWatching();
      else this.updateRefs();
    }
  }

  /** Sends a request; resolves with the agent's answer, rejects if none comes within waitMs (null: no limit). */
  request(request: Omit<AgentRequest, 'id'>, waitMs: number | null, id = newId()): Promise<AgentResponse> {
    if (this.closedReason) return Promise.reject(new Error(this.closedReason));
    return new Promise<AgentResponse>((resolve, reject) => {
      const timer = waitMs === null ? undefined : setTimeout(() => {
        this.settle(id);
        try {
          unlinkSync(join(this.reqDir, `${id}.json`));
        } catch {
          // the agent took it
        }
        reject(new Error(`lab: no answer from the agent in ${this.nodeDir} within ${waitMs} ms (argv ${JSON.stringify(request.argv)})`));
      }, waitMs);
      this.pending.set(id, { resolve, reject, timer });
      this.start();
      const tmp = join(this.reqDir, `.${id}.tmp`);
      writeFileSync(tmp, JSON.stringify({ ...request, id }));
      renameSync(tmp, join(this.reqDir, `${id}.json`));
      // The answer may already be there before the watcher armed.
      if (existsSync(join(this.resDir, `${id}.json`))) this.collect(id);
    });
  }

  /** Fire and forget (poweroff). */
  send(request: Omit<AgentRequest, 'id'>): void {
    const id = newId();
    const tmp = join(this.reqDir, `.${id}.tmp`);
    writeFileSync(tmp, JSON.stringify({ ...request, id }));
    renameSync(tmp, join(this.reqDir, `${id}.json`));
  }

  /** Fails every waiting request (the node died) and refuses new ones. */
  close(reason: string): void {
    this.closedReason = reason;
    for (const [id, entry] of [...this.pending]) {
      this.settle(id);
      entry.reject(new Error(reason));
    }
    this.streams.clear();
    this.stopWatching();
  }
}
