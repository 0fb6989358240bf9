/**
 * netconsole payloads, as the kernel sends them (drivers/net/netconsole.c, kernel/printk):
 *
 *  plain     `[   45.287505] sysrq: Show Regs\n`   (the printk time only with CONFIG_PRINTK_TIME)
 *  extended  `6,378,14045975,-;sysrq: Show Regs\n` (prefix, seq, usec, flags[,key=value...];text)
 *            with ` KEY=value` dictionary lines after the text, the release prepended with the
 *            `r` option (`6.1.0-56-amd64,6,378,...`), and `,ncfrag=<offset>/<total>` in the header of
 *            each piece of a body over 1000 bytes. Bytes < 0x20, >= 0x7f and `\` are `\xNN`.
 *
 * Pure: offsets into the caller's buffer in, a record out; bad data is a `malformed` record with
 * a reason, never an exception.
 */
import { decodeSyslog, type SyslogHeader } from './syslog.js';

export interface ExtendedHeader {
  facility: number;
  level: number;
  seq: number;
  usec: number;
  /** `-`, `c` (continuation begins) or `+` (continuation). */
  flags: string;
  release?: string;
  /** Present on pieces of a fragmented message: the piece's offset in the body, and the body's length. */
  frag?: { offset: number; total: number };
  /** Header fields netdiag does not interpret (`caller=T1`). */
  fields?: string[];
}

export type NetconsoleRecord =
  | { kind: 'extended'; header: ExtendedHeader; bodyOff: number; bodyEnd: number }
  | { kind: 'plain'; printkUsec?: number; bodyOff: number; bodyEnd: number; newline: boolean }
  | { kind: 'syslog'; header: SyslogHeader; bodyOff: number; bodyEnd: number }
  | { kind: 'malformed'; reason: string; bodyOff: number; bodyEnd: number };

const SEMI = 0x3b,
  COMMA = 0x2c,
  NL = 0x0a,
  LBRACKET = 0x5b,
  RBRACKET = 0x5d,
  SPACE = 0x20,
  DOT = 0x2e,
  LT = 0x3c;

/** The value read by the last successful readUint (kept out of the return value: no allocation per field). */
let uintValue = 0;

/**
 * Reads an unsigned decimal in [p, end) up to a stop byte; returns the stop byte's position and
 * leaves the number in `uintValue`, or returns -1.
 */
function readUint(buf: Uint8Array, p: number, end: number, stop1: number, stop2: number): number {
  const start = p;
  let n = 0;
  while (p < end) {
    const c = buf[p]!;
    if (c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30);
      p++;
    } else break;
  }
  // 16 digits keep the value exact in a double; a longer number is not a kernel header.
  if (p === start || p - start > 16 || p >= end) return -1;
  const c = buf[p]!;
  if (c !== stop1 && c !== stop2) return -1;
  uintValue = n;
  return p;
}

/** One-character flags, the usual case, without allocating a string each time. */
const CHAR = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));

/** Where the digits the last digitsTo call read end (no array per ncfrag field). */
let digitsEnd = 0;

/**
 * Reads `,ncfrag=<off>/<total>` style numbers: up to 10 digits from p, before `end`; returns the
 * number, or -1 when there is no digit, and leaves where the digits end in `digitsEnd`.
 */
function digitsTo(buf: Uint8Array, p: number, end: number): number {
  let n = 0;
  const start = p;
  while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39 && p - start < 10) n = n * 10 + buf[p++]! - 0x30;
  digitsEnd = p;
  return p === start ? -1 : n;
}

const NCFRAG = [0x6e, 0x63, 0x66, 0x72, 0x61, 0x67, 0x3d]; // "ncfrag="

