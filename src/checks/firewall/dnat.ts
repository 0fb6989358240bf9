/**
 * A destination NAT on the datagram's way, shared by both tools: where its destination goes
 * (`172.17.0.2:514`, a port only, a REDIRECT to this host), whether that is this host or another
 * one behind a bridge (a container: the datagram then passes the forward hook, not input), and the
 * datagram as the later chains see it. Walked on the lab with Docker 28's rules (written out by
 * hand, fixtures/checks/iptables/walked-docker-*): `-j DNAT --to-destination 172.17.0.2:514` in nat
 * DOCKER sends the datagram through filter FORWARD (DOCKER-USER, DOCKER-FORWARD), never filter
 * INPUT. Pure.
 */
import { inNetwork } from './address.js';
import type { Datagram, Dnat, HostNet } from './model.js';

/** `172.17.0.2:514`, `172.17.0.2`, `:5140`, `[fd00::2]:514`, `172.17.0.2-172.17.0.9:514-515` → the first. */
export function parseNatTo(spec: string): { ip?: string; port?: number } | undefined {
  let s = spec.trim();
  let ip: string | undefined;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.+))?$/.exec(s);
  if (v6) {
    ip = v6[1];
    port = v6[2];
  } else if ((s.match(/:/g) ?? []).length > 1) ip = s;
  else {
    const i = s.indexOf(':');
    if (i >= 0) {
      port = s.slice(i + 1);
      s = s.slice(0, i);
    }
    ip = s || undefined;
  }
  // A range: the kernel takes the first free one; netdiag names the first.
  ip = ip?.split('-')[0];
  const p = port === undefined ? undefined : Number(port.split('-')[0]);
  if (p !== undefined && !(Number.isInteger(p) && p > 0 && p < 65536)) return undefined;
  if (ip !== undefined && inNetwork(ip, ip) === undefined) return undefined;
  if (ip === undefined && p === undefined) return undefined;
  return { ...(ip !== undefined ? { ip } : {}), ...(p !== undefined ? { port: p } : {}) };
}

/**
 * Where a translated destination is: this host (one of its addresses, or loopback: input) or
 * another, and the interface whose network holds it (the route a forwarded datagram takes, for
 * `-o` / `oifname`). Without the host's addresses a destination other than the datagram's own
 * (`own`) is taken as another host, with the output interface unknown.
 */
export function placeDestination(
  ip: string,
  net: HostNet | undefined,
  own?: string,
): { local: boolean; oface?: string } {
  const lower = ip.toLowerCase();
  // The datagram's own address (a DNAT that changes only the port), 127/8, ::1: always this host.
  if (lower === own?.toLowerCase() || inNetwork(ip, '127.0.0.0/8') === true || inNetwork(ip, '::1/128') === true)
    return { local: true };
  if (!net) return { local: false };
  if (net.links.some(l => l.addrs.some(a => a.address.toLowerCase() === lower))) return { local: true };
  // The longest prefix that holds it.
  let best: { name: string; prefix: number } | undefined;
  for (const l of net.links)
    for (const a of l.addrs)
      if (inNetwork(ip, `${a.address}/${a.prefix}`) === true && (!best || a.prefix > best.prefix))
        best = { name: l.name, prefix: a.prefix };
  return best ? { local: false, oface: best.name } : { local: false };
}

/** The datagram after the DNAT, as the later chains see it. */
export function translated(pkt: Datagram, d: Dnat): Datagram {
  const out: Datagram = { ...pkt, dstPort: d.toPort, dnat: true };
  if (d.toIp !== undefined) out.dstIp = d.toIp;
  if (d.forwarded) out.forward = d.oface !== undefined ? { oface: d.oface } : {};
  return out;
}

/** `172.17.0.2:514` (an IPv6 address in brackets), or `this host's port 5140` for a REDIRECT. */
export function natDestination(d: Pick<Dnat, 'toIp' | 'toPort'>): string {
  if (d.toIp === undefined) return `this host's port ${d.toPort}`;
  return d.toIp.includes(':') ? `[${d.toIp}]:${d.toPort}` : `${d.toIp}:${d.toPort}`;
}
