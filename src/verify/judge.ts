/**
 * verify's verdict. The hops a datagram takes are judged in the order it travels (sender
 * configuration → device → route and MAC → trigger → wire → destination MAC → destination IP →
 * port → rp_filter → firewall → socket → daemon → file); the first hop that fails is the root
 * cause, and every later hop is shown as "not reached", not as a failure of its own. A PASS
 * never carries a FAIL line: a check the test's messages prove wrong is a warning. Pure.
 */
import type { CheckResult } from '../checks/check.js';
import type { Finding } from '../findings/finding.js';
import { contradicted, type Hop, type LineCounts, type Seen, type VerifyEvidence } from './hops/evidence.js';
import { dstIpHop, dstMacHop, portHop } from './hops/arrival.js';
import { firewallHop } from './hops/firewall.js';
import { natDestination } from '../checks/firewall/dnat.js';
import { countersHop, daemonHop, logHop, loglevelHop, receiverSide, rpFilterHop, socketHop } from './hops/receiver.js';
import { loglevelBeside, senderHop, transmitHop, triggerHop, wireHop } from './hops/sending.js';

export type { Arrival, VerifyEvidence } from './hops/evidence.js';

export interface VerifyReport {
  ok: boolean;
  rootCause?: Finding;
  checks: CheckResult[];
  findings: Finding[];
  roundTripMs?: number;
  /** A DNAT on this host forwards the datagrams to another host (a container): `172.17.0.2:514`. */
  forwardedTo?: string;
}

/** The datagram's path, in the order it travels. */
const PATH: readonly Hop[] = [
  // Without the trigger there is no test: its failure comes before everything the test would show.
  triggerHop,
  senderHop('sender.loaded'),
  senderHop('sender.config'),
  senderHop('sender.kernel-log'),
  senderHop('sender.configfs'),
  senderHop('sender.device'),
  senderHop('sender.route'),
  senderHop('sender.mac'),
  transmitHop,
  wireHop,
  dstMacHop,
  dstIpHop,
  portHop,
  rpFilterHop,
  firewallHop,
  socketHop,
  daemonHop,
  logHop,
  loglevelHop,
];

/** The hops judged on this host (a fleet run shows them once for all senders). */
export const RECEIVER_HOPS: readonly string[] = [
  'verify.rp-filter',
  'verify.firewall',
  'verify.socket',
  'verify.daemon',
  'verify.counters',
];

/** Checks beside the path: shown, never the root cause. */
const BESIDE: readonly Hop[] = [
  senderHop('sender.conflict'),
  loglevelBeside,
  senderHop('sender.sysrq'),
  countersHop,
  receiverSide('receiver.selinux'),
];

/** ICMP answers from this host to the sender, as the pipeline reported them. */
const ICMP_ANSWER = /^port-unreachable$|reject|prohibited/;

/**
 * Whether the log file proves this target's path: it holds the marker (or the sysrq line) this
 * target sent, and as many copies of it as the capture saw, so none of them can be another's (the
 * sender's other targets on this host, its syslog daemon forwarding the kernel log).
 */
function inLog(e: VerifyEvidence): boolean {
  const lf = e.logFile;
  if (!lf?.readable) return false;
  const others = (k: keyof LineCounts) => (e.copies?.syslog[k] ?? 0) + (e.copies?.targets[k] ?? 0);
  const proves = (arrived: boolean, found: boolean, lines: number | undefined, k: keyof LineCounts) =>
    arrived && found && (lines ?? 1) > others(k);
  return (
    proves(!!e.markerArrival, lf.markerFound, lf.markerLines, 'marker') ||
    proves(!!e.sysrqArrival, lf.sysrqFound, lf.sysrqLines, 'sysrq')
  );
}

function seen(e: VerifyEvidence): Seen {
  const arrived = e.markerArrival ?? e.sysrqArrival;
  const s: Seen = {
    inLog: inLog(e),
    icmp: e.wire.findings.filter(f => ICMP_ANSWER.test(f.code)),
    delta: key => (e.receiverAfter.counters[key] ?? 0) - (e.receiverBefore.counters[key] ?? 0),
  };
  if (arrived) s.arrived = arrived;
  return s;
}

/** A hop after the one that failed: not reached by the datagram. What it found alone stays in its detail. */
function notReached(c: CheckResult, stop: CheckResult): CheckResult {
  return {
    ...c,
    status: 'skip',
    detail: `not reached (stops at: ${stop.name})${c.status === 'pass' || c.status === 'unknown' ? '' : `; alone it says: ${c.detail}`}`,
    findings: [],
  };
}

export function judgeVerify(e: VerifyEvidence): VerifyReport {
  const s = seen(e);
  const path: CheckResult[] = [];
  let stop: CheckResult | undefined;
  for (const hop of PATH) {
    const c = hop(e, s);
    if (!c) continue;
    if (stop) path.push(notReached(c, stop));
    else {
      path.push(c);
      if (c.status === 'fail') stop = c;
    }
  }
  const ok = !stop && !!s.arrived;
  const beside = BESIDE.map(h => h(e, s))
    .filter((c): c is CheckResult => c !== undefined)
    .map(c => (ok ? contradicted(c, 'the test passed') : c));
  const checks = [...path, ...beside];
  const findings = checks.flatMap(c => c.findings);
  const report: VerifyReport = { ok, checks, findings };
  const rootCause = stop?.findings.find(f => f.severity === 'error') ?? stop?.findings[0];
  if (rootCause && !ok) report.rootCause = rootCause;
  if (s.arrived) report.roundTripMs = s.arrived.afterMs;
  const dnat = e.receiverAfter.firewall?.dnat;
  if (dnat?.forwarded) report.forwardedTo = natDestination(dnat);
  return report;
}
