/**
 * Syslog datagrams (RFC 3164 and RFC 5424) on a netconsole port: recognised so they are not
 * mistaken for netconsole text, and decoded for display. Pure; undefined when it is not syslog.
 */
export interface SyslogHeader {
  rfc: 3164 | 5424;
  facility: number;
  severity: number;
  timestamp?: string;
  hostname?: string;
  app?: string;
}

const MONTHS = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d /;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d) /;

export function decodeSyslog(
  buf: Uint8Array,
  off: number,
  end: number,
): { header: SyslogHeader; msgOff: number } | undefined {
  // <PRI>: 1 to 3 digits, at most 191.
  let p = off + 1;
  let pri = 0;
  const limit = Math.min(end, off + 5);
  while (p < limit && buf[p]! >= 0x30 && buf[p]! <= 0x39) pri = pri * 10 + buf[p++]! - 0x30;
  if (p === off + 1 || p >= end || buf[p] !== 0x3e || pri > 191) return undefined;
  p++;
  const facility = pri >> 3,
    severity = pri & 7;
  // Only the header is examined; a bounded prefix is enough.
  const head = Buffer.from(buf.buffer, buf.byteOffset + p, Math.min(end - p, 512)).toString('latin1');
  if (head.startsWith('1 ')) {
    // VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
    const parts = head.slice(2).split(' ', 5);
    if (parts.length === 5) {
      let consumed = 2 + parts.reduce((n, x) => n + x.length + 1, 0);
      // Structured data: '-' or one or more [..] elements.
      let sd = consumed;
      if (head[sd] === '-') sd++;
      else if (head[sd] === '[') {
        let depth = 0;
        for (; sd < head.length; sd++) {
          const ch = head[sd];
          if (ch === '\\') {
            sd++;
            continue;
          }
          if (ch === '[') depth++;
          else if (ch === ']') {
            depth--;
            if (depth === 0 && head[sd + 1] !== '[') {
              sd++;
              break;
            }
          }
        }
      }
      if (head[sd] === ' ') sd++;
      consumed = sd;
      const header: SyslogHeader = { rfc: 5424, facility, severity };
      if (parts[0] !== '-') header.timestamp = parts[0];
      if (parts[1] !== '-') header.hostname = parts[1];
      if (parts[2] !== '-') header.app = parts[2];
      return { header, msgOff: p + consumed };
    }
  }
  const header: SyslogHeader = { rfc: 3164, facility, severity };
  let q = 0;
  // BSD format's `Mmm dd hh:mm:ss`, or the RFC 3339 time rsyslog puts there in its place.
  const m = MONTHS.exec(head) ?? ISO_TIME.exec(head);
  if (m) {
    header.timestamp = m[0].trim();
    q = m[0].length;
    const sp = head.indexOf(' ', q);
    const colon = head.indexOf(':', q);
    // HOSTNAME then TAG: only when a space comes before the tag's colon.
    if (sp > q && (colon < 0 || sp < colon)) {
      header.hostname = head.slice(q, sp);
      q = sp + 1;
    }
  }
  const tag = /^([^\s:[\]]{1,48})(\[\d+\])?: /.exec(head.slice(q));
  if (tag) {
    header.app = tag[1];
    q += tag[0].length;
  }
  return { header, msgOff: p + q };
}
