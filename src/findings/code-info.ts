import type { Severity } from './finding.js';

/** The catalog entry of one finding code: what `netdiag explain CODE` and docs/findings.md print. */
export interface CodeInfo {
  code: string;
  severity: Severity;
  /** A short title, e.g. "Destination MAC differs from the configured one". */
  title: string;
  /** The long explanation: what it means, why it happens, how netconsole behaves. Plain text, paragraphs split by blank lines. */
  explanation: string;
  /** The usual fix, in general terms (a finding's own hint is specific). */
  fix: string;
}
