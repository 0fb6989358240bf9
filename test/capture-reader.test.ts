/**
 * CaptureDecoder on SYNTHESISED captures (built byte by byte in test/helpers/synth-capture.ts):
 * damaged and non-capture input first, then valid pcap and pcapng in every supported variant,
 * each also fed one byte at a time and in random splits.
 */
import test from 'ava';
import { CaptureDecoder, MAX_CAPLEN } from '../src/capture/reader.js';
import type { CaptureSummary } from '../src/capture/sink.js';
import {
  RecordingSink,
  concat,
  epb,
  expectedTs,
  idb,
  ngBlock,
  pb,
  pcapFile,
  pcapHeader,
  pcapRecord,
  prng,
  randomSplits,
  shb,
  spb,
  type GotPacket,
  type PcapFileSpec,
} from './helpers/synth-capture.js';

interface Decoded {
  got: GotPacket[];
  summary: CaptureSummary;
  status: string;
  reason: string | undefined;
  violations: string[];
  /** push() results, in order */
  pushes: boolean[];
}

function decode(chunks: Uint8Array[]): Decoded {
  const sink = new RecordingSink();
  const d = new CaptureDecoder(sink);
  const pushes = chunks.map(c => d.push(c));
  const status = d.status;
  const reason = d.reason;
  return { got: sink.got, summary: d.end(), status, reason, violations: sink.violations, pushes };
}

const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const data = (n: number, seed: number) => {
  const r = prng(seed);
  return new Uint8Array(Array.from({ length: n }, () => Math.floor(r() * 256)));
};
const oneByOne = (b: Uint8Array) => Array.from(b, (_, i) => b.subarray(i, i + 1));

const LE_US: Omit<PcapFileSpec, 'records'> = { le: true, linkType: 1 };
const twoGood = [
  { sec: 1_700_000_000, frac: 123_456, data: data(60, 1) },
  { sec: 1_700_000_001, frac: 999_999, data: data(42, 2), origlen: 1514 },
];
const goodPcap = pcapFile({ ...LE_US, records: twoGood });
const rec3 = pcapRecord(LE_US, { sec: 1_700_000_002, frac: 5, data: data(100, 3) });

// pcapng pieces used by the failure table
const ngHead = concat(shb(true), idb(true, { linkType: 1 }));
const ngPkt = epb(true, 0, 1_700_000_000_123_456n, data(50, 4));

interface FailCase {
  name: string;
  input: Uint8Array;
  status: 'not-capture' | 'stopped' | 'reading' | 'detecting';
  truncation: RegExp;
  packets: number;
}

