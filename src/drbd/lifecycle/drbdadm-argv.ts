/**
 * argv for drbdadm and drbdsetup, one builder per operation. Resource names
 * are checked with the config schema's rule before they reach argv, so a
 * name can never be read as an option or as `all`.
 *
 * Forms checked against drbd-utils 9.22 (`drbdadm -d`, 8.4 and 9 mode):
 * - `drbdadm -- --force create-md|wipe-md <res>` passes --force to drbdmeta
 *   on both; `drbdadm wipe-md --force` is refused by the 8.4 parser;
 * - `drbdadm primary --force <res>` on 8.4 and 9; 8.3 spells it
 *   `drbdadm -- --overwrite-data-of-peer primary <res>` (9 drops that option);
 * - `drbdadm net-options --allow-two-primaries=yes|no <res>` changes only that
 *   option on the running connection (8.4.11 passes it to the peer too).
 */
import { ConfigError } from '../../errors.js';
import { isValidResourceName } from '../config/index.js';
import type { DrbdGeneration } from './generation.js';

export function assertResourceName(name: string): string {
  if (!isValidResourceName(name)) {
    throw new ConfigError(`invalid DRBD resource name ${JSON.stringify(name)}`, [
      'resource names are 1..127 characters of [A-Za-z0-9_.+-], do not start with "-", and are not "all" or only dots',
    ]);
  }
  return name;
}

/** drbdadm commands that take a resource and nothing else. */
export type SimpleDrbdadmCommand = 'up' | 'down' | 'adjust' | 'connect' | 'disconnect' | 'secondary' | 'verify' | 'invalidate' | 'dump';

export function drbdadm(command: SimpleDrbdadmCommand, resource: string): string[] {
  return ['drbdadm', command, assertResourceName(resource)];
}

/** What `adjust` would run, without running it (empty output: nothing to adjust). */
export function drbdadmAdjustDryRun(resource: string): string[] {
  return ['drbdadm', '-d', 'adjust', assertResourceName(resource)];
}

/** Without force, drbdmeta refuses (rc 1, "Operation cancelled") to overwrite meta data it finds. */
export function drbdadmCreateMd(resource: string, options: { force?: boolean } = {}): string[] {
  const name = assertResourceName(resource);
  return options.force ? ['drbdadm', '--', '--force', 'create-md', name] : ['drbdadm', 'create-md', name];
}

/** wipe-md asks for "yes" on a terminal; --force answers it. */
export function drbdadmWipeMd(resource: string): string[] {
  return ['drbdadm', '--', '--force', 'wipe-md', assertResourceName(resource)];
}

/**
 * `primary`; with `force` the node's data becomes the good copy even though
 * it is not UpToDate (initial sync source, or a deliberate override).
 */
export function drbdadmPrimary(resource: string, options: { force?: boolean; generation?: DrbdGeneration | null } = {}): string[] {
  const name = assertResourceName(resource);
  if (!options.force) return ['drbdadm', 'primary', name];
  if (options.generation === '8.3') return ['drbdadm', '--', '--overwrite-data-of-peer', 'primary', name];
  return ['drbdadm', 'primary', '--force', name];
}

export function drbdadmAllowTwoPrimaries(resource: string, allow: boolean): string[] {
  return ['drbdadm', 'net-options', `--allow-two-primaries=${allow ? 'yes' : 'no'}`, assertResourceName(resource)];
}

export function drbdadmVersion(): string[] {
  return ['drbdadm', '--version'];
}

/** One resource's objects with counters; prints `exists -` alone when the resource is not up. */
export function drbdsetupEvents2Now(resource: string): string[] {
  return ['drbdsetup', 'events2', '--now', '--statistics', assertResourceName(resource)];
}

/** The running configuration (exit 20 "No such device" when the resource is not up). */
export function drbdsetupShow(resource: string): string[] {
  return ['drbdsetup', 'show', assertResourceName(resource)];
}
