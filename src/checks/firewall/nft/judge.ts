/**
 * `nft -j list ruleset` and the path a new UDP datagram to a local port takes through it: the base
 * chains hooked at netdev ingress, prerouting and input (families ip/ip6/inet as fits the datagram),
 * in priority order; policies; jump/goto/return; verdict maps. Evaluated expressions: payload
 * udp/th dport and sport, ip/ip6 saddr/daddr/protocol/nexthdr, meta l4proto/nfproto/iifname/iif/
 * pkttype, ct state, anonymous and named sets (values, prefixes, ranges), counter (kept for evidence),
 * log/limit/mangle as non-deciding statements. Anything else in a rule that could decide makes the
 * verdict "uncertain" with the rule quoted, unless both outcomes agree. Pure.
 */
import { type Datagram, type FirewallVerdict, type Tri, ifnameMatches, inNetwork, isUnknown, triAnd } from '../model.js';

type Json = unknown;
type Obj = Record<string, Json>;

export interface NftChain {
  family: string;
  table: string;
  name: string;
  hook?: string;
  prio?: number;
  policy?: string;
  type?: string;
  /** netdev chains: the device. */
  dev?: string;
  rules: NftRule[];
}

export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle?: number;
  expr: Json[];
  /** A readable nft-like rendering for evidence. */
  text: string;
  counters?: { packets: number; bytes: number };
}

export interface NftSet {
  family: string;
  table: string;
  name: string;
  type?: Json;
  elem: Json[];
  isMap: boolean;
}

export interface NftRuleset {
  chains: NftChain[];
  sets: NftSet[];
  /** Tables by `family name`. */
  tables: string[];
  errors: string[];
}

const isObj = (v: Json): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

export function parseNftJson(text: string): NftRuleset {
  const out: NftRuleset = { chains: [], sets: [], tables: [], errors: [] };
  let data: Json;
  try {
    data = JSON.parse(text);
  } catch (e) {
    out.errors.push(`not JSON: ${(e as Error).message.slice(0, 80)}`);
    return out;
  }
  const items = isObj(data) && Array.isArray(data.nftables) ? (data.nftables as Json[]) : null;
  if (!items) {
    out.errors.push('no "nftables" array');
    return out;
  }
  const byKey = new Map<string, NftChain>();
  for (const it of items) {
    if (!isObj(it)) continue;
    if (isObj(it.table)) out.tables.push(`${it.table.family} ${it.table.name}`);
    if (isObj(it.chain)) {
      const c = it.chain;
      const ch: NftChain = { family: String(c.family), table: String(c.table), name: String(c.name), rules: [] };
      if (typeof c.hook === 'string') ch.hook = c.hook;
      if (typeof c.prio === 'number') ch.prio = c.prio;
      else if (typeof c.prio === 'string') ch.prio = namedPriority(c.prio);
      if (typeof c.policy === 'string') ch.policy = c.policy;
      if (typeof c.type === 'string') ch.type = c.type;
      if (typeof c.dev === 'string') ch.dev = c.dev;
      out.chains.push(ch);
      byKey.set(`${ch.family} ${ch.table} ${ch.name}`, ch);
    }
    for (const k of ['set', 'map'] as const) {
      const s = it[k];
      if (isObj(s)) out.sets.push({ family: String(s.family), table: String(s.table), name: String(s.name), type: s.type, elem: Array.isArray(s.elem) ? s.elem : [], isMap: k === 'map' });
    }
    if (isObj(it.rule)) {
      const r = it.rule;
      const key = `${r.family} ${r.table} ${r.chain}`;
      let ch = byKey.get(key);
      if (!ch) {
        ch = { family: String(r.family), table: String(r.table), name: String(r.chain), rules: [] };
        out.chains.push(ch);
        byKey.set(key, ch);
      }
      const expr = Array.isArray(r.expr) ? r.expr : [];
      const rule: NftRule = { family: ch.family, table: ch.table, chain: ch.name, expr, text: expr.map(renderStmt).join(' ') };
      if (typeof r.handle === 'number') rule.handle = r.handle;
      for (const e of expr) {
        if (isObj(e) && isObj(e.counter) && typeof e.counter.packets === 'number') rule.counters = { packets: e.counter.packets, bytes: Number(e.counter.bytes ?? 0) };
      }
      ch.rules.push(rule);
    }
  }
  return out;
}

