/**
 * verify's steps, in order: reach the sender and read its facts in one round trip
 * (sender-side.ts), then at once collect this host's facts, start the capture on the receiving
 * interface and open the trigger's ssh session (held until the capture is ready); trigger a marker
 * and sysrq, wait for them, bounded (trigger.ts), then look in the log file (log-file.ts) while
 * collecting the counters again, and judge (judge.ts). Every effect goes through the dependencies
 * given (types.ts), so tests can run it with fakes and the command runs it with ssh, this host and
 * libpcap. The fleet run (fleet.ts) uses the same phases, sharing one capture and one receiver
 * snapshot among many senders.
 */
import { collectReceiverCounters, collectReceiverFacts, collectReceiverSockets } from '../checks/host/collect.js';
import { runReceiverChecks, type ReceiverReport } from '../checks/run.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { checkLogFile, type LogStart, watchedLogFile } from './log-file.js';
import { reachSender, receiverFactsFor, watchedPorts, type SenderSide } from './sender-side.js';
import { afterTranslation, logStartsWithAnySource } from './translated.js';
import { judgeSenderTargets } from './targets.js';
import { checkTrigger, newMarker, newTracker, parseTransmitErrors, triggerAndWait, triggerArgv } from './trigger.js';
import type { PreparedCommand } from '../io/ssh-exec.js';
import type { LiveHandle, VerifyDeps, VerifyOptions, VerifyOutcome } from './types.js';

/**
 * BPF: the sender's UDP (by its netconsole source IP, or its device's MAC), UDP to the ports
 * watched from any source (a router on the way may translate the source: the marker says which
 * is the sender's), and ICMP errors this host sends back to it.
 */
function verifyFilter(senderIp: string, senderMac?: string, ports: readonly number[] = []): string {
  const icmp = senderIp.includes(':') ? 'icmp6' : 'icmp';
  const ip6 = senderIp.includes(':');
  const srcs = [`src host ${senderIp}`];
  if (senderMac && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(senderMac)) srcs.push(`ether src ${senderMac}`);
  // A port test matches an IPv4 datagram's first fragment only: the later ones of a long message
  // through a router with a smaller MTU (translated too, behind NAT) are taken by their offset.
  if (ports.length)
    srcs.push(
      ip6
        ? `(ip6 and dst port (${ports.join(' or ')}))`
        : `(ip and (dst port (${ports.join(' or ')}) or ip[6:2] & 0x1fff != 0))`,
    );
  const from = srcs.length > 1 ? `(${srcs.join(' or ')})` : srcs[0]!;
  return `(udp and ${from}) or (${icmp} and dst host ${senderIp})`;
}

export async function runVerify(o: VerifyOptions, d: VerifyDeps): Promise<VerifyOutcome> {
  const t0 = d.clock();
  checkTrigger(o.trigger);
  // ssh to the sender is the long pole: its process starts first, then (while it connects) the
  // capture's process and this host's facts.
  const collectOpts = o.syslogConfig ? { syslogConfig: o.syslogConfig } : {};
  let startHere!: () => void;
  const beforeFacts = new Promise<void>(r => (startHere = r)).then(() => collectReceiverFacts(d.receiver, collectOpts));
  // The trigger's ssh session is opened as soon as the sender answered, and held until fired.
  const marker = d.marker?.() ?? newMarker();
  const argv = triggerArgv(marker, o.trigger);
  let prepared: PreparedCommand | undefined;
  const reaching = reachSender(o, {
    ...d,
    receiverFacts: beforeFacts,
    trigger: { argv, timeoutMs: (o.timeoutSec + 30) * 1000 },
    connected: held => (prepared = held ?? d.sender.prepare?.(argv)),
  });
  const preparedCapture = d.prepareCapture?.();
  startHere();
  let side: SenderSide;
  try {
    side = await reaching;
  } catch (e) {
    preparedCapture?.cancel();
    prepared?.cancel();
    throw e;
  }
  const { senderIp, iface, port } = side;

  // At once: this host's facts and the capture.
  const tracker = newTracker(side, marker, () => d.clock());
  const pipeline = createPipeline({ ports: watchedPorts(side), onMessage: m => tracker.message(m) });
  let live: LiveHandle | undefined;
  let triggerError: string | undefined;
  let before: ReceiverReport;
  let logFile: string | undefined, logOffset: LogStart;
  let transmitAfter = new Map<string, number>();
  try {
    d.step(`capturing on ${iface}`);
    const filter = verifyFilter(senderIp, side.senderMac, watchedPorts(side));
    live = await (preparedCapture
      ? preparedCapture.open(iface, filter, pipeline)
      : d.openCapture(iface, filter, pipeline));
    const facts = await beforeFacts;
    before = runReceiverChecks(receiverFactsFor(facts, side), side.receiverCtx);
    logFile = watchedLogFile(o, before, senderIp);
    // Behind NAT the daemon's rules meet another source, known once the marker arrived: where the
    // files any source may land in stood, too.
    logOffset = await logStartsWithAnySource(d, o, facts, side, logFile);

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
  // The datagrams came from another source (NAT): the daemon's templates and the route back that
  // rp_filter checks are those of the address that arrived.
  const translated = afterTranslation(d.receiver, o, await beforeFacts, side, tracker, logFile);
  logFile = translated.logFile;

  d.step(
    logFile ? `looking for the marker in ${logFile}; collecting the counters again` : 'collecting the counters again',
  );
  // Only the counters again (as a fleet run does): the sockets, configuration and addresses are
  // those collected before the test.
  const [logCheck, counted] = await Promise.all([
    logFile ? checkLogFile(d, logFile, logOffset, marker, tracker) : Promise.resolve(undefined),
    beforeFacts.then(f => collectReceiverCounters(d.receiver, f)),
  ]);
  // Nothing of the test in the file: whether the daemon still listens (it may have stopped during the test).
  const missed = logCheck?.readable && tracker.arrived && !logCheck.markerFound && !logCheck.sysrqFound;
  const afterFacts = missed ? await collectReceiverSockets(d.receiver, counted) : counted;
  const translatedRoute = await translated.routeBack;
  const { report, others } = judgeSenderTargets({
    side,
    tracker,
    before: await beforeFacts,
    after: afterFacts,
    wire,
    o,
    ...(triggerError ? { triggerError } : {}),
    ...(logCheck ? { logCheck } : {}),
    transmitAfter,
    ...(translatedRoute ? { translatedRoute } : {}),
  });
  return {
    report,
    ...(others.length ? { others } : {}),
    marker,
    senderIp,
    iface,
    port,
    ...(logFile ? { logFile } : {}),
    elapsedMs: Math.round(d.clock() - t0),
  };
}
