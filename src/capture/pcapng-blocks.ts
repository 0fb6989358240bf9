/**
 * pcapng blocks, once the decoder (reader.ts) has recognised a section header: any number of
 * sections, each in its own byte order, with interfaces of their own link type and timestamp
 * resolution (converted to seconds and nanoseconds exactly, without BigInt on the common path);
 * enhanced, simple and obsolete packet blocks handed to the sink; other blocks skipped. Pure.
 */
import type { PacketSink } from './sink.js';
import {
  BLOCK_ENHANCED_PACKET as EPB,
  BLOCK_INTERFACE as IDB,
  BLOCK_PACKET as PB,
  BLOCK_SECTION_HEADER as SHB,
  BLOCK_SIMPLE_PACKET as SPB,
  BYTE_ORDER_MAGIC,
  BYTE_ORDER_MAGIC_SWAPPED,
  OPT_END,
  OPT_IF_TSOFFSET,
  OPT_IF_TSRESOL,
} from './format.js';

/** Largest pcapng block length accepted at all; longer is taken as damage. */
const MAX_BLOCK_LENGTH = 256 * 1024 * 1024;
/**
 * Largest pcapng block the decoder copies to carry it across chunks (section headers, interface
 * descriptions and packet blocks: other blocks are skipped without copying).
 */
const MAX_CARRIED_BLOCK = 16 * 1024 * 1024;
/** Interfaces per section beyond which a file is taken as hostile. */
const MAX_INTERFACES = 65_536;

const TWO32 = 4_294_967_296;
/** Below this high word a 64-bit count is < 2^52 and plain float arithmetic is exact. */
const FAST_HI = 1 << 20;

export const blockName = (type: number): string => {
  switch (type) {
    case SHB:
      return 'section header block';
    case IDB:
      return 'interface description block';
    case PB:
      return 'packet block';
    case SPB:
      return 'simple packet block';
    case EPB:
      return 'enhanced packet block';
    default:
      return `block (type 0x${(type >>> 0).toString(16)})`;
  }
};

/** Blocks read whole (copied across chunks when cut); the others are skipped. */
export const isCarriedType = (type: number): boolean =>
  type === EPB || type === SHB || type === IDB || type === SPB || type === PB;

/** Whether the block at `dv[p]` (at least 12 bytes) is little-endian, given the current section's order. */
export function blockIsLittleEndian(dv: DataView, p: number, sectionLe: boolean): boolean {
  return dv.getUint32(p, sectionLe) === SHB ? dv.getUint32(p + 8, true) === BYTE_ORDER_MAGIC : sectionLe;
}

export class PcapngBlocks {
  /** The current section's byte order. */
  le = true;
  sections = 0;
  packets = 0;
  /** Why reading stopped (damaged data), once it has. */
  problem: string | undefined;

  // The current section's interfaces, as parallel arrays (no objects on the hot path).
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

  constructor(private readonly maxCaplen: number) {}

  describe(): string {
    const lts = [...this.linkTypesSeen].join(', ');
    const order =
      this.byteOrdersSeen === 3 ? 'little- and big-endian sections' : `${this.le ? 'little' : 'big'}-endian`;
    return (
      `pcapng, ${order}, ${this.sections} section${this.sections === 1 ? '' : 's'}, ` +
      `${this.totalInterfaces} interface${this.totalInterfaces === 1 ? '' : 's'}` +
      (lts ? `, link type${this.linkTypesSeen.size === 1 ? '' : 's'} ${lts}` : '')
    );
  }

  private stop(why: string): void {
    this.problem = why;
  }

