/**
 * ctx_my_addr / ctx_peer_addr carry a raw `struct sockaddr_in` or
 * `sockaddr_in6` (family in host order, port in network order). Rendered the
 * way drbdsetup prints addresses: `ipv4:10.99.0.1:7789`, `ipv6:[fe80::1]:7789`.
 */
import { HOST_LITTLE_ENDIAN } from './constants.js';

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

const AF_INET = 2;
const AF_INET6 = 10;
const AF_INET_SDP = 27; // DRBD's "sdp" address family

export function formatSockaddr(bytes: Uint8Array): string {
  if (bytes.length < 4) return `raw:${toHex(bytes)}`;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = dv.getUint16(0, HOST_LITTLE_ENDIAN);
  const port = dv.getUint16(2, false);
  if ((family === AF_INET || family === AF_INET_SDP) && bytes.length >= 8) {
    const ip = Array.from(bytes.subarray(4, 8)).join('.');
    return `${family === AF_INET ? 'ipv4' : 'sdp'}:${ip}:${port}`;
  }
  if (family === AF_INET6 && bytes.length >= 24) {
    const words: string[] = [];
    for (let i = 8; i < 24; i += 2) words.push(dv.getUint16(i, false).toString(16));
    return `ipv6:[${compressIpv6(words)}]:${port}`;
  }
  return `af${family}:${toHex(bytes)}`;
}

/** RFC 5952: the longest run (of two or more) of zero groups becomes `::`. */
function compressIpv6(words: string[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < words.length; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < words.length && words[j] === '0') j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return words.join(':');
  return `${words.slice(0, bestStart).join(':')}::${words.slice(bestStart + bestLen).join(':')}`;
}
