/**
 * The path a new UDP datagram to a local port takes through an nft ruleset: the base chains
 * hooked at netdev ingress, prerouting and input (families ip/ip6/inet as fits the datagram), in
 * priority order, each walked by the shared chain walker; policies; jump/goto/return. Pure.
 */
import type { Datagram, FirewallVerdict, RuleLocation } from '../model.js';
import { describeLocation } from '../model.js';
import { walkChain, type ChainModel, type RuleStep } from '../walker.js';
import { evalRule } from './eval.js';
import type { NftChain, NftRule, NftRuleset } from './parse.js';

export interface NftJudgeOptions {
  /** Skip tables that iptables-nft made (judged from iptables-save instead): `ip filter`, ... */
  skipTables?: string[];
}

/** The base chains a datagram to this host passes, in order: ingress, prerouting, input; by priority. */
function inputPathChains(rs: NftRuleset, pkt: Datagram, opts: NftJudgeOptions = {}): NftChain[] {
  const fams = pkt.family === 4 ? ['ip', 'inet'] : ['ip6', 'inet'];
  const skip = new Set(opts.skipTables ?? []);
  const order: Record<string, number> = { ingress: 0, prerouting: 1, input: 2 };
  return rs.chains
    .filter(c => c.hook !== undefined && c.hook in order && !skip.has(`${c.family} ${c.table}`))
    .filter(
      c =>
        (c.family === 'netdev'
          ? c.hook === 'ingress' && (c.dev === undefined || pkt.iface === undefined || c.dev === pkt.iface)
          : fams.includes(c.family) && c.hook !== 'ingress') ||
        (c.family === 'inet' && c.hook === 'ingress'),
    )
    .sort((a, b) => order[a.hook!]! - order[b.hook!]! || (a.prio ?? 0) - (b.prio ?? 0));
}

function rulesetModel(rs: NftRuleset, pkt: Datagram): ChainModel<NftChain, NftRule> {
  const chain = (family: string, table: string, name: string) =>
    rs.chains.find(c => c.family === family && c.table === table && c.name === name);
  return {
    rules: c => c.rules,
    label: c => `${c.family} ${c.table} ${c.name}`,
    placeholder: c => ({ family: c.family, table: c.table, chain: c.name, expr: [], text: `chain ${c.name}` }),
    evaluate(rule) {
      const { match, verdict: v } = evalRule(rule, pkt, rs.sets);
      if (match === false || !v) return { match };
      let step: RuleStep<NftChain, NftRule>;
      switch (v.kind) {
        case 'continue':
          step = { kind: 'next' };
          break;
        case 'jump':
        case 'goto':
          step = {
            kind: 'call',
            chain: chain(v.rule.family, v.rule.table, v.target),
            name: v.target,
            goto: v.kind === 'goto',
            rule: v.rule,
          };
          break;
        default:
          step = v;
      }
      return { match, step };
    },
  };
}

export function judgeNft(rs: NftRuleset, pkt: Datagram, opts: NftJudgeOptions = {}): FirewallVerdict {
  const path: string[] = [];
  const reasons: string[] = [];
  let uncertain: FirewallVerdict | undefined;
  let lastAccept: { rule: NftRule; base: NftChain } | undefined;
  const model = rulesetModel(rs, pkt);
  for (const ch of inputPathChains(rs, pkt, opts)) {
    const w = walkChain(model, ch);
    path.push(...w.path);
    const o = w.outcome;
    if (o.kind === 'drop' || o.kind === 'reject')
      return { ...verdictOf(o.kind === 'drop' ? 'dropped' : 'rejected', o.rule, ch, path, reasons), via: o.via };
    if (o.kind === 'uncertain') {
      reasons.push(`${describeLocation(locationOf(o.rule, ch))}: ${o.rule.text}: ${o.reason}`);
      uncertain ??= { ...verdictOf('uncertain', o.rule, ch, path, reasons), via: o.via };
      continue;
    }
    if (o.kind === 'return') {
      if ((ch.policy ?? 'accept') === 'drop') {
        const location: RuleLocation = {
          tool: 'nft',
          family: ch.family,
          table: ch.table,
          chain: ch.name,
          entryChain: ch.name,
        };
        return {
          tool: 'nft',
          verdict: 'dropped',
          rule: 'policy drop',
          where: describeLocation(location),
          location,
          reasons,
          path,
          via: w.path.slice(0, 1),
        };
      }
      continue;
    }
    lastAccept = { rule: o.rule, base: ch };
  }
  if (uncertain) return { ...uncertain, path, reasons };
  if (lastAccept) return verdictOf('accepted', lastAccept.rule, lastAccept.base, path, reasons);
  return { tool: 'nft', verdict: 'accepted', reasons, path };
}

function locationOf(r: NftRule, base: NftChain): RuleLocation {
  const l: RuleLocation = { tool: 'nft', family: r.family, table: r.table, chain: r.chain, entryChain: base.name };
  if (r.handle !== undefined) l.handle = r.handle;
  return l;
}

function verdictOf(
  kind: FirewallVerdict['verdict'],
  rule: NftRule,
  base: NftChain,
  path: string[],
  reasons: string[],
): FirewallVerdict {
  const location = locationOf(rule, base);
  const v: FirewallVerdict = {
    tool: 'nft',
    verdict: kind,
    rule: rule.text,
    where: describeLocation(location),
    location,
    reasons,
    path,
  };
  if (rule.counters) v.counters = rule.counters;
  return v;
}
