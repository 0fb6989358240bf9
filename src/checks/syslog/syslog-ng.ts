/**
 * syslog-ng: `udp()`, `network(transport("udp"))` and `syslog(transport("udp"))` sources, across
 * `@include`d files, and the files of the log paths that use them. Pure.
 */
import type { FactText } from '../host/facts.js';
import { ipFamily } from '../../config/netconsole-spec.js';
import { takeAnd, takeNot, takeOr } from './selectors.js';
import { ALL_LINE_FORMS, type LineForm } from './line-forms.js';
import { ngFilterExpr, ngLevel, ngMessage, type NgMessage, type Take } from './syslog-ng-filter.js';
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
  kind: 'source' | 'destination' | 'log' | 'filter' | 'parser' | 'rewrite';
  name?: string;
  body: string;
  from: string;
  line: number;
}

/** A glob of `@include` (relative ones under the main file's directory) over a whole path. */
const includeRe = (glob: string) => {
  const body = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(glob.startsWith('/') ? `^${body}$` : `(^|/)${body}$`);
};

/**
 * The top-level blocks of every file in the order syslog-ng reads them: an `@include` reads the
 * files it names where it stands (a log path in an included file comes before the main file's
 * paths after the `@include` line). A block whose `{` has no `}` is an error syslog-ng refuses.
 */
function ngBlocks(files: FactText[], warn: (text: string, fix: string) => void): NgBlock[] {
  const out: NgBlock[] = [];
  const done = new Set<FactText>();
  const visit = (f: FactText) => {
    done.add(f);
    const text = f.text.replace(/(^|[^"\\])#.*$/gm, '$1');
    const lineAt = (i: number) => text.slice(0, i).split('\n').length;
    const re = /\b(source|destination|log|filter|parser|rewrite)\s*(\w+)?\s*\{|^\s*@include\s+"([^"]+)"/gm;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      if (m[3] !== undefined) {
        if (m[3] === 'scl.conf' || m[3].startsWith('scl/')) continue;
        const inc = includeRe(m[3]);
        for (const g of files) if (!done.has(g) && inc.test(g.from)) visit(g);
        continue;
      }
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
      if (depth > 0) {
        const where = `${f.from}:${lineAt(m.index)}`;
        warn(
          `syslog-ng will not start: ${where}: ${m[1]}${m[2] ? ` ${m[2]}` : ''} { has no closing } (syntax error, unexpected end of file)`,
          `In ${where}, close the block with }; (syslog-ng --syntax-only -f FILE says where it fails), then systemctl restart syslog-ng`,
        );
      }
      const b: NgBlock = {
        kind: m[1] as NgBlock['kind'],
        body: text.slice(re.lastIndex, j - 1),
        from: f.from,
        line: lineAt(m.index),
      };
      if (m[2]) b.name = m[2];
      out.push(b);
      re.lastIndex = j;
    }
  };
  for (const f of files) if (!done.has(f)) visit(f);
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

/** The items of a log path's body, in order: `source(x)`, `filter(x)`, `filter { ... }`, `flags(...)`, ... */
function ngLogItems(body: string, line = 1): Array<{ kind: string; ref?: string; inline?: string; line: number }> {
  const out: Array<{ kind: string; ref?: string; inline?: string; line: number }> = [];
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
    const at = line + body.slice(0, m.index).split('\n').length - 1;
    out.push(open === '(' ? { kind: m[1]!, ref: inner.trim(), line: at } : { kind: m[1]!, inline: inner, line: at });
    re.lastIndex = j;
  }
  return out;
}

const ngFiles = (body: string) =>
  ngDrivers(body)
    .filter(d => d.name === 'file')
    .map(d => /^\s*"([^"]+)"/.exec(d.args)?.[1] ?? d.args.trim());

/** Everything one walk of the log paths needs: the named blocks, and where the results go. */
interface NgWalk {
  cfg: SyslogConfig;
  dests: Map<string, { files: string[]; other: boolean }>;
  blocks: Map<string, NgBlock>;
  /** Where netconsole's messages are discarded before this path, if they are. */
  discardedBy?: { from: string; line: number; text: string };
  where: { from: string; line: number };
  srcs: string[];
  /** Files whose way goes through a text filter: path, file. */
  byText: Array<{ path: string; file: string; filters: string[] }>;
}

const flagsOf = (items: ReturnType<typeof ngLogItems>) =>
  items
    .filter(x => x.kind === 'flags')
    .map(x => x.ref ?? '')
    .join(',');

