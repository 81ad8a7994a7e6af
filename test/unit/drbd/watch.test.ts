/**
 * diffStatus (pure) on hand-built statuses, and watchDrbd over a fake
 * netlink transport and over a fake `drbdsetup events2` on PATH.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenlFamilyNotFoundError, type GenlFamily } from '../../../src/sys/genl-family.js';
import { decodeGenlHeader, decodeNetlinkMessages, type NetlinkMessage } from '../../../src/sys/netlink-codec.js';
import type { NetlinkEvent } from '../../../src/sys/netlink-socket.js';
import { DrbdCommand, SibReason } from '../../../src/drbd/genl/constants.js';
import { encodeStateWord } from '../../../src/drbd/genl/state-word.js';
import type { DrbdNetlinkDeps, DrbdNetlinkTransport } from '../../../src/drbd/netlink-status.js';
import { emptyStatus, type ConnectionStatus, type DrbdStatus, type ResourceStatus } from '../../../src/drbd/status-model.js';
import type { ConnectionState, DiskState, ReplicationState, Role } from '../../../src/drbd/states.js';
import { diffStatus, watchDrbd, type WatchEvent } from '../../../src/drbd/watch.js';
import { drbdMessage, FAMILY_ID } from './genl/helpers.js';

interface Words {
  role?: Role;
  disk?: DiskState;
  conn?: ConnectionState;
  repl?: ReplicationState;
  peerRole?: Role | null;
  peerDisk?: DiskState | null;
  minor?: number;
}

function resource(name: string | null, w: Words = {}): ResourceStatus {
  const connection: ConnectionStatus = {
    peerNodeId: null,
    name: null,
    connectionState: w.conn ?? 'Connected',
    peerRole: w.peerRole === undefined ? 'Secondary' : w.peerRole,
    protocol: 'C',
    congested: false,
    peerDevices: [
      {
        volume: 0,
        replicationState: w.repl ?? 'Established',
        peerDiskState: w.peerDisk === undefined ? 'UpToDate' : w.peerDisk,
        outOfSyncBytes: 0n,
        resyncSuspended: null,
        sync: null,
        counters: {},
      },
    ],
  };
  return {
    name,
    role: w.role ?? 'Primary',
    suspended: null,
    devices: [{ volume: 0, minor: w.minor ?? 0, diskState: w.disk ?? 'UpToDate', sizeBytes: 8n << 20n, ioFlags: null, counters: {} }],
    connections: [connection],
  };
}

const status = (...resources: ResourceStatus[]): DrbdStatus => ({ ...emptyStatus('netlink'), resources });

describe('diffStatus', () => {
  it('is empty for equal statuses, and ignores counters, sizes and sync figures', () => {
    const a = status(resource('r0'));
    const b = status(resource('r0'));
    (b.resources[0]!.devices[0]!.counters as { diskWrittenBytes?: bigint }).diskWrittenBytes = 4096n;
    b.resources[0]!.devices[0]!.sizeBytes = 1n;
    b.resources[0]!.connections[0]!.peerDevices[0]!.outOfSyncBytes = 512n;
    expect(diffStatus(a, b)).toEqual([]);
  });

  it('reports a disconnect as connection, peer role, replication and peer disk changes', () => {
    const before = status(resource('r0'));
    const after = status(resource('r0', { conn: 'StandAlone', peerRole: 'Unknown', repl: 'Off', peerDisk: 'DUnknown' }));
    expect(diffStatus(before, after)).toEqual([
      { resource: 'r0', object: 'connection', peer: '0', field: 'connectionState', from: 'Connected', to: 'StandAlone' },
      { resource: 'r0', object: 'connection', peer: '0', field: 'peerRole', from: 'Secondary', to: 'Unknown' },
      { resource: 'r0', object: 'peer-device', volume: 0, peer: '0', field: 'replicationState', from: 'Established', to: 'Off' },
      { resource: 'r0', object: 'peer-device', volume: 0, peer: '0', field: 'peerDiskState', from: 'UpToDate', to: 'DUnknown' },
    ]);
  });

  it('reports role and disk changes with the device minor', () => {
    const changes = diffStatus(status(resource('r0', { minor: 5 })), status(resource('r0', { role: 'Secondary', disk: 'Inconsistent', minor: 5 })));
    expect(changes).toEqual([
      { resource: 'r0', object: 'resource', field: 'role', from: 'Primary', to: 'Secondary' },
      { resource: 'r0', object: 'device', volume: 0, minor: 5, field: 'diskState', from: 'UpToDate', to: 'Inconsistent' },
    ]);
  });

  it('lists every state word of a new resource from null, and of a removed one to null', () => {
    const initial = diffStatus(null, status(resource('r0')));
    expect(initial.every((c) => c.from === null && c.to !== null)).toBe(true);
    expect(initial.map((c) => `${c.object}.${c.field}`)).toEqual([
      'resource.role',
      'device.diskState',
      'connection.connectionState',
      'connection.peerRole',
      'peer-device.replicationState',
      'peer-device.peerDiskState',
    ]);
    const removed = diffStatus(status(resource('r0'), resource('r1', { minor: 1 })), status(resource('r0')));
    expect(removed.every((c) => c.resource === 'r1' && c.to === null)).toBe(true);
    expect(removed).toHaveLength(6);
  });

  it('matches resources by name, not position', () => {
    const a = status(resource('r0'), resource('r1', { minor: 1 }));
    const b = status(resource('r1', { minor: 1, conn: 'WFConnection', repl: 'Off', peerRole: 'Unknown', peerDisk: 'DUnknown' }), resource('r0'));
    const changes = diffStatus(a, b);
    expect(new Set(changes.map((c) => c.resource))).toEqual(new Set(['r1']));
    expect(changes[0]).toMatchObject({ field: 'connectionState', from: 'Connected', to: 'WFConnection' });
  });

  it('keys unnamed resources (/proc/drbd on 8.x) by minor', () => {
    const a = status(resource(null, { minor: 0 }), resource(null, { minor: 1 }));
    const b = status(resource(null, { minor: 0 }), resource(null, { minor: 1, disk: 'Diskless' }));
    expect(diffStatus(a, b)).toEqual([{ resource: null, object: 'device', volume: 0, minor: 1, field: 'diskState', from: 'UpToDate', to: 'Diskless' }]);
  });
});

// --- watchDrbd over a fake netlink transport ----------------------------------

const family84: GenlFamily = {
  id: FAMILY_ID,
  name: 'drbd',
  version: 1,
  headerSize: 8,
  maxAttribute: 24,
  multicastGroups: [{ name: 'events', id: 3 }],
  operations: [],
};

const legacy = (cmd: number, conn: number, pdsk: number, reason: number) =>
  drbdMessage({
    api: 1,
    cmd,
    minor: 0,
    structs: {
      drbd_cfg_context: { ctx_volume: 0, ctx_resource_name: 'r0' },
      state_info: { sib_reason: reason, current_state: encodeStateWord({ role: 1, peer: 2, conn, disk: 8, pdsk }), capacity: 16384n },
    },
  });

class FakeTransport implements DrbdNetlinkTransport {
  readonly listeners = new Set<(event: NetlinkEvent) => void>();
  closed = false;
  async request(_type: number, _flags: number, payload: Buffer): Promise<NetlinkMessage[]> {
    expect(decodeGenlHeader(payload).cmd).toBe(DrbdCommand.GET_STATUS);
    return decodeNetlinkMessages(legacy(DrbdCommand.GET_STATUS, 10, 8, SibReason.GET_STATUS_REPLY));
  }
  joinGroup(): void {}
  onEvent(listener: (event: NetlinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(datagram: Buffer): void {
    for (const l of this.listeners) l({ kind: 'datagram', datagram });
  }
  close(): void {
    this.closed = true;
  }
}

const depsFor = (transport: FakeTransport, family: GenlFamily | Error = family84): DrbdNetlinkDeps => ({
  openSocket: () => transport,
  resolveFamily: async () => {
    if (family instanceof Error) throw family;
    return family;
  },
});

describe('watchDrbd (netlink)', () => {
  it('delivers the initial state, then only state changes, with what changed and a receive time', async () => {
    const transport = new FakeTransport();
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    const watch = watchDrbd((e) => events.push(e), { onError: (e) => errors.push(e), deps: depsFor(transport) });
    await watch.ready;
    expect(watch.source).toBe('netlink');
    expect(events).toHaveLength(1);
    expect(events[0]!.changes.find((c) => c.field === 'connectionState')).toMatchObject({ from: null, to: 'Connected' });

    const before = process.hrtime.bigint();
    transport.emit(legacy(DrbdCommand.EVENT, 0, 6, SibReason.STATE_CHANGE)); // C_STANDALONE, pdsk DUnknown
    expect(events).toHaveLength(2);
    expect(events[1]!.receivedAt).toBeGreaterThanOrEqual(before);
    expect(events[1]!.source).toBe('netlink');
    expect(events[1]!.changes).toContainEqual({ resource: 'r0', object: 'connection', peer: '0', field: 'connectionState', from: 'Connected', to: 'StandAlone' });
    expect(events[1]!.changes).toContainEqual(expect.objectContaining({ object: 'peer-device', field: 'peerDiskState', from: 'UpToDate', to: 'DUnknown' }));

    // Same state again (8.4 repeats it for helper calls): nothing delivered.
    transport.emit(legacy(DrbdCommand.EVENT, 0, 6, SibReason.HELPER_PRE));
    expect(events).toHaveLength(2);
    watch.close();
    expect(transport.closed).toBe(true);
    transport.emit(legacy(DrbdCommand.EVENT, 10, 8, SibReason.STATE_CHANGE));
    expect(events).toHaveLength(2);
    expect(errors).toEqual([]);
  });

  it("with source 'netlink' forced, a missing family rejects ready and reaches onError once", async () => {
    const errors: Error[] = [];
    const watch = watchDrbd(() => expect.unreachable(), {
      onError: (e) => errors.push(e),
      source: 'netlink',
      deps: depsFor(new FakeTransport(), new GenlFamilyNotFoundError('drbd')),
    });
    await expect(watch.ready).rejects.toMatchObject({ code: 'E_NO_DRBD_FAMILY' });
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['E_NO_DRBD_FAMILY']);
    expect(watch.source).toBeNull();
  });
});

// --- watchDrbd over a fake drbdsetup events2 ------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'hastor-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STREAM = [
  'exists resource name:r0 role:Secondary suspended:no write-ordering:flush',
  'exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Secondary congested:no',
  'exists device name:r0 volume:0 minor:0 disk:UpToDate size:8192 read:0 written:0 al-writes:8 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no',
  'exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Established peer-disk:UpToDate resync-suspended:no received:0 sent:0 out-of-sync:0 pending:0 unacked:0',
  'exists -',
  'change peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 received:0 sent:0 out-of-sync:0 pending:0 unacked:0',
  'change connection name:r0 peer-node-id:0 conn-name:peer connection:Disconnecting role:Unknown',
  'change peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Off peer-disk:DUnknown received:0 sent:0 out-of-sync:0 pending:0 unacked:0',
  'change connection name:r0 peer-node-id:0 conn-name:peer connection:StandAlone',
];

function fakeDrbdsetup(name: string, lines: readonly string[], then: string): string {
  const data = join(dir, `${name}.txt`);
  writeFileSync(data, `${lines.join('\n')}\n`);
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n[ "$1" = events2 ] || exit 3\ncat '${data}'\n${then}\n`);
  chmodSync(path, 0o755);
  return path;
}

const until = async (test: () => boolean, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('watchDrbd (events2 fallback)', () => {
  it('falls back to drbdsetup events2 when the netlink family is missing, and reports each change', async () => {
    const drbdsetup = fakeDrbdsetup('events2-ok', STREAM, 'exec sleep 30');
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    const watch = watchDrbd((e) => events.push(e), {
      onError: (e) => errors.push(e),
      drbdsetup,
      procPath: join(dir, 'no-proc-drbd'),
      deps: depsFor(new FakeTransport(), new GenlFamilyNotFoundError('drbd')),
    });
    await watch.ready;
    expect(watch.source).toBe('events2');
    await until(() => events.length >= 4);
    expect(events[0]!.source).toBe('events2');
    expect(events[0]!.status.resources[0]?.role).toBe('Secondary');
    // A statistics-only line changes no state word and is not delivered.
    const words = events.slice(1).flatMap((e) => e.changes.filter((c) => c.field === 'connectionState').map((c) => `${c.from}->${c.to}`));
    expect(words).toEqual(['Connected->Disconnecting', 'Disconnecting->StandAlone']);
    expect(events).toHaveLength(4);
    expect(events[2]!.changes.map((c) => c.field)).toEqual(['replicationState', 'peerDiskState']);
    watch.close();
    expect(errors).toEqual([]);
  });

  it('reports the end of the events2 child through onError', async () => {
    const drbdsetup = fakeDrbdsetup('events2-exit', STREAM.slice(0, 5), 'echo "module unloaded" >&2; exit 10');
    const errors: Error[] = [];
    const watch = watchDrbd(() => undefined, { onError: (e) => errors.push(e), source: 'events2', drbdsetup, procPath: join(dir, 'none') });
    await watch.ready;
    await until(() => errors.length > 0);
    expect(errors[0]?.message).toMatch(/exit 10.*module unloaded/);
    watch.close();
  });

  it('rejects ready when drbdsetup cannot run', async () => {
    const errors: Error[] = [];
    const watch = watchDrbd(() => undefined, { onError: (e) => errors.push(e), source: 'events2', drbdsetup: join(dir, 'missing'), procPath: join(dir, 'none') });
    await expect(watch.ready).rejects.toThrow(/cannot run|ended/);
    expect(errors).toHaveLength(1);
  });
});
