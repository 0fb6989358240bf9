/**
 * What the wire proves, as tables (failures first): ICMP destination unreachable of every kind,
 * several configured targets matched to their flows, and netconsole recognised on ports nobody
 * named. Every capture here is synthesised in the test, frame by frame.
 */
import test from 'ava';
import { looksLikeNetconsole, formatExtended, formatPlain } from '../src/decode/netconsole.js';
import { parseNetconsoleSpec } from '../src/config/netconsole-spec.js';
import { watchedPorts } from '../src/config/target.js';
import { localInterface } from '../src/capture/local-interface.js';
import {
  arpReply,
  icmpUnreachable,
  ipv4Packet,
  LAB_FLOW,
  udpFrame,
  udpSegment,
  type UdpFrameSpec,
} from './helpers/frames.js';
import { createPipeline } from '../src/pipeline/pipeline.js';
import { codes, runFrames } from './helpers/pipeline-run.js';

const SENDER = { ...LAB_FLOW, dstPort: 514 };
const V6 = { srcIp: 'fd00::2', dstIp: 'fd00::1' };
const frame = (payload: string | Buffer, over: Partial<UdpFrameSpec> = {}) => udpFrame({ ...SENDER, ...over, payload });
const plain = (text: string, over: Partial<UdpFrameSpec> = {}) => frame(formatPlain(text, 12_345_678), over);
const ext = (seq: number, over: Partial<UdpFrameSpec> = {}, release?: string) =>
  frame(
    formatExtended(
      { facility: 0, level: 6, seq, usec: 1000 + seq, flags: '-', ...(release ? { release } : {}) },
      `message ${seq}\n`,
    ),
    over,
  );
const answer = (f: Buffer, opts: Parameters<typeof icmpUnreachable>[3] = {}) =>
  icmpUnreachable(f, SENDER.dstMac, SENDER.srcMac, opts);

// ------------------------------------------------------------------------------------ ICMP

