/**
 * The path a new UDP datagram to a local port takes through an iptables-save output: raw
 * PREROUTING, mangle PREROUTING, nat PREROUTING, mangle INPUT, filter INPUT, security INPUT, each
 * walked by the shared chain walker. User chains, -j/-g, RETURN and policies are followed. Pure.
 */
import type { Datagram, FirewallVerdict, RuleLocation } from '../model.js';
import { describeLocation } from '../model.js';
import { walkChain, type ChainModel, type RuleStep } from '../walker.js';
import { matchRule, NON_TERMINAL_TARGETS } from './match.js';
import type { IptablesSave, IptChain, IptRule, IptTable } from './parse.js';

const TRAVERSAL: Array<[string, string]> = [
  ['raw', 'PREROUTING'],
  ['mangle', 'PREROUTING'],
  ['nat', 'PREROUTING'],
  ['mangle', 'INPUT'],
  ['filter', 'INPUT'],
  ['security', 'INPUT'],
];

const BUILTIN = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

function describeTarget(t: string): string {
  if (t === 'DNAT' || t === 'REDIRECT') return 'changes the destination';
  if (t === 'QUEUE' || t === 'NFQUEUE') return 'a user-space program decides';
  return 'not evaluated';
}

/** One table's chains as the walker sees them. */
function tableModel(t: IptTable, pkt: Datagram): ChainModel<IptChain, IptRule> {
  return {
    rules: c => c.rules,
    label: c => `${t.name} ${c.name}`,
    placeholder: c => ({ table: t.name, chain: c.name, text: `:${c.name}`, line: c.line, args: [] }),
    evaluate(rule) {
      const ev = matchRule(rule.args, pkt);
      if (ev.match === false) return { match: false };
      const target = ev.target;
      if (target === undefined || NON_TERMINAL_TARGETS.has(target)) return { match: ev.match };
      let step: RuleStep<IptChain, IptRule>;
      if (target === 'ACCEPT') step = { kind: 'accept', rule };
      else if (target === 'DROP') step = { kind: 'drop', rule };
      else if (target === 'REJECT') step = { kind: 'reject', rule };
      else if (target === 'RETURN') step = { kind: 'return' };
      else if (t.chains.has(target) && !BUILTIN.has(target))
        step = { kind: 'call', chain: t.chains.get(target), name: target, goto: ev.goto, rule };
      else step = { kind: 'uncertain', rule, reason: `target ${target} (${describeTarget(target)})` };
      return { match: ev.match, step };
    },
  };
}

/**
 * Follows a datagram through the tables of one iptables-save output.
 * @param tool `iptables` for IPv4, `ip6tables` for IPv6.
 */
export function judgeIptables(
  save: IptablesSave,
  pkt: Datagram,
  tool: 'iptables' | 'ip6tables' = pkt.family === 6 ? 'ip6tables' : 'iptables',
): FirewallVerdict {
  const path: string[] = [];
  const reasons: string[] = [];
  let uncertain: FirewallVerdict | undefined;
  for (const [tname, cname] of TRAVERSAL) {
    const t = save.tables.get(tname);
    const chain = t?.chains.get(cname);
    if (!t || !chain) continue;
    const w = walkChain(tableModel(t, pkt), chain);
    path.push(...w.path);
    const o = w.outcome;
    if (o.kind === 'drop' || o.kind === 'reject') {
      // A certain drop later on decides even after an uncertain table.
      return { ...verdict(tool, o.kind === 'drop' ? 'dropped' : 'rejected', o.rule, cname, path, reasons), via: o.via };
    }
    if (o.kind === 'uncertain') {
      reasons.push(`${o.rule.text}: ${o.reason}`);
      uncertain ??= { ...verdict(tool, 'uncertain', o.rule, cname, path, reasons), via: o.via };
      continue;
    }
    if (o.kind === 'return' && (chain.policy ?? 'ACCEPT') === 'DROP')
      return { ...policyVerdict(tool, 'dropped', tname, chain, path, reasons), via: [`${tname} ${cname}`] };
    // accept: on to the next table
  }
  if (uncertain) return { ...uncertain, path, reasons };
  // Accepted: name the last ACCEPT that decided in filter INPUT, when there was one.
  const filter = save.tables.get('filter');
  const input = filter?.chains.get('INPUT');
  if (filter && input) {
    const o = walkChain(tableModel(filter, pkt), input).outcome;
    if (o.kind === 'accept') return verdict(tool, 'accepted', o.rule, 'INPUT', path, reasons);
    return policyVerdict(tool, 'accepted', 'filter', input, path, reasons);
  }
  return { tool, verdict: 'accepted', reasons, path };
}

function verdict(
  tool: 'iptables' | 'ip6tables',
  kind: FirewallVerdict['verdict'],
  rule: IptRule,
  entryChain: string,
  path: string[],
  reasons: string[],
): FirewallVerdict {
  const location: RuleLocation = { tool, table: rule.table, chain: rule.chain, entryChain, line: rule.line };
  return decided(kind, location, rule.text, rule.counters, path, reasons);
}

function policyVerdict(
  tool: 'iptables' | 'ip6tables',
  kind: FirewallVerdict['verdict'],
  table: string,
  chain: IptChain,
  path: string[],
  reasons: string[],
): FirewallVerdict {
  const location: RuleLocation = { tool, table, chain: chain.name, entryChain: chain.name, line: chain.line };
  return decided(kind, location, `:${chain.name} ${chain.policy ?? 'ACCEPT'} (policy)`, chain.counters, path, reasons);
}

/** A verdict that a rule or a chain's policy decided, at `location`, with its counters when saved with -c. */
function decided(
  kind: FirewallVerdict['verdict'],
  location: Extract<RuleLocation, { tool: 'iptables' | 'ip6tables' }>,
  rule: string,
  counters: IptRule['counters'],
  path: string[],
  reasons: string[],
): FirewallVerdict {
  const v: FirewallVerdict = {
    tool: location.tool,
    verdict: kind,
    rule,
    where: describeLocation(location),
    line: location.line,
    location,
    reasons,
    path,
  };
  if (counters) v.counters = counters;
  return v;
}
