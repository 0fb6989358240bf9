/**
 * Legacy syslog selectors (`*.info;mail.none`), as rsyslog and sysklogd read them, and the
 * facility and severity netconsole messages get: they carry no `<PRI>`, so the daemons file them
 * as user.notice (the RFC 3164 default), not kern. Pure.
 */
import type { LogDestination } from './types.js';
import { ALL_LINE_FORMS, type KnownTag, type LineForm } from './line-forms.js';

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

const TAG_COND = /^\$(programname|syslogtag|app-name)\s*(==|!=|<>|startswith|contains)\s*(?:"([^"]*)"|'([^']*)')$/i;

const FROMHOST_IP = /^\$fromhost-ip\s*(==|!=|<>|startswith|!startswith)\s*(?:"([^"]*)"|'([^']*)')$/i;

/**
 * Whether the sender's address passes a comparison of rsyslog's fromhost-ip (`==`, `!=`,
 * `startswith`; the property filter's `isequal` is `==`); 'maybe' without the sender's address.
 * fromhost-ip is the address the datagrams arrive from: the sender's own, or a NAT router's on
 * the way (verify judges for the one that arrived).
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

/** rsyslog's $programname, $syslogtag or $app-name of a netconsole line of one form (line-forms.ts). */
function rsyslogTag(prop: string, form: LineForm): KnownTag {
  if (form === 'plain') return undefined;
  if (form === 'extended') return { digit: true };
  return { exact: prop === 'app-name' ? '-' : '' };
}

function tagTakesIn(k: KnownTag, op: string, value: string): Take {
  if (!k) return 'maybe';
  const neg = op.startsWith('!') || op === '<>';
  const base = op === '!=' || op === '<>' || op === '==' ? 'isequal' : op.replace(/^!/, '');
  let t: Take;
  if ('exact' in k) {
    t =
      base === 'isequal'
        ? k.exact === value
        : base === 'startswith'
          ? k.exact.startsWith(value)
          : base === 'contains'
            ? k.exact.includes(value)
            : base === 'isempty'
              ? k.exact === ''
              : 'maybe';
  } else {
    // Starts with the level's digit; the rest is the kernel's text.
    const digit = /^\d/.test(value);
    t =
      base === 'isequal'
        ? digit
          ? 'maybe'
          : false
        : base === 'startswith'
          ? value === ''
            ? true
            : digit
              ? 'maybe'
              : false
          : base === 'contains'
            ? value === ''
              ? true
              : 'maybe'
            : base === 'isempty'
              ? false
              : 'maybe';
  }
  return neg ? takeNot(t) : t;
}

/**
 * Whether a comparison of rsyslog's `$programname`, `$syslogtag` or `$app-name` takes netconsole's
 * lines of the given forms: `==` / `isequal`, `!=`, `startswith`, `contains`, `isempty`, negated
 * with `!`; true or false only when every form agrees. Walked against rsyslog 8.2302
 * (fixtures/checks/README.md).
 */
export function tagTakes(prop: string, op: string, value: string, forms: readonly LineForm[] = ALL_LINE_FORMS): Take {
  let take: Take | undefined;
  for (const f of forms) {
    const t = tagTakesIn(rsyslogTag(prop.toLowerCase(), f), op.toLowerCase(), value);
    take = take === undefined ? t : take === t ? t : 'maybe';
  }
  return take ?? 'maybe';
}

/**
 * Whether an rsyslog RainerScript condition takes a netconsole message (user.notice from the
 * network): comparisons of its facility or severity, `prifilt("...")`, `$fromhost-ip` against
 * the sender's address (when known), its tag (`$programname`, `$syslogtag`, `$app-name`) for the
 * sender's line forms, and `and` / `or` / `not` of those are judged; anything else (host names,
 * the message text) is 'maybe'.
 */
export function conditionTakesNetconsole(
  cond: string,
  senderIp?: string,
  forms: readonly LineForm[] = ALL_LINE_FORMS,
): Take {
  let c = cond.trim();
  while (/^\(.*\)$/.test(c) && balanced(c.slice(1, -1))) c = c.slice(1, -1).trim();
  if (/^not\s+/i.test(c)) return takeNot(conditionTakesNetconsole(c.replace(/^not\s+/i, ''), senderIp, forms));
  for (const [word, join] of [
    ['or', takeOr],
    ['and', takeAnd],
  ] as const) {
    const parts = splitTop(c, word);
    if (parts.length > 1) return parts.map(p => conditionTakesNetconsole(p, senderIp, forms)).reduce(join);
  }
  const pf = /^prifilt\s*\(\s*"([^"]*)"\s*\)$/i.exec(c);
  if (pf) return selectorMatches(pf[1]!, NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY);
  const fh = FROMHOST_IP.exec(c);
  if (fh) return fromhostIpTakes(fh[1]!, fh[2] ?? fh[3]!, senderIp);
  const tag = TAG_COND.exec(c);
  if (tag) return tagTakes(tag[1]!, tag[2]!, tag[3] ?? tag[4]!, forms);
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
