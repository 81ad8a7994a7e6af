import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import {
  parseFullReport,
  parseLvSegments,
  parseLvs,
  parsePvSegments,
  parsePvs,
  parseVgs,
} from '../../../src/lvm/report.js';
import type { LogicalVolume, PhysicalVolume } from '../../../src/lvm/report.js';
import { parseJsonReportDocument } from '../../../src/lvm/report-json.js';
import { readBytes, readList, readOptionalInteger, readPercent } from '../../../src/lvm/report-values.js';
import { detectLvmVersion } from '../../../src/lvm/version.js';
import { fixture, thrown } from './helpers.js';

const v21603 = detectLvmVersion(fixture('lab-2.03.16/lvm-version.txt'));
const json = { format: 'json' as const };
const text = { format: 'text' as const, version: v21603 };
const host = (name: string): string => fixture(`host-2.03.16/${name}`);

const loop0: PhysicalVolume = {
  name: '/dev/loop0',
  uuid: '2bNT99-Akq1-4t9Z-qNfT-uArS-n10w-qjsP5l',
  vgName: 'vg_host',
  format: 'lvm2',
  attr: 'a--',
  allocatable: true,
  exported: false,
  missing: false,
  sizeBytes: 130023424n,
  freeBytes: 79691776n,
  deviceSizeBytes: 134217728n,
  dataStartBytes: 1048576n,
  extentCount: 31,
  allocatedExtentCount: 12,
  tags: [],
};

const guestDisk: LogicalVolume = {
  uuid: 'bPwu1U-YaRN-LVsM-92W3-OQwr-jXNV-EXZEim',
  name: 'guest+disk-1',
  vgName: 'vg.t2-shared',
  hidden: false,
  attr: '-wi-XX----',
  volumeType: '-',
  state: 'X',
  active: null,
  open: null,
  sizeBytes: 16777216n,
  segmentCount: 1,
  origin: null,
  poolLv: null,
  dataPercent: null,
  copyPercent: null,
  tags: ['tier2', 'vm=alpha'],
  kernelMajor: null,
  kernelMinor: null,
  lockArgs: null,
  activeLocally: null,
  activeRemotely: null,
  activeExclusively: null,
};

describe('pvs', () => {
  it('json: sizes in bytes as bigint, orphans without a VG', () => {
    const { items, log } = parsePvs(host('pvs-json.txt'), json);
    expect(items).toHaveLength(4);
    expect(items[0]).toEqual(loop0);
    expect(items[2]).toMatchObject({ name: '/dev/loop2', vgName: null, attr: '---', allocatable: false, sizeBytes: 134217728n, freeBytes: 134217728n, extentCount: 0 });
    expect(items[3]).toMatchObject({ name: '/dev/loop3', vgName: 'vg.t2-shared', sizeBytes: 62914560n, freeBytes: 46137344n, extentCount: 15, allocatedExtentCount: 4 });
    expect(log).toEqual([]);
  });

  it('text gives the same objects as json', () => {
    expect(parsePvs(host('pvs-text.txt'), text).items).toEqual(parsePvs(host('pvs-json.txt'), json).items);
    expect(parsePvs(host('pvs-text-select-vg.txt'), text).items).toEqual(parsePvs(host('pvs-json-select-vg.txt'), json).items);
    expect(parsePvs(host('pvs-json-select-vg.txt'), json).items.map((p) => p.name)).toEqual(['/dev/loop3']);
  });
});

