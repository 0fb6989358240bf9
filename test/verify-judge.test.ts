/**
 * verify's judge, hop by hop: the first hop the datagram fails at is the root cause and every
 * later hop is "not reached"; a check the test's messages prove wrong is a warning; a PASS has no
 * FAIL line. The hosts' reports come from the real checks over fixture files (the healthy Debian 12
 * shapes of checks-sender and checks-receiver); what the capture saw is given per case.
 */
import test from 'ava';
import { runReceiverChecks } from '../src/checks/receiver/run.js';
import { runSenderChecks } from '../src/checks/sender/run.js';
import type { ReceiverFacts, SenderFacts } from '../src/checks/host/facts.js';
import { judgeVerify, type Arrival, type VerifyEvidence } from '../src/verify/judge.js';
import { sysrqLogged } from '../src/verify/hops/evidence.js';
import { checkLogFile, copiesOf, watchedLogFile } from '../src/verify/log-file.js';
import { formatVerifyText } from '../src/verify/report.js';
import { PLAIN } from '../src/report/style.js';
import { ArrivalTracker, parseTransmitErrors } from '../src/verify/trigger.js';
import { judgeSenderTargets } from '../src/verify/targets.js';
import type { NetconsoleTarget } from '../src/config/target.js';
import type { Finding } from '../src/findings/finding.js';
import { f, fx, healthySender } from './helpers/host-facts.js';

const RECV_MAC = '52:54:00:aa:00:01';
const MARKER = 'netdiag-verify-0123456789ab';

const snmp = (noPorts: number) =>
  f(
    `Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\nUdp: 120 ${noPorts} 0 30 0 0 0 0 0\n`,
    '/proc/net/snmp',
  );
const netstat = (rp: number) => f(`TcpExt: SyncookiesSent IPReversePathFilter\nTcpExt: 0 ${rp}\n`, '/proc/net/netstat');
const ADDR = JSON.stringify([
  {
    ifname: 'lo',
    flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
    addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }],
  },
  {
    ifname: 'eth0',
    flags: ['BROADCAST', 'UP', 'LOWER_UP'],
    address: RECV_MAC,
    addr_info: [{ family: 'inet', local: '10.99.0.1', prefixlen: 24 }],
  },
]);

function receiverFacts(over: Partial<ReceiverFacts> = {}): ReceiverFacts {
  return {
    udp: f(fx('generated/proc-net-udp-any.txt'), '/proc/net/udp'),
    udp6: f(fx('generated/proc-net-udp6-any.txt'), '/proc/net/udp6'),
    ss: f(fx('generated/ss-ulnp-any.txt').replace(/socat/g, 'rsyslogd'), 'ss -ulnp'),
    syslog: {
      rsyslog: [
        f('module(load="imudp")\ninput(type="imudp" port="514")\n*.info /var/log/syslog\n', '/etc/rsyslog.conf'),
      ],
    },
    nft: f(fx('generated/nft-policy-drop-sets-accept.json'), 'nft -j list ruleset'),
    rpFilter: { all: '0', eth0: '1' },
    snmp: snmp(0),
    netstat: netstat(0),
    ipAddr: { ...f(ADDR, 'ip -j addr show'), format: 'json' },
    routeGet: {
      ...f('10.99.0.2 dev eth0 src 10.99.0.1 uid 0\n    cache\n', 'ip route get 10.99.0.2'),
      ip: '10.99.0.2',
    },
    notes: [],
    ...over,
  };
}

const arrival = (over: Partial<Arrival> = {}): Arrival => ({
  afterMs: 80,
  packets: [3],
  dstMac: RECV_MAC,
  dstPort: 514,
  dstIp: '10.99.0.1',
  text: MARKER,
  ...over,
});
const wire = (findings: Finding[] = []) => ({ packets: 4, datagrams: 2, messages: 2, senders: [], findings });
/** An ICMP answer as the pipeline reports it (`firewall-reject` is the prohibited codes' finding). */
const icmp = (code: string): Finding => ({
  code: code as Finding['code'],
  severity: 'error',
  summary: 'ICMP answer',
  evidence: ['ICMP from 10.99.0.1: packets #4'],
  hint: '',
});

/** The healthy sender with its netconsole device (eth0) administratively down. */
function linkDown(): SenderFacts {
  const s = healthySender();
  const links = (JSON.parse(s.ipLink!.text) as Array<{ ifname: string; flags: string[] }>).map(l =>
    l.ifname === 'eth0' ? { ...l, flags: l.flags.filter(x => x !== 'UP' && x !== 'LOWER_UP') } : l,
  );
  return { ...s, ipLink: { ...s.ipLink!, text: JSON.stringify(links) } };
}

interface Case {
  name: string;
  sender?: SenderFacts;
  before?: Partial<ReceiverFacts>;
  after?: Partial<ReceiverFacts>;
  arrive?: Partial<Arrival> | null;
  sysrqOnly?: boolean;
  inLog?: boolean;
  wire?: Finding[];
  root?: Finding['code'];
  summary?: RegExp;
  /** Hops after the root cause, all not reached. */
  skipped?: string[];
  hint?: RegExp;
}

function evidence(c: Case): VerifyEvidence {
  const ctx = { port: 514, senderIp: '10.99.0.2', receiverIp: '10.99.0.1', iface: 'eth0' };
  const a = c.arrive === null ? undefined : arrival(c.arrive ?? {});
  return {
    sender: runSenderChecks(c.sender ?? healthySender(), {
      receiverIp: '10.99.0.1',
      port: 514,
      receiverMacs: [RECV_MAC],
    }),
    receiverBefore: runReceiverChecks(receiverFacts(c.before), ctx),
    receiverAfter: runReceiverChecks(receiverFacts(c.after ?? c.before), ctx),
    receiverMacs: [RECV_MAC],
    receiverAddrs: ['127.0.0.1', '10.99.0.1'],
    iface: 'eth0',
    port: 514,
    senderIp: '10.99.0.2',
    marker: MARKER,
    ...(a && !c.sysrqOnly ? { markerArrival: a } : {}),
    ...(a ? { sysrqArrival: { ...a, text: 'sysrq: Show Regs' } } : {}),
    messagesFromSender: a ? 2 : 0,
    wire: wire(c.wire),
    logFile: { path: '/var/log/syslog', readable: true, markerFound: !!c.inLog && !c.sysrqOnly, sysrqFound: !!c.inLog },
    timeoutSec: 8,
  };
}

const RECEIVER_HOPS = [
  'verify.mac',
  'verify.dst-ip',
  'verify.port',
  'verify.rp-filter',
  'verify.firewall',
  'verify.socket',
  'verify.daemon',
  'verify.log',
];
const after = (id: string) => RECEIVER_HOPS.slice(RECEIVER_HOPS.indexOf(id) + 1);

