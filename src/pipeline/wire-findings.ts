/**
 * The checks over what the pipeline gathered: per-flow summaries, and findings about addressing
 * (against the configured targets, and against the MACs the capture shows each IP at),
 * completeness (sequence and msgid gaps, incomplete ncfrag messages, split lines), answers from
 * the receiver (ICMP port unreachable), and the capture itself. Pure.
 *
 * Most per-flow findings are one row of FLOW_FINDINGS (flow-findings.ts): a count, the packets
 * that show it, and a summary. A new one is a row added there (and its code in
 * src/findings/codes-wire.ts).
 */
import { codeInfo, finding } from '../findings/catalog.js';
import { packetList, type Finding } from '../findings/finding.js';
import { endpoint, formatMacNum, isBroadcastMac, isGroupMac, ttlLabel } from '../decode/addr.js';
import type { NetconsoleTarget } from '../config/target.js';
import { type Flow, NETCONSOLE_TTL } from './flow.js';
import { MAX_FLOWS } from './flow-table.js';
import { coverage } from './coverage.js';
import { targetFindings } from './target-findings.js';
import type { AnalysisResult, LocalInterface, PipelineState, SenderSummary, StrayAnswers } from './types.js';

function summarise(f: Flow): SenderSummary {
  const s: SenderSummary = {
    ip: f.srcIp,
    port: f.srcPort,
    dstIp: f.dstIp,
    dstPort: f.dstPort,
    mode: f.mode,
    packets: f.packets,
    messages: f.messages,
    bytes: f.bytes,
    first: f.first,
    last: f.last,
  };
  if (f.srcMacNum >= 0) s.mac = formatMacNum(f.srcMacNum);
  const dm = f.mainDstMac;
  if (dm >= 0) {
    s.dstMac = formatMacNum(dm);
    const routers = f.routersBefore(dm);
    if (routers > 0) {
      s.routers = routers;
      s.ttl = f.dstMacTtl.get(dm)!;
    }
  }
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

import { type Context, FLOW_FINDINGS, flowFinding, plural, rejectFix } from './flow-findings.js';

/** IPv4 or IPv6 multicast, or the IPv4 limited broadcast: no single host's address. */
const isGroupIp = (ip: string) => ip.startsWith('ff') || ip === '255.255.255.255' || /^(22[4-9]|23\d)\./.test(ip);

/**
 * Frames that came through routers were addressed by the last router, not by the sender: the fix
 * of a wrong destination MAC is then on that router. Undefined for frames straight from the sender.
 */
function routedHint(f: Flow, mac: number, macStr: string): string | undefined {
  const routers = f.routersBefore(mac);
  if (routers === 0) return undefined;
  const v6 = f.dstIp.includes(':');
  const ttl = ttlLabel(f.dstIp, f.dstMacTtl.get(mac));
  const last = f.srcMacStr === undefined ? 'the last router' : `the last router (${f.srcMacStr})`;
  return `These frames came through ${plural(routers, 'router')} (${ttl}; netconsole sends ${NETCONSOLE_TTL[v6 ? 6 : 4]}): ${last} sends them to ${macStr}, so the sender's remote MAC is not the cause; check that router's neighbour entry for ${f.dstIp} (ip neigh show ${f.dstIp} on it)`;
}

/**
 * sniff: the capturing interface knows its own MAC and addresses. A frame to one of its addresses
 * must come to its MAC; a frame to its MAC must be addressed to one of its addresses, or its
 * kernel drops it before any socket.
 */
function localFindings(f: Flow, local: LocalInterface): Finding[] {
  if (local.mac === undefined) return [];
  const out: Finding[] = [];
  const who = `${f.sender} → ${endpoint(f.dstIp, f.dstPort)}`;
  const mine = local.addresses.includes(f.dstIp);
  const addresses = local.addresses.slice(0, 4).join(', ') + (local.addresses.length > 4 ? ', ...' : '');
  for (const [mac, sample] of f.dstMacs) {
    const macStr = formatMacNum(mac);
    if (isGroupMac(macStr)) continue;
    const frames = `netconsole frames to ${macStr}: packets ${packetList(sample.list, sample.count)}`;
    const iface = `${local.name}: ${local.mac}, ${addresses || 'no address'}`;
    if (mine && macStr !== local.mac) {
      out.push(
        finding('dst-mac-mismatch', {
          subject: f.sender,
          summary: `${who}: frames go to ${macStr}, but ${f.dstIp} is this host's address on ${local.name}, at ${local.mac}`,
          evidence: [frames, iface],
          packets: sample.list,
          hint:
            routedHint(f, mac, macStr) ??
            `On the sender, set the remote MAC to ${local.mac} (netconsole=...@${f.dstIp}/${local.mac}, or SYSLOGMACADDR=${local.mac}) and reload netconsole`,
        }),
      );
    } else if (!mine && macStr === local.mac && !isGroupIp(f.dstIp)) {
      const family = f.dstIp.includes(':') ? (a: string) => a.includes(':') : (a: string) => !a.includes(':');
      const right = local.addresses.find(family);
      out.push(
        finding('dst-ip-mismatch', {
          subject: f.sender,
          summary: `${who}: frames come to ${local.name} (${local.mac}) addressed to ${f.dstIp}, which is not one of its addresses: its kernel drops them before any socket`,
          evidence: [frames, iface],
          packets: sample.list,
          hint: right
            ? `On the sender, set the remote IP to ${right} (netconsole=...,${f.dstPort}@${right}/${local.mac}) and reload netconsole`
            : `On the sender, set the remote IP to an address of ${local.name} and reload netconsole`,
        }),
      );
    }
  }
  return out;
}

/** The destination MACs of a flow against broadcast and against the MAC its destination is seen at. */
function macFindings(f: Flow, state: PipelineState, local: LocalInterface | undefined): Finding[] {
  const out: Finding[] = [];
  const who = `${f.sender} → ${endpoint(f.dstIp, f.dstPort)}`;
  // This host's own MAC for its own address is known better than from frames.
  const ownAddress = local?.mac !== undefined && local.addresses.includes(f.dstIp);
  const learned = ownAddress ? undefined : state.ipMacs.get(f.dstIp);
  for (const [mac, sample] of f.dstMacs) {
    const macStr = formatMacNum(mac);
    if (isBroadcastMac(macStr)) {
      out.push(
        finding('broadcast-dst-mac', {
          subject: f.sender,
          summary: `${who}: ${plural(sample.count, 'frame')} sent to the broadcast MAC`,
          evidence: [`packets ${packetList(sample.list, sample.count)}`],
          packets: sample.list,
          hint: learned?.size
            ? `Set the remote MAC to ${formatMacNum([...learned.keys()][0]!)} (the MAC ${f.dstIp} is seen at in this capture)`
            : undefined,
        }),
      );
      continue;
    }
    if (learned && learned.size > 0 && !learned.has(mac)) {
      const [real, realSample] = [...learned.entries()].sort((a, b) => b[1].count - a[1].count)[0]!;
      out.push(
        finding('dst-mac-mismatch', {
          subject: f.sender,
          summary: `${who}: frames go to ${macStr}, but ${f.dstIp} is at ${formatMacNum(real)}`,
          evidence: [
            `netconsole frames to ${macStr}: packets ${packetList(sample.list, sample.count)}`,
            `frames from ${f.dstIp} come from ${formatMacNum(real)}: packets ${packetList(realSample.list, realSample.count)}`,
          ],
          packets: sample.list,
          hint:
            routedHint(f, mac, macStr) ??
            `On the sender, set the remote MAC to ${formatMacNum(real)} (netconsole=...@${f.dstIp}/${formatMacNum(real)}, or SYSLOGMACADDR=${formatMacNum(real)}) and reload netconsole`,
        }),
      );
    }
  }
  return out;
}

/** ICMP answers about datagrams the capture does not hold. */
function strayFinding(a: StrayAnswers): Finding {
  const s = a.answers.sample;
  const evidence = [`packets ${packetList(s.list, s.count)} (the datagrams themselves are not in the capture)`];
  const from = [...a.answers.from].join(', ');
  const names = [...a.answers.names].join(', ');
  switch (a.kind) {
    case 'port':
      return finding('port-unreachable', {
        summary: `ICMP port unreachable for ${a.src} → ${a.dst}: nothing listens on ${a.dst}`,
        evidence,
        packets: s.list,
      });
    case 'refused': {
      const [receiver, port] = splitEndpoint(a.dst),
        [sender] = splitEndpoint(a.src);
      return finding('firewall-reject', {
        summary: `${from} refused ${a.src} → ${a.dst} with ICMP ${names}: a firewall REJECT rule`,
        evidence,
        packets: s.list,
        hint: rejectFix(receiver, sender, port),
      });
    }
    case 'undeliverable':
      return finding('dst-unreachable', {
        summary: `${from} answered ${a.src} → ${a.dst} with ICMP ${names}: the network cannot deliver them`,
        evidence,
        packets: s.list,
      });
  }
}

/** `ip:port` or `[ip6]:port` back into the address and the port. */
function splitEndpoint(e: string): [string, number] {
  const colon = e.lastIndexOf(':');
  return [e.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(e.slice(colon + 1))];
}

/** More senders than this with one finding code make one finding of them. */
const FLOOD_SENDERS = 3;
/** Senders whose own summary the merged finding shows as evidence. */
const FLOOD_SHOWN = 5;

/**
 * The same finding on many senders (a flood of spoofed sources, or one fault shared by a fleet)
 * becomes one finding with the count, the first few senders' own summaries as evidence, and every
 * sender in `subjects`: the one real problem in a capture is not buried under thousands of lines.
 */
function mergeFloods(findings: Finding[]): Finding[] {
  const byCode = new Map<string, Finding[]>();
  for (const f of findings) if (f.subject !== undefined) byCode.set(f.code, [...(byCode.get(f.code) ?? []), f]);
  const merged = new Map<Finding, Finding>();
  for (const group of byCode.values()) {
    const subjects = [...new Set(group.map(f => f.subject!))];
    if (subjects.length <= FLOOD_SENDERS) continue;
    const first = group[0]!;
    const shown = group.slice(0, FLOOD_SHOWN);
    const one: Finding = {
      ...first,
      summary: `${codeInfo(first.code)?.title ?? first.code}: ${subjects.length} senders (${subjects.slice(0, 3).join(', ')}, ...)`,
      evidence: [
        ...shown.map(f => f.summary),
        ...(group.length > shown.length
          ? [`and ${plural(group.length - shown.length, 'more finding')} like these (--json lists every sender)`]
          : []),
      ],
      packets: shown.flatMap(f => f.packets ?? []).slice(0, 20),
      subjects,
    };
    merged.set(first, one);
    for (const f of group.slice(1)) merged.set(f, first);
  }
  return findings.flatMap(f => {
    const m = merged.get(f);
    if (m === undefined) return [f];
    return m.subjects ? [m] : [];
  });
}

export function wireFindings(
  state: PipelineState,
  targets: readonly NetconsoleTarget[],
  ports: number[],
  restricted: boolean,
  local?: LocalInterface,
): AnalysisResult {
  const out: Finding[] = [];
  const flows = state.flows;
  const cap = state.capture;

  if (cap?.truncated) {
    out.push(
      finding('capture-truncated', {
        summary: `capture file is truncated or damaged; ${plural(cap.packets, 'packet')} before that point were analyzed`,
        evidence: [cap.truncation ?? 'the file ends inside a record'],
      }),
    );
  }
  if (state.internalErrors.count) {
    out.push(
      finding('internal-error', {
        summary: `netdiag failed on ${plural(state.internalErrors.count, 'packet')} and went on without them (a bug in netdiag)`,
        evidence: [
          `packets ${packetList(state.internalErrors.list, state.internalErrors.count)}`,
          ...state.internalErrorReasons,
        ],
        packets: state.internalErrors.list,
      }),
    );
  }
  if (state.flowOverflow.count) {
    out.push(
      finding('too-many-flows', {
        summary: `more than ${MAX_FLOWS} sender flows: ${plural(state.flowOverflow.count, 'datagram')} from further ones were counted but not tracked`,
        evidence: [`first at packets ${packetList(state.flowOverflow.list, state.flowOverflow.count)}`],
        packets: state.flowOverflow.list,
      }),
    );
  }
  if (state.datagrams === 0) {
    out.push(
      finding('no-netconsole-traffic', {
        summary: `no UDP datagram to port ${ports.join(' or ')}${restricted ? '' : ', and no netconsole recognised on another port,'} among ${plural(state.packets, 'packet')}`,
        evidence: state.linkErrors.count
          ? [
              `${plural(state.linkErrors.count, 'packet')} could not be decoded: ${[...state.linkErrorReasons].join('; ')}`,
            ]
          : [],
      }),
    );
  }

  const explained = new Set<Flow>();
  const configured = targetFindings(flows, targets, state, explained);
  const ctx: Context = { ports, explained };
  for (const f of flows) {
    out.push(...macFindings(f, state, local));
    if (local) out.push(...localFindings(f, local));
    for (const row of FLOW_FINDINGS) {
      const n = row.count(f, ctx);
      if (n > 0) out.push(flowFinding(row, f, n, ctx));
    }
  }

  for (const a of state.strayAnswers.values()) out.push(strayFinding(a));

  const udpAbandoned = state.ipFragAbandoned.filter(a => a.key.endsWith('|17'));
  if (udpAbandoned.length) {
    out.push(
      finding('ip-fragment-incomplete', {
        summary: `${plural(udpAbandoned.length, 'fragmented UDP datagram')} never reassembled (${udpAbandoned[0]!.reason})`,
        evidence: udpAbandoned.slice(0, 5).map(a => `fragments at packets ${packetList(a.packets, a.packets.length)}`),
        packets: udpAbandoned[0]!.packets.slice(0, 20),
      }),
    );
  }

  out.push(...configured);

  return {
    packets: state.packets,
    datagrams: state.datagrams,
    messages: state.messages,
    senders: flows.map(summarise),
    findings: mergeFloods(out),
    coverage: coverage(state, targets, restricted, local),
  };
}
