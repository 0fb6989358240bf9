/**
 * A message of `--json` / `--jsonl`, written as bytes straight into the output buffer: the same
 * bytes as `messageJsonText` (and so as `safeJson(messageJson(m))`; test/report-lines.test.ts
 * compares them). Strings that repeat (sender, destination, MACs, mode) are encoded once, the
 * time once per second, numbers digit by digit; the text is copied as it is when it needs no
 * escaping, else it takes safeJson.
 */
import type { Message, MessageBytes } from '../pipeline/types.js';
import { endpoint } from '../decode/addr.js';
import { safeJson } from './escape.js';
import { jsonString, messageJsonText } from './json.js';
import { Output } from './output.js';
import { isoTime } from './time.js';
import { copy, decimal, digits, six, SourceViews } from './bytes.js';

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
const K_LEVEL = bytes(',"level":');
const K_FACILITY = bytes(',"facility":');
const K_SEQ = bytes(',"seq":');
const K_USEC = bytes(',"usec":');
const USEC_WORD0 = K_USEC.readInt32LE(0);
const USEC_WORD1 = K_USEC.readInt32LE(4);
const K_DICT = bytes(',"dict":');
const K_USERDATA = bytes(',"userdata":');
const K_SYSDATA = bytes(',"sysdata":');
const K_DICTLINES = bytes(',"dictLines":');
const K_RELEASE = bytes(',"release":');
const K_HOSTNAME = bytes(',"hostname":');
const K_APP = bytes(',"app":');
const K_INCOMPLETE = bytes(',"incomplete":');
const EMPTY = Buffer.alloc(0);
const K_SRCMAC = bytes(',"srcMac":');
const K_DSTMAC = bytes(',"dstMac":');

const K_TEXT_END_ONE_PACKET = bytes('","fragments":1,"packets":[');
const Z = bytes('Z');
/** A head run's room for the six digits of the second's fraction, written over (see FlowRuns.head). */
const FRACTION6 = bytes('000000');
const QUOTE = bytes('"');
const END = bytes('}');
const END_LINE = bytes('}\n');

/**
 * What a flow's common messages share, as runs of bytes (and what they were made of):
 * `open` is `{"sender":"…","time":"2026-11-24T13:01:02.` (at its position, in its second), `mid`
 * `Z","mode":"…","text":"`, `head` the two with six zeros between them (a time in microseconds,
 * the usual: one run, its fraction written over the zeros at `open.length`), `dst` `],"dst":"…"`
 * (`dstUsec` with `,"usec":` after it, a plain record's),
 * `tail` the release, the MACs and the end;
 * `dstRecord`, by level and facility, `],"dst":"…","level":6,"facility":0,"seq":` (an extended
 * record's numbers that take few values, made when first seen).
 */
interface FlowRuns {
  sec: number;
  at: JsonPosition;
  sender: string;
  mode: string;
  dstIp: string;
  dstPort: number;
  srcMac: string | undefined;
  dstMac: string | undefined;
  release: string | undefined;
  /** The destination's JSON string. */
  dstJson: Buffer;
  open: Run;
  mid: Run;
  head: Run;
  dst: Run;
  dstUsec: Run;
  tail: Run;
  dstRecord: Array<Run | undefined>;
}

/** Bytes copied often (see putRun). */
interface Run {
  bytes: Uint8Array;
  length: number;
}

function makeRun(parts: Uint8Array[]): Run {
  const bytes = Buffer.concat(parts);
  return { bytes, length: bytes.length };
}

/**
 * Copies a run to `b` at `o`: one TypedArray#set of the whole run (no subarray made: a run is a
 * Uint8Array of its own), a native copy. Eight bytes a turn through DataViews (6efe74d) took more
 * instructions for these 30-70 bytes, under callgrind (30,000 messages of the bench capture
 * written six times, the whole process): --jsonl 3,769M and 3,816M that way, 3,545M and 3,590M
 * so; --json 3,887M, 3,556M.
 */
function putRun(r: Run, b: Uint8Array, o: number): number {
  b.set(r.bytes, o);
  return o + r.length;
}

/** K_TEXT_END_ONE_PACKET as seven little-endian words, its last byte left over. */
const [E0, E1, E2, E3, E4, E5, E6] = Array.from({ length: 7 }, (_, i) =>
  Buffer.concat([K_TEXT_END_ONE_PACKET, Buffer.alloc(1)]).readInt32LE(i * 4),
) as [number, number, number, number, number, number, number];

