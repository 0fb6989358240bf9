/**
 * Decoders for the layers below netconsole: link (Ethernet with 802.1Q/QinQ tags, Linux cooked
 * v1 and v2, raw IP, BSD null), IPv4 and IPv6 (with extension headers), UDP, ICMP and ICMPv6
 * destination unreachable (every code, as a table), and ARP. They work on offsets into the
 * caller's buffer and fill reusable views, so the hot path allocates nothing; every read is
 * bounds-checked first, and a failure returns a reason instead of throwing.
 */

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LOOP = 108;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;
const LINKTYPE_LINUX_SLL2 = 276;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

/** What the link layer says: where the network layer starts and what it is. */
export interface LinkView {
  /** Offset of the destination MAC, or -1 when the link type has none (cooked, raw). */
  dstMacOff: number;
  /** Offset of the source MAC, or -1. */
  srcMacOff: number;
  /** Ethertype of the network layer (0x0800, 0x86dd, 0x0806, ...). */
  ethertype: number;
  /** Outermost VLAN id, or -1. */
  vlan: number;
  netOff: number;
  netEnd: number;
}

export function newLinkView(): LinkView {
  return { dstMacOff: -1, srcMacOff: -1, ethertype: 0, vlan: -1, netOff: 0, netEnd: 0 };
}

const rd16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;

/** Fills `v`; returns undefined on success or a reason. */
export function decodeLink(
  buf: Uint8Array,
  off: number,
  len: number,
  linkType: number,
  v: LinkView,
): string | undefined {
  const end = off + len;
  v.dstMacOff = -1;
  v.srcMacOff = -1;
  v.vlan = -1;
  v.netEnd = end;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (len < 14) return 'ethernet header cut short';
      v.dstMacOff = off;
      v.srcMacOff = off + 6;
      let p = off + 12;
      let type = rd16(buf, p);
      let tags = 0;
      while ((type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) && tags < 4) {
        if (p + 6 > end) return '802.1Q tag cut short';
        if (v.vlan < 0) v.vlan = rd16(buf, p + 2) & 0x0fff;
        p += 4;
        type = rd16(buf, p);
        tags++;
      }
      v.ethertype = type;
      v.netOff = p + 2;
      return undefined;
    }
    case LINKTYPE_LINUX_SLL: {
      if (len < 16) return 'linux cooked header cut short';
      const alen = rd16(buf, off + 4);
      if (alen === 6) v.srcMacOff = off + 6;
      v.ethertype = rd16(buf, off + 14);
      v.netOff = off + 16;
      return undefined;
    }
    case LINKTYPE_LINUX_SLL2: {
      if (len < 20) return 'linux cooked v2 header cut short';
      const alen = buf[off + 11]!;
      if (alen === 6) v.srcMacOff = off + 12;
      v.ethertype = rd16(buf, off);
      v.netOff = off + 20;
      return undefined;
    }
    case LINKTYPE_RAW:
    case 12: // DLT_RAW as some systems number it
    case 14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      if (len < 1) return 'empty raw IP packet';
      const ver = buf[off]! >> 4;
      v.ethertype = ver === 4 ? ETHERTYPE_IPV4 : ver === 6 ? ETHERTYPE_IPV6 : 0;
      v.netOff = off;
      return v.ethertype ? undefined : `raw packet with IP version ${ver}`;
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (len < 4) return 'loopback header cut short';
      // The address family, in the capturing host's byte order (NULL) or big-endian (LOOP).
      const le = buf[off]! | (buf[off + 1]! << 8);
      const be = rd16(buf, off + 2);
      const af = linkType === LINKTYPE_LOOP ? be : le || be;
      v.ethertype = af === 2 ? ETHERTYPE_IPV4 : af === 10 || af === 24 || af === 28 || af === 30 ? ETHERTYPE_IPV6 : 0;
      v.netOff = off + 4;
      return v.ethertype ? undefined : `loopback family ${af}`;
    }
    default:
      return `link type ${linkType} not supported`;
  }
}

/** The network layer: addresses by offset, the transport payload's range, fragment data. */
export interface IpView {
  version: 4 | 6;
  /** Offsets of the addresses in the buffer (4 or 16 bytes). */
  srcOff: number;
  dstOff: number;
  protocol: number;
  /** Transport header offset and end (bounded by both the IP length and the captured bytes). */
  l4Off: number;
  l4End: number;
  /** True when the captured bytes end before the IP length says (snapshot length). */
  cut: boolean;
  /** Fragment: offset in bytes, more-fragments flag, identification. `fragmented` false for whole datagrams. */
  fragmented: boolean;
  fragOffset: number;
  fragMore: boolean;
  fragId: number;
}

export function newIpView(): IpView {
  return {
    version: 4,
    srcOff: 0,
    dstOff: 0,
    protocol: 0,
    l4Off: 0,
    l4End: 0,
    cut: false,
    fragmented: false,
    fragOffset: 0,
    fragMore: false,
    fragId: 0,
  };
}

