/**
 * Tracks extended-mode sequence numbers of one sender: gaps, duplicates, reordering, restarts.
 * A bounded window of recently seen numbers tells a late arrival (reordered, fills a gap) from a
 * repeat (duplicate). Pure and allocation-free per record.
 */
const WINDOW = 4096;
const EMPTY = new Uint8Array(0);

export type SeqEvent = 'first' | 'next' | 'gap' | 'duplicate' | 'reorder' | 'restart';

export class SequenceTracker {
  max = -1;
  /** Numbers skipped and not (yet) filled by a late arrival. */
  missing = 0;
  gaps = 0;
  duplicates = 0;
  reordered = 0;
  restarts = 0;
  first = -1;
  /** The last gap seen: after which number, and how many were missing. */
  lastGap?: { after: number; missing: number };
  // Allocated at the first record: plain and syslog flows never need it.
  private seen = EMPTY;

  /**
   * @param bootStart the record starts a boot log (`Linux version ...`): a lower number is a restart.
   */
  observe(seq: number, bootStart = false): SeqEvent {
    if (this.max < 0) {
      if (this.seen === EMPTY) this.seen = new Uint8Array(WINDOW);
      this.max = seq;
      this.first = seq;
      this.seen[seq % WINDOW] = 1;
      return 'first';
    }
    if (seq > this.max) {
      const d = seq - this.max;
      this.clearAhead(d);
      this.max = seq;
      this.seen[seq % WINDOW] = 1;
      if (d === 1) return 'next';
      this.gaps++;
      this.missing += d - 1;
      this.lastGap = { after: seq - d, missing: d - 1 };
      return 'gap';
    }
    const back = this.max - seq;
    if ((bootStart && back > 0) || back >= WINDOW) {
      this.restarts++;
      this.seen.fill(0);
      this.max = seq;
      this.seen[seq % WINDOW] = 1;
      return 'restart';
    }
    const i = seq % WINDOW;
    if (this.seen[i]) {
      this.duplicates++;
      return 'duplicate';
    }
    this.seen[i] = 1;
    this.reordered++;
    if (this.missing > 0) this.missing--;
    return 'reorder';
  }

  private clearAhead(d: number): void {
    if (d >= WINDOW) {
      this.seen.fill(0);
      return;
    }
    for (let k = 1; k <= d; k++) this.seen[(this.max + k) % WINDOW] = 0;
  }
}
