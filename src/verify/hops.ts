/**
 * The hops a netconsole datagram takes, each judged from what verify saw (the capture, the counters
 * before and after, the log file) and what the checks read (both hosts' facts). A hop's own
 * evidence beats a static check: a check that says "broken" for a hop the test's messages went
 * through is shown as a warning, contradicted. judge.ts orders them and finds the first that
 * failed. Pure.
 */
import type { CheckResult, CheckStatus } from '../checks/check.js';
import type { ReceiverReport, SenderReport } from '../checks/run.js';
import { acceptFix } from '../checks/firewall/fix.js';
import { rejectAnswer } from '../checks/firewall/reject.js';
import type { FirewallVerdict } from '../checks/firewall/model.js';
import { syslogDaemon } from '../checks/syslog/daemons.js';
import type { NetconsoleTarget } from '../config/target.js';
import { endpoint } from '../decode/addr.js';
import { finding } from '../findings/catalog.js';
import { packetList, type Finding } from '../findings/finding.js';
import type { AnalysisResult } from '../pipeline/types.js';

/** What the capture saw of the triggered messages. */
export interface Arrival {
  /** ms after the trigger was sent. */
  afterMs: number;
  packets: number[];
  dstMac?: string;
  dstPort: number;
  dstIp: string;
  text: string;
  /** The kernel's timestamp of the record (µs since boot), as the datagram carried it. */
  usec?: number;
}

/**
 * Whether a log file's text holds this sender's sysrq line: a line naming sysrq that carries the
 * kernel timestamp the line had on the wire (`[   45.287505]` in plain mode, `,45287505,` in the
 * extended header), or, when the wire gave no timestamp, the sender's address as a word. On a log
 * server every sender's sysrq lines land in the same file (a fleet run triggers several at once),
 * so a sysrq line alone proves nothing about this sender.
 */
export function sysrqLogged(text: string, sysrq: Pick<Arrival, 'usec'> | undefined, senderIp: string): boolean {
  if (!sysrq) return false;
  const u = sysrq.usec;
  const stamp =
    u !== undefined && Number.isInteger(u) && u >= 0
      ? new RegExp(`\\[\\s*${Math.floor(u / 1e6)}\\.${String(u % 1e6).padStart(6, '0')}\\]|[,;]${u},`)
      : undefined;
  const ip = senderIp.toLowerCase();
  const word = (l: string) =>
    l
      .toLowerCase()
      .split(/[\s[\]<>(),;]+/)
      .includes(ip);
  return text.split('\n').some(l => SYSRQ_LINE.test(l) && (stamp ? stamp.test(l) : word(l)));
}

/** A kernel log line of sysrq (`sysrq: Show Regs`; `SysRq : ` on old kernels). */
export const SYSRQ_LINE = /sysrq\s*:|SysRq\s*:/i;

export interface VerifyEvidence {
  sender: SenderReport;
  receiverBefore: ReceiverReport;
  receiverAfter: ReceiverReport;
  /** The receiving interface's MAC addresses. */
  receiverMacs: string[];
  /** Every address of this host: the destination IPs its kernel accepts. Unknown when absent. */
  receiverAddrs?: string[];
  iface: string;
  /** The port this host receives on: the destination port the datagrams must have. */
  port: number;
  /** The datagrams' source: the netconsole target's local IP. */
  senderIp: string;
  /** The netconsole target under test, for the fixes. */
  target?: NetconsoleTarget;
  marker: string;
  /** The trigger command's failure, when it failed. */
  triggerError?: string;
  markerArrival?: Arrival;
  sysrqArrival?: Arrival;
  /** Messages from the sender seen during the test, on the ports verify watches. */
  messagesFromSender: number;
  wire: AnalysisResult;
  logFile?: { path: string; markerFound: boolean; sysrqFound: boolean; readable: boolean };
  timeoutSec: number;
  /**
   * The counters before and after were moved by other senders too (a fleet run tests many at
   * once): a rise alone does not accuse this sender, only with its own check agreeing.
   */
  sharedCounters?: boolean;
  /** The tested target's configfs send-error counts (`transmit_errors`), before and after the test. */
  transmitErrors?: TransmitCount[];
}

