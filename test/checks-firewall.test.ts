import test from 'ava';
import { parseIptablesSave, splitArgs } from '../src/checks/firewall/iptables/parse.js';
import { judgeIptables } from '../src/checks/firewall/iptables/judge.js';
import { parseNftJson } from '../src/checks/firewall/nft/parse.js';
import { judgeNft } from '../src/checks/firewall/nft/judge.js';
import type { Datagram, VerdictKind } from '../src/checks/firewall/model.js';
import { inNetwork } from '../src/checks/firewall/address.js';
import { rejectAnswer } from '../src/checks/firewall/reject.js';
import { fx } from './helpers/host-facts.js';

const pkt: Datagram = { family: 4, srcIp: '10.99.0.2', dstIp: '10.99.0.1', srcPort: 6665, dstPort: 514, iface: 'eth0' };

// ---- iptables-save: drops and rejects first ----------------------------------------------------

const iptCases: Array<{
  name: string;
  file: string;
  pkt?: Partial<Datagram>;
  verdict: VerdictKind;
  rule?: RegExp;
  counters?: [number, number];
  reason?: RegExp;
}> = [
  {
    name: 'user chain, RETURN, LOG with limit, DROP in LOGDROP (generated)',
    file: 'generated/iptables-userchain-drop.txt',
    verdict: 'dropped',
    rule: /^-A LOGDROP -j DROP$/,
    counters: [3, 138],
  },
  {
    name: 'multiport REJECT (generated)',
    file: 'generated/iptables-multiport-reject.txt',
    verdict: 'rejected',
    rule: /--dports 514,6666 -j REJECT/,
    counters: [3, 138],
  },
  {
    name: 'multiport REJECT on 6666 too',
    file: 'generated/iptables-multiport-reject.txt',
    pkt: { dstPort: 6666 },
    verdict: 'rejected',
  },
  {
    name: 'CentOS 5 RH-Firewall-1-INPUT rejects syslog',
    file: 'iptables/centos5-rh-firewall.txt',
    verdict: 'rejected',
    rule: /-j REJECT --reject-with icmp-host-prohibited/,
    counters: [184, 17352],
  },
  {
    name: 'recent match on a DROP rule: uncertain, quoted',
    file: 'generated/iptables-recent-uncertain.txt',
    verdict: 'uncertain',
    rule: /-m recent/,
    reason: /-m recent --rcheck/,
  },
  {
    name: 'user chain, sender not in SERVICES source: dropped even when interface unknown',
    file: 'generated/iptables-userchain-drop.txt',
    pkt: { iface: undefined },
    verdict: 'dropped',
    rule: /LOGDROP -j DROP/,
  },
  {
    name: 'sender unknown with a source-restricted accept then DROP: uncertain',
    file: 'generated/iptables-userchain-accept.txt',
    pkt: { srcIp: undefined },
    verdict: 'uncertain',
    reason: /source address not known/,
  },
  {
    name: 'ip6tables: sender outside the allowed prefix hits the DROP policy',
    file: 'iptables/ip6tables-drop.txt',
    pkt: { family: 6, srcIp: '2001:db8:2::5', dstIp: '2001:db8:9::1' },
    verdict: 'dropped',
    rule: /:INPUT DROP \(policy\)/,
    counters: [7, 560],
  },
  {
    name: "CentOS 7 firewalld (iptables backend): -g into the zone, back to INPUT's REJECT",
    file: 'iptables/centos7-firewalld.txt',
    verdict: 'rejected',
    rule: /^-A INPUT -j REJECT --reject-with icmp-host-prohibited$/,
    counters: [41, 3004],
  },
  {
    name: 'CentOS 7 firewalld, interface unknown: both zone paths reject',
    file: 'iptables/centos7-firewalld.txt',
    pkt: { iface: undefined },
    verdict: 'rejected',
  },
  {
    name: 'Ubuntu ufw: through before/after/user chains to the INPUT DROP policy',
    file: 'iptables/ubuntu-ufw.txt',
    verdict: 'dropped',
    rule: /^:INPUT DROP \(policy\)$/,
    counters: [212, 15808],
  },
  // accepted
  {
    name: 'Ubuntu ufw with ufw allow 514/udp',
    file: 'iptables/ubuntu-ufw-allow-514.txt',
    verdict: 'accepted',
    rule: /ufw-user-input -p udp -m udp --dport 514 -j ACCEPT/,
  },
  {
    name: 'CentOS 7 firewalld with the syslog service added',
    file: 'iptables/centos7-firewalld-syslog.txt',
    verdict: 'accepted',
    rule: /IN_public_allow -p udp -m udp --dport 514/,
  },
  {
    name: 'user chain with the sender network allowed (generated)',
    file: 'generated/iptables-userchain-accept.txt',
    verdict: 'accepted',
    rule: /-s 10.99.0.0\/24 -p udp -m udp --dport 514 -j ACCEPT/,
    counters: [3, 138],
  },
  {
    name: 'CentOS 5 with the syslog rule added',
    file: 'iptables/centos5-rh-firewall-fixed.txt',
    verdict: 'accepted',
    rule: /--dport 514 -j ACCEPT/,
  },
  {
    name: 'multiport REJECT does not touch another port',
    file: 'generated/iptables-multiport-reject.txt',
    pkt: { dstPort: 10514 },
    verdict: 'accepted',
  },
  {
    name: 'CentOS 5: loopback traffic accepted by -i lo',
    file: 'iptables/centos5-rh-firewall.txt',
    pkt: { iface: 'lo' },
    verdict: 'accepted',
    rule: /-i lo -j ACCEPT/,
  },
  {
    name: 'ip6tables: sender inside the allowed prefix',
    file: 'iptables/ip6tables-drop.txt',
    pkt: { family: 6, srcIp: '2001:db8:1::5', dstIp: '2001:db8:9::1' },
    verdict: 'accepted',
    rule: /2001:db8:1::\/48/,
  },
];

