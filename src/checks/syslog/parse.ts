/**
 * The receiver's syslog daemon configuration: does it receive UDP, on which port and address, and
 * which file the netconsole messages land in. rsyslog (legacy `$` directives and RainerScript,
 * across included files), sysklogd (`-r` in SYSLOGD_OPTIONS / SYSLOGD, and /etc/syslog.conf), and
 * syslog-ng (udp(), network(transport("udp")), syslog(transport("udp")) sources and their log paths).
 *
 * netconsole datagrams carry no `<PRI>`, so rsyslog and sysklogd file them as user.notice (the
 * RFC 3164 default), not kern: a `kern.*` rule does not see them; `*.info` does. Pure.
 */
import type { FactText } from '../host/facts.js';

export interface UdpInput {
  port: number;
  /** Bound address; undefined means all addresses. */
  address?: string;
  from: string;
  line: number;
  text: string;
  /** rsyslog: the ruleset bound to the input. */
  ruleset?: string;
  /** syslog-ng: the source's name. */
  source?: string;
}

export interface LogDestination {
  /** A file path, or a description (`@@remote`, `dynaFile RemoteLogs`). */
  file: string;
  /** The selector or filter, as written. */
  selector: string;
  from: string;
  line: number;
  /** Whether a remote netconsole message (user.notice from the network) goes here: true, false, or 'maybe' (filters netdiag does not evaluate). */
  netconsole: boolean | 'maybe';
}

export interface SyslogConfig {
  daemon: 'rsyslog' | 'sysklogd' | 'syslog-ng';
  /** UDP inputs that are in effect. */
  udpInputs: UdpInput[];
  /** Lines that would enable UDP but are commented out, or are without effect (input without module): for the fix. */
  disabledUdp: Array<{ from: string; line: number; text: string; why: string }>;
  destinations: LogDestination[];
  /** rsyslog $AllowedSender UDP lists. */
  allowedSenders: Array<{ spec: string[]; from: string; line: number }>;
  warnings: string[];
}

// ---- includes (used by the collector) ----------------------------------------------------------

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

export function syslogNgIncludes(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*@include\s+"([^"]+)"/.exec(raw);
    if (m && m[1] !== 'scl.conf' && !m[1]!.startsWith('scl/')) out.push(m[1]!);
  }
  return out;
}

// ---- selectors (rsyslog legacy and sysklogd) ---------------------------------------------------

const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
const SEV_ALIASES: Record<string, string> = { panic: 'emerg', error: 'err', warn: 'warning' };

