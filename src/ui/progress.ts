/**
 * Progress on stderr with ora, only where it helps: stderr is a TTY that reports a width (ora
 * spins forever on a 0-column TTY), and the user did not ask for quiet or machine output.
 */
import type { Ora } from 'ora';

export interface Progress {
  text(s: string): void;
  succeed(s?: string): void;
  fail(s?: string): void;
  stop(): void;
}

const NONE: Progress = { text() {}, succeed() {}, fail() {}, stop() {} };

export function isInteractive(stream: { isTTY?: boolean; columns?: number }): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) > 0;
}

/** ora is loaded only when it will be shown: it costs start-up time otherwise. */
export async function createProgress(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, enabled: boolean, text: string): Promise<Progress> {
  if (!enabled || !isInteractive(stream)) return NONE;
  const { default: ora } = await import('ora');
  const spinner: Ora = ora({ text, stream: stream as NodeJS.WriteStream, discardStdin: false }).start();
  return {
    text: s => { spinner.text = s; },
    succeed: s => { spinner.succeed(s); },
    fail: s => { spinner.fail(s); },
    stop: () => { spinner.stop(); },
  };
}