/**
 * Writes `","fragments":1,"packets":[` at `o` (`d` a DataView of the output) in seven stores of
 * words, a byte after it overwritten (within the room reserved); a TypedArray#set cost more.
 */
function textEndOnePacket(d: DataView, o: number): number {
  d.setInt32(o, E0, true);
  d.setInt32(o + 4, E1, true);
  d.setInt32(o + 8, E2, true);
  d.setInt32(o + 12, E3, true);
  d.setInt32(o + 16, E4, true);
  d.setInt32(o + 20, E5, true);
  d.setInt32(o + 24, E6, true);
  return o + 27;
}

/**
 * The last few strings seen in one place and their JSON bytes (with quotes): senders, modes and
 * MACs repeat message after message, from a handful of flows taking turns.
 */
class Recent {
  private readonly keys: Array<string | undefined> = [undefined, undefined, undefined, undefined];
  private readonly values: Buffer[] = [EMPTY, EMPTY, EMPTY, EMPTY];
  private next = 0;
  get(s: string): Buffer {
    const k = this.keys;
    for (let i = 0; i < 4; i++) if (k[i] === s) return this.values[i]!;
    const i = this.next;
    this.next = (i + 1) & 3;
    k[i] = s;
    return (this.values[i] = Buffer.from(jsonString(s), 'utf8'));
  }
}

export type JsonPosition = keyof typeof OPEN;

/** What comes before a message written as a string (messageJsonText), by its position. */
const STRING_OPEN = { jsonl: '', first: '{"messages":[', next: ',' } as const;

export class JsonLineEncoder {
  private sec = NaN;
  private date = Buffer.alloc(0);
  private dstIp = '';
  private dstPort = -1;
  private dst: Buffer = Buffer.alloc(0);
  private readonly dsts: Array<{ ip: string; port: number; json: Buffer }> = [];
  private readonly sender = new Recent();
  private readonly mode = new Recent();
  private readonly release = new Recent();
  private readonly srcMac = new Recent();
  private readonly dstMac = new Recent();
  /** By the flow's index: see writeBytes. */
  private readonly runs: Array<FlowRuns | undefined> = [];

  constructor(private readonly out: Output) {}

  /** Readies the date of `sec` and the destination; false when the time takes the string path. */
  private ready(sec: number, dstIp: string, dstPort: number): boolean {
    if (sec !== this.sec) {
      const iso = isoTime({ sec, nsec: 0 });
      if (iso.length !== 27) return false; // a time a date cannot hold
      this.sec = sec;
      this.date = bytes(iso.slice(0, 20)); // 2026-11-24T13:01:02.
    }
    if (dstIp !== this.dstIp || dstPort !== this.dstPort) {
      this.dstIp = dstIp;
      this.dstPort = dstPort;
      // Flows to two ports of one host take turns: each destination is encoded once.
      const d = this.dsts;
      let i = 0;
      while (i < d.length && (d[i]!.ip !== dstIp || d[i]!.port !== dstPort)) i++;
      if (i === d.length) {
        if (d.length >= 16) d.length = 0;
        d.push({ ip: dstIp, port: dstPort, json: Buffer.from(jsonString(endpoint(dstIp, dstPort)), 'utf8') });
        i = d.length - 1;
      }
      this.dst = d[i]!.json;
    }
    return true;
  }

  /** `{"sender":...,"time":"...","mode":...,"text":` */
  private head(b: Buffer, o: number, at: JsonPosition, sender: string, nsec: number, mode: string): number {
    o = copy(OPEN[at], b, o);
    o = copy(this.sender.get(sender), b, o);
    o = copy(K_TIME, b, o);
    o = copy(this.date, b, o);
    if (nsec % 1000 === 0) o = digits(b, o, nsec / 1000, 6);
    else o = digits(b, o, nsec, 9);
    b[o++] = 0x5a; // Z
    o = copy(K_MODE, b, o);
    o = copy(this.mode.get(mode), b, o);
    return copy(K_TEXT, b, o);
  }

