/**
 * What the sender checks share, derived once from the facts: every source's targets, what the
 * kernel log says runs, the target under judgement, the device and the route. Pure.
 */
import type { NetconsoleTarget } from '../../config/target.js';
import { endpoint } from '../../decode/addr.js';
import type { SenderFacts } from '../host/facts.js';
import { parseLinks, mergeLinks, parseRouteGet, type LinkInfo, type RouteGet } from '../host/netinfo.js';
import { parseModules } from '../host/procnet.js';
import {
  parseKernelLog,
  effectiveKernelTargets,
  type KernelEvent,
  type KernelLogNetconsole,
  type KernelLogTarget,
} from './kernel-log.js';
import { SENDER_SOURCES, readSource, type SenderSource, type SourceRead } from './sources/index.js';
import type { TargetExtras } from './sources/types.js';

export interface SenderContext {
  /** The target under test (from --netconsole or verify). Default: the one the kernel runs, else the configured one. */
  target?: NetconsoleTarget;
  /** The receiver's IP, to pick the target among several and for the route. */
  receiverIp?: string;
  /** The port the receiver listens on, to pick among several targets to the receiver's IP. */
  targetPort?: number;
  /** The receiver's UDP port. */
  port?: number;
  /**
   * The receiver's own MAC addresses, when known (verify runs on the receiver): a remote MAC equal to
   * one of them across a router is wrong.
   */
  receiverMacs?: string[];
}

/** A target of a live source (configfs): its name and switch. */
export interface LiveTarget {
  name: string;
  enabled: boolean | undefined;
  target: NetconsoleTarget;
  /** Its directory, for evidence. */
  from: string;
  /** What it appends to messages (userdata, sysdata), its send errors. */
  extras?: TargetExtras;
}

export interface SenderView {
  ctx: SenderContext;
  /** Each source that collected something, with what it says. */
  reads: Array<{ source: SenderSource; read: SourceRead }>;
  /** Targets of the file sources (read at load time), in the sources' order. */
  configured: NetconsoleTarget[];
  /** Targets of the live sources (configfs). */
  live: LiveTarget[];
  enabledLive: NetconsoleTarget[];
  configErrors: string[];
  configWarnings: string[];
  klog?: KernelLogNetconsole;
  /** Targets the kernel logged at the last successful start (this boot). */
  running: NetconsoleTarget[];
  modules?: Set<string>;
  moduleLoaded?: boolean;
  /** Line of the last start (or console enabled) since boot. */
  startedLine?: number;
  loaded?: boolean;
  /** The target the checks judge, and the source it came from (none: the kernel log or the context). */
  target?: NetconsoleTarget;
  targetSource?: SenderSource;
  receiverIp?: string;
  links: LinkInfo[];
  route?: RouteGet;
  /** The netconsole device's name (or MAC, newer kernels): the target's, else the route's, else eth0. */
  devName: string;
  link?: LinkInfo;
}

export function deriveSender(facts: SenderFacts, ctx: SenderContext): SenderView {
  const reads: SenderView['reads'] = [];
  for (const s of SENDER_SOURCES) {
    const read = readSource(s, facts);
    if (read) reads.push({ source: s, read });
  }
  const configured = reads.filter(r => !r.source.live).flatMap(r => r.read.targets.map(t => t.target));
  const live = reads
    .filter(r => r.source.live)
    .flatMap(r =>
      r.read.targets.map(t => ({
        name: t.name ?? '',
        enabled: t.enabled,
        target: t.target,
        from: t.from ?? '',
        ...(t.extras ? { extras: t.extras } : {}),
      })),
    );
  const configErrors = reads.flatMap(r => r.read.errors);
  const configWarnings = reads.flatMap(r => r.read.warnings);
  const klog = facts.kernelLog ? parseKernelLog(facts.kernelLog.text, facts.kernelLog.from) : undefined;
  const enabledLive = live.filter(c => c.enabled !== false && c.target.remoteIp).map(c => c.target);
  const running = klog ? withoutSuperseded(klog, enabledLive, configured) : [];
  const modules = facts.modules ? parseModules(facts.modules.text) : undefined;
  const moduleLoaded = modules?.has('netconsole');

  const toUs = (t: NetconsoleTarget) => t.remoteIp === ctx.receiverIp;
  const pick = (ts: NetconsoleTarget[]) =>
    (ctx.receiverIp ? (ts.find(t => toUs(t) && t.remotePort === ctx.targetPort) ?? ts.find(toUs)) : undefined) ?? ts[0];
  const target =
    ctx.target ??
    pick(running) ??
    pick(enabledLive) ??
    pick(configured) ??
    pick(live.map(c => c.target).filter(t => t.remoteIp));
  const targetSource = target ? reads.find(r => r.read.targets.some(t => t.target === target))?.source : undefined;

  const sinceBoot = (e: KernelEvent) => !klog || e.line > klog.lastBootLine;
  const startedLine = klog?.events
    .filter(e => (e.kind === 'started' || e.kind === 'console-enabled') && sinceBoot(e))
    .pop()?.line;
  const loaded =
    moduleLoaded || facts.configfs !== undefined || startedLine !== undefined ? true : modules ? false : undefined;

  const links = mergeLinks(parseLinks(facts.ipLink), parseLinks(facts.ipAddr));
  const route = facts.routeGet ? parseRouteGet(facts.routeGet.text) : undefined;
  const devName = target?.dev ?? route?.dev ?? 'eth0';
  const link = links.length
    ? devName.includes(':')
      ? links.find(l => l.mac === devName)
      : links.find(l => l.name === devName)
    : undefined;

  const v: SenderView = {
    ctx,
    reads,
    configured,
    live,
    enabledLive,
    configErrors,
    configWarnings,
    running,
    links,
    devName,
  };
  if (klog) v.klog = klog;
  if (modules) v.modules = modules;
  if (moduleLoaded !== undefined) v.moduleLoaded = moduleLoaded;
  if (startedLine !== undefined) v.startedLine = startedLine;
  if (loaded !== undefined) v.loaded = loaded;
  if (target) v.target = target;
  if (targetSource) v.targetSource = targetSource;
  const receiverIp = ctx.receiverIp ?? target?.remoteIp;
  if (receiverIp) v.receiverIp = receiverIp;
  if (route) v.route = route;
  if (link) v.link = link;
  return v;
}

