/**
 * verify for many senders in one run: at most `forks` senders at a time are reached over ssh
 * (each its own control connection), one capture per receiving interface serves them all (a
 * SourceDemux hands each sender's packets to its own pipeline: by its address, or behind a router
 * that translates it, by the source its marker arrives from), each sender gets its own marker
 * and is judged by the same phases and judge as a single verify (src/verify/run.ts). This host's
 * facts are collected once before any trigger; after the tests only its counters again, once per
 * wave: senders finishing while a collection runs share the next one. A capture that cannot be
 * opened stops the run with one error. A sender that cannot be reached
 * or does not finish within its budget is "could not be checked", with the reason, and never
 * stops the others. Every effect goes through the dependencies given.
 */
import { collectReceiverCounters, collectReceiverFacts, collectReceiverSockets } from '../checks/host/collect.js';
import { runReceiverChecks, type ReceiverFacts } from '../checks/run.js';
import { SourceDemux } from '../capture/demux.js';
import { CLIError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { checkLogFile, type LogStart, watchedLogFile } from './log-file.js';
import { afterTranslation, logStartsWithAnySource } from './translated.js';
import { judgeSenderTargets } from './targets.js';
import { destinationHost, reachSender, receiverFactsFor, routesAtOnce, watchedPorts } from './sender-side.js';
import { ipFamily } from '../config/netconsole-spec.js';
import { checkTrigger, newMarker, newTracker, parseTransmitErrors, triggerAndWait, triggerArgv } from './trigger.js';
import type { PreparedCommand } from '../io/ssh-exec.js';
import type { LiveHandle, SenderExec, VerifyDeps, VerifyOptions, VerifyOutcome } from './types.js';

export interface FleetSender {
  /** How the user named it: the inventory's host name, or the destination given. */
  name: string;
  /** `[user@]host` for ssh. */
  destination: string;
}

export interface FleetOptions extends Omit<VerifyOptions, 'destination'> {
  senders: FleetSender[];
  /** Senders checked at once. @default 10 */
  forks: number;
  /** Most seconds one sender may take from its first ssh command to its verdict. */
  budgetSec: number;
}

/** What a fleet run needs besides a single verify's: ssh per sender, progress, stop (the rest as VerifyDeps). */
export interface FleetDeps extends Pick<
  VerifyDeps,
  'receiver' | 'openCapture' | 'prepareCapture' | 'fileSize' | 'readFrom' | 'listFiles' | 'clock' | 'sleep' | 'marker'
> {
  /** An ssh HostExec for one sender, closed when its check ends. */
  connect(s: FleetSender): SenderExec & { close(): Promise<void> };
  /** Called as each sender finishes (in the order they finish). */
  onResult?(r: FleetResult, progress: { checked: number; total: number; broken: number }): void;
  /** Resolves when the user asks to stop (Ctrl-C): no new sender starts, those under way end now. */
  stop?: Promise<unknown>;
}

export interface FleetResult {
  sender: FleetSender;
  /** The single-sender outcome, when the sender could be checked. */
  outcome?: VerifyOutcome;
  /** Why it could not be checked (ssh's reason, no root, over its budget). */
  error?: string;
  elapsedMs: number;
}

export interface FleetOutcome {
  /** The user stopped the run: senders not finished are "could not be checked: interrupted". */
  interrupted: boolean;
  /** In the order the senders were given. */
  results: FleetResult[];
  /** Each receiving interface and what its capture saw. */
  captures: Array<{ iface: string; unclaimed: number }>;
  elapsedMs: number;
}

/**
 * Every capture of the fleet: all UDP and the ICMP errors; the demux picks each sender's. All UDP
 * holds what a single verify's filter adds for a translated source (UDP to the watched ports from
 * any address, and an IPv4 fragment after the first, which `udp` takes by its protocol alone).
 */
const FLEET_FILTER = 'udp or icmp or icmp6';

/**
 * Snapshots of this host's facts, each started after a given moment, shared by whoever asks
 * meanwhile. `hold`, when given, is awaited before a snapshot starts: whoever asks while it holds
 * shares that snapshot too (a fleet holds while other senders' tests are about to end).
 */
export function snapshotter(
  collect: () => Promise<ReceiverFacts>,
  clock: () => number,
  hold?: () => Promise<void>,
): (after: number) => Promise<ReceiverFacts> {
  let current: { startedAt: number; facts: Promise<ReceiverFacts> } | undefined;
  let next: Promise<ReceiverFacts> | undefined;
  return after => {
    if (current && current.startedAt >= after) return current.facts;
    next ??= (async () => {
      await current?.facts.catch(() => undefined);
      await hold?.();
      const started = { startedAt: clock(), facts: collect() };
      current = started;
      next = undefined;
      return started.facts;
    })();
    return next;
  };
}

/** How long a counters' collection waits for other senders' tests to end, so that they share it. */
const SHARE_WAIT_MS = 1000;

export async function runFleet(o: FleetOptions, d: FleetDeps): Promise<FleetOutcome> {
  const t0 = d.clock();
  checkTrigger(o.trigger);
  if (!o.senders.length) throw new CLIError('verify: no senders to check');
  const collectOpts = o.syslogConfig ? { syslogConfig: o.syslogConfig } : {};
  // This host's facts once; after each test only its counters again (shared by the senders that
  // finish while one collection runs). They start once the first senders' ssh processes have.
  let startHere!: () => void;
  const beforeFacts = new Promise<void>(r => (startHere = r)).then(() => collectReceiverFacts(d.receiver, collectOpts));
  // The files any source may land in, judged once per receiving context (translated.ts).
  const anySourceFiles = new Map<string, string[]>();
  // Senders whose trigger fired and whose wait has not ended: a collection about to start waits
  // for them (at most SHARE_WAIT_MS), so one collection serves senders ending close together
  // (each collection is three processes here: iptables-save, ip6tables-save, nft).
  let testing = 0;
  const afterFacts = snapshotter(
    async () => collectReceiverCounters(d.receiver, await beforeFacts),
    () => d.clock(),
    async () => {
      const until = d.clock() + SHARE_WAIT_MS;
      while (testing > 0 && d.clock() < until) await d.sleep(20);
    },
  );

  // The routes back to the senders ssh reaches by address, all in one process (asked per sender
  // otherwise, as a single verify does).
  const hosts = [...new Set(o.senders.map(s => destinationHost(s.destination)).filter(h => ipFamily(h) !== 0))];
  const routes = hosts.length > 1 ? routesAtOnce(d.receiver, hosts) : d.receiver;

  const captures = new Map<string, Promise<{ live: LiveHandle; demux: SourceDemux }>>();
  let captureFailed: CLIError | undefined;
  // The first interface's capture process starts with this host's facts, while the first senders are reached.
  let prepared: ReturnType<NonNullable<FleetDeps['prepareCapture']>> | undefined;
  const captureOn = (iface: string) => {
    let c = captures.get(iface);
    if (!c) {
      const demux = new SourceDemux();
      const p = prepared;
      prepared = undefined;
      c = Promise.resolve(p ? p.open(iface, FLEET_FILTER, demux) : d.openCapture(iface, FLEET_FILTER, demux)).then(
        live => ({
          live,
          demux,
        }),
        (e: unknown) => {
          // This host cannot capture: no sender can be checked. Said once, and the run stops.
          const why = e instanceof Error ? e.message : String(e);
          captureFailed ??= new CLIError(
            /capture|pcap|tcpdump/i.test(why) ? why : `cannot capture on ${iface}: ${why}`,
          );
          halt();
          throw captureFailed;
        },
      );
      captures.set(iface, c);
    }
    return c;
  };

  const results: FleetResult[] = new Array<FleetResult>(o.senders.length);
  let checked = 0,
    broken = 0;
  const finish = (i: number, r: FleetResult) => {
    results[i] = r;
    checked++;
    if (r.outcome && !r.outcome.report.ok) broken++;
    d.onResult?.(r, { checked, total: o.senders.length, broken });
  };

  const checkOne = async (s: FleetSender, exec: SenderExec, cancelled: () => boolean): Promise<VerifyOutcome> => {
    const t1 = d.clock();
    const single: VerifyOptions = { ...o, destination: s.destination };
    // The trigger's ssh session is opened as soon as the sender answered, and held until fired.
    const marker = d.marker?.() ?? newMarker();
    const argv = triggerArgv(marker, o.trigger);
    let prepared: PreparedCommand | undefined;
    const side = await reachSender(single, {
      sender: exec,
      receiver: routes,
      step: () => {},
      receiverFacts: beforeFacts,
      trigger: { argv, timeoutMs: (o.timeoutSec + 30) * 1000 },
      connected: held => (prepared = held ?? exec.prepare?.(argv)),
    }).catch((e: unknown) => {
      prepared?.cancel();
      throw e;
    });
    const tracker = newTracker(side, marker, () => d.clock());
    const pipeline = createPipeline({ ports: watchedPorts(side), onMessage: m => tracker.message(m) });
    let triggerError: string | undefined;
    let logFile: string | undefined, logOffset: LogStart;
    let transmitAfter = new Map<string, number>();
    let triggered = false;
    const { live, demux } = await captureOn(side.iface).catch(e => {
      prepared?.cancel();
      throw e;
    });
    // Two entries for one sender IP take turns: the demux tells senders apart by address. Behind a
    // router that translates the source, by the source (address and port) this test's marker
    // arrives from.
    while (!demux.add(side.senderIp, pipeline, { marker, ports: watchedPorts(side) })) {
      if (cancelled()) throw new Error('cancelled');
      await d.sleep(100);
    }
    try {
      logFile = watchedLogFile(
        o,
        runReceiverChecks(receiverFactsFor(await beforeFacts, side), side.receiverCtx),
        side.senderIp,
      );
      // Behind NAT the daemon's rules meet another source: where the files any source may land in stood, too.
      logOffset = await logStartsWithAnySource(d, o, await beforeFacts, side, logFile, anySourceFiles);
      if (cancelled()) throw new Error('cancelled');
      testing++;
      triggered = true;
      triggerError = await triggerAndWait(
        tracker,
        { ...(prepared ? { prepared } : {}), run: () => exec.run(argv) },
        o.timeoutSec,
        d,
        () => pipeline.tick(live.now()),
        out => (transmitAfter = parseTransmitErrors(out)),
      );
    } finally {
      if (triggered) testing--;
      prepared?.cancel();
      demux.remove(side.senderIp);
    }
    const wire = pipeline.finish();
    const doneAt = d.clock();
    // The datagrams came from another source (NAT): the log file and the route back are that address's.
    const translated = afterTranslation(d.receiver, o, await beforeFacts, side, tracker, logFile);
    logFile = translated.logFile;
    const [logCheck, counted] = await Promise.all([
      logFile ? checkLogFile(d, logFile, logOffset, marker, tracker) : Promise.resolve(undefined),
      afterFacts(doneAt),
    ]);
    // Nothing of this test in the file: whether the daemon still listens (it may have stopped meanwhile).
    const missed = logCheck?.readable && tracker.arrived && !logCheck.markerFound && !logCheck.sysrqFound;
    const after = missed ? await collectReceiverSockets(d.receiver, counted) : counted;
    const translatedRoute = await translated.routeBack;
    const { report, others } = judgeSenderTargets({
      side,
      tracker,
      before: await beforeFacts,
      after,
      wire,
      o,
      ...(triggerError ? { triggerError } : {}),
      ...(logCheck ? { logCheck } : {}),
      // The counters before were taken once for the run: other senders moved them too.
      sharedCounters: o.senders.length > 1,
      transmitAfter,
      ...(translatedRoute ? { translatedRoute } : {}),
    });
    return {
      report,
      ...(others.length ? { others } : {}),
      marker,
      senderIp: side.senderIp,
      iface: side.iface,
      port: side.port,
      ...(logFile ? { logFile } : {}),
      elapsedMs: Math.round(d.clock() - t1),
    };
  };

  let interrupted = false;
  let halted = false;
  const underWay = new Set<() => void>();
  /** No new sender starts; those under way end now. */
  function halt(): void {
    halted = true;
    for (const end of underWay) end();
  }
  void d.stop?.then(() => {
    interrupted = true;
    halt();
  });

  const runOne = async (i: number): Promise<void> => {
    const s = o.senders[i]!;
    const t1 = d.clock();
    const exec = d.connect(s);
    let over = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let end!: () => void;
    const budget = new Promise<'over' | 'stopped'>(r => {
      timer = setTimeout(() => r('over'), o.budgetSec * 1000);
      end = () => r('stopped');
    });
    underWay.add(end);
    const work = checkOne(s, exec, () => over);
    try {
      const r = await Promise.race([work, budget]);
      if (r === 'over' || r === 'stopped') {
        over = true;
        work.catch(() => undefined);
        const why = r === 'over' ? `no verdict within ${o.budgetSec} s` : 'interrupted';
        finish(i, { sender: s, error: why, elapsedMs: Math.round(d.clock() - t1) });
      } else finish(i, { sender: s, outcome: r, elapsedMs: Math.round(d.clock() - t1) });
    } catch (e) {
      if (!(e instanceof CLIError)) throw e;
      // The table names the sender already: ssh's own reason is enough.
      finish(i, {
        sender: s,
        error: e.message.replace(`ssh ${s.destination}: `, ''),
        elapsedMs: Math.round(d.clock() - t1),
      });
    } finally {
      underWay.delete(end);
      clearTimeout(timer);
      await exec.close();
    }
  };

  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < o.senders.length && !halted) await runOne(nextIndex++);
  };
  try {
    // The workers' first ssh processes start here, before this host's facts and the capture's process.
    const all = Promise.all(Array.from({ length: Math.max(1, Math.min(o.forks, o.senders.length)) }, worker));
    prepared = d.prepareCapture?.();
    startHere();
    await all;
  } finally {
    prepared?.cancel();
    for (const c of captures.values()) {
      const opened = await c.catch(() => undefined);
      opened?.live.stop();
      await opened?.live.stopped?.();
    }
  }
  if (captureFailed) throw captureFailed;
  const capturesSeen: FleetOutcome['captures'] = [];
  for (const [iface, c] of captures) {
    const opened = await c.catch(() => undefined);
    if (opened) capturesSeen.push({ iface, unclaimed: opened.demux.unclaimed });
  }
  // Senders never started because the user stopped the run.
  for (let i = 0; i < o.senders.length; i++)
    results[i] ??= { sender: o.senders[i]!, error: 'interrupted', elapsedMs: 0 };
  return { interrupted, results, captures: capturesSeen, elapsedMs: Math.round(d.clock() - t0) };
}
