/**
 * The hops inside this host after the firewall: the reverse-path filter, a listening socket, the
 * syslog daemon, the log file and the marker itself; and beside the path, the UDP counters and the
 * receiver checks that are not hops. Pure.
 */
import { endpoint } from '../../decode/addr.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/finding.js';
import type { CheckResult } from '../../checks/check.js';
import { packetList } from '../../findings/finding.js';
import { byId, receiverHop, step, type Hop, type Seen, type VerifyEvidence } from './evidence.js';
import { dnatEvidence, rateLimitFix } from '../../checks/receiver/checks/socket.js';
import { natDestination } from '../../checks/firewall/dnat.js';

export const rpFilterHop: Hop = (e, s) =>
  receiverHop(e, s, 'receiver.rp-filter', 'verify.rp-filter', 'reverse-path filter', () => {
    const n = s.delta('TcpExt.IPReversePathFilter');
    if (n <= 0) return undefined;
    const c = byId(e.receiverAfter.checks, 'receiver.rp-filter');
    const known = c?.findings.find(f => f.code === 'rp-filter-drop');
    // Another sender's asymmetric route moves the same counter: this one's route back must agree.
    if (e.sharedCounters && !known) return undefined;
    const ev = `TcpExt IPReversePathFilter +${n} during the test${e.sharedCounters ? ' (every sender of the run)' : ''}`;
    return step(
      'verify.rp-filter',
      'reverse-path filter',
      'fail',
      `${c?.detail ?? 'rp_filter'}; it dropped ${n} packets during the test`,
      [
        known
          ? { ...known, evidence: [...known.evidence, ev] }
          : finding('rp-filter-drop', {
              summary: `the reverse-path filter dropped ${n} packets during the test: the route back to ${e.arrivedFrom?.ip ?? e.senderIp} does not leave by ${e.iface}`,
              evidence: [ev],
            }),
      ],
    );
  });
export const socketHop: Hop = (e, s) =>
  receiverHop(e, s, 'receiver.listening', 'verify.socket', 'a socket listens', () => {
    const c = byId(e.receiverAfter.checks, 'receiver.listening');
    const noPorts = s.delta('Udp.NoPorts');
    const unreachable = s.icmp.filter(f => f.code === 'port-unreachable');
    const listening = e.receiverAfter.sockets.length > 0;
    const fwd = e.receiverAfter.firewall?.dnat;
    if (fwd?.forwarded) {
      // Forwarded by a DNAT: an ICMP port unreachable back to the sender is the translated
      // destination's answer (conntrack rewrites it to come from this host's address).
      if (!unreachable.length) return undefined;
      const to = natDestination(fwd);
      return step(
        'verify.socket',
        'a socket listens',
        'fail',
        `nothing listens at ${to}, where a DNAT forwards udp/${e.port}`,
        [
          finding('receiver-not-listening', {
            summary: `the datagrams are forwarded to ${to} by DNAT, and nothing listens there: it answered ICMP port unreachable`,
            evidence: [dnatEvidence(fwd), ...unreachable.flatMap(f => f.evidence.slice(0, 2))],
            hint: `Make the DNAT and the daemon agree: publish the port the daemon listens on (docker run -p ${e.port}:PORT/udp, PORT as in its configuration), or make the daemon there listen on udp/${fwd.toPort}`,
            subject: `:${e.port}`,
          }),
        ],
      );
    }
    // An ICMP port unreachable while a socket listens on the port is a firewall's REJECT (its own
    // hop), not a missing listener: only the check's verdict or an empty port says nothing listens.
    if (c?.status === 'fail' || ((unreachable.length || noPorts > 0) && !listening)) {
      // It listened when the test began: the daemon stopped during the test, with what it had received.
      const was = e.receiverBefore.sockets[0];
      const ev = [
        ...(was && !listening
          ? [
              `${was.process ?? 'a process'} listened on ${endpoint(was.address, was.port)} when the test began, and nothing listens after it: it stopped during the test`,
            ]
          : []),
        ...unreachable.flatMap(f => f.evidence.slice(0, 2)),
        ...(noPorts > 0
          ? [`Udp NoPorts rose by ${noPorts} during the ${e.sharedCounters ? 'run (every sender)' : 'test'}`]
          : []),
      ];
      const known = c?.findings.find(f => f.severity === 'error');
      const f = known
        ? { ...known, evidence: [...known.evidence, ...ev] }
        : finding('receiver-not-listening', {
            summary: `the datagrams arrive, but nothing listens on udp/${e.port}${unreachable.length ? ': this host answered ICMP port unreachable' : ''}`,
            evidence: ev,
          });
      return step(
        'verify.socket',
        'a socket listens',
        'fail',
        c?.status === 'fail'
          ? c.detail
          : `nothing listens on udp/${e.port}${noPorts ? ` (Udp NoPorts +${noPorts})` : ''}`,
        [f],
      );
    }
    const sock = e.receiverAfter.sockets[0];
    return sock
      ? step(
          'verify.socket',
          'a socket listens',
          'pass',
          `${sock.process ?? 'a process'} on ${endpoint(sock.address, sock.port)}`,
        )
      : undefined;
  });

