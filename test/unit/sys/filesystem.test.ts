import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseSysfsSectors } from '../../../src/sys/block-device.js';
import { parseDumpe2fsHeader, parseFindmntJson, parseXfsInfo } from '../../../src/sys/filesystem.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/filesystem/${name}`, import.meta.url), 'utf8');

describe('filesystem geometry', () => {
  it('ext4: block count × block size from dumpe2fs -h (1 KiB blocks on a small filesystem)', () => {
    expect(parseDumpe2fsHeader(fixture('dumpe2fs-h-ext4-64m.txt'))).toEqual({ type: 'ext4', blocks: 65536n, blockSize: 1024n, sizeBytes: 64n * 1024n * 1024n });
  });

  it('xfs: the data section of xfs_info', () => {
    expect(parseXfsInfo(fixture('xfs-info-320m.txt'))).toEqual({ type: 'xfs', blocks: 81920n, blockSize: 4096n, sizeBytes: 320n * 1024n * 1024n });
  });

  it('refuses output that is not what it expects, with ParseError', () => {
    expect(() => parseDumpe2fsHeader('dumpe2fs: Bad magic number in super-block\n')).toThrow(ParseError);
    expect(() => parseXfsInfo(fixture('dumpe2fs-h-ext4-64m.txt'))).toThrow(/data = bsize/);
  });

  it('findmnt -J: nested children are listed too', () => {
    const text = JSON.stringify({ filesystems: [{ source: '/dev/mapper/vg_guest-data', target: '/data', fstype: 'ext4', children: [{ source: 'tmpfs', target: '/data/tmp', fstype: 'tmpfs' }] }] });
    expect(parseFindmntJson(text)).toEqual([
      { source: '/dev/mapper/vg_guest-data', target: '/data', fstype: 'ext4' },
      { source: 'tmpfs', target: '/data/tmp', fstype: 'tmpfs' },
    ]);
    expect(() => parseFindmntJson('{"filesystems": [{"source": 1}]}')).toThrow(ParseError);
    expect(() => parseFindmntJson('nope')).toThrow(ParseError);
  });
});

describe('block device sizes', () => {
  it('sysfs counts 512-byte sectors whatever the device block size', () => {
    expect(parseSysfsSectors('262144\n')).toBe(128n * 1024n * 1024n);
    expect(() => parseSysfsSectors('')).toThrow(ParseError);
    expect(() => parseSysfsSectors('cat: /sys/class/block/sdz/size: No such file')).toThrow(ParseError);
  });
});
