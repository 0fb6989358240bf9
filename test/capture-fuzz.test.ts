/**
 * Bounded mutation fuzz of CaptureDecoder. Seeds are SYNTHESISED valid captures (pcap in both
 * byte orders and resolutions, pcapng with two sections, several interfaces, SPB/PB/unknown
 * blocks); each iteration flips bytes, truncates, corrupts a length field, inserts or deletes
 * bytes, then feeds the result whole and in random splits. Seeded PRNG: a failure names its
 * seed and iteration, so it can be replayed.
 *
 * Properties: no exception; every packet in bounds (offset + caplen inside the buffer, caplen
 * <= 256 KiB, nsec in range); push/end always return (the decoder terminates); the same bytes
 * give the same packets and summary however they are split; a truncation always has a reason.
 */
import test from 'ava';
import { CaptureDecoder, MAX_CAPLEN } from '../src/capture/reader.js';
import {
  RecordingSink,
  concat,
  epb,
  idb,
  ngBlock,
  pb,
  pcapFile,
  prng,
  randomSplits,
  shb,
  spb,
} from './helpers/synth-capture.js';

const SEED = Number(process.env.NETDIAG_FUZZ_SEED ?? 20261124);
const ITERATIONS = Number(process.env.NETDIAG_FUZZ_ITERATIONS ?? 20000);
const BUDGET_MS = 20_000;

function bytes(n: number, rnd: () => number): Uint8Array {
  return new Uint8Array(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
}

interface Seed {
  name: string;
  data: Uint8Array;
  /** Offsets of length fields (u32) worth corrupting. */
  lengthFields: number[];
}

function seeds(): Seed[] {
  const rnd = prng(SEED);
  const out: Seed[] = [];
  for (const [le, nano] of [
    [true, false],
    [false, false],
    [true, true],
    [false, true],
  ] as const) {
    const records = Array.from({ length: 12 }, (_, i) => ({
      sec: 1_700_000_000 + i,
      frac: i * 77_777,
      data: bytes(10 + Math.floor(rnd() * 120), rnd),
    }));
    const data = pcapFile({ le, nano, linkType: 1, records });
    const lengthFields: number[] = [16];
    let p = 24;
    for (const r of records) {
      lengthFields.push(p + 8, p + 12);
      p += 16 + r.data.length;
    }
    out.push({ name: `pcap ${le ? 'LE' : 'BE'} ${nano ? 'ns' : 'us'}`, data, lengthFields });
  }
  for (const le of [true, false]) {
    const blocks: Uint8Array[] = [
      shb(le),
      idb(le, { linkType: 1 }),
      idb(le, { linkType: 113, tsresol: 9, snaplen: 64 }),
      idb(le, { linkType: 101, tsresol: 0x80 | 24, tsoffset: 5n }),
    ];
    for (let i = 0; i < 10; i++)
      blocks.push(
        epb(
          le,
          i % 3,
          1_700_000_000_000_000_000n + BigInt(i) * 12_345_678_901n,
          bytes(5 + Math.floor(rnd() * 90), rnd),
        ),
      );
    blocks.push(
      spb(le, 40, bytes(40, rnd)),
      pb(le, 1, 99n, bytes(17, rnd)),
      ngBlock(le, 5, bytes(24, rnd)),
      ngBlock(le, 0xbad, bytes(9, rnd)),
    );
    blocks.push(
      shb(!le),
      idb(!le, { linkType: 276, tsresol: 3 }),
      epb(!le, 0, 1_700_000_000_123n, bytes(33, rnd)),
      spb(!le, 300, bytes(64, rnd)),
    );
    const data = concat(...blocks);
    const lengthFields: number[] = [];
    let p = 0;
    for (const b of blocks) {
      lengthFields.push(p + 4, p + b.length - 4);
      if (b.length > 24) lengthFields.push(p + 20);
      p += b.length;
    }
    out.push({ name: `pcapng ${le ? 'LE' : 'BE'} first`, data, lengthFields });
  }
  return out;
}

const INTERESTING = [
  0,
  1,
  3,
  4,
  8,
  11,
  12,
  13,
  16,
  28,
  32,
  0x7fff,
  0xffff,
  MAX_CAPLEN,
  MAX_CAPLEN + 1,
  0x0fffffff,
  256 * 1024 * 1024 + 4,
  0x7fffffff,
  0xfffffffc,
  0xffffffff,
];

function mutate(src: Uint8Array, lengthFields: number[], rnd: () => number): { data: Uint8Array; what: string } {
  let d: Uint8Array = Uint8Array.from(src);
  const ops: string[] = [];
  const rounds = 1 + Math.floor(rnd() * 3);
  for (let r = 0; r < rounds; r++) {
    const op = Math.floor(rnd() * 5);
    if (op === 0 && d.length) {
      const n = 1 + Math.floor(rnd() * 8);
      for (let k = 0; k < n; k++) {
        const at = Math.floor(rnd() * d.length);
        d[at] = d[at]! ^ (1 << Math.floor(rnd() * 8));
      }
      ops.push(`flip ${n}`);
    } else if (op === 1) {
      const at = Math.floor(rnd() * (d.length + 1));
      d = d.slice(0, at);
      ops.push(`truncate ${at}`);
    } else if (op === 2 && lengthFields.length) {
      const at = lengthFields[Math.floor(rnd() * lengthFields.length)]!;
      if (at + 4 <= d.length) {
        const dv = new DataView(d.buffer, d.byteOffset, d.length);
        const cur = dv.getUint32(at, true);
        const v =
          rnd() < 0.5 ? INTERESTING[Math.floor(rnd() * INTERESTING.length)]! : (cur + Math.floor(rnd() * 17) - 8) >>> 0;
        dv.setUint32(at, v, rnd() < 0.5);
        ops.push(`length@${at}=${v}`);
      }
    } else if (op === 3) {
      const at = Math.floor(rnd() * (d.length + 1));
      const ins = Uint8Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 256));
      d = concat(d.subarray(0, at), ins, d.subarray(at));
      ops.push(`insert ${ins.length}@${at}`);
    } else if (d.length) {
      const at = Math.floor(rnd() * d.length);
      const n = 1 + Math.floor(rnd() * 12);
      d = concat(d.subarray(0, at), d.subarray(Math.min(d.length, at + n)));
      ops.push(`delete ${n}@${at}`);
    }
  }
  return { data: d, what: ops.join(', ') };
}

