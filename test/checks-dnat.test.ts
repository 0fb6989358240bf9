/**
 * The syslog receiver in a container: a DNAT of the log server's prerouting hook forwards the port
 * (Docker's published port). Rule sets walked on the lab (`lab/lab.sh up --container MODE`,
 * fixtures/checks/dnat/README.md says what rsyslog in the container wrote for each), judged as
 * the kernel routed the datagrams: through FORWARD, not INPUT.
 */
import test from 'ava';
import { judgeFirewall } from '../src/checks/firewall/judge.js';
import { acceptFix } from '../src/checks/firewall/fix.js';
import { parseNatTo, placeDestination } from '../src/checks/firewall/dnat.js';
import type { Datagram, HostNet, VerdictKind } from '../src/checks/firewall/model.js';
import { parseLinks } from '../src/checks/host/netinfo.js';
import { runReceiverChecks } from '../src/checks/receiver/run.js';
import type { ReceiverFacts } from '../src/checks/host/facts.js';
import { fx, f } from './helpers/host-facts.js';

const pkt: Datagram = {
  family: 4,
  srcIp: '10.99.0.2',
  dstIp: '10.99.0.1',
  srcPort: 6665,
  dstPort: 514,
  iface: 'ndt-dnat1',
};
/** `nft -j list ruleset`, as far as the tests below edit it. */
interface NftJson {
  nftables: Array<{ rule?: { chain: string; expr: unknown[] } }>;
}

const ADDR = fx('dnat/walked-ip-addr.json');
const net: HostNet = { links: parseLinks({ text: ADDR, format: 'json' }) };

// ---- the firewall's verdict: drops first ---------------------------------------------------------

