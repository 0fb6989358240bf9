/**
 * The per-flow findings as a table, in report order: each row a count over the flow's counters,
 * the packets that show it, and a summary (run by wire-findings.ts). A new kind of per-flow
 * finding is one row here, its counter in flow.ts and its code in src/findings/codes-wire.ts.
 * Pure.
 */
import { finding, type FindingCode } from '../findings/catalog.js';
import { packetList, type Finding } from '../findings/finding.js';
import { endpoint } from '../decode/addr.js';
import type { Flow } from './flow.js';
import type { PacketSample } from './sample.js';

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What the per-flow findings may need besides the flow. */
export interface Context {
  /** The ports watched. */
  ports: readonly number[];
  /** Flows a configured target explains (its own, or a misconfiguration of it). */
  explained: ReadonlySet<Flow>;
}

/** A per-flow finding: made when `count` is above 0. */
interface FlowFinding {
  code: FindingCode;
  count: (f: Flow, ctx: Context) => number;
  /** The packets that show it, and the words before their list in the evidence. */
  sample?: (f: Flow) => PacketSample | undefined;
  at?: string;
  summary: (f: Flow, count: number, ctx: Context) => string;
  /** Evidence lines after the packet list. */
  more?: (f: Flow) => string[];
  hint?: (f: Flow) => string;
}

/**
 * Linux answers with at most a burst of 6 ICMP errors per destination, then one a second
 * (net.ipv4.icmp_ratelimit, icmp_msgs_per_sec): a burst of datagrams gets a few answers. Said
 * when fewer answers than datagrams came, so that "refused 6" is not read as "only 6 refused".
 */
function fewerAnswers(f: Flow, answers: number): string {
  return answers < f.packets
    ? ` (answers to ${answers} of its ${f.packets} datagrams: the kernel rate-limits ICMP errors, so more were probably refused without an answer)`
    : '';
}

const firstReason = (reasons: Set<string> | undefined) => [...(reasons ?? [])][0];

