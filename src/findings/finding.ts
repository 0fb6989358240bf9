/**
 * A finding is what netdiag concludes, like a linter's diagnostic: a stable code, a severity,
 * one line of summary, the evidence it rests on, and a fix the user can run.
 */
import type { Severity } from './code-info.js';
import type { FindingCode } from './codes.js';

export interface Finding {
  /** Stable code, e.g. `dst-mac-mismatch`; `netdiag explain CODE` prints its long text. */
  code: FindingCode;
  severity: Severity;
  /** One line, no trailing period needed. */
  summary: string;
  /** Human-readable evidence lines: packet numbers, `file:line KEY=value`, a firewall rule with counters. */
  evidence: string[];
  /** The fix, as commands or a config line the user can paste. */
  hint: string;
  /** Packet numbers (1-based, as Wireshark numbers frames), at most a few dozen. */
  packets?: number[];
  /** The sender or target this is about, e.g. `10.99.0.2:6666`, when there is one. */
  subject?: string;
  /**
   * When the same finding came from many senders and was made one: every sender it is about
   * (bounded by the flows tracked), in the order found. `subject` is then the first.
   */
  subjects?: string[];
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Errors first, then warnings, then info; stable within a severity. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map(x => x.f);
}

/** Formats a bounded list of packet numbers: `#3, #4, #9 (+120 more)`. */
export function packetList(packets: readonly number[], total = packets.length, shown = 8): string {
  const head = packets
    .slice(0, shown)
    .map(n => `#${n}`)
    .join(', ');
  const more = total - Math.min(shown, packets.length);
  return more > 0 ? `${head} (+${more} more)` : head;
}
