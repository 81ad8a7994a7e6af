import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { buildGuestsOnSharedLvm, buildServiceOnDrbd } from '../../../src/pacemaker/generate/build.js';
import { GUESTS, SERVICE } from './generate-inputs.js';

describe('buildServiceOnDrbd (topology A)', () => {
  const config = buildServiceOnDrbd(SERVICE);

  it('a promotable ocf:linbit:drbd clone with one Promoted and the agent meta-data timeouts', () => {
    const drbd = config.primitives.find((p) => p.id === 'drbd-r0');
    expect(drbd).toMatchObject({ class: 'ocf', provider: 'linbit', type: 'drbd', params: { drbd_resource: 'r0' } });
    expect(drbd?.ops).toEqual(
      expect.arrayContaining([
        { name: 'monitor', interval: '10s', timeout: '20s', role: 'Promoted' },
        { name: 'monitor', interval: '20s', timeout: '20s', role: 'Unpromoted' },
        { name: 'start', interval: '0s', timeout: '240s' },
        { name: 'stop', interval: '0s', timeout: '100s' },
        { name: 'promote', interval: '0s', timeout: '90s' },
        { name: 'demote', interval: '0s', timeout: '90s' },
      ]),
    );
    expect(config.clones).toEqual([
      {
        id: 'drbd-r0-clone',
        child: 'drbd-r0',
        meta: { promotable: 'true', 'promoted-max': '1', 'promoted-node-max': '1', 'clone-max': '2', 'clone-node-max': '1', notify: 'true', priority: '1' },
      },
    ]);
  });

  it('a group Filesystem → IP → service, colocated with the Promoted role and started after the promotion', () => {
    expect(config.groups).toEqual([{ id: 'g-db', members: ['fs-r0', 'ip-db', 'db'], meta: {} }]);
    expect(config.primitives.find((p) => p.id === 'fs-r0')).toMatchObject({
      type: 'Filesystem',
      params: { device: '/dev/drbd0', directory: '/srv/db', fstype: 'ext4' },
    });
    expect(config.primitives.find((p) => p.id === 'ip-db')).toMatchObject({ type: 'IPaddr2', params: { ip: '10.99.0.100', cidr_netmask: '24' } });
    expect(config.primitives.find((p) => p.id === 'db')).toMatchObject({ class: 'ocf', provider: 'heartbeat', type: 'mysql' });
    expect(config.constraints.colocations).toEqual([
      { id: 'col-g-db-with-drbd-r0-clone-promoted', rsc: 'g-db', withRsc: 'drbd-r0-clone', withRscRole: 'Promoted', score: 'INFINITY' },
    ]);
    expect(config.constraints.orders).toEqual([
      { id: 'order-drbd-r0-clone-promote-then-g-db', first: 'drbd-r0-clone', firstAction: 'promote', then: 'g-db', thenAction: 'start', kind: 'Mandatory' },
    ]);
  });

  it('fencing: the devices as stonith primitives, stonith-enabled and priority-fencing-delay for two nodes', () => {
    const devices = config.primitives.filter((p) => p.class === 'stonith');
    expect(devices.map((d) => [d.id, d.type, d.params.pcmk_host_list])).toEqual([
      ['fence-node1', 'fence_virsh', 'node1'],
      ['fence-node2', 'fence_virsh', 'node2'],
    ]);
    expect(devices[0]?.ops).toEqual([{ name: 'monitor', interval: '60s' }]);
    expect(config.properties).toEqual({ 'stonith-enabled': 'true', 'priority-fencing-delay': '10s' });
    expect(buildServiceOnDrbd({ ...SERVICE, nodes: ['node1'] }).properties).toEqual({ 'stonith-enabled': 'true' });
    expect(buildServiceOnDrbd({ ...SERVICE, fencing: { ...SERVICE.fencing, priorityFencingDelay: '0' } }).properties['priority-fencing-delay']).toBeUndefined();
  });

  it('a systemd service and no IP', () => {
    const { ip: _ip, ...noIp } = SERVICE;
    const c = buildServiceOnDrbd({ ...noIp, service: { id: 'mariadb', agent: 'systemd:mariadb' } });
    expect(c.groups[0]?.members).toEqual(['fs-r0', 'mariadb']);
    expect(c.primitives.find((p) => p.id === 'mariadb')).toMatchObject({ class: 'systemd', type: 'mariadb' });
    expect(c.primitives.find((p) => p.id === 'mariadb')?.provider).toBeUndefined();
  });

  it('the same input gives the same configuration (stable ids)', () => {
    expect(buildServiceOnDrbd(SERVICE)).toEqual(config);
  });
});

