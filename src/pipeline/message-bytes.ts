/**
 * The bytes fast path (MessageBytes, types.ts' onMessageBytes): whether a message's text can be
 * handed on as the bytes it came in, and the one view that carries it, reused for every message.
 * A message that does not qualify is made into a Message as before.
 */
import type { MessageBytes } from './message.js';

/** The DataView of the last buffer scanned (sources reuse their read buffer: made once). */
let viewOf: Uint8Array | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));

/**
 * Whether `buf[off, end)` is printable ASCII without a backslash: then the text decoders would
 * return exactly these bytes and the reports show them unescaped. -1 when not; else 1 when it
 * holds a `"`, 0 when not. Eight bytes at a time, as two words (each test below is exact for the
 * word: a byte under 0x20, over 0x7e, a backslash, a quote), the rest one by one: a byte at a time cost
 * about as much as formatting the line's head.
 */
export function plainTextKind(buf: Uint8Array, off: number, end: number): number {
  if (viewOf !== buf) {
    viewOf = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const dv = view;
  let quote = 0;
  let i = off;
  // two words a turn, their tests joined: fewer branches than one word at a time
  for (; i + 8 <= end; i += 8) {
    const x = dv.getInt32(i, true);
    const y = dv.getInt32(i + 4, true);
    const bx = x ^ 0x5c5c5c5c;
    const by = y ^ 0x5c5c5c5c;
    // a byte below 0x20, or above 0x7e, or a zero byte of x ^ 0x5c5c5c5c (a backslash)
    const bad = ((x - 0x20202020) & ~x) | (x + 0x01010101) | x | ((bx - 0x01010101) & ~bx);
    if ((bad | ((y - 0x20202020) & ~y) | (y + 0x01010101) | y | ((by - 0x01010101) & ~by)) & 0x80808080) return -1;
    const qx = x ^ 0x22222222;
    const qy = y ^ 0x22222222;
    if ((((qx - 0x01010101) & ~qx) | ((qy - 0x01010101) & ~qy)) & 0x80808080) quote = 1;
  }
  if (i + 4 <= end) {
    const x = dv.getInt32(i, true);
    const bx = x ^ 0x5c5c5c5c;
    if ((((x - 0x20202020) & ~x) | (x + 0x01010101) | x | ((bx - 0x01010101) & ~bx)) & 0x80808080) return -1;
    const q = x ^ 0x22222222;
    if ((q - 0x01010101) & ~q & 0x80808080) quote = 1;
    i += 4;
  }
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
    if (c === 0x22) quote = 1;
  }
  return quote;
}

/** `SUBSYSTEM=` and `DEVICE=`: the dictionary keys printk sends (decodeExtendedBody's DICT_KEYS). */
const SUBSYSTEM = Buffer.from('SUBSYSTEM=');
const DEVICE = Buffer.from('DEVICE=');

function keyAt(buf: Uint8Array, p: number, end: number, key: Uint8Array): boolean {
  if (end - p < key.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[p + i] !== key[i]) return false;
  return true;
}

/**
 * Whether the lines `buf[p, end)` after an extended text are a dictionary that the reports show as
 * it came (MessageBytes.dictOff): ` KEY=value` lines, each ending in a newline or at `end`, keys
 * SUBSYSTEM and DEVICE each at most once, values printable ASCII without a space, a quote or a
 * backslash. Then decodeExtendedBody makes them `dict` and nothing else, in this order, and the
 * writers need neither quotes nor escapes. Returns the end of the last line (its newline left
 * out), or -1 when they are not so (userdata, sysdata, escapes, a repeated key, an empty line).
 */
export function plainDictionaryEnd(buf: Uint8Array, p: number, end: number): number {
  let seen = 0;
  let last = -1;
  while (p < end) {
    if (buf[p] !== 0x20) return -1;
    let key: number;
    if (keyAt(buf, p + 1, end, SUBSYSTEM)) {
      key = 1;
      p += 1 + SUBSYSTEM.length;
    } else if (keyAt(buf, p + 1, end, DEVICE)) {
      key = 2;
      p += 1 + DEVICE.length;
    } else return -1;
    if (seen & key) return -1;
    seen |= key;
    for (; p < end; p++) {
      const c = buf[p]!;
      if (c === 0x0a) break;
      if (c <= 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
    }
    last = p;
    p++;
  }
  return last;
}

/** What a MessageBytes says of its flow. */
export interface FlowInfo {
  index: number;
  sender: string;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  srcMacStr?: string | undefined;
  lastMacStr?: string | undefined;
}

export class MessageBytesView implements MessageBytes {
  flow = 0;
  sender = '';
  srcIp = '';
  srcPort = 0;
  dstIp = '';
  dstPort = 0;
  srcMac: string | undefined = undefined;
  dstMac: string | undefined = undefined;
  sec = 0;
  nsec = 0;
  mode: 'plain' | 'extended' = 'plain';
  packet = 0;
  fragments = 1;
  packets: number[] | undefined = undefined;
  dictOff = 0;
  dictEnd = 0;
  buf: Uint8Array = new Uint8Array(0);
  textOff = 0;
  textEnd = 0;
  quote = false;
  level: number | undefined = undefined;
  facility: number | undefined = undefined;
  seq: number | undefined = undefined;
  usec: number | undefined = undefined;
  flags: string | undefined = undefined;
  release: string | undefined = undefined;

  /** Sets what every message has; the caller sets the record's fields after. */
  of(
    flow: FlowInfo,
    mode: 'plain' | 'extended',
    sec: number,
    nsec: number,
    packet: number,
    buf: Uint8Array,
    textOff: number,
    textEnd: number,
    quote: boolean,
  ): this {
    this.flow = flow.index;
    this.sender = flow.sender;
    this.srcIp = flow.srcIp;
    this.srcPort = flow.srcPort;
    this.dstIp = flow.dstIp;
    this.dstPort = flow.dstPort;
    this.srcMac = flow.srcMacStr;
    this.dstMac = flow.lastMacStr;
    this.mode = mode;
    this.sec = sec;
    this.nsec = nsec;
    this.packet = packet;
    this.fragments = 1;
    this.packets = undefined;
    this.dictOff = this.dictEnd = 0;
    this.buf = buf;
    this.textOff = textOff;
    this.textEnd = textEnd;
    this.quote = quote;
    this.level = this.facility = this.seq = this.usec = undefined;
    this.flags = this.release = undefined;
    return this;
  }
}
