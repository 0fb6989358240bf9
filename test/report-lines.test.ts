/**
 * The report's fast paths write the same characters as the plain formatters: the text line as
 * bytes (TextLineEncoder) against formatMessageLine, and the JSON message text (messageJsonText)
 * against safeJson(messageJson(m)). Hand-made hostile messages first, then every message of the
 * real captures, the synthesised ones and the tcpdump corpus (every UDP port in each file decoded). And the
 * pipeline's bytes path (onMessageBytes: a message written from its datagram's bytes, no Message
 * made) against the Message path: the whole report, in every format, byte for byte.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { readCaptureFile } from '../src/capture/file-source.js';
import { createPipeline } from '../src/pipeline/pipeline.js';
import type { Message } from '../src/pipeline/types.js';
import { safeJson } from '../src/report/escape.js';
import { messageJson, messageJsonText } from '../src/report/json.js';
import { Output } from '../src/report/output.js';
import { PLAIN } from '../src/report/style.js';
import { TextLineEncoder } from '../src/report/text-bytes.js';
import { JsonLineEncoder } from '../src/report/json-bytes.js';
import { Reporter, type ReportFormat } from '../src/report/reporter.js';
import { formatMessageLine } from '../src/report/text.js';
import { TextTime } from '../src/report/time.js';
import { projectRoot } from './helpers/cli.js';
import { LAB_FLOW, pcapFile, udpFrame } from './helpers/frames.js';
import { corpusFiles, haveCorpus, isCaptureName, portsIn } from './helpers/corpus.js';
import { pcapFile as pcapSpecFile, type PcapRecord as SpecRecord } from './helpers/synth-capture.js';
import { decimal } from '../src/report/bytes.js';

function base(over: Partial<Message>): Message {
  return {
    sender: '10.99.0.2:6665',
    srcIp: '10.99.0.2',
    srcPort: 6665,
    dstIp: '10.99.0.1',
    dstPort: 514,
    srcMac: undefined,
    dstMac: undefined,
    time: { sec: 1_764_000_000, nsec: 7000 },
    mode: 'extended',
    text: 'sysrq: Show Regs',
    fragments: 1,
    packets: [1],
    level: 6,
    facility: 0,
    seq: 1,
    usec: 45_287_505,
    flags: '-',
    dict: undefined,
    release: undefined,
    hostname: undefined,
    app: undefined,
    incomplete: undefined,
    ...over,
  };
}

const CASES: Array<[string, Message]> = [
  ['escape sequence in the text', base({ text: 'a\x1b[31mred\x07\x00' })],
  ['C1, DEL, bidi override and zero-width', base({ text: 'x\x9b1m\x7f\u202egnp.exe\u200b' })],
  ['non-ASCII kept, quotes and backslashes', base({ text: 'café "q" \\ ünï 😀', dict: { K: 'v"\\\x01', 'a b': 'é' } })],
  ['lone surrogate', base({ text: 'a\ud800b' })],
  [
    'syslog with hostile host and app',
    base({ mode: 'syslog', hostname: 'h\x1bost', app: 'ap\u202ep', usec: undefined, level: 3 }),
  ],
  ['not netconsole', base({ mode: 'unknown', level: undefined, usec: undefined, text: '\x01\x02binary' })],
  ['level out of range, no level', base({ level: 9 })],
  ['no level at all', base({ level: undefined, mode: 'plain' })],
  ['nanoseconds', base({ time: { sec: 1_764_000_000, nsec: 123_456_789 } })],
  ['second 0, ns 0', base({ time: { sec: 0, nsec: 0 } })],
  ['printk time past 5 digits, and huge', base({ usec: 1_234_567_000_001 })],
  ['printk time beyond 10^15', base({ usec: 2 ** 52 })],
  ['printk time 0', base({ usec: 0 })],
  ['joined, incomplete, empty dict', base({ fragments: 3, incomplete: true, dict: {}, packets: [4, 5, 6] })],
  ['release, MACs', base({ release: '6.1.0\x1b', srcMac: '52:54:00:00:00:02', dstMac: 'ff:ff:ff:ff:ff:ff' })],
  ['IPv6 sender', base({ sender: '[fd98::2]:6665', srcIp: 'fd98::2', dstIp: 'fd98::1' })],
  ['a time a date cannot hold (damaged capture)', base({ time: { sec: 1e13, nsec: 5000 } })],
  ['empty text', base({ text: '' })],
  ['a long line', base({ text: 'y'.repeat(70_000) })],
  [
    'numbers at the edges of two digits a division and of 32 bits',
    base({
      packets: [0, 9, 10, 99, 100, 101, 999, 1000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 7, 2 ** 53],
      fragments: 12,
      seq: 2 ** 31 - 1,
      level: 0,
      facility: 23,
      usec: 100,
    }),
  ],
  ['seq 0, printk time 99', base({ seq: 0, usec: 99 })],
  ['seq past 32 bits', base({ seq: 2 ** 40 + 1 })],
  ['one nanosecond', base({ time: { sec: 1_764_000_000, nsec: 1 } })],
  ['the last nanosecond of a second', base({ time: { sec: 1_764_000_000, nsec: 999_999_999 } })],
  ['one microsecond', base({ time: { sec: 1_764_000_000, nsec: 1000 } })],
  // A text of 256 characters or more is checked after it is written (text-bytes.ts): each odd
  // character at each place of a word, and in the bytes after the last whole word.
  ...['\\', '\x1b', '\x7f', '\x1f', '\x80', 'é', '€', '😀', '\ud800', '\n'].flatMap(c =>
    [0, 1, 2, 3, 297, 298, 299, 300].map((at): [string, Message] => [
      `a long text with ${JSON.stringify(c)} at ${at}`,
      base({ text: `${'x'.repeat(at)}${c}${'x'.repeat(300 - at)}`, fragments: 3, dict: { SUBSYSTEM: 'bench' } }),
    ]),
  ),
  [
    'a long plain text of an ncfrag message',
    base({ text: `"q" ${'x'.repeat(2300)}`, fragments: 3, packets: [1, 2, 3] }),
  ],
];

function check(t: import('ava').ExecutionContext, messages: Iterable<Message>, what: string, utc: boolean): number {
  const chunks: Buffer[] = [];
  const out = new Output(
    new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(Buffer.from(c));
        cb();
      },
    }),
  );
  const time = new TextTime(utc),
    time2 = new TextTime(utc);
  const enc = new TextLineEncoder(out, time);
  const json = new JsonLineEncoder(out);
  const bytesOf = (write: () => boolean, fallback: string): Buffer => {
    if (!write()) out.write(fallback);
    out.flush();
    return Buffer.concat(chunks.splice(0));
  };
  let n = 0,
    wrong = 0;
  for (const m of messages) {
    const want = formatMessageLine(m, PLAIN, time2);
    if (!enc.write(m)) out.write(formatMessageLine(m, PLAIN, time));
    out.flush();
    // Compared as the bytes that reach stdout (a lone surrogate is U+FFFD's bytes either way).
    const got = Buffer.concat(chunks.splice(0));
    if (!got.equals(Buffer.from(want, 'utf8')) && wrong++ < 3)
      t.is(got.toString('utf8'), want, `${what}: text line of message ${n}`);
    const j = safeJson(messageJson(m));
    if (messageJsonText(m, false) !== j && wrong++ < 3)
      t.is(messageJsonText(m, false), j, `${what}: JSON of message ${n}`);
    const jl = safeJson({ type: 'message', ...messageJson(m) });
    if (messageJsonText(m, true) !== jl && wrong++ < 3)
      t.is(messageJsonText(m, true), jl, `${what}: JSONL of message ${n}`);
    // The byte encoder, in its three positions, against the same text.
    const positions = [
      ['jsonl', `${jl}\n`],
      ['first', `{"messages":[${j}`],
      ['next', `,${j}`],
    ] as const;
    for (const [at, want2] of positions) {
      const got2 = bytesOf(() => json.write(m, at), want2);
      if (!got2.equals(Buffer.from(want2, 'utf8')) && wrong++ < 3)
        t.is(got2.toString('utf8'), want2, `${what}: JSON bytes (${at}) of message ${n}`);
    }
    n++;
  }
  t.is(wrong, 0, what);
  return n;
}

for (const [name, m] of CASES) {
  test(`same line and JSON: ${name}`, t => {
    check(t, [m], name, true);
    check(t, [m], name, false);
  });
}

async function messagesOf(file: string, everyPort = false): Promise<Message[]> {
  const messages: Message[] = [];
  const p = createPipeline({
    ...(everyPort ? { ports: portsIn(file) } : {}),
    onMessage: m => {
      if (messages.length < 2000) messages.push(m);
    },
  });
  try {
    const s = await readCaptureFile(file, p);
    p.finish(s);
  } catch {
    // not a capture: nothing to compare
  }
  return messages;
}

test('same line and JSON for every message of the real and synthesised captures', async t => {
  const dirs = ['fixtures/real', 'fixtures/synthesised'].map(d => path.join(projectRoot, d));
  let n = 0;
  for (const d of dirs) {
    for (const f of readdirSync(d).filter(f => f.endsWith('.pcap')))
      n += check(t, await messagesOf(path.join(d, f)), f, false);
  }
  t.true(n > 700, `${n} messages compared`);
});

const corpusCaptures = corpusFiles(isCaptureName);
(haveCorpus ? test : test.skip)(
  'same line and JSON for the first 2,000 messages of each capture of the tcpdump corpus (hostile bytes)',
  async t => {
    let n = 0;
    for (const f of corpusCaptures) n += check(t, await messagesOf(f, true), path.basename(f), true);
    t.true(n > 1000, `${n} messages compared`);
  },
);

/** The whole report of `file` in `format`, with or without the bytes path; and how many messages took it. */
async function reportOf(
  file: string,
  format: ReportFormat,
  bytesPath: boolean,
  everyPort: boolean,
): Promise<{ out: Buffer; fast: number }> {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  });
  const r = new Reporter(stream, { format, style: PLAIN, utc: true });
  let fast = 0;
  const p = createPipeline({
    ...(everyPort ? { ports: portsIn(file) } : {}),
    onMessage: r.message,
    // as analyze wires it in one thread: the writers check the text themselves
    // (messageBytesChecked), and ncfrag messages and dictionaries go as bytes (messageBytesJoined)
    ...(bytesPath
      ? { onMessageBytes: m => r.messageBytes(m) && ++fast > 0, messageBytesChecked: true, messageBytesJoined: true }
      : {}),
  });
  try {
    const s = await readCaptureFile(file, p);
    r.finish({ path: 'x', summary: s }, p.finish(s));
  } catch {
    // not a capture: nothing to compare
  }
  await new Promise(resolve => setImmediate(resolve));
  return { out: Buffer.concat(chunks), fast };
}

