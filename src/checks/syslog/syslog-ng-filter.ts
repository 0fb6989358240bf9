/**
 * syslog-ng's filter expressions, judged for netconsole's messages as syslog-ng 3.38.1 sees them
 * (walked, fixtures/checks/README.md): no <PRI>, so user.notice, from $HOST = the sender's address
 * (with `use_dns(no)`), and the kernel's line parsed as an RFC 3164 message without date or host:
 *
 * - plain with printk timestamps (`[   12.345678] text`, `[12345.678901] text`): $PROGRAM is empty
 *   (the `[` opens a pid: `$PID` is the timestamp when it has no leading space);
 * - plain without timestamps: $PROGRAM is the line's first word (`kernel BUG at` -> `kernel`);
 * - extended (`6,123,456789,-;text`): $PROGRAM is `6,123,456789,-;` and the text's first word;
 * - `flags(no-parse)` on the source: $PROGRAM empty, $MESSAGE the whole line.
 *
 * `match()` without `value()` tests `$PROGRAM: $MESSAGE` (`: ` first when $PROGRAM is empty).
 * The rest of the text is the kernel's: a filter on it takes some lines and not others ('maybe'),
 * unless the known part decides it. Pure.
 */
import { inNetwork } from '../firewall/address.js';
import { ALL_LINE_FORMS, type LineForm } from './line-forms.js';
import { NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY, takeAnd, takeNot, takeOr } from './selectors.js';

export type Take = boolean | 'maybe';

const NG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
const NG_LEVEL_ALIAS: Record<string, string> = { panic: 'emerg', error: 'err', warn: 'warning' };
export const ngLevel = (s: string) => NG_LEVELS.indexOf(NG_LEVEL_ALIAS[s] ?? s);

/** What a message from netconsole is to syslog-ng's filters at one point of a log path. */
export interface NgMessage {
  senderIp?: string;
  /** `use_dns(no)`: $HOST is the sender's address, as written, for host(). */
  hostIsIp: boolean;
  filters: Map<string, string>;
  /** Its facility and level: user.notice, unless a rewrite set them (undefined: set to what netdiag does not know). */
  facility: string | undefined;
  level: number | undefined;
  /** Values a rewrite set: the literal, or undefined for one netdiag does not know. */
  set: Map<string, string | undefined>;
  /** A parser or rewrite netdiag does not follow ran: its text, host and values are not known. */
  textUnknown: boolean;
  /** The source has `flags(no-parse)`. */
  noParse: boolean;
  /** The forms the sender's lines take (line-forms.ts); every form when not known. */
  forms: readonly LineForm[];
  /** Text filters met on the way that take some lines and not others (for the warning). */
  byText: string[];
}

export const ngMessage = (
  senderIp: string | undefined,
  hostIsIp: boolean,
  filters: Map<string, string>,
  forms: readonly LineForm[] = ALL_LINE_FORMS,
): NgMessage => ({
  ...(senderIp ? { senderIp } : {}),
  hostIsIp,
  filters,
  facility: NETCONSOLE_FACILITY,
  level: NETCONSOLE_SEVERITY,
  set: new Map(),
  textUnknown: false,
  noParse: false,
  forms,
  byText: [],
});

/** What netdiag knows of a value in one form of message: all of it, how it starts, or nothing. */
type Known = { exact: string } | { starts: string } | { digit: true } | undefined;

type Form = LineForm | 'no-parse';

function known(name: string, form: Form, msg: NgMessage): Known {
  const n = name.replace(/^\$\{?|\}$/g, '').toUpperCase();
  if (msg.set.has(n)) {
    const v = msg.set.get(n);
    return v === undefined ? undefined : { exact: v };
  }
  if (n === 'SOURCEIP') return msg.senderIp ? { exact: msg.senderIp } : undefined;
  if (n === 'FACILITY') return msg.facility === undefined ? undefined : { exact: msg.facility };
  if (n === 'LEVEL' || n === 'PRIORITY' || n === 'SEVERITY')
    return msg.level === undefined ? undefined : { exact: NG_LEVELS[msg.level]! };
  if (msg.textUnknown) return undefined;
  if (n === 'HOST') return msg.hostIsIp && msg.senderIp ? { exact: msg.senderIp } : undefined;
  const program =
    form === 'plain-ts' || form === 'no-parse'
      ? { exact: '' }
      : form === 'extended'
        ? { digit: true as const }
        : undefined;
  if (n === 'PROGRAM') return program;
  // match() without value(): "$PROGRAM: $MESSAGE".
  if (n === '') return form === 'plain-ts' || form === 'no-parse' ? { starts: ': ' } : program;
  return undefined;
}

