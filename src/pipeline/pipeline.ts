/**
 * The one pipeline behind analyze, sniff and verify: packets in (from any PacketSink source),
 * messages and findings out. This file is the dispatch: link → IP (fragments reassembled,
 * ipfrag.ts) → UDP to a netconsole port → the sender's flow (flow-table.ts) → netconsole record →
 * ncfrag reassembly (ncfrag.ts) or line joining (line-join.ts) → message. ICMP destination
 * unreachable and ARP are kept as evidence. The checks over what was gathered (wire-findings.ts) run in `finish`.
 */
import type { CaptureSummary } from '../capture/sink.js';
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
  decodeExtendedBody,
  stripContinuationStamps,
  decodeNetconsole,
  type ExtendedHeader,
  looksLikeNetconsole,
} from '../decode/netconsole.js';
import type { SyslogHeader } from '../decode/syslog.js';
import { endpoint, formatIpv4Number, formatIpv6, formatMacNum, macNum } from '../decode/addr.js';
import { watchedPorts } from '../config/target.js';
import type { Flow } from './flow.js';
import { FlowTable } from './flow-table.js';
import { IpReassembler } from './ipfrag.js';
import { LineJoiner } from './line-join.js';
import { NcfragBudget, NcfragReassembly } from './ncfrag.js';
import { type AnswerKind, IcmpAnswers, PacketSample } from './sample.js';
import { wireFindings } from './wire-findings.js';
import { MessageBytesView, plainTextKind } from './message-bytes.js';
import type { AnalysisResult, Pipeline, PipelineOptions, PipelineState, Timestamp } from './types.js';

const LINUX_VERSION = Buffer.from('Linux version ');
const MSGID = Buffer.from('\n msgid=');

function startsWith(buf: Uint8Array, off: number, end: number, prefix: Uint8Array): boolean {
  if (end - off < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[off + i] !== prefix[i]) return false;
  return true;
}

function readIp4(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
}

/** Whether an extended body has a `msgid=` dictionary line (the text itself has no raw newline). */
function hasMsgid(buf: Uint8Array, off: number, end: number): boolean {
  const nl = buf.indexOf(0x0a, off);
  if (nl < 0 || nl >= end - 1 || buf[nl + 1] !== 0x20) return false;
  return Buffer.from(buf.buffer, buf.byteOffset + nl, end - nl).indexOf(MSGID) >= 0;
}

