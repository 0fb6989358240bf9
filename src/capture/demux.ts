/**
 * One capture, many senders: hands each packet to the sink registered for the IP it concerns,
 * the source of a datagram, or the destination of an ICMP error (the receiver answering a
 * sender). So each sender's pipeline sees exactly what a capture filtered on that sender would
 * have shown it, numbered from 1. ARP goes to every sink (it says who is where); anything else
 * is counted and dropped.
 *
 * A sender behind a router that translates its source (NAT) sends from the router's address, which
 * nobody registered: UDP from such a source is kept (bounded) until a datagram of it carries a
 * registered sender's marker, to one of that sender's ports. That source, address and port, is
 * then the sender's: what was kept of it goes to the sender's sink, in order, and so does all
 * that follows. Several senders behind one router arrive from one address and are told apart by
 * port. Pure.
 */
import type { PacketSink } from './sink.js';
import { canonicalIp, formatIpv4Number, formatIpv6, ipv4Number } from '../decode/addr.js';
import {
  decodeIpv4,
  decodeIpv6,
  decodeLink,
  decodeUdp,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_UDP,
  newIpView,
  newLinkView,
  newUdpView,
} from '../decode/packet.js';

/** How a sender's own datagrams are recognised when they arrive from a source not its own. */
export interface SourceClaim {
  /** Text only this sender's test sends (verify's marker). */
  marker: string;
  /** The destination ports its datagrams count on (as a single verify's capture takes them). */
  ports: readonly number[];
}

/** What is kept of datagrams from unknown sources while no marker has claimed them. */
export interface StrangerLimits {
  /** Packets kept at most; the oldest go first. @default 1024 */
  packets: number;
  /** Captured bytes kept at most. @default 1048576 */
  bytes: number;
}

interface Claimant {
  sink: PacketSink;
  marker: Uint8Array;
  ports: ReadonlySet<number>;
  /** Number of the first stranger packet after it was registered: older ones are not its test's. */
  since: number;
  /** The translated sources it claimed (`ip port`), removed with it. */
  sources: string[];
}

/** A packet of an unknown source, copied (the capture's buffer is reused). */
interface Kept {
  n: number;
  bytes: Uint8Array;
  origlen: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  src: string;
  /** The UDP source port; -1 for an IP fragment after the first (it has no UDP header). */
  port: number;
  /** IP identification of a fragmented datagram; -1 when whole. */
  fragId: number;
}

/** Claimed sources at most per sender (its netconsole datagrams, a syslog copy of the marker, ...). */
const CLAIMS_PER_SENDER = 8;
/** Fragmented datagrams of claimed sources whose later fragments are still expected. */
const FRAGMENTS_KEPT = 256;

export class SourceDemux implements PacketSink {
  private readonly sinks = new Map<string, PacketSink>();
  private readonly claimants = new Map<string, Claimant>();
  /** `ip port` of a translated source → the sender's claimant. */
  private readonly translated = new Map<string, Claimant>();
  /** `ip/id` of a claimed source's fragmented datagram → the claimant its later fragments go to. */
  private readonly fragments = new Map<string, Claimant>();
  private kept: Kept[] = [];
  private keptHead = 0;
  private keptBytes = 0;
  private strangers = 0;
  /** The markers' common beginning, searched first (most datagrams of unknown sources hold none). */
  private prefix: Uint8Array = new Uint8Array(0);
  private readonly link = newLinkView();
  private readonly ip = newIpView();
  private readonly udp = newUdpView();
  private readonly limits: StrangerLimits;
  /** Packets no registered sink wanted (those of unknown sources kept and later claimed are not counted). */
  unclaimed = 0;

  constructor(limits: Partial<StrangerLimits> = {}) {
    this.limits = { packets: 1024, bytes: 1 << 20, ...limits };
  }

