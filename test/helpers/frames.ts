/**
 * Encoders, the inverse of src/decode/packet.ts: Ethernet (optionally 802.1Q-tagged) frames
 * carrying IPv4 or IPv6 UDP, ARP replies and ICMP port unreachable, and a classic pcap file in
 * memory. Used by the tests, the benchmark's capture generator and scripts/make-synth-fixtures.ts
 * (not by netdiag itself); anything made with them is synthesised.
 */
import { isIPv4 } from 'node:net';
import { PCAP_RECORD_HEADER_LEN, pcapFileHeader, writePcapRecordHeader } from '../../src/capture/format.js';

export interface UdpFrameSpec {
  srcMac?: string;
  dstMac?: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array | string;
  vlan?: number;
  /** IPv4 fragment fields, for fragment tests: byte offset and more-fragments flag; id. */
  ipId?: number;
  /** IPv4 TTL or IPv6 hop limit (default 64: a sender on this link; netconsole's IPv6 sends 32). */
  ttl?: number;
}

/** The lab's flow in the synthesised captures: sender 10.99.0.2:6665 to 10.99.0.1:6666, both MACs. */
export const LAB_FLOW = {
  srcIp: '10.99.0.2',
  dstIp: '10.99.0.1',
  srcPort: 6665,
  dstPort: 6666,
  srcMac: '52:54:00:12:34:56',
  dstMac: '52:54:00:ab:cd:ef',
} as const satisfies Omit<UdpFrameSpec, 'payload'>;

function macBytes(mac: string): number[] {
  return mac.split(':').map(h => parseInt(h, 16));
}

function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

function ipv6Bytes(ip: string): number[] {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap(g => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]);
}

