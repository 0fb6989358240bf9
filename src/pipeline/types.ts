/**
 * The values that flow out of the pipeline: messages (reassembled netconsole or syslog records,
 * defined in message.ts), per-sender summaries, and findings. Decoders below produce records; this
 * is what commands and reports consume. Also the state the pipeline gathers for its checks.
 */
import type { Finding } from '../findings/finding.js';
import type { NetconsoleTarget } from '../config/target.js';
import type { PacketSink, CaptureSummary } from '../capture/sink.js';
import type { Flow } from './flow.js';
import type { IpReassembler } from './ipfrag.js';
import type { Message, MessageBytes, Mode, Timestamp } from './message.js';
import type { AnswerKind, IcmpAnswers, PacketSample } from './sample.js';

export type { Message, MessageBytes, Timestamp } from './message.js';

export interface SenderSummary {
  ip: string;
  port: number;
  mac?: string;
  dstIp: string;
  dstPort: number;
  dstMac?: string;
  /** When the frames to dstMac came through routers: how many, from their TTL (IPv6: hop limit), and that TTL. */
  routers?: number;
  ttl?: number;
  mode: Mode;
  packets: number;
  messages: number;
  bytes: number;
  first: Timestamp;
  last: Timestamp;
  /** Extended mode only. */
  seqFirst?: number;
  seqLast?: number;
  seqGaps?: number;
  seqMissing?: number;
  duplicates?: number;
  reordered?: number;
  restarts?: number;
  /** Linux version line, when the boot log was seen. */
  kernel?: string;
}

export interface AnalysisResult {
  packets: number;
  /** Datagrams to a netconsole port. */
  datagrams: number;
  messages: number;
  senders: SenderSummary[];
  findings: Finding[];
  /** What the capture let netdiag compare, and what it could not: an OK is only about the first. */
  coverage?: Coverage;
}

/** Each item one line for a person: `destination MAC of 10.0.0.1 (frames from it in this capture)`. */
export interface Coverage {
  compared: string[];
  notCompared: string[];
}

/** The interface a live capture listens on, as the command found it (the pipeline does no I/O). */
export interface LocalInterface {
  name: string;
  /** Its MAC, lowercase; undefined when it has none (loopback, tunnels). */
  mac?: string;
  /** Its IPv4 and IPv6 addresses, without prefix length or zone. */
  addresses: string[];
}

export interface PipelineOptions {
  /** Netconsole ports (UDP destination). Default [514, 6666]. */
  ports?: number[];
  /** Targets from --config / --netconsole, compared with the wire. */
  targets?: NetconsoleTarget[];
  /** Called for each message as soon as it is complete. */
  onMessage?: (m: Message) => void;
  /**
   * With onMessage: offered first each common message as its bytes (see MessageBytes); returning
   * true takes it, false has it made into a Message for onMessage. For a consumer that writes bytes.
   */
  onMessageBytes?: (m: MessageBytes) => boolean;
  /**
   * onMessageBytes checks the text itself (printable ASCII without a backslash, as it copies it)
   * and returns false when it is not: the pipeline offers it unscanned, and `quote` is not set.
   * The text report's writer: one pass over the text instead of two.
   */
  messageBytesChecked?: boolean;
  /**
   * onMessageBytes also takes extended messages joined from ncfrag pieces and messages with a
   * plain dictionary (MessageBytes.fragments, packets, dictOff, dictEnd): a consumer that writes
   * those fields as the reports do. Without it, those messages are Messages.
   */
  messageBytesJoined?: boolean;
  /**
   * sniff: the capturing interface. Frames to one of its addresses must go to its MAC, and frames
   * to its MAC to one of its addresses, without any configuration.
   */
  local?: LocalInterface;
  /** How long a plain datagram without a newline waits for its continuation, in ms. Default 1000. */
  joinWindowMs?: number;
}

/**
 * The pipeline consumes packets from any source (file or live) and produces messages and
 * findings. `finish` flushes what is pending and runs the end-of-capture checks.
 */
export interface Pipeline extends PacketSink {
  /** Live sources call this periodically so pending split lines time out without new packets. */
  tick(now: Timestamp): void;
  /** Counters for a progress display. */
  counters(): { packets: number; datagrams: number; messages: number; senders: number };
  finish(capture?: CaptureSummary): AnalysisResult;
}

/** ICMP answers about datagrams that are not in the capture. */
export interface StrayAnswers {
  kind: AnswerKind;
  /** The quoted datagram's endpoints (`ip:port`, `[ip6]:port`). */
  src: string;
  dst: string;
  answers: IcmpAnswers;
}

/** What the pipeline gathered over a capture, for the checks run at its end (wire-findings.ts). */
export interface PipelineState {
  packets: number;
  datagrams: number;
  messages: number;
  flows: Flow[];
  /** IP (string) → the source MACs frames from it came with: the next hop's MAC for that IP. */
  ipMacs: Map<string, Map<number, PacketSample>>;
  /** ICMP answers whose quoted datagram matched no flow seen, by kind and `src>dst` endpoints. */
  strayAnswers: Map<string, StrayAnswers>;
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
