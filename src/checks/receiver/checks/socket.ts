/**
 * The receiver checks of delivery to a program: a socket on the port, bound where the datagrams
 * arrive; and the syslog daemon's configuration (UDP input on the port, where messages land). Pure.
 */
import { endpoint } from '../../../decode/addr.js';
import type { Finding } from '../../../findings/finding.js';
import { finding } from '../../../findings/catalog.js';
import type { ReceiverFacts } from '../../host/facts.js';
import type { UdpSocket } from '../../host/procnet.js';
import { type CheckResult, check } from '../../check.js';
import { inNetwork } from '../../firewall/address.js';
import { ipFamily } from '../../../config/netconsole-spec.js';
import { SYSLOG_DAEMONS, syslogDaemon } from '../../syslog/daemons.js';
import { destinationsFor, type LogDestination, type SyslogConfig, type UdpInput } from '../../syslog/types.js';
import type { ReceiverView } from '../view.js';
import type { Dnat } from '../../firewall/model.js';
import { natDestination } from '../../firewall/dnat.js';
import { daemonElsewhere, daemonState, installSyslogFix, noSyslogDaemon } from '../daemon-state.js';

const WILDCARD = new Set(['0.0.0.0', '::', '*']);

/** The fix for an rsyslog imudp input with a rate limit. */
export const rateLimitFix = (i: UdpInput) =>
  `In ${i.from}:${i.line}, remove RateLimit.Interval from input(type="imudp" port="${i.port}") (or raise RateLimit.Burst above the longest crash log, e.g. 20000), then systemctl restart rsyslog`;

/**
 * What rsyslog makes of its `$AllowedSender UDP` lines (one list for all of them), as rsyslog 8.2302
 * did on the lab: an address or network is an entry, IPv6 in brackets (`[fd99::2]`, `[fd99::]/64`);
 * an IPv6 address without brackets is a parse error that drops it and the rest of its line; anything
 * else is a host name looked up at start-up, and left out when it does not resolve, as `ip:port`
 * never does. An empty list accepts every sender.
 */
function rsyslogAcl(lines: ReadonlyArray<{ spec: readonly string[] }>): { nets: string[]; names: string[] } {
  const nets: string[] = [];
  const names: string[] = [];
  for (const { spec } of lines)
    for (const s of spec) {
      const v6 = /^\[([\da-f:.]+)\](\/\d{1,3})?$/i.exec(s);
      const [addr] = s.split('/') as [string];
      if (v6 && ipFamily(v6[1]!) === 6) nets.push(v6[1]! + (v6[2] ?? ''));
      else if (ipFamily(addr) === 6) break;
      else if (ipFamily(addr) === 4) nets.push(s);
      else if (!/^[\d.]+:\d+$/.test(s)) names.push(s);
    }
  return { nets, names };
}

/** The finding for an rsyslog allowed-sender list that leaves the sender out, if it does. */
function aclFinding(lines: SyslogConfig['allowedSenders'], senderIp: string): Finding | undefined {
  const [a] = lines;
  const acl = rsyslogAcl(lines);
  // No entry rsyslog could use: it keeps no list and accepts every sender.
  if (!a || acl.nets.some(n => inNetwork(senderIp, n) === true) || (!acl.nets.length && !acl.names.length))
    return undefined;
  // Only addresses and networks: rsyslog throws the sender's datagrams away, certainly.
  const hostNames = acl.names.length > 0;
  return finding(hostNames ? 'syslog-config-warning' : 'syslog-sender-refused', {
    ...(hostNames ? { severity: 'info' as const } : {}),
    summary: `$AllowedSender does not list ${senderIp}${hostNames ? ' (unless a host name in it resolves to it)' : ''}`,
    evidence: lines.map(x => `${x.from}:${x.line}: $AllowedSender UDP, ${x.spec.join(', ')}`),
    hint: `In ${a.from}:${a.line}: $AllowedSender UDP, ${[...a.spec, ipFamily(senderIp) === 6 ? `[${senderIp}]/128` : `${senderIp}/32`].join(', ')}, then restart rsyslog`,
  });
}

