/** Inputs for the two topologies, as the lab's two nodes would have them. */
import type { FencingInput, GuestsTopologyInput, ServiceTopologyInput } from '../../../src/pacemaker/generate/build.js';
import type { DrbdFacts } from '../../../src/pacemaker/generate/check.js';

export const FENCING: FencingInput = {
  devices: [
    { id: 'fence-node1', agent: 'fence_virsh', params: { ip: '10.99.0.254', username: 'fence', password: 'secret', plug: 'node1', pcmk_host_list: 'node1' } },
    { id: 'fence-node2', agent: 'fence_virsh', params: { ip: '10.99.0.254', username: 'fence', password: 'secret', plug: 'node2', pcmk_host_list: 'node2' } },
  ],
};

export const SERVICE: ServiceTopologyInput = {
  nodes: ['node1', 'node2'],
  fencing: FENCING,
  drbd: { resource: 'r0' },
  filesystem: { device: '/dev/drbd0', directory: '/srv/db', fstype: 'ext4' },
  service: { id: 'db', agent: 'ocf:heartbeat:mysql', params: { datadir: '/srv/db/mysql' } },
  ip: { address: '10.99.0.100', cidrNetmask: 24 },
};

export const GUESTS: GuestsTopologyInput = {
  nodes: ['node1', 'node2'],
  fencing: FENCING,
  drbd: { resource: 'r0' },
  vg: 'vg_shared',
  guests: [{ id: 'vm1', params: { config: '/etc/libvirt/qemu/vm1.xml', hypervisor: 'qemu:///system' } }],
};

export const SAFE_SINGLE: DrbdFacts = { fencing: 'resource-and-stonith', allowTwoPrimaries: false, protocol: 'C', fencePeerHandler: true };
export const SAFE_DUAL: DrbdFacts = { ...SAFE_SINGLE, allowTwoPrimaries: true };
