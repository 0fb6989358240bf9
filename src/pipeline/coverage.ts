/**
 * What a capture let netdiag compare, and what it could not: "OK" on the wire means the first
 * list, nothing more. A capture never shows a firewall DROP on the receiver or delivery to the log
 * file; without configuration or frames from the receiver, the right destination MAC is unknown;
 * plain records carry no sequence numbers. Pure.
 */
import type { NetconsoleTarget } from '../config/target.js';
import { type Flow, NETCONSOLE_TTL } from './flow.js';
import { ttlLabel } from '../decode/addr.js';
import type { Coverage, LocalInterface, PipelineState } from './types.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** At most this many IPs are named in one item. */
const NAMED = 4;

function names(ips: readonly string[]): string {
  return ips.length > NAMED ? `${ips.slice(0, NAMED).join(', ')} and ${ips.length - NAMED} more` : ips.join(', ');
}

/** When every frame of these flows came through routers: the fewest routers, and that TTL; else undefined. */
function routedOnly(flows: readonly Flow[]): { routers: number; ttl: number } | undefined {
  let fewest: { routers: number; ttl: number } | undefined;
  for (const f of flows)
    for (const mac of f.dstMacs.keys()) {
      const routers = f.routersBefore(mac);
      if (routers === 0) return undefined;
      if (!fewest || routers < fewest.routers) fewest = { routers, ttl: f.dstMacTtl.get(mac)! };
    }
  return fewest;
}

export function coverage(
  state: Pick<PipelineState, 'flows' | 'ipMacs'>,
  targets: readonly NetconsoleTarget[],
  restricted: boolean,
  local: LocalInterface | undefined,
): Coverage {
  const compared: string[] = [];
  const notCompared: string[] = [];
  const flows: readonly Flow[] = state.flows;

  // The destination MAC of each IP the senders send to: against what?
  const byReference = new Map<string, string[]>();
  const unknown: string[] = [];
  const noMacs: string[] = [];
  for (const ip of new Set(flows.map(f => f.dstIp))) {
    const toIp = flows.filter(f => f.dstIp === ip);
    // A cooked capture (Linux SLL, as `-i any` gives) or a raw IP one has no destination MAC.
    if (!toIp.some(f => f.dstMacs.size > 0)) {
      noMacs.push(ip);
      continue;
    }
    const configured = targets.some(t => t.remoteIp === ip && t.remoteMac !== undefined);
    const routed = routedOnly(toIp);
    if (configured && routed) {
      const v6 = ip.includes(':');
      notCompared.push(
        `the configured remote MAC for ${ip}: its frames came through ${plural(routed.routers, 'router')} (${ttlLabel(ip, routed.ttl)}; netconsole sends ${NETCONSOLE_TTL[v6 ? 6 : 4]}), so here they carry the last router's MACs, not the sender's next hop's (netdiag verify checks it on the sender)`,
      );
    }
    const ref =
      configured && !routed
        ? 'the configuration'
        : local?.mac !== undefined && local.addresses.includes(ip)
          ? `${local.name}'s own MAC`
          : state.ipMacs.get(ip)?.size
            ? 'the frames it sends in this capture'
            : undefined;
    if (ref === undefined) unknown.push(ip);
    else byReference.set(ref, [...(byReference.get(ref) ?? []), ip]);
  }
  for (const [ref, ips] of byReference) compared.push(`destination MAC of ${names(ips)} (against ${ref})`);
  if (noMacs.length)
    notCompared.push(
      `destination MAC of ${names(noMacs)} (the capture holds no destination MAC: a Linux cooked capture, as on "any", or raw IP; capture on the interface itself)`,
    );
  if (unknown.length) {
    const them = unknown.length === 1 ? unknown[0]! : 'them';
    notCompared.push(`destination MAC of ${names(unknown)} (no configuration, no frame from ${them})`);
  }

  const extended = flows.filter(f => f.mode === 'extended').length;
  const plain = flows.filter(f => f.mode === 'plain').length;
  if (extended) compared.push(`sequence numbers of ${plural(extended, 'extended sender')}`);
  if (plain) notCompared.push(`loss on ${plural(plain, 'plain sender')} (plain records carry no sequence number)`);

  if (targets.length) compared.push(`${plural(targets.length, 'configured target')}: addresses, ports, mode`);
  else notCompared.push('the configuration (no --config or --netconsole)');
  if (local) compared.push(`addresses and MAC of ${local.name}`);
  if (restricted) notCompared.push('netconsole on other ports (--port given)');
  notCompared.push('firewall DROP and delivery to the log file: a capture cannot show them (netdiag verify can)');
  return { compared, notCompared };
}
