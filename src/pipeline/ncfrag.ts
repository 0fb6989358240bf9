/**
 * ncfrag reassembly for one flow: the pieces of an extended message longer than netconsole's
 * datagram (`ncfrag=OFFSET/TOTAL` in the header) put back together, in any order, repeats
 * accepted when they agree. Bounded: at most MAX_PENDING_FRAGS messages in progress per flow,
 * MAX_FRAG_TOTAL bytes each, and MAX_FRAG_BYTES over all flows (a shared `NcfragBudget`). A message
 * that cannot complete (timed out, evicted, end of capture) is handed on with what arrived,
 * marked incomplete.
 */
import type { ExtendedHeader } from '../decode/netconsole.js';
import type { Timestamp } from './message.js';
import { PacketSample } from './sample.js';

/** Largest ncfrag body accepted: the kernel's records are far smaller; bounds memory per message. */
const MAX_FRAG_TOTAL = 64 * 1024;
/** ncfrag messages in progress per flow; the oldest is given up as incomplete beyond this. */
const MAX_PENDING_FRAGS = 32;
/** Bytes of ncfrag messages in progress, over all flows. */
const MAX_FRAG_BYTES = 16 * 1024 * 1024;
/** ncfrag pieces older than this (capture time) are given up as incomplete. */
const FRAG_TIMEOUT_SEC = 10;

/** Spare bodies kept for the next messages (each at most MAX_FRAG_TOTAL). */
const MAX_SPARE_BODIES = 8;

/**
 * Bytes held by messages in progress, shared by every flow's reassembly, and the bodies of
 * messages handed on, kept for the next ones: a body is read only during the emit call, so one
 * buffer serves message after message instead of some 2 KiB allocated per message (46 MB on
 * the bench capture), and the report's writers see the same buffer again (their DataViews).
 */
export class NcfragBudget {
  bytes = 0;
  private readonly spare: Buffer[] = [];

  /**
   * A zeroed body of at least `total` bytes (bytes never received are never shown anyway): a
   * spare at most a quarter larger (so the bytes held stay within 1.25 times the budget), else a
   * new one of `total` bytes.
   */
  take(total: number): Buffer {
    const spare = this.spare;
    for (let i = spare.length - 1; i >= 0; i--) {
      const b = spare[i]!;
      if (b.length >= total && b.length - total <= total >> 2) {
        spare.splice(i, 1);
        return b.fill(0, 0, total);
      }
    }
    return Buffer.alloc(total);
  }

  /** A body handed on: kept for the next message, in place of the smallest spare when they are many. */
  give(body: Buffer): void {
    const spare = this.spare;
    if (spare.length < MAX_SPARE_BODIES) {
      spare.push(body);
      return;
    }
    let min = 0;
    for (let i = 1; i < spare.length; i++) if (spare[i]!.length < spare[min]!.length) min = i;
    if (spare[min]!.length < body.length) spare[min] = body;
  }
}

/**
 * Where a message goes once whole (or given up): its header (the first piece's), the body
 * `body[0, bodyEnd)` (valid only during the call: its buffer serves later messages), the first
 * piece's arrival time, the pieces' packet numbers (the first one first in arrival order) and how
 * many pieces made it.
 */
export type NcfragEmit = (
  h: ExtendedHeader,
  body: Uint8Array,
  bodyEnd: number,
  time: Timestamp,
  packets: number[],
  pieces: number,
  incomplete: boolean,
) => void;

interface InProgress {
  seq: number;
  header: ExtendedHeader;
  total: number;
  body: Buffer;
  /** The [offset, length] of each piece received, so a repeated piece is not counted twice. */
  ranges: Array<[number, number]>;
  received: number;
  pieces: number;
  time: Timestamp;
  packets: number[];
}

export class NcfragReassembly {
  /** Pieces refused as inconsistent, and why (at most 5 reasons). */
  readonly invalid = new PacketSample();
  readonly invalidReasons = new Set<string>();
  /** Messages given up with pieces missing, by the packet of their first piece. */
  readonly incomplete = new PacketSample();
  /** In progress by sequence number, oldest first. */
  private readonly pending = new Map<number, InProgress>();

  constructor(
    private readonly budget: NcfragBudget,
    private readonly emit: NcfragEmit,
  ) {}

  get inProgress(): number {
    return this.pending.size;
  }