describe('vgs', () => {
  it('json: extents, counts, attribute flags', () => {
    const { items } = parseVgs(host('vgs-json.txt'), json);
    expect(items.map((v) => v.name)).toEqual(['vg.t2-shared', 'vg_host']);
    expect(items[1]).toEqual({
      name: 'vg_host',
      uuid: 'I13qNk-nKyT-z9B6-ME0p-KXda-MT6E-idUkTb',
      attr: 'wz--n-',
      permission: 'writeable',
      resizeable: true,
      exported: false,
      partial: false,
      clustered: false,
      shared: false,
      sizeBytes: 260046848n,
      freeBytes: 176160768n,
      extentSizeBytes: 4194304n,
      extentCount: 62,
      freeExtentCount: 42,
      pvCount: 2,
      lvCount: 2,
      snapshotCount: 0,
      seqno: 18,
      tags: [],
      lockType: null,
      lockArgs: null,
    });
    expect(parseVgs(host('vgs-text.txt'), text).items).toEqual(items);
  });

  it('reads shared (lvmlockd) and clustered (clvm) VGs from the attribute string', () => {
    const doc = (attr: string, lockType: string): string =>
      host('vgs-json.txt').replace('"vg_attr":"wz--n-", "vg_size":"62914560"', `"vg_attr":"${attr}", "vg_size":"62914560"`).replace('"vg_lock_type":"", "vg_lock_args":""}', `"vg_lock_type":"${lockType}", "vg_lock_args":"1.0.0:lvmlock"}`);
    const [shared] = parseVgs(doc('wz--ns', 'sanlock'), json).items;
    expect(shared).toMatchObject({ shared: true, clustered: false, lockType: 'sanlock', lockArgs: '1.0.0:lvmlock' });
    const [clustered] = parseVgs(doc('wz--nc', ''), json).items;
    expect(clustered).toMatchObject({ shared: false, clustered: true, lockType: null });
  });
});

describe('lvs', () => {
  it('json: LVs with tags, unknown activation state (no device-mapper on the capture host)', () => {
    const { items } = parseLvs(host('lvs-json.txt'), json);
    expect(items.map((l) => `${l.vgName}/${l.name}`)).toEqual(['vg.t2-shared/guest+disk-1', 'vg_host/r0_disk', 'vg_host/r1_disk']);
    expect(items[0]).toEqual(guestDisk);
    expect(items[1]).toMatchObject({ name: 'r0_disk', sizeBytes: 50331648n, segmentCount: 2 });
    expect(items[2]).toMatchObject({ name: 'r1_disk', sizeBytes: 33554432n, tags: ['drbd_backing'] });
    expect(parseLvs(host('lvs-text.txt'), text).items).toEqual(items);
  });

  it('an active LV from the lab (all fields)', () => {
    const [lv] = parseLvs(fixture('lab-2.03.16/lvs-json-all-fields.txt'), json).items;
    expect(lv).toEqual({
      uuid: 'Kiddfu-otdc-ossy-McKW-pWxf-y7jz-vJzxup',
      name: 'r0_disk',
      vgName: 'vg_lab',
      hidden: false,
      attr: '-wi-a-----',
      volumeType: '-',
      state: 'a',
      active: true,
      open: false,
      sizeBytes: 268435456n,
      segmentCount: 1,
      origin: null,
      poolLv: null,
      dataPercent: null,
      copyPercent: null,
      tags: [],
      kernelMajor: 254,
      kernelMinor: 0,
      lockArgs: null,
      activeLocally: true,
      activeRemotely: false,
      activeExclusively: true,
    });
  });

  it('a report lacking a field hastor asks for is a ParseError naming the field', () => {
    // The lab's plain `lvs --reportformat json` has lvm's default columns only.
    const error = thrown(() => parseLvs(fixture('lab-2.03.16/lvs-json.txt'), json)) as ParseError;
    expect(error).toBeInstanceOf(ParseError);
    expect(error.message).toContain('fields missing from the report: lv_uuid, seg_count, lv_tags, lv_kernel_major, lv_kernel_minor');
    expect(error.source).toBe('lvs (json)');
  });
});

