/**
 * verify's steps, in order: reach the sender and read its facts in one round trip, then at once
 * collect this host's facts, start the capture on the receiving interface and open the trigger's
 * ssh session (held until the capture is ready); trigger a marker and sysrq, wait for them
 * (bounded), then look in the log file while collecting the counters again, and judge. Every
 * effect goes through the dependencies given, so tests can run it with fakes and the command runs
 * it with ssh, this host and libpcap. The phases are exported for the fleet run (src/verify/fleet.ts),
 * which shares one capture and one receiver snapshot among many senders.
 */
import { randomBytes } from 'node:crypto';
import type { ExecResult, HostExec } from '../io/host-exec.js';
import { collectReceiverFacts, collectSenderFacts } from '../checks/host/collect.js';
import {
  runReceiverChecks,
  runSenderChecks,
  type FactText,
  type ReceiverFacts,
  type ReceiverContext,
  type ReceiverReport,
  type SenderReport,
} from '../checks/run.js';
import type { SenderFacts } from '../checks/host/facts.js';
import { mergeLinks, parseLinks, parseRouteGet } from '../checks/host/netinfo.js';
import { syslogPorts } from '../checks/receiver/view.js';
import { ipFamily } from '../config/netconsole-spec.js';
import type { PacketSink } from '../capture/sink.js';
import type { NetconsoleTarget } from '../config/target.js';
import { CLIError } from '../errors.js';
import { batchScript, cachedExec, newBoundary, parseBatch } from '../io/batch-exec.js';
import type { PreparedCommand } from '../io/ssh-exec.js';
import { canonicalIp } from '../decode/addr.js';
import { createPipeline } from '../pipeline/pipeline.js';
import type { AnalysisResult, Message, Timestamp } from '../pipeline/types.js';
import { judgeVerify, type Arrival, type VerifyReport } from './judge.js';
import { SYSRQ_LINE, sysrqLogged, type TransmitCount } from './hops/evidence.js';
import { CONFIGFS_NETCONSOLE } from '../checks/sender/sources/configfs.js';
import { SENDER_PLAN, WHO_AM_I } from './prefetch.js';

export interface VerifyOptions {
  /** `[user@]host` as ssh takes it. */
  destination: string;
  /** Capture interface; default: the one the route to the sender uses. */
  iface?: string;
  /** The syslog port; default: the sender's configured target port, else 514. */
  port?: number;
  /** The file the syslog daemon writes; default: what its configuration says. */
  logFile?: string;
  /** The syslog daemon's configuration file, when not the default one. */
  syslogConfig?: string;
  timeoutSec: number;
  /** The sysrq command character. @default 'p' */
  trigger: string;
}

export interface LiveHandle {
  stop(): void;
  now(): Timestamp;
  /** Resolves once every packet captured before stop() was handed on. */
  stopped?(): Promise<void>;
}

export type SenderExec = HostExec & {
  lastError?: string;
  setSudo?(on: boolean): void;
  /** Starts a command and holds it until fired (ssh-exec's `prepare`); without it the trigger is run when needed. */
  prepare?(argv: string[]): PreparedCommand;
};

export interface VerifyDeps {
  sender: SenderExec;
  receiver: HostExec;
  openCapture(iface: string, filter: string, sink: PacketSink): LiveHandle | Promise<LiveHandle>;
  /** Starts the capture's process before the interface is known; `open` then takes the place of openCapture. */
  prepareCapture?(): { open(iface: string, filter: string, sink: PacketSink): Promise<LiveHandle>; cancel(): void };
  /** Size of a local file, or undefined when it cannot be read. */
  fileSize(path: string): Promise<number | undefined>;
  /** A local file's bytes from `offset` on (at most a few MiB), or undefined. */
  readFrom(path: string, offset: number): Promise<string | undefined>;
  clock(): number;
  sleep(ms: number): Promise<void>;
  step(text: string): void;
  marker?(): string;
}

export interface VerifyOutcome {
  report: VerifyReport;
  marker: string;
  senderIp: string;
  iface: string;
  port: number;
  logFile?: string;
  elapsedMs: number;
}

