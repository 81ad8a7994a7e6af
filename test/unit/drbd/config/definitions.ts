/**
 * Resource definitions shared by the config tests. The `.res` fixtures under
 * test/fixtures/drbdadm-config/ named `hastor-*` are these, rendered by hastor
 * and then fed to the real drbdadm (see that folder's README).
 */
import type { ResourceDefinitionInput } from '../../../../src/drbd/config/schema.js';

/** The lab's resource (two UML nodes, /dev/vg0/r0, 10.99.0.x:7789) set up for a dual-primary window. */
export const LAB_84: ResourceDefinitionInput = {
  name: 'r0',
  target: '8.4',
  protocol: 'C',
  net: {
    allowTwoPrimaries: true,
    afterSb0pri: 'discard-zero-changes',
    afterSb1pri: 'discard-secondary',
    afterSb2pri: 'disconnect',
    cramHmacAlg: 'sha1',
    sharedSecret: 'hastor lab secret',
    maxBuffers: '8k',
    verifyAlg: 'crc32c',
  },
  disk: {
    fencing: 'resource-and-stonith',
    onIoError: 'detach',
    resyncRate: '200M',
    cPlanAhead: 0,
    alExtents: 3389,
    extra: { size: '10G' },
  },
  handlers: {
    fencePeer: '/usr/lib/drbd/crm-fence-peer.sh',
    afterResyncTarget: '/usr/lib/drbd/crm-unfence-peer.sh',
    splitBrain: '/usr/lib/drbd/notify-split-brain.sh root',
  },
  startup: { wfcTimeout: 30, degrWfcTimeout: 15, becomePrimaryOn: 'both' },
  nodes: [
    {
      name: 'node1',
      address: 'ipv4 10.99.0.1:7789',
      volumes: [{ volume: 0, minor: 0, device: '/dev/drbd0', disk: '/dev/vg0/r0', metaDisk: 'internal' }],
    },
    {
      name: 'node2',
      address: 'ipv4 10.99.0.2:7789',
      volumes: [{ volume: 0, minor: 0, device: '/dev/drbd0', disk: '/dev/vg0/r0', metaDisk: 'internal' }],
    },
  ],
};

/** DRBD 9, two nodes over IPv6, two volumes, external meta data, a full mesh with its own net options. */
export const MESH_9: ResourceDefinitionInput = {
  name: 'vm-disks',
  target: '9',
  protocol: 'C',
  options: { autoPromote: false, quorum: 'off', onNoDataAccessible: 'suspend-io' },
  net: {
    allowTwoPrimaries: true,
    afterSb0pri: 'discard-zero-changes',
    afterSb1pri: 'discard-secondary',
    afterSb2pri: 'disconnect',
    pingTimeout: 10,
  },
  disk: { fencing: 'resource-and-stonith', cPlanAhead: 20, cFillTarget: '1M', cMaxRate: '700M', cMinRate: '4M', diskFlushes: false },
  handlers: {
    fencePeer: '/usr/lib/drbd/crm-fence-peer.9.sh',
    unfencePeer: '/usr/lib/drbd/crm-unfence-peer.9.sh',
  },
  startup: { wfcTimeout: 0, extra: { 'stacked-timeouts': true } },
  nodes: [
    {
      name: 'hv-a.example.net',
      nodeId: 0,
      address: 'ipv6 [fd00:99::1]:7000',
      volumes: [
        { volume: 0, minor: 100, disk: '/dev/vg_host/vm_disks_0', metaDisk: 'internal' },
        { volume: 1, minor: 101, device: '/dev/drbd101', disk: '/dev/vg_host/vm_disks_1', metaDisk: { device: '/dev/vg_host/drbd_md', index: 1 } },
      ],
    },
    {
      name: 'hv-b.example.net',
      nodeId: 1,
      address: 'ipv6 [fd00:99::2]:7000',
      volumes: [
        { volume: 0, minor: 100, disk: '/dev/vg_host/vm_disks_0', metaDisk: 'internal' },
        { volume: 1, minor: 101, device: '/dev/drbd101', disk: '/dev/vg_host/vm_disks_1', metaDisk: { device: '/dev/vg_host/drbd_md', index: 1 } },
      ],
    },
  ],
  connectionMesh: { hosts: ['hv-a.example.net', 'hv-b.example.net'], net: { maxBuffers: 36864, sndbufSize: '10M' } },
};

/** DRBD 9, three nodes (one diskless), explicit connections: two paths, a port override, per-connection options. */
export const CONNECTIONS_9: ResourceDefinitionInput = {
  name: 'pvc-3f1c',
  target: '9',
  options: { quorum: 'majority', onNoQuorum: 'io-error' },
  net: { cramHmacAlg: 'sha256', sharedSecret: 'x"y\\z', rrConflict: 'retry-connect', verifyAlg: 'crc32c' },
  disk: { discardZeroesIfAligned: false },
  handlers: { quorumLost: "echo 'quorum & <lost>' > /dev/kmsg" },
  nodes: [
    {
      name: 'store1',
      nodeId: 0,
      address: 'ipv4 192.168.122.11:7010',
      volumes: [{ volume: 0, minor: 1000, disk: '/dev/vg_ssd/pvc-3f1c_00000', metaDisk: 'internal', diskOptions: { rsDiscardGranularity: 65536 } }],
    },
    {
      name: 'store2',
      nodeId: 1,
      address: 'ipv4 192.168.122.12:7010',
      volumes: [{ volume: 0, minor: 1000, disk: '/dev/vg_ssd/pvc-3f1c_00000', metaDisk: 'internal' }],
    },
    {
      name: 'client3',
      nodeId: 2,
      address: 'ipv4 192.168.122.13:7010',
      volumes: [{ volume: 0, minor: 1000, disk: 'none' }],
    },
  ],
  connections: [
    {
      paths: [
        [
          { host: 'store1', address: 'ipv4 10.10.0.11:7010' },
          { host: 'store2', address: 'ipv4 10.10.0.12:7010' },
        ],
        [
          { host: 'store1', address: 'ipv4 10.20.0.11:7010' },
          { host: 'store2', address: 'ipv4 10.20.0.12:7010' },
        ],
      ],
      protocol: 'C',
      net: { maxBuffers: 10000 },
      disk: { cMaxRate: '100M' },
      volumes: [{ volume: 0, disk: { resyncRate: '50M' } }],
    },
    { hosts: [{ host: 'store1' }, { host: 'client3', port: 7011 }], protocol: 'A' },
    { hosts: [{ host: 'store2' }, { host: 'client3' }] },
  ],
};
