/**
 * One sender's verdict over every target it has on this host. Two targets to two ports (or two
 * addresses) of one log server are common: the same trigger reaches both, each datagram says by
 * its destination which target sent it, and each target is judged as its own path by the same
 * hops (judge.ts). The log file cannot say which copy it got, so it proves a target's path only
 * when it holds as many copies as the capture saw (evidence.ts). The verdict is the sender's: it
 * passes when every target on this host passes. Pure.
 */
import type { ReceiverFacts } from '../checks/host/facts.js';
import type { FactText } from '../checks/run.js';
import { runReceiverChecks, type ReceiverReport } from '../checks/run.js';
import type { NetconsoleTarget } from '../config/target.js';
import { endpoint } from '../decode/addr.js';
import type { AnalysisResult } from '../pipeline/types.js';
import { targetKey, type LineCounts, type VerifyEvidence } from './hops/evidence.js';
import { judgeVerify, type VerifyReport } from './judge.js';
import type { LogCheck } from './log-file.js';
import { receiverFactsFor, type SenderSide } from './sender-side.js';
import { transmitCounts, type ArrivalTracker, type TargetArrivals } from './trigger.js';
import type { OtherTargetOutcome, VerifyOptions } from './types.js';

export interface SenderTest {
  side: SenderSide;
  tracker: ArrivalTracker;
  /** This host's facts before the test, and after it (the counters again). */
  before: ReceiverFacts;
  after: ReceiverFacts;
  wire: AnalysisResult;
  o: Pick<VerifyOptions, 'timeoutSec'>;
  triggerError?: string;
  logCheck?: LogCheck;
  /** The counters were moved by other senders too (a fleet run). */
  sharedCounters?: boolean;
  /** The configfs targets' `transmit_errors` after the test, by name. */
  transmitAfter: Map<string, number>;
  /** `ip route get` here for the translated source (NAT), collected after the test. */
  translatedRoute?: FactText & { ip: string };
}

/** How a target is named in the report: `eth0 -> 10.99.0.1:5514`. */
const targetName = (t: NetconsoleTarget) => `${t.dev ?? 'eth0'} -> ${endpoint(t.remoteIp, t.remotePort)}`;

const count = (as: readonly TargetArrivals[]): LineCounts => ({
  marker: as.filter(a => a.markerArrival).length,
  sysrq: as.filter(a => a.sysrqArrival).length,
});

/** One target's verdict: its own arrivals and port; copies that came another way are counted apart. */
function judgeTarget(
  t: SenderTest,
  side: SenderSide,
  own: TargetArrivals,
  others: readonly TargetArrivals[],
  reports: { before: ReceiverReport; after: ReceiverReport },
  messages: number,
  targetsHere?: LineCounts,
  other = false,
): VerifyReport {
  const e: VerifyEvidence = {
    sender: side.report,
    receiverBefore: reports.before,
    receiverAfter: reports.after,
    receiverMacs: side.receiverMacs,
    receiverAddrs: side.receiverAddrs,
    iface: side.iface,
    port: side.port,
    senderIp: side.senderIp,
    marker: t.tracker.marker,
    ...(side.target ? { target: side.target } : {}),
    ...(t.triggerError ? { triggerError: t.triggerError } : {}),
    ...(own.markerArrival ? { markerArrival: own.markerArrival } : {}),
    ...(own.sysrqArrival ? { sysrqArrival: own.sysrqArrival } : {}),
    messagesFromSender: messages,
    ...(t.tracker.translated ? { arrivedFrom: t.tracker.translated } : {}),
    wire: t.wire,
    ...(t.logCheck ? { logFile: t.logCheck } : {}),
    timeoutSec: t.o.timeoutSec,
    ...(t.sharedCounters ? { sharedCounters: true } : {}),
    copies: {
      syslog: { ...t.tracker.syslogCopies },
      targets: count(others),
      ...(targetsHere ? { targetsHere } : {}),
    },
  };
  // The file read is the tested target's: another target's rules may write elsewhere.
  const files = reports.after.logFiles;
  if (other && t.logCheck && files.length && !files.some(f => f === t.logCheck!.path || f.includes('%')))
    e.logElsewhere = files;
  const transmit = transmitCounts(side, t.transmitAfter);
  if (transmit.length) e.transmitErrors = transmit;
  return judgeVerify(e);
}

