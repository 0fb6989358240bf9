/**
 * IPv4 and IPv6 fragment reassembly, bounded: at most MAX_PENDING datagrams in progress, each at
 * most 64 KiB, dropped after TIMEOUT_SEC of capture time. netconsole never fragments (it sends at
 * most ~1000 bytes), but a relay or a syslog sender may, and a hostile sender can try to make a
 * receiver hold memory: the bounds make that impossible here.
 */
const MAX_PENDING = 256;
const MAX_DATAGRAM = 65535;
const TIMEOUT_SEC = 30;

interface Pending {
  key: string;
  firstSec: number;
  /** Covered byte ranges and data, in arrival order. */
  pieces: Array<{ off: number; data: Uint8Array }>;
  /** Total length, once the last fragment (MF=0) arrived. */
  total: number;
  received: number;
  packets: number[];
}

export interface ReassembledDatagram {
  /** Transport header and payload. */
  data: Buffer;
  packets: number[];
}

export class IpReassembler {
  private pending = new Map<string, Pending>();
  /** Datagrams given up: timed out, evicted, or overlapping inconsistently. */
  abandoned: Array<{ key: string; packets: number[]; reason: string }> = [];

  /** Adds a fragment; returns the whole transport segment when this completes it. */
  add(
    key: string,
    fragOffset: number,
    more: boolean,
    data: Uint8Array,
    nowSec: number,
    packet: number,
  ): ReassembledDatagram | undefined {
    this.expire(nowSec);
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= MAX_PENDING) {
        const oldest = this.pending.values().next().value as Pending;
        this.drop(oldest, 'too many datagrams in reassembly');
      }
      p = { key, firstSec: nowSec, pieces: [], total: -1, received: 0, packets: [] };
      this.pending.set(key, p);
    }
    if (p.packets.length < 64) p.packets.push(packet);
    const end = fragOffset + data.length;
    if (end > MAX_DATAGRAM) {
      this.drop(p, 'fragments beyond 64 KiB');
      return undefined;
    }
    // Ignore exact repeats; an overlap with other bytes is given up as inconsistent.
    for (const q of p.pieces) {
      const qEnd = q.off + q.data.length;
      if (fragOffset < qEnd && end > q.off) {
        if (q.off === fragOffset && q.data.length === data.length) return undefined;
        this.drop(p, 'overlapping fragments');
        return undefined;
      }
    }
    // Nothing may lie past the end the last fragment gives: such a set is inconsistent.
    if (p.total >= 0 && end > p.total) {
      this.drop(p, "a fragment beyond the datagram's end");
      return undefined;
    }
    if (!more) {
      if (p.total >= 0 && p.total !== end) {
        this.drop(p, 'two different last fragments');
        return undefined;
      }
      if (p.pieces.some(q => q.off + q.data.length > end)) {
        this.drop(p, "a fragment beyond the datagram's end");
        return undefined;
      }
      p.total = end;
    }
    p.pieces.push({ off: fragOffset, data: Buffer.from(data) });
    p.received += data.length;
    if (p.total >= 0 && p.received === p.total) {
      this.pending.delete(key);
      const out = Buffer.alloc(p.total);
      for (const q of p.pieces) out.set(q.data, q.off);
      return { data: out, packets: p.packets };
    }
    return undefined;
  }

  /** Gives up everything still pending (end of capture). */
  flush(): void {
    for (const p of [...this.pending.values()]) this.drop(p, 'capture ended before all fragments arrived');
  }

  private expire(nowSec: number): void {
    for (const p of this.pending.values()) {
      if (nowSec - p.firstSec <= TIMEOUT_SEC) break; // insertion order is arrival order
      this.drop(p, `not complete after ${TIMEOUT_SEC} s`);
    }
  }

  private drop(p: Pending, reason: string): void {
    this.pending.delete(p.key);
    if (this.abandoned.length < 1000) this.abandoned.push({ key: p.key, packets: p.packets, reason });
  }
}
