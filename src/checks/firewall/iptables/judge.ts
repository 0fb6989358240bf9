/**
 * `iptables-save -c` / `ip6tables-save -c` output, and the path a new UDP datagram to a local port
 * takes through it: raw PREROUTING, mangle PREROUTING, nat PREROUTING, mangle INPUT, filter INPUT,
 * security INPUT. User chains, -j/-g, RETURN and policies are followed; -p, -s, -d, -i (with `+`),
 * `!`, --dport/--sport, multiport, state/conntrack, addrtype, iprange, pkttype, comment, fragments
 * are evaluated. Any other match on a rule that could decide makes the verdict "uncertain" with the
 * rule quoted, unless both outcomes give the same verdict. Pure.
 */
import { type Datagram, type FirewallVerdict, type Tri, ifaceMatches, inNetwork, isUnknown, triAnd, triNot, ipv4ToNum } from '../model.js';

export interface IptRule {
  table: string;
  chain: string;
  /** The rule as printed, without counters: `-A INPUT -p udp ... -j DROP`. */
  text: string;
  line: number;
  counters?: { packets: number; bytes: number };
  args: string[];
}

export interface IptChain {
  name: string;
  /** ACCEPT/DROP for built-in chains; undefined (`-`) for user chains. */
  policy?: string;
  counters?: { packets: number; bytes: number };
  line: number;
  rules: IptRule[];
}

export interface IptTable {
  name: string;
  chains: Map<string, IptChain>;
}

export interface IptablesSave {
  tables: Map<string, IptTable>;
  /** `nf_tables` or `legacy` when the header says so. */
  backend?: 'nf_tables' | 'legacy';
  errors: string[];
}

