/**
 * The path a new UDP datagram to a local port takes through an iptables-save output: raw
 * PREROUTING, mangle PREROUTING, nat PREROUTING, mangle INPUT, filter INPUT, security INPUT, each
 * walked by the shared chain walker. User chains, -j/-g, RETURN and policies are followed. A DNAT
 * (or REDIRECT) in nat PREROUTING that certainly takes the datagram translates it: to another host
 * (a container behind a bridge) it goes on through mangle, filter and security FORWARD instead of
 * INPUT, as the kernel routes it. Pure.
 */
import type { Datagram, Dnat, FirewallVerdict, HostNet, RuleLocation } from '../model.js';
import { describeLocation } from '../model.js';
import { walkChain, type ChainModel, type RuleStep } from '../walker.js';
import { parseNatTo, placeDestination, translated } from '../dnat.js';
import { matchRule, NON_TERMINAL_TARGETS } from './match.js';
import type { IptablesSave, IptChain, IptRule, IptTable } from './parse.js';

const PREROUTING: Array<[string, string]> = [
  ['raw', 'PREROUTING'],
  ['mangle', 'PREROUTING'],
  ['nat', 'PREROUTING'],
];
const INPUT: Array<[string, string]> = [
  ['mangle', 'INPUT'],
  ['filter', 'INPUT'],
  ['security', 'INPUT'],
];
const FORWARD: Array<[string, string]> = [
  ['mangle', 'FORWARD'],
  ['filter', 'FORWARD'],
  ['security', 'FORWARD'],
];

/** What the judge knows beyond the rules: the host's networks, a DNAT another tool made. */
export interface IptablesJudgeOptions {
  net?: HostNet;
  /** A DNAT of nft's prerouting chains: applied after nat PREROUTING when iptables makes none. */
  dnat?: Dnat;
}

/** The target and its options of a rule (`DNAT`, `--to-destination 172.17.0.2:514`). */
function targetOptions(args: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  const j = args.findIndex(a => a === '-j' || a === '--jump');
  for (let i = j + 2; j >= 0 && i < args.length; i++) if (args[i]!.startsWith('--')) m.set(args[i]!, args[i + 1] ?? '');
  return m;
}

/** The DNAT a nat rule makes, or undefined when its destination cannot be read. */
function dnatOf(
  tool: 'iptables' | 'ip6tables',
  rule: IptRule,
  target: string,
  via: string[],
  pkt: Datagram,
  net: HostNet | undefined,
): Dnat | undefined {
  const opts = targetOptions(rule.args);
  let ip: string | undefined;
  let port: number | undefined;
  if (target === 'REDIRECT') {
    const p = opts.get('--to-ports');
    port = p === undefined ? pkt.dstPort : Number(p.split('-')[0]);
    if (!Number.isInteger(port)) return undefined;
  } else {
    const to = opts.get('--to-destination');
    const t = to === undefined ? undefined : parseNatTo(to);
    if (!t) return undefined;
    ({ ip, port } = t);
  }
  const place = ip === undefined ? { local: true } : placeDestination(ip, net, pkt.dstIp);
  const d: Dnat = {
    tool,
    toPort: port ?? pkt.dstPort,
    forwarded: !place.local,
    rule: rule.text,
    where: `${rule.table} ${rule.chain}`,
    line: rule.line,
    via,
  };
  if (ip !== undefined) d.toIp = ip;
  if ('oface' in place && place.oface !== undefined) d.oface = place.oface;
  if (rule.counters) d.counters = rule.counters;
  return d;
}

const BUILTIN = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

function describeTarget(t: string): string {
  if (t === 'DNAT' || t === 'REDIRECT') return 'changes the destination';
  if (t === 'QUEUE' || t === 'NFQUEUE') return 'a user-space program decides';
  return 'not evaluated';
}

/**
 * Whether raw PREROUTING's own rules certainly leave the datagram untracked (`-j NOTRACK`, `-j CT
 * --notrack`) before anything there decides: nat then never sees it.
 */
function untracked(save: IptablesSave, pkt: Datagram): boolean {
  for (const rule of save.tables.get('raw')?.chains.get('PREROUTING')?.rules ?? []) {
    const ev = matchRule(rule.args, pkt);
    if (ev.match !== true) continue;
    if (ev.target === 'NOTRACK' || (ev.target === 'CT' && rule.args.includes('--notrack'))) return true;
    if (ev.target !== undefined && !NON_TERMINAL_TARGETS.has(ev.target)) return false;
  }
  return false;
}

