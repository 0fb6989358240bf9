/**
 * What a live command shows while it runs: message lines on stdout as they arrive, and a spinner
 * with counters on stderr, only when stderr is a TTY that reports a width (ora spins forever on a
 * 0-column TTY). When both go to the same terminal the spinner is cleared before output is
 * written and drawn again after, so lines never land on the spinner's line.
 */
import type { Ora } from 'ora';
import { isInteractive } from './progress.js';

type Tty = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/**
 * How long a message line may wait before it is written. Short enough to look immediate; long
 * enough that a burst of thousands of messages is written in a few large writes, not one per
 * message (a write to a terminal or pipe blocks netdiag while the capture ring fills).
 */
export const FLUSH_DELAY_MS = 30;

export interface LiveStatus {
  /** New output is pending: flush it within FLUSH_DELAY_MS (one write for a burst of messages). */
  scheduleFlush(): void;
  /** Flushes pending output now. */
  flush(): void;
  /** Sets the spinner's text (no-op without a spinner). */
  text(s: string): void;
  stop(): void;
}

/**
 * @param flushOutput writes pending stdout output (the reporter's buffer)
 * @param enabled false for machine output or when the user asked for quiet
 */
export async function createLiveStatus(io: { stdout: Tty; stderr: Tty }, flushOutput: () => void, enabled: boolean, initial: string): Promise<LiveStatus> {
  let spinner: Ora | undefined;
  if (enabled && isInteractive(io.stderr)) {
    const { default: ora } = await import('ora');
    spinner = ora({ text: initial, stream: io.stderr as NodeJS.WriteStream, discardStdin: false }).start();
  }
  const sameTerminal = spinner !== undefined && io.stdout.isTTY === true;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (sameTerminal) spinner?.clear();
    flushOutput();
    if (sameTerminal) spinner?.render();
  };
  return {
    scheduleFlush() {
      if (scheduled) return;
      scheduled = true;
      setTimeout(flush, FLUSH_DELAY_MS);
    },
    flush,
    text(s) {
      if (spinner) spinner.text = s;
    },
    stop() {
      spinner?.stop();
      spinner = undefined;
    },
  };
}