/** Each file in every format, or (`rotate`, for many files) in one format each, taking turns. */
async function sameReports(t: ExecutionContext, files: string[], everyPort = false, rotate = false): Promise<number> {
  let fast = 0;
  const all = ['text', 'jsonl', 'json'] as const;
  for (const [i, f] of files.entries()) {
    for (const format of rotate ? [all[i % 3]!] : all) {
      const slow = await reportOf(f, format, false, everyPort);
      const quick = await reportOf(f, format, true, everyPort);
      fast += quick.fast;
      if (!quick.out.equals(slow.out)) t.is(quick.out.toString('utf8'), slow.out.toString('utf8'), `${f} ${format}`);
    }
  }
  return fast;
}

test('the bytes path writes the same report as the Message path (real, synthesised and bench-shaped captures)', async t => {
  const files = ['fixtures/real', 'fixtures/synthesised'].flatMap(d =>
    readdirSync(path.join(projectRoot, d))
      .filter(f => f.endsWith('.pcap'))
      .map(f => path.join(projectRoot, d, f)),
  );
  const fast = await sameReports(t, files);
  t.true(fast > 500, `${fast} messages took the bytes path`);
});

(haveCorpus ? test : test.skip)(
  'the bytes path writes the same report as the Message path (tcpdump corpus, every port, one format per file in turn)',
  async t => {
    t.pass(`${await sameReports(t, corpusCaptures, true, true)} messages took the bytes path`);
  },
);