/** A configfs target's `transmit_errors` before the test (from its facts) and after (read by the trigger). */
export interface TransmitCount {
  name: string;
  before?: number;
  after: number;
}

/** What the hops share, worked out once. */
export interface Seen {
  arrived?: Arrival;
  /** The marker or the sysrq line is in the log file: every hop up to it worked. */
  inLog: boolean;
  /** The ICMP answers this host sent back (port unreachable, a REJECT's prohibited codes). */
  icmp: Finding[];
  /** A counter's rise during the test. */
  delta(key: string): number;
}

export type Hop = (e: VerifyEvidence, s: Seen) => CheckResult | undefined;

const step = (
  id: string,
  name: string,
  status: CheckStatus,
  detail: string,
  findings: Finding[] = [],
): CheckResult => ({ id, name, status, detail, findings });

/** A failing static check on a hop the messages went through: a warning, with what contradicts it. */
export function contradicted(c: CheckResult, why: string): CheckResult {
  if (c.status !== 'fail') return c;
  return {
    ...c,
    status: 'warn',
    detail: `${c.detail} (but ${why})`,
    findings: c.findings.map(f => (f.severity === 'error' ? { ...f, severity: 'warning' as const } : f)),
  };
}

const byId = (cs: readonly CheckResult[], id: string) => cs.find(c => c.id === id);

/** A sender check on the datagram's path: as collected, unless the messages arrived. */
export const senderHop =
  (id: string): Hop =>
  (e, s) => {
    const c = byId(e.sender.checks, id);
    return c && s.arrived ? contradicted(c, "the test's messages arrived") : c;
  };

export const triggerHop: Hop = e =>
  e.triggerError
    ? step('verify.trigger', 'trigger on the sender', 'fail', e.triggerError, [
        finding('trigger-failed', { summary: `the trigger failed on the sender: ${e.triggerError}` }),
      ])
    : step(
        'verify.trigger',
        'trigger on the sender',
        'pass',
        `marker ${e.marker} written to /dev/kmsg, sysrq triggered`,
      );

export const wireHop: Hop = (e, s) => {
  if (s.arrived)
    return step(
      'verify.wire',
      'messages on the wire',
      'pass',
      `arrived ${s.arrived.afterMs} ms after the trigger (packets ${packetList(s.arrived.packets, s.arrived.packets.length)})`,
    );
  const detail = `nothing from ${e.senderIp} arrived on ${e.iface} within ${e.timeoutSec} s (${e.messagesFromSender} other messages from it)`;
  if (e.triggerError) return step('verify.wire', 'messages on the wire', 'unknown', detail);
  const senderErrors = e.sender.findings.filter(f => f.severity === 'error');
  const why = senderErrors.length
    ? `the sender checks explain it: ${senderErrors.map(f => f.code).join(', ')}`
    : 'no sender check explains it';
  return step('verify.wire', 'messages on the wire', 'fail', detail, [
    finding('not-on-wire', {
      subject: e.senderIp,
      summary: `no datagram of the test reached ${e.iface} within ${e.timeoutSec} s; ${why}`,
      evidence: [
        `capture on ${e.iface}, filter: traffic from ${e.senderIp}`,
        `${e.messagesFromSender} messages from ${e.senderIp} on udp/${e.port} and the netconsole ports during the test`,
      ],
    }),
  ]);
};

/**
 * The sender's kernel could not send: the target's `transmit_errors` rose during the test. With
 * nothing arriving that is the root cause (lost before the wire); with messages arriving, some
 * were lost (a warning).
 */
