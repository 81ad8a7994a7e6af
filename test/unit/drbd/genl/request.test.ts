import { describe, expect, it } from 'vitest';
import { decodeAttributes, decodeGenlHeader, decodeNetlinkMessages, NLM_F_DUMP, NLM_F_REQUEST } from '../../../../src/sys/netlink-codec.js';
import { DrbdCommand, DrbdNla } from '../../../../src/drbd/genl/constants.js';
import {
  DUMP_FLAGS,
  encodeDrbdRequest,
  encodeDrbdRequestMessage,
  encodeGetStatusDump,
  encodeObjectDump,
} from '../../../../src/drbd/genl/request.js';
import { FAMILY_ID } from './helpers.js';

describe('DRBD requests', () => {
  it('encode the 8.4 GET_STATUS dump: cmd 2, version 1, minor ~0, flags 0, no attributes', () => {
    expect(encodeGetStatusDump().toString('hex')).toBe('02010000' + 'ffffffff' + '00000000');
  });

  it('restrict the dump to one resource with a context nest, mandatory bit set as drbdsetup does', () => {
    const payload = encodeGetStatusDump({ resource: 'r0' });
    // nest: len 12, type 2 (no NLA_F_NESTED); field: len 7, type 2|0x4000, "r0\0", one pad byte
    expect(payload.subarray(12).toString('hex')).toBe('0c000200' + '07000240' + '72300000');
    const [ctx] = decodeAttributes(payload.subarray(12));
    expect(ctx?.type).toBe(DrbdNla.CFG_CONTEXT);
    const [name] = decodeAttributes(ctx?.payload ?? Buffer.alloc(0));
    expect(name).toMatchObject({ type: 2, netByteOrder: true });
  });

  it('wrap a request in an nlmsghdr with NLM_F_REQUEST|NLM_F_DUMP and the resolved family id', () => {
    const bytes = encodeDrbdRequestMessage(encodeGetStatusDump(), { familyId: FAMILY_ID, seq: 99 });
    const [message] = decodeNetlinkMessages(bytes);
    expect(message).toMatchObject({ type: FAMILY_ID, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 99, portId: 0 });
    expect(DUMP_FLAGS).toBe(0x301);
    expect(decodeGenlHeader(message?.payload ?? Buffer.alloc(0))).toMatchObject({ cmd: DrbdCommand.GET_STATUS, version: 1 });
  });

  it('encode the DRBD 9 object dumps with family version 2', () => {
    for (const cmd of [DrbdCommand.GET_RESOURCES, DrbdCommand.GET_DEVICES, DrbdCommand.GET_CONNECTIONS, DrbdCommand.GET_PEER_DEVICES] as const) {
      const payload = encodeObjectDump(cmd, { apiVersion: 2, resource: 'vm1' });
      expect(payload[0]).toBe(cmd);
      expect(payload[1]).toBe(2);
      expect(payload.readUInt32LE(4)).toBe(0xffffffff);
      expect(payload.subarray(16).toString('latin1')).toContain('vm1\0');
    }
  });

  it('refuse a struct the API does not have', () => {
    expect(() => encodeDrbdRequest(DrbdCommand.GET_STATUS, { apiVersion: 2, structs: { state_info: { sib_reason: 1 } } })).toThrow(
      /no struct state_info/,
    );
  });
});
