/**
 * The capture process: `node capture-child.js OPTIONS-JSON`. It opens the interface with cap
 * (live.ts) and does nothing else: each packet is appended to a pcap stream on stdout, batched
 * per read of cap. So the kernel's ring is drained at libpcap's own pace whatever the main
 * process is doing (decoding, printing, waiting for a slow terminal, a GC pause): the burst waits
 * in the pipe and in this process's memory (bounded), not in the ring, which cap makes small by
 * giving every packet a 64 KiB slot. (cap cannot run in a worker thread: its addon delivers
 * packets on the process's main loop.)
 *
 * fd 3 is the control channel: `ERROR <exit code> <message>` when the capture cannot open,
 * `STATS <json>` when it ends. SIGTERM or SIGINT ends the capture cleanly.
 */
import { writeSync } from 'node:fs';
import { CLIError } from '../errors.js';
import { PCAP_RECORD_HEADER_LEN as REC, pcapFileHeader, writePcapRecordHeader } from './format.js';
import { openLiveCapture, type LiveCaptureOptions } from './live.js';
import { openKernelStats } from './packet-stats.js';

/** Bytes of pcap records waiting to be written before packets are dropped (and counted). */
const MAX_BACKLOG = 256 * 1024 * 1024;
const BATCH = 256 * 1024;

function control(line: string): void {
  try {
    writeSync(3, `${line}\n`);
  } catch {
    // The parent went away: nothing to tell.
  }
}

function main(opts: LiveCaptureOptions): void {
  let batch = Buffer.allocUnsafe(BATCH);
  let used = 0;
  let scheduled = false;
  let dropped = 0;
  let written = 0;
  const out = process.stdout;

  const flush = () => {
    scheduled = false;
    if (used === 0) return;
    if (out.writableLength > MAX_BACKLOG) {
      // The reader is far behind: count what cannot wait, as the kernel would drop it.
      dropped += countRecords(batch, used);
    } else {
      out.write(batch.subarray(0, used));
      batch = Buffer.allocUnsafe(BATCH);
    }
    used = 0;
  };

  let capture;
  try {
    capture = openLiveCapture(opts, {
      packet(buf, offset, caplen, origlen, tsSec, tsNsec) {
        if (used + REC + caplen > batch.length) {
          flush();
          if (REC + caplen > batch.length) batch = Buffer.allocUnsafe(REC + caplen);
        }
        writePcapRecordHeader(batch, used, tsSec, tsNsec, caplen, origlen);
        batch.set(buf.subarray(offset, offset + caplen), used + REC);
        used += REC + caplen;
        written++;
        // Everything read in this turn of cap's loop goes out together.
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      },
    });
  } catch (e) {
    const code = e instanceof CLIError ? e.exitCode : 70;
    control(`ERROR ${code} ${((e as Error).message ?? String(e)).replace(/\n/g, ' ')}`);
    process.exit(code);
  }
  // The stream starts with a pcap header (nanosecond timestamps) naming the link type.
  out.write(pcapFileHeader(capture.linkType, capture.snaplen, 'nano'));
  // CPU is counted from here, as the main process counts its own: opening allocates the ring.
  const cpu0 = process.cpuUsage();
  control(
    `OPEN ${JSON.stringify({ iface: capture.iface, filter: capture.filter, linkType: capture.linkType, linkName: capture.linkName, snaplen: capture.snaplen })}`,
  );

  // The kernel's counters of cap's socket: what the ring dropped (read again before it closes).
  const kernelStats = openKernelStats();
  const kernel = () => ('read' in kernelStats ? kernelStats.read() : kernelStats);

  const stop = () => {
    const k = kernel();
    capture.stop();
    flush();
    control(
      `STATS ${JSON.stringify({ ...capture.stats(), dropped, written, kernel: k, cpu: process.cpuUsage(cpu0) })}`,
    );
    out.end(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // If netdiag itself is killed (SIGKILL), nothing tells this process: notice the new parent.
  const parent = process.ppid;
  // The kernel's counters are 32 bits and reset when read: read them often enough not to wrap.
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
    kernel();
  }, 1000);
  // The parent's end of the control channel closing means it is gone: stop too.
  process.stdout.on('error', () => process.exit(0));
}

function countRecords(buf: Buffer, used: number): number {
  let n = 0;
  for (let p = 0; p + REC <= used; p += REC + buf.readUInt32LE(p + 8)) n++;
  return n;
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
