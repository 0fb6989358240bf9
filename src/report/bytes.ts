/**
 * The byte writers the report's fast paths share (text-bytes.ts, json-bytes.ts): copying bytes
 * and writing digits into an output buffer at an offset, each returning the offset after.
 */

/** DataViews of the last source and destination copyText saw: sources reuse their buffers, so each is made rarely. */
let srcOf: Uint8Array | undefined;
let srcView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
let dstOf: Uint8Array | undefined;
let dstView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * Copies `src[from, to)` to `b` at `o` (the room is the caller's to have reserved). A message's
 * text, a few dozen bytes: eight at a time through DataViews; Buffer#copy made a Uint8Array per
 * call, which cost more than the copy (measured: 90 bytes, 73 ns natively, 30 ns so). Long texts
 * natively.
 */
export function copyText(src: Uint8Array, from: number, to: number, b: Uint8Array, o: number): number {
  if (to - from > 512) {
    b.set(src.subarray(from, to), o);
    return o + to - from;
  }
  if (src !== srcOf) {
    srcOf = src;
    srcView = new DataView(src.buffer, src.byteOffset, src.byteLength);
  }
  if (b !== dstOf) {
    dstOf = b;
    dstView = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  const s = srcView,
    d = dstView;
  let i = from;
  for (; i + 8 <= to; i += 8, o += 8) {
    d.setInt32(o, s.getInt32(i, true), true);
    d.setInt32(o + 4, s.getInt32(i + 4, true), true);
  }
  for (; i < to; i++) b[o++] = src[i]!;
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

/**
 * DataViews of the last two buffers a writer read from: sources reuse their buffers, and the
 * common message's (the capture's chunk) and an ncfrag message's (its reassembly buffer) take
 * turns, which with one view made a DataView for each of both at every ncfrag message.
 */
export class SourceViews {
  private a: Uint8Array | undefined;
  private av: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private b: Uint8Array | undefined;
  private bv: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  of(src: Uint8Array): DataView<ArrayBufferLike> {
    if (src === this.a) return this.av;
    if (src !== this.b) {
      this.b = src;
      this.bv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    }
    // the one used now first
    const v = this.bv;
    this.b = this.a;
    this.bv = this.av;
    this.a = src;
    this.av = v;
    return v;
  }
}
