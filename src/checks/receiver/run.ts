/**
 * The receiver checks: does something listen on the port and address, is the syslog daemon set up
 * for UDP (and which file the messages land in), does the firewall let a new UDP datagram from the
 * sender through, does rp_filter drop it, do the UDP counters show drops, does SELinux allow the
 * port. Pure: judges ReceiverFacts.
 */
import type { NetconsoleTarget } from '../../config/target.js';
import { endpoint } from '../../decode/addr.js';
import type { Finding } from '../../findings/finding.js';
import { finding } from '../../findings/catalog.js';
import { ipFamily } from '../../config/netconsole-spec.js';
import type { ReceiverFacts } from '../host/facts.js';
import { type CheckResult, check } from '../check.js';
import { parseProcNetUdp, parseSs, parseSnmp, semanagePorts, type UdpSocket } from '../host/procnet.js';
import type { SyslogConfig } from '../syslog/types.js';
import { SYSLOG_DAEMONS, syslogDaemon } from '../syslog/daemons.js';
import type { Datagram, FirewallVerdict } from '../firewall/model.js';
import { inNetwork } from '../firewall/address.js';
import { judgeFirewall } from '../firewall/judge.js';
import { acceptFix } from '../firewall/fix.js';
import { parseLinks, parseRouteGet } from '../host/netinfo.js';

export interface ReceiverContext {
  /** The netconsole port (UDP destination). Default: the target's remote port, else 514. */
  port?: number;
  /** The sender's IP (source of the datagrams). Default: the target's local IP. */
  senderIp?: string;
  /** The receiver's IP the sender sends to. Default: the target's remote IP. */
  receiverIp?: string;
  /** The receiving interface. Default: the one that holds the receiver IP. */
  iface?: string;
  /** The sender's netconsole target, when known. */
  target?: NetconsoleTarget;
}

export interface ReceiverReport {
  checks: CheckResult[];
  findings: Finding[];
  /** Listening UDP sockets on the port. */
  sockets: UdpSocket[];
  /** Every syslog daemon configuration found. */
  syslog: SyslogConfig[];
  /** Files the netconsole messages should land in (for verify to look at). */
  logFiles: string[];
  /** The combined firewall verdict, and each tool's. */
  firewall?: FirewallVerdict;
  verdicts: FirewallVerdict[];
  /** /proc/net/snmp and /proc/net/netstat counters (`Udp.NoPorts`, `TcpExt.IPReversePathFilter`), for before/after comparison. */
  counters: Record<string, number>;
  datagram: Datagram;
}

const WILDCARD = new Set(['0.0.0.0', '::', '*']);

