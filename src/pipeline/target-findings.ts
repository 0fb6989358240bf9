/**
 * The configured targets (--config, --netconsole) compared with the flows on the wire. Each flow
 * is matched to the target with the same remote IP and ports (and local IP, when the target names
 * one), then by mode; a matched flow is checked for mode, release prefix, device MAC and remote
 * MAC. A target without any matched flow explains the flow nearest to it (same remote IP with a
 * port or the local IP differing, or same ports and local IP to another remote IP) as a
 * misconfiguration; with nothing near it is silent. A flow that is neither matched nor near a
 * silent target is traffic the configuration does not describe: info, never an error against
 * another target. Pure.
 */
import { finding } from '../findings/catalog.js';
import { packetList, type Finding } from '../findings/finding.js';
import { endpoint, formatMacNum } from '../decode/addr.js';
import { formatNetconsoleSpec } from '../config/netconsole-spec.js';
import type { NetconsoleTarget } from '../config/target.js';
import type { Flow } from './flow.js';
import type { PipelineState } from './types.js';

/** A remote "IP" that is a host name (SYSLOGADDR allows one) cannot be compared with the wire. */
const isHostName = (t: NetconsoleTarget) => !/^[\d.]+$|:/.test(t.remoteIp);

function remoteAgrees(t: NetconsoleTarget, f: Flow): boolean {
  return isHostName(t) || f.dstIp === t.remoteIp;
}

function localAgrees(t: NetconsoleTarget, f: Flow): boolean {
  return t.localIp === undefined || f.srcIp === t.localIp;
}

function exactly(t: NetconsoleTarget, f: Flow): boolean {
  return remoteAgrees(t, f) && f.dstPort === t.remotePort && f.srcPort === t.localPort && localAgrees(t, f);
}

function modeAgrees(t: NetconsoleTarget, f: Flow): boolean {
  const m = f.mode;
  return m === 'extended' ? t.extended : m === 'plain' ? !t.extended : true;
}

/**
 * How near a flow is to a target it does not match exactly, 0 when it is not near at all. Near:
 * the same remote IP and one more thing (a port, or the local IP the target names), or the same
 * local port and local IP (the remote IP differs).
 */
function nearness(t: NetconsoleTarget, f: Flow): number {
  const srcPort = f.srcPort === t.localPort ? 1 : 0,
    dstPort = f.dstPort === t.remotePort ? 1 : 0;
  const namedLocal = t.localIp !== undefined && f.srcIp === t.localIp ? 2 : 0;
  if (remoteAgrees(t, f)) return srcPort + dstPort + namedLocal > 0 ? 4 + srcPort + dstPort + namedLocal : 0;
  if ((srcPort && localAgrees(t, f)) || namedLocal) return srcPort + dstPort + namedLocal;
  return 0;
}

/**
 * Compares each configured target with the flows on the wire. The flows a target explains (its
 * own, or near it) are added to `explained`.
 */
export function targetFindings(
  flows: readonly Flow[],
  targets: readonly NetconsoleTarget[],
  state: Pick<PipelineState, 'ipMacs'>,
  explained = new Set<Flow>(),
): Finding[] {
  if (targets.length === 0) return [];
  const where = locator(targets);
  const out: Finding[] = [];

  const matched = new Map<Flow, NetconsoleTarget>();
  for (const f of flows) {
    const ts = targets.filter(t => exactly(t, f));
    if (ts.length) matched.set(f, ts.find(t => modeAgrees(t, f)) ?? ts[0]!);
  }
  const served = new Set(matched.values());
  const near = new Map<Flow, NetconsoleTarget>();
  for (const f of flows) {
    if (matched.has(f)) continue;
    let best: NetconsoleTarget | undefined,
      score = 0;
    for (const t of targets) {
      if (served.has(t)) continue;
      const s = nearness(t, f);
      if (s > score) [best, score] = [t, s];
    }
    if (best) near.set(f, best);
  }

  for (const t of targets) {
    const mine = flows.filter(f => matched.get(f) === t);
    const nearby = flows.filter(f => near.get(f) === t);
    if (mine.length === 0 && nearby.length === 0) {
      out.push(
        finding('target-silent', {
          summary: `no datagram for the target ${endpoint(t.remoteIp, t.remotePort)} from ${where(t)}`,
          evidence: [`${where(t)}: netconsole=${formatNetconsoleSpec(t, { full: true })}`],
        }),
      );
      continue;
    }
    for (const f of mine) out.push(...formatFindings(t, f, where), ...macFindings(t, f, state, where));
    for (const f of nearby)
      out.push(...addressFindings(t, f, where), ...(remoteAgrees(t, f) ? macFindings(t, f, state, where) : []));
  }

  for (const f of [...matched.keys(), ...near.keys()]) explained.add(f);
  for (const f of flows) {
    // A flow on a port nobody named has its own finding (unexpected-port).
    if (matched.has(f) || near.has(f) || f.unexpectedPort) continue;
    out.push(
      finding('flow-not-configured', {
        subject: f.sender,
        summary: `${f.sender} → ${endpoint(f.dstIp, f.dstPort)} (${f.mode}) is not in the configuration compared`,
        evidence: [
          `from packet #${f.firstPacket}; configured: ${targets.map(t => formatNetconsoleSpec(t, { full: true })).join('; ')}`,
        ],
        packets: [f.firstPacket],
      }),
    );
  }
  return dedupe(out);
}

