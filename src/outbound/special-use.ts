import { BlockList, isIP } from 'node:net';

/**
 * The addresses the server must never fetch from on a caller's behalf: this host, the private networks around it,
 * the cloud metadata service (169.254.169.254), and every other special-use range (RFC 6890 and its IANA
 * registries), documentation and benchmarking ranges included, since no public document lives there either.
 */
const IPV4: readonly [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4], ['255.255.255.255', 32],
];
// No rule for ::ffff:0:0/96: a BlockList checks an IPv4-mapped address against the IPv4 rules (and would apply
// such a rule to every IPv4 address), so the embedded address decides. 64:ff9b::/96 (NAT64) embeds one too, but
// which one a gateway reaches is the network's business: all of it is refused.
const IPV6: readonly [string, number][] = [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['fc00::', 7],
  ['fe80::', 10], ['ff00::', 8],
];

const specialUse = new BlockList();
for (const [network, prefix] of IPV4) specialUse.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of IPV6) specialUse.addSubnet(network, prefix, 'ipv6');

/** True for a special-use address, and for anything that is not an address at all: the guard fails closed. */
export function isSpecialUse(address: string): boolean {
  // A resolver may answer a link-local address with its zone (fe80::1%eth0), which a BlockList does not match.
  const bare = address.replace(/%.*$/s, '');
  const family = isIP(bare);
  if (family === 0) return true;
  return specialUse.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** Addresses whose verdict a runtime must get right, the IPv4-mapped forms included, for the guard to be trusted. */
const KNOWN: readonly [string, boolean][] = [
  ['127.0.0.1', true], ['10.1.2.3', true], ['169.254.169.254', true], ['172.31.255.255', true], ['100.127.0.1', true],
  ['::1', true], ['::', true], ['fe80::1%eth0', true], ['fd00::2', true], ['::ffff:127.0.0.1', true],
  ['::ffff:a9fe:a9fe', true], ['64:ff9b::a00:1', true], ['localhost', true],
  ['93.184.215.14', false], ['172.32.0.1', false], ['2606:4700::6810:84e5', false], ['::ffff:93.184.215.14', false],
];

/**
 * Throws unless this runtime's BlockList judges the known addresses right: the server must not start with a guard
 * that lets them through (or refuses everything).
 */
export function assertSpecialUseCheckWorks(check: (address: string) => boolean = isSpecialUse): void {
  const wrong = KNOWN.filter(([address, refused]) => check(address) !== refused).map(([address]) => address);
  if (wrong.length) throw new Error(`the outbound address check misjudges ${wrong.join(', ')} on this runtime`);
}
