import { describe, expect, it } from 'vitest';
import { formatSockaddr } from '../../../../src/drbd/genl/sockaddr.js';
import { sockaddrIn } from './helpers.js';

describe('sockaddr rendering', () => {
  it('prints IPv4 as drbdsetup does', () => {
    expect(formatSockaddr(sockaddrIn('10.99.0.1', 7789))).toBe('ipv4:10.99.0.1:7789');
  });

  it('prints IPv6 with the longest zero run compressed', () => {
    const a = Buffer.alloc(28);
    a.writeUInt16LE(10, 0);
    a.writeUInt16BE(7790, 2);
    Buffer.from('fe800000000000000000000000000001', 'hex').copy(a, 8);
    expect(formatSockaddr(a)).toBe('ipv6:[fe80::1]:7790');
  });

  it('never throws on odd input', () => {
    expect(formatSockaddr(Uint8Array.of(1))).toBe('raw:01');
    expect(formatSockaddr(Uint8Array.of(99, 0, 0, 1))).toBe('af99:63000001');
  });
});