/**
 * BPF: the sender's UDP (by its netconsole source IP, or its device's MAC), and ICMP errors this
 * host sends back to it.
 */
function verifyFilter(senderIp: string, senderMac?: string): string {
  const icmp = senderIp.includes(':') ? 'icmp6' : 'icmp';
  const from =
    senderMac && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(senderMac)
      ? `(src host ${senderIp} or ether src ${senderMac})`
      : `src host ${senderIp}`;
  return `(udp and ${from}) or (${icmp} and dst host ${senderIp})`;
}

export function checkTrigger(trigger: string): void {
  if (!/^[0-9a-z]$/.test(trigger))
    throw new CLIError(`--trigger: '${trigger}' is not a sysrq command character (0-9, a-z)`);
}

export function newMarker(): string {
  return `netdiag-verify-${randomBytes(6).toString('hex')}`;
}

/**
 * The trigger command: the marker into the kernel log, then the sysrq command; then each configfs
 * target's send-error count (`transmit_errors`, 6.13 and later), read in the same session. Its
 * exit code is the writes'.
 */
export function triggerArgv(marker: string, trigger: string): string[] {
  return [
    'sh',
    '-c',
    `echo ${marker} > /dev/kmsg && echo ${trigger} > /proc/sysrq-trigger; r=$?; for f in ${CONFIGFS_NETCONSOLE}/*/transmit_errors; do [ -r "$f" ] && echo "transmit_errors $f $(cat "$f")"; done 2>/dev/null; exit $r`,
  ];
}

/** The trigger's output: each configfs target's transmit_errors after the test, by target name. */
export function parseTransmitErrors(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of stdout.matchAll(/^transmit_errors \S*\/([^/\s]+)\/transmit_errors (\d+)$/gm))
    out.set(m[1]!, Number(m[2]));
  return out;
}

/** The send-error counts of the tested target's configfs entries, before (facts) and after (the trigger's output). */
export function transmitCounts(side: SenderSide, after: Map<string, number>): TransmitCount[] {
  const live = side.report.configfs.filter(c => after.has(c.name));
  const t = side.target;
  const same = t ? live.filter(c => c.target.remoteIp === t.remoteIp && c.target.remotePort === t.remotePort) : [];
  return (same.length ? same : live).map(c => ({
    name: c.name,
    ...(c.extras?.transmitErrors !== undefined ? { before: c.extras.transmitErrors } : {}),
    after: after.get(c.name)!,
  }));
}

/** The sender as verify found it before the test, and where this host receives it. */
export interface SenderSide {
  report: SenderReport;
  target?: NetconsoleTarget;
  /** The datagrams' source: the target's local IP (as the kernel logged it), else its device's address. */
  senderIp: string;
  /** The MAC of the sender's netconsole device, when known: the capture also takes its frames. */
  senderMac?: string;
  receiverIp?: string;
  /** The port this host receives on: what the datagrams' destination port must be. */
  port: number;
  iface: string;
  receiverMacs: string[];
  /** Every address of this host. */
  receiverAddrs: string[];
  receiverCtx: ReceiverContext;
  /** `ip route get SENDER` here, as the receiver's facts hold it (rp_filter judges the way back). */
  routeGet?: FactText & { ip: string };
}

/**
 * The target verify tests: among those the kernel runs (else the configured ones), the one sent to
 * an address of this host, on the port this host receives on when several are.
 */
function chooseTarget(
  r: SenderReport,
  receiverAddrs: readonly string[],
  ports: readonly number[],
): NetconsoleTarget | undefined {
  const live = r.configfs.filter(c => c.enabled !== false && c.target.remoteIp).map(c => c.target);
  const candidates = r.running.length ? r.running : [...live, ...r.configured];
  const toUs = candidates.filter(t => receiverAddrs.includes(canonicalIp(t.remoteIp)));
  return toUs.find(t => ports.includes(t.remotePort)) ?? toUs[0] ?? r.target ?? candidates[0];
}