const cases: Array<{
  name: string;
  iptables?: string;
  nft?: string;
  pkt?: Partial<Datagram>;
  net?: HostNet | null;
  verdict: VerdictKind;
  rule?: RegExp;
  /** The translated destination, `ip:port forwarded|local`; null: no DNAT. */
  dnat: string | null;
  path?: RegExp;
  fix?: string;
  reason?: RegExp;
}> = [
  {
    name: 'Docker 28, a DROP in DOCKER-USER: dropped there, the fix an accept in DOCKER-USER for the container',
    iptables: 'dnat/walked-docker28-user-drop.txt',
    verdict: 'dropped',
    rule: /^-A DOCKER-USER -p udp -m udp --dport 514 -j DROP$/,
    dnat: '172.17.0.2:514 forwarded docker0',
    path: /^filter FORWARD -> filter DOCKER-USER$/,
    fix: 'iptables -I DOCKER-USER -p udp -s 10.99.0.2 -d 172.17.0.2 --dport 514 -j ACCEPT',
  },
  {
    name: "Docker 28 without the port's ACCEPT: the DOCKER chain's DROP",
    iptables: 'dnat/walked-docker28-forward-drop.txt',
    nft: 'dnat/walked-docker28-published.nft.json',
    verdict: 'dropped',
    rule: /^-A DOCKER ! -i docker0 -o docker0 -j DROP$/,
    dnat: '172.17.0.2:514 forwarded docker0',
    path: /^filter FORWARD -> filter DOCKER-FORWARD -> filter DOCKER-BRIDGE -> filter DOCKER$/,
    fix: 'iptables -I DOCKER-USER -p udp -s 10.99.0.2 -d 172.17.0.2 --dport 514 -j ACCEPT',
  },
  {
    name: "nft's own dnat, the forward chain's policy drop",
    nft: 'dnat/walked-nft-forward-drop.json',
    verdict: 'dropped',
    rule: /^policy drop$/,
    dnat: '172.17.0.2:514 forwarded docker0',
    fix: 'nft insert rule ip dnatlab filter-forward ip saddr 10.99.0.2 ip daddr 172.17.0.2 udp dport 514 accept',
  },
  {
    name: 'receiving interface not known: the DNAT rule (! -i docker0) may or may not take it',
    iptables: 'dnat/walked-docker28-published.txt',
    pkt: { iface: undefined },
    verdict: 'uncertain',
    dnat: null,
    reason: /-i docker0 \(receiving interface not known\)/,
  },
  {
    name: "the host's addresses not known: -o docker0 cannot be told",
    iptables: 'dnat/walked-docker28-published.txt',
    net: null,
    verdict: 'uncertain',
    dnat: '172.17.0.2:514 forwarded',
    reason: /-o docker0 \(the interface towards the DNAT's destination not known\)/,
  },
  {
    name: 'Docker 28, published: accepted by the port rule in DOCKER (FORWARD, not INPUT)',
    iptables: 'dnat/walked-docker28-published.txt',
    nft: 'dnat/walked-docker28-published.nft.json',
    verdict: 'accepted',
    rule: /^-A DOCKER -d 172\.17\.0\.2\/32 ! -i docker0 -o docker0 -p udp -m udp --dport 514 -j ACCEPT$/,
    dnat: '172.17.0.2:514 forwarded docker0',
  },
  {
    name: 'Docker 28, DNAT to a port the daemon does not listen on: the firewall accepts (the container answers)',
    iptables: 'dnat/walked-docker28-wrong-port.txt',
    verdict: 'accepted',
    rule: /--dport 5140 -j ACCEPT$/,
    dnat: '172.17.0.2:5140 forwarded docker0',
  },
  {
    name: 'Docker 28, not published: no DNAT, filter INPUT accepts (this host answers port unreachable)',
    iptables: 'dnat/walked-docker28-unpublished.txt',
    verdict: 'accepted',
    rule: /^:INPUT ACCEPT \(policy\)$/,
    dnat: null,
  },
  {
    name: "nft's own dnat (fib daddr type local, jump, dnat to), the forward chain accepts",
    nft: 'dnat/walked-nft-published.json',
    verdict: 'accepted',
    rule: /oifname docker0 ip daddr 172\.17\.0\.2 udp dport 514 counter packets \d+ bytes \d+ accept/,
    dnat: '172.17.0.2:514 forwarded docker0',
  },
  {
    name: 'raw NOTRACK before a nat REDIRECT: an untracked datagram is never NATed (hand-written)',
    iptables: 'iptables/raw-notrack-nat-redirect.txt',
    pkt: { iface: 'eth0' },
    verdict: 'accepted',
    dnat: null,
  },
  // Rule sets the DNAT walk was not written against (saved from a namespace by the review, 2026-12-04).
  {
    name: "firewalld's INPUT shape (--ctstate RELATED,ESTABLISHED,DNAT accepted, then REJECT), a port-only DNAT to :5140: the ctstate rule accepts",
    iptables: 'dnat/review-ctstate-dnat-local.txt',
    verdict: 'accepted',
    rule: /^-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT$/,
    dnat: 'this host:5140 local',
    path: /^nat PREROUTING -> filter INPUT$/,
  },
  {
    name: 'nft redirect to :5140, then ct status dnat accept before the reject (firewalld nft shape): accepted',
    nft: 'dnat/review-nft-redirect-ct-status.json',
    verdict: 'accepted',
    rule: /^ct status dnat accept$/,
    dnat: 'this host:5140 local',
  },
  {
    name: 'nft dnat ip to a container, then ct status dnat accept in forward before the reject: accepted',
    nft: 'dnat/review-nft-dnat-ct-status-forward.json',
    verdict: 'accepted',
    rule: /^ct status dnat accept$/,
    dnat: '172.17.0.2:514 forwarded docker0',
  },
  {
    name: "netconsole's broadcast MAC: fib daddr type is the IP address's (local), not the frame's: the dnat takes it",
    nft: 'dnat/review-nft-fib-daddr.json',
    pkt: { pktType: 'broadcast' },
    verdict: 'accepted',
    rule: /^ip daddr 172\.17\.0\.2 udp dport 514 accept$/,
    dnat: '172.17.0.2:514 forwarded docker0',
  },
  {
    name: 'nft dnat to :5140 (a port only, in an ip table): this host, the input chain on 5140',
    nft: 'dnat/review-nft-dnat-port-only.json',
    verdict: 'accepted',
    rule: /^udp dport 5140 accept$/,
    dnat: 'this host:5140 local',
  },
  {
    name: 'a nat REDIRECT to another port: this host, INPUT (hand-written)',
    iptables: 'iptables/raw-notrack-nat-redirect.txt',
    pkt: { iface: 'eth0' },
    verdict: 'accepted',
    dnat: 'this host:10514 local',
    path: /-> filter INPUT$/,
  },
];

for (const c of cases) {
  test(`firewall: ${c.name}`, t => {
    let ipt = c.iptables ? fx(c.iptables) : undefined;
    // The second REDIRECT case: the same save without its NOTRACK rule.
    if (ipt && c.dnat?.startsWith('this host')) ipt = ipt.replace(/^.*-j NOTRACK\n/m, '');
    const p: Datagram = { ...pkt, ...c.pkt };
    if (c.pkt && 'iface' in c.pkt && c.pkt.iface === undefined) delete p.iface;
    const { verdict: v } = judgeFirewall(
      { ...(ipt ? { iptables: ipt } : {}), ...(c.nft ? { nft: fx(c.nft) } : {}) },
      p,
      c.net === null ? undefined : (c.net ?? net),
    );
    t.truthy(v);
    t.is(v!.verdict, c.verdict, JSON.stringify(v));
    if (c.rule) t.regex(v!.rule ?? '', c.rule);
    const d = v!.dnat;
    t.is(
      d
        ? `${d.toIp ?? 'this host'}:${d.toPort} ${d.forwarded ? 'forwarded' : 'local'}${d.oface ? ` ${d.oface}` : ''}`
        : null,
      c.dnat,
    );
    if (d?.forwarded)
      t.false(
        v!.path.some(x => / INPUT$|\binput$/.test(x)),
        v!.path.join(', '),
      );
    if (c.path) t.regex((v!.via ?? v!.path).join(' -> '), c.path);
    if (c.fix) t.is(acceptFix(v!, { srcIp: '10.99.0.2', dstPort: 514, family: 4 }), c.fix);
    if (c.reason) t.regex(v!.reasons.join('\n'), c.reason);
  });
}

test('firewall: DNATs for another port, address or interface, in OUTPUT only, and a MASQUERADE take nothing: INPUT decides as before', t => {
  // The same save without its one DNAT that takes udp/514 to 10.99.0.1.
  const ipt = fx('dnat/review-ctstate-dnat-local.txt').replace(/^.*--to-destination :5140\n/m, '');
  const { verdict: v } = judgeFirewall({ iptables: ipt }, pkt, net);
  t.is(v!.verdict, 'rejected');
  t.is(v!.rule, '-A INPUT -j REJECT --reject-with icmp-host-prohibited');
  t.is(v!.dnat, undefined);
});

test("firewall: the host's addresses not known, a DNAT to the datagram's own address (another port) stays on INPUT", t => {
  const ipt = fx('dnat/review-ctstate-dnat-local.txt').replace(
    '--to-destination :5140',
    '--to-destination 10.99.0.1:5140',
  );
  const { verdict: v } = judgeFirewall({ iptables: ipt }, pkt, undefined);
  t.is(v!.verdict, 'accepted', JSON.stringify(v));
  t.like(v!.dnat, { toIp: '10.99.0.1', toPort: 5140, forwarded: false });
  t.deepEqual(placeDestination('127.0.0.1', undefined), { local: true });
});

test("firewall: an IPv6 datagram and an inet table's dnat ip to: the IPv4 translation does not take it", t => {
  // The same rule set without its meta nfproto ipv4: nft accepts `dnat ip to` in an inet table alone.
  const rs = JSON.parse(fx('dnat/review-nft-dnat-ct-status-forward.json')) as NftJson;
  for (const o of rs.nftables)
    if (o.rule) o.rule.expr = o.rule.expr.filter(e => !JSON.stringify(e).includes('nfproto'));
  const nft = JSON.stringify(rs);
  t.notRegex(nft, /nfproto/);
  const p6: Datagram = { family: 6, srcIp: 'fd00::2', dstIp: 'fd00::1', srcPort: 6665, dstPort: 514, iface: 'eth0' };
  const net6: HostNet = { links: [{ name: 'eth0', addrs: [{ family: 6, address: 'fd00::1', prefix: 64 }] }] };
  const { verdict: v } = judgeFirewall({ nft }, p6, net6);
  t.is(v!.verdict, 'accepted', JSON.stringify(v));
  t.is(v!.dnat, undefined);
});

test('firewall: a DNAT that may take the datagram (interface not known), then another that certainly does: uncertain, not the second', t => {
  // -i eth1 ... DNAT to 172.17.0.4:514 undecided, then the port-only DNAT for any interface.
  const ipt = fx('dnat/review-ctstate-dnat-local.txt').replace('-i ndt-dnat1 -p udp', '-p udp');
  const p: Datagram = { ...pkt };
  delete p.iface;
  const { verdict: v } = judgeFirewall({ iptables: ipt }, p, net);
  t.is(v!.verdict, 'uncertain', JSON.stringify(v));
  t.regex(v!.rule ?? '', /-i eth1 .* --to-destination 172\.17\.0\.4:514$/);
  t.regex(v!.reasons.join('\n'), /-i eth1 \(receiving interface not known\)/);
  t.is(v!.dnat, undefined);
});

test('firewall: a DNAT that may take the datagram, then a REJECT in INPUT: uncertain (the REJECT meets it only untranslated)', t => {
  const ipt = fx('dnat/review-ctstate-dnat-local.txt').replace(/^.*--to-destination :5140\n/m, '');
  const p: Datagram = { ...pkt };
  delete p.iface;
  const { verdict: v } = judgeFirewall({ iptables: ipt }, p, net);
  t.is(v!.verdict, 'uncertain', JSON.stringify(v));
  t.regex(
    v!.reasons.join('\n'),
    /^-A INPUT -j REJECT --reject-with icmp-host-prohibited: decides only if -A PREROUTING -i eth1 .* does not take the datagram$/m,
  );
  // nft alike: the redirect under an iifname not known, then the input chain's reject.
  const rs = JSON.parse(fx('dnat/review-nft-redirect-ct-status.json')) as NftJson;
  // Its redirect under iifname eth1, and without the ct status dnat accept.
  rs.nftables = rs.nftables.filter(o => !JSON.stringify(o.rule?.expr ?? []).includes('"status"'));
  for (const o of rs.nftables)
    if (o.rule?.chain === 'pre')
      o.rule.expr = [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'eth1' } }, ...o.rule.expr];
  const n = judgeFirewall({ nft: JSON.stringify(rs) }, p, net).verdict!;
  t.is(n.verdict, 'uncertain', JSON.stringify(n));
  t.regex(
    n.reasons.join('\n'),
    /reject with icmpx type admin-prohibited: decides only if meta iifname eth1 udp dport 514 redirect to :5140 does not take/,
  );
  // The interface known: the redirect does not take it, and the reject decides.
  t.is(judgeFirewall({ nft: JSON.stringify(rs) }, pkt, net).verdict!.verdict, 'rejected');
});

