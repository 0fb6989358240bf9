/**
 * A larger kernel buffer for a pipe we write to (fcntl F_SETPIPE_SZ through koffi, an optional
 * dependency). A report written into a 64 KiB pipe wakes its reader, and waits for it, 16 times
 * per MiB; with 1 MiB both sides run longer between switches (analyze's report into `| less`,
 * `| grep`). Best effort: without koffi, on another system, or past the user's pipe quota, the
 * pipe stays as it is and the reason is returned.
 */
import { createRequire } from 'node:module';
import { fstatSync } from 'node:fs';

const F_SETPIPE_SZ = 1031;
/** The most an unprivileged process may ask for by default (/proc/sys/fs/pipe-max-size). */
export const PIPE_BYTES = 1024 * 1024;

type Fcntl = (fd: number, cmd: number, size: number) => number;

interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
}

function loadFcntl(): Fcntl | string {
  if (process.platform !== 'linux') return 'not Linux';
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch {
    return 'the koffi package is not installed';
  }
  try {
    const f = koffi.load('libc.so.6').func('int fcntl(int fd, int cmd, ...)');
    return (fd, cmd, size) => f(fd, cmd, 'int', size) as number;
  } catch (e) {
    return `koffi cannot call libc: ${(e as Error).message.split('\n')[0]}`;
  }
}

/**
 * Asks for `bytes` of buffer on the pipe at `fd`; returns the size it now has, or why not (not
 * a pipe, no koffi, refused).
 */
export function widenPipe(fd: number, bytes = PIPE_BYTES, fcntl: () => Fcntl | string = loadFcntl): number | string {
  try {
    if (!fstatSync(fd).isFIFO()) return 'not a pipe';
  } catch {
    return 'not open';
  }
  const f = fcntl();
  if (typeof f === 'string') return f;
  const size = f(fd, F_SETPIPE_SZ, bytes);
  return size > 0 ? size : 'refused';
}
