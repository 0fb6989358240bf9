/**
 * The man page netdiag.1, made from the same definitions as `--help` (each command's summary,
 * operand, options and examples), in the man(7) macros that groff and mandoc render.
 */
import { optionSynopsis, optionText, usageLines, type Command } from './command.js';

/** Text as roff shows it literally: backslashes, hyphens (so they stay minus signs), leading dots. */
function roff(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

const EXIT_STATUS: Array<[string, string]> = [
  ['0', 'Nothing wrong was found (analyze, sniff), every check passed (check, verify), or help was printed.'],
  ['1', 'An error finding (analyze, sniff) or a failed check (check, verify).'],
  [
    '2',
    'Bad usage, unreadable input (a file that is not a capture), a missing prerequisite (no permission, no libpcap), or a live capture that ended by itself (sniff: the interface disappeared).',
  ],
  ['70', 'An internal error: a bug in netdiag (NETDIAG_DEBUG=1 shows the stack trace).'],
  ['130, 143', 'verify or analyze stopped by SIGINT or SIGTERM; sniff stops on them by design and exits 0 or 1.'],
];

const ENVIRONMENT: Array<[string, string]> = [
  ['NO_COLOR', 'When set and not empty, no colour (no-color.org); --color=always still colours.'],
  ['FORCE_COLOR', 'When set and not 0, colour even when stdout is not a terminal.'],
  ['TERM', 'dumb turns colour off.'],
  ['NETDIAG_DEBUG', 'When set, an internal error prints its stack trace.'],
  [
    'NETDIAG_REPORT_THREAD',
    'analyze: 1 has the messages written by a thread of their own when stdout is a pipe or a file (two cores used, some 45% more CPU in all, no faster on the bench capture); unset or anything else, one thread.',
  ],
  [
    'NETDIAG_CAPTURE_WITH',
    "sniff and verify: cap captures through the cap package's addon (libpcap in immediate mode, a slot of 64 KiB per packet) instead of opening libpcap itself through koffi; for comparison. cap is used anyway when koffi or libpcap cannot be loaded.",
  ],
];

const FILES: Array<[string, string]> = [
  [
    '/etc/sysconfig/netconsole',
    "CentOS/RHEL's netconsole service configuration (--config; check and verify read it on the sender).",
  ],
  ['/sys/kernel/config/netconsole', 'Dynamic netconsole targets (configfs), read on the sender.'],
  [
    '/etc/rsyslog.conf, /etc/rsyslog.d/*.conf',
    "rsyslog's configuration: is UDP reception on, and where do messages land.",
  ],
  ['/etc/syslog-ng/syslog-ng.conf', "syslog-ng's configuration, likewise."],
  ['/proc/net/udp, /proc/net/snmp', 'Which sockets listen, and UDP receive errors, on the receiver.'],
];

const SEE_ALSO = [
  'tcpdump(8)',
  'pcap-filter(7)',
  'rsyslogd(8)',
  'syslog-ng(8)',
  'ssh(1)',
  'and the kernel documentation: Documentation/networking/netconsole.rst',
];

function tagged(rows: Array<[string, string]>): string[] {
  return rows.flatMap(([tag, text]) => ['.TP', `.B ${roff(tag)}`, roff(text)]);
}

export function manPage(commands: readonly Command[], version: string): string {
  const out = [
    `.TH NETDIAG 1 "" "netdiag ${roff(version)}" "User Commands"`,
    '.SH NAME',
    'netdiag \\- tell whether a Linux netconsole setup works, and if not, exactly why',
    '.SH SYNOPSIS',
    '.nf',
    ...commands.flatMap(c => usageLines(c).map(u => roff(u))),
    '.fi',
    '.SH DESCRIPTION',
    roff(
      'netdiag reads netconsole traffic from a capture file or a live interface, checks the hosts on both ends, ' +
        'and names what is broken with a stable finding code, its evidence and a fix. ' +
        "Run 'netdiag explain' for the list of finding codes and 'netdiag explain CODE' for one.",
    ),
    '.SH COMMANDS',
  ];
  for (const c of commands) {
    out.push(`.SS ${c.name}`, roff(c.summary));
    if (c.operand) out.push('.TP', `.I ${roff(c.operand.hint)}`, roff(c.operand.description));
    for (const [name, o] of Object.entries(c.options)) {
      out.push('.TP', `.B ${roff(optionSynopsis(name, o))}`, roff(optionText(o)));
    }
  }
  out.push('.SH EXIT STATUS', ...tagged(EXIT_STATUS));
  out.push('.SH ENVIRONMENT', ...tagged(ENVIRONMENT));
  out.push('.SH FILES', ...tagged(FILES));
  out.push('.SH EXAMPLES');
  for (const c of commands) {
    for (const [line, what] of c.examples ?? []) out.push('.TP', `.B ${roff(line)}`, roff(what));
  }
  out.push('.SH SEE ALSO', roff(SEE_ALSO.join(', ')));
  return out.join('\n') + '\n';
}