/** The address of a sender device of the target's family (what netpoll takes when the target has no local IP). */
function deviceAddress(facts: SenderFacts, t: NetconsoleTarget | undefined): { ip?: string; mac?: string } {
  const links = mergeLinks(parseLinks(facts.ipLink), parseLinks(facts.ipAddr));
  const route = facts.routeGet ? parseRouteGet(facts.routeGet.text) : undefined;
  const dev = t?.dev ?? route?.dev;
  const link = dev ? links.find(l => l.name === dev || l.mac === dev) : undefined;
  const fam = t && ipFamily(t.remoteIp) === 6 ? 6 : 4;
  const ip = link?.addrs.find(x => x.family === fam && x.scope !== 'link')?.address ?? route?.src;
  return { ...(ip ? { ip } : {}), ...(link?.mac ? { mac: link.mac } : {}) };
}

/**
 * Reaches the sender (one ssh round trip reads its facts; a remote shell the batch does not suit
 * falls back to one command per fact), judges its configuration, and finds where this host
 * receives it: the netconsole target's own addresses decide, not the ssh connection's (the
 * management network is often another one). ssh's failure, or no root, is a CLIError with ssh's
 * reason. With this host's facts given, the port it receives on is the one its syslog daemon is
 * set up for.
 */
export async function reachSender(
  o: VerifyOptions,
  d: Pick<VerifyDeps, 'sender' | 'receiver' | 'step'> & { receiverFacts?: Promise<ReceiverFacts> },
): Promise<SenderSide> {
  d.step(`connecting to ${o.destination}`);
  const boundary = newBoundary();
  const batch = ['sh', '-c', batchScript(SENDER_PLAN, boundary)];
  const whoKey = `C ${WHO_AM_I.join(' ')}`;
  const first = await d.sender.run(batch);
  let answers = parseBatch(first.stdout, boundary);
  const whoAnswer = answers.get(whoKey);
  const who: ExecResult = whoAnswer
    ? { stdout: whoAnswer.text, stderr: '', code: whoAnswer.code }
    : first.code === 255
      ? first
      : await d.sender.run(WHO_AM_I);
  if (who.code !== 0) {
    const why = d.sender.lastError ?? (who.stderr.trim().split('\n').pop() || `exit ${who.code}`);
    throw new CLIError(`ssh ${o.destination}: ${why}`);
  }
  const [uid, conn] = who.stdout.trim().split('\n');
  if (uid?.trim() !== '0') {
    d.sender.setSudo?.(true);
    answers = whoAnswer
      ? parseBatch((await d.sender.run(batch)).stdout, boundary)
      : new Map<string, { text: string; code: number }>();
    if (!answers.has(whoKey)) {
      const s = await d.sender.run(['true']);
      if (s.code !== 0)
        throw new CLIError(
          `${o.destination}: verify needs root on the sender (writes /dev/kmsg and /proc/sysrq-trigger), and 'sudo -n' is not available: connect as root or allow sudo without a password`,
        );
    }
  }
  // SSH_CONNECTION: client-ip client-port server-ip server-port. Only a last resort for addresses.
  const [clientIp, , serverIp] = (conn ?? '').trim().split(/\s+/);

  d.step("collecting the sender's facts");
  const exec = answers.size ? cachedExec(d.sender, answers) : d.sender;
  const senderFacts = await collectSenderFacts(exec, clientIp ? { fallbackRemoteIp: clientIp } : {});
  const addr = await d.receiver.run(['ip', '-j', 'addr', 'show']);
  const links = addr.code === 0 ? parseLinks({ text: addr.stdout, format: 'json' }) : [];
  // As the decoders write addresses, so the wire's compare equal (fd99:0::2 is fd99::2).
  const receiverAddrs = links.flatMap(l => l.addrs.map(x => canonicalIp(x.address)));
  const receiving = d.receiverFacts ? syslogPorts(await d.receiverFacts) : [];
  const ports = o.port ? [o.port] : receiving;

  const target = chooseTarget(runSenderChecks(senderFacts, {}), receiverAddrs, ports);
  // The route and neighbour of the netconsole target, not of the ssh client.
  if (target && ipFamily(target.remoteIp) !== 0 && senderFacts.routeGet?.ip !== target.remoteIp) {
    const r = await exec.run(['ip', 'route', 'get', target.remoteIp]);
    if (r.code === 0)
      senderFacts.routeGet = { text: r.stdout, from: `ip route get ${target.remoteIp}`, ip: target.remoteIp };
    else delete senderFacts.routeGet;
  }
  const dev = deviceAddress(senderFacts, target);
  const source = target?.localIp ?? dev.ip ?? serverIp;
  const senderIp = source === undefined ? undefined : canonicalIp(source);
  if (!senderIp)
    throw new CLIError(
      `${o.destination}: cannot tell the sender's IP (no netconsole local IP, no address on its device, no SSH_CONNECTION)`,
    );
  const ours = target && receiverAddrs.includes(canonicalIp(target.remoteIp)) ? target.remoteIp : undefined;

  const route = await d.receiver.run(['ip', 'route', 'get', senderIp]);
  const iface =
    o.iface ??
    (ours ? links.find(l => l.addrs.some(x => canonicalIp(x.address) === canonicalIp(ours)))?.name : undefined) ??
    (route.code === 0 ? parseRouteGet(route.stdout)?.dev : undefined);
  if (!iface) throw new CLIError(`cannot tell which interface reaches ${senderIp}: give -i IFACE`);
  const ifaceLink = links.find(l => l.name === iface);
  const receiverMacs = ifaceLink?.mac ? [ifaceLink.mac] : [];
  const fam = ipFamily(senderIp) === 6 ? 6 : 4;
  const receiverIp =
    ours ??
    ifaceLink?.addrs.find(x => x.family === fam && x.scope !== 'link')?.address ??
    (target && target.remoteIp !== '0.0.0.0' ? target.remoteIp : clientIp);
  const port =
    o.port ??
    (target && receiving.includes(target.remotePort) ? target.remotePort : (receiving[0] ?? target?.remotePort ?? 514));

  const report = runSenderChecks(senderFacts, {
    ...(receiverIp ? { receiverIp } : {}),
    ...(target ? { targetPort: target.remotePort } : {}),
    port,
    receiverMacs,
  });
  const receiverCtx: ReceiverContext = {
    port,
    senderIp,
    iface,
    ...(receiverIp ? { receiverIp } : {}),
    ...(target ? { target } : {}),
  };
  const routeGet =
    route.code === 0 ? { text: route.stdout, from: `ip route get ${senderIp}`, ip: senderIp } : undefined;
  return {
    report,
    ...(target ? { target } : {}),
    senderIp,
    ...(dev.mac ? { senderMac: dev.mac } : {}),
    ...(receiverIp ? { receiverIp } : {}),
    port,
    iface,
    receiverMacs,
    receiverAddrs,
    receiverCtx,
    ...(routeGet ? { routeGet } : {}),
  };
}

