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
  /** File system functions, for tests. @default node:fs */
  fs?: Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'closeSync'>;
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

const PCAP_RECORD_HEADER = 16;
const EPB_OVERHEAD = 32;
const TWO32 = 4294967296;

/** The format a file name asks for. Pure. */
export function formatForPath(path: string): CaptureFormat {
  return /\.pcapng$/i.test(path) ? 'pcapng' : 'pcap';
}

/** Classic pcap global header (24 bytes). Pure. */
export function pcapHeader(linkType: number, snaplen: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0); // microsecond timestamps
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(linkType, 20);
  return b;
}

function option(code: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + ((value.length + 3) & ~3));
  padded.writeUInt16LE(code, 0);
  padded.writeUInt16LE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

function block(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

/** pcapng Section Header Block and one Interface Description Block (nanosecond resolution). Pure. */
export function pcapngHeader(linkType: number, snaplen: number, iface?: string): Buffer {
  const shbFixed = Buffer.alloc(16);
  shbFixed.writeUInt32LE(0x1a2b3c4d, 0);
  shbFixed.writeUInt16LE(1, 4);
  shbFixed.writeUInt16LE(0, 6);
  shbFixed.writeInt32LE(-1, 8); // section length unknown
  shbFixed.writeInt32LE(-1, 12);
  const shb = block(0x0a0d0d0a, Buffer.concat([shbFixed, option(4, Buffer.from('netdiag')), Buffer.alloc(4)]));
  return Buffer.concat([shb, interfaceBlock(linkType, snaplen, iface)]);
}

function interfaceBlock(linkType: number, snaplen: number, iface?: string): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(linkType, 0);
  fixed.writeUInt32LE(snaplen, 4);
  const opts = [option(9, Buffer.from([9]))]; // if_tsresol: 10^-9 s
  if (iface) opts.unshift(option(2, Buffer.from(iface)));
  return block(1, Buffer.concat([fixed, ...opts, Buffer.alloc(4)]));
}

/**
 * Splits sec * 1e9 + nsec into its high and low 32 bits with exact double arithmetic
 * (1e9 = 1953125 * 2^9, and sec * 1953125 < 2^53 for any date this side of year 100,000). Pure.
 */
export function nanosecondsHighLow(sec: number, nsec: number): [high: number, low: number] {
  const a = sec * 1953125; // sec * 1e9 = a * 2^9
  const aHigh = Math.floor(a / 8388608); // a * 2^9 / 2^32 = a / 2^23
  const low = (a - aHigh * 8388608) * 512 + nsec;
  const carry = Math.floor(low / TWO32);
  return [aHigh + carry, low - carry * TWO32];
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
  const header = format === 'pcapng' ? pcapngHeader(opts.linkType, snaplen, opts.iface) : pcapHeader(opts.linkType, snaplen);
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
      if (linkType !== opts.linkType) throw new Error(`capture writer: link type ${linkType} in a file of link type ${opts.linkType}`);
      const n = Math.min(caplen, snaplen);
      const need = format === 'pcapng' ? EPB_OVERHEAD + ((n + 3) & ~3) : PCAP_RECORD_HEADER + n;
      if (used + need > size) flush();
      if (format === 'pcapng') {
        const [high, low] = nanosecondsHighLow(tsSec, tsNsec);
        buf.writeUInt32LE(6, used);
        buf.writeUInt32LE(need, used + 4);
        buf.writeUInt32LE(0, used + 8);
        buf.writeUInt32LE(high, used + 12);
        buf.writeUInt32LE(low, used + 16);
        buf.writeUInt32LE(n, used + 20);
        buf.writeUInt32LE(origlen, used + 24);
        buf.set(data.subarray(offset, offset + n), used + 28);
        buf.fill(0, used + 28 + n, used + need - 4);
        buf.writeUInt32LE(need, used + need - 4);
      } else {
        buf.writeUInt32LE(tsSec, used);
        buf.writeUInt32LE(Math.floor(tsNsec / 1000), used + 4);
        buf.writeUInt32LE(n, used + 8);
        buf.writeUInt32LE(origlen, used + 12);
        buf.set(data.subarray(offset, offset + n), used + 16);
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
