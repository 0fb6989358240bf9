/**
 * A libc function through koffi, an FFI and an optional dependency, for what Node has no call
 * for: getsockopt (the capture socket's kernel counters, src/capture/packet-stats.ts) and fcntl
 * (a pipe's size, pipe-size.ts); and other shared libraries the same way (libpcap itself in the
 * capture process, src/capture/live-pcap.ts). Returns the function, or why it cannot be had, so
 * that each user can say what it does without it.
 */
import { createRequire } from 'node:module';

export interface NativeLibrary {
  func(definition: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): NativeLibrary;
}

/** The first of `names` (sonames) that loads, with the name that did, or why none did. */
export function nativeLibrary(names: readonly string[]): { lib: NativeLibrary; name: string } | string {
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch {
    return 'the koffi package is not installed (npm install koffi)';
  }
  let why = 'no library named';
  for (const name of names) {
    try {
      return { lib: koffi.load(name), name };
    } catch (e) {
      why = `koffi cannot load ${name}: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return why;
}

/** `definition` is koffi's C prototype, e.g. `int fcntl(int fd, int cmd, ...)`. */
export function libcFunction(definition: string): ((...args: unknown[]) => unknown) | string {
  const libc = nativeLibrary(['libc.so.6']);
  if (typeof libc === 'string') return libc.replace(/^koffi cannot load libc\.so\.6/, 'koffi cannot call libc');
  try {
    return libc.lib.func(definition);
  } catch (e) {
    return `koffi cannot call libc: ${(e as Error).message.split('\n')[0]}`;
  }
}
