/**
 * Messages in batches, from the pipeline's thread to the report's (report-thread.ts): the
 * common message (MessageBytes) as a fixed record and its text bytes in one ArrayBuffer handed
 * over whole; the rest (a Message: ncfrag, dictionaries, syslog) as its JSON in the same bytes,
 * so that it dies young in this thread and costs no structured clone (some 10 µs each, and the
 * Messages waiting in a batch made the young generation grow: 10 MiB more RSS at 5,000,000
 * datagrams); for --json and --jsonl the sender writes a Message's report bytes itself, and they
 * go as they are (report-thread.ts); a flow's strings when they change, and a Message too long
 * for a batch, as objects beside it, in order. Pure: no I/O, no threads; `readBatch` gives each message back as the
 * reporter takes it.
 */
import { MessageBytesView } from '../pipeline/message-bytes.js';
import type { Message, MessageBytes } from '../pipeline/types.js';
import { copyText } from './bytes.js';

/** Record types: a MessageBytes (HEAD bytes, then its text); the next object is a FlowStrings (what the
 * following messages of its flow carry); the next object is a Message; a Message as JSON (its length
 * as 4 bytes, then its UTF-8); a message as the report's own bytes (its length as 4 bytes, then them). */
const Rec = { Bytes: 1, Flow: 2, Message: 3, Json: 4, Encoded: 5 } as const;

// A Bytes record: type, bits, flow, then the numbers as float64 (any JS number, exactly), the text's length.
const BITS = 1,
  FLOW = 4,
  SEC = 8,
  NSEC = 16,
  PACKET = 24,
  LEVEL = 32,
  FACILITY = 40,
  SEQ = 48,
  USEC = 56,
  TEXT_LEN = 64,
  HEAD = 68;
const EXTENDED = 1,
  QUOTE = 2,
  HAS_LEVEL = 4,
  HAS_FACILITY = 8,
  HAS_SEQ = 16,
  HAS_USEC = 32;

/** A flow's strings (and the extended header's strings), sent again only when one changes. */
interface FlowStrings {
  /** The flow's index (FlowInfo's): a FlowStrings is the FlowInfo of its flow's messages. */
  index: number;
  sender: string;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  srcMac: string | undefined;
  dstMac: string | undefined;
  flags: string | undefined;
  release: string | undefined;
}

export interface Batch {
  bytes: ArrayBuffer;
  length: number;
  objects: unknown[];
}

/** Bytes a batch holds before it is handed over. */
export const BATCH_BYTES = 256 * 1024;

export class BatchWriter {
  private u8: Buffer;
  private dv: DataView;
  private off = 0;
  private objects: unknown[] = [];
  /** What was last sent of each flow, by its index. */
  private readonly sent: Array<FlowStrings | undefined> = [];

  constructor(bytes: ArrayBuffer = new ArrayBuffer(BATCH_BYTES)) {
    this.u8 = Buffer.from(bytes);
    this.dv = new DataView(bytes);
  }

  get length(): number {
    return this.off + this.objects.length;
  }

