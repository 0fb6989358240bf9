/**
 * A push-based, streaming decoder for capture files: classic pcap (microsecond, nanosecond and
 * Kuznetsov's modified format, either byte order) and pcapng (any number of sections, several
 * interfaces with their own link type and timestamp resolution).
 *
 * Pure: no I/O. Feed it chunks of any size with `push()`, then call `end()`. Each packet goes to
 * the sink as `(buf, offset, caplen, ...)` pointing into the chunk that was pushed; only a record
 * that straddles two chunks is copied (into a carry buffer, reused). Damaged data never throws:
 * the decoder stops, and `end()` reports `truncated: true` with what and where.
 */
import type { CaptureFormat, CaptureSummary, PacketSink } from './sink.js';

/** Largest captured length accepted in one packet (libpcap's MAXIMUM_SNAPLEN). */
export const MAX_CAPLEN = 262_144;
/** Largest pcapng block length accepted at all; longer is taken as damage. */
export const MAX_BLOCK_LENGTH = 256 * 1024 * 1024;
/**
 * Largest pcapng block this decoder copies to carry it across chunks (section headers, interface
 * descriptions and packet blocks: other blocks are skipped without copying).
 */
export const MAX_CARRIED_BLOCK = 16 * 1024 * 1024;
/** Interfaces per section beyond which a file is taken as hostile. */
export const MAX_INTERFACES = 65_536;

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
  PcapHeader,
  PcapRecords,
  Ng,
  NotCapture,
  Stopped,
  Ended,
}

const SHB = 0x0a0d0d0a;
const IDB = 1;
const PB = 2;
const SPB = 3;
const EPB = 6;
const BOM = 0x1a2b3c4d;
const TWO32 = 4_294_967_296;
/** Below this high word a 64-bit count is < 2^52 and plain float arithmetic is exact. */
const FAST_HI = 1 << 20;

const hex = (b: Uint8Array, from: number, to: number): string => {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(b[i]!.toString(16).padStart(2, '0'));
  return out.join(' ');
};

const blockName = (type: number): string => {
  switch (type) {
    case SHB: return 'section header block';
    case IDB: return 'interface description block';
    case PB: return 'packet block';
    case SPB: return 'simple packet block';
    case EPB: return 'enhanced packet block';
    default: return `block (type 0x${(type >>> 0).toString(16)})`;
  }
};

const isCarriedType = (type: number): boolean =>
  type === EPB || type === SHB || type === IDB || type === SPB || type === PB;

export class CaptureDecoder {
  private readonly sink: PacketSink;
  private readonly maxCaplen: number;

  private mode: Mode = Mode.Detect;
  private fmt: CaptureFormat | undefined;
  private le = true;
  private problem: string | undefined;
  private detailText = '';
  private packetCount = 0;
  private bytesIn = 0;

  /** Absolute offset of byte 0 of what `scan` is looking at (chunk or carry). */
  private base = 0;
  /** Absolute offset of the next chunk's byte 0. */
  private nextChunkBase = 0;

  // Carry: one partial unit (header, record or block) straddling chunks.
  private carry = new Uint8Array(0);
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

  // classic pcap
  private recHdr = 16;
  private linkType = 0;
  private fracLimit = 1_000_000;
  private fracMul = 1000;

  // pcapng: current section's interfaces, as parallel arrays (no objects on the hot path)
  private sections = 0;
  private ifCount = 0;
  private totalInterfaces = 0;
  private ifLink: number[] = [];
  private ifSnap: number[] = [];
  /** Timestamp units per second, when < 2^32 (else 0 and `ifBig` is used). */
  private ifUnits: number[] = [];
  /** nsec = floor(frac * ifNumer / ifDenom) */
  private ifNumer: number[] = [];
  private ifDenom: number[] = [];
  private ifOffset: number[] = [];
  /** Units per second as a BigInt for resolutions finer than 2^-31 s (rare: not the hot path). */
  private ifBig: Array<bigint | undefined> = [];
  private linkTypesSeen = new Set<number>();
  private byteOrdersSeen = 0; // bit 1: little-endian section, bit 2: big-endian section

  // scratch results of timestamp conversion (avoid returning objects)
  private tsSec = 0;
  private tsNsec = 0;

  private summary: CaptureSummary | undefined;

