/**
 * A live capture from start to stop: opens the interface, tees each packet to the sink (the
 * pipeline) and to an optional capture file, calls the sink's `tick` so pending split lines time
 * out while the wire is quiet, and stops on the first of: N packets, a duration, or a signal.
 * Then it closes the capture, flushes the file, and reports what it captured. Independent of
 * output: the caller prints.
 */
import { CLIError } from '../errors.js';
import type { Timestamp } from '../pipeline/types.js';
import type { PacketSink } from './sink.js';
import type { LiveCapture, LiveCaptureOptions, LiveStats } from './live.js';
import { openLiveCaptureProcess } from './live-process.js';
import { openCaptureWriter, type CaptureWriter, type CaptureWriterOptions } from './pcap-writer.js';

// 'count', 'duration', 'SIGINT', 'SIGTERM', or the text of the failure that stopped the capture.
type StopReason = string;

export interface LiveSessionOptions {
  capture: LiveCaptureOptions;
  sink: PacketSink & { tick?(now: Timestamp): void };
  /** Also write every captured packet here (pcapng when it ends in .pcapng). */
  writePath?: string;
  /** The file functions the writer uses (sniff -w - hands in standard output's). */
  writeFs?: CaptureWriterOptions['fs'];
  /** Stop after this many packets (as tcpdump -c). */
  count?: number;
  /** Stop after this long. */
  durationMs?: number;
  /** Resolves with a reason (the signal's name) when the user asks to stop. */
  stop: Promise<string>;
  /** How often the sink's tick and onTick run. @default 200 */
  tickMs?: number;
  /** Called once the capture is open (print "listening on ..."). */
  onOpen?(capture: LiveCapture): void;
  /** Called every tick with the counters so far (progress, flushing output). */
  onTick?(stats: LiveStats): void;
  /**
   * How the capture is opened. Default: in a capture process of its own (live-process.ts), so a
   * busy netdiag cannot make the kernel drop a burst. Tests hand in openLiveCapture with a fake cap.
   */
  open?: (o: LiveCaptureOptions, sink: PacketSink) => LiveCapture | Promise<LiveCapture>;
}

export interface LiveSessionResult {
  reason: StopReason;
  /** Set when the capture ended by itself (the interface disappeared...): why. Exit 2. */
  ended?: string;
  iface: string;
  linkType: number;
  stats: LiveStats;
  /** Wall time from open to stop. */
  seconds: number;
  /** CPU this process used from the end of open to stop (capture, decoding, output), in microseconds. */
  cpuMicros: { user: number; system: number };
  written?: { path: string; format: string; packets: number };
}