/**
 * A parser or rewrite, as it changes netconsole's message for the filters after it: returns whether
 * the message goes on. Walked: `kv-parser()`, `csv-parser()` and `syslog-parser()` let any line through
 * (`syslog-parser()` parses it again: its text and program change), `json-parser()` drops a line that
 * is not JSON (a kernel line, unless one is); `set-facility()`, `set-severity()`, `set(... value())` set
 * what later filters test.
 */
function ngTransform(kind: string, body: string, msg: NgMessage): Take {
  let go: Take = true;
  for (const d of ngDrivers(body)) {
    // A rewrite with condition() may or may not run: what it sets is not known.
    const lit = /\bcondition\s*\(/.test(d.args) ? null : /^\s*"([^"$]*)"|^\s*'([^'$]*)'|^\s*([\w.-]+)\s*$/.exec(d.args);
    const value = lit ? (lit[1] ?? lit[2] ?? lit[3]!) : undefined;
    if (kind === 'rewrite' && (d.name === 'set-facility' || d.name === 'set_facility'))
      msg.facility = value !== undefined && !/^\d+$/.test(value) ? value.toLowerCase() : undefined;
    else if (kind === 'rewrite' && /^set[-_](severity|level)$/.test(d.name)) {
      const l = value === undefined ? -1 : ngLevel(value.toLowerCase());
      msg.level = l >= 0 ? l : undefined;
    } else if (kind === 'rewrite' && (d.name === 'set' || d.name === 'subst')) {
      const name = /\bvalue\s*\(\s*["']?([\w.$]+)["']?\s*\)/.exec(d.args)?.[1]?.toUpperCase();
      if (!name) msg.textUnknown = true;
      else msg.set.set(name, d.name === 'set' && lit ? (lit[1] ?? lit[2]) : undefined);
    } else if (
      kind === 'parser' &&
      (d.name === 'kv-parser' || d.name === 'csv-parser') &&
      !/drop[-_]invalid/.test(d.args)
    ) {
      /* new name-value pairs only */
    } else if (kind === 'parser' && d.name === 'syslog-parser') msg.textUnknown = true;
    else {
      msg.textUnknown = true;
      if (kind === 'parser') go = 'maybe';
      else {
        msg.facility = undefined;
        msg.level = undefined;
      }
    }
  }
  return go;
}

const cloneMsg = (m: NgMessage): NgMessage => ({ ...m, set: new Map(m.set), byText: [...m.byText] });

/**
 * Walks a log path's items (or a junction's channel) with netconsole's messages coming in as `take`:
 * records the files on the way, and returns whether they come out at its end. Embedded `log {}`
 * paths are siblings (a `flags(final)` one ends the way of those after it, walked); a `junction`
 * lets out what any of its channels lets out (walked).
 */
function walkItems(items: ReturnType<typeof ngLogItems>, take: Take, msg: NgMessage, w: NgWalk): Take {
  for (let i = 0; i < items.length; i++) {
    const x = items[i]!;
    if (x.kind === 'filter') take = takeAnd(take, ngFilterExpr(x.inline ?? `filter(${x.ref})`, msg));
    else if (x.kind === 'parser' || x.kind === 'rewrite') {
      const body = x.inline ?? w.blocks.get(`${x.kind} ${x.ref}`)?.body;
      take = takeAnd(take, body === undefined ? 'maybe' : ngTransform(x.kind, body, msg));
    } else if (x.kind === 'destination') {
      const d =
        x.inline !== undefined
          ? { files: ngFiles(x.inline), other: ngDrivers(x.inline).some(v => v.name !== 'file') }
          : w.dests.get(x.ref ?? '');
      if (!d || d.other) w.cfg.otherOutputs ||= take !== false;
      for (const file of d?.files ?? []) {
        const dest: LogDestination = {
          file,
          selector: `log { source(${w.srcs.join(', ')}) ... ${x.inline !== undefined ? `destination { ${x.inline.trim().replace(/\s+/g, ' ')} }` : `destination(${x.ref})`} }`,
          from: w.where.from,
          line: x.line,
          netconsole: take,
        };
        if (w.discardedBy) dest.discardedBy = w.discardedBy;
        w.cfg.destinations.push(dest);
        if (take === 'maybe' && msg.byText.length)
          w.byText.push({ path: `${w.where.from}:${w.where.line}`, file, filters: [...msg.byText] });
      }
    } else if (x.kind === 'log') {
      // The embedded paths that follow one another are siblings.
      const group: Array<ReturnType<typeof ngLogItems>> = [];
      for (; items[i]?.kind === 'log'; i++) group.push(ngLogItems(items[i]!.inline ?? '', items[i]!.line));
      i--;
      take = walkSiblings(group, take, msg, w);
    } else if (x.kind === 'if' || x.kind === 'elif') {
      // Not walked: the branch taken is not judged, what is in it (read in line) may or may not run.
      take = takeAnd(take, 'maybe');
    } else if (x.kind === 'else' && x.inline !== undefined) {
      take = takeAnd(take, 'maybe');
      walkItems(ngLogItems(x.inline, x.line), take, cloneMsg(msg), w);
    } else if (x.kind === 'junction') {
      const channels = ngLogItems(x.inline ?? '', x.line).filter(c => c.kind === 'channel');
      let out: Take = false;
      for (const c of channels)
        out = takeOr(out, walkItems(ngLogItems(c.inline ?? '', c.line), take, cloneMsg(msg), w));
      take = channels.length ? out : take;
    }
  }
  return take;
}

/** Log paths one after another (top level, or embedded in one): `flags(final)` and `flags(fallback)`. */
function walkSiblings(paths: Array<ReturnType<typeof ngLogItems>>, take: Take, msg: NgMessage, w: NgWalk): Take {
  let alive = take;
  let tookAny: Take = false;
  let out: Take = false;
  const isFallback = (p: ReturnType<typeof ngLogItems>) => /\bfallback\b/.test(flagsOf(p));
  for (const p of [...paths.filter(x => !isFallback(x)), ...paths.filter(isFallback)]) {
    const flags = flagsOf(p);
    const incoming = isFallback(p) ? takeAnd(alive, takeNot(tookAny)) : alive;
    const reach = walkItems(p, incoming, cloneMsg(msg), w);
    out = takeOr(out, reach);
    if (!isFallback(p)) tookAny = takeOr(tookAny, reach);
    if (/\bfinal\b/.test(flags)) alive = takeAnd(alive, takeNot(reach));
  }
  return out;
}

/**
 * `senderIp`: the netconsole sender's address, to judge host() and netmask() filters; without it
 * they are 'maybe'. `forms`: the forms the sender's lines take (line-forms.ts), for text filters;
 * every form when not known.
 */
export function parseSyslogNg(
  files: FactText[],
  senderIp?: string,
  forms: readonly LineForm[] = ALL_LINE_FORMS,
): SyslogConfig {
  const cfg: SyslogConfig = {
    daemon: 'syslog-ng',
    udpInputs: [],
    disabledUdp: [],
    destinations: [],
    allowedSenders: [],
    warnings: [],
    otherOutputs: false,
  };
  const warn = (text: string, fix: string) => {
    cfg.warnings.push(text);
    (cfg.warningFixes ??= new Map()).set(text, fix);
  };
  const blocks = ngBlocks(files, warn);
  const udpSources = new Map<string, { noParse: boolean }>();
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
        udpSources.set(b.name, { noParse: /\bflags\s*\([^)]*no[-_]parse/.test(d.args) });
      }
      cfg.udpInputs.push(input);
    }
  }
  const named = new Map(blocks.filter(x => x.name).map(x => [`${x.kind} ${x.name}`, x]));
  const dests = new Map<string, { files: string[]; other: boolean }>();
  for (const b of blocks.filter(x => x.kind === 'destination' && x.name)) {
    const drivers = ngDrivers(b.body);
    dests.set(b.name!, { files: ngFiles(b.body), other: drivers.some(d => d.name !== 'file') });
  }
  const options = files.flatMap(f => [...f.text.matchAll(/\boptions\s*\{([^}]*)\}/g)].map(m => m[1]!)).join(' ');
  const filters = new Map(blocks.filter(x => x.kind === 'filter' && x.name).map(x => [x.name!, x.body]));
  // What syslog-ng refuses to start with: a reference to a block no file defines.
  const paths = blocks.filter(x => x.kind === 'log');
  for (const b of paths)
    for (const m of b.body.matchAll(/\b(source|destination|filter|parser|rewrite)\s*\(\s*([\w-]+)\s*\)/g))
      if (!named.has(`${m[1]} ${m[2]}`) && !(m[1] === 'filter' && filters.has(m[2]!))) {
        const where = `${b.from}:${b.line + b.body.slice(0, m.index).split('\n').length - 1}`;
        warn(
          `syslog-ng will not start: ${where}: ${m[1]}(${m[2]}) names no ${m[1]} in the files read (syslog-ng: Error resolving reference; content='${m[1]}', name='${m[2]}')`,
          `Define ${m[1]} ${m[2]} { ... }; or take ${m[1]}(${m[2]}) out of the log path at ${where}, check with syslog-ng --syntax-only, then systemctl restart syslog-ng`,
        );
      }
  // Log paths in order; a flags(final) path that takes netconsole's messages ends their way.
  let alive: Take = true;
  let by: NgWalk['discardedBy'];
  let tookAny: Take = false;
  const byText: NgWalk['byText'] = [];
  const isFallback = (b: NgBlock) => /\bfallback\b/.test(flagsOf(ngLogItems(b.body)));
  for (const b of [...paths.filter(p => !isFallback(p)), ...paths.filter(isFallback)]) {
    const items = ngLogItems(b.body, b.line);
    const srcs = items.filter(x => x.kind === 'source' && x.ref !== undefined).map(x => x.ref!);
    const flags = flagsOf(items);
    const udp = srcs.filter(s => udpSources.has(s));
    if (!udp.length && !/\bcatchall\b/.test(flags)) continue;
    const msg = ngMessage(senderIp, /\buse[-_]dns\s*\(\s*(no|off|0)\s*\)/i.test(options), filters, forms);
    msg.noParse = udp.length > 0 && udp.every(s => udpSources.get(s)!.noParse);
    const where = { from: b.from, line: b.line };
    const w: NgWalk = { cfg, dests, blocks: named, where, srcs, byText };
    if (alive === false && by) w.discardedBy = by;
    const incoming = /\bfallback\b/.test(flags) ? takeAnd(alive, takeNot(tookAny)) : alive;
    const reach = walkItems(items, incoming, msg, w);
    if (!/\bfallback\b/.test(flags)) tookAny = takeOr(tookAny, reach);
    if (/\bfinal\b/.test(flags) && reach !== false) {
      by ??= { ...where, text: `log { source(${srcs.join(', ')}) ... flags(${flags.trim()}) }` };
      alive = takeAnd(alive, takeNot(reach));
    }
  }
  // No file certainly gets them, and a text filter decides which lines reach one: say which part of the line it tests.
  if (!cfg.destinations.some(d => d.netconsole === true))
    for (const t of byText)
      warn(
        `${t.path}: only the lines ${t.filters.join(', ')} selects reach ${t.file}, whatever else the kernel sends: syslog-ng files netconsole's lines as user.notice without a program (plain, with printk timestamps), with the first word as $PROGRAM (plain, without), or "6,SEQ,USEC,-;" and the first word (extended)`,
        `Select them by their sender, not their text: put ${netconsolePath(cfg, senderIp)} before the other log paths, then restart syslog-ng`,
      );
  return cfg;
}

