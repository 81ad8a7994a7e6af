/**
 * openDrbdNetlinkReader over a fake transport: one socket and one family
 * lookup for many reads, a new lookup when the family id went stale (module
 * reloaded), and the errors callers fall back on.
 */
import { describe, expect, it } from 'vitest';
import { GenlFamilyNotFoundError, type GenlFamily } from '../../../src/sys/genl-family.js';
import { decodeGenlHeader, decodeNetlinkMessages, NLM_F_DUMP, type NetlinkMessage } from '../../../src/sys/netlink-codec.js';
import { NetlinkRequestError, type NetlinkEvent } from '../../../src/sys/netlink-socket.js';
import { DrbdCommand, SibReason } from '../../../src/drbd/genl/constants.js';
import { DrbdNetlinkError, NoDrbdFamilyError } from '../../../src/drbd/genl/errors.js';
import { encodeStateWord } from '../../../src/drbd/genl/state-word.js';
import { isStaleFamilyError, openDrbdNetlinkReader } from '../../../src/drbd/netlink-reader.js';
import type { DrbdNetlinkDeps, DrbdNetlinkTransport } from '../../../src/drbd/netlink-status.js';
import { drbdMessage, FAMILY_ID } from './genl/helpers.js';

const family84: GenlFamily = {
  id: FAMILY_ID,
  name: 'drbd',
  version: 1,
  headerSize: 8,
  maxAttribute: 24,
  multicastGroups: [{ name: 'events', id: 3 }],
  operations: [],
};

const statusReply = (name: string, minor: number, conn: number) =>
  drbdMessage({
    api: 1,
    cmd: DrbdCommand.GET_STATUS,
    minor,
    structs: {
      drbd_cfg_context: { ctx_volume: 0, ctx_resource_name: name },
      state_info: { sib_reason: SibReason.GET_STATUS_REPLY, current_state: encodeStateWord({ role: 1, peer: 2, conn, disk: 8, pdsk: 8 }), capacity: 16384n },
    },
  });

type Reply = (type: number, cmd: number, call: number) => Buffer[];

class FakeTransport implements DrbdNetlinkTransport {
  readonly requests: { type: number; flags: number; cmd: number }[] = [];
  closed = false;

  constructor(private readonly reply: Reply) {}

  async request(type: number, flags: number, payload: Buffer): Promise<NetlinkMessage[]> {
    if (this.closed) throw new Error('closed');
    const cmd = decodeGenlHeader(payload).cmd;
    this.requests.push({ type, flags, cmd });
    return this.reply(type, cmd, this.requests.length).flatMap((d) => decodeNetlinkMessages(d));
  }

  joinGroup(): void {}

  onEvent(_listener: (event: NetlinkEvent) => void): () => void {
    return () => undefined;
  }

  close(): void {
    this.closed = true;
  }
}

