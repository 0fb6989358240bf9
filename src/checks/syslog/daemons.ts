/**
 * The syslog daemons netdiag knows, in the order their configurations are judged. A new daemon is
 * one module implementing SyslogDaemon (types.ts) and one row here: the collector reads its files,
 * the receiver checks parse and judge them, and its process name picks it when `ss -p` names the
 * listener.
 */
import type { SyslogDaemon } from './types.js';
import { rsyslog } from './rsyslog.js';
import { syslogNg } from './syslog-ng.js';
import { sysklogd } from './sysklogd.js';

export const SYSLOG_DAEMONS: readonly SyslogDaemon[] = [rsyslog, syslogNg, sysklogd];

export function syslogDaemon(name: string): SyslogDaemon | undefined {
  return SYSLOG_DAEMONS.find(d => d.name === name);
}

/**
 * The daemon whose configuration `--syslog-config FILE` is: the one that claims the path, else the
 * one that claims its text (`syslog-ng -f /etc/netlog.conf`), else the first.
 */
export function daemonForConfigPath(path: string, text?: string | null): SyslogDaemon {
  return (
    SYSLOG_DAEMONS.find(d => d.ownsConfigPath?.(path)) ??
    (text ? SYSLOG_DAEMONS.find(d => d.ownsConfigText?.(text)) : undefined) ??
    SYSLOG_DAEMONS[0]!
  );
}
