/**
 * The flows of a capture, found by their addresses and ports: IPv4 flows by number (the hot path:
 * the last few flows are tried before the map), IPv6 by string, and every flow by
 * `src|sport|dst|dport` for ICMP answers. It also knows the flows' destination IPs, whose own
 * frames tell the MAC they are at. Bounded: at most MAX_FLOWS flows.
 */
import { formatIpv4Number } from '../decode/addr.js';
import { Flow } from './flow.js';

/** Flows tracked at most: beyond, datagrams are counted (too-many-flows), so spoofed senders cannot grow memory. */
export const MAX_FLOWS = 4096;
/** IPv4 flows tried before the map look-up, most recent last. */
const RECENT = 4;

export class FlowTable {
  /** Every flow, in the order first seen. */
  readonly all: Flow[] = [];
  private readonly v4 = new Map<number, Flow[]>();
  private readonly v6 = new Map<string, Flow[]>();
  private readonly watched4 = new Set<number>();
  private readonly watched6 = new Set<string>();
  private readonly index = new Map<string, Flow>();
  private readonly recent: Flow[] = [];

  /** The IPv4 flow of a datagram, made when new; undefined when MAX_FLOWS exist already. */
  ipv4(
    src: number,
    sport: number,
    dst: number,
    dport: number,
    sec: number,
    nsec: number,
    no: number,
  ): Flow | undefined {
    // Datagrams mostly come from a handful of flows: look at the recent ones before the map.
    const recent = this.recent;
    for (let i = 0; i < recent.length; i++) {
      const c = recent[i]!;
      if (c.srcIpNum === src && c.srcPort === sport && c.dstIpNum === dst && c.dstPort === dport) return c;
    }
    const key = src * 65536 + sport;
    let list = this.v4.get(key);
    if (list) for (const f of list) if (f.dstIpNum === dst && f.dstPort === dport) return this.remember(f);
    if (this.all.length >= MAX_FLOWS) return undefined;
    const f = new Flow(formatIpv4Number(src), sport, formatIpv4Number(dst), dport, src, dst, { sec, nsec }, no);
    if (!list) this.v4.set(key, (list = []));
    list.push(f);
    this.add(f);
    this.watched4.add(dst);
    return this.remember(f);
  }

  /** The IPv4 flow with these addresses and ports, if seen (never made). */
  get4(src: number, sport: number, dst: number, dport: number): Flow | undefined {
    const list = this.v4.get(src * 65536 + sport);
    if (list) for (const f of list) if (f.dstIpNum === dst && f.dstPort === dport) return f;
    return undefined;
  }

  /** The IPv6 flow of a datagram (addresses formatted), made when new; undefined when full. */
  ipv6(
    src: string,
    sport: number,
    dst: string,
    dport: number,
    sec: number,
    nsec: number,
    no: number,
  ): Flow | undefined {
    const key = `${src}|${sport}`;
    let list = this.v6.get(key);
    if (list) for (const f of list) if (f.dstIp === dst && f.dstPort === dport) return f;
    if (this.all.length >= MAX_FLOWS) return undefined;
    const f = new Flow(src, sport, dst, dport, -1, -1, { sec, nsec }, no);
    if (!list) this.v6.set(key, (list = []));
    list.push(f);
    this.add(f);
    this.watched6.add(dst);
    return f;
  }

  /** The flow with these addresses (formatted) and ports, if seen. */
  find(src: string, sport: number, dst: string, dport: number): Flow | undefined {
    return this.index.get(`${src}|${sport}|${dst}|${dport}`);
  }

  /** Whether `ip` is some flow's IPv4 destination. */
  isDestination4(ip: number): boolean {
    return this.watched4.has(ip);
  }

  /** Whether `ip` is some flow's IPv6 destination. */
  isDestination6(ip: string): boolean {
    return this.watched6.has(ip);
  }

  /** Whether any flow goes to an IPv6 destination (so IPv6 sources are worth formatting). */
  get hasDestinations6(): boolean {
    return this.watched6.size > 0;
  }

  private add(f: Flow): void {
    f.index = this.all.length;
    this.all.push(f);
    this.index.set(`${f.srcIp}|${f.srcPort}|${f.dstIp}|${f.dstPort}`, f);
  }

  private remember(f: Flow): Flow {
    if (this.recent.length >= RECENT) this.recent.shift();
    this.recent.push(f);
    return f;
  }
}
