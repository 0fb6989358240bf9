/**
 * sysklogd (CentOS 5, old Debian): `-r` in SYSLOGD_OPTIONS (/etc/sysconfig/syslog) or SYSLOGD
 * (/etc/default/syslogd) opens UDP 514 (`-x` only turns off DNS); /etc/syslog.conf says which file
 * messages land in. Pure.
 */
import type { FactText } from '../host/facts.js';
import type { LogDestination, SyslogConfig, SyslogDaemon } from './types.js';
import { legacyAction, stripComment } from './selectors.js';

export interface SysklogdOptions {
  options: string;
  from: string;
  line: number;
  remote: boolean;
}

/** SYSLOGD_OPTIONS (/etc/sysconfig/syslog) or SYSLOGD (/etc/default/syslogd): is `-r` there? */
export function parseSysklogdOptions(fact: FactText): SysklogdOptions | undefined {
  const lines = fact.text.split('\n');
  let found: SysklogdOptions | undefined;
  lines.forEach((raw, i) => {
    const m = /^\s*(?:export\s+)?(SYSLOGD_OPTIONS|SYSLOGD)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))/.exec(raw);
    if (!m) return;
    const opts = m[2] ?? m[3] ?? m[4] ?? '';
    found = { options: opts, from: fact.from, line: i + 1, remote: hasFlag(opts, 'r') };
  });
  return found;
}

function hasFlag(opts: string, flag: string): boolean {
  const withArg = new Set(['a', 'f', 'l', 'm', 'p', 's', 'b', 'O', 'R']);
  const words = opts.split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('-') || w === '-') continue;
    for (let j = 1; j < w.length; j++) {
      const c = w[j]!;
      if (c === flag) return true;
      if (withArg.has(c)) {
        if (j === w.length - 1) i++; // the argument is the next word
        break;
      }
    }
  }
  return false;
}

/** /etc/syslog.conf (sysklogd): its file destinations. */
function parseSyslogConf(fact: FactText): LogDestination[] {
  const out: LogDestination[] = [];
  const lines = fact.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    const start = i + 1;
    while (l.endsWith('\\') && i + 1 < lines.length) l = l.slice(0, -1) + lines[++i]!;
    l = stripComment(l).trim();
    const m = /^(\S+)\s+(\S.*)$/.exec(l);
    if (!m || !m[1]!.includes('.')) continue;
    const d = legacyAction(m[2]!, m[1]!, fact.from, start);
    if (d) out.push(d);
  }
  return out;
}

export function sysklogdConfig(opts: SysklogdOptions | undefined, conf: FactText | undefined): SyslogConfig {
  const cfg: SyslogConfig = {
    daemon: 'sysklogd',
    udpInputs: [],
    disabledUdp: [],
    destinations: [],
    allowedSenders: [],
    warnings: [],
  };
  if (opts) {
    if (opts.remote) cfg.udpInputs.push({ port: 514, from: opts.from, line: opts.line, text: `${opts.options}` });
    else
      cfg.disabledUdp.push({
        from: opts.from,
        line: opts.line,
        text: opts.options,
        why: 'no -r: sysklogd does not open UDP 514',
      });
  }
  if (conf) cfg.destinations = parseSyslogConf(conf);
  return cfg;
}

const OPTION_FILES = ['/etc/sysconfig/syslog', '/etc/default/syslogd'];

export const sysklogd: SyslogDaemon = {
  name: 'sysklogd',
  otherFiles: ['/etc/syslog.conf', ...OPTION_FILES],
  ownsProcess: /^syslogd$/,
  fallback: true,
  parse(files) {
    const optionFile = OPTION_FILES.map(p => files.find(f => f.from === p)).find(f => f !== undefined);
    const opts = optionFile ? parseSysklogdOptions(optionFile) : undefined;
    return opts
      ? sysklogdConfig(
          opts,
          files.find(f => f.from === '/etc/syslog.conf'),
        )
      : undefined;
  },
  // sysklogd's -r takes every address: nothing to change in sysklogd itself.
  listenAnywhereFix: () => 'sysklogd -r listens on every address: find the program bound to this address (ss -ulnp)',
  enableUdpFix(_port, cfg) {
    const o = cfg.disabledUdp[0];
    return `Add -r: SYSLOGD_OPTIONS="${o?.text ? `${o.text} ` : ''}-r" in ${o?.from ?? '/etc/sysconfig/syslog'}, then restart syslog`;
  },
  service: 'syslog',
};