/**
 * The sender as this host sees it when a router on the way translates its source (NAT): this
 * host's rules ($AllowedSender, $fromhost-ip, a firewall rule by source) meet the translated
 * address, so they are judged for it; the route back that rp_filter checks is the one to that
 * address (collected after the test; without it, not judged).
 */
function translatedSide(side: SenderSide, ip: string, route?: FactText & { ip: string }): SenderSide {
  const out: SenderSide = {
    ...side,
    receiverCtx: { ...side.receiverCtx, senderIp: ip, translatedFrom: side.senderIp },
  };
  if (route?.ip === ip) out.routeGet = route;
  else delete out.routeGet;
  return out;
}

/** This host's checks of what a datagram passes before the daemon writes it: one failing stops the copy. */
const BEFORE_THE_FILE = new Set(['receiver.rp-filter', 'receiver.firewall', 'receiver.listening', 'receiver.syslog']);

/** The tested target's report, and each other target's; the first carries the sender's verdict. */
export function judgeSenderTargets(t: SenderTest): { report: VerifyReport; others: OtherTargetOutcome[] } {
  const { tracker } = t;
  const side = tracker.translated ? translatedSide(t.side, tracker.translated.ip, t.translatedRoute) : t.side;
  const others = side.others ?? [];
  const arrivals = others.map(o => tracker.others.get(targetKey(o.remoteIp, o.remotePort)) ?? {});
  const receiver = (s: SenderSide) => ({
    before: runReceiverChecks(receiverFactsFor(t.before, s), s.receiverCtx),
    after: runReceiverChecks(receiverFactsFor(t.after, s), s.receiverCtx),
  });
  const sides: SenderSide[] = others.map(target => ({
    ...side,
    target,
    port: target.remotePort,
    receiverCtx: { ...side.receiverCtx, port: target.remotePort, target },
  }));
  const reports = [receiver(side), ...sides.map(receiver)];
  const all = [tracker as TargetArrivals, ...arrivals];
  // Whether target j's copy may have been written to the file target i's test read: nothing on
  // this host stops it before the daemon (a firewall rule, no listener, rules that write none of
  // it), and its log files hold one of target i's, or either side's are not known.
  const blocked = (j: number) => reports[j]!.after.checks.some(c => BEFORE_THE_FILE.has(c.id) && c.status === 'fail');
  const mayShare = (i: number, j: number) => {
    if (blocked(j)) return false;
    const mine = reports[i]!.after.logFiles;
    const theirs = reports[j]!.after.logFiles;
    return !mine.length || !theirs.length || theirs.some(f => mine.includes(f));
  };
  const here = (i: number) => count(all.filter((_, j) => j !== i && mayShare(i, j)));
  const report = judgeTarget(t, side, tracker, arrivals, reports[0]!, tracker.messages, here(0));
  if (!others.length) return { report, others: [] };
  const outcomes = others.map((target, i): OtherTargetOutcome => {
    const rest = [tracker, ...arrivals.filter((_, j) => j !== i)];
    return {
      target: targetName(target),
      port: target.remotePort,
      report: judgeTarget(t, sides[i]!, arrivals[i]!, rest, reports[i + 1]!, 0, here(i + 1), true),
    };
  });
  // The sender works when every target on this host does; else the first broken one says why,
  // naming its target.
  const broken = report.ok ? outcomes.find(x => !x.report.ok) : { target: targetName(side.target!), report };
  const cause = broken?.report.rootCause;
  if (!broken) return { report, others: outcomes };
  return {
    report: {
      ...report,
      ok: false,
      ...(cause ? { rootCause: { ...cause, summary: `${broken.target}: ${cause.summary}` } } : {}),
    },
    others: outcomes,
  };
}
