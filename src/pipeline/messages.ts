/**
 * The messages of the flows, as each is complete: an extended record (its text, dictionary,
 * userdata and sysdata decoded; its sequence number and msgid observed), a plain line, a syslog
 * record. The common message is offered as bytes first (onMessageBytes), the rest made into a
 * Message for onMessage. The boot log's first line is noted as the flow's kernel either way.
 */
import { decodeExtendedBody, stripContinuationStamps } from '../decode/netconsole-body.js';
import type { ExtendedHeader } from '../decode/netconsole.js';
import type { SyslogHeader } from '../decode/syslog.js';
import type { Flow } from './flow.js';
import { MessageBytesView, plainDictionaryEnd, plainTextKind } from './message-bytes.js';
import type { Message, MessageBytes, Timestamp } from './message.js';

const LINUX_VERSION = Buffer.from('Linux version ');
const MSGID = Buffer.from('\n msgid=');

function startsWith(buf: Uint8Array, off: number, end: number, prefix: Uint8Array): boolean {
  if (end - off < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[off + i] !== prefix[i]) return false;
  return true;
}

/** Whether a record starts the boot log (`Linux version ...`). */
export function isBootStart(buf: Uint8Array, off: number, end: number): boolean {
  return startsWith(buf, off, end, LINUX_VERSION);
}

/** Whether an extended body has a `msgid=` dictionary line (the text itself has no raw newline). */
function hasMsgid(buf: Uint8Array, off: number, end: number): boolean {
  const nl = buf.indexOf(0x0a, off);
  if (nl < 0 || nl >= end - 1 || buf[nl + 1] !== 0x20) return false;
  return Buffer.from(buf.buffer, buf.byteOffset + nl, end - nl).indexOf(MSGID) >= 0;
}

export class MessageMaker {
  private readonly view = new MessageBytesView();

  constructor(
    private readonly state: { messages: number },
    private readonly onMessage: ((m: Message) => void) | undefined,
    private readonly onBytes: ((m: MessageBytes) => boolean) | undefined,
    /** onBytes checks the text itself (PipelineOptions.messageBytesChecked): not scanned here. */
    private readonly bytesChecked = false,
    /** onBytes also takes joined messages and dictionaries (PipelineOptions.messageBytesJoined). */
    private readonly bytesJoined = false,
  ) {}

  /**
   * `packets` undefined: the message is the one datagram `first`; else it was made of ncfrag
   * pieces, and its sequence number was observed at its first piece.
   */
  extended(
    flow: Flow,
    h: ExtendedHeader,
    buf: Uint8Array,
    bOff: number,
    bEnd: number,
    sec: number,
    nsec: number,
    first: number,
    packets: number[] | undefined,
    fragments: number,
    incomplete: boolean,
  ): void {
    flow.messages++;
    this.state.messages++;
    const bootStart = isBootStart(buf, bOff, bEnd);
    if (packets === undefined) flow.observeSeq(h.seq, bootStart, first);
    // Its msgid line may have been in a lost piece: then it may be one of the msgids missing.
    if (incomplete && !hasMsgid(buf, bOff, bEnd)) flow.msgidUnknown++;
    if (h.release !== undefined) flow.release = h.release;
    const needText = this.onMessage !== undefined || bootStart || hasMsgid(buf, bOff, bEnd);
    if (!needText) return;
    if (this.onBytes && !incomplete && !bootStart) {
      if (packets === undefined) {
        // The text up to a final newline, with nothing after it: no dictionary, no msgid line.
        const tEnd = bEnd > bOff && buf[bEnd - 1] === 0x0a ? bEnd - 1 : bEnd;
        const kind = this.bytesChecked ? 0 : plainTextKind(buf, bOff, tEnd);
        if (kind >= 0 && this.onBytes(this.extendedView(flow, h, buf, bOff, tEnd, sec, nsec, first, kind))) return;
      }
      if (this.bytesJoined && this.joined(flow, h, buf, bOff, bEnd, sec, nsec, first, packets, fragments)) return;
    }
    const body = Buffer.from(buf.buffer, buf.byteOffset + bOff, bEnd - bOff);
    const { text, dict, userdata, sysdata, lines } = decodeExtendedBody(body);
    if (bootStart) flow.kernel = text;
    if (sysdata?.msgid !== undefined) {
      const id = Number(sysdata.msgid);
      if (Number.isSafeInteger(id)) flow.observeMsgid(id, first);
    }
    if (!this.onMessage) return;
    const m = flow.message({ sec, nsec }, 'extended', text, packets ?? [first], fragments);
    m.level = h.level;
    m.facility = h.facility;
    m.seq = h.seq;
    m.usec = h.usec;
    m.flags = h.flags;
    if (dict) m.dict = dict;
    if (userdata) m.userdata = userdata;
    if (sysdata) m.sysdata = sysdata;
    if (lines) m.dictLines = lines;
    if (h.release !== undefined) m.release = h.release;
    if (incomplete) m.incomplete = true;
    this.onMessage(m);
  }

