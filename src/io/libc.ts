/**
 * A libc function through koffi, an FFI and an optional dependency, for what Node has no call
 * for: getsockopt (the capture socket's kernel counters, src/capture/packet-stats.ts) and fcntl
 * (a pipe's size, pipe-size.ts). Returns the function, or why it cannot be had, so that each user
 * can say what it does without it.
 */
import { createRequire } from 'node:module';

interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
}

/** `definition` is koffi's C prototype, e.g. `int fcntl(int fd, int cmd, ...)`. */
export function libcFunction(definition: string): ((...args: unknown[]) => unknown) | string {
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch {
    return 'the koffi package is not installed (npm install koffi)';
  }
  try {
    return koffi.load('libc.so.6').func(definition);
  } catch (e) {
    return `koffi cannot call libc: ${(e as Error).message.split('\n')[0]}`;
  }
}