type Where = (t: NetconsoleTarget, key?: string) => string;

/** `--netconsole`, `/etc/sysconfig/netconsole:12`, `--netconsole target 2` when one source gives several. */
function locator(targets: readonly NetconsoleTarget[]): Where {
  const labels = new Map<NetconsoleTarget, string>();
  const bySource = new Map<string, NetconsoleTarget[]>();
  for (const t of targets) {
    const loc = t.line !== undefined ? `${t.source}:${t.line}` : t.source;
    bySource.set(loc, [...(bySource.get(loc) ?? []), t]);
  }
  for (const [loc, ts] of bySource) ts.forEach((t, i) => labels.set(t, ts.length > 1 ? `${loc} target ${i + 1}` : loc));
  return (t, key) => (key ? `${labels.get(t)} (${key})` : labels.get(t)!);
}

/** A flow near a target that gets nothing: what differs is why. */
function addressFindings(t: NetconsoleTarget, f: Flow, where: Where): Finding[] {
  const out: Finding[] = [];
  const spec = formatNetconsoleSpec(t, { full: true });
  if (!remoteAgrees(t, f)) {
    out.push(
      finding('dst-ip-mismatch', {
        subject: f.sender,
        summary: `target ${t.remoteIp} from ${where(t)} gets nothing: ${f.sender} sends to ${f.dstIp}`,
        evidence: [
          `${where(t, 'remote IP')}: ${t.remoteIp}`,
          `${f.sender} → ${endpoint(f.dstIp, f.dstPort)} from packet #${f.firstPacket}`,
        ],
        packets: [f.firstPacket],
        hint: `Reload netconsole so it uses the configured target (netconsole=${spec}), or correct the configuration`,
      }),
    );
  }
  if (f.dstPort !== t.remotePort) {
    out.push(
      finding('dst-port-mismatch', {
        subject: f.sender,
        summary: `${f.sender} sends to port ${f.dstPort}, ${where(t)} says ${t.remotePort}`,
        evidence: [
          `${where(t, 'remote port')}: ${t.remotePort}${t.explicit.includes('remotePort') ? '' : ' (default)'}`,
          `on the wire: ${endpoint(f.dstIp, f.dstPort)} from packet #${f.firstPacket}`,
        ],
        packets: [f.firstPacket],
        hint: `Make the sender and the receiver agree on one port: netconsole=...,${t.remotePort}@${t.remoteIp}/..., or listen on ${f.dstPort}`,
      }),
    );
  }
  if (f.srcPort !== t.localPort) {
    out.push(
      finding('src-port-mismatch', {
        subject: f.sender,
        summary: `${f.sender} sends from port ${f.srcPort}, ${where(t)} says ${t.localPort}`,
        evidence: [
          `${where(t, 'local port')}: ${t.localPort}${t.explicit.includes('localPort') ? '' : ' (default)'}`,
          `on the wire from packet #${f.firstPacket}`,
        ],
        packets: [f.firstPacket],
      }),
    );
  }
  if (!localAgrees(t, f)) {
    out.push(
      finding('src-ip-mismatch', {
        subject: f.sender,
        summary: `${f.sender} sends from ${f.srcIp}, ${where(t)} says ${t.localIp}`,
        evidence: [`${where(t, 'local IP')}: ${t.localIp}`],
        packets: [f.firstPacket],
      }),
    );
  }
  return out;
}

