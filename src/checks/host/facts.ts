/**
 * The raw facts the sender and receiver checks judge: the texts of files and command outputs,
 * each optional (a missing one makes its check "unknown", never a guess), each with where it came
 * from for evidence. Collected by src/checks/host/collect.ts through a HostExec (this host, ssh, or a
 * directory of files a user handed in); tests build them from fixture files.
 */

import type { FactText } from './fact-text.js';
import type { SourceFacts } from '../sender/sources/index.js';

export type { FactText } from './fact-text.js';

/**
 * The sender's facts. The configuration sources' own facts (sysconfig, modprobe, cmdline, configfs)
 * come from the source list (src/checks/sender/sources/index.ts), one field per source.
 */
export interface SenderFacts extends SourceFacts {
  /** dmesg, or journalctl -k when dmesg is not readable. */
  kernelLog?: FactText;
  /** `ip -d -j link show` (json) or `ip -d link show` (text). */
  ipLink?: FactText & { format: 'json' | 'text' };
  /** `ip -j addr show` (json) or `ip addr show` (text). */
  ipAddr?: FactText & { format: 'json' | 'text' };
  /** `ip route get RECEIVER_IP`. */
  routeGet?: FactText & { ip: string };
  /** `ip neigh show`. */
  neigh?: FactText;
  /** /proc/sys/kernel/printk. */
  printk?: FactText;
  /** /proc/sys/kernel/sysrq. */
  sysrq?: FactText;
  /** /sys/module/printk/parameters/time: whether lines carry printk timestamps (the form a syslog daemon parses). */
  printkTime?: FactText;
  /** lsmod, or /proc/modules. */
  modules?: FactText;
  /** `uname -r`. */
  kernelRelease?: FactText;
  /** What could not be collected and why, one line each. */
  notes: string[];
}

export interface ReceiverFacts {
  /** /proc/net/udp and /proc/net/udp6. */
  udp?: FactText;
  udp6?: FactText;
  /** `ss -ulnp`: the same sockets with their processes (as root). */
  ss?: FactText;
  /**
   * Each syslog daemon's configuration files by its name (src/checks/syslog/daemons.ts):
   * `rsyslog` → /etc/rsyslog.conf, then the files it includes in include order; `sysklogd` →
   * /etc/syslog.conf, /etc/sysconfig/syslog, /etc/default/syslogd as found.
   */
  syslog?: Record<string, FactText[]>;
  /** `iptables-save -c`, `ip6tables-save -c`. */
  iptables?: FactText;
  ip6tables?: FactText;
  /** `nft -j list ruleset`. */
  nft?: FactText;
  /** /proc/sys/net/ipv4/conf/NAME/rp_filter: NAME (`all`, `default`, interfaces) → value. */
  rpFilter?: Record<string, string>;
  /**
   * /proc/sys/net/ipv4/ip_forward and /proc/sys/net/ipv6/conf/all/forwarding: whether this host
   * forwards what a DNAT sends to another host (a container).
   */
  ipForward?: FactText;
  ip6Forward?: FactText;
  /** /proc/net/snmp and /proc/net/netstat. */
  snmp?: FactText;
  netstat?: FactText;
  /** `semanage port -l`. */
  semanage?: FactText;
  /** `ip -j addr show` (json) or `ip addr show` (text): which interface holds the target IP. */
  ipAddr?: FactText & { format: 'json' | 'text' };
  /** `ip route get SENDER_IP`: the route back, for rp_filter. */
  routeGet?: FactText & { ip: string };
  /** `ps -e -o netns=,comm=`: which programs run, and in which network namespace. */
  processes?: FactText;
  /** `readlink /proc/self/ns/net`: this network namespace (`net:[4026531840]`), to pick the processes in it. */
  netns?: FactText;
  /** `systemctl is-active UNIT...` of the syslog daemons' services: one state a line, in `units` order. */
  services?: FactText & { units: string[] };
  notes: string[];
}
