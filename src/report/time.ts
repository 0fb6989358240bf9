/** Timestamps for reports, always in UTC so reports do not depend on the machine's zone. */
import type { Timestamp } from '../pipeline/types.js';

let cachedSec = NaN;
let cachedIso = '';

/** `2026-11-24T13:01:02.123456Z` (nanoseconds when the capture has them). */
export function isoTime(t: Timestamp): string {
  if (t.sec !== cachedSec) {
    cachedSec = t.sec;
    cachedIso = new Date(t.sec * 1000).toISOString().slice(0, 19);
  }
  return `${cachedIso}.${fraction(t.nsec)}Z`;
}

/** `13:01:02.123456` of the day, UTC. */
export function clockTime(t: Timestamp): string {
  return isoTime(t).slice(11, -1);
}

function fraction(nsec: number): string {
  return nsec % 1000 === 0 ? String(nsec / 1000).padStart(6, '0') : String(nsec).padStart(9, '0');
}

/** The printk time as dmesg shows it: `[   45.287505]`. */
export function printkTime(usec: number): string {
  const sec = Math.floor(usec / 1e6);
  return `[${String(sec).padStart(5, ' ')}.${String(usec % 1e6).padStart(6, '0')}]`;
}
