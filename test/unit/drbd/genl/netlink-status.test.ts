/**
 * readDrbdStatusNetlink / watchDrbdNetlink over a fake transport (request
 * and event plumbing), plus one call against this machine's real kernel.
 */
import { describe, expect, it } from 'vitest';
import { NativeError } from '../../../../src/errors.js';
import { GenlFamilyNotFoundError, type GenlFamily } from '../../../../src/sys/genl-family.js';
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_NEWFAMILY,
  decodeGenlHeader,
  decodeNetlinkMessages,
  encodeAttributes,
  encodeGenlHeader,
  encodeNetlinkMessage,
  encodeString,
  encodeU16,
  GENL_ID_CTRL,
  NLM_F_DUMP,
  type NetlinkMessage,
} from '../../../../src/sys/netlink-codec.js';
import type { NetlinkEvent } from '../../../../src/sys/netlink-socket.js';
import { DrbdCommand, SibReason } from '../../../../src/drbd/genl/constants.js';
import { NoDrbdFamilyError } from '../../../../src/drbd/genl/errors.js';
import { encodeStateWord } from '../../../../src/drbd/genl/state-word.js';
import {
  readDrbdStatusNetlink,
  watchDrbdNetlink,
  type DrbdNetlinkDeps,
  type DrbdNetlinkTransport,
} from '../../../../src/drbd/netlink-status.js';
import type { DrbdStatus } from '../../../../src/drbd/status-model.js';
import { drbdMessage, FAMILY_ID } from './helpers.js';

const family84: GenlFamily = {
  id: FAMILY_ID,
  name: 'drbd',
  version: 1,
  headerSize: 8,
  maxAttribute: 24,
  multicastGroups: [{ name: 'events', id: 3 }],
  operations: [],
};

const legacy = (cmd: number, conn: number, pdsk: number, reason: number = SibReason.GET_STATUS_REPLY) =>
  drbdMessage({
    api: 1,
    cmd,
    minor: 0,
    structs: {
      drbd_cfg_context: { ctx_volume: 0, ctx_resource_name: 'r0' },
      state_info: { sib_reason: reason, current_state: encodeStateWord({ role: 1, peer: 2, conn, disk: 8, pdsk }), capacity: 524200n },
    },
  });

type Reply = (cmd: number, payload: Buffer) => Buffer[] | Promise<Buffer[]>;

class FakeTransport implements DrbdNetlinkTransport {
  readonly requests: { type: number; flags: number; cmd: number; payload: Buffer }[] = [];
  readonly joined: number[] = [];
  readonly listeners = new Set<(event: NetlinkEvent) => void>();
  closed = false;

  constructor(private readonly reply: Reply) {}

  async request(type: number, flags: number, payload: Buffer): Promise<NetlinkMessage[]> {
    const cmd = decodeGenlHeader(payload).cmd;
    this.requests.push({ type, flags, cmd, payload });
    const datagrams = await this.reply(cmd, payload);
    return datagrams.flatMap((d) => decodeNetlinkMessages(d));
  }

  joinGroup(id: number): void {
    this.joined.push(id);
  }

