/**
 * verify's verdict: from the facts of both hosts (before and after the trigger), what the capture
 * saw and what the log file holds, a checklist in the order a datagram travels (sender, wire,
 * MAC, firewall, socket, log file) and the root cause: the first link that broke. Pure.
 */
import type { CheckResult, CheckStatus } from '../checks/check.js';
import type { ReceiverReport, SenderReport } from '../checks/run.js';
import { acceptFix } from '../checks/firewall/fix.js';
import { finding } from '../findings/catalog.js';
import { packetList, type Finding } from '../findings/finding.js';
import type { AnalysisResult } from '../pipeline/types.js';

/** What the capture saw of the triggered messages. */
export interface Arrival {
  /** ms after the trigger was sent. */
  afterMs: number;
  packets: number[];
  dstMac?: string;
  dstPort: number;
  dstIp: string;
  text: string;
}

export interface VerifyEvidence {
  sender: SenderReport;
  receiverBefore: ReceiverReport;
  receiverAfter: ReceiverReport;
  /** The receiving interface's MAC addresses. */
  receiverMacs: string[];
  iface: string;
  port: number;
  senderIp: string;
  marker: string;
  /** The trigger command's failure, when it failed. */
  triggerError?: string;
  markerArrival?: Arrival;
  sysrqArrival?: Arrival;
  /** Messages from the sender seen during the test, on the ports verify watches. */
  messagesFromSender: number;
  wire: AnalysisResult;
  logFile?: { path: string; markerFound: boolean; sysrqFound: boolean; readable: boolean };
  timeoutSec: number;
}

export interface VerifyReport {
  ok: boolean;
  rootCause?: Finding;
  checks: CheckResult[];
  findings: Finding[];
  roundTripMs?: number;
}

const step = (id: string, name: string, status: CheckStatus, detail: string, findings: Finding[] = []): CheckResult => ({ id, name, status, detail, findings });

function counterDelta(before: ReceiverReport, after: ReceiverReport, key: string): number {
  return (after.counters[key] ?? 0) - (before.counters[key] ?? 0);
}

