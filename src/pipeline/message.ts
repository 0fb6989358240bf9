/**
 * A message: one log record made whole (ncfrag pieces and split lines joined), what the pipeline
 * hands to reports as soon as it is complete. Leaf module: the per-flow parts build messages and
 * types.ts re-exports these for everyone else.
 */
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
  /** Extended: the record's dictionary (`SUBSYSTEM`, `DEVICE`), from printk. */
  dict?: Record<string, string>;
  /** Extended: the target's configfs userdata (6.9 and later). */
  userdata?: Record<string, string>;
  /** Extended: the sysdata netconsole adds (`cpu`, `taskname`, `release`, `msgid`; 6.14 and later). */
  sysdata?: Record<string, string>;
  /** Extended: every ` KEY=value` line in order, only when a key repeated inside one part. */
  dictLines?: string[];
  /** Release prefix in extended mode (`6.1.0-56-amd64`). */
  release?: string;
  /** Syslog: host name, app name (tag). */
  hostname?: string;
  app?: string;
  /** True when the message could not be made whole (missing ncfrag pieces). */
  incomplete?: boolean;
}

/**
 * The common message as the bytes it came in: one whole datagram, plain or extended, whose text
 * is printable ASCII without a backslash and with nothing after it (no dictionary), so that
 * `Message.text` would be exactly those bytes; with PipelineOptions.messageBytesJoined also an
 * extended message joined from ncfrag pieces or with a plain dictionary (`fragments`, `packets`,
 * `dictOff`). A consumer that writes bytes takes it without a
 * Message or a string being made (`PipelineOptions.onMessageBytes`). Valid only during that call:
 * the object and `buf` are reused.
 */
export interface MessageBytes {
  /** The flow's place among the capture's flows, from 0: the same for every message of one flow. */
  flow: number;
  sender: string;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  srcMac: string | undefined;
  dstMac: string | undefined;
  sec: number;
  nsec: number;
  mode: 'plain' | 'extended';
  /** The packet number of its (first) datagram. */
  packet: number;
  /**
   * Datagrams it was made of: 1, or its ncfrag pieces (only with PipelineOptions.messageBytesJoined,
   * as the other fields below).
   */
  fragments: number;
  /** Its ncfrag pieces' packet numbers, as Message.packets; undefined for one datagram (`[packet]`). */
  packets: number[] | undefined;
  /**
   * Its dictionary, `buf[dictOff, dictEnd)`: ` KEY=value` lines joined by newlines (the last one's
   * left out), keys SUBSYSTEM and DEVICE each at most once, values printable ASCII without a space,
   * a quote or a backslash (plainDictionaryEnd), so that Message.dict would hold exactly them in
   * this order. dictOff === dictEnd when it has none.
   */
  dictOff: number;
  dictEnd: number;
  /** The text: `buf[textOff, textEnd)`. */
  buf: Uint8Array;
  textOff: number;
  textEnd: number;
  /** The text holds a `"` (JSON must escape it). */
  quote: boolean;
  /** As in Message: extended sets level, facility, seq, usec, flags, release; plain its printk time (usec). */
  level: number | undefined;
  facility: number | undefined;
  seq: number | undefined;
  usec: number | undefined;
  flags: string | undefined;
  release: string | undefined;
}
