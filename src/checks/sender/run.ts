/**
 * The sender checks: is netconsole loaded, where is it configured and do those places agree with
 * what the kernel uses, is its device usable, does the route and the remote MAC fit, does the
 * console log level let messages out, is SysRq enabled. Pure: judges SenderFacts.
 */
import type { NetconsoleTarget } from '../../config/target.js';
import type { Finding } from '../../findings/finding.js';
import { finding } from '../../findings/catalog.js';
import { parseSysconfigNetconsole } from '../../config/sysconfig.js';
import { ipFamily } from '../../config/netconsole-spec.js';
import type { SenderFacts } from '../host/facts.js';
import { type CheckResult, check } from '../check.js';
import { cmdlineNetconsoleParams, configfsTarget, configuredTargets, type ConfigfsTarget, splitCmdline } from './sources/config-files.js';
import { parseKernelLog, effectiveKernelTargets, type KernelEvent, type KernelLogNetconsole } from './kernel-log.js';
import { parseLinks, mergeLinks, parseRouteGet, parseNeigh, type LinkInfo, type RouteGet } from '../host/netinfo.js';
import { parseModules, parsePrintk } from '../host/procnet.js';

export interface SenderContext {
  /** The target under test (from --netconsole or verify). Default: the one the kernel runs, else the configured one. */
  target?: NetconsoleTarget;
  /** The receiver's IP, to pick the target among several and for the route. */
  receiverIp?: string;
  /** The receiver's UDP port. */
  port?: number;
  /** The receiver's own MAC addresses, when known (verify runs on the receiver): a remote MAC equal to one of them across a router is wrong. */
  receiverMacs?: string[];
}

export interface SenderReport {
  checks: CheckResult[];
  findings: Finding[];
  /** Targets from the configuration files (sysconfig, modprobe.d, kernel command line). */
  configured: NetconsoleTarget[];
  configfs: ConfigfsTarget[];
  /** Targets the kernel logged at the last successful start (this boot). */
  running: NetconsoleTarget[];
  /** The target the checks judged. */
  target?: NetconsoleTarget;
  loaded?: boolean;
  kernelLog?: KernelLogNetconsole;
}

const ev = (from: string, line: number | undefined, text: string) => (line !== undefined ? `${from}:${line}: ${text}` : `${from}: ${text}`);

function describe(t: NetconsoleTarget): string {
  return `${t.dev ?? '(default dev)'} -> ${t.remoteIp}:${t.remotePort}${t.remoteMac ? ` (${t.remoteMac})` : ''}`;
}

/** Compares kernel versions `a.b.c`: negative when `v` is older than `min`. */
export function kernelOlderThan(release: string, min: [number, number, number]): boolean | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) return undefined;
  const v = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i]! < min[i]!;
  return false;
}

