import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError, ParseError } from '../../../src/errors.js';
import {
  GenlFamilyNotFoundError,
  decodeGenlFamilies,
  decodeGenlFamily,
  encodeGetFamilyRequest,
  listGenlFamilies,
  resolveGenlFamily,
} from '../../../src/sys/genl-family.js';
import {
  CTRL_CMD_NEWFAMILY,
  GENL_CMD_CAP_DO,
  GENL_CMD_CAP_DUMP,
  GENL_ID_CTRL,
  decodeNetlinkMessages,
  encodeAttributes,
  encodeGenlHeader,
  encodeNetlinkMessage,
  encodeString,
  encodeU16,
} from '../../../src/sys/netlink-codec.js';
import { GenericNetlinkSocket, NetlinkRequestError } from '../../../src/sys/netlink-socket.js';
import { readHexCapture } from './helpers/hex-fixture.js';

const NLCTRL = {
  id: 16,
  name: 'nlctrl',
  version: 2,
  headerSize: 0,
  maxAttribute: 0,
  multicastGroups: [{ name: 'notify', id: 16 }],
  operations: [
    { id: 3, flags: 0x0e },
    { id: 10, flags: 0x0c },
  ],
};

describe('decodeGenlFamily on captured replies', () => {
  it('decodes the nlctrl reply with exact values', () => {
    const [reply] = readHexCapture('nlctrl-getfamily.hex').replies;
    expect(decodeGenlFamily(decodeNetlinkMessages(reply!))).toEqual(NLCTRL);
  });

  it('decodes every family of the captured dump', () => {
    const [reply] = readHexCapture('getfamily-dump.hex').replies;
    const families = decodeGenlFamilies(decodeNetlinkMessages(reply!));
    expect(families).toHaveLength(15);
    expect(families[0]).toEqual(NLCTRL);
    const ethtool = families.find((f) => f.name === 'ethtool');
    expect(ethtool?.id).toBe(21);
    expect(ethtool?.multicastGroups).toEqual([{ name: 'monitor', id: 6 }]);
    const thermal = families.find((f) => f.name === 'thermal');
    expect(thermal?.multicastGroups.map((g) => g.name)).toEqual(['sampling', 'event']);
    const taskstats = families.find((f) => f.name === 'TASKSTATS');
    expect(taskstats).toMatchObject({ id: 31, version: 1, headerSize: 0, multicastGroups: [] });
  });

  it('raises ParseError when no NEWFAMILY message is there', () => {
    const [reply] = readHexCapture('getfamily-unknown.hex').replies;
    expect(() => decodeGenlFamily(decodeNetlinkMessages(reply!))).toThrow(ParseError);
  });

  it('raises ParseError when the family id is missing', () => {
    const payload = Buffer.concat([
      encodeGenlHeader(CTRL_CMD_NEWFAMILY, 2),
      encodeAttributes([{ type: 2, value: encodeString('x') }]),
    ]);
    const messages = decodeNetlinkMessages(encodeNetlinkMessage({ type: GENL_ID_CTRL, flags: 0, seq: 1, portId: 0, payload }));
    expect(() => decodeGenlFamily(messages)).toThrow(/CTRL_ATTR_FAMILY_ID/);
  });

  it('never throws anything but ParseError on arbitrary attribute bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), (body) => {
        const payload = Buffer.concat([encodeGenlHeader(CTRL_CMD_NEWFAMILY, 2), Buffer.from(body)]);
        const bytes = encodeNetlinkMessage({ type: GENL_ID_CTRL, flags: 0, seq: 1, portId: 0, payload });
        try {
          decodeGenlFamily(decodeNetlinkMessages(bytes));
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('encodeGetFamilyRequest', () => {
  it('matches the captured request payload', () => {
    const { request } = readHexCapture('nlctrl-getfamily.hex');
    expect(encodeGetFamilyRequest('nlctrl').equals(request.subarray(16))).toBe(true);
  });

  it('refuses names the kernel cannot have', () => {
    expect(() => encodeGetFamilyRequest('')).toThrow(ConfigError);
    expect(() => encodeGetFamilyRequest('a-name-of-16-chr')).toThrow(/1 to 15 bytes/);
    expect(() => encodeGetFamilyRequest('nul\0')).toThrow(ConfigError);
  });
});

describe('against this kernel', () => {
  let socket: GenericNetlinkSocket;
  beforeAll(() => {
    socket = GenericNetlinkSocket.open();
  });
  afterAll(() => {
    socket.close();
  });

  it('resolves nlctrl: id 16, version >= 1, group notify', async () => {
    const family = await resolveGenlFamily(socket, 'nlctrl');
    expect(family.id).toBe(16);
    expect(family.name).toBe('nlctrl');
    expect(family.version).toBeGreaterThanOrEqual(1);
    expect(family.multicastGroups).toContainEqual({ name: 'notify', id: 16 });
    const getFamily = family.operations.find((op) => op.id === 3);
    expect(getFamily!.flags & (GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP)).toBe(GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP);
  });

  it('gives GenlFamilyNotFoundError, naming the family and modprobe, for an unknown one', async () => {
    const error = await resolveGenlFamily(socket, 'hastor-nonesuch').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GenlFamilyNotFoundError);
    const notFound = error as GenlFamilyNotFoundError;
    expect(notFound.code).toBe('E_GENL_FAMILY');
    expect(notFound.family).toBe('hastor-nonesuch');
    expect(notFound.message).toMatch(/not registered.*modprobe hastor-nonesuch/);
    expect(notFound.cause).toBeInstanceOf(NetlinkRequestError);
    expect((notFound.cause as NetlinkRequestError).errno).toBe(2);
  });

  it('resolves families present on this kernel (thermal, ethtool) and agrees with the dump', async () => {
    const all = await listGenlFamilies(socket);
    const names = all.map((f) => f.name);
    expect(names).toContain('nlctrl');
    for (const name of ['thermal', 'ethtool']) {
      const resolved = await resolveGenlFamily(socket, name);
      expect(resolved).toEqual(all.find((f) => f.name === name));
    }
    expect(new Set(all.map((f) => f.id)).size).toBe(all.length);
  });

  it('turns a policy violation into NetlinkRequestError with the kernel text', async () => {
    const payload = Buffer.concat([
      encodeGenlHeader(3, 2),
      encodeAttributes([{ type: 1, value: Buffer.from([16]) }]), // FAMILY_ID must be a u16
    ]);
    const error = await socket.request(GENL_ID_CTRL, 0, payload).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetlinkRequestError);
    const refused = error as NetlinkRequestError;
    expect(refused.errno).toBe(34);
    expect(refused.errnoName).toBe('ERANGE');
    expect(refused.kernelMessage).toBe('Attribute failed policy validation');
    expect(refused.message).toMatch(/ERANGE: Attribute failed policy validation/);
    // The socket is still usable afterwards.
    const ok = await socket.request(GENL_ID_CTRL, 0, Buffer.concat([encodeGenlHeader(3, 2), encodeAttributes([{ type: 1, value: encodeU16(16) }])]));
    expect(decodeGenlFamily(ok).name).toBe('nlctrl');
  });
});