/** Tries the extended header at [off, end); undefined when the payload is not extended. */
function decodeExtended(
  buf: Uint8Array,
  off: number,
  end: number,
  releaseAllowed = true,
): NetconsoleRecord | undefined {
  let p = off;
  let release: string | undefined;
  const c0 = buf[p]!;
  if (c0 < 0x30 || c0 > 0x39) {
    if (!releaseAllowed) return undefined;
    // A release prefix (`6.1.0-56-amd64,`): printable, up to the first comma, then the numeric header.
    const limit = Math.min(end, off + 128);
    let q = p;
    while (q < limit && buf[q] !== COMMA) {
      if (buf[q]! <= SPACE || buf[q] === SEMI) return undefined;
      q++;
    }
    if (q >= limit || q === p) return undefined;
    release = latin1(buf, p, q);
    p = q + 1;
  }
  const preEnd = readUint(buf, p, end, COMMA, COMMA);
  const prefix = uintValue;
  if (preEnd < 0) {
    if (release !== undefined || !releaseAllowed) return undefined;
    // `6.1.0-...`: a release that starts with a digit.
    const limit = Math.min(end, off + 128);
    let q = p;
    while (q < limit && buf[q] !== COMMA) {
      if (buf[q]! <= SPACE || buf[q] === SEMI) return undefined;
      q++;
    }
    if (q >= limit) return undefined;
    return decodeAfterRelease(buf, off, q, end);
  }
  const seqEnd = readUint(buf, preEnd + 1, end, COMMA, COMMA);
  if (seqEnd < 0)
    return release === undefined && releaseAllowed ? decodeAfterRelease(buf, off, preEnd, end) : undefined;
  const seq = uintValue;
  const usecEnd = readUint(buf, seqEnd + 1, end, COMMA, COMMA);
  if (usecEnd < 0) return undefined;
  const usec = uintValue;
  // Flags: one character as the kernel writes it, up to ',' or ';'.
  let q = usecEnd + 1;
  const fs = q;
  while (q < end && buf[q] !== COMMA && buf[q] !== SEMI) {
    if (buf[q]! < SPACE || q - fs > 8) return undefined;
    q++;
  }
  if (q >= end || q === fs) return undefined;
  const flags = q - fs === 1 && buf[fs]! < 128 ? CHAR[buf[fs]!]! : latin1(buf, fs, q);
  if (prefix > 1023) return undefined;
  const header: ExtendedHeader = { facility: prefix >> 3, level: prefix & 7, seq, usec, flags };
  if (release !== undefined) header.release = release;
  // Optional fields `,key=value` up to ';'.
  let fields = 0;
  while (buf[q] === COMMA) {
    const f0 = ++q;
    while (q < end && buf[q] !== COMMA && buf[q] !== SEMI) {
      if (buf[q]! < SPACE) return undefined;
      q++;
    }
    if (q >= end || ++fields > 16) return undefined;
    let isFrag = q - f0 > NCFRAG.length;
    for (let i = 0; isFrag && i < NCFRAG.length; i++) if (buf[f0 + i] !== NCFRAG[i]) isFrag = false;
    if (isFrag) {
      const o = digitsTo(buf, f0 + NCFRAG.length, q);
      if (o >= 0 && buf[digitsEnd] === 0x2f) {
        const t = digitsTo(buf, digitsEnd + 1, q);
        if (t >= 0 && digitsEnd === q) {
          header.frag = { offset: o, total: t };
          continue;
        }
      }
    }
    (header.fields ??= []).push(latin1(buf, f0, q));
  }
  if (buf[q] !== SEMI) return undefined;
  return { kind: 'extended', header, bodyOff: q + 1, bodyEnd: end };
}