/** This host's facts for one sender: collected once (without a sender), with that sender's route added. */
export function receiverFactsFor(facts: ReceiverFacts, side: SenderSide): ReceiverFacts {
  return side.routeGet ? { ...facts, routeGet: side.routeGet } : facts;
}

/** The ports verify watches for a sender: the expected one, the configured one, and netconsole's usual ones. */
export function watchedPorts(side: SenderSide): number[] {
  return [...new Set([side.port, side.target?.remotePort ?? side.port, 514, 6666])];
}

/** What the capture saw of one sender's test: its marker, its sysrq line, and how many other messages. */
export class ArrivalTracker {
  triggeredAt = Number.POSITIVE_INFINITY;
  markerArrival?: Arrival;
  sysrqArrival?: Arrival;
  messages = 0;

  constructor(
    readonly senderIp: string,
    readonly marker: string,
    private readonly clock: () => number,
    readonly senderMac?: string,
  ) {}

  message(m: Message): void {
    if (m.srcIp !== this.senderIp && !(this.senderMac && m.srcMac === this.senderMac)) return;
    this.messages++;
    if (!this.markerArrival && m.text.includes(this.marker)) this.markerArrival = this.seen(m);
    else if (!this.sysrqArrival && this.clock() >= this.triggeredAt && SYSRQ_LINE.test(m.text))
      this.sysrqArrival = this.seen(m);
  }

