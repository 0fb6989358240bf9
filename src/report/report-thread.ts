/**
 * The report's messages written by a thread of their own (report-worker.ts), so that reading and
 * decoding (this thread) and formatting and writing (that one) use two cores. Messages go over in
 * batches (message-batch.ts); at most a few batches are in flight: `drain()` between chunks
 * waits while the writer is behind (a slow reader of stdout), which keeps memory flat. The
 * summary is written by this thread's Reporter, resumed where the other left the report.
 */
import { Worker } from 'node:worker_threads';
import type { Message, MessageBytes } from '../pipeline/types.js';
import { type Batch, BATCH_BYTES, BatchWriter } from './message-batch.js';
import type { ReportFormat, ReportProgress } from './reporter.js';
import { JsonLineEncoder } from './json-bytes.js';
import { Output } from './output.js';

export interface ReportThreadOptions {
  format: ReportFormat;
  verbose: boolean;
  utc: boolean;
  /** The descriptor written (1: standard output). */
  fd: number;
}

export type ToWorker = { kind: 'batch'; batch: Batch } | { kind: 'end' };
export type ToMain =
  { kind: 'free'; bytes: ArrayBuffer } | { kind: 'done'; progress: ReportProgress } | { kind: 'failed'; code: string };

/**
 * The thread's young generation, in MiB (V8 makes it three semi-spaces' worth). V8's default lets
 * it grow to 48: at 5,000,000 datagrams --json peaked at 105-108 MiB RSS with it, 88-93 with 6
 * (and the Messages as JSON in the batch, message-batch.ts), for the same CPU time.
 */
const YOUNG_MB = 6;

/** Batches handed over and not yet written, beyond which `drain()` waits. */
const IN_FLIGHT = 2;

export class ReportThread {
  private readonly worker: Worker;
  private writer = new BatchWriter();
  private readonly free: ArrayBuffer[] = [];
  private inFlight = 0;
  private wake: (() => void) | undefined;
  private readonly done: Promise<ReportProgress>;
  /** Why writing failed (`EPIPE`: the reader is gone), once it has. */
  failure: string | undefined;
  /** Messages handed over so far: where the next one stands in the report. */
  private count = 0;
  /**
   * --json and --jsonl: a Message (ncfrag, dictionaries, syslog: 1.3% of the bench capture's
   * messages, and a tenth of its bytes) is written as JSON here, into `scratch`, and goes over as
   * those bytes: cheaper than serialising it for the other thread to parse and write (measured:
   * see the commit). A message longer than `scratch` takes goes over as the Message.
   */
  private readonly json: { scratch: Output; encoder: JsonLineEncoder; spilled: boolean } | undefined;

  /** @param onFailure called once when a write fails: the caller stops reading. */
  constructor(
    private readonly opts: ReportThreadOptions,
    onFailure: (code: string) => void,
  ) {
    this.worker = new Worker(new URL('./report-worker.js', import.meta.url), {
      workerData: opts,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB },
    });
    this.done = new Promise<ReportProgress>((resolve, reject) => {
      this.worker.on('message', (m: ToMain) => {
        if (m.kind === 'free') {
          this.inFlight--;
          if (this.free.length < 2 * IN_FLIGHT) this.free.push(m.bytes);
          this.wakeUp();
        } else if (m.kind === 'failed') {
          this.failure = m.code;
          this.wakeUp();
          onFailure(m.code);
        } else resolve(m.progress);
      });
      this.worker.on('error', reject);
      this.worker.on('exit', () => reject(new Error('the report thread ended early')));
    });
    this.done.catch(() => {}); // seen by finish()
    if (opts.format !== 'text') {
      const json = {
        // Output writes a string too long for its buffer to the stream: that message goes whole.
        scratch: new Output({ write: () => (json.spilled = true) } as unknown as NodeJS.WritableStream),
        encoder: undefined as unknown as JsonLineEncoder,
        spilled: false,
      };
      json.encoder = new JsonLineEncoder(json.scratch);
      this.json = json;
    }
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private send(): void {
    const batch = this.writer.take(this.free.pop() ?? new ArrayBuffer(BATCH_BYTES));
    this.inFlight++;
    this.worker.postMessage({ kind: 'batch', batch } satisfies ToWorker, [batch.bytes]);
  }

  /** PipelineOptions.onMessageBytes: every common message is taken (the thread decides how to write it). */
  messageBytes = (v: MessageBytes): boolean => {
    if (!this.writer.addBytes(v)) {
      this.send();
      this.writer.addBytes(v);
    }
    this.count++;
    return true;
  };

  /** PipelineOptions.onMessage. */
  message = (m: Message): void => {
    const json = this.json;
    if (json) {
      const out = json.scratch;
      out.off = 0;
      json.spilled = false;
      json.encoder.writeMessage(m, this.opts.format === 'jsonl' ? 'jsonl' : this.count ? 'next' : 'first');
      if (!json.spilled && out.off <= BATCH_BYTES - 5) {
        if (!this.writer.addEncoded(out.buf, 0, out.off)) {
          this.send();
          this.writer.addEncoded(out.buf, 0, out.off);
        }
        this.count++;
        return;
      }
    }
    if (!this.writer.addMessage(m)) {
      this.send();
      this.writer.addMessage(m);
    }
    this.count++;
  };

  /** Hands over what is batched, and waits while the writer is behind; `stop` ends the wait. */
  async drain(stop?: Promise<unknown>): Promise<void> {
    if (this.writer.length) this.send();
    while (this.inFlight > IN_FLIGHT && this.failure === undefined) {
      const woken = new Promise<void>(resolve => (this.wake = resolve));
      if (stop) {
        if ((await Promise.race([woken.then(() => false), stop.then(() => true)])) === true) return;
      } else await woken;
    }
  }

  /** Waits until every message is written; returns how far the report went, for the summary. */
  async finish(): Promise<ReportProgress> {
    if (this.writer.length) this.send();
    this.worker.postMessage({ kind: 'end' } satisfies ToWorker);
    try {
      return await this.done;
    } finally {
      void this.worker.terminate();
    }
  }

  /** Ends the thread without waiting (an error elsewhere ends the run). */
  close(): void {
    void this.worker.terminate();
  }
}