const failures: FailCase[] = [
  {
    name: 'HTML is not a capture',
    input: bytesOf('<!DOCTYPE html><html></html>'),
    status: 'not-capture',
    truncation: /^not a pcap or pcapng capture \(starts with 3c 21 44 4f\)$/,
    packets: 0,
  },
  { name: 'empty input', input: new Uint8Array(0), status: 'detecting', truncation: /^empty input$/, packets: 0 },
  {
    name: 'three bytes',
    input: new Uint8Array([0xd4, 0xc3, 0xb2]),
    status: 'detecting',
    truncation: /^not a pcap or pcapng capture \(only 3 bytes: d4 c3 b2\)$/,
    packets: 0,
  },
  {
    name: 'pcap header cut',
    input: goodPcap.subarray(0, 10),
    status: 'reading',
    truncation: /^file header cut short \(10 of 24 bytes\)$/,
    packets: 0,
  },
  {
    name: 'pcap record header cut',
    input: concat(goodPcap, rec3.subarray(0, 9)),
    status: 'reading',
    truncation: new RegExp(`^packet record at offset ${goodPcap.length} cut short \\(9 of 16 header bytes\\)$`),
    packets: 2,
  },
  {
    name: 'pcap record body cut',
    input: concat(goodPcap, rec3.subarray(0, 50)),
    status: 'reading',
    truncation: new RegExp(`^packet record at offset ${goodPcap.length} cut short \\(50 of 116 bytes\\)$`),
    packets: 2,
  },
  {
    name: 'pcap caplen above 256 KiB',
    input: concat(goodPcap, pcapRecord(LE_US, { sec: 1, frac: 0, data: data(8, 5), caplen: MAX_CAPLEN + 1 })),
    status: 'stopped',
    truncation: new RegExp(`^packet record at offset ${goodPcap.length} has captured length 262145, more than 262144$`),
    packets: 2,
  },
  {
    name: 'pcap caplen 0xffffffff (no allocation, no wait for 4 GiB)',
    input: concat(pcapHeader(LE_US), pcapRecord(LE_US, { sec: 1, frac: 0, data: data(8, 5), caplen: 0xffffffff })),
    status: 'stopped',
    truncation: /^packet record at offset 24 has captured length 4294967295/,
    packets: 0,
  },
  {
    name: 'pcapng section header cut',
    input: shb(true).subarray(0, 20),
    status: 'reading',
    truncation: /^section header block at offset 0 cut short \(20 of 28 bytes\)$/,
    packets: 0,
  },
  {
    name: 'pcapng section header cut before its length',
    input: shb(true).subarray(0, 6),
    status: 'reading',
    truncation: /^section header block at offset 0 cut short \(6 bytes\)$/,
    packets: 0,
  },
  {
    name: 'pcapng unknown byte-order magic',
    input: (() => {
      const b = Buffer.from(shb(true));
      b.writeUInt32LE(0x11223344, 8);
      return new Uint8Array(b);
    })(),
    status: 'stopped',
    truncation: /^section header block at offset 0 has an unknown byte-order magic 0x11223344$/,
    packets: 0,
  },
  {
    name: 'pcapng version 2.0',
    input: shb(true, [2, 0]),
    status: 'stopped',
    truncation: /^section header block at offset 0 has unsupported version 2\.0$/,
    packets: 0,
  },
  {
    name: 'pcapng block length below 12',
    input: concat(ngHead, ngPkt, ngBlock(true, 6, new Uint8Array(20), { lead: 8 })),
    status: 'stopped',
    truncation: new RegExp(
      `^enhanced packet block at offset ${ngHead.length + ngPkt.length} has an impossible length 8 \\(less than 12\\)$`,
    ),
    packets: 1,
  },
  {
    name: 'pcapng block length not a multiple of 4',
    input: concat(ngHead, ngBlock(true, 0x0bad, new Uint8Array(20), { lead: 30 })),
    status: 'stopped',
    truncation: new RegExp(
      `^block \\(type 0xbad\\) at offset ${ngHead.length} has an impossible length 30 \\(not a multiple of 4\\)$`,
    ),
    packets: 0,
  },
  {
    name: 'pcapng block length absurd (> 256 MiB)',
    input: concat(ngHead, ngBlock(true, 4, new Uint8Array(20), { lead: 0x7ffffff0 })),
    status: 'stopped',
    truncation: /has an impossible length 2147483632 \(more than 268435456\)$/,
    packets: 0,
  },
  {
    name: 'pcapng trailing length differs',
    input: concat(ngHead, ngPkt, ngBlock(true, 6, new Uint8Array(40), { trail: 48 })),
    status: 'stopped',
    truncation: new RegExp(
      `^enhanced packet block at offset ${ngHead.length + ngPkt.length}: trailing length 48 differs from leading length 52$`,
    ),
    packets: 1,
  },
  {
    name: 'pcapng skipped block with a wrong trailing length',
    input: concat(ngHead, ngBlock(true, 5, new Uint8Array(4000), { trail: 16 }), ngPkt),
    status: 'stopped',
    truncation: new RegExp(
      `^block \\(type 0x5\\) at offset ${ngHead.length}: trailing length 16 differs from leading length 4012$`,
    ),
    packets: 0,
  },
  {
    name: 'pcapng packet on an interface that does not exist',
    input: concat(ngHead, epb(true, 1, 0n, data(10, 6))),
    status: 'stopped',
    truncation: new RegExp(
      `^enhanced packet block at offset ${ngHead.length} refers to interface 1, but the section has 1$`,
    ),
    packets: 0,
  },
  {
    name: "pcapng second section forgets the first one's interfaces",
    input: concat(ngHead, ngPkt, shb(false), epb(false, 0, 0n, data(10, 6))),
    status: 'stopped',
    truncation: /refers to interface 0, but the section has 0$/,
    packets: 1,
  },
  {
    name: 'pcapng simple packet block before any interface',
    input: concat(shb(true), spb(true, 10, data(10, 7))),
    status: 'stopped',
    truncation: /^simple packet block at offset 28 comes before any interface description block$/,
    packets: 0,
  },
  {
    name: 'pcapng captured length beyond the block',
    input: concat(ngHead, epb(true, 0, 0n, data(16, 8), 16, 200)),
    status: 'stopped',
    truncation: /has captured length 200, more than the block holds/,
    packets: 0,
  },
  {
    name: 'pcapng captured length above 256 KiB',
    input: concat(ngHead, epb(true, 0, 0n, data(16, 8), 16, MAX_CAPLEN + 4)),
    status: 'stopped',
    truncation: /^enhanced packet block at offset \d+ has captured length 262148, more than 262144$/,
    packets: 0,
  },
  {
    name: 'pcapng enhanced packet block cut',
    input: concat(ngHead, ngPkt, ngPkt.subarray(0, 40)),
    status: 'reading',
    truncation: new RegExp(
      `^enhanced packet block at offset ${ngHead.length + ngPkt.length} cut short \\(40 of ${ngPkt.length} bytes\\)$`,
    ),
    packets: 1,
  },
  {
    name: 'pcapng skipped block cut',
    input: concat(ngHead, ngBlock(true, 4, new Uint8Array(100)).subarray(0, 60)),
    status: 'reading',
    truncation: new RegExp(`^block \\(type 0x4\\) at offset ${ngHead.length} cut short \\(60 of 112 bytes\\)$`),
    packets: 0,
  },
  {
    name: 'pcapng skipped block cut inside its trailing length',
    input: concat(ngHead, ngBlock(true, 4, new Uint8Array(100)).subarray(0, 110)),
    status: 'reading',
    truncation: new RegExp(`^block \\(type 0x4\\) at offset ${ngHead.length} cut short \\(110 of 112 bytes\\)$`),
    packets: 0,
  },
  {
    name: 'pcapng interface block longer than the reader carries (16 MiB)',
    input: concat(shb(true), ngBlock(true, 1, new Uint8Array(40), { lead: 20 * 1024 * 1024 })),
    status: 'stopped',
    truncation:
      /^interface description block at offset 28 is 20971520 bytes long, more than this reader accepts \(16777216\)$/,
    packets: 0,
  },
  {
    name: 'pcapng obsolete packet block with captured length above 256 KiB, known from its first 24 bytes',
    input: concat(ngHead, pb(true, 0, 0n, data(40, 9)).subarray(0, 24)).map((b, i, a) =>
      i === a.length - 1 ? 0xff : b,
    ),
    status: 'stopped',
    truncation: /^packet block at offset \d+ has captured length \d+, more than 262144$/,
    packets: 0,
  },
  {
    name: 'pcapng unsupported if_tsresol 10^-20',
    input: concat(shb(true), idb(true, { linkType: 1, tsresol: 20 })),
    status: 'stopped',
    truncation:
      /^interface description block at offset 28 has an unsupported timestamp resolution \(if_tsresol 0x14\)$/,
    packets: 0,
  },
];