// ---- the receiver checks on the host of a published container ------------------------------------

const SNMP =
  'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\nUdp: 0 0 0 0 0 0 0 0 0\n';
/** The lab's log server with the container published: nothing of its own on 514, Debian's rsyslog without imudp. */
function host(rules: string, ss = ''): ReceiverFacts {
  return {
    // With a socket, ss alone lists it (as when /proc/net/udp could not be read).
    ...(ss
      ? {}
      : {
          udp: f(
            '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n',
            '/proc/net/udp',
          ),
        }),
    ss: f(`State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n${ss}`, 'ss -ulnp'),
    syslog: { rsyslog: [f(fx('rsyslog/debian12-stock.conf'), '/etc/rsyslog.conf')] },
    iptables: f(fx(rules), 'iptables-save -c'),
    rpFilter: { all: '0', 'ndt-dnat1': '0' },
    snmp: f(SNMP, '/proc/net/snmp'),
    ipAddr: { ...f(ADDR, 'ip -j addr show'), format: 'json' },
    notes: [],
  };
}
const ctx = { senderIp: '10.99.0.2', receiverIp: '10.99.0.1', port: 514 };
const byId = (r: ReturnType<typeof runReceiverChecks>, id: string) => r.checks.find(c => c.id === id)!;

test('receiver, published, ip_forward 0: the DNAT sends it elsewhere and the kernel drops it: ip-forward-off', t => {
  const facts = { ...host('dnat/walked-docker28-published.txt'), ipForward: f('0\n', '/proc/sys/net/ipv4/ip_forward') };
  const r = runReceiverChecks(facts, ctx);
  const fw = byId(r, 'receiver.firewall');
  t.is(fw.status, 'fail');
  const x = fw.findings.find(y => y.code === 'ip-forward-off')!;
  t.regex(x.summary, /to 172\.17\.0\.2:514, but this host does not forward \(net\.ipv4\.ip_forward = 0\)/);
  t.is(
    x.hint,
    'sysctl -w net.ipv4.ip_forward=1, and keep it: net.ipv4.ip_forward = 1 in /etc/sysctl.d/99-forward.conf',
  );
  // Forwarding on, or no DNAT: nothing said of it.
  const on = runReceiverChecks({ ...facts, ipForward: f('1\n', '/proc/sys/net/ipv4/ip_forward') }, ctx);
  t.is(byId(on, 'receiver.firewall').status, 'pass');
  const plain = runReceiverChecks(
    { ...facts, iptables: f(fx('dnat/walked-docker28-unpublished.txt'), 'iptables-save -c') },
    ctx,
  );
  t.false(plain.findings.some(y => y.code === 'ip-forward-off'));
});

