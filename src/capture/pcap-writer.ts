/**
 * Writes what a capture source hands it to a file: classic pcap with microsecond timestamps, or
 * pcapng (nanosecond timestamps) when the file name ends in `.pcapng`. Little-endian, as tcpdump
 * writes on x86.
 *
 * The file is readable at every moment a flush has finished: records are gathered whole in a
 * buffer and written with fs.writeSync (which the process finishes before it handles a signal),
 * flushed when the buffer fills, every `flushIntervalMs`, and on close. An interrupted capture
 * (Ctrl-C, SIGTERM) therefore ends on a record boundary once close() has run; even a SIGKILL
 * leaves the records up to the last flush.
 */
import * as nodeFs from 'node:fs';
import type { PacketSink, CaptureFormat } from './sink.js';
import {
  EPB_HEADER_LEN,
  EPB_OVERHEAD,
  finishEnhancedPacket,
  PCAP_RECORD_HEADER_LEN,
  pcapFileHeader,
  pcapngInterface,
  pcapngSectionHeader,
  writeEnhancedPacketHeader,
  writePcapRecordHeader,
} from './format.js';

/** The file functions the writer uses (node:fs has them). */
export interface WriterFs {
  openSync(path: string, flags: string, mode: number): number;
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number): number;
  closeSync(fd: number): void;
}

export interface CaptureWriterOptions {
  /** pcap LINKTYPE_ value of the packets. */
  linkType: number;
  /** Snapshot length to record in the header. @default 65535 */
  snaplen?: number;
  /** @default 'pcapng' when the path ends in .pcapng, else 'pcap' */
  format?: CaptureFormat;
  /** Interface name, recorded in pcapng. */
  iface?: string;
  /** Longest time a packet waits in memory before it is written. @default 1000 */
  flushIntervalMs?: number;
  /** Buffer size in bytes. @default 1 MiB */
  bufferBytes?: number;
  /**
   * Called when the periodic flush fails (disk full, I/O error): it runs from a timer, so it
   * cannot throw to a caller. Without it the error is kept and thrown by the next packet() or close().
   */
  onError?: (e: NodeJS.ErrnoException) => void;
  /** File system functions, for tests and for standard output. @default node:fs */
  fs?: WriterFs;
}

export interface CaptureWriter extends PacketSink {
  readonly path: string;
  readonly format: CaptureFormat;
  /** Packets written (or buffered to be). */
  readonly packets: number;
  /** Writes what is buffered. */
  flush(): void;
  /** Flushes and closes the file; further packets are ignored. Safe to call twice. */
  close(): void;
}

/** The format a file name asks for. Pure. */
export function formatForPath(path: string): CaptureFormat {
  return /\.pcapng$/i.test(path) ? 'pcapng' : 'pcap';
}

/** Opens `path` for writing (truncating it) and writes the file header at once. */
export function openCaptureWriter(path: string, opts: CaptureWriterOptions): CaptureWriter {
  const fs = opts.fs ?? nodeFs;
  const format = opts.format ?? formatForPath(path);
  const snaplen = opts.snaplen ?? 65535;
  const size = Math.max(opts.bufferBytes ?? 1 << 20, 65536 + 64);
  const buf = Buffer.alloc(size);
  let used = 0;
  let packets = 0;
  let closed = false;
  const fd = fs.openSync(path, 'w', 0o644);

  const writeAll = (b: Uint8Array, len: number) => {
    let off = 0;
    while (off < len) off += fs.writeSync(fd, b, off, len - off);
  };
  const header =
    format === 'pcapng'
      ? Buffer.concat([pcapngSectionHeader(), pcapngInterface(opts.linkType, snaplen, opts.iface)])
      : pcapFileHeader(opts.linkType, snaplen);
  try {
    writeAll(header, header.length);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }

  const flush = () => {
    if (used > 0) {
      writeAll(buf, used);
      used = 0;
    }
  };
  let failed: NodeJS.ErrnoException | undefined;
  const timer = setInterval(() => {
    if (failed) return;
    try {
      flush();
    } catch (e) {
      failed = e as NodeJS.ErrnoException;
      opts.onError?.(failed);
    }
  }, opts.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    path,
    format,
    get packets() {
      return packets;
    },
    packet(data, offset, caplen, origlen, tsSec, tsNsec, linkType) {
      if (closed) return;
      if (failed) throw failed;
      if (linkType !== opts.linkType)
        throw new Error(`capture writer: link type ${linkType} in a file of link type ${opts.linkType}`);
      const n = Math.min(caplen, snaplen);
      const need = format === 'pcapng' ? EPB_OVERHEAD + ((n + 3) & ~3) : PCAP_RECORD_HEADER_LEN + n;
      if (used + need > size) flush();
      if (format === 'pcapng') {
        writeEnhancedPacketHeader(buf, used, tsSec, tsNsec, n, origlen);
        buf.set(data.subarray(offset, offset + n), used + EPB_HEADER_LEN);
        finishEnhancedPacket(buf, used, n, need);
      } else {
        writePcapRecordHeader(buf, used, tsSec, Math.floor(tsNsec / 1000), n, origlen);
        buf.set(data.subarray(offset, offset + n), used + PCAP_RECORD_HEADER_LEN);
      }
      used += need;
      packets++;
    },
    flush() {
      if (!closed) flush();
    },
    close() {
      if (closed) return;
      clearInterval(timer);
      closed = true;
      try {
        if (failed) throw failed;
        flush();
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}