export function runSenderChecks(facts: SenderFacts, ctx: SenderContext = {}): SenderReport {
  const checks: CheckResult[] = [];
  const configErrors: string[] = [];
  const configWarnings: string[] = [];

  // ---- sources ------------------------------------------------------------------------------
  const sys = facts.sysconfig ? parseSysconfigNetconsole(facts.sysconfig.text, facts.sysconfig.from) : undefined;
  const files = configuredTargets({ ...(facts.cmdline ? { cmdline: facts.cmdline } : {}), ...(facts.modprobe ? { modprobe: facts.modprobe } : {}) });
  const configured: NetconsoleTarget[] = [...(sys?.targets ?? []), ...files.targets];
  configErrors.push(...(sys?.errors ?? []), ...files.errors);
  configWarnings.push(...(sys?.warnings ?? []));
  const cfs = (facts.configfs ?? []).map(configfsTarget);
  for (const c of cfs) configErrors.push(...c.errors);
  const klog = facts.kernelLog ? parseKernelLog(facts.kernelLog.text, facts.kernelLog.from) : undefined;
  const running = klog ? effectiveKernelTargets(klog).map(b => b.target) : [];
  const modules = facts.modules ? parseModules(facts.modules.text) : undefined;
  const moduleLoaded = modules?.has('netconsole');

  const pick = (ts: NetconsoleTarget[]) => (ctx.receiverIp ? ts.find(t => t.remoteIp === ctx.receiverIp) : undefined) ?? ts[0];
  const enabledCfs = cfs.filter(c => c.enabled !== false && c.target.remoteIp).map(c => c.target);
  const target = ctx.target ?? pick(running) ?? pick(enabledCfs) ?? pick(configured) ?? pick(cfs.map(c => c.target).filter(t => t.remoteIp));
  const receiverIp = ctx.receiverIp ?? target?.remoteIp;

  // ---- loaded -------------------------------------------------------------------------------
  const sinceBoot = (e: KernelEvent) => !klog || e.line > klog.lastBootLine;
  const startedLine = klog?.events.filter(e => (e.kind === 'started' || e.kind === 'console-enabled') && sinceBoot(e)).pop()?.line;
  let loaded: boolean | undefined;
  {
    const f: Finding[] = [];
    let detail: string;
    if (moduleLoaded) {
      loaded = true;
      detail = `module loaded (${facts.modules!.from})`;
    } else if (facts.configfs !== undefined) {
      loaded = true;
      detail = 'configfs netconsole directory present';
    } else if (startedLine !== undefined) {
      loaded = true;
      detail = `started at ${facts.kernelLog!.from} line ${startedLine}${modules ? ' (built in: not in the module list)' : ''}`;
    } else if (modules) {
      loaded = false;
      const evidence = [`${facts.modules!.from}: no netconsole`];
      if (klog) evidence.push(`${facts.kernelLog!.from}: no "network logging started" since boot`);
      f.push(finding('netconsole-not-loaded', { summary: 'netconsole is not loaded on the sender', evidence }));
      detail = 'not loaded';
    } else detail = 'unknown: neither the module list nor the kernel log was readable';
    checks.push(check('sender.loaded', 'netconsole loaded', f, detail, loaded === undefined ? 'unknown' : 'pass'));
  }

  // ---- configuration ------------------------------------------------------------------------
  {
    const f: Finding[] = [];
    if (configErrors.length) f.push(finding('netconsole-config-invalid', { summary: `${configErrors.length} netconsole setting(s) malformed`, evidence: configErrors }));
    const cmd = facts.cmdline ? cmdlineNetconsoleParams(facts.cmdline.text).filter(p => p.form === 'builtin') : [];
    if (cmd.length && moduleLoaded) {
      f.push(finding('cmdline-param-ignored', { summary: 'netconsole= on the kernel command line, but netconsole is a module here', evidence: cmd.map(p => `${facts.cmdline!.from}: netconsole=${p.spec}`) }));
    }
    if (configWarnings.length) f.push(finding('netconsole-config-invalid', { severity: 'info', summary: 'netconsole configuration notes', evidence: configWarnings }));
    // A failed start in the kernel log also shows that a target was configured somewhere.
    const any = configured.length + cfs.length + running.length + (klog?.blocks.length ?? 0) > 0 || ctx.target !== undefined;
    if (!any && (facts.sysconfig || facts.cmdline || facts.modprobe || facts.configfs || klog)) {
      f.push(finding('netconsole-no-target', { summary: 'no netconsole target is configured anywhere', evidence: sourcesRead(facts) }));
    }
    const detail = target ? `target ${describe(target)} from ${target.source}${target.line ? `:${target.line}` : ''}` : 'no target found';
    checks.push(check('sender.config', 'configuration', f, detail, any ? 'pass' : 'unknown'));
  }

  // ---- kernel log ---------------------------------------------------------------------------
  if (!klog) {
    checks.push(check('sender.kernel-log', 'kernel log', [finding('kernel-log-unreadable', { summary: 'the kernel log could not be read', evidence: facts.notes.filter(n => /dmesg|journalctl/.test(n)) })], 'not available', 'unknown'));
  } else {
    const f = kernelLogFindings(klog, facts.kernelLog!.from);
    const detail = running.length ? `running: ${running.map(describe).join('; ')}` : klog.mentioned ? 'netconsole lines found, no running target this boot' : 'no netconsole lines';
    checks.push(check('sender.kernel-log', 'kernel log', f, detail, klog.mentioned ? 'pass' : 'unknown'));
  }

  // ---- configfs ----------------------------------------------------------------------------
  if (cfs.length) {
    const f: Finding[] = [];
    for (const c of cfs) {
      if (c.enabled === false) {
        f.push(finding('netconsole-target-disabled', { summary: `configfs target ${c.name} is disabled`, evidence: [`${facts.configfs!.find(x => x.name === c.name)!.from}/enabled: 0`, `target: ${describe(c.target)}`], hint: `echo 1 > /sys/kernel/config/netconsole/${c.name}/enabled`, subject: c.name }));
      }
    }
    checks.push(check('sender.configfs', 'configfs targets', f, cfs.map(c => `${c.name}: ${c.enabled ? 'enabled' : 'disabled'}`).join(', ')));
  }

  // ---- sources agree ------------------------------------------------------------------------
  {
    const f = conflictFindings(running, configured, enabledCfs, ctx.target);
    checks.push(check('sender.conflict', 'sources agree', f, running.length ? 'configuration compared with the running netconsole' : configured.length + enabledCfs.length > 1 ? 'configuration sources compared' : 'one source', running.length || configured.length ? 'pass' : 'unknown'));
  }

  // ---- device --------------------------------------------------------------------------------
  const links = mergeLinks(parseLinks(facts.ipLink), parseLinks(facts.ipAddr));
  const route = facts.routeGet ? parseRouteGet(facts.routeGet.text) : undefined;
  const devName = target?.dev ?? route?.dev ?? 'eth0';
  let link: LinkInfo | undefined;
  {
    const f: Finding[] = [];
    let detail: string;
    if (!links.length) {
      detail = 'unknown: ip link not available';
    } else {
      link = devName.includes(':') ? links.find(l => l.mac === devName) : links.find(l => l.name === devName);
      const isRunning = running.some(t => t.dev === devName);
      if (!link) {
        f.push(finding('sender-device-missing', { summary: `the netconsole device ${devName} does not exist`, evidence: [`devices: ${links.map(l => l.name).join(', ')}`, ...(target ? [`target from ${target.source}${target.line ? `:${target.line}` : ''}${target.dev ? '' : ' names no device (the kernel uses eth0)'}`] : [])], subject: devName }));
        detail = `${devName} missing`;
      } else {
        detail = `${link.name}${link.kind ? ` (${link.kind})` : ''} ${link.up ? 'up' : 'down'}${link.lowerUp === false ? ', no carrier' : ''}${link.addrs.length ? `, ${link.addrs.map(a => `${a.address}/${a.prefix}`).join(' ')}` : ''}`;
        if (!link.up) f.push(finding('sender-device-down', { summary: `${link.name} is administratively down`, evidence: [`${facts.ipLink?.from ?? 'ip link'}: ${link.name} <${link.flags.join(',')}>`], hint: `ip link set ${link.name} up`, subject: link.name }));
        else if (link.lowerUp === false) f.push(finding('sender-device-down', { summary: `${link.name} has no carrier`, evidence: [`${facts.ipLink?.from ?? 'ip link'}: ${link.name} <${link.flags.join(',')}> (no LOWER_UP)`], subject: link.name }));
        if (link.master) {
          const master = links.find(l => l.name === link!.master);
          f.push(finding('sender-device-unsupported', { summary: `${link.name} is enslaved to ${link.master}${master?.kind ? ` (${master.kind})` : link.slaveKind ? ` (${link.slaveKind})` : ''}: netpoll refuses slave devices`, evidence: [`${facts.ipLink?.from ?? 'ip link'}: ${link.name} master ${link.master}`], hint: `Use the master as the netconsole device: DEV=${link.master} (or netconsole=@/${link.master},...) and reload netconsole`, subject: link.name }));
        }
        const release = facts.kernelRelease?.text.trim() || klog?.kernelVersion;
        if (link.kind && ['bond', 'bridge', 'vlan', 'team'].includes(link.kind) && release && kernelOlderThan(release, [3, 0, 0])) {
          f.push(finding('sender-device-unsupported', { severity: 'warning', summary: `${link.name} is a ${link.kind} device on kernel ${release}: old kernels may lack netpoll support for it`, evidence: [`kernel ${release}`, `${link.name}: ${link.kind}`], subject: link.name }));
        }
        if (link.wireless) f.push(finding('sender-device-unsupported', { severity: 'warning', summary: `${link.name} looks like a Wi-Fi device: most Wi-Fi drivers cannot send from netpoll`, evidence: [`${link.name}${link.linkType ? ` link/${link.linkType}` : ''}`], subject: link.name }));
        const fam = target ? ipFamily(target.remoteIp) : 4;
        if (target && !target.localIp && fam !== 0 && !link.addrs.some(a => a.family === fam) && facts.ipAddr !== undefined && !link.master) {
          f.push(finding('sender-no-address', { severity: isRunning ? 'warning' : 'error', summary: `${link.name} has no IPv${fam} address${isRunning ? ' now (netconsole took one at load time)' : ''}`, evidence: [`${facts.ipAddr?.from ?? facts.ipLink?.from ?? 'ip addr'}: ${link.name} has ${link.addrs.length ? link.addrs.map(a => a.address).join(', ') : 'no address'}`], subject: link.name }));
        }
      }
    }
    checks.push(check('sender.device', 'netconsole device', f, detail, links.length ? 'pass' : 'unknown'));
  }

  // ---- route -------------------------------------------------------------------------------
  {
    const f: Finding[] = [];
    let detail: string;
    if (!route) detail = facts.routeGet ? 'unknown: ip route get output not understood' : `unknown: no route lookup${receiverIp ? '' : ' (receiver IP not known)'}`;
    else {
      detail = `${route.dst}${route.via ? ` via ${route.via}` : ''}${route.dev ? ` dev ${route.dev}` : ''}${route.src ? ` src ${route.src}` : ''}`;
      const evidence = [`${facts.routeGet!.from}: ${facts.routeGet!.text.trim().split('\n')[0]}`];
      if (route.type && route.type !== 'local') f.push(finding('sender-route-mismatch', { severity: 'error', summary: `no usable route to ${route.dst} (${route.type})`, evidence }));
      else if (route.dev && target?.dev && route.dev !== target.dev && !devName.includes(':')) {
        f.push(finding('sender-route-mismatch', { summary: `the route to ${route.dst} leaves through ${route.dev}, netconsole sends on ${target.dev}`, evidence, hint: `Use DEV=${route.dev} (netconsole=@/${route.dev},...) and the MAC of ${route.via ?? route.dst}, or check the routing` }));
      } else if (route.src && target?.localIp && route.src !== target.localIp) {
        f.push(finding('sender-route-mismatch', { summary: `the route to ${route.dst} uses source ${route.src}, netconsole uses ${target.localIp}`, evidence }));
      }
    }
    checks.push(check('sender.route', 'route to the receiver', f, detail, route ? 'pass' : 'unknown'));
  }

  // ---- remote MAC ----------------------------------------------------------------------------
  {
    const f: Finding[] = [];
    let detail = 'unknown';
    let status: CheckResult['status'] = 'unknown';
    const neigh = facts.neigh ? parseNeigh(facts.neigh.text) : [];
    const fromSysconfigOnly = target && target.source === sys?.targets[0]?.source && !target.remoteMac && !running.length;
    if (!target) detail = 'unknown: no target';
    else if (fromSysconfigOnly) detail = 'SYSLOGMACADDR empty: the init script resolves it at start (arping)';
    else if (!route) detail = target.remoteMac ? `${target.remoteMac} (route unknown)` : 'broadcast (route unknown)';
    else {
      const nextHop = route.via ?? route.dst;
      const n = neigh.find(x => x.ip === nextHop.toLowerCase() && (!route.dev || !x.dev || x.dev === route.dev));
      const tEv = `${target.source}${target.line ? `:${target.line}` : ''}: remote MAC ${target.remoteMac ?? 'none (broadcast)'}`;
      const rEv = `${facts.routeGet!.from}: ${facts.routeGet!.text.trim().split('\n')[0]}`;
      const nEv = n ? `${facts.neigh!.from}: ${nextHop} ${n.mac ? `lladdr ${n.mac} ` : ''}${n.state}` : `${facts.neigh?.from ?? 'ip neigh'}: no entry for ${nextHop}`;
      status = 'pass';
      detail = `${target.remoteMac ?? 'broadcast'}; next hop ${nextHop}${n?.mac ? ` is ${n.mac}` : ''}`;
      const hint = n?.mac ? `Set the remote MAC to ${n.mac}: SYSLOGMACADDR=${n.mac} (or netconsole=...@${target.remoteIp}/${n.mac}) and reload netconsole` : undefined;
      if (route.via) {
        if (!target.remoteMac) f.push(finding('router-mac-required', { summary: `${target.remoteIp} is behind ${route.via}, but netconsole sends to broadcast`, evidence: [tEv, rEv, nEv], ...(hint ? { hint } : {}) }));
        else if (ctx.receiverMacs?.map(m => m.toLowerCase()).includes(target.remoteMac)) f.push(finding('router-mac-required', { summary: `${target.remoteIp} is behind ${route.via}, but the remote MAC ${target.remoteMac} is the receiver's own`, evidence: [tEv, rEv, nEv], ...(hint ? { hint } : {}) }));
        else if (n?.mac && n.mac !== target.remoteMac) f.push(finding('router-mac-required', { summary: `${target.remoteIp} is behind ${route.via} (${n.mac}), but the remote MAC is ${target.remoteMac}`, evidence: [tEv, rEv, nEv], ...(hint ? { hint } : {}) }));
      } else if (!target.remoteMac) {
        f.push(finding('remote-mac-broadcast', { summary: `no remote MAC: netconsole sends to ff:ff:ff:ff:ff:ff`, evidence: [tEv, nEv], ...(hint ? { hint } : {}) }));
      } else if (n?.mac && n.mac !== target.remoteMac) {
        f.push(finding('stale-remote-mac', { summary: `remote MAC ${target.remoteMac}, but ${nextHop} is now ${n.mac}`, evidence: [tEv, nEv], ...(hint ? { hint } : {}) }));
      }
      if (!n?.mac && f.length === 0) {
        status = 'unknown';
        detail += ` (no neighbour entry for ${nextHop}: ping it from the sender, then look again)`;
      }
    }
    checks.push(check('sender.mac', 'remote MAC', f, detail, status));
  }

  // ---- console log level -------------------------------------------------------------------
  {
    const f: Finding[] = [];
    const p = facts.printk ? parsePrintk(facts.printk.text) : undefined;
    const ignore = facts.cmdline ? splitCmdline(facts.cmdline.text).includes('ignore_loglevel') : false;
    let detail = 'unknown';
    if (p) {
      detail = `console log level ${p.console} (default message level ${p.defaultMessage})${ignore ? ', ignore_loglevel set' : ''}`;
      if (!ignore && p.console <= p.defaultMessage) {
        f.push(finding('console-loglevel-low', {
          ...(p.console <= 1 ? { severity: 'error' as const } : {}),
          summary: `console log level ${p.console}: only messages of level ${p.console - 1} and more severe are sent`,
          evidence: [`${facts.printk!.from}: ${facts.printk!.text.trim()}`, `messages at the default level ${p.defaultMessage} (most driver output, the SysRq dumps) are not sent`],
        }));
      }
    }
    checks.push(check('sender.loglevel', 'console log level', f, detail, p ? 'pass' : 'unknown'));
  }

  // ---- sysrq -------------------------------------------------------------------------------
  {
    const f: Finding[] = [];
    const v = facts.sysrq ? Number(facts.sysrq.text.trim()) : NaN;
    let detail = 'unknown';
    if (Number.isInteger(v)) {
      detail = `kernel.sysrq = ${v}`;
      if (v === 0) f.push(finding('sysrq-disabled', { summary: 'SysRq is disabled (kernel.sysrq = 0)', evidence: [`${facts.sysrq!.from}: 0`] }));
      else if (v !== 1 && (v & 8) === 0) f.push(finding('sysrq-disabled', { summary: `kernel.sysrq = ${v} does not allow the register/task dumps (bit 8)`, evidence: [`${facts.sysrq!.from}: ${v}`] }));
    }
    checks.push(check('sender.sysrq', 'SysRq', f, detail, Number.isInteger(v) ? 'pass' : 'unknown'));
  }

  const report: SenderReport = { checks, findings: checks.flatMap(c => c.findings), configured, configfs: cfs, running };
  if (target) report.target = target;
  if (loaded !== undefined) report.loaded = loaded;
  if (klog) report.kernelLog = klog;
  return report;
}