  /**
   * Writes `m` as `{"type":"message",...}\n` (jsonl), or as the first (`{"messages":[{...}`) or a
   * later (`,{...}`) element of the document's array. False when it must take the string path.
   */
  write(m: Message, at: JsonPosition): boolean {
    const t = m.time;
    if (!this.ready(t.sec, m.dstIp, m.dstPort)) return false;
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
    let o = this.head(b, this.out.off, at, m.sender, t.nsec, m.mode);
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
    // The optional fields, when set, in messageJson's order.
    o = this.record(b, o, m.level, m.facility, m.seq, m.usec);
    if (m.dict !== undefined) o = text8(b, o, K_DICT, dict);
    if (m.userdata !== undefined) o = text8(b, o, K_USERDATA, safeJson(m.userdata));
    if (m.sysdata !== undefined) o = text8(b, o, K_SYSDATA, safeJson(m.sysdata));
    if (m.dictLines !== undefined) o = text8(b, o, K_DICTLINES, safeJson(m.dictLines));
    if (m.release !== undefined) o = copy(this.release.get(m.release), b, copy(K_RELEASE, b, o));
    if (m.hostname !== undefined) o = text8(b, o, K_HOSTNAME, jsonString(m.hostname));
    if (m.app !== undefined) o = text8(b, o, K_APP, jsonString(m.app));
    if (m.incomplete !== undefined) o = text8(b, o, K_INCOMPLETE, m.incomplete ? 'true' : 'false');
    o = this.tail(b, o, at, m.srcMac, m.dstMac);
    this.out.off = o;
    return true;
  }

  /** Writes `m` at `at`: as bytes (`write`), or else through messageJsonText. */
  writeMessage(m: Message, at: JsonPosition): void {
    if (!this.write(m, at)) {
      this.out.write(`${STRING_OPEN[at]}${messageJsonText(m, at === 'jsonl')}${at === 'jsonl' ? '\n' : ''}`);
    }
  }

  /**
   * Writes a message still in its datagram's bytes (printable ASCII without a backslash, one
   * datagram, no dictionary); false as `write`. What its flow's messages share is copied in a few
   * runs made once per flow (see FlowRuns).
   */
  writeBytes(m: MessageBytes, at: JsonPosition): boolean {
    // The flow's runs, when they still hold: the second and the destination were readied for them.
    let r = this.runs[m.flow];
    if (
      r === undefined ||
      r.sec !== m.sec ||
      r.at !== at ||
      r.sender !== m.sender ||
      r.mode !== m.mode ||
      r.dstIp !== m.dstIp ||
      r.dstPort !== m.dstPort ||
      r.srcMac !== m.srcMac ||
      r.dstMac !== m.dstMac ||
      r.release !== m.release
    ) {
      if (!this.ready(m.sec, m.dstIp, m.dstPort)) return false;
      r = this.runsOf(m, at);
    }
    const n = m.textEnd - m.textOff;
    const packets = m.packets;
    const need =
      512 +
      n * 2 +
      (m.release?.length ?? 0) * 6 +
      (packets === undefined ? 0 : packets.length * 16) +
      (m.dictEnd - m.dictOff) * 2;
    if (need > Output.MAX_RESERVE) return false;
    const b = this.out.reserve(need) as Buffer & FastWrites;
    const d = outView(b);
    const start = this.out.off;
    const nsec = m.nsec;
    let o: number;
    if (nsec % 1000 === 0 && nsec >= 0 && nsec < 1e9) {
      o = putRun(r.head, b, start);
      six(d, start + r.open.length, nsec / 1000);
    } else {
      o = putRun(r.open, b, start);
      if (nsec % 1000 === 0) o = digits(b, o, nsec / 1000, 6);
      else o = digits(b, o, nsec, 9);
      o = putRun(r.mid, b, o);
    }
    o = copyJsonText(m.buf, m.textOff, m.textEnd, b, o);
    if (o < 0) return false;
    if (packets === undefined) {
      o = uint(b, d, textEndOnePacket(d, o), m.packet);
    } else {
      // joined from ncfrag pieces: as write() does
      b[o++] = 0x22;
      o = copy(K_FRAGMENTS, b, o);
      o = number(b, o, m.fragments);
      o = copy(K_PACKETS, b, o);
      for (let i = 0; i < packets.length; i++) {
        if (i > 0) b[o++] = 0x2c;
        o = number(b, o, packets[i]!);
      }
    }
    const { level, facility, seq, usec } = m;
    if (
      seq !== undefined &&
      level !== undefined &&
      facility !== undefined &&
      (level & 7) === level &&
      (facility & 31) === facility
    ) {
      // An extended record: its level and facility in a run (a few kinds per flow), then the numbers.
      const i = level | (facility << 3);
      o = putRun((r.dstRecord[i] ??= dstRecord(r.dstJson, level, facility)), b, o);
      o = uint(b, d, o, seq);
      if (usec !== undefined) {
        // `,"usec":` as two little-endian words (a byte loop cost more than the number after it)
        d.setInt32(o, USEC_WORD0, true);
        d.setInt32(o + 4, USEC_WORD1, true);
        o = uint(b, d, o + 8, usec);
      }
    } else if (level === undefined && facility === undefined && seq === undefined && usec !== undefined) {
      // a plain record's printk time: `],"dst":"…","usec":` in a run
      o = uint(b, d, putRun(r.dstUsec, b, o), usec);
    } else {
      o = putRun(r.dst, b, o);
      o = this.record(b, o, level, facility, seq, usec);
    }
    if (m.dictEnd > m.dictOff) o = dictionary(m.buf, m.dictOff, m.dictEnd, b, o);
    o = putRun(r.tail, b, o);
    this.out.off = o;
    return true;
  }

