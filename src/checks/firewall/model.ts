/**
 * What the firewall judges share: the datagram being judged, the verdict, and address helpers.
 * A value the caller does not know (the sender's IP, the receiving interface) is `undefined`,
 * and a rule that depends on it is evaluated both ways: when both ways give the same verdict the
 * verdict stands, otherwise it is "uncertain" with the rule quoted. Pure.
 */
import { ipFamily } from '../../config/netconsole-spec.js';

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

export interface FirewallVerdict {
  tool: 'iptables' | 'ip6tables' | 'nft';
  verdict: VerdictKind;
  /** The rule (or policy) that decides, as the tool prints it. */
  rule?: string;
  /** Where it is: `filter INPUT` / `table inet filter chain input`, and the line in the output when it has lines. */
  where?: string;
  line?: number;
  counters?: { packets: number; bytes: number };
  /** Why uncertain: the matches not understood, with the rule quoted. */
  reasons: string[];
  /** The chains walked, for the explanation. */
  path: string[];
}

// ---- addresses -------------------------------------------------------------------------------

export function ipv4ToNum(s: string): number | undefined {
  const p = s.split('.');
  if (p.length !== 4) return undefined;
  let n = 0;
  for (const x of p) {
    if (!/^\d{1,3}$/.test(x) || Number(x) > 255) return undefined;
    n = n * 256 + Number(x);
  }
  return n;
}

export function ipv6ToBig(s: string): bigint | undefined {
  if (ipFamily(s) !== 6) return undefined;
  let str = s.toLowerCase();
  // Embedded IPv4 (::ffff:1.2.3.4)
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
  if (v4) {
    const n = ipv4ToNum(v4[1]!)!;
    str = str.slice(0, -v4[1]!.length) + ((n >>> 16) & 0xffff).toString(16) + ':' + (n & 0xffff).toString(16);
  }
  const [head, tail] = str.includes('::') ? str.split('::') : [str, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const parts = [...h, ...Array(fill).fill('0'), ...t];
  if (parts.length !== 8) return undefined;
  let v = 0n;
  for (const x of parts) v = (v << 16n) + BigInt(parseInt(x || '0', 16));
  return v;
}

/**
 * Whether `ip` is inside `net` (`10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `2001:db8::/32`, or a single
 * address). Undefined when either is not an address of the same family.
 */
export function inNetwork(ip: string, net: string): boolean | undefined {
  const [addr, mask] = net.split('/') as [string, string | undefined];
  const fam = ipFamily(ip);
  if (fam === 0 || ipFamily(addr) !== fam) return undefined;
  if (fam === 4) {
    const a = ipv4ToNum(ip)!;
    const b = ipv4ToNum(addr)!;
    let bits: number;
    if (mask === undefined) bits = 32;
    else if (/^\d+$/.test(mask)) bits = Number(mask);
    else {
      const m = ipv4ToNum(mask);
      if (m === undefined) return undefined;
      // A dotted mask (old iptables-save); count its bits, assuming contiguous.
      bits = m.toString(2).replace(/0+$/, '').length;
      if (m === 0) bits = 0;
    }
    if (bits < 0 || bits > 32) return undefined;
    if (bits === 0) return true;
    const shift = 32 - bits;
    return Math.floor(a / 2 ** shift) === Math.floor(b / 2 ** shift);
  }
  const a = ipv6ToBig(ip)!;
  const b = ipv6ToBig(addr)!;
  const bits = mask === undefined ? 128 : Number(mask);
  if (!Number.isInteger(bits) || bits < 0 || bits > 128) return undefined;
  const shift = BigInt(128 - bits);
  return a >> shift === b >> shift;
}

/** iptables' -i matching: a trailing `+` matches any suffix. */
export function ifaceMatches(iface: string, pattern: string): boolean {
  if (pattern.endsWith('+')) return iface.startsWith(pattern.slice(0, -1));
  return iface === pattern;
}

/** nft's iifname matching: `*` at the end is a wildcard; otherwise exact. */
export function ifnameMatches(iface: string, pattern: string): boolean {
  if (pattern.endsWith('*') && !pattern.endsWith('\\*')) return iface.startsWith(pattern.slice(0, -1));
  return iface === pattern.replace(/\\\*/g, '*');
}

/** Tri-state: true, false, or unknown with the reason. */
export type Tri = true | false | { unknown: string };
export const isUnknown = (t: Tri): t is { unknown: string } => typeof t === 'object';

/** AND over tri-states: any false wins; else any unknown; else true. */
export function triAnd(ts: Tri[]): Tri {
  let unk: string[] = [];
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
  return vs.find(v => v.verdict === 'dropped' || v.verdict === 'rejected') ?? vs.find(v => v.verdict === 'uncertain') ?? vs[0];
}
