/**
 * What ssh may be given as a destination: `[user@]host`, where host is an RFC 1123
 * host name, an IPv4 address or a bracketless IPv6 address (with an optional zone),
 * and user a POSIX user name. Nothing else: no whitespace, no shell
 * metacharacters, no leading '-' (ssh would read an option).
 */
import { isIPv4, isIPv6 } from 'node:net';

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// POSIX portable user names (plus a trailing $ as Samba machine accounts have), up to 32 characters.
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,30}\$?$/;
const ZONE = /^[A-Za-z0-9_.-]{1,64}$/;

export function isRfc1123HostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // An all-numeric last label would read as a (bad) IPv4 address.
  return labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1) ?? '');
}

export function isValidUserName(user: string): boolean {
  return USER.test(user);
}

function isAddress(host: string): boolean {
  if (isIPv4(host)) return true;
  const [address = '', zone, ...rest] = host.split('%');
  return rest.length === 0 && isIPv6(address) && (zone === undefined || ZONE.test(zone));
}

/** `host`, or `user@host`, as described above. */
export function isValidSshDestination(destination: string): boolean {
  if (typeof destination !== 'string') return false;
  const at = destination.lastIndexOf('@');
  const user = at < 0 ? undefined : destination.slice(0, at);
  const host = at < 0 ? destination : destination.slice(at + 1);
  if (user !== undefined && !isValidUserName(user)) return false;
  return isRfc1123HostName(host) || isAddress(host);
}

/** Splits a valid destination into user (if given) and host. */
export function splitSshDestination(destination: string): { user?: string; host: string } {
  const at = destination.lastIndexOf('@');
  return at < 0 ? { host: destination } : { user: destination.slice(0, at), host: destination.slice(at + 1) };
}