export const daemonHop: Hop = (e, s) =>
  receiverHop(e, s, 'receiver.syslog', 'verify.daemon', 'syslog daemon', () => undefined);

export const logHop: Hop = (e, s) => {
  const lf = e.logFile;
  const fwd = e.receiverAfter.firewall?.dnat;
  if (fwd?.forwarded && !s.inLog)
    return step(
      'verify.log',
      'in the syslog file',
      'unknown',
      `not checked here: the datagrams are forwarded to ${natDestination(fwd)} by DNAT; the log is written there (docker logs, or the container's files)${lf?.markerFound ? `; ${lf.path} here holds the marker: a copy by another way` : ''}`,
    );
  if (!lf)
    return step(
      'verify.log',
      'in the syslog file',
      'unknown',
      'no plain log file in the configuration: give --log-file',
    );
  if (!lf.readable) return step('verify.log', 'in the syslog file', 'unknown', `${lf.path} cannot be read`);
  if (e.logElsewhere)
    return step(
      'verify.log',
      'in the syslog file',
      'unknown',
      `not checked: this port's rules write ${e.logElsewhere.join(', ')}; the test read ${lf.path}`,
    );
  // The marker there came only by the sender's syslog daemon: netconsole's copy did not arrive.
  const forwarded = !e.markerArrival && lf.markerFound && (e.copies?.syslog.marker ?? 0) > 0;
  const note = forwarded ? "; the marker there is the sender's syslog daemon's copy, not netconsole's" : '';
  // A sysrq line without a kernel timestamp cannot be told from others in the file: not judged.
  if (lf.markerFound && !forwarded && e.sysrqArrival?.usec !== undefined && !lf.sysrqFound)
    return burstCut(e, s, lf.path);
  // The sender's other targets whose rules may write this file sent the marker too, and the file
  // holds no more copies than they did: one copy that arrived was not written, and the file cannot
  // say whose. (The sender's syslog daemon's copy is left out: its kern facility may file it elsewhere.)
  const others = (e.copies?.targetsHere ?? e.copies?.targets)?.marker ?? 0;
  if (lf.markerFound && !forwarded && e.markerArrival && !s.inLog && others > 0 && lf.markerLines !== undefined)
    return step(
      'verify.log',
      'in the syslog file',
      'fail',
      `the marker is in ${lf.path} ${times(lf.markerLines)}, ${others + 1} copies arrived`,
      [
        finding('not-in-log', {
          summary: `${lf.path} holds the marker ${times(lf.markerLines)}, but ${others + 1} copies arrived whose rules write it (this target's and ${others} of the sender's other targets on this host): ${others + 1 - lf.markerLines} not written, and the file cannot say whose`,
          evidence: [
            `searched ${lf.path} for ${e.marker}: ${lf.markerLines} ${lf.markerLines === 1 ? 'line' : 'lines'}`,
            ...e.receiverAfter.logFiles.map(f => `the syslog configuration writes to ${f}`),
          ],
          hint: "Read the rules each of the sender's ports passes (a ruleset bound to one input, a stop or a filter in it): the copy of the target whose rules leave it out is the one missing",
        }),
      ],
    );
  if (lf.markerFound && !forwarded)
    return step('verify.log', 'in the syslog file', 'pass', `the marker is in ${lf.path}`);
  // The marker reached the NIC and the sysrq line after it reached the file: the path works for the
  // kernel's messages, and something between the socket and the file left the marker out.
  if (lf.sysrqFound && !forwarded && e.markerArrival)
    return step(
      'verify.log',
      'in the syslog file',
      'pass',
      `the sysrq line is in ${lf.path}; the marker arrived too (packets ${packetList(e.markerArrival.packets, e.markerArrival.packets.length)}) but is not there: a syslog rule filters messages by their text, or files this one elsewhere`,
    );
  if (lf.sysrqFound)
    return step(
      'verify.log',
      'in the syslog file',
      'pass',
      `the sysrq line is in ${lf.path} (not the marker: see "ordinary messages sent")${note}`,
    );
  if (!s.arrived) return step('verify.log', 'in the syslog file', 'unknown', `not in ${lf.path}${note}`);
  return step('verify.log', 'in the syslog file', 'fail', `not in ${lf.path}${note}`, [
    finding('not-in-log', {
      summary: `the datagrams reached the socket, but ${lf.path} does not have the marker`,
      evidence: [
        `searched ${lf.path} for ${e.marker} and the sysrq line`,
        ...e.receiverAfter.logFiles.map(f => `the syslog configuration writes to ${f}`),
      ],
    }),
  ]);
};

const times = (n: number) => (n === 1 ? 'once' : `${n} times`);

/**
 * The marker reached the file and the sysrq line that followed it did not, though both reached
 * the NIC: this host lets single messages through and loses part of a burst (a firewall rule with
 * a rate limit, a full receive buffer). A crash's log is a burst: it would be cut short.
 */