/** The fix of a daemon (that has its own) for its input on another port: undefined for the catalog's. */
function portFix(cfgs: readonly SyslogConfig[], port: number): string | undefined {
  for (const c of cfgs) {
    const own = syslogDaemon(c.daemon)?.portFix;
    const input = c.udpInputs.find(i => i.port !== port);
    if (own && input && !c.udpInputs.some(i => i.port === port)) return own(input, port);
  }
  return undefined;
}

/** The DNAT that sends the datagrams to another host (a container), when the firewall makes one. */
const forwardedBy = (v: Pick<ReceiverView, 'firewall'>) => (v.firewall?.dnat?.forwarded ? v.firewall.dnat : undefined);

/** `DNAT (iptables nat DOCKER, line 16: [3:192] -A DOCKER ... -j DNAT --to-destination 172.17.0.2:514)`. */
export const dnatEvidence = (d: Dnat) =>
  `${d.tool} ${d.where}${d.line ? ` (line ${d.line})` : ''}: ${d.counters ? `[${d.counters.packets}:${d.counters.bytes}] ` : ''}${d.rule}`;

/**
 * The port is forwarded to another host by a DNAT: no socket of this host receives the datagrams,
 * and one that listens on the port (docker-proxy, with Docker's userland proxy) serves only
 * connections made from this host itself.
 */
function forwardedListening(v: ReceiverView, d: Dnat): CheckResult {
  const to = natDestination(d);
  const here = v.sockets.map(s => `${endpoint(s.address, s.port)}${s.process ? ` (${s.process})` : ''}`);
  const proxy = v.sockets.find(s => s.process && /docker-proxy|rootlessport|slirp4netns|pasta|conmon/.test(s.process));
  const detail = `none needed here: udp/${v.port} is forwarded to ${to} by DNAT (${d.tool} ${d.where})${here.length ? `; ${here.join(', ')} here serves only this host's own connections` : ''}`;
  return check(
    'receiver.listening',
    'listening socket',
    [
      finding('port-forwarded', {
        summary: `udp/${v.port} is forwarded to ${to} by DNAT${d.oface ? ` (out by ${d.oface})` : ''}: the daemon there receives the datagrams, not this host; it is not checked from here`,
        evidence: [
          dnatEvidence(d),
          `path: ${d.via.join(' -> ')}`,
          ...(here.length
            ? [
                `${proxy ? `${proxy.process} (a port proxy, not a syslog daemon)` : 'a socket'} on ${v.sockets.map(s => endpoint(s.address, s.port)).join(', ')}: the DNAT takes the sender's datagrams before it could`,
              ]
            : []),
        ],
        hint: `Check the daemon at ${to}: run netdiag check --port ${d.toPort} inside the container (docker exec), or read its log (docker logs)`,
        subject: `:${v.port}`,
      }),
    ],
    detail,
    'pass',
  );
}

