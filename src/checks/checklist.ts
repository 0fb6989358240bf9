/**
 * The checks' result shape: a checklist (each check with a status and its findings) that verify and
 * `netdiag check` print, and a plain-text rendering with every text from a file escaped.
 */
import type { Finding } from '../findings/finding.js';
import { escapeText } from '../report/escape.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'unknown';

export interface CheckResult {
  /** Stable id, e.g. `sender.device`. */
  id: string;
  /** A short name for the checklist: "netconsole device". */
  name: string;
  status: CheckStatus;
  /** One line: what was found (`eth0 is up, 10.99.0.2/24`) or why it is unknown (`ip link not available`). */
  detail: string;
  findings: Finding[];
}

/** A check's status from its findings: an error fails it, a warning warns, else pass. */
export function statusFrom(findings: readonly Finding[], otherwise: CheckStatus = 'pass'): CheckStatus {
  if (findings.some(f => f.severity === 'error')) return 'fail';
  if (findings.some(f => f.severity === 'warning')) return 'warn';
  return otherwise;
}

export function check(id: string, name: string, findings: Finding[], detail: string, otherwise: CheckStatus = 'pass'): CheckResult {
  return { id, name, status: statusFrom(findings, otherwise), detail, findings };
}

export { escapeText };

const MARK: Record<CheckStatus, string> = { pass: 'ok', warn: 'warn', fail: 'FAIL', unknown: '?' };

/** Renders checks as a plain-text checklist, findings indented under their check. */
export function renderChecklist(title: string, checks: readonly CheckResult[]): string {
  const lines: string[] = [title];
  for (const c of checks) {
    lines.push(`  [${MARK[c.status].padEnd(4)}] ${escapeText(c.name)}: ${escapeText(c.detail)}`);
    for (const f of c.findings) {
      lines.push(`         ${f.severity}: ${escapeText(f.summary)} (${f.code})`);
      for (const e of f.evidence.slice(0, 8)) lines.push(`           ${escapeText(e)}`);
      if (f.evidence.length > 8) lines.push(`           (+${f.evidence.length - 8} more)`);
      lines.push(`           fix: ${escapeText(f.hint)}`);
    }
  }
  return lines.join('\n') + '\n';
}