function deps(transport: FakeTransport, families: (GenlFamily | Error)[]): DrbdNetlinkDeps & { opened: number; lookups: number } {
  const d = {
    opened: 0,
    lookups: 0,
    openSocket: () => {
      d.opened++;
      return transport;
    },
    resolveFamily: async () => {
      const next = families[Math.min(d.lookups, families.length - 1)] as GenlFamily | Error;
      d.lookups++;
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return d;
}

const refused = (type: number, errno: number) => new NetlinkRequestError(type, 1, { errno });

describe('openDrbdNetlinkReader', () => {
  it('keeps one socket and one family lookup for many reads, one dump per read', async () => {
    let conn = 10;
    const transport = new FakeTransport(() => [statusReply('r0', 0, conn)]);
    const d = deps(transport, [family84]);
    const reader = await openDrbdNetlinkReader({ deps: d });
    const first = await reader.read();
    conn = 0; // C_STANDALONE
    const second = await reader.read();
    const third = await reader.read();
    expect(d.opened).toBe(1);
    expect(d.lookups).toBe(1);
    expect(reader.resolutions).toBe(1);
    expect(transport.requests.map((r) => [r.type, r.flags, r.cmd])).toEqual(Array(3).fill([FAMILY_ID, NLM_F_DUMP, DrbdCommand.GET_STATUS]));
    expect(first.resources[0]?.connections[0]?.connectionState).toBe('Connected');
    expect(second.resources[0]?.connections[0]?.connectionState).toBe('StandAlone');
    // Each read is a fresh snapshot, not an accumulation of earlier dumps.
    expect(third.resources).toHaveLength(1);
    expect(reader.api).toBe(1);
    reader.close();
    expect(transport.closed).toBe(true);
    expect(reader.closed).toBe(true);
  });

  it('reads 32 resources from one dump', async () => {
    const transport = new FakeTransport(() => Array.from({ length: 32 }, (_, i) => statusReply(`r${i}`, i, 10)));
    const reader = await openDrbdNetlinkReader({ deps: deps(transport, [family84]) });
    const status = await reader.read();
    expect(status.resources.map((r) => r.name)).toEqual(Array.from({ length: 32 }, (_, i) => `r${i}`));
    expect(transport.requests).toHaveLength(1);
    reader.close();
  });

  it.each([
    ['ENOENT', 2],
    ['EINVAL', 22],
    ['EOPNOTSUPP', 95],
  ])('resolves the family again after %s (module reloaded, new id) and retries once', async (_name, errno) => {
    const reloaded = { ...family84, id: FAMILY_ID + 1 };
    const transport = new FakeTransport((type) => {
      if (type === FAMILY_ID) throw refused(type, errno);
      return [statusReply('r0', 0, 10)];
    });
    const d = deps(transport, [family84, reloaded]);
    const reader = await openDrbdNetlinkReader({ deps: d });
    const status = await reader.read();
    expect(status.resources[0]?.name).toBe('r0');
    expect(transport.requests.map((r) => r.type)).toEqual([FAMILY_ID, FAMILY_ID + 1]);
    expect(reader.family.id).toBe(FAMILY_ID + 1);
    expect(reader.resolutions).toBe(2);
    // Later reads go straight to the new id.
    await reader.read();
    expect(transport.requests.map((r) => r.type)).toEqual([FAMILY_ID, FAMILY_ID + 1, FAMILY_ID + 1]);
    expect(d.opened).toBe(1);
    reader.close();
  });

  it('rejects with E_NO_DRBD_FAMILY when the module went away between reads', async () => {
    const transport = new FakeTransport((type) => {
      throw refused(type, 2);
    });
    const reader = await openDrbdNetlinkReader({ deps: deps(transport, [family84, new GenlFamilyNotFoundError('drbd')]) });
    const error = await reader.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoDrbdFamilyError);
    expect((error as NoDrbdFamilyError).code).toBe('E_NO_DRBD_FAMILY');
    reader.close();
  });

  it('does not retry other refusals (EPERM) and passes them on as E_DRBD_NETLINK', async () => {
    const transport = new FakeTransport((type) => {
      throw refused(type, 1);
    });
    const d = deps(transport, [family84]);
    const reader = await openDrbdNetlinkReader({ deps: d });
    const error = await reader.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrbdNetlinkError);
    expect((error as DrbdNetlinkError).errno).toBe(1);
    expect(d.lookups).toBe(1);
    expect(transport.requests).toHaveLength(1);
    reader.close();
  });

  it('shares one new lookup between concurrent reads that hit a stale id', async () => {
    const transport = new FakeTransport((type) => {
      if (type === FAMILY_ID) throw refused(type, 2);
      return [statusReply('r0', 0, 10)];
    });
    const d = deps(transport, [family84, { ...family84, id: 40 }]);
    const reader = await openDrbdNetlinkReader({ deps: d });
    const results = await Promise.all([reader.read(), reader.read(), reader.read()]);
    expect(results.every((s) => s.resources.length === 1)).toBe(true);
    expect(d.lookups).toBe(2);
    reader.close();
  });

  it('fails to open with E_NO_DRBD_FAMILY when DRBD is not loaded, closing the socket', async () => {
    const transport = new FakeTransport(() => []);
    const error = await openDrbdNetlinkReader({ deps: deps(transport, [new GenlFamilyNotFoundError('drbd')]) }).catch((e: unknown) => e);
    expect((error as NoDrbdFamilyError).code).toBe('E_NO_DRBD_FAMILY');
    expect(transport.closed).toBe(true);
  });

  it('refuses reads after close', async () => {
    const reader = await openDrbdNetlinkReader({ deps: deps(new FakeTransport(() => [statusReply('r0', 0, 10)]), [family84]) });
    reader.close();
    reader.close();
    await expect(reader.read()).rejects.toThrow(/closed/);
  });

  it('classifies stale-family errnos', () => {
    expect(isStaleFamilyError(new DrbdNetlinkError({ errno: 2 }))).toBe(true);
    expect(isStaleFamilyError(new DrbdNetlinkError({ errno: 13 }))).toBe(false);
    expect(isStaleFamilyError(new DrbdNetlinkError({ retCode: 158 }))).toBe(false);
    expect(isStaleFamilyError(new Error('ENOENT'))).toBe(false);
  });

  it("against this machine's kernel: a status, or E_NO_DRBD_FAMILY where DRBD is not loaded", async () => {
    const outcome = await openDrbdNetlinkReader().then(
      async (reader) => {
        try {
          return (await reader.read()).source;
        } finally {
          reader.close();
        }
      },
      (error: unknown) => (error as NoDrbdFamilyError).code,
    );
    expect(['netlink', 'E_NO_DRBD_FAMILY']).toContain(outcome);
  });
});