/** A matched flow: plain or extended, the release prefix, and the device's MAC as configured. */
function formatFindings(t: NetconsoleTarget, f: Flow, where: Where): Finding[] {
  const out: Finding[] = [];
  const reload = `Reload netconsole with the configured parameter (netconsole=${formatNetconsoleSpec(t, { full: true })}), or correct the configuration`;
  if (!modeAgrees(t, f)) {
    out.push(
      finding('mode-mismatch', {
        subject: f.sender,
        summary: `${f.sender} sends ${f.mode} records, ${where(t)} says ${t.extended ? 'extended (+)' : 'plain'}`,
        evidence: [
          `${where(t, 'extended')}: ${t.extended ? 'yes' : 'no'}`,
          `on the wire: ${f.extended} extended, ${f.plain} plain datagrams from packet #${f.firstPacket}`,
        ],
        packets: [f.firstPacket],
        hint: reload,
      }),
    );
  } else if (f.mode === 'extended' && t.release !== (f.release !== undefined)) {
    out.push(
      finding('release-mismatch', {
        subject: f.sender,
        summary: t.release
          ? `${f.sender} sends extended records without the release prefix, ${where(t)} says r`
          : `${f.sender} prefixes its records with the release ${f.release}, ${where(t)} has no r`,
        evidence: [`${where(t, 'release')}: ${t.release ? 'yes' : 'no'}`, `on the wire from packet #${f.firstPacket}`],
        packets: [f.firstPacket],
        hint: reload,
      }),
    );
  }
  if (t.dev?.includes(':') && f.srcMacStr !== undefined && f.srcMacStr !== t.dev) {
    out.push(
      finding('src-mac-mismatch', {
        subject: f.sender,
        summary: `${f.sender}: frames come from ${f.srcMacStr}, ${where(t)} names the device ${t.dev}`,
        evidence: [`${where(t, 'device')}: ${t.dev}`, `frames from ${f.srcMacStr} from packet #${f.firstPacket}`],
        packets: [f.firstPacket],
        hint: reload,
      }),
    );
  }
  return out;
}

/** The configured remote MAC against the frames, and against the MAC the remote IP is seen at. */
function macFindings(t: NetconsoleTarget, f: Flow, state: Pick<PipelineState, 'ipMacs'>, where: Where): Finding[] {
  if (t.remoteMac === undefined) return [];
  const out: Finding[] = [];
  // Frames that came through routers carry the last router's MAC as source and the next one's
  // (or the receiver's) as destination: the configured MAC is the sender's next hop's, which
  // such frames no longer show. Only frames straight from the sender are compared with it.
  const routed = (mac: number) => f.routersBefore(mac) > 0;
  for (const [mac, sample] of f.dstMacs) {
    const macStr = formatMacNum(mac);
    if (macStr === t.remoteMac || routed(mac)) continue;
    out.push(
      finding('dst-mac-mismatch', {
        subject: f.sender,
        summary: `${f.sender}: frames go to ${macStr}, ${where(t)} says ${t.remoteMac}`,
        evidence: [
          `${where(t, 'remote MAC')}: ${t.remoteMac}`,
          `frames to ${macStr}: packets ${packetList(sample.list, sample.count)}`,
        ],
        packets: sample.list,
        hint: `netconsole was loaded with another MAC than configured: reload it (the configured ${t.remoteMac} must be the next hop's MAC: check with ip neigh on the sender)`,
      }),
    );
  }
  const learned = state.ipMacs.get(t.remoteIp);
  const onlyRouted = f.dstMacs.size > 0 && [...f.dstMacs.keys()].every(routed);
  if (!onlyRouted && learned?.size && !learned.has(parseInt(t.remoteMac.replace(/:/g, ''), 16))) {
    const real = formatMacNum([...learned.keys()][0]!);
    out.push(
      finding('dst-mac-mismatch', {
        subject: f.sender,
        summary: `${where(t)} names remote MAC ${t.remoteMac}, but ${t.remoteIp} is at ${real} in this capture`,
        evidence: [`${where(t, 'remote MAC')}: ${t.remoteMac}`, `frames from ${t.remoteIp} come from ${real}`],
        hint: `Set the remote MAC to ${real} and reload netconsole`,
      }),
    );
  }
  return out;
}

/** The same code with the same summary once. */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter(f => {
    const k = `${f.code}|${f.summary}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