export function listeningCheck(facts: ReceiverFacts, v: ReceiverView): CheckResult {
  const { port, sockets, receiverIp, family } = v;
  const f: Finding[] = [];
  let detail: string;
  const fwd = forwardedBy(v);
  if (fwd) return forwardedListening(v, fwd);
  if (!v.socketsKnown) detail = 'unknown: /proc/net/udp and ss not available';
  else if (!sockets.length) {
    const redirected = v.firewall?.dnat && !v.firewall.dnat.forwarded ? v.firewall.dnat.toPort : undefined;
    detail = `nothing on port ${redirected ?? port}${redirected !== undefined ? ` (where a ${v.firewall!.dnat!.tool} DNAT sends udp/${port})` : ''}`;
    const others = [...new Set(v.allSockets.map(s => endpoint(s.address, s.port)))].slice(0, 10);
    const evidence = [
      `${[facts.udp?.from, facts.udp6?.from, facts.ss?.from].filter(Boolean).join(', ')}: no socket on port ${port}`,
      ...(others.length ? [`UDP sockets: ${others.join(', ')}`] : []),
    ];
    // A daemon set up for this port that does not run is the cause, not its configuration.
    const stopped = v.judgedSyslog
      .map(c => ({ c, d: syslogDaemon(c.daemon), input: c.udpInputs.find(i => i.port === port) }))
      .map(x => ({ ...x, state: x.d && x.input ? daemonState(x.d, facts) : undefined }))
      .find(x => x.state?.running === false);
    if (stopped?.d && stopped.input && stopped.state) {
      detail += ` (${stopped.d.name} not running)`;
      f.push(
        finding('syslog-not-running', {
          summary: `${stopped.d.name} is configured for UDP ${port} but not running`,
          evidence: [
            `${stopped.input.from}:${stopped.input.line}: ${stopped.input.text}`,
            stopped.state.evidence,
            ...evidence,
          ],
          hint: `systemctl start ${stopped.d.service} (then: systemctl status ${stopped.d.service}, to see why it had stopped${stopped.d.syntaxCheck ? `; ${stopped.d.syntaxCheck} checks its configuration` : ''})`,
          subject: `:${port}`,
        }),
      );
    } else {
      const noUdp = v.judgedSyslog.find(c => !c.udpInputs.length);
      const d = noUdp ? syslogDaemon(noUdp.daemon) : undefined;
      const moved = noUdp ? undefined : portFix(v.judgedSyslog, port);
      // No daemon's configuration, and none runs: one to install (journald's log receives nothing).
      const none = v.judgedSyslog.length ? undefined : noSyslogDaemon(facts, SYSLOG_DAEMONS);
      const install = none ? installSyslogFix(port, none.journald) : undefined;
      // A daemon in another network namespace only (a container): its port may not be published.
      const elsewhere = daemonElsewhere(facts, SYSLOG_DAEMONS);
      const hint = noUdp && d ? d.enableUdpFix(port, noUdp) : moved ? moved : install ? install : undefined;
      f.push(
        finding('receiver-not-listening', {
          summary: `nothing listens on UDP port ${port}${none ? ` (no syslog daemon runs here${none.journald ? ': systemd-journald keeps the log' : ''})` : ''}`,
          evidence: [...evidence, ...(none ? [none.evidence] : []), ...(elsewhere ? [elsewhere] : [])],
          subject: `:${port}`,
          ...(elsewhere
            ? {
                hint: `If the syslog daemon that should receive runs in a container, publish its port (no DNAT forwards udp/${port} here): docker run -p ${port}:514/udp (podman run -p ${port}:514/udp), 514 being the port it listens on inside${hint ? `; if it is this host's own: ${hint}` : ''}`,
              }
            : hint
              ? { hint }
              : {}),
        }),
      );
    }
  } else {
    detail = sockets.map(s => `${endpoint(s.address, s.port)}${s.process ? ` (${s.process})` : ''}`).join(', ');
    const fits = (s: UdpSocket) => {
      if (WILDCARD.has(s.address)) return s.family === family || (s.family === 6 && s.address === '::');
      if (!receiverIp) return !s.address.startsWith('127.') && s.address !== '::1';
      return s.address === receiverIp.toLowerCase() || s.address === `::ffff:${receiverIp}`;
    };
    if (!sockets.some(fits)) {
      // The daemon's input that binds the address, for a fix that names its line.
      const bound = v.judgedSyslog.flatMap(c =>
        c.udpInputs
          .filter(i => i.port === port && i.address !== undefined)
          .map(i => ({ i, d: syslogDaemon(c.daemon) })),
      )[0];
      f.push(
        finding('receiver-bound-elsewhere', {
          summary: `port ${port} is bound only to ${sockets.map(s => s.address).join(', ')}${receiverIp ? `, not ${receiverIp}` : ''}`,
          evidence: [
            ...sockets.map(s => `${s.from}: ${endpoint(s.address, s.port)}${s.process ? ` (${s.process})` : ''}`),
            ...(bound ? [`${bound.i.from}:${bound.i.line}: ${bound.i.text}`] : []),
          ],
          subject: `:${port}`,
          ...(bound?.d ? { hint: bound.d.listenAnywhereFix(bound.i) } : {}),
        }),
      );
    }
  }
  return check('receiver.listening', 'listening socket', f, detail, v.socketsKnown ? 'pass' : 'unknown');
}

/**
 * The file rules of daemons that receive UDP, when every one of them leaves netconsole's messages
 * out (kern.*, a facility or severity filter) and nothing else (forwarding, a program) may take
 * them; else empty. netconsole sends no <PRI>: the daemon files its messages as user.notice.
 */
function filteredEverywhere(cfgs: readonly SyslogConfig[], port: number): LogDestination[] {
  const receiving = cfgs.filter(c => c.udpInputs.length);
  if (!receiving.length || receiving.some(c => c.otherOutputs !== false)) return [];
  const dests = receiving.flatMap(c => destinationsFor(c, port));
  return dests.length && dests.every(d => d.netconsole === false) ? dests : [];
}