for (const c of iptCases) {
  test(`iptables: ${c.name}`, t => {
    const save = parseIptablesSave(fx(c.file));
    t.deepEqual(save.errors, []);
    const p = { ...pkt, ...c.pkt };
    for (const k of Object.keys(p) as Array<keyof Datagram>) if (p[k] === undefined) delete p[k];
    const v = judgeIptables(save, p);
    t.is(v.verdict, c.verdict, JSON.stringify(v));
    if (c.rule) t.regex(v.rule ?? '', c.rule);
    if (c.counters) t.deepEqual(v.counters, { packets: c.counters[0], bytes: c.counters[1] });
    if (c.reason)
      t.true(
        v.reasons.some(r => c.reason!.test(r)),
        v.reasons.join('\n'),
      );
    if (v.verdict !== 'accepted') t.truthy(v.line, 'the deciding rule has its line number');
  });
}

test('iptables: the deciding rule is named with its line in the save output', t => {
  const text = fx('generated/iptables-userchain-drop.txt');
  const v = judgeIptables(parseIptablesSave(text), pkt);
  t.is(text.split('\n')[v.line! - 1]!.replace(/^\[\d+:\d+\] /, ''), v.rule!);
  t.deepEqual(v.path, ['filter INPUT', 'filter SERVICES', 'filter LOGDROP']);
  // SERVICES was walked and returned from: not on the way to the DROP.
  t.deepEqual(v.via, ['filter INPUT', 'filter LOGDROP']);
});

test('iptables: via holds the open calls to the deciding rule, path every chain walked', t => {
  const save = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':LOGGING - [0:0]',
    ':ZONES - [0:0]',
    ':IN_public - [0:0]',
    ':IN_public_allow - [0:0]',
    '-A INPUT -j LOGGING',
    '-A INPUT -j ZONES',
    '-A LOGGING -p tcp -j LOG',
    '-A ZONES -i eth0 -g IN_public',
    '-A IN_public -j IN_public_allow',
    '-A IN_public -p udp -j REJECT --reject-with icmp-port-unreachable',
    '-A IN_public_allow -p tcp --dport 22 -j ACCEPT',
    'COMMIT',
    '',
  ].join('\n');
  const v = judgeIptables(parseIptablesSave(save), pkt);
  t.is(v.verdict, 'rejected');
  t.deepEqual(v.path, ['filter INPUT', 'filter LOGGING', 'filter ZONES', 'filter IN_public', 'filter IN_public_allow']);
  t.deepEqual(v.via, ['filter INPUT', 'filter ZONES', 'filter IN_public']);
  const policy = judgeIptables(
    parseIptablesSave(save.replace(':INPUT ACCEPT', ':INPUT DROP').replace(/^-A IN_public -p udp.*\n/m, '')),
    pkt,
  );
  t.is(policy.verdict, 'dropped');
  t.deepEqual(policy.via, ['filter INPUT']);
});

