/** Evidence kept about a kind of event: a bounded list of packet numbers and the total count. */

/** At most this many packet numbers are kept as evidence per item. */
const EVIDENCE_PACKETS = 20;

/** Bounded list of packet numbers plus a total count. */
export class PacketSample {
  list: number[] = [];
  count = 0;
  add(n: number): void {
    this.count++;
    if (this.list.length < EVIDENCE_PACKETS) this.list.push(n);
  }
}

/** ICMP destination-unreachable answers of one kind: their packets, codes and who sent them. */
export class IcmpAnswers {
  readonly sample = new PacketSample();
  /** The codes' names (`host prohibited (icmp-host-prohibited)`), at most 4. */
  readonly names = new Set<string>();
  /** Who answered, at most 4. */
  readonly from = new Set<string>();
  add(packet: number, name: string, from: string): void {
    this.sample.add(packet);
    if (this.names.size < 4) this.names.add(name);
    if (this.from.size < 4) this.from.add(from);
  }
}

/**
 * How an answer is taken: `port` nothing listens (or a REJECT with the port code); `refused` a
 * firewall said no (a prohibited code, or an unreachable code from the destination itself, which
 * would not call itself unreachable); `undeliverable` a router could not deliver.
 */
export type AnswerKind = 'port' | 'refused' | 'undeliverable';
