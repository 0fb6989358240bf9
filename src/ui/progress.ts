/**
 * Progress on stderr with ora, only where it helps: stderr is a TTY that reports a width (ora
 * spins forever on a 0-column TTY). Nothing at all is written to stderr otherwise.
 */
import type { Ora } from 'ora';

export interface Progress {
  text(s: string): void;
  succeed(s?: string): void;
  fail(s?: string): void;
  stop(): void;
  /** Takes the spinner off the screen (before other output on the same terminal). */
  clear(): void;
  /** Draws it again after `clear`. */
  render(): void;
  /** True when a spinner is shown. */
  readonly shown: boolean;
}

const NONE: Progress = { text() {}, succeed() {}, fail() {}, stop() {}, clear() {}, render() {}, shown: false };

/**
 * netdiag decides itself whether to animate: a terminal with a width (ora spins forever at 0
 * columns) that is not TERM=dumb. ora is then told so (`isEnabled`), because its own test also
 * turns the spinner off whenever a CI variable is set, even on a real terminal.
 */
export function isInteractive(stream: { isTTY?: boolean; columns?: number }): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) > 0 && process.env.TERM !== 'dumb';
}

/** ora is loaded only when it will be shown: it costs start-up time otherwise. */
export async function createProgress(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  enabled: boolean,
  text: string,
): Promise<Progress> {
  if (!enabled || !isInteractive(stream)) return NONE;
  const { default: ora } = await import('ora');
  const spinner: Ora = ora({ text, stream: stream, discardStdin: false, isEnabled: true }).start();
  return {
    text: s => {
      spinner.text = s;
    },
    succeed: s => {
      spinner.succeed(s);
    },
    fail: s => {
      spinner.fail(s);
    },
    stop: () => {
      spinner.stop();
    },
    clear: () => {
      spinner.clear();
    },
    render: () => {
      if (spinner.isSpinning) spinner.render();
    },
    shown: true,
  };
}

/** `1.2 MB`, `340 kB`: a byte count for a progress line. */
export function bytesText(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}
