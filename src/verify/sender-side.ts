/**
 * Reaching a sender: its facts in one ssh round trip, its configuration judged, the netconsole
 * target verify tests, and where this host receives it (interface, port, addresses). The
 * target's own addresses decide, not the ssh connection's.
 */
import { collectSenderFacts } from '../checks/host/collect.js';
import type { SenderFacts } from '../checks/host/facts.js';
import { mergeLinks, parseLinks, parseRouteGet } from '../checks/host/netinfo.js';
import { syslogPorts } from '../checks/receiver/view.js';
import { printkTimeCtx } from '../checks/syslog/line-forms.js';
import {
  runSenderChecks,
  type FactText,
  type ReceiverContext,
  type ReceiverFacts,
  type SenderReport,
} from '../checks/run.js';
import { ipFamily } from '../config/netconsole-spec.js';
import type { NetconsoleTarget } from '../config/target.js';
import { canonicalIp } from '../decode/addr.js';
import { CLIError } from '../errors.js';
import { batchScript, cachedExec, newBoundary, parseBatch } from '../io/batch-exec.js';
import type { ExecResult, HostExec } from '../io/host-exec.js';
import { shellQuote, type PreparedCommand } from '../io/ssh-exec.js';
import { addIpText } from './ip-text.js';
import { SENDER_PLAN, WHO_AM_I } from './prefetch.js';
import { targetKey } from './hops/evidence.js';
import type { VerifyDeps, VerifyOptions } from './types.js';

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
  /**
   * The sender's other targets on this host (another port or address, the same family): the
   * same test reaches them, and each is judged as its own path.
   */
  others?: NetconsoleTarget[];
  /** Its targets on this host not judged (another program's port, --port given): their datagrams are theirs. */
  unjudged?: NetconsoleTarget[];
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
  const candidates = targetCandidates(r);
  const toUs = candidates.filter(t => receiverAddrs.includes(canonicalIp(t.remoteIp)));
  return toUs.find(t => ports.includes(t.remotePort)) ?? toUs[0] ?? r.target ?? candidates[0];
}

/** The targets the kernel runs, else the configured ones (enabled configfs entries first). */
function targetCandidates(r: SenderReport): NetconsoleTarget[] {
  const live = r.configfs.filter(c => c.enabled !== false && c.target.remoteIp).map(c => c.target);
  return r.running.length ? r.running : [...live, ...r.configured];
}

/**
 * The sender's targets on this host besides the tested one: another destination (address or
 * port) of this host, in the tested target's family (its datagrams come from the same source).
 */
