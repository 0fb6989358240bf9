/** Exit codes shared by every command. */
export const EXIT_OK = 0;
/** At least one error finding (analyze, sniff) or a failed check (verify). */
export const EXIT_FINDINGS = 1;
/** Usage error, unreadable input, or a prerequisite missing (no permission, no libpcap). */
export const EXIT_USAGE = 2;

/**
 * The one error type a command throws for the user: its message is printed as one line
 * (`netdiag: <message>`) and the process exits with `exitCode`. Anything else is a bug.
 */
export class CLIError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_USAGE) {
    super(message);
    this.name = 'CLIError';
    this.exitCode = exitCode;
  }
}
