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

const SEMI = 0x3b, COMMA = 0x2c, NL = 0x0a, LBRACKET = 0x5b, RBRACKET = 0x5d, SPACE = 0x20, DOT = 0x2e, LT = 0x3c;

/** Reads an unsigned decimal in [p, end) up to a stop byte; returns [value, next] or undefined. */
function readUint(buf: Uint8Array, p: number, end: number, stop1: number, stop2: number): [number, number] | undefined {
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
  if (p === start || p - start > 16 || p >= end) return undefined;
  const c = buf[p]!;
  if (c !== stop1 && c !== stop2) return undefined;
  return [n, p];
}

/** Tries the extended header at [off, end); undefined when the payload is not extended. */
function decodeExtended(buf: Uint8Array, off: number, end: number): NetconsoleRecord | undefined {
  // The header ends at the first ';' within a short distance.
  const limit = Math.min(end, off + 256);
  let semi = -1;
  for (let p = off; p < limit; p++) {
    const c = buf[p]!;
    if (c === SEMI) { semi = p; break; }
    if (c === NL || c < SPACE) return undefined;
  }
  if (semi < 0) return undefined;
  let p = off;
  let release: string | undefined;
  const c0 = buf[p]!;
  if (c0 < 0x30 || c0 > 0x39 || !isAllDigitsUntilComma(buf, p, semi)) {
    // A release prefix: anything up to the first comma, then the numeric header.
    let q = p;
    while (q < semi && buf[q] !== COMMA) q++;
    if (q === semi || q === p) return undefined;
    release = latin1(buf, p, q);
    p = q + 1;
  }
  const pre = readUint(buf, p, semi, COMMA, COMMA);
  if (!pre) return undefined;
  const seq = readUint(buf, pre[1] + 1, semi, COMMA, COMMA);
  if (!seq) return undefined;
  const usec = readUint(buf, seq[1] + 1, semi, COMMA, SEMI);
  if (!usec) return undefined;
  let q = usec[1];
  let flags = '-';
  if (buf[q] === COMMA) {
    q++;
    const fs = q;
    while (q < semi && buf[q] !== COMMA) q++;
    flags = latin1(buf, fs, q);
  } else {
    return undefined; // the flags field is always there
  }
  if (pre[0] > 1023) return undefined;
  const header: ExtendedHeader = { facility: pre[0] >> 3, level: pre[0] & 7, seq: seq[0], usec: usec[0], flags };
  if (release !== undefined) header.release = release;
  while (q < semi && buf[q] === COMMA) {
    const fs = ++q;
    while (q < semi && buf[q] !== COMMA) q++;
    const field = latin1(buf, fs, q);
    const m = /^ncfrag=(\d{1,9})\/(\d{1,9})$/.exec(field);
    if (m) header.frag = { offset: Number(m[1]), total: Number(m[2]) };
    else (header.fields ??= []).push(field);
  }
  return { kind: 'extended', header, bodyOff: semi + 1, bodyEnd: end };
}

function isAllDigitsUntilComma(buf: Uint8Array, p: number, end: number): boolean {
  let q = p;
  while (q < end && buf[q]! >= 0x30 && buf[q]! <= 0x39) q++;
  return q < end && buf[q] === COMMA;
}

export function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/** `[   45.287505] ` at the start: the printk time in microseconds and where the text starts. */
function printkTime(buf: Uint8Array, off: number, end: number): [number, number] | undefined {
  if (buf[off] !== LBRACKET) return undefined;
  let p = off + 1;
  const limit = Math.min(end, off + 32);
  while (p < limit && buf[p] === SPACE) p++;
  const sec = readUint(buf, p, limit, DOT, DOT);
  if (!sec) return undefined;
  const frac = readUint(buf, sec[1] + 1, limit, RBRACKET, RBRACKET);
  if (!frac) return undefined;
  const digits = frac[1] - (sec[1] + 1);
  const usec = sec[0] * 1e6 + Math.round(frac[0] * 10 ** (6 - digits));
  let textOff = frac[1] + 1;
  if (textOff < end && buf[textOff] === SPACE) textOff++;
  return [usec, textOff];
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
  // Plain text. A NUL byte is never in a printk line.
  for (let p = off; p < end; p++) {
    if (buf[p] === 0) return { kind: 'malformed', reason: `NUL byte at offset ${p - off}`, bodyOff: off, bodyEnd: end };
  }
  const newline = buf[end - 1] === NL;
  const t = c0 === LBRACKET ? printkTime(buf, off, end) : undefined;
  if (t) return { kind: 'plain', printkUsec: t[0], bodyOff: t[1], bodyEnd: end, newline };
  return { kind: 'plain', bodyOff: off, bodyEnd: end, newline };
}

/** The text and dictionary of an extended body (`text\n KEY=value\n...`), `\xNN` decoded. */
export function decodeExtendedBody(body: Uint8Array): { text: string; dict?: Record<string, string>; escaped: boolean } {
  let nl = body.indexOf(NL);
  if (nl < 0) nl = body.length;
  const escaped = body.indexOf(0x5c) >= 0;
  const text = unescapeKernel(body, 0, nl);
  let dict: Record<string, string> | undefined;
  let p = nl + 1;
  while (p < body.length) {
    let e = body.indexOf(NL, p);
    if (e < 0) e = body.length;
    if (body[p] === SPACE) {
      const line = unescapeKernel(body, p + 1, e);
      const eq = line.indexOf('=');
      if (eq > 0) (dict ??= Object.create(null) as Record<string, string>)[line.slice(0, eq)] = line.slice(eq + 1);
    }
    p = e + 1;
  }
  return dict ? { text, dict, escaped } : { text, escaped };
}

const fromHex = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1);

/** Decodes the kernel's `\xNN` escapes and then UTF-8 (invalid sequences become U+FFFD). */
export function unescapeKernel(buf: Uint8Array, start: number, end: number): string {
  const src = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
  if (src.indexOf(0x5c) < 0) return src.toString('utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0x5c && i + 3 < src.length + 0 && src[i + 1] === 0x78) {
      const h = fromHex(src[i + 2]!), l = fromHex(src[i + 3]!);
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l;
        i += 3;
        continue;
      }
    }
    out[n++] = c;
  }
  return out.toString('utf8', 0, n);
}

/** The kernel's escaping of extended text: bytes < 0x20 (but not in dictionary separators), >= 0x7f, and `\`. */
export function escapeKernel(bytes: Uint8Array): string {
  let s = '';
  for (const c of bytes) {
    s += c < 0x20 || c >= 0x7f || c === 0x5c ? `\\x${c.toString(16).padStart(2, '0')}` : String.fromCharCode(c);
  }
  return s;
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
