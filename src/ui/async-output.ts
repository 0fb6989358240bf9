/**
 * Writes a live command's output to a file descriptor without blocking the event loop. Node
 * writes stdout synchronously when it is a file, a pipe or a terminal, so a slow reader (a pipe
 * to `less`, an ssh terminal, a disk under writeback) would stop netdiag from reading the capture
 * while the kernel ring fills and drops packets. Here writes go through libuv's thread pool, one at
 * a time and in order; what is written meanwhile waits in memory and goes out in the next write.
 */
import * as nodeFs from 'node:fs';

export interface AsyncFdWriterHooks {
  /** Before each write (clear a spinner on the same terminal). */
  before?(): void;
  /** After each write (draw it again). */
  after?(): void;
  /** The reader went away (EPIPE) or the write failed: output stops; the command should stop too. */
  onError?(e: NodeJS.ErrnoException): void;
}

/** Bytes per write (see kick). */
const WRITE_BYTES = 128 * 1024;
/** Most bytes waiting for a reader that does not read: beyond, output is dropped and counted. */
export const MAX_PENDING_CHARS = 64 * 1024 * 1024;

interface Pending {
  buf: Uint8Array;
  /** Called once the bytes are written or copied: the caller may reuse `buf` then. */
  done: (() => void) | undefined;
}

export class AsyncFdWriter {
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private inFlight = false;
  private inFlightDone: Array<() => void> = [];
  private waiters: Array<() => void> = [];
  /** Set once a write failed; later output is dropped. */
  failed: NodeJS.ErrnoException | undefined;
  /** Bytes dropped because MAX_PENDING_CHARS bytes were waiting already (the reader stopped reading). */
  droppedChars = 0;

  constructor(
    private readonly fd: number,
    private readonly hooks: AsyncFdWriterHooks = {},
    private readonly fs: Pick<typeof nodeFs, 'write'> = nodeFs,
  ) {}

  /** Bytes waiting to be written (Output's backpressure check reads this). */
  get writableLength(): number {
    return this.pendingBytes;
  }

  /** True while a write is under way. */
  get busy(): boolean {
    return this.inFlight;
  }

  /**
   * Queues `s`. Bytes are kept as they are (not copied) until written: `done` is called then, so
   * a caller that reuses its buffers (the report's Output) waits for it. Strings are encoded here.
   */
  write(s: string | Uint8Array, done?: () => void): boolean {
    if (this.failed || s.length === 0) {
      done?.();
      return true;
    }
    const buf = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    if (this.pendingBytes + buf.length > MAX_PENDING_CHARS) {
      this.droppedChars += buf.length;
      done?.();
      return true;
    }
    this.pending.push({ buf, done });
    this.pendingBytes += buf.length;
    this.kick();
    return true;
  }

  /** Resolves when everything written so far is out (or output failed). */
  drained(): Promise<void> {
    if (!this.inFlight && this.pending.length === 0) return Promise.resolve();
    return new Promise(resolve => this.waiters.push(resolve));
  }

  private kick(): void {
    if (this.inFlight || this.pending.length === 0) return;
    // At most about WRITE_BYTES per write (several small pieces are joined into one): a write of
    // megabytes at once would hold the terminal for long.
    let n = 0;
    let bytes = 0;
    while (n < this.pending.length && (n === 0 || bytes + this.pending[n]!.buf.length <= WRITE_BYTES))
      bytes += this.pending[n++]!.buf.length;
    const taken = this.pending.splice(0, n);
    this.pendingBytes -= bytes;
    let buf: Buffer;
    if (n === 1) {
      const b = taken[0]!.buf;
      buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      if (taken[0]!.done) this.inFlightDone.push(taken[0]!.done);
    } else {
      buf = Buffer.concat(
        taken.map(p => p.buf),
        bytes,
      );
      // copied: their owners may have them back now
      for (const p of taken) p.done?.();
    }
    this.inFlight = true;
    this.hooks.before?.();
    this.writeFrom(buf, 0);
  }

  private writeFrom(buf: Buffer, off: number): void {
    this.fs.write(this.fd, buf, off, buf.length - off, null, (err, n) => {
      if (err) {
        // A descriptor another process left non-blocking: try again shortly.
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.writeFrom(buf, off), 5);
          return;
        }
        this.failed = err;
        for (const p of this.pending) p.done?.();
        this.pending = [];
        this.pendingBytes = 0;
        this.done();
        this.hooks.onError?.(err);
        return;
      }
      if (off + n < buf.length) {
        this.writeFrom(buf, off + n);
        return;
      }
      this.done();
    });
  }

  private done(): void {
    this.inFlight = false;
    const released = this.inFlightDone;
    this.inFlightDone = [];
    for (const f of released) f();
    this.hooks.after?.();
    if (this.pending.length > 0 && !this.failed) {
      this.kick();
      return;
    }
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
