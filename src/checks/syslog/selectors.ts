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
const NETCONSOLE_FACILITY_NUMBER = 1;

type Take = boolean | 'maybe';

/** Three-valued and / or / not: 'maybe' where netdiag cannot tell. */
export const takeAnd = (a: Take, b: Take): Take =>
  a === false || b === false ? false : a === true && b === true ? true : 'maybe';
export const takeOr = (a: Take, b: Take): Take =>
  a === true || b === true ? true : a === false && b === false ? false : 'maybe';
export const takeNot = (a: Take): Take => (a === 'maybe' ? 'maybe' : !a);

const SIMPLE =
  /^\$(syslogfacility|syslogfacility-text|syslogseverity|syslogseverity-text|syslogpriority|syslogpriority-text)\s*(==|!=|<>|<=|>=|<|>)\s*(?:"([^"]*)"|'([^']*)'|(\d+))$/i;

const FROMHOST_IP = /^\$fromhost-ip\s*(==|!=|<>|startswith|!startswith)\s*(?:"([^"]*)"|'([^']*)')$/i;

/**
 * Whether the sender's address passes a comparison of rsyslog's fromhost-ip (`==`, `!=`,
 * `startswith`; the property filter's `isequal` is `==`); 'maybe' without the sender's address.
 * netconsole's datagrams come straight from the sender, so fromhost-ip is its address.
 */
export function fromhostIpTakes(op: string, value: string, senderIp: string | undefined): Take {
  if (!senderIp) return 'maybe';
  const o = op.toLowerCase();
  const ip = senderIp.toLowerCase();
  const v = value.toLowerCase();
  if (o === '==' || o === 'isequal') return ip === v;
  if (o === '!=' || o === '<>' || o === '!isequal') return ip !== v;
  if (o === 'startswith') return ip.startsWith(v);
  if (o === '!startswith') return !ip.startsWith(v);
  return 'maybe';
}

/**
 * Whether an rsyslog RainerScript condition takes a netconsole message (user.notice from the
 * network): only comparisons of its facility or severity, `prifilt("...")`, `$fromhost-ip` against
 * the sender's address (when known), and `and` / `or` / `not` of those are judged; anything else
 * (host names, the message text) is 'maybe'.
 */
export function conditionTakesNetconsole(cond: string, senderIp?: string): Take {
  let c = cond.trim();
  while (/^\(.*\)$/.test(c) && balanced(c.slice(1, -1))) c = c.slice(1, -1).trim();
  if (/^not\s+/i.test(c)) return takeNot(conditionTakesNetconsole(c.replace(/^not\s+/i, ''), senderIp));
  for (const [word, join] of [
    ['or', takeOr],
    ['and', takeAnd],
  ] as const) {
    const parts = splitTop(c, word);
    if (parts.length > 1) return parts.map(p => conditionTakesNetconsole(p, senderIp)).reduce(join);
  }
  const pf = /^prifilt\s*\(\s*"([^"]*)"\s*\)$/i.exec(c);
  if (pf) return selectorMatches(pf[1]!, NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY);
  const fh = FROMHOST_IP.exec(c);
  if (fh) return fromhostIpTakes(fh[1]!, fh[2] ?? fh[3]!, senderIp);
  const m = SIMPLE.exec(c);
  if (!m) return 'maybe';
  const prop = m[1]!.toLowerCase();
  const op = m[2] === '<>' ? '!=' : m[2]!;
  const value = m[3] ?? m[4] ?? m[5]!;
  const fac = prop.startsWith('syslogfacility');
  // The -text properties are compared as strings: only == and != mean something.
  if (prop.endsWith('-text') && op !== '==' && op !== '!=') return 'maybe';
  let have: number, want: number;
  if (/^\d+$/.test(value)) {
    have = fac ? NETCONSOLE_FACILITY_NUMBER : NETCONSOLE_SEVERITY;
    want = Number(value);
  } else if (fac) {
    if (op !== '==' && op !== '!=') return 'maybe';
    return (value.toLowerCase() === NETCONSOLE_FACILITY) === (op === '==');
  } else {
    have = NETCONSOLE_SEVERITY;
    want = SEVERITIES.indexOf(SEV_ALIASES[value.toLowerCase()] ?? value.toLowerCase());
    if (want < 0) return 'maybe';
  }
  switch (op) {
    case '==':
      return have === want;
    case '!=':
      return have !== want;
    case '<':
      return have < want;
    case '<=':
      return have <= want;
    case '>':
      return have > want;
    default:
      return have >= want;
  }
}

/** Parentheses and quotes balance in `s`. */
function balanced(s: string): boolean {
  let depth = 0;
  let q: string | null = null;
  for (const ch of s) {
    if (q) {
      if (ch === q) q = null;
    } else if (ch === '"' || ch === "'") q = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0 && q === null;
}

/** `s` cut at each ` word ` outside quotes and parentheses. */
function splitTop(s: string, word: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let q: string | null = null;
  let start = 0;
  const re = new RegExp(`^\\s${word}\\s`, 'i');
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (q) {
      if (ch === q) q = null;
    } else if (ch === '"' || ch === "'") q = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && re.test(s.slice(i, i + word.length + 2))) {
      out.push(s.slice(start, i).trim());
      start = i + word.length + 2;
      i = start - 1;
    }
  }
  out.push(s.slice(start).trim());
  return out;
}

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
