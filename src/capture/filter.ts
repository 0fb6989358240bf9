/**
 * The BPF filter a live capture uses: netconsole datagrams to the given ports, the ICMP errors a
 * receiver answers them with, and IP fragments (a fragment after the first carries no UDP header,
 * so a port filter alone would drop it and the datagram could not be reassembled). Pure: builds
 * text, compiles nothing (libpcap compiles it when the capture opens).
 */

import { DEFAULT_PORTS } from '../config/target.js';

/**
 * A filter in tcpdump's syntax for `ports` (UDP destination ports, each 1..65535).
 * `vlan: false` leaves out the 802.1Q half, which libpcap refuses on link types without VLAN
 * support (Linux cooked capture on `any`: "no VLAN support for Linux cooked v1").
 */
export function netconsoleFilter(ports: readonly number[] = DEFAULT_PORTS, opts: { vlan?: boolean } = {}): string {
  const unique = [...new Set(ports)];
  if (unique.length === 0) throw new TypeError('netconsoleFilter: at least one port is needed');
  for (const p of unique) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new TypeError(`netconsoleFilter: bad port ${p}`);
  }
  const dst = unique.map(p => `dst port ${p}`).join(' or ');
  const base = [
    `(udp and (${dst}))`,
    // Destination unreachable (port unreachable, or a firewall's REJECT), IPv4 and IPv6.
    '(icmp and icmp[icmptype] = icmp-unreach)',
    '(icmp6 and icmp6[0] = 1)',
    // Non-first IPv4 fragments of UDP datagrams; IPv6 packets whose first header is a fragment header.
    '(ip proto 17 and ip[6:2] & 0x1fff != 0)',
    '(ip6 and ip6[6] = 44)',
  ].join(' or ');
  // The same behind one 802.1Q tag (netconsole on eth0.5 seen on eth0): `vlan` shifts the
  // offsets of everything after it, hence the idiom `X or (vlan and X)`.
  return opts.vlan === false ? base : `${base} or (vlan and (${base}))`;
}