function sourcesRead(facts: SenderFacts): string[] {
  const out: string[] = [];
  if (facts.sysconfig) out.push(`${facts.sysconfig.from}: no SYSLOGADDR target`);
  if (facts.cmdline) out.push(`${facts.cmdline.from}: no netconsole=`);
  if (facts.modprobe) out.push(`modprobe.d (${facts.modprobe.length} files): no options netconsole netconsole=`);
  if (facts.configfs) out.push('configfs: no target');
  if (facts.kernelLog) out.push(`${facts.kernelLog.from}: no netconsole start-up lines`);
  return out;
}

function kernelLogFindings(k: KernelLogNetconsole, from: string): Finding[] {
  const out: Finding[] = [];
  const current = k.events.filter(e => e.line > k.lastBootLine);
  const laterStart = (e: KernelEvent) => current.some(x => (x.kind === 'started' || x.kind === 'console-enabled') && x.line > e.line) || k.blocks.some(b => b.line > e.line && (!b.outcome || b.outcome.kind === 'started'));
  const seen = new Set<string>();
  for (const e of current) {
    if (laterStart(e)) continue;
    const key = `${e.kind} ${e.dev ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const evidence = [ev(from, e.line, e.text)];
    switch (e.kind) {
      case 'device-missing':
        out.push(finding('sender-device-missing', { summary: `the kernel refused netconsole: ${e.dev} doesn't exist`, evidence, subject: e.dev! }));
        break;
      case 'device-slave':
        out.push(finding('sender-device-unsupported', { summary: `the kernel refused netconsole: ${e.dev} is enslaved to a bond/bridge/team`, evidence, subject: e.dev! }));
        break;
      case 'device-no-poll':
        out.push(finding('sender-device-unsupported', { summary: `the kernel refused netconsole: ${e.dev} doesn't support polling`, evidence, subject: e.dev! }));
        break;
      case 'device-no-address':
        out.push(finding('sender-no-address', { summary: `the kernel refused netconsole: ${e.dev} had no IP address`, evidence, subject: e.dev! }));
        break;
      case 'parse-error':
      case 'not-configured':
      case 'release-needs-extended':
        out.push(finding('netconsole-load-failed', { summary: `the kernel refused the netconsole configuration`, evidence }));
        break;
      case 'stopped':
        out.push(finding('netconsole-stopped', { summary: `netconsole stopped on ${e.dev}: it ${e.reason}`, evidence, subject: e.dev! }));
        break;
      case 'enabled-update':
        out.push(finding('netconsole-load-failed', { severity: 'warning', summary: 'a configfs attribute write was refused while the target was enabled', evidence, hint: 'echo 0 > .../enabled, write the attribute, then echo 1 > .../enabled' }));
        break;
      default:
        break;
    }
  }
  return out;
}

