/**
 * The capture file formats in one place: classic pcap (libpcap's savefile format) and pcapng
 * (draft-ietf-opsawg-pcapng): magic numbers, header and block sizes, block types, option codes,
 * and the writers of the headers and records netdiag itself produces (always little-endian, as
 * tcpdump writes on x86). The reader (reader.ts, pcap-records.ts, pcapng-blocks.ts), the file
 * writer (pcap-writer.ts), the capture process (capture-child.ts) and the tests' builders use
 * these; nothing else spells a magic number. Pure.
 */

// ------------------------------------------------------------------------------ classic pcap

/** The first 4 bytes read big-endian: a little-endian file shows them byte-swapped. */
export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** Kuznetsov's modified pcap: microseconds, 24-byte record headers. */
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_FILE_HEADER_LEN = 24;
/** sec, frac, caplen, origlen: 4 bytes each. */
export const PCAP_RECORD_HEADER_LEN = 16;
export const PCAP_MODIFIED_RECORD_HEADER_LEN = 24;

export type PcapResolution = 'micro' | 'nano';

/** A little-endian classic pcap file header (24 bytes). */
export function pcapFileHeader(linkType: number, snaplen: number, resolution: PcapResolution = 'micro'): Buffer {
  const b = Buffer.alloc(PCAP_FILE_HEADER_LEN);
  b.writeUInt32LE(resolution === 'nano' ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, 0);
  b.writeUInt16LE(PCAP_VERSION_MAJOR, 4);
  b.writeUInt16LE(PCAP_VERSION_MINOR, 6);
  b.writeInt32LE(0, 8); // thiszone
  b.writeUInt32LE(0, 12); // sigfigs
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(linkType, 20);
  return b;
}

/** Writes a little-endian record header at `buf[at]`: `frac` is µs or ns as the file's magic says. */
export function writePcapRecordHeader(
  buf: Buffer,
  at: number,
  sec: number,
  frac: number,
  caplen: number,
  origlen: number,
): void {
  buf.writeUInt32LE(sec >>> 0, at);
  buf.writeUInt32LE(frac, at + 4);
  buf.writeUInt32LE(caplen, at + 8);
  buf.writeUInt32LE(origlen, at + 12);
}

// ------------------------------------------------------------------------------------ pcapng

export const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
export const BLOCK_INTERFACE = 1;
/** Obsolete Packet Block. */
export const BLOCK_PACKET = 2;
export const BLOCK_SIMPLE_PACKET = 3;
export const BLOCK_ENHANCED_PACKET = 6;
/** In a section header, written in the section's byte order. */
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** The byte-order magic as read with the other byte order. */
export const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

export const OPT_END = 0;
export const OPT_COMMENT = 1;
/** Interface description: the interface's name. */
export const OPT_IF_NAME = 2;
/** Section header: the application that wrote the file. */
const OPT_SHB_USERAPPL = 4;
/** Interface description: timestamp resolution, 10^-n s, or 2^-n s with the top bit set. */
export const OPT_IF_TSRESOL = 9;
/** Interface description: seconds added to every timestamp (signed 64-bit). */
export const OPT_IF_TSOFFSET = 14;

/** Block type and length before the body, the length again after it. */
const BLOCK_OVERHEAD = 12;
/** Enhanced packet block: type, length, interface, timestamp (2 × 32 bits), caplen, origlen. */
export const EPB_HEADER_LEN = 28;
/** Header plus the trailing length. */
export const EPB_OVERHEAD = EPB_HEADER_LEN + 4;

/** One option: code, length, value padded to 4 bytes (little-endian). */
function pcapngOption(code: number, value: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + ((value.length + 3) & ~3));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  b.set(value, 4);
  return b;
}

/** A whole block around `body` (a multiple of 4 bytes long): type, length, body, length. */
function pcapngBlock(type: number, body: Uint8Array): Buffer {
  const len = BLOCK_OVERHEAD + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  b.set(body, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

const END_OF_OPTIONS = Buffer.alloc(4);

/** A section header block, version 1.0, section length unknown, naming the writing application. */
export function pcapngSectionHeader(application = 'netdiag'): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  fixed.writeUInt16LE(1, 4);
  fixed.writeUInt16LE(0, 6);
  fixed.writeInt32LE(-1, 8);
  fixed.writeInt32LE(-1, 12);
  return pcapngBlock(
    BLOCK_SECTION_HEADER,
    Buffer.concat([fixed, pcapngOption(OPT_SHB_USERAPPL, Buffer.from(application)), END_OF_OPTIONS]),
  );
}

/** An interface description block with nanosecond timestamps (if_tsresol 9). */
export function pcapngInterface(linkType: number, snaplen: number, iface?: string): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(linkType, 0);
  fixed.writeUInt32LE(snaplen, 4);
  const opts = [pcapngOption(OPT_IF_TSRESOL, Buffer.from([9]))];
  if (iface) opts.unshift(pcapngOption(OPT_IF_NAME, Buffer.from(iface)));
  return pcapngBlock(BLOCK_INTERFACE, Buffer.concat([fixed, ...opts, END_OF_OPTIONS]));
}

/**
 * Writes an enhanced packet block's header at `buf[at]` for a packet of `caplen` bytes on
 * interface 0, with a nanosecond timestamp; returns the block's whole length. The caller copies
 * the packet to `at + EPB_HEADER_LEN`, pads, and writes the length again at the end
 * (`finishEnhancedPacket`).
 */
export function writeEnhancedPacketHeader(
  buf: Buffer,
  at: number,
  sec: number,
  nsec: number,
  caplen: number,
  origlen: number,
): number {
  const total = EPB_OVERHEAD + ((caplen + 3) & ~3);
  const [high, low] = nanosecondsHighLow(sec, nsec);
  buf.writeUInt32LE(BLOCK_ENHANCED_PACKET, at);
  buf.writeUInt32LE(total, at + 4);
  buf.writeUInt32LE(0, at + 8);
  buf.writeUInt32LE(high, at + 12);
  buf.writeUInt32LE(low, at + 16);
  buf.writeUInt32LE(caplen, at + 20);
  buf.writeUInt32LE(origlen, at + 24);
  return total;
}

/** Pads the packet of an enhanced packet block begun at `at` and writes its trailing length. */
export function finishEnhancedPacket(buf: Buffer, at: number, caplen: number, total: number): void {
  buf.fill(0, at + EPB_HEADER_LEN + caplen, at + total - 4);
  buf.writeUInt32LE(total, at + total - 4);
}

const TWO32 = 4294967296;

/**
 * Splits sec * 1e9 + nsec into its high and low 32 bits with exact double arithmetic
 * (1e9 = 1953125 * 2^9, and sec * 1953125 < 2^53 for any date this side of year 100,000).
 */
export function nanosecondsHighLow(sec: number, nsec: number): [high: number, low: number] {
  const a = sec * 1953125; // sec * 1e9 = a * 2^9
  const aHigh = Math.floor(a / 8388608); // a * 2^9 / 2^32 = a / 2^23
  const low = (a - aHigh * 8388608) * 512 + nsec;
  const carry = Math.floor(low / TWO32);
  return [aHigh + carry, low - carry * TWO32];
}
