/**
 * Behind a router that translates the source (NAT), this host's daemon and rp_filter meet the
 * router's address, known only once the marker arrived. What a single verify and a fleet run both
 * do about it: before the test, where the files any source may land in stood; after it, the log
 * file and the route back for the address that arrived.
 */
import { collectRouteBack } from '../checks/host/collect.js';
import type { FactText, ReceiverFacts } from '../checks/host/facts.js';
import { runReceiverChecks, type ReceiverContext } from '../checks/run.js';
import type { HostExec } from '../io/host-exec.js';
import { anySourceLogFiles, logStarts, watchedLogFile, type LogStart } from './log-file.js';
import type { SenderSide } from './sender-side.js';
import type { ArrivalTracker } from './trigger.js';
import type { VerifyDeps, VerifyOptions } from './types.js';

/** This host's side of a sender without its address: the configuration judged for any source. */
function anySourceContext(side: SenderSide): ReceiverContext {
  const { port, iface, receiverIp } = side.receiverCtx;
  return {
    ...(port !== undefined ? { port } : {}),
    ...(iface ? { iface } : {}),
    ...(receiverIp ? { receiverIp } : {}),
  };
}

/**
 * Where the watched log file, and the files any source may land in, stood before the test.
 * `known`: those files by receiving context, for a fleet run's senders that share one (the same
 * facts judged once).
 */
export function logStartsWithAnySource(
  d: Pick<VerifyDeps, 'fileSize' | 'listFiles'>,
  o: Pick<VerifyOptions, 'logFile'>,
  facts: ReceiverFacts,
  side: SenderSide,
  logFile: string | undefined,
  known?: Map<string, string[]>,
): Promise<LogStart> {
  const ctx = anySourceContext(side);
  const key = `${ctx.port ?? ''} ${ctx.iface ?? ''} ${ctx.receiverIp ?? ''}`;
  let anySource = o.logFile ? [] : known?.get(key);
  if (!anySource) {
    anySource = anySourceLogFiles(o, runReceiverChecks(facts, ctx));
    known?.set(key, anySource);
  }
  return logStarts(d, [logFile, ...anySource]);
}

/**
 * After the test: the log file for the address that arrived (the sender's own file when none was
 * translated, or the user gave one), and the route back to that address, being collected.
 */
export function afterTranslation(
  receiver: HostExec,
  o: Pick<VerifyOptions, 'logFile'>,
  facts: ReceiverFacts,
  side: SenderSide,
  tracker: Pick<ArrivalTracker, 'translated'>,
  logFile: string | undefined,
): { logFile: string | undefined; routeBack: Promise<(FactText & { ip: string }) | undefined> } {
  const arrivedFrom = tracker.translated?.ip;
  if (!arrivedFrom) return { logFile, routeBack: Promise.resolve(undefined) };
  const seen = { ...side.receiverCtx, senderIp: arrivedFrom, translatedFrom: side.senderIp };
  return {
    logFile: o.logFile ? logFile : watchedLogFile(o, runReceiverChecks(facts, seen), arrivedFrom),
    routeBack: collectRouteBack(receiver, arrivedFrom),
  };
}