test('the bytes path at the edges of plain ASCII: every byte value alone in a message, plain and extended (synthesised capture)', async t => {
  // No real capture holds a DEL, a byte over 0x7e or a lone control byte in a message the bytes
  // path would take: each value 0..255 in a message of its own, both formats, so a fast path that
  // let one through unescaped writes a report unlike the Message path's.
  const records = [];
  for (let b = 0; b < 256; b++) {
    if (b === 0x0a) continue; // the record's end
    // the byte inside a four-byte word of the text, and in the bytes after the last whole word
    const text = Buffer.concat([Buffer.from('edge '), Buffer.from([b]), Buffer.from(' end')]);
    const last = Buffer.concat([Buffer.from('edge '), Buffer.from([b])]);
    for (const payload of [
      Buffer.concat([Buffer.from(`6,${b},${1000 + b},-;`), text, Buffer.from('\n')]),
      Buffer.concat([Buffer.from(`[ ${b}.000001] `), text, Buffer.from('\n')]),
      Buffer.concat([Buffer.from(`6,${b},${1000 + b},-;`), last, Buffer.from('\n')]),
    ])
      records.push({ data: udpFrame({ ...LAB_FLOW, payload }), sec: 1_764_000_000 + b, usec: records.length });
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-edges-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'edge-bytes-synthesised.pcap');
  writeFileSync(file, pcapFile(records));
  const fast = await sameReports(t, [file]);
  // printable ASCII but the backslash: 94 values, in three messages and three reports
  t.is(fast, 94 * 3 * 3);
  const text = (await reportOf(file, 'text', true, false)).out;
  t.false(text.includes(0x7f), 'DEL reached the text report unescaped');
  t.false(text.includes(0x1b), 'ESC reached the text report unescaped');
});