/** One table's chains as the walker sees them. `nat`: a DNAT or REDIRECT ends the walk as an accept. */
function tableModel(t: IptTable, pkt: Datagram, nat = false): ChainModel<IptChain, IptRule> {
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
      // The destination changes here; the judge reads the rule's --to-destination. A DNAT that may
      // or may not take the datagram leaves its destination, and so the later chains, uncertain.
      else if (nat && (target === 'DNAT' || target === 'REDIRECT'))
        step = ev.match === true ? { kind: 'accept', rule } : { kind: 'uncertain', rule, reason: ev.match.unknown };
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
  opts: IptablesJudgeOptions = {},
): FirewallVerdict {
  const path: string[] = [];
  const reasons: string[] = [];
  let uncertain: FirewallVerdict | undefined;
  let dnat: Dnat | undefined;
  /** A nat rule that may or may not have translated the datagram: a later drop holds only if it did not. */
  let maybeDnat: IptRule | undefined;
  let p = pkt;
  const withDnat = (v: FirewallVerdict): FirewallVerdict => (dnat ? { ...v, dnat } : v);
  const walk = (chains: Array<[string, string]>): FirewallVerdict | undefined => {
    for (const [tname, cname] of chains) {
      const t = save.tables.get(tname);
      const chain = t?.chains.get(cname);
      if (!t || !chain) continue;
      const nat = tname === 'nat' && cname === 'PREROUTING';
      const w = walkChain(tableModel(t, p, nat), chain);
      path.push(...w.path);
      const o = w.outcome;
      if ((o.kind === 'drop' || o.kind === 'reject') && maybeDnat) {
        // Said of the datagram as it came: the DNAT above may have sent it elsewhere.
        reasons.push(`${o.rule.text}: decides only if ${maybeDnat.text} does not take the datagram`);
        continue;
      }
      if (o.kind === 'drop' || o.kind === 'reject') {
        // A certain drop later on decides even after an uncertain table.
        return withDnat({
          ...verdict(tool, o.kind === 'drop' ? 'dropped' : 'rejected', o.rule, cname, path, reasons),
          via: o.via,
        });
      }
      if (o.kind === 'uncertain') {
        reasons.push(`${o.rule.text}: ${o.reason}`);
        uncertain ??= { ...verdict(tool, 'uncertain', o.rule, cname, path, reasons), via: o.via };
        // Undecided in nat PREROUTING: whether (and where) the destination is translated.
        if (nat) maybeDnat ??= o.rule;
        continue;
      }
      if (o.kind === 'return' && (chain.policy ?? 'ACCEPT') === 'DROP' && maybeDnat) {
        reasons.push(`${tname} ${cname}'s policy DROP: decides only if ${maybeDnat.text} does not take the datagram`);
        continue;
      }
      if (o.kind === 'return' && (chain.policy ?? 'ACCEPT') === 'DROP')
        return withDnat({ ...policyVerdict(tool, 'dropped', tname, chain, path, reasons), via: [`${tname} ${cname}`] });
      if (nat && o.kind === 'accept') {
        const target = matchRule(o.rule.args, p).target;
        if (target === 'DNAT' || target === 'REDIRECT') {
          const d = dnatOf(tool, o.rule, target, o.via, p, opts.net);
          if (!d) {
            reasons.push(`${o.rule.text}: target ${target} (its destination is not understood)`);
            uncertain ??= { ...verdict(tool, 'uncertain', o.rule, cname, path, reasons), via: o.via };
            maybeDnat ??= o.rule;
            continue;
          }
          dnat = d;
          p = translated(p, d);
        }
      }
      // accept: on to the next table
    }
    return undefined;
  };
  // A datagram raw PREROUTING leaves untracked (NOTRACK, CT --notrack) is never NATed.
  const pre = walk(untracked(save, p) ? PREROUTING.filter(([t]) => t !== 'nat') : PREROUTING);
  if (pre) return pre;
  if (!dnat && opts.dnat) {
    dnat = opts.dnat;
    p = translated(p, dnat);
  }
  const forward = dnat?.forwarded === true;
  const post = walk(forward ? FORWARD : INPUT);
  if (post) return post;
  if (uncertain) return withDnat({ ...uncertain, path, reasons });
  // Accepted: name the last ACCEPT that decided in filter INPUT (FORWARD), when there was one.
  const cname = forward ? 'FORWARD' : 'INPUT';
  const filter = save.tables.get('filter');
  const chain = filter?.chains.get(cname);
  if (filter && chain) {
    const o = walkChain(tableModel(filter, p), chain).outcome;
    if (o.kind === 'accept') return withDnat(verdict(tool, 'accepted', o.rule, cname, path, reasons));
    return withDnat(policyVerdict(tool, 'accepted', 'filter', chain, path, reasons));
  }
  return withDnat({ tool, verdict: 'accepted', reasons, path });
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
