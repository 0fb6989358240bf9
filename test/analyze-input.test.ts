/**
 * analyze as tcpdump users call it: -r FILE, `-` and a pipe on standard input (pcap, pcapng and
 * gzip of either, told apart by their bytes), a trailing filter expression compiled by libpcap
 * (through tcpdump -ddd) and run by netdiag's BPF interpreter on real captures, -c N, -n.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseBpfProgram, runBpf, type BpfInsn } from '../src/capture/bpf.js';
import { cliPath, projectRoot } from './helpers/cli.js';
import { haveCommand, requiring } from './helpers/prereq.js';

const real = (name: string) => path.join(projectRoot, 'fixtures/real', `linux-6.1.0-56-amd64-${name}.pcap`);
const boot = real('extended-boot');
const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-input-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const withTcpdump = requiring([[haveCommand('tcpdump'), 'tcpdump (Debian package tcpdump)']]);
const withEditcap = requiring([[haveCommand('editcap'), 'editcap (Debian package tshark)']]);
// A PATH with node and nothing else: no tcpdump, no libpcap tools.
const onlyNode = path.join(dir, 'bin');
mkdirSync(onlyNode);
symlinkSync(process.execPath, path.join(onlyNode, 'node'));

function cli(args: string[], input?: Buffer, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    ...(input ? { input } : { stdio: ['ignore', 'pipe', 'pipe'] }),
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The capture line of a text report: `... N packets, ...`. */
const packetsOf = (out: string) => Number(/: (\d+) packets/.exec(out)?.[1] ?? NaN);

// ---- the BPF interpreter: bad programs first ------------------------------------------------

const badPrograms: Array<[string, string, RegExp]> = [
  ['empty', '', /not a BPF program listing/],
  ['count differs', '2\n6 0 0 1\n', /not a BPF program listing/],
  ['a word is not a number', '1\n6 0 0 x\n', /bad instruction/],
  ['jump past the end', '2\n21 5 0 1\n6 0 0 1\n', /jump out of the program/],
  ['memory slot 16', '2\n2 0 0 16\n6 0 0 1\n', /memory slot 16/],
  ['no return at the end', '1\n0 0 0 1\n', /does not end with a return/],
];
for (const [name, text, why] of badPrograms) {
  test(`BPF listing refused: ${name}`, t => {
    const r = parseBpfProgram(text);
    t.is(typeof r, 'string');
    t.regex(typeof r === 'string' ? r : '', why);
  });
}

test('BPF: loads past the captured bytes reject; ALU, scratch memory, X and jumps', t => {
  const prog = (text: string): BpfInsn[] => {
    const p = parseBpfProgram(text);
    if (typeof p === 'string') throw new Error(p);
    return p;
  };
  const pkt = Uint8Array.from([0xff, 0x00, 0x12, 0x34, 0x56, 0x78, 0x45]);
  // ld [2] (word) ; ret a
  t.is(runBpf(prog('2\n32 0 0 2\n22 0 0 0\n'), pkt, 0, 7, 7), 0x12345678);
  t.is(runBpf(prog('2\n32 0 0 4\n22 0 0 0\n'), pkt, 0, 7, 7), 0, 'word at 4 is past the 7 captured bytes');
  // ldh [2]; add #1; st M[3]; ldx M[3]; txa; ret a
  t.is(runBpf(prog('6\n40 0 0 2\n4 0 0 1\n2 0 0 3\n97 0 0 3\n135 0 0 0\n22 0 0 0\n'), pkt, 0, 7, 7), 0x1235);
  // ldxb 4*([6]&0xf) -> 20; ld len; ret a (at an offset inside a bigger buffer)
  const big = Uint8Array.from([9, 9, 9, ...pkt]);
  t.is(runBpf(prog('3\n177 0 0 6\n135 0 0 0\n22 0 0 0\n'), big, 3, 7, 7), 20);
  t.is(runBpf(prog('2\n128 0 0 0\n22 0 0 0\n'), pkt, 0, 7, 1500), 1500, 'len is the wire length');
  // ldb [0]; jeq #255 jt 1 jf 0; ret #0; ret #1
  t.is(runBpf(prog('4\n48 0 0 0\n21 1 0 255\n6 0 0 0\n6 0 0 1\n'), pkt, 0, 7, 7), 1);
  // div by zero rejects
  t.is(runBpf(prog('3\n0 0 0 7\n52 0 0 0\n22 0 0 0\n'), pkt, 0, 7, 7), 0);
});

// ---- where the capture comes from -----------------------------------------------------------

