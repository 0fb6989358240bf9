/**
 * syslog-ng: `udp()`, `network(transport("udp"))` and `syslog(transport("udp"))` sources, across
 * `@include`d files, and the files of the log paths that use them. Pure.
 */
import type { FactText } from '../host/facts.js';
import { inNetwork } from '../firewall/address.js';
import { ipFamily } from '../../config/netconsole-spec.js';
import { NETCONSOLE_FACILITY, NETCONSOLE_SEVERITY, takeAnd, takeNot, takeOr } from './selectors.js';
import type { LogDestination, SyslogConfig, SyslogDaemon, UdpInput } from './types.js';

export function syslogNgIncludes(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*@include\s+"([^"]+)"/.exec(raw);
    if (m && m[1] !== 'scl.conf' && !m[1]!.startsWith('scl/')) out.push(m[1]!);
  }
  return out;
}

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

type Take = boolean | 'maybe';

const NG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
const NG_LEVEL_ALIAS: Record<string, string> = { panic: 'emerg', error: 'err', warn: 'warning' };
const ngLevel = (s: string) => NG_LEVELS.indexOf(NG_LEVEL_ALIAS[s] ?? s);

/** What a message from netconsole is to syslog-ng's filters: no <PRI>, so user.notice, and the sender's address. */
interface NgMessage {
  senderIp?: string;
  /** `use_dns(no)`: $HOST is the sender's address, as written, for host(). */
  hostIsIp: boolean;
  filters: Map<string, string>;
}

