/**
 * A message of `--json` / `--jsonl`, written as bytes straight into the output buffer: the same
 * bytes as `messageJsonText` (and so as `safeJson(messageJson(m))`; test/report-lines.test.ts
 * compares them). Strings that repeat (sender, destination, MACs, mode) are encoded once, the
 * time once per second, numbers digit by digit; the text is copied as it is when it needs no
 * escaping, else it takes safeJson.
 */
import type { Message } from '../pipeline/types.js';
import { endpoint } from '../decode/addr.js';
import { safeJson } from './escape.js';
import { jsonString } from './json.js';
import { Output } from './output.js';
import { isoTime } from './time.js';

interface FastWrites {
  latin1Write(s: string, offset: number): number;
  utf8Write(s: string, offset: number): number;
}

const NEEDS_CARE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
const bytes = (s: string) => Buffer.from(s, 'latin1');
const OPEN = {
  jsonl: bytes('{"type":"message","sender":'),
  first: bytes('{"messages":[{"sender":'),
  next: bytes(',{"sender":'),
};
const K_TIME = bytes(',"time":"');
const K_MODE = bytes('","mode":');
const K_TEXT = bytes(',"text":');
const K_FRAGMENTS = bytes(',"fragments":');
const K_PACKETS = bytes(',"packets":[');
const K_DST = bytes('],"dst":');
const KEYS = {
  level: bytes(',"level":'),
  facility: bytes(',"facility":'),
  seq: bytes(',"seq":'),
  usec: bytes(',"usec":'),
  dict: bytes(',"dict":'),
  userdata: bytes(',"userdata":'),
  sysdata: bytes(',"sysdata":'),
  dictLines: bytes(',"dictLines":'),
  release: bytes(',"release":'),
  hostname: bytes(',"hostname":'),
  app: bytes(',"app":'),
  incomplete: bytes(',"incomplete":'),
  srcMac: bytes(',"srcMac":'),
  dstMac: bytes(',"dstMac":'),
};
const OPTIONAL = Object.keys(KEYS) as Array<keyof typeof KEYS>;

/** A small cache of strings as JSON bytes (with their quotes). */
class Encoded {
  private readonly map = new Map<string, Buffer>();
  get(s: string): Buffer {
    let b = this.map.get(s);
    if (!b) {
      if (this.map.size >= 4096) this.map.clear();
      this.map.set(s, (b = Buffer.from(jsonString(s), 'utf8')));
    }
    return b;
  }
}

export type JsonPosition = keyof typeof OPEN;

export class JsonLineEncoder {
  private readonly strings = new Encoded();
  private sec = NaN;
  private date = Buffer.alloc(0);
  private dstIp = '';
  private dstPort = -1;
  private dst = Buffer.alloc(0);

  constructor(private readonly out: Output) {}

  /**
   * Writes `m` as `{"type":"message",...}\n` (jsonl), or as the first (`{"messages":[{...}`) or a
   * later (`,{...}`) element of the document's array. False when it must take the string path.
   */
  write(m: Message, at: JsonPosition): boolean {
    const t = m.time;
    if (t.sec !== this.sec) {
      const iso = isoTime({ sec: t.sec, nsec: 0 });
      if (iso.length !== 27) return false; // a time a date cannot hold
      this.sec = t.sec;
      this.date = bytes(iso.slice(0, 20)); // 2026-11-24T13:01:02.
    }
    if (m.dstIp !== this.dstIp || m.dstPort !== this.dstPort) {
      this.dstIp = m.dstIp;
      this.dstPort = m.dstPort;
      this.dst = Buffer.from(jsonString(endpoint(m.dstIp, m.dstPort)), 'utf8');
    }
    const text = m.text;
    const plainText = !NEEDS_CARE.test(text);
    const textJson = plainText ? text : safeJson(text);
    const dict = m.dict !== undefined ? safeJson(m.dict) : '';
    // Userdata and sysdata (6.9 and later) are rare: their room is measured as they are written.
    const parts = m.userdata || m.sysdata || m.dictLines ? safeJson([m.userdata, m.sysdata, m.dictLines]).length : 0;
    const need =
      512 +
      parts * 3 +
      m.packets.length * 16 +
      (plainText ? text.length : textJson.length * 3) +
      dict.length * 3 +
      (m.release?.length ?? 0) * 6 +
      (m.hostname?.length ?? 0) * 6 +
      (m.app?.length ?? 0) * 6;
    if (need > Output.MAX_RESERVE) return false;
    const b = this.out.reserve(need) as Buffer & FastWrites;
    let o = this.out.off;
    o = copy(OPEN[at], b, o);
    o = copy(this.strings.get(m.sender), b, o);
    o = copy(K_TIME, b, o);
    o = copy(this.date, b, o);
    const ns = t.nsec;
    if (ns % 1000 === 0) o = digits(b, o, ns / 1000, 6);
    else o = digits(b, o, ns, 9);
    b[o++] = 0x5a; // Z
    o = copy(K_MODE, b, o);
    o = copy(this.strings.get(m.mode), b, o);
    o = copy(K_TEXT, b, o);
    if (plainText) {
      b[o++] = 0x22;
      o += b.latin1Write(text, o);
      b[o++] = 0x22;
    } else {
      o += b.utf8Write(textJson, o);
    }
    o = copy(K_FRAGMENTS, b, o);
    o = number(b, o, m.fragments);
    o = copy(K_PACKETS, b, o);
    for (let i = 0; i < m.packets.length; i++) {
      if (i > 0) b[o++] = 0x2c;
      o = number(b, o, m.packets[i]!);
    }
    o = copy(K_DST, b, o);
    o = copy(this.dst, b, o);
    for (const k of OPTIONAL) {
      const v = m[k];
      if (v === undefined) continue;
      o = copy(KEYS[k], b, o);
      if (typeof v === 'number') o = number(b, o, v);
      else if (typeof v === 'string')
        o = k === 'srcMac' || k === 'dstMac' ? copy(this.strings.get(v), b, o) : o + b.utf8Write(jsonString(v), o);
      else if (typeof v === 'boolean') o += b.latin1Write(v ? 'true' : 'false', o);
      else o += b.utf8Write(k === 'dict' ? dict : safeJson(v), o);
    }
    b[o++] = 0x7d; // }
    if (at === 'jsonl') b[o++] = 0x0a;
    this.out.off = o;
    return true;
  }
}

function copy(src: Uint8Array, b: Uint8Array, o: number): number {
  for (let i = 0; i < src.length; i++) b[o + i] = src[i]!;
  return o + src.length;
}

/** Writes `n` (0 <= n < 10^width) as exactly `width` decimal digits. */
function digits(b: Uint8Array, o: number, n: number, width: number): number {
  for (let i = o + width - 1; i >= o; i--) {
    const q = Math.floor(n / 10);
    b[i] = 48 + (n - q * 10);
    n = q;
  }
  return o + width;
}

/** A number as JSON writes it: digits for whole numbers from 0 to 2^53, JSON's own text else. */
function number(b: Buffer & FastWrites, o: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return o + b.latin1Write(Number.isFinite(n) ? String(n) : 'null', o);
  let w = 1;
  for (let p = 10; p <= n; p *= 10) w++;
  return digits(b, o, n, w);
}
