/**
 * The fix for a dropping or rejecting verdict: an ACCEPT for the sender's datagrams, inserted
 * first in the chain where the datagram's walk reached the deciding rule, built from the verdict's
 * location. Pure.
 */
import type { FirewallVerdict } from './model.js';

export function acceptFix(v: FirewallVerdict, d: { srcIp?: string; dstPort: number; family: 4 | 6 }): string {
  const l = v.location;
  if (l?.tool === 'nft') {
    return `nft insert rule ${l.family} ${l.table} ${l.chain} ${d.srcIp ? `${d.family === 4 ? 'ip' : 'ip6'} saddr ${d.srcIp} ` : ''}udp dport ${d.dstPort} accept`;
  }
  const tool = l?.tool ?? (d.family === 6 ? 'ip6tables' : 'iptables');
  const table = l?.table ?? 'filter';
  return `${tool}${table === 'filter' ? '' : ` -t ${table}`} -I ${l?.entryChain ?? 'INPUT'} -p udp${d.srcIp ? ` -s ${d.srcIp}` : ''} --dport ${d.dstPort} -j ACCEPT`;
}
