/**
 * The one checklist renderer, for `netdiag check` and `netdiag verify`: one line per check with its
 * mark, then its findings indented under it. Every text from a host is escaped.
 */
import type { CheckResult, CheckStatus } from '../checks/check.js';
import { escapeText } from './escape.js';
import { PLAIN, type Style } from './style.js';

export interface ChecklistOptions {
  /** Colour for the marks. @default PLAIN */
  style?: Style;
  /** Under each finding, its evidence (at most 8 lines) and its fix. @default true */
  evidence?: boolean;
  /** Leave out info findings of a check that passed. @default false */
  hideInfoOnPass?: boolean;
}

const MARK: Record<CheckStatus, string> = { pass: 'ok  ', warn: 'warn', fail: 'FAIL', unknown: '?   ', skip: ' -- ' };

function markColor(status: CheckStatus, style: Style): (s: string) => string {
  return s =>
    status === 'fail'
      ? style.red(s)
      : status === 'warn'
        ? style.yellow(s)
        : status === 'pass'
          ? style.green(s)
          : style.dim(s);
}

/** The lines of the checks, without a title. */
export function renderChecks(checks: readonly CheckResult[], opts: ChecklistOptions = {}): string {
  const style = opts.style ?? PLAIN;
  const evidence = opts.evidence ?? true;
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`  [${markColor(c.status, style)(MARK[c.status])}] ${escapeText(c.name)}: ${escapeText(c.detail)}`);
    for (const f of c.status === 'skip' ? [] : c.findings) {
      if (opts.hideInfoOnPass && f.severity === 'info' && c.status === 'pass') continue;
      lines.push(`         ${f.severity}: ${escapeText(f.summary)} (${f.code})`);
      if (!evidence) continue;
      for (const e of f.evidence.slice(0, 8)) lines.push(`           ${escapeText(e)}`);
      if (f.evidence.length > 8) lines.push(`           (+${f.evidence.length - 8} more)`);
      lines.push(`           fix: ${escapeText(f.hint)}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** A titled checklist. */
export function renderChecklist(title: string, checks: readonly CheckResult[], opts: ChecklistOptions = {}): string {
  return `${title}\n${renderChecks(checks, opts)}`;
}