/** Does a legacy selector (`*.info;mail.none;authpriv.none`) take facility `fac` at severity `sev`? */
export function selectorMatches(selector: string, fac: string, sev: number): boolean {
  let take = false;
  for (const part of selector.split(';')) {
    const dot = part.lastIndexOf('.');
    if (dot < 0) continue;
    const facs = part.slice(0, dot).split(',').map(f => f.trim().toLowerCase());
    let p = part.slice(dot + 1).trim().toLowerCase();
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

const NETCONSOLE_FACILITY = 'user';
const NETCONSOLE_SEVERITY = 5; // notice

function stripComment(l: string): string {
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

function legacyAction(action: string, selector: string, from: string, line: number): LogDestination | undefined {
  const a = action.trim().replace(/^-/, '');
  const file = a.startsWith('/') ? a.split(/[;\s]/)[0]! : a.startsWith('?') ? `dynaFile ${a.slice(1).split(';')[0]}` : undefined;
  if (!file) return undefined;
  return { file, selector, from, line, netconsole: selectorMatches(selector, NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY) };
}

// ---- rsyslog ---------------------------------------------------------------------------------

/** RainerScript statements: `name(key="v" key=["a","b"])` possibly over several lines. */
interface RsStatement {
  name: string;
  params: Record<string, string[]>;
  line: number;
  text: string;
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

export function parseRsyslog(files: FactText[]): SyslogConfig {
  const cfg: SyslogConfig = { daemon: 'rsyslog', udpInputs: [], disabledUdp: [], destinations: [], allowedSenders: [], warnings: [] };
  let imudpLoaded = false;
  const pendingInputs: Array<{ input: UdpInput }> = [];
  const legacyRuns: Array<{ from: string; line: number; text: string; port: number; address?: string }> = [];
  let udpAddress: string | undefined;
  // Rulesets: name → destinations inside; RainerScript `ruleset(name="x") { ... }` and legacy $RuleSet.
  let currentRuleset: string | undefined;
  const rulesetDest = new Map<string, LogDestination[]>();
  const pushDest = (d: LogDestination) => {
    if (currentRuleset) {
      const l = rulesetDest.get(currentRuleset) ?? [];
      l.push(d);
      rulesetDest.set(currentRuleset, l);
    } else cfg.destinations.push(d);
  };
  let braceDepth = 0;
  let rulesetDepth = -1;

  for (const f of files) {
    const lines = stripBlockComments(f.text).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const n = i + 1;
      const raw = lines[i]!;
      const trimmed = raw.trim();
      // A commented-out UDP line is the most common cause: remember it for the fix.
      const com = /^#+\s*(\$ModLoad\s+imudp|\$UDPServerRun\s+\d+|\$InputUDPServerRun\s+\d+|module\s*\(\s*load\s*=\s*"imudp"|input\s*\(\s*type\s*=\s*"imudp")/i.exec(trimmed);
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
      if ((m = /^\$(?:Input)?UDPServerRun\s+(\d+)/i.exec(l))) {
        const run: { from: string; line: number; text: string; port: number; address?: string } = { from: f.from, line: n, text: l, port: Number(m[1]) };
        if (udpAddress) run.address = udpAddress;
        legacyRuns.push(run);
        continue;
      }
      if ((m = /^\$AllowedSender\s+UDP\s*,\s*(.*)$/i.exec(l))) {
        cfg.allowedSenders.push({ spec: m[1]!.split(',').map(s => s.trim()).filter(Boolean), from: f.from, line: n });
        continue;
      }
      if ((m = /^\$RuleSet\s+(\S+)/i.exec(l))) {
        currentRuleset = m[1] === 'RSYSLOG_DefaultRuleset' ? undefined : m[1]!;
        continue;
      }
      if (l.startsWith('$')) continue;
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
        }
        continue;
      }
      if (l.startsWith('}')) {
        braceDepth = Math.max(0, braceDepth - 1);
        if (braceDepth === rulesetDepth) {
          currentRuleset = undefined;
          rulesetDepth = -1;
        }
        continue;
      }
      if (l.endsWith('{')) braceDepth++;
      // Property filter `:fromhost-ip, isequal, "10.0.0.2" /var/log/x` and `if ... then /var/log/x`.
      if ((m = /^:([\w-]+)\s*,\s*!?(\w+)\s*,\s*"([^"]*)"\s+(\S.*)$/.exec(l))) {
        const d = legacyAction(m[4]!, '*.*', f.from, n);
        if (d) pushDest({ ...d, selector: `:${m[1]}, ${m[2]}, "${m[3]}"`, netconsole: 'maybe' });
        continue;
      }
      if ((m = /^if\s+(.*?)\s+then\s+(.*)$/i.exec(l))) {
        const act = m[2]!.trim();
        const pm = /action\s*\((.*)\)/i.exec(act);
        if (pm) {
          const p = rsParams(pm[1]!);
          if (p.file) pushDest({ file: p.file[0]!, selector: `if ${m[1]}`, from: f.from, line: n, netconsole: 'maybe' });
        } else {
          const d = legacyAction(act, '*.*', f.from, n);
          if (d) pushDest({ ...d, selector: `if ${m[1]}`, netconsole: 'maybe' });
        }
        continue;
      }
      // Legacy selector line: `facility.priority[;...]   action`.
      if ((m = /^([\w*,.;=!]+\.[\w*!=]+(?:;[\w*,.;=!]+)*)\s+(\S.*)$/.exec(l))) {
        // `*.* action(type="omfile" file="...")` or `*.* /var/log/x`
        const am = /^action\s*\((.*)\)/i.exec(m[2]!);
        if (am) {
          const p = rsParams(am[1]!);
          if ((p.type?.[0] ?? '').toLowerCase() === 'omfile' && (p.file || p.dynafile)) {
            pushDest({ file: p.file?.[0] ?? `dynaFile ${p.dynafile![0]}`, selector: m[1]!, from: f.from, line: n, netconsole: selectorMatches(m[1]!, NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY) });
          }
        } else {
          const d = legacyAction(m[2]!, m[1]!, f.from, n);
          if (d) pushDest(d);
        }
      }
    }
  }

  for (const r of legacyRuns) {
    if (!imudpLoaded) {
      cfg.disabledUdp.push({ from: r.from, line: r.line, text: r.text, why: '$UDPServerRun without $ModLoad imudp has no effect' });
      continue;
    }
    const input: UdpInput = { port: r.port, from: r.from, line: r.line, text: r.text };
    if (r.address) input.address = r.address;
    cfg.udpInputs.push(input);
  }
  for (const { input } of pendingInputs) {
    if (!imudpLoaded) {
      cfg.disabledUdp.push({ from: input.from, line: input.line, text: input.text, why: 'input(type="imudp") without module(load="imudp") is refused by rsyslog' });
      continue;
    }
    cfg.udpInputs.push(input);
  }
  // Messages from an input bound to a ruleset go only to that ruleset's actions.
  const bound = cfg.udpInputs.map(i => i.ruleset).filter((x): x is string => !!x);
  for (const rs of new Set(bound)) for (const d of rulesetDest.get(rs) ?? []) cfg.destinations.push({ ...d, selector: `ruleset ${rs}: ${d.selector}` });
  if (cfg.udpInputs.length && cfg.udpInputs.every(i => i.ruleset)) cfg.destinations = cfg.destinations.filter(d => d.selector.startsWith('ruleset '));
  return cfg;
}