/** In report order. */
export const FLOW_FINDINGS: readonly FlowFinding[] = [
  {
    code: 'port-unreachable',
    count: f => f.answers.port.sample.count,
    sample: f => f.answers.port.sample,
    at: 'ICMP port unreachable: packets',
    summary: (f, n) =>
      `${f.dstIp} answered ${plural(n, 'datagram')} from ${f.sender} with ICMP port unreachable: nothing listens on udp/${f.dstPort}, or a firewall REJECT rule answers for it${fewerAnswers(f, n)}`,
    hint: f =>
      `On ${f.dstIp}: check that the syslog daemon listens on UDP ${f.dstPort} (ss -ulnp 'sport = :${f.dstPort}'; rsyslog needs module(load="imudp") and input(type="imudp" port="${f.dstPort}")), and look for a REJECT rule (iptables-save -c, nft list ruleset); netdiag check does both`,
  },
  {
    code: 'firewall-reject',
    count: f => f.answers.refused.sample.count,
    sample: f => f.answers.refused.sample,
    at: 'ICMP answers: packets',
    summary: (f, n) =>
      `${[...f.answers.refused.from].join(', ')} refused ${plural(n, 'datagram')} from ${f.sender} to ${endpoint(f.dstIp, f.dstPort)} with ICMP ${[...f.answers.refused.names].join(', ')}: a firewall REJECT rule${fewerAnswers(f, n)}`,
    hint: f => rejectFix(f.dstIp, f.srcIp, f.dstPort),
  },
  {
    code: 'dst-unreachable',
    count: f => f.answers.undeliverable.sample.count,
    sample: f => f.answers.undeliverable.sample,
    at: 'ICMP answers: packets',
    summary: (f, n) =>
      `${[...f.answers.undeliverable.from].join(', ')} answered ${plural(n, 'datagram')} from ${f.sender} to ${endpoint(f.dstIp, f.dstPort)} with ICMP ${[...f.answers.undeliverable.names].join(', ')}: the network cannot deliver them`,
    hint: f =>
      `On ${[...f.answers.undeliverable.from][0]}: ip route get ${f.dstIp}; on the sender the remote MAC must be the next hop's (ip neigh), and the route to ${f.dstIp} must exist on every router in between`,
  },
  {
    code: 'unexpected-port',
    count: (f, ctx) => (f.unexpectedPort && !ctx.explained.has(f) ? f.packets : 0),
    summary: (f, n, ctx) =>
      `${f.sender} sends netconsole to ${endpoint(f.dstIp, f.dstPort)} (${plural(n, 'datagram')}), a port netdiag was not told about (watching ${ctx.ports.join(', ')})`,
    more: f => [`recognised by its content from packet #${f.firstPacket}`],
    hint: f =>
      `Point the sender at the port the log server listens on (netconsole=...,514@${f.dstIp}/...), or analyze with --port ${f.dstPort} if udp/${f.dstPort} is intended`,
  },
  {
    code: 'seq-gap',
    count: f => f.seq.gaps,
    sample: f => f.seqGapPackets,
    at: 'gaps before packets',
    summary: f =>
      `${f.sender}: ${plural(f.seq.missing, 'sequence number')} missing in ${plural(f.seq.gaps, 'gap')} (loss, or records below the console log level, which use numbers but are not sent)`,
    more: f => [`last gap: ${plural(f.seq.lastGap!.missing, 'record')} after seq ${f.seq.lastGap!.after}`],
  },
  {
    code: 'seq-duplicate',
    count: f => f.seq.duplicates,
    summary: (f, n) => `${f.sender}: ${plural(n, 'record')} arrived more than once`,
  },
  {
    code: 'seq-reorder',
    count: f => f.seq.reordered,
    summary: (f, n) => `${f.sender}: ${plural(n, 'record')} arrived out of order`,
  },
  {
    code: 'sender-restart',
    count: f => f.restartPackets.count,
    sample: f => f.restartPackets,
    at: 'at packets',
    summary: (f, n) => `${f.sender}: the log starts again ${plural(n, 'time')} (reboot or netconsole reload)`,
  },
  {
    code: 'msgid-gap',
    count: f => f.msgidLost,
    sample: f => f.msgidGaps,
    at: 'gaps before packets',
    summary: (f, n) => `${f.sender}: ${plural(n, 'message')} lost (msgid gaps)`,
  },
  {
    code: 'fragment-incomplete',
    count: f => f.ncfrag?.incomplete.count ?? 0,
    sample: f => f.ncfrag?.incomplete,
    at: 'first piece at packets',
    summary: (f, n) => `${f.sender}: ${plural(n, 'fragmented message')} missing pieces`,
  },
  {
    code: 'fragment-invalid',
    count: f => f.ncfrag?.invalid.count ?? 0,
    sample: f => f.ncfrag?.invalid,
    at: 'packets',
    summary: (f, n) =>
      `${f.sender}: ${plural(n, 'ncfrag piece')} inconsistent (${firstReason(f.ncfrag?.invalidReasons)})`,
    more: f => [...(f.ncfrag?.invalidReasons ?? [])],
  },
  {
    code: 'split-line',
    count: f => f.lines?.split.count ?? 0,
    sample: f => f.lines?.split,
    at: 'first pieces at packets',
    summary: (f, n) => {
      const at1000 = f.lines!.splitAt1000;
      const perPrintk = n - at1000;
      const why = [
        perPrintk ? `${plural(perPrintk, 'line')} sent as one datagram per printk call (a kernel before 3.5)` : '',
        at1000 ? `${plural(at1000, 'line')} over 1000 bytes cut by netconsole` : '',
      ]
        .filter(Boolean)
        .join('; ');
      return `${f.sender}: ${plural(n, 'line')} arrived split across datagrams (joined here): ${why}; a syslog daemon shows each piece as a line of its own`;
    },
  },
  {
    code: 'malformed-payload',
    count: f => f.malformedPackets.count,
    sample: f => f.malformedPackets,
    at: 'packets',
    summary: (f, n) =>
      `${f.sender}: ${plural(n, 'datagram')} neither netconsole nor syslog (${firstReason(f.malformedReasons)})`,
  },
  {
    code: 'packet-truncated',
    count: f => f.truncatedPackets.count,
    sample: f => f.truncatedPackets,
    at: 'packets',
    summary: (f, n) => `${f.sender}: ${plural(n, 'datagram')} cut by the snapshot length`,
  },
  {
    code: 'syslog-traffic',
    count: f => (f.syslog > 0 && f.syslog >= f.plain + f.extended ? f.syslog : 0),
    summary: (f, n) => `${f.sender}: ${plural(n, 'syslog datagram')} (not netconsole)`,
  },
];

/** The fix for a REJECT on `receiver` of datagrams from `sender` to `port`. */
export function rejectFix(receiver: string, sender: string, port: number): string {
  const v6 = receiver.includes(':');
  return (
    `On ${receiver}: accept them before the REJECT rule: ${v6 ? 'ip6tables' : 'iptables'} -I INPUT -p udp --dport ${port} -s ${sender} -j ACCEPT ` +
    `(nft: insert 'udp dport ${port} ${v6 ? 'ip6' : 'ip'} saddr ${sender} accept' before the reject in its chain); netdiag check shows the rule`
  );
}

export function flowFinding(row: FlowFinding, f: Flow, n: number, ctx: Context): Finding {
  const s = row.sample?.(f);
  const evidence = s ? [`${row.at} ${packetList(s.list, s.count)}`] : [];
  if (row.more) evidence.push(...row.more(f));
  return finding(row.code, {
    subject: f.sender,
    summary: row.summary(f, n, ctx),
    evidence: s || row.more ? evidence : undefined,
    packets: s?.list,
    hint: row.hint?.(f),
  });
}