/** Whether a rule's text names an address (as a whole word: 10.0.0.2 is not in 10.0.0.21). */
function namesAddress(text: string, ip: string): boolean {
  const esc = ip.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^0-9A-Za-z.:])${esc}($|[^0-9A-Za-z.:])`, 'i').test(text);
}

/**
 * The fix for a rule written for the sender's own address when the daemon sees a NAT router's:
 * name the address that arrives, or have the router leave the datagrams to this host untranslated.
 */
function natFix(daemon: string, d: LogDestination, own: string, seen: string, v: ReceiverView): string {
  const ipt = ipFamily(seen) === 6 ? 'ip6tables' : 'iptables';
  const to = v.receiverIp ? ` -d ${v.receiverIp}` : '';
  return (
    `Select them by the address ${daemon} sees: ${seen} in place of ${own} in the rule for ${d.file} (${d.from}:${d.line}; ` +
    `every sender that router translates arrives as ${seen}), or keep the senders' own addresses: on the router, ` +
    `${ipt} -t nat -I POSTROUTING${to} -p udp --dport ${v.port} -j RETURN; then restart ${daemon}`
  );
}

export function syslogCheck(facts: ReceiverFacts, v: ReceiverView): CheckResult {
  const { port, sockets, senderIp, logFiles } = v;
  const cfgs = v.judgedSyslog;
  const f: Finding[] = [];
  let detail: string;
  let otherwise: CheckResult['status'] = 'pass';
  const fwd = forwardedBy(v);
  if (fwd)
    // This host's daemon never sees them: the one at the DNAT's destination does.
    return check(
      'receiver.syslog',
      'syslog daemon',
      [],
      `not judged: udp/${port} is forwarded to ${natDestination(fwd)} by DNAT; the daemon there receives the datagrams${cfgs.length ? ` (this host's ${cfgs.map(c => c.daemon).join(', ')} does not)` : ''}`,
      'unknown',
    );
  if (!cfgs.length) {
    const paths = SYSLOG_DAEMONS.flatMap(d => [...(d.mainConfig ? [d.mainConfig.path] : []), ...(d.otherFiles ?? [])]);
    const none = noSyslogDaemon(facts, SYSLOG_DAEMONS);
    f.push(
      finding('syslog-config-unknown', {
        summary: `no syslog daemon configuration found${none?.journald ? ' (systemd-journald keeps the log: it receives nothing from the network)' : ''}`,
        evidence: [`${paths.join(', ')}: none readable`, ...(none ? [none.evidence] : [])],
        // Something else listening (netconsd, a netcat) needs no daemon: the catalog's fix says so.
        ...(none && !sockets.length ? { hint: installSyslogFix(port, none.journald) } : {}),
      }),
    );
    detail = 'no configuration found';
    otherwise = 'unknown';
  } else {
    const inputs = cfgs.flatMap(c => c.udpInputs);
    const onPort = inputs.filter(i => i.port === port);
    const names = cfgs.map(c => c.daemon).join(', ');
    detail = `${names}: ${inputs.length ? `UDP ${[...new Set(inputs.map(i => endpoint(i.address ?? '*', i.port)))].join(', ')}` : 'no UDP input'}${logFiles.length ? `; messages land in ${logFiles.join(', ')}` : ''}`;
    const listening = sockets.length > 0;
    if (!inputs.length) {
      const disabled = cfgs.flatMap(c => c.disabledUdp);
      const evidence = disabled.length
        ? disabled.map(d => `${d.from}:${d.line}: ${d.text} (${d.why})`)
        : cfgs.map(c => `${c.daemon}: no UDP input in its configuration`);
      const daemon = cfgs[0]!.daemon;
      const hint = syslogDaemon(daemon)!.enableUdpFix(port, cfgs[0]!);
      f.push(
        finding('syslog-udp-disabled', {
          ...(listening ? { severity: 'warning' as const } : {}),
          summary: `${daemon} does not receive UDP${listening ? ` (something else listens on ${port})` : ''}`,
          evidence,
          hint,
        }),
      );
    } else if (!onPort.length && !listening) {
      const moved = portFix(cfgs, port);
      f.push(
        finding('syslog-port-mismatch', {
          summary: `${names} receives UDP on ${[...new Set(inputs.map(i => i.port))].join(', ')}, not ${port}`,
          evidence: inputs.map(i => `${i.from}:${i.line}: ${i.text}`),
          ...(moved ? { hint: moved } : {}),
        }),
      );
    }
    // A rate limit on the input: a crash's log is a burst, and its end is what the limit drops.
    for (const i of onPort.filter(x => x.rateLimit))
      f.push(
        finding('syslog-config-warning', {
          summary: `the UDP input drops every message past ${i.rateLimit!.burst} in ${i.rateLimit!.interval} s (all senders together): a crash's log is a burst, and its end would be lost`,
          evidence: [`${i.from}:${i.line}: ${i.text}`],
          hint: rateLimitFix(i),
        }),
      );
    // $AllowedSender lists that leave the sender out: all of a configuration's lines make one list.
    for (const c of cfgs) {
      const refused = senderIp ? aclFinding(c.allowedSenders, senderIp) : undefined;
      if (refused) f.push(refused);
      for (const w of c.warnings) {
        const hint = c.warningFixes?.get(w);
        f.push(finding('syslog-config-warning', { summary: w, evidence: [w], ...(hint ? { hint } : {}) }));
      }
    }
    const filtered = filteredEverywhere(cfgs, port);
    if (filtered.length && onPort.length) {
      // A `stop` before the rules that would write them: it is the cause, whatever they select.
      const stops = [
        ...new Map(filtered.flatMap(d => (d.discardedBy ? [d.discardedBy] : [])).map(x => [`${x.from}:${x.line}`, x])),
      ].map(([where, x]) => `${where}: ${x.text}`);
      const from = senderIp ?? 'the sender';
      const receiving = cfgs.find(c => c.udpInputs.length)!;
      const own = syslogDaemon(receiving.daemon)?.filtered;
      // Rules on the program name ($programname, syslog-ng's program()): netconsole's lines have none.
      const byTag = filtered.some(d =>
        /\$(programname|syslogtag|app-name)\b|^:(programname|syslogtag|app-name),|program\(/i.test(d.selector),
      );
      // Behind NAT, rules written for the sender's own address never meet it: the daemon sees the router's.
      const natFrom = v.ctx.translatedFrom;
      const forOwn =
        natFrom && senderIp && !stops.length ? filtered.filter(d => namesAddress(d.selector, natFrom)) : [];
      f.push(
        finding('syslog-filtered', {
          summary: stops.length
            ? `${names} receives on udp/${port}, but discards netconsole's messages from ${from} (${own?.discard ?? 'stop'}) before any rule writes them`
            : forOwn.length
              ? `${names} receives on udp/${port}, but none of its rules writes netconsole's messages: they arrive from ${senderIp}, not ${natFrom} (a router on the way translates the source: NAT), and the rules that would write them select ${natFrom}`
              : `${names} receives on udp/${port}, but none of its rules writes netconsole's messages: they arrive as user.notice${byTag ? ' without a program name' : ''}, and every rule selects something else`,
          evidence: [
            ...stops.map(x => `${x} (discards them)`),
            ...filtered.map(
              d => `${d.from}:${d.line}: ${d.selector} -> ${d.file}${d.discardedBy ? ' (after the discard)' : ''}`,
            ),
          ],
          hint: forOwn.length
            ? natFix(receiving.daemon, forOwn[0]!, natFrom!, senderIp!, v)
            : own
              ? own.fix(receiving, senderIp, stops[0]?.replace(/: .*$/, ''))
              : stops.length
                ? `Write them before the discard: put if $fromhost-ip == "${senderIp ?? 'SENDER_IP'}" then { action(type="omfile" file="/var/log/netconsole.log") stop } before ${stops[0]!.replace(/: .*$/, '')} (or make that rule leave ${from} out), then restart rsyslog`
                : `Select them by their source, not by ${byTag ? 'program name or ' : ''}kernel facility: if $fromhost-ip == "${senderIp ?? 'SENDER_IP'}" then { action(type="omfile" file="/var/log/netconsole.log") stop } (or *.* in the ruleset bound to the UDP input), then restart rsyslog`,
        }),
      );
    }
  }
  return check('receiver.syslog', 'syslog daemon', f, detail, otherwise);
}