// Failures first.
const cases: Case[] = [
  {
    name: "nothing arrives, the sender's device is down: that is the root cause, the wire is not reached",
    sender: linkDown(),
    arrive: null,
    root: 'sender-device-down',
    skipped: ['verify.wire', ...RECEIVER_HOPS.slice(0, -1)],
  },
  {
    name: 'nothing arrives, nothing on the sender explains it',
    arrive: null,
    root: 'not-on-wire',
    skipped: RECEIVER_HOPS.slice(0, -1),
  },
  {
    name: 'frames to another MAC',
    arrive: { dstMac: '52:54:00:de:ad:00' },
    root: 'dst-mac-mismatch',
    skipped: after('verify.mac'),
  },
  {
    name: 'frames to another host (its MAC and IP): the fix points the target at this host, not the MAC alone',
    arrive: { dstMac: '52:54:00:de:ad:50', dstIp: '10.99.0.50' },
    root: 'dst-mac-mismatch',
    summary: /addressed to another host, 10\.99\.0\.50 at 52:54:00:de:ad:50/,
    skipped: after('verify.mac'),
    hint: /remote IP 10\.99\.0\.1 and remote MAC 52:54:00:aa:00:01 .*If 10\.99\.0\.50 is the log server meant/,
  },
  {
    name: 'right MAC, another destination IP: dropped before any socket',
    arrive: { dstIp: '10.99.0.77' },
    root: 'dst-ip-mismatch',
    skipped: after('verify.dst-ip'),
    hint: /target IP to 10\.99\.0\.1/,
  },
  {
    name: 'sent to 6666 while this host receives on 514: both fixes',
    arrive: { dstPort: 6666 },
    root: 'dst-port-mismatch',
    skipped: after('verify.port'),
    hint: /Either on the sender: send to 514.*or on this host: .*port="6666"/,
  },
  {
    name: 'the reverse-path filter dropped packets during the test',
    before: { netstat: netstat(5) },
    after: { netstat: netstat(9) },
    root: 'rp-filter-drop',
    skipped: after('verify.rp-filter'),
  },
  {
    name: 'strict rp_filter with the route back elsewhere',
    after: {
      routeGet: {
        ...f('10.99.0.2 via 10.98.0.254 dev eth1 src 10.98.0.1 uid 0\n', 'ip route get 10.99.0.2'),
        ip: '10.99.0.2',
      },
    },
    root: 'rp-filter-drop',
    skipped: after('verify.rp-filter'),
  },
  {
    name: 'iptables REJECT answers ICMP port unreachable: the firewall, not "nothing listens"',
    after: {
      nft: undefined,
      iptables: f(
        '*filter\n:INPUT ACCEPT [0:0]\n[2:120] -A INPUT -p udp --dport 514 -j REJECT\nCOMMIT\n',
        'iptables-save -c',
      ),
    },
    wire: [icmp('port-unreachable')],
    root: 'firewall-reject',
    summary:
      /^iptables rejects the datagrams with ICMP port unreachable \(type 3 code 3\): -A INPUT -p udp --dport 514 -j REJECT$/,
    skipped: after('verify.firewall'),
    hint: /iptables -I INPUT -p udp -s 10\.99\.0\.2 --dport 514 -j ACCEPT/,
  },
  {
    name: 'iptables DROP: firewall-drop, with the counter',
    after: {
      nft: undefined,
      iptables: f(
        '*filter\n:INPUT ACCEPT [0:0]\n[2:120] -A INPUT -p udp --dport 514 -j DROP\nCOMMIT\n',
        'iptables-save -c',
      ),
    },
    root: 'firewall-drop',
    summary: /^iptables drops the datagrams: -A INPUT -p udp --dport 514 -j DROP$/,
    skipped: after('verify.firewall'),
  },
  {
    name: 'nft reject with icmpx admin-prohibited: firewall-reject with its code',
    after: { nft: f(fx('generated/nft-reject-admin-prohibited.json'), 'nft -j list ruleset') },
    wire: [icmp('firewall-reject')],
    root: 'firewall-reject',
    summary: /^nft rejects the datagrams with ICMP administratively prohibited \(type 3 code 13\)/,
    skipped: after('verify.firewall'),
    hint: /^nft insert rule inet filter input ip saddr 10\.99\.0\.2 udp dport 514 accept$/,
  },
  {
    name: 'a REJECT the rules do not show (ICMP admin prohibited)',
    wire: [icmp('firewall-reject')],
    root: 'firewall-reject',
    skipped: after('verify.firewall'),
  },
  {
    name: 'nothing listens: ICMP port unreachable and NoPorts rising',
    after: {
      udp: f(fx('generated/proc-net-udp-none.txt'), '/proc/net/udp'),
      udp6: undefined,
      ss: undefined,
      snmp: snmp(2),
    },
    wire: [icmp('port-unreachable')],
    root: 'receiver-not-listening',
    skipped: after('verify.socket'),
  },
  {
    name: 'rsyslog set up for 514 but stopped: start it, not "enable imudp"',
    after: {
      udp: f(fx('generated/proc-net-udp-none.txt'), '/proc/net/udp'),
      udp6: undefined,
      ss: undefined,
      processes: f('4026531840 systemd\n4026531840 sshd\n', 'ps -e -o netns=,comm='),
      netns: f('net:[4026531840]\n', 'readlink /proc/self/ns/net'),
    },
    wire: [icmp('port-unreachable')],
    root: 'syslog-not-running',
    skipped: after('verify.socket'),
    hint: /^systemctl start rsyslog \(then: systemctl status rsyslog, to see why it had stopped; rsyslogd -N1 checks its configuration\)$/,
  },
  {
    // Hand-made in ps's shape: the lab's rsyslogd after SIGTERM, a zombie until the container's init reaps it
    // (ps shows no namespace for it); another lab's rsyslogd runs in its own namespace.
    name: 'rsyslog just stopped, still a zombie in the process list: not running here',
    after: {
      udp: f(fx('generated/proc-net-udp-none.txt'), '/proc/net/udp'),
      udp6: undefined,
      ss: undefined,
      processes: f(
        '4026531840 process_api\n4026531840 sshd\n- rsyslogd\n4026532177 rsyslogd\n4026531840 bash\n',
        'ps -e -o netns=,comm=',
      ),
      netns: f('net:[4026532301]\n', 'readlink /proc/self/ns/net'),
    },
    wire: [icmp('port-unreachable')],
    root: 'syslog-not-running',
    skipped: after('verify.socket'),
  },
  {
    name: 'bound to 127.0.0.1 only: the bind fix',
    after: {
      udp: f(fx('generated/proc-net-udp-loopback.txt'), '/proc/net/udp'),
      udp6: undefined,
      ss: undefined,
      syslog: {
        rsyslog: [
          f(
            'module(load="imudp")\ninput(type="imudp" port="514" address="127.0.0.1")\n*.info /var/log/syslog\n',
            '/etc/rsyslog.conf',
          ),
        ],
      },
    },
    wire: [icmp('port-unreachable')],
    root: 'receiver-bound-elsewhere',
    skipped: after('verify.socket'),
    hint: /remove address="127\.0\.0\.1"/,
  },
  { name: 'through to the socket, not in the file', root: 'not-in-log', skipped: [] },
  { name: 'only the sysrq line arrives: the console log level', sysrqOnly: true, inLog: true, root: 'marker-filtered' },
];

