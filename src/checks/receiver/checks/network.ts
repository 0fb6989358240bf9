/**
 * The receiver checks of the way in: the firewall's verdict on the datagram, the reverse-path
 * filter, the UDP counters, the SELinux port label. Pure.
 */
import type { Finding } from '../../../findings/finding.js';
import { finding } from '../../../findings/catalog.js';
import type { ReceiverFacts } from '../../host/facts.js';
import { parseLinks, parseRouteGet } from '../../host/netinfo.js';
import { semanagePorts } from '../../host/procnet.js';
import { type CheckResult, check } from '../../check.js';
import type { FirewallVerdict } from '../../firewall/model.js';
import { acceptFix } from '../../firewall/fix.js';
import { rejectAnswer } from '../../firewall/reject.js';
import type { ReceiverView } from '../view.js';
import { endpoint } from '../../../decode/addr.js';
import { natDestination } from '../../firewall/dnat.js';
import { ipFamily } from '../../../config/netconsole-spec.js';
import { inNetwork } from '../../firewall/address.js';

/** The host's forwarding switch of the datagram's family reads 0. */
function forwardingOff(facts: ReceiverFacts, family: 4 | 6): boolean {
  const fact = family === 6 ? facts.ip6Forward : facts.ipForward;
  return fact?.text.trim() === '0';
}