type Field = 'remotePort' | 'localPort' | 'dev' | 'remoteMac' | 'localIp';

function conflictFindings(running: NetconsoleTarget[], configured: NetconsoleTarget[], cfs: NetconsoleTarget[], ctxTarget: NetconsoleTarget | undefined): Finding[] {
  const out: Finding[] = [];
  const where = (t: NetconsoleTarget) => `${t.source}${t.line ? `:${t.line}` : ''}`;
  const others = [...configured, ...cfs, ...(ctxTarget ? [ctxTarget] : [])];
  const refs = running.length ? running : configured.slice(0, 1);
  if (!refs.length) return out;
  const refLabel = running.length ? 'the running netconsole (kernel log)' : where(refs[0]!);
  const diffs: string[] = [];
  for (const t of others) {
    if (!running.length && t === refs[0]) continue;
    if (t.source === refs[0]!.source && t.line === refs[0]!.line) continue;
    const same = refs.find(r => r.remoteIp === t.remoteIp);
    if (!same) {
      diffs.push(`${where(t)}: target ${t.remoteIp}:${t.remotePort}, but ${refLabel} sends to ${refs.map(r => `${r.remoteIp}:${r.remotePort}`).join(', ')}`);
      continue;
    }
    const fields: Field[] = ['remotePort', 'localPort', 'dev', 'remoteMac', 'localIp'];
    for (const k of fields) {
      const a = t[k];
      const b = same[k];
      if (a === undefined || b === undefined) continue;
      // A file's unstated MAC or device is resolved at load time: only stated values conflict.
      if ((k === 'remoteMac' || k === 'dev' || k === 'localIp') && !t.explicit.includes(k)) continue;
      if (a !== b) diffs.push(`${where(t)}: ${k} ${a}, but ${refLabel === 'the running netconsole (kernel log)' ? `the kernel uses ${b} (${where(same)})` : `${where(same)} has ${b}`}`);
    }
  }
  if (diffs.length) {
    out.push(finding('config-conflict', { summary: `${diffs.length} netconsole setting(s) disagree between sources`, evidence: diffs }));
  }
  return out;
}
