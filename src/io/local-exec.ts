/**
 * A HostExec for this host: runs programs with child_process.execFile (no shell), with a timeout
 * and an output cap, and reads files with fs. Never rejects: a missing program is exit code 127,
 * a timeout 124, an unreadable file null.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import type { ExecResult, HostExec } from './host-exec.js';

export interface LocalExecOptions {
  /** Per-command timeout in ms. @default 10000 */
  timeoutMs?: number;
  /** Largest output or file kept, in bytes. @default 16 MiB */
  maxBytes?: number;
  /** Environment for the commands. @default LC_ALL=C with PATH including /sbin and /usr/sbin */
  env?: NodeJS.ProcessEnv;
}

export function localExec(opts: LocalExecOptions = {}): HostExec {
  const timeout = opts.timeoutMs ?? 10_000;
  const maxBuffer = opts.maxBytes ?? 16 * 1024 * 1024;
  const env = opts.env ?? {
    ...process.env,
    LC_ALL: 'C',
    LANG: 'C',
    PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`,
  };
  return {
    run(argv: string[]): Promise<ExecResult> {
      return new Promise(resolve => {
        const [cmd, ...args] = argv;
        if (!cmd) {
          resolve({ stdout: '', stderr: 'empty command', code: 127 });
          return;
        }
        execFile(cmd, args, { timeout, maxBuffer, env, encoding: 'utf8', windowsHide: true }, (err, stdout, stderr) => {
          if (!err) {
            resolve({ stdout, stderr, code: 0 });
            return;
          }
          const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
          if (e.code === 'ENOENT') resolve({ stdout: '', stderr: `${cmd}: not found`, code: 127 });
          else if (e.killed || e.signal === 'SIGTERM')
            resolve({ stdout: String(stdout ?? ''), stderr: `${cmd}: timed out after ${timeout} ms`, code: 124 });
          else
            resolve({
              stdout: String(stdout ?? ''),
              stderr: String(stderr ?? e.message),
              code: typeof e.code === 'number' ? e.code : 1,
            });
        });
      });
    },
    async readFile(path: string): Promise<string | null> {
      try {
        const buf = await readFile(path);
        return buf.subarray(0, maxBuffer).toString('utf8');
      } catch {
        return null;
      }
    },
    async listDir(path: string): Promise<string[] | null> {
      try {
        return await readdir(path);
      } catch {
        return null;
      }
    },
  };
}