test('the bytes path with an odd byte at each place of a word pair and of the bytes after (synthesised capture)', async t => {
  // The text checks read two four-byte words a turn, then one word, then bytes: each odd byte (and
  // a quote, which JSON escapes) at every place of a text of 19 bytes, and of texts 1 to 19 long.
  const records = [];
  const odd = [0x00, 0x09, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0xc3, 0xff];
  let n = 0;
  for (const b of odd) {
    for (let len = 1; len <= 19; len++) {
      for (let at = 0; at < len; at++) {
        const text = Buffer.alloc(len, 0x61);
        text[at] = b;
        const payload = Buffer.concat([Buffer.from(`6,${n},${1000 + n},-;`), text, Buffer.from('\n')]);
        records.push({ data: udpFrame({ ...LAB_FLOW, payload }), sec: 1_764_000_000 + n, usec: n });
        n++;
      }
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-words-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'word-places-synthesised.pcap');
  writeFileSync(file, pcapFile(records));
  const fast = await sameReports(t, [file]);
  // only the quote is printable ASCII without a backslash: 190 messages, in three reports
  t.is(fast, 190 * 3);
});

/**
 * Extended records with what follows their text (dictionary, userdata, sysdata, odd lines), each
 * as one datagram and as ncfrag pieces cut at several places, so that the bytes path for joined
 * messages and dictionaries (MessageMaker.joined, plainDictionaryEnd) meets hostile bytes on
 * both sides of every test it makes. Returns the capture and how many messages qualify.
 */
function joinedCapture(): { records: Array<{ data: Buffer; sec: number; usec: number }>; qualify: number } {
  const texts: Array<[Buffer, boolean]> = [
    [Buffer.from('usb 1-1: new high-speed USB device number 2'), true],
    [Buffer.from('a "quoted" word'), true],
    [Buffer.from(''), true],
    [Buffer.from('x'.repeat(2300)), true],
    [Buffer.from('esc \x1b[31mred\x07'), false],
    [Buffer.from('tab\there'), false],
    [Buffer.from('kernel escape \\x1b[31m and a lone \\ backslash'), false],
    [Buffer.from([0x62, 0x61, 0x64, 0x20, 0xc3, 0x28, 0xff, 0xfe, 0x80]), false], // invalid UTF-8
    [Buffer.from('caf\xc3\xa9 \xe2\x80\xae', 'latin1'), false], // UTF-8, a bidi override
    [Buffer.from('del\x7f'), false],
  ];
  const tails: Array<[string, boolean]> = [
    ['\n', true],
    ['', true],
    ['\n SUBSYSTEM=bench\n', true],
    ['\n SUBSYSTEM=usb\n DEVICE=+usb:1-1\n', true],
    ['\n DEVICE=c1:2\n SUBSYSTEM=tty', true],
    ['\n SUBSYSTEM=a=b\n', true],
    ['\n SUBSYSTEM=\n', true],
    ['\n SUBSYSTEM=two words\n', false],
    ['\n SUBSYSTEM="q"\n', false],
    ['\n SUBSYSTEM=back\\x5cslash\n', false],
    ['\n SUBSYSTEM=esc\\x1b[0m\n', false],
    ['\n SUBSYSTEM=raw\x1b\n', false],
    ['\n SUBSYSTEM=ctl\tx\n', false],
    ['\n SUBSYSTEM=a\n SUBSYSTEM=b\n', false],
    ['\n SUBSYSTEM=a\n\n', false],
    ['\n SUBSYSTEM=a\n role=db\n', false],
    ['\n SUBSYSTEM=a\n cpu=1\n taskname=swapper/0\n release=6.14.0\n msgid=7\n', false],
    ['\n cpu=0\n msgid=12\n', false],
    ['\nSUBSYSTEM=nospace\n', false],
    ['\n SUBSYSTEMX=a\n', false],
    ['\n DEVICE\n', false],
    ['\n SUBSYSTEM=caf\xc3\xa9\n', false],
    ['\n SUBSYSTEM=\xff\n', false],
  ];
  const records: Array<{ data: Buffer; sec: number; usec: number }> = [];
  let seq = 0;
  let qualify = 0;
  const put = (payload: Buffer) =>
    records.push({ data: udpFrame({ ...LAB_FLOW, payload }), sec: 1_764_000_000 + seq, usec: records.length });
  for (const [text, textOk] of texts) {
    for (const [tail, tailOk] of tails) {
      const body = Buffer.concat([text, Buffer.from(tail, 'latin1')]);
      const ok = textOk && tailOk;
      // one datagram: the bytes path takes it with a dictionary; without one it was the common path's
      put(Buffer.concat([Buffer.from(`6,${seq++},${1000 + seq},-;`), body]));
      if (ok && tail.length > 1) qualify++;
      // ncfrag pieces: 1, 2 and 5 of them, out of order for the last
      for (const pieces of [1, 2, 5]) {
        const total = body.length;
        if (total === 0) continue;
        const size = Math.ceil(total / pieces);
        const cuts: number[] = [];
        for (let off = 0; off < total; off += size) cuts.push(off);
        if (pieces === 5) cuts.reverse();
        const s = seq++;
        for (const off of cuts)
          put(
            Buffer.concat([
              Buffer.from(`6,${s},${1000 + s},-,ncfrag=${off}/${total};`),
              body.subarray(off, Math.min(total, off + size)),
            ]),
          );
        if (ok) qualify++;
      }
    }
  }
  // longer than the output's largest reservation, and more pieces than a message keeps packet numbers of
  const long = Buffer.from(`${'y'.repeat(63_000)}\n SUBSYSTEM=long\n`);
  for (const size of [900, 60_000]) {
    const s = seq++;
    for (let off = 0; off < long.length; off += size)
      put(
        Buffer.concat([
          Buffer.from(`6,${s},${1000 + s},-,ncfrag=${off}/${long.length};`),
          long.subarray(off, off + size),
        ]),
      );
  }
  return { records, qualify };
}

test('the bytes path for joined messages and dictionaries writes the same report as the Message path (hostile bytes, ncfrag pieces)', async t => {
  const { records, qualify } = joinedCapture();
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-joined-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'joined-synthesised.pcap');
  writeFileSync(file, pcapFile(records));
  const fast = await sameReports(t, [file]);
  // each qualifying message in three reports, and the common one-datagram messages the texts make;
  // the 63,000-byte message in JSON (text: longer than a reservation, so the Message path)
  t.true(fast >= qualify * 3, `${fast} messages took the bytes path, ${qualify} qualify`);
  const text = (await reportOf(file, 'text', true, false)).out.toString('latin1');
  t.true(text.includes(`${'x'.repeat(2300)} [2 datagrams joined] {SUBSYSTEM=usb DEVICE=+usb:1-1}\n`));
  t.true(text.includes(' [71 datagrams joined] {SUBSYSTEM=long}\n'));
  const jsonl = (await reportOf(file, 'jsonl', true, false)).out.toString('latin1');
  t.true(jsonl.includes('"fragments":71,"packets":['));
  t.true(jsonl.includes(',"dict":{"DEVICE":"c1:2","SUBSYSTEM":"tty"}'));
});