function burstCut(e: VerifyEvidence, s: Seen, path: string): CheckResult {
  const a = e.sysrqArrival!;
  const rcvbuf = s.delta('Udp.RcvbufErrors');
  const fw = byId(e.receiverAfter.checks, 'receiver.firewall');
  const limited = e.receiverAfter.syslog.flatMap(c => c.udpInputs.filter(i => i.port === e.port && i.rateLimit));
  const why = [
    ...(fw && fw.status !== 'pass' ? [`firewall: ${fw.detail}`] : []),
    ...(rcvbuf > 0 ? [`Udp RcvbufErrors +${rcvbuf} during the test: a receive buffer was full`] : []),
    ...limited.map(
      i => `${i.from}:${i.line}: ${i.text} (drops past ${i.rateLimit!.burst} messages in ${i.rateLimit!.interval} s)`,
    ),
  ];
  // The daemon's own rate limit, with the firewall passing and no buffer full: that is the cut.
  const daemonCut = limited.length > 0 && rcvbuf <= 0 && (!fw || fw.status === 'pass');
  // Nothing here cuts a burst (the firewall accepts, no buffer overflowed, no rate limit): the daemon
  // left the line out. Walked on the lab: `:msg, contains, "sysrq" stop` before the file rule.
  const unexplained =
    !why.length && fw?.status === 'pass' && e.receiverAfter.counters['Udp.RcvbufErrors'] !== undefined && rcvbuf <= 0;
  const head = `the marker reached ${path} but the sysrq line after it did not, though both reached ${e.iface}`;
  return step('verify.log', 'in the syslog file', 'fail', `the marker is in ${path}, the sysrq line is not`, [
    finding('not-in-log', {
      summary: daemonCut
        ? `${head}: the syslog daemon's UDP input has a rate limit, and a crash's log is a burst`
        : unexplained
          ? `${head}, and the firewall accepted them with no receive buffer full: the syslog daemon left it out (a rule that filters messages by their text, or files this one elsewhere; a queue that discards)`
          : `${head}: this host loses part of a burst (a firewall rule with a rate limit, a full receive buffer), and a crash's log is a burst`,
      evidence: [
        `the sysrq line reached ${e.iface} ${a.afterMs} ms after the trigger (packets ${packetList(a.packets, a.packets.length)}); not in ${path} after 2 s`,
        ...why,
        ...(unexplained ? [`firewall: ${fw.detail}`, 'Udp RcvbufErrors +0 during the test'] : []),
      ],
      hint: daemonCut
        ? rateLimitFix(limited[0]!)
        : unexplained
          ? `Find the syslog rule that leaves out "${a.text}" (a filter on its text such as :msg, contains or a regex, a stop, another file) and let kernel lines through: a crash's lines may match it too`
          : "Accept the sender's UDP without a rate limit (iptables -m limit / hashlimit, nft limit rate) before any rule that limits it, and if RcvbufErrors rose, raise the daemon's receive buffer (rsyslog imudp RcvBufSize, net.core.rmem_max)",
    }),
  ]);
}

/** The sysrq line arrived and the marker did not: the console log level keeps ordinary messages back. */
export const loglevelHop: Hop = e => {
  if (!e.sysrqArrival || e.markerArrival) return undefined;
  const low = e.sender.findings
    .filter(f => f.code === 'console-loglevel-low')
    .map(f => ({ ...f, severity: 'error' as const }));
  return step('verify.loglevel', 'ordinary messages sent', 'fail', 'the sysrq line arrived, the marker did not', [
    ...low,
    finding('marker-filtered', {
      summary: 'the sysrq line arrived but the marker did not: the console log level filters ordinary messages',
      evidence: low.flatMap(f => f.evidence),
    }),
  ]);
};

/** The UDP counters as they moved during the test (the collected ones count since boot). */
export const countersHop: Hop = (e, s) => {
  if (!Object.keys(e.receiverAfter.counters).some(k => k.startsWith('Udp.'))) return undefined;
  const [noPorts, inErrors, rcvbuf] = ['Udp.NoPorts', 'Udp.InErrors', 'Udp.RcvbufErrors'].map(k => s.delta(k)) as [
    number,
    number,
    number,
  ];
  const during = e.sharedCounters ? 'during the run (every sender)' : 'during the test';
  const detail = `${during}: Udp NoPorts +${noPorts}, InErrors +${inErrors}, RcvbufErrors +${rcvbuf}`;
  const f: Finding[] = [];
  if (rcvbuf > 0)
    f.push(
      finding('udp-drops', {
        summary: `${rcvbuf} UDP datagrams dropped ${during}: a socket's receive buffer was full`,
        evidence: [detail],
      }),
    );
  else if (inErrors > 0)
    f.push(
      finding('udp-drops', {
        summary: `${inErrors} UDP datagrams could not be delivered ${during}`,
        evidence: [detail],
      }),
    );
  return step('verify.counters', 'UDP counters', f.length ? 'warn' : 'pass', detail, f);
};

/** A receiver check that is not a hop (SELinux label): shown as collected. */
export const receiverSide =
  (id: string): Hop =>
  e =>
    byId(e.receiverAfter.checks, id);