test('receiver, not published: nothing listens (this host answers port unreachable): receiver-not-listening stays', t => {
  const r = runReceiverChecks(host('dnat/walked-docker28-unpublished.txt'), ctx);
  t.is(byId(r, 'receiver.listening').status, 'fail');
  t.true(byId(r, 'receiver.listening').findings.some(x => x.code === 'receiver-not-listening'));
});

test('receiver, not published, rsyslogd only in another network namespace (the container): the fix says to publish its port', t => {
  const facts = {
    ...host('dnat/walked-docker28-unpublished.txt'),
    processes: f('4026532900 bash\n4026533100 rsyslogd\n4026532900 netdiag\n', 'ps -e -o netns=,comm='),
    netns: f('net:[4026532900]\n', 'readlink /proc/self/ns/net'),
  };
  const r = runReceiverChecks(facts, ctx);
  const nl = byId(r, 'receiver.listening').findings.find(x => x.code === 'receiver-not-listening')!;
  t.regex(
    nl.evidence.join('\n'),
    /rsyslogd runs in another network namespace \(net:\[4026533100\]\), none in this one/,
  );
  t.regex(
    nl.hint ?? '',
    /^If the syslog daemon that should receive runs in a container, publish its port \(no DNAT forwards udp\/514 here\): docker run -p 514:514\/udp/,
  );
  // The same host with rsyslogd in its own namespace: the fix stays this host's daemon's.
  const own = runReceiverChecks({ ...facts, processes: f('4026532900 rsyslogd\n', 'ps -e -o netns=,comm=') }, ctx);
  t.notRegex(byId(own, 'receiver.listening').findings[0]!.hint ?? '', /container/);
});

