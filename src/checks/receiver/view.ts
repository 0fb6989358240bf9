/**
 * What the receiver checks share, derived once from the facts: the datagram netconsole sends here
 * (family, addresses, ports, receiving interface), the sockets on its port, the syslog daemons'
 * configurations, the firewall's verdict, the counters. Pure.
 */
import type { NetconsoleTarget } from '../../config/target.js';
import { ipFamily } from '../../config/netconsole-spec.js';
import type { ReceiverFacts } from '../host/facts.js';
import { parseLinks } from '../host/netinfo.js';
import { parseProcNetUdp, parseSs, parseSnmp, type UdpSocket } from '../host/procnet.js';
import type { Datagram, FirewallVerdict } from '../firewall/model.js';
import { judgeFirewall } from '../firewall/judge.js';
import { destinationsFor, type SyslogConfig } from '../syslog/types.js';
import { SYSLOG_DAEMONS, syslogDaemon } from '../syslog/daemons.js';
import { senderLineForms } from '../syslog/line-forms.js';

export interface ReceiverContext {
  /** The netconsole port (UDP destination). Default: the target's remote port, else 514. */
  port?: number;
  /** The sender's IP (source of the datagrams). Default: the target's local IP. */
  senderIp?: string;
  /**
   * The sender's own address when a router on the way translates it (NAT): `senderIp` is then the
   * address that arrives, and this one what the administrator's rules may still name.
   */
  translatedFrom?: string;
  /** The receiver's IP the sender sends to. Default: the target's remote IP. */
  receiverIp?: string;
  /** The receiving interface. Default: the one that holds the receiver IP. */
  iface?: string;
  /** The sender's netconsole target, when known. */
  target?: NetconsoleTarget;
  /** Whether the sender's lines carry printk timestamps (/sys/module/printk/parameters/time), when known. */
  printkTime?: boolean;
}

export interface ReceiverView {
  ctx: ReceiverContext;
  port: number;
  receiverIp?: string;
  senderIp?: string;
  family: 4 | 6;
  iface?: string;
  /** Every listening UDP socket, and those on the port. */
  allSockets: UdpSocket[];
  sockets: UdpSocket[];
  /** Whether any socket list was readable. */
  socketsKnown: boolean;
  /** The process `ss -p` names on the port. */
  listener?: string;
  /** Every syslog daemon configuration found, and those judged (the listener's when it is known). */
  syslog: SyslogConfig[];
  judgedSyslog: SyslogConfig[];
  logFiles: string[];
  datagram: Datagram;
  verdicts: FirewallVerdict[];
  firewall?: FirewallVerdict;
  counters: Record<string, number>;
}

export function deriveReceiver(facts: ReceiverFacts, ctx: ReceiverContext): ReceiverView {
  const port = ctx.port ?? ctx.target?.remotePort ?? 514;
  const receiverIp = ctx.receiverIp ?? (ctx.target && ipFamily(ctx.target.remoteIp) ? ctx.target.remoteIp : undefined);
  const senderIp = ctx.senderIp ?? ctx.target?.localIp;
  const family: 4 | 6 = (receiverIp && ipFamily(receiverIp) === 6) || (senderIp && ipFamily(senderIp) === 6) ? 6 : 4;
  const links = parseLinks(facts.ipAddr);
  const iface =
    ctx.iface ??
    (receiverIp ? links.find(l => l.addrs.some(a => a.address === receiverIp.toLowerCase()))?.name : undefined);

  let all: UdpSocket[] = [];
  if (facts.udp) all.push(...parseProcNetUdp(facts.udp.text, facts.udp.from));
  if (facts.udp6) all.push(...parseProcNetUdp(facts.udp6.text, facts.udp6.from));
  if (facts.ss) {
    const ss = parseSs(facts.ss.text, facts.ss.from);
    if (!facts.udp && !facts.udp6) all = ss;
    else for (const s of all) s.process ??= ss.find(x => x.port === s.port && x.address === s.address)?.process;
  }
  const datagram: Datagram = { family, dstPort: port };
  if (senderIp) datagram.srcIp = senderIp;
  if (receiverIp) datagram.dstIp = receiverIp;
  if (iface) datagram.iface = iface;
  if (ctx.target) {
    datagram.srcPort = ctx.target.localPort;
    // No MAC means broadcast, except in sysconfig, where the init script resolves it at start.
    datagram.pktType =
      ctx.target.remoteMac === undefined && ctx.target.source !== '/etc/sysconfig/netconsole' ? 'broadcast' : 'unicast';
  }
  const ipt = family === 4 ? facts.iptables : facts.ip6tables;
  const fw = judgeFirewall(
    { ...(ipt ? { iptables: ipt.text } : {}), ...(facts.nft ? { nft: facts.nft.text } : {}) },
    datagram,
    links.length ? { links } : undefined,
  );
  // A REDIRECT (a DNAT to this host) delivers them to another port of this host.
  const dnat = fw.verdict?.dnat;
  const deliveredPort = dnat && !dnat.forwarded ? dnat.toPort : port;
  const sockets = all.filter(s => s.port === deliveredPort);

  const listener = sockets.find(s => s.process)?.process;
  const forms = senderLineForms(ctx.target?.extended, ctx.printkTime);
  const syslog: SyslogConfig[] = [];
  for (const d of SYSLOG_DAEMONS) {
    const cfg = d.parse(facts.syslog?.[d.name] ?? [], { ...(senderIp ? { senderIp } : {}), forms });
    if (cfg && (!d.fallback || !syslog.length || (listener !== undefined && d.ownsProcess.test(listener))))
      syslog.push(cfg);
  }
  // When the listening process is known, judge its configuration only.
  const judged = listener ? syslog.filter(c => syslogDaemon(c.daemon)?.ownsProcess.test(listener)) : syslog;
  const judgedSyslog = judged.length ? judged : syslog;
  let logFiles = [
    ...new Set(
      judgedSyslog.flatMap(c =>
        destinationsFor(c, port)
          .filter(d => d.netconsole !== false)
          .map(d => d.file),
      ),
    ),
  ];

  // Forwarded to another host (a container) by a DNAT: this host's files never get them.
  if (dnat?.forwarded) logFiles = [];
  const counters = {
    ...(facts.snmp ? parseSnmp(facts.snmp.text) : {}),
    ...(facts.netstat ? parseSnmp(facts.netstat.text) : {}),
  };

  const v: ReceiverView = {
    ctx,
    port,
    family,
    allSockets: all,
    sockets,
    socketsKnown: !!(facts.udp || facts.udp6 || facts.ss),
    syslog,
    judgedSyslog,
    logFiles,
    datagram,
    verdicts: fw.verdicts,
    counters,
  };
  if (receiverIp) v.receiverIp = receiverIp;
  if (senderIp) v.senderIp = senderIp;
  if (iface) v.iface = iface;
  if (listener) v.listener = listener;
  if (fw.verdict) v.firewall = fw.verdict;
  return v;
}

/** The UDP ports this host's syslog daemons are set up to receive on, whether they run or not. */
export function syslogPorts(facts: ReceiverFacts): number[] {
  return [
    ...new Set(SYSLOG_DAEMONS.flatMap(d => d.parse(facts.syslog?.[d.name] ?? [])?.udpInputs.map(i => i.port) ?? [])),
  ];
}
