import test from 'ava';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pcapFile, udpFrame, arpReply, LAB_FLOW } from './helpers/frames.js';
import { formatExtended, formatPlain } from '../src/decode/netconsole.js';
import { runCli, runMain } from './helpers/cli.js';
import { findingsMarkdown } from '../src/findings/docs.js';
import { readFileSync } from 'node:fs';
import { projectRoot } from './helpers/cli.js';

/** The parts of the --json document and --jsonl lines these tests read (docs/json.md has all). */
interface JsonDoc {
  capture: { truncated: boolean } & Record<string, unknown>;
  senders: Array<Record<string, unknown>>;
  messages: Array<{ text: string } & Record<string, unknown>>;
  findings: Array<{ code: string }>;
  summary: { ok: boolean };
}
interface JsonLine {
  type: string;
  text?: string;
}
const parse = <T>(text: string): T => JSON.parse(text) as T;

// Captures here are synthesised with the project's encoders (real-kernel captures: fixtures/real).
const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-cli-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const S = LAB_FLOW;
function capture(name: string, frames: Buffer[]): string {
  const p = path.join(dir, name);
  writeFileSync(p, pcapFile(frames.map((data, i) => ({ data, sec: 1_764_000_000 + i, usec: 250 }))));
  return p;
}
const good = capture('good.pcap', [
  udpFrame({
    ...S,
    payload: formatExtended({ facility: 0, level: 6, seq: 1, usec: 45_287_505, flags: '-' }, 'sysrq: Show Regs\n'),
  }),
  udpFrame({
    ...S,
    payload: formatExtended({ facility: 0, level: 4, seq: 2, usec: 45_300_000, flags: '-' }, 'second\n'),
  }),
]);
const wrongMac = capture('wrong-mac.pcap', [
  arpReply('52:54:00:00:00:01', '10.99.0.1', S.srcMac, S.srcIp),
  udpFrame({ ...S, payload: formatPlain('hello', 1) }),
]);
const hostile = capture('hostile.pcap', [
  udpFrame({ ...S, payload: Buffer.from('\x1b]0;pwned\x07\x1b[2J\u009b31m evil \u202e\xff\n', 'utf8') }),
]);

