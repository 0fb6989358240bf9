/**
 * A fleet run's output: a table (sender, verdict, root cause, latency; broken senders first,
 * then those that could not be checked, then the working ones, each group in the order given),
 * each broken sender's root cause and fix, this host's own checks once, and a one-line total.
 * Or JSON: `{ok, results: [the single-sender documents, in the order given], receiver}`, or one
 * document per line as each sender finishes (JSONL). Exit codes: 0 every sender works, 1 any is
 * broken, 2 none is broken but some could not be checked.
 */
import type { CheckResult } from '../checks/check.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../errors.js';
import type { Finding } from '../findings/finding.js';
import { escapeText, safeJson } from '../report/escape.js';
import type { Style } from '../report/style.js';
import type { FleetOutcome, FleetResult } from './fleet.js';
import { RECEIVER_HOPS } from './judge.js';
import { checkLines, verifyJsonDoc } from './report.js';

type Verdict = 'broken' | 'unchecked' | 'works';

function verdictOf(r: FleetResult): Verdict {
  return !r.outcome ? 'unchecked' : r.outcome.report.ok ? 'works' : 'broken';
}

export function fleetExitCode(results: readonly FleetResult[]): number {
  const v = results.map(verdictOf);
  return v.includes('broken') ? EXIT_FINDINGS : v.includes('unchecked') ? EXIT_USAGE : EXIT_OK;
}

/** One sender's document: the single-sender one, with the name it was given and why it could not be checked. */
export function fleetDoc(r: FleetResult): Record<string, unknown> {
  if (r.outcome) return { ...verifyJsonDoc(r.outcome, r.sender.destination), name: r.sender.name, error: null };
  return {
    sender: r.sender.destination,
    senderIp: null,
    iface: null,
    port: null,
    logFile: null,
    marker: null,
    ok: false,
    roundTripMs: null,
    elapsedMs: r.elapsedMs,
    rootCause: null,
    checks: [],
    findings: [],
    name: r.sender.name,
    error: r.error ?? 'could not be checked',
  };
}

export function formatFleetLine(r: FleetResult): string {
  return `${safeJson(fleetDoc(r))}\n`;
}

/** This host's checks, once: the same check for many senders is one line, with how many it concerns. */
function receiverSummary(results: readonly FleetResult[]): {
  checks: Array<CheckResult & { senders: number }>;
  findings: Finding[];
} {
  const byKey = new Map<string, CheckResult & { senders: number }>();
  for (const r of results) {
    for (const c of r.outcome?.report.checks ?? []) {
      if (!c.id.startsWith('receiver') && !RECEIVER_HOPS.includes(c.id)) continue;
      const key = `${c.id}\0${c.status}`;
      const seen = byKey.get(key);
      if (seen) seen.senders++;
      else byKey.set(key, { ...c, senders: 1 });
    }
  }
  const checks = [...byKey.values()];
  const findings = new Map<string, Finding>();
  for (const c of checks)
    for (const f of c.findings)
      if (!findings.has(`${f.code}\0${f.summary}`)) findings.set(`${f.code}\0${f.summary}`, f);
  return { checks, findings: [...findings.values()] };
}

export function formatFleetJson(o: FleetOutcome): string {
  const receiver = receiverSummary(o.results);
  return `${safeJson({
    ok: fleetExitCode(o.results) === EXIT_OK,
    interrupted: o.interrupted,
    results: o.results.map(fleetDoc),
    receiver: {
      captures: o.captures.map(c => c.iface),
      checks: receiver.checks.map(c => ({
        id: c.id,
        name: c.name,
        status: c.status,
        detail: c.detail,
        findings: c.findings.map(f => f.code),
        senders: c.senders,
      })),
      findings: receiver.findings,
    },
    elapsedMs: o.elapsedMs,
  })}\n`;
}

const ORDER: Record<Verdict, number> = { broken: 0, unchecked: 1, works: 2 };

export function formatFleetText(o: FleetOutcome, style: Style): string {
  const rows = o.results
    .map((r, i) => ({ r, i, v: verdictOf(r) }))
    .sort((a, b) => ORDER[a.v] - ORDER[b.v] || a.i - b.i);
  const cells = rows.map(({ r, v }) => [
    escapeText(r.sender.name),
    v === 'broken' ? 'FAIL' : v === 'works' ? 'PASS' : 'not checked',
    v === 'broken'
      ? (r.outcome!.report.rootCause?.code ?? '(no single cause)')
      : v === 'unchecked'
        ? escapeText(r.error ?? '')
        : // A PASS whose log file could not be looked at proves the path up to the daemon only.
          r.outcome?.report.checks.some(c => c.id === 'verify.log' && c.status === 'unknown')
          ? 'log file not checked'
          : '',
    r.outcome?.report.roundTripMs !== undefined ? `${r.outcome.report.roundTripMs} ms` : '',
  ]);
  const head = ['sender', 'verdict', 'root cause', 'latency'];
  const width = head.map((h, c) =>
    Math.min(c === 2 ? 60 : 48, Math.max(h.length, ...cells.map(row => row[c]!.length))),
  );
  const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
  const color = (v: Verdict, s: string) =>
    v === 'broken' ? style.red(s) : v === 'works' ? style.green(s) : style.yellow(s);
  let s = `${style.bold(
    head
      .map((h, c) => pad(h, width[c]!))
      .join('  ')
      .trimEnd(),
  )}\n`;
  rows.forEach(({ v }, k) => {
    const c = cells[k]!;
    s +=
      `${pad(c[0]!, width[0]!)}  ${color(v, pad(c[1]!, width[1]!))}  ${pad(c[2]!, width[2]!)}  ${c[3]}`.trimEnd() +
      '\n';
  });

  const broken = rows.filter(x => x.v === 'broken');
  if (broken.length) {
    s += `\n${style.bold('root causes')}\n`;
    for (const { r } of broken) {
      const f = r.outcome!.report.rootCause;
      s += `${escapeText(r.sender.name)}: ${f ? `${escapeText(f.summary)} (${style.bold(f.code)})` : 'no single cause: see --json'}\n`;
      if (f?.hint) s += `  ${style.green('fix:')} ${escapeText(f.hint)}\n`;
    }
  }
  const receiver = receiverSummary(o.results);
  if (receiver.checks.length) {
    s += `\n${style.bold(`this host (receiver)${o.captures.length ? `, capture on ${o.captures.map(c => escapeText(c.iface)).join(', ')}` : ''}`)}\n`;
    const checked = o.results.filter(r => r.outcome).length;
    // A check that differs between senders (the firewall's verdict for each source) says for how many it holds.
    for (const c of receiver.checks)
      s += checkLines(
        c.senders < checked ? { ...c, detail: `${c.detail} (${c.senders} of ${checked} senders)` } : c,
        style,
      );
  }
  const n = { works: 0, broken: 0, unchecked: 0 };
  for (const x of rows) n[x.v]++;
  const total = `${o.results.length} sender${o.results.length === 1 ? '' : 's'}: ${n.works} work${n.works === 1 ? 's' : ''}, ${n.broken} broken, ${n.unchecked} could not be checked (${(o.elapsedMs / 1000).toFixed(1)} s in all${o.interrupted ? ', interrupted' : ''})`;
  s += `\n${n.broken ? style.red('FAIL') : n.unchecked ? style.yellow('INCOMPLETE') : style.green('PASS')}: ${total}\n`;
  return s;
}
