import test from 'ava';
import {
  arpReply,
  icmpPortUnreachable,
  LAB_FLOW,
  udpFragments,
  udpFrame,
  type UdpFrameSpec,
} from './helpers/frames.js';
import { formatExtended, formatPlain, type ExtendedHeader } from '../src/decode/netconsole.js';
import { parseNetconsoleSpec } from '../src/config/netconsole-spec.js';
import { codes, runFrames } from './helpers/pipeline-run.js';

// Every capture in this file is synthesised in the test, frame by frame.
const SENDER = LAB_FLOW;
const frame = (payload: string | Buffer, over: Partial<UdpFrameSpec> = {}) => udpFrame({ ...SENDER, ...over, payload });
const ext = (seq: number, text: string, more: Partial<ExtendedHeader> = {}) =>
  frame(formatExtended({ facility: 0, level: 6, seq, usec: 1000 + seq, flags: '-', ...more }, `${text}\n`));

test('no netconsole traffic: an error finding, and the reason for undecodable packets', t => {
  const { result } = runFrames([frame('x\n', { dstPort: 53 }), Buffer.alloc(5)]);
  t.deepEqual(codes(result), ['no-netconsole-traffic']);
  t.regex(result.findings[0]!.evidence[0]!, /ethernet header cut short/);
});

test('ncfrag pieces out of order, with an escape cut at a piece boundary, make one message', t => {
  const body = `${'a'.repeat(998)}\\x1b${'b'.repeat(1500)}\n SUBSYSTEM=test\n`;
  const total = body.length;
  const pieces = [0, 1000, 2000].map(off =>
    frame(
      formatExtended(
        { facility: 0, level: 3, seq: 7, usec: 5, flags: '-', frag: { offset: off, total } },
        body.slice(off, off + 1000),
      ),
    ),
  );
  const { messages, result } = runFrames([pieces[2]!, pieces[0]!, pieces[1]!]);
  t.is(messages.length, 1);
  const m = messages[0]!;
  t.is(m.text, `${'a'.repeat(998)}\x1b${'b'.repeat(1500)}`);
  t.is(m.fragments, 3);
  t.deepEqual(m.packets, [1, 2, 3]);
  t.is(m.level, 3);
  t.deepEqual({ ...m.dict }, { SUBSYSTEM: 'test' });
  t.deepEqual(codes(result), []);
});

test('a missing ncfrag piece: fragment-incomplete, and the message is shown marked incomplete', t => {
  const body = 'x'.repeat(2500);
  const piece = (off: number) =>
    frame(
      formatExtended(
        { facility: 0, level: 6, seq: 1, usec: 5, flags: '-', frag: { offset: off, total: 2500 } },
        body.slice(off, off + 1000),
      ),
    );
  const { messages, result } = runFrames([piece(0), piece(2000)]);
  t.deepEqual(codes(result), ['fragment-incomplete']);
  t.is(messages.length, 1);
  t.true(messages[0]!.incomplete);
  t.is(messages[0]!.text.length, 1500);
});

test('inconsistent ncfrag pieces are refused with a reason', t => {
  const bad = frame(
    formatExtended(
      { facility: 0, level: 6, seq: 1, usec: 5, flags: '-', frag: { offset: 900, total: 1000 } },
      'y'.repeat(200),
    ),
  );
  const huge = frame(
    formatExtended({ facility: 0, level: 6, seq: 2, usec: 5, flags: '-', frag: { offset: 0, total: 10_000_000 } }, 'y'),
  );
  const { result } = runFrames([bad, huge]);
  t.deepEqual(codes(result), ['fragment-invalid']);
  t.regex(result.findings[0]!.evidence.join(' '), /beyond total 1000/);
  t.regex(result.findings[0]!.evidence.join(' '), /total 10000000 out of range/);
});

test('old kernel: one datagram per printk is joined, and split-line says why', t => {
  const { messages, result } = runFrames([
    frame('SysRq : '),
    frame('Show Regs\n'),
    frame(formatPlain('next line', 5_000_000)),
  ]);
  t.deepEqual(
    messages.map(m => m.text),
    ['SysRq : Show Regs', 'next line'],
  );
  t.is(messages[0]!.fragments, 2);
  t.deepEqual(codes(result), ['split-line']);
  t.regex(result.findings[0]!.summary, /one datagram per printk/);
});