  /** Adds the common message; false when the batch has no room for it (take it, then add again). */
  addBytes(v: MessageBytes): boolean {
    const n = v.textEnd - v.textOff;
    if (this.off + 1 + HEAD + n > this.u8.length) {
      if (1 + HEAD + n <= this.u8.length) return false;
      // Longer than a whole batch (not from one datagram): it goes as a Message.
      return this.addMessage(messageOf(v));
    }
    let s = this.sent[v.flow];
    if (
      s === undefined ||
      s.srcMac !== v.srcMac ||
      s.dstMac !== v.dstMac ||
      s.flags !== v.flags ||
      s.release !== v.release ||
      s.sender !== v.sender
    ) {
      s = {
        index: v.flow,
        sender: v.sender,
        srcIp: v.srcIp,
        srcPort: v.srcPort,
        dstIp: v.dstIp,
        dstPort: v.dstPort,
        srcMac: v.srcMac,
        dstMac: v.dstMac,
        flags: v.flags,
        release: v.release,
      };
      if (v.flow < 4096) this.sent[v.flow] = s;
      this.objects.push(s);
      this.u8[this.off++] = Rec.Flow;
    }
    const o = this.off,
      dv = this.dv;
    this.u8[o] = Rec.Bytes;
    this.u8[o + BITS] =
      (v.mode === 'extended' ? EXTENDED : 0) |
      (v.quote ? QUOTE : 0) |
      (v.level !== undefined ? HAS_LEVEL : 0) |
      (v.facility !== undefined ? HAS_FACILITY : 0) |
      (v.seq !== undefined ? HAS_SEQ : 0) |
      (v.usec !== undefined ? HAS_USEC : 0);
    dv.setUint32(o + FLOW, v.flow, true);
    dv.setFloat64(o + SEC, v.sec, true);
    dv.setFloat64(o + NSEC, v.nsec, true);
    dv.setFloat64(o + PACKET, v.packet, true);
    dv.setFloat64(o + LEVEL, v.level ?? 0, true);
    dv.setFloat64(o + FACILITY, v.facility ?? 0, true);
    dv.setFloat64(o + SEQ, v.seq ?? 0, true);
    dv.setFloat64(o + USEC, v.usec ?? 0, true);
    dv.setUint32(o + TEXT_LEN, n, true);
    this.off = copyText(v.buf, v.textOff, v.textEnd, this.u8, o + HEAD);
    return true;
  }

  /**
   * Adds a message that is not the common one, as its JSON; false when the batch has no room for
   * it (take it, then add again). An empty batch always takes it: one too long for any batch goes
   * as an object.
   */
  addMessage(m: Message): boolean {
    const json = JSON.stringify(m);
    const room = this.u8.length - this.off - 5;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; measured only when that bound does not fit.
    const n = json.length * 3 <= room ? -1 : Buffer.byteLength(json);
    if (n > room) {
      if (this.length) return false;
      this.objects.push(m);
      this.u8[this.off++] = Rec.Message;
      return true;
    }
    const o = this.off;
    const written = this.u8.write(json, o + 5);
    this.u8[o] = Rec.Json;
    this.dv.setUint32(o + 1, written, true);
    this.off = o + 5 + written;
    return true;
  }

  /**
   * Adds a message the sender already wrote as the report's bytes (`b[from, to)`, copied); false
   * when the batch has no room for it (take it, then add again, or when the batch is empty, send
   * the Message).
   */
  addEncoded(b: Uint8Array, from: number, to: number): boolean {
    const n = to - from;
    const o = this.off;
    if (o + 5 + n > this.u8.length) return false;
    this.u8[o] = Rec.Encoded;
    this.dv.setUint32(o + 1, n, true);
    this.u8.set(b.subarray(from, to), o + 5);
    this.off = o + 5 + n;
    return true;
  }

  /** The batch so far, to hand over; the writer goes on in `next`. */
  take(next: ArrayBuffer = new ArrayBuffer(BATCH_BYTES)): Batch {
    const b: Batch = { bytes: this.u8.buffer as ArrayBuffer, length: this.off, objects: this.objects };
    this.u8 = Buffer.from(next);
    this.dv = new DataView(next);
    this.off = 0;
    this.objects = [];
    return b;
  }
}

/** What takes the messages of a batch: the reporter's two entry points. */
export interface BatchReader {
  messageBytes(m: MessageBytes): boolean;
  message(m: Message): void;
  /** A message as the report's bytes (BatchWriter.addEncoded): `b[from, to)`, valid during the call. */
  encoded(b: Uint8Array, from: number, to: number): void;
}

/**
 * Hands every message of `batch` to `to`, in order; a MessageBytes the reporter declines is made
 * the Message the pipeline would have made of it. `flows` keeps the flows' strings from batch to
 * batch (one per reader).
 */
