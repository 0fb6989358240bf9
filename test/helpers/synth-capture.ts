/**
 * Builders for SYNTHESISED capture files (classic pcap and pcapng), byte by byte, in either byte
 * order and with fields that lie, for tests of the capture reader, plus a sink that records what
 * it is given. The numbers (magic numbers, block types, option codes) come from
 * src/capture/format.ts like everyone's; the layout is written here from the format descriptions
 * (pcap: libpcap's savefile format; pcapng: draft-ietf-opsawg-pcapng), not with the reader's code,
 * and the corpus and differential tests check both against files other tools wrote.
 */
import {
  BLOCK_ENHANCED_PACKET,
  BLOCK_INTERFACE,
  BLOCK_PACKET,
  BLOCK_SECTION_HEADER,
  BLOCK_SIMPLE_PACKET,
  BYTE_ORDER_MAGIC,
  OPT_COMMENT,
  OPT_END,
  OPT_IF_NAME,
  OPT_IF_TSOFFSET,
  OPT_IF_TSRESOL,
  PCAP_FILE_HEADER_LEN,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_MODIFIED,
  PCAP_MAGIC_NANO,
  PCAP_MODIFIED_RECORD_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  PCAP_VERSION_MAJOR,
  PCAP_VERSION_MINOR,
} from '../../src/capture/format.js';
import type { PacketSink } from '../../src/capture/sink.js';

export interface GotPacket {
  hex: string;
  caplen: number;
  origlen: number;
  sec: number;
  nsec: number;
  linkType: number;
}

/** A sink that copies every packet (as hex) and checks each call's arguments are in bounds. */
export class RecordingSink implements PacketSink {
  readonly got: GotPacket[] = [];
  /** Calls whose arguments broke the PacketSink contract; expected to stay empty. */
  readonly violations: string[] = [];
  /** Buffers handed over, to check that whole records are not copied. */
  readonly bufs: Uint8Array[] = [];
  constructor(private readonly keepBufs = false) {}
  readonly packet: PacketSink['packet'] = (buf, offset, caplen, origlen, tsSec, tsNsec, linkType) => {
    if (
      !Number.isInteger(offset) ||
      offset < 0 ||
      !Number.isInteger(caplen) ||
      caplen < 0 ||
      offset + caplen > buf.length
    ) {
      this.violations.push(
        `packet ${this.got.length}: bytes [${offset}, ${offset + caplen}) outside a buffer of ${buf.length}`,
      );
    }
    if (!Number.isInteger(tsNsec) || tsNsec < 0 || tsNsec > 999_999_999)
      this.violations.push(`packet ${this.got.length}: nsec ${tsNsec}`);
    if (!Number.isFinite(tsSec)) this.violations.push(`packet ${this.got.length}: sec ${tsSec}`);
    if (this.keepBufs) this.bufs.push(buf);
    this.got.push({
      hex: Buffer.from(
        buf.buffer,
        buf.byteOffset + offset,
        Math.max(0, Math.min(caplen, buf.length - offset)),
      ).toString('hex'),
      caplen,
      origlen,
      sec: tsSec,
      nsec: tsNsec,
      linkType,
    });
  };
}

export const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

// ---------------------------------------------------------------- classic pcap

export interface PcapRecord {
  sec: number;
  /** Microseconds, or nanoseconds for a nanosecond file. */
  frac: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  origlen?: number;
  /** Written caplen field; defaults to data.length (set it to lie). */
  caplen?: number;
}

export interface PcapFileSpec {
  le: boolean;
  nano?: boolean;
  /** Kuznetsov's modified pcap (magic a1b2cd34, 24-byte record headers). */
  modified?: boolean;
  linkType: number;
  snaplen?: number;
  records: PcapRecord[];
}

export function pcapHeader(spec: Omit<PcapFileSpec, 'records'>): Buffer {
  const h = Buffer.alloc(PCAP_FILE_HEADER_LEN);
  const magic = spec.modified ? PCAP_MAGIC_MODIFIED : spec.nano ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO;
  const w32 = (v: number, at: number) => (spec.le ? h.writeUInt32LE(v >>> 0, at) : h.writeUInt32BE(v >>> 0, at));
  const w16 = (v: number, at: number) => (spec.le ? h.writeUInt16LE(v, at) : h.writeUInt16BE(v, at));
  w32(magic, 0);
  w16(PCAP_VERSION_MAJOR, 4);
  w16(PCAP_VERSION_MINOR, 6);
  w32(0, 8);
  w32(0, 12);
  w32(spec.snaplen ?? 262144, 16);
  w32(spec.linkType, 20);
  return h;
}

export function pcapRecord(spec: Omit<PcapFileSpec, 'records'>, r: PcapRecord): Buffer {
  const hl = spec.modified ? PCAP_MODIFIED_RECORD_HEADER_LEN : PCAP_RECORD_HEADER_LEN;
  const h = Buffer.alloc(hl);
  const w32 = (v: number, at: number) => (spec.le ? h.writeUInt32LE(v >>> 0, at) : h.writeUInt32BE(v >>> 0, at));
  w32(r.sec, 0);
  w32(r.frac, 4);
  w32(r.caplen ?? r.data.length, 8);
  w32(r.origlen ?? r.data.length, 12);
  if (spec.modified) w32(7, 16); // ifindex; protocol, pkt_type, pad left 0
  return Buffer.concat([h, r.data]);
}

