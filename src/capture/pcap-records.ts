/**
 * Classic pcap records, once the decoder (reader.ts) has recognised the magic number: the file
 * header's link type, then records of `recordHeader` bytes plus the packet, handed to the sink.
 * Microsecond or nanosecond timestamps, either byte order, Kuznetsov's modified records. Pure.
 */
import type { PacketSink } from './sink.js';
import { PCAP_FILE_HEADER_LEN, PCAP_MODIFIED_RECORD_HEADER_LEN } from './format.js';

export class PcapRecords {
  /** The file header has been read. */
  headerRead = false;
  linkType = 0;
  packets = 0;
  /** Why reading stopped (damaged data), once it has. */
  problem: string | undefined;
  private readonly fracLimit: number;
  private readonly fracMul: number;

  constructor(
    readonly le: boolean,
    readonly nano: boolean,
    readonly recordHeader: number,
  ) {
    this.fracLimit = nano ? 1_000_000_000 : 1_000_000;
    this.fracMul = nano ? 1 : 1000;
  }

  /**
   * Bytes the next unit needs when `avail` of it are at `dv[p]`: the file header, a record header,
   * or the whole record.
   */
  need(dv: DataView, p: number, avail: number): number {
    if (!this.headerRead) return PCAP_FILE_HEADER_LEN;
    return avail < this.recordHeader ? this.recordHeader : this.recordHeader + dv.getUint32(p + 8, this.le);
  }

  /** Why the unit of `n` bytes at `at` could not be finished (the input ended). */
  cutShort(n: number, at: number, need: number): string {
    if (!this.headerRead) return `file header cut short (${n} of ${PCAP_FILE_HEADER_LEN} bytes)`;
    return n < this.recordHeader
      ? `packet record at offset ${at} cut short (${n} of ${this.recordHeader} header bytes)`
      : `packet record at offset ${at} cut short (${n} of ${need} bytes)`;
  }

  describe(): string {
    const res = this.nano ? 'nanoseconds' : 'microseconds';
    const kind = this.recordHeader === PCAP_MODIFIED_RECORD_HEADER_LEN ? 'pcap (modified, Kuznetsov)' : 'pcap';
    return `${kind}, ${this.le ? 'little' : 'big'}-endian, ${res}, link type ${this.linkType}`;
  }

  /**
   * Hands every whole record in `buf[p, end)` to the sink; returns where the first incomplete
   * one starts (or where damage was found: then `problem` is set). `base` is the absolute offset
   * of `buf[0]`, for messages.
   */
  scan(
    sink: PacketSink,
    buf: Uint8Array,
    dv: DataView,
    p: number,
    end: number,
    maxCaplen: number,
    base: number,
  ): number {
    if (!this.headerRead) {
      if (end - p < PCAP_FILE_HEADER_LEN) return p;
      // Upper 16 bits carry FCS-length flags and reserved bits; libpcap masks them off.
      this.linkType = dv.getUint32(p + 20, this.le) & 0xffff;
      this.headerRead = true;
      p += PCAP_FILE_HEADER_LEN;
    }
    const le = this.le;
    const hdr = this.recordHeader;
    const lt = this.linkType;
    const fracLimit = this.fracLimit;
    const fracMul = this.fracMul;
    // Nothing after the loop reads or writes a property: the loop is compiled while it runs (on-stack
    // replacement), and a property access it had not yet seen after the loop threw that code away
    // at every chunk's end (once per chunk, measured).
    while (end - p >= hdr) {
      const caplen = dv.getUint32(p + 8, le);
      if (caplen > maxCaplen) {
        this.problem = `packet record at offset ${base + p} has captured length ${caplen}, more than ${maxCaplen}`;
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
      this.packets++;
      p = next;
    }
    return p;
  }
}
