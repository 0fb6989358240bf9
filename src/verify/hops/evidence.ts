/**
 * What verify saw of one sender's test (the evidence), and what every hop shares: the step
 * constructor, a static check contradicted by the test, and the rule for a receiver check on the
 * path (the log file proves it, else its own evidence, else as collected). The hops themselves are
 * in this folder, one file per stretch of the path; judge.ts orders them. Pure.
 */
import type { CheckResult, CheckStatus } from '../../checks/check.js';
import type { ReceiverReport, SenderReport } from '../../checks/run.js';
import type { NetconsoleTarget } from '../../config/target.js';
import type { Finding } from '../../findings/finding.js';
import type { AnalysisResult } from '../../pipeline/types.js';
import { canonicalIp } from '../../decode/addr.js';

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
 * so a sysrq line alone proves nothing about this sender. Returns how many lines: one per copy.
 */
export function sysrqLogged(text: string, sysrq: Pick<Arrival, 'usec'> | undefined, senderIp: string): number {
  if (!sysrq) return 0;
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
  return text.split('\n').filter(l => SYSRQ_LINE.test(l) && (stamp ? stamp.test(l) : word(l))).length;
}

/** `ip|port`: the destination of a target, as a datagram's destination names it. */
export const targetKey = (ip: string, port: number) => `${canonicalIp(ip)}|${port}`;

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
  /**
   * The source the test's datagrams arrived from, when not the sender's own: translated on the
   * way (NAT). This host's rules are judged for it.
   */
  arrivedFrom?: { ip: string; port: number };
  /** Messages from the sender seen during the test, on the ports verify watches. */
  messagesFromSender: number;
  wire: AnalysisResult;
  logFile?: {
    path: string;
    markerFound: boolean;
    sysrqFound: boolean;
    /** Lines holding each (one per copy written); absent: taken as one. */
    markerLines?: number;
    sysrqLines?: number;
    readable: boolean;
  };
  /**
   * The files this target's rules write, when the log file read (the tested target's) is not one
   * of them: that file says nothing of this target.
   */
  logElsewhere?: string[];
  /**
   * Other copies of the marker and of the sysrq line the capture saw, which the log file may hold
   * instead of this target's: the sender's syslog daemon forwarding its kernel log (`syslog`), and
   * the sender's other targets on this host (`targets`).
   */
  copies?: {
    syslog: LineCounts;
    targets: LineCounts;
    /**
     * Of `targets`, those whose port's rules may write the watched file (the syslog configuration
     * says so, or cannot tell): absent, all of them.
     */
    targetsHere?: LineCounts;
  };
  timeoutSec: number;
  /**
   * The counters before and after were moved by other senders too (a fleet run tests many at
   * once): a rise alone does not accuse this sender, only with its own check agreeing.
   */
  sharedCounters?: boolean;
  /** The tested target's configfs send-error counts (`transmit_errors`), before and after the test. */
  transmitErrors?: TransmitCount[];
}

/** How many of the marker and of the sysrq line. */
export interface LineCounts {
  marker: number;
  sysrq: number;
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
  /**
   * This target's marker or sysrq line is in the log file: every hop up to it worked. Proven only
   * when the capture saw it, and the file holds as many copies as the capture saw from anywhere.
   */
  inLog: boolean;
  /** The ICMP answers this host sent back (port unreachable, a REJECT's prohibited codes). */
  icmp: Finding[];
  /** A counter's rise during the test. */
  delta(key: string): number;
}

export type Hop = (e: VerifyEvidence, s: Seen) => CheckResult | undefined;

export const step = (
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

export const byId = (cs: readonly CheckResult[], id: string) => cs.find(c => c.id === id);

/** A receiver check on the path: proven by the log file, else by its own evidence, else as collected. */
export function receiverHop(
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
