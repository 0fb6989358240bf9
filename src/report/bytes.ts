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

/** `00` to `99` as little-endian 16-bit words of their two ASCII digits. */
const TWO_DIGITS = Uint16Array.from({ length: 100 }, (_, i) => (0x30 + ((i / 10) | 0)) | ((0x30 + (i % 10)) << 8));

/** Writes `n` (a whole number, 0 <= n < 10^6) as six digits at `o` (`d` a DataView of the output), two at a time. */
export function six(d: DataView, o: number, n: number): number {
  const a = (n / 10000) | 0;
  const r = n - a * 10000;
  const b = (r / 100) | 0;
  d.setUint16(o, TWO_DIGITS[a]!, true);
  d.setUint16(o + 2, TWO_DIGITS[b]!, true);
  d.setUint16(o + 4, TWO_DIGITS[r - b * 100]!, true);
  return o + 6;
}

/** 10^0 to 10^9. */
const POW10 = Int32Array.from({ length: 10 }, (_, i) => 10 ** i);

/**
 * Writes `n` (a whole number, 0 <= n <= 0x7fffffff) in as many decimal digits as it has, at `o`
 * (`d` a DataView of the output), two at a time from the end; returns the end. The width comes
 * from the bit length (log10 2 ~ 1233 / 4096) and one look-up, not from a chain of comparisons:
 * packet numbers grow a digit at a time, and each new width's first comparison deoptimised it.
 */
export function decimal(d: DataView, o: number, n: number): number {
  if (n < 10) {
    d.setUint8(o, 48 + n);
    return o + 1;
  }
  const t = ((32 - Math.clz32(n)) * 1233) >>> 12;
  const end = n >= POW10[t]! ? o + t + 1 : o + t;
  let e = end;
  let v = n | 0;
  while (v >= 100) {
    const q = (v / 100) | 0;
    e -= 2;
    d.setUint16(e, TWO_DIGITS[v - q * 100]!, true);
    v = q;
  }
  if (v >= 10) d.setUint16(e - 2, TWO_DIGITS[v]!, true);
  else d.setUint8(e - 1, 48 + v);
  return end;
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
