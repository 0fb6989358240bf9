/** Evidence kept about a kind of event: a bounded list of packet numbers and the total count. */

/** At most this many packet numbers are kept as evidence per item. */
export const EVIDENCE_PACKETS = 20;

/** Bounded list of packet numbers plus a total count. */
export class PacketSample {
  list: number[] = [];
  count = 0;
  add(n: number): void {
    this.count++;
    if (this.list.length < EVIDENCE_PACKETS) this.list.push(n);
  }
}
