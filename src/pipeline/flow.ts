/**
 * One netconsole flow: a sender (source IP and port) talking to one target (destination IP and
 * port). It holds the per-sender counters and the two reassemblies: ncfrag pieces into one
 * extended message, and plain datagrams without a trailing newline joined with what follows.
 */
import type { ExtendedHeader } from '../decode/netconsole.js';
import type { Mode, Timestamp } from './types.js';
import { SequenceTracker } from './sequence.js';
import { endpoint } from '../decode/addr.js';

/** Largest ncfrag body accepted: the kernel's records are far smaller; bounds memory per message. */
export const MAX_FRAG_TOTAL = 64 * 1024;
/** ncfrag messages in progress per flow; the oldest is given up as incomplete beyond this. */
export const MAX_PENDING_FRAGS = 32;
/** Flows tracked at most: beyond, datagrams are counted (too-many-flows), so spoofed senders cannot grow memory. */
export const MAX_FLOWS = 4096;
/** Bytes of ncfrag messages in progress, over all flows. */
export const MAX_FRAG_BYTES = 16 * 1024 * 1024;
/** A plain line being joined is cut here, bounding memory against a sender that never sends '\n'. */
export const MAX_PLAIN_LINE = 64 * 1024;
/** ncfrag pieces older than this (capture time) are given up as incomplete. */
export const FRAG_TIMEOUT_SEC = 10;
/** At most this many packet numbers are kept as evidence per item. */
export const EVIDENCE_PACKETS = 20;

export interface FragInProgress {
  seq: number;
  header: ExtendedHeader;
  total: number;
  body: Buffer;
  /** The [offset, length] of each piece received, so a repeated piece is not counted twice. */
  ranges: Array<[number, number]>;
  received: number;
  pieces: number;
  time: Timestamp;
  packets: number[];
}

export interface PlainInProgress {
  parts: Buffer[];
  length: number;
  printkUsec?: number;
  time: Timestamp;
  lastSec: number;
  lastNsec: number;
  packets: number[];
  /** Every part but the last was exactly 1000 bytes: netconsole's own cut, not one printk per datagram. */
  cutAt1000: boolean;
}

/** Bounded list of packet numbers plus a total count. */
export class PacketSample {
  list: number[] = [];
  count = 0;
  add(n: number): void {
    this.count++;
    if (this.list.length < EVIDENCE_PACKETS) this.list.push(n);
  }
}

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
  srcMacNum = -1;
  seq = new SequenceTracker();
  msgidLast = -1;
  msgidLost = 0;
  msgidGaps = new PacketSample();
  seqGapPackets = new PacketSample();
  restartPackets = new PacketSample();
  kernel?: string;
  release?: string;
  frags = new Map<number, FragInProgress>();
  plainPending?: PlainInProgress;
  splitLines = new PacketSample();
  splitAt1000 = 0;
  fragIncomplete = new PacketSample();
  fragInvalid = new PacketSample();
  fragInvalidReasons = new Set<string>();
  malformedPackets = new PacketSample();
  malformedReasons = new Set<string>();
  truncatedPackets = new PacketSample();
  /** ICMP port unreachable answers to this flow. */
  unreachable = new PacketSample();

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
    let best = -1, n = -1;
    for (const [mac, s] of this.dstMacs) if (s.count > n) { best = mac; n = s.count; }
    return best;
  }
}
