/**
 * Buffered output to a stream, with backpressure: lines are joined into large writes, and a
 * source that reads faster than a pipe drains awaits `drain()` between chunks, so memory stays
 * flat when stdout is slow.
 */
import { once } from 'node:events';

const FLUSH_AT = 64 * 1024;
const HIGH_WATER = 4 * 1024 * 1024;

export class Output {
  private pending = '';
  constructor(private readonly stream: NodeJS.WritableStream & { writableLength?: number }) {}

  write(s: string): void {
    this.pending += s;
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.stream.write(this.pending);
    this.pending = '';
  }

  /** Flushes, and waits while the stream holds too much unwritten data. */
  async drain(): Promise<void> {
    this.flush();
    if ((this.stream.writableLength ?? 0) > HIGH_WATER) await once(this.stream, 'drain');
  }
}
