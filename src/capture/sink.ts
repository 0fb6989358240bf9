/**
 * Where a capture source (file reader, live capture) hands each packet. The bytes are
 * `buf[offset, offset + caplen)`; they are valid only during the call (sources reuse buffers),
 * so a consumer that keeps bytes copies them. Passing offsets rather than a view keeps the hot
 * path free of allocations.
 */
export interface PacketSink {
  packet(
    buf: Uint8Array,
    offset: number,
    caplen: number,
    /** Length on the wire (>= caplen when the snapshot length cut the packet). */
    origlen: number,
    /** Seconds since the Unix epoch. */
    tsSec: number,
    /** Nanoseconds within the second, 0..999999999. */
    tsNsec: number,
    /** The pcap LINKTYPE_ value: 1 Ethernet, 101 raw IP, 113 Linux cooked v1, 276 Linux cooked v2, ... */
    linkType: number,
  ): void;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** What a capture source reports when it has read everything it could. */
export interface CaptureSummary {
  format: CaptureFormat;
  /** Packets handed to the sink. */
  packets: number;
  /** True when the file ended inside a record or a block was damaged. */
  truncated: boolean;
  /** Why reading stopped early, with the byte offset, e.g. `packet record at offset 12345 cut short`. */
  truncation?: string;
  /** Byte order / resolution details, for the report: e.g. `pcap, little-endian, microseconds`. */
  detail?: string;
}
