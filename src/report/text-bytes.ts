/**
 * The text report's message line, written as bytes straight into the output buffer: the same
 * bytes as `formatMessageLine(m, PLAIN, time)` (test/report-lines.test.ts compares them on every
 * captured message), without building and re-encoding a string for the parts every line has.
 * The time of day is encoded once per second, each sender once, the digits by hand; the text
 * and the rare parts go through the string formatter's own functions. Used when the report has
 * no colour (a pipe or a file, where speed matters); a terminal gets formatMessageLine.
 */
import type { Message, MessageBytes } from '../pipeline/types.js';
import { escapeWire, PLAIN_WIRE_TEXT } from './escape.js';
import { Output } from './output.js';
import { PLAIN } from './style.js';
import { formatLineTail, levelName } from './text.js';
import { printkTime, type TextTime } from './time.js';
import { copy, digits, six, SourceViews } from './bytes.js';

interface FastWrites {
  latin1Write(s: string, offset: number): number;
  utf8Write(s: string, offset: number): number;
}

const LEVELS = [0, 1, 2, 3, 4, 5, 6, 7].map(l => levelName(l).padEnd(6));
/** A record without a level (plain netconsole): a third of the bench capture's lines. */
const NO_LEVEL = levelName(undefined).padEnd(6);
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;
/** Longest prefix: `@-10000000000000.000000000 ` would not fit, but such times take the slow path. */
const PREFIX_ROOM = 8 + 10 + 1 + 64 + 1 + 6 + 1 + 24 + 4; // + 4: a Piece's last word

/**
 * Bytes a line's head repeats (the time of day, the sender and level, the printk seconds), kept
 * as little-endian 32-bit words: written four bytes at a time, a byte loop cost more than all
 * the rest of the head.
 */
interface Piece {
  words: Int32Array;
  length: number;
}

function piece(s: string): Piece {
  const bytes = Buffer.alloc((s.length + 3) & ~3);
  bytes.write(s, 0, 'latin1');
  const words = new Int32Array(bytes.length / 4);
  for (let i = 0; i < words.length; i++) words[i] = bytes.readInt32LE(i * 4);
  return { words, length: s.length };
}

/** Writes `p` at `o`; up to 3 bytes after it are overwritten too (within the room reserved: see PREFIX_ROOM). */
function put(d: DataView, o: number, p: Piece): number {
  const w = p.words;
  for (let i = 0; i < w.length; i++) d.setInt32(o + 4 * i, w[i]!, true);
  return o + p.length;
}

const EMPTY: Piece = piece('');

/** Room for ` [N datagrams joined]` and the dictionary's ` {` and `}`. */
const TAIL_ROOM = 48;
const JOINED: Buffer[] = [];

/** ` [N datagrams joined]`, made once for each N. */
function joinedWords(n: number): Buffer {
  if (n < 256) return (JOINED[n] ??= Buffer.from(` [${n} datagrams joined]`, 'latin1'));
  return Buffer.from(` [${n} datagrams joined]`, 'latin1');
}

/** A text this long is checked after it is written (see TextLineEncoder.write). */
const LONG_TEXT = 256;

/** Whether `b[from, to)` (`d` a DataView of `b`) is printable ASCII without a backslash. */
function plainBytes(d: DataView, b: Uint8Array, from: number, to: number): boolean {
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const x = d.getInt32(i, true);
    const bs = x ^ 0x5c5c5c5c;
    if ((((x - 0x20202020) & ~x) | (x + 0x01010101) | x | ((bs - 0x01010101) & ~bs)) & 0x80808080) return false;
  }
  for (; i < to; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return false;
  }
  return true;
}

/** The DataViews of the sources copyPlain reads (sources reuse their buffers: made rarely). */
const sources = new SourceViews();

/**
 * Copies `src[from, to)` to `b` at `o` (`d`: a DataView of `b`; the room reserved) when it is
 * printable ASCII without a backslash, four bytes at a time, checking each word as it goes (the
 * test of plainTextKind in message-bytes.ts); returns the end, or -1 when a byte is not so.
 */