describe('segments', () => {
  it('LV segments: where each LV lives, stripes across PVs', () => {
    const { items } = parseLvSegments(host('lvs-segments-json.txt'), json);
    expect(items).toHaveLength(4);
    expect(items[2]).toEqual({
      lvUuid: 'dk3bIo-JdO3-jknn-BELf-IiQu-17Ml-X8VYv2',
      lvName: 'r0_disk',
      vgName: 'vg_host',
      type: 'linear',
      startBytes: 33554432n,
      sizeBytes: 16777216n,
      startExtent: 8,
      stripes: 1,
      stripeSizeBytes: 0n,
      devices: [{ device: '/dev/loop1', startExtent: 4 }],
    });
    expect(items[3]).toMatchObject({
      lvName: 'r1_disk',
      type: 'striped',
      stripes: 2,
      stripeSizeBytes: 65536n,
      devices: [
        { device: '/dev/loop0', startExtent: 8 },
        { device: '/dev/loop1', startExtent: 0 },
      ],
    });
    expect(parseLvSegments(host('lvs-segments-text.txt'), text).items).toEqual(items);
  });

  it('PV segments: used and free extent ranges', () => {
    const { items } = parsePvSegments(host('pvs-segments-json.txt'), json);
    expect(items.filter((s) => s.pvName === '/dev/loop0').map((s) => [s.startExtent, s.sizeExtents, s.lvName])).toEqual([
      [0, 8, 'r0_disk'],
      [8, 4, 'r1_disk'],
      [12, 19, null],
    ]);
    expect(items.find((s) => s.pvName === '/dev/loop2')).toEqual({
      pvName: '/dev/loop2',
      pvUuid: 'v2twRm-vYL3-J7LG-dH7B-H5u8-fkmv-hj7bmW',
      vgName: null,
      startExtent: 0,
      sizeExtents: 0,
      lvName: null,
      lvUuid: null,
    });
    expect(parsePvSegments(host('pvs-segments-text.txt'), text).items).toEqual(items);
  });
});