export function judgeVerify(e: VerifyEvidence): VerifyReport {
  const checks: CheckResult[] = [];
  const arrived = e.markerArrival ?? e.sysrqArrival;
  const dest = `${e.iface}, udp/${e.port}`;

  // 1. The sender's side, as collected before the trigger.
  checks.push(...e.sender.checks.map(c => ({ ...c, id: c.id.startsWith('sender') ? c.id : `sender.${c.id}` })));
  // 2. The trigger itself.
  if (e.triggerError) {
    checks.push(step('verify.trigger', 'trigger on the sender', 'fail', e.triggerError, [
      finding('trigger-failed', { summary: `the trigger failed on the sender: ${e.triggerError}` }),
    ]));
  } else {
    checks.push(step('verify.trigger', 'trigger on the sender', 'pass', `marker ${e.marker} written to /dev/kmsg, sysrq triggered`));
  }

  // 3. On the wire.
  if (arrived) {
    checks.push(step('verify.wire', 'messages on the wire', 'pass', `arrived ${arrived.afterMs} ms after the trigger (packets ${packetList(arrived.packets, arrived.packets.length)})`));
  } else {
    const senderErrors = e.sender.findings.filter(f => f.severity === 'error');
    const why = senderErrors.length ? `the sender checks explain it: ${senderErrors.map(f => f.code).join(', ')}` : 'no sender check explains it';
    checks.push(step('verify.wire', 'messages on the wire', e.triggerError ? 'unknown' : 'fail', `nothing from ${e.senderIp} arrived on ${e.iface} within ${e.timeoutSec} s (${e.messagesFromSender} other messages from it)`, e.triggerError ? [] : [
      finding('not-on-wire', {
        subject: e.senderIp,
        summary: `no datagram of the test reached ${e.iface} within ${e.timeoutSec} s; ${why}`,
        evidence: [`capture on ${e.iface}, filter: traffic from ${e.senderIp}`, `${e.messagesFromSender} messages from ${e.senderIp} on udp/${e.port} and the netconsole ports during the test`],
      }),
    ]));
  }

  // 4. Addressed to this host.
  const wireMac = e.wire.findings.filter(f => f.code === 'dst-mac-mismatch' || f.code === 'broadcast-dst-mac');
  if (arrived?.dstMac) {
    const ours = e.receiverMacs.includes(arrived.dstMac);
    const broadcast = arrived.dstMac === 'ff:ff:ff:ff:ff:ff';
    if (ours) checks.push(step('verify.mac', 'destination MAC', 'pass', `${arrived.dstMac} is ${e.iface}'s`));
    else if (broadcast) checks.push(step('verify.mac', 'destination MAC', 'warn', 'broadcast', wireMac));
    else {
      checks.push(step('verify.mac', 'destination MAC', 'fail', `${arrived.dstMac} is not ${e.iface}'s (${e.receiverMacs.join(', ') || 'unknown'})`, [
        finding('dst-mac-mismatch', {
          subject: e.senderIp,
          summary: `the frames arrive addressed to ${arrived.dstMac}, not to ${e.iface} (${e.receiverMacs.join(', ')}): the NIC drops them`,
          evidence: [`packets ${packetList(arrived.packets, arrived.packets.length)} to ${arrived.dstMac}`, `${e.iface} has ${e.receiverMacs.join(', ')}`],
          packets: arrived.packets,
          hint: `On the sender, set the remote MAC to ${e.receiverMacs[0] ?? "this host's MAC"} (or the router's when one is between) and reload netconsole`,
        }),
      ]));
    }
  }

  // 5. Port: the datagrams went to the port the daemon listens on.
  if (arrived && arrived.dstPort !== e.port) {
    checks.push(step('verify.port', 'destination port', 'fail', `sent to udp/${arrived.dstPort}, the syslog daemon is checked on udp/${e.port}`, [
      finding('dst-port-mismatch', {
        subject: e.senderIp,
        summary: `the sender sends to udp/${arrived.dstPort}, but this host expects udp/${e.port}`,
        packets: arrived.packets,
        hint: `Make them agree: netconsole=...,${e.port}@... on the sender, or listen on ${arrived.dstPort}`,
      }),
    ]));
  }

  // 6. The firewall: the deciding rule's counter during the test.
  const fwBefore = e.receiverBefore.firewall, fwAfter = e.receiverAfter.firewall;
  if (arrived && fwAfter && (fwAfter.verdict === 'dropped' || fwAfter.verdict === 'rejected')) {
    const rose = fwAfter.counters && fwBefore?.counters ? fwAfter.counters.packets - fwBefore.counters.packets : undefined;
    checks.push(step('verify.firewall', 'firewall', 'fail', `${fwAfter.tool}: ${fwAfter.verdict} by ${fwAfter.rule ?? 'policy'}${rose !== undefined ? `, its counter rose by ${rose}` : ''}`, [
      finding('firewall-drop', {
        subject: e.senderIp,
        summary: `${fwAfter.tool} ${fwAfter.verdict === 'dropped' ? 'drops' : 'rejects'} the datagrams: ${fwAfter.rule ?? `the ${fwAfter.where ?? ''} policy`}${rose !== undefined ? ` (counter +${rose} during the test)` : ''}`,
        evidence: [`${fwAfter.where ?? fwAfter.tool}${fwAfter.line ? ` line ${fwAfter.line}` : ''}: ${fwAfter.rule ?? 'policy'}`, ...(fwBefore?.counters && fwAfter.counters ? [`counter ${fwBefore.counters.packets} → ${fwAfter.counters.packets} packets`] : [])],
        hint: acceptFix(fwAfter, { srcIp: e.senderIp, dstPort: e.port, family: e.senderIp.includes(':') ? 6 : 4 }),
      }),
    ]));
  } else if (fwAfter) {
    checks.push(step('verify.firewall', 'firewall', fwAfter.verdict === 'uncertain' ? 'warn' : 'pass', `${fwAfter.tool}: ${fwAfter.verdict}${fwAfter.rule ? ` by ${fwAfter.rule}` : ' (policy)'}`, fwAfter.verdict === 'uncertain' ? e.receiverAfter.findings.filter(f => f.code === 'firewall-uncertain') : []));
  }

  // 7. Something listens: ICMP port unreachable or NoPorts during the test.
  const noPorts = counterDelta(e.receiverBefore, e.receiverAfter, 'Udp.NoPorts');
  const unreachable = e.wire.findings.filter(f => f.code === 'port-unreachable');
  const listening = e.receiverAfter.sockets.length > 0;
  if (arrived && (unreachable.length || (noPorts > 0 && !listening))) {
    checks.push(step('verify.socket', 'a socket listens', 'fail', `nothing listens on udp/${e.port}${noPorts ? ` (Udp NoPorts +${noPorts})` : ''}`, [
      finding('receiver-not-listening', {
        summary: `the datagrams arrive, but nothing listens on udp/${e.port}${unreachable.length ? ': this host answered ICMP port unreachable' : ''}`,
        evidence: [...unreachable.flatMap(f => f.evidence), `Udp NoPorts rose by ${noPorts} during the test`],
        hint: `Start the syslog daemon with UDP reception on ${e.port}: rsyslog: module(load="imudp") input(type="imudp" port="${e.port}"); then systemctl restart rsyslog`,
      }),
    ]));
  } else if (listening) {
    const s = e.receiverAfter.sockets[0]!;
    checks.push(step('verify.socket', 'a socket listens', 'pass', `${s.process ?? 'a process'} on ${s.address}:${s.port}`));
  }

  // 8. The log file.
  if (e.logFile) {
    const lf = e.logFile;
    const found = lf.markerFound || lf.sysrqFound;
    if (!lf.readable) checks.push(step('verify.log', 'in the syslog file', 'unknown', `${lf.path} cannot be read`));
    else if (found) checks.push(step('verify.log', 'in the syslog file', 'pass', `${lf.markerFound ? 'the marker' : 'the sysrq line'} is in ${lf.path}`));
    else if (arrived && !checks.some(c => c.status === 'fail' && c.id.startsWith('verify.'))) {
      checks.push(step('verify.log', 'in the syslog file', 'fail', `not in ${lf.path}`, [
        finding('not-in-log', { summary: `the datagrams reached the socket, but ${lf.path} does not have the marker`, evidence: [`searched ${lf.path} for ${e.marker} and the sysrq line`, ...e.receiverAfter.logFiles.map(f => `the syslog configuration writes to ${f}`)] }),
      ]));
    } else {
      checks.push(step('verify.log', 'in the syslog file', 'fail', `not in ${lf.path}`));
    }
  }

  // 9. Console log level: sysrq arrived, the marker did not.
  if (e.sysrqArrival && !e.markerArrival) {
    // The sender's own finding names the setting and its fix; the marker's absence is the proof.
    const low = e.sender.findings.filter(f => f.code === 'console-loglevel-low').map(f => ({ ...f, severity: 'error' as const }));
    checks.push(step('verify.loglevel', 'ordinary messages sent', 'fail', 'the sysrq line arrived, the marker did not', [
      ...low,
      finding('marker-filtered', { summary: 'the sysrq line arrived but the marker did not: the console log level filters ordinary messages', evidence: low.flatMap(f => f.evidence) }),
    ]));
  }

  // Receiver-side static findings that nothing above covered (e.g. syslog config warnings).
  checks.push(...e.receiverAfter.checks.map(c => ({ ...c, id: c.id.startsWith('receiver') ? c.id : `receiver.${c.id}` })));

  const findings = checks.flatMap(c => c.findings);
  // The root cause: the first failure along the path the datagram travels. When nothing arrived,
  // the sender's own errors come first; when it arrived, the first failing verify step.
  const verifyFail = checks.find(c => c.id.startsWith('verify.') && c.status === 'fail');
  const senderFail = checks.find(c => c.id.startsWith('sender') && c.status === 'fail');
  let rootCheck: CheckResult | undefined;
  if (!arrived) rootCheck = e.triggerError ? checks.find(c => c.id === 'verify.trigger') : senderFail ?? verifyFail;
  else rootCheck = verifyFail;
  const rootCause = rootCheck?.findings.find(f => f.severity === 'error') ?? rootCheck?.findings[0];
  const ok = !!arrived && !verifyFail && (!e.logFile || e.logFile.markerFound || e.logFile.sysrqFound || !e.logFile.readable);
  const report: VerifyReport = { ok, checks, findings };
  if (rootCause && !ok) report.rootCause = rootCause;
  if (arrived) report.roundTripMs = arrived.afterMs;
  return report;
}