  get arrived(): boolean {
    return !!(this.markerArrival || this.sysrqArrival);
  }

  private seen(m: Message): Arrival {
    return {
      afterMs: Math.max(0, Math.round(this.clock() - this.triggeredAt)),
      packets: m.packets,
      dstPort: m.dstPort,
      dstIp: m.dstIp,
      text: m.text,
      ...(m.dstMac ? { dstMac: m.dstMac } : {}),
      ...(m.usec !== undefined ? { usec: m.usec } : {}),
    };
  }
}

/**
 * Fires the trigger (a prepared one, or a fresh command) and waits until both the marker and
 * the sysrq line arrived: once one is in, the other gets a short grace, not the whole timeout.
 * Returns the trigger's failure, if it failed.
 */
export async function triggerAndWait(
  t: ArrivalTracker,
  fire: { prepared?: PreparedCommand; run: () => Promise<ExecResult> },
  timeoutSec: number,
  d: Pick<VerifyDeps, 'clock' | 'sleep'>,
  tick: () => void,
  onOutput?: (stdout: string) => void,
): Promise<string | undefined> {
  t.triggeredAt = d.clock();
  let trig: ExecResult;
  if (fire.prepared) {
    fire.prepared.fire();
    trig = await fire.prepared.result;
  } else trig = await fire.run();
  onOutput?.(trig.stdout);
  const triggerError =
    trig.code !== 0 ? (trig.stderr.trim().split('\n').pop() || `exit ${trig.code}`).slice(0, 200) : undefined;
  let deadline = t.triggeredAt + timeoutSec * 1000;
  let graced = false;
  while (!triggerError && d.clock() < deadline && !(t.markerArrival && t.sysrqArrival)) {
    await d.sleep(t.arrived ? 10 : 25);
    tick();
    if (!graced && t.arrived) {
      graced = true;
      deadline = Math.min(deadline, d.clock() + 1500);
    }
  }
  return triggerError;
}

export interface LogCheck {
  path: string;
  markerFound: boolean;
  sysrqFound: boolean;
  readable: boolean;
}

/**
 * The log file: the daemon writes asynchronously, so look a few times (when something arrived).
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
    if (text === undefined || text.includes(marker) || !t.arrived) break;
    // Only the sysrq line came (the marker was filtered on the sender): it is all there is to wait for.
    if (!t.markerArrival && sysrqLogged(text, t.sysrqArrival, t.senderIp)) break;
    await d.sleep(50);
  }
  return {
    path,
    readable: text !== undefined,
    markerFound: !!text?.includes(marker),
    sysrqFound: !!text && sysrqLogged(text, t.sysrqArrival, t.senderIp),
  };
}

/**
 * The plain path a configured log file names, if any: a template (`/var/log/${HOST}.log`,
 * `dynaFile NAME`) is not watched.
 */
export function watchedLogFile(o: Pick<VerifyOptions, 'logFile'>, before: ReceiverReport): string | undefined {
  return o.logFile ?? before.logFiles.find(f => f.startsWith('/') && !/[$%\s]/.test(f));
}