export function createPipeline(opts: PipelineOptions = {}): Pipeline {
  // --port restricts to its ports. Without it: the usual ports and the configured targets', and
  // netconsole recognised by its content on any other port.
  const restricted = (opts.ports?.length ?? 0) > 0;
  const ports = new Uint8Array(65536);
  for (const p of watchedPorts(opts.ports, opts.targets)) ports[p] = 1;
  const onMessage = opts.onMessage;
  const onBytes = onMessage ? opts.onMessageBytes : undefined;
  const view = new MessageBytesView();
  const joinWindowNs = (opts.joinWindowMs ?? 1000) * 1e6;

  const link = newLinkView();
  const ip = newIpView();
  const udp = newUdpView();
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
  function packet(
    buf: Uint8Array,
    offset: number,
    caplen: number,
    origlen: number,
    tsSec: number,
    tsNsec: number,
    linkType: number,
  ): void {
    try {
      processPacket(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
    } catch (e) {
      state.internalErrors.add(state.packets);
      if (state.internalErrorReasons.size < 5) state.internalErrorReasons.add((e as Error)?.message ?? String(e));
    }
  }

  function processPacket(
    buf: Uint8Array,
    offset: number,
    caplen: number,
    origlen: number,
    tsSec: number,
    tsNsec: number,
    linkType: number,
  ): void {
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
  }

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
    const rec = decodeNetconsole(l4buf, pOff, pEnd);
    switch (rec.kind) {
      case 'extended': {
        flow.extended++;
        const h = rec.header;
        if (h.frag) {
          // A message's place in the sequence is where its first piece arrived, even when it
          // completes later or never: a lost piece is one incomplete message, not a reordering.
          if (ncfragOf(flow).add(h, l4buf, rec.bodyOff, rec.bodyEnd, { sec, nsec }, no)) {
            const bootStart = h.frag.offset === 0 && startsWith(l4buf, rec.bodyOff, rec.bodyEnd, LINUX_VERSION);
            flow.observeSeq(h.seq, bootStart, no);
          }
          return;
        }
        return extendedMessage(flow, h, l4buf, rec.bodyOff, rec.bodyEnd, sec, nsec, no, undefined, 1, false);
      }
      case 'plain':
        flow.plain++;
        return linesOf(flow).add(l4buf, pOff, rec.bodyOff, rec.bodyEnd, rec.newline, rec.printkUsec, sec, nsec, no);
      case 'syslog':
        flow.syslog++;
        flow.messages++;
        state.messages++;
        if (onMessage) emitSyslog(flow, rec.header, l4buf, rec.bodyOff, rec.bodyEnd, { sec, nsec }, no);
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
    if (!s && flow.dstMacs.size < 16) flow.dstMacs.set(mac, (s = new PacketSample()));
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
      extendedMessage(flow, h, body, 0, end, time.sec, time.nsec, packets[0]!, packets, pieces, incomplete),
    ));
  }

  function linesOf(flow: Flow): LineJoiner {
    return (flow.lines ??= new LineJoiner(
      joinWindowNs,
      (buf, tOff, tEnd, printkUsec, sec, nsec, first, packets, parts) =>
        plainMessage(flow, buf, tOff, tEnd, printkUsec, sec, nsec, first, packets, parts),
    ));
  }

  /**
   * `packets` undefined: the message is the one datagram `first`; else it was made of ncfrag
   * pieces, and its sequence number was observed at its first piece.
   */
  function extendedMessage(
    flow: Flow,
    h: ExtendedHeader,
    buf: Uint8Array,
    bOff: number,
    bEnd: number,
    sec: number,
    nsec: number,
    first: number,
    packets: number[] | undefined,
    fragments: number,
    incomplete: boolean,
  ): void {
    flow.messages++;
    state.messages++;
    const bootStart = startsWith(buf, bOff, bEnd, LINUX_VERSION);
    if (packets === undefined) flow.observeSeq(h.seq, bootStart, first);
    // Its msgid line may have been in a lost piece: then it may be one of the msgids missing.
    if (incomplete && !hasMsgid(buf, bOff, bEnd)) flow.msgidUnknown++;
    if (h.release !== undefined) flow.release = h.release;
    const needText = onMessage !== undefined || bootStart || hasMsgid(buf, bOff, bEnd);
    if (!needText) return;
    if (onBytes && packets === undefined && !incomplete && !bootStart) {
      // The text up to a final newline, with nothing after it: no dictionary, no msgid line.
      const tEnd = bEnd > bOff && buf[bEnd - 1] === 0x0a ? bEnd - 1 : bEnd;
      const kind = plainTextKind(buf, bOff, tEnd);
      if (kind >= 0) {
        const v = view.of(flow, 'extended', sec, nsec, first, buf, bOff, tEnd, kind === 1);
        v.level = h.level;
        v.facility = h.facility;
        v.seq = h.seq;
        v.usec = h.usec;
        v.flags = h.flags;
        v.release = h.release;
        if (onBytes(v)) return;
      }
    }
    const body = Buffer.from(buf.buffer, buf.byteOffset + bOff, bEnd - bOff);
    const { text, dict, userdata, sysdata, lines } = decodeExtendedBody(body);
    if (bootStart) flow.kernel = text;
    if (sysdata?.msgid !== undefined) {
      const id = Number(sysdata.msgid);
      if (Number.isSafeInteger(id)) flow.observeMsgid(id, first);
    }
    if (!onMessage) return;
    const m = flow.message({ sec, nsec }, 'extended', text, packets ?? [first], fragments);
    m.level = h.level;
    m.facility = h.facility;
    m.seq = h.seq;
    m.usec = h.usec;
    m.flags = h.flags;
    if (dict) m.dict = dict;
    if (userdata) m.userdata = userdata;
    if (sysdata) m.sysdata = sysdata;
    if (lines) m.dictLines = lines;
    if (h.release !== undefined) m.release = h.release;
    if (incomplete) m.incomplete = true;
    onMessage(m);
  }

  function plainMessage(
    flow: Flow,
    buf: Uint8Array,
    tOff: number,
    tEnd: number,
    printkUsec: number | undefined,
    sec: number,
    nsec: number,
    first: number,
    packets: number[] | undefined,
    fragments: number,
  ): void {
    flow.messages++;
    state.messages++;
    const bootStart = startsWith(buf, tOff, tEnd, LINUX_VERSION);
    if (bootStart) {
      if (flow.kernel !== undefined || flow.messages > 1) flow.restartPackets.add(first);
      flow.kernel = Buffer.from(buf.buffer, buf.byteOffset + tOff, tEnd - tOff).toString('utf8');
    }
    if (!onMessage) return;
    if (onBytes && packets === undefined && !bootStart) {
      const kind = plainTextKind(buf, tOff, tEnd);
      if (kind >= 0) {
        const v = view.of(flow, 'plain', sec, nsec, first, buf, tOff, tEnd, kind === 1);
        v.usec = printkUsec;
        if (onBytes(v)) return;
      }
    }
    let text = Buffer.from(buf.buffer, buf.byteOffset + tOff, tEnd - tOff).toString('utf8');
    if (printkUsec !== undefined) text = stripContinuationStamps(text, printkUsec);
    const m = flow.message({ sec, nsec }, 'plain', text, packets ?? [first], fragments);
    if (printkUsec !== undefined) m.usec = printkUsec;
    onMessage(m);
  }

  function emitSyslog(
    flow: Flow,
    h: SyslogHeader,
    buf: Uint8Array,
    off: number,
    end: number,
    time: Timestamp,
    no: number,
  ): void {
    let e = end;
    while (e > off && (buf[e - 1] === 0x0a || buf[e - 1] === 0x00)) e--;
    const m = flow.message(
      time,
      'syslog',
      Buffer.from(buf.buffer, buf.byteOffset + off, e - off).toString('utf8'),
      [no],
      1,
    );
    m.level = h.severity;
    m.facility = h.facility;
    if (h.hostname) m.hostname = h.hostname;
    if (h.app) m.app = h.app;
    onMessage!(m);
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
    return wireFindings(
      state,
      opts.targets ?? [],
      [...ports.keys()].filter(p => ports[p]),
      restricted,
      opts.local,
    );
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