function checksum(b: Buffer, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(srcMac: string, dstMac: string, type: number, vlan: number | undefined, body: Buffer): Buffer {
  const tag = vlan !== undefined ? 4 : 0;
  const f = Buffer.alloc(14 + tag + body.length);
  Buffer.from(macBytes(dstMac)).copy(f, 0);
  Buffer.from(macBytes(srcMac)).copy(f, 6);
  if (vlan !== undefined) {
    f.writeUInt16BE(0x8100, 12);
    f.writeUInt16BE(vlan & 0x0fff, 14);
  }
  f.writeUInt16BE(type, 12 + tag);
  body.copy(f, 14 + tag);
  return f;
}

/** An IPv4 header around `payload` (the transport segment). */
export function ipv4Packet(
  srcIp: string,
  dstIp: string,
  protocol: number,
  payload: Buffer,
  opts: { id?: number; fragOffset?: number; more?: boolean; ttl?: number } = {},
): Buffer {
  const p = Buffer.alloc(20 + payload.length);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p.writeUInt16BE(opts.id ?? 0, 4);
  p.writeUInt16BE(((opts.fragOffset ?? 0) >> 3) | (opts.more ? 0x2000 : 0), 6);
  p[8] = opts.ttl ?? 64;
  p[9] = protocol;
  Buffer.from(ipv4Bytes(srcIp)).copy(p, 12);
  Buffer.from(ipv4Bytes(dstIp)).copy(p, 16);
  p.writeUInt16BE(checksum(p, 0, 20), 10);
  payload.copy(p, 20);
  return p;
}

function ipv6Packet(srcIp: string, dstIp: string, next: number, payload: Buffer, hopLimit = 64): Buffer {
  const p = Buffer.alloc(40 + payload.length);
  p[0] = 0x60;
  p.writeUInt16BE(payload.length, 4);
  p[6] = next;
  p[7] = hopLimit;
  Buffer.from(ipv6Bytes(srcIp)).copy(p, 8);
  Buffer.from(ipv6Bytes(dstIp)).copy(p, 24);
  payload.copy(p, 40);
  return p;
}

export function udpSegment(srcPort: number, dstPort: number, payload: Uint8Array | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : Buffer.from(payload);
  const u = Buffer.alloc(8 + data.length);
  u.writeUInt16BE(srcPort, 0);
  u.writeUInt16BE(dstPort, 2);
  u.writeUInt16BE(u.length, 4);
  data.copy(u, 8);
  return u;
}

const DEFAULT_SRC_MAC = '52:54:00:12:34:56';
const DEFAULT_DST_MAC = '52:54:00:ab:cd:ef';

/** An Ethernet frame with a UDP datagram (IPv4 or IPv6, by the addresses). */
export function udpFrame(s: UdpFrameSpec): Buffer {
  const udp = udpSegment(s.srcPort, s.dstPort, s.payload);
  const v4 = isIPv4(s.srcIp);
  const ip = v4
    ? ipv4Packet(s.srcIp, s.dstIp, 17, udp, { id: s.ipId ?? 0, ...(s.ttl !== undefined ? { ttl: s.ttl } : {}) })
    : ipv6Packet(s.srcIp, s.dstIp, 17, udp, s.ttl);
  return ethernet(s.srcMac ?? DEFAULT_SRC_MAC, s.dstMac ?? DEFAULT_DST_MAC, v4 ? 0x0800 : 0x86dd, s.vlan, ip);
}

/** IPv4 fragments of one UDP datagram, each carrying at most `chunk` bytes (a multiple of 8). */
export function udpFragments(s: UdpFrameSpec, chunk: number, id: number): Buffer[] {
  const udp = udpSegment(s.srcPort, s.dstPort, s.payload);
  const out: Buffer[] = [];
  for (let off = 0; off < udp.length; off += chunk) {
    const part = udp.subarray(off, off + chunk);
    const ip = ipv4Packet(s.srcIp, s.dstIp, 17, Buffer.from(part), {
      id,
      fragOffset: off,
      more: off + chunk < udp.length,
    });
    out.push(ethernet(s.srcMac ?? DEFAULT_SRC_MAC, s.dstMac ?? DEFAULT_DST_MAC, 0x0800, s.vlan, ip));
  }
  return out;
}

/** The ICMP port unreachable a receiver sends back for `original` (an IPv4 UDP frame from udpFrame). */
export function icmpPortUnreachable(original: Buffer, fromMac: string, toMac: string): Buffer {
  return icmpUnreachable(original, fromMac, toMac, { quote: 28 + 64 });
}

/**
 * An ICMP destination unreachable (type 3) or, for an IPv6 `original`, ICMPv6 (type 1) about
 * `original` (a UDP frame from udpFrame, untagged), with `code` (default: port unreachable),
 * sent by `fromIp` (default: the datagram's destination) and quoting `quote` bytes of it.
 */
export function icmpUnreachable(
  original: Buffer,
  fromMac: string,
  toMac: string,
  opts: { code?: number; fromIp?: string; quote?: number } = {},
): Buffer {
  const origIp = original.subarray(14);
  const v6 = origIp[0]! >> 4 === 6;
  const srcIp = opts.fromIp ?? (v6 ? ipv6Text(origIp.subarray(24, 40)) : origIp.subarray(16, 20).join('.'));
  const dstIp = v6 ? ipv6Text(origIp.subarray(8, 24)) : origIp.subarray(12, 16).join('.');
  const quoted = origIp.subarray(0, Math.min(origIp.length, opts.quote ?? (v6 ? 1232 : 548)));
  const icmp = Buffer.alloc(8 + quoted.length);
  icmp[0] = v6 ? 1 : 3;
  icmp[1] = opts.code ?? (v6 ? 4 : 3);
  quoted.copy(icmp, 8);
  if (!v6) {
    icmp.writeUInt16BE(checksum(icmp, 0, icmp.length), 2);
    return ethernet(fromMac, toMac, 0x0800, undefined, ipv4Packet(srcIp, dstIp, 1, icmp));
  }
  // ICMPv6's checksum covers a pseudo-header: addresses, length, next header.
  const pseudo = Buffer.concat([
    Buffer.from(ipv6Bytes(srcIp)),
    Buffer.from(ipv6Bytes(dstIp)),
    Buffer.from([0, 0, icmp.length >> 8, icmp.length & 255, 0, 0, 0, 58]),
    icmp,
  ]);
  icmp.writeUInt16BE(checksum(pseudo, 0, pseudo.length), 2);
  return ethernet(fromMac, toMac, 0x86dd, undefined, ipv6Packet(srcIp, dstIp, 58, icmp));
}

function ipv6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}

/** An ARP reply: `ip` is at `mac`. */
export function arpReply(mac: string, ip: string, toMac: string, toIp: string): Buffer {
  const a = Buffer.alloc(28);
  a.writeUInt16BE(1, 0);
  a.writeUInt16BE(0x0800, 2);
  a[4] = 6;
  a[5] = 4;
  a.writeUInt16BE(2, 6);
  Buffer.from(macBytes(mac)).copy(a, 8);
  Buffer.from(ipv4Bytes(ip)).copy(a, 14);
  Buffer.from(macBytes(toMac)).copy(a, 18);
  Buffer.from(ipv4Bytes(toIp)).copy(a, 24);
  return ethernet(mac, toMac, 0x0806, undefined, a);
}

export interface PcapRecord {
  data: Uint8Array;
  sec: number;
  usec: number;
  origlen?: number;
}

/** A classic microsecond pcap file (little-endian) in memory. */
export function pcapFile(records: readonly PcapRecord[], linkType = 1): Buffer {
  const parts: Buffer[] = [pcapFileHeader(linkType, 262144)];
  for (const r of records) {
    const rh = Buffer.alloc(PCAP_RECORD_HEADER_LEN);
    writePcapRecordHeader(rh, 0, r.sec, r.usec, r.data.length, r.origlen ?? r.data.length);
    parts.push(rh, Buffer.from(r.data));
  }
  return Buffer.concat(parts);
}
