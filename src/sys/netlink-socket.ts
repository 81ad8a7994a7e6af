/**
 * A generic-netlink socket over the native addon: request/reply with
 * sequence numbers and multi-part dumps, and multicast events. The addon
 * only moves datagrams; framing and completion are decided here.
 */
import { getSystemErrorName } from 'node:util';
import { NativeError } from '../errors.js';
import { isNativeSysError, loadNative, toNativeError } from '../native.js';
import type { NativeEventKind, NativeNetlinkSocket } from '../native.js';
import {
  NETLINK_GENERIC,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLM_F_ACK,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  decodeNetlinkMessages,
  encodeNetlinkMessage,
} from './netlink-codec.js';
import type { NetlinkErrorInfo, NetlinkMessage } from './netlink-codec.js';

const ETIMEDOUT = 110;
const ECANCELED = 125;

export interface GenericNetlinkSocketOptions {
  /** Default time a request may wait for its (whole) reply; 10 s unless given. */
  requestTimeoutMs?: number;
  /** Kernel receive buffer of the event socket; 1 MiB unless given (0: kernel default). */
  eventBufferBytes?: number;
  /**
   * Datagrams handed to JS but not yet processed before the event thread
   * stops reading (the kernel then drops and we report an overflow). 1024.
   */
  maxPendingEvents?: number;
  /** Netlink protocol; NETLINK_GENERIC unless given (others are for tests and tools). */
  protocol?: number;
}

export interface NetlinkRequestOptions {
  timeoutMs?: number;
}

/** A multicast datagram, a lost-events signal (resync!), or the end of the event stream on an error. */
export type NetlinkEvent =
  | { kind: 'datagram'; datagram: Buffer }
  | { kind: 'overflow' }
  | { kind: 'error'; error: NativeError };

export type NetlinkEventListener = (event: NetlinkEvent) => void;

/** The kernel refused a request (NLMSG_ERROR, or a failed dump's NLMSG_DONE). */
export class NetlinkRequestError extends NativeError {
  /** e.g. "ENOENT". */
  readonly errnoName: string;
  /** The kernel's extended-ack text, when it sent one. */
  readonly kernelMessage: string | undefined;
  /** Type (family id) of the request that failed. */
  readonly requestType: number;
  readonly kernelInfo: NetlinkErrorInfo;

  constructor(requestType: number, seq: number, info: NetlinkErrorInfo) {
    const name = errnoName(info.errno);
    const detail = info.message === undefined ? '' : `: ${info.message}`;
    super(`netlink request (type 0x${requestType.toString(16)}, seq ${seq}) refused by the kernel with ${name}${detail}`, {
      syscall: 'recvmsg',
      errno: info.errno,
    });
    this.errnoName = name;
    this.kernelMessage = info.message;
    this.requestType = requestType;
    this.kernelInfo = info;
  }
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_EVENT_BUFFER_BYTES = 1 << 20;
const DEFAULT_MAX_PENDING_EVENTS = 1024;

function checkCount(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > 0x7fffffff) {
    throw new RangeError(`Expected an integer between ${min} and ${0x7fffffff} for ${name} but received ${String(value)}`);
  }
  return value;
}

export class GenericNetlinkSocket {
  readonly #native: NativeNetlinkSocket;
  readonly #requestTimeoutMs: number;
  readonly #maxPendingEvents: number;
  readonly #listeners = new Set<NetlinkEventListener>();
  readonly #closeWaiters = new Set<() => void>();
  #seq: number;
  #queue: Promise<unknown> = Promise.resolve();
  /** Sequence number of a dump we stopped reading; the kernel must finish it first. */
  #unfinishedSeq: number | undefined;
  #closed = false;

