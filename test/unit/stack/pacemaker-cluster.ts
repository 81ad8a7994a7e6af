/** Cluster files with a pacemaker section, for the stack generator and the CLI. */
import { R0_SAFE } from './two-nodes.js';

const { name: _name, ...r0 } = R0_SAFE;

export const FENCE_DEVICES = [
  { id: 'fence-node1', agent: 'fence_virsh', params: { ip: '10.99.0.254', username: 'fence', password: 'secret', plug: 'node1', pcmk_host_list: 'node1' } },
  { id: 'fence-node2', agent: 'fence_virsh', params: { ip: '10.99.0.254', username: 'fence', password: 'secret', plug: 'node2', pcmk_host_list: 'node2' } },
];

/** Topology A: mysql on r0 (8.4, resource-and-stonith, crm handlers). */
export const SERVICE_FILE = {
  nodes: [
    { name: 'node1', local: true },
    { name: 'node2', ssh: { host: '10.99.0.2', user: 'hastor' } },
  ],
  resources: { r0 },
  pacemaker: {
    topology: 'service',
    fencing: { devices: FENCE_DEVICES, priorityFencingDelay: '10s' },
    service: {
      id: 'db',
      agent: 'ocf:heartbeat:mysql',
      params: { datadir: '/srv/db/mysql' },
      filesystem: { directory: '/srv/db', fstype: 'ext4' },
      ip: { address: '10.99.0.100', cidrNetmask: 24 },
    },
  },
};

/** Topology B: a guest on vg_shared over dual-primary r0. */
export const GUESTS_FILE = {
  ...SERVICE_FILE,
  resources: { r0: { ...r0, net: { ...r0.net, allowTwoPrimaries: true } } },
  pacemaker: {
    topology: 'guests',
    fencing: { devices: FENCE_DEVICES },
    guests: { vg: 'vg_shared', list: [{ id: 'vm1', params: { config: '/etc/libvirt/qemu/vm1.xml', hypervisor: 'qemu:///system' } }] },
  },
};