/** Splits a rule line like a shell (iptables-save quotes comments with double quotes). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let any = false;
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === '\\' && q === '"' && i + 1 < s.length) {
        cur += s[++i];
      } else if (c === q) q = null;
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      q = c;
      any = true;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (any) out.push(cur);
      cur = '';
      any = false;
      continue;
    }
    cur += c;
    any = true;
  }
  if (any) out.push(cur);
  return out;
}

export function parseIptablesSave(text: string): IptablesSave {
  const tables = new Map<string, IptTable>();
  const errors: string[] = [];
  let backend: IptablesSave['backend'];
  let table: IptTable | undefined;
  text.split('\n').forEach((raw, idx) => {
    const n = idx + 1;
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      if (/\(nf_tables\)/.test(line)) backend = 'nf_tables';
      else if (/\(legacy\)/.test(line)) backend = 'legacy';
      return;
    }
    if (line.startsWith('*')) {
      const name = line.slice(1);
      table = tables.get(name) ?? { name, chains: new Map() };
      tables.set(name, table);
      return;
    }
    if (line === 'COMMIT') {
      table = undefined;
      return;
    }
    if (!table) {
      errors.push(`line ${n}: outside a table: ${JSON.stringify(line.slice(0, 60))}`);
      return;
    }
    let m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?/.exec(line);
    if (m) {
      const c: IptChain = { name: m[1]!, line: n, rules: [] };
      if (m[2] !== '-') c.policy = m[2]!;
      if (m[3] !== undefined) c.counters = { packets: Number(m[3]), bytes: Number(m[4]) };
      table.chains.set(c.name, c);
      return;
    }
    m = /^(?:\[(\d+):(\d+)\]\s+)?(-A\s+(\S+)(.*))$/.exec(line);
    if (m) {
      const chainName = m[4]!;
      let chain = table.chains.get(chainName);
      if (!chain) {
        chain = { name: chainName, line: n, rules: [] };
        table.chains.set(chainName, chain);
      }
      const rule: IptRule = { table: table.name, chain: chainName, text: m[3]!.trim(), line: n, args: splitArgs(m[5]!.trim()) };
      if (m[1] !== undefined) rule.counters = { packets: Number(m[1]), bytes: Number(m[2]) };
      chain.rules.push(rule);
      return;
    }
    errors.push(`line ${n}: not understood: ${JSON.stringify(line.slice(0, 60))}`);
  });
  const r: IptablesSave = { tables, errors };
  if (backend) r.backend = backend;
  return r;
}

const NON_TERMINAL_TARGETS = new Set([
  'LOG', 'NFLOG', 'ULOG', 'MARK', 'CONNMARK', 'CT', 'NOTRACK', 'TRACE', 'TCPMSS', 'DSCP', 'TOS', 'CLASSIFY',
  'SET', 'TEE', 'AUDIT', 'CONNSECMARK', 'SECMARK', 'IDLETIMER', 'LED', 'RATEEST', 'HMARK', 'TTL', 'HL', 'ECN', 'CHECKSUM', 'TPROXY_MARK',
]);

const PROTO_NUMBERS: Record<string, string> = { '17': 'udp', '6': 'tcp', '1': 'icmp', '58': 'ipv6-icmp', '136': 'udplite' };

function portInSpec(port: number | undefined, spec: string): Tri {
  if (port === undefined) return { unknown: 'source port not known' };
  for (const part of spec.split(',')) {
    const [a, b] = part.split(':');
    const lo = a === '' || a === undefined ? 0 : Number(a);
    const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
    if (Number.isNaN(lo) || Number.isNaN(hi)) return { unknown: `port spec ${part}` };
    if (port >= lo && port <= hi) return true;
  }
  return false;
}

function addrMatch(ip: string | undefined, spec: string, what: string): Tri {
  if (ip === undefined) return { unknown: `${what} address not known` };
  // iptables-save prints one address per rule, but a hand-written file may list several.
  let any: Tri = false;
  for (const one of spec.split(',')) {
    const r = inNetwork(ip, one);
    if (r === undefined) return { unknown: `${what} ${one}` };
    if (r) any = true;
  }
  return any;
}

function ipRange(ip: string | undefined, range: string, what: string): Tri {
  if (ip === undefined) return { unknown: `${what} address not known` };
  const [a, b] = range.split('-');
  const x = ipv4ToNum(ip);
  const lo = a ? ipv4ToNum(a) : undefined;
  const hi = b ? ipv4ToNum(b) : lo;
  if (x === undefined || lo === undefined || hi === undefined) return { unknown: `${what} range ${range}` };
  return x >= lo && x <= hi;
}

interface RuleEval {
  match: Tri;
  target?: string;
  goto: boolean;
}

/** Evaluates a rule's matches against the datagram. */
export function matchRule(args: readonly string[], pkt: Datagram): RuleEval {
  const conds: Tri[] = [];
  let target: string | undefined;
  let goto = false;
  let neg = false;
  let module: string | undefined;
  const unknownOpt = (opt: string) => conds.push({ unknown: `${module ? `-m ${module} ` : ''}${opt}` });
  const take = (i: number) => args[i + 1] ?? '';
  let proto: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '!') {
      neg = true;
      continue;
    }
    const push = (t: Tri) => {
      conds.push(neg ? triNot(t) : t);
      neg = false;
    };
    switch (a) {
      case '-p':
      case '--protocol': {
        const p0 = take(i++).toLowerCase();
        const p = PROTO_NUMBERS[p0] ?? p0;
        proto = p;
        push(p === 'all' || p === '0' ? true : p === 'udp');
        break;
      }
      case '-s':
      case '--source':
      case '--src':
        push(addrMatch(pkt.srcIp, take(i++), 'source'));
        break;
      case '-d':
      case '--destination':
      case '--dst':
        push(addrMatch(pkt.dstIp, take(i++), 'destination'));
        break;
      case '-i':
      case '--in-interface': {
        const p = take(i++);
        // A datagram from another host never arrives on lo, whatever the receiving interface is.
        push(pkt.iface === undefined ? (p === 'lo' ? false : { unknown: `-i ${p} (receiving interface not known)` }) : ifaceMatches(pkt.iface, p));
        break;
      }
      case '-o':
      case '--out-interface':
        // No output interface on the input path.
        i++;
        push(false);
        break;
      case '-f':
      case '--fragment':
        push(false);
        break;
      case '-m':
      case '--match':
        module = take(i++);
        neg = false;
        break;
      case '-j':
      case '--jump':
        target = take(i++);
        // Target options follow (--reject-with, --log-prefix ...): skip them.
        i = args.length;
        break;
      case '-g':
      case '--goto':
        target = take(i++);
        goto = true;
        i = args.length;
        break;
      case '--dport':
      case '--destination-port':
        if (module && module !== 'udp' && module !== 'tcp' && module !== 'udplite' && module !== 'sctp' && module !== 'dccp') unknownOpt(a);
        else push(proto === undefined || proto === 'udp' || proto === 'all' ? portInSpec(pkt.dstPort, take(i)) : false);
        i++;
        break;
      case '--sport':
      case '--source-port':
        push(portInSpec(pkt.srcPort, take(i++)));
        break;
      case '--dports':
      case '--destination-ports':
        push(portInSpec(pkt.dstPort, take(i++)));
        break;
      case '--sports':
      case '--source-ports':
        push(portInSpec(pkt.srcPort, take(i++)));
        break;
      case '--ports': {
        const spec = take(i++);
        const d = portInSpec(pkt.dstPort, spec);
        const s = portInSpec(pkt.srcPort, spec);
        push(d === true || s === true ? true : d === false && s === false ? false : { unknown: `--ports ${spec}` });
        break;
      }
      case '--state':
      case '--ctstate': {
        const states = take(i++).toUpperCase().split(',');
        push(states.includes('NEW'));
        break;
      }
      case '--comment':
        i++;
        neg = false;
        break;
      case '--dst-type': {
        const types = take(i++).toUpperCase().split(',');
        push(types.includes('LOCAL') || types.includes('UNICAST') ? true : pkt.pktType === 'broadcast' && types.includes('BROADCAST'));
        break;
      }
      case '--src-type': {
        const types = take(i++).toUpperCase().split(',');
        push(types.includes('UNICAST'));
        break;
      }
      case '--limit-iface-in':
      case '--limit-iface-out':
        neg = false;
        break;
      case '--src-range':
        push(ipRange(pkt.srcIp, take(i++), 'source'));
        break;
      case '--dst-range':
        push(ipRange(pkt.dstIp, take(i++), 'destination'));
        break;
      case '--pkt-type': {
        const t = take(i++).toLowerCase();
        push(t === (pkt.pktType ?? 'unicast'));
        break;
      }
      default:
        if (a.startsWith('-')) {
          // A match option netdiag does not evaluate: the rest up to the next option is its value.
          let j = i + 1;
          const vals: string[] = [];
          while (j < args.length && !args[j]!.startsWith('-') && args[j] !== '!') vals.push(args[j++]!);
          conds.push({ unknown: `${module ? `-m ${module} ` : ''}${neg ? '! ' : ''}${a}${vals.length ? ' ' + vals.join(' ') : ''}` });
          neg = false;
          i = j - 1;
        }
    }
  }
  // Modules that match on their own, with no option (e.g. -m conntrack alone) are harmless.
  return { match: triAnd(conds), ...(target !== undefined ? { target } : {}), goto };
}

