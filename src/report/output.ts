/**
 * Buffered output to a stream, with backpressure: lines are joined into large writes, and a
 * source that reads faster than a pipe drains awaits `drain()` between chunks, so memory stays
 * flat when stdout is slow.
 */
import { once } from 'node:events';

const FLUSH_AT = 64 * 1024;
const HIGH_WATER = 4 * 1024 * 1024;

export class Output {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly stream: NodeJS.WritableStream & { writableLength?: number }) {}

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.size === 0) return;
    this.stream.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  /** Flushes, and waits while the stream holds too much unwritten data. */
  async drain(): Promise<void> {
    this.flush();
    if ((this.stream.writableLength ?? 0) > HIGH_WATER) await once(this.stream, 'drain');
  }
}