// Failures first: usage and input errors are one line on stderr, exit 2.
const usage: Array<[string, string[], RegExp]> = [
  ['no command', [], /^$/],
  ['unknown command', ['frobnicate'], /^netdiag: unknown command 'frobnicate'/],
  ['no file', ['analyze'], /^netdiag: analyze: give exactly one capture file/],
  ['missing file', ['analyze', '/nonexistent/x.pcap'], /^netdiag: \/nonexistent\/x\.pcap: no such file$/m],
  ['a directory', ['analyze', '/'], /is a directory/],
  ['unknown option', ['analyze', '--bogus', 'x'], /^netdiag: analyze: Unknown option '--bogus'/],
  ['bad port', ['analyze', '--port', '70000', 'x.pcap'], /^netdiag: --port: '70000' is not a port number/],
  ['json and jsonl', ['analyze', '--json', '--jsonl', 'x'], /choose one/],
  ['bad netconsole spec', ['analyze', '--netconsole', 'garbage', 'x'], /^netdiag: --netconsole: /],
  [
    'missing config',
    ['analyze', '--config', '/nonexistent', 'x'],
    /^netdiag: --config \/nonexistent: cannot read \(no such file\)$/m,
  ],
];
// Through the program: two for what the shell sees, and 'no file', which reads an empty standard
// input (analyze reads fd 0 when it is not a terminal). The rest in this process, through the same code.
const spawned = new Set(['no command', 'unknown option', 'no file']);
for (const [name, args, err] of usage) {
  test(`usage error: ${name}`, async t => {
    const r = spawned.has(name) ? runCli(args) : await runMain(args);
    t.is(r.code, 2);
    if (args.length) {
      t.regex(r.stderr, err);
      t.is(r.stderr.trim().split('\n').length, 1, 'one line');
      t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
}

test('not a capture: one line naming the first bytes, exit 2', async t => {
  const p = path.join(dir, 'notes.txt');
  writeFileSync(p, '<!DOCTYPE html>\n');
  const r = await runMain(['analyze', p]);
  t.is(r.code, 2);
  t.regex(r.stderr, /not a pcap or pcapng capture \(starts with 3c 21 44 4f\)/);
});

test('not a capture with --json: stdout stays empty, no half document', async t => {
  const p = path.join(dir, 'notes2.txt');
  writeFileSync(p, '<!DOCTYPE html>\n');
  const r = await runMain(['analyze', '--json', p]);
  t.is(r.code, 2);
  t.is(r.stdout, '');
});

test('an error message quoting the command line is escaped for the terminal', async t => {
  const r = await runMain(['verify', '--sender', 'a\x1b[2Jb c']);
  t.is(r.code, 2);
  t.notRegex(r.stderr, /\x1b/);
  t.regex(r.stderr, /a\\x1b\[2Jb c/);
});

test('a capture with no message still gives a whole --json document', async t => {
  const p = capture('empty.pcap', []);
  const doc = parse<JsonDoc>((await runMain(['analyze', '--json', p])).stdout);
  t.deepEqual(doc.messages, []);
  t.is(doc.findings[0]?.code, 'no-netconsole-traffic');
});

test('a truncated capture is analyzed up to the cut and reported', async t => {
  const whole = readFileSync(good);
  const p = path.join(dir, 'cut.pcap');
  writeFileSync(p, whole.subarray(0, whole.length - 10));
  const r = await runMain(['analyze', '--json', p]);
  t.is(r.code, 0);
  const doc = parse<JsonDoc>(r.stdout);
  t.true(doc.capture.truncated);
  t.is(doc.messages.length, 1);
  t.true(doc.findings.some((f: { code: string }) => f.code === 'capture-truncated'));
});

test('text report: messages, senders, verdict; exit 0 without errors', t => {
  const r = runCli(['analyze', good]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^\d\d:\d\d:\d\d\.000250 10\.99\.0\.2:6665 info {3}\[ {3}45\.287505\] sysrq: Show Regs$/m);
  t.regex(r.stdout, /10\.99\.0\.2:6665 → 10\.99\.0\.1:6666 {2}extended {2}2 datagrams {2}2 messages {2}seq 1\.\.2/);
  t.regex(r.stdout, /^OK on the wire: 0 errors, 0 warnings$/m);
  t.regex(r.stdout, /^ {2}not compared: firewall DROP and delivery to the log file/m);
});

test('--json: the documented document', async t => {
  const r = await runMain(['analyze', '--json', good]);
  t.is(r.code, 0);
  const doc = parse<JsonDoc>(r.stdout);
  t.like(doc.capture, { path: good, format: 'pcap', packets: 2, truncated: false });
  t.like(doc.senders[0], {
    ip: '10.99.0.2',
    port: 6665,
    mac: S.srcMac,
    dstIp: '10.99.0.1',
    dstPort: 6666,
    dstMac: S.dstMac,
    mode: 'extended',
    packets: 2,
    messages: 2,
  });
  t.like(doc.messages[0], {
    sender: '10.99.0.2:6665',
    text: 'sysrq: Show Regs',
    fragments: 1,
    level: 6,
    seq: 1,
    time: '2025-11-24T16:00:00.000250Z',
  });
  t.deepEqual(doc.findings, []);
  t.true(doc.summary.ok);
});

test('--jsonl: one message per line, then the summary', async t => {
  const r = await runMain(['analyze', '--jsonl', good]);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map(l => parse<JsonLine>(l));
  t.deepEqual(
    lines.map(l => l.type),
    ['message', 'message', 'summary'],
  );
  t.is(lines[1]?.text, 'second');
});

test('an error finding: exit 1, with the fix', t => {
  const r = runCli(['analyze', wrongMac]);
  t.is(r.code, 1);
  t.regex(
    r.stdout,
    /error {3}dst-mac-mismatch: 10\.99\.0\.2:6665 → 10\.99\.0\.1:6666: frames go to 52:54:00:ab:cd:ef, but 10\.99\.0\.1 is at 52:54:00:00:00:01/,
  );
  t.regex(r.stdout, /fix: On the sender, set the remote MAC to 52:54:00:00:00:01/);
  t.regex(r.stdout, /^FAIL: 1 error, 0 warnings/m);
});

test('hostile payload never reaches the terminal unescaped', async t => {
  for (const args of [
    ['analyze', hostile],
    ['analyze', '--summary', hostile],
  ]) {
    const r = await runMain(args, { env: { FORCE_COLOR: '0' } });
    t.notRegex(r.stdout, /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202e]/);
  }
  const r = await runMain(['analyze', hostile]);
  t.regex(r.stdout, /\\x1b\]0;pwned\\x07\\x1b\[2J/);
  t.regex(r.stdout, /\\x9b31m evil \\u\{202e\}/);
});

test('hostile payload in --json and --jsonl: escaped for the terminal, the text intact for a program', async t => {
  for (const flag of ['--json', '--jsonl']) {
    const r = await runMain(['analyze', flag, hostile]);
    t.notRegex(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/, flag);
    const first = flag === '--json' ? parse<JsonDoc>(r.stdout).messages[0] : parse<JsonLine>(r.stdout.split('\n')[0]!);
    t.is(first?.text, '\x1b]0;pwned\x07\x1b[2J\u009b31m evil \u202e\u00ff');
  }
});

test('gzip-compressed capture reads the same', async t => {
  const { gzipSync } = await import('node:zlib');
  const p = path.join(dir, 'good.pcap.gz');
  writeFileSync(p, gzipSync(readFileSync(good)));
  t.is(
    (await runMain(['analyze', '--json', p])).stdout.replace(/"path":"[^"]+"/, ''),
    (await runMain(['analyze', '--json', good])).stdout.replace(/"path":"[^"]+"/, ''),
  );
});

test('NO_COLOR off and FORCE_COLOR on gives colour; NO_COLOR wins', async t => {
  t.regex((await runMain(['analyze', wrongMac], { env: { NO_COLOR: '', FORCE_COLOR: '1' } })).stdout, /\x1b\[31m/);
  t.notRegex((await runMain(['analyze', wrongMac], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } })).stdout, /\x1b\[/);
});

test('explain: every code has its text; docs/findings.md is generated from the same catalog', async t => {
  const r = await runMain(['explain', 'port-unreachable']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^port-unreachable \(error\): /);
  t.is((await runMain(['explain', 'no-such-code'])).code, 2);
  const doc = readFileSync(path.join(projectRoot, 'docs/findings.md'), 'utf8');
  t.is(doc, findingsMarkdown(), 'docs/findings.md is stale: run make docs');
});
