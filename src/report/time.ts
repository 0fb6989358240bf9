/**
 * Timestamps for reports. Text shows local time as tcpdump does (the TZ variable is honoured),
 * or UTC with --utc; the zone is named once at the top of the report. JSON is always ISO 8601
 * in UTC. Formatting is cached per second: consecutive messages share their second, so a
 * message costs only its fraction.
 */
import type { Timestamp } from '../pipeline/types.js';

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Fractional seconds: microseconds, or nanoseconds when the capture has them. */
function fraction(nsec: number): string {
  return nsec % 1000 === 0 ? String(1e6 + nsec / 1000).slice(1) : String(1e9 + nsec).slice(1);
}

/** `+01:00`, `-05:30` for an offset east of UTC in minutes. */
export function offsetText(minutesEast: number): string {
  const m = Math.abs(minutesEast);
  return `${minutesEast < 0 ? '-' : '+'}${pad2(Math.floor(m / 60))}:${pad2(m % 60)}`;
}

/** The zone's short name (`CET`, `EST`, `UTC`), or its IANA name when it has none (`Asia/Kolkata`). */
function zoneName(d: Date): string {
  // UTC under any of its names: said without Intl, whose first use costs tens of milliseconds.
  if (d.getTimezoneOffset() === 0 && d.toString().endsWith(' (Coordinated Universal Time)')) return 'UTC';
  for (const locale of ['en-US', 'en-GB']) {
    try {
      const part = new Intl.DateTimeFormat(locale, { timeZoneName: 'short' })
        .formatToParts(d)
        .find(p => p.type === 'timeZoneName');
      if (part && !/^(GMT|UTC)[+-−]/.test(part.value)) return part.value;
    } catch {
      // An Intl without zone names: the IANA name below.
    }
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local time';
}

/**
 * Formats capture times for the text report, in local time or UTC, with a one-second cache.
 * One instance per report: the cache belongs to it.
 */
export class TextTime {
  private sec = NaN;
  private clock = '';
  private date = '';

  /** @param utc true for --utc; false shows the local zone (TZ honoured). */
  constructor(readonly utc: boolean) {}

  private cache(sec: number): void {
    this.sec = sec;
    const d = new Date(sec * 1000);
    if (Number.isNaN(d.getTime())) {
      // A damaged capture can hold a time beyond what a date can say: shown as seconds, never thrown.
      this.clock = this.date = `@${sec}`;
      return;
    }
    const u = this.utc;
    const y = u ? d.getUTCFullYear() : d.getFullYear();
    const year = y >= 0 && y <= 9999 ? String(y).padStart(4, '0') : String(y);
    this.date = `${year}-${pad2((u ? d.getUTCMonth() : d.getMonth()) + 1)}-${pad2(u ? d.getUTCDate() : d.getDate())} `;
    this.clock = `${pad2(u ? d.getUTCHours() : d.getHours())}:${pad2(u ? d.getUTCMinutes() : d.getMinutes())}:${pad2(u ? d.getUTCSeconds() : d.getSeconds())}`;
  }

  /** `13:01:02.123456`: the time of day, for message lines. */
  clockTime(t: Timestamp): string {
    if (t.sec !== this.sec) this.cache(t.sec);
    return `${this.clock}.${fraction(t.nsec)}`;
  }

  /** `2026-11-24 13:01:02.123456`: a full date and time, for spans (tcpdump -tttt's form). */
  dateTime(t: Timestamp): string {
    if (t.sec !== this.sec) this.cache(t.sec);
    return this.date === this.clock
      ? `${this.clock}.${fraction(t.nsec)}`
      : `${this.date}${this.clock}.${fraction(t.nsec)}`;
  }

  /** `UTC (+00:00)`, `CET (+01:00)`: the zone in force at `sec` (seconds since the epoch), for the header. */
  zone(sec: number): string {
    if (this.utc) return 'UTC (+00:00)';
    let d = new Date(sec * 1000);
    if (Number.isNaN(d.getTime())) d = new Date();
    return `${zoneName(d)} (${offsetText(-d.getTimezoneOffset())})`;
  }
}

let isoSec = NaN;
let isoCached = '';

/** `2026-11-24T13:01:02.123456Z` (nanoseconds when the capture has them), always UTC: for JSON. */
export function isoTime(t: Timestamp): string {
  if (t.sec !== isoSec) {
    isoSec = t.sec;
    const d = new Date(t.sec * 1000);
    isoCached = Number.isNaN(d.getTime()) ? `@${t.sec}` : d.toISOString().slice(0, 19);
  }
  return `${isoCached}.${fraction(t.nsec)}Z`;
}

const UTC = new TextTime(true);

/** `13:01:02.123456` of the day in UTC (kept for callers without a report of their own). */
export function clockTime(t: Timestamp): string {
  return UTC.clockTime(t);
}

const PAD = ['', '    ', '   ', '  ', ' ', ''];

/** The printk time as dmesg shows it: `[   45.287505]`. */
export function printkTime(usec: number): string {
  const sec = Math.floor(usec / 1e6);
  const s = String(sec);
  return `[${s.length < 5 ? PAD[s.length] : ''}${s}.${String(1e6 + (usec - sec * 1e6)).slice(1)}]`;
}