export const transmitHop: Hop = (e, s) => {
  const counts = e.transmitErrors ?? [];
  if (!counts.length) return undefined;
  const rose = counts.filter(c => c.before !== undefined && c.after > c.before);
  const list = counts
    .map(c => `${c.name} ${c.before !== undefined && c.before !== c.after ? `${c.before} → ` : ''}${c.after}`)
    .join(', ');
  if (!rose.length)
    return step(
      'verify.transmit',
      "sent by the sender's kernel",
      'pass',
      `transmit_errors ${list}, none during the test`,
    );
  const n = rose.reduce((a, c) => a + c.after - c.before!, 0);
  const lost = !s.arrived && !e.triggerError;
  return step(
    'verify.transmit',
    "sent by the sender's kernel",
    lost ? 'fail' : 'warn',
    `transmit_errors ${list}: ${n} during the test`,
    [
      finding('netconsole-transmit-errors', {
        subject: e.senderIp,
        summary: lost
          ? `the sender's kernel could not send the test's messages: ${rose.map(c => c.name).join(', ')} counted ${n} send errors during the test`
          : `${n} packets of the test could not be sent by the sender's kernel (${rose.map(c => c.name).join(', ')})`,
        evidence: rose.map(
          c =>
            `/sys/kernel/config/netconsole/${c.name}/transmit_errors: ${c.before} before the trigger, ${c.after} after`,
        ),
        severity: lost ? 'error' : 'warning',
      }),
    ],
  );
};

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
  return step('verify.mac', 'destination MAC', 'fail', `${a.dstMac} is not ${e.iface}'s (${ours})`, [
    finding('dst-mac-mismatch', {
      subject: e.senderIp,
      summary: `the frames arrive addressed to ${a.dstMac}, not to ${e.iface} (${ours}): the NIC drops them`,
      evidence: [`packets ${packetList(a.packets, a.packets.length)} to ${a.dstMac}`, `${e.iface} has ${ours}`],
      packets: a.packets,
      hint: `On the sender, set the remote MAC to ${e.receiverMacs[0] ?? "this host's MAC"} (or the router's when one is between) and reload netconsole`,
    }),
  ]);
};

export const dstIpHop: Hop = (e, s) => {
  const a = s.arrived;
  if (!a) return notTested('verify.dst-ip', 'destination IP');
  const mine = e.receiverAddrs;
  if (!mine)
    return step('verify.dst-ip', 'destination IP', 'unknown', `${a.dstIp}; this host's addresses are not known`);
  if (mine.includes(a.dstIp.toLowerCase()) || a.dstIp === '255.255.255.255')
    return step('verify.dst-ip', 'destination IP', 'pass', `${a.dstIp} is this host's`);
  const fix = mine.find(
    x => x.includes(':') === a.dstIp.includes(':') && !x.startsWith('127.') && x !== '::1' && !x.startsWith('fe80'),
  );
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

/** A receiver check on the path: proven by the log file, else by its own evidence, else as collected. */
function receiverHop(
  e: VerifyEvidence,
  s: Seen,
  staticId: string,
  id: string,
  name: string,
  dynamic: () => CheckResult | undefined,
): CheckResult {
  const c = byId(e.receiverAfter.checks, staticId);
  const base = c ? { ...c, id, name } : step(id, name, 'unknown', 'not checked');
  if (s.inLog) return contradicted(base, "the test's message reached the log file");
  if (!s.arrived) return base;
  return dynamic() ?? base;
}

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
              summary: `the reverse-path filter dropped ${n} packets during the test: the route back to ${e.senderIp} does not leave by ${e.iface}`,
              evidence: [ev],
            }),
      ],
    );
  });

/** The same rule, before and after the test (its text without the counters nft prints in it). */
function sameRule(a: FirewallVerdict, b: FirewallVerdict): boolean {
  const bare = (v: FirewallVerdict) => (v.rule ?? '').replace(/\s*counter packets \d+ bytes \d+/, ' counter');
  return a.tool === b.tool && a.where === b.where && a.verdict === b.verdict && bare(a) === bare(b);
}

/** The ICMP answers that are a REJECT's own (prohibited codes), not "nothing listens". */
const rejectAnswers = (s: Seen) => s.icmp.filter(f => f.code !== 'port-unreachable');

/**
 * The firewall: a DROP is `firewall-drop`; a REJECT is `firewall-reject`, as the wire analysis
 * names it, with the ICMP answer the rule sends (and the answers the capture saw).
 */