export function decodeIpv4(buf: Uint8Array, off: number, end: number, v: IpView): string | undefined {
  if (off + 20 > end) return 'IPv4 header cut short';
  const b0 = buf[off]!;
  if (b0 >> 4 !== 4) return 'not IPv4';
  const ihl = (b0 & 15) * 4;
  if (ihl < 20) return `IPv4 header length ${ihl} too small`;
  if (off + ihl > end) return 'IPv4 options cut short';
  const total = rd16(buf, off + 2);
  if (total < ihl) return `IPv4 total length ${total} smaller than its header`;
  v.version = 4;
  v.srcOff = off + 12;
  v.dstOff = off + 16;
  v.protocol = buf[off + 9]!;
  v.l4Off = off + ihl;
  const ipEnd = off + total;
  v.cut = ipEnd > end;
  v.l4End = v.cut ? end : ipEnd;
  const ff = rd16(buf, off + 6);
  v.fragOffset = (ff & 0x1fff) * 8;
  v.fragMore = (ff & 0x2000) !== 0;
  v.fragmented = v.fragMore || v.fragOffset !== 0;
  v.fragId = rd16(buf, off + 4);
  return undefined;
}

export function decodeIpv6(buf: Uint8Array, off: number, end: number, v: IpView): string | undefined {
  if (off + 40 > end) return 'IPv6 header cut short';
  if (buf[off]! >> 4 !== 6) return 'not IPv6';
  v.version = 6;
  v.srcOff = off + 8;
  v.dstOff = off + 24;
  const payloadLen = rd16(buf, off + 4);
  const ipEnd = off + 40 + payloadLen;
  v.cut = ipEnd > end;
  const limit = v.cut ? end : ipEnd;
  v.fragmented = false;
  v.fragOffset = 0;
  v.fragMore = false;
  v.fragId = 0;
  let next = buf[off + 6]!;
  let p = off + 40;
  // Walk the extension headers; a bounded number of them.
  for (let i = 0; i < 16; i++) {
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (p + 8 > limit) return 'IPv6 extension header cut short';
      const hdrNext = buf[p]!;
      p += (buf[p + 1]! + 1) * 8;
      next = hdrNext;
    } else if (next === 44) {
      if (p + 8 > limit) return 'IPv6 fragment header cut short';
      const hdrNext = buf[p]!;
      const fo = rd16(buf, p + 2);
      v.fragmented = true;
      v.fragOffset = fo & 0xfff8;
      v.fragMore = (fo & 1) === 1;
      v.fragId = ((buf[p + 4]! << 24) >>> 0) + (buf[p + 5]! << 16) + (buf[p + 6]! << 8) + buf[p + 7]!;
      p += 8;
      next = hdrNext;
      // The rest is fragment data: its next header is only meaningful in the first fragment.
      break;
    } else if (next === 51) {
      if (p + 8 > limit) return 'IPv6 AH header cut short';
      const hdrNext = buf[p]!;
      p += (buf[p + 1]! + 2) * 4;
      next = hdrNext;
    } else {
      break;
    }
    if (p > limit) return 'IPv6 extension headers longer than the packet';
  }
  v.protocol = next;
  v.l4Off = p;
  v.l4End = limit;
  return undefined;
}

export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** A UDP header: ports and the payload's range (bounded by the UDP length and the bytes at hand). */
export interface UdpView {
  srcPort: number;
  dstPort: number;
  payloadOff: number;
  payloadEnd: number;
  /** UDP length says more bytes than are there. */
  cut: boolean;
}

export function newUdpView(): UdpView {
  return { srcPort: 0, dstPort: 0, payloadOff: 0, payloadEnd: 0, cut: false };
}

export function decodeUdp(buf: Uint8Array, off: number, end: number, v: UdpView): string | undefined {
  if (off + 8 > end) return 'UDP header cut short';
  v.srcPort = rd16(buf, off);
  v.dstPort = rd16(buf, off + 2);
  const ulen = rd16(buf, off + 4);
  // Length 0 is legal for IPv6 jumbograms; take what the IP layer gave.
  if (ulen !== 0 && ulen < 8) return `UDP length ${ulen} too small`;
  v.payloadOff = off + 8;
  const uEnd = ulen === 0 ? end : off + ulen;
  v.cut = uEnd > end;
  v.payloadEnd = v.cut ? end : uEnd;
  return undefined;
}

/** The datagram an ICMP destination unreachable quotes: who sent it, to where. */
export interface QuotedDatagram {
  version: 4 | 6;
  srcOff: number;
  dstOff: number;
  srcPort: number;
  dstPort: number;
}

/**
 * What a destination-unreachable code says: `port` (nothing listens, or a REJECT with the port
 * code), `prohibited` (a firewall said no), `unreachable` (the network, or a firewall imitating
 * it, could not deliver).
 */
type UnreachableKind = 'port' | 'prohibited' | 'unreachable';

interface UnreachableCode {
  kind: UnreachableKind;
  /** As iptables/nft name the answer where they can send it (`icmp-host-prohibited`). */
  name: string;
}

