/**
 * The firewall's verdict on one datagram from the outputs of both tools: iptables-save (or
 * ip6tables-save) and `nft -j list ruleset`. When iptables-save says its backend is nf_tables, its
 * tables also appear in the nft ruleset (as `xt` matches); they are judged from iptables-save and
 * skipped in the nft walk. A new construct of a tool goes in its evaluator (iptables/match.ts,
 * nft/eval.ts); a new tool is one more judge here. Pure.
 */
import type { Datagram, FirewallVerdict, HostNet } from './model.js';
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

/**
 * Each tool's verdict, and the combined one (undefined when neither output was there). A DNAT one
 * tool makes in its prerouting chains is applied in the other's walk too (the kernel runs both on
 * the same datagram), so both judge the translated datagram on the same hook.
 * @param net this host's addresses: whether a DNAT's destination is this host or another.
 */
export function judgeFirewall(
  texts: FirewallTexts,
  pkt: Datagram,
  net?: HostNet,
): { verdicts: FirewallVerdict[]; verdict?: FirewallVerdict } {
  const verdicts: FirewallVerdict[] = [];
  let nfBackend = false;
  const save = texts.iptables && texts.iptables.trim() ? parseIptablesSave(texts.iptables) : undefined;
  if (save) nfBackend = save.backend === 'nf_tables';
  const rs = texts.nft && texts.nft.trim() ? parseNftJson(texts.nft) : undefined;
  const fam = pkt.family === 4 ? 'ip' : 'ip6';
  // iptables-nft keeps its rules in nft tables named like iptables' own; they were judged above.
  const skipTables = nfBackend ? ['filter', 'raw', 'mangle', 'nat', 'security'].map(t => `${fam} ${t}`) : [];
  const ctx = net ? { net } : {};
  let ipt = save?.tables.size ? judgeIptables(save, pkt, undefined, ctx) : undefined;
  const nft =
    rs && !rs.errors.length
      ? judgeNft(rs, pkt, { skipTables, ...ctx, ...(ipt?.dnat ? { dnat: ipt.dnat } : {}) })
      : undefined;
  // nft's own DNAT: iptables' walk again, with it.
  if (save && ipt && !ipt.dnat && nft?.dnat) ipt = judgeIptables(save, pkt, undefined, { ...ctx, dnat: nft.dnat });
  if (ipt) verdicts.push(ipt);
  if (nft) verdicts.push(nft);
  const verdict = combineVerdicts(verdicts);
  return verdict ? { verdicts, verdict } : { verdicts };
}