export const firewallHop: Hop = (e, s) =>
  receiverHop(e, s, 'receiver.firewall', 'verify.firewall', 'firewall', () => {
    const before = e.receiverBefore.firewall;
    const fw = e.receiverAfter.firewall;
    const family = e.senderIp.includes(':') ? 6 : 4;
    if (fw && (fw.verdict === 'dropped' || fw.verdict === 'rejected')) {
      // The counter's rise is evidence only when the rule deciding before is the same one.
      const same = before && sameRule(before, fw);
      const rose = same && fw.counters && before.counters ? fw.counters.packets - before.counters.packets : undefined;
      const answer = rejectAnswer(fw, family);
      const seenAnswers = answer
        ? s.icmp.flatMap(f => f.evidence.slice(0, 2).map(x => `the REJECT's answer: ${x}`))
        : [];
      const counter = rose !== undefined ? ` (counter +${rose} during the test)` : '';
      const rule = fw.rule ?? `the ${fw.where ?? ''} policy`;
      return step(
        'verify.firewall',
        'firewall',
        'fail',
        `${fw.tool}: ${fw.verdict} by ${fw.rule ?? 'policy'}${answer ? `, answering ${answer.text}` : ''}${rose !== undefined ? `, its counter rose by ${rose}` : ''}`,
        [
          finding(answer ? 'firewall-reject' : 'firewall-drop', {
            subject: e.senderIp,
            summary: answer
              ? `${fw.tool} rejects the datagrams with ${answer.text}: ${rule}${counter}`
              : `${fw.tool} drops the datagrams: ${rule}${counter}`,
            evidence: [
              `${fw.where ?? fw.tool}${fw.line ? ` line ${fw.line}` : ''}: ${fw.rule ?? 'policy'}`,
              ...(rose !== undefined ? [`counter ${before!.counters!.packets} → ${fw.counters!.packets} packets`] : []),
              ...seenAnswers,
            ],
            hint: acceptFix(fw, { srcIp: e.senderIp, dstPort: e.port, family }),
          }),
        ],
      );
    }
    const rejects = rejectAnswers(s);
    if (rejects.length) {
      // The pipeline's own finding names the ICMP answers (host/admin prohibited ...): keep it.
      const wireSaid = rejects.find(f => f.code === 'firewall-reject');
      return step('verify.firewall', 'firewall', 'fail', 'a rule rejects the datagrams (ICMP prohibited answers)', [
        finding('firewall-reject', {
          subject: e.senderIp,
          summary: `this host answers the datagrams with ICMP prohibited: a firewall REJECT rule${fw ? ' that the rules read could not show' : ''}${wireSaid ? ` (${wireSaid.summary})` : ''}`,
          evidence: rejects.flatMap(f => f.evidence),
          ...(wireSaid?.hint ? { hint: wireSaid.hint } : {}),
        }),
      ]);
    }
    return undefined;
  });

export const socketHop: Hop = (e, s) =>
  receiverHop(e, s, 'receiver.listening', 'verify.socket', 'a socket listens', () => {
    const c = byId(e.receiverAfter.checks, 'receiver.listening');
    const noPorts = s.delta('Udp.NoPorts');
    const unreachable = s.icmp.filter(f => f.code === 'port-unreachable');
    const listening = e.receiverAfter.sockets.length > 0;
    if (c?.status === 'fail' || unreachable.length || (noPorts > 0 && !listening)) {
      const ev = [
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
  if (!lf)
    return step(
      'verify.log',
      'in the syslog file',
      'unknown',
      'no plain log file in the configuration: give --log-file',
    );
  if (!lf.readable) return step('verify.log', 'in the syslog file', 'unknown', `${lf.path} cannot be read`);
  if (lf.markerFound) return step('verify.log', 'in the syslog file', 'pass', `the marker is in ${lf.path}`);
  if (lf.sysrqFound)
    return step(
      'verify.log',
      'in the syslog file',
      'pass',
      `the sysrq line is in ${lf.path} (not the marker: see "ordinary messages sent")`,
    );
  if (!s.arrived) return step('verify.log', 'in the syslog file', 'unknown', `not in ${lf.path}`);
  return step('verify.log', 'in the syslog file', 'fail', `not in ${lf.path}`, [
    finding('not-in-log', {
      summary: `the datagrams reached the socket, but ${lf.path} does not have the marker`,
      evidence: [
        `searched ${lf.path} for ${e.marker} and the sysrq line`,
        ...e.receiverAfter.logFiles.map(f => `the syslog configuration writes to ${f}`),
      ],
    }),
  ]);
};

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