const ruleTable: Array<{
  name: string;
  rules: string[];
  policy?: string;
  pkt?: Partial<Datagram>;
  verdict: VerdictKind;
}> = [
  { name: 'negated source', rules: ['-A INPUT ! -s 10.99.0.0/24 -p udp --dport 514 -j DROP'], verdict: 'accepted' },
  {
    name: 'negated source, other network',
    rules: ['-A INPUT ! -s 10.98.0.0/16 -p udp --dport 514 -j DROP'],
    verdict: 'dropped',
  },
  { name: 'interface wildcard', rules: ['-A INPUT -i eth+ -p udp -j DROP'], verdict: 'dropped' },
  { name: 'interface wildcard, other', rules: ['-A INPUT -i ens+ -p udp -j DROP'], verdict: 'accepted' },
  { name: 'negated interface', rules: ['-A INPUT ! -i lo -p udp --dport 514 -j REJECT'], verdict: 'rejected' },
  { name: 'state NEW drop', rules: ['-A INPUT -m state --state NEW -p udp -j DROP'], verdict: 'dropped' },
  {
    name: 'ctstate ESTABLISHED only accept then policy drop',
    rules: ['-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT'],
    policy: 'DROP',
    verdict: 'dropped',
  },
  { name: 'negated ctstate', rules: ['-A INPUT -m conntrack ! --ctstate NEW -j DROP'], verdict: 'accepted' },
  { name: 'dport range', rules: ['-A INPUT -p udp --dport 500:600 -j DROP'], verdict: 'dropped' },
  { name: 'negated dport', rules: ['-A INPUT -p udp ! --dport 514 -j DROP'], verdict: 'accepted' },
  { name: 'tcp rule does not match udp', rules: ['-A INPUT -p tcp --dport 514 -j DROP'], verdict: 'accepted' },
  { name: 'protocol by number', rules: ['-A INPUT -p 17 --dport 514 -j DROP'], verdict: 'dropped' },
  {
    name: 'destination mask in dotted form (old iptables-save)',
    rules: ['-A INPUT -d 10.99.0.0/255.255.255.0 -p udp -j DROP'],
    verdict: 'dropped',
  },
  {
    name: 'goto returns to the caller of the caller',
    rules: [
      ':A - [0:0]',
      ':B - [0:0]',
      '-A INPUT -j A',
      '-A INPUT -j DROP',
      '-A A -g B',
      '-A A -j ACCEPT',
      '-A B -j RETURN',
    ],
    verdict: 'dropped',
  },
  {
    name: 'jump returns to the next rule',
    rules: [':A - [0:0]', '-A INPUT -j A', '-A INPUT -p udp -j DROP', '-A A -p tcp -j ACCEPT'],
    verdict: 'dropped',
  },
  {
    name: 'LOG with an unknown match does not decide',
    rules: [
      '-A INPUT -m hashlimit --hashlimit-above 5/sec --hashlimit-name x -j LOG',
      '-A INPUT -p udp --dport 514 -j ACCEPT',
    ],
    policy: 'DROP',
    verdict: 'accepted',
  },
  {
    name: 'unknown match on both branches to the same verdict',
    rules: ['-A INPUT -m owner --uid-owner 0 -j DROP', '-A INPUT -j DROP'],
    verdict: 'dropped',
  },
  { name: 'NFQUEUE is uncertain', rules: ['-A INPUT -p udp -j NFQUEUE --queue-num 1'], verdict: 'uncertain' },
  { name: 'iprange', rules: ['-A INPUT -m iprange --src-range 10.99.0.1-10.99.0.9 -j DROP'], verdict: 'dropped' },
  { name: 'addrtype dst LOCAL', rules: ['-A INPUT -m addrtype ! --dst-type LOCAL -j DROP'], verdict: 'accepted' },
  {
    name: 'comment with spaces is ignored',
    rules: ['-A INPUT -p udp -m comment --comment "netconsole from the lab" -m udp --dport 514 -j DROP'],
    verdict: 'dropped',
  },
  { name: 'fragment rule does not match', rules: ['-A INPUT -f -j DROP'], verdict: 'accepted' },
  {
    name: 'broadcast pkttype with a broadcast datagram',
    rules: ['-A INPUT -m pkttype --pkt-type broadcast -j DROP'],
    pkt: { pktType: 'broadcast' },
    verdict: 'dropped',
  },
];
for (const c of ruleTable) {
  test(`iptables rule: ${c.name}`, t => {
    const chains = c.rules.filter(r => r.startsWith(':'));
    const rules = c.rules.filter(r => !r.startsWith(':'));
    const text = ['*filter', `:INPUT ${c.policy ?? 'ACCEPT'} [0:0]`, ...chains, ...rules, 'COMMIT'].join('\n');
    const v = judgeIptables(parseIptablesSave(text), { ...pkt, ...c.pkt });
    t.is(v.verdict, c.verdict, JSON.stringify(v));
  });
}

