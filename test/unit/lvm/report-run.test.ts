import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandError, ConfigError, ParseError } from '../../../src/errors.js';
import {
  fullReportArgv,
  interpretReportOutput,
  lvSegmentsArgv,
  lvsArgv,
  parseLvs,
  parseVgs,
  pvSegmentsArgv,
  pvsArgv,
  readFullReport,
  readLvs,
  readVgs,
  reportFormatFor,
  vgsArgv,
} from '../../../src/lvm/report.js';
import type { LvmExec } from '../../../src/lvm/report.js';
import { runLocal } from '../../../src/sys/local-exec.js';
import { detectLvmVersion } from '../../../src/lvm/version.js';
import { fixture, thrown } from './helpers.js';

const v21603 = detectLvmVersion(fixture('lab-2.03.16/lvm-version.txt'));
const v20298 = detectLvmVersion('  LVM version:     2.02.98(2) (2012-10-15)\n');
const v20317 = detectLvmVersion('  LVM version:     2.03.17(2) (2022-11-10)\n');
const host = (name: string): string => fixture(`host-2.03.16/${name}`);

const PV = 'pv_name,pv_uuid,vg_name,pv_fmt,pv_attr,pv_size,pv_free,dev_size,pe_start,pv_pe_count,pv_pe_alloc_count,pv_tags';
const VG = 'vg_name,vg_uuid,vg_attr,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,pv_count,lv_count,snap_count,vg_seqno,vg_tags';
const LV = 'lv_uuid,lv_name,vg_name,lv_attr,lv_size,seg_count,origin,pool_lv,data_percent,copy_percent,lv_tags,lv_kernel_major,lv_kernel_minor';
const SEG = 'lv_uuid,lv_name,vg_name,segtype,seg_start,seg_size,seg_start_pe,stripes,stripe_size,devices';
const PVSEG = 'pv_name,pv_uuid,vg_name,pvseg_start,pvseg_size,lv_name,lv_uuid';
const JSON_ARGS = ['--reportformat', 'json', '--units', 'b', '--nosuffix', '--config', 'log/report_command_log=1'];
const TEXT_ARGS = ['--noheadings', '--separator', '|', '--units', 'b', '--nosuffix'];