describe('lvm fullreport', () => {
  it('one entry per VG with its PVs, LVs and segments, plus orphan PVs; same objects as the single reports', () => {
    const full = parseFullReport(host('fullreport-json.txt'), 'json');
    expect(full.vgs.map((v) => v.vg.name)).toEqual(['vg.t2-shared', 'vg_host']);
    const hostVg = full.vgs[1];
    expect(hostVg?.pvs.map((p) => p.name)).toEqual(['/dev/loop0', '/dev/loop1']);
    expect(hostVg?.lvs.map((l) => l.name)).toEqual(['r0_disk', 'r1_disk']);
    expect(hostVg?.lvSegments.map((s) => `${s.lvName}@${s.startExtent}`)).toEqual(['r1_disk@0', 'r0_disk@0', 'r0_disk@8']);
    expect(hostVg?.pvSegments.filter((s) => s.lvName === null).map((s) => s.sizeExtents)).toEqual([19, 23]);
    expect(full.orphans.pvs.map((p) => p.name)).toEqual(['/dev/loop2']);
    expect(full.orphans.pvSegments).toHaveLength(1);
    expect(full.log).toEqual([]);

    const byName = <T extends { name: string }>(xs: T[]): T[] => [...xs].sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(byName(full.vgs.flatMap((v) => v.pvs).concat(full.orphans.pvs))).toEqual(byName(parsePvs(host('pvs-json.txt'), json).items));
    expect(full.vgs.map((v) => v.vg)).toEqual(parseVgs(host('vgs-json.txt'), json).items);
    expect(full.vgs.flatMap((v) => v.lvs)).toEqual(parseLvs(host('lvs-json.txt'), json).items);
  });

  it('refuses a per-VG item that holds two VGs', () => {
    const two = host('fullreport-json.txt').replace(/"vg": \[\n(\s+)(\{"vg_name":"vg_host"[^\n]*\})/, (_m, indent: string, row: string) => `"vg": [\n${indent}${row},\n${indent}${row}`);
    expect(two).not.toBe(host('fullreport-json.txt'));
    const error = thrown(() => parseFullReport(two)) as ParseError;
    expect(error.message).toContain('a fullreport item holds 2 VGs');
  });
});

describe('json_std', () => {
  it('lvm2 test-suite sample: numbers, null and arrays mean what json spells as strings', () => {
    const std = parseJsonReportDocument(fixture('json-std/report-format-test-json-std.txt'), 'lvs');
    const old = parseJsonReportDocument(fixture('json-std/report-format-test-json.txt'), 'lvs');
    const ctx = { source: 'lvs', excerpt: '' };
    const read = (doc: typeof std): unknown[] =>
      (doc.items[0]?.lv ?? []).map((row) => [readOptionalInteger(row, 'lv_kernel_major', ctx), readPercent(row, 'data_percent', ctx), readList(row, 'lv_tags', ctx)]);
    expect(read(std)).toEqual([
      [253, 0, []],
      [-1, null, ['lv_tag1']],
      [253, null, ['lv_tag1', 'lv_tag2', 'lv_tag3']],
    ]);
    expect(read(std)).toEqual(read(old));
  });

  it('decimal commas from a non-C locale are not JSON (lvm2 issue 33); LC_ALL=C output is', () => {
    const ok = parseJsonReportDocument(fixture('json-std/issue-33-en_GB.txt'), 'lvs');
    expect(readPercent(ok.items[0]?.lv?.[0] ?? {}, 'data_percent', { source: 'lvs', excerpt: '' })).toBe(11.49);
    expect(ok.log).toEqual([]);
    const error = thrown(() => parseJsonReportDocument(fixture('json-std/issue-33-de_DE.txt'), 'lvs')) as ParseError;
    expect(error).toBeInstanceOf(ParseError);
    expect(error.line).toBe(5);
    expect(error.excerpt).toBe('                  {"data_percent":11,49}');
  });

  it('full objects through json_std: the json capture rewritten by lvmreport(7) rules parses to the same objects', () => {
    // No lvm2 >= 2.03.17 is at hand: this converts the real json capture the way json_std
    // prints it (numbers unquoted, blank numbers null, lists as arrays, binary as 1/0/-1).
    const numeric = /^(pv_size|pv_free|dev_size|pe_start|pv_pe_count|pv_pe_alloc_count|vg_size|vg_free|vg_extent_size|vg_extent_count|vg_free_count|pv_count|lv_count|snap_count|vg_seqno|lv_size|seg_count|data_percent|copy_percent|lv_kernel_major|lv_kernel_minor|seg_start|seg_size|seg_start_pe|stripes|stripe_size|pvseg_start|pvseg_size)$/;
    const lists = /^(pv_tags|vg_tags|lv_tags|devices)$/;
    const binary = /^lv_active_(locally|remotely|exclusively)$/;
    const toStd = (doc: string): string =>
      doc.replace(/"([a-z_]+)":"((?:[^"\\]|\\.)*)"/g, (m, key: string, value: string) => {
        if (numeric.test(key)) return `"${key}":${value === '' ? 'null' : value}`;
        if (lists.test(key)) return `"${key}":${JSON.stringify(value === '' ? [] : value.split(','))}`;
        if (binary.test(key)) return `"${key}":${value === 'unknown' ? -1 : value === '' ? 0 : 1}`;
        return m;
      });
    const std = { format: 'json_std' as const };
    expect(toStd(host('lvs-json.txt'))).toContain('"lv_tags":["tier2","vm=alpha"]');
    expect(parsePvs(toStd(host('pvs-json.txt')), std).items).toEqual(parsePvs(host('pvs-json.txt'), json).items);
    expect(parseVgs(toStd(host('vgs-json.txt')), std).items).toEqual(parseVgs(host('vgs-json.txt'), json).items);
    expect(parseLvs(toStd(host('lvs-json.txt')), std).items).toEqual(parseLvs(host('lvs-json.txt'), json).items);
    expect(parseLvSegments(toStd(host('lvs-segments-json.txt')), std).items).toEqual(parseLvSegments(host('lvs-segments-json.txt'), json).items);
    expect(parseFullReport(toStd(host('fullreport-json.txt')), 'json_std')).toEqual(parseFullReport(host('fullreport-json.txt'), 'json'));
    const lab = parseLvs(toStd(fixture('lab-2.03.16/lvs-json-all-fields.txt')), std).items[0];
    expect(lab).toMatchObject({ activeLocally: true, activeRemotely: false, activeExclusively: true, kernelMajor: 254 });
  });

  it('sizes beyond 2^53 bytes keep every digit', () => {
    const big = '{"report":[{"pv":[{"pv_size":9223372036854775807,"pv_free":null,"n":-12345678901234567}]}]}';
    const doc = parseJsonReportDocument(big, 'pvs');
    const row = doc.items[0]?.pv?.[0] ?? {};
    expect(readBytes(row, 'pv_size', { source: 'pvs', excerpt: '' })).toBe(9223372036854775807n);
    expect(row.n).toBe('-12345678901234567');
  });
});