test('iptables-save: a line outside a table is reported, not thrown', t => {
  const s = parseIptablesSave('-A INPUT -j DROP\n*filter\n:INPUT ACCEPT [0:0]\nwhat is this\nCOMMIT\n');
  t.is(s.errors.length, 2);
  t.regex(s.errors[0]!, /line 1: outside a table/);
  t.regex(s.errors[1]!, /line 4: not understood/);
});

test('splitArgs keeps quoted comments whole', t => {
  t.deepEqual(splitArgs('-m comment --comment "a \\"b\\" c" -j ACCEPT'), [
    '-m',
    'comment',
    '--comment',
    'a "b" c',
    '-j',
    'ACCEPT',
  ]);
});

// ---- nft -j ----------------------------------------------------------------------------------

const nftCases: Array<{
  name: string;
  file: string;
  pkt?: Partial<Datagram>;
  verdict: VerdictKind;
  rule?: RegExp;
  counters?: [number, number];
  skip?: string[];
}> = [
  {
    name: 'udp dport 514 counter drop (the lab fault, generated)',
    file: 'generated/nft-udp-drop.json',
    verdict: 'dropped',
    rule: /^udp dport 514 counter packets 3 bytes 138 drop$/,
    counters: [3, 138],
  },
  {
    name: 'policy drop, sender not in the named set (generated)',
    file: 'generated/nft-policy-drop-sets.json',
    verdict: 'dropped',
    rule: /policy drop/,
  },
  {
    name: 'iptables-nft tables with xt matches alone: uncertain, the xt rule quoted (generated)',
    file: 'generated/nft-from-iptables-nft-userchain-drop.json',
    verdict: 'uncertain',
    rule: /^xt match conntrack counter packets 0 bytes 0 accept$/,
  },
  {
    name: 'nft other port is accepted',
    file: 'generated/nft-udp-drop.json',
    pkt: { dstPort: 6666 },
    verdict: 'accepted',
  },
  {
    name: 'sender added to the named set (generated)',
    file: 'generated/nft-policy-drop-sets-accept.json',
    verdict: 'accepted',
    rule: /ip saddr @syslog_senders counter packets 3 bytes 138 accept/,
    counters: [3, 138],
  },
  {
    name: 'loopback accepted by iifname',
    file: 'generated/nft-policy-drop-sets.json',
    pkt: { iface: 'lo' },
    verdict: 'accepted',
    rule: /meta iifname lo accept/,
  },
  {
    name: 'interface unknown: the lo rule cannot match a remote datagram',
    file: 'generated/nft-policy-drop-sets.json',
    pkt: { iface: undefined },
    verdict: 'dropped',
    rule: /policy drop/,
  },
  {
    name: 'iptables-nft tables skipped when judged from iptables-save',
    file: 'generated/nft-from-iptables-nft-userchain-drop.json',
    skip: ['ip filter'],
    verdict: 'accepted',
  },
  {
    name: 'inet chains do not apply to the wrong address family by ip saddr',
    file: 'generated/nft-policy-drop-sets-accept.json',
    pkt: { family: 6, srcIp: '2001:db8::2', dstIp: '2001:db8::1' },
    verdict: 'dropped',
  },
];
for (const c of nftCases) {
  test(`nft: ${c.name}`, t => {
    const rs = parseNftJson(fx(c.file));
    t.deepEqual(rs.errors, []);
    const v = judgeNft(rs, { ...pkt, ...c.pkt }, c.skip ? { skipTables: c.skip } : {});
    t.is(v.verdict, c.verdict, JSON.stringify(v));
    if (c.rule) t.regex(v.rule ?? '', c.rule);
    if (c.counters) t.deepEqual(v.counters, { packets: c.counters[0], bytes: c.counters[1] });
  });
}