describe('argv builders', () => {
  // These are the exact argv the host-2.03.16 fixtures were captured with (see its README).
  it('lvm2 2.03.16: json with the command log, lock and activation fields', () => {
    expect(reportFormatFor(v21603)).toBe('json');
    expect(pvsArgv({ version: v21603 })).toEqual(['pvs', ...JSON_ARGS, '-o', PV]);
    expect(vgsArgv({ version: v21603, vgs: ['vg_host', 'no_such_vg'] })).toEqual(['vgs', ...JSON_ARGS, '-o', `${VG},vg_lock_type,vg_lock_args`, 'vg_host', 'no_such_vg']);
    expect(lvsArgv({ version: v21603, lvs: [{ vg: 'vg_host', lv: 'r0_disk' }, { vg: 'vg_host', lv: 'no_such_lv' }] })).toEqual([
      'lvs',
      ...JSON_ARGS,
      '-o',
      `${LV},lv_lockargs,lv_active_locally,lv_active_remotely,lv_active_exclusively`,
      'vg_host/r0_disk',
      'vg_host/no_such_lv',
    ]);
    expect(lvSegmentsArgv({ version: v21603 })).toEqual(['lvs', '--segments', ...JSON_ARGS, '-o', SEG]);
    expect(pvSegmentsArgv({ version: v21603 })).toEqual(['pvs', '--segments', ...JSON_ARGS, '-o', PVSEG]);
    expect(pvsArgv({ version: v21603, vgs: ['vg.t2-shared'] })).toEqual(['pvs', ...JSON_ARGS, '-o', PV, '-S', 'vg_name="vg.t2-shared"']);
    expect(pvsArgv({ version: v21603, format: 'text' })).toEqual(['pvs', ...TEXT_ARGS, '-o', PV]);
    expect(vgsArgv({ version: v21603, format: 'json', commandLog: false })).toEqual(['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', `${VG},vg_lock_type,vg_lock_args`]);
    expect(lvsArgv({ version: v21603, all: true, vgs: ['vg_host'] })).toContain('-a');
  });

  it('fullreport configures each sub-report', () => {
    expect(fullReportArgv({ version: v21603 })).toEqual([
      'lvm',
      'fullreport',
      ...JSON_ARGS,
      '--configreport',
      'vg',
      '-o',
      `${VG},vg_lock_type,vg_lock_args`,
      '--configreport',
      'pv',
      '-o',
      PV,
      '--configreport',
      'lv',
      '-o',
      `${LV},lv_lockargs,lv_active_locally,lv_active_remotely,lv_active_exclusively`,
      '--configreport',
      'pvseg',
      '-o',
      PVSEG,
      '--configreport',
      'seg',
      '-o',
      SEG,
    ]);
  });

  it('json_std from 2.03.17; text and no new fields before 2.02.158', () => {
    expect(reportFormatFor(v20317)).toBe('json_std');
    expect(vgsArgv({ version: v20317 }).slice(0, 3)).toEqual(['vgs', '--reportformat', 'json_std']);
    expect(reportFormatFor(v20298)).toBe('text');
    expect(lvsArgv({ version: v20298 })).toEqual(['lvs', ...TEXT_ARGS, '-o', LV]);
    expect(vgsArgv({ version: v20298 })).toEqual(['vgs', ...TEXT_ARGS, '-o', VG]);
  });

  it('refuses what the installed lvm cannot do and names that reach argv unchecked', () => {
    expect((thrown(() => vgsArgv({ version: v21603, format: 'json_std' })) as ConfigError).message).toContain('needs lvm2 2.03.17 or later; this is 2.03.16');
    expect(thrown(() => vgsArgv({ version: v20298, format: 'json' }))).toBeInstanceOf(ConfigError);
    expect(thrown(() => fullReportArgv({ version: v20298 }))).toBeInstanceOf(ConfigError);
    expect(thrown(() => vgsArgv({ version: v21603, vgs: ['--config=x'] }))).toBeInstanceOf(ConfigError);
    expect(thrown(() => lvsArgv({ version: v21603, lvs: [{ vg: 'vg', lv: 'snapshot0' }] }))).toBeInstanceOf(ConfigError);
    expect(thrown(() => pvsArgv({ version: v21603, pvs: ['--all'] }))).toBeInstanceOf(ConfigError);
    expect(thrown(() => pvsArgv({ version: v21603, pvs: ['/dev/../etc/passwd'] }))).toBeInstanceOf(ConfigError);
    expect(thrown(() => vgsArgv({ version: v21603, lvs: [{ vg: 'a', lv: 'b' }] }))).toBeInstanceOf(ConfigError);
    expect(thrown(() => pvsArgv({ version: v20298, vgs: ['vg0'] }))).toBeInstanceOf(ConfigError);
    expect(pvsArgv({ version: v21603, pvs: ['/dev/drbd0'] }).at(-1)).toBe('/dev/drbd0');
  });
});

describe('exit status', () => {
  const vgsParse = (stdout: string) => parseVgs(stdout, { format: 'json' });
  const argv = ['vgs', '…'];

  it('0 with an empty log is a complete report', () => {
    const r = interpretReportOutput(argv, { stdout: host('vgs-json.txt'), stderr: '', exitCode: 0 }, vgsParse);
    expect(r).toMatchObject({ exitCode: 0, complete: true, problems: [] });
    expect(r.items).toHaveLength(2);
  });

  it('5 with a valid report is partial; the log names what failed', () => {
    const r = interpretReportOutput(argv, { stdout: host('vgs-json-missing-vg.txt'), stderr: host('vgs-json-missing-vg.stderr.txt'), exitCode: 5 }, vgsParse);
    expect(r.complete).toBe(false);
    expect(r.items.map((v) => v.name)).toEqual(['vg_host']);
    expect(r.problems).toEqual(['vg no_such_vg: Volume group "no_such_vg" not found', 'vg no_such_vg: Cannot process volume group no_such_vg']);
  });

  it('5 without a command log: the problems come from stderr, warnings left out', () => {
    const r = interpretReportOutput(argv, { stdout: host('vgs-json-no-log-missing-vg.txt'), stderr: host('vgs-json-no-log-missing-vg.stderr.txt'), exitCode: 5 }, vgsParse);
    expect(r.problems).toEqual(['Volume group "no_such_vg" not found', 'Cannot process volume group no_such_vg']);
    const t = interpretReportOutput(argv, { stdout: host('lvs-text-missing-lv.txt'), stderr: host('lvs-text-missing-lv.stderr.txt'), exitCode: 5 }, (s) =>
      parseLvs(s, { format: 'text', version: v21603 }),
    );
    expect(t.items.map((l) => l.name)).toEqual(['r0_disk']);
    expect(t.problems).toEqual(['Failed to find logical volume "vg_host/no_such_lv"']);
  });

  it('5 without a valid report is a CommandError caused by the ParseError', () => {
    const error = thrown(() =>
      interpretReportOutput(['lvs'], { stdout: host('lvs-json-log-bad-field.txt'), stderr: host('lvs-json-log-bad-field.stderr.txt'), exitCode: 5 }, (s) => parseLvs(s, { format: 'json' })),
    ) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.exitCode).toBe(5);
    expect(error.cause).toBeInstanceOf(ParseError);
    expect(error.message).toBe('lvs: exited with 5 (lvm failed to process some objects) and no valid report: Command Log Fields … Failed to create log report.');
  });

  it('3 means lvm did not understand the command line (json_std on 2.03.16)', () => {
    const error = thrown(() =>
      interpretReportOutput(['lvs', '--reportformat', 'json_std'], { stdout: '', stderr: host('vgs-json-std.stderr.txt'), exitCode: 3 }, vgsParse),
    ) as CommandError;
    expect(error.message).toBe(
      'lvs --reportformat json_std: exited with 3 (invalid command line (an option or field this lvm does not know?)): Invalid argument for --reportformat: json_std … Error during parsing of command line.',
    );
    expect(error.stderr).toContain('Invalid argument for --reportformat: json_std');
  });

  it('0 with failures in the log is not complete', () => {
    const r = interpretReportOutput(['lvs'], { stdout: host('lvs-json-missing-lv.txt'), stderr: '', exitCode: 0 }, (s) => parseLvs(s, { format: 'json' }));
    expect(r.complete).toBe(false);
    expect(r.problems).toEqual(['lv vg_host/no_such_lv: Failed to find logical volume "vg_host/no_such_lv"']);
  });
});

