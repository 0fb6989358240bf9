/**
 * Burst benchmark: N netconsole datagrams (extended mode, ~40 bytes each) sent as fast as Node's
 * UDP stack goes from one network namespace, captured at the same time in the other by
 * `netdiag sniff` (its default buffer unless told) and by tcpdump (its default buffer, 2 MiB).
 * sniff prints a line per message (to a file, as `netdiag sniff > file`) unless -q.
 * Prints captured/sent for each, netdiag's CPU per datagram (process.cpuUsage from capture open
 * to stop, as sniff reports it on stderr) and the most packets that waited in its queue. The
 * receiver drops the datagrams with an nft rule inside its namespace so it sends no ICMP.
 * Needs root (namespaces), tcpdump and nft.
 *
 * Alone: node dist/bench/burst.js [--count N] [-q] [-B MiB]...   (several -B: one run each;
 * -q: sniff prints only the summary, not a line per message)
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNsPair, sendFrom, type NsPair } from '../test/helpers/netns.js';
import { cliPath } from '../test/helpers/cli.js';

export interface BurstOptions {
  /** Datagrams to send. @default 100000 */
  count?: number;
  /** netdiag's -B; undefined: its default. */
  bufferMiB?: number;
  /** Print a table. @default false */
  print?: boolean;
  /** Run sniff with -q (no message lines); by default it prints every message, as a user sees it. */
  summaryOnly?: boolean;
}

export interface BurstFigures {
  sent: number;
  netdiag: {
    captured: number;
    messages: number;
    ratio: number;
    cpuSeconds: number;
    cpuMicrosPerDatagram: number;
    bufferMiB: string;
    messageLines: boolean;
    peakBacklog: number;
  };
  tcpdump: { captured: number; ratio: number; droppedByKernel: number };
  sendSeconds: number;
}

export interface BurstSkipped {
  skipped: string;
}

function canRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (spawnSync('sh', ['-c', 'command -v tcpdump && command -v nft'], { stdio: 'ignore' }).status !== 0)
    return 'needs tcpdump and nft';
  return undefined;
}

/** Resolves with the stderr text once `pattern` appears in it (or rejects when the process ends). */
export function waitStderr(p: ChildProcess, pattern: RegExp, what: string, timeoutMs = 20000): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`${what}: not ready after ${timeoutMs} ms: ${text}`)), timeoutMs);
    p.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      if (pattern.test(text)) {
        clearTimeout(t);
        resolve();
      }
    });
    p.once('exit', code => {
      clearTimeout(t);
      reject(new Error(`${what} exited (${code}) before it was ready: ${text}`));
    });
  });
}

export function collect(p: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': output can still be in the pipes when the process has exited.
  return new Promise(resolve => p.once('close', code => resolve({ code, stdout, stderr })));
}

export async function runBurst(opts: BurstOptions = {}): Promise<BurstFigures | BurstSkipped> {
  const why = canRun();
  if (why) {
    if (opts.print) console.log(`  skipped: ${why}`);
    return { skipped: why };
  }
  const count = opts.count ?? 100000;
  return withDropPair('burst', async (pair, dir, procs) => {
    const r = pair.receiver;

    const sniffArgs = [cliPath, 'sniff', r.dev, '--port', '6666', ...(opts.summaryOnly ? ['-q'] : [])];
    if (opts.bufferMiB !== undefined) sniffArgs.push('-B', String(opts.bufferMiB));
    const { netdiag, tcpdump, outFile, netdiagDone, tcpdumpDone } = await startBoth(pair, dir, procs, sniffArgs);

    const t0 = performance.now();
    const sent = sendFrom(pair, pair.sender.ns, { to: r.ip, port: 6666, burst: count });
    const sendSeconds = (performance.now() - t0) / 1000;
    // Let both drain what their buffers hold.
    await new Promise(res => setTimeout(res, 2000));
    netdiag.kill('SIGINT');
    tcpdump.kill('SIGINT');
    const [nd, td] = await Promise.all([netdiagDone, tcpdumpDone]);
    nd.stdout = readFileSync(outFile, 'utf8');

    const dg = /(\d+) netconsole-port datagrams, (\d+) messages/.exec(nd.stdout);
    const cpu = /cpu ([\d.]+) s/.exec(nd.stderr);
    const peak = /peak backlog (\d+)/.exec(nd.stderr);
    const buf = /buffer ([\d.]+) MiB/.exec(nd.stderr);
    if (!dg || !cpu)
      throw new Error(
        `netdiag sniff exited ${nd.code}; stdout: ${nd.stdout.slice(-500)} stderr: ${nd.stderr.slice(-500)}`,
      );
    const tdCaptured = /(\d+) packets? captured/.exec(td.stderr);
    const tdDropped = /(\d+) packets? dropped by kernel/.exec(td.stderr);
    if (!tdCaptured) throw new Error(`tcpdump: ${td.stderr}`);
    const captured = Number(dg[1]);
    const cpuSeconds = Number(cpu[1]);
    const figures: BurstFigures = {
      sent,
      sendSeconds,
      netdiag: {
        captured,
        messages: Number(dg[2]),
        ratio: captured / sent,
        cpuSeconds,
        cpuMicrosPerDatagram: (cpuSeconds * 1e6) / Math.max(1, captured),
        bufferMiB: buf?.[1] ?? '?',
        messageLines: !opts.summaryOnly,
        peakBacklog: Number(peak?.[1] ?? NaN),
      },
      tcpdump: {
        captured: Number(tdCaptured[1]),
        ratio: Number(tdCaptured[1]) / sent,
        droppedByKernel: Number(tdDropped?.[1] ?? NaN),
      },
    };
    if (opts.print) {
      const pct = (x: number) => `${(Math.floor(x * 1e5) / 1e3).toFixed(3)}%`;
      console.log(
        `  sent ${sent} datagrams in ${sendSeconds.toFixed(2)} s (${Math.round(sent / sendSeconds)}/s, including node start-up)`,
      );
      console.log(
        `  netdiag sniff -B ${figures.netdiag.bufferMiB}${opts.summaryOnly ? ' -q' : ''}: captured ${captured}/${sent} = ${pct(figures.netdiag.ratio)}, cpu ${cpuSeconds.toFixed(3)} s = ${figures.netdiag.cpuMicrosPerDatagram.toFixed(2)} µs/datagram, peak backlog ${figures.netdiag.peakBacklog} packets`,
      );
      console.log(
        `  tcpdump (default -B):  captured ${figures.tcpdump.captured}/${sent} = ${pct(figures.tcpdump.ratio)}, ${figures.tcpdump.droppedByKernel} dropped by kernel`,
      );
    }
    return figures;
  });
}