  /** The runs of `m`'s flow, made (again) with the second and the destination readied. */
  private runsOf(m: MessageBytes, at: JsonPosition): FlowRuns {
    const tail: Buffer[] = [];
    if (m.release !== undefined) tail.push(K_RELEASE, this.release.get(m.release));
    if (m.srcMac !== undefined) tail.push(K_SRCMAC, this.srcMac.get(m.srcMac));
    if (m.dstMac !== undefined) tail.push(K_DSTMAC, this.dstMac.get(m.dstMac));
    tail.push(at === 'jsonl' ? END_LINE : END);
    const open = makeRun([OPEN[at], this.sender.get(m.sender), K_TIME, this.date]);
    const mid = makeRun([Z, K_MODE, this.mode.get(m.mode), K_TEXT, QUOTE]);
    const r: FlowRuns = {
      sec: m.sec,
      at,
      sender: m.sender,
      mode: m.mode,
      dstIp: m.dstIp,
      dstPort: m.dstPort,
      srcMac: m.srcMac,
      dstMac: m.dstMac,
      release: m.release,
      open,
      mid,
      head: makeRun([open.bytes, FRACTION6, mid.bytes]),
      dstJson: this.dst,
      dst: makeRun([K_DST, this.dst]),
      dstUsec: makeRun([K_DST, this.dst, K_USEC]),
      tail: makeRun(tail),
      dstRecord: [],
    };
    if (m.flow < 4096) this.runs[m.flow] = r;
    return r;
  }

  /** The record's fields that are set: level, facility, seq, usec (JSON has no flags). */
  private record(
    b: Buffer & FastWrites,
    o: number,
    level: number | undefined,
    facility: number | undefined,
    seq: number | undefined,
    usec: number | undefined,
  ): number {
    if (level !== undefined) o = number(b, copy(K_LEVEL, b, o), level);
    if (facility !== undefined) o = number(b, copy(K_FACILITY, b, o), facility);
    if (seq !== undefined) o = number(b, copy(K_SEQ, b, o), seq);
    if (usec !== undefined) o = number(b, copy(K_USEC, b, o), usec);
    return o;
  }

  /** The MACs when known, and the message's end. */
  private tail(b: Buffer, o: number, at: JsonPosition, srcMac?: string, dstMac?: string): number {
    if (srcMac !== undefined) o = copy(this.srcMac.get(srcMac), b, copy(K_SRCMAC, b, o));
    if (dstMac !== undefined) o = copy(this.dstMac.get(dstMac), b, copy(K_DSTMAC, b, o));
    b[o++] = 0x7d; // }
    if (at === 'jsonl') b[o++] = 0x0a;
    return o;
  }
}

/**
 * `,"dict":{"KEY":"value",...}` of ` KEY=value` lines `src[from, to)` (MessageBytes.dictOff:
 * printable ASCII without a quote or a backslash, so JSON needs no escape in them).
 */
