/**
 * One capture, many senders: hands each packet to the sink registered for the IP it concerns,
 * the source of a datagram, or the destination of an ICMP error (the receiver answering a
 * sender). So each sender's pipeline sees exactly what a capture filtered on that sender would
 * have shown it, numbered from 1. ARP goes to every sink (it says who is where); anything else,
 * and packets of IPs nobody registered, are counted and dropped. Pure.
 */
import type { PacketSink } from './sink.js';
import { canonicalIp, formatIpv4Number, formatIpv6, ipv4Number } from '../decode/addr.js';
import {
  decodeIpv4,
  decodeIpv6,
  decodeLink,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  newIpView,
  newLinkView,
} from '../decode/packet.js';

export class SourceDemux implements PacketSink {
  private readonly sinks = new Map<string, PacketSink>();
  private readonly link = newLinkView();
  private readonly ip = newIpView();
  /** Packets no registered sink wanted. */
  unclaimed = 0;

  /** Registers the sink for an IP (as the decoders format it); false when another holds it. */
  add(ip: string, sink: PacketSink): boolean {
    const key = canonicalIp(ip);
    if (this.sinks.has(key)) return false;
    this.sinks.set(key, sink);
    return true;
  }

  remove(ip: string): void {
    this.sinks.delete(canonicalIp(ip));
  }

  get size(): number {
    return this.sinks.size;
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
    else this.unclaimed++;
  };
}
