/**
 * The receiver checks, in the order they are listed: is the receiving interface up (a line only
 * when it is not), can the target's Ethernet destination reach this host (a line only when a
 * router is between and it is this host's own MAC or broadcast), does something listen on the port
 * and address, is the syslog daemon set up for UDP (and which file the messages land in), does the
 * firewall let a new UDP datagram from the sender through, does rp_filter drop it, do the UDP
 * counters show drops, does SELinux allow the port. A new check is one function
 * `(facts, view) => CheckResult` added to RECEIVER_CHECKS. Pure.
 */
import type { Finding } from '../../findings/finding.js';
import type { ReceiverFacts } from '../host/facts.js';
import type { UdpSocket } from '../host/procnet.js';
import { type Check, type CheckResult, runChecks } from '../check.js';
import type { Datagram, FirewallVerdict } from '../firewall/model.js';
import type { SyslogConfig } from '../syslog/types.js';
import { deriveReceiver, type ReceiverContext, type ReceiverView } from './view.js';
import { listeningCheck, syslogCheck } from './checks/socket.js';
import {
  countersCheck,
  firewallCheck,
  receiverLinkCheck,
  rpFilterCheck,
  selinuxCheck,
  targetMacCheck,
} from './checks/network.js';

export type { ReceiverContext } from './view.js';

export const RECEIVER_CHECKS: ReadonlyArray<Check<ReceiverFacts, ReceiverView>> = [
  receiverLinkCheck,
  targetMacCheck,
  listeningCheck,
  syslogCheck,
  firewallCheck,
  rpFilterCheck,
  countersCheck,
  selinuxCheck,
];

export interface ReceiverReport {
  checks: CheckResult[];
  findings: Finding[];
  /** Listening UDP sockets on the port. */
  sockets: UdpSocket[];
  /** Every syslog daemon configuration found. */
  syslog: SyslogConfig[];
  /** Files the netconsole messages should land in (for verify to look at). */
  logFiles: string[];
  /** The combined firewall verdict, and each tool's. */
  firewall?: FirewallVerdict;
  verdicts: FirewallVerdict[];
  /**
   * /proc/net/snmp and /proc/net/netstat counters (`Udp.NoPorts`, `TcpExt.IPReversePathFilter`), for
   * before/after comparison.
   */
  counters: Record<string, number>;
  datagram: Datagram;
}

export function runReceiverChecks(facts: ReceiverFacts, ctx: ReceiverContext = {}): ReceiverReport {
  const v = deriveReceiver(facts, ctx);
  const checks = runChecks(RECEIVER_CHECKS, facts, v);
  return {
    checks,
    findings: checks.flatMap(c => c.findings),
    sockets: v.sockets,
    syslog: v.syslog,
    logFiles: v.logFiles,
    ...(v.firewall ? { firewall: v.firewall } : {}),
    verdicts: v.verdicts,
    counters: v.counters,
    datagram: v.datagram,
  };
}
