/**
 * The sender checks about netconsole itself: is it loaded, is it configured (and well), what the
 * kernel log says of its starts and errors, configfs targets, and do the sources agree with each
 * other and with what runs. Pure.
 */
import type { NetconsoleTarget } from '../../../config/target.js';
import { endpoint } from '../../../decode/addr.js';
import type { Finding } from '../../../findings/finding.js';
import { finding } from '../../../findings/catalog.js';
import type { SenderFacts } from '../../host/facts.js';
import { type CheckResult, check } from '../../check.js';
import type { KernelEvent, KernelLogNetconsole } from '../kernel-log.js';
import { cmdlineNetconsoleParams } from '../sources/cmdline.js';
import { SENDER_SOURCES, nothingFound } from '../sources/index.js';
import type { TargetExtras } from '../sources/types.js';
import { describeTarget, where, type SenderView } from '../view.js';

const ev = (from: string, line: number | undefined, text: string) =>
  line !== undefined ? `${from}:${line}: ${text}` : `${from}: ${text}`;

export function loadedCheck(facts: SenderFacts, v: SenderView): CheckResult {
  const f: Finding[] = [];
  let detail: string;
  if (v.moduleLoaded) detail = `module loaded (${facts.modules!.from})`;
  else if (facts.configfs !== undefined) detail = 'configfs netconsole directory present';
  else if (v.startedLine !== undefined)
    detail = `started at ${facts.kernelLog!.from} line ${v.startedLine}${v.modules ? ' (built in: not in the module list)' : ''}`;
  else if (v.modules) {
    const evidence = [`${facts.modules!.from}: no netconsole`];
    if (v.klog) evidence.push(`${facts.kernelLog!.from}: no "network logging started" since boot`);
    f.push(finding('netconsole-not-loaded', { summary: 'netconsole is not loaded on the sender', evidence }));
    detail = 'not loaded';
  } else detail = 'unknown: neither the module list nor the kernel log was readable';
  return check('sender.loaded', 'netconsole loaded', f, detail, v.loaded === undefined ? 'unknown' : 'pass');
}

export function configCheck(facts: SenderFacts, v: SenderView): CheckResult {
  const f: Finding[] = [];
  // A malformed file is what breaks netconsole only when nothing else gives it a target: while the
  // kernel runs a target or configfs holds one, the file fails at its next use (a warning), and
  // what decides today is judged by the checks of what runs (kernel log, configfs).
  const inUse = v.running.length > 0 || v.live.length > 0;
  const fileErrors = v.reads.filter(r => !r.source.live).flatMap(r => r.read.errors);
  const errors = inUse ? v.reads.filter(r => r.source.live).flatMap(r => r.read.errors) : v.configErrors;
  if (errors.length)
    f.push(
      finding('netconsole-config-invalid', {
        summary: `${errors.length} netconsole setting(s) malformed`,
        evidence: errors,
      }),
    );
  if (inUse && fileErrors.length)
    f.push(
      finding('netconsole-config-invalid', {
        severity: 'warning',
        summary: `${fileErrors.length} netconsole setting(s) malformed, in a file not in use now (the target in use: ${describeTarget((v.running[0] ?? v.live[0]?.target)!)})`,
        evidence: fileErrors,
      }),
    );
  const cmd = facts.cmdline ? cmdlineNetconsoleParams(facts.cmdline.text).filter(p => p.form === 'builtin') : [];
  if (cmd.length && v.moduleLoaded) {
    f.push(
      finding('cmdline-param-ignored', {
        summary: 'netconsole= on the kernel command line, but netconsole is a module here',
        evidence: cmd.map(p => `${facts.cmdline!.from}: netconsole=${p.spec}`),
      }),
    );
  }
  if (v.configWarnings.length)
    f.push(
      finding('netconsole-config-invalid', {
        severity: 'info',
        summary: 'netconsole configuration notes',
        evidence: v.configWarnings,
      }),
    );
  // A failed start in the kernel log also shows that a target was configured somewhere.
  const any =
    v.configured.length + v.live.length + v.running.length + (v.klog?.blocks.length ?? 0) > 0 ||
    v.ctx.target !== undefined;
  if (!any && (v.reads.length || v.klog)) {
    const evidence = SENDER_SOURCES.map(s => nothingFound(s, facts)).filter((e): e is string => e !== undefined);
    if (facts.kernelLog) evidence.push(`${facts.kernelLog.from}: no netconsole start-up lines`);
    f.push(finding('netconsole-no-target', { summary: 'no netconsole target is configured anywhere', evidence }));
  }
  const detail = v.target ? `target ${describeTarget(v.target)} from ${where(v.target)}` : 'no target found';
  return check('sender.config', 'configuration', f, detail, any ? 'pass' : 'unknown');
}