for (const c of failures) {
  test(`fails: ${c.name}`, t => {
    const splits: Array<[string, Uint8Array[]]> = [
      ['whole', c.input.length ? [c.input] : []],
      ['1 byte at a time', oneByOne(c.input)],
      ['random splits', randomSplits(c.input, prng(c.input.length), 37)],
    ];
    const first = decode(splits[0]![1]);
    t.is(first.status, c.status);
    t.true(first.summary.truncated);
    t.regex(first.summary.truncation ?? '', c.truncation);
    t.is(first.summary.packets, c.packets);
    t.is(first.got.length, c.packets);
    t.deepEqual(first.violations, []);
    for (const [how, chunks] of splits.slice(1)) {
      const again = decode(chunks);
      t.deepEqual(again.summary, first.summary, how);
      t.deepEqual(again.got, first.got, how);
    }
  });
}

test('fails: not a capture is known from the first 4 bytes, and later pushes are refused', t => {
  const d = new CaptureDecoder(new RecordingSink());
  t.true(d.push(bytesOf('<!D')));
  t.is(d.status, 'detecting');
  t.false(d.push(bytesOf('OCTYPE html>')));
  t.is(d.status, 'not-capture');
  t.is(d.reason, 'not a pcap or pcapng capture (starts with 3c 21 44 4f)');
  t.false(d.push(goodPcap));
  t.is(d.end().packets, 0);
});

