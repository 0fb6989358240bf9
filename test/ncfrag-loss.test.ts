/**
 * A lost ncfrag piece is one incomplete message: fragment-incomplete, and nothing else (no
 * msgid-gap, no seq-reorder, no extra seq-gap). The pieces are the real ones of a Debian 6.1
 * capture (fixtures/real/...-extended-fragmented.pcap), one removed in memory; the records around
 * them and the msgid cases are synthesised here (6.1 sends no msgid).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CaptureDecoder } from '../src/capture/reader.js';
import { formatExtended } from '../src/decode/netconsole.js';
import { createPipeline } from '../src/pipeline/pipeline.js';
import type { AnalysisResult, Message } from '../src/pipeline/types.js';
import { projectRoot } from './helpers/cli.js';
import { udpFrame } from './helpers/frames.js';

interface Packet {
  data: Buffer;
  sec: number;
  nsec: number;
}

function readPackets(file: string): Packet[] {
  const out: Packet[] = [];
  const d = new CaptureDecoder({
    packet: (buf, off, caplen, _orig, sec, nsec) =>
      out.push({ data: Buffer.from(buf.subarray(off, off + caplen)), sec, nsec }),
  });
  d.push(readFileSync(file));
  d.end();
  return out;
}

function run(packets: Packet[]): { messages: Message[]; result: AnalysisResult; codes: string[] } {
  const messages: Message[] = [];
  const p = createPipeline({ onMessage: m => messages.push(m) });
  for (const k of packets) p.packet(k.data, 0, k.data.length, k.data.length, k.sec, k.nsec, 1);
  const result = p.finish();
  return { messages, result, codes: result.findings.map(f => f.code).sort() };
}

const pieces = readPackets(path.join(projectRoot, 'fixtures/real/linux-6.1.0-56-amd64-extended-fragmented.pcap'));
const first = pieces[0]!;
const without = (list: Packet[], i: number) => list.filter((_, j) => j !== i);

/** A whole extended record from the same sender as the real pieces, just before or after them. */
function record(seq: number, dt: number, dict = ''): Packet {
  const data = udpFrame({
    srcMac: '52:54:00:99:00:02',
    dstMac: '02:99:00:00:00:01',
    srcIp: '10.99.0.2',
    dstIp: '10.99.0.1',
    srcPort: 6665,
    dstPort: 514,
    payload: formatExtended(
      { facility: 0, level: 6, seq, usec: 8_535_000 + seq, flags: '-' },
      `record ${seq}\n${dict}`,
    ),
  });
  return { data, sec: first.sec + dt, nsec: first.nsec };
}

test('the real capture: three pieces of seq 378, whole and clean', t => {
  t.is(pieces.length, 3);
  const r = run(pieces);
  t.deepEqual(r.codes, []);
  t.is(r.messages.length, 1);
  t.is(r.messages[0]!.seq, 378);
});

test('losing every piece of 378 between 377 and 379 is a sequence gap (the test sees loss)', t => {
  const r = run([record(377, -1), record(379, 1)]);
  t.deepEqual(r.codes, ['seq-gap']);
});

for (const lost of [0, 1, 2]) {
  test(`piece ${lost + 1} of 3 lost, alone: fragment-incomplete only, the message shown incomplete`, t => {
    const r = run(without(pieces, lost));
    t.deepEqual(r.codes, ['fragment-incomplete']);
    t.is(r.messages.length, 1);
    t.true(r.messages[0]!.incomplete);
  });

  test(`piece ${lost + 1} of 3 lost between records 377 and 379: no seq-gap, no seq-reorder`, t => {
    const r = run([record(377, -1), ...without(pieces, lost), record(379, 1)]);
    t.deepEqual(r.codes, ['fragment-incomplete']);
    t.deepEqual(
      r.messages.map(m => m.seq),
      [377, 379, 378],
    );
    t.is(r.result.senders[0]!.seqGaps, 0);
    t.is(r.result.senders[0]!.reordered, 0);
  });
}

// msgid (sysdata, 6.14 and later): synthesised, pieces cut so that the msgid line is in the last.
function msgidMessage(seq: number, msgid: number, fragmented: boolean, dt: number): Packet[] {
  const body = `${fragmented ? 'y'.repeat(1500) : `record ${seq}`}\n cpu=0\n msgid=${msgid}\n`;
  const frame = (payload: string) => ({
    data: udpFrame({ srcIp: '10.99.0.2', dstIp: '10.99.0.1', srcPort: 6665, dstPort: 6666, payload }),
    sec: 1_700_000_000 + dt,
    nsec: 0,
  });
  if (!fragmented) return [frame(formatExtended({ facility: 0, level: 6, seq, usec: seq, flags: '-' }, body))];
  return [0, 1000].map(off =>
    frame(
      formatExtended(
        { facility: 0, level: 6, seq, usec: seq, flags: '-', frag: { offset: off, total: body.length } },
        body.slice(off, off + 1000),
      ),
    ),
  );
}

test('msgid: a whole message lost is msgid-gap (the test sees loss)', t => {
  const r = run([...msgidMessage(1, 4, false, 0), ...msgidMessage(3, 6, false, 2)]);
  t.deepEqual(r.codes, ['msgid-gap', 'seq-gap']);
});

test('msgid: the piece with the msgid line lost: fragment-incomplete only', t => {
  const five = msgidMessage(2, 5, true, 1);
  const r = run([...msgidMessage(1, 4, false, 0), five[0]!, ...msgidMessage(3, 6, false, 2)]);
  t.deepEqual(r.codes, ['fragment-incomplete']);
});

test('msgid: the piece without the msgid line lost: fragment-incomplete only (its msgid fills the gap late)', t => {
  const five = msgidMessage(2, 5, true, 1);
  const r = run([...msgidMessage(1, 4, false, 0), five[1]!, ...msgidMessage(3, 6, false, 2)]);
  t.deepEqual(r.codes, ['fragment-incomplete']);
});
