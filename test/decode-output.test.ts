/**
 * Decoding and output of today's kernels (issue 13): plain continuation lines without their
 * repeated time stamp; the kernel dictionary, userdata and sysdata apart in JSON and in text
 * (values with spaces quoted); the backslash escaped in text so every escape is unambiguous.
 * The datagrams are synthesised here in the shapes 6.17 sends (docs/json.md).
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatExtended } from '../src/decode/netconsole.js';
import { messageJson, messageJsonText } from '../src/report/json.js';
import { PLAIN } from '../src/report/style.js';
import { formatMessageLine } from '../src/report/text.js';
import { runMain } from './helpers/cli.js';
import { pcapFile, udpFrame } from './helpers/frames.js';
import { runFrames } from './helpers/pipeline-run.js';

const frame = (payload: string) =>
  udpFrame({ srcIp: '10.99.0.2', dstIp: '10.99.0.1', srcPort: 6665, dstPort: 6666, payload });

test('a plain record of two lines: the second line loses the repeated [ts] prefix', t => {
  const { messages } = runFrames([frame('[   29.268853] first\n[   29.268853] second\n')]);
  t.is(messages[0]!.text, 'first\nsecond');
  t.is(messages[0]!.usec, 29_268_853);
  t.regex(formatMessageLine(messages[0]!, PLAIN), / \[ {3}29\.268853\] first\\nsecond$/m);
});

const EXT_BODY =
  'link up\n SUBSYSTEM=net\n DEVICE=+net:eth0\n cpu=rack-cpu\n owner=ops team\n cpu=0\n taskname=kworker/0:1\n release=6.17.0-1-amd64\n msgid=42\n';

test('JSON keeps the kernel dictionary, userdata and sysdata apart: cpu=rack-cpu and cpu=0 both kept', t => {
  const { messages } = runFrames([
    frame(formatExtended({ facility: 0, level: 6, seq: 1, usec: 5, flags: '-' }, EXT_BODY)),
  ]);
  const m = messages[0]!;
  const want = {
    dict: { SUBSYSTEM: 'net', DEVICE: '+net:eth0' },
    userdata: { cpu: 'rack-cpu', owner: 'ops team' },
    sysdata: { cpu: '0', taskname: 'kworker/0:1', release: '6.17.0-1-amd64', msgid: '42' },
  };
  const j = JSON.parse(messageJsonText(m, false)) as Record<string, unknown>;
  t.deepEqual({ dict: j.dict, userdata: j.userdata, sysdata: j.sysdata }, want);
  t.deepEqual(JSON.parse(JSON.stringify(messageJson(m))), j);
  t.false('dictLines' in j);
});

test('text shows the three parts, values with a space quoted', t => {
  const { messages } = runFrames([
    frame(formatExtended({ facility: 0, level: 6, seq: 1, usec: 5, flags: '-' }, EXT_BODY)),
  ]);
  t.regex(
    formatMessageLine(messages[0]!, PLAIN),
    / link up \{SUBSYSTEM=net DEVICE=\+net:eth0\} userdata\{cpu=rack-cpu owner="ops team"\} sysdata\{cpu=0 taskname=kworker\/0:1 release=6\.17\.0-1-amd64 msgid=42\}$/m,
  );
});

test('text escapes the backslash itself: a kernel "\\t" and a tab no longer look alike', t => {
  // The extended body escapes `\` as \x5c and a tab as \x09.
  const { messages } = runFrames([
    frame(formatExtended({ facility: 0, level: 6, seq: 1, usec: 5, flags: '-' }, 'a\\x5ct b\\x09c\n')),
  ]);
  t.is(messages[0]!.text, 'a\\t b\tc');
  t.regex(formatMessageLine(messages[0]!, PLAIN), / a\\\\t b\\tc$/m);
});

test('analyze --json and --jsonl carry the three parts apart (the byte encoders too)', async t => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-parts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'userdata.synth.pcap');
  const data = frame(formatExtended({ facility: 0, level: 6, seq: 1, usec: 5, flags: '-' }, EXT_BODY));
  writeFileSync(file, pcapFile([{ data, sec: 1_700_000_000, usec: 0 }]));
  const json = JSON.parse((await runMain(['analyze', '--json', file])).stdout) as {
    messages: Array<Record<string, unknown>>;
  };
  const line = JSON.parse((await runMain(['analyze', '--jsonl', file])).stdout.split('\n')[0]!) as Record<
    string,
    unknown
  >;
  for (const m of [json.messages[0]!, line]) {
    t.deepEqual(m.userdata, { cpu: 'rack-cpu', owner: 'ops team' });
    t.deepEqual(m.sysdata, { cpu: '0', taskname: 'kworker/0:1', release: '6.17.0-1-amd64', msgid: '42' });
    t.deepEqual(m.dict, { SUBSYSTEM: 'net', DEVICE: '+net:eth0' });
  }
});
