/**
 * What a REJECT rule answers a datagram with, read from the rule as the tool prints it: iptables'
 * `--reject-with` (default icmp-port-unreachable, ip6tables icmp6-port-unreachable), nft's
 * `reject with icmp|icmpv6|icmpx [type] NAME` (plain `reject`: port unreachable). Named the way the
 * wire analysis names the ICMP answers it sees, with the type and code. Pure.
 */
import type { FirewallVerdict } from './model.js';

export interface RejectAnswer {
  /** The answer's name as the rule spells it (`icmp-host-prohibited`, `admin-prohibited`, `tcp-reset`). */
  name: string;
  /** `ICMP host prohibited (type 3 code 10)`: what the sender's side receives. */
  text: string;
  /** Whether the rule names it, or it is the tool's default. */
  explicit: boolean;
}

/** ICMP destination unreachable (type 3) codes by the names iptables and nft give them. */
const ICMP4: Record<string, [string, number]> = {
  'net-unreachable': ['net unreachable', 0],
  'host-unreachable': ['host unreachable', 1],
  'prot-unreachable': ['protocol unreachable', 2],
  'proto-unreachable': ['protocol unreachable', 2],
  'port-unreachable': ['port unreachable', 3],
  'net-prohibited': ['net prohibited', 9],
  'host-prohibited': ['host prohibited', 10],
  'admin-prohibited': ['administratively prohibited', 13],
};
/** ICMPv6 destination unreachable (type 1) codes. */
const ICMP6: Record<string, [string, number]> = {
  'no-route': ['no route', 0],
  'adm-prohibited': ['administratively prohibited', 1],
  'admin-prohibited': ['administratively prohibited', 1],
  'addr-unreachable': ['address unreachable', 3],
  'addr-unreach': ['address unreachable', 3],
  'port-unreachable': ['port unreachable', 4],
  'port-unreach': ['port unreachable', 4],
  'policy-fail': ['source address failed ingress/egress policy', 5],
  'reject-route': ['reject route', 6],
};

function describe(name: string, family: 4 | 6): string {
  if (name === 'tcp-reset' || name === 'tcp reset') return 'TCP reset (no answer to UDP)';
  const bare = name.replace(/^icmp6?-/, '');
  if (family === 6) {
    const c = ICMP6[bare];
    return c ? `ICMPv6 ${c[0]} (type 1 code ${c[1]})` : `ICMPv6 ${bare}`;
  }
  const c = ICMP4[bare];
  return c ? `ICMP ${c[0]} (type 3 code ${c[1]})` : `ICMP ${bare}`;
}

/** The answer of a rejecting verdict; undefined for any other verdict. */
export function rejectAnswer(v: FirewallVerdict, family: 4 | 6): RejectAnswer | undefined {
  if (v.verdict !== 'rejected') return undefined;
  const rule = v.rule ?? '';
  if (v.tool === 'nft') {
    const m = /\breject with (icmpx|icmpv6|icmp|tcp) (?:type )?([a-z-]+)/.exec(rule);
    if (m) {
      const name = m[1] === 'tcp' ? 'tcp-reset' : m[2]!;
      const fam = m[1] === 'icmpv6' ? 6 : m[1] === 'icmp' ? 4 : family;
      return { name, text: describe(name, fam), explicit: true };
    }
    return { name: 'port-unreachable', text: describe('port-unreachable', family), explicit: false };
  }
  const m = /--reject-with\s+(\S+)/.exec(rule);
  const fam = v.tool === 'ip6tables' ? 6 : family;
  const name = m?.[1] ?? (fam === 6 ? 'icmp6-port-unreachable' : 'icmp-port-unreachable');
  return { name, text: describe(name, fam), explicit: !!m };
}
