/** Timestamps for reports, always in UTC so reports do not depend on the machine's zone. */
import type { Timestamp } from '../pipeline/types.js';

let cachedSec = NaN;
let cachedIso = '';
let cachedClock = '';

function cache(sec: number): void {
  cachedSec = sec;
  const d = new Date(sec * 1000);
  // A damaged capture can hold a time beyond what a date can say: shown as seconds, never thrown.
  cachedIso = Number.isNaN(d.getTime()) ? `@${sec}` : d.toISOString().slice(0, 19);
  cachedClock = Number.isNaN(d.getTime()) ? cachedIso : cachedIso.slice(11);
}

/** Fractional seconds: microseconds, or nanoseconds when the capture has them. */
function fraction(nsec: number): string {
  return nsec % 1000 === 0 ? String(1e6 + nsec / 1000).slice(1) : String(1e9 + nsec).slice(1);
}

/** `2026-11-24T13:01:02.123456Z` (nanoseconds when the capture has them). */
export function isoTime(t: Timestamp): string {
  if (t.sec !== cachedSec) cache(t.sec);
  return `${cachedIso}.${fraction(t.nsec)}Z`;
}

/** `13:01:02.123456` of the day, UTC. */
export function clockTime(t: Timestamp): string {
  if (t.sec !== cachedSec) cache(t.sec);
  return `${cachedClock}.${fraction(t.nsec)}`;
}

const PAD = ['', '    ', '   ', '  ', ' ', ''];

/** The printk time as dmesg shows it: `[   45.287505]`. */
export function printkTime(usec: number): string {
  const sec = Math.floor(usec / 1e6);
  const s = String(sec);
  return `[${s.length < 5 ? PAD[s.length] : ''}${s}.${String(1e6 + (usec - sec * 1e6)).slice(1)}]`;
}
