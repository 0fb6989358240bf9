/**
 * One netconsole flow: a sender (source IP and port) talking to one target (destination IP and
 * port). It holds the per-sender counters and evidence, the destination MACs seen, the sequence
 * and msgid tracking, and the flow's two reassemblies (ncfrag pieces, split plain lines), which
 * the pipeline makes when the flow first needs one.
 */
import { endpoint } from '../decode/addr.js';
import type { Message, Mode, Timestamp } from './message.js';
import type { LineJoiner } from './line-join.js';
import type { NcfragReassembly } from './ncfrag.js';
import { type AnswerKind, IcmpAnswers, PacketSample } from './sample.js';
import { SequenceTracker } from './sequence.js';

/**
 * netconsole builds its IP header itself, with TTL 64 (IPv4) or hop limit 32 (IPv6), whatever
 * the sender's sysctls say (seen in every capture of fixtures/real). A frame with less has been
 * through routers: its MACs are the last router's and the receiver's, not the sender's next hop.
 */
export const NETCONSOLE_TTL = { 4: 64, 6: 32 } as const;

export class Flow {
  /** `ip:port` (`[ip6]:port`), made once: every message carries it. */
  readonly sender: string;
  packets = 0;
  bytes = 0;
  messages = 0;
  /** Datagrams per kind. */
  plain = 0;
  extended = 0;
  syslog = 0;
  malformed = 0;
  first: Timestamp;
  lastSec: number;
  lastNsec: number;
  /** The last destination MAC, as two 24-bit halves, and its sample: most frames repeat it. */
  lastMacHi = -1;
  lastMacLo = -1;
  lastMacSample?: PacketSample;
  /** Formatted once: messages carry them. */
  lastMacStr?: string;
  srcMacStr?: string;
  firstPacket: number;
  /** Destination MACs seen, as 48-bit numbers, with their packets. */
  dstMacs = new Map<number, PacketSample>();
  /** The TTL (IPv6: hop limit) of the first frame to each MAC of dstMacs: netconsole's own is NETCONSOLE_TTL. */
  dstMacTtl = new Map<number, number>();
  srcMacNum = -1;
  seq = new SequenceTracker();
  /** msgid (sysdata) numbers, tracked like sequence numbers: a late one fills its gap. */
  msgids = new SequenceTracker();
  /** Messages given up incomplete without their msgid line: each may be one of the msgids missing. */
  msgidUnknown = 0;
  msgidGaps = new PacketSample();
  seqGapPackets = new PacketSample();
  restartPackets = new PacketSample();
  kernel?: string;
  release?: string;
  /** Made at the first ncfrag piece. */
  ncfrag?: NcfragReassembly;
  /** Made at the first plain datagram. */
  lines?: LineJoiner;
  malformedPackets = new PacketSample();
  malformedReasons = new Set<string>();
  truncatedPackets = new PacketSample();
  /** ICMP destination unreachable answers to this flow's datagrams, by what they say. */
  answers: Record<AnswerKind, IcmpAnswers> = {
    port: new IcmpAnswers(),
    refused: new IcmpAnswers(),
    undeliverable: new IcmpAnswers(),
  };
  /** Recognised as netconsole by its content, on a port netdiag was not told to watch. */
  unexpectedPort = false;
  /** Its place in the capture's flows (FlowTable.all), from 0. */
  index = -1;

  constructor(
    readonly srcIp: string,
    readonly srcPort: number,
    readonly dstIp: string,
    readonly dstPort: number,
    readonly srcIpNum: number,
    readonly dstIpNum: number,
    time: Timestamp,
    packet: number,
  ) {
    this.first = time;
    this.lastSec = time.sec;
    this.lastNsec = time.nsec;
    this.firstPacket = packet;
    this.sender = endpoint(srcIp, srcPort);
  }

  get last(): Timestamp {
    return { sec: this.lastSec, nsec: this.lastNsec };
  }

  get mode(): Mode {
    const { plain, extended, syslog } = this;
    if (extended >= plain && extended >= syslog && extended > 0) return 'extended';
    if (plain >= syslog && plain > 0) return 'plain';
    if (syslog > 0) return 'syslog';
    return 'unknown';
  }

  /** The destination MAC seen most often. */
  get mainDstMac(): number {
    let best = -1,
      n = -1;
    for (const [mac, s] of this.dstMacs)
      if (s.count > n) {
        best = mac;
        n = s.count;
      }
    return best;
  }

  /** Routers between the sender and the capture, read from the TTL of the frames to `mac` (0: none, or not known). */
  routersBefore(mac: number): number {
    const ttl = this.dstMacTtl.get(mac);
    const sent = this.dstIp.includes(':') ? NETCONSOLE_TTL[6] : NETCONSOLE_TTL[4];
    return ttl !== undefined && ttl < sent ? sent - ttl : 0;
  }

  /** An extended record's sequence number; `first` is its (first) packet. */
  observeSeq(seq: number, bootStart: boolean, first: number): void {
    const ev = this.seq.observe(seq, bootStart);
    if (ev === 'gap') this.seqGapPackets.add(first);
    else if (ev === 'restart') this.restartPackets.add(first);
  }

  /** A record's msgid (sysdata): a jump counts the messages lost in between. */
  observeMsgid(id: number, first: number): void {
    if (this.msgids.observe(id) === 'gap') this.msgidGaps.add(first);
  }

  /** msgids missing, less those an incomplete message may hold (its msgid line was in a lost piece). */
  get msgidLost(): number {
    return Math.max(0, this.msgids.missing - this.msgidUnknown);
  }

  /** A message of this flow with the fields every mode has. */
  message(time: Timestamp, mode: Mode, text: string, packets: number[], fragments: number): Message {
    // Every field present from the start (undefined when not known): one object shape for all
    // messages keeps the consumers' property access fast.
    return {
      sender: this.sender,
      srcIp: this.srcIp,
      srcPort: this.srcPort,
      dstIp: this.dstIp,
      dstPort: this.dstPort,
      srcMac: this.srcMacStr,
      dstMac: this.lastMacStr,
      time,
      mode,
      text,
      fragments,
      packets,
      level: undefined,
      facility: undefined,
      seq: undefined,
      usec: undefined,
      flags: undefined,
      dict: undefined,
      userdata: undefined,
      sysdata: undefined,
      dictLines: undefined,
      release: undefined,
      hostname: undefined,
      app: undefined,
      incomplete: undefined,
    };
  }
}