describe('command log', () => {
  it('status entries for every processed object when the log selection is "all"', () => {
    const { items, log } = parseLvs(host('lvs-json-log-all.txt'), json);
    expect(items).toHaveLength(2);
    expect(log).toHaveLength(3);
    expect(log[2]).toEqual({
      seq: 3,
      type: 'status',
      context: 'processing',
      objectType: 'vg',
      objectName: 'vg_host',
      objectId: 'I13qNk-nKyT-z9B6-ME0p-KXda-MT6E-idUkTb',
      objectGroup: null,
      objectGroupId: null,
      message: 'success',
      errno: 0,
      retCode: 1,
    });
  });

  it('errors and failure statuses for a missing LV', () => {
    const { items, log } = parseLvs(host('lvs-json-missing-lv.txt'), json);
    expect(items.map((l) => l.name)).toEqual(['r0_disk']);
    expect(log.map((e) => [e.seq, e.type, e.objectType, e.objectGroup, e.objectName, e.message, e.errno, e.retCode])).toEqual([
      [2, 'error', 'lv', 'vg_host', 'no_such_lv', 'Failed to find logical volume "vg_host/no_such_lv"', -1, 0],
      [3, 'status', 'lv', 'vg_host', 'no_such_lv', 'failure', -1, 5],
      [4, 'status', 'vg', null, 'vg_host', 'failure', -1, 5],
    ]);
  });
});

describe('malformed reports', () => {
  it('lvm printed an empty object (an unknown field made it give up)', () => {
    const error = thrown(() => parseLvs(host('lvs-json-log-bad-field.txt'), json)) as ParseError;
    expect(error).toBeInstanceOf(ParseError);
    expect(error.message).toContain('not an lvm report at report');
  });

  it('empty output and error text are ParseErrors', () => {
    expect((thrown(() => parseVgs('  \n', json)) as ParseError).message).toContain('empty output');
    const error = thrown(() => parsePvs(fixture('lab-2.03.16/lvs-json-std.txt'), json)) as ParseError;
    expect(error).toBeInstanceOf(ParseError);
    expect(error.message).toContain('not valid JSON');
  });

  it('a text row with the wrong number of fields names the line', () => {
    const broken = `${host('vgs-text.txt')}  Consider pruning vg_host VG archive with more then 8 MiB in 268 files.\n`;
    const error = thrown(() => parseVgs(broken, text)) as ParseError;
    expect(error.line).toBe(3);
    expect(error.message).toContain('expected 15 fields separated by "|", found 1');
  });

  it('a report of another type is refused', () => {
    const error = thrown(() => parseLvs(host('vgs-json.txt'), json)) as ParseError;
    expect(error.message).toContain('unexpected report type "vg" (expected "lv")');
  });

  it('bad cells name the field', () => {
    const bad = host('pvs-json.txt').replace('"pv_size":"130023424"', '"pv_size":"12.5"');
    expect((thrown(() => parsePvs(bad, json)) as ParseError).message).toContain('pv_size: expected an integer (got "12.5")');
    const negative = host('pvs-json.txt').replace('"pv_free":"79691776"', '"pv_free":"-1"');
    expect((thrown(() => parsePvs(negative, json)) as ParseError).message).toContain('pv_free: expected a size in bytes');
    const attr = host('lvs-json.txt').replace('"lv_attr":"-wi-XX----", "lv_size":"16777216"', '"lv_attr":"?", "lv_size":"16777216"');
    expect((thrown(() => parseLvs(attr, json)) as ParseError).message).toContain('lv_attr: not an attribute string');
    const dev = host('lvs-segments-json.txt').replace('"devices":"/dev/loop3(0)"', '"devices":"/dev/loop3"');
    expect((thrown(() => parseLvSegments(dev, json)) as ParseError).message).toContain('devices: expected "device(extent)"');
  });
});