  private constructor(options: GenericNetlinkSocketOptions) {
    this.#requestTimeoutMs = checkCount('requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 1);
    const eventBufferBytes = checkCount('eventBufferBytes', options.eventBufferBytes, DEFAULT_EVENT_BUFFER_BYTES, 0);
    this.#maxPendingEvents = checkCount('maxPendingEvents', options.maxPendingEvents, DEFAULT_MAX_PENDING_EVENTS, 1);
    const protocol = checkCount('protocol', options.protocol, NETLINK_GENERIC, 0);
    const addon = loadNative();
    try {
      this.#native = new addon.NetlinkSocket(
        protocol,
        (kind, datagram, errno, syscall) => this.#dispatch(kind, datagram, errno, syscall),
        eventBufferBytes,
        this.#maxPendingEvents,
      );
    } catch (error) {
      throw toNativeError(error, 'cannot open a netlink socket');
    }
    // Random start: a reply to an earlier process's request can never match.
    this.#seq = (Math.random() * 0x7fffffff) >>> 0;
  }

  /** Opens the request socket (the event socket opens on the first joinGroup). */
  static open(options: GenericNetlinkSocketOptions = {}): GenericNetlinkSocket {
    return new GenericNetlinkSocket(options);
  }

  /** Port id the kernel assigned to the request socket. */
  get portId(): number {
    return this.#native.portId;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one request (NLM_F_REQUEST is added) and resolves with every reply
   * message: all parts of a dump up to NLMSG_DONE, or the single reply, or
   * nothing for a bare ACK. Requests on one socket run one after another.
   */
  request(type: number, flags: number, payload: Buffer, options: NetlinkRequestOptions = {}): Promise<NetlinkMessage[]> {
    const timeoutMs = checkCount('timeoutMs', options.timeoutMs, this.#requestTimeoutMs, 1);
    const run = (): Promise<NetlinkMessage[]> => this.#run(type, flags | NLM_F_REQUEST, payload, timeoutMs);
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #run(type: number, flags: number, payload: Buffer, timeoutMs: number): Promise<NetlinkMessage[]> {
    if (this.#closed) throw new NativeError('netlink socket is closed', { syscall: 'sendmsg', errno: ECANCELED });
    await this.#finishUnfinishedDump();
    this.#seq = (this.#seq + 1) >>> 0;
    const seq = this.#seq;
    const bytes = encodeNetlinkMessage({ type, flags, seq, portId: this.portId, payload });
    const deadline = Date.now() + timeoutMs;
    const collected: NetlinkMessage[] = [];
    let datagrams = await this.#receive(bytes, timeoutMs);
    for (;;) {
      if (datagrams.length === 0) {
        this.#unfinishedSeq = seq;
        throw new NativeError(
          `netlink request (type 0x${type.toString(16)}, seq ${seq}) got no complete reply within ${timeoutMs} ms`,
          { syscall: 'recvmsg', errno: ETIMEDOUT },
        );
      }
      for (const datagram of datagrams) {
        let messages: NetlinkMessage[];
        try {
          messages = decodeNetlinkMessages(datagram);
        } catch (error) {
          this.#unfinishedSeq = seq;
          throw error;
        }
        for (const message of messages) {
          if (message.seq !== seq) continue; // a late reply to an earlier, abandoned request
          if (message.type === NLMSG_ERROR || message.type === NLMSG_DONE) {
            const info = message.error;
            if (info !== undefined && info.errno !== 0) throw new NetlinkRequestError(type, seq, info);
            return collected;
          }
          if (message.type === NLMSG_NOOP) continue;
          if (message.type === NLMSG_OVERRUN) {
            throw new NativeError('netlink reported data lost (NLMSG_OVERRUN)', { syscall: 'recvmsg' });
          }
          collected.push(message);
          if (!(message.flags & NLM_F_MULTI) && !(flags & NLM_F_ACK)) return collected;
        }
      }
      datagrams = await this.#receive(null, Math.max(0, deadline - Date.now()));
    }
  }

  async #receive(payload: Buffer | null, timeoutMs: number): Promise<Buffer[]> {
    try {
      return await this.#native.request(payload, timeoutMs);
    } catch (error) {
      if (isNativeSysError(error) && error.errno === ECANCELED) {
        throw new NativeError('netlink socket was closed while a request was pending', {
          syscall: error.syscall,
          errno: ECANCELED,
          cause: error,
        });
      }
      throw toNativeError(error, 'netlink request failed');
    }
  }

  // The kernel runs one dump per socket; a dump we gave up on must be read
  // to its end before the next request, or that request fails with EBUSY.
  async #finishUnfinishedDump(): Promise<void> {
    while (this.#unfinishedSeq !== undefined) {
      const datagrams = await this.#receive(null, 0);
      if (datagrams.length === 0) break;
      for (const datagram of datagrams) {
        let messages: NetlinkMessage[];
        try {
          messages = decodeNetlinkMessages(datagram);
        } catch {
          continue;
        }
        if (messages.some((m) => m.seq === this.#unfinishedSeq && (m.type === NLMSG_DONE || m.type === NLMSG_ERROR))) {
          this.#unfinishedSeq = undefined;
        }
      }
    }
    this.#unfinishedSeq = undefined;
  }

  /** Joins a multicast group (setsockopt NETLINK_ADD_MEMBERSHIP). Subscribe before joining to miss nothing. */
  joinGroup(id: number): void {
    this.#membership(id, true);
  }

  leaveGroup(id: number): void {
    this.#membership(id, false);
  }

  #membership(id: number, join: boolean): void {
    checkCount('group id', id, 0, 1);
    if (this.#closed) throw new NativeError('netlink socket is closed', { syscall: 'setsockopt', errno: ECANCELED });
    try {
      if (join) this.#native.joinGroup(id);
      else this.#native.leaveGroup(id);
    } catch (error) {
      throw toNativeError(error, `cannot ${join ? 'join' : 'leave'} netlink multicast group ${id}`);
    }
  }

  /** Calls `listener` for every event; returns the unsubscribe function. */
  onEvent(listener: NetlinkEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Events as an async iterable, ending when the socket closes (or after an
   * 'error' event: the event thread has stopped). If the
   * consumer falls more than maxPendingEvents behind, the backlog is dropped
   * and an overflow event takes its place (resync, as for a kernel overflow).
   */
  events(): AsyncIterableIterator<NetlinkEvent> {
    const backlog: NetlinkEvent[] = [];
    let wake: (() => void) | undefined;
    let done = this.#closed;
    const limit = this.#maxPendingEvents;
    const unsubscribe = this.onEvent((event) => {
      if (backlog.length >= limit) {
        backlog.length = 0;
        backlog.push({ kind: 'overflow' });
      } else {
        backlog.push(event);
      }
      if (event.kind === 'error') done = true; // the event thread has stopped: nothing follows
      wake?.();
    });
    const onClose = (): void => {
      done = true;
      wake?.();
    };
    this.#closeWaiters.add(onClose);
    const finish = (): IteratorResult<NetlinkEvent> => {
      unsubscribe();
      this.#closeWaiters.delete(onClose);
      done = true;
      backlog.length = 0;
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<NetlinkEvent> = {
      next: async () => {
        for (;;) {
          const event = backlog.shift();
          if (event !== undefined) return { done: false, value: event };
          if (done) return finish();
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      },
      return: async () => finish(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  #dispatch(kind: NativeEventKind, datagram: Buffer | null, errno: number, syscall: string | null): void {
    if (this.#closed) return;
    let event: NetlinkEvent;
    if (kind === 'datagram' && datagram !== null) event = { kind: 'datagram', datagram };
    else if (kind === 'overflow') event = { kind: 'overflow' };
    else {
      const error = new NativeError(`netlink event socket failed: ${syscall ?? 'recvmsg'} ${errnoName(errno)}`, {
        syscall: syscall ?? 'recvmsg',
        errno,
      });
      event = { kind: 'error', error };
    }
    for (const listener of [...this.#listeners]) listener(event);
  }

  /** Whether a joined event socket keeps the process alive (default: it does, like a server). */
  ref(): void {
    this.#native.ref();
  }

  unref(): void {
    this.#native.unref();
  }

  /** Idempotent. Stops both threads; pending requests reject, event iterators end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
    for (const waiter of [...this.#closeWaiters]) waiter();
    this.#closeWaiters.clear();
    this.#listeners.clear();
  }
}