test('a plain line over 1000 bytes arrives as 1000 bytes plus the rest, and is joined', t => {
  const line = formatPlain('z'.repeat(990), 45_287_505); // 15 + 990 + 1 bytes
  const { messages, result } = runFrames([frame(line.slice(0, 1000)), frame(line.slice(1000))]);
  t.is(messages.length, 1);
  t.is(messages[0]!.text, 'z'.repeat(990));
  t.is(messages[0]!.usec, 45_287_505);
  t.regex(result.findings[0]!.summary, /over 1000 bytes cut by netconsole/);
});

test('a piece without newline is not joined with a datagram after the window', t => {
  const { messages } = runFrames(
    [
      { data: frame('first'), t: 0 },
      { data: frame('second\n'), t: 5 },
    ],
    { joinWindowMs: 1000 },
  );
  t.deepEqual(
    messages.map(m => m.text),
    ['first', 'second'],
  );
});

test('a sender that never ends its line cannot grow memory: the line is cut at 64 KiB', t => {
  const chunk = 'q'.repeat(999);
  const frames = Array.from({ length: 200 }, () => frame(chunk));
  const { messages } = runFrames(frames);
  t.true(messages.length >= 3);
  t.true(messages.every(m => m.text.length <= 65 * 1024));
});

test('sequence numbers: gap, duplicate, reorder, restart', t => {
  const frames = [
    ext(1, 'a'),
    ext(2, 'b'),
    ext(5, 'e'),
    ext(3, 'c'),
    ext(3, 'c again'),
    ext(6, 'f'),
    ext(0, 'Linux version 6.1.0-27-amd64'),
    ext(1, 'after boot'),
  ];
  const { result } = runFrames(frames);
  t.deepEqual(codes(result), ['sender-restart', 'seq-duplicate', 'seq-gap', 'seq-reorder']);
  const s = result.senders[0]!;
  t.is(s.mode, 'extended');
  t.is(s.duplicates, 1);
  t.is(s.reordered, 1);
  t.regex(result.findings.find(f => f.code === 'seq-gap')!.summary, /console log level/);
  t.is(s.kernel, 'Linux version 6.1.0-27-amd64');
});

test('msgid gaps are real loss: an error', t => {
  const m = (seq: number, id: number) =>
    frame(formatExtended({ facility: 0, level: 6, seq, usec: 1, flags: '-' }, `text\n msgid=${id}\n`));
  const { result } = runFrames([m(1, 10), m(2, 11), m(3, 14)]);
  t.deepEqual(codes(result), ['msgid-gap']);
  t.regex(result.findings[0]!.summary, /2 messages lost/);
});

test("wrong destination MAC: learned from the receiver's own ARP reply", t => {
  const frames = [arpReply('52:54:00:00:00:01', '10.99.0.1', SENDER.srcMac, SENDER.srcIp), ext(1, 'x'), ext(2, 'y')];
  const { result } = runFrames(frames);
  t.deepEqual(codes(result), ['dst-mac-mismatch']);
  t.regex(result.findings[0]!.summary, /frames go to 52:54:00:ab:cd:ef, but 10\.99\.0\.1 is at 52:54:00:00:00:01/);
  t.regex(result.findings[0]!.hint, /52:54:00:00:00:01/);
});

test('broadcast destination MAC: a warning', t => {
  const { result } = runFrames([frame('[1.000000] x\n', { dstMac: 'ff:ff:ff:ff:ff:ff' })]);
  t.deepEqual(codes(result), ['broadcast-dst-mac']);
});

test('ICMP port unreachable: nothing listens', t => {
  const f = frame('[1.000000] x\n', { dstPort: 514 });
  const { result } = runFrames([f, icmpPortUnreachable(f, SENDER.dstMac, SENDER.srcMac)]);
  t.deepEqual(codes(result), ['port-unreachable']);
  t.deepEqual(result.findings[0]!.packets, [2]);
});

