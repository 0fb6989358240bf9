/**
 * The report written by its own thread (src/report/report-thread.ts, NETDIAG_REPORT_THREAD=1)
 * is byte for byte the report written in the main thread (=0), in every format: on real
 * captures (ncfrag messages, dictionaries, syslog, IPv6 go over as Messages, the common ones as
 * bytes) and on a synthesised capture of many batches (bench/gen-capture.ts, two flows taking
 * turns). And the batch codec on its own: a batch too small for the next message is handed over
 * and the message goes into the next one, in order.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateCapture } from '../bench/gen-capture.js';
import { BatchWriter, readBatch, type Batch } from '../src/report/message-batch.js';
import { MessageBytesView } from '../src/pipeline/message-bytes.js';
import type { Message, MessageBytes } from '../src/pipeline/types.js';
import { spawnSync } from 'node:child_process';
import { cliPath, projectRoot } from './helpers/cli.js';

const real = (name: string) => path.join(projectRoot, 'fixtures/real', name);
const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-report-thread-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const synthesised = path.join(dir, 'bench-shaped.synth.pcap');
generateCapture(synthesised, 40_000);

const captures = [
  real('linux-6.1.0-56-amd64-extended-fragmented.pcap'),
  real('linux-6.17.13+deb13-amd64-extended-fragmented-userdata.pcap'),
  real('linux-6.17.13+deb13-amd64-configfs-userdata-sysdata.pcap'),
  real('linux-6.17.13+deb13-amd64-syslog-loopback.pcap'),
  real('linux-6.17.13+deb13-amd64-extended-release-devmac.pcap'),
  real('linux-6.17.13+deb13-amd64-ipv6-plain.pcap'),
  real('linux-6.1.0-56-amd64-plain-boot.pcap'),
  real('linux-6.17.13+deb13-amd64-extended-boot.pcap'),
  synthesised,
];

/**
 * analyze with its standard output into a real pipe read by cat, as a user's `| less` (a child's
 * stdout from spawnSync is a socket, which never gets the thread).
 */
function runPiped(args: string[], env: NodeJS.ProcessEnv): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', 'set -o pipefail; "$NODE" "$CLI" "$@" | cat', 'bash', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', NODE: process.execPath, CLI: cliPath, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

for (const format of [[], ['--jsonl'], ['--json'], ['-v']]) {
  test(`the report's thread writes what the main thread writes: analyze ${format.join(' ') || '(text)'}`, t => {
    for (const file of captures) {
      const args = ['analyze', ...format, file];
      const env = { TZ: 'UTC' };
      const main = runPiped(args, { ...env, NETDIAG_REPORT_THREAD: '0' });
      const threaded = runPiped(args, { ...env, NETDIAG_REPORT_THREAD: '1' });
      t.true(main.code === 0 || main.code === 1, main.stderr);
      t.true(main.stdout.length > 400, `${file}: a report with messages`);
      t.is(threaded.code, main.code, path.basename(file));
      t.is(threaded.stderr, main.stderr, path.basename(file));
      t.true(threaded.stdout === main.stdout, `${path.basename(file)}: the reports differ`);
    }
  });
}

