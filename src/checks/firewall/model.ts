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