function ruleset(chainPolicy: string, rules: unknown[][], extra: unknown[] = []): string {
  return JSON.stringify({
    nftables: [
      { table: { family: 'inet', name: 't' } },
      {
        chain: { family: 'inet', table: 't', name: 'in', type: 'filter', hook: 'input', prio: 0, policy: chainPolicy },
      },
      ...extra,
      ...rules.map((expr, i) => ({ rule: { family: 'inet', table: 't', chain: 'in', handle: i + 10, expr } })),
    ],
  });
}
const m = (left: unknown, right: unknown, op = '==') => ({ match: { op, left, right } });
const udpDport = { payload: { protocol: 'udp', field: 'dport' } };
const saddr = { payload: { protocol: 'ip', field: 'saddr' } };
const ctState = { ct: { key: 'state' } };

const nftRules: Array<{
  name: string;
  policy?: string;
  rules: unknown[][];
  extra?: unknown[];
  pkt?: Partial<Datagram>;
  verdict: VerdictKind;
}> = [
  {
    name: 'reject',
    rules: [[m(udpDport, 514), { reject: { type: 'icmpx', expr: 'port-unreachable' } }]],
    verdict: 'rejected',
  },
  {
    name: 'dport set with a range',
    rules: [[m(udpDport, { set: [{ range: [500, 600] }] }), { drop: null }]],
    verdict: 'dropped',
  },
  { name: 'dport !=', rules: [[m(udpDport, 514, '!='), { drop: null }]], verdict: 'accepted' },
  {
    name: 'saddr prefix',
    rules: [[m(saddr, { prefix: { addr: '10.99.0.0', len: 16 } }), { drop: null }]],
    verdict: 'dropped',
  },
  {
    name: 'ct state established,related accept then policy drop',
    policy: 'drop',
    rules: [[m(ctState, ['established', 'related'], 'in'), { accept: null }]],
    verdict: 'dropped',
  },
  { name: 'ct state new accept', policy: 'drop', rules: [[m(ctState, 'new'), { accept: null }]], verdict: 'accepted' },
  {
    name: 'tcp dport rule does not match udp',
    rules: [[m({ payload: { protocol: 'tcp', field: 'dport' } }, 514), { drop: null }]],
    verdict: 'accepted',
  },
  { name: 'iifname wildcard', rules: [[m({ meta: { key: 'iifname' } }, 'eth*'), { drop: null }]], verdict: 'dropped' },
  {
    name: 'goto then return ends the calling chain',
    rules: [[{ goto: { target: 'z' } }], [{ drop: null }]],
    extra: [{ chain: { family: 'inet', table: 't', name: 'z' } }],
    verdict: 'accepted',
  },
  {
    name: 'jump then return continues',
    rules: [[{ jump: { target: 'z' } }], [{ drop: null }]],
    extra: [{ chain: { family: 'inet', table: 't', name: 'z' } }],
    verdict: 'dropped',
  },
  {
    name: 'unknown expression on a drop rule: uncertain',
    rules: [[m({ meta: { key: 'skuid' } }, 0), { drop: null }]],
    verdict: 'uncertain',
  },
  {
    name: 'limit on a log rule does not decide',
    policy: 'drop',
    rules: [
      [{ limit: { rate: 5, per: 'minute' } }, { log: { prefix: 'x' } }],
      [m(udpDport, 514), { accept: null }],
    ],
    verdict: 'accepted',
  },
  { name: 'missing named set is uncertain', rules: [[m(saddr, '@nosuchset'), { drop: null }]], verdict: 'uncertain' },
  {
    name: 'vmap on dport',
    rules: [
      [
        {
          vmap: {
            key: udpDport,
            data: {
              set: [
                [514, { drop: null }],
                [22, { accept: null }],
              ],
            },
          },
        },
      ],
    ],
    verdict: 'dropped',
  },
  {
    name: 'l4proto udp by name',
    rules: [[m({ meta: { key: 'l4proto' } }, 'udp'), { drop: null }]],
    verdict: 'dropped',
  },
  {
    name: 'firewalld shape: ct status dnat accept does not decide a new flow; the final reject does',
    rules: [
      [m(ctState, ['established', 'related'], 'in'), { accept: null }],
      [m({ ct: { key: 'status' } }, 'dnat', 'in'), { accept: null }],
      [m({ meta: { key: 'iifname' } }, 'lo'), { accept: null }],
      [m(ctState, 'invalid'), { drop: null }],
      [{ reject: { type: 'icmpx', expr: 'admin-prohibited' } }],
    ],
    verdict: 'rejected',
  },
];
for (const c of nftRules) {
  test(`nft rule: ${c.name}`, t => {
    const v = judgeNft(parseNftJson(ruleset(c.policy ?? 'accept', c.rules, c.extra)), { ...pkt, ...c.pkt });
    t.is(v.verdict, c.verdict, JSON.stringify(v));
  });
}