/** One filter function: facility(), level() / priority(), host(), netmask(), filter(); 'maybe' for the rest. */
function ngFilterCall(name: string, args: string, msg: NgMessage, depth: number): Take {
  const items = args
    .split(/[\s,]+/)
    .map(x => x.replace(/^"|"$/g, '').toLowerCase())
    .filter(Boolean);
  switch (name) {
    case 'facility':
      if (items.some(x => x === NETCONSOLE_FACILITY || x === '1')) return true;
      return items.some(x => x.includes('..')) ? 'maybe' : false;
    case 'level':
    case 'priority': {
      let take: Take = false;
      for (const x of items) {
        const [a, b = a] = x.split('..') as [string, string?];
        const lo = ngLevel(a);
        const hi = ngLevel(b);
        if (lo < 0 || hi < 0) take = 'maybe';
        else if (NETCONSOLE_SEVERITY >= Math.min(lo, hi) && NETCONSOLE_SEVERITY <= Math.max(lo, hi)) return true;
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
      if (pattern === undefined || !msg.senderIp) return 'maybe';
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
    default:
      return 'maybe';
  }
}

/** A filter expression (`facility(kern) and not level(debug)`), judged for netconsole's messages. */
function ngFilterExpr(expr: string, msg: NgMessage, depth = 0): Take {
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

/** The items of a log path's body, in order: `source(x)`, `filter(x)`, `filter { ... }`, `flags(...)`, ... */
function ngLogItems(body: string): Array<{ kind: string; ref?: string; inline?: string }> {
  const out: Array<{ kind: string; ref?: string; inline?: string }> = [];
  const re = /\b([a-z][\w-]*)\s*([({])/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    const open = m[2]!;
    const close = open === '(' ? ')' : '}';
    let d = 1;
    let j = re.lastIndex;
    let q = false;
    while (j < body.length && d > 0) {
      const c = body[j]!;
      if (c === '"' && body[j - 1] !== '\\') q = !q;
      else if (!q && c === open) d++;
      else if (!q && c === close) d--;
      j++;
    }
    const inner = body.slice(re.lastIndex, j - 1);
    out.push(open === '(' ? { kind: m[1]!, ref: inner.trim() } : { kind: m[1]!, inline: inner });
    re.lastIndex = j;
  }
  return out;
}

const ngFiles = (body: string) =>
  ngDrivers(body)
    .filter(d => d.name === 'file')
    .map(d => /^\s*"([^"]+)"/.exec(d.args)?.[1] ?? d.args.trim());

/**
 * `senderIp`: the netconsole sender's address, to judge host() and netmask() filters; without it
 * they are 'maybe'.
 */
export function parseSyslogNg(files: FactText[], senderIp?: string): SyslogConfig {
  const cfg: SyslogConfig = {
    daemon: 'syslog-ng',
    udpInputs: [],
    disabledUdp: [],
    destinations: [],
    allowedSenders: [],
    warnings: [],
    otherOutputs: false,
  };
  const blocks = files.flatMap(ngBlocks);
  const udpSources = new Set<string>();
  for (const b of blocks.filter(x => x.kind === 'source')) {
    for (const d of ngDrivers(b.body)) {
      const transport = (ngOpt(d.args, 'transport') ?? '').toLowerCase();
      let port: number | undefined;
      if (d.name === 'udp' || d.name === 'udp6')
        port = Number(ngOpt(d.args, 'port') ?? ngOpt(d.args, 'localport') ?? 514);
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
  const dests = new Map<string, { files: string[]; other: boolean }>();
  for (const b of blocks.filter(x => x.kind === 'destination' && x.name)) {
    const drivers = ngDrivers(b.body);
    dests.set(b.name!, { files: ngFiles(b.body), other: drivers.some(d => d.name !== 'file') });
  }
  const options = files.flatMap(f => [...f.text.matchAll(/\boptions\s*\{([^}]*)\}/g)].map(m => m[1]!)).join(' ');
  const msg: NgMessage = {
    hostIsIp: /\buse[-_]dns\s*\(\s*(no|off|0)\s*\)/i.test(options),
    filters: new Map(blocks.filter(x => x.kind === 'filter' && x.name).map(x => [x.name!, x.body])),
  };
  if (senderIp) msg.senderIp = senderIp;
  // Log paths in order; a flags(final) path that takes netconsole's messages ends their way.
  let alive: { take: Take; by?: { from: string; line: number; text: string } } = { take: true };
  const paths = blocks.filter(x => x.kind === 'log');
  // flags(fallback) paths see only what no other path took: judged after the others.
  const isFallback = (b: NgBlock) =>
    ngLogItems(b.body).some(x => x.kind === 'flags' && /\bfallback\b/.test(x.ref ?? ''));
  let tookAny: Take = false;
  for (const b of [...paths.filter(p => !isFallback(p)), ...paths.filter(isFallback)]) {
    const items = ngLogItems(b.body);
    const srcs = items.filter(x => x.kind === 'source' && x.ref !== undefined).map(x => x.ref!);
    const flags = items
      .filter(x => x.kind === 'flags')
      .map(x => x.ref ?? '')
      .join(',');
    if (!srcs.some(s => udpSources.has(s)) && !/\bcatchall\b/.test(flags)) continue;
    let take: Take = true;
    for (const x of items) {
      if (x.kind === 'filter') take = takeAnd(take, ngFilterExpr(x.inline ?? `filter(${x.ref})`, msg));
      else if (x.kind === 'log' || x.kind === 'junction' || x.kind === 'parser' || x.kind === 'rewrite')
        take = takeAnd(take, 'maybe');
    }
    if (/\bfallback\b/.test(flags)) take = takeAnd(take, takeNot(tookAny));
    const reach = takeAnd(alive.take, take);
    const where = { from: b.from, line: b.line };
    for (const x of items.filter(i => i.kind === 'destination')) {
      const d =
        x.inline !== undefined
          ? { files: ngFiles(x.inline), other: ngDrivers(x.inline).some(v => v.name !== 'file') }
          : dests.get(x.ref ?? '');
      if (!d || d.other) cfg.otherOutputs ||= reach !== false;
      for (const file of d?.files ?? []) {
        const dest: LogDestination = {
          file,
          selector: `log { source(${srcs.join(', ')}) ... destination(${x.ref ?? '{ ... }'}) }`,
          ...where,
          netconsole: reach,
        };
        if (alive.take === false && alive.by) dest.discardedBy = alive.by;
        cfg.destinations.push(dest);
      }
    }
    if (!/\bfallback\b/.test(flags)) tookAny = takeOr(tookAny, reach);
    if (/\bfinal\b/.test(flags) && take !== false)
      alive = {
        take: takeAnd(alive.take, takeNot(take)),
        by: alive.by ?? { ...where, text: `log { source(${srcs.join(', ')}) ... flags(${flags.trim()}) }` },
      };
  }
  return cfg;
}

export const syslogNg: SyslogDaemon = {
  name: 'syslog-ng',
  mainConfig: { path: '/etc/syslog-ng/syslog-ng.conf', includes: syslogNgIncludes, relativeTo: '/etc/syslog-ng' },
  ownsConfigPath: path => /syslog-ng/.test(path),
  // Its @version line (syslog-ng warns without one), or a named source, destination or log block.
  ownsConfigText: text => /^\s*@version\s*:/m.test(text) || /^\s*(source|destination)\s+\w+\s*\{/m.test(text),
  ownsProcess: /syslog-ng/,
  parse: (files, ctx) => (files.length ? parseSyslogNg(files, ctx?.senderIp) : undefined),
  portFix: (i, port) => {
    const args = i.text.slice(i.text.indexOf('(') + 1, -1);
    const moved = /\b(local)?port\s*\([^)]*\)/.test(args)
      ? args.replace(/\b(local)?port\s*\([^)]*\)/, `port(${port})`)
      : `${args}${args.trim() ? ' ' : ''}port(${port})`;
    return `Make the ports agree: in ${i.from}:${i.line}, ${i.text.slice(0, i.text.indexOf('('))}(${moved}), then systemctl restart syslog-ng (or send to ${i.port}: netconsole=...,${i.port}@..., SYSLOGPORT=${i.port})`;
  },
  listenAnywhereFix: i =>
    `In ${i.from}:${i.line}, listen on every address: udp(ip(0.0.0.0) port(${i.port})), then systemctl restart syslog-ng`,
  enableUdpFix: port =>
    `Add a source: source s_net { udp(ip(0.0.0.0) port(${port})); }; and a log path using it; restart syslog-ng`,
  filtered: {
    discard: 'flags(final)',
    fix: (cfg, senderIp, discard) => {
      const src = cfg.udpInputs.find(i => i.source)?.source ?? 's_net';
      const path = `log { source(${src}); filter { netmask(${senderIp ? `${senderIp}/${ipFamily(senderIp) === 6 ? 128 : 32}` : 'SENDER_IP/32'}); }; destination { file("/var/log/netconsole.log"); }; flags(final); };`;
      return discard
        ? `Write them before the discard: put ${path} before ${discard} (or make that log path leave ${senderIp ?? 'the sender'} out), then restart syslog-ng`
        : `Select them by their source, not by kernel facility or level (syslog-ng files them as user.notice): put ${path} before the other log paths, then restart syslog-ng`;
    },
  },
  service: 'syslog-ng',
};