test('fails: after damage push returns false and ignores later data', t => {
  const sink = new RecordingSink();
  const d = new CaptureDecoder(sink);
  const bad = concat(goodPcap, pcapRecord(LE_US, { sec: 1, frac: 0, data: data(8, 5), caplen: 0x40000000 }));
  t.false(d.push(bad));
  t.is(d.status, 'stopped');
  t.false(d.push(rec3));
  const s = d.end();
  t.is(s.packets, 2);
  t.true(s.truncated);
  t.is(d.status, 'ended');
});

// ------------------------------------------------------------------------------ valid captures

interface ValidCase {
  name: string;
  input: Uint8Array;
  format: 'pcap' | 'pcapng';
  want: GotPacket[];
  detail: RegExp;
}

const hexOf = (d: Uint8Array) => Buffer.from(d).toString('hex');
const wantPcap = (spec: PcapFileSpec): GotPacket[] =>
  spec.records.map(r => {
    const perSec = spec.nano ? 1e9 : 1e6;
    const scale = spec.nano ? 1 : 1000;
    return {
      hex: hexOf(r.data),
      caplen: r.data.length,
      origlen: r.origlen ?? r.data.length,
      sec: r.sec + Math.floor(r.frac / perSec),
      nsec: (r.frac % perSec) * scale,
      linkType: spec.linkType & 0xffff,
    };
  });

const pcapSpecs: Array<[string, PcapFileSpec, RegExp]> = [
  [
    'pcap little-endian microseconds',
    { le: true, linkType: 1, records: twoGood },
    /^pcap, little-endian, microseconds, link type 1$/,
  ],
  [
    'pcap big-endian microseconds',
    { le: false, linkType: 101, records: twoGood },
    /^pcap, big-endian, microseconds, link type 101$/,
  ],
  [
    'pcap little-endian nanoseconds',
    {
      le: true,
      nano: true,
      linkType: 113,
      records: [
        { sec: 1_700_000_000, frac: 999_999_999, data: data(30, 9) },
        { sec: 0, frac: 1, data: data(1, 10) },
      ],
    },
    /^pcap, little-endian, nanoseconds, link type 113$/,
  ],
  [
    'pcap big-endian nanoseconds',
    { le: false, nano: true, linkType: 276, records: [{ sec: 4_294_967_295, frac: 123_456_789, data: data(70, 11) }] },
    /^pcap, big-endian, nanoseconds, link type 276$/,
  ],
  [
    'pcap modified (Kuznetsov) records',
    { le: true, modified: true, linkType: 1, records: twoGood },
    /^pcap \(modified, Kuznetsov\), little-endian/,
  ],
  [
    'pcap link type with FCS bits masked as libpcap does',
    { le: true, linkType: 0x30000001, records: twoGood.slice(0, 1) },
    /link type 1$/,
  ],
  [
    'pcap zero-length packet and empty file body',
    { le: false, linkType: 1, records: [{ sec: 5, frac: 6, data: new Uint8Array(0), origlen: 60 }] },
    /big-endian/,
  ],
  [
    'pcap out-of-range microseconds carried into seconds',
    { le: true, linkType: 1, records: [{ sec: 10, frac: 2_500_000, data: data(4, 12) }] },
    /microseconds/,
  ],
  ['pcap header only', { le: true, linkType: 1, records: [] }, /^pcap, little-endian/],
];

const validCases: ValidCase[] = pcapSpecs.map(([name, spec, detail]) => ({
  name,
  input: pcapFile(spec),
  format: 'pcap',
  want: wantPcap(spec),
  detail,
}));