test('-r FILE, the operand, `-` and a plain pipe read the same capture', t => {
  const bytes = readFileSync(boot);
  const want = cli(['analyze', '-q', boot]);
  t.is(want.code, 0, want.stderr);
  const n = packetsOf(want.stdout);
  t.true(n > 10);
  t.is(packetsOf(cli(['analyze', '-q', '-r', boot]).stdout), n);
  const dash = cli(['analyze', '-q', '-'], bytes);
  t.is(dash.code, 0, dash.stderr);
  t.is(packetsOf(dash.stdout), n);
  t.regex(dash.stdout, /capture: stdin /);
  t.is(packetsOf(cli(['analyze', '-q'], bytes).stdout), n, 'no operand, a pipe on stdin');
  t.is(packetsOf(cli(['analyze', '-q', '-r', '-'], bytes).stdout), n);
});

test('gzip on standard input is told from its bytes and streamed (no seek on a pipe)', t => {
  const gz = gzipSync(readFileSync(boot));
  const r = cli(['analyze', '-q', '-'], gz);
  t.is(r.code, 0, r.stderr);
  t.is(packetsOf(r.stdout), packetsOf(cli(['analyze', '-q', boot]).stdout));
  t.regex(r.stdout, /gzip-compressed/);
});

withEditcap('pcapng and gzip-compressed pcapng through a pipe', t => {
  const ng = path.join(dir, 'boot.pcapng');
  execFileSync('editcap', ['-F', 'pcapng', boot, ng]);
  const bytes = readFileSync(ng);
  const want = packetsOf(cli(['analyze', '-q', boot]).stdout);
  for (const input of [bytes, gzipSync(bytes)]) {
    const r = cli(['analyze', '-q', '-'], input);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /\(pcapng/);
    t.is(packetsOf(r.stdout), want);
  }
});

test('failures: nothing on stdin and no file; a 20-byte file that is not a capture', t => {
  const none = cli(['analyze']);
  t.is(none.code, 2);
  t.regex(none.stderr, /^netdiag: analyze: give exactly one capture file/);
  const empty = cli(['analyze'], Buffer.alloc(0));
  t.is(empty.code, 2);
  t.regex(empty.stderr, /^netdiag: analyze: give exactly one capture file/);
  const junk = cli(['analyze', '-'], Buffer.from('this is not pcap....'));
  t.is(junk.code, 2);
  t.regex(junk.stderr, /^netdiag: stdin: not a pcap or pcapng capture/);
  t.is(junk.stdout, '');
});

test('-c N stops after N packets; -n is accepted (netdiag never resolves names)', t => {
  const r = cli(['analyze', '-q', '-n', '-c', '3', boot]);
  t.is(r.code, 0, r.stderr);
  t.is(packetsOf(r.stdout), 3);
  const bad = cli(['analyze', '-c', '0', boot]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^netdiag: --count: '0' is not a positive integer\n$/);
});

test('no filter: analyze works without tcpdump or libpcap on the PATH', t => {
  const r = cli(['analyze', '-q', boot], undefined, { PATH: onlyNode });
  t.is(r.code, 0, r.stderr);
});

// ---- filters on real captures: the same packets as tcpdump -r FILE EXPR ---------------------

const filters: Array<[string, string]> = [
  ['extended-boot', 'udp dst port 6666'],
  ['extended-boot', 'udp port 514'],
  ['extended-boot', 'src host 10.99.0.2 and udp'],
  ['extended-boot', 'ether dst 02:99:00:00:00:01'],
  ['extended-boot', 'udp[8] = 0x35'],
  ['port-unreachable', 'icmp'],
  ['port-unreachable', 'icmp[icmptype] = icmp-unreach'],
  ['port-unreachable', 'not icmp'],
  ['extended-fragmented', 'ip[6:2] & 0x1fff != 0 or ip[6] & 0x20 != 0'],
  ['wrong-mac', 'arp or ether broadcast'],
];
for (const [name, expr] of filters) {
  withTcpdump(`filter '${expr}' on ${name}: the packets tcpdump keeps`, t => {
    const file = real(name);
    const tcpdump = execFileSync('tcpdump', ['-nn', '-r', file, expr], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 256 * 1024 * 1024,
    });
    const want = tcpdump.split('\n').filter(l => /^\d\d:/.test(l)).length;
    const r = cli(['analyze', '-q', file, ...expr.split(' ')]);
    t.true(r.code === 0 || r.code === 1, r.stderr);
    t.is(packetsOf(r.stdout), want);
    t.regex(r.stdout, new RegExp(`filter: ${expr.replace(/[[\]|()*+?.]/g, '\\$&')}`));
  });
}

withTcpdump('a filter that does not compile: one line naming the expression, exit 2, nothing on stdout', t => {
  const r = cli(['analyze', boot, 'udp', 'prot', '514']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^netdiag: filter 'udp prot 514': .*syntax error\n$/);
  t.is(r.stdout, '');
});

test('a filter without tcpdump installed says what to install', t => {
  const r = cli(['analyze', boot, 'udp'], undefined, { PATH: onlyNode });
  t.is(r.code, 2);
  t.regex(r.stderr, /^netdiag: filter 'udp': tcpdump compiles filter expressions .*apt-get install tcpdump/);
});
