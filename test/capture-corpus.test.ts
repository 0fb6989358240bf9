/**
 * readCaptureFile on every file of the tcpdump test corpus (../shared/corpus/tcpdump: real
 * captures, many built to crash decoders, and two files that are not captures at all), on
 * gzip-compressed copies made in a temp dir, and on the errors a user can meet (missing file,
 * directory, empty file, no permission, not a capture, a hostile file name).
 * pcapng files are also checked against libpcap: `tcpdump -r F -w OUT` re-writes them as
 * nanosecond pcap, which must hold the same packets.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { execFileSync, spawnSync } from 'node:child_process';
import { readCaptureFile } from '../src/capture/file-source.js';
import type { CaptureSummary } from '../src/capture/sink.js';
import { CLIError } from '../src/errors.js';
import { pcapFileHeader, writePcapRecordHeader } from '../src/capture/format.js';
import { MAX_CAPLEN } from '../src/capture/reader.js';
import { haveCommand, isRoot, requiring } from './helpers/prereq.js';
import { RecordingSink, type GotPacket } from './helpers/synth-capture.js';
import { projectRoot } from './helpers/cli.js';
import { corpus, corpusFiles, cpuMs, haveCorpus } from './helpers/corpus.js';

const withCorpus = requiring([[haveCorpus, `capture corpus at ${corpus}`]]);
const withTcpdump = requiring([
  [haveCorpus, `capture corpus at ${corpus}`],
  [haveCommand('tcpdump'), 'tcpdump (Debian package tcpdump)'],
]);

/** CPU time, not wall: a busy machine must not fail the test, a reader looping for seconds must. */
const PER_FILE_MS = 2000;