type Outcome =
  | { kind: 'accept' | 'drop' | 'reject'; rule?: IptRule }
  | { kind: 'return' | 'end' }
  | { kind: 'uncertain'; rule: IptRule; reason: string };

const TRAVERSAL: Array<[string, string]> = [
  ['raw', 'PREROUTING'],
  ['mangle', 'PREROUTING'],
  ['nat', 'PREROUTING'],
  ['mangle', 'INPUT'],
  ['filter', 'INPUT'],
  ['security', 'INPUT'],
];

function sameDecision(a: Outcome, b: Outcome): boolean {
  const norm = (o: Outcome) => (o.kind === 'end' ? 'return' : o.kind);
  return a.kind !== 'uncertain' && b.kind !== 'uncertain' && norm(a) === norm(b);
}

class Walker {
  forks = 0;
  path: string[] = [];
  constructor(
    private readonly t: IptTable,
    private readonly pkt: Datagram,
  ) {}

  from(chainName: string, start: number, depth: number): Outcome {
    const chain = this.t.chains.get(chainName);
    if (!chain) return { kind: 'end' };
    if (depth > 32) return { kind: 'uncertain', rule: chain.rules[0] ?? { table: this.t.name, chain: chainName, text: `:${chainName}`, line: chain.line, args: [] }, reason: 'chains nest deeper than 32 (a loop?)' };
    if (start === 0) this.path.push(`${this.t.name} ${chainName}`);
    for (let i = start; i < chain.rules.length; i++) {
      const rule = chain.rules[i]!;
      const ev = matchRule(rule.args, this.pkt);
      if (ev.match === false) continue;
      const target = ev.target;
      if (target === undefined || NON_TERMINAL_TARGETS.has(target)) continue;
      const taken = (): Outcome => this.apply(rule, target, ev.goto, chainName, i, depth);
      if (ev.match === true) {
        const o = taken();
        if (o.kind === 'end') continue; // a jump that came back
        return o;
      }
      // Unknown: follow both ways; the same decision either way stands.
      if (++this.forks > 64) return { kind: 'uncertain', rule, reason: `${ev.match.unknown} (too many undecided rules)` };
      let a = taken();
      if (a.kind === 'end') a = this.from(chainName, i + 1, depth);
      const b = this.from(chainName, i + 1, depth);
      if (sameDecision(a, b)) return b;
      if (a.kind === 'uncertain') return a;
      return { kind: 'uncertain', rule, reason: ev.match.unknown };
    }
    return { kind: 'return' };
  }

