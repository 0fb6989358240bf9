/**
 * One nft rule against the datagram. Evaluated: payload udp/th dport and sport, ip/ip6
 * saddr/daddr/protocol/nexthdr, meta l4proto/nfproto/iifname/iif/pkttype, ct state, anonymous and
 * named sets (values, prefixes, ranges), verdict maps; counter, log, limit and mangle statements do
 * not decide. Anything else is unknown with the statement quoted. Pure.
 */
import { type Datagram, type Tri, isUnknown, triAnd } from '../model.js';
import { ifnameMatches, inNetwork } from '../address.js';
import { isObj, renderStmt, renderVal, txt, type Json, type NftRule, type NftSet, type Obj } from './parse.js';

type Value =
  | { kind: 'num'; v: number }
  | { kind: 'addr'; v: string }
  | { kind: 'str'; v: string }
  | { kind: 'state'; v: string }
  | { kind: 'unknown'; why: string; ifname?: boolean }
  | { kind: 'absent' };

const L4: Record<string, number> = {
  udp: 17,
  tcp: 6,
  icmp: 1,
  'ipv6-icmp': 58,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
  dccp: 33,
};

function fieldValue(left: Json, pkt: Datagram): Value {
  if (!isObj(left)) return { kind: 'unknown', why: 'expression' };
  if (isObj(left.payload)) {
    const proto = txt(left.payload.protocol);
    const field = txt(left.payload.field);
    if (proto === 'udp' || proto === 'th') {
      if (field === 'dport') return { kind: 'num', v: pkt.dstPort };
      if (field === 'sport')
        return pkt.srcPort === undefined
          ? { kind: 'unknown', why: 'source port not known' }
          : { kind: 'num', v: pkt.srcPort };
      return { kind: 'unknown', why: `${proto} ${field}` };
    }
    if (
      proto === 'tcp' ||
      proto === 'sctp' ||
      proto === 'dccp' ||
      proto === 'icmp' ||
      proto === 'icmpv6' ||
      proto === 'udplite'
    )
      return { kind: 'absent' };
    if (proto === 'ip' || proto === 'ip6') {
      if ((proto === 'ip') !== (pkt.family === 4)) return { kind: 'absent' };
      if (field === 'saddr')
        return pkt.srcIp === undefined
          ? { kind: 'unknown', why: 'source address not known' }
          : { kind: 'addr', v: pkt.srcIp };
      if (field === 'daddr')
        return pkt.dstIp === undefined
          ? { kind: 'unknown', why: 'destination address not known' }
          : { kind: 'addr', v: pkt.dstIp };
      if (field === 'protocol' || field === 'nexthdr') return { kind: 'num', v: 17 };
      return { kind: 'unknown', why: `${proto} ${field}` };
    }
    return { kind: 'unknown', why: `payload ${proto} ${field}` };
  }
  if (isObj(left.meta)) {
    const key = String(left.meta.key);
    if (key === 'l4proto') return { kind: 'num', v: 17 };
    if (key === 'nfproto' || key === 'protocol') return { kind: 'str', v: pkt.family === 4 ? 'ipv4' : 'ipv6' };
    if (key === 'iifname' || key === 'iif')
      return pkt.iface === undefined
        ? { kind: 'unknown', why: `meta ${key} (receiving interface not known)`, ifname: true }
        : { kind: 'str', v: pkt.iface };
    if (key === 'pkttype') return { kind: 'str', v: pkt.pktType ?? 'unicast' };
    if (key === 'oifname' || key === 'oif') {
      // No output interface on the input path; a forwarded datagram leaves by its route's.
      if (!pkt.forward) return { kind: 'absent' };
      return pkt.forward.oface === undefined
        ? { kind: 'unknown', why: `meta ${key} (the interface towards the DNAT's destination not known)` }
        : { kind: 'str', v: pkt.forward.oface };
    }
    return { kind: 'unknown', why: `meta ${key}` };
  }
  // fib daddr type: the type of the IP destination (this host's address: local) until a DNAT sends
  // it elsewhere; netconsole's broadcast MAC (pkttype broadcast) does not change it.
  if (isObj(left.fib) && txt(left.fib.result) === 'type') {
    const flags = Array.isArray(left.fib.flags) ? left.fib.flags.map(String) : [String(left.fib.flags)];
    if (flags.length === 1 && flags[0] === 'daddr')
      return { kind: 'str', v: pkt.forward ? 'unicast' : pkt.dstIp === '255.255.255.255' ? 'broadcast' : 'local' };
    return { kind: 'unknown', why: 'fib lookup' };
  }
  if (isObj(left.ct)) {
    const key = String(left.ct.key);
    if (key === 'state') return { kind: 'state', v: 'new' };
    if (key === 'direction') return { kind: 'str', v: 'original' };
    // A new flow, not yet confirmed: no status bit set, but dnat once a dnat or redirect of the
    // prerouting hook translated it.
    if (key === 'status') return { kind: 'state', v: pkt.dnat === true || pkt.forward !== undefined ? 'dnat' : '' };
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
      const r = inNetwork(val.v, `${txt(el.prefix.addr)}/${txt(el.prefix.len)}`);
      return r === undefined ? { unknown: `prefix ${renderVal(el)}` } : r;
    }
    if (isObj(el) && Array.isArray(el.range)) {
      const lo = inNetwork(val.v, String(el.range[0]));
      if (lo) return true;
      // Compare numerically via the helpers: only IPv4 ranges are decided.
      const n = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
      if (val.v.includes('.') && String(el.range[0]).includes('.'))
        return n(String(el.range[0])) <= n(val.v) && n(val.v) <= n(String(el.range[1]));
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
  if (Array.isArray(right)) return right as Json[];
  if (isObj(right) && Array.isArray(right.set)) return right.set as Json[];
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
  const op = txt(m.op) || '==';
  if (val.kind === 'absent') return false; // the header is not there: no match (nft does not match an absent header)
  if (val.kind === 'unknown') {
    // A datagram from another host never arrives on lo, whatever the receiving interface is.
    if (
      val.ifname &&
      (m.right === 'lo' || (isObj(m.right) && Array.isArray(m.right.set) && m.right.set.every(x => x === 'lo')))
    )
      return op === '!=';
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

export type Verdict =
  | { kind: 'accept' | 'drop' | 'reject'; rule: NftRule }
  | { kind: 'jump' | 'goto'; target: string; rule: NftRule }
  | { kind: 'return' }
  | { kind: 'continue' }
  | { kind: 'uncertain'; rule: NftRule; reason: string }
  /** `dnat to ADDR[:PORT]` or `redirect [to :PORT]`: `to` undefined when netdiag cannot read it. */
  | { kind: 'dnat'; rule: NftRule; to: { ip?: string; port?: number } | undefined };

/** The destination of a `dnat` / `redirect` statement (`{"dnat": {"addr": "172.17.0.2", "port": 514}}`). */
function natTo(e: Obj): { ip?: string; port?: number } | undefined {
  const redirect = 'redirect' in e;
  const body = redirect ? e.redirect : e.dnat;
  if (body === null || body === undefined) return redirect ? {} : undefined;
  if (!isObj(body)) return undefined;
  const to: { ip?: string; port?: number } = {};
  // `dnat to :5140` (no address) keeps the destination address: this host, like a redirect.
  if (body.addr !== undefined) {
    if (typeof body.addr !== 'string' || redirect) return undefined;
    to.ip = body.addr;
  }
  if (body.port !== undefined) {
    if (typeof body.port !== 'number') return undefined;
    to.port = body.port;
  }
  return to;
}

/** A `dnat` / `redirect` for the other IP family than the datagram's (`{"dnat": {"family": "ip", ...}}`). */
function otherNatFamily(e: Obj, pkt: Datagram): boolean {
  const body = 'redirect' in e ? e.redirect : e.dnat;
  return isObj(body) && typeof body.family === 'string' && body.family !== (pkt.family === 4 ? 'ip' : 'ip6');
}

function stmtVerdict(e: Obj, rule: NftRule): Verdict | undefined {
  if ('accept' in e) return { kind: 'accept', rule };
  if ('drop' in e) return { kind: 'drop', rule };
  if ('reject' in e) return { kind: 'reject', rule };
  if ('return' in e) return { kind: 'return' };
  if ('continue' in e) return { kind: 'continue' };
  if (isObj(e.jump)) return { kind: 'jump', target: String(e.jump.target), rule };
  if (isObj(e.goto)) return { kind: 'goto', target: String(e.goto.target), rule };
  if ('queue' in e) return { kind: 'uncertain', rule, reason: 'queue: a user-space program decides' };
  if ('dnat' in e || 'redirect' in e) return { kind: 'dnat', rule, to: natTo(e) };
  return undefined;
}

const NON_DECIDING = new Set([
  'counter',
  'log',
  'mangle',
  'meta',
  'ct',
  'notrack',
  'set',
  'map',
  'limit',
  'quota',
  'connlimit',
  'dup',
  'fwd',
  'synproxy',
  'secmark',
  'ct helper',
  'ct timeout',
  'ct expectation',
  'tproxy',
  'xt',
]);

/** What a rule does to the datagram: its tri-state match and the verdict it ends in (if any). */
export function evalRule(rule: NftRule, pkt: Datagram, sets: NftSet[]): { match: Tri; verdict?: Verdict } {
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
    // `dnat ip to` (an inet table) does nothing to an IPv6 datagram, `dnat ip6 to` nothing to IPv4: on.
    if (v?.kind === 'dnat' && otherNatFamily(e, pkt)) continue;
    if (v) return { match: triAnd(conds), verdict: v };
    if (isObj(e.vmap)) {
      const key = fieldValue(e.vmap.key, pkt);
      const data =
        isObj(e.vmap.data) && Array.isArray(e.vmap.data.set)
          ? e.vmap.data.set
          : typeof e.vmap.data === 'string'
            ? null
            : [];
      if (key.kind === 'absent') return { match: false };
      if (key.kind === 'unknown')
        return {
          match: triAnd([...conds, { unknown: key.why }]),
          verdict: { kind: 'uncertain', rule, reason: key.why },
        };
      if (data === null)
        return {
          match: triAnd(conds),
          verdict: { kind: 'uncertain', rule, reason: `named verdict map ${txt(e.vmap.data)}` },
        };
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