function namedPriority(p: string): number {
  const m = /^(raw|mangle|dstnat|filter|security|srcnat)\s*([+-]\s*\d+)?$/.exec(p.trim());
  const base: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
  if (!m) return 0;
  return base[m[1]!]! + (m[2] ? Number(m[2].replace(/\s/g, '')) : 0);
}

// ---- rendering (evidence) ---------------------------------------------------------------------

function renderVal(v: Json): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return /^[\w.:/*@-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{ ${v.map(renderVal).join(', ')} }`;
  if (isObj(v)) {
    if (Array.isArray(v.set)) return `{ ${v.set.map(renderVal).join(', ')} }`;
    if (isObj(v.prefix)) return `${renderVal(v.prefix.addr)}/${renderVal(v.prefix.len)}`;
    if (Array.isArray(v.range)) return `${renderVal(v.range[0])}-${renderVal(v.range[1])}`;
    if (isObj(v.payload)) return `${v.payload.protocol ?? 'payload'} ${v.payload.field ?? ''}`.trim();
    if (isObj(v.meta)) return `meta ${v.meta.key}`;
    if (isObj(v.ct)) return `ct ${v.ct.key}`;
    if (isObj(v.elem)) return renderVal(v.elem.val);
    if (Array.isArray(v.concat)) return v.concat.map(renderVal).join(' . ');
    if (isObj(v.xt)) return `xt ${v.xt.type ?? 'match'} ${v.xt.name ?? '?'}`;
    if ('accept' in v) return 'accept';
    if ('drop' in v) return 'drop';
    if (isObj(v.jump)) return `jump ${v.jump.target}`;
    if (isObj(v.goto)) return `goto ${v.goto.target}`;
    const k = Object.keys(v)[0];
    return k ? `${k}` : '?';
  }
  return '?';
}

function renderStmt(e: Json): string {
  if (!isObj(e)) return '?';
  if (isObj(e.match)) {
    const m = e.match;
    const op = m.op === '==' || m.op === 'in' ? '' : `${m.op} `;
    return `${renderVal(m.left)} ${op}${renderVal(m.right)}`;
  }
  if (isObj(e.counter)) return `counter packets ${e.counter.packets ?? 0} bytes ${e.counter.bytes ?? 0}`;
  if ('counter' in e) return 'counter';
  if ('accept' in e) return 'accept';
  if ('drop' in e) return 'drop';
  if ('reject' in e) return 'reject';
  if ('return' in e) return 'return';
  if ('continue' in e) return 'continue';
  if (isObj(e.jump)) return `jump ${e.jump.target}`;
  if (isObj(e.goto)) return `goto ${e.goto.target}`;
  if (isObj(e.xt)) return `xt ${e.xt.type ?? 'match'} ${e.xt.name ?? '?'}`;
  if ('log' in e) return 'log';
  if ('limit' in e) return 'limit';
  if (isObj(e.vmap)) {
    const d = isObj(e.vmap.data) && Array.isArray(e.vmap.data.set) ? e.vmap.data.set : [];
    return `${renderVal(e.vmap.key)} vmap { ${d.map(p => (Array.isArray(p) ? `${renderVal(p[0])} : ${renderVal(p[1])}` : renderVal(p))).join(', ')} }`;
  }
  const k = Object.keys(e)[0];
  return k ?? '?';
}

// ---- evaluation -------------------------------------------------------------------------------

type Value = { kind: 'num'; v: number } | { kind: 'addr'; v: string } | { kind: 'str'; v: string } | { kind: 'state'; v: string } | { kind: 'unknown'; why: string; ifname?: boolean } | { kind: 'absent' };

const L4: Record<string, number> = { udp: 17, tcp: 6, icmp: 1, 'ipv6-icmp': 58, icmpv6: 58, sctp: 132, udplite: 136, dccp: 33 };

function fieldValue(left: Json, pkt: Datagram): Value {
  if (!isObj(left)) return { kind: 'unknown', why: 'expression' };
  if (isObj(left.payload)) {
    const proto = String(left.payload.protocol ?? '');
    const field = String(left.payload.field ?? '');
    if (proto === 'udp' || proto === 'th') {
      if (field === 'dport') return { kind: 'num', v: pkt.dstPort };
      if (field === 'sport') return pkt.srcPort === undefined ? { kind: 'unknown', why: 'source port not known' } : { kind: 'num', v: pkt.srcPort };
      return { kind: 'unknown', why: `${proto} ${field}` };
    }
    if (proto === 'tcp' || proto === 'sctp' || proto === 'dccp' || proto === 'icmp' || proto === 'icmpv6' || proto === 'udplite') return { kind: 'absent' };
    if (proto === 'ip' || proto === 'ip6') {
      if ((proto === 'ip') !== (pkt.family === 4)) return { kind: 'absent' };
      if (field === 'saddr') return pkt.srcIp === undefined ? { kind: 'unknown', why: 'source address not known' } : { kind: 'addr', v: pkt.srcIp };
      if (field === 'daddr') return pkt.dstIp === undefined ? { kind: 'unknown', why: 'destination address not known' } : { kind: 'addr', v: pkt.dstIp };
      if (field === 'protocol' || field === 'nexthdr') return { kind: 'num', v: 17 };
      return { kind: 'unknown', why: `${proto} ${field}` };
    }
    return { kind: 'unknown', why: `payload ${proto} ${field}` };
  }
  if (isObj(left.meta)) {
    const key = String(left.meta.key);
    if (key === 'l4proto') return { kind: 'num', v: 17 };
    if (key === 'nfproto' || key === 'protocol') return { kind: 'str', v: pkt.family === 4 ? 'ipv4' : 'ipv6' };
    if (key === 'iifname' || key === 'iif') return pkt.iface === undefined ? { kind: 'unknown', why: `meta ${key} (receiving interface not known)`, ifname: true } : { kind: 'str', v: pkt.iface };
    if (key === 'pkttype') return { kind: 'str', v: pkt.pktType ?? 'unicast' };
    if (key === 'oifname' || key === 'oif') return { kind: 'absent' };
    return { kind: 'unknown', why: `meta ${key}` };
  }
  if (isObj(left.ct)) {
    const key = String(left.ct.key);
    if (key === 'state') return { kind: 'state', v: 'new' };
    if (key === 'direction') return { kind: 'str', v: 'original' };
    // A new flow to a local port at the input hook: not yet confirmed, not NATed unless a dnat rule
    // changed it (which is judged uncertain on its own), so no status bit is set.
    if (key === 'status') return { kind: 'state', v: '' };
    return { kind: 'unknown', why: `ct ${key}` };
  }
  return { kind: 'unknown', why: renderVal(left) };
}

/** Does one element (number, string, prefix, range) contain the value? */
function elemMatches(val: Value, el: Json): Tri {
  if (isObj(el) && isObj(el.elem)) return elemMatches(val, el.elem.val);
  if (val.kind === 'num') {
    if (typeof el === 'number') return el === val.v;
    if (typeof el === 'string') {
      if (/^\d+$/.test(el)) return Number(el) === val.v;
      if (L4[el] !== undefined) return L4[el] === val.v;
      return { unknown: `value ${el}` };
    }
    if (isObj(el) && Array.isArray(el.range)) return Number(el.range[0]) <= val.v && val.v <= Number(el.range[1]);
    return { unknown: renderVal(el) };
  }
  if (val.kind === 'addr') {
    if (typeof el === 'string') {
      const r = inNetwork(val.v, el);
      return r === undefined ? { unknown: `address ${el}` } : r;
    }
    if (isObj(el) && isObj(el.prefix)) {
      const r = inNetwork(val.v, `${el.prefix.addr}/${el.prefix.len}`);
      return r === undefined ? { unknown: `prefix ${renderVal(el)}` } : r;
    }
    if (isObj(el) && Array.isArray(el.range)) {
      const lo = inNetwork(val.v, String(el.range[0]));
      if (lo) return true;
      // Compare numerically via the helpers: only IPv4 ranges are decided.
      const n = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
      if (val.v.includes('.') && String(el.range[0]).includes('.')) return n(String(el.range[0])) <= n(val.v) && n(val.v) <= n(String(el.range[1]));
      return { unknown: `range ${renderVal(el)}` };
    }
    return { unknown: renderVal(el) };
  }
  if (val.kind === 'str') {
    if (typeof el === 'string') return ifnameMatches(val.v, el);
    return { unknown: renderVal(el) };
  }
  if (val.kind === 'state') {
    if (typeof el === 'string') return el === val.v;
    return { unknown: renderVal(el) };
  }
  return { unknown: 'value' };
}

function setElements(right: Json, sets: NftSet[], rule: NftRule): Json[] | { unknown: string } | null {
  if (Array.isArray(right)) return right;
  if (isObj(right) && Array.isArray(right.set)) return right.set;
  if (typeof right === 'string' && right.startsWith('@')) {
    const s = sets.find(x => x.name === right.slice(1) && x.table === rule.table && x.family === rule.family);
    if (!s) return { unknown: `set ${right} not in the ruleset` };
    return s.elem;
  }
  return null;
}

function anyOf(val: Value, elems: Json[]): Tri {
  let unk: string | undefined;
  for (const el of elems) {
    if (isObj(el) && Array.isArray(el.concat)) return { unknown: 'concatenated set' };
    const r = elemMatches(val, el);
    if (r === true) return true;
    if (isUnknown(r)) unk = r.unknown;
  }
  return unk ? { unknown: unk } : false;
}

function evalMatch(m: Obj, pkt: Datagram, sets: NftSet[], rule: NftRule): Tri {
  const val = fieldValue(m.left, pkt);
  const op = String(m.op ?? '==');
  if (val.kind === 'absent') return false; // the header is not there: no match (nft does not match an absent header)
  if (val.kind === 'unknown') {
    // A datagram from another host never arrives on lo, whatever the receiving interface is.
    if (val.ifname && (m.right === 'lo' || (isObj(m.right) && Array.isArray(m.right.set) && m.right.set.every(x => x === 'lo')))) return op === '!=';
    return { unknown: val.why };
  }
  const elems = setElements(m.right, sets, rule);
  let r: Tri;
  if (elems && !Array.isArray(elems)) return elems;
  if (elems) r = anyOf(val, elems);
  else if (val.kind === 'num' && typeof m.right === 'number' && ['<', '>', '<=', '>='].includes(op)) {
    const x = m.right;
    r = op === '<' ? val.v < x : op === '>' ? val.v > x : op === '<=' ? val.v <= x : val.v >= x;
    return r;
  } else r = elemMatches(val, m.right);
  if (op === '!=') return isUnknown(r) ? r : !r;
  if (op === '==' || op === 'in') return r;
  return { unknown: `operator ${op}` };
}

type Verdict = { kind: 'accept' | 'drop' | 'reject'; rule: NftRule } | { kind: 'jump' | 'goto'; target: string; rule: NftRule } | { kind: 'return' } | { kind: 'continue' } | { kind: 'uncertain'; rule: NftRule; reason: string };

function stmtVerdict(e: Obj, rule: NftRule): Verdict | undefined {
  if ('accept' in e) return { kind: 'accept', rule };
  if ('drop' in e) return { kind: 'drop', rule };
  if ('reject' in e) return { kind: 'reject', rule };
  if ('return' in e) return { kind: 'return' };
  if ('continue' in e) return { kind: 'continue' };
  if (isObj(e.jump)) return { kind: 'jump', target: String(e.jump.target), rule };
  if (isObj(e.goto)) return { kind: 'goto', target: String(e.goto.target), rule };
  if ('queue' in e) return { kind: 'uncertain', rule, reason: 'queue: a user-space program decides' };
  return undefined;
}

const NON_DECIDING = new Set(['counter', 'log', 'mangle', 'meta', 'ct', 'notrack', 'set', 'map', 'limit', 'quota', 'connlimit', 'dup', 'fwd', 'synproxy', 'secmark', 'ct helper', 'ct timeout', 'ct expectation', 'tproxy', 'xt']);

/** What a rule does to the datagram: its tri-state match and the verdict it ends in (if any). */
function evalRule(rule: NftRule, pkt: Datagram, sets: NftSet[]): { match: Tri; verdict?: Verdict } {
  const conds: Tri[] = [];
  for (const e of rule.expr) {
    if (!isObj(e)) continue;
    if (isObj(e.match)) {
      const r = evalMatch(e.match, pkt, sets, rule);
      conds.push(r);
      if (r === false) return { match: false };
      continue;
    }
    const v = stmtVerdict(e, rule);
    if (v) return { match: triAnd(conds), verdict: v };
    if (isObj(e.vmap)) {
      const key = fieldValue(e.vmap.key, pkt);
      const data = isObj(e.vmap.data) && Array.isArray(e.vmap.data.set) ? e.vmap.data.set : typeof e.vmap.data === 'string' ? null : [];
      if (key.kind === 'absent') return { match: false };
      if (key.kind === 'unknown') return { match: triAnd([...conds, { unknown: key.why }]), verdict: { kind: 'uncertain', rule, reason: key.why } };
      if (data === null) return { match: triAnd(conds), verdict: { kind: 'uncertain', rule, reason: `named verdict map ${e.vmap.data}` } };
      for (const pair of data) {
        if (!Array.isArray(pair) || pair.length !== 2) continue;
        const hit = elemMatches(key, pair[0]);
        if (isUnknown(hit)) return { match: triAnd(conds), verdict: { kind: 'uncertain', rule, reason: hit.unknown } };
        if (hit && isObj(pair[1])) {
          const pv = stmtVerdict(pair[1], rule);
          if (pv) return { match: triAnd(conds), verdict: pv };
        }
      }
      return { match: false }; // no element: the rule does nothing
    }
    if (isObj(e.limit) || 'limit' in e) {
      conds.push({ unknown: 'limit (matches only below its rate)' });
      continue;
    }
    const key = Object.keys(e)[0] ?? '?';
    if (key === 'xt') {
      conds.push({ unknown: `${renderStmt(e)} (an iptables-nft match nft cannot show; judge iptables-save instead)` });
      continue;
    }
    if (key === 'fib') {
      conds.push({ unknown: 'fib lookup' });
      continue;
    }
    if (NON_DECIDING.has(key)) continue;
    conds.push({ unknown: `statement ${key}` });
  }
  return { match: triAnd(conds) };
}

type Outcome = { kind: 'accept' | 'drop' | 'reject'; rule?: NftRule } | { kind: 'return' } | { kind: 'uncertain'; rule: NftRule; reason: string };

class Walker {
  forks = 0;
  path: string[] = [];
  constructor(
    private readonly rs: NftRuleset,
    private readonly pkt: Datagram,
  ) {}

  chain(family: string, table: string, name: string): NftChain | undefined {
    return this.rs.chains.find(c => c.family === family && c.table === table && c.name === name);
  }

  from(ch: NftChain, start: number, depth: number): Outcome {
    if (start === 0) this.path.push(`${ch.family} ${ch.table} ${ch.name}`);
    if (depth > 32) return { kind: 'uncertain', rule: ch.rules[0] ?? { family: ch.family, table: ch.table, chain: ch.name, expr: [], text: `chain ${ch.name}` }, reason: 'chains nest deeper than 32 (a loop?)' };
    for (let i = start; i < ch.rules.length; i++) {
      const rule = ch.rules[i]!;
      const { match, verdict } = evalRule(rule, this.pkt, this.rs.sets);
      if (match === false || !verdict || verdict.kind === 'continue') continue;
      const taken = (): Outcome | 'next' => this.apply(verdict, depth);
      if (match === true) {
        const o = taken();
        if (o === 'next') continue;
        return o;
      }
      if (++this.forks > 64) return { kind: 'uncertain', rule, reason: `${match.unknown} (too many undecided rules)` };
      const t = taken();
      const a = t === 'next' ? this.from(ch, i + 1, depth) : t;
      const b = this.from(ch, i + 1, depth);
      if (a.kind !== 'uncertain' && b.kind === a.kind) return b;
      if (a.kind === 'uncertain') return a;
      return { kind: 'uncertain', rule, reason: match.unknown };
    }
    return { kind: 'return' };
  }

  apply(v: Verdict, depth: number): Outcome | 'next' {
    switch (v.kind) {
      case 'accept':
      case 'drop':
      case 'reject':
        return { kind: v.kind, rule: v.rule };
      case 'return':
        return { kind: 'return' };
      case 'uncertain':
        return v;
      case 'continue':
        return 'next';
      case 'jump':
      case 'goto': {
        const target = this.chain(v.rule.family, v.rule.table, v.target);
        if (!target) return { kind: 'uncertain', rule: v.rule, reason: `chain ${v.target} not in the ruleset` };
        const sub = this.from(target, 0, depth + 1);
        if (sub.kind === 'return') return v.kind === 'jump' ? 'next' : { kind: 'return' };
        return sub;
      }
    }
  }
}

export interface NftJudgeOptions {
  /** Skip tables that iptables-nft made (judged from iptables-save instead): `ip filter`, ... */
  skipTables?: string[];
}

/** The base chains a datagram to this host passes, in order: ingress, prerouting, input; by priority. */
export function inputPathChains(rs: NftRuleset, pkt: Datagram, opts: NftJudgeOptions = {}): NftChain[] {
  const fams = pkt.family === 4 ? ['ip', 'inet'] : ['ip6', 'inet'];
  const skip = new Set(opts.skipTables ?? []);
  const order: Record<string, number> = { ingress: 0, prerouting: 1, input: 2 };
  return rs.chains
    .filter(c => c.hook !== undefined && c.hook in order && !skip.has(`${c.family} ${c.table}`))
    .filter(c => (c.family === 'netdev' ? c.hook === 'ingress' && (c.dev === undefined || pkt.iface === undefined || c.dev === pkt.iface) : fams.includes(c.family) && c.hook !== 'ingress') || (c.family === 'inet' && c.hook === 'ingress'))
    .sort((a, b) => order[a.hook!]! - order[b.hook!]! || (a.prio ?? 0) - (b.prio ?? 0));
}

export function judgeNft(rs: NftRuleset, pkt: Datagram, opts: NftJudgeOptions = {}): FirewallVerdict {
  const path: string[] = [];
  const reasons: string[] = [];
  let uncertain: FirewallVerdict | undefined;
  let lastAccept: NftRule | undefined;
  for (const ch of inputPathChains(rs, pkt, opts)) {
    const w = new Walker(rs, pkt);
    const o = w.from(ch, 0, 0);
    path.push(...w.path);
    if (o.kind === 'drop' || o.kind === 'reject') return verdictOf(o.kind === 'drop' ? 'dropped' : 'rejected', o.rule!, path, reasons);
    if (o.kind === 'uncertain') {
      reasons.push(`${where(o.rule)}: ${o.rule.text}: ${o.reason}`);
      uncertain ??= verdictOf('uncertain', o.rule, path, reasons);
      continue;
    }
    if (o.kind === 'return') {
      if ((ch.policy ?? 'accept') === 'drop') {
        return { tool: 'nft', verdict: 'dropped', rule: `policy drop`, where: `table ${ch.family} ${ch.table} chain ${ch.name}`, reasons, path };
      }
      continue;
    }
    lastAccept = o.rule;
  }
  if (uncertain) return { ...uncertain, path, reasons };
  if (lastAccept) return verdictOf('accepted', lastAccept, path, reasons);
  return { tool: 'nft', verdict: 'accepted', reasons, path };
}

function where(r: NftRule): string {
  return `table ${r.family} ${r.table} chain ${r.chain}${r.handle !== undefined ? ` handle ${r.handle}` : ''}`;
}

function verdictOf(kind: FirewallVerdict['verdict'], rule: NftRule, path: string[], reasons: string[]): FirewallVerdict {
  const v: FirewallVerdict = { tool: 'nft', verdict: kind, rule: rule.text, where: where(rule), reasons, path };
  if (rule.counters) v.counters = rule.counters;
  return v;
}
