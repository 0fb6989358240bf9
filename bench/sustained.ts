/**
 * Sustained-rate benchmark for `netdiag sniff`: tcpreplay (Debian's tcpreplay) replays a capture
 * of extended-mode netconsole datagrams of mixed sizes (40 to 990 bytes of text) from one network
 * namespace over a veth pair at a fixed rate (`--pps`) for a fixed time, to `netdiag sniff`
 * (default options, a line per message into a file) and then, in a second pass of the same run with
 * the same generator settings, to tcpdump (`-w`): on 2 cores, with tcpreplay taking most of one,
 * running both at once made each take CPU from the other (and from the generator). Prints per rate
 * the load, what tcpreplay sent (and the rate it reached) in each pass, what each captured,
 * netdiag's CPU per datagram, and the highest rate netdiag held at 100%.
 * The replayed capture is synthesised here. Needs root (namespaces), tcpreplay, tcpdump and nft.
 *
 * Alone: node dist/bench/sustained.js [--rates 50000,100000,200000] [--seconds 10]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PCAP_RECORD_HEADER_LEN, pcapFileHeader, writePcapRecordHeader } from '../src/capture/format.js';
import { formatExtended } from '../src/decode/netconsole.js';
import { cliPath } from '../test/helpers/cli.js';
import { udpFrame } from '../test/helpers/frames.js';
import type { NsEnd, NsPair } from '../test/helpers/netns.js';
import { startNetdiag, startTcpdump, withDropPair } from './burst.js';

export interface SustainedRow {
  rate: number;
  sent: number;
  reachedPps: number;
  /** The 1-minute load average before netdiag's pass. */
  load: number;
  netdiag: {
    captured: number;
    cpuMicrosPerDatagram: number;
    /** The capture process's share of it. */
    captureProcessMicrosPerDatagram: number;
    /** As the stop line counts them: the kernel's ring full, the capture process's backlog full. */
    droppedByKernel: number;
    droppedByCaptureProcess: number;
    stopLine: string;
  };
  /** tcpdump's pass: the same generator settings, after netdiag's. */
  tcpdump: { sent: number; reachedPps: number; load: number; captured: number; droppedByKernel: number };
}

const SIZES = [40, 120, 300, 700, 990];
const FRAMES = 20_000;

function canRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const tools = 'command -v tcpreplay && command -v tcpdump && command -v nft';
  if (spawnSync('sh', ['-c', tools], { stdio: 'ignore' }).status !== 0) return 'needs tcpreplay, tcpdump and nft';
  return undefined;
}

/** FRAMES datagrams from `from` to `to` (their MACs and addresses), sizes cycling through SIZES. */
function replayCapture(file: string, from: NsEnd, to: NsEnd): void {
  const parts: Buffer[] = [pcapFileHeader(1, 262144)];
  for (let i = 0; i < FRAMES; i++) {
    const size = SIZES[i % SIZES.length]!;
    const text = `sustained ${i} ${'x'.repeat(size)}`.slice(0, size);
    const payload = Buffer.from(
      formatExtended({ facility: 0, level: i % 8, seq: i, usec: 1_000_000 + i * 5, flags: '-' }, `${text}\n`),
    );
    const f = udpFrame({
      srcMac: from.mac,
      dstMac: to.mac,
      srcIp: from.ip,
      dstIp: to.ip,
      srcPort: 6665,
      dstPort: 6666,
      payload,
    });
    const rec = Buffer.alloc(PCAP_RECORD_HEADER_LEN);
    writePcapRecordHeader(rec, 0, 1_764_000_000 + Math.floor(i / 1000), (i % 1000) * 1000, f.length, f.length);
    parts.push(rec, f);
  }
  writeFileSync(file, Buffer.concat(parts));
}

/** The last `n` bytes of a file, as text. */
function tail(file: string, n: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(n, size));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** tcpreplay at `rate` for `seconds` from the sender: what it sent and the rate it reached. */
function replay(pair: NsPair, file: string, rate: number, seconds: number): { sent: number; reachedPps: number } {
  const tr = pair.run(pair.sender.ns, 'tcpreplay', [
    '-i',
    pair.sender.dev,
    '-K',
    `--pps=${rate}`,
    '--loop=0',
    `--limit=${rate * seconds}`,
    file,
  ]);
  return {
    sent: Number(/Actual: (\d+) packets/.exec(tr)?.[1] ?? NaN),
    reachedPps: Number(/Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(tr)?.[1] ?? NaN),
  };
}

/**
 * One rate in two passes with the same generator settings: netdiag alone, then tcpdump alone, so
 * that neither takes CPU from the other (the machine has 2 cores and tcpreplay needs most of one).
 */
