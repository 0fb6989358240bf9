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
  d: Pick<VerifyDeps, 'readFrom' | 'sleep' | 'listFiles'>,
  path: string,
  start: LogStart,
  marker: string,
  t: Pick<ArrivalTracker, 'arrived' | 'markerArrival' | 'sysrqArrival' | 'senderIp'>,
): Promise<LogCheck> {
  let got: { path: string; text: string } | undefined;
  for (let i = 0; i < 40; i++) {
    got = await readLog(d, path, start, marker, t);
    if (got === undefined || !t.arrived) break;
    // Everything that reached the wire: the marker, and the sysrq line (when only it came, the
    // marker was filtered on the sender). A burst cut short between the NIC and the file shows here.
    // The sysrq line is waited for when it can be found for sure: by the kernel timestamp it had
    // on the wire (without one, only the sender's address tells, and the file may name its host).
    const markerIn = !t.markerArrival || got.text.includes(marker);
    const sysrq = t.sysrqArrival && (t.sysrqArrival.usec !== undefined || !t.markerArrival);
    if (markerIn && (!sysrq || sysrqLogged(got.text, t.sysrqArrival, t.senderIp) > 0)) break;
    await d.sleep(50);
  }
  const text = got?.text;
  const markerLines = text ? copiesOf(text, marker) : 0;
  const sysrqLines = text ? sysrqLogged(text, t.sysrqArrival, t.senderIp) : 0;
  return {
    path: got?.path ?? path,
    readable: text !== undefined,
    markerFound: markerLines > 0,
    sysrqFound: sysrqLines > 0,
    markerLines,
    sysrqLines,
  };
}

/**
 * How many copies of a message holding `text` the log shows: one per line, and N for rsyslog's
 * `message repeated N times: [...]` line ($RepeatedMsgReduction on, Ubuntu's default), which stands
 * for the identical copies after the first: the same marker sent to two or three targets.
 * The older form without the text, `last message repeated N times` (sysklogd; rsyslog before v8
 * unless $RepeatedMsgContainsOriginalMsg was on), stands for copies of the line written before it
 * to the same file: it counts when the line before it (or before a run of such lines) has the text.
 */
