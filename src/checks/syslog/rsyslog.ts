/**
 * rsyslog: legacy `$` directives and RainerScript, across included files (`$IncludeConfig`,
 * `include(file=...)`): imudp inputs (an input without its module has no effect), rulesets bound to
 * inputs, file actions, `$AllowedSender`. Pure.
 */
import type { FactText } from '../host/facts.js';
import type { LogDestination, SyslogConfig, SyslogDaemon, UdpInput } from './types.js';
import {
  conditionTakesNetconsole,
  legacyAction,
  NETCONSOLE_FACILITY,
  NETCONSOLE_SEVERITY,
  selectorMatches,
  stripComment,
  takeAnd,
  fromhostIpTakes,
  tagTakes,
  takeNot,
} from './selectors.js';
import { ALL_LINE_FORMS, type LineForm } from './line-forms.js';

export function rsyslogIncludes(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    let m = /^\$IncludeConfig\s+(\S+)/i.exec(l);
    if (m) out.push(m[1]!);
    m = /^include\s*\(.*?file\s*=\s*"([^"]+)"/i.exec(l);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** `~` and `stop` end a message's way: not an output. */
const isDiscard = (action: string) => /^(~|stop)\s*;?$/i.test(action.trim());

/** A shell glob (`*`, `?`, `[...]`) as a regular expression over a whole path. */
function globRe(given: string): RegExp {
  // A directory (`include(file="/etc/rsyslog.d/")`) includes every file in it.
  const glob = given.endsWith('/') ? `${given}*` : given;
  const body = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(glob.startsWith('/') ? `^${body}$` : `(^|/)${body}$`);
}

/**
 * The files in the order rsyslog reads their lines: an include directive reads the files it names
 * where it stands (the collector lists main first, then each include, depth-first), so a rule in
 * /etc/rsyslog.d/ comes before the main file's rules after the `$IncludeConfig` line. Each entry is
 * a file with the range of its lines read at that point. `texts`: each file's lines, block comments
 * blanked (an include inside a comment reads nothing).
 */
function inReadingOrder(
  files: FactText[],
  texts: ReadonlyMap<FactText, string[]>,
): Array<{ f: FactText; from: number; to: number }> {
  const out: Array<{ f: FactText; from: number; to: number }> = [];
  const done = new Set<FactText>();
  const visit = (f: FactText) => {
    done.add(f);
    const lines = texts.get(f)!;
    let start = 0;
    for (let i = 0; i < lines.length; i++) {
      const pats = rsyslogIncludes(stripComment(lines[i]!));
      if (!pats.length) continue;
      out.push({ f, from: start, to: i + 1 });
      start = i + 1;
      for (const pat of pats) {
        const re = globRe(pat);
        for (const g of files) if (!done.has(g) && re.test(g.from)) visit(g);
      }
    }
    out.push({ f, from: start, to: lines.length });
  };
  for (const f of files) if (!done.has(f)) visit(f);
  return out;
}

function rsParams(body: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const re = /([A-Za-z.]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|\[([^\]]*)\]|([^\s)"]+))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    const key = m[1]!.toLowerCase();
    if (m[2] !== undefined) out[key] = [m[2]];
    else if (m[3] !== undefined) out[key] = [...m[3].matchAll(/"([^"]*)"/g)].map(x => x[1]!);
    else out[key] = [m[4]!];
  }
  return out;
}

/** Strips `/* ... *\/` block comments, keeping newlines so line numbers stay right. */
function stripBlockComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, m => m.replace(/[^\n]/g, ' '));
}

/**
 * `senderIp`: the netconsole sender's address, to judge rules on `$fromhost-ip`; without it they
 * are 'maybe'. `forms`: the forms the sender's lines take (line-forms.ts), to judge rules on their
 * tag (`$programname`); every form when not known.
 */