// pcapng: two sections of opposite byte order, interfaces with different link types and
// resolutions (10^-6 default, 10^-9, 2^-20, 10^-3 with an offset, 2^-40, 10^-12), SPB, PB,
// and blocks the reader must skip (name resolution, interface statistics, custom, unknown).
{
  const s1 = [
    { linkType: 1, snaplen: 0 },
    { linkType: 113, snaplen: 65535, tsresol: 9 },
    { linkType: 101, snaplen: 0, tsresol: 0x80 | 20 },
  ];
  const s2 = [
    { linkType: 276, snaplen: 32, tsresol: 3, tsoffset: 1_600_000_000n },
    { linkType: 1, snaplen: 0, tsresol: 0x80 | 40 },
    { linkType: 228, snaplen: 0, tsresol: 12 },
  ];
  const want: GotPacket[] = [];
  const blocks: Uint8Array[] = [];
  const packet = (le: boolean, ifs: typeof s1, ifid: number, ts: bigint, d: Uint8Array, kind: 'epb' | 'pb' = 'epb') => {
    const i = ifs[ifid]! as { linkType: number; tsresol?: number; tsoffset?: bigint };
    blocks.push(kind === 'epb' ? epb(le, ifid, ts, d, d.length + 3) : pb(le, ifid, ts, d, d.length + 3));
    const { sec, nsec } = expectedTs(ts, i.tsresol ?? 6, i.tsoffset ?? 0n);
    want.push({ hex: hexOf(d), caplen: d.length, origlen: d.length + 3, sec, nsec, linkType: i.linkType });
  };
  // section 1, little-endian
  blocks.push(shb(true));
  for (const i of s1) blocks.push(idb(true, i));
  blocks.push(
    ngBlock(true, 4, new Uint8Array([1, 0, 8, 0, 10, 0, 0, 1, 0x68, 0x6f, 0x73, 0x74, 0, 0, 0, 0, 0, 0, 0, 0])),
  ); // NRB
  packet(true, s1, 0, 1_700_000_000_654_321n, data(60, 20));
  packet(true, s1, 1, 1_700_000_000_987_654_321n, data(61, 21)); // > 2^53 at ns resolution
  packet(true, s1, 2, (1_700_000_000n << 20n) | 0xfffffn, data(62, 22));
  packet(true, s1, 0, 0n, data(1, 23), 'pb');
  blocks.push(ngBlock(true, 5, new Uint8Array(20))); // ISB
  blocks.push(ngBlock(true, 0x40000bad, new Uint8Array([0, 0, 0x7e, 0x7e, 1, 2, 3, 4]))); // custom, not copyable
  // SPB: interface 0 has no snaplen: caplen = origlen (capped by what the block holds)
  const spbData = data(33, 24);
  blocks.push(spb(true, 33, spbData));
  want.push({ hex: hexOf(spbData), caplen: 33, origlen: 33, sec: 0, nsec: 0, linkType: 1 });
  // section 2, big-endian: interfaces start again from 0
  blocks.push(shb(false));
  for (const i of s2) blocks.push(idb(false, i));
  packet(false, s2, 0, 1_234_567n, data(20, 25));
  packet(false, s2, 1, (16_000_000n << 40n) | 0xff_4567_89abn, data(30, 26)); // 2^-40: 16e6 s is the most 64 bits hold
  packet(false, s2, 2, 1_700_000_000_123_456_789_012n & 0xffff_ffff_ffff_ffffn, data(40, 27));
  packet(false, s2, 2, 0xffff_ffff_ffff_ffffn, data(2, 28)); // largest 64-bit count
  blocks.push(ngBlock(false, 0x12345678, new Uint8Array(4096))); // unknown type, large: skipped not copied
  // SPB on interface 0 of section 2 (snaplen 32): origlen 100, 100 bytes in the block, caplen 32
  const spb2 = data(100, 29);
  blocks.push(spb(false, 100, spb2));
  want.push({ hex: hexOf(spb2.subarray(0, 32)), caplen: 32, origlen: 100, sec: 0, nsec: 0, linkType: 276 });
  // SPB whose block holds less than origlen (the spec's caplen = min(origlen, block, snaplen))
  const spb3 = data(12, 30);
  blocks.push(spb(false, 1500, spb3));
  want.push({ hex: hexOf(spb3), caplen: 12, origlen: 1500, sec: 0, nsec: 0, linkType: 276 });
  validCases.push({
    name: 'pcapng two sections (LE, BE), six interfaces, EPB/PB/SPB, skipped blocks',
    input: concat(...blocks),
    format: 'pcapng',
    want,
    detail: /^pcapng, little- and big-endian sections, 2 sections, 6 interfaces, link types 1, 113, 101, 276, 228$/,
  });
}

test('synthesised pcapng timestamps are what the spec says (sanity of the test data itself)', t => {
  // 10^-3 with offset 1.6e9 s: 1_234_567 ms = 1234 s 567 ms
  t.deepEqual(expectedTs(1_234_567n, 3, 1_600_000_000n), { sec: 1_600_001_234, nsec: 567_000_000 });
  // 2^-20: fraction 0xfffff / 2^20 s = 999999046.325... ns, truncated
  t.deepEqual(expectedTs((1_700_000_000n << 20n) | 0xfffffn, 0x80 | 20), { sec: 1_700_000_000, nsec: 999_999_046 });
});

