/**
 * Host side of the file protocol with the guest agent: write a request into
 * `<nodeDir>/req/`, wait for `<nodeDir>/res/<id>.json`. The host can use
 * inotify on the lab dir (the UML process writes real host files), with a
 * slow poll as a safety net.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { AgentRequest, AgentResponse } from './protocol.js';

interface Pending {
  resolve: (response: AgentResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

let sequence = 0;

export class AgentClient {
  private readonly reqDir: string;
  private readonly resDir: string;
  private readonly pending = new Map<string, Pending>();
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private closedReason: string | undefined;

  constructor(readonly nodeDir: string) {
    this.reqDir = join(nodeDir, 'req');
    this.resDir = join(nodeDir, 'res');
    mkdirSync(this.reqDir, { recursive: true });
    mkdirSync(this.resDir, { recursive: true });
  }

  private start(): void {
    if (this.watcher || this.closedReason) return;
    this.watcher = watch(this.resDir, (_event, name) => {
      if (name && name.endsWith('.json')) this.collect(name.slice(0, -5));
    });
    this.watcher.on('error', () => undefined);
    this.poller = setInterval(() => {
      for (const id of this.pending.keys()) this.collect(id);
    }, 100);
    this.poller.unref();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
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
    if (entry) clearTimeout(entry.timer);
    this.pending.delete(id);
    if (this.pending.size === 0) this.stopWatching();
  }

  /** Sends a request; resolves with the agent's answer, rejects if none comes within waitMs. */
  request(request: Omit<AgentRequest, 'id'>, waitMs: number): Promise<AgentResponse> {
    if (this.closedReason) return Promise.reject(new Error(this.closedReason));
    const id = `${process.pid.toString(36)}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;
    return new Promise<AgentResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
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
    const id = `${process.pid.toString(36)}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;
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
    this.stopWatching();
  }
}