/** The same target: ports and remote IP equal, and the device and local IP where both say one. */
function sameTarget(a: NetconsoleTarget, b: NetconsoleTarget): boolean {
  const opt = (x: string | undefined, y: string | undefined) => x === undefined || y === undefined || x === y;
  return (
    a.localPort === b.localPort &&
    a.remotePort === b.remotePort &&
    a.remoteIp.toLowerCase() === b.remoteIp.toLowerCase() &&
    opt(a.dev, b.dev) &&
    opt(a.localIp?.toLowerCase(), b.localIp?.toLowerCase())
  );
}

/**
 * The kernel log's targets without those a configfs target left behind. A configfs target disabled,
 * given another remote port or IP and enabled again prints a new block, and nothing says the old one
 * stopped (the kernel log never names a configfs target). configfs does: a block that is no enabled
 * configfs target and no target of a boot-time configuration (module parameter, kernel command
 * line, sysconfig), followed by a block from the same local end (port, address, device) that is an
 * enabled configfs target, is that target before its change. A boot-time configuration vouches
 * only for a block printed while netconsole started: the kernel sets up every target of its
 * parameter before it logs "network logging started", so a block after that line was a configfs
 * target enabled later (a configuration file left as it was does not keep it running).
 */
function withoutSuperseded(
  klog: KernelLogNetconsole,
  enabledLive: NetconsoleTarget[],
  configured: NetconsoleTarget[],
): NetconsoleTarget[] {
  const blocks = effectiveKernelTargets(klog);
  // This load of netconsole: after the boot, and after the module was last unloaded.
  const loadedAt = Math.max(klog.lastBootLine, ...klog.events.filter(e => e.kind === 'cleanup').map(e => e.line));
  const started = klog.events.find(e => e.kind === 'started' && e.line > loadedAt)?.line;
  const atStart = (b: KernelLogTarget) => started === undefined || b.line < started;
  const known = (b: KernelLogTarget) =>
    enabledLive.some(c => sameTarget(c, b.target)) || (atStart(b) && configured.some(c => sameTarget(c, b.target)));
  const sameLocalEnd = (a: NetconsoleTarget, b: NetconsoleTarget) =>
    a.localPort === b.localPort && a.dev === b.dev && a.localIp?.toLowerCase() === b.localIp?.toLowerCase();
  return blocks
    .filter(
      (b, i) =>
        known(b) ||
        !blocks
          .slice(i + 1)
          .some(l => sameLocalEnd(l.target, b.target) && enabledLive.some(c => sameTarget(c, l.target))),
    )
    .map(b => b.target);
}

export const describeTarget = (t: NetconsoleTarget): string =>
  `${t.dev ?? '(default dev)'} -> ${endpoint(t.remoteIp, t.remotePort)}${t.remoteMac ? ` (${t.remoteMac})` : ''}`;
export const where = (t: NetconsoleTarget): string => `${t.source}${t.line ? `:${t.line}` : ''}`;
