/**
 * The test on the sender: a marker and a sysrq command written in one ssh session (its configfs
 * targets' send-error counts read after), what the capture saw of them (ArrivalTracker), and the
 * bounded wait for both.
 */
import { randomBytes } from 'node:crypto';
import { CONFIGFS_NETCONSOLE } from '../checks/sender/sources/configfs.js';
import { CLIError } from '../errors.js';
import type { ExecResult } from '../io/host-exec.js';
import type { PreparedCommand } from '../io/ssh-exec.js';
import type { Message } from '../pipeline/types.js';
import { SYSRQ_LINE, targetKey, type Arrival, type TransmitCount } from './hops/evidence.js';
import type { SenderSide } from './sender-side.js';
import type { VerifyDeps } from './types.js';

export function checkTrigger(trigger: string): void {
  if (!/^[0-9a-z]$/.test(trigger))
    throw new CLIError(`--trigger: '${trigger}' is not a sysrq command character (0-9, a-z)`);
}

export function newMarker(): string {
  return `netdiag-verify-${randomBytes(6).toString('hex')}`;
}

/**
 * The trigger command: the marker into the kernel log, then the sysrq command; then each configfs
 * target's send-error count (`transmit_errors`, 6.13 and later), read in the same session by the
 * shell itself (a process each would cost the emulated guests 5-10 ms). Its exit code is the writes'.
 */
export function triggerArgv(marker: string, trigger: string): string[] {
  return [
    'sh',
    '-c',
    `echo ${marker} > /dev/kmsg && echo ${trigger} > /proc/sysrq-trigger; r=$?; for f in ${CONFIGFS_NETCONSOLE}/*/transmit_errors; do [ -r "$f" ] && { v=; read -r v <"$f"; echo "transmit_errors $f $v"; }; done 2>/dev/null; exit $r`,
  ];
}

/** The trigger's output: each configfs target's transmit_errors after the test, by target name. */
export function parseTransmitErrors(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of stdout.matchAll(/^transmit_errors \S*\/([^/\s]+)\/transmit_errors (\d+)$/gm))
    out.set(m[1]!, Number(m[2]));
  return out;
}

/** The send-error counts of the tested target's configfs entries, before (facts) and after (the trigger's output). */
export function transmitCounts(side: SenderSide, after: Map<string, number>): TransmitCount[] {
  const live = side.report.configfs.filter(c => after.has(c.name));
  const t = side.target;
  const same = t ? live.filter(c => c.target.remoteIp === t.remoteIp && c.target.remotePort === t.remotePort) : [];
  return (same.length ? same : live).map(c => ({
    name: c.name,
    ...(c.extras?.transmitErrors !== undefined ? { before: c.extras.transmitErrors } : {}),
    after: after.get(c.name)!,
  }));
}

/** A target's marker and sysrq line as the capture saw them. */
export interface TargetArrivals {
  markerArrival?: Arrival;
  sysrqArrival?: Arrival;
}

/**
 * What the capture saw of one sender's test: its marker, its sysrq line, and how many other
 * messages. Only netconsole's own datagrams count: a syslog-formatted copy of the marker (the
 * sender's syslog daemon forwarding its kernel log over UDP) is counted apart, since it says
 * nothing of netconsole. Datagrams to the sender's other targets on this host (another port or
 * address) are theirs, kept by target.
 */
export class ArrivalTracker implements TargetArrivals {
  triggeredAt = Number.POSITIVE_INFINITY;
  markerArrival?: Arrival;
  sysrqArrival?: Arrival;
  messages = 0;
  /** Syslog-formatted copies of the marker or of a sysrq line seen from the sender (not netconsole). */
  syslogCopies = { marker: 0, sysrq: 0 };
  /** The sender's other targets on this host, by targetKey. */
  readonly others = new Map<string, TargetArrivals>();
  /**
   * The source the test's datagrams arrived from when it is not the sender's own (a router on the
   * way translates it: NAT). Known from the datagram holding this test's marker, which no other
   * host can send; from then on that source's datagrams are the sender's.
   */
  translated?: { ip: string; port: number };