test('nft: chains run in priority order across tables; an accept in one does not skip a drop in another', t => {
  const text = JSON.stringify({
    nftables: [
      {
        chain: { family: 'inet', table: 'a', name: 'late', type: 'filter', hook: 'input', prio: 10, policy: 'accept' },
      },
      {
        chain: { family: 'ip', table: 'b', name: 'early', type: 'filter', hook: 'input', prio: -10, policy: 'accept' },
      },
      { rule: { family: 'ip', table: 'b', chain: 'early', expr: [{ accept: null }] } },
      { rule: { family: 'inet', table: 'a', chain: 'late', expr: [m(udpDport, 514), { drop: null }] } },
    ],
  });
  const v = judgeNft(parseNftJson(text), pkt);
  t.is(v.verdict, 'dropped');
  t.deepEqual(v.path, ['ip b early', 'inet a late']);
  t.deepEqual(v.via, ['inet a late']);
});

test('nft: bad JSON is an error, not an exception', t => {
  t.regex(parseNftJson('{"nftables": [').errors[0]!, /not JSON/);
  t.regex(parseNftJson('{}').errors[0]!, /no "nftables" array/);
});

test('inNetwork', t => {
  t.true(inNetwork('10.99.0.2', '10.99.0.0/24'));
  t.false(inNetwork('10.99.1.2', '10.99.0.0/24'));
  t.true(inNetwork('2001:db8:1::5', '2001:db8:1::/48'));
  t.false(inNetwork('2001:db8:2::5', '2001:db8:1::/48'));
  t.is(inNetwork('10.0.0.1', '2001:db8::/32'), undefined);
  t.true(inNetwork('1.2.3.4', '0.0.0.0/0'));
});

test('iptables and nft: a jump loop is uncertain, not a hang or a crash', t => {
  const ipt = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':A - [0:0]',
    ':B - [0:0]',
    '-A INPUT -j A',
    '-A A -j B',
    '-A B -j A',
    'COMMIT',
  ].join('\n');
  t.is(judgeIptables(parseIptablesSave(ipt), pkt).verdict, 'uncertain');
  const nft = JSON.stringify({
    nftables: [
      { chain: { family: 'inet', table: 't', name: 'in', type: 'filter', hook: 'input', prio: 0, policy: 'accept' } },
      { chain: { family: 'inet', table: 't', name: 'a' } },
      { rule: { family: 'inet', table: 't', chain: 'in', expr: [{ jump: { target: 'a' } }] } },
      { rule: { family: 'inet', table: 't', chain: 'a', expr: [{ jump: { target: 'a' } }] } },
    ],
  });
  t.is(judgeNft(parseNftJson(nft), pkt).verdict, 'uncertain');
});