export function firewallCheck(facts: ReceiverFacts, v: ReceiverView): CheckResult {
  const { firewall: fw, port } = v;
  const f: Finding[] = [];
  let detail: string;
  const pkt = `UDP ${v.senderIp ?? '(any sender)'} -> ${v.receiverIp ? endpoint(v.receiverIp, port) : `(this host):${port}`}${v.iface ? ` on ${v.iface}` : ''}`;
  if (!fw) {
    f.push(
      finding('firewall-unreadable', {
        summary: 'the firewall rules could not be read',
        evidence: facts.notes.filter(n => /iptables|nft/.test(n)),
      }),
    );
    detail = 'unknown: no iptables-save or nft output';
  } else {
    const rule = (x: FirewallVerdict) =>
      `${x.tool} ${x.where ?? ''}${x.line ? ` (line ${x.line})` : ''}: ${x.counters ? `[${x.counters.packets}:${x.counters.bytes}] ` : ''}${x.rule ?? ''}`;
    detail = `${pkt}: ${v.verdicts.map(x => `${x.tool} ${x.verdict}`).join(', ')}`;
    if (fw.verdict === 'dropped' || fw.verdict === 'rejected') {
      const evidence = [rule(fw)];
      if (fw.counters) evidence.push(`counters: ${fw.counters.packets} packets, ${fw.counters.bytes} bytes`);
      evidence.push(`path: ${(fw.via ?? fw.path).join(' -> ')}`);
      if (fw.reasons.length) evidence.push(...fw.reasons.map(r => `also undecided: ${r}`));
      // A REJECT is named as the wire names its answer (firewall-reject, with the ICMP it sends).
      const answer = rejectAnswer(fw, v.datagram.family);
      if (answer) evidence.push(`answers ${answer.text}${answer.explicit ? '' : ` (${fw.tool}'s default)`}`);
      f.push(
        finding(answer ? 'firewall-reject' : 'firewall-drop', {
          summary: answer ? `the firewall rejects ${pkt}, answering ${answer.text}` : `the firewall drops ${pkt}`,
          evidence,
          hint: acceptFix(fw, v.datagram),
          subject: `:${port}`,
        }),
      );
    } else if (fw.dnat?.forwarded && forwardingOff(facts, v.datagram.family)) {
      // Translated to another host that this host does not forward to: dropped before FORWARD.
      const d = fw.dnat;
      const fact = v.datagram.family === 6 ? facts.ip6Forward! : facts.ipForward!;
      const key = v.datagram.family === 6 ? 'net.ipv6.conf.all.forwarding' : 'net.ipv4.ip_forward';
      f.push(
        finding('ip-forward-off', {
          summary: `a DNAT sends ${pkt} to ${natDestination(d)}, but this host does not forward (${key} = 0): the kernel drops it`,
          evidence: [
            `${d.tool} ${d.where}${d.line ? ` (line ${d.line})` : ''}: ${d.counters ? `[${d.counters.packets}:${d.counters.bytes}] ` : ''}${d.rule}`,
            `${fact.from}: ${fact.text.trim()}`,
          ],
          hint: `sysctl -w ${key}=1, and keep it: ${key} = 1 in /etc/sysctl.d/99-forward.conf`,
          subject: `:${port}`,
        }),
      );
    } else if (fw.verdict === 'uncertain') {
      f.push(
        finding('firewall-uncertain', {
          summary: `cannot decide whether the firewall accepts ${pkt}`,
          evidence: [...fw.reasons, `path: ${(fw.via ?? fw.path).join(' -> ')}`],
          subject: `:${port}`,
        }),
      );
    }
  }
  return check('receiver.firewall', 'firewall', f, detail, fw ? 'pass' : 'unknown');
}

/**
 * The receiving interface (the one holding the target's address), only when it is down or has no
 * carrier: nothing arrives then. Up, or not known: no line.
 */
export function receiverLinkCheck(facts: ReceiverFacts, v: ReceiverView): CheckResult | undefined {
  const link = v.iface ? parseLinks(facts.ipAddr).find(l => l.name === v.iface) : undefined;
  if (!link || (link.up && link.lowerUp !== false)) return undefined;
  const state = link.up ? 'up but without carrier (no LOWER_UP)' : 'down';
  return check(
    'receiver.link',
    'receiving interface',
    [
      finding('receiver-device-down', {
        summary: `${link.name}, which holds ${v.receiverIp ?? 'the target address'}, is ${state}: nothing arrives on it`,
        evidence: [`${facts.ipAddr?.from ?? 'ip addr'}: ${link.name} <${link.flags.join(',')}>`],
        hint: link.up
          ? `Check ${link.name}'s cable or switch port (ip link show ${link.name} shows LOWER_UP when the carrier is there)`
          : `ip link set ${link.name} up`,
      }),
    ],
    `${link.name} is ${state}`,
  );
}

/**
 * The target's Ethernet destination, only when it cannot reach this host: the sender is on none of
 * the receiving interface's networks (a router is between), and the target sends to this host's
 * own MAC, or broadcast. netconsole does no ARP and no routing: the frame goes to that MAC on the
 * sender's own segment, and nothing there takes it. Fine, or not known: no line.
 */
export function targetMacCheck(facts: ReceiverFacts, v: ReceiverView): CheckResult | undefined {
  const t = v.ctx.target;
  const sender = v.senderIp;
  const link = v.iface ? parseLinks(facts.ipAddr).find(l => l.name === v.iface) : undefined;
  if (!t || !sender || !link) return undefined;
  const fam = ipFamily(sender);
  const nets = link.addrs.filter(a => a.family === fam && a.scope !== 'link' && a.prefix > 0);
  if (!nets.length || nets.some(a => inNetwork(sender, `${a.address}/${a.prefix}`) !== false)) return undefined;
  const broadcast = v.datagram.pktType === 'broadcast';
  const own = !!t.remoteMac && !!link.mac && t.remoteMac.toLowerCase() === link.mac.toLowerCase();
  if (!own && !broadcast) return undefined;
  const mac = broadcast ? 'broadcast (no remote MAC)' : `${t.remoteMac}, ${link.name}'s own`;
  const route = facts.routeGet ? parseRouteGet(facts.routeGet.text) : undefined;
  const evidence = [
    `${t.source ?? 'netconsole target'}: remote MAC ${t.remoteMac ?? 'none (broadcast)'}`,
    `${facts.ipAddr?.from ?? 'ip addr'}: ${link.name} ${nets.map(a => `${a.address}/${a.prefix}`).join(' ')}${link.mac ? ` ${link.mac}` : ''}`,
    ...(route && facts.routeGet ? [`${facts.routeGet.from}: ${facts.routeGet.text.trim().split('\n')[0]}`] : []),
  ];
  return check(
    'receiver.target-mac',
    "target's MAC",
    [
      finding('router-mac-required', {
        summary: `the target sends to ${mac}, but the sender ${sender} is on none of ${link.name}'s networks: a router is between, and the frames stay on the sender's segment`,
        evidence,
        hint: `Set the target's remote MAC to the sender's gateway's (on the sender: ip route get ${v.receiverIp ?? 'RECEIVER_IP'}, then ip neigh show GATEWAY), and reload netconsole`,
      }),
    ],
    `${mac}; ${sender} is not on ${link.name}'s network${route?.via ? ` (route back via ${route.via})` : ''}`,
  );
}

export function rpFilterCheck(facts: ReceiverFacts, v: ReceiverView): CheckResult {
  const { iface, senderIp, counters } = v;
  const f: Finding[] = [];
  let detail = 'unknown';
  let status: CheckResult['status'] = 'unknown';
  const rp = facts.rpFilter;
  if (v.family === 6) {
    detail = 'IPv6: rp_filter does not apply';
    status = 'pass';
  } else if (rp && iface && rp[iface] !== undefined) {
    const eff = Math.max(Number(rp.all ?? 0), Number(rp[iface]));
    const route = facts.routeGet ? parseRouteGet(facts.routeGet.text) : undefined;
    detail = `rp_filter ${eff} on ${iface} (all=${rp.all ?? '?'}, ${iface}=${rp[iface]})${route ? `; route back via ${route.dev ?? '?'}` : ''}`;
    status = 'pass';
    const ev = [
      `/proc/sys/net/ipv4/conf/all/rp_filter: ${rp.all ?? '?'}`,
      `/proc/sys/net/ipv4/conf/${iface}/rp_filter: ${rp[iface]}`,
    ];
    if (route && facts.routeGet) ev.push(`${facts.routeGet.from}: ${facts.routeGet.text.trim().split('\n')[0]}`);
    if (counters['TcpExt.IPReversePathFilter'] !== undefined)
      ev.push(`TcpExt IPReversePathFilter: ${counters['TcpExt.IPReversePathFilter']}`);
    if (eff === 1 && route && route.dev && route.dev !== iface && route.dev !== 'lo') {
      f.push(
        finding('rp-filter-drop', {
          summary: `strict rp_filter on ${iface}: the route back to ${senderIp} leaves via ${route.dev}`,
          evidence: ev,
        }),
      );
    } else if (eff >= 1 && route?.type && route.type !== 'local') {
      f.push(
        finding('rp-filter-drop', {
          summary: `rp_filter ${eff} on ${iface} and no route back to ${senderIp} (${route.type})`,
          evidence: ev,
        }),
      );
    } else if (eff === 1 && !route) {
      detail += ' (route back to the sender unknown)';
      status = 'unknown';
    }
  } else if (rp) detail = `unknown: receiving interface ${iface ? `${iface} has no rp_filter entry` : 'not known'}`;
  return check('receiver.rp-filter', 'reverse-path filter', f, detail, status);
}

export function countersCheck(facts: ReceiverFacts, v: ReceiverView): CheckResult {
  const f: Finding[] = [];
  let detail = 'unknown';
  if (facts.snmp) {
    const c = (k: string) => v.counters[`Udp.${k}`] ?? 0;
    detail = `Udp: NoPorts ${c('NoPorts')}, InErrors ${c('InErrors')}, RcvbufErrors ${c('RcvbufErrors')}`;
    const ev = [`${facts.snmp.from}: ${detail}`];
    if (c('RcvbufErrors') > 0)
      f.push(
        finding('udp-drops', {
          summary: `${c('RcvbufErrors')} UDP datagrams dropped because a socket's receive buffer was full (since boot)`,
          evidence: ev,
        }),
      );
    else if (c('InErrors') > 0)
      f.push(
        finding('udp-drops', {
          summary: `${c('InErrors')} UDP datagrams could not be delivered (since boot)`,
          evidence: ev,
        }),
      );
    if (c('NoPorts') > 0 && !v.sockets.length)
      f.push(
        finding('udp-drops', {
          severity: 'info',
          summary: `${c('NoPorts')} UDP datagrams arrived for ports nobody listens on (since boot)`,
          evidence: ev,
          hint: `Start a listener on UDP ${v.port} (see receiver-not-listening); NoPorts counts datagrams to every closed port, so compare it before and after a test`,
        }),
      );
  }
  return check('receiver.counters', 'UDP counters', f, detail, facts.snmp ? 'pass' : 'unknown');
}

export function selinuxCheck(facts: ReceiverFacts, v: ReceiverView): CheckResult | undefined {
  if (!facts.semanage) return undefined;
  const f: Finding[] = [];
  const ranges = semanagePorts(facts.semanage.text, 'syslogd_port_t', 'udp');
  const ok = ranges.some(([a, b]) => v.port >= a && v.port <= b);
  if (!ok)
    f.push(
      finding('selinux-syslog-port', {
        summary: `UDP port ${v.port} is not labelled syslogd_port_t`,
        evidence: [
          `${facts.semanage.from}: syslogd_port_t udp ${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ') || '(none)'}`,
        ],
        hint: `semanage port -a -t syslogd_port_t -p udp ${v.port}`,
      }),
    );
  return check(
    'receiver.selinux',
    'SELinux port label',
    f,
    ok ? `udp ${v.port} is syslogd_port_t` : `udp ${v.port} not labelled`,
  );
}