test('decimal writes every width of a whole number as String does (0 to 2^31 - 1)', t => {
  const b = new Uint8Array(24);
  const d = new DataView(b.buffer);
  const bad: string[] = [];
  const check = (n: number) => {
    b.fill(0x2e);
    const end = decimal(d, 5, n);
    const s = Buffer.from(b.subarray(5, end)).toString('latin1');
    if (s !== String(n) || b[4] !== 0x2e || b[end] !== 0x2e) bad.push(`${n}: ${s}`);
  };
  for (let n = 0; n < 100_000; n++) check(n);
  for (let p = 1; p <= 1e9; p *= 10) for (const n of [p - 1, p, p + 1, 2 * p - 1, 5 * p]) if (n <= 0x7fffffff) check(n);
  for (let k = 0; k <= 31; k++) for (const n of [2 ** k - 1, 2 ** k, 2 ** k + 1]) if (n <= 0x7fffffff) check(n);
  t.deepEqual(bad, []);
});

test('the bytes path writes the same report as the Message path for numbers of every width and times to the nanosecond (synthesised captures)', async t => {
  // The JSON writer's numbers (packet, seq, usec) take two digits a turn up to 2^31 - 1 and JSON's
  // own text beyond; the second's fraction is written over a run's six zeros when the capture's
  // time is whole microseconds, else nine digits. Each at and around its edges, extended records
  // with every level and facility kind and plain ones with a printk time, in a microsecond and a
  // nanosecond capture.
  const edges = [0, 1, 9, 10, 99, 100, 999, 1000];
  for (let p = 1e4; p <= 1e15; p *= 10) edges.push(p - 1, p);
  edges.push(0x7fffffff - 1, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 64);
  const prefixes = [0, 6, 7, 14, 255, 256, 1000];
  const fracs = {
    micro: [0, 1, 9, 10, 999, 1000, 123_456, 999_999],
    nano: [0, 1, 999, 1000, 1001, 123_456_000, 123_456_789, 999_999_000, 999_999_999],
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-widths-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files: string[] = [];
  for (const kind of ['micro', 'nano'] as const) {
    const records: SpecRecord[] = [];
    let i = 0;
    const put = (payload: string) => {
      const f = fracs[kind];
      records.push({
        sec: 1_764_000_000 + (i >> 3),
        frac: f[i % f.length]!,
        data: udpFrame({ ...LAB_FLOW, payload: Buffer.from(payload) }),
      });
      i++;
    };
    for (const n of edges) {
      put(`6,${n},${1000 + i},-;seq at an edge: "${n}"\n`);
      put(`6,${i},${n},-;usec at an edge\n`);
      put(`${prefixes[i % prefixes.length]},${i},${n},-;level and facility ${i}\n`);
      const us = Number.isSafeInteger(n) ? n : 0;
      put(
        `[${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, '0')}] plain, printk time ${n}\n`,
      );
    }
    for (const p of prefixes) put(`${p},${i},${i * 997},-;prefix ${p}\n`);
    const file = path.join(dir, `widths-${kind}-synthesised.pcap`);
    writeFileSync(file, pcapSpecFile({ le: true, nano: kind === 'nano', linkType: 1, records }));
    files.push(file);
  }
  const fast = await sameReports(t, files);
  t.true(fast > 300, `${fast} messages took the bytes path`);
  const jsonl = (await reportOf(files[1]!, 'jsonl', true, false)).out.toString('latin1');
  t.true(jsonl.includes('.123456789Z"'), 'a nanosecond time');
  t.true(jsonl.includes('"seq":2147483647,'), 'the largest seq written two digits a turn');
});