export async function runLiveSession(opts: LiveSessionOptions): Promise<LiveSessionResult> {
  let writer: CaptureWriter | undefined;
  let seen = 0;
  let broken = false;
  let capture: LiveCapture | undefined;
  let stopByCount: ((r: StopReason) => void) | undefined;
  let fail: ((e: unknown) => void) | undefined;
  const countReached = new Promise<StopReason>(resolve => (stopByCount = resolve));
  // Errors inside cap's event or a timer would escape as uncaught exceptions: end the session instead.
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const limit = opts.count ?? Infinity;
  const writeError = (e: unknown) => {
    const err = e as NodeJS.ErrnoException;
    return new CLIError(`cannot write ${JSON.stringify(opts.writePath)}: ${err.code ?? err.message}`);
  };

  const tee: PacketSink = {
    packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType) {
      if (seen >= limit || broken) return;
      seen++;
      try {
        writer?.packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
      } catch (e) {
        broken = true;
        capture?.stop();
        fail!(writeError(e));
        return;
      }
      try {
        opts.sink.packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
      } catch (e) {
        broken = true;
        capture?.stop();
        fail!(e);
        return;
      }
      if (seen >= limit) {
        capture?.stop();
        stopByCount!('count');
      }
    },
  };

  // The capture process keeps the backlog (its --backlog); what reaches this process is decoded
  // as it is read from the pipe, one chunk at a time, with no copy in between.
  const opened = await (opts.open ?? openLiveCaptureProcess)(opts.capture, tee);
  capture = opened;
  if (opts.writePath !== undefined) {
    try {
      writer = openCaptureWriter(opts.writePath, {
        linkType: capture.linkType,
        snaplen: capture.snaplen,
        iface: capture.iface,
        ...(opts.writeFs ? { fs: opts.writeFs } : {}),
        onError: e => {
          capture?.stop();
          fail!(writeError(e));
        },
      });
    } catch (e) {
      capture.stop();
      throw writeError(e);
    }
  }
  opts.onOpen?.(capture);
  // Measured from here: opening costs the kernel time to allocate the ring (0.25 s for 64 MiB).
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();

  const timers: NodeJS.Timeout[] = [];
  const tickMs = opts.tickMs ?? 200;
  const cap = capture;
  timers.push(
    setInterval(() => {
      try {
        opts.sink.tick?.(cap.now());
        opts.onTick?.(cap.stats());
      } catch (e) {
        cap.stop();
        fail!(e);
      }
    }, tickMs),
  );
  let ended: string | undefined;
  const stoppers: Array<Promise<StopReason>> = [countReached, opts.stop, failed];
  if (capture.ended) stoppers.push(capture.ended().then(why => (ended = why)));
  if (opts.durationMs !== undefined) {
    stoppers.push(new Promise(resolve => timers.push(setTimeout(() => resolve('duration'), opts.durationMs))));
  }

  let reason: StopReason;
  try {
    reason = await Promise.race(stoppers);
  } catch (e) {
    capture.stop();
    for (const t of timers) clearTimeout(t);
    try {
      writer?.close();
    } catch {
      // The first error is the one to report.
    }
    throw e;
  }
  capture.stop();
  // A capture process hands on what it read before it stopped: wait for it.
  await capture.stopped?.();
  for (const t of timers) clearTimeout(t);
  try {
    writer?.close();
  } catch (e) {
    throw writeError(e);
  }
  const cpu = process.cpuUsage(cpu0);
  // The capture process's own CPU counts too.
  const childCpu = capture.stats().cpuMicros;
  if (childCpu) {
    cpu.user += childCpu.user;
    cpu.system += childCpu.system;
  }
  const result: LiveSessionResult = {
    reason,
    ...(ended !== undefined ? { ended } : {}),
    iface: capture.iface,
    linkType: capture.linkType,
    stats: capture.stats(),
    seconds: (performance.now() - t0) / 1000,
    cpuMicros: { user: cpu.user, system: cpu.system },
  };
  if (writer) result.written = { path: writer.path, format: writer.format, packets: writer.packets };
  return result;
}

/** The line a live command prints on stderr when it stops, like tcpdump's. Pure. */
export function formatSessionStats(r: LiveSessionResult): string {
  const cpuS = (r.cpuMicros.user + r.cpuMicros.system) / 1e6;
  let s = `${r.stats.packets} packets captured on ${r.iface} in ${r.seconds.toFixed(2)} s, cpu ${cpuS.toFixed(3)} s`;
  const child = r.stats.cpuMicros;
  if (child) s += ` (capture process ${((child.user + child.system) / 1e6).toFixed(3)} s)`;
  const k = r.stats.kernel;
  if (!k || 'unknown' in k) s += ` (kernel drops unknown: ${k?.unknown ?? 'cap does not report them'})`;
  else if (k.dropped) s += `, ${k.dropped} dropped by the kernel: the capture buffer was full (a bigger -B holds more)`;
  else s += ', 0 dropped by the kernel';
  if (r.stats.peakBacklog !== undefined) s += `, peak backlog ${r.stats.peakBacklog}`;
  if (r.stats.dropped)
    s += `, ${r.stats.dropped} dropped by the capture process: netdiag fell too far behind (a bigger --backlog holds more)`;
  if (r.stats.truncated) s += `, ${r.stats.truncated} cut at 65535 bytes`;
  if (r.written)
    s += `; ${r.written.packets} written to ${JSON.stringify(r.written.path).slice(1, -1)} (${r.written.format})`;
  return s;
}
