/**
 * syslog-ng: `udp()`, `network(transport("udp"))` and `syslog(transport("udp"))` sources, across
 * `@include`d files, and the files of the log paths that use them. Pure.
 */
import type { FactText } from '../host/facts.js';
import type { SyslogConfig, SyslogDaemon, UdpInput } from './types.js';

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

export function parseSyslogNg(files: FactText[]): SyslogConfig {
  const cfg: SyslogConfig = {
    daemon: 'syslog-ng',
    udpInputs: [],
    disabledUdp: [],
    destinations: [],
    allowedSenders: [],
    warnings: [],
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
      for (const file of d?.files ?? [])
        cfg.destinations.push({
          file,
          selector: `log { source(${srcs.join(', ')}) ... destination(${dm[1]}) }`,
          from: b.from,
          line: b.line,
          netconsole: filtered ? 'maybe' : true,
        });
    }
  }
  return cfg;
}

export const syslogNg: SyslogDaemon = {
  name: 'syslog-ng',
  mainConfig: { path: '/etc/syslog-ng/syslog-ng.conf', includes: syslogNgIncludes, relativeTo: '/etc/syslog-ng' },
  ownsConfigPath: path => /syslog-ng/.test(path),
  ownsProcess: /syslog-ng/,
  parse: files => (files.length ? parseSyslogNg(files) : undefined),
  listenAnywhereFix: i =>
    `In ${i.from}:${i.line}, listen on every address: udp(ip(0.0.0.0) port(${i.port})), then systemctl restart syslog-ng`,
  enableUdpFix: port =>
    `Add a source: source s_net { udp(ip(0.0.0.0) port(${port})); }; and a log path using it; restart syslog-ng`,
  service: 'syslog-ng',
};