  constructor(sink: PacketSink, options: CaptureDecoderOptions = {}) {
    this.sink = sink;
    this.maxCaplen = options.maxCaplen ?? MAX_CAPLEN;
  }

  get status(): DecoderStatus {
    switch (this.mode) {
      case Mode.Detect: return 'detecting';
      case Mode.NotCapture: return 'not-capture';
      case Mode.Stopped: return 'stopped';
      case Mode.Ended: return 'ended';
      default: return 'reading';
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
    return this.packetCount;
  }

  /** Bytes pushed so far. */
  get bytesPushed(): number {
    return this.bytesIn;
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
          this.stop(`${blockName(this.trailerBlockType)} at offset ${this.trailerBlockAt}: trailing length ${got} differs from leading length ${this.trailerExpect}`);
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
    const detail = this.describe();
    const s: CaptureSummary = {
      format: fmt,
      packets: this.packetCount,
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
    switch (this.mode) {
      case Mode.PcapHeader:
        return `file header cut short (${n} of 24 bytes)`;
      case Mode.PcapRecords:
        return n < this.recHdr
          ? `packet record at offset ${at} cut short (${n} of ${this.recHdr} header bytes)`
          : `packet record at offset ${at} cut short (${n} of ${this.carryNeed} bytes)`;
      default: {
        if (n < 12) return `${this.sections === 0 ? 'section header block' : 'block'} at offset ${at} cut short (${n} bytes)`;
        const type = this.carryDv.getUint32(0, this.le);
        const le = type === SHB ? this.carryDv.getUint32(8, true) === BOM : this.le;
        return `${blockName(type)} at offset ${at} cut short (${n} of ${this.carryDv.getUint32(4, le)} bytes)`;
      }
    }
  }

  private describe(): string {
    if (this.fmt === 'pcap') {
      const res = this.fracLimit === 1_000_000 ? 'microseconds' : 'nanoseconds';
      const kind = this.recHdr === 24 ? 'pcap (modified, Kuznetsov)' : 'pcap';
      return `${kind}, ${this.le ? 'little' : 'big'}-endian, ${res}, link type ${this.linkType}`;
    }
    if (this.fmt === 'pcapng') {
      const lts = [...this.linkTypesSeen].join(', ');
      const order = this.byteOrdersSeen === 3 ? 'little- and big-endian sections' : `${this.le ? 'little' : 'big'}-endian`;
      return `pcapng, ${order}, ${this.sections} section${this.sections === 1 ? '' : 's'}, ` +
        `${this.totalInterfaces} interface${this.totalInterfaces === 1 ? '' : 's'}` + (lts ? `, link type${this.linkTypesSeen.size === 1 ? '' : 's'} ${lts}` : '');
    }
    return '';
  }

  private appendCarry(src: Uint8Array, p: number, n: number): void {
    const want = this.carryLen + n;
    if (want > this.carry.length) {
      // Grow with the data actually received, never straight to an untrusted length.
      let cap = Math.max(this.carry.length * 2, 4096);
      while (cap < want) cap *= 2;
      const next = new Uint8Array(Math.min(cap, Math.max(this.carryNeed, want)));
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
    switch (this.mode) {
      case Mode.Detect: need = 4; break;
      case Mode.PcapHeader: need = 24; break;
      case Mode.PcapRecords:
        need = avail < this.recHdr ? this.recHdr : this.recHdr + dv.getUint32(p + 8, this.le);
        break;
      default: {
        if (avail < 12) {
          need = 12;
          break;
        }
        const type = dv.getUint32(p, this.le);
        const le = type === SHB ? dv.getUint32(p + 8, true) === BOM : this.le;
        const len = dv.getUint32(p + 4, le);
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
        // A packet block's captured length is checked as soon as it is here (see scanNg), so
        // ask for that much first: the outcome must not depend on where chunks were cut.
        need = (type === EPB || type === PB) && avail < 24 && len >= 32 ? 24 : len;
      }
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
    for (;;) {
      switch (this.mode) {
        case Mode.Detect:
          if (end - p < 4) return p;
          this.detect(buf, dv, p);
          continue;
        case Mode.PcapHeader:
          if (end - p < 24) return p;
          this.pcapHeader(dv, p);
          p += 24;
          continue;
        case Mode.PcapRecords:
          return this.scanPcap(buf, dv, p, end);
        case Mode.Ng:
          return this.scanNg(buf, dv, p, end);
        default:
          return p;
      }
    }
  }

  private detect(buf: Uint8Array, dv: DataView, p: number): void {
    const m = dv.getUint32(p, false);
    const pcap = (le: boolean, nano: boolean, hdr: number): void => {
      this.fmt = 'pcap';
      this.le = le;
      this.recHdr = hdr;
      this.fracLimit = nano ? 1_000_000_000 : 1_000_000;
      this.fracMul = nano ? 1 : 1000;
      this.mode = Mode.PcapHeader;
    };
    switch (m) {
      case 0xa1b2c3d4: return pcap(false, false, 16);
      case 0xd4c3b2a1: return pcap(true, false, 16);
      case 0xa1b23c4d: return pcap(false, true, 16);
      case 0x4d3cb2a1: return pcap(true, true, 16);
      case 0xa1b2cd34: return pcap(false, false, 24);
      case 0x34cdb2a1: return pcap(true, false, 24);
      case SHB:
        this.fmt = 'pcapng';
        this.mode = Mode.Ng;
        return;
      default:
        this.mode = Mode.NotCapture;
        this.problem = `not a pcap or pcapng capture (starts with ${hex(buf, p, p + 4)})`;
    }
  }

  private pcapHeader(dv: DataView, p: number): void {
    // Upper 16 bits carry FCS-length flags and reserved bits; libpcap masks them off.
    this.linkType = dv.getUint32(p + 20, this.le) & 0xffff;
    this.mode = Mode.PcapRecords;
  }

  private scanPcap(buf: Uint8Array, dv: DataView, p: number, end: number): number {
    const le = this.le;
    const hdr = this.recHdr;
    const sink = this.sink;
    const lt = this.linkType;
    const maxCap = this.maxCaplen;
    const fracLimit = this.fracLimit;
    const fracMul = this.fracMul;
    let n = 0;
    while (end - p >= hdr) {
      const caplen = dv.getUint32(p + 8, le);
      if (caplen > maxCap) {
        this.stop(`packet record at offset ${this.base + p} has captured length ${caplen}, more than ${maxCap}`);
        break;
      }
      const next = p + hdr + caplen;
      if (next > end) break;
      let sec = dv.getUint32(p, le);
      const frac = dv.getUint32(p + 4, le);
      let nsec: number;
      if (frac < fracLimit) {
        nsec = frac * fracMul;
      } else {
        // Out-of-range fraction (damaged or odd writer): carry the excess into the seconds.
        const q = Math.floor(frac / fracLimit);
        sec += q;
        nsec = (frac - q * fracLimit) * fracMul;
      }
      sink.packet(buf, p + hdr, caplen, dv.getUint32(p + 12, le), sec, nsec, lt);
      n++;
      p = next;
    }
    this.packetCount += n;
    return p;
  }

  private scanNg(buf: Uint8Array, dv: DataView, p: number, end: number): number {
    const sink = this.sink;
    while (end - p >= 12) {
      let le = this.le;
      const type = dv.getUint32(p, le);
      if (type === SHB) {
        const bom = dv.getUint32(p + 8, true);
        if (bom === BOM) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else {
          this.stop(`section header block at offset ${this.base + p} has an unknown byte-order magic 0x${bom.toString(16).padStart(8, '0')}`);
          return p;
        }
      } else if (this.sections === 0) {
        this.stop(`block at offset ${this.base + p} comes before any section header block`);
        return p;
      }
      const len = dv.getUint32(p + 4, le);
      if (len < 12 || (len & 3) !== 0 || len > MAX_BLOCK_LENGTH) {
        const why = len < 12 ? 'less than 12' : (len & 3) !== 0 ? 'not a multiple of 4' : `more than ${MAX_BLOCK_LENGTH}`;
        this.stop(`${blockName(type)} at offset ${this.base + p} has an impossible length ${len} (${why})`);
        return p;
      }
      if (len > MAX_CARRIED_BLOCK && isCarriedType(type)) {
        this.stop(`${blockName(type)} at offset ${this.base + p} is ${len} bytes long, more than this reader accepts (${MAX_CARRIED_BLOCK})`);
        return p;
      }
      if ((type === EPB || type === PB) && len >= 32 && end - p >= 24) {
        // Reject an absurd captured length as soon as the header is here, before carrying.
        const c = dv.getUint32(p + 20, le);
        if (c > this.maxCaplen) {
          this.stop(`${blockName(type)} at offset ${this.base + p} has captured length ${c}, more than ${this.maxCaplen}`);
          return p;
        }
      }
      if (end - p < len) return p;
      const trailer = dv.getUint32(p + len - 4, le);
      if (trailer !== len) {
        this.stop(`${blockName(type)} at offset ${this.base + p}: trailing length ${trailer} differs from leading length ${len}`);
        return p;
      }
      if (type === EPB || type === PB) {
        if (len < 32) {
          this.stop(`${blockName(type)} at offset ${this.base + p} is too short (${len} bytes)`);
          return p;
        }
        const ifid = type === EPB ? dv.getUint32(p + 8, le) : dv.getUint16(p + 8, le);
        if (ifid >= this.ifCount) {
          this.stop(`${blockName(type)} at offset ${this.base + p} refers to interface ${ifid}, but the section has ${this.ifCount}`);
          return p;
        }
        const caplen = dv.getUint32(p + 20, le);
        if (caplen > len - 32 || caplen > this.maxCaplen) {
          this.stop(`${blockName(type)} at offset ${this.base + p} has captured length ${caplen}, more than ${caplen > len - 32 ? `the block holds (${len - 32})` : this.maxCaplen}`);
          return p;
        }
        if (!this.timestamp(ifid, dv.getUint32(p + 12, le), dv.getUint32(p + 16, le))) {
          return p;
        }
        sink.packet(buf, p + 28, caplen, dv.getUint32(p + 24, le), this.tsSec, this.tsNsec, this.ifLink[ifid]!);
        this.packetCount++;
      } else if (type === SPB) {
        if (len < 16) {
          this.stop(`simple packet block at offset ${this.base + p} is too short (${len} bytes)`);
          return p;
        }
        if (this.ifCount === 0) {
          this.stop(`simple packet block at offset ${this.base + p} comes before any interface description block`);
          return p;
        }
        const origlen = dv.getUint32(p + 8, le);
        let caplen = Math.min(origlen, len - 16);
        const snap = this.ifSnap[0]!;
        if (snap !== 0 && caplen > snap) caplen = snap;
        if (caplen > this.maxCaplen) {
          this.stop(`simple packet block at offset ${this.base + p} has captured length ${caplen}, more than ${this.maxCaplen}`);
          return p;
        }
        sink.packet(buf, p + 12, caplen, origlen, 0, 0, this.ifLink[0]!);
        this.packetCount++;
      } else if (type === SHB) {
        if (!this.sectionHeader(dv, p, len, le)) return p;
      } else if (type === IDB) {
        if (!this.interfaceDescription(dv, p, len)) return p;
      }
      p += len;
    }
    return p;
  }

  private sectionHeader(dv: DataView, p: number, len: number, le: boolean): boolean {
    if (len < 28) {
      this.stop(`section header block at offset ${this.base + p} is too short (${len} bytes)`);
      return false;
    }
    const major = dv.getUint16(p + 12, le);
    const minor = dv.getUint16(p + 14, le);
    if (major !== 1) {
      this.stop(`section header block at offset ${this.base + p} has unsupported version ${major}.${minor}`);
      return false;
    }
    this.le = le;
    this.byteOrdersSeen |= le ? 1 : 2;
    this.sections++;
    this.ifCount = 0;
    this.ifLink.length = 0;
    this.ifSnap.length = 0;
    this.ifUnits.length = 0;
    this.ifNumer.length = 0;
    this.ifDenom.length = 0;
    this.ifOffset.length = 0;
    this.ifBig.length = 0;
    return true;
  }

  private interfaceDescription(dv: DataView, p: number, len: number): boolean {
    const at = this.base + p;
    if (len < 20) {
      this.stop(`interface description block at offset ${at} is too short (${len} bytes)`);
      return false;
    }
    if (this.ifCount >= MAX_INTERFACES) {
      this.stop(`interface description block at offset ${at}: more than ${MAX_INTERFACES} interfaces in one section`);
      return false;
    }
    const le = this.le;
    const linkType = dv.getUint16(p + 8, le);
    const snap = dv.getUint32(p + 12, le);
    let tsresol = 6;
    let offset = 0;
    // Options: code(2) length(2) value padded to 4. A malformed option ends the list (the
    // packets are still readable with the defaults).
    let o = p + 16;
    const oEnd = p + len - 4;
    while (oEnd - o >= 4) {
      const code = dv.getUint16(o, le);
      const olen = dv.getUint16(o + 2, le);
      if (code === 0) break;
      const padded = (olen + 3) & ~3;
      if (o + 4 + padded > oEnd) break;
      if (code === 9 && olen >= 1) tsresol = dv.getUint8(o + 4);
      else if (code === 14 && olen >= 8) {
        const a = dv.getUint32(o + 4, le);
        const b = dv.getUint32(o + 8, le);
        // signed 64-bit seconds
        offset = le ? dv.getInt32(o + 8, le) * TWO32 + a : dv.getInt32(o + 4, le) * TWO32 + b;
      }
      o += 4 + padded;
    }
    const base2 = (tsresol & 0x80) !== 0;
    const exp = tsresol & 0x7f;
    let units = 0;
    let numer = 0;
    let denom = 1;
    let big: bigint | undefined;
    if (!base2 && exp <= 9) {
      units = 10 ** exp;
      numer = 10 ** (9 - exp);
    } else if (base2 && exp <= 31) {
      // 1e9 = 2^9 * 1953125: keeps frac * numer below 2^53.
      units = 2 ** exp;
      numer = 1953125 * 2 ** Math.max(0, 9 - exp);
      denom = 2 ** Math.max(0, exp - 9);
    } else if ((!base2 && exp <= 19) || (base2 && exp <= 63)) {
      big = base2 ? 1n << BigInt(exp) : 10n ** BigInt(exp);
    } else {
      this.stop(`interface description block at offset ${at} has an unsupported timestamp resolution (if_tsresol 0x${tsresol.toString(16)})`);
      return false;
    }
    const i = this.ifCount++;
    this.totalInterfaces++;
    this.ifLink[i] = linkType;
    this.ifSnap[i] = snap;
    this.ifUnits[i] = units;
    this.ifNumer[i] = numer;
    this.ifDenom[i] = denom;
    this.ifOffset[i] = offset;
    this.ifBig[i] = big;
    this.linkTypesSeen.add(linkType);
    return true;
  }

  /**
   * Converts the 64-bit count (hi, lo) in interface `i`'s units to (tsSec, tsNsec), exactly,
   * with float arithmetic split so no intermediate exceeds 2^53.
   */
  private timestamp(i: number, hi: number, lo: number): boolean {
    const units = this.ifUnits[i]!;
    let sec: number;
    let frac: number;
    if (units === 0) return this.timestampBig(i, hi, lo);
    if (hi < FAST_HI) {
      const v = hi * TWO32 + lo;
      sec = Math.floor(v / units);
      frac = v - sec * units;
      if (frac < 0) { sec--; frac += units; } else if (frac >= units) { sec++; frac -= units; }
    } else {
      // Long division of hi:lo by units (< 2^32) in 16-bit steps.
      const qh = Math.floor(hi / units);
      const rh = hi - qh * units;
      const t1 = rh * 65536 + (lo >>> 16);
      const q1 = Math.floor(t1 / units);
      const t2 = (t1 - q1 * units) * 65536 + (lo & 0xffff);
      const q2 = Math.floor(t2 / units);
      frac = t2 - q2 * units;
      sec = qh * TWO32 + q1 * 65536 + q2;
    }
    const denom = this.ifDenom[i]!;
    this.tsSec = sec + this.ifOffset[i]!;
    this.tsNsec = denom === 1 ? frac * this.ifNumer[i]! : Math.floor((frac * this.ifNumer[i]!) / denom);
    return true;
  }

  /** Resolutions finer than 2^-31 s (picoseconds and the like): exotic, so BigInt is acceptable. */
  private timestampBig(i: number, hi: number, lo: number): boolean {
    const units = this.ifBig[i]!;
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    const sec = v / units;
    const nsec = ((v % units) * 1_000_000_000n) / units;
    this.tsSec = Number(sec) + this.ifOffset[i]!;
    this.tsNsec = Number(nsec);
    return true;
  }
}
