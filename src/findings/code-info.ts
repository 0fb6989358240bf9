export type Severity = 'error' | 'warning' | 'info';

/** The catalog entry of one finding code: what `netdiag explain CODE` and docs/findings.md print. */
export interface CodeInfo<Code extends string = string> {
  code: Code;
  severity: Severity;
  /** A short title, e.g. "Destination MAC differs from the configured one". */
  title: string;
  /**
   * The long explanation: what it means, why it happens, how netconsole behaves. Plain text,
   * paragraphs split by blank lines.
   */
  explanation: string;
  /** The usual fix, in general terms (a finding's own hint is specific). */
  fix: string;
}

/** A list of catalog entries whose codes stay string literals, so `FindingCode` can be derived from them. */
export function defineCodes<const Code extends string>(
  entries: ReadonlyArray<CodeInfo<Code>>,
): ReadonlyArray<CodeInfo<Code>> {
  return entries;
}
