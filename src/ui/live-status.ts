/**
 * What a live command shows while it runs: message lines on stdout as they arrive, and a spinner
 * with counters on stderr, only when stderr is a TTY that reports a width (ora spins forever on a
 * 0-column TTY).
 *
 * The process's stdout is written through AsyncFdWriter, so a slow reader never stops the
 * capture. When stdout and the spinner share a terminal, the spinner is cleared before each
 * write and drawn again after it, and not drawn while a write is under way.
 */
import type { Ora } from 'ora';
import { AsyncFdWriter, MAX_PENDING_CHARS } from './async-output.js';
import { isInteractive } from './progress.js';

type Tty = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; fd?: number };

/**
 * How long a message line may wait before it is written. Short enough to look immediate; long
 * enough that a burst of thousands of messages goes out in a few large writes.
 */
const FLUSH_DELAY_MS = 30;

export interface LiveStatus {
  /** Where the report goes: the process's stdout made asynchronous, or the stream given. */
  readonly stdout: NodeJS.WritableStream;
  /** Resolves with 'output closed' when stdout's reader went away (EPIPE): time to stop. */
  readonly outputClosed: Promise<string>;
  /** New output is pending: flush it within FLUSH_DELAY_MS. */
  scheduleFlush(): void;
  /** Sets the spinner's text (no-op without a spinner). */
  text(s: string): void;
  /** Stops the spinner (before the final lines). */
  stopSpinner(): void;
  /**
   * Stops the spinner and waits until all output is written; `flush: false` drops what the
   * reporter holds (after an error).
   */
  close(opts?: { flush?: boolean }): Promise<void>;
}

/**
 * @param flushOutput writes pending report output (the reporter's buffer) to `stdout`
 * @param enabled false for machine output or when the user asked for quiet
 */
export async function createLiveStatus(
  io: { stdout: Tty; stderr: Tty },
  flushOutput: () => void,
  enabled: boolean,
  initial: string,
): Promise<LiveStatus> {
  let spinner: Ora | undefined;
  let closedOutput: ((why: string) => void) | undefined;
  const outputClosed = new Promise<string>(resolve => (closedOutput = resolve));
  const sameTerminal = io.stdout.isTTY === true && io.stderr.isTTY === true;
  let writer: AsyncFdWriter | undefined;
  if (io.stdout.fd === 1) {
    writer = new AsyncFdWriter(1, {
      before: () => {
        if (sameTerminal) spinner?.clear();
      },
      after: () => {
        if (sameTerminal) spinner?.render();
      },
      onError: () => closedOutput!('output closed'),
    });
  }
  if (enabled && isInteractive(io.stderr)) {
    const { default: ora } = await import('ora');
    const s = ora({ text: initial, stream: io.stderr, discardStdin: false, isEnabled: true });
    // Its timer calls this.render, looked up at start(): not while a line is being written.
    const render = s.render.bind(s);
    s.render = () => (writer?.busy && sameTerminal ? s : render());
    spinner = s.start();
  }
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    flushOutput();
  };
  return {
    stdout: (writer ?? io.stdout) as NodeJS.WritableStream,
    outputClosed,
    scheduleFlush() {
      if (scheduled) return;
      scheduled = true;
      setTimeout(flush, FLUSH_DELAY_MS);
    },
    text(s) {
      if (spinner) spinner.text = s;
    },
    stopSpinner() {
      spinner?.stop();
      spinner = undefined;
    },
    async close(opts = {}) {
      spinner?.stop();
      spinner = undefined;
      if (opts.flush !== false) flushOutput();
      await writer?.drained();
      if (writer?.droppedChars)
        io.stderr.write(
          `netdiag: ${writer.droppedChars} bytes of output were dropped: stdout fell over ${MAX_PENDING_CHARS >> 20} MiB behind (a slow reader or disk); the capture went on\n`,
        );
    },
  };
}
