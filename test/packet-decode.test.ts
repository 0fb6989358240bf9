import test from 'ava';
import {
  decodeIpv4,
  decodeIpv6,
  decodeLink,
  decodePortUnreachable,
  decodeUdp,
  newIpView,
  newLinkView,
  newUdpView,
} from '../src/decode/packet.js';
import { formatIpv6, normaliseMac } from '../src/decode/addr.js';
import { icmpPortUnreachable, udpFrame } from './helpers/frames.js';

const base = { srcIp: '10.99.0.2', dstIp: '10.99.0.1', srcPort: 6665, dstPort: 6666, payload: 'hi\n' };

// Failures first.
test('link: short frames give reasons, not exceptions', t => {
  const v = newLinkView();
  t.is(decodeLink(Buffer.alloc(10), 0, 10, 1, v), 'ethernet header cut short');
  t.is(decodeLink(Buffer.alloc(10), 0, 10, 113, v), 'linux cooked header cut short');
  t.is(decodeLink(Buffer.alloc(10), 0, 10, 276, v), 'linux cooked v2 header cut short');
  t.is(decodeLink(Buffer.alloc(0), 0, 0, 101, v), 'empty raw IP packet');
  t.is(decodeLink(Buffer.alloc(20), 0, 20, 147, v), 'link type 147 not supported');
  // A tag stack that runs off the end.
  const f = Buffer.alloc(16);
  f.writeUInt16BE(0x8100, 12);
  t.is(decodeLink(f, 0, 16, 1, v), '802.1Q tag cut short');
});

test('ip: bad headers give reasons', t => {
  const v = newIpView();
  t.is(decodeIpv4(Buffer.alloc(10), 0, 10, v), 'IPv4 header cut short');
  const b = Buffer.alloc(20);
  b[0] = 0x44;
  t.is(decodeIpv4(b, 0, 20, v), 'IPv4 header length 16 too small');
  b[0] = 0x45;
  b.writeUInt16BE(10, 2);
  t.is(decodeIpv4(b, 0, 20, v), 'IPv4 total length 10 smaller than its header');
  t.is(decodeIpv6(Buffer.alloc(30), 0, 30, v), 'IPv6 header cut short');
  const u = newUdpView();
  const seg = Buffer.alloc(8);
  seg.writeUInt16BE(4, 4);
  t.is(decodeUdp(seg, 0, 8, u), 'UDP length 4 too small');
});

test('ethernet + 802.1Q + QinQ tags', t => {
  const plain = udpFrame({ ...base });
  const tagged = udpFrame({ ...base, vlan: 42 });
  // Build a QinQ frame by inserting an 802.1ad tag before the 802.1Q one.
  const qinq = Buffer.concat([tagged.subarray(0, 12), Buffer.from([0x88, 0xa8, 0x00, 0x07]), tagged.subarray(12)]);
  for (const [f, vlan] of [
    [plain, -1],
    [tagged, 42],
    [qinq, 7],
  ] as const) {
    const v = newLinkView();
    t.is(decodeLink(f, 0, f.length, 1, v), undefined);
    t.is(v.ethertype, 0x0800);
    t.is(v.vlan, vlan);
    const ip = newIpView();
    t.is(decodeIpv4(f, v.netOff, v.netEnd, ip), undefined);
    const u = newUdpView();
    t.is(decodeUdp(f, ip.l4Off, ip.l4End, u), undefined);
    t.is(u.dstPort, 6666);
    t.is(f.subarray(u.payloadOff, u.payloadEnd).toString(), 'hi\n');
  }
});

test('linux cooked v1 and v2, raw IP', t => {
  const eth = udpFrame({ ...base });
  const ipPart = eth.subarray(14);
  const sll = Buffer.concat([
    Buffer.from([0, 0, 0, 1, 0, 6, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0, 0, 0x08, 0x00]),
    ipPart,
  ]);
  const sll2 = Buffer.concat([
    Buffer.from([0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0, 0]),
    ipPart,
  ]);
  for (const [f, lt, srcMac] of [
    [sll, 113, 6],
    [sll2, 276, 12],
    [ipPart, 101, -1],
  ] as const) {
    const v = newLinkView();
    t.is(decodeLink(f, 0, f.length, lt, v), undefined, `link type ${lt}`);
    t.is(v.ethertype, 0x0800);
    t.is(v.srcMacOff, srcMac);
    t.is(v.dstMacOff, -1);
  }
});

test('IPv6 with a hop-by-hop header and a fragment header', t => {
  const f = udpFrame({ ...base, srcIp: 'fd00::2', dstIp: 'fd00::1' });
  const ip6 = Buffer.from(f.subarray(14));
  // Insert hop-by-hop (8 bytes) then fragment header (8 bytes, offset 0, M=0, id 77).
  const udp = ip6.subarray(40);
  const hbh = Buffer.from([44, 0, 1, 4, 0, 0, 0, 0]);
  const frag = Buffer.from([17, 0, 0, 0, 0, 0, 0, 77]);
  const hdr = Buffer.from(ip6.subarray(0, 40));
  hdr[6] = 0;
  hdr.writeUInt16BE(udp.length + 16, 4);
  const pkt = Buffer.concat([hdr, hbh, frag, udp]);
  const v = newIpView();
  t.is(decodeIpv6(pkt, 0, pkt.length, v), undefined);
  t.is(v.protocol, 17);
  t.true(v.fragmented);
  t.is(v.fragId, 77);
  t.is(v.l4Off, 56);
  t.is(formatIpv6(pkt, v.srcOff), 'fd00::2');
});

test('ICMP port unreachable quotes the datagram', t => {
  const orig = udpFrame({ ...base, dstPort: 514 });
  const icmp = icmpPortUnreachable(orig, '52:54:00:ab:cd:ef', '52:54:00:12:34:56');
  const ip = newIpView();
  t.is(decodeIpv4(icmp, 14, icmp.length, ip), undefined);
  const q = decodePortUnreachable(icmp, ip.l4Off, ip.l4End, false);
  t.truthy(q);
  t.is(q!.dstPort, 514);
  t.is(q!.srcPort, 6665);
  t.is(icmp.subarray(q!.dstOff, q!.dstOff + 4).join('.'), '10.99.0.1');
});

test('addresses: IPv6 short form and MAC normalisation', t => {
  const b = Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  t.is(formatIpv6(b, 0), '2001:db8::1');
  t.is(formatIpv6(Buffer.alloc(16), 0), '::');
  t.is(normaliseMac('00-0C-29-86-DC-7A'), '00:0c:29:86:dc:7a');
  t.is(normaliseMac('000c.2986.dc7a'), '00:0c:29:86:dc:7a');
  t.is(normaliseMac('00:0c:29'), undefined);
});
