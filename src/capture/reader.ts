/**
 * A push-based, streaming decoder for capture files: classic pcap (microsecond, nanosecond and
 * Kuznetsov's modified format, either byte order; pcap-records.ts) and pcapng (any number of
 * sections, several interfaces with their own link type and timestamp resolution;
 * pcapng-blocks.ts). This file recognises the format and carries a unit cut between chunks.
 *
 * Pure: no I/O. Feed it chunks of any size with `push()`, then call `end()`. Each packet goes to
 * the sink as `(buf, offset, caplen, ...)` pointing into the chunk that was pushed; only a record
 * that straddles two chunks is copied (into a carry buffer, reused). Damaged data never throws:
 * the decoder stops, and `end()` reports `truncated: true` with what and where.
 */
import type { CaptureFormat, CaptureSummary, PacketSink } from './sink.js';
import {
  BLOCK_ENHANCED_PACKET as EPB,
  BLOCK_PACKET as PB,
  BLOCK_SECTION_HEADER as SHB,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_MODIFIED,
  PCAP_MAGIC_NANO,
  PCAP_MODIFIED_RECORD_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
} from './format.js';
import { PcapRecords } from './pcap-records.js';
import { blockIsLittleEndian, blockName, isCarriedType, PcapngBlocks } from './pcapng-blocks.js';

/** Largest captured length accepted in one packet (libpcap's MAXIMUM_SNAPLEN). */
export const MAX_CAPLEN = 262_144;

/**
 * - `detecting`: fewer than 4 bytes seen, format not known yet;
 * - `reading`: a capture, accepting data;
 * - `not-capture`: the data does not start like a pcap or pcapng file (see `reason`);
 * - `stopped`: damaged data, nothing more is read (see `reason`);
 * - `ended`: `end()` was called.
 */
export type DecoderStatus = 'detecting' | 'reading' | 'not-capture' | 'stopped' | 'ended';

export interface CaptureDecoderOptions {
  /**
   * Captured length above which a packet is taken as damage.
   * @default 262144
   */
  maxCaplen?: number;
}

const enum Mode {
  Detect,
  Pcap,
  Ng,
  NotCapture,
  Stopped,
  Ended,
}

/** The classic pcap magic numbers and what each says. */
const PCAP_KINDS = new Map<number, { nano: boolean; recordHeader: number }>([
  [PCAP_MAGIC_MICRO, { nano: false, recordHeader: PCAP_RECORD_HEADER_LEN }],
  [PCAP_MAGIC_NANO, { nano: true, recordHeader: PCAP_RECORD_HEADER_LEN }],
  [PCAP_MAGIC_MODIFIED, { nano: false, recordHeader: PCAP_MODIFIED_RECORD_HEADER_LEN }],
]);

const hex = (b: Uint8Array, from: number, to: number): string => {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(b[i]!.toString(16).padStart(2, '0'));
  return out.join(' ');
};

export class CaptureDecoder {
  private readonly sink: PacketSink;
  private readonly maxCaplen: number;

  private mode: Mode = Mode.Detect;
  private fmt: CaptureFormat | undefined;
  private pcap: PcapRecords | undefined;
  private ng: PcapngBlocks | undefined;
  private problem: string | undefined;
  private bytesIn = 0;

  /** Absolute offset of byte 0 of what `scan` is looking at (chunk or carry). */
  private base = 0;
  /** Absolute offset of the next chunk's byte 0. */
  private nextChunkBase = 0;

  // Carry: one partial unit (header, record or block) straddling chunks.
  /** A Buffer like the chunks: one kind of array through the hot path (a Uint8Array here deoptimized it). */
  private carry: Uint8Array = Buffer.alloc(0);
  private carryDv = new DataView(this.carry.buffer);
  private carryLen = 0;
  private carryNeed = 0;
  private carryBase = 0;
  // Skipping the body of an uninteresting pcapng block, then checking its trailing length.
  private skip = 0;
  private trailerPending = false;
  private trailerExpect = 0;
  private trailerBlockAt = 0;
  private trailerBlockType = 0;

  private summary: CaptureSummary | undefined;

  constructor(sink: PacketSink, options: CaptureDecoderOptions = {}) {
    this.sink = sink;
    this.maxCaplen = options.maxCaplen ?? MAX_CAPLEN;
  }

  get status(): DecoderStatus {
    switch (this.mode) {
      case Mode.Detect:
        return 'detecting';
      case Mode.NotCapture:
        return 'not-capture';
      case Mode.Stopped:
        return 'stopped';
      case Mode.Ended:
        return 'ended';
      default:
        return 'reading';
    }
  }