function dictionary(src: Uint8Array, from: number, to: number, b: Uint8Array, o: number): number {
  o = copy(K_DICT, b, o);
  b[o++] = 0x7b; // {
  let i = from;
  while (i < to) {
    if (i > from) b[o++] = 0x2c; // ,
    b[o++] = 0x22;
    i++; // the line's space
    let c = src[i]!;
    for (; c !== 0x3d; c = src[++i]!) b[o++] = c; // the key, up to its `=`
    b[o++] = 0x22;
    b[o++] = 0x3a; // :
    b[o++] = 0x22;
    for (i++; i < to && (c = src[i]!) !== 0x0a; i++) b[o++] = c;
    b[o++] = 0x22;
    i++; // the newline
  }
  b[o++] = 0x7d; // }
  return o;
}

/** DataViews of the sources and the output copyJsonText saw (they reuse their buffers: made rarely). */
const sources = new SourceViews();
let dstOf: Uint8Array | undefined;
let dstView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** A DataView of the output buffer `b` (Output reuses its buffers: made rarely). */
function outView(b: Uint8Array): DataView<ArrayBufferLike> {
  if (b !== dstOf) {
    dstOf = b;
    dstView = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  return dstView;
}

/**
 * Copies the text `src[from, to)` to `b` at `o` as a JSON string's inside when it is printable
 * ASCII without a backslash (a quote escaped), checking it as it goes: eight bytes a turn while
 * none is odd or a quote (the test of plainTextKind in message-bytes.ts, one branch for both
 * words), then byte by byte. Returns the end, or -1 when a byte is not so (the Message path's).
 * The pipeline then need not scan the text first (PipelineOptions.messageBytesChecked).
 */
function copyJsonText(src: Uint8Array, from: number, to: number, b: Uint8Array, o: number): number {
  const s = sources.of(src),
    d = outView(b);
  // int32 from here on: `o` came in as a tagged number, checked again at every turn
  let i = from | 0;
  o |= 0;
  const last = (to - 8) | 0;
  for (;;) {
    for (; i <= last; i += 8, o += 8) {
      const x = s.getInt32(i, true);
      const y = s.getInt32(i + 4, true);
      const bx = x ^ 0x5c5c5c5c;
      const by = y ^ 0x5c5c5c5c;
      const qx = x ^ 0x22222222;
      const qy = y ^ 0x22222222;
      // a byte below 0x20, or above 0x7e, or a backslash, or a quote: the bytes below take them
      const odd =
        ((x - 0x20202020) & ~x) |
        (x + 0x01010101) |
        x |
        ((bx - 0x01010101) & ~bx) |
        ((qx - 0x01010101) & ~qx) |
        ((y - 0x20202020) & ~y) |
        (y + 0x01010101) |
        y |
        ((by - 0x01010101) & ~by) |
        ((qy - 0x01010101) & ~qy);
      if (odd & 0x80808080) break;
      d.setInt32(o, x, true);
      d.setInt32(o + 4, y, true);
    }
    if (i + 8 > to) break;
    // the eight bytes with a quote (or a byte that ends it all), one by one; then words again
    for (const e = i + 8; i < e; i++) {
      const c = src[i]!;
      if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
      if (c === 0x22) b[o++] = 0x5c;
      b[o++] = c;
    }
  }
  for (; i < to; i++) {
    const c = src[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
    if (c === 0x22) b[o++] = 0x5c;
    b[o++] = c;
  }
  return o;
}

/** `],"dst":"…","level":L,"facility":F,"seq":` of the destination `dst` (its JSON string). */
function dstRecord(dst: Buffer, level: number, facility: number): Run {
  return makeRun([K_DST, dst, bytes(`,"level":${level},"facility":${facility},"seq":`)]);
}

/** A key, then JSON text written as UTF-8. */
function text8(b: Buffer & FastWrites, o: number, key: Uint8Array, json: string): number {
  o = copy(key, b, o);
  return o + b.utf8Write(json, o);
}

/**
 * A number as JSON writes it (`number`'s), whole numbers up to 2^31 - 1 (packet numbers,
 * sequence numbers, printk times below 36 minutes) two digits at a time (`d` a DataView of `b`).
 */
function uint(b: Buffer & FastWrites, d: DataView, o: number, n: number): number {
  return n >= 0 && n <= 0x7fffffff && (n | 0) === n ? decimal(d, o, n) : number(b, o, n);
}

/** A number as JSON writes it: digits for whole numbers from 0 to 2^53, JSON's own text else. */
function number(b: Buffer & FastWrites, o: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return o + b.latin1Write(Number.isFinite(n) ? String(n) : 'null', o);
  let w = 1;
  for (let p = 10; p <= n; p *= 10) w++;
  return digits(b, o, n, w);
}