/** A text filter's pattern and options (`type()`, `flags()`). */
interface Pattern {
  text: string;
  type: string;
  flags: string[];
}

/** The literal the value must start with for the pattern to match, or undefined (no anchor, an alternation). */
function anchoredLiteral(p: Pattern): { lit: string; whole: boolean; all?: boolean } | undefined {
  if (p.type === 'string')
    return p.flags.includes('substring')
      ? undefined
      : { lit: p.text, whole: !p.flags.includes('prefix'), all: p.flags.includes('prefix') };
  if (p.type === 'glob') {
    const lit = /^[^*?[]*/.exec(p.text)![0];
    return { lit, whole: lit === p.text, all: p.text === `${lit}*` };
  }
  if (!p.text.startsWith('^') || p.text.includes('|')) return undefined;
  let lit = '';
  let i = 1;
  for (; i < p.text.length; i++) {
    const c = p.text[i]!;
    if (c === '\\' && /[^\w]/.test(p.text[i + 1] ?? 'a')) lit += p.text[++i];
    else if (/[.[\]()*+?{}$^\\]/.test(c)) break;
    else lit += c;
  }
  // A quantifier after the last letter makes it optional.
  if (/^[*?{]/.test(p.text.slice(i))) lit = lit.slice(0, -1);
  return { lit, whole: false, all: i === p.text.length };
}

function matchesExact(value: string, p: Pattern): Take {
  const icase = p.flags.includes('ignore-case');
  const [v, t] = icase ? [value.toLowerCase(), p.text.toLowerCase()] : [value, p.text];
  if (p.type === 'string')
    return p.flags.includes('substring') ? v.includes(t) : p.flags.includes('prefix') ? v.startsWith(t) : v === t;
  if (p.type === 'glob') {
    const re = t
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${re}$`, 's').test(v);
  }
  try {
    return new RegExp(p.text, icase ? 'i' : '').test(value);
  } catch {
    return 'maybe';
  }
}

function matches(k: Known, p: Pattern): Take {
  if (k && 'exact' in k) return matchesExact(k.exact, p);
  const everything =
    (p.type === 'pcre' && /^\^?(\.\*)?$/.test(p.text)) ||
    (p.type === 'glob' && p.text === '*') ||
    (p.type === 'string' && p.text === '' && p.flags.some(f => f === 'prefix' || f === 'substring'));
  if (everything) return true;
  const a = anchoredLiteral(p);
  if (!k || !a || !a.lit) return 'maybe';
  const icase = p.flags.includes('ignore-case');
  const lit = icase ? a.lit.toLowerCase() : a.lit;
  if ('digit' in k) return /\d/.test(lit[0]!) ? 'maybe' : false;
  const starts = icase ? k.starts.toLowerCase() : k.starts;
  const n = Math.min(lit.length, starts.length);
  if (lit.slice(0, n) !== starts.slice(0, n)) return false;
  // `^: ` over a value known to start with ": ": every line.
  return a.all && !a.whole && lit.length <= starts.length ? true : 'maybe';
}

/** The first string of a filter call's arguments (double-quoted with escapes, or single-quoted), and its options. */
function pattern(args: string): { p: Pattern; value?: string } | undefined {
  const s = /^\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"'()]+))/.exec(args);
  if (!s) return undefined;
  const text = s[2] ?? s[3] ?? s[1]!.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
  const rest = args.slice(s[0].length);
  const opt = (name: string) => new RegExp(`\\b${name}\\s*\\(([^)]*)\\)`).exec(rest)?.[1];
  const words = (x: string | undefined) =>
    (x ?? '')
      .split(/[\s,]+/)
      .map(w =>
        w
          .replace(/^["']|["']$/g, '')
          .toLowerCase()
          .replace(/_/g, '-'),
      )
      .filter(Boolean);
  const value = opt('value')
    ?.trim()
    .replace(/^["']|["']$/g, '');
  return {
    p: { text, type: words(opt('type'))[0] ?? 'pcre', flags: words(opt('flags')) },
    ...(value !== undefined ? { value } : {}),
  };
}

/**
 * A text filter (`program()`, `message()`, `match()`) over netconsole's forms: true or false only
 * when every form agrees.
 */
function textFilter(name: string, args: string, msg: NgMessage): Take {
  const parsed = pattern(args);
  if (!parsed) return 'maybe';
  const value = name === 'program' ? 'PROGRAM' : name === 'message' ? 'MESSAGE' : (parsed.value ?? '');
  const forms: readonly Form[] = msg.noParse ? ['no-parse'] : msg.forms;
  let take: Take | undefined;
  for (const form of forms) {
    const t = matches(known(value, form, msg), parsed.p);
    take = take === undefined ? t : take === t ? t : 'maybe';
  }
  if (take === 'maybe') msg.byText.push(`${name}(${args.trim()})`);
  return take ?? 'maybe';
}

/**
 * One filter function: facility(), level() / priority(), host(), netmask(), filter(), program(),
 * message(), match(); 'maybe' for the rest.
 */
function ngFilterCall(name: string, args: string, msg: NgMessage, depth: number): Take {
  const items = args
    .split(/[\s,]+/)
    .map(x => x.replace(/^"|"$/g, '').toLowerCase())
    .filter(Boolean);
  switch (name) {
    case 'facility':
      if (msg.facility === undefined) return 'maybe';
      if (items.some(x => x === msg.facility || (msg.facility === NETCONSOLE_FACILITY && x === '1'))) return true;
      // Numbers other than user's (1) are certain only while the facility is user.
      return items.some(x => x.includes('..') || (/^\d+$/.test(x) && msg.facility !== NETCONSOLE_FACILITY))
        ? 'maybe'
        : false;
    case 'level':
    case 'priority': {
      if (msg.level === undefined) return 'maybe';
      let take: Take = false;
      for (const x of items) {
        const [a, b = a] = x.split('..') as [string, string?];
        const lo = ngLevel(a);
        const hi = ngLevel(b);
        if (lo < 0 || hi < 0) take = 'maybe';
        else if (msg.level >= Math.min(lo, hi) && msg.level <= Math.max(lo, hi)) return true;
      }
      return take;
    }
    case 'netmask':
    case 'netmask6': {
      if (!msg.senderIp || items.length !== 1) return 'maybe';
      return inNetwork(msg.senderIp, items[0]!) ?? 'maybe';
    }
    case 'host': {
      const pattern = /^\s*"([^"]*)"\s*$/.exec(args)?.[1] ?? /^\s*([^\s()"]+)\s*$/.exec(args)?.[1] ?? undefined;
      if (pattern === undefined || !msg.senderIp || msg.textUnknown || msg.set.has('HOST')) return 'maybe';
      let re: RegExp;
      try {
        re = new RegExp(pattern);
      } catch {
        return 'maybe';
      }
      // Without use_dns(no), $HOST may be the sender's name: only a match is certain.
      return re.test(msg.senderIp) ? true : msg.hostIsIp ? false : 'maybe';
    }
    case 'filter': {
      const body = msg.filters.get(items[0] ?? '');
      return body === undefined || depth > 16 ? 'maybe' : ngFilterExpr(body, msg, depth + 1);
    }
    case 'program':
    case 'message':
    case 'match':
      return textFilter(name, args, msg);
    default:
      return 'maybe';
  }
}

/** A filter expression (`facility(kern) and not level(debug)`), judged for netconsole's messages. */
export function ngFilterExpr(expr: string, msg: NgMessage, depth = 0): Take {
  const tokens: Array<{ word: string; args?: string }> = [];
  const re = /\s*(?:([a-z][\w-]*)\s*(\()?|([()]))/gy;
  let i = 0;
  const text = expr.replace(/;\s*$/, '').trim();
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return 'maybe';
    i = re.lastIndex;
    if (m[1] && m[2]) {
      let d = 1;
      let j = i;
      let q = false;
      while (j < text.length && d > 0) {
        const c = text[j]!;
        if (c === '"' && text[j - 1] !== '\\') q = !q;
        else if (!q && c === '(') d++;
        else if (!q && c === ')') d--;
        j++;
      }
      tokens.push({ word: m[1].toLowerCase(), args: text.slice(i, j - 1) });
      i = j;
    } else tokens.push({ word: (m[1] ?? m[3]!).toLowerCase() });
    while (i < text.length && /\s/.test(text[i]!)) i++;
  }
  let at = 0;
  const or = (): Take => {
    let v = and();
    while (tokens[at]?.word === 'or' && tokens[at]!.args === undefined) {
      at++;
      v = takeOr(v, and());
    }
    return v;
  };
  const and = (): Take => {
    let v = unary();
    while (tokens[at]?.word === 'and' && tokens[at]!.args === undefined) {
      at++;
      v = takeAnd(v, unary());
    }
    return v;
  };
  const unary = (): Take => {
    const t = tokens[at++];
    if (!t) return 'maybe';
    if (t.word === 'not' && t.args === undefined) return takeNot(unary());
    if (t.word === '(') {
      const v = or();
      return tokens[at++]?.word === ')' ? v : 'maybe';
    }
    return t.args === undefined ? 'maybe' : ngFilterCall(t.word, t.args, msg, depth);
  };
  const v = or();
  return at === tokens.length ? v : 'maybe';
}