function otherTargets(
  r: SenderReport,
  receiverAddrs: readonly string[],
  tested: NetconsoleTarget | undefined,
): NetconsoleTarget[] {
  if (!tested) return [];
  const key = (t: NetconsoleTarget) => targetKey(t.remoteIp, t.remotePort);
  const seen = new Set([key(tested)]);
  return targetCandidates(r).filter(t => {
    if (ipFamily(t.remoteIp) !== ipFamily(tested.remoteIp)) return false;
    if (!receiverAddrs.includes(canonicalIp(t.remoteIp)) || seen.has(key(t))) return false;
    seen.add(key(t));
    return true;
  });
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
  d: Pick<VerifyDeps, 'sender' | 'receiver' | 'step'> & {
    receiverFacts?: Promise<ReceiverFacts>;
    /**
     * The trigger's command: with it (and an exec that holds sessions), the facts' session stays
     * open after its answers and runs it when fired, so the trigger needs no session of its own.
     */
    trigger?: { argv: string[]; timeoutMs: number };
    /**
     * Called once the sender answered as root (or through sudo): later ssh sessions can start.
     * `trigger` is the facts' session, held to run the trigger, when it could be kept.
     */
    connected?: (trigger?: PreparedCommand) => void;
  },
): Promise<SenderSide> {
  d.step(`connecting to ${o.destination}`);
  const boundary = newBoundary();
  const script = batchScript(SENDER_PLAN, boundary);
  const batch = ['sh', '-c', script];
  const whoKey = `C ${WHO_AM_I.join(' ')}`;
  const readyLine = `${boundary} R`;
  const held =
    d.trigger && d.sender.session
      ? d.sender.session(['sh', '-c', heldScript(script, d.trigger.argv)], readyLine, d.trigger.timeoutMs)
      : undefined;
  const firstRun = held ? held.ready : d.sender.run(batch);
  // The route back to the address ssh reaches, asked here while ssh runs: usually the datagrams'
  // source too (it is used only when it is).
  const host = destinationHost(o.destination);
  const earlyRoute =
    ipFamily(host) !== 0 ? { ip: canonicalIp(host), result: d.receiver.run(['ip', 'route', 'get', host]) } : undefined;
  const first = await firstRun;
  let answers = addIpText(parseBatch(first.stdout, boundary));
  const whoAnswer = answers.get(whoKey);
  const who: ExecResult = whoAnswer
    ? { stdout: whoAnswer.text, stderr: '', code: whoAnswer.code }
    : first.code === 255
      ? first
      : await d.sender.run(WHO_AM_I);
  if (who.code !== 0) {
    held?.cancel();
    const why = d.sender.lastError ?? (who.stderr.trim().split('\n').pop() || `exit ${who.code}`);
    throw new CLIError(`ssh ${o.destination}: ${why}`);
  }
  const [uid, conn] = who.stdout.trim().split('\n');
  // The facts' session holds the trigger when it answered as root and is waiting for the line.
  const heldTrigger = held && uid?.trim() === '0' && first.stdout.includes(`\n${readyLine}\n`) ? held : undefined;
  if (held && !heldTrigger) held.cancel();
  if (uid?.trim() !== '0') {
    d.sender.setSudo?.(true);
    answers = whoAnswer
      ? addIpText(parseBatch((await d.sender.run(batch)).stdout, boundary))
      : new Map<string, { text: string; code: number }>();
    if (!answers.has(whoKey)) {
      const s = await d.sender.run(['true']);
      if (s.code !== 0)
        throw new CLIError(
          `${o.destination}: verify needs root on the sender (writes /dev/kmsg and /proc/sysrq-trigger), and 'sudo -n' is not available: connect as root or allow sudo without a password`,
        );
    }
  }
  d.connected?.(
    heldTrigger && {
      fire: () => heldTrigger.fire(),
      cancel: () => heldTrigger.cancel(),
      // The trigger's own output: what the script wrote after its ready line.
      result: heldTrigger.result.then(r => {
        const at = r.stdout.indexOf(`\n${readyLine}\n`);
        return { ...r, stdout: at < 0 ? '' : r.stdout.slice(at + readyLine.length + 2) };
      }),
    },
  );
  // SSH_CONNECTION: client-ip client-port server-ip server-port. Only a last resort for addresses.
  const [clientIp, , serverIp] = (conn ?? '').trim().split(/\s+/);

  d.step("collecting the sender's facts");
  const exec = answers.size ? cachedExec(d.sender, answers) : d.sender;
  const senderFacts = await collectSenderFacts(exec, {
    oneIpForLinks: true,
    ...(clientIp ? { fallbackRemoteIp: clientIp } : {}),
  });
  const receiverFacts = await d.receiverFacts;
  // This host's addresses as its facts hold them (collected while ssh ran), else asked now.
  const addr = receiverFacts?.ipAddr ?? (await ipAddrJson(d));
  const links = addr ? parseLinks(addr) : [];
  // As the decoders write addresses, so the wire's compare equal (fd99:0::2 is fd99::2).
  const receiverAddrs = links.flatMap(l => l.addrs.map(x => canonicalIp(x.address)));
  const receiving = receiverFacts ? syslogPorts(receiverFacts) : [];
  const ports = o.port ? [o.port] : receiving;

  const asConfigured = runSenderChecks(senderFacts, {});
  const target = chooseTarget(asConfigured, receiverAddrs, ports);
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

  const route =
    earlyRoute?.ip === senderIp ? await earlyRoute.result : await d.receiver.run(['ip', 'route', 'get', senderIp]);
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

  // --port tests that target alone. Another target is judged when it sends to a port this host's
  // syslog daemon receives on: one to another program (netconsd on 6666) lands in no file of its.
  // Every other target's datagrams are its own, judged or not.
  const besides = otherTargets(asConfigured, receiverAddrs, target);
  const others = o.port === undefined ? besides.filter(t => receiving.includes(t.remotePort)) : [];
  const unjudged = besides.filter(t => !others.includes(t));
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
    ...printkTimeCtx(senderFacts.printkTime?.text),
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
    ...(others.length ? { others } : {}),
    ...(unjudged.length ? { unjudged } : {}),
  };
}