  /** Why the decoder is `not-capture` or `stopped`, e.g. `not a pcap or pcapng capture (starts with 3c 21 44 4f)`. */
  get reason(): string | undefined {
    return this.problem;
  }

  /** The format, once the first 4 bytes were recognised. */
  get format(): CaptureFormat | undefined {
    return this.fmt;
  }

  /** Packets handed to the sink so far. */
  get packets(): number {
    return (this.pcap?.packets ?? 0) + (this.ng?.packets ?? 0);
  }

  /** Bytes pushed so far. */
  get bytesPushed(): number {
    return this.bytesIn;
  }

  /** The current pcapng section's byte order (little-endian before any). */
  private get le(): boolean {
    return this.ng?.le ?? true;
  }

  /**
   * Feeds the next bytes. Packets whole in `chunk` are handed to the sink before this returns;
   * the decoder keeps no reference to `chunk` afterwards, so the caller may reuse it.
   * @returns false when no more data is wanted (not a capture, damaged data, or ended).
   */
  push(chunk: Uint8Array): boolean {
    if (this.mode >= Mode.NotCapture) return false;
    const end = chunk.length;
    if (end === 0) return true;
    this.bytesIn += end;
    const chunkBase = this.nextChunkBase;
    this.nextChunkBase += end;
    const dv = new DataView(chunk.buffer, chunk.byteOffset, end);
    let p = 0;

    // Finish what the previous chunks left: a block body to skip, a trailer, a carried unit.
    while (p < end && (this.skip > 0 || this.carryLen > 0 || this.trailerPending)) {
      if (this.skip > 0) {
        const s = Math.min(this.skip, end - p);
        this.skip -= s;
        p += s;
        continue;
      }
      const take = Math.min(this.carryNeed - this.carryLen, end - p);
      this.appendCarry(chunk, p, take);
      p += take;
      if (this.carryLen < this.carryNeed) break;
      if (this.trailerPending) {
        this.trailerPending = false;
        this.carryLen = 0;
        const got = this.carryDv.getUint32(0, this.le);
        if (got !== this.trailerExpect) {
          this.stop(
            `${blockName(this.trailerBlockType)} at offset ${this.trailerBlockAt}: trailing length ${got} differs from leading length ${this.trailerExpect}`,
          );
          return false;
        }
        continue;
      }
      this.base = this.carryBase;
      const used = this.scan(this.carry, this.carryDv, 0, this.carryLen);
      if (this.mode >= Mode.NotCapture) return false;
      if (used === this.carryLen) {
        this.carryLen = 0;
        continue;
      }
      if (used > 0) {
        this.carry.copyWithin(0, used, this.carryLen);
        this.carryLen -= used;
        this.carryBase += used;
      }
      this.hold(this.carry, this.carryDv, 0, this.carryLen, this.carryBase);
      if (this.mode >= Mode.NotCapture) return false;
    }

    if (p < end) {
      this.base = chunkBase;
      p = this.scan(chunk, dv, p, end);
      if (this.mode >= Mode.NotCapture) return false;
      if (p < end) {
        this.hold(chunk, dv, p, end, chunkBase + p);
        if (this.mode >= Mode.NotCapture) return false;
      }
    }
    return true;
  }

  /** No more data: reports what was read and whether the input ended cleanly. */
  end(): CaptureSummary {
    if (this.summary) return this.summary;
    const fmt: CaptureFormat = this.fmt ?? 'pcap';
    let truncation: string | undefined;
    if (this.mode === Mode.NotCapture || this.mode === Mode.Stopped) {
      truncation = this.problem;
    } else if (this.bytesIn === 0) {
      truncation = 'empty input';
      this.problem = truncation;
    } else if (this.mode === Mode.Detect) {
      truncation = `not a pcap or pcapng capture (only ${this.carryLen} bytes: ${hex(this.carry, 0, this.carryLen)})`;
      this.problem = truncation;
    } else if (this.skip > 0 || this.trailerPending) {
      const have = this.bytesIn - this.trailerBlockAt;
      truncation = `${blockName(this.trailerBlockType)} at offset ${this.trailerBlockAt} cut short (${have} of ${this.trailerExpect} bytes)`;
    } else if (this.carryLen > 0) {
      truncation = this.cutShort();
    }
    const detail = this.pcap?.describe() ?? this.ng?.describe();
    const s: CaptureSummary = {
      format: fmt,
      packets: this.packets,
      truncated: truncation !== undefined,
    };
    if (truncation !== undefined) s.truncation = truncation;
    if (detail) s.detail = detail;
    this.mode = Mode.Ended;
    this.summary = s;
    return s;
  }

  // ---------------------------------------------------------------------------------------------

  private stop(why: string): void {
    this.mode = Mode.Stopped;
    this.problem = why;
  }

