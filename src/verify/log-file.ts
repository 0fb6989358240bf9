/**
 * The log file verify watches, and whether this test's marker (or this sender's sysrq line)
 * reached it.
 */
import type { ReceiverReport } from '../checks/run.js';
import { sysrqLogged } from './hops/evidence.js';
import type { ArrivalTracker } from './trigger.js';
import type { VerifyDeps, VerifyOptions } from './types.js';

export interface LogCheck {
  path: string;
  markerFound: boolean;
  sysrqFound: boolean;
  /** How many lines hold the marker, and this sender's sysrq line: one per copy that reached the file. */
  markerLines: number;
  sysrqLines: number;
  readable: boolean;
}

/**
 * The log file: the daemon writes asynchronously, so look a few times (when something arrived),
 * until what the capture saw is there or 2 s have passed.
 * The marker is this test's own; a sysrq line counts only when it is this sender's (its kernel
 * timestamp from the wire): other senders' sysrq lines land in the same file.
 */
export async function checkLogFile(
  d: Pick<VerifyDeps, 'readFrom' | 'sleep'>,
  path: string,
  offset: number | undefined,
  marker: string,
  t: Pick<ArrivalTracker, 'arrived' | 'markerArrival' | 'sysrqArrival' | 'senderIp'>,
): Promise<LogCheck> {
  let text: string | undefined;
  for (let i = 0; i < 40; i++) {
    text = await d.readFrom(path, offset ?? 0);
    if (text === undefined || !t.arrived) break;
    // Everything that reached the wire: the marker, and the sysrq line (when only it came, the
    // marker was filtered on the sender). A burst cut short between the NIC and the file shows here.
    // The sysrq line is waited for when it can be found for sure: by the kernel timestamp it had
    // on the wire (without one, only the sender's address tells, and the file may name its host).
    const markerIn = !t.markerArrival || text.includes(marker);
    const sysrq = t.sysrqArrival && (t.sysrqArrival.usec !== undefined || !t.markerArrival);
    if (markerIn && (!sysrq || sysrqLogged(text, t.sysrqArrival, t.senderIp) > 0)) break;
    await d.sleep(50);
  }
  const markerLines = text ? text.split('\n').filter(l => l.includes(marker)).length : 0;
  const sysrqLines = text ? sysrqLogged(text, t.sysrqArrival, t.senderIp) : 0;
  return {
    path,
    readable: text !== undefined,
    markerFound: markerLines > 0,
    sysrqFound: sysrqLines > 0,
    markerLines,
    sysrqLines,
  };
}

/**
 * The plain path a configured log file names, if any: a template (`/var/log/${HOST}.log`,
 * `dynaFile NAME`) is not watched.
 */
export function watchedLogFile(o: Pick<VerifyOptions, 'logFile'>, before: ReceiverReport): string | undefined {
  return o.logFile ?? before.logFiles.find(f => f.startsWith('/') && !/[$%\s]/.test(f));
}
