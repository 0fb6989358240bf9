/**
 * The values that flow out of the pipeline: messages (reassembled netconsole or syslog records),
 * per-sender summaries, and findings. Decoders below produce records; this is what commands and
 * reports consume.
 */
import type { Finding } from '../findings/finding.js';
import type { NetconsoleTarget } from '../config/target.js';
import type { PacketSink, CaptureSummary } from '../capture/sink.js';

export type Mode = 'plain' | 'extended' | 'syslog' | 'unknown';

/** A point in time: seconds since the epoch and nanoseconds. */
export interface Timestamp {
  sec: number;
  nsec: number;
}

/** One complete log message, after ncfrag and split-line reassembly. */
export interface Message {
  /** `ip:port` of the sender (IPv6 in brackets). */
  sender: string;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  srcMac?: string;
  dstMac?: string;
  /** Arrival time of the first datagram of the message. */
  time: Timestamp;
  mode: Mode;
  /** The message text, escapes (`\xNN`) decoded; may hold control characters: escape before printing. */
  text: string;
  /** Number of datagrams it was made of (ncfrag pieces, or split-line parts). */
  fragments: number;
  /** Packet numbers of those datagrams (1-based). */
  packets: number[];
  /** Extended: syslog level 0..7 (facility removed); syslog: severity. */
  level?: number;
  /** syslog facility, when the record carries one. */
  facility?: number;
  /** Extended: the log record's sequence number. */
  seq?: number;
  /** Extended: the record's timestamp in microseconds since boot; plain: the printk time in µs, when present. */
  usec?: number;
  /** Extended: flags field (`-` normal, `c` continuation start, `+` continuation). */
  flags?: string;
  /** Extended: dictionary lines ` KEY=value` after the text, and userdata/sysdata. */
  dict?: Record<string, string>;
  /** Release prefix in extended mode (`6.1.0-56-amd64`). */
  release?: string;
  /** Syslog: host name, app name (tag). */
  hostname?: string;
  app?: string;
  /** True when the message could not be made whole (missing ncfrag pieces). */
  incomplete?: boolean;
}

export interface SenderSummary {
  ip: string;
  port: number;
  mac?: string;
  dstIp: string;
  dstPort: number;
  dstMac?: string;
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
}

export interface PipelineOptions {
  /** Netconsole ports (UDP destination). Default [514, 6666]. */
  ports?: number[];
  /** Targets from --config / --netconsole, compared with the wire. */
  targets?: NetconsoleTarget[];
  /** Called for each message as soon as it is complete. */
  onMessage?: (m: Message) => void;
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