export function judgeSender(
  side: SenderSide,
  tracker: ArrivalTracker,
  before: ReceiverReport,
  after: ReceiverReport,
  wire: AnalysisResult,
  o: Pick<VerifyOptions, 'timeoutSec'>,
  triggerError: string | undefined,
  logCheck: LogCheck | undefined,
  sharedCounters = false,
  transmit: TransmitCount[] = [],
): VerifyReport {
  return judgeVerify({
    sender: side.report,
    receiverBefore: before,
    receiverAfter: after,
    receiverMacs: side.receiverMacs,
    receiverAddrs: side.receiverAddrs,
    iface: side.iface,
    port: side.port,
    senderIp: side.senderIp,
    marker: tracker.marker,
    ...(side.target ? { target: side.target } : {}),
    ...(triggerError ? { triggerError } : {}),
    ...(tracker.markerArrival ? { markerArrival: tracker.markerArrival } : {}),
    ...(tracker.sysrqArrival ? { sysrqArrival: tracker.sysrqArrival } : {}),
    messagesFromSender: tracker.messages,
    wire,
    ...(logCheck ? { logFile: logCheck } : {}),
    timeoutSec: o.timeoutSec,
    ...(sharedCounters ? { sharedCounters } : {}),
    ...(transmit.length ? { transmitErrors: transmit } : {}),
  });
}

export async function runVerify(o: VerifyOptions, d: VerifyDeps): Promise<VerifyOutcome> {
  const t0 = d.clock();
  checkTrigger(o.trigger);
  // This host's facts and the capture's process start while ssh reaches the sender.
  const preparedCapture = d.prepareCapture?.();
  const collectOpts = o.syslogConfig ? { syslogConfig: o.syslogConfig } : {};
  const beforeFacts = collectReceiverFacts(d.receiver, collectOpts);
  let side: SenderSide;
  try {
    side = await reachSender(o, { ...d, receiverFacts: beforeFacts });
  } catch (e) {
    preparedCapture?.cancel();
    throw e;
  }
  const { senderIp, iface, port } = side;

  // At once: this host's facts, the capture, and the trigger's ssh session (held until fired).
  const marker = d.marker?.() ?? newMarker();
  const argv = triggerArgv(marker, o.trigger);
  const prepared = d.sender.prepare?.(argv);
  const tracker = new ArrivalTracker(senderIp, marker, () => d.clock(), side.senderMac);
  const pipeline = createPipeline({ ports: watchedPorts(side), onMessage: m => tracker.message(m) });
  let live: LiveHandle | undefined;
  let triggerError: string | undefined;
  let before: ReceiverReport;
  let logFile: string | undefined, logOffset: number | undefined;
  let transmitAfter = new Map<string, number>();
  try {
    d.step(`capturing on ${iface}`);
    const filter = verifyFilter(senderIp, side.senderMac);
    live = await (preparedCapture
      ? preparedCapture.open(iface, filter, pipeline)
      : d.openCapture(iface, filter, pipeline));
    before = runReceiverChecks(receiverFactsFor(await beforeFacts, side), side.receiverCtx);
    logFile = watchedLogFile(o, before);
    logOffset = logFile ? await d.fileSize(logFile) : undefined;

    d.step(`triggering: marker and sysrq ${o.trigger} on ${o.destination}`);
    const handle = live;
    triggerError = await triggerAndWait(
      tracker,
      { ...(prepared ? { prepared } : {}), run: () => d.sender.run(argv) },
      o.timeoutSec,
      d,
      () => pipeline.tick(handle.now()),
      out => (transmitAfter = parseTransmitErrors(out)),
    );
  } finally {
    prepared?.cancel();
    live?.stop();
    await live?.stopped?.();
  }
  const wire = pipeline.finish();

  d.step(
    logFile ? `looking for the marker in ${logFile}; collecting the counters again` : 'collecting the counters again',
  );
  const [logCheck, afterFacts] = await Promise.all([
    logFile ? checkLogFile(d, logFile, logOffset, marker, tracker) : Promise.resolve(undefined),
    collectReceiverFacts(d.receiver, collectOpts),
  ]);
  const after = runReceiverChecks(receiverFactsFor(afterFacts, side), side.receiverCtx);
  const report = judgeSender(
    side,
    tracker,
    before,
    after,
    wire,
    o,
    triggerError,
    logCheck,
    false,
    transmitCounts(side, transmitAfter),
  );
  return {
    report,
    marker,
    senderIp,
    iface,
    port,
    ...(logFile ? { logFile } : {}),
    elapsedMs: Math.round(d.clock() - t0),
  };
}