  /**
   * Handles every whole block in `buf[p, end)`; returns where the first incomplete one starts
   * (or where damage was found: then `problem` is set). `base` is the absolute offset of `buf[0]`.
   */
  scan(sink: PacketSink, buf: Uint8Array, dv: DataView, p: number, end: number, base: number): number {
    while (end - p >= 12) {
      let le = this.le;
      const type = dv.getUint32(p, le);
      if (type === SHB) {
        const bom = dv.getUint32(p + 8, true);
        if (bom === BYTE_ORDER_MAGIC) le = true;
        else if (bom === BYTE_ORDER_MAGIC_SWAPPED) le = false;
        else {
          this.stop(
            `section header block at offset ${base + p} has an unknown byte-order magic 0x${bom.toString(16).padStart(8, '0')}`,
          );
          return p;
        }
      } else if (this.sections === 0) {
        this.stop(`block at offset ${base + p} comes before any section header block`);
        return p;
      }
      const len = dv.getUint32(p + 4, le);
      if (len < 12 || (len & 3) !== 0 || len > MAX_BLOCK_LENGTH) {
        const why =
          len < 12 ? 'less than 12' : (len & 3) !== 0 ? 'not a multiple of 4' : `more than ${MAX_BLOCK_LENGTH}`;
        this.stop(`${blockName(type)} at offset ${base + p} has an impossible length ${len} (${why})`);
        return p;
      }
      if (len > MAX_CARRIED_BLOCK && isCarriedType(type)) {
        this.stop(
          `${blockName(type)} at offset ${base + p} is ${len} bytes long, more than this reader accepts (${MAX_CARRIED_BLOCK})`,
        );
        return p;
      }
      if ((type === EPB || type === PB) && len >= 32 && end - p >= 24) {
        // Reject an absurd captured length as soon as the header is here, before carrying.
        const c = dv.getUint32(p + 20, le);
        if (c > this.maxCaplen) {
          this.stop(`${blockName(type)} at offset ${base + p} has captured length ${c}, more than ${this.maxCaplen}`);
          return p;
        }
      }
      if (end - p < len) return p;
      const trailer = dv.getUint32(p + len - 4, le);
      if (trailer !== len) {
        this.stop(
          `${blockName(type)} at offset ${base + p}: trailing length ${trailer} differs from leading length ${len}`,
        );
        return p;
      }
      if (type === EPB || type === PB) {
        if (len < 32) {
          this.stop(`${blockName(type)} at offset ${base + p} is too short (${len} bytes)`);
          return p;
        }
        const ifid = type === EPB ? dv.getUint32(p + 8, le) : dv.getUint16(p + 8, le);
        if (ifid >= this.ifCount) {
          this.stop(
            `${blockName(type)} at offset ${base + p} refers to interface ${ifid}, but the section has ${this.ifCount}`,
          );
          return p;
        }
        const caplen = dv.getUint32(p + 20, le);
        if (caplen > len - 32 || caplen > this.maxCaplen) {
          this.stop(
            `${blockName(type)} at offset ${base + p} has captured length ${caplen}, more than ${caplen > len - 32 ? `the block holds (${len - 32})` : this.maxCaplen}`,
          );
          return p;
        }
        this.timestamp(ifid, dv.getUint32(p + 12, le), dv.getUint32(p + 16, le));
        sink.packet(buf, p + 28, caplen, dv.getUint32(p + 24, le), this.tsSec, this.tsNsec, this.ifLink[ifid]!);
        this.packets++;
      } else if (type === SPB) {
        if (len < 16) {
          this.stop(`simple packet block at offset ${base + p} is too short (${len} bytes)`);
          return p;
        }
        if (this.ifCount === 0) {
          this.stop(`simple packet block at offset ${base + p} comes before any interface description block`);
          return p;
        }
        const origlen = dv.getUint32(p + 8, le);
        let caplen = Math.min(origlen, len - 16);
        const snap = this.ifSnap[0]!;
        if (snap !== 0 && caplen > snap) caplen = snap;
        if (caplen > this.maxCaplen) {
          this.stop(
            `simple packet block at offset ${base + p} has captured length ${caplen}, more than ${this.maxCaplen}`,
          );
          return p;
        }
        sink.packet(buf, p + 12, caplen, origlen, 0, 0, this.ifLink[0]!);
        this.packets++;
      } else if (type === SHB) {
        if (!this.sectionHeader(dv, p, len, le, base)) return p;
      } else if (type === IDB) {
        if (!this.interfaceDescription(dv, p, len, base)) return p;
      }
      p += len;
    }
    return p;
  }

  private sectionHeader(dv: DataView, p: number, len: number, le: boolean, base: number): boolean {
    if (len < 28) {
      this.stop(`section header block at offset ${base + p} is too short (${len} bytes)`);
      return false;
    }
    const major = dv.getUint16(p + 12, le);
    const minor = dv.getUint16(p + 14, le);
    if (major !== 1) {
      this.stop(`section header block at offset ${base + p} has unsupported version ${major}.${minor}`);
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

  private interfaceDescription(dv: DataView, p: number, len: number, base: number): boolean {
    const at = base + p;
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
      if (code === OPT_END) break;
      const padded = (olen + 3) & ~3;
      if (o + 4 + padded > oEnd) break;
      if (code === OPT_IF_TSRESOL && olen >= 1) tsresol = dv.getUint8(o + 4);
      else if (code === OPT_IF_TSOFFSET && olen >= 8) {
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
      this.stop(
        `interface description block at offset ${at} has an unsupported timestamp resolution (if_tsresol 0x${tsresol.toString(16)})`,
      );
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
  private timestamp(i: number, hi: number, lo: number): void {
    const units = this.ifUnits[i]!;
    let sec: number;
    let frac: number;
    if (units === 0) return this.timestampBig(i, hi, lo);
    if (hi < FAST_HI) {
      const v = hi * TWO32 + lo;
      sec = Math.floor(v / units);
      frac = v - sec * units;
      if (frac < 0) {
        sec--;
        frac += units;
      } else if (frac >= units) {
        sec++;
        frac -= units;
      }
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
  }

  /** Resolutions finer than 2^-31 s (picoseconds and the like): exotic, so BigInt is acceptable. */
  private timestampBig(i: number, hi: number, lo: number): void {
    const units = this.ifBig[i]!;
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    const sec = v / units;
    const nsec = ((v % units) * 1_000_000_000n) / units;
    this.tsSec = Number(sec) + this.ifOffset[i]!;
    this.tsNsec = Number(nsec);
  }
}