test('a batch without room hands over, and every message comes back in order', t => {
  const text = Buffer.from('0123456789'.repeat(20));
  const v = new MessageBytesView();
  const flow = {
    index: 0,
    sender: '10.0.0.2:6665',
    srcIp: '10.0.0.2',
    srcPort: 6665,
    dstIp: '10.0.0.1',
    dstPort: 6666,
  };
  const rare = { text: 'a Message, not bytes' } as Message;
  // Room for two messages of some 20 bytes and their records, not three.
  const writer = new BatchWriter(new ArrayBuffer(250));
  const batches: Batch[] = [];
  const add = (i: number) => {
    v.of(flow, i % 2 ? 'plain' : 'extended', 1_764_000_000, i * 1000, i, text, 0, 20 + i, false);
    v.level = i % 2 ? undefined : i % 8;
    v.usec = i === 3 ? undefined : i * 13;
    if (!writer.addBytes(v)) {
      batches.push(writer.take(new ArrayBuffer(250)));
      t.true(writer.addBytes(v), 'an empty batch takes it');
    }
  };
  for (let i = 1; i <= 5; i++) add(i);
  if (!writer.addMessage(rare)) {
    batches.push(writer.take(new ArrayBuffer(250)));
    t.true(writer.addMessage(rare), 'an empty batch takes a Message');
  }
  // A message as the report's bytes, from the middle of a bigger buffer.
  const encoded = Buffer.from('..{"sender":"10.0.0.2:6665","text":"caf\u00e9"}..');
  if (!writer.addEncoded(encoded, 2, encoded.length - 2)) {
    batches.push(writer.take(new ArrayBuffer(250)));
    t.true(writer.addEncoded(encoded, 2, encoded.length - 2), 'an empty batch takes encoded bytes');
  }
  t.false(new BatchWriter(new ArrayBuffer(40)).addEncoded(encoded, 0, encoded.length), 'no room: false');
  batches.push(writer.take());
  t.true(batches.length >= 2);
  const got: string[] = [];
  const flows: Parameters<typeof readBatch>[2] = [];
  const to = {
    messageBytes(m: MessageBytes) {
      got.push(
        `${m.mode} ${m.sender} ${m.nsec} ${m.packet} ${m.level} ${m.usec} ${Buffer.from(m.buf.subarray(m.textOff, m.textEnd)).toString()}`,
      );
      return true;
    },
    message(m: Message) {
      got.push(m.text);
    },
    encoded(b: Uint8Array, from: number, to: number) {
      got.push(Buffer.from(b.subarray(from, to)).toString());
    },
  };
  for (const b of batches) readBatch(b, to, flows);
  const want = [1, 2, 3, 4, 5].map(
    i =>
      `${i % 2 ? 'plain' : 'extended'} 10.0.0.2:6665 ${i * 1000} ${i} ${i % 2 ? undefined : i % 8} ${i === 3 ? undefined : i * 13} ${text.subarray(0, 20 + i).toString()}`,
  );
  t.deepEqual(got, [...want, rare.text, '{"sender":"10.0.0.2:6665","text":"caf\u00e9"}']);
});

test('a Message goes over as it was made, every field in its place; one longer than a batch goes whole', t => {
  const full: Message = {
    sender: '[fe80::1]:6665',
    srcIp: 'fe80::1',
    srcPort: 6665,
    dstIp: 'fe80::2',
    dstPort: 6666,
    srcMac: undefined,
    dstMac: '52:54:00:00:00:01',
    time: { sec: 1_764_000_000, nsec: 123_456_000 },
    mode: 'extended',
    text: 'caf\u00e9 \u001b[31m \u2028 \ud83d\ude00 \ud800 "quoted" \\',
    fragments: 3,
    packets: [7, 8, 9],
    level: 4,
    facility: 0,
    seq: 2 ** 40,
    usec: 45_000_013,
    flags: 'c',
    dict: { SUBSYSTEM: 'net', DEVICE: '+net:eth0' },
    userdata: undefined,
    sysdata: { cpu: '1', taskname: 'kworker/1:0' },
    dictLines: undefined,
    release: '6.17.13',
    hostname: undefined,
    app: undefined,
    incomplete: true,
  };
  const long: Message = { ...full, text: 'x'.repeat(400), incomplete: undefined };
  const writer = new BatchWriter(new ArrayBuffer(500));
  const batches: Batch[] = [];
  t.true(writer.addMessage(full));
  t.false(writer.addMessage(long), 'no room left: hand the batch over first');
  batches.push(writer.take(new ArrayBuffer(300)));
  t.true(writer.addMessage(long), 'longer than the whole batch: goes as an object');
  batches.push(writer.take());
  const got: Message[] = [];
  const flows: Parameters<typeof readBatch>[2] = [];
  for (const b of batches)
    readBatch(b, { messageBytes: () => false, message: m => got.push(m), encoded: () => t.fail() }, flows);
  t.deepEqual(got, [full, long]);
  t.deepEqual(Object.keys(got[0]!), Object.keys(full), 'the same fields in the same order');
});
