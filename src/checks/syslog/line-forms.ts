/**
 * The forms a netconsole line takes when a syslog daemon parses it as an RFC 3164 message without
 * <PRI>, date or host, and what that makes of its tag. Walked against rsyslog 8.2302 and
 * syslog-ng 3.38.1 with lines from fixtures/real (fixtures/checks/README.md):
 *
 * - `plain-ts`, plain with printk timestamps (`[   12.345678] text`): no tag (rsyslog's
 *   $programname and $syslogtag empty, $app-name "-"; syslog-ng's $PROGRAM empty);
 * - `plain`, plain without timestamps (printk.time=N): the tag is the line's first word or its
 *   second (rsyslog takes a first word that can be a host name as $hostname): the kernel's text
 *   decides;
 * - `extended` (`6,123,456789,-;text`): the tag is `LEVEL,SEQ,USEC,FLAGS;` and the text's first word,
 *   so it starts with a digit.
 *
 * Which forms a sender sends follows from its target (`+` extended) and printk's `time` parameter.
 * Pure.
 */
export type LineForm = 'plain-ts' | 'plain' | 'extended';

export const ALL_LINE_FORMS: readonly LineForm[] = ['plain-ts', 'plain', 'extended'];

/**
 * The forms a sender's lines take: extended alone for an extended target, else plain with or
 * without timestamps as /sys/module/printk/parameters/time says (both when it is not known).
 */
export function senderLineForms(extended: boolean | undefined, printkTime: boolean | undefined): LineForm[] {
  if (extended === undefined) return [...ALL_LINE_FORMS];
  if (extended) return ['extended'];
  return printkTime === undefined ? ['plain-ts', 'plain'] : printkTime ? ['plain-ts'] : ['plain'];
}

/** /sys/module/printk/parameters/time (`Y` or `N`), or undefined when unreadable. */
export function parsePrintkTime(text: string | undefined): boolean | undefined {
  const v = text?.trim();
  return v === 'Y' || v === '1' ? true : v === 'N' || v === '0' ? false : undefined;
}

/** The receiver context's `printkTime` from the fact's text: nothing when it is unreadable. */
export function printkTimeCtx(text: string | undefined): { printkTime?: boolean } {
  const t = parsePrintkTime(text);
  return t === undefined ? {} : { printkTime: t };
}

/** What is known of a tag value in one form: all of it, that it starts with a digit, or nothing. */
export type KnownTag = { exact: string } | { digit: true } | undefined;