for (const c of validCases) {
  test(`valid: ${c.name}`, t => {
    const whole = decode([c.input]);
    t.deepEqual(whole.violations, []);
    t.is(whole.summary.format, c.format);
    t.false(whole.summary.truncated, whole.summary.truncation);
    t.is(whole.summary.truncation, undefined);
    t.regex(whole.summary.detail ?? '', c.detail);
    t.is(whole.summary.packets, c.want.length);
    t.deepEqual(whole.got, c.want);
    t.true(whole.pushes.every(Boolean));

    const bytewise = decode(oneByOne(c.input));
    t.deepEqual(bytewise.got, c.want, 'one byte at a time');
    t.deepEqual(bytewise.summary, whole.summary, 'one byte at a time');
    const rnd = prng(0xc0ffee ^ c.input.length);
    for (let k = 0; k < 25; k++) {
      const split = decode(randomSplits(c.input, rnd, 1 + Math.floor(rnd() * 300)));
      t.deepEqual(split.got, c.want, `random split ${k}`);
      t.deepEqual(split.summary, whole.summary, `random split ${k}`);
    }
  });
}

test('valid: whole records point into the pushed chunk (no copy), even at a non-zero byteOffset', t => {
  const backing = new Uint8Array(goodPcap.length + 5);
  backing.set(goodPcap, 5);
  const chunk = backing.subarray(5);
  const sink = new RecordingSink(true);
  const d = new CaptureDecoder(sink);
  d.push(chunk);
  t.is(d.end().packets, 2);
  t.true(sink.bufs.every(b => b === chunk));
  t.deepEqual(sink.got, wantPcap({ ...LE_US, records: twoGood }));
});

test('valid: a record straddling two chunks is delivered once, from the carry', t => {
  const cut = 24 + 16 + 30; // inside the first packet's data
  const a = goodPcap.slice(0, cut);
  const b = goodPcap.slice(cut);
  const sink = new RecordingSink(true);
  const d = new CaptureDecoder(sink);
  d.push(a);
  t.is(sink.got.length, 0);
  d.push(b);
  t.is(d.end().packets, 2);
  t.not(sink.bufs[0], b); // the first came from the carry
  t.is(sink.bufs[1], b); // the second was whole in b
});

test('valid: end() is idempotent and push after end is refused', t => {
  const d = new CaptureDecoder(new RecordingSink());
  d.push(goodPcap);
  const s = d.end();
  t.is(d.end(), s);
  t.false(d.push(rec3));
  t.is(d.packets, 2);
  t.is(d.bytesPushed, goodPcap.length);
});

test('valid: pcapng timestamps equal BigInt arithmetic for every resolution 10^-0..10^-19 and 2^-0..2^-63', t => {
  // Synthesised: one interface per resolution, random 64-bit counts (seconds kept below 2^53 so
  // the expected value is an exact Number), both below and above the reader's 2^52 fast path.
  const resols = [...Array.from({ length: 20 }, (_, n) => n), ...Array.from({ length: 64 }, (_, n) => 0x80 | n)];
  const rnd = prng(77);
  const rand64 = (limit: bigint): bigint => {
    const r = (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32));
    return limit > 0n ? r % limit : 0n;
  };
  const blocks: Uint8Array[] = [shb(true)];
  resols.forEach(r => blocks.push(idb(true, { linkType: 1, tsresol: r, tsoffset: r === 9 ? -100n : undefined })));
  const want: Array<{ sec: number; nsec: number }> = [];
  resols.forEach((r, ifid) => {
    const units = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
    const maxSec = (1n << 64n) / units;
    const secLimit = maxSec < 1n << 53n ? maxSec : 1n << 53n;
    for (let k = 0; k < 12; k++) {
      const sec = k === 0 ? secLimit - 1n : k === 1 ? 0n : rand64(secLimit);
      const frac = k === 2 ? units - 1n : rand64(units);
      const ts = sec * units + frac;
      if (ts >= 1n << 64n) continue;
      blocks.push(epb(true, ifid, ts, new Uint8Array([k])));
      want.push(expectedTs(ts, r, r === 9 ? -100n : 0n));
    }
  });
  const input = concat(...blocks);
  const whole = decode([input]);
  t.false(whole.summary.truncated, whole.summary.truncation);
  t.deepEqual(whole.violations, []);
  t.deepEqual(
    whole.got.map(g => ({ sec: g.sec, nsec: g.nsec })),
    want,
  );
  t.true(want.length > 900);
});
