/**
 * The configured targets (--config, --netconsole) compared with the flows on the wire: each
 * target's IP, ports and MAC against the flows that go to it. Pure.
 */
import { finding } from '../findings/catalog.js';
import { packetList, type Finding } from '../findings/finding.js';
import { formatMacNum } from '../decode/addr.js';
import type { NetconsoleTarget } from '../config/target.js';
import type { Flow } from './flow.js';
import type { PipelineState } from './types.js';

function where(t: NetconsoleTarget, key?: string): string {
  const loc = t.line !== undefined ? `${t.source}:${t.line}` : t.source;
  return key ? `${loc} (${key})` : loc;
}

/** Compares each configured target with the flows on the wire. */
export function targetFindings(flows: readonly Flow[], targets: readonly NetconsoleTarget[], state: Pick<PipelineState, 'ipMacs'>): Finding[] {
  const out: Finding[] = [];
  // A flow to some target's IP belongs to that target: it is no evidence against another one.
  const claimed = new Set(flows.filter(f => targets.some(t => t.remoteIp === f.dstIp)));
  for (const t of targets) {
    const spec = `${t.localPort}@${t.localIp ?? ''}/${t.dev ?? ''},${t.remotePort}@${t.remoteIp}/${t.remoteMac ?? ''}`;
    const isIp = /^[\d.]+$|:/.test(t.remoteIp);
    // Flows to the target IP; or, when there are none, flows from the configured source port.
    let matched = flows.filter(f => f.dstIp === t.remoteIp);
    // Several senders may log to one server: with a local IP configured, judge only that sender's flows.
    if (t.localIp !== undefined && matched.some(f => f.srcIp === t.localIp)) matched = matched.filter(f => f.srcIp === t.localIp);
    if (matched.length === 0 && flows.length > 0) {
      const free = flows.filter(f => !claimed.has(f));
      const bySrcPort = free.filter(f => f.srcPort === t.localPort && (t.localIp === undefined || f.srcIp === t.localIp));
      const candidates = bySrcPort.length ? bySrcPort : t.localIp ? free.filter(f => f.srcIp === t.localIp) : [];
      if (candidates.length && isIp) {
        const seen = [...new Set(candidates.map(f => f.dstIp))].join(', ');
        out.push(finding('dst-ip-mismatch', {
          subject: candidates[0]!.sender,
          summary: `target ${t.remoteIp} from ${where(t)} gets nothing: the sender sends to ${seen}`,
          evidence: [`${where(t, 'remote IP')}: ${t.remoteIp}`, ...candidates.slice(0, 3).map(f => `${f.sender} → ${f.dstIp}:${f.dstPort} from packet #${f.firstPacket}`)],
          packets: candidates.map(f => f.firstPacket),
          hint: `Reload netconsole so it uses the configured target (netconsole=${spec}), or correct the configuration`,
        }));
        matched = [];
        continue;
      }
    }
    if (matched.length === 0) {
      out.push(finding('target-silent', {
        summary: `no datagram for the target ${t.remoteIp}:${t.remotePort} from ${where(t)}`,
        evidence: [`${where(t)}: netconsole=${spec}`],
      }));
      continue;
    }
    for (const f of matched) {
      if (f.dstPort !== t.remotePort) {
        out.push(finding('dst-port-mismatch', {
          subject: f.sender,
          summary: `${f.sender} sends to port ${f.dstPort}, ${where(t)} says ${t.remotePort}`,
          evidence: [`${where(t, 'remote port')}: ${t.remotePort}${t.explicit.includes('remotePort') ? '' : ' (default)'}`, `on the wire: ${f.dstIp}:${f.dstPort} from packet #${f.firstPacket}`],
          packets: [f.firstPacket],
          hint: `Make the sender and the receiver agree on one port: netconsole=...,${t.remotePort}@${t.remoteIp}/..., or listen on ${f.dstPort}`,
        }));
      }
      if (f.srcPort !== t.localPort) {
        out.push(finding('src-port-mismatch', {
          subject: f.sender,
          summary: `${f.sender} sends from port ${f.srcPort}, ${where(t)} says ${t.localPort}`,
          evidence: [`${where(t, 'local port')}: ${t.localPort}${t.explicit.includes('localPort') ? '' : ' (default)'}`, `on the wire from packet #${f.firstPacket}`],
          packets: [f.firstPacket],
        }));
      }
      if (t.localIp !== undefined && f.srcIp !== t.localIp) {
        out.push(finding('src-ip-mismatch', {
          subject: f.sender,
          summary: `${f.sender} sends from ${f.srcIp}, ${where(t)} says ${t.localIp}`,
          evidence: [`${where(t, 'local IP')}: ${t.localIp}`],
          packets: [f.firstPacket],
        }));
      }
      if (t.remoteMac !== undefined) {
        for (const [mac, sample] of f.dstMacs) {
          const macStr = formatMacNum(mac);
          if (macStr === t.remoteMac) continue;
          out.push(finding('dst-mac-mismatch', {
            subject: f.sender,
            summary: `${f.sender}: frames go to ${macStr}, ${where(t)} says ${t.remoteMac}`,
            evidence: [`${where(t, 'remote MAC')}: ${t.remoteMac}`, `frames to ${macStr}: packets ${packetList(sample.list, sample.count)}`],
            packets: sample.list,
            hint: `netconsole was loaded with another MAC than configured: reload it (the configured ${t.remoteMac} must be the next hop's MAC: check with ip neigh on the sender)`,
          }));
        }
        const learned = state.ipMacs.get(t.remoteIp);
        if (learned?.size && !learned.has(macToNum(t.remoteMac))) {
          const real = formatMacNum([...learned.keys()][0]!);
          out.push(finding('dst-mac-mismatch', {
            subject: f.sender,
            summary: `${where(t)} names remote MAC ${t.remoteMac}, but ${t.remoteIp} is at ${real} in this capture`,
            evidence: [`${where(t, 'remote MAC')}: ${t.remoteMac}`, `frames from ${t.remoteIp} come from ${real}`],
            hint: `Set the remote MAC to ${real} and reload netconsole`,
          }));
        }
      }
    }
  }
  return dedupe(out);
}

function macToNum(mac: string): number {
  return parseInt(mac.replace(/:/g, ''), 16);
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