  private extendedView(
    flow: Flow,
    h: ExtendedHeader,
    buf: Uint8Array,
    tOff: number,
    tEnd: number,
    sec: number,
    nsec: number,
    first: number,
    kind: number,
  ): MessageBytesView {
    const v = this.view.of(flow, 'extended', sec, nsec, first, buf, tOff, tEnd, kind === 1);
    v.level = h.level;
    v.facility = h.facility;
    v.seq = h.seq;
    v.usec = h.usec;
    v.flags = h.flags;
    v.release = h.release;
    return v;
  }

  /**
   * Offers as bytes a message joined from ncfrag pieces (`packets` set) or one datagram with a
   * dictionary after its text, when its text and dictionary qualify (plainTextKind,
   * plainDictionaryEnd): an ncfrag message costs some 20x a common one as a Message (its text
   * decoded into a string, the dictionary into objects, the string written back as bytes).
   * False when it does not qualify or onBytes declines it.
   */
  private joined(
    flow: Flow,
    h: ExtendedHeader,
    buf: Uint8Array,
    bOff: number,
    bEnd: number,
    sec: number,
    nsec: number,
    first: number,
    packets: number[] | undefined,
    fragments: number,
  ): boolean {
    const nl = Buffer.from(buf.buffer, buf.byteOffset + bOff, bEnd - bOff).indexOf(0x0a);
    const tEnd = nl < 0 ? bEnd : bOff + nl;
    let dictOff = tEnd,
      dictEnd = tEnd;
    if (tEnd + 1 < bEnd) {
      dictOff = tEnd + 1;
      dictEnd = plainDictionaryEnd(buf, dictOff, bEnd);
      if (dictEnd < 0) return false;
    } else if (packets === undefined) return false; // one datagram without a dictionary: offered above
    const kind = this.bytesChecked ? 0 : plainTextKind(buf, bOff, tEnd);
    if (kind < 0) return false;
    const v = this.extendedView(flow, h, buf, bOff, tEnd, sec, nsec, first, kind);
    v.fragments = fragments;
    v.packets = packets;
    v.dictOff = dictOff;
    v.dictEnd = dictEnd;
    return this.onBytes!(v);
  }

  plain(
    flow: Flow,
    buf: Uint8Array,
    tOff: number,
    tEnd: number,
    printkUsec: number | undefined,
    sec: number,
    nsec: number,
    first: number,
    packets: number[] | undefined,
    fragments: number,
  ): void {
    flow.messages++;
    this.state.messages++;
    const bootStart = isBootStart(buf, tOff, tEnd);
    if (bootStart) {
      if (flow.kernel !== undefined || flow.messages > 1) flow.restartPackets.add(first);
      flow.kernel = Buffer.from(buf.buffer, buf.byteOffset + tOff, tEnd - tOff).toString('utf8');
    }
    if (!this.onMessage) return;
    if (this.onBytes && packets === undefined && !bootStart) {
      const kind = this.bytesChecked ? 0 : plainTextKind(buf, tOff, tEnd);
      if (kind >= 0) {
        const v = this.view.of(flow, 'plain', sec, nsec, first, buf, tOff, tEnd, kind === 1);
        v.usec = printkUsec;
        if (this.onBytes(v)) return;
      }
    }
    let text = Buffer.from(buf.buffer, buf.byteOffset + tOff, tEnd - tOff).toString('utf8');
    if (printkUsec !== undefined) text = stripContinuationStamps(text, printkUsec);
    const m = flow.message({ sec, nsec }, 'plain', text, packets ?? [first], fragments);
    if (printkUsec !== undefined) m.usec = printkUsec;
    this.onMessage(m);
  }

  syslog(flow: Flow, h: SyslogHeader, buf: Uint8Array, off: number, end: number, time: Timestamp, no: number): void {
    let e = end;
    while (e > off && (buf[e - 1] === 0x0a || buf[e - 1] === 0x00)) e--;
    const m = flow.message(
      time,
      'syslog',
      Buffer.from(buf.buffer, buf.byteOffset + off, e - off).toString('utf8'),
      [no],
      1,
    );
    m.level = h.severity;
    m.facility = h.facility;
    if (h.hostname) m.hostname = h.hostname;
    if (h.app) m.app = h.app;
    this.onMessage?.(m);
  }
}