export function copiesOf(log: string, text: string): number {
  let n = 0;
  let lastHad = false;
  for (const l of log.split('\n')) {
    const last = LAST_REPEATED.exec(l);
    if (last && !l.includes(text)) {
      if (lastHad) n += Number(last[1]);
      continue;
    }
    lastHad = l.includes(text);
    if (!lastHad) continue;
    const m = REPEATED.exec(l);
    n += m && l.indexOf(text) > m.index ? Number(m[1]) : 1;
  }
  return n;
}
const LAST_REPEATED = /\blast message repeated (\d{1,6}) times?\s*$/;
const REPEATED = /\bmessage repeated (\d{1,6}) times: \[/;

/**
 * Where the watched log stood before the test: one file's size, or for a pattern (a template's
 * path) each matching file's size. A file that appears later is read from its start.
 */
export type LogStart = number | ReadonlyMap<string, number> | undefined;

const isLogPattern = (path: string) => path.includes('*');

async function logStart(d: Pick<VerifyDeps, 'fileSize' | 'listFiles'>, path: string): Promise<LogStart> {
  if (!isLogPattern(path)) return d.fileSize(path);
  // Every match's size (up to listFiles' bound), so that an old file the test writes to is read
  // from where it stood, not from its start.
  const files = (await d.listFiles?.(path, 4096)) ?? [];
  const sizes = new Map<string, number>();
  (await Promise.all(files.map(async f => [f, await d.fileSize(f)] as const))).forEach(([f, n]) => {
    if (n !== undefined) sizes.set(f, n);
  });
  return sizes;
}

/**
 * Where the watched logs stood before the test: each path's (a file's size, or a pattern's files'
 * sizes), merged. One path is logStart's answer as it is.
 */
export async function logStarts(
  d: Pick<VerifyDeps, 'fileSize' | 'listFiles'>,
  paths: ReadonlyArray<string | undefined>,
): Promise<LogStart> {
  const ps = [...new Set(paths.filter((p): p is string => p !== undefined))];
  if (ps.length <= 1) return ps[0] === undefined ? undefined : logStart(d, ps[0]);
  const sizes = new Map<string, number>();
  for (const [p, got] of await Promise.all(ps.map(async p => [p, await logStart(d, p)] as const))) {
    if (typeof got === 'number') sizes.set(p, got);
    else if (got) for (const [f, n] of got) sizes.set(f, n);
  }
  return sizes;
}

/**
 * The files a message from any source may land in, as this host's configuration was judged
 * without a sender address: behind NAT the daemon's rules meet another source than the sender's
 * own, known only once the marker arrived, so where these stood before the test is kept too.
 * Its plain files (the first 16) and the template's pattern for any source.
 */
export function anySourceLogFiles(
  o: Pick<VerifyOptions, 'logFile'>,
  anySource: Pick<ReceiverReport, 'logFiles'>,
): string[] {
  if (o.logFile) return [];
  const plain = anySource.logFiles.filter(f => f.startsWith('/') && !/[$%\s]/.test(f)).slice(0, 16);
  const pattern = watchedLogFile(o, anySource, '*');
  return [...new Set([...plain, ...(pattern ? [pattern] : [])])];
}

/** What the log gained: of one file, or of the pattern's file that has the marker (else this sender's sysrq line). */
async function readLog(
  d: Pick<VerifyDeps, 'readFrom' | 'listFiles'>,
  path: string,
  start: LogStart,
  marker: string,
  t: Pick<ArrivalTracker, 'sysrqArrival' | 'senderIp'>,
): Promise<{ path: string; text: string } | undefined> {
  if (!isLogPattern(path)) {
    const text = await d.readFrom(path, typeof start === 'number' ? start : (start?.get(path) ?? 0));
    return text === undefined ? undefined : { path, text };
  }
  if (!d.listFiles) return undefined;
  const offsets = typeof start === 'object' ? start : new Map<string, number>();
  const read: Array<{ path: string; text: string }> = [];
  // The newest files: those written during the test are among them.
  for (const f of await d.listFiles(path)) {
    const text = await d.readFrom(f, offsets.get(f) ?? 0);
    if (text !== undefined) read.push({ path: f, text });
  }
  return (
    read.find(r => r.text.includes(marker)) ??
    read.find(r => sysrqLogged(r.text, t.sysrqArrival, t.senderIp) > 0) ?? { path, text: '' }
  );
}

/**
 * The path the configured log file names, if any: a plain one, else a template's path
 * (rsyslog `dynaFile`, `/var/log/remote/%FROMHOST-IP%/kern.log`; syslog-ng `$HOST`, `${SOURCEIP}`)
 * as a pattern for this sender: its address where the template has `%fromhost-ip%` or `$SOURCEIP`,
 * `*` for every other property or macro.
 */
export function watchedLogFile(
  o: Pick<VerifyOptions, 'logFile'>,
  before: Pick<ReceiverReport, 'logFiles'>,
  senderIp: string,
): string | undefined {
  if (o.logFile) return o.logFile;
  const plain = before.logFiles.find(f => f.startsWith('/') && !/[$%\s]/.test(f));
  if (plain) return plain;
  const template = before.logFiles.find(f => f.startsWith('/') && f.includes('%') && !/[\s*]/.test(f));
  if (template)
    return template.replace(/%([^%]*)%/g, (_, prop: string) => (prop.toLowerCase() === 'fromhost-ip' ? senderIp : '*'));
  // syslog-ng's macros ($HOST, ${YEAR}): $SOURCEIP is the sender's address; $HOST is too, or its
  // name when syslog-ng resolves it (walked, use_dns(no): /var/log/$HOST/messages was
  // /var/log/10.99.0.2/messages), so a pattern.
  const macros = before.logFiles.find(f => f.startsWith('/') && f.includes('$') && !/[\s*]/.test(f));
  return macros?.replace(/\$(?:\{([A-Za-z_][\w.-]*)\}|([A-Za-z_]\w*))/g, (_, a?: string, b?: string) =>
    (a ?? b)!.toUpperCase() === 'SOURCEIP' ? senderIp : '*',
  );
}