/** A first log path that writes every message of the sender (netconsole's) to its own file. */
function netconsolePath(cfg: SyslogConfig, senderIp: string | undefined): string {
  const src = cfg.udpInputs.find(i => i.source)?.source ?? 's_net';
  const net = senderIp ? `${senderIp}/${ipFamily(senderIp) === 6 ? 128 : 32}` : 'SENDER_IP/32';
  return `log { source(${src}); filter { netmask(${net}); }; destination { file("/var/log/netconsole.log"); }; flags(final); };`;
}

export const syslogNg: SyslogDaemon = {
  name: 'syslog-ng',
  mainConfig: { path: '/etc/syslog-ng/syslog-ng.conf', includes: syslogNgIncludes, relativeTo: '/etc/syslog-ng' },
  ownsConfigPath: path => /syslog-ng/.test(path),
  // Its @version line (syslog-ng warns without one), or a named source, destination or log block.
  ownsConfigText: text => /^\s*@version\s*:/m.test(text) || /^\s*(source|destination)\s+\w+\s*\{/m.test(text),
  ownsProcess: /syslog-ng/,
  parse: (files, ctx) => (files.length ? parseSyslogNg(files, ctx?.senderIp, ctx?.forms) : undefined),
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
      const path = netconsolePath(cfg, senderIp);
      return discard
        ? `Write them before the discard: put ${path} before ${discard} (or make that log path leave ${senderIp ?? 'the sender'} out), then restart syslog-ng`
        : `Select them by their source, not by kernel facility or level (syslog-ng files them as user.notice): put ${path} before the other log paths, then restart syslog-ng`;
    },
  },
  service: 'syslog-ng',
  syntaxCheck: 'syslog-ng --syntax-only',
};