  private cutShort(): string {
    const n = this.carryLen;
    const at = this.carryBase;
    if (this.pcap) return this.pcap.cutShort(n, at, this.carryNeed);
    if (n < 12)
      return `${this.ng!.sections === 0 ? 'section header block' : 'block'} at offset ${at} cut short (${n} bytes)`;
    const type = this.carryDv.getUint32(0, this.le);
    const le = blockIsLittleEndian(this.carryDv, 0, this.le);
    return `${blockName(type)} at offset ${at} cut short (${n} of ${this.carryDv.getUint32(4, le)} bytes)`;
  }

  private appendCarry(src: Uint8Array, p: number, n: number): void {
    const want = this.carryLen + n;
    if (want > this.carry.length) {
      // Grow with the data actually received, never straight to an untrusted length.
      let cap = Math.max(this.carry.length * 2, 4096);
      while (cap < want) cap *= 2;
      const next = Buffer.allocUnsafeSlow(Math.min(cap, Math.max(this.carryNeed, want)));
      next.set(this.carry.subarray(0, this.carryLen));
      this.carry = next;
      this.carryDv = new DataView(next.buffer);
    }
    this.carry.set(src.subarray(p, p + n), this.carryLen);
    this.carryLen = want;
  }

  /** The unit at src[p, end) is incomplete: keep it (carry), or skip it (uninteresting pcapng block). */
  private hold(src: Uint8Array, dv: DataView, p: number, end: number, absStart: number): void {
    const avail = end - p;
    let need: number;
    if (this.mode === Mode.Detect) need = 4;
    else if (this.pcap) need = this.pcap.need(dv, p, avail);
    else if (avail < 12) need = 12;
    else {
      const type = dv.getUint32(p, this.le);
      const len = dv.getUint32(p + 4, blockIsLittleEndian(dv, p, this.le));
      if (!isCarriedType(type)) {
        this.trailerPending = true;
        this.trailerExpect = len;
        this.trailerBlockAt = absStart;
        this.trailerBlockType = type;
        this.carryNeed = 4;
        if (avail <= len - 4) {
          this.skip = len - 4 - avail;
          this.carryLen = 0;
        } else {
          // Part of the trailer is here already: keep those 1 to 3 bytes.
          const t = p + len - 4;
          if (src === this.carry) {
            this.carry.copyWithin(0, t, end);
            this.carryLen = end - t;
          } else {
            this.carryLen = 0;
            this.appendCarry(src, t, end - t);
          }
        }
        return;
      }
      // A packet block's captured length is checked as soon as it is here (see PcapngBlocks.scan),
      // so ask for that much first: the outcome must not depend on where chunks were cut.
      need = (type === EPB || type === PB) && avail < 24 && len >= 32 ? 24 : len;
    }
    this.carryNeed = need;
    this.carryBase = absStart;
    if (src === this.carry) {
      if (p > 0) this.carry.copyWithin(0, p, end);
      this.carryLen = avail;
    } else {
      this.carryLen = 0;
      this.appendCarry(src, p, avail);
    }
  }

  /** Processes every whole unit in buf[p, end); returns where the first incomplete one starts. */
  private scan(buf: Uint8Array, dv: DataView, p: number, end: number): number {
    if (this.mode === Mode.Detect) {
      if (end - p < 4) return p;
      this.detect(buf, dv, p);
    }
    let next = p;
    let problem: string | undefined;
    if (this.mode === Mode.Pcap) {
      next = this.pcap!.scan(this.sink, buf, dv, p, end, this.maxCaplen, this.base);
      problem = this.pcap!.problem;
    } else if (this.mode === Mode.Ng) {
      next = this.ng!.scan(this.sink, buf, dv, p, end, this.base);
      problem = this.ng!.problem;
    }
    if (problem !== undefined) this.stop(problem);
    return next;
  }

  private detect(buf: Uint8Array, dv: DataView, p: number): void {
    // A little-endian file shows the magic byte-swapped: try it both ways.
    for (const le of [false, true]) {
      const kind = PCAP_KINDS.get(dv.getUint32(p, le));
      if (kind) {
        this.fmt = 'pcap';
        this.pcap = new PcapRecords(le, kind.nano, kind.recordHeader);
        this.mode = Mode.Pcap;
        return;
      }
    }
    if (dv.getUint32(p, false) === SHB) {
      this.fmt = 'pcapng';
      this.ng = new PcapngBlocks(this.maxCaplen);
      this.mode = Mode.Ng;
      return;
    }
    this.mode = Mode.NotCapture;
    this.problem = `not a pcap or pcapng capture (starts with ${hex(buf, p, p + 4)})`;
  }
}
