/**
 * The human report: one line per message as it arrives, then the senders, the findings (errors
 * first) and a one-line verdict. Everything from the wire goes through escapeText.
 */
import type { Finding } from '../findings/finding.js';
import { packetList, sortFindings } from '../findings/finding.js';
import type { CaptureSummary } from '../capture/sink.js';
import type { AnalysisResult, Message, SenderSummary } from '../pipeline/types.js';
import { endpoint, ttlLabel } from '../decode/addr.js';
import { escapeText, escapeWire } from './escape.js';
import { printkTime, TextTime } from './time.js';
import type { Style } from './style.js';

const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'];
const LEVELS_PADDED = LEVELS.map(l => l.padEnd(6));

export function levelName(level: number | undefined): string {
  return level === undefined ? '-' : (LEVELS[level] ?? String(level));
}

const UTC = new TextTime(true);
/** Sender lines in the text summary; --json lists every sender. */
const SENDERS_SHOWN = 50;

/** `13:01:02.123456 10.99.0.2:6665 info   [   45.287505] sysrq: Show Regs` */
export function formatMessageLine(m: Message, style: Style, time: TextTime = UTC): string {
  let line = `${style.dim(time.clockTime(m.time))} ${style.cyan(m.sender)} `;
  const lvl =
    m.level !== undefined && m.level >= 0 && m.level < 8 ? LEVELS_PADDED[m.level]! : levelName(m.level).padEnd(6);
  line += m.level !== undefined && m.level <= 3 ? style.red(lvl) : m.level === 4 ? style.yellow(lvl) : style.dim(lvl);
  if (m.usec !== undefined && m.mode !== 'syslog') line += ` ${style.dim(printkTime(m.usec))}`;
  if (m.mode === 'syslog')
    line += ` ${style.dim(`syslog ${escapeWire(m.hostname ?? '-')} ${escapeWire(m.app ?? '-')}:`)}`;
  if (m.mode === 'unknown') line += ` ${style.yellow('(not netconsole)')}`;
  line += ` ${escapeWire(m.text)}`;
  return `${line}${formatLineTail(m, style)}\n`;
}

/** `-v`: the message's packets and record fields, indented under its line. */
export function formatMessageDetail(m: Message, style: Style): string {
  const parts = [`packets ${packetList(m.packets, m.packets.length, 20)}`, `mode ${m.mode}`];
  if (m.seq !== undefined) parts.push(`seq ${m.seq}`);
  if (m.facility !== undefined) parts.push(`facility ${m.facility}`);
  if (m.level !== undefined) parts.push(`level ${m.level}`);
  if (m.flags !== undefined) parts.push(`flags ${escapeText(m.flags)}`);
  if (m.fragments > 1) parts.push(`${m.fragments} datagrams`);
  return style.dim(`    ${parts.join('; ')}`) + '\n';
}

/** What follows a message's text on its line: how it was joined, and its dictionary. */
export function formatLineTail(m: Message, style: Style): string {
  let s = '';
  if (m.fragments > 1) s += style.dim(` [${m.fragments} datagrams joined]`);
  if (m.incomplete) s += style.red(' [incomplete]');
  if (m.dictLines) return s + style.dim(` {${m.dictLines.map(l => escapeWire(l)).join(' ')}}`);
  if (m.dict) s += style.dim(` {${pairs(m.dict)}}`);
  if (m.userdata) s += style.dim(` userdata{${pairs(m.userdata)}}`);
  if (m.sysdata) s += style.dim(` sysdata{${pairs(m.sysdata)}}`);
  return s;
}

/** `KEY=value ...`, a value with a space or a quote in quotes, every part escaped. */
function pairs(o: Record<string, string>): string {
  return Object.entries(o)
    .map(([k, v]) => `${escapeWire(k)}=${/[\s"]/.test(v) ? `"${escapeWire(v.replace(/"/g, '\\"'))}"` : escapeWire(v)}`)
    .join(' ');
}

