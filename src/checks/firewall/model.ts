/**
 * What the firewall judges share: the datagram being judged, the verdict with where it was decided
 * (as data), and tri-state logic. A value the caller does not know (the sender's IP, the receiving
 * interface) is `undefined`, and a rule that depends on it is evaluated both ways: when both ways
 * give the same verdict the verdict stands, otherwise it is "uncertain" with the rule quoted. Pure.
 */

/** A new UDP datagram from the sender to the receiver, as netconsole sends it. */
export interface Datagram {
  family: 4 | 6;
  srcIp?: string;
  dstIp?: string;
  srcPort?: number;
  dstPort: number;
  /** The receiving interface. */
  iface?: string;
  /** unicast, or broadcast when netconsole sends to ff:ff:ff:ff:ff:ff. Default unicast. */
  pktType?: 'unicast' | 'broadcast' | 'multicast';
  /**
   * Set once a DNAT rule of the prerouting hook translated the destination to another host (a
   * container behind a bridge): the datagram then passes the forward hook, not input.
   */
  forward?: {
    /** The interface the route to the translated destination leaves by; undefined when unknown. */
    oface?: string;
  };
  /**
   * Set once a DNAT or REDIRECT of the prerouting hook translated the destination (to this host or
   * another): the flow's conntrack DNAT status, which `--ctstate DNAT` and `ct status dnat` match.
   */
  dnat?: boolean;
}

/**
 * This host's addresses and the networks on its interfaces: whether a DNAT's destination is this
 * host (the datagram goes on to input) or another (forward), and which interface it leaves by.
 */
export interface HostNet {
  links: ReadonlyArray<{ name: string; addrs: ReadonlyArray<{ family: 4 | 6; address: string; prefix: number }> }>;
}

/**
 * A destination NAT on the datagram's way (iptables `-j DNAT` / `REDIRECT` in nat PREROUTING, nft
 * `dnat to` / `redirect` in a prerouting chain): where it sends the datagram, and the rule.
 */
export interface Dnat {
  tool: FirewallTool;
  /** The translated destination; undefined for a REDIRECT (this host, another port). */
  toIp?: string;
  /** The translated port; the datagram's own when the rule keeps it. */
  toPort: number;
  /** The destination is another host (a container): the datagram is forwarded, not delivered here. */
  forwarded: boolean;
  /** The interface the forwarded datagram leaves by (docker0), when the routes say. */
  oface?: string;
  rule: string;
  /** `nat DOCKER`, `table ip nat chain prerouting handle 5`. */
  where: string;
  line?: number;
  counters?: { packets: number; bytes: number };
  /** The chains the rule was reached through, from the base chain down (`nat PREROUTING`, `nat DOCKER`). */
  via: string[];
}

export type VerdictKind = 'accepted' | 'dropped' | 'rejected' | 'uncertain';

type FirewallTool = 'iptables' | 'ip6tables' | 'nft';

/**
 * Where a verdict was decided. `entryChain` is the built-in (iptables) or base (nft) chain whose
 * walk reached the deciding rule: where an ACCEPT inserted first would win.
 */
export type RuleLocation =
  | { tool: 'iptables' | 'ip6tables'; table: string; chain: string; entryChain: string; line?: number }
  | { tool: 'nft'; family: string; table: string; chain: string; entryChain: string; handle?: number };

export interface FirewallVerdict {
  tool: FirewallTool;
  verdict: VerdictKind;
  /** The rule (or policy) that decides, as the tool prints it. */
  rule?: string;
  /** Where it is, for reading: `filter INPUT` / `table inet filter chain input handle 4` (from `location`). */
  where?: string;
  /** Its line in the iptables-save output. */
  line?: number;
  /** Where it is, as data. */
  location?: RuleLocation;
  counters?: { packets: number; bytes: number };
  /** Why uncertain: the matches not understood, with the rule quoted. */
  reasons: string[];
  /** The chains walked, for the explanation. */
  path: string[];
  /**
   * The chains the deciding rule was reached through, from its base chain down (a policy: the base
   * chain alone): what the explanation quotes, where `path` also holds every chain walked and left.
   */
  via?: string[];
  /**
   * A destination NAT sent the datagram elsewhere before the verdict: `verdict` is then that of the
   * translated datagram (forwarded: the forward hook's chains, as the verdict's path shows).
   */
  dnat?: Dnat;
}

/** The readable form of a location. */
export function describeLocation(l: RuleLocation): string {
  if (l.tool === 'nft')
    return `table ${l.family} ${l.table} chain ${l.chain}${l.handle !== undefined ? ` handle ${l.handle}` : ''}`;
  return `${l.table} ${l.chain}`;
}

/** Tri-state: true, false, or unknown with the reason. */
export type Tri = true | false | { unknown: string };
export const isUnknown = (t: Tri): t is { unknown: string } => typeof t === 'object';

/** AND over tri-states: any false wins; else any unknown; else true. */
export function triAnd(ts: Tri[]): Tri {
  const unk: string[] = [];
  for (const t of ts) {
    if (t === false) return false;
    if (isUnknown(t)) unk.push(t.unknown);
  }
  return unk.length ? { unknown: unk.join('; ') } : true;
}

export function triNot(t: Tri): Tri {
  if (isUnknown(t)) return t;
  return !t;
}

/** Combines several tools' verdicts on one datagram: any drop/reject decides; then uncertain; then accepted. */
export function combineVerdicts(vs: FirewallVerdict[]): FirewallVerdict | undefined {
  return (
    vs.find(v => v.verdict === 'dropped' || v.verdict === 'rejected') ??
    vs.find(v => v.verdict === 'uncertain') ??
    vs[0]
  );
}
