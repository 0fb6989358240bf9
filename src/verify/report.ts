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
  for (const [title, pick] of groups) {
    const cs = r.checks.filter(pick);
    if (!cs.length) continue;
    s += `${style.bold(escapeText(title))}\n`;
    for (const c of cs) s += checkLines(c, style);
  }
  s += r.ok
    ? `\n${style.green('PASS')}: netconsole from ${escapeText(destination)} works end to end; the message arrived ${r.roundTripMs} ms after the trigger (${(o.elapsedMs / 1000).toFixed(1)} s in all)\n`
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
    checks: r.checks.map(c => ({
      id: c.id,
      name: c.name,
      status: c.status,
      detail: c.detail,
      findings: c.findings.map(f => f.code),
    })),
    findings: r.findings,
  };
}