async function oneRate(rate: number, seconds: number): Promise<SustainedRow> {
  return withDropPair('sust', async (pair, dir, procs) => {
    const r = pair.receiver;
    const file = path.join(dir, 'replay.synth.pcap');
    replayCapture(file, pair.sender, r);

    const load = loadavg()[0]!;
    const { netdiag, outFile, netdiagDone } = await startNetdiag(pair, dir, procs, [
      cliPath,
      'sniff',
      r.dev,
      '--port',
      '6666',
    ]);
    const ndRun = replay(pair, file, rate, seconds);
    await new Promise(res => setTimeout(res, 2000));
    netdiag.kill('SIGINT');
    const nd = await netdiagDone;

    const tdLoad = loadavg()[0]!;
    const { tcpdump, tcpdumpDone } = await startTcpdump(pair, dir, procs);
    const tdRun = replay(pair, file, rate, seconds);
    await new Promise(res => setTimeout(res, 2000));
    tcpdump.kill('SIGINT');
    const td = await tcpdumpDone;

    const report = tail(outFile, 1 << 20); // the summary at its end (the message lines are hundreds of MB)
    const dg = /(\d+) netconsole-port datagrams/.exec(report);
    const cpu = /cpu ([\d.]+) s/.exec(nd.stderr);
    if (!dg || !cpu) throw new Error(`netdiag sniff exited ${nd.code}: ${nd.stderr.slice(-400)}`);
    const tdCaptured = /(\d+) packets? captured/.exec(td.stderr);
    const tdDropped = /(\d+) packets? dropped by kernel/.exec(td.stderr);
    const captured = Number(dg[1]);
    const perDatagram = (seconds: number) => (seconds * 1e6) / Math.max(1, captured);
    const stopLine =
      nd.stderr
        .trim()
        .split('\n')
        .find(l => l.includes('packets captured')) ?? '';
    const counted = (re: RegExp) => Number(re.exec(stopLine)?.[1] ?? 0);
    return {
      rate,
      sent: ndRun.sent,
      reachedPps: ndRun.reachedPps,
      load,
      netdiag: {
        captured,
        cpuMicrosPerDatagram: perDatagram(Number(cpu[1])),
        captureProcessMicrosPerDatagram: perDatagram(counted(/capture process ([\d.]+) s/)),
        droppedByKernel: counted(/(\d+) dropped by the kernel/),
        droppedByCaptureProcess: counted(/(\d+) dropped by the capture process/),
        stopLine,
      },
      tcpdump: {
        sent: tdRun.sent,
        reachedPps: tdRun.reachedPps,
        load: tdLoad,
        captured: Number(tdCaptured?.[1] ?? NaN),
        droppedByKernel: Number(tdDropped?.[1] ?? NaN),
      },
    };
  });
}

export async function runSustained(
  opts: { rates?: number[]; seconds?: number; print?: boolean } = {},
): Promise<SustainedRow[] | { skipped: string }> {
  const why = canRun();
  if (why) {
    if (opts.print) console.log(`  skipped: ${why}`);
    return { skipped: why };
  }
  const rates = opts.rates ?? [50_000, 100_000, 200_000];
  const seconds = opts.seconds ?? 10;
  const rows: SustainedRow[] = [];
  const pct = (a: number, b: number) => `${(Math.floor((a / b) * 1e5) / 1e3).toFixed(3)}%`;
  for (const rate of rates) {
    const row = await oneRate(rate, seconds);
    rows.push(row);
    if (opts.print) {
      const reached = (sent: number, pps: number) => `tcpreplay sent ${sent} (reached ${Math.round(pps)}/s)`;
      console.log(`  --pps ${rate} for ${seconds} s, ${cpus().length} cores:`);
      console.log(
        `    netdiag sniff (defaults), load ${row.load.toFixed(2)}, ${reached(row.sent, row.reachedPps)}: ${row.netdiag.captured}/${row.sent} = ${pct(row.netdiag.captured, row.sent)}, ${row.netdiag.cpuMicrosPerDatagram.toFixed(2)} µs CPU/datagram (capture process ${row.netdiag.captureProcessMicrosPerDatagram.toFixed(2)}), dropped: ${row.netdiag.droppedByKernel} by the kernel, ${row.netdiag.droppedByCaptureProcess} by the capture process`,
      );
      console.log(
        `    tcpdump -w, load ${row.tcpdump.load.toFixed(2)}, ${reached(row.tcpdump.sent, row.tcpdump.reachedPps)}: ${row.tcpdump.captured}/${row.tcpdump.sent} = ${pct(row.tcpdump.captured, row.tcpdump.sent)}, ${row.tcpdump.droppedByKernel} dropped by kernel`,
      );
      console.log(`    netdiag's stop line: ${row.netdiag.stopLine}`);
    }
  }
  if (opts.print) {
    const held = rows.filter(r => r.netdiag.captured >= r.sent).map(r => r.rate);
    console.log(
      `  highest rate netdiag held at 100%: ${held.length ? `${Math.max(...held)}/s` : 'none of those tried'}`,
    );
  }
  return rows;
}

function isMain(): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
}

if (isMain()) {
  const args = process.argv.slice(2);
  const ratesArg = args.indexOf('--rates');
  const secondsArg = args.indexOf('--seconds');
  await runSustained({
    ...(ratesArg >= 0 ? { rates: args[ratesArg + 1]!.split(',').map(Number) } : {}),
    ...(secondsArg >= 0 ? { seconds: Number(args[secondsArg + 1]) } : {}),
    print: true,
  });
}
