import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import {
  assertResourceName,
  drbdadm,
  drbdadmAdjustDryRun,
  drbdadmAllowTwoPrimaries,
  drbdadmCreateMd,
  drbdadmPrimary,
  drbdadmWipeMd,
  drbdsetupEvents2Now,
  drbdsetupShow,
} from '../../../../src/drbd/lifecycle/drbdadm-argv.js';
import { capturedArgv } from './scripted-executor.js';

describe('drbdadm argv', () => {
  it('builds the argv the lab ran, for every operation', () => {
    expect(drbdadmCreateMd('r0')).toEqual(capturedArgv('create-md'));
    expect(drbdadm('up', 'r0')).toEqual(capturedArgv('up'));
    expect(drbdadm('down', 'r0')).toEqual(capturedArgv('down'));
    expect(drbdadm('adjust', 'r0')).toEqual(capturedArgv('adjust'));
    expect(drbdadmAdjustDryRun('r0')).toEqual(capturedArgv('adjust-dry-run-clean'));
    expect(drbdadm('connect', 'r0')).toEqual(capturedArgv('connect'));
    expect(drbdadm('disconnect', 'r0')).toEqual(capturedArgv('disconnect'));
    expect(drbdadm('secondary', 'r0')).toEqual(capturedArgv('secondary'));
    expect(drbdadm('verify', 'r0')).toEqual(capturedArgv('verify'));
    expect(drbdadm('invalidate', 'r0')).toEqual(capturedArgv('invalidate'));
    expect(drbdadm('dump', 'r0')).toEqual(capturedArgv('dump-node1'));
    expect(drbdadmPrimary('r0')).toEqual(capturedArgv('primary'));
    expect(drbdadmPrimary('r0', { force: true, generation: '8.4' })).toEqual(capturedArgv('primary-force'));
    expect(drbdadmWipeMd('r0')).toEqual(capturedArgv('wipe-md'));
    expect(drbdadmAllowTwoPrimaries('r0', true)).toEqual(capturedArgv('allow-two-primaries-yes'));
    expect(drbdadmAllowTwoPrimaries('r0', false)).toEqual(capturedArgv('allow-two-primaries-no'));
    expect(drbdsetupEvents2Now('r0')).toEqual(capturedArgv('events2-primary'));
    expect(drbdsetupShow('r0')).toEqual(capturedArgv('show-default'));
  });

  it('forces through drbdmeta with -- --force, and spells 8.3 force primary its own way', () => {
    expect(drbdadmCreateMd('r0', { force: true })).toEqual(['drbdadm', '--', '--force', 'create-md', 'r0']);
    expect(drbdadmPrimary('r0', { force: true, generation: '9' })).toEqual(['drbdadm', 'primary', '--force', 'r0']);
    expect(drbdadmPrimary('r0', { force: true, generation: '8.3' })).toEqual(['drbdadm', '--', '--overwrite-data-of-peer', 'primary', 'r0']);
  });

  it('refuses names that could be read as options, as every resource, or that DRBD rejects', () => {
    for (const name of ['all', '-r0', '--force', 'a b', '', 'r0;reboot', '..', 'x'.repeat(128), 'r0\n']) {
      expect(() => drbdadm('up', name)).toThrow(ConfigError);
      expect(() => drbdadmPrimary(name, { force: true })).toThrow(ConfigError);
    }
    expect(assertResourceName('vm-disk_1.2+b')).toBe('vm-disk_1.2+b');
  });
});
