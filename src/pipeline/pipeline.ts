/**
 * The one pipeline behind analyze, sniff and verify: packets in (from any PacketSink source),
 * messages and findings out. Link → IP (fragments reassembled) → UDP to a netconsole port →
 * netconsole record → reassembled message → per-flow tracking; ICMP port unreachable and ARP are
 * kept as evidence. Checks over what was gathered run in `finish`.
 */
import type { CaptureSummary } from '../capture/sink.js';
import {
  decodeArp, decodeIpv4, decodeIpv6, decodeLink, decodePortUnreachable, decodeUdp,
  ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP,
  newIpView, newLinkView, newUdpView,
} from '../decode/packet.js';
import { decodeExtendedBody, decodeNetconsole, type ExtendedHeader } from '../decode/netconsole.js';
import type { SyslogHeader } from '../decode/syslog.js';
import { endpoint, formatIpv4Number, formatIpv6, formatMacNum, macNum } from '../decode/addr.js';
import { DEFAULT_PORTS } from '../config/target.js';
import { IpReassembler } from './ipfrag.js';
import { Flow, type FragInProgress, FRAG_TIMEOUT_SEC, MAX_FLOWS, MAX_FRAG_BYTES, MAX_FRAG_TOTAL, MAX_PENDING_FRAGS, MAX_PLAIN_LINE, PacketSample } from './flow.js';
import { wireFindings } from './wire-findings.js';
import type { AnalysisResult, Message, Pipeline, PipelineOptions, Timestamp } from './types.js';

const PLAIN_CUT = 1000; // netconsole's MAX_PRINT_CHUNK

const LINUX_VERSION = Buffer.from('Linux version ');
const MSGID = Buffer.from('\n msgid=');

function startsWith(buf: Uint8Array, off: number, end: number, prefix: Uint8Array): boolean {
  if (end - off < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[off + i] !== prefix[i]) return false;
  return true;
}

export interface PipelineState {
  packets: number;
  datagrams: number;
  messages: number;
  flows: Flow[];
  /** IP (string) → the source MACs frames from it came with: the next hop's MAC for that IP. */
  ipMacs: Map<string, Map<number, PacketSample>>;
  /** Port unreachable answers whose quoted datagram matched no flow seen. */
  strayUnreachable: Map<string, PacketSample>;
  ipFragAbandoned: IpReassembler['abandoned'];
  linkErrors: PacketSample;
  linkErrorReasons: Set<string>;
  /** Packets whose processing threw (a bug in netdiag), and why. */
  internalErrors: PacketSample;
  internalErrorReasons: Set<string>;
  /** Datagrams not tracked because MAX_FLOWS flows exist already. */
  flowOverflow: PacketSample;
  capture?: CaptureSummary;
}

