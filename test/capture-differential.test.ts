/**
 * Differential test on real captures: for every classic microsecond pcap in the tcpdump test
 * corpus (../shared/corpus/tcpdump), netdiag's reader and the `pcap-parser` package (the oracle)
 * must agree packet by packet: timestamp seconds and microseconds, captured length, original
 * length and bytes.
 *
 * Known difference, checked rather than ignored: pcap-parser has no bound on a record's captured
 * length and ends silently when the file ends, while netdiag stops at a captured length above
 * 256 KiB and says so. There the two must agree on every packet before the stop.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { readCaptureFile } from '../src/capture/file-source.js';
import { requiring } from './helpers/prereq.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = path.resolve(projectRoot, '../shared/corpus/tcpdump');
const haveCorpus = fs.existsSync(corpus) && fs.statSync(corpus).isDirectory();

interface OraclePacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}
interface OracleParser {
  on(ev: 'packet', f: (p: OraclePacket) => void): OracleParser;
  on(ev: 'error', f: (e: Error) => void): OracleParser;
  on(ev: 'end', f: () => void): OracleParser;
}
const pcapParser = createRequire(import.meta.url)('pcap-parser') as { parse(input: string): OracleParser };

interface Pkt {
  usecTotal: number;
  nsecRem: number;
  caplen: number;
  origlen: number;
  hex: string;
}

function oracle(file: string): Promise<{ packets: Pkt[]; error?: string }> {
  return new Promise(resolve => {
    const packets: Pkt[] = [];
    let error: string | undefined;
    const p = pcapParser.parse(file);
    p.on('packet', pk => {
      packets.push({
        usecTotal: pk.header.timestampSeconds * 1e6 + pk.header.timestampMicroseconds,
        nsecRem: 0,
        caplen: pk.header.capturedLength,
        origlen: pk.header.originalLength,
        hex: pk.data.toString('hex'),
      });
    });
    p.on('error', e => {
      error = e.message;
    });
    p.on('end', () => resolve(error === undefined ? { packets } : { packets, error }));
  });
}

async function ours(file: string, chunkSize?: number) {
  const packets: Pkt[] = [];
  const sink = {
    packet(buf: Uint8Array, off: number, caplen: number, origlen: number, sec: number, nsec: number) {
      packets.push({
        // usec as pcap-parser gives it: seconds * 1e6 + microseconds (the reader normalises an
        // out-of-range microsecond field into seconds, which leaves this sum unchanged)
        usecTotal: sec * 1e6 + Math.floor(nsec / 1000),
        nsecRem: nsec % 1000,
        caplen,
        origlen,
        hex: Buffer.from(buf.buffer, buf.byteOffset + off, caplen).toString('hex'),
      });
    },
  };
  const summary = await readCaptureFile(file, sink, chunkSize ? { chunkSize } : {});
  return { packets, summary };
}

function classicMicrosecond(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    if (fs.readSync(fd, b, 0, 4, 0) < 4) return false;
    const m = b.toString('hex');
    return m === 'd4c3b2a1' || m === 'a1b2c3d4';
  } finally {
    fs.closeSync(fd);
  }
}

const t = requiring([[haveCorpus, `capture corpus at ${corpus}`]]);

t('every classic microsecond pcap in the tcpdump corpus reads the same as with pcap-parser', async tt => {
  const files = fs
    .readdirSync(corpus)
    .sort()
    .map(f => path.join(corpus, f))
    .filter(f => fs.statSync(f).isFile() && classicMicrosecond(f));
  tt.true(files.length >= 700, `only ${files.length} classic microsecond files found`);
  let packets = 0;
  let prefixOnly = 0;
  let oracleErrors = 0;
  let chunked = 0;
  let truncatedSame = 0;
  const mismatches: string[] = [];
  for (const file of files) {
    const name = path.basename(file);
    const [want, got] = await Promise.all([oracle(file), ours(file)]);
    if (want.error) oracleErrors++;
    let n = got.packets.length;
    if (got.packets.length !== want.packets.length) {
      // Allowed only where netdiag stopped on a captured length it refuses and pcap-parser went on.
      const allowed =
        got.summary.truncated &&
        /has captured length \d+, more than/.test(got.summary.truncation ?? '') &&
        got.packets.length < want.packets.length;
      if (!allowed) {
        mismatches.push(
          `${name}: ${got.packets.length} packets (${got.summary.truncation ?? 'complete'}) vs pcap-parser ${want.packets.length}`,
        );
        continue;
      }
      prefixOnly++;
      n = Math.min(n, want.packets.length);
    } else if (got.summary.truncated) {
      // Same packets, but netdiag says the file ends inside a record, where pcap-parser ends
      // silently: counted, for the log.
      truncatedSame++;
    }
    for (let i = 0; i < n; i++) {
      const a = got.packets[i]!;
      const b = want.packets[i]!;
      if (
        a.usecTotal !== b.usecTotal ||
        a.nsecRem !== 0 ||
        a.caplen !== b.caplen ||
        a.origlen !== b.origlen ||
        a.hex !== b.hex
      ) {
        mismatches.push(
          `${name}: packet ${i + 1} differs: ${JSON.stringify({ ...a, hex: a.hex.slice(0, 32) })} vs ${JSON.stringify({ ...b, hex: b.hex.slice(0, 32) })}`,
        );
        break;
      }
    }
    packets += n;
    // The same file in small odd chunks (records straddle reads) gives the same packets.
    if (got.packets.length > 1) {
      const small = await ours(file, 997);
      if (
        JSON.stringify(small.packets) !== JSON.stringify(got.packets) ||
        JSON.stringify(small.summary) !== JSON.stringify(got.summary)
      ) {
        mismatches.push(`${name}: differs when read in 997-byte chunks`);
      }
      chunked++;
    }
  }
  tt.log(
    `${files.length} files, ${packets} packets compared; ${prefixOnly} files where netdiag stopped early on an oversized record (prefix compared); ` +
      `${truncatedSame} files cut short inside a record (same packets, pcap-parser silent); ${oracleErrors} files pcap-parser rejected; ${chunked} files also compared in 997-byte chunks`,
  );
  tt.deepEqual(mismatches, []);
  tt.true(packets > 5000, `only ${packets} packets compared`);
});

t('the oracle is really compared: a one-byte change in a packet is seen', async tt => {
  // Guard against a differential test that cannot fail: copy a corpus file, flip one byte of
  // the first packet's data, and check the two readers then disagree with the original.
  const src = path.join(corpus, 'syslog_udp.pcap');
  const tmp = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'netdiag-diff-'));
  try {
    const b = fs.readFileSync(src);
    const copy = Buffer.from(b);
    copy[24 + 16 + 20] = copy[24 + 16 + 20]! ^ 0xff;
    const f = path.join(tmp, 'flipped.pcap');
    fs.writeFileSync(f, copy);
    const orig = await oracle(src);
    const got = await ours(f);
    tt.is(got.packets.length, orig.packets.length);
    tt.not(got.packets[0]!.hex, orig.packets[0]!.hex);
    tt.is(got.packets[1]!.hex, orig.packets[1]!.hex);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