/** The host of an ssh destination (`user@host`, `[v6]`): the address ssh reaches, when it is one. */
export function destinationHost(destination: string): string {
  return destination.replace(/^[^@]*@/, '').replace(/^\[(.*)\]$/, '$1');
}

/**
 * The routes back to many hosts (`ip route get HOST` each) in one `ip -batch` on this host (one
 * process, not one per sender): a HostExec that answers those from it and runs anything else.
 */
export function routesAtOnce(receiver: HostExec, hosts: readonly string[]): HostExec {
  const boundary = newBoundary();
  const item = { kind: 'ip' as const, opts: [], commands: hosts.map(h => ['route', 'get', h]) };
  // Asked when first needed (after the first sender's ssh started), then shared.
  let answers: Promise<ReturnType<typeof parseBatch>> | undefined;
  const ask = () =>
    (answers ??= receiver
      .run(['sh', '-c', batchScript([item], boundary)])
      .then(r => parseBatch(r.stdout, boundary))
      .catch(() => new Map() as ReturnType<typeof parseBatch>));
  return {
    run: async argv => cachedExec(receiver, await ask()).run(argv),
    readFile: p => receiver.readFile(p),
    ...(receiver.listDir ? { listDir: receiver.listDir.bind(receiver) } : {}),
  };
}

/**
 * The facts' script, then its ready line (`BOUNDARY R`), then a wait for one line on stdin before
 * `argv` runs: the session that read the facts triggers too. Its stdin is kept aside while the
 * facts are read (no command there can take the line), and closing it ends the script.
 */
export function heldScript(script: string, argv: readonly string[]): string {
  return [
    'exec 4<&0 </dev/null',
    script,
    'printf \'%s R\\n\' "$B"',
    'exec <&4 4<&-',
    'read _ || exit 0',
    // A `sh -c SCRIPT` (verify's trigger) runs in this shell, the same sh: no second one started.
    argv.length === 3 && argv[0] === 'sh' && argv[1] === '-c' ? argv[2]! : `exec ${argv.map(shellQuote).join(' ')}`,
  ].join('\n');
}

async function ipAddrJson(d: Pick<VerifyDeps, 'receiver'>): Promise<(FactText & { format: 'json' }) | undefined> {
  const r = await d.receiver.run(['ip', '-j', 'addr', 'show']);
  return r.code === 0 ? { text: r.stdout, from: 'ip -j addr show', format: 'json' } : undefined;
}

/** This host's facts for one sender: collected once (without a sender), with that sender's route added. */
export function receiverFactsFor(facts: ReceiverFacts, side: SenderSide): ReceiverFacts {
  return side.routeGet ? { ...facts, routeGet: side.routeGet } : facts;
}

/** The ports verify watches for a sender: the expected one, the configured one, and netconsole's usual ones. */
export function watchedPorts(side: SenderSide): number[] {
  const others = (side.others ?? []).map(t => t.remotePort);
  return [...new Set([side.port, side.target?.remotePort ?? side.port, ...others, 514, 6666])];
}
