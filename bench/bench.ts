/**
 * `make bench`: netdiag side by side with tcpdump and tshark, in one run, on the same
 * synthesised capture (bench/gen-capture.ts), and then the live burst test when it is available.
 * Wall time and peak RSS come from GNU time for every tool alike; ratios are netdiag's rate over
 * the other tool's. Numbers depend on the machine and on what else runs on it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCapture } from './gen-capture.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = path.join(root, 'bench/out');
const cli = path.join(root, 'dist/src/cli.js');

interface Run {
  tool: string;
  seconds: number;
  rssMiB: number;
  packets: number;
  ok: boolean;
}

function timed(tool: string, argv: string[], packets: number, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [sec, kb] = last.split(' ').map(Number);
  // tcpdump and tshark exit 0; netdiag analyze exits 0 or 1 (findings), both fine here.
  return { tool, seconds: sec ?? NaN, rssMiB: (kb ?? NaN) / 1024, packets, ok: r.status === 0 || r.status === 1 };
}

function best(runs: Run[]): Run {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

function rate(r: Run): number {
  return r.packets / r.seconds;
}

function fmtRate(r: number): string {
  return `${(r / 1e6).toFixed(2)} M/s`;
}

function capture(n: number): string {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `netconsole-${n}.pcap`);
  if (!existsSync(file) || statSync(file).size < n * 50) generateCapture(file, n);
  return file;
}

function fileBench(n: number, withOthers: boolean, repeat: number): Run[] {
  const file = capture(n);
  const rows: Run[] = [];
  const netdiag = (label: string, args: string[]) =>
    best(Array.from({ length: repeat }, () => timed(label, [process.execPath, cli, 'analyze', ...args, file], n)));
  rows.push(netdiag('netdiag analyze -q (summary)', ['-q']));
  rows.push(netdiag('netdiag analyze (every message)', []));
  rows.push(netdiag('netdiag analyze --jsonl', ['--jsonl']));
  if (withOthers) {
    rows.push(
      best(
        Array.from({ length: repeat }, () =>
          timed('TZ=UTC tcpdump -r -n', ['tcpdump', '-r', file, '-n'], n, { TZ: 'UTC' }),
        ),
      ),
    );
    rows.push(timed('tshark -r', ['tshark', '-r', file], n));
  }
  return rows;
}

function printTable(title: string, rows: Run[]): void {
  console.log(`\n${title}`);
  console.log(`  ${'tool'.padEnd(34)} ${'time'.padStart(8)} ${'rate'.padStart(11)} ${'peak RSS'.padStart(10)}`);
  for (const r of rows) {
    console.log(
      `  ${r.tool.padEnd(34)} ${`${r.seconds.toFixed(2)} s`.padStart(8)} ${fmtRate(rate(r)).padStart(11)} ${`${r.rssMiB.toFixed(0)} MiB`.padStart(10)}${r.ok ? '' : '  (FAILED)'}`,
    );
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const n1 = quick ? 100_000 : 1_000_000;
  const n5 = quick ? 500_000 : 5_000_000;
  console.log(`netdiag benchmark (synthesised capture from bench/gen-capture.ts; ${new Date().toISOString()})`);
  const rows = fileBench(n1, true, 3);
  printTable(`Reading a ${n1.toLocaleString('en')}-datagram capture (best of 3; tshark once):`, rows);
  const tcpdump = rows.find(r => r.tool.includes('tcpdump'))!;
  const tshark = rows.find(r => r.tool.includes('tshark'))!;
  console.log('\n  ratios (netdiag rate / other rate):');
  for (const r of rows.filter(r => r.tool.startsWith('netdiag'))) {
    console.log(
      `  ${r.tool.padEnd(34)} vs tcpdump ${(rate(r) / rate(tcpdump)).toFixed(2)}x   vs tshark ${(rate(r) / rate(tshark)).toFixed(2)}x`,
    );
  }
  const big = fileBench(n5, false, 1);
  printTable(`Reading a ${n5.toLocaleString('en')}-datagram capture (memory must stay flat):`, big);
  const targets = [
    ['analyze -q >= 2.5 M packets/s', rate(rows[0]!) >= 2.5e6],
    ['analyze -q >= 1.2x tcpdump', rate(rows[0]!) >= 1.2 * rate(tcpdump)],
    ['analyze -q >= 8x tshark', rate(rows[0]!) >= 8 * rate(tshark)],
    [
      `peak RSS < 150 MiB at ${n1.toLocaleString('en')} (every mode)`,
      rows.filter(r => r.tool.startsWith('netdiag')).every(r => r.rssMiB < 150),
    ],
    [`peak RSS < 150 MiB at ${n5.toLocaleString('en')} (every mode)`, big.every(r => r.rssMiB < 150)],
  ] as const;
  console.log('\nTargets:');
  for (const [what, ok] of targets) console.log(`  ${ok ? 'met    ' : 'NOT met'}  ${what}`);

  const burstModule = path.join(root, 'dist/bench/burst.js');
  if (existsSync(burstModule)) {
    const { runBurst } = (await import(burstModule)) as { runBurst?: (o: object) => Promise<unknown> };
    if (runBurst) {
      console.log('\nLive burst (netdiag sniff vs tcpdump):');
      await runBurst({ print: true });
    }
  }

  const verifyModule = path.join(root, 'dist/bench/verify-fleet.js');
  if (existsSync(verifyModule) && !quick) {
    const { runVerifyBench } = (await import(verifyModule)) as {
      runVerifyBench: (o: object) => Promise<{ skipped?: string }>;
    };
    const r = await runVerifyBench({ print: true });
    if (r.skipped)
      console.log(`
verify on the lab: skipped (${r.skipped})`);
  }
}

main().catch(e => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