for (const c of cases) {
  test(`judge: ${c.name}`, t => {
    const r = judgeVerify(evidence(c));
    t.false(r.ok);
    t.is(r.rootCause?.code, c.root, JSON.stringify(r.checks.map(x => [x.id, x.status, x.detail])));
    const fails = r.checks.filter(x => x.status === 'fail');
    t.is(fails.length, 1, `one failing hop: ${fails.map(x => x.id).join(', ')}`);
    for (const id of c.skipped ?? []) t.is(r.checks.find(x => x.id === id)?.status, 'skip', `${id} not reached`);
    if (c.hint) t.regex(r.rootCause!.hint, c.hint);
    if (c.summary) t.regex(r.rootCause!.summary, c.summary);
    if (c.root?.startsWith('firewall-'))
      t.notRegex(r.checks.find(x => x.id === 'verify.socket')?.detail ?? '', /nothing listens/, 'rsyslog listens');
    const log = r.checks.find(x => x.id === 'verify.log')!;
    if (c.sysrqOnly) t.regex(log.detail, /the sysrq line is in .* \(not the marker/);
    else t.not(log.status, 'pass', 'a FAIL has no [ok] in the syslog file');
  });
}

test('judge: healthy, the marker in the file: PASS, every hop ok, nothing fails', t => {
  const r = judgeVerify(evidence({ name: 'ok', inLog: true }));
  t.true(r.ok, JSON.stringify(r.rootCause));
  t.deepEqual(
    r.checks.filter(x => x.status === 'fail' || x.status === 'skip'),
    [],
  );
  t.deepEqual(
    r.checks.filter(x => x.id.startsWith('verify.')).map(x => x.id),
    ['verify.trigger', 'verify.wire', ...RECEIVER_HOPS, 'verify.counters'],
  );
});

test('judge: the marker reached the NIC, a syslog rule left it out of the file, the sysrq line is there: PASS, and the log hop says so', t => {
  // As on the lab: `if $msg contains "netdiag-" then stop` before the file rule.
  const e = { ...evidence({ name: 'filtered', inLog: true }) };
  e.logFile = { ...e.logFile!, markerFound: false, sysrqFound: true };
  const r = judgeVerify(e);
  t.true(r.ok, JSON.stringify(r.rootCause));
  const log = r.checks.find(x => x.id === 'verify.log')!;
  t.is(log.status, 'pass');
  t.notRegex(log.detail, /the marker is in|see "ordinary messages sent"/);
  t.regex(
    log.detail,
    /^the sysrq line is in \/var\/log\/syslog; the marker arrived too \(packets #3\) but is not there/,
  );
});

test('judge: a sender check the test contradicts is a warning on a PASS, never a FAIL line', t => {
  const stale = {
    ...healthySender(),
    neigh: f(`10.99.0.1 dev eth0 lladdr 52:54:00:bb:bb:bb REACHABLE\n`, 'ip neigh show'),
  };
  const r = judgeVerify(evidence({ name: 'stale', sender: stale, inLog: true }));
  t.true(r.ok);
  const mac = r.checks.find(x => x.id === 'sender.mac')!;
  t.is(mac.status, 'warn');
  t.regex(mac.detail, /but the test's messages arrived/);
  t.false(r.checks.some(x => x.status === 'fail'));
});

test('judge: counters since boot are compared as deltas', t => {
  const r = judgeVerify(
    evidence({ name: 'deltas', before: { snmp: snmp(500) }, after: { snmp: snmp(500) }, inLog: true }),
  );
  t.true(r.ok);
  const c = r.checks.find(x => x.id === 'verify.counters')!;
  t.is(c.detail, 'during the test: Udp NoPorts +0, InErrors +0, RcvbufErrors +0');
  t.false(r.checks.some(x => /since boot/.test(x.detail) || x.findings.some(y => /since boot/.test(y.summary))));
});

// A fleet run: many senders, one log file, one set of counters.

/** Real: the lab's rsyslog file during a fleet verify (10.99.0.2 on 6.1, 10.99.0.5 on 6.17). */
const FLEET_LOG = fx('logs/rsyslog-lab-fleet-6.1-6.17.log');

test("log file: a sysrq line is this sender's only with the kernel timestamp it had on the wire", t => {
  t.is(sysrqLogged(FLEET_LOG, { usec: 47_317_040 }, '10.99.0.2'), 1);
  t.is(sysrqLogged(FLEET_LOG, { usec: 95_638_008 }, '10.99.0.5'), 1);
  t.is(sysrqLogged(FLEET_LOG, { usec: 52_118_404 }, '10.99.0.4'), 0, "other senders' sysrq lines");
  t.is(sysrqLogged(FLEET_LOG, { usec: 41_250_093 }, '10.99.0.5'), 0, 'the stamp of a marker line, not of a sysrq line');
  t.is(sysrqLogged(FLEET_LOG, undefined, '10.99.0.2'), 0, 'no sysrq line on the wire: nothing to look for');
  // A datagram without a printk time: the sender's address, as a whole word (both of its tests' lines).
  t.is(sysrqLogged(FLEET_LOG, {}, '10.99.0.2'), 2);
  t.is(sysrqLogged(FLEET_LOG, {}, '10.99.0.4'), 0);
  t.is(sysrqLogged(FLEET_LOG, {}, '10.99.0.'), 0);
  // The extended header as rsyslog writes it (synthesised line): the microseconds field.
  const ext = '2026-12-02T16:10:00.1+00:00 10.99.0.3 6,378,14045975,-;sysrq: Show Regs\n';
  t.is(sysrqLogged(ext, { usec: 14_045_975 }, '10.99.0.3'), 1);
  t.is(sysrqLogged(ext, { usec: 1_404_597 }, '10.99.0.3'), 0);
});

test("judge, fleet: other senders' sysrq lines in the shared log file do not pass a sender a firewall drops", async t => {
  // The fleet e2e's guest3: its datagrams reach the wire and iptables drops them for its source,
  // while the other guests' markers and sysrq lines land in the file during its test.
  const rules = (n: number) => ({
    nft: undefined,
    iptables: f(
      `*filter\n:INPUT ACCEPT [0:0]\n[${n}:${n * 60}] -A INPUT -s 10.99.0.2/32 -p udp -m udp --dport 514 -j DROP\nCOMMIT\n`,
      'iptables-save -c',
    ),
  });
  const others = FLEET_LOG.split('\n')
    .filter(l => l.includes(' 10.99.0.5 '))
    .join('\n');
  const tracker = {
    arrived: true,
    markerArrival: arrival({ usec: 52_101_377 }),
    sysrqArrival: arrival({ text: 'sysrq: Show Regs', usec: 52_118_404 }),
    senderIp: '10.99.0.2',
  };
  const lc = await checkLogFile(
    { readFrom: () => Promise.resolve(others), sleep: () => Promise.resolve() },
    '/var/log/syslog',
    0,
    MARKER,
    tracker,
  );
  t.deepEqual(lc, {
    path: '/var/log/syslog',
    readable: true,
    markerFound: false,
    sysrqFound: false,
    markerLines: 0,
    sysrqLines: 0,
  });
  const r = judgeVerify({
    ...evidence({ name: 'guest3', before: rules(0), after: rules(2) }),
    logFile: lc,
    sharedCounters: true,
  });
  t.false(r.ok);
  t.is(r.rootCause?.code, 'firewall-drop', JSON.stringify(r.checks.map(x => [x.id, x.status, x.detail])));
  t.is(r.checks.find(x => x.id === 'verify.firewall')?.status, 'fail');
  for (const id of after('verify.firewall')) t.is(r.checks.find(x => x.id === id)?.status, 'skip', `${id} not reached`);
});

test('judge, fleet: a reverse-path-filter counter another sender moved does not accuse this one', t => {
  const rose = { name: 'rp', before: { netstat: netstat(5) }, after: { netstat: netstat(9) } };
  t.is(judgeVerify(evidence(rose)).rootCause?.code, 'rp-filter-drop', "alone, the rise is this sender's");
  const shared = judgeVerify({ ...evidence(rose), sharedCounters: true });
  t.is(shared.rootCause?.code, 'not-in-log');
  t.is(shared.checks.find(x => x.id === 'verify.rp-filter')?.status, 'pass');
  t.regex(shared.checks.find(x => x.id === 'verify.counters')!.detail, /^during the run \(every sender\)/);
  // Its own route back failing the strict filter, with the counter rising: still its root cause.
  const own = judgeVerify({
    ...evidence({
      ...rose,
      after: {
        netstat: netstat(9),
        routeGet: {
          ...f('10.99.0.2 via 10.98.0.254 dev eth1 src 10.98.0.1 uid 0\n', 'ip route get 10.99.0.2'),
          ip: '10.99.0.2',
        },
      },
    }),
    sharedCounters: true,
  });
  t.is(own.rootCause?.code, 'rp-filter-drop');
});

// The sender's own send errors (configfs transmit_errors, 6.13 and later).

test("trigger output: each configfs target's transmit_errors", t => {
  const out =
    'transmit_errors /sys/kernel/config/netconsole/target1/transmit_errors 0\n' +
    'transmit_errors /sys/kernel/config/netconsole/cmdline0/transmit_errors 17\n' +
    'something else 3\n';
  t.deepEqual(
    [...parseTransmitErrors(out)],
    [
      ['target1', 0],
      ['cmdline0', 17],
    ],
  );
  t.deepEqual([...parseTransmitErrors('')], []);
});

test('judge: transmit_errors rising while nothing arrives is the root cause, the wire not reached', t => {
  const e = evidence({ name: 'lost', arrive: null });
  const r = judgeVerify({ ...e, transmitErrors: [{ name: 'target1', before: 4, after: 6 }] });
  t.false(r.ok);
  t.is(r.rootCause?.code, 'netconsole-transmit-errors', JSON.stringify(r.checks.map(x => [x.id, x.status])));
  t.is(r.rootCause?.severity, 'error');
  t.regex(r.rootCause!.evidence[0]!, /target1\/transmit_errors: 4 before the trigger, 6 after/);
  t.is(r.checks.find(x => x.id === 'verify.wire')?.status, 'skip');
});

test('judge: transmit_errors rising while the messages arrive is a warning; unchanged is a pass', t => {
  const some = judgeVerify({
    ...evidence({ name: 'some', inLog: true }),
    transmitErrors: [{ name: 'target1', before: 0, after: 1 }],
  });
  t.true(some.ok);
  const c = some.checks.find(x => x.id === 'verify.transmit')!;
  t.is(c.status, 'warn');
  t.is(c.findings[0]?.severity, 'warning');
  const none = judgeVerify({
    ...evidence({ name: 'none', inLog: true }),
    transmitErrors: [{ name: 'target1', before: 3, after: 3 }],
  });
  t.true(none.ok);
  t.is(none.checks.find(x => x.id === 'verify.transmit')?.detail, 'transmit_errors target1 3, none during the test');
  // A kernel without the counter: no hop at all.
  t.falsy(judgeVerify(evidence({ name: 'old', inLog: true })).checks.find(x => x.id === 'verify.transmit'));
});

// The log file holds the marker, but not necessarily this target's copy: the sender's other
// target on this host, or its syslog daemon forwarding the kernel log, may have put it there.

const dropped = (n: number) => ({
  nft: undefined,
  iptables: f(
    `*filter\n:INPUT ACCEPT [0:0]\n[${n}:${n * 60}] -A INPUT -p udp -m udp --dport 514 -j DROP\nCOMMIT\n`,
    'iptables-save -c',
  ),
});

test("judge: the marker in the file came by the sender's other target: this one's DROP is the root cause", t => {
  const base = evidence({ name: 'two targets', before: dropped(0), after: dropped(2), inLog: true });
  const one = { ...base.logFile!, markerLines: 1, sysrqLines: 1 };
  const r = judgeVerify({
    ...base,
    logFile: one,
    copies: { syslog: { marker: 0, sysrq: 0 }, targets: { marker: 1, sysrq: 1 } },
  });
  t.false(r.ok);
  t.is(r.rootCause?.code, 'firewall-drop');
  t.is(r.checks.find(c => c.id === 'verify.log')?.status, 'skip');
  // Both copies in the file: both got through, the rule read is contradicted.
  const both = judgeVerify({
    ...base,
    logFile: { ...one, markerLines: 2, sysrqLines: 2 },
    copies: { syslog: { marker: 0, sysrq: 0 }, targets: { marker: 1, sysrq: 1 } },
  });
  t.true(both.ok, JSON.stringify(both.rootCause));
  t.is(both.checks.find(c => c.id === 'verify.firewall')?.status, 'warn');
  // One target, one copy: as before, the file proves the path.
  t.true(judgeVerify({ ...base, logFile: one }).ok);
});

test('judge: two targets, both copies arrived, the file holds one: not a PASS (walked on the lab)', t => {
  // Target 2's port was bound to a ruleset whose stop netdiag cannot judge ($hostname startswith):
  // the file held target 1's marker and sysrq line once each, and verify said both targets work.
  const base = evidence({ name: 'two targets, one written', inLog: true });
  const r = judgeVerify({
    ...base,
    logFile: { ...base.logFile!, markerLines: 1, sysrqLines: 1 },
    copies: { syslog: { marker: 0, sysrq: 0 }, targets: { marker: 1, sysrq: 1 } },
  });
  t.false(r.ok);
  t.is(r.rootCause?.code, 'not-in-log');
  t.regex(
    r.rootCause!.summary,
    /holds the marker once, but 2 copies arrived .*1 not written, and the file cannot say whose/,
  );
  t.is(r.checks.filter(c => c.status === 'fail').length, 1);
  // Both written: a PASS, as before.
  t.true(
    judgeVerify({
      ...base,
      logFile: { ...base.logFile!, markerLines: 2, sysrqLines: 2 },
      copies: { syslog: { marker: 0, sysrq: 0 }, targets: { marker: 1, sysrq: 1 } },
    }).ok,
  );
});

test("judge: the marker in the file is the sender's syslog daemon's copy: netconsole's own was filtered", t => {
  const base = evidence({ name: 'forwarded', sysrqOnly: true, inLog: true });
  const r = judgeVerify({
    ...base,
    logFile: { ...base.logFile!, markerFound: true, markerLines: 1, sysrqLines: 2 },
    copies: { syslog: { marker: 1, sysrq: 1 }, targets: { marker: 0, sysrq: 0 } },
  });
  t.false(r.ok);
  t.is(r.rootCause?.code, 'marker-filtered');
  t.regex(
    r.checks.find(c => c.id === 'verify.log')!.detail,
    /the sysrq line is in .*the sender's syslog daemon's copy/,
  );
  // Nothing of netconsole on the wire, only the syslog copy: not on the wire, and the evidence says why.
  const none = judgeVerify({
    ...evidence({ name: 'forwarded only', arrive: null }),
    copies: { syslog: { marker: 1, sysrq: 0 }, targets: { marker: 0, sysrq: 0 } },
  });
  t.is(none.rootCause?.code, 'not-on-wire');
  t.true(none.rootCause!.evidence.some(e => /the marker came once as syslog from 10\.99\.0\.2/.test(e)));
});

test("tracker: a syslog copy of the marker is not netconsole's arrival; another target's datagrams are its own", t => {
  let now = 0;
  const tr = new ArrivalTracker('10.99.0.2', MARKER, () => now, undefined, ['10.99.0.1|5514']);
  tr.triggeredAt = 0;
  now = 5;
  const msg = (text: string, over: Record<string, unknown> = {}) =>
    ({ srcIp: '10.99.0.2', dstIp: '10.99.0.1', dstPort: 514, mode: 'plain', text, packets: [1], ...over }) as never;
  tr.message(msg(`<6>Dec  3 10:00:00 guest kernel: ${MARKER}`, { mode: 'syslog' }));
  t.falsy(tr.markerArrival);
  t.deepEqual(tr.syslogCopies, { marker: 1, sysrq: 0 });
  tr.message(msg(MARKER, { dstPort: 5514 }));
  t.falsy(tr.markerArrival, "the other target's copy");
  t.is(tr.others.get('10.99.0.1|5514')?.markerArrival?.dstPort, 5514);
  tr.message(msg(MARKER));
  t.is(tr.markerArrival?.dstPort, 514);
  // A port no target of the sender has: still this target's (a wrong port is its hop to judge).
  tr.message(msg('sysrq: Show Regs', { dstPort: 6666 }));
  t.is(tr.sysrqArrival?.dstPort, 6666);
  t.is(tr.messages, 2);
});

test('judge: the marker in the file, the sysrq line after it not, though both reached the NIC: a cut burst fails', t => {
  const base0 = evidence({ name: 'rate limit', inLog: true });
  const base = { ...base0, sysrqArrival: { ...base0.sysrqArrival!, usec: 45_287_505 } };
  const r = judgeVerify({ ...base, logFile: { ...base.logFile!, sysrqFound: false, markerLines: 1, sysrqLines: 0 } });
  t.false(r.ok);
  t.is(r.rootCause?.code, 'not-in-log');
  t.regex(r.rootCause!.summary, /the marker reached \/var\/log\/syslog but the sysrq line after it did not/);
  t.regex(r.rootCause!.evidence[0]!, /the sysrq line reached eth0 80 ms after the trigger \(packets #3\)/);
  // The firewall accepts and no buffer overflowed (lab: `:msg, contains, "sysrq" stop`): the daemon left
  // it out; the firewall's rate limits and receive buffers are not the cause named.
  t.regex(
    r.rootCause!.summary,
    /the firewall accepted them with no receive buffer full: the syslog daemon left it out/,
  );
  t.notRegex(r.rootCause!.summary + r.rootCause!.hint, /rate limit|RcvBufSize/);
  t.regex(r.rootCause!.hint, /^Find the syslog rule that leaves out "sysrq: Show Regs"/);
  // Only the marker on the wire (no sysrq line came): nothing to miss, a PASS.
  const { sysrqArrival: _, ...noSysrq } = base;
  t.true(judgeVerify({ ...noSysrq, logFile: { ...base.logFile!, sysrqFound: false } }).ok);
  // A sysrq line without a kernel timestamp (printk.time=0): the file may name the sender by its
  // host name, so not finding it proves nothing: a PASS, as before.
  t.true(judgeVerify({ ...base0, logFile: { ...base0.logFile!, sysrqFound: false } }).ok);
});

test("judge: a cut burst with the firewall passing, no buffer full and imudp's RateLimit: the daemon's limit is named and fixed", t => {
  // Walked on the lab: input(... RateLimit.Interval="10" RateLimit.Burst="1"): the marker was
  // written, the sysrq line after it not, and the fix spoke of firewall limits and receive buffers.
  const conf =
    'module(load="imudp")\ninput(type="imudp" port="514" RateLimit.Interval="10" RateLimit.Burst="1")\n*.* /var/log/syslog\n';
  const base0 = evidence({
    name: 'imudp rate limit',
    inLog: true,
    before: { syslog: { rsyslog: [f(conf, '/etc/rsyslog.conf')] } },
  });
  const base = { ...base0, sysrqArrival: { ...base0.sysrqArrival!, usec: 45_287_505 } };
  const r = judgeVerify({ ...base, logFile: { ...base.logFile!, sysrqFound: false, markerLines: 1, sysrqLines: 0 } });
  t.false(r.ok);
  t.is(r.rootCause?.code, 'not-in-log');
  t.regex(r.rootCause!.summary, /the syslog daemon's UDP input has a rate limit/);
  t.true(
    r.rootCause!.evidence.some(x =>
      /rsyslog\.conf:2: .*RateLimit\.Burst="1".*\(drops past 1 messages in 10 s\)/.test(x),
    ),
  );
  t.regex(r.rootCause!.hint, /^In \/etc\/rsyslog\.conf:2, remove RateLimit\.Interval/);
  // check, alone, warns about it.
  const daemon = r.checks.find(x => x.id === 'verify.daemon')!;
  t.true(
    daemon.findings.some(
      x => x.code === 'syslog-config-warning' && /drops every message past 1 in 10 s/.test(x.summary),
    ),
  );
});

// ---- a templated log file (rsyslog dynaFile): one file per host --------------------------------

test('the watched log: a plain file first, else the template as a pattern with the sender address', t => {
  const logs = (...logFiles: string[]) => ({ logFiles });
  t.is(
    watchedLogFile({}, logs('/var/log/remote/%HOSTNAME%.log', '/var/log/netconsole.log'), '10.0.0.2'),
    '/var/log/netconsole.log',
  );
  t.is(
    watchedLogFile({}, logs('/var/log/remote/%FROMHOST-IP%/%$YEAR%-%$MONTH%.log'), '10.0.0.2'),
    '/var/log/remote/10.0.0.2/*-*.log',
  );
  t.is(watchedLogFile({}, logs('/var/log/%fromhost-ip%.log'), 'fd00::2'), '/var/log/fd00::2.log');
  t.is(watchedLogFile({}, logs('/var/log/%HOSTNAME%/kern.log'), '10.0.0.2'), '/var/log/*/kern.log');
  t.is(watchedLogFile({ logFile: '/x.log' }, logs('/var/log/%HOSTNAME%/kern.log'), '10.0.0.2'), '/x.log');
  t.is(watchedLogFile({}, logs('dynaFile RemoteLogs', '@@central'), '10.0.0.2'), undefined);
  // syslog-ng's macros (walked: /var/log/$HOST/messages was written as /var/log/10.99.0.2/messages).
  t.is(watchedLogFile({}, logs('/var/log/$HOST/messages'), '10.99.0.2'), '/var/log/*/messages');
  t.is(
    watchedLogFile({}, logs('/var/log/remote/${SOURCEIP}/${YEAR}.log'), '10.99.0.2'),
    '/var/log/remote/10.99.0.2/*.log',
  );
  t.is(watchedLogFile({}, logs('/var/log/remote/${HOST}.log', '/var/log/syslog'), '10.99.0.2'), '/var/log/syslog');
});

test('a templated log: the file with the marker among those matching, read from where each stood', async t => {
  const files: Record<string, string> = {
    '/var/log/remote/db1/2026-kern.log': `old line\n2026-12-03T10:00:00 db1 other\n`,
    '/var/log/remote/web2/2026-kern.log': `old\n2026-12-03T10:00:01 10.99.0.2 [   52.101377] ${MARKER}\n`,
  };
  const d = {
    readFrom: (p: string, off: number) => Promise.resolve(files[p]?.slice(off)),
    sleep: () => Promise.resolve(),
    listFiles: () => Promise.resolve(Object.keys(files)),
  };
  const tracker = { arrived: true, markerArrival: arrival({ usec: 52_101_377 }), senderIp: '10.99.0.2' };
  const start = new Map([
    ['/var/log/remote/db1/2026-kern.log', 9],
    ['/var/log/remote/web2/2026-kern.log', 4],
  ]);
  const lc = await checkLogFile(d, '/var/log/remote/*/*-kern.log', start, MARKER, tracker);
  t.like(lc, { path: '/var/log/remote/web2/2026-kern.log', readable: true, markerFound: true, markerLines: 1 });
  // The marker was there before the test (read from where the file stood): not found again.
  const late = await checkLogFile(
    d,
    '/var/log/remote/*/*-kern.log',
    new Map([['/var/log/remote/web2/2026-kern.log', 200]]),
    MARKER,
    tracker,
  );
  t.like(late, { path: '/var/log/remote/*/*-kern.log', markerFound: false });
  // No file matches: readable (nothing written), not found, named by its pattern.
  const none = await checkLogFile(
    { ...d, listFiles: () => Promise.resolve([]) },
    '/var/log/remote/*/*-kern.log',
    new Map(),
    MARKER,
    tracker,
  );
  t.like(none, { path: '/var/log/remote/*/*-kern.log', readable: true, markerFound: false });
  // Without a way to list files, a pattern cannot be read.
  const blind = await checkLogFile(
    { readFrom: d.readFrom, sleep: d.sleep },
    '/var/log/remote/*/*-kern.log',
    new Map(),
    MARKER,
    tracker,
  );
  t.false(blind.readable);
});

test('the PASS line says how far the test went: end to end, or up to the daemon when no log file was checked', t => {
  const outcome = (logFile: VerifyEvidence['logFile']) => {
    const e = { ...evidence({ name: 'ok', inLog: true }) };
    if (logFile) e.logFile = logFile;
    else delete e.logFile;
    return {
      report: judgeVerify(e),
      marker: MARKER,
      senderIp: '10.99.0.2',
      iface: 'eth0',
      port: 514,
      elapsedMs: 1200,
    };
  };
  const proven = outcome({ path: '/var/log/syslog', readable: true, markerFound: true, sysrqFound: true });
  t.true(proven.report.ok);
  t.regex(
    formatVerifyText(proven, 'root@db1', PLAIN),
    /\nPASS: netconsole from root@db1 works end to end; the message arrived/,
  );
  const unchecked = outcome(undefined);
  t.true(unchecked.report.ok);
  t.is(unchecked.report.checks.find(c => c.id === 'verify.log')?.status, 'unknown');
  t.regex(
    formatVerifyText(unchecked, 'root@db1', PLAIN),
    /\nPASS: netconsole from root@db1 reaches the syslog daemon on this host, but its log file was not checked \(no plain log file in the configuration: give --log-file\); the message arrived/,
  );
});

test('judge: console log level 1 (dmesg -n 1), only the sysrq line arrives: the sender check is not called contradicted', t => {
  // Walked on the lab: the sender section said "console log level 1 ... (but the test's messages
  // arrived)" as a warning, beside the root cause console-loglevel-low. The sysrq line raises the
  // level for itself; only the marker arriving would contradict the check.
  const quiet = { ...healthySender(), printk: f('1\t4\t1\t7\n', '/proc/sys/kernel/printk') };
  const r = judgeVerify(evidence({ name: 'quiet', sender: quiet, sysrqOnly: true, inLog: true }));
  t.false(r.ok);
  t.is(r.rootCause?.code, 'console-loglevel-low');
  const beside = r.checks.find(x => x.id === 'sender.loglevel')!;
  t.notRegex(beside.detail, /but the test/);
  t.is(beside.status, 'fail');
  // The marker arriving does contradict it.
  const r2 = judgeVerify(evidence({ name: 'quiet, marker came', sender: quiet, inLog: true }));
  t.regex(
    r2.checks.find(x => x.id === 'sender.loglevel')!.detail,
    /but the test passed|but the test's ordinary message arrived/,
  );
});

// ---- two targets on this host: whose rules write the file read ----------------------------------

test('two targets: a port whose ruleset writes another file is not judged by the file read, and the PASS says so', t => {
  // Walked on the lab (6.17 configfs, ports 514 and 5514; 5514 bound to a ruleset writing
  // second.log): target 2's log hop said "the marker is in syslog.log", target 1's copy.
  const target = (remotePort: number): NetconsoleTarget => ({
    source: 'configfs',
    extended: true,
    release: false,
    localPort: 6665,
    remotePort,
    remoteIp: '10.99.0.1',
    dev: 'eth0',
    explicit: [],
  });
  const conf = (second: string) =>
    [
      'module(load="imudp")',
      'input(type="imudp" port="514")',
      'input(type="imudp" port="5514" ruleset="second")',
      'ruleset(name="second") {',
      `  ${second}`,
      '}',
      '*.* action(type="omfile" file="/var/log/syslog")',
      '',
    ].join('\n');
  const run = (second: string, markerLines: number, iptables?: string) => {
    // rsyslogd on 0.0.0.0:514 and 0.0.0.0:5514 (0x158A).
    const udp = fx('generated/proc-net-udp-any.txt');
    const line = udp.split('\n')[1]!;
    const facts = receiverFacts({
      nft: undefined,
      udp: f(
        `${udp.trimEnd()}\n${line.replace(':0202 ', ':158A ').replace(/^(\s*)\d+:/, '$11555:')}\n`,
        '/proc/net/udp',
      ),
      udp6: undefined,
      ss: undefined,
      syslog: { rsyslog: [f(conf(second), '/etc/rsyslog.conf')] },
      ...(iptables ? { iptables: f(iptables, 'iptables-save -c') } : {}),
    });
    const tracker = new ArrivalTracker('10.99.0.2', MARKER, () => 0, undefined, ['10.99.0.1|5514']);
    tracker.markerArrival = arrival();
    tracker.sysrqArrival = { ...arrival(), text: 'sysrq: Show Regs' };
    tracker.others.set('10.99.0.1|5514', {
      markerArrival: arrival({ dstPort: 5514 }),
      sysrqArrival: { ...arrival({ dstPort: 5514 }), text: 'sysrq: Show Regs' },
    });
    const ctx = { port: 514, senderIp: '10.99.0.2', receiverIp: '10.99.0.1', iface: 'eth0' };
    const side = {
      report: runSenderChecks(healthySender(), { receiverIp: '10.99.0.1', port: 514, receiverMacs: [RECV_MAC] }),
      target: target(514),
      senderIp: '10.99.0.2',
      receiverIp: '10.99.0.1',
      port: 514,
      iface: 'eth0',
      receiverMacs: [RECV_MAC],
      receiverAddrs: ['127.0.0.1', '10.99.0.1'],
      receiverCtx: ctx,
      others: [target(5514)],
    };
    const r = judgeSenderTargets({
      side,
      tracker,
      before: facts,
      after: facts,
      wire: wire(),
      o: { timeoutSec: 8 },
      logCheck: {
        path: '/var/log/syslog',
        readable: true,
        markerFound: true,
        sysrqFound: true,
        markerLines,
        sysrqLines: markerLines,
      },
      transmitAfter: new Map(),
    });
    const text = formatVerifyText(
      {
        report: r.report,
        others: r.others,
        marker: MARKER,
        senderIp: '10.99.0.2',
        iface: 'eth0',
        port: 514,
        elapsedMs: 900,
      },
      'root@db1',
      PLAIN,
    );
    return { r, text, log2: r.others[0]!.report.checks.find(c => c.id === 'verify.log')! };
  };
  // 5514's ruleset writes second.log: the file read says nothing of it.
  const elsewhere = run('action(type="omfile" file="/var/log/second.log")', 1);
  t.true(elsewhere.r.report.ok, JSON.stringify(elsewhere.r.report.rootCause));
  t.is(elsewhere.log2.status, 'unknown');
  t.regex(
    elsewhere.log2.detail,
    /not checked: this port's rules write \/var\/log\/second\.log; the test read \/var\/log\/syslog/,
  );
  t.regex(
    elsewhere.text,
    /PASS: .* on its 2 targets on this host, but the log file of eth0 -> 10\.99\.0\.1:5514 was not checked;/,
  );
  // 5514's ruleset writes the same file, behind a stop netdiag cannot judge, and the file holds one copy.
  const same = run('if $hostname startswith "10.99." then stop\n  action(type="omfile" file="/var/log/syslog")', 1);
  t.false(same.r.report.ok);
  t.is(same.r.report.rootCause?.code, 'not-in-log');
  // Both written: PASS on both, both log hops proven.
  const both = run('if $hostname startswith "10.99." then stop\n  action(type="omfile" file="/var/log/syslog")', 2);
  t.true(both.r.report.ok);
  t.is(both.log2.status, 'pass');
  // The lab's verify e2e: a DROP for 514, both ports written to syslog. 514's copy reached the NIC
  // and the firewall dropped it: the one copy in the file is 5514's, whose path is proven.
  const dropped = run(
    'action(type="omfile" file="/var/log/syslog")',
    1,
    '*filter\n:INPUT ACCEPT [0:0]\n[2:120] -A INPUT -p udp -m udp --dport 514 -j DROP\nCOMMIT\n',
  );
  t.is(dropped.r.report.rootCause?.code, 'firewall-drop', JSON.stringify(dropped.r.report.rootCause));
  t.true(dropped.r.others[0]!.report.ok, JSON.stringify(dropped.r.others[0]!.report.rootCause));
  t.is(dropped.log2.status, 'pass');
});

test("the log's copies of the marker: one per line, N for rsyslog's 'message repeated N times' line", t => {
  const line = (host: string, msg: string) => `2026-12-03T17:20:01+00:00 ${host} ${msg}`;
  const marker = `[   52.101377] ${MARKER}`;
  // Three targets on this host, $RepeatedMsgReduction on: the first copy, then one line for the other two.
  const reduced = [
    line('10.99.0.2', marker),
    line('10.99.0.2', ` message repeated 2 times: [${marker}]`),
    line('10.99.0.2', '[   52.118404] sysrq: Show Regs'),
  ].join('\n');
  t.is(copiesOf(reduced, MARKER), 3);
  t.is(copiesOf([line('10.99.0.2', marker), line('10.99.0.2', marker)].join('\n'), MARKER), 2);
  // The words inside the message itself are not rsyslog's: a marker before them is one copy.
  t.is(copiesOf(line('10.99.0.2', `${MARKER} message repeated 9 times: [x]`), MARKER), 1);
  t.is(copiesOf(line('10.99.0.2', 'sysrq: Show Regs'), MARKER), 0);
});

test("the log's copies of the marker: the old 'last message repeated N times' line counts for the line before it", t => {
  const line = (host: string, msg: string) => `Dec  3 17:20:01 ${host} ${msg}`;
  const marker = `[   52.101377] ${MARKER}`;
  // sysklogd, or rsyslog v5 with $RepeatedMsgReduction on: the repeat line has no text; it follows the line it repeats.
  const reduced = [line('10.99.0.2', marker), line('10.99.0.2', 'last message repeated 2 times')].join('\n');
  t.is(copiesOf(reduced, MARKER), 3);
  // A flush on the timer and more copies: a second repeat line for the same line.
  t.is(copiesOf(`${reduced}\n${line('10.99.0.2', 'last message repeated 1 time')}`, MARKER), 4);
  // Repeating another line: not the marker's copies.
  const other = [
    line('10.99.0.2', marker),
    line('10.99.0.2', '[   52.118404] sysrq: Show Regs'),
    line('10.99.0.2', 'last message repeated 2 times'),
  ].join('\n');
  t.is(copiesOf(other, MARKER), 1);
  t.is(copiesOf(line('10.99.0.2', 'last message repeated 5 times'), MARKER), 0);
});

test('tracker: behind a NAT router, the datagram holding the marker names the translated source; only that source follows', t => {
  let now = 0;
  const tr = new ArrivalTracker('10.99.0.2', MARKER, () => now, '52:54:00:99:00:02');
  tr.triggeredAt = 0;
  now = 5;
  const nat = { srcIp: '10.99.1.254', srcPort: 6665, srcMac: '02:99:00:01:00:fe' };
  const msg = (text: string, over: Record<string, unknown> = {}) =>
    ({ ...nat, dstIp: '10.99.1.1', dstPort: 514, mode: 'plain', text, packets: [1], ...over }) as never;
  // Another host's sysrq line before the marker: not this sender's.
  tr.message(msg('sysrq: Show Regs', { srcIp: '10.99.1.7' }));
  t.false(tr.arrived);
  // A syslog copy of the marker from elsewhere does not name the source either.
  tr.message(msg(`<6>Dec  3 10:00:00 guest kernel: ${MARKER}`, { mode: 'syslog', srcPort: 514 }));
  t.is(tr.translated, undefined);
  tr.message(msg(MARKER));
  t.deepEqual(tr.translated, { ip: '10.99.1.254', port: 6665 });
  t.is(tr.markerArrival?.dstIp, '10.99.1.1');
  // The same router's address from another port (another host behind it): not this sender's.
  tr.message(msg('sysrq: Show Regs', { srcPort: 40000 }));
  t.falsy(tr.sysrqArrival);
  tr.message(msg('sysrq: Show Regs'));
  t.truthy(tr.sysrqArrival);
});

/** A sender behind a NAT router, judged as verify does: the marker arrived from the router's address. */
function natTest(iptables?: string, rsyslog?: string, rp?: { route?: string; dropped?: number; found?: boolean }) {
  const ctx = { port: 514, senderIp: '10.99.0.2', receiverIp: '10.99.0.1', iface: 'eth0' };
  const facts = receiverFacts({
    ...(iptables ? { nft: undefined, iptables: f(iptables, 'iptables-save -c') } : {}),
    ...(rsyslog ? { nft: undefined, syslog: { rsyslog: [f(rsyslog, '/etc/rsyslog.conf')] } } : {}),
    // Strict on the receiving interface; the facts' route back is the sender's own address's.
    ...(rp ? { rpFilter: { all: '1', eth0: '1' }, routeGet: undefined, netstat: netstat(5) } : {}),
  });
  const after = rp ? { ...facts, netstat: netstat(5 + (rp.dropped ?? 0)) } : facts;
  const translatedRoute = rp?.route ? { ...f(rp.route, 'ip route get 10.99.0.254'), ip: '10.99.0.254' } : undefined;
  const tracker = new ArrivalTracker('10.99.0.2', MARKER, () => 0);
  tracker.markerArrival = arrival();
  tracker.sysrqArrival = { ...arrival(), text: 'sysrq: Show Regs' };
  tracker.translated = { ip: '10.99.0.254', port: 6665 };
  const side = {
    report: runSenderChecks(healthySender(), { receiverIp: '10.99.0.1', port: 514, receiverMacs: [RECV_MAC] }),
    senderIp: '10.99.0.2',
    receiverIp: '10.99.0.1',
    port: 514,
    iface: 'eth0',
    receiverMacs: [RECV_MAC],
    receiverAddrs: ['127.0.0.1', '10.99.0.1'],
    receiverCtx: ctx,
    routeGet: { text: '10.99.0.2 dev eth0 src 10.99.0.1 uid 0\n', from: 'ip route get 10.99.0.2', ip: '10.99.0.2' },
  };
  const found = rp?.found ?? (!iptables && !rsyslog);
  return judgeSenderTargets({
    side,
    tracker,
    before: facts,
    after,
    ...(translatedRoute ? { translatedRoute } : {}),
    wire: wire(),
    o: { timeoutSec: 8 },
    logCheck: {
      path: '/var/log/syslog',
      readable: true,
      markerFound: found,
      sysrqFound: found,
      markerLines: found ? 1 : 0,
      sysrqLines: found ? 1 : 0,
    },
    transmitAfter: new Map(),
  }).report;
}

test('judge, NAT: healthy is a PASS, and the wire hop names the translated source', t => {
  const r = natTest();
  t.true(r.ok, JSON.stringify(r.rootCause));
  t.regex(
    r.checks.find(c => c.id === 'verify.wire')!.detail,
    /from 10\.99\.0\.254:6665, not 10\.99\.0\.2: a router on the way translates the source \(NAT\)/,
  );
});

test("judge, NAT: a firewall allowing only the sender's own address drops the translated one, and the fix names it", t => {
  // Walked on the lab: --router --router-nat --firewall iptables-allow-senders.
  const r = natTest(
    '*filter\n:INPUT ACCEPT [0:0]\n[0:0] -A INPUT -s 10.99.0.2/32 -p udp -m udp --dport 514 -j ACCEPT\n[2:120] -A INPUT -p udp -m udp --dport 514 -j DROP\nCOMMIT\n',
  );
  t.false(r.ok);
  t.is(r.rootCause?.code, 'firewall-drop');
  t.regex(r.rootCause!.summary, /^iptables drops the datagrams from 10\.99\.0\.254: /);
  t.regex(r.rootCause!.hint ?? '', /iptables -I INPUT -p udp -s 10\.99\.0\.254 --dport 514 -j ACCEPT/);
  t.true(r.rootCause!.evidence.some(x => /a rule for 10\.99\.0\.2 never matches them/.test(x)));
});

test("judge, NAT: $AllowedSender listing the sender's own address refuses the translated one", t => {
  const r = natTest(
    undefined,
    'module(load="imudp")\n$AllowedSender UDP, 10.99.0.2/32\ninput(type="imudp" port="514")\n*.* /var/log/syslog\n',
  );
  t.is(r.rootCause?.code, 'syslog-sender-refused', JSON.stringify(r.rootCause));
  t.regex(r.rootCause!.hint ?? '', /10\.99\.0\.2\/32, 10\.99\.0\.254\/32/);
});

test("judge, NAT, strict rp_filter: the route back judged is the translated address's, not the sender's own", t => {
  // Walked on the lab: --router --router-nat --router-rp-filter (6.17). The log server's route to
  // the sender's own 10.99.0.2 leaves by another interface; to the router's 10.99.1.254 by the
  // receiving one: rsyslog logged the marker. Before, the check said the route back was unknown.
  const ok = natTest(undefined, undefined, {
    route: '10.99.0.254 dev eth0 src 10.99.0.1 uid 0\n    cache\n',
    found: true,
  });
  t.true(ok.ok, JSON.stringify(ok.rootCause));
  const rp = ok.checks.find(c => c.id === 'verify.rp-filter')!;
  t.is(rp.status, 'pass');
  t.regex(rp.detail, /route back via eth0$/);
  // The router translating to an address this host routes elsewhere (walked: SNAT to 10.99.7.254):
  // dropped, and the finding names that address and the way its route leaves.
  const away = natTest(undefined, undefined, {
    route: '10.99.0.254 via 10.99.8.254 dev eth1 src 10.99.8.1 uid 0\n    cache\n',
    dropped: 2,
    found: false,
  });
  t.is(away.rootCause?.code, 'rp-filter-drop', JSON.stringify(away.checks.map(c => [c.id, c.status])));
  t.is(away.rootCause!.summary, 'strict rp_filter on eth0: the route back to 10.99.0.254 leaves via eth1');
  t.true(
    away.rootCause!.evidence.includes(
      'ip route get 10.99.0.254: 10.99.0.254 via 10.99.8.254 dev eth1 src 10.99.8.1 uid 0',
    ),
  );
  // Without the route (a fleet run does not collect it): not judged, as before.
  const unknown = natTest(undefined, undefined, { found: true });
  t.is(unknown.checks.find(c => c.id === 'verify.rp-filter')!.status, 'unknown');
});

test("judge, NAT: a $fromhost-ip rule for the sender's own address never meets it; syslog-filtered says so and names the router's", t => {
  // Walked on the lab: --router --router-nat, rsyslog with if $fromhost-ip == "10.99.0.2" then
  // { omfile; stop }: rsyslog wrote nothing (it saw 10.99.1.254). Before, the summary said they
  // arrive as user.notice and every rule selects something else, and the fix said to select by
  // source, not by kernel facility: the rule already did.
  const conf =
    'module(load="imudp")\ninput(type="imudp" port="514")\n' +
    'if $fromhost-ip == "10.99.0.2" then {\n  action(type="omfile" file="/var/log/netconsole.log")\n  stop\n}\n';
  const r = natTest(undefined, conf);
  t.is(r.rootCause?.code, 'syslog-filtered', JSON.stringify(r.rootCause));
  t.is(
    r.rootCause!.summary,
    "rsyslog receives on udp/514, but none of its rules writes netconsole's messages: they arrive from 10.99.0.254, not 10.99.0.2 (a router on the way translates the source: NAT), and the rules that would write them select 10.99.0.2",
  );
  t.is(
    r.rootCause!.hint,
    "Select them by the address rsyslog sees: 10.99.0.254 in place of 10.99.0.2 in the rule for /var/log/netconsole.log (/etc/rsyslog.conf:4; every sender that router translates arrives as 10.99.0.254), or keep the senders' own addresses: on the router, iptables -t nat -I POSTROUTING -d 10.99.0.1 -p udp --dport 514 -j RETURN; then restart rsyslog",
  );
  // A facility rule behind NAT: the wording as without NAT (the address is not what leaves them out).
  const kern = natTest(undefined, 'module(load="imudp")\ninput(type="imudp" port="514")\nkern.* /var/log/kern.log\n');
  t.is(kern.rootCause?.code, 'syslog-filtered');
  t.regex(kern.rootCause!.summary, /they arrive as user\.notice, and every rule selects something else$/);
  // The rule names an address that only starts like the sender's: not a rule for it.
  const other = natTest(undefined, conf.replace('10.99.0.2"', '10.99.0.21"'));
  t.regex(other.rootCause!.summary, /every rule selects something else$/);
});

test("judge: nothing arrives from a sender whose route and MAC point at a router: the router's hop, named", t => {
  // Walked on the lab: --router --router-forward reject (6.1); the router's FORWARD counter rose.
  const s = healthySender();
  const sender: SenderFacts = {
    ...s,
    routeGet: {
      ...f('10.99.0.1 via 10.99.0.254 dev eth0 src 10.99.0.2 uid 0\n', 'ip route get 10.99.0.1'),
      ip: '10.99.0.1',
    },
    neigh: f(`${s.neigh!.text.trimEnd()}\n10.99.0.254 dev eth0 lladdr ${RECV_MAC} REACHABLE\n`, 'ip neigh show'),
  };
  // The router's MAC is not this host's (the fixtures' spec has this host's MAC: it stands for the router's).
  const r = judgeVerify({
    ...evidence({ name: 'router drops', arrive: null }),
    sender: runSenderChecks(sender, { receiverIp: '10.99.0.1', port: 514, receiverMacs: ['52:54:00:aa:00:99'] }),
  });
  t.false(r.ok);
  t.is(r.rootCause?.code, 'lost-beyond-router', JSON.stringify(r.checks.map(c => [c.id, c.status, c.detail])));
  t.regex(r.rootCause!.summary, /sends them to its router 10\.99\.0\.254 .* not on this host/);
  t.regex(
    r.rootCause!.hint ?? '',
    /On the router 10\.99\.0\.254 .*iptables -I FORWARD -p udp -d 10\.99\.0\.1 --dport 514 -j ACCEPT/,
  );
  // On the sender's own link: the generic not-on-wire, as before.
  t.is(judgeVerify(evidence({ name: 'direct', arrive: null })).rootCause?.code, 'not-on-wire');
});
