import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { parseAdjustDryRun, parseDrbdsetupShow, twoPrimariesAllowed, verifyAlgorithm } from '../../../../src/drbd/lifecycle/running-config.js';
import { capture, fixtureReply } from './scripted-executor.js';

const show = (name: string) => parseDrbdsetupShow(capture(name).stdout, 'r0');

describe('the running configuration (drbdsetup show) on 8.4', () => {
  it('reads the net options of the one connection; allow-two-primaries is absent while off', () => {
    const config = show('show-default');
    expect(config.nets).toEqual([{ timeout: '20', 'connect-int': '3', 'ping-int': '3', 'ping-timeout': '10', 'verify-alg': 'crc32c' }]);
    expect(twoPrimariesAllowed(config)).toBe(false);
    expect(verifyAlgorithm(config)).toBe('crc32c');
  });

  it('sees allow-two-primaries on both nodes after net-options on node1 only (8.4 passes it to the peer), and off again', () => {
    expect(twoPrimariesAllowed(show('show-two-primaries-node1'))).toBe(true);
    expect(twoPrimariesAllowed(show('show-two-primaries-node2'))).toBe(true);
    expect(twoPrimariesAllowed(show('show-two-primaries-off-node2'))).toBe(false);
    expect(show('show-safe').nets[0]).toMatchObject({ 'after-sb-0pri': 'discard-zero-changes', 'after-sb-1pri': 'discard-secondary' });
  });

  it('has no verify algorithm when none is configured', () => {
    expect(verifyAlgorithm(parseDrbdsetupShow(fixtureReply('lab-8.4.11/drbdsetup-show.txt').stdout, 'r0'))).toBeNull();
  });

  it('raises ParseError when the resource is not in the output', () => {
    expect(() => parseDrbdsetupShow(capture('show-default').stdout, 'r1')).toThrow(ParseError);
    expect(() => parseDrbdsetupShow('resource r0 {', 'r0')).toThrow(ParseError);
  });
});

describe('the running configuration on DRBD 9 (one net section per connection)', () => {
  it('reads every connection', () => {
    const config = parseDrbdsetupShow(fixtureReply('drbdsetup-show/drbd9-set-option-connect.txt').stdout, 'r0');
    expect(config.nets).toEqual([
      { 'verify-alg': 'md5', _name: 'n1.ryzen9.home' },
      { 'verify-alg': 'md5', _name: 'n2.ryzen9.home' },
    ]);
    expect(verifyAlgorithm(config)).toBe('md5');
    const other = parseDrbdsetupShow(fixtureReply('drbdsetup-show/drbd9-tiebreaker-swap.txt').stdout, 'r0');
    expect(other.nets).toHaveLength(2);
    expect(verifyAlgorithm(other)).toBeNull();
    expect(twoPrimariesAllowed(other)).toBe(false);
  });
});

describe('drbdadm -d adjust', () => {
  it('is empty when the kernel matches the file, and lists the commands otherwise', () => {
    expect(parseAdjustDryRun(capture('adjust-dry-run-clean').stdout)).toEqual([]);
    expect(parseAdjustDryRun(capture('adjust-dry-run-runtime-change').stdout)).toEqual([]);
    const pending = parseAdjustDryRun(capture('adjust-dry-run-node1').stdout);
    expect(pending).toHaveLength(2);
    expect(pending[0]).toMatch(/^drbdsetup-84 disk-options 0 --set-defaults --fencing=resource-and-stonith/);
    // node1's adjust reached node2's net options; only its disk options are left.
    expect(parseAdjustDryRun(capture('adjust-dry-run-node2-after-node1').stdout)).toEqual([expect.stringMatching(/^drbdsetup-84 disk-options/)]);
  });
});
