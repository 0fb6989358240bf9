/**
 * What every check returns: a status and its findings, for the checklist that verify and
 * `netdiag check` print (rendered by src/report/checklist.ts).
 */
import type { Finding } from '../findings/finding.js';

/** `skip`: not reached (verify: a hop after the one the datagram stopped at). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'unknown' | 'skip';

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

/**
 * One check: a named, pure function of the facts and what was derived from them. It returns
 * undefined when it does not apply (no configfs target, no semanage), so it leaves no line.
 */
export type Check<F, C> = (facts: F, context: C) => CheckResult | undefined;

/** Runs a list of checks in order: the checklist. */
export function runChecks<F, C>(list: ReadonlyArray<Check<F, C>>, facts: F, context: C): CheckResult[] {
  const out: CheckResult[] = [];
  for (const c of list) {
    const r = c(facts, context);
    if (r) out.push(r);
  }
  return out;
}

/** A check's status from its findings: an error fails it, a warning warns, else pass. */
function statusFrom(findings: readonly Finding[], otherwise: CheckStatus = 'pass'): CheckStatus {
  if (findings.some(f => f.severity === 'error')) return 'fail';
  if (findings.some(f => f.severity === 'warning')) return 'warn';
  return otherwise;
}

export function check(
  id: string,
  name: string,
  findings: Finding[],
  detail: string,
  otherwise: CheckStatus = 'pass',
): CheckResult {
  return { id, name, status: statusFrom(findings, otherwise), detail, findings };
}
