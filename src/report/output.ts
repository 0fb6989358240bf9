/**
 * Buffered output to a stream, with backpressure. Lines are encoded into large byte buffers as
 * they come (never kept as strings: a queue of long strings made of thousands of small pieces
 * is what the garbage collector spent most of its time copying), handed to the stream whole,
 * and reused once the stream has written them. A source that reads faster than the stream
 * drains awaits `drain()` between chunks, so memory stays flat when stdout is slow.
 */
import { once } from 'node:events';

/** Bytes per buffer handed to the stream. */
const CHUNK = 256 * 1024;
/** Unwritten bytes the stream may hold before `drain()` waits. */
const HIGH_WATER = 1024 * 1024;
/**
 * Buffers kept for reuse: all that come back, up to this many. Backpressure bounds how many are
 * out at once (about (HIGH_WATER + one chunk's report) / CHUNK); dropping the ones beyond a
 * small pool made garbage that lived until the next full collection (30 MB of it, measured).
 */
const SPARE = 64;

type Stream = NodeJS.WritableStream & { writableLength?: number };

export class Output {
  /** The buffer being filled, and the next byte to fill: see `reserve`. */
  buf: Buffer = Buffer.allocUnsafeSlow(CHUNK);
  off = 0;
  private readonly spare: Buffer[] = [];
  private readonly recycle = (b: Buffer) => () => {
    if (this.spare.length < SPARE) this.spare.push(b);
  };

  /** Called around each write to the stream (a spinner on the same terminal clears itself). */
  around: { before(): void; after(): void } | undefined;

  constructor(private readonly stream: Stream) {}

  private put(chunk: string | Buffer, done?: () => void): void {
    this.around?.before();
    if (done) this.stream.write(chunk, done);
    else this.stream.write(chunk);
    this.around?.after();
  }

  write(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (s.length * 3 > CHUNK - this.off) {
      if (this.off > 0) this.flush();
      if (s.length * 3 > CHUNK) {
        this.put(s);
        return;
      }
    }
    this.off += this.buf.write(s, this.off);
  }

  /**
   * Makes room for `n` bytes (at most CHUNK) at `off` in `buf`, for a caller that writes bytes
   * itself and then advances `off`.
   */
  reserve(n: number): Buffer {
    if (n > CHUNK - this.off) this.flush();
    return this.buf;
  }

  /** The most a caller may `reserve`. */
  static readonly MAX_RESERVE = CHUNK;

  /** Bytes waiting in this buffer and in the stream. */
  get pending(): number {
    return this.off + (this.stream.writableLength ?? 0);
  }

  flush(): void {
    if (this.off === 0) return;
    const b = this.buf;
    const full = this.off === b.length ? b : b.subarray(0, this.off);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
    this.off = 0;
    this.put(full, this.recycle(b));
  }

  /**
   * Flushes, and waits while the stream holds more than it should (a slow reader). Resolves
   * early when `stop` does: a stop must not wait for a reader that does not read.
   */
  async drain(stop?: Promise<unknown>): Promise<void> {
    this.flush();
    if ((this.stream.writableLength ?? 0) <= HIGH_WATER) return;
    const drained = once(this.stream, 'drain');
    drained.catch(() => {}); // an output error is the stream's owner's to report (cli.ts)
    await (stop ? Promise.race([drained, stop]) : drained);
  }
}
