/**
 * The capture process: `node capture-child.js OPTIONS-JSON`. It opens the interface with libpcap
 * through koffi (live-pcap.ts: a TPACKET_V3 ring that holds about 200,000 datagrams at the default
 * -B), or with cap (live.ts) when that cannot load, and does nothing else: each packet is appended
 * to a pcap stream on stdout, batched per read. So the kernel's ring is drained whatever the main
 * process is doing (decoding, printing, waiting for a slow terminal, a GC pause): the burst waits
 * in the pipe and in this process's memory (bounded), and, while this process is not scheduled,
 * in the ring. (cap cannot run in a worker thread: its addon delivers packets on the process's
 * main loop.)
 *
 * What it costs per packet is mostly being woken: it reads the ring every 1 ms while packets come
 * (cap's path: naps 1 ms after each turn that read packets), so a turn reads hundreds at
 * 200,000/s, not one or two; it reuses its batches (fresh memory costs page faults), runs at a
 * higher priority than netdiag when allowed, and tells the kernel's own drop count at the end
 * (packet-stats.ts).
 *
 * fd 3 is the control channel: `ERROR <exit code> <message>` when the capture cannot open,
 * `STATS <json>` when it ends. SIGTERM or SIGINT ends the capture cleanly.
 */
import { existsSync, writeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { CLIError } from '../errors.js';
import { PCAP_RECORD_HEADER_LEN as REC, pcapFileHeader, writePcapRecordHeader } from './format.js';
import { openLiveCapture, type LiveCapture, type LiveCaptureOptions } from './live.js';
import { BLOCK_TIMEOUT_MS, openPcapCapture, type PcapCapture } from './live-pcap.js';
import { openKernelStats } from './packet-stats.js';
import { widenPipe } from '../io/pipe-size.js';

/** MiB of pcap records waiting to be written before packets are dropped (and counted). */
const DEFAULT_BACKLOG_MIB = 256;
/** A batch of pcap records; a packet larger than that gets a batch of its own. */
const BATCH = 256 * 1024;
/** Longest a packet waits in a batch while the stream still holds an earlier one. */
const HOLD_MS = 20;
/** The capture process's priority (see main). */
const CAPTURE_NICE = -10;
/** How long the capture process sleeps after a turn that read packets (see turn()). */
const NAP_MS = 1;
/**
 * libpcap's path (live-pcap.ts): how often the ring is read while quiet, and after a turn that read
 * packets. A packet on a quiet link waits at most BLOCK_TIMEOUT_MS + POLL_MS here.
 */
const POLL_MS = 20;
const BUSY_MS = 1;
/**
 * Batches kept for reuse (16 MiB): a backlog up to that size (about 30,000 packets of 500 bytes)
 * recycles its memory. With 4 MiB, a backlog of 35,000 packets at 100,000/s took fresh batches,
 * and their page faults were 8% of this process's CPU (perf).
 */
const POOL = 64;

function control(line: string): void {
  try {
    writeSync(3, `${line}\n`);
  } catch {
    // The parent went away: nothing to tell.
  }
}

function main(opts: LiveCaptureOptions): void {
  // Batches are reused: memory fresh from the allocator costs a page fault per 4 KiB written,
  // which was most of this process's CPU. A batch written at once (the pipe had room: nothing left
  // in the stream after write()) takes the next packets in place; one the stream still holds
  // goes back to the pool when written.
  const pool: Buffer[] = [];
  let batch: Buffer = Buffer.allocUnsafe(BATCH);
  let used = 0;
  /** Packets in `batch`; packets handed to the stream and not yet written to the pipe; most at once. */
  let inBatch = 0;
  let waiting = 0;
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  let dropped = 0;
  let written = 0;
  const out = process.stdout;
  const maxBacklog = (opts.backlogMiB ?? DEFAULT_BACKLOG_MIB) * 1024 * 1024;

  const send = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (used === 0) return;
    if (out.writableLength > maxBacklog) {
      // The reader is far behind: count what cannot wait, as the kernel would drop it.
      dropped += inBatch;
    } else {
      const w = { buf: batch, pending: false, packets: inBatch };
      waiting += inBatch;
      if (waiting > peak) peak = waiting;
      out.write(batch.subarray(0, used), () => {
        waiting -= w.packets;
        if (w.pending && w.buf.length === BATCH && pool.length < POOL) pool.push(w.buf);
      });
      if (out.writableLength > 0) {
        w.pending = true;
        batch = pool.pop() ?? Buffer.allocUnsafe(BATCH);
      }
    }
    used = 0;
    inBatch = 0;
  };
  out.on('drain', send);

  /** One record, copied in from cap's buffer (cap's path). */
  const addPacket = (
    buf: Uint8Array,
    offset: number,
    caplen: number,
    origlen: number,
    tsSec: number,
    tsNsec: number,
  ) => {
    if (used + REC + caplen > batch.length) {
      send();
      if (REC + caplen > batch.length) batch = Buffer.allocUnsafe(REC + caplen);
    }
    writePcapRecordHeader(batch, used, tsSec, tsNsec, caplen, origlen);
    batch.set(buf.subarray(offset, offset + caplen), used + REC);
    used += REC + caplen;
    inBatch++;
    written++;
  };
  /** Records as libpcap wrote them (live-pcap.ts): copied in runs that fit the batch. */
  const direct = { packets: 0, bytes: 0, truncated: 0 };
  const addRecords = (chunk: Buffer, length: number) => {
    let pos = 0;
    while (pos < length) {
      let end = pos;
      let n = 0;
      while (end < length) {
        const caplen = chunk.readUInt32LE(end + 8);
        if (used + (end - pos) + REC + caplen > batch.length) break;
        direct.bytes += caplen;
        if (chunk.readUInt32LE(end + 12) > caplen) direct.truncated++;
        end += REC + caplen;
        n++;
      }
      if (n === 0) {
        // The batch is full: out with it; or this record is larger than a batch: one of its own.
        if (used > 0) {
          send();
          continue;
        }
        const caplen = chunk.readUInt32LE(pos + 8);
        batch = Buffer.allocUnsafe(REC + caplen);
        continue;
      }
      chunk.copy(batch, used, pos, end);
      used += end - pos;
      inBatch += n;
      written += n;
      direct.packets += n;
      pos = end;
    }
  };
  const handOut = () => {
    // What this turn read goes out now, unless the stream still holds an earlier write: then it
    // gathers until the batch is full, the stream drains or HOLD_MS pass (a small write that
    // waits keeps a whole batch's memory, and only adds system calls).
    if (out.writableLength === 0) send();
    else timer ??= setTimeout(send, HOLD_MS);
  };

  // cap's path: after each turn that read packets, this process sleeps NAP_MS: the ring fills
  // meanwhile and the next turn reads what came in one go. Woken per packet (immediate mode wakes
  // the reader for each one), it spent most of its CPU on wake-ups: 10 us a packet at 30,000/s.
  // The ring holds 2,046 packets at the default -B: 10 ms at 200,000/s, more than a nap.
  const napCell = new Int32Array(new SharedArrayBuffer(4));
  let scheduled = false;
  const turn = () => {
    scheduled = false;
    handOut();
    Atomics.wait(napCell, 0, 0, NAP_MS);
  };

  let capture: Omit<LiveCapture, 'now'>;
  let pcap: PcapCapture | undefined;
  try {
    // libpcap through koffi first (TPACKET_V3: a ring that holds ~100 times more packets);
    // cap when that cannot be loaded. NETDIAG_CAPTURE_WITH=cap forces cap, for comparison.
    const opened = process.env.NETDIAG_CAPTURE_WITH === 'cap' ? 'cap asked for' : openPcapCapture(opts);
    if (typeof opened === 'string') {
      capture = openLiveCapture(opts, {
        packet(buf, offset, caplen, origlen, tsSec, tsNsec) {
          addPacket(buf, offset, caplen, origlen, tsSec, tsNsec);
          if (!scheduled) {
            scheduled = true;
            setImmediate(turn);
          }
        },
      });
    } else {
      pcap = opened;
      const p = opened;
      capture = {
        iface: p.iface,
        filter: p.filter,
        linkType: p.linkType,
        linkName: p.linkName,
        snaplen: p.snaplen,
        stop: () => p.close(),
        stats: () => ({ ...direct }),
      };
    }
  } catch (e) {
    const code = e instanceof CLIError ? e.exitCode : 70;
    control(`ERROR ${code} ${((e as Error).message ?? String(e)).replace(/\n/g, ' ')}`);
    process.exit(code);
  }
  // A 1 MiB pipe rather than 64 KiB (when stdout is one and koffi is there): fewer wake-ups of both
  // processes, and a turn's packets usually fit in one write.
  widenPipe(1);
  // The stream starts with a pcap header (nanosecond timestamps) naming the link type.
  out.write(pcapFileHeader(capture.linkType, capture.snaplen, 'nano'));
  // Before the main process and anything else on a busy machine: the ring only waits while this
  // process is not scheduled (at a load of 12 on 2 cores, 30,000 datagrams/s: 2% dropped by the
  // kernel at nice 0, none at -10). It needs CAP_SYS_NICE (root); without, it keeps nice 0.
  try {
    setPriority(CAPTURE_NICE);
  } catch {
    // Not permitted: the default priority.
  }
  // CPU is counted from here, as the main process counts its own: opening allocates the ring.
  const cpu0 = process.cpuUsage();
  control(
    `OPEN ${JSON.stringify({ iface: capture.iface, filter: capture.filter, linkType: capture.linkType, linkName: capture.linkName, snaplen: capture.snaplen })}`,
  );

  // Watched for going away only if /sys shows it now: in a network namespace entered without its
  // own sysfs (nsenter --net), /sys lists another namespace's interfaces, and cap captures anyway.
  const sysPath = `/sys/class/net/${capture.iface}`;
  const watchIface = capture.iface !== 'any' && existsSync(sysPath);

  // The kernel's counters of the capture's socket: what the ring dropped (read again before it closes).
  const kernelStats = openKernelStats();
  const kernel = () => ('read' in kernelStats ? kernelStats.read() : kernelStats);

  // libpcap's path: read the ring every POLL_MS while it is quiet, every BUSY_MS after a turn that
  // read packets (the kernel hands over whole blocks, each hundreds of packets at a high rate).
  let poller: NodeJS.Timeout | undefined;
  const poll = () => {
    const got = pcap!.read(addRecords);
    handOut();
    poller = setTimeout(poll, got ? BUSY_MS : POLL_MS);
  };
  if (pcap) poll();

  const finish = () => {
    const k = kernel();
    capture.stop();
    send();
    control(
      `STATS ${JSON.stringify({ ...capture.stats(), dropped, written, peakBacklog: peak, kernel: k, cpu: process.cpuUsage(cpu0) })}`,
    );
    out.end(() => process.exit(0));
  };
  let stopping = false;
  const stop = () => {
    // Ctrl-C on a terminal sends SIGINT to this process too, and netdiag then sends SIGTERM: once.
    if (stopping) return;
    stopping = true;
    if (!pcap) return finish();
    // The kernel hands over the block being filled after BLOCK_TIMEOUT_MS: wait for it, read it.
    clearTimeout(poller);
    setTimeout(() => {
      pcap.read(addRecords);
      finish();
    }, BLOCK_TIMEOUT_MS * 3);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // If netdiag itself is killed (SIGKILL), nothing tells this process: notice the new parent.
  const parent = process.ppid;
  // The kernel's counters are 32 bits and reset when read: read them often enough not to wrap.
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
    kernel();
    // An interface deleted under the capture: libpcap's non-blocking reads then only ever find
    // nothing (and cap's addon aborts), so look for it and end the capture, saying why.
    if (watchIface && !stopping && !existsSync(sysPath)) {
      control(`GONE the interface ${capture.iface} disappeared`);
      stop();
    }
  }, 1000);
  // The parent's end of the control channel closing means it is gone: stop too.
  process.stdout.on('error', () => process.exit(0));
}

if (process.argv[2]) main(JSON.parse(process.argv[2]) as LiveCaptureOptions);
else {
  // Started ahead of time (live-process.ts prepareLiveCaptureProcess): the options come as one
  // line on stdin once the interface is known; stdin closing before that means "not needed".
  let text = '';
  let started = false;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    if (started) return;
    text += chunk;
    const nl = text.indexOf('\n');
    if (nl < 0) return;
    started = true;
    main(JSON.parse(text.slice(0, nl)) as LiveCaptureOptions);
  });
  process.stdin.on('end', () => {
    if (!started) process.exit(0);
  });
}
