/**
 * The hops where the datagrams reach this host: the destination MAC, IP and port of what
 * arrived, compared with this host's. Pure.
 */
import { syslogDaemon } from '../../checks/syslog/daemons.js';
import { endpoint } from '../../decode/addr.js';
import { finding } from '../../findings/catalog.js';
import { packetList } from '../../findings/finding.js';
import { step, type Hop } from './evidence.js';

const notTested = (id: string, name: string) => step(id, name, 'unknown', 'no message of the test to judge');

export const dstMacHop: Hop = (e, s) => {
  const a = s.arrived;
  if (!a) return notTested('verify.mac', 'destination MAC');
  if (!a.dstMac) return step('verify.mac', 'destination MAC', 'unknown', 'the capture has no link-layer header');
  if (e.receiverMacs.includes(a.dstMac))
    return step('verify.mac', 'destination MAC', 'pass', `${a.dstMac} is ${e.iface}'s`);
  if (a.dstMac === 'ff:ff:ff:ff:ff:ff')
    return step(
      'verify.mac',
      'destination MAC',
      'warn',
      'broadcast',
      e.wire.findings.filter(f => f.code === 'broadcast-dst-mac'),
    );
  const ours = e.receiverMacs.join(', ') || 'unknown';
  const mac = e.receiverMacs[0] ?? "this host's MAC";
  // Neither the MAC nor the IP is this host's: the target names another host (an old log
  // server, a typo in both), and setting the MAC alone would only move the drop to the IP.
  if (e.receiverAddrs && !isMine(e.receiverAddrs, a.dstIp)) {
    const ip = ownAddress(e.receiverAddrs, a.dstIp);
    return step(
      'verify.mac',
      'destination MAC',
      'fail',
      `${a.dstMac} is not ${e.iface}'s (${ours}), nor is ${a.dstIp} this host's`,
      [
        finding('dst-mac-mismatch', {
          subject: e.senderIp,
          summary: `the frames are addressed to another host, ${a.dstIp} at ${a.dstMac}, not to ${e.iface} (${ours}): the sender's target names that host, and this one drops them`,
          evidence: [
            `packets ${packetList(a.packets, a.packets.length)} to ${endpoint(a.dstIp, a.dstPort)} at ${a.dstMac}`,
            `${e.iface} has ${ours}; this host has ${e.receiverAddrs.join(', ')}`,
          ],
          packets: a.packets,
          hint: `On the sender, point the target at this host: remote IP ${ip ?? "this host's address"} and remote MAC ${mac} (the router's when one is between), e.g. with the configfs target disabled: echo ${ip ?? 'RECEIVER_IP'} > remote_ip; echo ${mac} > remote_mac; then enable it (or netconsole=...,${a.dstPort}@${ip ?? 'RECEIVER_IP'}/${mac} and reload). If ${a.dstIp} is the log server meant, run netdiag verify there`,
        }),
      ],
    );
  }
  return step('verify.mac', 'destination MAC', 'fail', `${a.dstMac} is not ${e.iface}'s (${ours})`, [
    finding('dst-mac-mismatch', {
      subject: e.senderIp,
      summary: `the frames arrive addressed to ${a.dstMac}, not to ${e.iface} (${ours}): the NIC drops them`,
      evidence: [`packets ${packetList(a.packets, a.packets.length)} to ${a.dstMac}`, `${e.iface} has ${ours}`],
      packets: a.packets,
      hint: `On the sender, set the remote MAC to ${mac} (or the router's when one is between) and reload netconsole`,
    }),
  ]);
};

const isMine = (mine: readonly string[], ip: string) => mine.includes(ip.toLowerCase()) || ip === '255.255.255.255';

/** This host's address to send `ip`'s family to: not loopback, not link-local; undefined when it has none. */
const ownAddress = (mine: readonly string[], ip: string): string | undefined =>
  mine.find(x => x.includes(':') === ip.includes(':') && !x.startsWith('127.') && x !== '::1' && !x.startsWith('fe80'));

export const dstIpHop: Hop = (e, s) => {
  const a = s.arrived;
  if (!a) return notTested('verify.dst-ip', 'destination IP');
  const mine = e.receiverAddrs;
  if (!mine)
    return step('verify.dst-ip', 'destination IP', 'unknown', `${a.dstIp}; this host's addresses are not known`);
  if (isMine(mine, a.dstIp)) return step('verify.dst-ip', 'destination IP', 'pass', `${a.dstIp} is this host's`);
  const fix = ownAddress(mine, a.dstIp);
  return step('verify.dst-ip', 'destination IP', 'fail', `${a.dstIp} is not an address of this host`, [
    finding('dst-ip-mismatch', {
      subject: e.senderIp,
      summary: `the frames reach ${e.iface}, but are addressed to ${a.dstIp}, which is not an address of this host: its kernel drops them before any socket`,
      evidence: [
        `packets ${packetList(a.packets, a.packets.length)} to ${endpoint(a.dstIp, a.dstPort)}`,
        `this host has ${mine.join(', ')}`,
      ],
      packets: a.packets,
      hint: `On the sender, set the target IP to ${fix ?? "this host's address"} (netconsole=...,${a.dstPort}@${fix ?? 'RECEIVER_IP'}/MAC, or echo ${fix ?? 'RECEIVER_IP'} > /sys/kernel/config/netconsole/TARGET/remote_ip with the target disabled) and reload netconsole`,
    }),
  ]);
};

export const portHop: Hop = (e, s) => {
  const a = s.arrived;
  if (!a) return notTested('verify.port', 'destination port');
  if (a.dstPort === e.port)
    return step('verify.port', 'destination port', 'pass', `udp/${a.dstPort}, where this host receives`);
  const cfg = e.receiverAfter.syslog[0];
  const d = cfg ? syslogDaemon(cfg.daemon) : undefined;
  const here = d && cfg ? d.enableUdpFix(a.dstPort, cfg) : `listen on UDP ${a.dstPort}`;
  return step(
    'verify.port',
    'destination port',
    'fail',
    `sent to udp/${a.dstPort}, this host receives on udp/${e.port}`,
    [
      finding('dst-port-mismatch', {
        subject: e.senderIp,
        summary: `the sender sends to udp/${a.dstPort}, but this host receives on udp/${e.port}`,
        evidence: [
          `packets ${packetList(a.packets, a.packets.length)} to udp/${a.dstPort}`,
          `this host listens on udp/${e.port}`,
        ],
        packets: a.packets,
        hint: `Either on the sender: send to ${e.port} (netconsole=...,${e.port}@${a.dstIp}/MAC, SYSLOGPORT=${e.port}, or configfs remote_port) and reload netconsole; or on this host: ${here}`,
      }),
    ],
  );
};
