/**
 * The checks over what the pipeline gathered: per-flow summaries, and findings about addressing
 * (against the configured targets, and against the MACs the capture shows each IP at),
 * completeness (sequence and msgid gaps, incomplete ncfrag messages, split lines), answers from
 * the receiver (ICMP port unreachable), and the capture itself. Pure.
 */
import { finding } from '../findings/catalog.js';
import { packetList, type Finding } from '../findings/finding.js';
import { formatMacNum, isBroadcastMac } from '../decode/addr.js';
import type { NetconsoleTarget } from '../config/target.js';
import { MAX_FLOWS, type Flow } from './flow.js';
import type { PipelineState } from './pipeline.js';
import type { AnalysisResult, SenderSummary } from './types.js';

function summarise(f: Flow): SenderSummary {
  const s: SenderSummary = {
    ip: f.srcIp, port: f.srcPort, dstIp: f.dstIp, dstPort: f.dstPort, mode: f.mode,
    packets: f.packets, messages: f.messages, bytes: f.bytes, first: f.first, last: f.last,
  };
  if (f.srcMacNum >= 0) s.mac = formatMacNum(f.srcMacNum);
  const dm = f.mainDstMac;
  if (dm >= 0) s.dstMac = formatMacNum(dm);
  if (f.extended > 0 && f.seq.first >= 0) {
    s.seqFirst = f.seq.first;
    s.seqLast = f.seq.max;
    s.seqGaps = f.seq.gaps;
    s.seqMissing = f.seq.missing;
    s.duplicates = f.seq.duplicates;
    s.reordered = f.seq.reordered;
  }
  const restarts = f.restartPackets.count;
  if (restarts) s.restarts = restarts;
  if (f.kernel) s.kernel = f.kernel;
  return s;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function wireFindings(state: PipelineState, targets: readonly NetconsoleTarget[], ports: number[]): AnalysisResult {
  const out: Finding[] = [];
  const flows = state.flows;
  const cap = state.capture;

  if (cap?.truncated) {
    out.push(finding('capture-truncated', {
      summary: `capture file is truncated or damaged; ${plural(cap.packets, 'packet')} before that point were analyzed`,
      evidence: [cap.truncation ?? 'the file ends inside a record'],
    }));
  }

  if (state.internalErrors.count) {
    out.push(finding('internal-error', {
      summary: `netdiag failed on ${plural(state.internalErrors.count, 'packet')} and went on without them (a bug in netdiag)`,
      evidence: [`packets ${packetList(state.internalErrors.list, state.internalErrors.count)}`, ...state.internalErrorReasons],
      packets: state.internalErrors.list,
    }));
  }
  if (state.flowOverflow.count) {
    out.push(finding('too-many-flows', {
      summary: `more than ${MAX_FLOWS} sender flows: ${plural(state.flowOverflow.count, 'datagram')} from further ones were counted but not tracked`,
      evidence: [`first at packets ${packetList(state.flowOverflow.list, state.flowOverflow.count)}`],
      packets: state.flowOverflow.list,
    }));
  }

  if (state.datagrams === 0) {
    out.push(finding('no-netconsole-traffic', {
      summary: `no UDP datagram to port ${ports.join(' or ')} among ${plural(state.packets, 'packet')}`,
      evidence: state.linkErrors.count ? [`${plural(state.linkErrors.count, 'packet')} could not be decoded: ${[...state.linkErrorReasons].join('; ')}`] : [],
    }));
  }

  for (const f of flows) {
    const who = `${f.sender} → ${f.dstIp}:${f.dstPort}`;
    // Addressing: the destination MAC against the MAC the destination IP is seen at.
    const learned = state.ipMacs.get(f.dstIp);
    for (const [mac, sample] of f.dstMacs) {
      const macStr = formatMacNum(mac);
      if (isBroadcastMac(macStr)) {
        out.push(finding('broadcast-dst-mac', {
          subject: f.sender,
          summary: `${who}: ${plural(sample.count, 'frame')} sent to the broadcast MAC`,
          evidence: [`packets ${packetList(sample.list, sample.count)}`],
          packets: sample.list,
          hint: learned?.size ? `Set the remote MAC to ${formatMacNum([...learned.keys()][0]!)} (the MAC ${f.dstIp} is seen at in this capture)` : undefined,
        }));
        continue;
      }
      if (learned && learned.size > 0 && !learned.has(mac)) {
        const [real, realSample] = [...learned.entries()].sort((a, b) => b[1].count - a[1].count)[0]!;
        out.push(finding('dst-mac-mismatch', {
          subject: f.sender,
          summary: `${who}: frames go to ${macStr}, but ${f.dstIp} is at ${formatMacNum(real)}`,
          evidence: [
            `netconsole frames to ${macStr}: packets ${packetList(sample.list, sample.count)}`,
            `frames from ${f.dstIp} come from ${formatMacNum(real)}: packets ${packetList(realSample.list, realSample.count)}`,
          ],
          packets: sample.list,
          hint: `On the sender, set the remote MAC to ${formatMacNum(real)} (netconsole=...@${f.dstIp}/${formatMacNum(real)}, or SYSLOGMACADDR=${formatMacNum(real)}) and reload netconsole`,
        }));
      }
    }

    if (f.unreachable.count) {
      out.push(finding('port-unreachable', {
        subject: f.sender,
        summary: `${f.dstIp} answered ${plural(f.unreachable.count, 'datagram')} from ${f.sender} with ICMP port unreachable: nothing listens on udp/${f.dstPort}, or a firewall REJECT rule answers for it`,
        evidence: [`ICMP port unreachable: packets ${packetList(f.unreachable.list, f.unreachable.count)}`],
        packets: f.unreachable.list,
        hint: `On ${f.dstIp}: check that the syslog daemon listens on UDP ${f.dstPort} (ss -ulnp 'sport = :${f.dstPort}'; rsyslog needs module(load="imudp") and input(type="imudp" port="${f.dstPort}")), and look for a REJECT rule (iptables-save -c, nft list ruleset); netdiag check does both`,
      }));
    }

    if (f.seq.gaps > 0) {
      const g = f.seq.lastGap!;
      out.push(finding('seq-gap', {
        subject: f.sender,
        summary: `${f.sender}: ${plural(f.seq.missing, 'sequence number')} missing in ${plural(f.seq.gaps, 'gap')} (loss, or records below the console log level, which use numbers but are not sent)`,
        evidence: [`gaps before packets ${packetList(f.seqGapPackets.list, f.seqGapPackets.count)}`, `last gap: ${plural(g.missing, 'record')} after seq ${g.after}`],
        packets: f.seqGapPackets.list,
      }));
    }
    if (f.seq.duplicates > 0) {
      out.push(finding('seq-duplicate', { subject: f.sender, summary: `${f.sender}: ${plural(f.seq.duplicates, 'record')} arrived more than once` }));
    }
    if (f.seq.reordered > 0) {
      out.push(finding('seq-reorder', { subject: f.sender, summary: `${f.sender}: ${plural(f.seq.reordered, 'record')} arrived out of order` }));
    }
    if (f.restartPackets.count > 0) {
      out.push(finding('sender-restart', {
        subject: f.sender,
        summary: `${f.sender}: the log starts again ${plural(f.restartPackets.count, 'time')} (reboot or netconsole reload)`,
        evidence: [`at packets ${packetList(f.restartPackets.list, f.restartPackets.count)}`],
        packets: f.restartPackets.list,
      }));
    }
    if (f.msgidLost > 0) {
      out.push(finding('msgid-gap', {
        subject: f.sender,
        summary: `${f.sender}: ${plural(f.msgidLost, 'message')} lost (msgid gaps)`,
        evidence: [`gaps before packets ${packetList(f.msgidGaps.list, f.msgidGaps.count)}`],
        packets: f.msgidGaps.list,
      }));
    }
    if (f.fragIncomplete.count > 0) {
      out.push(finding('fragment-incomplete', {
        subject: f.sender,
        summary: `${f.sender}: ${plural(f.fragIncomplete.count, 'fragmented message')} missing pieces`,
        evidence: [`first piece at packets ${packetList(f.fragIncomplete.list, f.fragIncomplete.count)}`],
        packets: f.fragIncomplete.list,
      }));
    }
    if (f.fragInvalid.count > 0) {
      out.push(finding('fragment-invalid', {
        subject: f.sender,
        summary: `${f.sender}: ${plural(f.fragInvalid.count, 'ncfrag piece')} inconsistent (${[...f.fragInvalidReasons][0]})`,
        evidence: [`packets ${packetList(f.fragInvalid.list, f.fragInvalid.count)}`, ...[...f.fragInvalidReasons]],
        packets: f.fragInvalid.list,
      }));
    }
    if (f.splitLines.count > 0) {
      const at1000 = f.splitAt1000;
      const perPrintk = f.splitLines.count - at1000;
      const why = [
        perPrintk ? `${plural(perPrintk, 'line')} sent as one datagram per printk call (a kernel before 3.5)` : '',
        at1000 ? `${plural(at1000, 'line')} over 1000 bytes cut by netconsole` : '',
      ].filter(Boolean).join('; ');
      out.push(finding('split-line', {
        subject: f.sender,
        summary: `${f.sender}: ${plural(f.splitLines.count, 'line')} arrived split across datagrams (joined here): ${why}; a syslog daemon shows each piece as a line of its own`,
        evidence: [`first pieces at packets ${packetList(f.splitLines.list, f.splitLines.count)}`],
        packets: f.splitLines.list,
      }));
    }
    if (f.malformedPackets.count > 0) {
      out.push(finding('malformed-payload', {
        subject: f.sender,
        summary: `${f.sender}: ${plural(f.malformedPackets.count, 'datagram')} neither netconsole nor syslog (${[...f.malformedReasons][0]})`,
        evidence: [`packets ${packetList(f.malformedPackets.list, f.malformedPackets.count)}`],
        packets: f.malformedPackets.list,
      }));
    }
    if (f.truncatedPackets.count > 0) {
      out.push(finding('packet-truncated', {
        subject: f.sender,
        summary: `${f.sender}: ${plural(f.truncatedPackets.count, 'datagram')} cut by the snapshot length`,
        evidence: [`packets ${packetList(f.truncatedPackets.list, f.truncatedPackets.count)}`],
        packets: f.truncatedPackets.list,
      }));
    }
    if (f.syslog > 0 && f.syslog >= f.plain + f.extended) {
      out.push(finding('syslog-traffic', { subject: f.sender, summary: `${f.sender}: ${plural(f.syslog, 'syslog datagram')} (not netconsole)` }));
    }
  }

  for (const [key, s] of state.strayUnreachable) {
    const [, dst] = key.split('>');
    out.push(finding('port-unreachable', {
      summary: `ICMP port unreachable for ${key.replace('>', ' → ')}: nothing listens on ${dst}`,
      evidence: [`packets ${packetList(s.list, s.count)} (the datagrams themselves are not in the capture)`],
      packets: s.list,
    }));
  }

  const udpAbandoned = state.ipFragAbandoned.filter(a => a.key.endsWith('|17'));
  if (udpAbandoned.length) {
    out.push(finding('ip-fragment-incomplete', {
      summary: `${plural(udpAbandoned.length, 'fragmented UDP datagram')} never reassembled (${udpAbandoned[0]!.reason})`,
      evidence: udpAbandoned.slice(0, 5).map(a => `fragments at packets ${packetList(a.packets, a.packets.length)}`),
      packets: udpAbandoned[0]!.packets.slice(0, 20),
    }));
  }

  out.push(...targetFindings(flows, targets, state));

  return {
    packets: state.packets,
    datagrams: state.datagrams,
    messages: state.messages,
    senders: flows.map(summarise),
    findings: out,
  };
}

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
