/**
 * Reading a syslog daemon's log file for verify: its size before the test, and what it gained
 * since. A file rotated meanwhile (now smaller than the offset) is read from its start.
 */
import { open, readdir, stat } from 'node:fs/promises';

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

/**
 * The files a path pattern names, `*` standing for any part of one path segment
 * (`/var/log/remote/<*>/kern.log`): at most `limit`, each directory read at most once per segment.
 */
export async function listFiles(pattern: string, limit = 64): Promise<string[]> {
  const segs = pattern.split('/').filter(Boolean);
  let dirs = ['/'];
  for (const [i, seg] of segs.entries()) {
    const last = i === segs.length - 1;
    const next: string[] = [];
    for (const dir of dirs) {
      if (!seg.includes('*')) {
        next.push(`${dir === '/' ? '' : dir}/${seg}`);
        continue;
      }
      const re = new RegExp(`^${seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names) if (re.test(n) && next.length < limit * 4) next.push(`${dir === '/' ? '' : dir}/${n}`);
    }
    dirs = last ? next : next.slice(0, limit * 4);
  }
  const files: string[] = [];
  for (const f of dirs) {
    if (files.length >= limit) break;
    try {
      if ((await stat(f)).isFile()) files.push(f);
    } catch {
      // gone, or not there
    }
  }
  return files;
}