function tmpDir(t: { teardown(f: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'netdiag-corpus-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

type Outcome =
  | { kind: 'summary'; summary: CaptureSummary; got: GotPacket[]; violations: string[]; ms: number }
  | { kind: 'cli'; err: CLIError; ms: number };

async function read(file: string, chunkSize?: number): Promise<Outcome> {
  const sink = new RecordingSink();
  const t0 = cpuMs();
  try {
    const summary = await readCaptureFile(file, sink, chunkSize ? { chunkSize } : {});
    return { kind: 'summary', summary, got: sink.got, violations: sink.violations, ms: cpuMs() - t0 };
  } catch (err) {
    if (err instanceof CLIError) return { kind: 'cli', err, ms: cpuMs() - t0 };
    throw err;
  }
}

withCorpus('every corpus file is read without an exception or hang, within a time bound each', async t => {
  const files = corpusFiles();
  t.true(files.length >= 800, `only ${files.length} files`);
  const problems: string[] = [];
  let packets = 0;
  let truncated = 0;
  const kinds = { pcap: 0, pcapng: 0, rejected: 0 };
  for (const file of files) {
    const name = path.basename(file);
    let o: Outcome;
    try {
      o = await read(file);
    } catch (err) {
      problems.push(`${name}: uncaught ${(err as Error).stack?.split('\n')[0]}`);
      continue;
    }
    if (o.ms > PER_FILE_MS) problems.push(`${name}: took ${o.ms.toFixed(0)} ms of CPU`);
    if (o.kind === 'cli') {
      kinds.rejected++;
      if (o.err.exitCode !== 2) problems.push(`${name}: exit code ${o.err.exitCode}`);
      if (/\n/.test(o.err.message)) problems.push(`${name}: message on several lines`);
      continue;
    }
    kinds[o.summary.format]++;
    packets += o.summary.packets;
    if (o.summary.truncated) truncated++;
    if (o.summary.packets !== o.got.length)
      problems.push(`${name}: summary says ${o.summary.packets} packets, sink got ${o.got.length}`);
    if (o.violations.length) problems.push(`${name}: ${o.violations[0]}`);
    if (o.got.some(g => g.caplen > MAX_CAPLEN)) problems.push(`${name}: a packet above ${MAX_CAPLEN} bytes`);
    if (o.summary.truncated && !o.summary.truncation) problems.push(`${name}: truncated without a reason`);
  }
  t.log(
    `${files.length} files: ${kinds.pcap} pcap, ${kinds.pcapng} pcapng, ${kinds.rejected} rejected as not a capture; ${packets} packets; ${truncated} truncated`,
  );
  t.deepEqual(problems, []);
  // The corpus holds exactly two files that are not captures (LICENSE and a text output).
  t.is(kinds.rejected, files.filter(f => !/\.pcap(ng)?$/.test(f)).length);
  t.true(kinds.pcapng >= 40);
});

withCorpus('files that are not captures give a one-line CLIError with exit 2 naming their first bytes', async t => {
  for (const name of ['LICENSE', 'syslog-v.out']) {
    const file = path.join(corpus, name);
    const head = fs.readFileSync(file).subarray(0, 4);
    const o = await read(file);
    if (o.kind !== 'cli') {
      t.fail(`${name} was read as a capture`);
      continue;
    }
    t.is(o.err.exitCode, 2);
    t.is(
      o.err.message,
      `${file}: not a pcap or pcapng capture (starts with ${[...head].map(b => b.toString(16).padStart(2, '0')).join(' ')})`,
    );
  }
});

withTcpdump('pcapng files hold the same packets as libpcap finds in them (tcpdump -r F -w OUT)', async t => {
  const dir = tmpDir(t);
  const files = corpusFiles().filter(f => f.endsWith('.pcapng'));
  const problems: string[] = [];
  let compared = 0;
  let filesCompared = 0;
  for (const file of files) {
    const name = path.basename(file);
    const out = path.join(dir, `${name}.pcap`);
    const r = spawnSync('tcpdump', ['-r', file, '-w', out, '--time-stamp-precision=nano'], {
      stdio: 'ignore',
      timeout: 20_000,
    });
    if (r.status !== 0) continue; // libpcap refuses some pcapng (e.g. mixed link types): no oracle
    const mine = await read(file);
    const theirs = await read(out);
    if (mine.kind !== 'summary' || theirs.kind !== 'summary') {
      problems.push(`${name}: not read as a capture`);
      continue;
    }
    if (mine.got.length !== theirs.got.length) {
      problems.push(
        `${name}: ${mine.got.length} packets (${mine.summary.truncation ?? 'complete'}) vs libpcap ${theirs.got.length}`,
      );
      continue;
    }
    for (let i = 0; i < mine.got.length; i++) {
      const a = mine.got[i]!;
      const b = theirs.got[i]!;
      // Classic pcap holds 32-bit seconds: compare modulo 2^32 (the corpus has a 2106 file).
      const same =
        a.hex === b.hex &&
        a.caplen === b.caplen &&
        a.origlen === b.origlen &&
        a.nsec === b.nsec &&
        a.linkType === b.linkType &&
        ((a.sec % 4294967296) + 4294967296) % 4294967296 === b.sec;
      if (!same) {
        problems.push(
          `${name}: packet ${i + 1}: ${JSON.stringify({ ...a, hex: a.hex.slice(0, 24) })} vs libpcap ${JSON.stringify({ ...b, hex: b.hex.slice(0, 24) })}`,
        );
        break;
      }
      compared++;
    }
    filesCompared++;
  }
  t.log(`${filesCompared} of ${files.length} pcapng files compared with libpcap, ${compared} packets`);
  t.deepEqual(problems, []);
  t.true(filesCompared >= 40);
});

withCorpus(
  'gzip-compressed copies read the same as the originals; cut or corrupt gzip is truncation, not a crash',
  async t => {
    const dir = tmpDir(t);
    const pick = ['afs.pcap', 'syslog_udp.pcap', 'OSPFv2_Capture_FINAL.pcapng', 'time_2107.pcapng', 'empty.pcap'];
    for (const name of pick) {
      const src = path.join(corpus, name);
      const gz = path.join(dir, `${name}.gz`);
      fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(src)));
      const plain = await read(src);
      const packed = await read(gz);
      if (plain.kind !== 'summary' || packed.kind !== 'summary') {
        t.fail(`${name}: not read`);
        continue;
      }
      t.deepEqual(packed.got, plain.got, name);
      t.is(packed.summary.packets, plain.summary.packets);
      t.false(packed.summary.truncated, name);
      t.regex(packed.summary.detail ?? '', /gzip-compressed$/);
    }

    const big = fs.readFileSync(path.join(corpus, 'afs.pcap'));
    const full = await read(path.join(corpus, 'afs.pcap'));
    if (full.kind !== 'summary') return t.fail('afs.pcap not read');
    const gzBytes = zlib.gzipSync(big);

    // Cut in the middle: the packets before the cut, then truncated.
    const cut = path.join(dir, 'cut.pcap.gz');
    fs.writeFileSync(cut, gzBytes.subarray(0, Math.floor(gzBytes.length * 0.6)));
    const c = await read(cut);
    if (c.kind !== 'summary') return t.fail(`cut gzip: ${c.kind === 'cli' ? c.err.message : ''}`);
    t.true(c.summary.truncated);
    t.true(
      c.summary.packets > 0 && c.summary.packets < full.summary.packets,
      `${c.summary.packets} of ${full.summary.packets}`,
    );
    t.deepEqual(c.got, full.got.slice(0, c.got.length));
    t.regex(c.summary.truncation ?? '', /cut short|gzip stream damaged/);

    // Corrupt the deflate data in the middle: some packets, then truncated (or a damaged record).
    const bad = Buffer.from(gzBytes);
    for (let i = Math.floor(bad.length / 2); i < Math.floor(bad.length / 2) + 64; i++) bad[i] = 0xff;
    const badFile = path.join(dir, 'corrupt.pcap.gz');
    fs.writeFileSync(badFile, bad);
    const b = await read(badFile);
    if (b.kind !== 'summary') return t.fail(`corrupt gzip: ${b.kind === 'cli' ? b.err.message : ''}`);
    t.true(b.summary.truncated);
    t.true(b.summary.packets < full.summary.packets);
    t.log(`cut gzip: ${c.summary.truncation}; corrupt gzip: ${b.summary.truncation}`);

    // A gzip file that holds no capture: CLIError, after decompression.
    const txt = path.join(dir, 'notes.txt.gz');
    fs.writeFileSync(txt, zlib.gzipSync(Buffer.from('<!DOCTYPE html>')));
    const n = await read(txt);
    t.is(n.kind, 'cli');
    if (n.kind === 'cli')
      t.is(n.err.message, `${txt}: not a pcap or pcapng capture (starts with 3c 21 44 4f), after gzip decompression`);
    // Garbage after the gzip magic: CLIError, no stack.
    const junk = path.join(dir, 'junk.gz');
    fs.writeFileSync(junk, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const j = await read(junk);
    t.is(j.kind, 'cli');
    if (j.kind === 'cli') t.regex(j.err.message, /: gzip stream unreadable before any data \(/);
  },
);

test('chunk size does not change what is read (records straddling reads)', async t => {
  // Synthesised: a pcap written here, read with chunk sizes that cut records everywhere.
  const dir = tmpDir(t);
  const file = path.join(dir, 'synth.pcap');
  const parts: Buffer[] = [];
  parts.push(pcapFileHeader(1, 65535));
  for (let i = 0; i < 500; i++) {
    const len = (i * 37) % 1600;
    const r = Buffer.alloc(16 + len, i & 0xff);
    writePcapRecordHeader(r, 0, 1_700_000_000 + i, i * 1000, len, len + 4);
    parts.push(r);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
  const ref = await read(file);
  if (ref.kind !== 'summary') return t.fail();
  t.is(ref.summary.packets, 500);
  const progress: Array<[number, number]> = [];
  for (const size of [64, 100, 1000, 4097, 65536]) {
    const sink = new RecordingSink();
    const s = await readCaptureFile(file, sink, {
      chunkSize: size,
      onProgress: (a, b) => {
        progress.push([a, b]);
      },
    });
    t.deepEqual(sink.got, ref.got, `chunk ${size}`);
    t.deepEqual(s, ref.summary);
  }
  const total = fs.statSync(file).size;
  t.deepEqual(progress.at(-1), [total, total]);
  t.true(progress.every(([a, b]) => a <= b && b === total));
});

test('user errors: missing, directory, empty, not a capture, hostile name — one line, exit 2', async t => {
  const dir = tmpDir(t);
  const empty = path.join(dir, 'empty.pcap');
  fs.writeFileSync(empty, '');
  const html = path.join(dir, 'page.pcap');
  fs.writeFileSync(html, '<!DOCTYPE html>\n<html></html>\n');
  const short = path.join(dir, 'short.pcap');
  fs.writeFileSync(short, Buffer.from([0xd4, 0xc3]));
  const hostile = path.join(dir, 'evil\x1b[31mred\x07.pcap');
  fs.writeFileSync(hostile, 'not a capture');
  const cases: Array<[string, string]> = [
    [path.join(dir, 'nope.pcap'), `${path.join(dir, 'nope.pcap')}: no such file`],
    [dir, `${dir}: is a directory, not a capture file`],
    [empty, `${empty}: empty file, not a capture`],
    [html, `${html}: not a pcap or pcapng capture (starts with 3c 21 44 4f)`],
    [short, `${short}: not a pcap or pcapng capture (only 2 bytes: d4 c3)`],
    [
      hostile,
      `${path.join(dir, 'evil\\x1b[31mred\\x07.pcap')}: not a pcap or pcapng capture (starts with 6e 6f 74 20)`,
    ],
    [path.join(empty, 'x.pcap'), `${path.join(empty, 'x.pcap')}: a component of the path is not a directory`],
  ];
  for (const [file, message] of cases) {
    const err = await t.throwsAsync(readCaptureFile(file, new RecordingSink()), { instanceOf: CLIError });
    t.is(err?.message, message);
    t.is((err as CLIError | undefined)?.exitCode, 2);
  }
});

test('user error: a file without read permission', async t => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'secret.pcap');
  fs.writeFileSync(file, Buffer.alloc(24));
  fs.chmodSync(file, 0o000);
  if (!isRoot()) {
    const err = await t.throwsAsync(readCaptureFile(file, new RecordingSink()), { instanceOf: CLIError });
    t.is(err?.message, `${file}: permission denied`);
    return;
  }
  // root reads anything: ask an unprivileged child (uid/gid 65534) to read it instead.
  fs.chmodSync(dir, 0o755);
  const mod = path.join(projectRoot, 'dist/src/capture/file-source.js');
  const script =
    `import(${JSON.stringify(mod)}).then(m => m.readCaptureFile(${JSON.stringify(file)}, { packet() {} }))` +
    `.then(() => console.log('read'), e => console.log(e.name + ' ' + e.exitCode + ' ' + e.message))`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
    cwd: '/',
  }).trim();
  t.is(out, `CLIError 2 ${file}: permission denied`);
});
