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
 * (`/var/log/remote/<*>/kern.log`), newest first (by modification time): at most `limit` of them,
 * chosen among at most 4096 that match (a log server with one file per host has thousands; the
 * ones written during a test are the newest).
 */
export async function listFiles(pattern: string, limit = 64): Promise<string[]> {
  const CANDIDATES = 4096;
  const segs = pattern.split('/').filter(Boolean);
  let paths = ['/'];
  for (const seg of segs) {
    const next: string[] = [];
    for (const dir of paths) {
      const base = dir === '/' ? '' : dir;
      if (!seg.includes('*')) {
        next.push(`${base}/${seg}`);
        continue;
      }
      const re = new RegExp(`^${seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names) if (re.test(n) && next.length < CANDIDATES) next.push(`${base}/${n}`);
    }
    paths = next;
  }
  const files: Array<{ path: string; mtime: number }> = [];
  for (let i = 0; i < paths.length; i += 256) {
    const batch = await Promise.all(
      paths.slice(i, i + 256).map(async path => {
        try {
          const st = await stat(path);
          return st.isFile() ? { path, mtime: st.mtimeMs } : undefined;
        } catch {
          return undefined; // gone, or not there
        }
      }),
    );
    for (const f of batch) if (f) files.push(f);
  }
  return files
    .sort((a, b) => b.mtime - a.mtime)
    .slice(0, limit)
    .map(f => f.path);
}