export function readBatch(batch: Batch, to: BatchReader, flows: FlowStrings[]): void {
  const u8 = new Uint8Array(batch.bytes, 0, batch.length);
  const dv = new DataView(batch.bytes);
  const v = new MessageBytesView();
  let next = 0;
  for (let o = 0; o < batch.length;) {
    const type = u8[o]!;
    if (type === Rec.Flow) {
      const s = batch.objects[next++] as FlowStrings;
      flows[s.index] = s;
      o++;
    } else if (type === Rec.Message) {
      to.message(batch.objects[next++] as Message);
      o++;
    } else if (type === Rec.Encoded) {
      const n = dv.getUint32(o + 1, true);
      to.encoded(u8, o + 5, o + 5 + n);
      o += 5 + n;
    } else if (type === Rec.Json) {
      const n = dv.getUint32(o + 1, true);
      to.message(parsedMessage(text.decode(u8.subarray(o + 5, o + 5 + n))));
      o += 5 + n;
    } else {
      const bits = u8[o + BITS]!;
      const n = dv.getUint32(o + TEXT_LEN, true);
      const f = flows[dv.getUint32(o + FLOW, true)]!;
      v.of(
        f,
        bits & EXTENDED ? 'extended' : 'plain',
        dv.getFloat64(o + SEC, true),
        dv.getFloat64(o + NSEC, true),
        dv.getFloat64(o + PACKET, true),
        u8,
        o + HEAD,
        o + HEAD + n,
        (bits & QUOTE) !== 0,
      );
      v.srcMac = f.srcMac;
      v.dstMac = f.dstMac;
      if (bits & HAS_LEVEL) v.level = dv.getFloat64(o + LEVEL, true);
      if (bits & HAS_FACILITY) v.facility = dv.getFloat64(o + FACILITY, true);
      if (bits & HAS_SEQ) v.seq = dv.getFloat64(o + SEQ, true);
      if (bits & HAS_USEC) v.usec = dv.getFloat64(o + USEC, true);
      if (bits & EXTENDED) {
        v.flags = f.flags;
        v.release = f.release;
      }
      if (!to.messageBytes(v)) to.message(messageOf(v));
      o += HEAD + n;
    }
  }
}

const text = new TextDecoder();

/**
 * A Message from its JSON, with every field in the order the pipeline makes them (those JSON
 * leaves out undefined), so that the reporter sees the shape it always sees.
 */
function parsedMessage(json: string): Message {
  const m = JSON.parse(json) as Message;
  return {
    sender: m.sender,
    srcIp: m.srcIp,
    srcPort: m.srcPort,
    dstIp: m.dstIp,
    dstPort: m.dstPort,
    srcMac: m.srcMac,
    dstMac: m.dstMac,
    time: m.time,
    mode: m.mode,
    text: m.text,
    fragments: m.fragments,
    packets: m.packets,
    level: m.level,
    facility: m.facility,
    seq: m.seq,
    usec: m.usec,
    flags: m.flags,
    dict: m.dict,
    userdata: m.userdata,
    sysdata: m.sysdata,
    dictLines: m.dictLines,
    release: m.release,
    hostname: m.hostname,
    app: m.app,
    incomplete: m.incomplete,
  };
}

/**
 * The Message the pipeline makes of a MessageBytes when no one takes its bytes (messages.ts): its
 * text is printable ASCII without a backslash, so the decoders would return exactly those bytes.
 */
function messageOf(v: MessageBytes): Message {
  return {
    sender: v.sender,
    srcIp: v.srcIp,
    srcPort: v.srcPort,
    dstIp: v.dstIp,
    dstPort: v.dstPort,
    srcMac: v.srcMac,
    dstMac: v.dstMac,
    time: { sec: v.sec, nsec: v.nsec },
    mode: v.mode,
    text: Buffer.from(v.buf.buffer, v.buf.byteOffset + v.textOff, v.textEnd - v.textOff).toString('latin1'),
    fragments: 1,
    packets: [v.packet],
    level: v.level,
    facility: v.facility,
    seq: v.seq,
    usec: v.usec,
    flags: v.flags,
    dict: undefined,
    userdata: undefined,
    sysdata: undefined,
    dictLines: undefined,
    release: v.release,
    hostname: undefined,
    app: undefined,
    incomplete: undefined,
  };
}
