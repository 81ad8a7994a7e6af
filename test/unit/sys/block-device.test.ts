import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseBlockProbe, probeBlockDevice } from '../../../src/sys/block-device.js';
import { LocalExecutor } from '../../../src/sys/executor.js';

describe('parseBlockProbe', () => {
  it('reads the device and its slaves, sizes in 512-byte sectors (as printed in the lab guest)', () => {
    const probe = parseBlockProbe('254:0 dm-0 843776 /sys/devices/virtual/block/dm-0 vg_guest-data\n8:0 sda 851968 /sys/devices/platform/host0/session1/target0:0:0/0:0:0:0/block/sda\n');
    expect(probe).toEqual({
      major: 254,
      minor: 0,
      kernelName: 'dm-0',
      sizeBytes: 843776n * 512n,
      sysPath: '/sys/devices/virtual/block/dm-0',
      dmName: 'vg_guest-data',
      slaves: [{ major: 8, minor: 0, kernelName: 'sda', sizeBytes: 851968n * 512n, sysPath: '/sys/devices/platform/host0/session1/target0:0:0/0:0:0:0/block/sda', dmName: null }],
    });
  });

  it('gives a device without slaves, and null for no output', () => {
    expect(parseBlockProbe('147:0 drbd0 1392520 /sys/devices/virtual/block/drbd0\n')?.slaves).toEqual([]);
    expect(parseBlockProbe('')).toBeNull();
  });

  it('refuses a line it cannot read, naming it', () => {
    expect(() => parseBlockProbe('254:2 dm-2 lots /sys/devices/virtual/block/dm-2')).toThrow(ParseError);
    expect(() => parseBlockProbe('stat: cannot statx')).toThrow(/expected "MAJ:MIN name sectors sysfs-path \[dm-name\]"/);
  });
});

describe('probeBlockDevice (the script, run here)', () => {
  it('is null for a path that is no block device, missing or a character device', async () => {
    const executor = new LocalExecutor();
    expect(await probeBlockDevice(executor, '/dev/hastor-no-such-device')).toBeNull();
    expect(await probeBlockDevice(executor, '/dev/null')).toBeNull();
  });
});
