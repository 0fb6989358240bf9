/**
 * A larger kernel buffer for a pipe we write to (fcntl F_SETPIPE_SZ through koffi, an optional
 * dependency). A report written into a 64 KiB pipe wakes its reader, and waits for it, 16 times
 * per MiB; with 1 MiB both sides run longer between switches (analyze's report into `| less`,
 * `| grep`). Best effort: without koffi, on another system, or past the user's pipe quota, the
 * pipe stays as it is and the reason is returned.
 */
import { fstatSync } from 'node:fs';
import { libcFunction } from './libc.js';

const F_SETPIPE_SZ = 1031;
/** The most an unprivileged process may ask for by default (/proc/sys/fs/pipe-max-size). */
export const PIPE_BYTES = 1024 * 1024;

type Fcntl = (fd: number, cmd: number, size: number) => number;

function loadFcntl(): Fcntl | string {
  if (process.platform !== 'linux') return 'not Linux';
  const f = libcFunction('int fcntl(int fd, int cmd, ...)');
  if (typeof f === 'string') return f;
  return (fd, cmd, size) => f(fd, cmd, 'int', size) as number;
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