// ---- sysklogd ----------------------------------------------------------------------------------

export interface SysklogdOptions {
  options: string;
  from: string;
  line: number;
  remote: boolean;
}

/** SYSLOGD_OPTIONS (/etc/sysconfig/syslog) or SYSLOGD (/etc/default/syslogd): is `-r` there? */
export function parseSysklogdOptions(fact: FactText): SysklogdOptions | undefined {
  const lines = fact.text.split('\n');
  let found: SysklogdOptions | undefined;
  lines.forEach((raw, i) => {
    const m = /^\s*(?:export\s+)?(SYSLOGD_OPTIONS|SYSLOGD)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))/.exec(raw);
    if (!m) return;
    const opts = m[2] ?? m[3] ?? m[4] ?? '';
    found = { options: opts, from: fact.from, line: i + 1, remote: hasFlag(opts, 'r') };
  });
  return found;
}

function hasFlag(opts: string, flag: string): boolean {
  const withArg = new Set(['a', 'f', 'l', 'm', 'p', 's', 'b', 'O', 'R']);
  const words = opts.split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('-') || w === '-') continue;
    for (let j = 1; j < w.length; j++) {
      const c = w[j]!;
      if (c === flag) return true;
      if (withArg.has(c)) {
        if (j === w.length - 1) i++; // the argument is the next word
        break;
      }
    }
  }
  return false;
}

/** /etc/syslog.conf (sysklogd): its file destinations. */
export function parseSyslogConf(fact: FactText): LogDestination[] {
  const out: LogDestination[] = [];
  const lines = fact.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    const start = i + 1;
    while (l.endsWith('\\') && i + 1 < lines.length) l = l.slice(0, -1) + lines[++i]!;
    l = stripComment(l).trim();
    const m = /^(\S+)\s+(\S.*)$/.exec(l);
    if (!m || !m[1]!.includes('.')) continue;
    const d = legacyAction(m[2]!, m[1]!, fact.from, start);
    if (d) out.push(d);
  }
  return out;
}

export function sysklogdConfig(opts: SysklogdOptions | undefined, conf: FactText | undefined): SyslogConfig {
  const cfg: SyslogConfig = { daemon: 'sysklogd', udpInputs: [], disabledUdp: [], destinations: [], allowedSenders: [], warnings: [] };
  if (opts) {
    if (opts.remote) cfg.udpInputs.push({ port: 514, from: opts.from, line: opts.line, text: `${opts.options}` });
    else cfg.disabledUdp.push({ from: opts.from, line: opts.line, text: opts.options, why: 'no -r: sysklogd does not open UDP 514' });
  }
  if (conf) cfg.destinations = parseSyslogConf(conf);
  return cfg;
}

// ---- syslog-ng --------------------------------------------------------------------------------

interface NgBlock {
  kind: 'source' | 'destination' | 'log' | 'filter';
  name?: string;
  body: string;
  from: string;
  line: number;
}