describe('buildGuestsOnSharedLvm (topology B)', () => {
  const config = buildGuestsOnSharedLvm(GUESTS);

  it('dlm, lvmlockd, DRBD (two Promoted), LVM-activate shared and the guest', () => {
    expect(config.clones.map((c) => [c.id, c.child])).toEqual([
      ['dlm-clone', 'dlm'],
      ['lvmlockd-clone', 'lvmlockd'],
      ['drbd-r0-clone', 'drbd-r0'],
      ['lvm-vg_shared-clone', 'lvm-vg_shared'],
    ]);
    expect(config.clones.find((c) => c.id === 'drbd-r0-clone')?.meta).toMatchObject({ promotable: 'true', 'promoted-max': '2', 'promoted-node-max': '1', notify: 'true' });
    expect(config.primitives.find((p) => p.id === 'dlm')).toMatchObject({ provider: 'pacemaker', type: 'controld' });
    expect(config.primitives.find((p) => p.id === 'lvmlockd')).toMatchObject({ provider: 'heartbeat', type: 'lvmlockd' });
    expect(config.primitives.find((p) => p.id === 'lvm-vg_shared')).toMatchObject({
      type: 'LVM-activate',
      params: { vgname: 'vg_shared', vg_access_mode: 'lvmlockd', activation_mode: 'shared' },
    });
    const vm = config.primitives.find((p) => p.id === 'vm1');
    expect(vm).toMatchObject({ type: 'VirtualDomain', meta: { 'allow-migrate': 'true' } });
    expect(vm?.ops.map((o) => o.name)).toEqual(expect.arrayContaining(['migrate_to', 'migrate_from']));
  });

  it('the order chain dlm → lvmlockd → (DRBD promoted) → LVM-activate → guest, with a colocation for each step', () => {
    expect(config.constraints.orders.map((o) => `${o.first}:${o.firstAction} ${o.then}:${o.thenAction}`)).toEqual([
      'dlm-clone:start lvmlockd-clone:start',
      'lvmlockd-clone:start lvm-vg_shared-clone:start',
      'drbd-r0-clone:promote lvm-vg_shared-clone:start',
      'lvm-vg_shared-clone:start vm1:start',
    ]);
    expect(config.constraints.colocations.map((c) => `${c.rsc} with ${c.withRsc}${c.withRscRole ? `:${c.withRscRole}` : ''} ${c.score}`)).toEqual([
      'lvmlockd-clone with dlm-clone INFINITY',
      'lvm-vg_shared-clone with lvmlockd-clone INFINITY',
      'lvm-vg_shared-clone with drbd-r0-clone:Promoted INFINITY',
      'vm1 with lvm-vg_shared-clone INFINITY',
    ]);
  });

  it('a stand-in guest agent without live migration', () => {
    const c = buildGuestsOnSharedLvm({ ...GUESTS, guests: [{ id: 'vm1', agent: 'ocf:heartbeat:Dummy', allowMigrate: false }] });
    const vm = c.primitives.find((p) => p.id === 'vm1');
    expect(vm).toMatchObject({ type: 'Dummy', meta: {} });
    expect(vm?.ops.map((o) => o.name)).not.toContain('migrate_to');
  });

  it('refuses names that are not Pacemaker ids before anything is rendered', () => {
    expect(() => buildGuestsOnSharedLvm({ ...GUESTS, guests: [{ id: 'vm 1; rm -rf /' }] })).toThrow(ConfigError);
    expect(() => buildGuestsOnSharedLvm({ ...GUESTS, guests: [{ id: 'dlm' }] })).toThrow(/id dlm is used by primitive dlm and by primitive dlm/);
    expect(() => buildGuestsOnSharedLvm({ ...GUESTS, guests: [{ id: 'vm1', agent: 'heartbeat:VirtualDomain' }] })).toThrow(/cannot read agent name/);
  });
});
