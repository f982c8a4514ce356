/**
 * Addresses and names, the leaf every stage shares: DNS names (RFC 1123), IP families and their canonical
 * text (RFC 5952), and how a host appears in a URL (RFC 3986 3.2.2: IPv6 in brackets).
 */
import { isIP } from 'node:net';

/** A lower-case DNS name of labels of 1-63 letters, digits and inner hyphens, 253 characters in all (RFC 1123 2.1). */
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A DNS name in lower case; names with an all-digit last label are taken for mistyped IPs. */
export function isDnsName(value: string): boolean {
  if (!DNS_NAME.test(value)) return false;
  const last = value.split('.').pop() ?? '';
  return !/^\d+$/.test(last);
}

/** The IP family (4 or 6) of a string, 0 when it is not an IP. */
export function ipFamily(value: string): 0 | 4 | 6 {
  return isIP(value) as 0 | 4 | 6;
}

/**
 * The canonical text of an IP address, so that every spelling of one address is one string: IPv6 in
 * RFC 5952 form (lower case, shortest, so fd00::0011 and FD00:0:0::11 are fd00::11), and an IPv4-mapped
 * IPv6 address (::ffff:10.0.0.13, RFC 4291 2.5.5.2) as the IPv4 address it maps. Any other string is
 * returned as is. (Zero-padded IPv4 is not an IP to node:net, and validation refuses it with a fix.)
 */
export function canonicalIp(value: string): string {
  if (ipFamily(value) !== 6) return value;
  const text = new URL(`http://[${value}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(text);
  if (!mapped) return text;
  const [hi, lo] = [parseInt(mapped[1] ?? '0', 16), parseInt(mapped[2] ?? '0', 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Host part of a URL: IPv6 in brackets. */
export function urlHost(host: string): string {
  return ipFamily(host) === 6 ? `[${host}]` : host;
}

export function isLoopback(ip: string): boolean {
  return ip === '::1' || (ipFamily(ip) === 4 && ip.startsWith('127.'));
}