function copyPlain(src: Uint8Array, from: number, to: number, b: Uint8Array, o: number, d: DataView): number {
  const s = sources.of(src);
  let i = from;
  // two words a turn, their tests joined into one branch
  for (; i + 8 <= to; i += 8, o += 8) {
    const x = s.getInt32(i, true);
    const y = s.getInt32(i + 4, true);
    const bx = x ^ 0x5c5c5c5c;
    const by = y ^ 0x5c5c5c5c;
    // a byte below 0x20, or above 0x7e, or a zero byte of x ^ 0x5c5c5c5c (a backslash)
    const bad = ((x - 0x20202020) & ~x) | (x + 0x01010101) | x | ((bx - 0x01010101) & ~bx);
    if ((bad | ((y - 0x20202020) & ~y) | (y + 0x01010101) | y | ((by - 0x01010101) & ~by)) & 0x80808080) return -1;
    d.setInt32(o, x, true);
    d.setInt32(o + 4, y, true);
  }
  if (i + 4 <= to) {
    const x = s.getInt32(i, true);
    const bx = x ^ 0x5c5c5c5c;
    if ((((x - 0x20202020) & ~x) | (x + 0x01010101) | x | ((bx - 0x01010101) & ~bx)) & 0x80808080) return -1;
    d.setInt32(o, x, true);
    i += 4;
    o += 4;
  }
  for (; i < to; i++) {
    const c = src[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
    b[o++] = c;
  }
  return o;
}

export class TextLineEncoder {
  private sec = NaN;
  private clock = EMPTY;
  private lastSender = '';
  /** ` SENDER LEVEL` of the last sender, by level (0-7, then 8: no level). */
  private senderLevels: Piece[] = [];
  private readonly senders = new Map<string, Piece[]>();
  /**
   * By the flow's index (the first 4,096): its sender, the very string each of its messages
   * carries, and its pieces. Flows taking turns then cost a comparison of references, not of
   * the senders' texts and a look-up.
   */
  private readonly flowSenders: string[] = [];
  private readonly flowLevels: Piece[][] = [];
  private lastFlow = -1;
  /** ` [   45.`: the printk time's seconds, the same for many lines in a row. */
  private printkSec = -1;
  private printkHead = EMPTY;
  /** A DataView of the output buffer, made again when Output moves to another. */
  private viewOf: Uint8Array | undefined;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  constructor(
    private readonly out: Output,
    private readonly time: TextTime,
  ) {}

  /**
   * Readies the time of day of `sec` and the sender's bytes (`flow`: its index, -1 when not
   * known); false when either takes the string path.
   */
  private ready(sec: number, sender: string, flow: number): boolean {
    if (sec !== this.sec) {
      const c = this.time.clockTime({ sec, nsec: 0 });
      if (c.length !== 15) return false; // not HH:MM:SS.000000: a damaged capture's time
      this.sec = sec;
      this.clock = piece(c.slice(0, 9));
    }
    if (flow === this.lastFlow && sender === this.lastSender) return true;
    if (flow >= 0 && this.flowSenders[flow] === sender) {
      this.lastFlow = flow;
      this.lastSender = sender;
      this.senderLevels = this.flowLevels[flow]!;
      return true;
    }
    if (sender !== this.lastSender) {
      // A few flows take turns: each sender's bytes are made once, with each level after it.
      let b = this.senders.get(sender);
      if (!b) {
        if (sender.length > 64 || NOT_PRINTABLE_ASCII.test(sender)) return false;
        if (this.senders.size >= 4096) this.senders.clear();
        b = [...LEVELS, NO_LEVEL].map(l => piece(` ${sender} ${l}`));
        this.senders.set(sender, b);
      }
      this.lastSender = sender;
      this.senderLevels = b;
    }
    this.lastFlow = flow;
    if (Number.isInteger(flow) && flow >= 0 && flow < 4096) {
      this.flowSenders[flow] = sender;
      this.flowLevels[flow] = this.senderLevels;
    }
    return true;
  }

  /** Writes the line of `m`; false when it has to be formatted as a string (an odd time). */
  write(m: Message): boolean {
    const t = m.time;
    if (!this.ready(t.sec, m.sender, -1)) return false;
    // Kernel text is nearly always printable ASCII without a backslash: then it is copied as it
    // is (escapeWire would return it unchanged); anything else takes escapeWire and UTF-8. A long
    // text (an ncfrag message's) is written first and its bytes checked after, four at a time:
    // the regular expression cost more than all the rest of its line.
    const text = m.text;
    const long = text.length >= LONG_TEXT;
    const plainText = !long && PLAIN_WIRE_TEXT.test(text);
    const shown = plainText || long ? text : escapeWire(text);
    const tail =
      m.fragments > 1 || m.incomplete || m.dict || m.userdata || m.sysdata || m.dictLines
        ? formatLineTail(m, PLAIN)
        : '';
    const mid =
      m.mode === 'syslog'
        ? ` syslog ${escapeWire(m.hostname ?? '-')} ${escapeWire(m.app ?? '-')}:`
        : m.mode === 'unknown'
          ? ' (not netconsole)'
          : '';
    const need = PREFIX_ROOM + (plainText ? shown.length : shown.length * 3) + (mid.length + tail.length) * 3;
    const out = this.out;
    if (need > Output.MAX_RESERVE) return false;
    const b = out.reserve(need) as Buffer & FastWrites;
    let o = this.head(b, out.off, t.nsec, m.level, m.mode === 'syslog' ? undefined : m.usec);
    // rare: the string formatter's own words
    if (mid) o += b.utf8Write(mid, o);
    b[o++] = 0x20;
    if (long) {
      // one byte per character: ASCII; then none under 0x20, no DEL, no backslash
      const n = b.utf8Write(text, o);
      if (n !== text.length || !plainBytes(this.view, b, o, o + n)) return false; // the string formatter's line
      o += n;
    } else o += plainText ? b.latin1Write(shown, o) : b.utf8Write(shown, o);
    if (tail) o += b.utf8Write(tail, o);
    b[o++] = 0x0a;
    out.off = o;
    return true;
  }

  /**
   * Writes the line of a message still in its datagram's bytes (one datagram, nothing after the
   * text: no tail) when its text is printable ASCII without a backslash, checked as it is copied
   * (the pipeline does not scan it first: PipelineOptions.messageBytesChecked); false, with
   * nothing written, when it is not or as `write`.
   */
  writeBytes(m: MessageBytes): boolean {
    if (!this.ready(m.sec, m.sender, m.flow)) return false;
    const n = m.textEnd - m.textOff;
    const out = this.out;
    // a joined message's tail: ` [N datagrams joined]` and ` {dictionary}` (formatLineTail's)
    const need = PREFIX_ROOM + n + (m.fragments > 1 || m.dictEnd > m.dictOff ? TAIL_ROOM + m.dictEnd - m.dictOff : 0);
    if (need > Output.MAX_RESERVE) return false;
    const b = out.reserve(need);
    let o = this.head(b as Buffer & FastWrites, out.off, m.nsec, m.level, m.usec);
    b[o++] = 0x20;
    o = copyPlain(m.buf, m.textOff, m.textEnd, b, o, this.view);
    if (o < 0) return false;
    if (m.fragments > 1) o = copy(joinedWords(m.fragments), b, o);
    if (m.dictEnd > m.dictOff) {
      // ` KEY=value` lines (plainDictionaryEnd's): shown as they are, a space between them
      b[o++] = 0x20;
      b[o++] = 0x7b; // {
      const src = m.buf;
      for (let i = m.dictOff + 1; i < m.dictEnd; i++) {
        const c = src[i]!;
        if (c !== 0x0a) b[o++] = c;
      }
      b[o++] = 0x7d; // }
    }
    b[o++] = 0x0a;
    out.off = o;
    return true;
  }

  /** `HH:MM:SS.ffffff SENDER LEVEL [printk time]` at `o` (the second and sender readied); returns the end. */
  private head(b: Buffer & FastWrites, o: number, ns: number, lv: number | undefined, us: number | undefined): number {
    if (b !== this.viewOf) {
      this.viewOf = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    const d = this.view;
    o = put(d, o, this.clock);
    // the fraction: microseconds, or nanoseconds when the capture has them
    if (ns % 1000 === 0 && ns >= 0 && ns < 1e9) o = six(d, o, ns / 1000);
    else if (ns % 1000 === 0) o = digits(b, o, ns / 1000, 6);
    else o = digits(b, o, ns, 9);
    if (lv === undefined) o = put(d, o, this.senderLevels[8]!);
    else if (lv >= 0 && lv < 8) o = put(d, o, this.senderLevels[lv]!);
    else {
      b[o++] = 0x20;
      o += b.latin1Write(this.lastSender, o);
      b[o++] = 0x20;
      o += b.latin1Write(levelName(lv).padEnd(6), o);
    }
    if (us !== undefined) {
      if (Number.isSafeInteger(us) && us >= 0 && us < 1e15) {
        const sec = Math.floor(us / 1e6);
        if (sec !== this.printkSec) {
          this.printkSec = sec;
          this.printkHead = piece(` [${String(sec).padStart(5, ' ')}.`);
        }
        o = put(d, o, this.printkHead);
        o = six(d, o, us - sec * 1e6);
        b[o++] = 0x5d; // ]
      } else {
        b[o++] = 0x20;
        o += b.latin1Write(printkTime(us), o);
      }
    }
    return o;
  }
}
