/**
 * Makes text from the wire safe for a terminal: anyone can send a datagram to port 514, and an
 * escape sequence in it must not drive the user's terminal. C0 and C1 control characters, DEL,
 * and the invisible characters that reorder or hide text (bidirectional overrides, zero-width
 * characters) are shown as `\xNN` or `\u{NNNN}`.
 */

const UNSAFE =
  /[\x00-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\u{e0000}-\u{e007f}]/gu;

function replace(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp === 0x09) return '\\t';
  if (cp === 0x0a) return '\\n';
  if (cp === 0x0d) return '\\r';
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

export function escapeText(s: string): string {
  // Fast path: most kernel text is printable ASCII.
  if (!NOT_PRINTABLE_ASCII.test(s)) return s;
  UNSAFE.lastIndex = 0;
  return s.replace(UNSAFE, replace);
}

const UNSAFE_OR_BACKSLASH = new RegExp(`${UNSAFE.source.slice(0, -1)}\\\\]`, 'gu');
/** Printable ASCII but the backslash: text that escapeWire leaves as it is. */
export const PLAIN_WIRE_TEXT = /^[\x20-\x5b\x5d-\x7e]*$/;

/**
 * escapeText for the text a sender chose (message text, dictionary, userdata, syslog host and
 * tag): the backslash itself is shown as `\\`, so `\t` sent by the kernel and a tab escaped
 * here never look alike. Findings, evidence and fixes keep theirs (a fix may hold one to paste).
 */
export function escapeWire(s: string): string {
  if (PLAIN_WIRE_TEXT.test(s)) return s;
  UNSAFE_OR_BACKSLASH.lastIndex = 0;
  return s.replace(UNSAFE_OR_BACKSLASH, ch => (ch === '\\' ? '\\\\' : replace(ch)));
}

// JSON.stringify escapes C0 controls but leaves C1 controls, DEL and the invisible reordering
// characters as they are: a `cat` of the JSON would hand them to the terminal.

const JSON_UNSAFE =
  /[\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** JSON.stringify, with every character that could drive or deceive a terminal as \uXXXX. */
export function safeJson(value: unknown, space?: number): string {
  const s = JSON.stringify(value, null, space);
  JSON_UNSAFE.lastIndex = 0;
  return JSON_UNSAFE.test(s) ? s.replace(JSON_UNSAFE, ch => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`) : s;
}