/** ICMP type 3 codes (RFC 792, RFC 1812): one row each; a code not listed is `unreachable`. */
const ICMP_UNREACHABLE_CODES: ReadonlyMap<number, UnreachableCode> = new Map([
  [0, { kind: 'unreachable', name: 'net unreachable (icmp-net-unreachable)' }],
  [1, { kind: 'unreachable', name: 'host unreachable (icmp-host-unreachable)' }],
  [2, { kind: 'unreachable', name: 'protocol unreachable (icmp-proto-unreachable)' }],
  [3, { kind: 'port', name: 'port unreachable (icmp-port-unreachable)' }],
  [4, { kind: 'unreachable', name: 'fragmentation needed' }],
  [9, { kind: 'prohibited', name: 'net prohibited (icmp-net-prohibited)' }],
  [10, { kind: 'prohibited', name: 'host prohibited (icmp-host-prohibited)' }],
  [13, { kind: 'prohibited', name: 'administratively prohibited (icmp-admin-prohibited)' }],
]);

/** ICMPv6 type 1 codes (RFC 4443): one row each; a code not listed is `unreachable`. */
const ICMPV6_UNREACHABLE_CODES: ReadonlyMap<number, UnreachableCode> = new Map([
  [0, { kind: 'unreachable', name: 'no route to destination (icmp6-no-route)' }],
  [1, { kind: 'prohibited', name: 'administratively prohibited (icmp6-adm-prohibited)' }],
  [3, { kind: 'unreachable', name: 'address unreachable (icmp6-addr-unreachable)' }],
  [4, { kind: 'port', name: 'port unreachable (icmp6-port-unreachable)' }],
  [5, { kind: 'prohibited', name: 'source address failed ingress/egress policy (policy-fail)' }],
  [6, { kind: 'prohibited', name: 'reject route to destination (reject-route)' }],
]);

/** An ICMP or ICMPv6 destination unreachable about a UDP datagram. */
export interface UnreachableAnswer extends QuotedDatagram, UnreachableCode {
  code: number;
  /** The quoted UDP payload's bytes that the answer carries (Linux quotes up to 576 bytes in all). */
  payloadOff: number;
  payloadEnd: number;
}

/**
 * ICMP type 3 or ICMPv6 type 1 quoting a UDP datagram: its addresses, ports and as much of its
 * payload as was quoted, with what the code says; undefined for any other ICMP message, or one
 * too short to say.
 */
export function decodeUnreachable(
  buf: Uint8Array,
  off: number,
  end: number,
  v6: boolean,
): UnreachableAnswer | undefined {
  if (off + 8 > end) return undefined;
  const type = buf[off]!,
    code = buf[off + 1]!;
  const inner = off + 8;
  let q: QuotedDatagram, udpOff: number;
  if (!v6) {
    if (type !== 3) return undefined;
    if (inner + 20 > end || buf[inner]! >> 4 !== 4) return undefined;
    const ihl = (buf[inner]! & 15) * 4;
    if (ihl < 20 || buf[inner + 9] !== IPPROTO_UDP || inner + ihl + 4 > end) return undefined;
    udpOff = inner + ihl;
    q = {
      version: 4,
      srcOff: inner + 12,
      dstOff: inner + 16,
      srcPort: rd16(buf, udpOff),
      dstPort: rd16(buf, udpOff + 2),
    };
  } else {
    if (type !== 1) return undefined;
    if (inner + 40 > end || buf[inner]! >> 4 !== 6) return undefined;
    if (buf[inner + 6] !== IPPROTO_UDP || inner + 44 > end) return undefined;
    udpOff = inner + 40;
    q = {
      version: 6,
      srcOff: inner + 8,
      dstOff: inner + 24,
      srcPort: rd16(buf, udpOff),
      dstPort: rd16(buf, udpOff + 2),
    };
  }
  const known = (v6 ? ICMPV6_UNREACHABLE_CODES : ICMP_UNREACHABLE_CODES).get(code);
  const payloadOff = Math.min(udpOff + 8, end);
  return {
    ...q,
    code,
    kind: known?.kind ?? 'unreachable',
    name: known?.name ?? `unreachable code ${code}`,
    payloadOff,
    payloadEnd: end,
  };
}

/**
 * ICMP type 3 code 3, or ICMPv6 type 1 code 4: returns the quoted UDP datagram's addresses and
 * ports, or undefined when this is not a port unreachable about UDP (or is too short to say).
 */
export function decodePortUnreachable(
  buf: Uint8Array,
  off: number,
  end: number,
  v6: boolean,
): QuotedDatagram | undefined {
  const a = decodeUnreachable(buf, off, end, v6);
  return a?.kind === 'port' ? a : undefined;
}

/** An ARP packet over Ethernet/IPv4: who has which MAC. */
export function decodeArp(
  buf: Uint8Array,
  off: number,
  end: number,
): { senderMacOff: number; senderIpOff: number } | undefined {
  if (off + 28 > end) return undefined;
  if (rd16(buf, off) !== 1 || rd16(buf, off + 2) !== ETHERTYPE_IPV4 || buf[off + 4] !== 6 || buf[off + 5] !== 4)
    return undefined;
  return { senderMacOff: off + 8, senderIpOff: off + 14 };
}