function ngBlocks(f: FactText): NgBlock[] {
  const text = f.text.replace(/(^|[^"\\])#.*$/gm, '$1');
  const out: NgBlock[] = [];
  const re = /\b(source|destination|log|filter)\s*(\w+)?\s*\{/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    let depth = 1;
    let j = re.lastIndex;
    let q = false;
    while (j < text.length && depth > 0) {
      const c = text[j]!;
      if (c === '"' && text[j - 1] !== '\\') q = !q;
      else if (!q && c === '{') depth++;
      else if (!q && c === '}') depth--;
      j++;
    }
    const line = text.slice(0, m.index).split('\n').length;
    const b: NgBlock = { kind: m[1] as NgBlock['kind'], body: text.slice(re.lastIndex, j - 1), from: f.from, line };
    if (m[2]) b.name = m[2];
    out.push(b);
    if (m[1] !== 'log') re.lastIndex = j;
  }
  return out;
}

function ngOpt(body: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}\\s*\\(\\s*"?([^")]*)"?\\s*\\)`).exec(body);
  return m ? m[1]!.trim() : undefined;
}

/** The driver calls (`udp(...)`) at the top level of a block body, with their argument text. */
function ngDrivers(body: string): Array<{ name: string; args: string; offset: number }> {
  const out: Array<{ name: string; args: string; offset: number }> = [];
  const re = /\b([a-z][\w-]*)\s*\(/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    let depth = 1;
    let j = re.lastIndex;
    while (j < body.length && depth > 0) {
      if (body[j] === '(') depth++;
      else if (body[j] === ')') depth--;
      j++;
    }
    out.push({ name: m[1]!, args: body.slice(re.lastIndex, j - 1), offset: m.index });
    re.lastIndex = j;
  }
  return out;
}

export function parseSyslogNg(files: FactText[]): SyslogConfig {
  const cfg: SyslogConfig = { daemon: 'syslog-ng', udpInputs: [], disabledUdp: [], destinations: [], allowedSenders: [], warnings: [] };
  const blocks = files.flatMap(ngBlocks);
  const udpSources = new Set<string>();
  for (const b of blocks.filter(x => x.kind === 'source')) {
    for (const d of ngDrivers(b.body)) {
      const transport = (ngOpt(d.args, 'transport') ?? '').toLowerCase();
      let port: number | undefined;
      if (d.name === 'udp' || d.name === 'udp6') port = Number(ngOpt(d.args, 'port') ?? ngOpt(d.args, 'localport') ?? 514);
      else if (d.name === 'network' && transport === 'udp') port = Number(ngOpt(d.args, 'port') ?? 514);
      else if (d.name === 'syslog' && transport === 'udp') port = Number(ngOpt(d.args, 'port') ?? 514);
      if (port === undefined) continue;
      const line = b.line + b.body.slice(0, d.offset).split('\n').length - 1;
      const input: UdpInput = { port, from: b.from, line, text: `${d.name}(${d.args.trim().replace(/\s+/g, ' ')})` };
      const ip = ngOpt(d.args, 'ip') ?? ngOpt(d.args, 'localip');
      if (ip && ip !== '0.0.0.0' && ip !== '::') input.address = ip;
      if (b.name) {
        input.source = b.name;
        udpSources.add(b.name);
      }
      cfg.udpInputs.push(input);
    }
  }
  const dests = new Map<string, { files: string[]; block: NgBlock }>();
  for (const b of blocks.filter(x => x.kind === 'destination' && x.name)) {
    const files = ngDrivers(b.body)
      .filter(d => d.name === 'file')
      .map(d => /^\s*"([^"]+)"/.exec(d.args)?.[1] ?? d.args.trim());
    dests.set(b.name!, { files, block: b });
  }
  for (const b of blocks.filter(x => x.kind === 'log')) {
    const srcs = [...b.body.matchAll(/\bsource\s*\(\s*(\w+)\s*\)/g)].map(m => m[1]!);
    if (!srcs.some(s => udpSources.has(s))) continue;
    const filtered = /\bfilter\s*\(/.test(b.body);
    for (const dm of b.body.matchAll(/\bdestination\s*\(\s*(\w+)\s*\)/g)) {
      const d = dests.get(dm[1]!);
      for (const file of d?.files ?? []) cfg.destinations.push({ file, selector: `log { source(${srcs.join(', ')}) ... destination(${dm[1]}) }`, from: b.from, line: b.line, netconsole: filtered ? 'maybe' : true });
    }
  }
  return cfg;
}
