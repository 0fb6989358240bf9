/**
 * A compact in-memory queue between a live capture and its consumer. cap's kernel ring gives
 * every packet a 64 KiB slot (see live.ts), so while netdiag decodes and prints, a burst fills the
 * ring after a couple of thousand packets. Copying each packet here (a few hundred bytes, well
 * under a microsecond) and decoding in chunks between reads keeps the ring drained at cap's own
 * speed; the backlog waits here, in memory sized for packets as they are.
 *
 * Packets are stored in pages (1 MiB of bytes, up to 16,384 packets each); a page is reused once
 * consumed. When `maxBytes` of pages are in use, new packets are dropped and counted.
 */
import type { PacketSink } from './sink.js';

const PAGE_BYTES = 1 << 20;
const PAGE_PACKETS = 16384;
/** Per packet: offset, caplen, origlen, sec, nsec, linkType. */
const META = 6;

interface Page {
  buf: Buffer;
  meta: Float64Array;
  used: number;
  count: number;
  read: number;
}

export interface PacketQueueOptions {
  /** Most memory for queued packets. @default 256 MiB */
  maxBytes?: number;
  /** Packets handed on per turn of the event loop before cap is read again. @default 512 */
  chunk?: number;
  /** How the next chunk is scheduled. @default setImmediate */
  schedule?: (f: () => void) => void;
}

export class PacketQueue implements PacketSink {
  private pages: Page[] = [];
  private free: Page[] = [];
  private readonly maxPages: number;
  private readonly chunk: number;
  private readonly schedule: (f: () => void) => void;
  private scheduled = false;
  private queued = 0;
  /** Packets refused because the queue was full. */
  dropped = 0;
  /** Most packets waiting at once. */
  peak = 0;

  constructor(
    private readonly sink: PacketSink,
    opts: PacketQueueOptions = {},
  ) {
    this.maxPages = Math.max(1, Math.floor((opts.maxBytes ?? 256 * PAGE_BYTES) / PAGE_BYTES));
    this.chunk = opts.chunk ?? 512;
    this.schedule = opts.schedule ?? setImmediate;
  }

  /** Packets waiting. */
  get length(): number {
    return this.queued;
  }

  readonly packet: PacketSink['packet'] = (buf, offset, caplen, origlen, tsSec, tsNsec, linkType) => {
    let page = this.pages[this.pages.length - 1];
    if (!page || page.count === PAGE_PACKETS || page.used + caplen > PAGE_BYTES) {
      const next = this.newPage(caplen);
      if (!next) {
        this.dropped++;
        return;
      }
      page = next;
    }
    page.buf.set(buf.subarray(offset, offset + caplen), page.used);
    const m = page.count * META;
    page.meta[m] = page.used;
    page.meta[m + 1] = caplen;
    page.meta[m + 2] = origlen;
    page.meta[m + 3] = tsSec;
    page.meta[m + 4] = tsNsec;
    page.meta[m + 5] = linkType;
    page.used += caplen;
    page.count++;
    if (++this.queued > this.peak) this.peak = this.queued;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.turn);
    }
  };

  /** Hands on up to `max` queued packets now; returns how many. */
  drain(max = Infinity): number {
    let n = 0;
    while (n < max && this.queued > 0) {
      const page = this.pages[0]!;
      if (page.read === page.count) {
        // Consumed; the last page stays to be appended to.
        if (this.pages.length === 1) break;
        this.recycle(this.pages.shift()!);
        continue;
      }
      const m = page.read * META;
      page.read++;
      this.queued--;
      n++;
      this.sink.packet(
        page.buf,
        page.meta[m]!,
        page.meta[m + 1]!,
        page.meta[m + 2]!,
        page.meta[m + 3]!,
        page.meta[m + 4]!,
        page.meta[m + 5]!,
      );
    }
    if (this.queued === 0 && this.pages.length === 1) {
      const p = this.pages[0]!;
      p.used = p.count = p.read = 0;
    }
    return n;
  }

  private turn = (): void => {
    this.scheduled = false;
    this.drain(this.chunk);
    if (this.queued > 0 && !this.scheduled) {
      this.scheduled = true;
      this.schedule(this.turn);
    }
  };

  private newPage(caplen: number): Page | undefined {
    if (caplen > PAGE_BYTES) return undefined;
    if (this.pages.length >= this.maxPages) return undefined;
    let page = this.free.pop();
    if (!page) {
      page = {
        buf: Buffer.allocUnsafe(PAGE_BYTES),
        meta: new Float64Array(PAGE_PACKETS * META),
        used: 0,
        count: 0,
        read: 0,
      };
    }
    this.pages.push(page);
    return page;
  }

  private recycle(page: Page): void {
    page.used = page.count = page.read = 0;
    if (this.free.length < 4) this.free.push(page);
  }
}
