/**
 * Bounded mutation fuzz of the whole analysis: the real lab captures (fixtures/real) with bytes
 * flipped, runs overwritten, the file cut, and ncfrag headers rewritten, fed through the reader,
 * the pipeline and the report. Nothing may throw, every message line must be escaped, and memory
 * must stay bounded. Seeded, so a failure replays: NETDIAG_FUZZ_SEED, NETDIAG_FUZZ_ITERATIONS.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CaptureDecoder } from '../src/capture/reader.js';
import { createPipeline } from '../src/pipeline/pipeline.js';
import { formatMessageLine, formatSummary } from '../src/report/text.js';
import { PLAIN } from '../src/report/style.js';
import { projectRoot } from './helpers/cli.js';

const seed0 = Number(process.env.NETDIAG_FUZZ_SEED ?? 20261124);
const iterations = Number(process.env.NETDIAG_FUZZ_ITERATIONS ?? 3000);

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const real = path.join(projectRoot, 'fixtures/real');
const seeds = readdirSync(real)
  .filter(f => f.endsWith('.pcap'))
  .map(f => readFileSync(path.join(real, f)));

function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  const kind = Math.floor(rnd() * 5);
  const n = 1 + Math.floor(rnd() * 16);
  for (let i = 0; i < n; i++) {
    const at = 24 + Math.floor(rnd() * Math.max(1, b.length - 24));
    switch (kind) {
      case 0:
        b[at] = Math.floor(rnd() * 256);
        break; // a random byte
      case 1:
        b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
        break; // a bit flip
      case 2:
        b.fill(Math.floor(rnd() * 256), at, Math.min(b.length, at + Math.floor(rnd() * 64)));
        break; // a run
      case 3: {
        // digits in an ncfrag or header field become other digits or huge numbers
        const s = b.indexOf('ncfrag=', at) >= 0 ? b.indexOf('ncfrag=', at) : b.indexOf(',', at);
        if (s >= 0)
          b.write(
            ['9999999999', '0', '4294967295', '1/0', '-1'][Math.floor(rnd() * 5)]!,
            Math.min(b.length - 1, s + 7),
            'latin1',
          );
        break;
      }
      default:
        return b.subarray(0, at); // cut short
    }
  }
  return b;
}

test(`${iterations} mutated real captures analyze without an exception, escaped, in bounded memory`, t => {
  const rnd = prng(seed0);
  const heap0 = process.memoryUsage().heapUsed;
  let messages = 0,
    truncated = 0;
  for (let i = 0; i < iterations; i++) {
    const data = mutate(seeds[i % seeds.length]!, rnd);
    const p = createPipeline({
      onMessage: m => {
        messages++;
        const line = formatMessageLine(m, PLAIN);
        if (/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(line.slice(0, -1)))
          t.fail(`iteration ${i}: unescaped ${JSON.stringify(line)}`);
      },
    });
    try {
      const d = new CaptureDecoder(p);
      // Feed in uneven chunks, as a file or pipe would.
      for (let off = 0, len = 0; off < data.length; off += len) {
        len = 1 + Math.floor(rnd() * 4096);
        d.push(data.subarray(off, off + len));
      }
      const summary = d.end();
      if (summary.truncated) truncated++;
      formatSummary(p.finish(summary), PLAIN);
    } catch (e) {
      t.fail(`iteration ${i} (seed ${seed0}): ${(e as Error).stack}`);
      return;
    }
  }
  const grew = (process.memoryUsage().heapUsed - heap0) / 1024 / 1024;
  t.log(`${iterations} iterations, ${messages} messages, ${truncated} truncated, heap +${grew.toFixed(1)} MiB`);
  t.true(grew < 200);
  t.pass();
});
