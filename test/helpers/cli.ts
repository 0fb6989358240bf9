/**
 * Runs netdiag and returns what it printed and its exit code: as a user would, in a process of
 * its own (`runCli`), or in this process through the same `main` and `failure` the program uses
 * (`runMain`), for the many tests that are about what a command prints rather than about the
 * process.
 */
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { failure, main } from '../../src/cli.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The program as the package installs it: the bundle (scripts/bundle.ts), not tsc's dist/src/cli.js. */
export const cliPath = path.join(projectRoot, 'dist/bundle/netdiag.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A stream that keeps what is written to it, as the terminal or a pipe would receive it. */
function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * `netdiag ARGS` run in this process: the same command, report and one-line error as
 * `runCli`, with the environment `runCli` gives (NO_COLOR=1 unless `env` says otherwise), stdout
 * and stderr not terminals, and no Ctrl-C. Not for what only a process shows: the exit status
 * the shell sees, signals, standard input, output flushed before exit (those use `runCli`).
 */
export async function runMain(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const stdout = collector(),
    stderr = collector();
  const env = { ...process.env, NO_COLOR: '1', ...opts.env };
  let code: number;
  try {
    code = await main(args, { stdout: stdout.stream, stderr: stderr.stream, env, interrupted: new Promise(() => {}) });
  } catch (err) {
    const f = failure(err, env);
    stderr.stream.write(f.text);
    code = f.code;
  }
  await Promise.all([stdout.stream, stderr.stream].map(s => new Promise(done => s.end(done))));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