/**
 * Starts `netdiag sniff` (its stdout to a file, as `netdiag sniff > file` would: the benchmark
 * does not compete for CPU reading it) and tcpdump on the receiver, both on UDP port 6666, and
 * waits until both listen.
 */
export async function startBoth(pair: NsPair, dir: string, procs: ChildProcess[], sniffArgs: string[]) {
  const [nd, td] = await Promise.all([startNetdiag(pair, dir, procs, sniffArgs), startTcpdump(pair, dir, procs)]);
  return { ...nd, ...td };
}

/** Starts `netdiag sniff` on the receiver, its stdout to a file; resolves once it listens. */
export async function startNetdiag(pair: NsPair, dir: string, procs: ChildProcess[], sniffArgs: string[]) {
  const r = pair.receiver;
  const outFile = path.join(dir, 'sniff.out');
  const outFd = openSync(outFile, 'w');
  // BENCH_SNIFF_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=DIR`) go to node for sniff, and from it to
  // its capture process (live-process.ts passes execArgv on): how to profile both under load.
  const nodeArgs = (process.env.BENCH_SNIFF_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const netdiag = pair.spawn(r.ns, process.execPath, [...nodeArgs, ...sniffArgs], {
    stdio: ['ignore', outFd, 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  closeSync(outFd);
  procs.push(netdiag);
  const netdiagDone = collect(netdiag);
  await waitStderr(netdiag, /listening on/, 'netdiag sniff');
  return { netdiag, outFile, netdiagDone };
}

/** Starts `tcpdump -w` on the receiver for UDP port 6666; resolves once it listens. */
export async function startTcpdump(pair: NsPair, dir: string, procs: ChildProcess[]) {
  const r = pair.receiver;
  const tcpdump = pair.spawn(
    r.ns,
    'tcpdump',
    ['-i', r.dev, '-n', '-w', path.join(dir, 't.pcap'), 'udp dst port 6666'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  procs.push(tcpdump);
  const tcpdumpDone = collect(tcpdump);
  await waitStderr(tcpdump, /listening on/, 'tcpdump');
  return { tcpdump, tcpdumpDone };
}

/**
 * Runs `fn` with a fresh namespace pair whose receiver drops UDP to port 6666 after the capture
 * taps (so it answers no ICMP port unreachable), a temporary directory, and a list for the
 * processes it starts: all of it undone after, whatever happens.
 */
export async function withDropPair<T>(
  tag: string,
  fn: (pair: NsPair, dir: string, procs: ChildProcess[]) => Promise<T>,
): Promise<T> {
  const pair = createNsPair(tag);
  const dir = mkdtempSync(path.join(tmpdir(), `netdiag-${tag}-`));
  const procs: ChildProcess[] = [];
  try {
    pair.run(
      pair.receiver.ns,
      'nft',
      ['-f', '-'],
      `table inet ${tag} {\n chain input {\n  type filter hook input priority 0;\n  udp dport 6666 drop\n }\n}\n`,
    );
    return await fn(pair, dir, procs);
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    pair.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function isMain(): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
}

if (isMain()) {
  const args = process.argv.slice(2);
  let count: number | undefined;
  let summaryOnly = false;
  const buffers: Array<number | undefined> = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--count') count = Number(args[++i]);
    else if (args[i] === '-B') buffers.push(Number(args[++i]));
    else if (args[i] === '-q') summaryOnly = true;
    else {
      console.error(`usage: node dist/bench/burst.js [--count N] [-q] [-B MiB]...`);
      process.exit(2);
    }
  }
  if (!buffers.length) buffers.push(undefined);
  for (const b of buffers) {
    const r = await runBurst({
      ...(count ? { count } : {}),
      ...(b !== undefined ? { bufferMiB: b } : {}),
      print: true,
      summaryOnly,
    });
    if ('skipped' in r) process.exit(0);
  }
}
