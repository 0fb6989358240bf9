/**
 * The byte writers the report's fast paths share (text-bytes.ts, json-bytes.ts): copying bytes
 * and writing digits into an output buffer at an offset, each returning the offset after.
 */

/** Copies `src[from, to)` to `b` at `o`: by hand when short, natively when longer. */
export function copyText(src: Uint8Array, from: number, to: number, b: Buffer, o: number): number {
  if (to - from > 48) {
    if (Buffer.isBuffer(src)) return o + src.copy(b, o, from, to);
    b.set(src.subarray(from, to), o);
    return o + to - from;
  }
  for (let i = from; i < to; i++) b[o++] = src[i]!;
  return o;
}

/** Copies a few bytes: cheaper by hand than Buffer#copy's checks for a dozen. */
export function copy(src: Uint8Array, b: Uint8Array, o: number): number {
  for (let i = 0; i < src.length; i++) b[o + i] = src[i]!;
  return o + src.length;
}

/** Writes `n` (0 <= n < 10^width) as exactly `width` decimal digits. */
export function digits(b: Uint8Array, o: number, n: number, width: number): number {
  if (n <= 0x7fffffff) {
    // Whole numbers that fit 32 bits (the fractions, the printk seconds): integer division,
    // which the compiler turns into a multiplication; a float division per digit cost more.
    let v = n | 0;
    for (let i = o + width - 1; i >= o; i--) {
      const q = (v / 10) | 0;
      b[i] = 48 + v - q * 10;
      v = q;
    }
    return o + width;
  }
  for (let i = o + width - 1; i >= o; i--) {
    const q = Math.floor(n / 10);
    b[i] = 48 + (n - q * 10);
    n = q;
  }
  return o + width;
}
