/**
 * The path a new UDP datagram to a local port takes through an nft ruleset: the base chains
 * hooked at netdev ingress, prerouting and input (families ip/ip6/inet as fits the datagram), in
 * priority order, each walked by the shared chain walker; policies; jump/goto/return. A `dnat to`
 * (or `redirect`) in a prerouting chain that certainly takes the datagram translates it: to another
 * host it passes the forward hook's chains instead of input's. Pure.
 */
import type { Datagram, Dnat, FirewallVerdict, HostNet, RuleLocation } from '../model.js';
import { describeLocation } from '../model.js';
import { walkChain, type ChainModel, type RuleStep } from '../walker.js';
import { placeDestination, translated } from '../dnat.js';
import { evalRule } from './eval.js';
import type { NftChain, NftRule, NftRuleset } from './parse.js';

export interface NftJudgeOptions {
  /** Skip tables that iptables-nft made (judged from iptables-save instead): `ip filter`, ... */
  skipTables?: string[];
  net?: HostNet;
  /** A DNAT of iptables' nat PREROUTING: applied from the dstnat priority (-100) on, when nft makes none. */
  dnat?: Dnat;
}

/** The priority of destination NAT at prerouting (NF_IP_PRI_NAT_DST, nft's `dstnat`). */
const DSTNAT = -100;

/** The base chains a datagram passes, in order: ingress, prerouting, then input (or forward); by priority. */
function inputPathChains(rs: NftRuleset, pkt: Datagram, opts: NftJudgeOptions = {}, last = 'input'): NftChain[] {
  const fams = pkt.family === 4 ? ['ip', 'inet'] : ['ip6', 'inet'];
  const skip = new Set(opts.skipTables ?? []);
  const order: Record<string, number> = { ingress: 0, prerouting: 1, [last]: 2 };
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
        case 'dnat':
          // The destination changes here: the judge reads it (a nat chain's verdict is accept). One
          // that may or may not take the datagram leaves its destination, and the later chains, uncertain.
          step =
            match === true
              ? { kind: 'accept', rule: v.rule }
              : { kind: 'uncertain', rule: v.rule, reason: match.unknown };
          break;
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

/** The DNAT a rule makes, when it has a `dnat` / `redirect` statement that netdiag can read. */
function dnatOf(rs: NftRuleset, rule: NftRule, base: NftChain, via: string[], pkt: Datagram, net: HostNet | undefined) {
  const v = evalRule(rule, pkt, rs.sets).verdict;
  if (v?.kind !== 'dnat') return undefined;
  if (!v.to) return { unreadable: true as const };
  const ip = v.to.ip;
  const place = ip === undefined ? { local: true } : placeDestination(ip, net, pkt.dstIp);
  const location = locationOf(rule, base);
  const d: Dnat = {
    tool: 'nft',
    toPort: v.to.port ?? pkt.dstPort,
    forwarded: !place.local,
    rule: rule.text,
    where: describeLocation(location),
    via,
  };
  if (ip !== undefined) d.toIp = ip;
  if ('oface' in place && place.oface !== undefined) d.oface = place.oface;
  if (rule.counters) d.counters = rule.counters;
  return d;
}

export function judgeNft(rs: NftRuleset, pkt: Datagram, opts: NftJudgeOptions = {}): FirewallVerdict {
  const path: string[] = [];
  const reasons: string[] = [];
  let uncertain: FirewallVerdict | undefined;
  let lastAccept: { rule: NftRule; base: NftChain } | undefined;
  let dnat: Dnat | undefined;
  /** A nat rule that may or may not have translated the datagram: a later drop holds only if it did not. */
  let maybeDnat: NftRule | undefined;
  let p = pkt;
  const withDnat = (v: FirewallVerdict): FirewallVerdict => (dnat ? { ...v, dnat } : v);
  const walk = (chains: NftChain[]): FirewallVerdict | undefined => {
    for (const ch of chains) {
      // iptables' DNAT happens at its nat table's priority: the chains after it see the translation.
      if (!dnat && opts.dnat && (ch.hook !== 'prerouting' || (ch.prio ?? 0) > DSTNAT)) {
        dnat = opts.dnat;
        p = translated(p, dnat);
      }
      const w = walkChain(rulesetModel(rs, p), ch);
      path.push(...w.path);
      const o = w.outcome;
      if ((o.kind === 'drop' || o.kind === 'reject') && maybeDnat) {
        // Said of the datagram as it came: the nat rule above may have sent it elsewhere.
        reasons.push(
          `${describeLocation(locationOf(o.rule, ch))}: ${o.rule.text}: decides only if ${maybeDnat.text} does not take the datagram`,
        );
        continue;
      }
      if (o.kind === 'drop' || o.kind === 'reject')
        return withDnat({
          ...verdictOf(o.kind === 'drop' ? 'dropped' : 'rejected', o.rule, ch, path, reasons),
          via: o.via,
        });
      if (o.kind === 'uncertain') {
        reasons.push(`${describeLocation(locationOf(o.rule, ch))}: ${o.rule.text}: ${o.reason}`);
        uncertain ??= { ...verdictOf('uncertain', o.rule, ch, path, reasons), via: o.via };
        // Undecided in a nat chain of prerouting: whether (and where) the destination is translated.
        if (ch.hook === 'prerouting' && ch.type === 'nat' && !dnat) maybeDnat ??= o.rule;
        continue;
      }
      if (o.kind === 'return') {
        if ((ch.policy ?? 'accept') === 'drop' && maybeDnat) {
          reasons.push(
            `${ch.family} ${ch.table} ${ch.name}'s policy drop: decides only if ${maybeDnat.text} does not take the datagram`,
          );
          continue;
        }
        if ((ch.policy ?? 'accept') === 'drop') {
          const location: RuleLocation = {
            tool: 'nft',
            family: ch.family,
            table: ch.table,
            chain: ch.name,
            entryChain: ch.name,
          };
          return withDnat({
            tool: 'nft',
            verdict: 'dropped',
            rule: 'policy drop',
            where: describeLocation(location),
            location,
            reasons,
            path,
            via: w.path.slice(0, 1),
          });
        }
        continue;
      }
      if (ch.hook === 'prerouting' && !dnat) {
        const d = dnatOf(rs, o.rule, ch, o.via, p, opts.net);
        if (d && 'unreadable' in d) {
          reasons.push(
            `${describeLocation(locationOf(o.rule, ch))}: ${o.rule.text}: its destination is not understood`,
          );
          uncertain ??= { ...verdictOf('uncertain', o.rule, ch, path, reasons), via: o.via };
          maybeDnat ??= o.rule;
          continue;
        }
        if (d) {
          dnat = d;
          p = translated(p, d);
          continue;
        }
      }
      lastAccept = { rule: o.rule, base: ch };
    }
    return undefined;
  };
  const pre = walk(inputPathChains(rs, p, opts).filter(c => c.hook !== 'input'));
  if (pre) return pre;
  if (!dnat && opts.dnat) {
    dnat = opts.dnat;
    p = translated(p, dnat);
  }
  const last = dnat?.forwarded ? 'forward' : 'input';
  const post = walk(inputPathChains(rs, p, opts, last).filter(c => c.hook === last));
  if (post) return post;
  if (uncertain) return withDnat({ ...uncertain, path, reasons });
  if (lastAccept) return withDnat(verdictOf('accepted', lastAccept.rule, lastAccept.base, path, reasons));
  return withDnat({ tool: 'nft', verdict: 'accepted', reasons, path });
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