  /**
   * One piece: the body is `buf[bOff, bEnd)`, its place in the message is `h.frag`. Returns true
   * when the piece begins a message (the first of its pieces to arrive): the message's place in
   * the sequence is there, whenever it completes or is given up.
   */
  add(h: ExtendedHeader, buf: Uint8Array, bOff: number, bEnd: number, time: Timestamp, no: number): boolean {
    const { offset, total } = h.frag!;
    const len = bEnd - bOff;
    if (total === 0 || total > MAX_FRAG_TOTAL) return this.refuse(no, `ncfrag total ${total} out of range`);
    if (offset + len > total) return this.refuse(no, `ncfrag piece ${offset}+${len} beyond total ${total}`);
    let started = false;
    this.expire(time);
    let f = this.pending.get(h.seq);
    if (f && f.total !== total)
      return this.refuse(no, `ncfrag total changed from ${f.total} to ${total} for seq ${h.seq}`);
    if (!f) {
      if (this.pending.size >= MAX_PENDING_FRAGS) this.giveUp(this.pending.values().next().value!);
      if (this.budget.bytes + total > MAX_FRAG_BYTES)
        return this.refuse(no, `more than ${MAX_FRAG_BYTES >> 20} MiB of ncfrag messages in progress`);
      f = {
        seq: h.seq,
        header: h,
        total,
        body: this.budget.take(total),
        ranges: [],
        received: 0,
        pieces: 0,
        time,
        packets: [],
      };
      this.budget.bytes += total;
      this.pending.set(h.seq, f);
      started = true;
    }
    f.pieces++;
    if (f.packets.length < 64) f.packets.push(no);
    if (!this.copyIn(f, buf, bOff, offset, len, no)) return started;
    if (f.received === f.total) {
      this.pending.delete(h.seq);
      this.budget.bytes -= f.total;
      this.emit(f.header, f.body, f.total, f.time, f.packets, f.pieces, false);
      this.budget.give(f.body);
    }
    return started;
  }

  /** Gives up messages whose first piece is older than FRAG_TIMEOUT_SEC at `now`. */
  expire(now: Timestamp): void {
    for (const f of this.pending.values()) {
      if (now.sec - f.time.sec <= FRAG_TIMEOUT_SEC) break;
      this.giveUp(f);
    }
  }

  /** End of capture: every message in progress is given up. */
  flush(): void {
    for (const f of [...this.pending.values()]) this.giveUp(f);
  }

  /** A piece refused as inconsistent; false (it began no message). */
  private refuse(no: number, reason: string): false {
    this.invalid.add(no);
    if (this.invalidReasons.size < 5) this.invalidReasons.add(reason);
    return false;
  }

  /** Copies a piece in; bytes already covered must agree with what came before. */
  private copyIn(f: InProgress, buf: Uint8Array, bOff: number, offset: number, len: number, no: number): boolean {
    const end = offset + len;
    let overlaps = false;
    for (const [o, l] of f.ranges)
      if (offset < o + l && end > o) {
        overlaps = true;
        break;
      }
    if (!overlaps) {
      f.body.set(buf.subarray(bOff, bOff + len), offset);
      f.ranges.push([offset, len]);
      f.received += len;
      return true;
    }
    // Rare: a repeated or overlapping piece. Every byte already there must agree; then only the
    // new runs are copied, each kept as a range of its own (ranges never overlap).
    const before = f.ranges.slice();
    const covered = (at: number) => before.some(([o, l]) => at >= o && at < o + l);
    for (let i = 0; i < len; i++) {
      const at = offset + i;
      if (covered(at) && f.body[at] !== buf[bOff + i]) {
        this.refuse(no, `ncfrag pieces of seq ${f.seq} disagree at byte ${at}`);
        return false;
      }
    }
    let run = -1;
    for (let i = 0; i <= len; i++) {
      const fresh = i < len && !covered(offset + i);
      if (fresh && run < 0) run = i;
      if (!fresh && run >= 0) {
        f.body.set(buf.subarray(bOff + run, bOff + i), offset + run);
        f.ranges.push([offset + run, i - run]);
        f.received += i - run;
        run = -1;
      }
    }
    return true;
  }

  /** A message that will not complete: handed on with what arrived, marked incomplete. */
  private giveUp(f: InProgress): void {
    this.pending.delete(f.seq);
    this.budget.bytes -= f.total;
    this.incomplete.add(f.packets[0]!);
    // Keep the received runs in order; gaps become nothing (they are unknown bytes).
    const body = Buffer.concat([...f.ranges].sort((a, b) => a[0] - b[0]).map(([o, l]) => f.body.subarray(o, o + l)));
    this.budget.give(f.body);
    this.emit(f.header, body, body.length, f.time, f.packets, f.pieces, true);
  }
}
