/** verify's output: the root cause first, then the checklist, then the verdict; or JSON. */
import type { CheckResult } from '../checks/check.js';
import { renderChecks } from '../report/checklist.js';
import { escapeText, safeJson } from '../report/escape.js';
import type { Style } from '../report/style.js';
import type { VerifyOutcome } from './types.js';

/** One check's lines as verify prints them: findings as one line each, info of a passed check left out. */
export function checkLines(c: CheckResult, style: Style): string {
  return renderChecks([c], { style, evidence: false, hideInfoOnPass: true });
}

/** Checks of the whole test, shown with the tested target only. */
const SHOWN_ONCE = ['verify.trigger', 'verify.counters'];

export function formatVerifyText(o: VerifyOutcome, destination: string, style: Style): string {
  const r = o.report;
  let s = '';
  if (r.rootCause) {
    const f = r.rootCause;
    s += `${style.red(style.bold('root cause'))}: ${escapeText(f.summary)} (${style.bold(f.code)})\n`;
    for (const e of f.evidence) s += `  ${style.dim('evidence:')} ${escapeText(e)}\n`;
    s += `  ${style.green('fix:')} ${escapeText(f.hint)}\n\n`;
  }
  const groups: Array<[string, (c: CheckResult) => boolean]> = [
    [`sender ${destination} (${o.senderIp})`, c => c.id.startsWith('sender')],
    [
      `triggered test (marker ${o.marker}, capture on ${o.iface}, udp/${o.port}${o.logFile ? `, ${o.logFile}` : ''})`,
      c => c.id.startsWith('verify.'),
    ],
    ['this host (receiver)', c => c.id.startsWith('receiver')],
  ];
  // The sender's other targets on this host, after its tested one: the same test's hops.
  const others = (o.others ?? []).map((x): [string, CheckResult[]] => [
    `its other target on this host, ${x.target}: ${x.report.ok ? 'works' : 'does not work'}`,
    x.report.checks.filter(c => c.id.startsWith('verify.') && !SHOWN_ONCE.includes(c.id)),
  ]);
  for (const [i, [title, pick]] of groups.entries()) {
    const cs = r.checks.filter(pick);
    if (cs.length) {
      s += `${style.bold(escapeText(title))}\n`;
      for (const c of cs) s += checkLines(c, style);
    }
    if (i !== 1) continue;
    for (const [t, ocs] of others) {
      s += `${style.bold(escapeText(t))}\n`;
      for (const c of ocs) s += checkLines(c, style);
    }
  }
  const targets = others.length ? `, on its ${others.length + 1} targets on this host` : '';
  // Without the log file, the last hop is not proven: say how far the test went.
  const log = r.checks.find(c => c.id === 'verify.log');
  // Another target whose rules write another file: its last hop is not proven either.
  const unread = (o.others ?? []).filter(x => x.report.checks.find(c => c.id === 'verify.log')?.status === 'unknown');
  const reach =
    log?.status === 'unknown' && r.forwardedTo
      ? `reaches this host${targets}, whose DNAT forwards it to ${r.forwardedTo} (the daemon and log file there were not checked)`
      : log?.status === 'unknown'
        ? `reaches the syslog daemon on this host${targets}, but its log file was not checked (${log.detail})`
        : unread.length
          ? `works end to end${targets}, but the log file of ${unread.map(x => x.target).join(', ')} was not checked`
          : `works end to end${targets}`;
  s += r.ok
    ? `\n${style.green('PASS')}: netconsole from ${escapeText(destination)} ${escapeText(reach)}; the message arrived ${r.roundTripMs} ms after the trigger (${(o.elapsedMs / 1000).toFixed(1)} s in all)\n`
    : `\n${style.red('FAIL')}: netconsole from ${escapeText(destination)} does not work end to end${r.rootCause ? ` (${r.rootCause.code})` : ''}\n`;
  return s;
}

export function formatVerifyJson(o: VerifyOutcome, destination: string): string {
  return `${safeJson(verifyJsonDoc(o, destination))}\n`;
}

/** The single-sender JSON document, as an object. */
export function verifyJsonDoc(o: VerifyOutcome, destination: string): Record<string, unknown> {
  const r = o.report;
  return {
    sender: destination,
    senderIp: o.senderIp,
    iface: o.iface,
    port: o.port,
    logFile: o.logFile ?? null,
    marker: o.marker,
    ok: r.ok,
    roundTripMs: r.roundTripMs ?? null,
    elapsedMs: o.elapsedMs,
    rootCause: r.rootCause ?? null,
    checks: r.checks.map(checkJson),
    findings: r.findings,
    ...(o.others?.length
      ? {
          targets: o.others.map(x => ({
            target: x.target,
            port: x.port,
            ok: x.report.ok,
            roundTripMs: x.report.roundTripMs ?? null,
            rootCause: x.report.rootCause ?? null,
            checks: x.report.checks.filter(c => c.id.startsWith('verify.')).map(checkJson),
          })),
        }
      : {}),
  };
}

const checkJson = (c: CheckResult) => ({
  id: c.id,
  name: c.name,
  status: c.status,
  detail: c.detail,
  findings: c.findings.map(f => f.code),
});
