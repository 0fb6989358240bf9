/**
 * verify's steps, in order: reach the sender, collect both hosts' facts, start the capture on the
 * receiving interface, snapshot the counters, trigger a marker and sysrq, wait for them (bounded),
 * collect again, and judge. Every effect goes through the dependencies given, so tests can run it
 * with fakes and the command runs it with ssh, this host and libpcap.
 */
import { randomBytes } from 'node:crypto';
import type { HostExec } from '../checks/collect.js';
import { collectReceiverFacts, collectSenderFacts } from '../checks/collect.js';
import { runReceiverChecks, runSenderChecks, type ReceiverReport } from '../checks/run.js';
import { parseLinks, parseRouteGet } from '../checks/netinfo.js';
import type { PacketSink } from '../capture/sink.js';
import { CLIError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import type { Message, Timestamp } from '../pipeline/types.js';
import { judgeVerify, type Arrival, type VerifyReport } from './judge.js';

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

export interface VerifyDeps {
  sender: HostExec & { lastError?: string; setSudo?(on: boolean): void };
  receiver: HostExec;
  openCapture(iface: string, filter: string, sink: PacketSink): LiveHandle | Promise<LiveHandle>;
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

const SYSRQ_LINE = /sysrq\s*:|SysRq\s*:/i;

/** BPF: the sender's UDP, and ICMP errors this host sends back to it. */
export function verifyFilter(senderIp: string): string {
  const v6 = senderIp.includes(':');
  return v6 ? `(udp and src host ${senderIp}) or (icmp6 and dst host ${senderIp})` : `(udp and src host ${senderIp}) or (icmp and dst host ${senderIp})`;
}

export async function runVerify(o: VerifyOptions, d: VerifyDeps): Promise<VerifyOutcome> {
  const t0 = d.clock();
  if (!/^[0-9a-z]$/.test(o.trigger)) throw new CLIError(`--trigger: '${o.trigger}' is not a sysrq command character (0-9, a-z)`);

  d.step(`connecting to ${o.destination}`);
  const who = await d.sender.run(['sh', '-c', 'id -u; echo "$SSH_CONNECTION"']);
  if (who.code !== 0) {
    const why = d.sender.lastError ?? (who.stderr.trim().split('\n').pop() || `exit ${who.code}`);
    throw new CLIError(`ssh ${o.destination}: ${why}`);
  }
  const [uid, conn] = who.stdout.trim().split('\n');
  if (uid?.trim() !== '0') {
    d.sender.setSudo?.(true);
    const s = await d.sender.run(['true']);
    if (s.code !== 0) throw new CLIError(`${o.destination}: verify needs root on the sender (writes /dev/kmsg and /proc/sysrq-trigger), and 'sudo -n' is not available: connect as root or allow sudo without a password`);
  }
  // SSH_CONNECTION: client-ip client-port server-ip server-port.
  const [clientIp, , serverIp] = (conn ?? '').trim().split(/\s+/);

  d.step('collecting the sender\'s facts');
  const senderFacts = await collectSenderFacts(d.sender, clientIp ? { remoteIp: clientIp } : {});
  const firstPass = runSenderChecks(senderFacts, clientIp ? { receiverIp: clientIp } : {});
  const target = firstPass.target;
  const receiverIp = target && target.remoteIp !== '0.0.0.0' ? target.remoteIp : clientIp;
  const senderIp = target?.localIp ?? serverIp;
  if (!senderIp) throw new CLIError(`${o.destination}: cannot tell the sender's IP (no netconsole local IP, no SSH_CONNECTION)`);
  const port = o.port ?? target?.remotePort ?? 514;

  d.step('collecting this host\'s facts');
  const route = await d.receiver.run(['ip', 'route', 'get', senderIp]);
  const iface = o.iface ?? (route.code === 0 ? parseRouteGet(route.stdout)?.dev : undefined);
  if (!iface) throw new CLIError(`cannot tell which interface reaches ${senderIp}: give -i IFACE`);
  const addr = await d.receiver.run(['ip', '-j', 'addr', 'show', 'dev', iface]);
  const receiverMacs = addr.code === 0 ? parseLinks({ text: addr.stdout, format: 'json' }).filter(l => l.name === iface).map(l => l.mac).filter((m): m is string => !!m) : [];

  const senderReport = runSenderChecks(senderFacts, { ...(receiverIp ? { receiverIp } : {}), port, receiverMacs });
  const receiverCtx = { port, senderIp, iface, ...(receiverIp ? { receiverIp } : {}), ...(target ? { target } : {}) };
  const collectOpts = { senderIp, ...(o.syslogConfig ? { syslogConfig: o.syslogConfig } : {}) };
  const before: ReceiverReport = runReceiverChecks(await collectReceiverFacts(d.receiver, collectOpts), receiverCtx);
  // A configured file name can be a template (`/var/log/remote/${HOST}.log`, `dynaFile NAME`): only a plain path is watched.
  const logFile = o.logFile ?? before.logFiles.find(f => f.startsWith('/') && !/[$%\s]/.test(f));
  const logOffset = logFile ? await d.fileSize(logFile) : undefined;

  // Capture, then trigger.
  const marker = d.marker?.() ?? `netdiag-verify-${randomBytes(6).toString('hex')}`;
  let triggeredAt = Number.POSITIVE_INFINITY;
  let markerArrival: Arrival | undefined, sysrqArrival: Arrival | undefined;
  let messagesFromSender = 0;
  const seen = (m: Message): Arrival => ({ afterMs: Math.max(0, Math.round(d.clock() - triggeredAt)), packets: m.packets, dstPort: m.dstPort, dstIp: m.dstIp, text: m.text, ...(m.dstMac ? { dstMac: m.dstMac } : {}) });
  const ports = [...new Set([port, target?.remotePort ?? port, 514, 6666])];
  const pipeline = createPipeline({
    ports,
    onMessage: m => {
      if (m.srcIp !== senderIp) return;
      messagesFromSender++;
      if (!markerArrival && m.text.includes(marker)) markerArrival = seen(m);
      else if (!sysrqArrival && d.clock() >= triggeredAt && SYSRQ_LINE.test(m.text)) sysrqArrival = seen(m);
    },
  });
  d.step(`capturing on ${iface}`);
  const live = await d.openCapture(iface, verifyFilter(senderIp), pipeline);
  let triggerError: string | undefined;
  try {
    d.step(`triggering: marker and sysrq ${o.trigger} on ${o.destination}`);
    triggeredAt = d.clock();
    const trig = await d.sender.run(['sh', '-c', `echo ${marker} > /dev/kmsg && echo ${o.trigger} > /proc/sysrq-trigger`]);
    if (trig.code !== 0) triggerError = (trig.stderr.trim().split('\n').pop() || `exit ${trig.code}`).slice(0, 200);

    d.step('waiting for the messages');
    // Both are sent back to back: once one is in, the other gets a short grace, not the whole timeout.
    let deadline = triggeredAt + o.timeoutSec * 1000;
    let graced = false;
    while (!triggerError && d.clock() < deadline && !(markerArrival && sysrqArrival)) {
      await d.sleep(50);
      pipeline.tick(live.now());
      if (!graced && (markerArrival || sysrqArrival)) {
        graced = true;
        deadline = Math.min(deadline, d.clock() + 1500);
      }
    }
  } finally {
    live.stop();
    await live.stopped?.();
  }
  const wire = pipeline.finish();

  // The log file: the daemon writes asynchronously, so look a few times.
  let logCheck: { path: string; markerFound: boolean; sysrqFound: boolean; readable: boolean } | undefined;
  if (logFile) {
    d.step(`looking for the marker in ${logFile}`);
    let text: string | undefined;
    for (let i = 0; i < 20; i++) {
      text = await d.readFrom(logFile, logOffset ?? 0);
      if (text === undefined || text.includes(marker) || !(markerArrival || sysrqArrival)) break;
      await d.sleep(100);
    }
    logCheck = { path: logFile, readable: text !== undefined, markerFound: !!text?.includes(marker), sysrqFound: !!text && SYSRQ_LINE.test(text) };
  }

  d.step('collecting the counters again');
  const after = runReceiverChecks(await collectReceiverFacts(d.receiver, collectOpts), receiverCtx);
  const report = judgeVerify({
    sender: senderReport, receiverBefore: before, receiverAfter: after, receiverMacs, iface, port, senderIp, marker,
    ...(triggerError ? { triggerError } : {}), ...(markerArrival ? { markerArrival } : {}), ...(sysrqArrival ? { sysrqArrival } : {}),
    messagesFromSender, wire, ...(logCheck ? { logFile: logCheck } : {}), timeoutSec: o.timeoutSec,
  });
  return { report, marker, senderIp, iface, port, ...(logFile ? { logFile } : {}), elapsedMs: Math.round(d.clock() - t0) };
}
