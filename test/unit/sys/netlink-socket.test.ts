import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NativeError } from '../../../src/errors.js';
import { decodeGenlFamilies, resolveGenlFamily } from '../../../src/sys/genl-family.js';
import {
  CTRL_CMD_GETFAMILY,
  GENL_ID_CTRL,
  NLMSG_NOOP,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_MULTI,
  encodeGenlHeader,
} from '../../../src/sys/netlink-codec.js';
import { GenericNetlinkSocket } from '../../../src/sys/netlink-socket.js';
import type { NetlinkEvent } from '../../../src/sys/netlink-socket.js';
import { startHelper } from './helpers/children.js';
import type { Child } from './helpers/children.js';
import { compileForChildren } from './helpers/compile-for-children.js';
import type { CompiledPackage } from './helpers/compile-for-children.js';

const ETIMEDOUT = 110;
const ECANCELED = 125;

const sockets: GenericNetlinkSocket[] = [];
function open(...args: Parameters<typeof GenericNetlinkSocket.open>): GenericNetlinkSocket {
  const socket = GenericNetlinkSocket.open(...args);
  sockets.push(socket);
  return socket;
}
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

describe('GenericNetlinkSocket requests', () => {
  it('opens with a kernel-assigned port id and closes idempotently', () => {
    const socket = open();
    expect(socket.portId).toBeGreaterThan(0);
    expect(socket.closed).toBe(false);
    socket.close();
    socket.close();
    expect(socket.closed).toBe(true);
  });

  it('collects every part of a dump and leaves NLMSG_DONE out', async () => {
    const socket = open();
    const messages = await socket.request(GENL_ID_CTRL, NLM_F_DUMP, encodeGenlHeader(CTRL_CMD_GETFAMILY, 2));
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.every((m) => m.type === GENL_ID_CTRL && (m.flags & NLM_F_MULTI) !== 0)).toBe(true);
    expect(decodeGenlFamilies(messages).map((f) => f.name)).toContain('nlctrl');
  });

  it('resolves a bare acknowledgement to no messages', async () => {
    const socket = open();
    // The kernel skips control-type requests and only acks them when asked.
    await expect(socket.request(NLMSG_NOOP, NLM_F_ACK, Buffer.alloc(0))).resolves.toEqual([]);
  });

  it('times out with ETIMEDOUT when no reply comes, and stays usable', async () => {
    const socket = open();
    const started = Date.now();
    const error = await socket.request(NLMSG_NOOP, 0, Buffer.alloc(0), { timeoutMs: 200 }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(NativeError);
    expect((error as NativeError).errno).toBe(ETIMEDOUT);
    expect((error as NativeError).message).toMatch(/no complete reply within 200 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    expect((await resolveGenlFamily(socket, 'nlctrl')).id).toBe(16);
  });

  it('runs concurrent requests one after another, each getting its own reply', async () => {
    const socket = open();
    const names = ['nlctrl', 'thermal', 'ethtool', 'nlctrl', 'TASKSTATS', 'thermal', 'nlctrl', 'ethtool'];
    const families = await Promise.all(names.map((name) => resolveGenlFamily(socket, name)));
    expect(families.map((f) => f.name)).toEqual(names);
  });

  it('rejects a pending request with ECANCELED when the socket closes', async () => {
    const socket = open();
    const pending = socket.request(NLMSG_NOOP, 0, Buffer.alloc(0), { timeoutMs: 10_000 }).catch((e: unknown) => e);
    const started = Date.now();
    setTimeout(() => socket.close(), 50);
    const error = await pending;
    expect(error).toBeInstanceOf(NativeError);
    expect((error as NativeError).errno).toBe(ECANCELED);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(socket.request(GENL_ID_CTRL, 0, Buffer.alloc(4))).rejects.toThrow(/closed/);
  });

  it('validates options', () => {
    expect(() => GenericNetlinkSocket.open({ maxPendingEvents: 0 })).toThrow(RangeError);
    expect(() => GenericNetlinkSocket.open({ requestTimeoutMs: 1.5 })).toThrow(RangeError);
  });
});

describe('GenericNetlinkSocket multicast', () => {
  it('joins and leaves nlctrl "notify"', async () => {
    const socket = open();
    const family = await resolveGenlFamily(socket, 'nlctrl');
    const notify = family.multicastGroups.find((g) => g.name === 'notify')!;
    socket.unref();
    expect(() => socket.joinGroup(notify.id)).not.toThrow();
    expect(() => socket.leaveGroup(notify.id)).not.toThrow();
    expect(() => socket.joinGroup(notify.id)).not.toThrow();
    socket.close();
    expect(() => socket.joinGroup(notify.id)).toThrow(NativeError);
  });

  it('ends event iterators when the socket closes', async () => {
    const socket = open();
    socket.joinGroup(16);
    const iterator = socket.events();
    const next = iterator.next();
    setTimeout(() => socket.close(), 20);
    await expect(next).resolves.toEqual({ done: true, value: undefined });
    await expect(iterator.next()).resolves.toMatchObject({ done: true });
  });

  it('stops delivering to a listener once it unsubscribes', () => {
    const socket = open();
    const seen: NetlinkEvent[] = [];
    const off = socket.onEvent((e) => seen.push(e));
    off();
    expect(seen).toEqual([]);
  });
});

describe('event thread lifetime and overflow (child processes)', () => {
  let compiled: CompiledPackage;
  const children: Child[] = [];
  beforeAll(() => {
    compiled = compileForChildren();
  });
  afterAll(() => {
    compiled.remove();
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
  });

  async function exitTime(mode: string, windowMs = 3000): Promise<{ ms: number; code: number | null; lines: string[] }> {
    const child = startHelper('event-thread-exit.mjs', [compiled.root, mode]);
    children.push(child);
    expect(await child.line('joined')).toBe('16');
    const started = Date.now();
    const result = await Promise.race([
      child.exited,
      new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), windowMs)),
    ]);
    const lines: string[] = [];
    if (result === 'alive') return { ms: Infinity, code: null, lines };
    lines.push(await child.line('iterator-done', 100).catch(() => 'none'));
    return { ms: Date.now() - started, code: result.code, lines };
  }

  it('close() stops the event thread: the process exits by itself, promptly', async () => {
    const { ms, code, lines } = await exitTime('close');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(3000);
    expect(lines).toEqual(['true']); // the pending iterator ended
  });

  it('an open, joined socket keeps the process alive (like a server)', async () => {
    const { ms } = await exitTime('open', 1500);
    expect(ms).toBe(Infinity);
  });

  it('unref() lets the process exit with the socket still open', async () => {
    const { ms, code } = await exitTime('unref');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(3000);
  });

  it('reports a kernel overflow (ENOBUFS) when events come faster than JS reads them', async () => {
    // Own user + network namespace: the 300 addresses it adds vanish with it.
    const child = startHelper('overflow.mjs', [compiled.root], ['unshare', '-rn']);
    children.push(child);
    const result = JSON.parse(await child.line('result', 15_000)) as Record<string, unknown>;
    expect(result.errors).toBe(0);
    expect(result.overflow).toBeGreaterThanOrEqual(1);
    expect(result.datagram).toBeGreaterThanOrEqual(1);
    // Far fewer than the 300 events the kernel generated: the rest were dropped.
    expect(result.datagram).toBeLessThan(300);
    expect(result.error).toBe(0);
    expect((await child.exited).code).toBe(0);
  });
});