export function pcapFile(spec: PcapFileSpec): Uint8Array {
  return concat(pcapHeader(spec), ...spec.records.map(r => pcapRecord(spec, r)));
}

// ---------------------------------------------------------------- pcapng

class Writer {
  private parts: Buffer[] = [];
  constructor(private readonly le: boolean) {}
  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigUInt64LE(BigInt.asUintN(64, v));
    else b.writeBigUInt64BE(BigInt.asUintN(64, v));
    this.parts.push(b);
    return this;
  }
  bytes(d: Uint8Array): this {
    this.parts.push(Buffer.from(d));
    return this;
  }
  pad4(): this {
    const n = this.length() % 4;
    if (n) this.parts.push(Buffer.alloc(4 - n));
    return this;
  }
  length(): number {
    return this.parts.reduce((a, b) => a + b.length, 0);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

interface NgOption {
  code: number;
  value: Uint8Array;
}

function options(le: boolean, opts: NgOption[]): Buffer {
  if (opts.length === 0) return Buffer.alloc(0);
  const w = new Writer(le);
  for (const o of opts) w.u16(o.code).u16(o.value.length).bytes(o.value).pad4();
  w.u16(OPT_END).u16(0);
  return w.done();
}

/** A whole block: type, total length, body (padded), total length again. */
export function ngBlock(
  le: boolean,
  type: number,
  body: Uint8Array,
  lengthOverride?: { lead?: number; trail?: number },
): Buffer {
  const w = new Writer(le).bytes(body).pad4();
  const b = w.done();
  const total = 12 + b.length;
  return new Writer(le)
    .u32(type)
    .u32(lengthOverride?.lead ?? total)
    .bytes(b)
    .u32(lengthOverride?.trail ?? total)
    .done();
}

export function shb(le: boolean, version: [number, number] = [1, 0]): Buffer {
  const body = new Writer(le).u32(BYTE_ORDER_MAGIC).u16(version[0]).u16(version[1]).u64(-1n).done();
  return ngBlock(le, BLOCK_SECTION_HEADER, body);
}

export interface IdbSpec {
  linkType: number;
  snaplen?: number;
  /** if_tsresol byte: 6 = 10^-6 (default), 9 = 10^-9, 0x80 | n = 2^-n. */
  tsresol?: number;
  /** if_tsoffset, seconds. */
  tsoffset?: bigint;
}

export function idb(le: boolean, spec: IdbSpec): Buffer {
  const opts: NgOption[] = [{ code: OPT_IF_NAME, value: Buffer.from('eth0') }];
  if (spec.tsresol !== undefined) opts.push({ code: OPT_IF_TSRESOL, value: Buffer.from([spec.tsresol]) });
  if (spec.tsoffset !== undefined) {
    const v = Buffer.alloc(8);
    if (le) v.writeBigInt64LE(spec.tsoffset);
    else v.writeBigInt64BE(spec.tsoffset);
    opts.push({ code: OPT_IF_TSOFFSET, value: v });
  }
  const body = new Writer(le)
    .u16(spec.linkType)
    .u16(0)
    .u32(spec.snaplen ?? 0)
    .bytes(options(le, opts))
    .done();
  return ngBlock(le, BLOCK_INTERFACE, body);
}

export function epb(
  le: boolean,
  ifid: number,
  ts: bigint,
  data: Uint8Array,
  origlen = data.length,
  caplenField = data.length,
): Buffer {
  const body = new Writer(le)
    .u32(ifid)
    .u32(Number(ts >> 32n))
    .u32(Number(ts & 0xffffffffn))
    .u32(caplenField)
    .u32(origlen)
    .bytes(data)
    .pad4()
    .bytes(options(le, [{ code: OPT_COMMENT, value: Buffer.from('synthesised') }]))
    .done();
  return ngBlock(le, BLOCK_ENHANCED_PACKET, body);
}

/** Obsolete Packet Block (type 2). */
export function pb(le: boolean, ifid: number, ts: bigint, data: Uint8Array, origlen = data.length): Buffer {
  const body = new Writer(le)
    .u16(ifid)
    .u16(0)
    .u32(Number(ts >> 32n))
    .u32(Number(ts & 0xffffffffn))
    .u32(data.length)
    .u32(origlen)
    .bytes(data)
    .pad4()
    .done();
  return ngBlock(le, BLOCK_PACKET, body);
}

export function spb(le: boolean, origlen: number, data: Uint8Array): Buffer {
  return ngBlock(le, BLOCK_SIMPLE_PACKET, new Writer(le).u32(origlen).bytes(data).pad4().done());
}

/** Expected (sec, nsec) for a pcapng timestamp, by BigInt arithmetic (the reader avoids BigInt). */
export function expectedTs(ts: bigint, tsresol = 6, tsoffset = 0n): { sec: number; nsec: number } {
  const units = tsresol & 0x80 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
  const sec = ts / units + tsoffset;
  const nsec = ((ts % units) * 1_000_000_000n) / units;
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** Deterministic PRNG (mulberry32), so a failing random case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits `data` into chunks at random points (each a view into one fresh copy, at an odd offset). */
export function randomSplits(data: Uint8Array, rnd: () => number, maxPiece = 64): Uint8Array[] {
  const backing = new Uint8Array(data.length + 3);
  backing.set(data, 3);
  const all = backing.subarray(3);
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < all.length) {
    const n = 1 + Math.floor(rnd() * maxPiece);
    out.push(all.subarray(p, Math.min(all.length, p + n)));
    p += n;
  }
  return out;
}
