/**
 * The one pipeline behind analyze, sniff and verify: packets in (from any PacketSink source),
 * messages and findings out. This file is the dispatch: link → IP (fragments reassembled,
 * ipfrag.ts) → UDP to a netconsole port → the sender's flow (flow-table.ts) → netconsole record →
 * ncfrag reassembly (ncfrag.ts) or line joining (line-join.ts) → message. ICMP destination
 * unreachable and ARP are kept as evidence. The checks over what was gathered (wire-findings.ts) run in `finish`.
 */
import type { CaptureSummary, PacketSink } from '../capture/sink.js';
import {
  decodeArp,
  decodeIpv4,
  decodeIpv6,
  decodeLink,
  decodeUdp,
  decodeUnreachable,
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
import {
  decodeKernelHeader,
  decodeNetconsole,
  decodePlain,
  looksLikeNetconsole,
  newKernelHeaderView,
  newPlainView,
} from '../decode/netconsole.js';
import { endpoint, formatIpv4Number, formatIpv6, formatMacNum, macNum } from '../decode/addr.js';
import { watchedPorts } from '../config/target.js';
import type { Flow } from './flow.js';
import { FlowTable } from './flow-table.js';
import { IpReassembler } from './ipfrag.js';
import { LineJoiner } from './line-join.js';
import { NcfragBudget, NcfragReassembly } from './ncfrag.js';
import { type AnswerKind, IcmpAnswers, PacketSample } from './sample.js';
import { wireFindings } from './wire-findings.js';
import { isBootStart, MessageMaker } from './messages.js';
import type { AnalysisResult, Pipeline, PipelineOptions, PipelineState, Timestamp } from './types.js';

function readIp4(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
}

export function createPipeline(opts: PipelineOptions = {}): Pipeline {
  // --port restricts to its ports. Without it: the usual ports and the configured targets', and
  // netconsole recognised by its content on any other port.
  const restricted = (opts.ports?.length ?? 0) > 0;
  const ports = new Uint8Array(65536);
  const watched = watchedPorts(opts.ports, opts.targets);
  for (const p of watched) ports[p] = 1;
  // The same ports listed in order for the findings, from the short list rather than by walking all 65,536.
  const watchedInOrder = watched.filter(p => ports[p] === 1).sort((a, b) => a - b);
  const onMessage = opts.onMessage;
  const joinWindowNs = (opts.joinWindowMs ?? 1000) * 1e6;

  const link = newLinkView();
  const ip = newIpView();
  const udp = newUdpView();
  const kernelHeader = newKernelHeaderView();
  const plain = newPlainView();
  const reasm = new IpReassembler();
  const table = new FlowTable();
  const fragBudget = new NcfragBudget();

  const state: PipelineState = {
    packets: 0,
    datagrams: 0,
    messages: 0,
    flows: table.all,
    ipMacs: new Map(),
    strayAnswers: new Map(),
    ipFragAbandoned: reasm.abandoned,
    linkErrors: new PacketSample(),
    linkErrorReasons: new Set(),
    internalErrors: new PacketSample(),
    internalErrorReasons: new Set(),
    flowOverflow: new PacketSample(),
  };
  const make = new MessageMaker(
    state,
    onMessage,
    onMessage ? opts.onMessageBytes : undefined,
    opts.messageBytesChecked === true,
    opts.messageBytesJoined === true,
  );

  function learnMac(ipStr: string, mac: number, packet: number): void {
    let m = state.ipMacs.get(ipStr);
    if (!m) state.ipMacs.set(ipStr, (m = new Map<number, PacketSample>()));
    let s = m.get(mac);
    if (!s) {
      if (m.size >= 16) return;
      m.set(mac, (s = new PacketSample()));
    }
    s.add(packet);
  }

  function linkError(reason: string): void {
    state.linkErrors.add(state.packets);
    if (state.linkErrorReasons.size < 20) state.linkErrorReasons.add(reason);
  }

  /**
   * One packet in. A throw here is a bug in netdiag, never the sender's fault: it is counted and
   * reported (internal-error), and the capture goes on, so one odd packet cannot end a live
   * capture or a verify.
   */
  const packet: PacketSink['packet'] = (buf, offset, caplen, origlen, tsSec, tsNsec, linkType) => {
    try {
      processPacket(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
    } catch (e) {
      state.internalErrors.add(state.packets);
      if (state.internalErrorReasons.size < 5) state.internalErrorReasons.add((e as Error)?.message ?? String(e));
    }
  };

  const processPacket: PacketSink['packet'] = (buf, offset, caplen, origlen, tsSec, tsNsec, linkType) => {
    const no = ++state.packets;
    const err = decodeLink(buf, offset, caplen, linkType, link);
    if (err !== undefined) return linkError(err);
    const et = link.ethertype;
    if (et === ETHERTYPE_IPV4) {
      if (decodeIpv4(buf, link.netOff, link.netEnd, ip) !== undefined) return;
    } else if (et === ETHERTYPE_IPV6) {
      if (decodeIpv6(buf, link.netOff, link.netEnd, ip) !== undefined) return;
    } else {
      if (et === ETHERTYPE_ARP && link.srcMacOff >= 0) arp(buf, no);
      return;
    }
    const v6 = ip.version === 6;
    // Frames from a flow's destination tell which MAC that IP is reached at. Datagrams to a
    // netconsole port come from senders: skip the look-up for them (the hot path).
    const toNetconsole =
      ip.protocol === IPPROTO_UDP &&
      !ip.fragmented &&
      ip.l4Off + 4 <= ip.l4End &&
      ports[(buf[ip.l4Off + 2]! << 8) | buf[ip.l4Off + 3]!] === 1;
    if (link.srcMacOff >= 0 && !toNetconsole) {
      if (!v6) {
        const src = readIp4(buf, ip.srcOff);
        if (table.isDestination4(src)) learnMac(formatIpv4Number(src), macNum(buf, link.srcMacOff), no);
      } else if (table.hasDestinations6) {
        const src = formatIpv6(buf, ip.srcOff);
        if (table.isDestination6(src)) learnMac(src, macNum(buf, link.srcMacOff), no);
      }
    }
    let l4buf: Uint8Array = buf,
      l4Off = ip.l4Off,
      l4End = ip.l4End;
    const proto = ip.protocol;
    if (ip.fragmented) {
      if (proto !== IPPROTO_UDP && !(ip.fragOffset > 0)) return;
      const src = v6 ? formatIpv6(buf, ip.srcOff) : formatIpv4Number(readIp4(buf, ip.srcOff));
      const dst = v6 ? formatIpv6(buf, ip.dstOff) : formatIpv4Number(readIp4(buf, ip.dstOff));
      const whole = reasm.add(
        `${ip.version}|${src}|${dst}|${ip.fragId}|${proto}`,
        ip.fragOffset,
        ip.fragMore,
        buf.subarray(l4Off, l4End),
        tsSec,
        no,
      );
      if (!whole || proto !== IPPROTO_UDP) return;
      l4buf = whole.data;
      l4Off = 0;
      l4End = whole.data.length;
    }
    if (proto === IPPROTO_UDP) {
      if (decodeUdp(l4buf, l4Off, l4End, udp) !== undefined) return;
      if (!ports[udp.dstPort] && !recognised(buf, l4buf)) return;
      datagram(buf, l4buf, no, tsSec, tsNsec, caplen < origlen || ip.cut || udp.cut);
    } else if ((proto === IPPROTO_ICMP && !v6) || (proto === IPPROTO_ICMPV6 && v6)) {
      icmp(buf, l4Off, l4End, v6, no);
    }
  };

  /** ARP is rare and says exactly who is where: learn it for every IP (bounded). */
  function arp(buf: Uint8Array, no: number): void {
    const a = decodeArp(buf, link.netOff, link.netEnd);
    if (!a) return;
    const ipNum = readIp4(buf, a.senderIpOff);
    if (table.isDestination4(ipNum) || state.ipMacs.size < 4096)
      learnMac(formatIpv4Number(ipNum), macNum(buf, a.senderMacOff), no);
  }

  /**
   * An ICMP destination unreachable quoting a netconsole datagram (to a watched port, of a flow
   * seen, or recognised by the quoted content): evidence for its flow.
   */
  function icmp(buf: Uint8Array, l4Off: number, l4End: number, v6: boolean, no: number): void {
    const a = decodeUnreachable(buf, l4Off, l4End, v6);
    if (!a) return;
    const qs = v6 ? formatIpv6(buf, a.srcOff) : formatIpv4Number(readIp4(buf, a.srcOff));
    const qd = v6 ? formatIpv6(buf, a.dstOff) : formatIpv4Number(readIp4(buf, a.dstOff));
    const flow = table.find(qs, a.srcPort, qd, a.dstPort);
    if (!flow && !ports[a.dstPort] && (restricted || !looksLikeNetconsole(buf, a.payloadOff, a.payloadEnd, true)))
      return;
    const from = v6 ? formatIpv6(buf, ip.srcOff) : formatIpv4Number(readIp4(buf, ip.srcOff));
    // A host does not call itself unreachable: such an answer from the destination is a REJECT.
    const kind: AnswerKind =
      a.kind === 'port' ? 'port' : a.kind === 'prohibited' || from === qd ? 'refused' : 'undeliverable';
    if (flow) return flow.answers[kind].add(no, a.name, from);
    const src = endpoint(qs, a.srcPort),
      dst = endpoint(qd, a.dstPort);
    const key = `${kind}|${src}>${dst}`;
    let s = state.strayAnswers.get(key);
    if (!s) {
      if (state.strayAnswers.size >= 256) return;
      state.strayAnswers.set(key, (s = { kind, src, dst, answers: new IcmpAnswers() }));
    }
    s.answers.add(no, a.name, from);
  }

  /** Whether a datagram to a port not watched is netconsole: recognised by content, or of a flow recognised so. */
  function recognised(buf: Uint8Array, l4buf: Uint8Array): boolean {
    if (restricted) return false;
    if (looksLikeNetconsole(l4buf, udp.payloadOff, udp.payloadEnd, false)) return true;
    if (ip.version === 4)
      return table.get4(readIp4(buf, ip.srcOff), udp.srcPort, readIp4(buf, ip.dstOff), udp.dstPort) !== undefined;
    return table.find(formatIpv6(buf, ip.srcOff), udp.srcPort, formatIpv6(buf, ip.dstOff), udp.dstPort) !== undefined;
  }

  /** Finds or makes the flow of the current datagram (ip and udp views are set). */
  function flowOf(buf: Uint8Array, no: number, sec: number, nsec: number): Flow | undefined {
    if (ip.version === 4)
      return table.ipv4(readIp4(buf, ip.srcOff), udp.srcPort, readIp4(buf, ip.dstOff), udp.dstPort, sec, nsec, no);
    return table.ipv6(formatIpv6(buf, ip.srcOff), udp.srcPort, formatIpv6(buf, ip.dstOff), udp.dstPort, sec, nsec, no);
  }

  /** A UDP datagram to a netconsole port: `buf` holds the IP header (addresses), `l4buf` the UDP segment. */
  function datagram(buf: Uint8Array, l4buf: Uint8Array, no: number, sec: number, nsec: number, cut: boolean): void {
    state.datagrams++;
    const flow = flowOf(buf, no, sec, nsec);
    if (!flow) {
      state.flowOverflow.add(no);
      return;
    }
    if (!ports[udp.dstPort]) flow.unexpectedPort = true;
    flow.packets++;
    flow.lastSec = sec;
    flow.lastNsec = nsec;
    const pOff = udp.payloadOff,
      pEnd = udp.payloadEnd;
    flow.bytes += pEnd - pOff;
    if (cut) flow.truncatedPackets.add(no);
    if (link.dstMacOff >= 0) dstMac(flow, buf, no);
    // The common record, read without allocating: make.extended keeps nothing of its header.
    if (decodeKernelHeader(l4buf, pOff, pEnd, kernelHeader)) {
      flow.extended++;
      const h = kernelHeader.header;
      return make.extended(flow, h, l4buf, kernelHeader.bodyOff, pEnd, sec, nsec, no, undefined, 1, false);
    }
    // A plain line with printk's time (`[` is neither syslog's nor an extended header's start).
    if (pEnd > pOff && l4buf[pOff] === 0x5b && decodePlain(l4buf, pOff, pEnd, plain) < 0) {
      flow.plain++;
      const usec = plain.printkUsec >= 0 ? plain.printkUsec : undefined;
      return linesOf(flow).add(l4buf, pOff, plain.bodyOff, pEnd, plain.newline, usec, sec, nsec, no);
    }
    const rec = decodeNetconsole(l4buf, pOff, pEnd);
    switch (rec.kind) {
      case 'extended': {
        flow.extended++;
        const h = rec.header;
        if (h.frag) {
          // A message's place in the sequence is where its first piece arrived, even when it
          // completes later or never: a lost piece is one incomplete message, not a reordering.
          if (ncfragOf(flow).add(h, l4buf, rec.bodyOff, rec.bodyEnd, { sec, nsec }, no)) {
            const bootStart = h.frag.offset === 0 && isBootStart(l4buf, rec.bodyOff, rec.bodyEnd);
            flow.observeSeq(h.seq, bootStart, no);
          }
          return;
        }
        return make.extended(flow, h, l4buf, rec.bodyOff, rec.bodyEnd, sec, nsec, no, undefined, 1, false);
      }
      case 'plain':
        flow.plain++;
        return linesOf(flow).add(l4buf, pOff, rec.bodyOff, rec.bodyEnd, rec.newline, rec.printkUsec, sec, nsec, no);
      case 'syslog':
        flow.syslog++;
        flow.messages++;
        state.messages++;
        if (onMessage) make.syslog(flow, rec.header, l4buf, rec.bodyOff, rec.bodyEnd, { sec, nsec }, no);
        return;
      case 'malformed':
        flow.malformed++;
        flow.malformedPackets.add(no);
        if (flow.malformedReasons.size < 5) flow.malformedReasons.add(rec.reason);
        if (onMessage) {
          flow.messages++;
          state.messages++;
          onMessage(
            flow.message(
              { sec, nsec },
              'unknown',
              Buffer.from(l4buf.buffer, l4buf.byteOffset + pOff, pEnd - pOff).toString('latin1'),
              [no],
              1,
            ),
          );
        }
        return;
    }
  }

  /** The frame's destination MAC, counted per flow; most frames repeat the last one. */
  function dstMac(flow: Flow, buf: Uint8Array, no: number): void {
    const o = link.dstMacOff;
    const hi = (buf[o]! << 16) | (buf[o + 1]! << 8) | buf[o + 2]!,
      lo = (buf[o + 3]! << 16) | (buf[o + 4]! << 8) | buf[o + 5]!;
    if (hi === flow.lastMacHi && lo === flow.lastMacLo) return flow.lastMacSample?.add(no);
    const mac = hi * 0x1000000 + lo;
    let s = flow.dstMacs.get(mac);
    if (!s && flow.dstMacs.size < 16) {
      flow.dstMacs.set(mac, (s = new PacketSample()));
      flow.dstMacTtl.set(mac, buf[link.netOff + (ip.version === 4 ? 8 : 7)]!);
    }
    s?.add(no);
    flow.lastMacHi = hi;
    flow.lastMacLo = lo;
    flow.lastMacSample = s;
    flow.lastMacStr = formatMacNum(mac);
    if (flow.srcMacNum < 0) {
      flow.srcMacNum = macNum(buf, link.srcMacOff);
      flow.srcMacStr = formatMacNum(flow.srcMacNum);
    }
  }

  function ncfragOf(flow: Flow): NcfragReassembly {
    return (flow.ncfrag ??= new NcfragReassembly(fragBudget, (h, body, end, time, packets, pieces, incomplete) =>
      make.extended(flow, h, body, 0, end, time.sec, time.nsec, packets[0]!, packets, pieces, incomplete),
    ));
  }

  function linesOf(flow: Flow): LineJoiner {
    return (flow.lines ??= new LineJoiner(
      joinWindowNs,
      (buf, tOff, tEnd, printkUsec, sec, nsec, first, packets, parts) =>
        make.plain(flow, buf, tOff, tEnd, printkUsec, sec, nsec, first, packets, parts),
    ));
  }

  function tick(t: Timestamp): void {
    for (const f of state.flows) {
      f.lines?.tick(t);
      f.ncfrag?.expire(t);
    }
  }

  function finish(capture?: CaptureSummary): AnalysisResult {
    for (const f of state.flows) {
      f.lines?.flush();
      f.ncfrag?.flush();
    }
    reasm.flush();
    if (capture) state.capture = capture;
    return wireFindings(state, opts.targets ?? [], watchedInOrder, restricted, opts.local);
  }

  return {
    packet,
    tick,
    counters: () => ({
      packets: state.packets,
      datagrams: state.datagrams,
      messages: state.messages,
      senders: state.flows.length,
    }),
    finish,
  };
}