  constructor(
    readonly senderIp: string,
    readonly marker: string,
    private readonly clock: () => number,
    readonly senderMac?: string,
    otherTargets: readonly string[] = [],
  ) {
    for (const k of otherTargets) this.others.set(k, {});
  }

  message(m: Message): void {
    if (m.srcIp !== this.senderIp && !(this.senderMac && m.srcMac === this.senderMac)) {
      const t = this.translated;
      if (t ? m.srcIp !== t.ip || m.srcPort !== t.port : m.mode === 'syslog' || !m.text.includes(this.marker)) return;
      this.translated ??= { ip: m.srcIp, port: m.srcPort };
    }
    if (m.mode === 'syslog') {
      if (m.text.includes(this.marker)) this.syslogCopies.marker++;
      else if (this.clock() >= this.triggeredAt && SYSRQ_LINE.test(m.text)) this.syslogCopies.sysrq++;
      return;
    }
    const other = this.others.size ? this.others.get(targetKey(m.dstIp, m.dstPort)) : undefined;
    if (!other) this.messages++;
    this.record(other ?? this, m);
  }

  private record(t: TargetArrivals, m: Message): void {
    if (!t.markerArrival && m.text.includes(this.marker)) t.markerArrival = this.seen(m);
    else if (!t.sysrqArrival && this.clock() >= this.triggeredAt && SYSRQ_LINE.test(m.text))
      t.sysrqArrival = this.seen(m);
  }

  get arrived(): boolean {
    return !!(this.markerArrival || this.sysrqArrival);
  }

  private seen(m: Message): Arrival {
    return {
      afterMs: Math.max(0, Math.round(this.clock() - this.triggeredAt)),
      packets: m.packets,
      dstPort: m.dstPort,
      dstIp: m.dstIp,
      text: m.text,
      ...(m.dstMac ? { dstMac: m.dstMac } : {}),
      ...(m.usec !== undefined ? { usec: m.usec } : {}),
    };
  }
}

/** The tracker of a sender's test, telling its other targets on this host apart. */
export function newTracker(side: SenderSide, marker: string, clock: () => number): ArrivalTracker {
  const others = [...(side.others ?? []), ...(side.unjudged ?? [])].map(t => targetKey(t.remoteIp, t.remotePort));
  return new ArrivalTracker(side.senderIp, marker, clock, side.senderMac, others);
}

/**
 * Fires the trigger (a prepared one, or a fresh command) and waits until both the marker and
 * the sysrq line arrived: once one is in, the other gets a short grace, not the whole timeout.
 * Returns the trigger's failure, if it failed.
 */
export async function triggerAndWait(
  t: ArrivalTracker,
  fire: { prepared?: PreparedCommand; run: () => Promise<ExecResult> },
  timeoutSec: number,
  d: Pick<VerifyDeps, 'clock' | 'sleep'>,
  tick: () => void,
  onOutput?: (stdout: string) => void,
): Promise<string | undefined> {
  t.triggeredAt = d.clock();
  let trig: ExecResult;
  if (fire.prepared) {
    fire.prepared.fire();
    trig = await fire.prepared.result;
  } else trig = await fire.run();
  onOutput?.(trig.stdout);
  const triggerError =
    trig.code !== 0 ? (trig.stderr.trim().split('\n').pop() || `exit ${trig.code}`).slice(0, 200) : undefined;
  let deadline = t.triggeredAt + timeoutSec * 1000;
  let graced = false;
  const all = (a: TargetArrivals) => a.markerArrival && a.sysrqArrival;
  // The sender's other targets on this host send the same lines right after: wait for theirs too.
  while (!triggerError && d.clock() < deadline && !(all(t) && [...t.others.values()].every(all))) {
    await d.sleep(t.arrived ? 10 : 25);
    tick();
    if (!graced && t.arrived) {
      graced = true;
      deadline = Math.min(deadline, d.clock() + 1500);
    }
  }
  return triggerError;
}
