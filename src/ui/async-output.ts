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

/** Characters per write (see kick). */
const WRITE_CHARS = 128 * 1024;
/** Most characters waiting for a reader that does not read: beyond, output is dropped and counted. */
export const MAX_PENDING_CHARS = 64 * 1024 * 1024;

export class AsyncFdWriter {
  private pending: string[] = [];
  private pendingChars = 0;
  private inFlight = false;
  private waiters: Array<() => void> = [];
  /** Set once a write failed; later output is dropped. */
  failed: NodeJS.ErrnoException | undefined;
  /** Characters dropped because MAX_PENDING_CHARS were waiting already (the reader stopped reading). */
  droppedChars = 0;

  constructor(
    private readonly fd: number,
    private readonly hooks: AsyncFdWriterHooks = {},
    private readonly fs: Pick<typeof nodeFs, 'write'> = nodeFs,
  ) {}

  /** Characters waiting to be written (Output's backpressure check reads this). */
  get writableLength(): number {
    return this.pendingChars;
  }

  /** True while a write is under way. */
  get busy(): boolean {
    return this.inFlight;
  }

  /** `done` is called at once: the bytes are copied (into a string) before this returns. */
  write(s: string | Uint8Array, done?: () => void): boolean {
    if (this.failed) return true;
    const text = typeof s === 'string' ? s : Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('utf8');
    done?.();
    if (text.length === 0) return true;
    if (this.pendingChars + text.length > MAX_PENDING_CHARS) {
      this.droppedChars += text.length;
      return true;
    }
    this.pending.push(text);
    this.pendingChars += text.length;
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
    // At most about WRITE_CHARS per write: joining and encoding a backlog of megabytes at once
    // would stop the event loop (and the capture) for tens of milliseconds.
    let n = 0;
    let chars = 0;
    while (n < this.pending.length && (n === 0 || chars + this.pending[n]!.length <= WRITE_CHARS))
      chars += this.pending[n++]!.length;
    const buf = Buffer.from(n === 1 ? this.pending[0]! : this.pending.slice(0, n).join(''), 'utf8');
    this.pending.splice(0, n);
    this.pendingChars -= chars;
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
        this.pending = [];
        this.pendingChars = 0;
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
