/**
 * The fix for a dropping or rejecting verdict: an ACCEPT for the sender's datagrams, inserted
 * first in the chain where the datagram's walk reached the deciding rule, built from the verdict's
 * location. Where a firewall manager owns the rules (ufw, firewalld: their chains say so), the fix
 * is that manager's command: a rule inserted with iptables or nft would work until the manager's
 * next reload or the next boot, and then netconsole would be silent again. Pure.
 *
 * A new manager is one more entry in MANAGERS.
 */
import type { FirewallVerdict } from './model.js';

export interface FixDatagram {
  srcIp?: string;
  dstPort: number;
  family: 4 | 6;
}

/** A firewall manager: its fix when the verdict is in its rules, else undefined. */
type ManagerFix = (v: FirewallVerdict, d: FixDatagram) => string | undefined;

export function acceptFix(v: FirewallVerdict, d: FixDatagram): string {
  for (const m of MANAGERS) {
    const fix = m(v, d);
    if (fix) return fix;
  }
  return rawFix(v, d);
}

function rawFix(v: FirewallVerdict, d: FixDatagram): string {
  const l = v.location;
  // Decided after a DNAT: the rule meets the translated destination (address and port).
  const to = v.dnat?.toIp;
  const port = v.dnat?.toPort ?? d.dstPort;
  if (l?.tool === 'nft') {
    const ip = d.family === 4 ? 'ip' : 'ip6';
    return `nft insert rule ${l.family} ${l.table} ${l.chain} ${d.srcIp ? `${ip} saddr ${d.srcIp} ` : ''}${to ? `${ip} daddr ${to} ` : ''}udp dport ${port} accept`;
  }
  const tool = l?.tool ?? (d.family === 6 ? 'ip6tables' : 'iptables');
  const table = l?.table ?? 'filter';
  return `${tool}${table === 'filter' ? '' : ` -t ${table}`} -I ${l?.entryChain ?? 'INPUT'} -p udp${d.srcIp ? ` -s ${d.srcIp}` : ''}${to ? ` -d ${to}` : ''} --dport ${port} -j ACCEPT`;
}

/** The chain names of the walk (`filter ufw-user-input`, `inet firewalld filter_IN_public`: the last word). */
const chainsOf = (v: FirewallVerdict) => v.path.map(p => p.slice(p.lastIndexOf(' ') + 1));

/**
 * ufw (Ubuntu, Debian): its chains are `ufw-*` (IPv4) and `ufw6-*` (IPv6) in iptables' filter
 * table. The user's rules (`ufw allow`, `ufw deny`) live in ufw-user-input, walked after
 * ufw-before-input and before the after/reject chains and the INPUT policy (`ufw default deny`).
 * `ufw prepend` (ufw 0.36 and later) puts an allow first among the user's rules, so it wins over
 * a deny or reject of the user's and over the policy. A rule in ufw's own before-chains comes
 * from /etc/ufw/before.rules (before6.rules), which only an edit there changes.
 */
const ufw: ManagerFix = (v, d) => {
  const l = v.location;
  if (!l || l.tool === 'nft' || l.table !== 'filter') return undefined;
  const pre = d.family === 6 ? 'ufw6-' : 'ufw-';
  const chains = chainsOf(v);
  if (!chains.some(c => c.startsWith(pre))) return undefined;
  if (l.chain.startsWith(`${pre}before-`) || l.chain === `${pre}not-local`) {
    const file = d.family === 6 ? '/etc/ufw/before6.rules' : '/etc/ufw/before.rules';
    const sel = `-p udp${d.srcIp ? ` -s ${d.srcIp}` : ''} --dport ${d.dstPort}`;
    return `The rule is ufw's own, from ${file}: add -A ${pre}before-input ${sel} -j ACCEPT there, before the rule that ${v.verdict === 'rejected' ? 'rejects' : 'drops'} it, then ufw reload`;
  }
  // Decided after the user's rules were walked (in a later chain, by a rule of INPUT after ufw's
  // jumps, or by the policy): an allow first among them wins. Decided before them (a rule of
  // INPUT ahead of ufw's jumps): not ufw's to change.
  if (!chains.includes(`${pre}user-input`)) return undefined;
  return d.srcIp
    ? `ufw prepend allow proto udp from ${d.srcIp} to any port ${d.dstPort}`
    : `ufw prepend allow ${d.dstPort}/udp`;
};

/**
 * firewalld (Fedora, RHEL, SUSE): with its iptables backend its chains are `IN_<zone>` and
 * `IN_<zone>_{pre,log,deny,allow,post}`; with its nftables backend (table `inet firewalld`)
 * `filter_IN_<zone>` and the same suffixes. A rich rule of the zone the datagram went through goes
 * in its `_allow` chain, ahead of the zone's final reject and of the INPUT chain's; when a rule of
 * the zone's `_deny` chain (a rich drop or reject) decides, the accept needs `priority="-1"`
 * (firewalld 0.7 and later), which puts it in the `_pre` chain, before the denials. `--permanent`
 * keeps it, and the reload applies it.
 */
const firewalld: ManagerFix = (v, d) => {
  const l = v.location;
  if (!l) return undefined;
  const nft = l.tool === 'nft';
  if (nft ? l.table !== 'firewalld' : l.table !== 'filter') return undefined;
  const zoneChain = nft
    ? /^filter_IN_(?!policy_)(.+?)(?:_(pre|log|deny|allow|post))?$/
    : /^IN_(.+?)(?:_(pre|log|deny|allow|post))?$/;
  let zone: string | undefined;
  for (const c of chainsOf(v)) {
    const m = zoneChain.exec(c);
    if (m) zone = m[1];
  }
  // Its iptables backend dispatches to the zones from INPUT_ZONES: chains named IN_ without it
  // are someone else's.
  if (!zone || (!nft && !chainsOf(v).includes('INPUT_ZONES'))) return undefined;
  const inDeny = zoneChain.exec(l.chain)?.[2] === 'deny';
  const rule = [
    'rule',
    ...(inDeny ? ['priority="-1"'] : []),
    `family="${d.family === 6 ? 'ipv6' : 'ipv4'}"`,
    ...(d.srcIp ? [`source address="${d.srcIp}"`] : []),
    `port port="${d.dstPort}" protocol="udp" accept`,
  ].join(' ');
  return `firewall-cmd --permanent --zone=${zone} --add-rich-rule='${rule}' && firewall-cmd --reload`;
};

/**
 * Docker: a published port is a DNAT in nat DOCKER, and the datagram then passes filter FORWARD,
 * whose first jump is to DOCKER-USER, the chain Docker leaves to the administrator (it rewrites
 * its own chains, and puts its jumps back first in FORWARD, on every restart). An accept there
 * meets the translated datagram: the container's address and port (walked on the lab with Docker
 * 28's layout: DOCKER-USER, DOCKER-FORWARD, DOCKER-BRIDGE, DOCKER).
 */
const docker: ManagerFix = (v, d) => {
  const l = v.location;
  if (!v.dnat?.forwarded || !l || l.tool === 'nft' || l.table !== 'filter' || l.entryChain !== 'FORWARD')
    return undefined;
  if (!v.path.includes('filter DOCKER-USER')) return undefined;
  const to = v.dnat.toIp;
  return `${l.tool} -I DOCKER-USER -p udp${d.srcIp ? ` -s ${d.srcIp}` : ''}${to ? ` -d ${to}` : ''} --dport ${v.dnat.toPort} -j ACCEPT`;
};

const MANAGERS: ManagerFix[] = [docker, ufw, firewalld];
