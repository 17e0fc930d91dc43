import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * The network a client address stands for in per-IP limits. An IPv6 host is usually given a whole /64 and can
 * pick any address in it, so an IPv6 address counts as its /64; an IPv4 address counts as itself, however it is
 * written (`::ffff:192.0.2.1`, `::ffff:c000:201`). Some proxies append a port (`192.0.2.1:4711`,
 * `[2001:db8::1]:4711`): it is dropped, or every source port would get a count of its own.
 */
export function networkKey(address: string): string {
  const ip = plainAddress(address);
  if (!isIPv6(ip)) return ip;
  return `${expand(ip).slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

/** A loopback or private address (RFC 1918, IPv6 unique local), however written: the operator's own network. */
export function isPrivateAddress(address: string): boolean {
  const ip = plainAddress(address);
  if (isIPv4(ip)) return PRIVATE.check(ip, 'ipv4');
  return isIPv6(ip) && PRIVATE.check(ip, 'ipv6');
}

/** The address alone: no port, no zone, lower case, and an IPv4 address written as IPv6 as plain IPv4. */
function plainAddress(address: string): string {
  const ip = withoutPort(address.trim()).split('%')[0]!.toLowerCase();
  if (!isIPv6(ip)) return ip;
  const groups = expand(ip);
  // IPv4-mapped (::ffff:0:0/96) and IPv4-translated (::ffff:0:0:0/96) addresses.
  if (groups.slice(0, 4).every((g) => g === 0) && ((groups[4] === 0 && groups[5] === 0xffff) || (groups[4] === 0xffff && groups[5] === 0))) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return ip;
}

function withoutPort(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(address);
  return v4 && isIPv4(v4[1]!) ? v4[1]! : address;
}

/** The eight 16-bit groups of a valid IPv6 address: "::" filled in, a trailing dotted IPv4 part as two groups. */
function expand(ip: string): number[] {
  const parse = (part: string) => (part ? part.split(':') : []).flatMap((group) => {
    if (!group.includes('.')) return [parseInt(group, 16)];
    const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
    return [(a << 8) | b, (c << 8) | d];
  });
  const [head = '', tail] = ip.split('::');
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}
