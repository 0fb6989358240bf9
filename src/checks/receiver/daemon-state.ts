/**
 * Whether a syslog daemon runs: its process in this host's network namespace (`ps`; a namespace
 * of its own, as in a container or the lab, has its own daemon), else what systemd says of its
 * service. Undefined when neither was readable. Pure.
 */
import type { ReceiverFacts } from '../host/facts.js';
import { parseNetns, parseProcesses } from '../host/procnet.js';
import type { SyslogDaemon } from '../syslog/types.js';

export interface DaemonState {
  running?: boolean;
  /** What it rests on, one line. */
  evidence: string;
}

export function daemonState(d: SyslogDaemon, facts: ReceiverFacts): DaemonState {
  if (facts.processes) {
    const own = facts.netns ? parseNetns(facts.netns.text) : undefined;
    const all = parseProcesses(facts.processes.text);
    // A process whose namespace ps cannot show is taken as here, unless ps shows most of them
    // (root): then it is one that has exited (a zombie its parent has not reaped: a daemon just
    // stopped, whose parent is an init that reaps late), not a daemon running here.
    const shown = all.filter(p => p.netns !== undefined).length;
    const here = own ? all.filter(p => p.netns === own || (p.netns === undefined && shown * 2 < all.length)) : all;
    const mine = here.filter(p => d.ownsProcess.test(p.comm));
    const where = own ? ' in this network namespace' : '';
    if (mine.length) return { running: true, evidence: `${facts.processes.from}: ${mine[0]!.comm} runs${where}` };
    return { running: false, evidence: `${facts.processes.from}: no ${d.name} process${where}` };
  }
  if (facts.services) {
    const i = facts.services.units.indexOf(d.service);
    const state = i >= 0 ? facts.services.text.trim().split('\n')[i] : undefined;
    if (state === 'active') return { running: true, evidence: `${facts.services.from}: ${d.service} active` };
    if (state === 'inactive' || state === 'failed')
      return { running: false, evidence: `${facts.services.from}: ${d.service} ${state}` };
  }
  return { evidence: 'process list and systemctl not available' };
}

/**
 * When no syslog daemon runs on this host (`ps` shows every process, none of them a daemon's):
 * whether systemd-journald keeps its log (Debian 12 and later, Fedora, Arch as installed), with
 * the line of evidence; undefined when the process list is not known or a daemon runs. journald
 * receives nothing from the network, so the fix is a daemon to install, not a setting to change.
 */
export function noSyslogDaemon(
  facts: ReceiverFacts,
  daemons: readonly SyslogDaemon[],
): { journald: boolean; evidence: string } | undefined {
  if (!facts.processes) return undefined;
  const all = parseProcesses(facts.processes.text);
  if (all.some(p => daemons.some(d => d.ownsProcess.test(p.comm)))) return undefined;
  const journald = all.some(p => p.comm === 'systemd-journal' || p.comm === 'systemd-journald');
  const none = `no ${daemons.map(d => d.name).join(', ')} process`;
  return { journald, evidence: `${facts.processes.from}: ${journald ? `systemd-journald runs, ${none}` : none}` };
}

/** The fix on a host with no syslog daemon: install one, with a UDP input on `port`. */
export function installSyslogFix(port: number, journald: boolean): string {
  return (
    `${journald ? "This host's log is systemd-journald's, which receives nothing from the network: " : 'No syslog daemon runs here: '}` +
    `install rsyslog (apt-get install rsyslog, or dnf install rsyslog), add module(load="imudp") ` +
    `input(type="imudp" port="${port}") to /etc/rsyslog.conf, then systemctl restart rsyslog`
  );
}

/**
 * A syslog daemon that runs in another network namespace than this host's, and none in this one:
 * the shape of a daemon in a container (Docker, Podman) whose port is not published. The line of
 * evidence, or undefined (no process list with namespaces, or a daemon runs here).
 */
export function daemonElsewhere(facts: ReceiverFacts, daemons: readonly SyslogDaemon[]): string | undefined {
  const own = facts.netns ? parseNetns(facts.netns.text) : undefined;
  if (!facts.processes || !own) return undefined;
  const all = parseProcesses(facts.processes.text).filter(p => daemons.some(d => d.ownsProcess.test(p.comm)));
  if (all.some(p => p.netns === own || p.netns === undefined)) return undefined;
  const other = all[0];
  return other
    ? `${facts.processes.from}: ${other.comm} runs in another network namespace (net:[${other.netns}]), none in this one (net:[${own}])`
    : undefined;
}
