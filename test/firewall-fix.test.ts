import test from 'ava';
import { parseIptablesSave } from '../src/checks/firewall/iptables/parse.js';
import { judgeIptables } from '../src/checks/firewall/iptables/judge.js';
import { parseNftJson } from '../src/checks/firewall/nft/parse.js';
import { judgeNft } from '../src/checks/firewall/nft/judge.js';
import type { Datagram } from '../src/checks/firewall/model.js';
import { acceptFix } from '../src/checks/firewall/fix.js';
import { fx } from './helpers/host-facts.js';

const pkt: Datagram = { family: 4, srcIp: '10.99.0.2', dstIp: '10.99.0.1', srcPort: 6665, dstPort: 514, iface: 'eth0' };
const ipt = (file: string, p: Partial<Datagram> = {}) => judgeIptables(parseIptablesSave(fx(file)), { ...pkt, ...p });

test('ufw (real Ubuntu rules), INPUT DROP policy: ufw prepend, not an iptables -I that ufw reload would drop', t => {
  const v = ipt('iptables/ubuntu-ufw.txt');
  t.is(v.verdict, 'dropped');
  t.is(
    acceptFix(v, { srcIp: '10.99.0.2', dstPort: 514, family: 4 }),
    'ufw prepend allow proto udp from 10.99.0.2 to any port 514',
  );
  t.is(acceptFix(v, { dstPort: 514, family: 4 }), 'ufw prepend allow 514/udp');
});

test("ufw: a rule of INPUT ahead of ufw's jumps is not ufw's: the raw fix", t => {
  const text = fx('iptables/ubuntu-ufw.txt').replace(
    /^(\[\d+:\d+\] )?-A INPUT -j ufw-before-logging-input$/m,
    '-A INPUT -p udp -m udp --dport 514 -j DROP\n$&',
  );
  t.not(text, fx('iptables/ubuntu-ufw.txt'));
  const v = judgeIptables(parseIptablesSave(text), pkt);
  t.is(v.verdict, 'dropped');
  t.is(
    acceptFix(v, { srcIp: '10.99.0.2', dstPort: 514, family: 4 }),
    'iptables -I INPUT -p udp -s 10.99.0.2 --dport 514 -j ACCEPT',
  );
});

test('firewalld (real CentOS 7 rules, iptables backend): a rich rule in the zone the datagram went through', t => {
  const v = ipt('iptables/centos7-firewalld.txt');
  t.is(v.verdict, 'rejected');
  t.is(
    acceptFix(v, { srcIp: '10.99.0.2', dstPort: 514, family: 4 }),
    `firewall-cmd --permanent --zone=public --add-rich-rule='rule family="ipv4" source address="10.99.0.2" port port="514" protocol="udp" accept' && firewall-cmd --reload`,
  );
});

test('firewalld: a rich drop in the zone decides: the accept goes before it (priority -1)', t => {
  const text = fx('iptables/centos7-firewalld.txt').replace(
    /^(\[\d+:\d+\] )?-A IN_public -j IN_public_log$/m,
    '$&\n-A IN_public_deny -s 10.99.0.0/24 -j DROP',
  );
  const v = judgeIptables(parseIptablesSave(text), pkt);
  t.is(v.verdict, 'dropped');
  t.regex(
    acceptFix(v, { srcIp: '10.99.0.2', dstPort: 514, family: 4 }),
    /--zone=public --add-rich-rule='rule priority="-1" family="ipv4" source/,
  );
});

test('plain iptables and nft rules keep their own fixes', t => {
  t.is(
    acceptFix(ipt('generated/iptables-userchain-drop.txt'), { srcIp: '10.99.0.2', dstPort: 514, family: 4 }),
    'iptables -I INPUT -p udp -s 10.99.0.2 --dport 514 -j ACCEPT',
  );
  const nv = judgeNft(parseNftJson(fx('generated/nft-udp-drop.json')), pkt);
  t.is(nv.verdict, 'dropped');
  t.regex(
    acceptFix(nv, { srcIp: '10.99.0.2', dstPort: 514, family: 4 }),
    /^nft insert rule \S+ \S+ \S+ ip saddr 10.99.0.2 udp dport 514 accept$/,
  );
});

test('firewalld, nftables backend (table inet firewalld): the zone from its filter_IN_ chains (synthesised rules in its shape)', t => {
  const rs = {
    nftables: [
      { table: { family: 'inet', name: 'firewalld', handle: 1 } },
      {
        chain: {
          family: 'inet',
          table: 'firewalld',
          name: 'filter_INPUT',
          handle: 1,
          type: 'filter',
          hook: 'input',
          prio: 10,
          policy: 'accept',
        },
      },
      { chain: { family: 'inet', table: 'firewalld', name: 'filter_INPUT_POLICIES', handle: 2 } },
      { chain: { family: 'inet', table: 'firewalld', name: 'filter_IN_internal', handle: 3 } },
      { chain: { family: 'inet', table: 'firewalld', name: 'filter_IN_internal_allow', handle: 4 } },
      {
        rule: {
          family: 'inet',
          table: 'firewalld',
          chain: 'filter_INPUT',
          handle: 5,
          expr: [{ jump: { target: 'filter_INPUT_POLICIES' } }],
        },
      },
      {
        rule: {
          family: 'inet',
          table: 'firewalld',
          chain: 'filter_INPUT',
          handle: 6,
          expr: [{ reject: { type: 'icmpx', expr: 'admin-prohibited' } }],
        },
      },
      {
        rule: {
          family: 'inet',
          table: 'firewalld',
          chain: 'filter_INPUT_POLICIES',
          handle: 7,
          expr: [{ jump: { target: 'filter_IN_internal' } }],
        },
      },
      {
        rule: {
          family: 'inet',
          table: 'firewalld',
          chain: 'filter_IN_internal',
          handle: 8,
          expr: [{ jump: { target: 'filter_IN_internal_allow' } }],
        },
      },
      {
        rule: {
          family: 'inet',
          table: 'firewalld',
          chain: 'filter_IN_internal_allow',
          handle: 9,
          expr: [
            { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 22 } },
            { accept: null },
          ],
        },
      },
    ],
  };
  const v = judgeNft(parseNftJson(JSON.stringify(rs)), pkt);
  t.is(v.verdict, 'rejected', JSON.stringify(v));
  t.is(
    acceptFix(v, { srcIp: '10.99.0.2', dstPort: 514, family: 4 }),
    `firewall-cmd --permanent --zone=internal --add-rich-rule='rule family="ipv4" source address="10.99.0.2" port port="514" protocol="udp" accept' && firewall-cmd --reload`,
  );
});
