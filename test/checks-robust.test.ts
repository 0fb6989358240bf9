import test from 'ava';
import { parseNetconsoleSpec } from '../src/config/netconsole-spec.js';
import { parseSysconfigNetconsole } from '../src/config/sysconfig.js';
import { parseIptablesSave } from '../src/checks/firewall/iptables/parse.js';
import { judgeIptables } from '../src/checks/firewall/iptables/judge.js';
import { parseNftJson } from '../src/checks/firewall/nft/parse.js';
import { judgeNft } from '../src/checks/firewall/nft/judge.js';
import { parseKernelLog } from '../src/checks/sender/kernel-log.js';
import { parseRsyslog } from '../src/checks/syslog/rsyslog.js';
import { parseSyslogNg } from '../src/checks/syslog/syslog-ng.js';
import { parseSysklogdOptions } from '../src/checks/syslog/sysklogd.js';
import { parseProcNetUdp, parseSs, parseSnmp } from '../src/checks/host/procnet.js';
import { parseIpJson, parseIpText, parseRouteGet, parseNeigh } from '../src/checks/host/netinfo.js';
import { runSenderChecks } from '../src/checks/sender/run.js';
import { runReceiverChecks } from '../src/checks/receiver/run.js';
import { fx } from './helpers/host-facts.js';

// Bad input is data, never an exception: every parser and judge over mutated fixture texts.
const seeds = [
  'generated/iptables-userchain-drop.txt',
  'generated/nft-policy-drop-sets.json',
  'dmesg/debian12-6.1-started.txt',
  'rsyslog/debian12-stock.conf',
  'syslog-ng/conf.d-remote-udp.conf',
  'sysconfig/centos6-netconsole',
  'generated/proc-net-udp-any.txt',
  'generated/ip-link-veth-bridge.json',
  'iplink/bond-vlan.txt',
].map(fx);

let state = 0x12345678;
const rnd = (n: number) => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state % n;
};
const ALPHABET = ' \t\n"\'{}[]()#;:,.=@/\\!*+-$`\x00\x1b\u202e0123456789abcdefxyzACCEPTDROP';
function mutate(s: string): string {
  const a = [...s];
  const n = 1 + rnd(12);
  for (let i = 0; i < n; i++) {
    const at = rnd(a.length + 1);
    switch (rnd(4)) {
      case 0:
        a.splice(at, 1);
        break;
      case 1:
        a.splice(at, 0, ALPHABET[rnd(ALPHABET.length)]!);
        break;
      case 2:
        a.splice(at, rnd(40));
        break;
      default:
        a.splice(at, 0, ...a.slice(rnd(a.length), rnd(a.length)));
    }
  }
  return a.join('');
}

test('parsers and judges never throw on mutated inputs (2000 cases)', t => {
  const pkt = {
    family: 4 as const,
    srcIp: '10.99.0.2',
    dstIp: '10.99.0.1',
    srcPort: 6665,
    dstPort: 514,
    iface: 'eth0',
  };
  for (let i = 0; i < 2000; i++) {
    const text = mutate(seeds[i % seeds.length]!);
    const f = { text, from: 'x' };
    t.notThrows(
      () => {
        parseNetconsoleSpec(text);
        parseSysconfigNetconsole(text);
        judgeIptables(parseIptablesSave(text), pkt);
        judgeNft(parseNftJson(text), pkt);
        parseKernelLog(text);
        parseRsyslog([f]);
        parseSyslogNg([f]);
        parseSysklogdOptions(f);
        parseProcNetUdp(text, 'x');
        parseSs(text, 'x');
        parseSnmp(text);
        parseIpJson(text);
        parseIpText(text);
        parseRouteGet(text);
        parseNeigh(text);
        runSenderChecks({
          sysconfig: f,
          kernelLog: f,
          cmdline: f,
          modprobe: [f],
          ipLink: { ...f, format: 'text' },
          routeGet: { ...f, ip: '10.0.0.1' },
          neigh: f,
          printk: f,
          sysrq: f,
          modules: f,
          notes: [],
        });
        runReceiverChecks(
          {
            udp: f,
            syslog: { rsyslog: [f], 'syslog-ng': [f], sysklogd: [{ ...f, from: '/etc/sysconfig/syslog' }] },
            iptables: f,
            nft: f,
            snmp: f,
            semanage: f,
            ipAddr: { ...f, format: 'json' },
            notes: [],
          },
          { senderIp: '10.99.0.2', port: 514 },
        );
      },
      JSON.stringify(text.slice(0, 300)),
    );
  }
});