function senderLine(s: SenderSummary, time: TextTime): string {
  const from = endpoint(s.ip, s.port);
  const to = endpoint(s.dstIp, s.dstPort);
  const parts = [`${from} → ${to}`, s.mode, `${s.packets} datagrams`, `${s.messages} messages`];
  if (s.seqFirst !== undefined)
    parts.push(`seq ${s.seqFirst}..${s.seqLast}${s.seqMissing ? ` (${s.seqMissing} missing)` : ''}`);
  if (s.mac || s.dstMac) parts.push(`${s.mac ?? '?'} → ${s.dstMac ?? '?'}`);
  if (s.routers) parts.push(`through ${s.routers} router${s.routers === 1 ? '' : 's'} (${ttlLabel(s.dstIp, s.ttl)})`);
  parts.push(`${time.dateTime(s.first)} .. ${time.dateTime(s.last)}`);
  let line = `  ${parts.join('  ')}\n`;
  if (s.kernel) line += `    kernel: ${escapeText(s.kernel)}\n`;
  return line;
}

function formatFinding(f: Finding, style: Style): string {
  const sev =
    f.severity === 'error'
      ? style.red('error  ')
      : f.severity === 'warning'
        ? style.yellow('warning')
        : style.dim('info   ');
  let s = `  ${sev} ${style.bold(f.code)}: ${escapeText(f.summary)}\n`;
  for (const e of f.evidence) s += `          ${style.dim('evidence:')} ${escapeText(e)}\n`;
  if (f.hint) s += `          ${style.green('fix:')} ${escapeText(f.hint)}\n`;
  return s;
}

export function formatCapture(path: string, c: CaptureSummary | undefined, result: AnalysisResult): string {
  const what = c ? (c.detail ?? c.format) : 'live';
  return `capture: ${escapeText(path)} (${what}): ${result.packets} packets, ${result.datagrams} netconsole-port datagrams, ${result.messages} messages${c?.truncated ? ', TRUNCATED' : ''}\n`;
}

/** The line that says the report is partial: the user stopped the run. */
export function formatInterrupted(signal: string, style: Style): string {
  return `${style.yellow('interrupted')} by ${signal === 'SIGTERM' ? 'SIGTERM' : 'Ctrl-C (SIGINT)'}: this report covers only what was read before\n`;
}

export function formatSummary(result: AnalysisResult, style: Style, time: TextTime = UTC): string {
  let s = '';
  if (result.senders.length) {
    s += `${style.bold('senders:')}\n`;
    // A flood of spoofed senders must not bury the report: the first ones, then a count.
    for (const snd of result.senders.slice(0, SENDERS_SHOWN)) s += senderLine(snd, time);
    const more = result.senders.length - SENDERS_SHOWN;
    if (more > 0) s += `  ... and ${more} more senders (--json lists every one)\n`;
  }
  const sorted = sortFindings(result.findings);
  if (sorted.length) {
    s += `${style.bold('findings:')}\n`;
    for (const f of sorted) s += formatFinding(f, style);
  }
  s += verdictLine(result, style);
  return s;
}

/** FAIL with the counts; OK with the counts and what it rests on: what was compared, what not. */
function verdictLine(result: AnalysisResult, style: Style): string {
  const findings = result.findings;
  const n = (sev: string) => findings.filter(f => f.severity === sev).length;
  const errors = n('error'),
    warnings = n('warning');
  const counts = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  const codes = findings.length ? ' (netdiag explain CODE for details)' : '';
  if (errors) return `${style.red('FAIL')}: ${counts}${codes}\n`;
  let s = `${style.green('OK')} on the wire: ${counts}${codes}\n`;
  for (const c of result.coverage?.compared ?? []) s += `  compared:     ${escapeText(c)}\n`;
  for (const c of result.coverage?.notCompared ?? []) s += `  not compared: ${escapeText(c)}\n`;
  return s;
}
