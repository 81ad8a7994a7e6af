import { describe, expect, it } from 'vitest';
import { parseResourceDefinition } from '../../../src/drbd/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { lvRefFromPath, tier1FromDefinition } from '../../../src/stack/growth/topology.js';

describe('lvRefFromPath', () => {
  it('reads /dev/<vg>/<lv> and /dev/mapper/<vg>-<lv> (dashes doubled)', () => {
    expect(lvRefFromPath('/dev/vg_host/r0_disk')).toEqual({ vg: 'vg_host', lv: 'r0_disk' });
    expect(lvRefFromPath('/dev/mapper/vg--host-r0--disk')).toEqual({ vg: 'vg-host', lv: 'r0-disk' });
    expect(lvRefFromPath('/dev/sdb')).toBeNull();
    expect(lvRefFromPath('/dev/disk/by-id/wwn-0x5000')).toBeNull();
    expect(lvRefFromPath('/dev/mapper/mpatha')).toBeNull();
  });
});

const definition = (diskB: string) =>
  parseResourceDefinition({
    name: 'r0',
    target: '8.4',
    protocol: 'C',
    nodes: [
      { name: 'a', address: 'ipv4 10.0.0.1:7789', volumes: [{ volume: 0, minor: 0, disk: '/dev/vg_a/r0_disk', metaDisk: 'internal' }] },
      { name: 'b', address: 'ipv4 10.0.0.2:7789', volumes: [{ volume: 0, minor: 0, disk: diskB, metaDisk: 'internal' }] },
    ],
  });

describe('tier1FromDefinition', () => {
  it('gives each node its own backing LV (the VGs may differ by node)', () => {
    expect(tier1FromDefinition(definition('/dev/mapper/vg_b-r0_disk'))).toEqual([
      { node: 'a', vg: 'vg_a', lv: 'r0_disk' },
      { node: 'b', vg: 'vg_b', lv: 'r0_disk' },
    ]);
  });

  it('refuses a backing disk that is not an LV, naming the node', () => {
    expect(() => tier1FromDefinition(definition('/dev/sdb'))).toThrow(ConfigError);
    expect(() => tier1FromDefinition(definition('/dev/sdb'))).toThrow(/on b: backing disk \/dev\/sdb is not an LVM LV/);
  });
});
