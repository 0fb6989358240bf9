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