// ---- what a REJECT answers (named as the wire analysis names it) --------------------------------

const rejectCases: Array<{
  name: string;
  file: string;
  tool: 'iptables' | 'nft';
  pkt?: Partial<Datagram>;
  text: string | undefined;
  explicit?: boolean;
}> = [
  {
    name: 'CentOS 5 RH-Firewall: --reject-with icmp-host-prohibited',
    file: 'iptables/centos5-rh-firewall.txt',
    tool: 'iptables',
    text: 'ICMP host prohibited (type 3 code 10)',
    explicit: true,
  },
  {
    name: 'CentOS 7 firewalld INPUT REJECT',
    file: 'iptables/centos7-firewalld.txt',
    tool: 'iptables',
    text: 'ICMP host prohibited (type 3 code 10)',
    explicit: true,
  },
  {
    name: 'host-prohibited (generated)',
    file: 'generated/iptables-reject-host-prohibited.txt',
    tool: 'iptables',
    text: 'ICMP host prohibited (type 3 code 10)',
    explicit: true,
  },
  {
    name: 'plain -j REJECT, which iptables-save lists with --reject-with icmp-port-unreachable (generated)',
    file: 'generated/iptables-multiport-reject.txt',
    tool: 'iptables',
    text: 'ICMP port unreachable (type 3 code 3)',
    explicit: true,
  },
  {
    name: 'nft reject with icmpx type admin-prohibited (generated)',
    file: 'generated/nft-reject-admin-prohibited.json',
    tool: 'nft',
    text: 'ICMP administratively prohibited (type 3 code 13)',
    explicit: true,
  },
  {
    name: 'the same icmpx rule for an IPv6 datagram',
    file: 'generated/nft-reject-admin-prohibited.json',
    tool: 'nft',
    pkt: { family: 6, srcIp: 'fd99::2', dstIp: 'fd99::1' },
    text: 'ICMPv6 administratively prohibited (type 1 code 1)',
    explicit: true,
  },
  {
    name: 'nft plain reject, as nft lists it in an ip table (generated)',
    file: 'generated/nft-reject-admin-prohibited.json',
    tool: 'nft',
    pkt: { dstPort: 6666 },
    text: 'ICMP port unreachable (type 3 code 3)',
    explicit: true,
  },
  { name: 'a DROP has no answer', file: 'generated/nft-udp-drop.json', tool: 'nft', text: undefined },
];
for (const c of rejectCases) {
  test(`REJECT answer: ${c.name}`, t => {
    const p = { ...pkt, ...c.pkt };
    const v =
      c.tool === 'nft' ? judgeNft(parseNftJson(fx(c.file)), p) : judgeIptables(parseIptablesSave(fx(c.file)), p);
    const a = rejectAnswer(v, p.family);
    t.is(a?.text, c.text, JSON.stringify(v));
    if (a) t.is(a.explicit, c.explicit ?? false);
  });
}

test("REJECT answer: a rule written without --reject-with gets iptables' default, and ip6tables'", t => {
  const v = judgeIptables(
    parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp --dport 514 -j REJECT\nCOMMIT\n'),
    pkt,
  );
  t.deepEqual(rejectAnswer(v, 4), {
    name: 'icmp-port-unreachable',
    text: 'ICMP port unreachable (type 3 code 3)',
    explicit: false,
  });
  t.is(rejectAnswer({ ...v, tool: 'ip6tables' }, 6)?.text, 'ICMPv6 port unreachable (type 1 code 4)');
  t.is(
    rejectAnswer({ ...v, rule: '-A INPUT -j REJECT --reject-with icmp6-adm-prohibited', tool: 'ip6tables' }, 6)?.text,
    'ICMPv6 administratively prohibited (type 1 code 1)',
  );
});

test('nft: a reject is rendered with its answer', t => {
  const rs = parseNftJson(fx('generated/nft-reject-admin-prohibited.json'));
  t.deepEqual(
    rs.chains.flatMap(c => c.rules.map(r => r.text)),
    [
      'udp dport 514 counter packets 3 bytes 138 reject with icmpx type admin-prohibited',
      'udp dport 6666 counter packets 3 bytes 138 reject with icmp type port-unreachable',
    ],
  );
});