/** A release prefix that starts with a digit: [off, comma) is the release; one level only. */
function decodeAfterRelease(buf: Uint8Array, off: number, comma: number, end: number): NetconsoleRecord | undefined {
  const rest = decodeExtended(buf, comma + 1, end, false);
  if (!rest || rest.kind !== 'extended') return undefined;
  rest.header.release = latin1(buf, off, comma);
  return rest;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/** Where the text starts after the printk time the last successful printkTime read (no array per datagram). */
let printkTextOff = 0;

/**
 * `[   45.287505] ` at the start: returns the printk time in microseconds and leaves where the
 * text starts in `printkTextOff`, or returns -1.
 */
function printkTime(buf: Uint8Array, off: number, end: number): number {
  if (buf[off] !== LBRACKET) return -1;
  let p = off + 1;
  const limit = Math.min(end, off + 32);
  while (p < limit && buf[p] === SPACE) p++;
  const secEnd = readUint(buf, p, limit, DOT, DOT);
  if (secEnd < 0) return -1;
  const sec = uintValue;
  const fracEnd = readUint(buf, secEnd + 1, limit, RBRACKET, RBRACKET);
  if (fracEnd < 0) return -1;
  const digits = fracEnd - (secEnd + 1);
  const usec = sec * 1e6 + (digits === 6 ? uintValue : Math.round(uintValue * 10 ** (6 - digits)));
  let textOff = fracEnd + 1;
  if (textOff < end && buf[textOff] === SPACE) textOff++;
  printkTextOff = textOff;
  return usec;
}

/** What decodeKernelHeader fills: the header (always these five fields) and where the body is. */
export interface KernelHeaderView {
  header: ExtendedHeader;
  bodyOff: number;
}

export function newKernelHeaderView(): KernelHeaderView {
  return { header: { facility: 0, level: 0, seq: 0, usec: 0, flags: '-' }, bodyOff: 0 };
}

/**
 * The extended header as the kernel writes it for nearly every record, `prefix,seq,usec,F;`
 * (no release, no ncfrag, no other field), read into `v` without allocating; false for anything
 * else, which decodeNetconsole then reads. When true, decodeNetconsole would return this same
 * header and body (`kind: 'extended'`). `v.header` is reused: a caller that keeps it copies it.
 */
export function decodeKernelHeader(buf: Uint8Array, off: number, end: number, v: KernelHeaderView): boolean {
  let p = off,
    c = 0,
    prefix = 0,
    seq = 0,
    usec = 0;
  // The same numbers readUint reads: 1 to 16 digits, each ended by a comma before `end`.
  let start = p;
  while (p < end && (c = buf[p]!) >= 0x30 && c <= 0x39) {
    prefix = prefix * 10 + (c - 0x30);
    p++;
  }
  if (p === start || p - start > 16 || p >= end || c !== COMMA || prefix > 1023) return false;
  start = ++p;
  while (p < end && (c = buf[p]!) >= 0x30 && c <= 0x39) {
    seq = seq * 10 + (c - 0x30);
    p++;
  }
  if (p === start || p - start > 16 || p >= end || c !== COMMA) return false;
  start = ++p;
  while (p < end && (c = buf[p]!) >= 0x30 && c <= 0x39) {
    usec = usec * 10 + (c - 0x30);
    p++;
  }
  if (p === start || p - start > 16 || p + 2 >= end || c !== COMMA) return false;
  // One flag character, then the semicolon.
  const f = buf[p + 1]!;
  if (f < SPACE || f >= 128 || f === COMMA || f === SEMI || buf[p + 2] !== SEMI) return false;
  const h = v.header;
  h.facility = prefix >> 3;
  h.level = prefix & 7;
  h.seq = seq;
  h.usec = usec;
  h.flags = CHAR[f]!;
  v.bodyOff = p + 3;
  return true;
}

export function decodeNetconsole(buf: Uint8Array, off: number, end: number): NetconsoleRecord {
  if (end <= off) return { kind: 'malformed', reason: 'empty datagram', bodyOff: off, bodyEnd: end };
  const c0 = buf[off]!;
  if (c0 === LT) {
    const sys = decodeSyslog(buf, off, end);
    if (sys) return { kind: 'syslog', header: sys.header, bodyOff: sys.msgOff, bodyEnd: end };
  }
  if (c0 !== LBRACKET) {
    const ext = decodeExtended(buf, off, end);
    if (ext) return ext;
  }
  const v = plainView;
  const nul = decodePlain(buf, off, end, v);
  if (nul >= 0) return { kind: 'malformed', reason: `NUL byte at offset ${nul - off}`, bodyOff: off, bodyEnd: end };
  if (v.printkUsec >= 0)
    return { kind: 'plain', printkUsec: v.printkUsec, bodyOff: v.bodyOff, bodyEnd: end, newline: v.newline };
  return { kind: 'plain', bodyOff: off, bodyEnd: end, newline: v.newline };
}

/** What decodePlain fills. */
export interface PlainView {
  /** The printk time in microseconds, or -1 when the line has none. */
  printkUsec: number;
  /** Where the text starts (after the printk time). */
  bodyOff: number;
  /** The payload ends with a newline. */
  newline: boolean;
}

export function newPlainView(): PlainView {
  return { printkUsec: -1, bodyOff: 0, newline: false };
}

const plainView = newPlainView();

/**
 * A non-empty payload that is neither syslog nor extended, read as a plain line into `v` without
 * allocating. Returns the offset of a NUL byte (then it is malformed, and `v` is not filled), or -1.
 */
export function decodePlain(buf: Uint8Array, off: number, end: number, v: PlainView): number {
  // A NUL byte is never in a printk line.
  // Searching past `end` is cheap: headers after the payload are full of zero bytes.
  const nul = buf.indexOf(0, off);
  if (nul >= 0 && nul < end) return nul;
  v.newline = buf[end - 1] === NL;
  const usec = buf[off] === LBRACKET ? printkTime(buf, off, end) : -1;
  v.printkUsec = usec;
  v.bodyOff = usec >= 0 ? printkTextOff : off;
  return -1;
}

/** The kernel's extended-header fields besides ncfrag (CONFIG_PRINTK_CALLER). */
const CALLER_FIELD = /^caller=[TC]\d{1,10}$/;

/**
 * Whether a UDP payload sent to a port nobody named is netconsole, with the confidence to say so:
 *
 * - an extended record whose header is exactly the kernel's (`prefix,seq,usec,flag` with flag
 *   `-`, `c` or `+`; no field but `ncfrag=` and `caller=`) and whose body is the kernel's escaped
 *   text: printable ASCII only, each line after the text starting with a space (` KEY=value`),
 *   ending with a newline unless it is an ncfrag piece;
 * - a plain line with printk's time stamp exactly as printk writes it (`[%5lu.%06lu] `), no
 *   control character but tab and newline, ending with a newline or cut at 1000 bytes.
 *
 * `partial`: the payload may be cut short (an ICMP answer quotes only its start), so the end is
 * not required. Syslog, DNS, NTP and the rest of the tcpdump corpus never pass
 * (test/analyze-corpus.test.ts). Pure, no allocation for payloads that do not start like one.
 */
export function looksLikeNetconsole(buf: Uint8Array, off: number, end: number, partial: boolean): boolean {
  if (end - off < 8) return false;
  const c0 = buf[off]!;
  if (c0 === LBRACKET) return plainLooksKernel(buf, off, end, partial);
  // A digit (the prefix, or a release like 6.1.0-...) or a release's first letter.
  if (c0 <= SPACE || c0 >= 0x7f || c0 === LT) return false;
  const rec = decodeExtended(buf, off, end);
  if (!rec || rec.kind !== 'extended') return false;
  const h = rec.header;
  if (h.flags !== '-' && h.flags !== 'c' && h.flags !== '+') return false;
  if (h.fields && !h.fields.every(f => CALLER_FIELD.test(f))) return false;
  let afterNewline = false;
  let sawNewline = false;
  for (let i = rec.bodyOff; i < end; i++) {
    const c = buf[i]!;
    if (c === NL) {
      afterNewline = sawNewline = true;
      continue;
    }
    if (c < SPACE || c >= 0x7f) return false;
    if (afterNewline && c !== SPACE && !h.frag) return false;
    afterNewline = false;
  }
  // The text line ends with a newline, and so does each dictionary line.
  return partial || h.frag !== undefined || (sawNewline && buf[end - 1] === NL);
}

function plainLooksKernel(buf: Uint8Array, off: number, end: number, partial: boolean): boolean {
  // `[%5lu.%06lu] `: at least five characters of right-aligned seconds, six of microseconds.
  let p = off + 1;
  while (p < end && buf[p] === SPACE) p++;
  const digits0 = p;
  while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
  if (p === digits0 || p - (off + 1) < 5 || p - digits0 > 10 || buf[p] !== DOT) return false;
  const frac0 = ++p;
  while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
  if (p - frac0 !== 6 || buf[p] !== RBRACKET || buf[p + 1] !== SPACE) return false;
  for (let i = p + 2; i < end; i++) {
    const c = buf[i]!;
    if ((c < SPACE && c !== NL && c !== 0x09) || c === 0x7f) return false;
  }
  return partial || buf[end - 1] === NL || end - off === 1000;
}

/** Builds an extended payload (for tests and the benchmark's generator); the inverse of decodeNetconsole. */
export function formatExtended(h: ExtendedHeader, body: string): string {
  let s = h.release !== undefined ? `${h.release},` : '';
  s += `${(h.facility << 3) | h.level},${h.seq},${h.usec},${h.flags}`;
  if (h.frag) s += `,ncfrag=${h.frag.offset}/${h.frag.total}`;
  for (const f of h.fields ?? []) s += `,${f}`;
  return `${s};${body}`;
}

/** Builds a plain payload: `[%5lu.%06lu] text\n` as printk formats its time. */
export function formatPlain(text: string, printkUsec?: number, newline = true): string {
  let s = '';
  if (printkUsec !== undefined) {
    const sec = Math.floor(printkUsec / 1e6);
    const us = printkUsec % 1e6;
    s = `[${String(sec).padStart(5, ' ')}.${String(us).padStart(6, '0')}] `;
  }
  return s + text + (newline ? '\n' : '');
}