export function kernelLogCheck(facts: SenderFacts, v: SenderView): CheckResult {
  if (!v.klog) {
    return check(
      'sender.kernel-log',
      'kernel log',
      [
        finding('kernel-log-unreadable', {
          summary: 'the kernel log could not be read',
          evidence: facts.notes.filter(n => /dmesg|journalctl/.test(n)),
        }),
      ],
      'not available',
      'unknown',
    );
  }
  const f = kernelLogFindings(v.klog, facts.kernelLog!.from);
  const detail = v.running.length
    ? `running: ${v.running.map(describeTarget).join('; ')}`
    : v.klog.mentioned
      ? 'netconsole lines found, no running target this boot'
      : 'no netconsole lines';
  return check('sender.kernel-log', 'kernel log', f, detail, v.klog.mentioned ? 'pass' : 'unknown');
}

/** What a configfs target sends beyond the text (6.9 and later) and its send errors, for the detail. */
function describeExtras(e: TargetExtras | undefined): string {
  if (!e) return '';
  const parts: string[] = [];
  if (e.userdata.length)
    parts.push(
      `userdata ${e.userdata.map(u => `${u.key}=${/^[^\s"]*$/.test(u.value) ? u.value : JSON.stringify(u.value)}`).join(' ')}`,
    );
  if (e.sysdata) parts.push(e.sysdata.length ? `sysdata ${e.sysdata.join(' ')}` : 'no sysdata');
  if (e.transmitErrors !== undefined) parts.push(`transmit_errors ${e.transmitErrors}`);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

export function configfsCheck(_facts: SenderFacts, v: SenderView): CheckResult | undefined {
  if (!v.live.length) return undefined;
  const f: Finding[] = [];
  for (const c of v.live) {
    if (c.enabled === false) {
      f.push(
        finding('netconsole-target-disabled', {
          summary: `configfs target ${c.name} is disabled`,
          evidence: [`${c.from}/enabled: 0`, `target: ${describeTarget(c.target)}`],
          hint: `echo 1 > /sys/kernel/config/netconsole/${c.name}/enabled`,
          subject: c.name,
        }),
      );
    }
    const errors = c.extras?.transmitErrors;
    if (errors !== undefined && errors > 0) {
      f.push(
        finding('netconsole-transmit-errors', {
          summary: `configfs target ${c.name} counted ${errors} send ${errors === 1 ? 'error' : 'errors'}: messages lost on the sender`,
          evidence: [`${c.from}/transmit_errors: ${errors}`, `target: ${describeTarget(c.target)}`],
          hint: `Watch ${c.from}/transmit_errors while triggering a message; if it rises, check ${c.target.dev ?? 'the device'} (ip -s link show${c.target.dev ? ` ${c.target.dev}` : ''}: TX errors and drops)`,
          subject: c.name,
        }),
      );
    }
  }
  return check(
    'sender.configfs',
    'configfs targets',
    f,
    v.live.map(c => `${c.name}: ${c.enabled ? 'enabled' : 'disabled'}${describeExtras(c.extras)}`).join(', '),
  );
}

export function conflictCheck(_facts: SenderFacts, v: SenderView): CheckResult {
  const f = conflictFindings(v.running, v.configured, v.enabledLive, v.ctx.target);
  const detail = v.running.length
    ? 'configuration compared with the running netconsole'
    : v.configured.length + v.enabledLive.length > 1
      ? 'configuration sources compared'
      : 'one source';
  return check(
    'sender.conflict',
    'sources agree',
    f,
    detail,
    v.running.length || v.configured.length ? 'pass' : 'unknown',
  );
}

function kernelLogFindings(k: KernelLogNetconsole, from: string): Finding[] {
  const out: Finding[] = [];
  const current = k.events.filter(e => e.line > k.lastBootLine);
  const laterStart = (e: KernelEvent) =>
    current.some(x => (x.kind === 'started' || x.kind === 'console-enabled') && x.line > e.line) ||
    k.blocks.some(b => b.line > e.line && (!b.outcome || b.outcome.kind === 'started'));
  const seen = new Set<string>();
  for (const e of current) {
    if (laterStart(e)) continue;
    const key = `${e.kind} ${e.dev ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const evidence = [ev(from, e.line, e.text)];
    switch (e.kind) {
      case 'device-missing':
        out.push(
          finding('sender-device-missing', {
            summary: `the kernel refused netconsole: ${e.dev} doesn't exist`,
            evidence,
            subject: e.dev!,
          }),
        );
        break;
      case 'device-slave':
        out.push(
          finding('sender-device-unsupported', {
            summary: `the kernel refused netconsole: ${e.dev} is enslaved to a bond/bridge/team`,
            evidence,
            subject: e.dev!,
          }),
        );
        break;
      case 'device-no-poll':
        out.push(
          finding('sender-device-unsupported', {
            summary: `the kernel refused netconsole: ${e.dev} doesn't support polling`,
            evidence,
            subject: e.dev!,
          }),
        );
        break;
      case 'device-no-address':
        out.push(
          finding('sender-no-address', {
            summary: `the kernel refused netconsole: ${e.dev} had no IP address`,
            evidence,
            subject: e.dev!,
          }),
        );
        break;
      case 'parse-error':
      case 'not-configured':
      case 'release-needs-extended':
        out.push(
          finding('netconsole-load-failed', { summary: `the kernel refused the netconsole configuration`, evidence }),
        );
        break;
      case 'stopped':
        out.push(
          finding('netconsole-stopped', {
            summary: `netconsole stopped on ${e.dev}: it ${e.reason}`,
            evidence,
            subject: e.dev!,
          }),
        );
        break;
      case 'enabled-update':
        out.push(
          finding('netconsole-load-failed', {
            severity: 'warning',
            summary: 'a configfs attribute write was refused while the target was enabled',
            evidence,
            hint: 'echo 0 > .../enabled, write the attribute, then echo 1 > .../enabled',
          }),
        );
        break;
      default:
        break;
    }
  }
  return out;
}

