import { isIPv6 } from 'node:net';

/**
 * The network a client address stands for in per-IP limits. An IPv6 host is usually given a whole /64 and can
 * pick any address in it, so an IPv6 address counts as its /64; an IPv4 address (also written IPv4-mapped,
 * `::ffff:192.0.2.1`) counts as itself.
 */
export function networkKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const address = ip.split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = address.split('::');
  const groups = head ? head.split(':') : [];
  if (tail !== undefined) {
    // "::" stands for as many zero groups as are missing; an embedded IPv4 address fills two groups.
    const tailGroups = tail ? tail.split(':').reduce((n, part) => n + (part.includes('.') ? 2 : 1), 0) : 0;
    groups.push(...Array<string>(8 - groups.length - tailGroups).fill('0'), ...(tail ? tail.split(':') : []));
  }
  return `${groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}