function run(chunks: Uint8Array[]) {
  const sink = new RecordingSink();
  const d = new CaptureDecoder(sink);
  for (const c of chunks) d.push(c);
  return { summary: d.end(), got: sink.got, violations: sink.violations };
}

test(`mutation fuzz: ${ITERATIONS} iterations, seed ${SEED}, within ${BUDGET_MS / 1000} s`, t => {
  const all = seeds();
  const rnd = prng(SEED ^ 0x5eed);
  const t0 = performance.now();
  const problems: string[] = [];
  const outcomes = new Map<string, number>();
  let iterations = 0;
  let packets = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    if (performance.now() - t0 > BUDGET_MS) break;
    const seed = all[i % all.length]!;
    const { data, what } = mutate(seed.data, seed.lengthFields, rnd);
    const where = `${seed.name}, iteration ${i} (${what})`;
    try {
      const whole = run([data]);
      const split = run(randomSplits(data, rnd, 1 + Math.floor(rnd() * 200)));
      iterations++;
      packets += whole.got.length;
      const kind = whole.summary.truncated
        ? (whole.summary.truncation ?? 'NO REASON')
            .replace(/0x[0-9a-f]+/g, '0xH')
            .replace(/\d+/g, 'N')
            .replace(/ \(.*$/, '')
        : 'clean';
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
      if (whole.violations.length) problems.push(`${where}: ${whole.violations[0]}`);
      if (whole.got.some(g => g.caplen > MAX_CAPLEN)) problems.push(`${where}: caplen above ${MAX_CAPLEN}`);
      if (whole.summary.packets !== whole.got.length) problems.push(`${where}: summary/sink count differ`);
      if (whole.summary.truncated && !whole.summary.truncation) problems.push(`${where}: truncated without a reason`);
      if (
        JSON.stringify(split.got) !== JSON.stringify(whole.got) ||
        JSON.stringify(split.summary) !== JSON.stringify(whole.summary)
      ) {
        problems.push(
          `${where}: random splits read differently (${split.summary.truncation} vs ${whole.summary.truncation})`,
        );
      }
    } catch (err) {
      problems.push(`${where}: threw ${(err as Error).stack?.split('\n').slice(0, 2).join(' ')}`);
    }
    if (problems.length > 10) break;
  }
  const ms = performance.now() - t0;
  t.log(
    `${iterations} iterations, ${packets} packets, ${ms.toFixed(0)} ms; outcomes: ${[...outcomes]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n}× ${k}`)
      .join('; ')}`,
  );
  t.deepEqual(problems, []);
  t.true(iterations >= Math.min(ITERATIONS, 1000), `only ${iterations} iterations in the time budget`);
  // The mutations must reach the decoder's damage paths, or the fuzz tests little.
  t.true(outcomes.size >= 8, `only ${outcomes.size} kinds of outcome`);
});
