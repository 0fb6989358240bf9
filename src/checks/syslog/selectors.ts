/**
 * Legacy syslog selectors (`*.info;mail.none`), as rsyslog and sysklogd read them, and the
 * facility and severity netconsole messages get: they carry no `<PRI>`, so the daemons file them
 * as user.notice (the RFC 3164 default), not kern. Pure.
 */
import type { LogDestination } from './types.js';

const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
const SEV_ALIASES: Record<string, string> = { panic: 'emerg', error: 'err', warn: 'warning' };

/** Does a legacy selector (`*.info;mail.none;authpriv.none`) take facility `fac` at severity `sev`? */
export function selectorMatches(selector: string, fac: string, sev: number): boolean {
  let take = false;
  for (const part of selector.split(';')) {
    const dot = part.lastIndexOf('.');
    if (dot < 0) continue;
    const facs = part
      .slice(0, dot)
      .split(',')
      .map(f => f.trim().toLowerCase());
    let p = part
      .slice(dot + 1)
      .trim()
      .toLowerCase();
    if (!facs.includes('*') && !facs.includes(fac)) continue;
    let not = false;
    let eq = false;
    if (p.startsWith('!')) {
      not = true;
      p = p.slice(1);
    }
    if (p.startsWith('=')) {
      eq = true;
      p = p.slice(1);
    }
    if (p === 'none') {
      take = false;
      continue;
    }
    const level = p === '*' ? 7 : SEVERITIES.indexOf(SEV_ALIASES[p] ?? p);
    if (level < 0) continue;
    const hit = eq ? sev === level : sev <= level;
    if (not) {
      if (hit) take = false;
    } else if (hit) take = true;
  }
  return take;
}

export const NETCONSOLE_FACILITY = 'user';
export const NETCONSOLE_SEVERITY = 5; // notice

export function stripComment(l: string): string {
  // `#` starts a comment unless inside quotes.
  let q: string | null = null;
  for (let i = 0; i < l.length; i++) {
    const c = l[i]!;
    if (q) {
      if (c === q) q = null;
    } else if (c === '"' || c === "'") q = c;
    else if (c === '#') return l.slice(0, i);
  }
  return l;
}

export function legacyAction(action: string, selector: string, from: string, line: number): LogDestination | undefined {
  const a = action.trim().replace(/^-/, '');
  const file = a.startsWith('/')
    ? a.split(/[;\s]/)[0]!
    : a.startsWith('?')
      ? `dynaFile ${a.slice(1).split(';')[0]}`
      : undefined;
  if (!file) return undefined;
  return {
    file,
    selector,
    from,
    line,
    netconsole: selectorMatches(selector, NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY),
  };
}