  onEvent(listener: (event: NetlinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: NetlinkEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  close(): void {
    this.closed = true;
  }
}

function depsFor(transport: FakeTransport, family: GenlFamily | Error = family84): DrbdNetlinkDeps {
  return {
    openSocket: () => transport,
    resolveFamily: async () => {
      if (family instanceof Error) throw family;
      return family;
    },
  };
}

describe('readDrbdStatusNetlink', () => {
  it('on 8.4 sends one GET_STATUS dump to the resolved family id and closes the socket', async () => {
    const transport = new FakeTransport(() => [legacy(DrbdCommand.GET_STATUS, 10, 8)]);
    const status = await readDrbdStatusNetlink({ deps: depsFor(transport) });
    expect(transport.requests.map((r) => [r.type, r.flags, r.cmd])).toEqual([[FAMILY_ID, NLM_F_DUMP, DrbdCommand.GET_STATUS]]);
    expect(status.source).toBe('netlink');
    expect(status.resources[0]?.connections[0]?.connectionState).toBe('Connected');
    expect(transport.closed).toBe(true);
  });

  it('rejects with E_NO_DRBD_FAMILY when the family is not registered, and still closes', async () => {
    const transport = new FakeTransport(() => []);
    const error = await readDrbdStatusNetlink({ deps: depsFor(transport, new GenlFamilyNotFoundError('drbd')) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoDrbdFamilyError);
    expect((error as NoDrbdFamilyError).code).toBe('E_NO_DRBD_FAMILY');
    expect(transport.closed).toBe(true);
  });

  it('treats a family with another header size as unusable (same code, so callers fall back)', async () => {
    const transport = new FakeTransport(() => []);
    const error = await readDrbdStatusNetlink({ deps: depsFor(transport, { ...family84, headerSize: 12 }) }).catch((e: unknown) => e);
    expect((error as NoDrbdFamilyError).code).toBe('E_NO_DRBD_FAMILY');
    expect((error as Error).message).toMatch(/8-byte drbd_genlmsghdr/);
  });

  it('on DRBD 9 dumps resources, then devices, connections and peer devices per resource', async () => {
    const transport = new FakeTransport((cmd) =>
      cmd === DrbdCommand.GET_RESOURCES
        ? [drbdMessage({ api: 2, cmd, structs: { drbd_cfg_context: { ctx_resource_name: 'vm1' }, resource_info: { res_role: 2 } } })]
        : cmd === DrbdCommand.GET_DEVICES
          ? [drbdMessage({ api: 2, cmd, minor: 7, structs: { drbd_cfg_context: { ctx_resource_name: 'vm1', ctx_volume: 0 }, device_info: { dev_disk_state: 9 } } })]
          : [],
    );
    const status = await readDrbdStatusNetlink({ deps: depsFor(transport, { ...family84, version: 2 }) });
    expect(transport.requests.map((r) => r.cmd)).toEqual([30, 31, 32, 33]);
    expect(transport.requests[1]?.payload.toString('latin1')).toContain('vm1\0');
    expect(status.resources[0]).toMatchObject({ name: 'vm1', role: 'Secondary', devices: [{ minor: 7, diskState: 'UpToDate' }] });
  });

  it('against this machine\'s kernel: a status, or E_NO_DRBD_FAMILY where DRBD is not loaded', async () => {
    const outcome = await readDrbdStatusNetlink().then(
      (status) => status.source,
      (error: unknown) => (error as NoDrbdFamilyError).code,
    );
    expect(['netlink', 'E_NO_DRBD_FAMILY']).toContain(outcome);
  });
});

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('watchDrbdNetlink', () => {
  it('joins the events group, delivers the dump, then every change', async () => {
    const transport = new FakeTransport(() => [legacy(DrbdCommand.GET_STATUS, 10, 8)]);
    const seen: DrbdStatus[] = [];
    const watch = watchDrbdNetlink((s) => seen.push(s), (e) => expect.unreachable(e.message), { deps: depsFor(transport) });
    await watch.ready;
    // DRBD's events group, and the controller's notices (a module unloaded).
    expect(transport.joined).toEqual([3, 16]);
    expect(seen).toHaveLength(1);
    transport.emit({ kind: 'datagram', datagram: legacy(DrbdCommand.EVENT, 0, 6, SibReason.STATE_CHANGE) });
    expect(seen).toHaveLength(2);
    expect(seen[1]?.resources[0]?.connections[0]?.connectionState).toBe('StandAlone');
    // A broadcast that changes nothing (8.4 repeats the state for helper calls) is not delivered again.
    transport.emit({ kind: 'datagram', datagram: legacy(DrbdCommand.EVENT, 0, 6, SibReason.HELPER_PRE) });
    expect(seen).toHaveLength(2);
    watch.close();
    expect(transport.closed).toBe(true);
  });

  it('holds events that arrive during the dump and applies them after it', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transport = new FakeTransport(async () => {
      await gate;
      return [legacy(DrbdCommand.GET_STATUS, 10, 8)];
    });
    const seen: DrbdStatus[] = [];
    const watch = watchDrbdNetlink((s) => seen.push(s), () => undefined, { deps: depsFor(transport) });
    await tick();
    transport.emit({ kind: 'datagram', datagram: legacy(DrbdCommand.EVENT, 16, 4, SibReason.STATE_CHANGE) });
    release();
    await watch.ready;
    expect(seen).toHaveLength(1);
    expect(seen[0]?.resources[0]?.connections[0]?.peerDevices[0]?.replicationState).toBe('SyncSource');
    watch.close();
  });

  it('dumps again after an overflow, and reports an unreadable datagram before resyncing', async () => {
    const transport = new FakeTransport(() => [legacy(DrbdCommand.GET_STATUS, 10, 8)]);
    const errors: Error[] = [];
    const watch = watchDrbdNetlink(() => undefined, (e) => errors.push(e), { deps: depsFor(transport) });
    await watch.ready;
    transport.emit({ kind: 'overflow' });
    await tick();
    expect(transport.requests).toHaveLength(2);
    transport.emit({ kind: 'datagram', datagram: Buffer.from('0400000000000000', 'hex') });
    await tick();
    expect(errors[0]?.name).toBe('ParseError');
    expect(transport.requests).toHaveLength(3);
    watch.close();
  });

  it('ends with onError on a socket failure, and on a missing family', async () => {
    const transport = new FakeTransport(() => [legacy(DrbdCommand.GET_STATUS, 10, 8)]);
    const errors: Error[] = [];
    const watch = watchDrbdNetlink(() => undefined, (e) => errors.push(e), { deps: depsFor(transport) });
    await watch.ready;
    transport.emit({ kind: 'error', error: new NativeError('recvmsg failed', { syscall: 'recvmsg', errno: 105 }) });
    expect(errors.map((e) => e.message)).toEqual(['recvmsg failed']);
    expect(transport.closed).toBe(true);

    const missing: Error[] = [];
    const absent = watchDrbdNetlink(() => undefined, (e) => missing.push(e), {
      deps: depsFor(new FakeTransport(() => []), new GenlFamilyNotFoundError('drbd')),
    });
    await expect(absent.ready).rejects.toBeInstanceOf(NoDrbdFamilyError);
    expect(missing[0]).toBeInstanceOf(NoDrbdFamilyError);
  });

  it('ends with E_NO_DRBD_FAMILY when the controller says the drbd family is gone (module unloaded); other families do not matter', async () => {
    // As the kernel's controller broadcasts it: the family's id and name, type GENL_ID_CTRL.
    const notice = (cmd: number, id: number, name: string): Buffer =>
      encodeNetlinkMessage({
        type: GENL_ID_CTRL,
        flags: 0,
        seq: 0,
        portId: 0,
        payload: Buffer.concat([encodeGenlHeader(cmd, 2), encodeAttributes([{ type: CTRL_ATTR_FAMILY_ID, value: encodeU16(id) }, { type: CTRL_ATTR_FAMILY_NAME, value: encodeString(name) }])]),
      });
    const transport = new FakeTransport(() => [legacy(DrbdCommand.GET_STATUS, 10, 8)]);
    const errors: Error[] = [];
    const seen: DrbdStatus[] = [];
    const watch = watchDrbdNetlink((s) => seen.push(s), (e) => errors.push(e), { deps: depsFor(transport) });
    await watch.ready;
    transport.emit({ kind: 'datagram', datagram: notice(CTRL_CMD_DELFAMILY, FAMILY_ID + 7, 'wireguard') });
    transport.emit({ kind: 'datagram', datagram: notice(CTRL_CMD_NEWFAMILY, FAMILY_ID, 'drbd') });
    expect(errors).toEqual([]);
    expect(transport.closed).toBe(false);
    transport.emit({ kind: 'datagram', datagram: notice(CTRL_CMD_DELFAMILY, FAMILY_ID, 'drbd') });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NoDrbdFamilyError);
    expect(transport.closed).toBe(true);
    expect(seen).toHaveLength(1);
  });
});
