import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STRUCTS_84, TABLES_84 } from '../../../../src/drbd/genl/attributes-84.js';
import { STRUCTS_9, TABLES_9 } from '../../../../src/drbd/genl/attributes-9.js';
import { DrbdCommand, DrbdNla, drbdCommandName } from '../../../../src/drbd/genl/constants.js';
import { buildTables, u32 } from '../../../../src/drbd/genl/schema.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/netlink-drbd/${name}`, import.meta.url), 'utf8');

describe('attribute tables', () => {
  it('match what the lab kernel (Linux 6.1, DRBD 8.4.11) registered: max attribute and every command', () => {
    const listing = fixture('genl-ctrl-drbd-8.4.11.txt');
    const maxAttr = Number(/max attribs: (\d+)/.exec(listing)?.[1]);
    expect(Math.max(...STRUCTS_84.map((s) => s.tla))).toBe(maxAttr);
    const ops = listing.slice(listing.indexOf('commands supported'), listing.indexOf('multicast groups'));
    const commands = [...ops.matchAll(/#\d+:\s+ID-0x([0-9a-f]+)/g)].map((m) => parseInt(m[1] ?? '', 16));
    expect(commands).toHaveLength(31);
    for (const cmd of commands) expect(drbdCommandName(cmd)).not.toMatch(/^UNKNOWN/);
    expect(commands).toContain(DrbdCommand.GET_STATUS);
    expect(commands).toContain(DrbdCommand.GET_PEER_DEVICES);
    expect(listing).toMatch(/ID-0x[0-9a-f]+\s+name: events/);
  });

  it('have unique struct and field numbers', () => {
    expect(() => buildTables(STRUCTS_84)).not.toThrow();
    expect(() => buildTables(STRUCTS_9)).not.toThrow();
    expect(() => buildTables([{ name: 'x', tla: 1, fields: [u32(1, 'a'), u32(1, 'b')] }])).toThrow(/duplicate field/);
  });

  it('place the 8.4 state_info fields where drbd_nl.c puts them', () => {
    const si = TABLES_84.byTla.get(DrbdNla.STATE_INFO);
    const nr = (name: string) => si?.fields.find((f) => f.name === name)?.nr;
    expect([nr('sib_reason'), nr('current_state'), nr('capacity'), nr('uuids')]).toEqual([1, 2, 3, 7]);
    expect([nr('bits_total'), nr('bits_oos'), nr('bits_rs_total'), nr('bits_rs_failed')]).toEqual([9, 10, 11, 12]);
    expect(si?.fields.find((f) => f.name === 'current_state')?.mandatory).toBe(false); // DRBD_F_REQUIRED only
    expect(si?.fields.find((f) => f.name === 'capacity')?.mandatory).toBe(true);
  });

  it('know DRBD 9 has peer node ids and connection names in the context, 8.4 does not', () => {
    const ctx9 = TABLES_9.byName.get('drbd_cfg_context');
    const ctx84 = TABLES_84.byName.get('drbd_cfg_context');
    expect(ctx9?.fields.map((f) => [f.name, f.nr])).toContainEqual(['ctx_peer_node_id', 6]);
    expect(ctx9?.fields.map((f) => [f.name, f.nr])).toContainEqual(['ctx_conn_name', 5]);
    expect(ctx84?.fields.map((f) => f.name)).not.toContain('ctx_peer_node_id');
    expect(TABLES_9.byName.has('state_info')).toBe(false);
  });

  it('number the dump and notification commands as the headers do', () => {
    expect(DrbdCommand.GET_STATUS).toBe(2);
    expect([DrbdCommand.GET_RESOURCES, DrbdCommand.GET_DEVICES, DrbdCommand.GET_CONNECTIONS, DrbdCommand.GET_PEER_DEVICES]).toEqual([
      30, 31, 32, 33,
    ]);
    expect([DrbdCommand.RESOURCE_STATE, DrbdCommand.PEER_DEVICE_STATE, DrbdCommand.INITIAL_STATE_DONE]).toEqual([34, 37, 41]);
  });
});