describe('running through an executor (fake lvm commands on disk)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hastor-lvm-report-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A command that records its argv and prints a fixture with an exit code. */
  function fake(name: string, stdout: string, stderr: string, code: number): void {
    writeFileSync(join(dir, `${name}.out`), stdout);
    writeFileSync(join(dir, `${name}.err`), stderr);
    const script = `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/${name}.argv"\nprintf '%s\\n' "$LC_ALL" > "${dir}/${name}.lc_all"\ncat "${dir}/${name}.out"\ncat "${dir}/${name}.err" >&2\nexit ${code}\n`;
    writeFileSync(join(dir, name), script);
    chmodSync(join(dir, name), 0o755);
  }
  const exec: LvmExec = (argv, options) => runLocal([join(dir, argv[0] ?? ''), ...argv.slice(1)], options);
  const recorded = (name: string): string[] => readFileSync(join(dir, `${name}.argv`), 'utf8').trimEnd().split('\n');

  it('reads VGs with LC_ALL=C and accepts exit code 5 as a partial report', async () => {
    fake('vgs', host('vgs-json-missing-vg.txt'), host('vgs-json-missing-vg.stderr.txt'), 5);
    const r = await readVgs({ version: v21603, vgs: ['vg_host', 'no_such_vg'], exec });
    expect(recorded('vgs')).toEqual(vgsArgv({ version: v21603, vgs: ['vg_host', 'no_such_vg'] }).slice(1));
    expect(readFileSync(join(dir, 'vgs.lc_all'), 'utf8')).toBe('C\n');
    expect(r).toMatchObject({ exitCode: 5, complete: false });
    expect(r.items.map((v) => v.name)).toEqual(['vg_host']);
  });

  it('reads LVs in the text form on an lvm without JSON', async () => {
    fake('lvs', host('lvs-text.txt').split('\n').map((l) => l.split('|').slice(0, 13).join('|')).join('\n'), '', 0);
    const r = await readLvs({ version: v20298, exec });
    expect(recorded('lvs')).toEqual(['--noheadings', '--separator', '|', '--units', 'b', '--nosuffix', '-o', LV]);
    expect(r.items.map((l) => [l.name, l.sizeBytes, l.activeLocally])).toEqual([
      ['guest+disk-1', 16777216n, null],
      ['r0_disk', 50331648n, null],
      ['r1_disk', 33554432n, null],
    ]);
  });

  it('reads the full report', async () => {
    fake('lvm', host('fullreport-json.txt'), '', 0);
    const r = await readFullReport({ version: v21603, exec });
    expect(recorded('lvm').slice(0, 3)).toEqual(['fullreport', '--reportformat', 'json']);
    expect(r.complete).toBe(true);
    expect(r.vgs.map((v) => [v.vg.name, v.lvs.length, v.pvs.length])).toEqual([
      ['vg.t2-shared', 1, 1],
      ['vg_host', 2, 2],
    ]);
  });

  it('other exit codes are CommandErrors from the executor', async () => {
    fake('vgs', '', host('vgs-json-std.stderr.txt'), 3);
    const error = (await readVgs({ version: v21603, exec }).catch((e: unknown) => e)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.exitCode).toBe(3);
  });
});