  /** A rule's target taken: a verdict, or `end` to go on after a jump that returned. */
  apply(rule: IptRule, target: string, goto: boolean, chainName: string, index: number, depth: number): Outcome {
    switch (target) {
      case 'ACCEPT':
        return { kind: 'accept', rule };
      case 'DROP':
        return { kind: 'drop', rule };
      case 'REJECT':
        return { kind: 'reject', rule };
      case 'RETURN':
        return { kind: 'return' };
      default:
        if (this.t.chains.has(target) && !this.isBuiltin(target)) {
          const sub = this.from(target, 0, depth + 1);
          if (sub.kind === 'return' || sub.kind === 'end') return goto ? { kind: 'return' } : { kind: 'end' };
          return sub;
        }
        return { kind: 'uncertain', rule, reason: `target ${target} (${this.describeTarget(target)})` };
    }
  }

  isBuiltin(name: string): boolean {
    return ['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING'].includes(name);
  }

  describeTarget(t: string): string {
    if (t === 'DNAT' || t === 'REDIRECT') return 'changes the destination';
    if (t === 'QUEUE' || t === 'NFQUEUE') return 'a user-space program decides';
    return 'not evaluated';
  }
}

/**
 * Follows a datagram through the tables of one iptables-save output.
 * @param tool `iptables` for IPv4, `ip6tables` for IPv6.
 */
export function judgeIptables(save: IptablesSave, pkt: Datagram, tool: 'iptables' | 'ip6tables' = pkt.family === 6 ? 'ip6tables' : 'iptables'): FirewallVerdict {
  const path: string[] = [];
  const reasons: string[] = [];
  let uncertain: FirewallVerdict | undefined;
  for (const [tname, cname] of TRAVERSAL) {
    const t = save.tables.get(tname);
    const chain = t?.chains.get(cname);
    if (!t || !chain) continue;
    const w = new Walker(t, pkt);
    const o = w.from(cname, 0, 0);
    path.push(...w.path);
    const where = `${tname} ${cname}`;
    if (o.kind === 'drop' || o.kind === 'reject') {
      // A certain drop later on decides even after an uncertain table.
      return verdict(tool, o.kind === 'drop' ? 'dropped' : 'rejected', o.rule!, path, reasons);
    }
    if (o.kind === 'uncertain') {
      reasons.push(`${o.rule.text}: ${o.reason}`);
      uncertain ??= verdict(tool, 'uncertain', o.rule, path, reasons);
      continue;
    }
    if (o.kind === 'return' || o.kind === 'end') {
      const policy = chain.policy ?? 'ACCEPT';
      if (policy === 'DROP') {
        const v: FirewallVerdict = { tool, verdict: 'dropped', rule: `:${cname} DROP (policy)`, where, line: chain.line, reasons, path };
        if (chain.counters) v.counters = chain.counters;
        return v;
      }
    }
    // accept: on to the next table
  }
  if (uncertain) return { ...uncertain, path, reasons };
  // Accepted: name the last ACCEPT that decided in filter INPUT, when there was one.
  const filter = save.tables.get('filter');
  let rule: IptRule | undefined;
  if (filter?.chains.get('INPUT')) {
    const o = new Walker(filter, pkt).from('INPUT', 0, 0);
    if (o.kind === 'accept' && o.rule) rule = o.rule;
  }
  if (rule) return verdict(tool, 'accepted', rule, path, reasons);
  const input = filter?.chains.get('INPUT');
  const v: FirewallVerdict = { tool, verdict: 'accepted', reasons, path };
  if (input) {
    v.rule = `:INPUT ${input.policy ?? 'ACCEPT'} (policy)`;
    v.where = 'filter INPUT';
    v.line = input.line;
    if (input.counters) v.counters = input.counters;
  }
  return v;
}

function verdict(tool: FirewallVerdict['tool'], kind: FirewallVerdict['verdict'], rule: IptRule, path: string[], reasons: string[]): FirewallVerdict {
  const v: FirewallVerdict = { tool, verdict: kind, rule: rule.text, where: `${rule.table} ${rule.chain}`, line: rule.line, reasons, path };
  if (rule.counters) v.counters = rule.counters;
  return v;
}

export { isUnknown };
