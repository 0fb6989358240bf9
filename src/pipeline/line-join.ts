/**
 * Plain-mode line joining for one flow. netconsole sends a plain line in one datagram ending in
 * '\n', unless the line is over 1000 bytes (MAX_PRINT_CHUNK: cut into 1000-byte datagrams) or
 * the kernel is older than 3.5 (one datagram per printk call, the line ending only in the last).
 * A datagram without the newline waits up to the join window for its continuation. Bounded: a
 * line is cut at MAX_PLAIN_LINE.
 */
import type { Timestamp } from './message.js';
import { PacketSample } from './sample.js';

/** A plain line being joined is cut here, bounding memory against a sender that never sends '\n'. */
const MAX_PLAIN_LINE = 64 * 1024;
/** netconsole's MAX_PRINT_CHUNK: the size it cuts a long line at. */
const PLAIN_CUT = 1000;

/**
 * Where a line goes: its text `buf[tOff, tEnd)` (no trailing newline), the printk time when the
 * first datagram had one, the first datagram's arrival time and packet, all packets (undefined
 * for a line in one datagram) and the number of datagrams.
 */
export type LineEmit = (
  buf: Uint8Array,
  tOff: number,
  tEnd: number,
  printkUsec: number | undefined,
  sec: number,
  nsec: number,
  first: number,
  packets: number[] | undefined,
  parts: number,
) => void;

interface InProgress {
  parts: Buffer[];
  length: number;
  printkUsec?: number;
  time: Timestamp;
  lastSec: number;
  lastNsec: number;
  packets: number[];
  /** Every part but the last was exactly 1000 bytes: netconsole's own cut, not one printk per datagram. */
  cutAt1000: boolean;
}

export class LineJoiner {
  /** Lines that came in more than one datagram, by their first packet. */
  readonly split = new PacketSample();
  /** Of those, the lines netconsole cut at 1000 bytes. */
  splitAt1000 = 0;
  private pending?: InProgress;

  constructor(
    private readonly windowNs: number,
    private readonly emit: LineEmit,
  ) {}

  /**
   * One plain datagram: the payload starts at `pOff`, its text (after any `[ts] ` prefix) is
   * `buf[bOff, bEnd)`, `newline` when it ends in '\n'.
   */
  add(
    buf: Uint8Array,
    pOff: number,
    bOff: number,
    bEnd: number,
    newline: boolean,
    printkUsec: number | undefined,
    sec: number,
    nsec: number,
    no: number,
  ): void {
    let pend = this.pending;
    // A datagram with a printk time of its own starts a new line; so does one after the window.
    if (pend && (!this.within(pend, sec, nsec) || (printkUsec !== undefined && !pend.cutAt1000))) {
      this.finish(pend);
      pend = undefined;
    }
    if (!pend && newline) {
      // The common case: one whole line in one datagram.
      return this.emit(buf, bOff, bEnd - 1, printkUsec, sec, nsec, no, undefined, 1);
    }
    // A continuation keeps its own text whole (an old kernel's next printk has no timestamp of its own).
    const from = pend ? pOff : bOff;
    const part = Buffer.from(buf.subarray(from, bEnd));
    if (!pend) {
      pend = { parts: [], length: 0, time: { sec, nsec }, lastSec: sec, lastNsec: nsec, packets: [], cutAt1000: true };
      if (printkUsec !== undefined) pend.printkUsec = printkUsec;
      this.pending = pend;
    }
    if (!newline && bEnd - pOff !== PLAIN_CUT) pend.cutAt1000 = false;
    pend.parts.push(part);
    pend.length += part.length;
    pend.lastSec = sec;
    pend.lastNsec = nsec;
    if (pend.packets.length < 64) pend.packets.push(no);
    if (newline || pend.length >= MAX_PLAIN_LINE) this.finish(pend);
  }

  /** A line waiting past the window at `now` is finished as it is. */
  tick(now: Timestamp): void {
    if (this.pending && !this.within(this.pending, now.sec, now.nsec)) this.finish(this.pending);
  }

  /** End of capture: a line still waiting is finished as it is. */
  flush(): void {
    if (this.pending) this.finish(this.pending);
  }

  private within(p: InProgress, sec: number, nsec: number): boolean {
    return (sec - p.lastSec) * 1e9 + (nsec - p.lastNsec) <= this.windowNs;
  }

  private finish(p: InProgress): void {
    this.pending = undefined;
    const joined = Buffer.concat(p.parts, p.length);
    const end = joined.length > 0 && joined[joined.length - 1] === 0x0a ? joined.length - 1 : joined.length;
    if (p.parts.length > 1) {
      this.split.add(p.packets[0]!);
      if (p.cutAt1000) this.splitAt1000++;
    }
    this.emit(joined, 0, end, p.printkUsec, p.time.sec, p.time.nsec, p.packets[0]!, p.packets, p.parts.length);
  }
}