export function runReceiverChecks(facts: ReceiverFacts, ctx: ReceiverContext = {}): ReceiverReport {
  const checks: CheckResult[] = [];
  const port = ctx.port ?? ctx.target?.remotePort ?? 514;
  const receiverIp = ctx.receiverIp ?? (ctx.target && ipFamily(ctx.target.remoteIp) ? ctx.target.remoteIp : undefined);
  const senderIp = ctx.senderIp ?? ctx.target?.localIp;
  const family: 4 | 6 = (receiverIp && ipFamily(receiverIp) === 6) || (senderIp && ipFamily(senderIp) === 6) ? 6 : 4;
  const links = parseLinks(facts.ipAddr);
  const iface = ctx.iface ?? (receiverIp ? links.find(l => l.addrs.some(a => a.address === receiverIp.toLowerCase()))?.name : undefined);

  // ---- sockets -------------------------------------------------------------------------------
  let all: UdpSocket[] = [];
  if (facts.udp) all.push(...parseProcNetUdp(facts.udp.text, facts.udp.from));
  if (facts.udp6) all.push(...parseProcNetUdp(facts.udp6.text, facts.udp6.from));
  if (facts.ss) {
    const ss = parseSs(facts.ss.text, facts.ss.from);
    if (!facts.udp && !facts.udp6) all = ss;
    else for (const s of all) s.process ??= ss.find(x => x.port === s.port && x.address === s.address)?.process;
  }
  const known = !!(facts.udp || facts.udp6 || facts.ss);
  const sockets = all.filter(s => s.port === port);
  {
    const f: Finding[] = [];
    let detail: string;
    if (!known) detail = 'unknown: /proc/net/udp and ss not available';
    else if (!sockets.length) {
      const others = [...new Set(all.map(s => endpoint(s.address, s.port)))].slice(0, 10);
      f.push(finding('receiver-not-listening', { summary: `nothing listens on UDP port ${port}`, evidence: [`${[facts.udp?.from, facts.udp6?.from, facts.ss?.from].filter(Boolean).join(', ')}: no socket on port ${port}`, ...(others.length ? [`UDP sockets: ${others.join(', ')}`] : [])], subject: `:${port}` }));
      detail = `nothing on port ${port}`;
    } else {
      detail = sockets.map(s => `${endpoint(s.address, s.port)}${s.process ? ` (${s.process})` : ''}`).join(', ');
      const fits = (s: UdpSocket) => {
        if (WILDCARD.has(s.address)) return s.family === family || (s.family === 6 && s.address === '::');
        if (!receiverIp) return !s.address.startsWith('127.') && s.address !== '::1';
        return s.address === receiverIp.toLowerCase() || s.address === `::ffff:${receiverIp}`;
      };
      if (!sockets.some(fits)) {
        f.push(finding('receiver-bound-elsewhere', { summary: `port ${port} is bound only to ${sockets.map(s => s.address).join(', ')}${receiverIp ? `, not ${receiverIp}` : ''}`, evidence: sockets.map(s => `${s.from}: ${s.address}:${s.port}${s.process ? ` (${s.process})` : ''}`), subject: `:${port}` }));
      }
    }
    checks.push(check('receiver.listening', 'listening socket', f, detail, known ? 'pass' : 'unknown'));
  }

  // ---- syslog daemon ---------------------------------------------------------------------------
  const listener = sockets.find(s => s.process)?.process;
  const syslog: SyslogConfig[] = [];
  for (const d of SYSLOG_DAEMONS) {
    const cfg = d.parse(facts.syslog?.[d.name] ?? []);
    if (cfg && (!d.fallback || !syslog.length || (listener !== undefined && d.ownsProcess.test(listener)))) syslog.push(cfg);
  }
  // When the listening process is known, judge its configuration only.
  const judged = listener ? syslog.filter(c => syslogDaemon(c.daemon)?.ownsProcess.test(listener)) : syslog;
  const cfgs = judged.length ? judged : syslog;
  const logFiles = [...new Set(cfgs.flatMap(c => c.destinations.filter(d => d.netconsole !== false).map(d => d.file)))];
  {
    const f: Finding[] = [];
    let detail: string;
    let otherwise: CheckResult['status'] = 'pass';
    if (!cfgs.length) {
      f.push(finding('syslog-config-unknown', { summary: 'no syslog daemon configuration found', evidence: ['/etc/rsyslog.conf, /etc/syslog-ng/syslog-ng.conf, /etc/sysconfig/syslog, /etc/default/syslogd: none readable'] }));
      detail = 'no configuration found';
      otherwise = 'unknown';
    } else {
      const inputs = cfgs.flatMap(c => c.udpInputs);
      const onPort = inputs.filter(i => i.port === port);
      const names = cfgs.map(c => c.daemon).join(', ');
      detail = `${names}: ${inputs.length ? `UDP ${[...new Set(inputs.map(i => `${i.address ?? '*'}:${i.port}`))].join(', ')}` : 'no UDP input'}${logFiles.length ? `; messages land in ${logFiles.join(', ')}` : ''}`;
      const listening = sockets.length > 0;
      if (!inputs.length) {
        const disabled = cfgs.flatMap(c => c.disabledUdp);
        const evidence = disabled.length ? disabled.map(d => `${d.from}:${d.line}: ${d.text} (${d.why})`) : cfgs.map(c => `${c.daemon}: no UDP input in ${c.daemon === 'sysklogd' ? 'its options' : 'its configuration'}`);
        const daemon = cfgs[0]!.daemon;
        const hint = syslogDaemon(daemon)!.enableUdpFix(port, cfgs[0]!);
        f.push(finding('syslog-udp-disabled', { ...(listening ? { severity: 'warning' as const } : {}), summary: `${daemon} does not receive UDP${listening ? ` (something else listens on ${port})` : ''}`, evidence, hint }));
      } else if (!onPort.length && !listening) {
        f.push(finding('syslog-port-mismatch', { summary: `${cfgs.map(c => c.daemon).join(', ')} receives UDP on ${[...new Set(inputs.map(i => i.port))].join(', ')}, not ${port}`, evidence: inputs.map(i => `${i.from}:${i.line}: ${i.text}`) }));
      }
      // $AllowedSender lists that leave the sender out.
      for (const c of cfgs) {
        for (const a of c.allowedSenders) {
          if (!senderIp) continue;
          const ok = a.spec.some(s => inNetwork(senderIp, s.replace(/:\d+$/, '')) === true);
          const names = a.spec.some(s => !/^[\d.:/a-f*]+$/i.test(s));
          if (!ok) f.push(finding('syslog-config-warning', { ...(names ? { severity: 'info' as const } : {}), summary: `$AllowedSender does not list ${senderIp}${names ? ' (unless a host name in it resolves to it)' : ''}`, evidence: [`${a.from}:${a.line}: $AllowedSender UDP, ${a.spec.join(', ')}`], hint: `$AllowedSender UDP, ${[...a.spec, `${senderIp}/32`].join(', ')}` }));
        }
        for (const w of c.warnings) f.push(finding('syslog-config-warning', { summary: w, evidence: [w] }));
      }
    }
    checks.push(check('receiver.syslog', 'syslog daemon', f, detail, otherwise));
  }

  // ---- firewall --------------------------------------------------------------------------------
  const datagram: Datagram = { family, dstPort: port };
  if (senderIp) datagram.srcIp = senderIp;
  if (receiverIp) datagram.dstIp = receiverIp;
  if (iface) datagram.iface = iface;
  if (ctx.target) {
    datagram.srcPort = ctx.target.localPort;
    // No MAC means broadcast, except in sysconfig, where the init script resolves it at start.
    datagram.pktType = ctx.target.remoteMac === undefined && ctx.target.source !== '/etc/sysconfig/netconsole' ? 'broadcast' : 'unicast';
  }
  const ipt = family === 4 ? facts.iptables : facts.ip6tables;
  const { verdicts, verdict: fw } = judgeFirewall({ ...(ipt ? { iptables: ipt.text } : {}), ...(facts.nft ? { nft: facts.nft.text } : {}) }, datagram);
  {
    const f: Finding[] = [];
    let detail: string;
    const pkt = `UDP ${senderIp ?? '(any sender)'} -> ${receiverIp ?? '(this host)'}:${port}${iface ? ` on ${iface}` : ''}`;
    if (!fw) {
      f.push(finding('firewall-unreadable', { summary: 'the firewall rules could not be read', evidence: facts.notes.filter(n => /iptables|nft/.test(n)) }));
      detail = 'unknown: no iptables-save or nft output';
    } else {
      const rule = (v: FirewallVerdict) => `${v.tool} ${v.where ?? ''}${v.line ? ` (line ${v.line})` : ''}: ${v.counters ? `[${v.counters.packets}:${v.counters.bytes}] ` : ''}${v.rule ?? ''}`;
      detail = `${pkt}: ${verdicts.map(v => `${v.tool} ${v.verdict}`).join(', ')}`;
      if (fw.verdict === 'dropped' || fw.verdict === 'rejected') {
        const evidence = [rule(fw)];
        if (fw.counters) evidence.push(`counters: ${fw.counters.packets} packets, ${fw.counters.bytes} bytes`);
        evidence.push(`path: ${fw.path.join(' -> ')}`);
        if (fw.reasons.length) evidence.push(...fw.reasons.map(r => `also undecided: ${r}`));
        const hint = acceptFix(fw, datagram);
        f.push(finding('firewall-drop', { summary: `the firewall ${fw.verdict === 'rejected' ? 'rejects' : 'drops'} ${pkt}`, evidence, hint, subject: `:${port}` }));
      } else if (fw.verdict === 'uncertain') {
        f.push(finding('firewall-uncertain', { summary: `cannot decide whether the firewall accepts ${pkt}`, evidence: [...fw.reasons, `path: ${fw.path.join(' -> ')}`], subject: `:${port}` }));
      }
    }
    checks.push(check('receiver.firewall', 'firewall', f, detail, fw ? 'pass' : 'unknown'));
  }

  // ---- rp_filter -------------------------------------------------------------------------------
  const counters = { ...(facts.snmp ? parseSnmp(facts.snmp.text) : {}), ...(facts.netstat ? parseSnmp(facts.netstat.text) : {}) };
  {
    const f: Finding[] = [];
    let detail = 'unknown';
    let status: CheckResult['status'] = 'unknown';
    const rp = facts.rpFilter;
    if (family === 6) {
      detail = 'IPv6: rp_filter does not apply';
      status = 'pass';
    } else if (rp && iface && rp[iface] !== undefined) {
      const eff = Math.max(Number(rp.all ?? 0), Number(rp[iface]));
      const route = facts.routeGet ? parseRouteGet(facts.routeGet.text) : undefined;
      detail = `rp_filter ${eff} on ${iface} (all=${rp.all ?? '?'}, ${iface}=${rp[iface]})${route ? `; route back via ${route.dev ?? '?'}` : ''}`;
      status = 'pass';
      const ev = [`/proc/sys/net/ipv4/conf/all/rp_filter: ${rp.all ?? '?'}`, `/proc/sys/net/ipv4/conf/${iface}/rp_filter: ${rp[iface]}`];
      if (route && facts.routeGet) ev.push(`${facts.routeGet.from}: ${facts.routeGet.text.trim().split('\n')[0]}`);
      if (counters['TcpExt.IPReversePathFilter'] !== undefined) ev.push(`TcpExt IPReversePathFilter: ${counters['TcpExt.IPReversePathFilter']}`);
      if (eff === 1 && route && route.dev && route.dev !== iface && route.dev !== 'lo') {
        f.push(finding('rp-filter-drop', { summary: `strict rp_filter on ${iface}: the route back to ${senderIp} leaves via ${route.dev}`, evidence: ev }));
      } else if (eff >= 1 && route?.type && route.type !== 'local') {
        f.push(finding('rp-filter-drop', { summary: `rp_filter ${eff} on ${iface} and no route back to ${senderIp} (${route.type})`, evidence: ev }));
      } else if (eff === 1 && !route) {
        detail += ' (route back to the sender unknown)';
        status = 'unknown';
      }
    } else if (rp) detail = `unknown: receiving interface ${iface ? `${iface} has no rp_filter entry` : 'not known'}`;
    checks.push(check('receiver.rp-filter', 'reverse-path filter', f, detail, status));
  }

  // ---- counters --------------------------------------------------------------------------------
  {
    const f: Finding[] = [];
    let detail = 'unknown';
    if (facts.snmp) {
      const c = (k: string) => counters[`Udp.${k}`] ?? 0;
      detail = `Udp: NoPorts ${c('NoPorts')}, InErrors ${c('InErrors')}, RcvbufErrors ${c('RcvbufErrors')}`;
      const ev = [`${facts.snmp.from}: ${detail}`];
      if (c('RcvbufErrors') > 0) f.push(finding('udp-drops', { summary: `${c('RcvbufErrors')} UDP datagrams dropped because a socket's receive buffer was full (since boot)`, evidence: ev }));
      else if (c('InErrors') > 0) f.push(finding('udp-drops', { summary: `${c('InErrors')} UDP datagrams could not be delivered (since boot)`, evidence: ev }));
      if (c('NoPorts') > 0 && !sockets.length) f.push(finding('udp-drops', { severity: 'info', summary: `${c('NoPorts')} UDP datagrams arrived for ports nobody listens on (since boot)`, evidence: ev, hint: `Start a listener on UDP ${port} (see receiver-not-listening); NoPorts counts datagrams to every closed port, so compare it before and after a test` }));
    }
    checks.push(check('receiver.counters', 'UDP counters', f, detail, facts.snmp ? 'pass' : 'unknown'));
  }

  // ---- SELinux -----------------------------------------------------------------------------------
  if (facts.semanage) {
    const f: Finding[] = [];
    const ranges = semanagePorts(facts.semanage.text, 'syslogd_port_t', 'udp');
    const ok = ranges.some(([a, b]) => port >= a && port <= b);
    if (!ok) f.push(finding('selinux-syslog-port', { summary: `UDP port ${port} is not labelled syslogd_port_t`, evidence: [`${facts.semanage.from}: syslogd_port_t udp ${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ') || '(none)'}`], hint: `semanage port -a -t syslogd_port_t -p udp ${port}` }));
    checks.push(check('receiver.selinux', 'SELinux port label', f, ok ? `udp ${port} is syslogd_port_t` : `udp ${port} not labelled`));
  }

  return { checks, findings: checks.flatMap(c => c.findings), sockets, syslog, logFiles, ...(fw ? { firewall: fw } : {}), verdicts, counters, datagram };
}