test('configuration against the wire: ports, MAC, IP, silent target', t => {
  const targets = parseNetconsoleSpec(
    '6666@10.99.0.2/eth0,514@10.99.0.1/52:54:00:00:00:01;6665@/eth0,6666@10.99.0.9/',
  ).targets;
  const { result } = runFrames([ext(1, 'x')], { targets });
  t.deepEqual(codes(result), ['dst-mac-mismatch', 'dst-port-mismatch', 'src-port-mismatch', 'target-silent']);
  const silent = result.findings.find(f => f.code === 'target-silent')!;
  t.regex(silent.summary, /10\.99\.0\.9:6666/);
});

test('configuration names another target IP than the wire shows: dst-ip-mismatch', t => {
  const targets = parseNetconsoleSpec('6665@10.99.0.2/eth0,6666@10.99.0.77/').targets;
  const { result } = runFrames([ext(1, 'x')], { targets });
  t.deepEqual(codes(result), ['dst-ip-mismatch']);
});

test('IP fragments are reassembled; an incomplete set is reported', t => {
  const spec = { ...SENDER, payload: formatPlain('w'.repeat(3000), 1) };
  const frags = udpFragments(spec, 1480, 99);
  const whole = runFrames([frags[1]!, frags[0]!, frags[2]!]);
  t.is(whole.messages.length, 1);
  t.is(whole.messages[0]!.text, 'w'.repeat(3000));
  const partial = runFrames([frags[0]!, frags[2]!]);
  t.true(codes(partial.result).includes('ip-fragment-incomplete'));
});

test('IPv6 senders and syslog traffic', t => {
  const { messages, result } = runFrames([
    frame(formatPlain('v6 works', 1), { srcIp: 'fd00::2', dstIp: 'fd00::1' }),
    frame('<13>Nov 24 13:01:02 host1 app: hello\n', { srcIp: '10.99.0.3', dstPort: 514 }),
  ]);
  t.is(messages[0]!.sender, '[fd00::2]:6665');
  t.is(messages[1]!.mode, 'syslog');
  t.is(messages[1]!.text, 'hello');
  t.deepEqual(codes(result), ['syslog-traffic']);
});

test('a datagram that is neither: malformed-payload, shown as unknown', t => {
  const { messages, result } = runFrames([frame(Buffer.from([1, 0, 2, 0]))]);
  t.deepEqual(codes(result), ['malformed-payload']);
  t.is(messages[0]!.mode, 'unknown');
});

// Found by review: each of these once threw or grew memory without bound.
test("IP fragments beyond the last fragment's end are given up, not a crash", t => {
  // 8-byte fragments: the one at offset 24 (more to come), then the one at offset 8 made "last".
  // Old code took 8 + 8 received = 16 total as complete and wrote offset 24 into 16 bytes.
  const frags = udpFragments({ ...SENDER, payload: formatPlain('x'.repeat(40), 1) }, 8, 7);
  const at24 = frags[3]!,
    at8 = Buffer.from(frags[1]!);
  at8[14 + 6] = at8[14 + 6]! & ~0x20; // clear more-fragments
  const { result } = runFrames([at24, at8]);
  t.deepEqual(codes(result), ['ip-fragment-incomplete', 'no-netconsole-traffic']);
  t.regex(result.findings.find(f => f.code === 'ip-fragment-incomplete')!.summary, /beyond the datagram's end/);
});

test('spoofed senders cannot grow memory: at most MAX_FLOWS flows, the rest counted', t => {
  const frames = Array.from({ length: 4200 }, (_, i) => frame(formatPlain('x', 1), { srcPort: 1024 + i }));
  const { result } = runFrames(frames);
  t.is(result.senders.length, 4096);
  t.true(codes(result).includes('too-many-flows'));
});

test('overlapping ncfrag pieces that disagree never make up bytes', t => {
  const piece = (off: number, text: string) =>
    frame(
      formatExtended({ facility: 0, level: 6, seq: 9, usec: 1, flags: '-', frag: { offset: off, total: 10 } }, text),
    );
  const { messages, result } = runFrames([piece(5, 'BB'), piece(0, 'xxxxxZ'), piece(0, 'yyy')]);
  t.is(messages.length, 1);
  t.true(messages[0]!.incomplete);
  t.is(messages[0]!.text, 'yyyBB');
  t.deepEqual(codes(result), ['fragment-incomplete', 'fragment-invalid']);
});
