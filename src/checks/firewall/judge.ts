/**
 * The firewall's verdict on one datagram from the outputs of both tools: iptables-save (or
 * ip6tables-save) and `nft -j list ruleset`. When iptables-save says its backend is nf_tables, its
 * tables also appear in the nft ruleset (as `xt` matches); they are judged from iptables-save and
 * skipped in the nft walk. A new construct of a tool goes in its evaluator (iptables/match.ts,
 * nft/eval.ts); a new tool is one more judge here. Pure.
 */
import type { Datagram, FirewallVerdict } from './model.js';
import { combineVerdicts } from './model.js';
import { parseIptablesSave } from './iptables/parse.js';
import { judgeIptables } from './iptables/judge.js';
import { parseNftJson } from './nft/parse.js';
import { judgeNft } from './nft/judge.js';

export interface FirewallTexts {
  /** iptables-save -c for IPv4, ip6tables-save -c for IPv6 (the one of the datagram's family). */
  iptables?: string;
  nft?: string;
}

/** Each tool's verdict, and the combined one (undefined when neither output was there). */
export function judgeFirewall(
  texts: FirewallTexts,
  pkt: Datagram,
): { verdicts: FirewallVerdict[]; verdict?: FirewallVerdict } {
  const verdicts: FirewallVerdict[] = [];
  let nfBackend = false;
  if (texts.iptables && texts.iptables.trim()) {
    const save = parseIptablesSave(texts.iptables);
    nfBackend = save.backend === 'nf_tables';
    if (save.tables.size) verdicts.push(judgeIptables(save, pkt));
  }
  if (texts.nft && texts.nft.trim()) {
    const rs = parseNftJson(texts.nft);
    const fam = pkt.family === 4 ? 'ip' : 'ip6';
    // iptables-nft keeps its rules in nft tables named like iptables' own; they were judged above.
    const skipTables = nfBackend ? ['filter', 'raw', 'mangle', 'nat', 'security'].map(t => `${fam} ${t}`) : [];
    if (!rs.errors.length) verdicts.push(judgeNft(rs, pkt, { skipTables }));
  }
  const verdict = combineVerdicts(verdicts);
  return verdict ? { verdicts, verdict } : { verdicts };
}