export function createPipeline(opts: PipelineOptions = {}): Pipeline {
  const ports = new Uint8Array(65536);
  for (const p of opts.ports?.length ? opts.ports : DEFAULT_PORTS) ports[p] = 1;
  const onMessage = opts.onMessage;
  const joinWindowNs = (opts.joinWindowMs ?? 1000) * 1e6;

  const link = newLinkView();
  const ip = newIpView();
  const udp = newUdpView();
  const reasm = new IpReassembler();

  const state: PipelineState = {
    packets: 0, datagrams: 0, messages: 0, flows: [],
    ipMacs: new Map(), strayUnreachable: new Map(), ipFragAbandoned: reasm.abandoned,
    linkErrors: new PacketSample(), linkErrorReasons: new Set(),
    internalErrors: new PacketSample(), internalErrorReasons: new Set(), flowOverflow: new PacketSample(),
  };
  const flows4 = new Map<number, Flow[]>();
  const flows6 = new Map<string, Flow[]>();
  /** IPv4 destinations of flows (as numbers): frames from these teach us their MAC. */
  const watched4 = new Set<number>();
  const watched6 = new Set<string>();
  /** Every flow by `src|sport|dst|dport`, for ICMP answers. */
  const flowIndex = new Map<string, Flow>();
  /** Bytes held by ncfrag messages in progress, over all flows (bounded by MAX_FRAG_BYTES). */
  let fragBytes = 0;
  /** The last few IPv4 flows seen, most recent last. */
  const recent: Flow[] = [];
  const remember = (f: Flow): Flow => {
    if (recent.length >= 4) recent.shift();
    recent.push(f);
    return f;
  };

  function learnMac(ipStr: string, mac: number, packet: number): void {
    let m = state.ipMacs.get(ipStr);
    if (!m) state.ipMacs.set(ipStr, (m = new Map()));
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
  function packet(buf: Uint8Array, offset: number, caplen: number, origlen: number, tsSec: number, tsNsec: number, linkType: number): void {
    try {
      processPacket(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
    } catch (e) {
      state.internalErrors.add(state.packets);
      if (state.internalErrorReasons.size < 5) state.internalErrorReasons.add((e as Error)?.message ?? String(e));
    }
  }

  function processPacket(buf: Uint8Array, offset: number, caplen: number, origlen: number, tsSec: number, tsNsec: number, linkType: number): void {
    const no = ++state.packets;
    const err = decodeLink(buf, offset, caplen, linkType, link);
    if (err !== undefined) return linkError(err);
    const et = link.ethertype;
    if (et === ETHERTYPE_IPV4) {
      if (decodeIpv4(buf, link.netOff, link.netEnd, ip) !== undefined) return;
    } else if (et === ETHERTYPE_IPV6) {
      if (decodeIpv6(buf, link.netOff, link.netEnd, ip) !== undefined) return;
    } else {
      if (et === ETHERTYPE_ARP && link.srcMacOff >= 0) {
        const arp = decodeArp(buf, link.netOff, link.netEnd);
        if (arp) {
          const ipNum = ((buf[arp.senderIpOff]! << 24) >>> 0) + (buf[arp.senderIpOff + 1]! << 16) + (buf[arp.senderIpOff + 2]! << 8) + buf[arp.senderIpOff + 3]!;
          // ARP is rare and says exactly who is where: learn it for every IP (bounded).
          if (watched4.has(ipNum) || state.ipMacs.size < 4096) learnMac(formatIpv4Number(ipNum), macNum(buf, arp.senderMacOff), no);
        }
      }
      return;
    }
    const v6 = ip.version === 6;
    // Frames from a flow's destination tell which MAC that IP is reached at. Datagrams to a
    // netconsole port come from senders: skip the look-up for them (the hot path).
    const toNetconsole = ip.protocol === IPPROTO_UDP && !ip.fragmented && ip.l4Off + 4 <= ip.l4End && ports[(buf[ip.l4Off + 2]! << 8) | buf[ip.l4Off + 3]!] === 1;
    if (link.srcMacOff >= 0 && !toNetconsole) {
      if (!v6) {
        const src = ((buf[ip.srcOff]! << 24) >>> 0) + (buf[ip.srcOff + 1]! << 16) + (buf[ip.srcOff + 2]! << 8) + buf[ip.srcOff + 3]!;
        if (watched4.has(src)) learnMac(formatIpv4Number(src), macNum(buf, link.srcMacOff), no);
      } else if (watched6.size) {
        const src = formatIpv6(buf, ip.srcOff);
        if (watched6.has(src)) learnMac(src, macNum(buf, link.srcMacOff), no);
      }
    }
    let l4buf: Uint8Array = buf, l4Off = ip.l4Off, l4End = ip.l4End;
    const proto = ip.protocol;
    if (ip.fragmented) {
      if (proto !== IPPROTO_UDP && !(ip.fragOffset > 0)) return;
      const src = v6 ? formatIpv6(buf, ip.srcOff) : formatIpv4Number(readIp4(buf, ip.srcOff));
      const dst = v6 ? formatIpv6(buf, ip.dstOff) : formatIpv4Number(readIp4(buf, ip.dstOff));
      const whole = reasm.add(`${ip.version}|${src}|${dst}|${ip.fragId}|${proto}`, ip.fragOffset, ip.fragMore, buf.subarray(l4Off, l4End), tsSec, no);
      if (!whole || proto !== IPPROTO_UDP) return;
      l4buf = whole.data;
      l4Off = 0;
      l4End = whole.data.length;
    }
    if (proto === IPPROTO_UDP) {
      if (decodeUdp(l4buf, l4Off, l4End, udp) !== undefined) return;
      if (!ports[udp.dstPort]) return;
      datagram(buf, l4buf, no, tsSec, tsNsec, caplen < origlen || ip.cut || udp.cut);
    } else if ((proto === IPPROTO_ICMP && !v6) || (proto === IPPROTO_ICMPV6 && v6)) {
      const q = decodePortUnreachable(buf, l4Off, l4End, v6);
      if (!q || !ports[q.dstPort]) return;
      const qs = v6 ? formatIpv6(buf, q.srcOff) : formatIpv4Number(readIp4(buf, q.srcOff));
      const qd = v6 ? formatIpv6(buf, q.dstOff) : formatIpv4Number(readIp4(buf, q.dstOff));
      const flow = findFlow(qs, q.srcPort, qd, q.dstPort);
      if (flow) flow.unreachable.add(no);
      else {
        const key = `${endpoint(qs, q.srcPort)}>${endpoint(qd, q.dstPort)}`;
        let s = state.strayUnreachable.get(key);
        if (!s) {
          if (state.strayUnreachable.size >= 256) return;
          state.strayUnreachable.set(key, (s = new PacketSample()));
        }
        s.add(no);
      }
    }
  }

  function readIp4(b: Uint8Array, o: number): number {
    return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
  }

  function findFlow(src: string, sport: number, dst: string, dport: number): Flow | undefined {
    return flowIndex.get(`${src}|${sport}|${dst}|${dport}`);
  }

  /** Finds or makes the flow of the current datagram (ip and udp views are set). */
  function flowOf(buf: Uint8Array, no: number, sec: number, nsec: number): Flow | undefined {
    if (ip.version === 4) {
      const s = readIp4(buf, ip.srcOff), d = readIp4(buf, ip.dstOff);
      // Datagrams mostly come from a handful of flows: look at the recent ones before the map.
      const sp = udp.srcPort, dp = udp.dstPort;
      for (let i = 0; i < recent.length; i++) {
        const c = recent[i]!;
        if (c.srcIpNum === s && c.srcPort === sp && c.dstIpNum === d && c.dstPort === dp) return c;
      }
      const key = s * 65536 + sp;
      let list = flows4.get(key);
      if (list) for (const f of list) if (f.dstIpNum === d && f.dstPort === dp) return remember(f);
      if (state.flows.length >= MAX_FLOWS) return undefined;
      const f = new Flow(formatIpv4Number(s), udp.srcPort, formatIpv4Number(d), udp.dstPort, s, d, { sec, nsec }, no);
      if (!list) flows4.set(key, (list = []));
      list.push(f);
      state.flows.push(f);
      flowIndex.set(`${f.srcIp}|${f.srcPort}|${f.dstIp}|${f.dstPort}`, f);
      watched4.add(d);
      return remember(f);
    }
    const s = formatIpv6(buf, ip.srcOff), d = formatIpv6(buf, ip.dstOff);
    const key = `${s}|${udp.srcPort}`;
    let list = flows6.get(key);
    if (list) for (const f of list) if (f.dstIp === d && f.dstPort === udp.dstPort) return f;
    if (state.flows.length >= MAX_FLOWS) return undefined;
    const f = new Flow(s, udp.srcPort, d, udp.dstPort, -1, -1, { sec, nsec }, no);
    if (!list) flows6.set(key, (list = []));
    list.push(f);
    state.flows.push(f);
    flowIndex.set(`${f.srcIp}|${f.srcPort}|${f.dstIp}|${f.dstPort}`, f);
    watched6.add(d);
    return f;
  }

  /** A UDP datagram to a netconsole port: `buf` holds the IP header (addresses), `l4buf` the UDP segment. */
  function datagram(buf: Uint8Array, l4buf: Uint8Array, no: number, sec: number, nsec: number, cut: boolean): void {
    state.datagrams++;
    const flow = flowOf(buf, no, sec, nsec);
    if (!flow) {
      state.flowOverflow.add(no);
      return;
    }
    flow.packets++;
    flow.lastSec = sec;
    flow.lastNsec = nsec;
    const pOff = udp.payloadOff, pEnd = udp.payloadEnd;
    flow.bytes += pEnd - pOff;
    if (cut) flow.truncatedPackets.add(no);
    if (link.dstMacOff >= 0) {
      const o = link.dstMacOff;
      const hi = (buf[o]! << 16) | (buf[o + 1]! << 8) | buf[o + 2]!, lo = (buf[o + 3]! << 16) | (buf[o + 4]! << 8) | buf[o + 5]!;
      if (hi === flow.lastMacHi && lo === flow.lastMacLo) flow.lastMacSample?.add(no);
      else {
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
    }
    const rec = decodeNetconsole(l4buf, pOff, pEnd);
    switch (rec.kind) {
      case 'extended': {
        flow.extended++;
        const h = rec.header;
        if (h.frag) return fragment(flow, h, l4buf, rec.bodyOff, rec.bodyEnd, { sec, nsec }, no);
        return extendedMessage(flow, h, l4buf, rec.bodyOff, rec.bodyEnd, sec, nsec, no, undefined, 1, false);
      }
      case 'plain':
        flow.plain++;
        return plainPart(flow, l4buf, pOff, rec.bodyOff, rec.bodyEnd, rec.newline, rec.printkUsec, sec, nsec, no);
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
          onMessage(baseMessage(flow, { sec, nsec }, 'unknown', Buffer.from(l4buf.buffer, l4buf.byteOffset + pOff, pEnd - pOff).toString('latin1'), [no], 1));
        }
        return;
    }
  }

  function fragment(flow: Flow, h: ExtendedHeader, buf: Uint8Array, bOff: number, bEnd: number, time: Timestamp, no: number): void {
    const { offset, total } = h.frag!;
    const len = bEnd - bOff;
    const invalid = (reason: string) => {
      flow.fragInvalid.add(no);
      if (flow.fragInvalidReasons.size < 5) flow.fragInvalidReasons.add(reason);
    };
    if (total === 0 || total > MAX_FRAG_TOTAL) return invalid(`ncfrag total ${total} out of range`);
    if (offset + len > total) return invalid(`ncfrag piece ${offset}+${len} beyond total ${total}`);
    expireFrags(flow, time);
    let f = flow.frags.get(h.seq);
    if (f && f.total !== total) return invalid(`ncfrag total changed from ${f.total} to ${total} for seq ${h.seq}`);
    if (!f) {
      if (flow.frags.size >= MAX_PENDING_FRAGS) {
        const oldest = flow.frags.values().next().value!;
        giveUpFrag(flow, oldest);
      }
      if (fragBytes + total > MAX_FRAG_BYTES) return invalid(`more than ${MAX_FRAG_BYTES >> 20} MiB of ncfrag messages in progress`);
      // Zeroed (bytes never received are never shown anyway); from the pool: Buffer.alloc makes an
      // ArrayBuffer of its own each time, which costs a microsecond per message.
      f = { seq: h.seq, header: h, total, body: Buffer.allocUnsafe(total).fill(0), ranges: [], received: 0, pieces: 0, time, packets: [] };
      fragBytes += total;
      flow.frags.set(h.seq, f);
    }
    f.pieces++;
    if (f.packets.length < 64) f.packets.push(no);
    addPiece(f, buf, bOff, offset, len, invalid);
    if (f.received === f.total) {
      flow.frags.delete(h.seq);
      fragBytes -= f.total;
      extendedMessage(flow, f.header, f.body, 0, f.total, f.time.sec, f.time.nsec, f.packets[0]!, f.packets, f.pieces, false);
    }
  }

  /** Copies a piece in; bytes already covered must agree with what came before. */
  function addPiece(f: FragInProgress, buf: Uint8Array, bOff: number, offset: number, len: number, invalid: (r: string) => void): void {
    const end = offset + len;
    let overlaps = false;
    for (const [o, l] of f.ranges) if (offset < o + l && end > o) { overlaps = true; break; }
    if (!overlaps) {
      f.body.set(buf.subarray(bOff, bOff + len), offset);
      f.ranges.push([offset, len]);
      f.received += len;
      return;
    }
    // Rare: a repeated or overlapping piece. Every byte already there must agree; then only the
    // new runs are copied, each kept as a range of its own (ranges never overlap).
    const before = f.ranges.slice();
    const covered = (at: number) => before.some(([o, l]) => at >= o && at < o + l);
    for (let i = 0; i < len; i++) {
      const at = offset + i;
      if (covered(at) && f.body[at] !== buf[bOff + i]) {
        invalid(`ncfrag pieces of seq ${f.seq} disagree at byte ${at}`);
        return;
      }
    }
    let run = -1;
    for (let i = 0; i <= len; i++) {
      const fresh = i < len && !covered(offset + i);
      if (fresh && run < 0) run = i;
      if (!fresh && run >= 0) {
        f.body.set(buf.subarray(bOff + run, bOff + i), offset + run);
        f.ranges.push([offset + run, i - run]);
        f.received += i - run;
        run = -1;
      }
    }
  }

  function expireFrags(flow: Flow, time: Timestamp): void {
    for (const f of flow.frags.values()) {
      if (time.sec - f.time.sec <= FRAG_TIMEOUT_SEC) break;
      giveUpFrag(flow, f);
    }
  }

  /** An ncfrag message that will not complete: shown with what arrived, marked incomplete. */
  function giveUpFrag(flow: Flow, f: NonNullable<ReturnType<Flow['frags']['get']>>): void {
    flow.frags.delete(f.seq);
    fragBytes -= f.total;
    flow.fragIncomplete.add(f.packets[0]!);
    // Keep the received prefix runs; gaps become nothing (they are unknown bytes).
    const body = Buffer.concat([...f.ranges].sort((a, b) => a[0] - b[0]).map(([o, l]) => f.body.subarray(o, o + l)));
    extendedMessage(flow, f.header, body, 0, body.length, f.time.sec, f.time.nsec, f.packets[0]!, f.packets, f.pieces, true);
  }

  /** `packets` undefined: the message is the one datagram `first`. */
  function extendedMessage(flow: Flow, h: ExtendedHeader, buf: Uint8Array, bOff: number, bEnd: number, sec: number, nsec: number, first: number, packets: number[] | undefined, fragments: number, incomplete: boolean): void {
    flow.messages++;
    state.messages++;
    const bootStart = startsWith(buf, bOff, bEnd, LINUX_VERSION);
    const ev = flow.seq.observe(h.seq, bootStart);
    if (ev === 'gap') flow.seqGapPackets.add(first);
    else if (ev === 'restart') flow.restartPackets.add(first);
    if (h.release !== undefined) flow.release = h.release;
    const needText = onMessage !== undefined || bootStart || hasMsgid(buf, bOff, bEnd);
    if (!needText) return;
    const body = Buffer.from(buf.buffer, buf.byteOffset + bOff, bEnd - bOff);
    const { text, dict } = decodeExtendedBody(body);
    if (bootStart) flow.kernel = text;
    if (dict?.msgid !== undefined) {
      const id = Number(dict.msgid);
      if (Number.isSafeInteger(id)) {
        if (flow.msgidLast >= 0 && id > flow.msgidLast + 1) {
          flow.msgidLost += id - flow.msgidLast - 1;
          flow.msgidGaps.add(first);
        }
        if (id > flow.msgidLast) flow.msgidLast = id;
      }
    }
    if (!onMessage) return;
    const m = baseMessage(flow, { sec, nsec }, 'extended', text, packets ?? [first], fragments);
    m.level = h.level;
    m.facility = h.facility;
    m.seq = h.seq;
    m.usec = h.usec;
    m.flags = h.flags;
    if (dict) m.dict = dict;
    if (h.release !== undefined) m.release = h.release;
    if (incomplete) m.incomplete = true;
    onMessage(m);
  }

  function hasMsgid(buf: Uint8Array, off: number, end: number): boolean {
    // The text has no newline of its own (it is escaped): a dictionary follows the first one.
    const nl = buf.indexOf(0x0a, off);
    if (nl < 0 || nl >= end - 1 || buf[nl + 1] !== 0x20) return false;
    return Buffer.from(buf.buffer, buf.byteOffset + nl, end - nl).indexOf(MSGID) >= 0;
  }

  function plainPart(flow: Flow, buf: Uint8Array, pOff: number, bOff: number, bEnd: number, newline: boolean, printkUsec: number | undefined, sec: number, nsec: number, no: number): void {
    let pend = flow.plainPending;
    // A datagram with a printk time of its own starts a new line; so does one after the window.
    if (pend && (!withinWindow(pend, sec, nsec) || (printkUsec !== undefined && !pend.cutAt1000))) {
      finishPlain(flow, pend);
      pend = undefined;
    }
    if (!pend && newline) {
      // The common case: one whole line in one datagram.
      return plainMessage(flow, buf, bOff, bEnd - 1, printkUsec, sec, nsec, no, undefined, 1);
    }
    // A continuation keeps its own text whole (an old kernel's next printk has no timestamp of its own).
    const from = pend ? pOff : bOff;
    const part = Buffer.from(buf.subarray(from, bEnd));
    if (!pend) {
      pend = { parts: [], length: 0, time: { sec, nsec }, lastSec: sec, lastNsec: nsec, packets: [], cutAt1000: true };
      if (printkUsec !== undefined) pend.printkUsec = printkUsec;
      flow.plainPending = pend;
    }
    if (!newline && bEnd - pOff !== PLAIN_CUT) pend.cutAt1000 = false;
    pend.parts.push(part);
    pend.length += part.length;
    pend.lastSec = sec;
    pend.lastNsec = nsec;
    if (pend.packets.length < 64) pend.packets.push(no);
    if (newline || pend.length >= MAX_PLAIN_LINE) finishPlain(flow, pend);
  }

  function withinWindow(p: { lastSec: number; lastNsec: number }, sec: number, nsec: number): boolean {
    return (sec - p.lastSec) * 1e9 + (nsec - p.lastNsec) <= joinWindowNs;
  }

  function finishPlain(flow: Flow, p: NonNullable<Flow['plainPending']>): void {
    flow.plainPending = undefined;
    const joined = Buffer.concat(p.parts, p.length);
    const end = joined.length > 0 && joined[joined.length - 1] === 0x0a ? joined.length - 1 : joined.length;
    if (p.parts.length > 1) {
      flow.splitLines.add(p.packets[0]!);
      if (p.cutAt1000) flow.splitAt1000++;
    }
    plainMessage(flow, joined, 0, end, p.printkUsec, p.time.sec, p.time.nsec, p.packets[0]!, p.packets, p.parts.length);
  }

  function plainMessage(flow: Flow, buf: Uint8Array, tOff: number, tEnd: number, printkUsec: number | undefined, sec: number, nsec: number, first: number, packets: number[] | undefined, fragments: number): void {
    flow.messages++;
    state.messages++;
    const bootStart = startsWith(buf, tOff, tEnd, LINUX_VERSION);
    if (bootStart) {
      if (flow.kernel !== undefined || flow.messages > 1) flow.restartPackets.add(first);
      flow.kernel = Buffer.from(buf.buffer, buf.byteOffset + tOff, tEnd - tOff).toString('utf8');
    }
    if (!onMessage) return;
    const m = baseMessage(flow, { sec, nsec }, 'plain', Buffer.from(buf.buffer, buf.byteOffset + tOff, tEnd - tOff).toString('utf8'), packets ?? [first], fragments);
    if (printkUsec !== undefined) m.usec = printkUsec;
    onMessage(m);
  }

  function emitSyslog(flow: Flow, h: SyslogHeader, buf: Uint8Array, off: number, end: number, time: Timestamp, no: number): void {
    let e = end;
    while (e > off && (buf[e - 1] === 0x0a || buf[e - 1] === 0x00)) e--;
    const m = baseMessage(flow, time, 'syslog', Buffer.from(buf.buffer, buf.byteOffset + off, e - off).toString('utf8'), [no], 1);
    m.level = h.severity;
    m.facility = h.facility;
    if (h.hostname) m.hostname = h.hostname;
    if (h.app) m.app = h.app;
    onMessage!(m);
  }

  function baseMessage(flow: Flow, time: Timestamp, mode: Message['mode'], text: string, packets: number[], fragments: number): Message {
    // Every field present from the start (undefined when not known): one object shape for all
    // messages keeps the consumers' property access fast.
    return {
      sender: flow.sender, srcIp: flow.srcIp, srcPort: flow.srcPort, dstIp: flow.dstIp, dstPort: flow.dstPort,
      srcMac: flow.srcMacStr, dstMac: flow.lastMacStr,
      time, mode, text, fragments, packets,
      level: undefined, facility: undefined, seq: undefined, usec: undefined, flags: undefined, dict: undefined,
      release: undefined, hostname: undefined, app: undefined, incomplete: undefined,
    };
  }

  function tick(t: Timestamp): void {
    for (const f of state.flows) {
      if (f.plainPending && !withinWindow(f.plainPending, t.sec, t.nsec)) finishPlain(f, f.plainPending);
      if (f.frags.size) expireFrags(f, t);
    }
  }

  function finish(capture?: CaptureSummary): AnalysisResult {
    for (const f of state.flows) {
      if (f.plainPending) finishPlain(f, f.plainPending);
      for (const fr of [...f.frags.values()]) giveUpFrag(f, fr);
    }
    reasm.flush();
    if (capture) state.capture = capture;
    return wireFindings(state, opts.targets ?? [], [...ports.keys()].filter(p => ports[p]));
  }

  return {
    packet,
    tick,
    counters: () => ({ packets: state.packets, datagrams: state.datagrams, messages: state.messages, senders: state.flows.length }),
    finish,
  };
}