const icmpCases: Array<{ name: string; frames: () => Buffer[]; want: string[]; summary?: RegExp; hint?: RegExp }> = [
  {
    name: 'an answer about a datagram to another port with other content: nothing',
    frames: () => [plain('x'), answer(frame('\x00\x01binary', { dstPort: 53 }))],
    want: [],
  },
  {
    name: 'port unreachable (code 3)',
    frames: () => {
      const f = plain('x');
      return [f, answer(f)];
    },
    want: ['port-unreachable'],
  },
  {
    name: 'host prohibited (code 10, CentOS stock REJECT)',
    frames: () => {
      const f = plain('x');
      return [f, answer(f, { code: 10 })];
    },
    want: ['firewall-reject'],
    summary: /10\.99\.0\.1 refused 1 datagram .* host prohibited \(icmp-host-prohibited\): a firewall REJECT rule/,
    hint: /iptables -I INPUT -p udp --dport 514 -s 10\.99\.0\.2 -j ACCEPT/,
  },
  {
    name: 'a burst answered in part (the kernel rate-limits ICMP errors): not read as only those refused',
    frames: () => {
      const fs = Array.from({ length: 10 }, (_, i) => plain(`line ${i}`));
      return [...fs.flatMap((f, i) => (i < 6 ? [f, answer(f, { code: 13 })] : [f]))];
    },
    want: ['firewall-reject'],
    summary:
      /refused 6 datagrams .*: a firewall REJECT rule \(answers to 6 of its 10 datagrams: the kernel rate-limits ICMP errors/,
  },
  {
    name: 'port unreachable for part of a burst: the same',
    frames: () => {
      const fs = Array.from({ length: 8 }, (_, i) => plain(`line ${i}`));
      return [...fs.flatMap((f, i) => (i < 6 ? [f, answer(f)] : [f]))];
    },
    want: ['port-unreachable'],
    summary: /answered 6 datagrams .* \(answers to 6 of its 8 datagrams/,
  },
  {
    name: 'net prohibited (code 9)',
    frames: () => {
      const f = plain('x');
      return [f, answer(f, { code: 9 })];
    },
    want: ['firewall-reject'],
    summary: /net prohibited/,
  },
  {
    name: 'admin prohibited (code 13)',
    frames: () => {
      const f = plain('x');
      return [f, answer(f, { code: 13 })];
    },
    want: ['firewall-reject'],
    summary: /icmp-admin-prohibited/,
  },
  {
    name: 'host unreachable sent by the destination itself: a REJECT too',
    frames: () => {
      const f = plain('x');
      return [f, answer(f, { code: 1 })];
    },
    want: ['firewall-reject'],
    summary: /host unreachable/,
  },
  {
    name: 'host unreachable sent by a router: the network cannot deliver',
    frames: () => {
      const f = plain('x');
      return [f, answer(f, { code: 1, fromIp: '10.99.0.254' })];
    },
    want: ['dst-unreachable'],
    summary: /^10\.99\.0\.254 answered 1 datagram .*host unreachable/,
  },
  {
    name: 'ICMPv6 port unreachable (type 1 code 4)',
    frames: () => {
      const f = plain('x', V6);
      return [f, answer(f)];
    },
    want: ['port-unreachable'],
  },
  {
    name: 'ICMPv6 administratively prohibited (type 1 code 1)',
    frames: () => {
      const f = plain('x', V6);
      return [f, answer(f, { code: 1 })];
    },
    want: ['firewall-reject'],
    summary: /fd00::1 refused .* to \[fd00::1\]:514 .*icmp6-adm-prohibited/,
    hint: /ip6tables -I INPUT -p udp --dport 514 -s fd00::2 -j ACCEPT/,
  },
  {
    name: 'a prohibited answer whose datagram is not in the capture',
    frames: () => [answer(plain('x'), { code: 13 })],
    want: ['firewall-reject', 'no-netconsole-traffic'],
    summary: /not in the capture|refused 10\.99\.0\.2:6665 → 10\.99\.0\.1:514/,
  },
  {
    name: 'a REJECT answering netconsole on a port nobody named',
    frames: () => {
      const f = ext(1, { dstPort: 6667 });
      return [f, answer(f, { code: 10 })];
    },
    want: ['firewall-reject', 'unexpected-port'],
  },
];

for (const c of icmpCases) {
  test(`ICMP: ${c.name}`, t => {
    const { result } = runFrames(c.frames());
    t.deepEqual(codes(result), [...c.want].sort());
    const f = result.findings.find(x => x.code === c.want[0]);
    if (c.summary) t.regex(f!.summary, c.summary);
    if (c.hint) t.regex(f!.hint, c.hint);
  });
}

// ------------------------------------------------------------------------- target matching

const targetCases: Array<{ name: string; spec: string; frames: () => Buffer[]; want: string[]; summary?: RegExp }> = [
  {
    name: 'a target whose port differs, beside one that matches: the mismatch, not against the other',
    spec: '6665@10.99.0.2/eth0,514@10.99.0.1/;6666@10.99.0.2/eth0,6666@10.99.0.1/',
    frames: () => [plain('a'), ext(1, { srcPort: 6666, dstPort: 6667 })],
    want: ['dst-port-mismatch'],
    summary: /sends to port 6667, --netconsole target 2 says 6666/,
  },
  {
    name: 'a silent target',
    spec: '6665@10.99.0.2/eth0,514@10.99.0.1/;6666@/eth0,6666@10.99.0.9/',
    frames: () => [plain('a')],
    want: ['target-silent'],
    summary: /10\.99\.0\.9:6666 from --netconsole target 2/,
  },
  {
    name: 'extended configured, plain on the wire',
    spec: '+6665@10.99.0.2/eth0,514@10.99.0.1/',
    frames: () => [plain('a')],
    want: ['mode-mismatch'],
    summary: /sends plain records, --netconsole says extended/,
  },
  {
    name: 'plain configured, extended on the wire',
    spec: '6665@10.99.0.2/eth0,514@10.99.0.1/',
    frames: () => [ext(1)],
    want: ['mode-mismatch'],
  },
  {
    name: 'r configured, no release prefix',
    spec: '+r6665@10.99.0.2/eth0,514@10.99.0.1/',
    frames: () => [ext(1)],
    want: ['release-mismatch'],
    summary: /without the release prefix/,
  },
  {
    name: 'a release prefix not configured',
    spec: '+6665@10.99.0.2/eth0,514@10.99.0.1/',
    frames: () => [ext(1, {}, '6.17.0-1-amd64')],
    want: ['release-mismatch'],
    summary: /release 6\.17\.0-1-amd64/,
  },
  {
    name: 'the device given by MAC, frames from another',
    spec: '+6665@10.99.0.2/52:54:00:00:00:99,514@10.99.0.1/',
    frames: () => [ext(1)],
    want: ['src-mac-mismatch'],
    summary: /frames come from 52:54:00:12:34:56, --netconsole names the device 52:54:00:00:00:99/,
  },
  {
    name: 'another sender to the same server, the configured one present: info only',
    spec: '6665@10.99.0.2/eth0,514@10.99.0.1/',
    frames: () => [plain('a'), plain('b', { srcIp: '10.99.0.3' })],
    want: ['flow-not-configured'],
    summary: /^10\.99\.0\.3:6665 → 10\.99\.0\.1:514 \(plain\) is not in the configuration/,
  },
  {
    name: 'a wrong MAC straight from the sender (TTL 64) is still found',
    spec: '6665@10.99.0.2/eth0,514@10.99.0.1/52:54:00:00:00:fe',
    frames: () => [plain('a')],
    want: ['dst-mac-mismatch'],
    summary: /frames go to 52:54:00:ab:cd:ef, --netconsole says 52:54:00:00:00:fe/,
  },
  // Then what must stay quiet.
  {
    name: "behind a router (TTL 63), the router's MAC configured: the last hop's MACs are not compared with it",
    spec: '6665@10.99.0.2/eth0,514@10.99.0.1/52:54:00:00:00:fe',
    frames: () => [
      plain('a', { ttl: 63 }),
      // The receiver's own frames show its MAC: not what the sender must name across a router.
      frame('x', { srcIp: '10.99.0.1', dstIp: '10.99.0.2', srcPort: 514, dstPort: 40000, srcMac: '52:54:00:ab:cd:ef' }),
    ],
    want: [],
  },
  {
    name: 'IPv6 behind a router (hop limit 31): the same',
    spec: '6665@fd00::2/eth0,514@fd00::1/52:54:00:00:00:fe',
    frames: () => [plain('a', { ...V6, ttl: 31 })],
    want: [],
  },
  {
    name: 'two targets (boot parameter and configfs style) to two ports of one server: nothing wrong',
    spec: '6665@10.99.0.2/eth0,514@10.99.0.1/;+6666@10.99.0.2/eth0,6666@10.99.0.1/',
    frames: () => [plain('a'), ext(1, { srcPort: 6666, dstPort: 6666 })],
    want: [],
  },
  {
    name: 'extended with r and the device by its MAC, as configured',
    spec: '+r6665@10.99.0.2/52:54:00:12:34:56,514@10.99.0.1/',
    frames: () => [ext(1, {}, '6.17.0-1-amd64')],
    want: [],
  },
  { name: 'IPv6 target', spec: '+6665@fd00::2/eth0,514@fd00::1/', frames: () => [ext(1, V6)], want: [] },
];

for (const c of targetCases) {
  test(`targets: ${c.name}`, t => {
    const { targets, errors } = parseNetconsoleSpec(c.spec);
    t.deepEqual(errors, []);
    const { result } = runFrames(c.frames(), { targets });
    t.deepEqual(codes(result), [...c.want].sort());
    if (c.summary) t.regex(result.findings.find(x => x.code === c.want[0])!.summary, c.summary);
    if (c.want.every(w => w === 'flow-not-configured')) t.false(result.findings.some(f => f.severity === 'error'));
  });
}

// ---------------------------------------------------------------- netconsole on any port

const payloadCases: Array<{ name: string; payload: string | Buffer; partial?: boolean; want: boolean }> = [
  {
    name: 'DNS query',
    payload: Buffer.from('12340100000100000000000003777777076578616d706c6503636f6d0000010001', 'hex'),
    want: false,
  },
  {
    name: 'NTP client packet',
    payload: Buffer.concat([Buffer.from([0x23, 0, 6, 0xec]), Buffer.alloc(44)]),
    want: false,
  },
  { name: 'syslog', payload: '<13>Nov 24 13:01:02 host1 app: hello\n', want: false },
  { name: 'plain text without printk time', payload: 'hello world\n', want: false },
  { name: 'printk time with 3 fraction digits', payload: '[   12.345] x\n', want: false },
  { name: 'plain line without newline', payload: '[   12.345678] x', want: false },
  { name: 'plain line with an escape character', payload: '[   12.345678] \x1b[31mx\n', want: false },
  { name: 'extended with an unknown flag', payload: '6,1,2,x;text\n', want: false },
  { name: 'extended with an unknown field', payload: '6,1,2,-,foo=bar;text\n', want: false },
  { name: 'extended with a raw control byte (the kernel escapes them)', payload: '6,1,2,-;te\x01xt\n', want: false },
  { name: 'extended without its newline', payload: '6,1,2,-;text', want: false },
  { name: 'extended with a dictionary line not starting with a space', payload: '6,1,2,-;text\nKEY=v\n', want: false },
  { name: 'plain line with printk time', payload: '[   12.345678] sysrq: Show Regs\n', want: true },
  { name: 'plain line cut at 1000 bytes', payload: `[   12.345678] ${'x'.repeat(985)}`, want: true },
  { name: 'extended', payload: '6,378,14045975,-;sysrq: Show Regs\n', want: true },
  {
    name: 'extended with dictionary and caller',
    payload: '6,1,2,+,caller=T12;text\n SUBSYSTEM=net\n DEVICE=+eth0\n',
    want: true,
  },
  { name: 'extended with a release prefix', payload: '6.17.0-1-amd64,6,1,2,-;text\n', want: true },
  { name: 'an ncfrag piece', payload: '6,1,2,-,ncfrag=1000/2500;xxxx', want: true },
  { name: 'an extended record cut in an ICMP quote', payload: '6,1,2,-;tex', partial: true, want: true },
];

for (const c of payloadCases) {
  test(`recognised by content: ${c.name} → ${c.want}`, t => {
    const b = typeof c.payload === 'string' ? Buffer.from(c.payload, 'latin1') : c.payload;
    t.is(looksLikeNetconsole(b, 0, b.length, c.partial ?? false), c.want);
  });
}

test('netconsole on a port nobody named: unexpected-port with the port, every datagram of the flow decoded', t => {
  // The second datagram has no time stamp (not enough alone): taken because its flow is netconsole.
  const { messages, result } = runFrames([
    frame(formatPlain('first line', 1), { dstPort: 6667 }),
    frame('second line\n', { dstPort: 6667 }),
  ]);
  t.deepEqual(codes(result), ['unexpected-port']);
  t.deepEqual(
    messages.map(m => m.text),
    ['first line', 'second line'],
  );
  const f = result.findings.find(x => x.code === 'unexpected-port')!;
  t.regex(
    f.summary,
    /10\.99\.0\.2:6665 sends netconsole to 10\.99\.0\.1:6667 \(2 datagrams\), a port netdiag was not told about \(watching 514, 6666\)/,
  );
  t.regex(f.hint, /--port 6667/);
});

test('a datagram without time stamp to a port nobody named, from no netconsole flow: not taken', t => {
  const { result } = runFrames([frame('second line\n', { dstPort: 6667 })]);
  t.deepEqual(codes(result), ['no-netconsole-traffic']);
});

test('--port restricts: netconsole elsewhere is not looked for', t => {
  const { result } = runFrames([ext(1, { dstPort: 6667 })], { ports: [514] });
  t.deepEqual(codes(result), ['no-netconsole-traffic']);
});

test('a configured target port is watched like 514 and 6666', t => {
  const { targets } = parseNetconsoleSpec('+6665@10.99.0.2/eth0,6667@10.99.0.1/');
  const { result } = runFrames([ext(1, { dstPort: 6667 })], { targets });
  t.deepEqual(codes(result), []);
});

// --------------------------------------------------------------- sniff knows its interface

const LOCAL = { name: 'eth0', mac: '52:54:00:ab:cd:ef', addresses: ['10.99.0.1', 'fd00::1'] };

const localCases: Array<{ name: string; frames: () => Buffer[]; want: string[]; summary?: RegExp; hint?: RegExp }> = [
  {
    name: "to this interface's address at another MAC: dst-mac-mismatch without configuration",
    frames: () => [plain('a', { dstMac: '52:54:00:00:00:77' })],
    want: ['dst-mac-mismatch'],
    summary: /frames go to 52:54:00:00:00:77, but 10\.99\.0\.1 is this host's address on eth0, at 52:54:00:ab:cd:ef/,
    hint: /remote MAC to 52:54:00:ab:cd:ef/,
  },
  {
    name: "to this interface's MAC for an address it does not have: dst-ip-mismatch",
    frames: () => [plain('a', { dstIp: '10.99.0.77' })],
    want: ['dst-ip-mismatch'],
    summary: /frames come to eth0 \(52:54:00:ab:cd:ef\) addressed to 10\.99\.0\.77, which is not one of its addresses/,
    hint: /remote IP to 10\.99\.0\.1 \(netconsole=\.\.\.,514@10\.99\.0\.1\/52:54:00:ab:cd:ef\)/,
  },
  {
    name: 'IPv6: to its MAC for another address',
    frames: () => [plain('a', { srcIp: 'fd00::2', dstIp: 'fd00::9' })],
    want: ['dst-ip-mismatch'],
    summary: /\[fd00::2\]:6665 → \[fd00::9\]:514: /,
    hint: /remote IP to fd00::1/,
  },
  {
    name: 'to its address at another MAC, after two routers: the fix is the last router, not the sender',
    frames: () => [plain('a', { dstMac: '52:54:00:00:00:77', ttl: 62 })],
    want: ['dst-mac-mismatch'],
    summary: /frames go to 52:54:00:00:00:77, but 10\.99\.0\.1 is this host's address/,
    hint: /^These frames came through 2 routers \(TTL 62; netconsole sends 64\): the last router \(52:54:00:12:34:56\) sends them to 52:54:00:00:00:77, so the sender's remote MAC is not the cause/,
  },
  {
    name: 'IPv6, after one router (hop limit 31): the same',
    frames: () => [ext(1, { ...V6, dstMac: '52:54:00:00:00:77', ttl: 31 })],
    want: ['dst-mac-mismatch'],
    hint: /came through 1 router \(hop limit 31; netconsole sends 32\)/,
  },
  { name: 'to its address and MAC: nothing', frames: () => [plain('a'), ext(1, V6)], want: [] },
  {
    name: 'to the broadcast MAC: only the broadcast warning',
    frames: () => [plain('a', { dstMac: 'ff:ff:ff:ff:ff:ff' })],
    want: ['broadcast-dst-mac'],
  },
  {
    name: 'between two other hosts (a mirror port): nothing',
    frames: () => [plain('a', { dstIp: '10.99.0.5', dstMac: '52:54:00:00:00:05' })],
    want: [],
  },
];

for (const c of localCases) {
  test(`sniff's interface: ${c.name}`, t => {
    const { result } = runFrames(c.frames(), { local: LOCAL });
    t.deepEqual(codes(result), [...c.want].sort());
    const f = result.findings.find(x => x.code === c.want[0]);
    if (c.summary) t.regex(f!.summary, c.summary);
    if (c.hint) t.regex(f!.hint, c.hint);
  });
}

test('the interface as the command finds it: MAC and bare addresses; none for an unknown name', t => {
  const list = {
    eth0: [
      {
        address: '10.99.0.1',
        netmask: '255.255.255.0',
        family: 'IPv4',
        mac: '52:54:00:AB:CD:EF',
        internal: false,
        cidr: '10.99.0.1/24',
      },
      {
        address: 'fe80::5054:ff:feab:cdef',
        netmask: 'ffff:ffff:ffff:ffff::',
        family: 'IPv6',
        mac: '52:54:00:AB:CD:EF',
        internal: false,
        cidr: null,
        scopeid: 2,
      },
    ],
    lo: [
      {
        address: '127.0.0.1',
        netmask: '255.0.0.0',
        family: 'IPv4',
        mac: '00:00:00:00:00:00',
        internal: true,
        cidr: '127.0.0.1/8',
      },
    ],
  } as unknown as Parameters<typeof localInterface>[1];
  t.deepEqual(localInterface('eth0', list), {
    name: 'eth0',
    mac: '52:54:00:ab:cd:ef',
    addresses: ['10.99.0.1', 'fe80::5054:ff:feab:cdef'],
  });
  t.deepEqual(localInterface('lo', list), { name: 'lo', addresses: ['127.0.0.1'] });
  t.is(localInterface('any', list), undefined);
});

// ------------------------------------------------------------------------ a flood stays readable

test('the same finding on many senders is one finding: the count, the first few, every sender in subjects', t => {
  const piece = (i: number) =>
    frame(
      formatExtended(
        { facility: 0, level: 6, seq: 1, usec: 1, flags: '-', frag: { offset: 5000, total: 100 } },
        'x'.repeat(50),
      ),
      {
        srcIp: `10.98.${i >> 8}.${i & 255}`,
      },
    );
  const { result } = runFrames([
    ...Array.from({ length: 300 }, (_, i) => piece(i)),
    plain('the one real message', { dstMac: 'ff:ff:ff:ff:ff:ff' }),
  ]);
  t.deepEqual(codes(result), ['broadcast-dst-mac', 'fragment-invalid']);
  const flood = result.findings.find(f => f.code === 'fragment-invalid')!;
  t.regex(
    flood.summary,
    /^An ncfrag piece is inconsistent: 300 senders \(10\.98\.0\.0:6665, 10\.98\.0\.1:6665, 10\.98\.0\.2:6665, \.\.\.\)$/,
  );
  t.is(flood.evidence.length, 6);
  t.regex(flood.evidence[5]!, /and 295 more findings like these/);
  t.is(flood.subjects!.length, 300);
  t.is(flood.subjects![299], '10.98.1.43:6665');
});

test('three senders with one finding each stay three findings', t => {
  const { result } = runFrames([0, 1, 2].map(i => plain('a', { srcIp: `10.98.0.${i}`, dstMac: 'ff:ff:ff:ff:ff:ff' })));
  t.deepEqual(codes(result), ['broadcast-dst-mac', 'broadcast-dst-mac', 'broadcast-dst-mac']);
  t.true(result.findings.every(f => f.subjects === undefined));
});

// ------------------------------------------------------------------ what an OK rests on

const coverageCases: Array<{
  name: string;
  frames: () => Buffer[];
  opts?: Parameters<typeof runFrames>[1];
  compared: string[];
  notCompared: string[];
}> = [
  {
    name: 'a plain sender, nothing else known',
    frames: () => [plain('a')],
    compared: [],
    notCompared: [
      'destination MAC of 10.99.0.1 (no configuration, no frame from 10.99.0.1)',
      'loss on 1 plain sender (plain records carry no sequence number)',
      'the configuration (no --config or --netconsole)',
      'firewall DROP and delivery to the log file: a capture cannot show them (netdiag verify can)',
    ],
  },
  {
    name: "an extended sender and the receiver's ARP reply, with --port",
    frames: () => [ext(1), arpReply(SENDER.dstMac, SENDER.dstIp, SENDER.srcMac, SENDER.srcIp)],
    opts: { ports: [514] },
    compared: [
      'destination MAC of 10.99.0.1 (against the frames it sends in this capture)',
      'sequence numbers of 1 extended sender',
    ],
    notCompared: [
      'the configuration (no --config or --netconsole)',
      'netconsole on other ports (--port given)',
      'firewall DROP and delivery to the log file: a capture cannot show them (netdiag verify can)',
    ],
  },
  {
    name: 'a configured target with its MAC',
    frames: () => [ext(1)],
    opts: { targets: parseNetconsoleSpec('+6665@10.99.0.2/eth0,514@10.99.0.1/52:54:00:ab:cd:ef').targets },
    compared: [
      'destination MAC of 10.99.0.1 (against the configuration)',
      'sequence numbers of 1 extended sender',
      '1 configured target: addresses, ports, mode',
    ],
    notCompared: ['firewall DROP and delivery to the log file: a capture cannot show them (netdiag verify can)'],
  },
  {
    name: "sniff on the receiver's interface",
    frames: () => [plain('a')],
    opts: { local: LOCAL },
    compared: ["destination MAC of 10.99.0.1 (against eth0's own MAC)", 'addresses and MAC of eth0'],
    notCompared: [
      'loss on 1 plain sender (plain records carry no sequence number)',
      'the configuration (no --config or --netconsole)',
      'firewall DROP and delivery to the log file: a capture cannot show them (netdiag verify can)',
    ],
  },
];

for (const c of coverageCases) {
  test(`what was compared: ${c.name}`, t => {
    const { result } = runFrames(c.frames(), c.opts);
    t.deepEqual(result.coverage, { compared: c.compared, notCompared: c.notCompared });
  });
}

test('a cooked capture (sniff any, Linux SLL) has no destination MAC: not said to be compared', t => {
  // Seen on the lab: `sniff any --netconsole SPEC` said "compared: destination MAC of 10.99.0.1
  // (against the configuration)" although the frames carry no destination MAC.
  const ip = ipv4Packet(
    '10.99.0.2',
    '10.99.0.1',
    17,
    udpSegment(6665, 514, formatExtended({ facility: 0, level: 6, seq: 1, usec: 1, flags: '-' }, 'x\n')),
  );
  const sll = Buffer.alloc(16);
  sll.writeUInt16BE(0, 0); // to us
  sll.writeUInt16BE(1, 2); // ARPHRD_ETHER
  sll.writeUInt16BE(6, 4);
  Buffer.from([0x52, 0x54, 0, 0x12, 0x34, 0x56]).copy(sll, 6);
  sll.writeUInt16BE(0x0800, 14);
  const frame = Buffer.concat([sll, ip]);
  const p = createPipeline({
    targets: parseNetconsoleSpec('+6665@10.99.0.2/eth0,514@10.99.0.1/52:54:00:00:00:fe').targets,
  });
  p.packet(frame, 0, frame.length, frame.length, 1_700_000_000, 0, 113);
  const result = p.finish();
  t.deepEqual(codes(result), []);
  t.false(
    result.coverage!.compared.some(l => l.startsWith('destination MAC')),
    result.coverage!.compared.join('\n'),
  );
  t.true(
    result.coverage!.notCompared.includes(
      'destination MAC of 10.99.0.1 (the capture holds no destination MAC: a Linux cooked capture, as on "any", or raw IP; capture on the interface itself)',
    ),
  );
});

test("the ports looked at (pipeline and sniff filter alike): --port alone, else 514, 6666 and every target's", t => {
  const { targets } = parseNetconsoleSpec('6665@/eth0,514@10.99.0.1/;6665@/eth0,5514@10.99.0.1/');
  t.deepEqual(watchedPorts(undefined, targets), [514, 6666, 5514]);
  t.deepEqual(watchedPorts([7000], targets), [7000]);
  t.deepEqual(watchedPorts(undefined), [514, 6666]);
});
