/**
 * Reading a syslog daemon's log file for verify: its size before the test, and what it gained
 * since. A file rotated meanwhile (now smaller than the offset) is read from its start.
 */
import { open, stat } from 'node:fs/promises';

/** Size in bytes, or undefined when the file cannot be read. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** Reads what a file gained since `offset` (at most 8 MiB of it). */
export async function readFrom(path: string, offset: number): Promise<string | undefined> {
  try {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      const from = size < offset ? 0 : offset; // rotated: read the new file from its start
      const len = Math.min(size - from, 8 * 1024 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, from);
      return buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}
