/**
 * The report's thread (started by report-thread.ts): a Reporter that takes the pipeline's
 * messages in batches and writes them to standard output itself, with blocking writes, while
 * the main thread reads and decodes the next chunk. The main thread writes the summary after
 * this thread has written every message (`done`).
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { type Batch, readBatch } from './message-batch.js';
import { Reporter, type ReportProgress } from './reporter.js';
import { PLAIN } from './style.js';
import { widenPipe } from '../io/pipe-size.js';
import type { ReportThreadOptions, ToMain, ToWorker } from './report-thread.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `b` to `fd`. Node leaves a pipe on stdout non-blocking: a full pipe answers
 * EAGAIN, and this thread (which has nothing else to do) waits for the reader, a little longer
 * each time, then tries again.
 */
function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  let wait = 0.02;
  while (off < b.length) {
    try {
      off += writeSync(fd, b, off, b.length - off);
      wait = 0.02;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, wait);
      wait = Math.min(wait * 2, 5);
    }
  }
}

const opts = workerData as ReportThreadOptions;

/**
 * The descriptor to write: a pipe is opened again through /proc (a description of its own, which
 * blocks while the pipe is full, where Node's own is non-blocking); anything else as it is. The
 * open does not wait for a reader: a pipe whose reader is gone (ENXIO) is written as it is, and
 * fails there as the reader's absence should (EPIPE).
 */
function output(fd: number): number {
  try {
    if (!fstatSync(fd).isFIFO()) return fd;
    const probe = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(probe);
    return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY);
  } catch {
    return fd;
  }
}
widenPipe(opts.fd);
const fd = output(opts.fd);
/** Standard output as the Reporter's stream: each write is done when it returns. */
const stdout = {
  writableLength: 0,
  write(chunk: string | Uint8Array, done?: () => void): boolean {
    writeAll(fd, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    done?.();
    return true;
  },
} as unknown as NodeJS.WritableStream;

const reporter = new Reporter(stdout, {
  format: opts.format,
  verbose: opts.verbose,
  utc: opts.utc,
  style: PLAIN,
});
const flows: Parameters<typeof readBatch>[2] = [];
/** Set once a write failed (EPIPE: the reader is gone): what comes after is dropped. */
let failed: string | undefined;
const port = parentPort!;
const post = (m: ToMain, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

function guarded(work: () => void): void {
  if (failed !== undefined) return;
  try {
    work();
  } catch (e) {
    failed = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    post({ kind: 'failed', code: failed });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.kind === 'batch') {
    const batch: Batch = m.batch;
    guarded(() => readBatch(batch, reporter, flows));
    post({ kind: 'free', bytes: batch.bytes }, [batch.bytes]);
  } else {
    guarded(() => reporter.out.flush());
    const progress: ReportProgress = reporter.progress;
    post({ kind: 'done', progress });
  }
});