test('receiver, published: no socket needed here, port-forwarded names the DNAT; the syslog daemon not judged; no log file here', t => {
  const r = runReceiverChecks(host('dnat/walked-docker28-published.txt'), ctx);
  const l = byId(r, 'receiver.listening');
  t.is(l.status, 'pass');
  t.is(l.detail, 'none needed here: udp/514 is forwarded to 172.17.0.2:514 by DNAT (iptables nat DOCKER)');
  const fw = l.findings.find(x => x.code === 'port-forwarded')!;
  t.is(fw.severity, 'info');
  t.regex(
    fw.evidence[0]!,
    /^iptables nat DOCKER \(line \d+\): -A DOCKER ! -i docker0 -p udp -m udp --dport 514 -j DNAT --to-destination 172\.17\.0\.2:514$/,
  );
  const s = byId(r, 'receiver.syslog');
  t.is(s.status, 'unknown');
  t.deepEqual(s.findings, []);
  t.is(byId(r, 'receiver.firewall').status, 'pass');
  t.deepEqual(r.logFiles, []);
  t.false(r.checks.some(c => c.findings.some(x => x.severity === 'error')));
});

test('receiver, published with a docker-proxy on the port: named as a port proxy, not judged as a syslog daemon', t => {
  const r = runReceiverChecks(
    host(
      'dnat/walked-docker28-published.txt',
      'UNCONN 0      0            0.0.0.0:514       0.0.0.0:*    users:(("docker-proxy",pid=4242,fd=5))\n',
    ),
    ctx,
  );
  const l = byId(r, 'receiver.listening');
  t.is(l.status, 'pass');
  t.regex(l.detail, /0\.0\.0\.0:514 \(docker-proxy\) here serves only this host's own connections$/);
  t.regex(l.findings[0]!.evidence.join('\n'), /docker-proxy \(a port proxy, not a syslog daemon\)/);
  t.is(byId(r, 'receiver.syslog').status, 'unknown');
});

// ---- the DNAT's destination, read -----------------------------------------------------------------

const natTo: Array<[string, ReturnType<typeof parseNatTo>]> = [
  ['', undefined],
  [':0', undefined],
  ['not-an-ip:514', undefined],
  ['172.17.0.2:514', { ip: '172.17.0.2', port: 514 }],
  ['172.17.0.2', { ip: '172.17.0.2' }],
  [':5140', { port: 5140 }],
  ['172.17.0.2-172.17.0.9:514-515', { ip: '172.17.0.2', port: 514 }],
  ['[fd00::2]:514', { ip: 'fd00::2', port: 514 }],
];
test('parseNatTo: --to-destination as iptables-save prints it', t => {
  for (const [s, want] of natTo) t.deepEqual(parseNatTo(s), want, s);
});

test("placeDestination: this host's address is local; another by the longest prefix that holds it", t => {
  t.deepEqual(placeDestination('10.99.0.1', net), { local: true });
  t.deepEqual(placeDestination('172.17.0.2', net), { local: false, oface: 'docker0' });
  t.deepEqual(placeDestination('192.0.2.9', net), { local: false });
  t.deepEqual(placeDestination('172.17.0.2', undefined), { local: false });
});
