/**
 * A command on a real pseudo-terminal with a window size, as a user's shell runs it: `script`
 * (util-linux) makes the pty, `stty` gives it columns and rows (so a spinner draws), and what
 * the test types (`\x03` is Ctrl-C) goes through the terminal's line discipline, which turns
 * Ctrl-C into SIGINT for the foreground process group. How the command ended comes from
 * pty-wrap.js (exit code and signal apart).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from './cli.js';

const wrapper = path.join(projectRoot, 'dist/test/helpers/pty-wrap.js');

interface PtyEnd {
  code: number | null;
  signal: string | null;
  /** Everything the terminal showed, with `\r` and escape sequences as written. */
  screen: string;
}

export interface PtyRun {
  /** What the terminal showed so far. */
  screen(): string;
  /** Types on the terminal (`\x03`: Ctrl-C). */
  type(text: string): void;
  /** The command's pid, once it started. */
  pid(): Promise<number>;
  /** Resolves when the command has ended (and `script` with it). */
  ended: Promise<PtyEnd>;
  /** Kills what is left (teardown). */
  dispose(): void;
}

const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;

/** Runs `argv` on a pty of `cols` x `rows`; `stdoutTo` sends its stdout to a file (or FIFO) instead. */
export function onPty(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; cols?: number; rows?: number; stdoutTo?: string } = {},
): PtyRun {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-pty-'));
  const status = path.join(dir, 'status');
  const inner = [
    process.execPath,
    wrapper,
    status,
    ...(opts.stdoutTo ? ['--stdout', opts.stdoutTo] : []),
    '--',
    ...argv,
  ];
  const cmd = `stty cols ${opts.cols ?? 100} rows ${opts.rows ?? 30}; exec ${inner.map(quote).join(' ')}`;
  const proc = spawn('script', ['-qefc', cmd, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  proc.stdin.on('error', () => {});
  let screen = '';
  proc.stdout.on('data', (b: Buffer) => (screen += b.toString('utf8')));
  proc.stderr.on('data', (b: Buffer) => (screen += b.toString('utf8')));
  const statusText = () => (existsSync(status) ? readFileSync(status, 'utf8') : '');
  const ended = new Promise<PtyEnd>(resolve =>
    proc.once('close', () => {
      const m = /^exit (\S+) (\S+)$/m.exec(statusText());
      resolve({
        code: m && m[1] !== '-' ? Number(m[1]) : null,
        signal: m && m[2] !== '-' ? m[2]! : null,
        screen,
      });
      rmSync(dir, { recursive: true, force: true });
    }),
  );
  return {
    screen: () => screen,
    type: text => proc.stdin.write(text),
    async pid() {
      for (let i = 0; i < 400; i++) {
        const m = /^pid (\d+)$/m.exec(statusText());
        if (m) return Number(m[1]);
        await new Promise(r => setTimeout(r, 50));
      }
      throw new Error(`the command did not start on the pty: ${screen}`);
    },
    ended,
    dispose() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      const m = /^pid (\d+)$/m.exec(statusText());
      if (m && !/^exit /m.test(statusText())) {
        try {
          process.kill(Number(m[1]), 'SIGKILL');
        } catch {
          // gone
        }
      }
    },
  };
}

/**
 * The screen as lines: a spinner redraws its line in place (carriage return, cursor moves, line
 * erase), so every escape sequence and `\r` count as a line break here, and empty lines go.
 */
export function plain(screen: string): string {
  return screen
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n')
    .replace(/\r\n?/g, '\n')
    .replace(/\n{2,}/g, '\n');
}

/** Waits until `cond` holds (polling), or throws naming `what`. */
export async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}
