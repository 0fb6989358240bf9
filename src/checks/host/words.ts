/**
 * Words of a line of host text, split as the program that reads it splits them: the kernel its
 * command line (double quotes), iptables-restore a rule (double or single quotes, a backslash
 * escaping inside double quotes). Pure; an open quote runs to the end of the line, as both do.
 */

/** How one program splits: which characters quote, which separate, whether `\` escapes inside `"`. */
export interface QuoteRules {
  /** Each character here opens a quoted run that the same character closes; the quotes are dropped. */
  quotes: string;
  /** A character that separates words outside quotes. */
  blank: RegExp;
  /** Inside double quotes, `\` takes the next character as it is (`\"`, `\\`). */
  backslashInDouble: boolean;
}

export function splitQuoted(text: string, rules: QuoteRules): string[] {
  const out: string[] = [];
  let cur = '';
  // A word has begun (an empty pair of quotes is a word).
  let any = false;
  let q: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '\\' && q === '"' && rules.backslashInDouble && i + 1 < text.length) cur += text[++i];
      else if (c === q) q = null;
      else cur += c;
      continue;
    }
    if (rules.quotes.includes(c)) {
      q = c;
      any = true;
      continue;
    }
    if (rules.blank.test(c)) {
      if (any) out.push(cur);
      cur = '';
      any = false;
      continue;
    }
    cur += c;
    any = true;
  }
  if (any) out.push(cur);
  return out;
}