type Field = 'remotePort' | 'localPort' | 'dev' | 'remoteMac' | 'localIp';

function conflictFindings(
  running: NetconsoleTarget[],
  configured: NetconsoleTarget[],
  cfs: NetconsoleTarget[],
  ctxTarget: NetconsoleTarget | undefined,
): Finding[] {
  const out: Finding[] = [];
  const others = [...configured, ...cfs, ...(ctxTarget ? [ctxTarget] : [])];
  const refs = running.length ? running : configured.slice(0, 1);
  if (!refs.length) return out;
  const refLabel = running.length ? 'the running netconsole (kernel log)' : where(refs[0]!);
  const diffs: string[] = [];
  for (const t of others) {
    if (!running.length && t === refs[0]) continue;
    if (t.source === refs[0]!.source && t.line === refs[0]!.line) continue;
    // Several targets may go to one server on several ports: compare with the one on the same port first.
    const same =
      refs.find(r => r.remoteIp === t.remoteIp && r.remotePort === t.remotePort) ??
      refs.find(r => r.remoteIp === t.remoteIp);
    if (!same) {
      diffs.push(
        `${where(t)}: target ${endpoint(t.remoteIp, t.remotePort)}, but ${refLabel} sends to ${refs.map(r => endpoint(r.remoteIp, r.remotePort)).join(', ')}`,
      );
      continue;
    }
    const fields: Field[] = ['remotePort', 'localPort', 'dev', 'remoteMac', 'localIp'];
    for (const k of fields) {
      const a = t[k];
      const b = same[k];
      if (a === undefined || b === undefined) continue;
      // A file's unstated MAC or device is resolved at load time: only stated values conflict.
      if ((k === 'remoteMac' || k === 'dev' || k === 'localIp') && !t.explicit.includes(k)) continue;
      // A value the source did not state is its default: cite it as such, not as a line of the file.
      const said = t.explicit.includes(k)
        ? `${where(t)}: ${k} ${a}`
        : `${t.source}: ${k} ${a} (its default: not set there)`;
      if (a !== b)
        diffs.push(
          `${said}, but ${refLabel === 'the running netconsole (kernel log)' ? `the kernel uses ${b} (${where(same)})` : `${where(same)} has ${b}`}`,
        );
    }
  }
  if (diffs.length) {
    out.push(
      finding('config-conflict', {
        summary: `${diffs.length} netconsole setting(s) disagree between sources`,
        evidence: diffs,
      }),
    );
  }
  return out;
}