  /**
   * Registers the sink for an IP (as the decoders format it), and optionally the marker that
   * claims a translated source for it; false when another holds the IP.
   */
  add(ip: string, sink: PacketSink, claim?: SourceClaim): boolean {
    const key = canonicalIp(ip);
    if (this.sinks.has(key)) return false;
    this.sinks.set(key, sink);
    if (claim) {
      this.claimants.set(key, {
        sink,
        marker: Buffer.from(claim.marker, 'latin1'),
        ports: new Set(claim.ports),
        since: this.strangers + 1,
        sources: [],
      });
      this.markersChanged();
    }
    return true;
  }

  remove(ip: string): void {
    const key = canonicalIp(ip);
    this.sinks.delete(key);
    const c = this.claimants.get(key);
    if (!c) return;
    this.claimants.delete(key);
    for (const s of c.sources) this.translated.delete(s);
    for (const [k, v] of this.fragments) if (v === c) this.fragments.delete(k);
    this.markersChanged();
  }

  get size(): number {
    return this.sinks.size;
  }

  /** Packets of unknown sources kept now, and their bytes. */
  get keeping(): { packets: number; bytes: number } {
    return { packets: this.kept.length - this.keptHead, bytes: this.keptBytes };
  }

  readonly packet: PacketSink['packet'] = (buf, offset, caplen, origlen, tsSec, tsNsec, linkType) => {
    const l = this.link,
      ip = this.ip;
    if (decodeLink(buf, offset, caplen, linkType, l) !== undefined) {
      this.unclaimed++;
      return;
    }
    let key: string | undefined;
    if (l.ethertype === ETHERTYPE_IPV4 && decodeIpv4(buf, l.netOff, l.netEnd, ip) === undefined) {
      key = formatIpv4Number(ipv4Number(buf, ip.protocol === IPPROTO_ICMP ? ip.dstOff : ip.srcOff));
    } else if (l.ethertype === ETHERTYPE_IPV6 && decodeIpv6(buf, l.netOff, l.netEnd, ip) === undefined) {
      key = formatIpv6(buf, ip.protocol === IPPROTO_ICMPV6 ? ip.dstOff : ip.srcOff);
    } else if (l.ethertype === ETHERTYPE_ARP) {
      for (const s of this.sinks.values()) s.packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
      return;
    }
    const sink = key === undefined ? undefined : this.sinks.get(key);
    if (sink) sink.packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
    else if (key !== undefined && ip.protocol === IPPROTO_UDP && this.claimants.size)
      this.stranger(key, buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
    else this.unclaimed++;
  };

  /** UDP from a source nobody registered: a translated source claimed before, claimed now, or kept. */
  private stranger(
    src: string,
    buf: Uint8Array,
    offset: number,
    caplen: number,
    origlen: number,
    tsSec: number,
    tsNsec: number,
    linkType: number,
  ): void {
    const ip = this.ip,
      udp = this.udp;
    const fragId = ip.fragmented ? ip.fragId : -1;
    let owner: Claimant | undefined;
    let port = -1;
    if (ip.fragmented && ip.fragOffset !== 0) {
      owner = this.fragments.get(`${src}/${fragId}`);
    } else {
      if (decodeUdp(buf, ip.l4Off, ip.l4End, udp) !== undefined) {
        this.unclaimed++;
        return;
      }
      port = udp.srcPort;
      owner = this.translated.get(`${src} ${port}`) ?? this.claim(src, port, buf);
    }
    if (owner) {
      this.deliver(owner, src, fragId, buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
      return;
    }
    this.unclaimed++;
    this.keep({
      n: ++this.strangers,
      bytes: copyOf(buf, offset, caplen),
      origlen,
      tsSec,
      tsNsec,
      linkType,
      src,
      port,
      fragId,
    });
  }

  private deliver(
    c: Claimant,
    src: string,
    fragId: number,
    buf: Uint8Array,
    offset: number,
    caplen: number,
    origlen: number,
    tsSec: number,
    tsNsec: number,
    linkType: number,
  ): void {
    // A first fragment: its later ones (no UDP header, so no port) follow it to the same sender.
    if (fragId >= 0 && this.ip.fragOffset === 0 && this.ip.fragMore) this.expectFragments(src, fragId, c);
    c.sink.packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
  }

  private expectFragments(src: string, fragId: number, c: Claimant): void {
    if (this.fragments.size >= FRAGMENTS_KEPT) this.fragments.delete(this.fragments.keys().next().value!);
    this.fragments.set(`${src}/${fragId}`, c);
  }

  /**
   * The sender whose marker this datagram (in `this.udp`) carries, to one of its ports: it claims
   * the source from now on, and gets what was kept of it first.
   */
  private claim(src: string, port: number, buf: Uint8Array): Claimant | undefined {
    const u = this.udp;
    if (!this.claimants.size || u.payloadEnd - u.payloadOff < this.prefix.length) return undefined;
    const payload = Buffer.from(buf.buffer, buf.byteOffset + u.payloadOff, u.payloadEnd - u.payloadOff);
    if (this.prefix.length && payload.indexOf(this.prefix) < 0) return undefined;
    let owner: Claimant | undefined;
    for (const c of this.claimants.values())
      if (c.ports.has(u.dstPort) && c.sources.length < CLAIMS_PER_SENDER && payload.indexOf(c.marker) >= 0) {
        owner = c;
        break;
      }
    if (!owner) return undefined;
    const source = `${src} ${port}`;
    owner.sources.push(source);
    this.translated.set(source, owner);
    this.replay(owner, src, port, this.ip.fragmented ? this.ip.fragId : -1);
    return owner;
  }

  /** What was kept of a source just claimed (since its claimant was registered) goes to it, in order. */
  private replay(c: Claimant, src: string, port: number, fragId: number): void {
    const live = this.kept.slice(this.keptHead);
    // The fragmented datagrams of this source (the one claiming it too): their later fragments came alone.
    const ids = new Set(live.filter(k => k.src === src && k.port === port && k.fragId >= 0).map(k => k.fragId));
    if (fragId >= 0) ids.add(fragId);
    const mine = (k: Kept) => k.src === src && (k.port === port || (k.port === -1 && ids.has(k.fragId)));
    if (!live.some(mine)) return;
    this.kept = [];
    this.keptHead = 0;
    this.keptBytes = 0;
    for (const k of live) {
      if (!mine(k)) {
        this.kept.push(k);
        this.keptBytes += k.bytes.length;
      } else if (k.n >= c.since) {
        this.unclaimed--;
        if (k.port !== -1 && k.fragId >= 0) this.expectFragments(src, k.fragId, c);
        c.sink.packet(k.bytes, 0, k.bytes.length, k.origlen, k.tsSec, k.tsNsec, k.linkType);
      }
    }
  }

  private keep(k: Kept): void {
    const max = this.limits;
    if (k.bytes.length > max.bytes || max.packets < 1) return;
    this.kept.push(k);
    this.keptBytes += k.bytes.length;
    while (this.kept.length - this.keptHead > max.packets || this.keptBytes > max.bytes) {
      this.keptBytes -= this.kept[this.keptHead]!.bytes.length;
      this.kept[this.keptHead++] = undefined as unknown as Kept;
    }
    // The dropped front is cut off now and then, not at every packet.
    if (this.keptHead > 1024 && this.keptHead * 2 > this.kept.length) {
      this.kept = this.kept.slice(this.keptHead);
      this.keptHead = 0;
    }
  }

  private markersChanged(): void {
    const markers = [...this.claimants.values()].map(c => c.marker);
    let n = markers[0]?.length ?? 0;
    for (const m of markers.slice(1)) {
      let i = 0;
      while (i < n && i < m.length && m[i] === markers[0]![i]) i++;
      n = i;
    }
    this.prefix = markers.length ? markers[0]!.subarray(0, n) : new Uint8Array(0);
    // Nobody can claim what is kept any more: let it go.
    if (!this.claimants.size) {
      this.kept = [];
      this.keptHead = 0;
      this.keptBytes = 0;
    }
  }
}

function copyOf(buf: Uint8Array, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(buf.subarray(offset, offset + length));
  return out;
}