export function parseRsyslog(
  files: FactText[],
  senderIp?: string,
  forms: readonly LineForm[] = ALL_LINE_FORMS,
): SyslogConfig {
  const cfg: SyslogConfig = {
    daemon: 'rsyslog',
    udpInputs: [],
    disabledUdp: [],
    destinations: [],
    allowedSenders: [],
    warnings: [],
    otherOutputs: false,
  };
  let imudpLoaded = false;
  const pendingInputs: Array<{ input: UdpInput }> = [];
  const legacyRuns: Array<{
    from: string;
    line: number;
    text: string;
    port: number;
    address?: string;
    ruleset?: string;
  }> = [];
  let udpAddress: string | undefined;
  let udpRuleset: string | undefined;
  // Rulesets: name → destinations inside; RainerScript `ruleset(name="x") { ... }` and legacy $RuleSet.
  let currentRuleset: string | undefined;
  const rulesetDest = new Map<string, LogDestination[]>();
  // The `if ... then {` blocks around the current line (and `else` ones), innermost last: an action
  // inside takes a netconsole message only if every enclosing condition does.
  const blocks: Array<{ depth: number; cond: string; take: boolean | 'maybe' }> = [];
  // Whether netconsole's message is still on its way in each ruleset ('' the default one): a
  // `stop` or `~` that takes it ends its way for the rules after it.
  const alive = new Map<string, { take: boolean | 'maybe'; by?: { from: string; line: number; text: string } }>();
  const aliveHere = () => alive.get(currentRuleset ?? '') ?? { take: true };
  const discard = (take: boolean | 'maybe', from: string, line: number, text: string) => {
    const t = blocks.reduce<boolean | 'maybe'>((a, b) => takeAnd(a, b.take), take);
    if (t === false) return;
    const now = aliveHere();
    alive.set(currentRuleset ?? '', { take: takeAnd(now.take, takeNot(t)), by: now.by ?? { from, line, text } });
  };
  // The filter of the last selector line, for a `&` line after it.
  let lastTake: boolean | 'maybe' = 'maybe';
  const pushDest = (given: LogDestination) => {
    let d = given;
    const a = aliveHere();
    if (a.take !== true && a.by) {
      d = { ...d, netconsole: takeAnd(a.take, d.netconsole) };
      if (a.take === false) d.discardedBy = a.by;
    }
    if (blocks.length) {
      const take = blocks.reduce<boolean | 'maybe'>((a, b) => takeAnd(a, b.take), true);
      const conds = blocks.map(b => b.cond).join(' and ');
      const own = d.selector === 'action()' || d.selector === '*.*' ? '' : ` ${d.selector}`;
      d = {
        ...d,
        selector: `if ${conds}${own}`,
        netconsole: takeAnd(take, d.selector === 'action()' ? true : d.netconsole),
      };
    }
    if (currentRuleset) {
      const l = rulesetDest.get(currentRuleset) ?? [];
      l.push(d);
      rulesetDest.set(currentRuleset, l);
    } else cfg.destinations.push(d);
  };
  // An output that is not a file (forwarding, a program, another ruleset) that may take netconsole's messages.
  const otherOutput = (take: boolean | 'maybe' = true) => {
    if (blocks.reduce<boolean | 'maybe'>((a, b) => takeAnd(a, b.take), takeAnd(aliveHere().take, take)) !== false)
      cfg.otherOutputs = true;
  };
  let braceDepth = 0;
  let rulesetDepth = -1;
  const templates = new Map<string, string>();

  const cond = (c: string) => conditionTakesNetconsole(c, senderIp, forms);
  const texts = new Map(files.map(f => [f, stripBlockComments(f.text).split('\n')]));
  for (const part of inReadingOrder(files, texts)) {
    const f = part.f;
    const lines = texts.get(f)!;
    for (let i = part.from; i < part.to && i < lines.length; i++) {
      const n = i + 1;
      const raw = lines[i]!;
      const trimmed = raw.trim();
      // A commented-out UDP line is the most common cause: remember it for the fix.
      const com =
        /^#+\s*(\$ModLoad\s+imudp|\$UDPServerRun\s+\d+|\$InputUDPServerRun\s+\d+|module\s*\(\s*load\s*=\s*"imudp"|input\s*\(\s*type\s*=\s*"imudp")/i.exec(
          trimmed,
        );
      if (com) {
        cfg.disabledUdp.push({ from: f.from, line: n, text: trimmed, why: 'commented out' });
        continue;
      }
      let l = stripComment(raw).trim();
      if (l === '') continue;
      // Gather a multi-line RainerScript statement (until parentheses balance).
      let stmtText = l;
      if (/^(module|input|action|include|global|template|ruleset|main_queue|parser)\s*\(/i.test(l)) {
        let depth = (l.match(/\(/g) ?? []).length - (l.match(/\)/g) ?? []).length;
        while (depth > 0 && i + 1 < lines.length) {
          const next = stripComment(lines[++i]!).trim();
          stmtText += ' ' + next;
          depth += (next.match(/\(/g) ?? []).length - (next.match(/\)/g) ?? []).length;
        }
        l = stmtText;
      }
      let m: RegExpExecArray | null;
      if ((m = /^\$ModLoad\s+(\S+)/i.exec(l))) {
        if (/^imudp(\.so)?$/i.test(m[1]!)) imudpLoaded = true;
        continue;
      }
      if ((m = /^\$UDPServerAddress\s+(\S+)/i.exec(l))) {
        udpAddress = m[1] === '*' ? undefined : m[1]!;
        continue;
      }
      if ((m = /^\$InputUDPServerBindRuleset\s+(\S+)/i.exec(l))) {
        udpRuleset = m[1] === 'RSYSLOG_DefaultRuleset' ? undefined : m[1]!;
        continue;
      }
      if ((m = /^\$(?:Input)?UDPServerRun\s+(\d+)/i.exec(l))) {
        const run: (typeof legacyRuns)[number] = {
          from: f.from,
          line: n,
          text: l,
          port: Number(m[1]),
        };
        if (udpAddress) run.address = udpAddress;
        if (udpRuleset) run.ruleset = udpRuleset;
        legacyRuns.push(run);
        continue;
      }
      if ((m = /^\$AllowedSender\s+UDP\s*,\s*(.*)$/i.exec(l))) {
        cfg.allowedSenders.push({
          spec: m[1]!
            .split(',')
            .map(s => s.trim())
            .filter(Boolean),
          from: f.from,
          line: n,
        });
        continue;
      }
      // Templates: a dynaFile's path (`template(name="x" type="string" string="/var/log/%HOSTNAME%.log")`).
      if ((m = /^\$template\s+([\w.-]+)\s*,\s*"((?:[^"\\]|\\.)*)"/i.exec(l))) {
        templates.set(m[1]!.toLowerCase(), m[2]!);
        continue;
      }
      if ((m = /^\$RuleSet\s+(\S+)/i.exec(l))) {
        currentRuleset = m[1] === 'RSYSLOG_DefaultRuleset' ? undefined : m[1]!;
        continue;
      }
      if (l.startsWith('$')) continue;
      if ((m = /^template\s*\((.*)\)/i.exec(l))) {
        const p = rsParams(m[1]!);
        if (p.name && p.string && (p.type?.[0] ?? 'string').toLowerCase() === 'string')
          templates.set(p.name[0]!.toLowerCase(), p.string[0]!);
        continue;
      }
      if ((m = /^module\s*\((.*)\)\s*$/i.exec(l))) {
        const p = rsParams(m[1]!);
        if ((p.load?.[0] ?? '').toLowerCase() === 'imudp') imudpLoaded = true;
        continue;
      }
      if ((m = /^input\s*\((.*)\)\s*$/i.exec(l))) {
        const p = rsParams(m[1]!);
        if ((p.type?.[0] ?? '').toLowerCase() !== 'imudp') continue;
        const ports = p.port ?? ['514'];
        for (const port of ports) {
          const input: UdpInput = { port: Number(port), from: f.from, line: n, text: l };
          if (p.address && p.address[0] !== '*' && p.address[0] !== '') input.address = p.address[0]!;
          if (p.ruleset) input.ruleset = p.ruleset[0]!;
          // imudp's rate limit is off unless an interval is given (its burst defaults to 10000).
          const interval = Number(p['ratelimit.interval']?.[0] ?? 0);
          if (interval > 0) input.rateLimit = { interval, burst: Number(p['ratelimit.burst']?.[0] ?? 10000) };
          pendingInputs.push({ input });
        }
        continue;
      }
      if ((m = /^ruleset\s*\((.*?)\)\s*(\{)?/i.exec(l))) {
        const p = rsParams(m[1]!);
        currentRuleset = p.name?.[0];
        if (m[2]) {
          rulesetDepth = braceDepth;
          braceDepth++;
        }
        continue;
      }
      if ((m = /^action\s*\((.*)\)/i.exec(l))) {
        const p = rsParams(m[1]!);
        if ((p.type?.[0] ?? '').toLowerCase() === 'omfile') {
          const file = p.file?.[0] ?? (p.dynafile ? `dynaFile ${p.dynafile[0]}` : '?');
          pushDest({ file, selector: 'action()', from: f.from, line: n, netconsole: 'maybe' });
        } else otherOutput();
        continue;
      }
      if (l.startsWith('}')) {
        braceDepth = Math.max(0, braceDepth - 1);
        if (braceDepth === rulesetDepth) {
          currentRuleset = undefined;
          rulesetDepth = -1;
        }
        let closed: { depth: number; cond: string; take: boolean | 'maybe' } | undefined;
        while (blocks.length && blocks[blocks.length - 1]!.depth >= braceDepth) closed = blocks.pop();
        // `} else {` and `} else if COND then {`: the other branch of the block just closed.
        const em = /^}\s*else\s*(?:if\s+(.*?)\s+then\s*)?\{\s*$/i.exec(l);
        if (em) {
          const notBefore = closed ? takeNot(closed.take) : 'maybe';
          const c2 = em[1] ? cond(em[1]) : true;
          blocks.push({
            depth: braceDepth,
            cond: `${closed ? `not (${closed.cond})` : 'else'}${em[1] ? ` and ${em[1]}` : ''}`,
            take: takeAnd(notBefore, c2),
          });
          braceDepth++;
        }
        continue;
      }
      if (/^call\s/i.test(l)) otherOutput();
      if (isDiscard(l)) {
        discard(true, f.from, n, l);
        continue;
      }
      // `& ACTION`: one more action for the selector line before.
      if ((m = /^&\s*(\S.*)$/.exec(l))) {
        const act = m[1]!;
        if (isDiscard(act)) discard(lastTake, f.from, n, l);
        else {
          const d = legacyAction(act, '*.*', f.from, n);
          if (d) pushDest({ ...d, selector: '&', netconsole: lastTake });
          else otherOutput(lastTake);
        }
        continue;
      }
      if ((m = /^if\s+(.*?)\s+then\s*\{\s*$/i.exec(l))) {
        blocks.push({ depth: braceDepth, cond: m[1]!, take: cond(m[1]!) });
        braceDepth++;
        continue;
      }
      if (l.endsWith('{')) braceDepth++;
      // Property filter `:fromhost-ip, isequal, "10.0.0.2" /var/log/x` and `if ... then /var/log/x`.
      if ((m = /^:([\w-]+)\s*,\s*(!?)(\w+)\s*,\s*"([^"]*)"\s+(\S.*)$/.exec(l))) {
        const d = legacyAction(m[5]!, '*.*', f.from, n);
        // Only an exact facility or severity name is judged.
        const prop = m[1]!.toLowerCase();
        const op = m[3]!.toLowerCase();
        const take =
          op === 'isequal' && /^syslog(facility|severity|priority)-text$/.test(prop)
            ? cond(`$${prop} ${m[2] ? '!=' : '=='} "${m[4]}"`)
            : prop === 'fromhost-ip'
              ? fromhostIpTakes(`${m[2]}${op}`, m[4]!, senderIp)
              : /^(programname|syslogtag|app-name)$/.test(prop)
                ? tagTakes(prop, `${m[2]}${op}`, m[4]!, forms)
                : 'maybe';
        lastTake = take;
        if (d) pushDest({ ...d, selector: `:${m[1]}, ${m[2]}${m[3]}, "${m[4]}"`, netconsole: take });
        else if (isDiscard(m[5]!)) discard(take, f.from, n, l);
        else otherOutput(take);
        continue;
      }
      if ((m = /^if\s+(.*?)\s+then\s+(.*)$/i.exec(l))) {
        const act = m[2]!.trim();
        const pm = /action\s*\((.*)\)/i.exec(act);
        const take = cond(m[1]!);
        lastTake = take;
        if (pm) {
          const p = rsParams(pm[1]!);
          const file = p.file?.[0] ?? (p.dynafile ? `dynaFile ${p.dynafile[0]}` : undefined);
          if (file) pushDest({ file, selector: `if ${m[1]}`, from: f.from, line: n, netconsole: take });
          else otherOutput(take);
          // `if C then { action(...) stop }` on one line: the action, then the end of the way.
          if (/\bstop\s*\}?\s*$/i.test(act.slice(pm.index + pm[0].length))) discard(take, f.from, n, l);
        } else {
          const d = legacyAction(act, '*.*', f.from, n);
          if (d) pushDest({ ...d, selector: `if ${m[1]}`, netconsole: take });
          else if (isDiscard(act)) discard(take, f.from, n, l);
          else otherOutput(take);
        }
        continue;
      }
      // Legacy selector line: `facility.priority[;...]   action`.
      if ((m = /^([\w*,.;=!]+\.[\w*!=]+(?:;[\w*,.;=!]+)*)\s+(\S.*)$/.exec(l))) {
        lastTake = selectorMatches(m[1]!, NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY);
        // `*.* action(type="omfile" file="...")` or `*.* /var/log/x`
        const am = /^action\s*\((.*)\)/i.exec(m[2]!);
        if (am) {
          const p = rsParams(am[1]!);
          if ((p.type?.[0] ?? '').toLowerCase() === 'omfile' && (p.file || p.dynafile)) {
            pushDest({
              file: p.file?.[0] ?? `dynaFile ${p.dynafile![0]}`,
              selector: m[1]!,
              from: f.from,
              line: n,
              netconsole: selectorMatches(m[1]!, NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY),
            });
          } else otherOutput(selectorMatches(m[1]!, NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY));
        } else {
          const d = legacyAction(m[2]!, m[1]!, f.from, n);
          if (d) pushDest(d);
          else if (isDiscard(m[2]!)) discard(lastTake, f.from, n, l);
          else otherOutput(lastTake);
        }
      }
    }
  }

  for (const r of legacyRuns) {
    if (!imudpLoaded) {
      cfg.disabledUdp.push({
        from: r.from,
        line: r.line,
        text: r.text,
        why: '$UDPServerRun without $ModLoad imudp has no effect',
      });
      continue;
    }
    const input: UdpInput = { port: r.port, from: r.from, line: r.line, text: r.text };
    if (r.address) input.address = r.address;
    if (r.ruleset) input.ruleset = r.ruleset;
    cfg.udpInputs.push(input);
  }
  for (const { input } of pendingInputs) {
    if (!imudpLoaded) {
      cfg.disabledUdp.push({
        from: input.from,
        line: input.line,
        text: input.text,
        why: 'input(type="imudp") without module(load="imudp") is refused by rsyslog',
      });
      continue;
    }
    cfg.udpInputs.push(input);
  }
  // Messages from an input bound to a ruleset go only to that ruleset's actions.
  const bound = cfg.udpInputs.map(i => i.ruleset).filter((x): x is string => !!x);
  for (const rs of new Set(bound))
    for (const d of rulesetDest.get(rs) ?? [])
      cfg.destinations.push({ ...d, selector: `ruleset ${rs}: ${d.selector}`, ruleset: rs });
  if (cfg.udpInputs.length && cfg.udpInputs.every(i => i.ruleset))
    cfg.destinations = cfg.destinations.filter(d => d.selector.startsWith('ruleset '));
  // A dynaFile names its template: the template's path, when it is a plain string one.
  for (const d of cfg.destinations) {
    const path = d.file.startsWith('dynaFile ') ? templates.get(d.file.slice(9).toLowerCase()) : undefined;
    if (path?.startsWith('/')) d.file = path;
  }
  return cfg;
}

export const rsyslog: SyslogDaemon = {
  name: 'rsyslog',
  mainConfig: { path: '/etc/rsyslog.conf', includes: rsyslogIncludes, relativeTo: '/etc' },
  ownsProcess: /rsyslog/,
  parse: (files, ctx) =>
    files.length ? { ...parseRsyslog(files, ctx?.senderIp, ctx?.forms), mainFile: files[0]!.from } : undefined,
  enableUdpFix: (port, cfg) =>
    `Add to ${cfg.mainFile ?? '/etc/rsyslog.conf'}: module(load="imudp") and input(type="imudp" port="${port}"), then restart rsyslog`,
  listenAnywhereFix: i =>
    /^\$/.test(i.text)
      ? `In ${i.from}, set $UDPServerAddress * (or remove it) before line ${i.line}, then systemctl restart rsyslog`
      : `In ${i.from}:${i.line}, remove address="${i.address ?? ''}" from input(type="imudp" port="${i.port}"), then systemctl restart rsyslog`,
  service: 'rsyslog',
  syntaxCheck: 'rsyslogd -N1',
};
