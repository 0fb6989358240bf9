/**
 * verify's speed on the real lab, as a user sees it (from starting netdiag to its exit, GNU time):
 * a healthy single verify, several times; then one fleet run over 1, 2, 4 and as many guests as
 * the lab boots (LAB's --guests; BENCH_FLEET_GUESTS, default 6), with wall time and the log
 * server's CPU (netdiag and its children: the ssh clients, the capture process); then an estimate
 * for 100 and 1,000 senders from those figures. Needs root, QEMU and the lab's packages; boots
 * its own lab (named fleet-bench) and takes it down. Figures depend on the machine and its load.
 *
 * Alone: node dist/bench/verify-fleet.js [--runs N]; BENCH_LAB_STATE=.../state.json uses a lab already up.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliPath } from '../test/helpers/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const labSh = path.join(root, 'lab/lab.sh');
const NAME = 'fleet-bench';

interface GuestSsh {
  host: string;
  identityFile: string;
  knownHostsFile: string;
}
interface Lab {
  namespaces: { logServer: string };
  rsyslog: { configFile?: string | null };
  ssh: GuestSsh;
  qemu?: { pid?: number };
  guests?: Array<{ ssh: GuestSsh; qemu?: { pid?: number } }>;
}

/**
 * CPU seconds the lab's QEMU processes (the emulated guests) have used so far: on this machine the
 * guests share its cores with netdiag, so a fleet run is bound by both.
 */
function guestsCpuS(lab: Lab): number {
  const pids = (lab.guests?.map(g => g.qemu?.pid) ?? [lab.qemu?.pid]).filter((p): p is number => !!p);
  let ticks = 0;
  for (const pid of pids) {
    try {
      // utime and stime: fields 14 and 15, after the command name in parentheses.
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // A guest gone: its CPU is not counted.
    }
  }
  return ticks / 100;
}
interface Timed {
  wallS: number;
  cpuS: number;
  code: number;
  stdout: string;
}

function timedVerify(lab: Lab, args: string[]): Timed {
  const conf = lab.rsyslog.configFile ? ['--syslog-config', lab.rsyslog.configFile] : [];
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%e %U %S',
      'ip',
      'netns',
      'exec',
      lab.namespaces.logServer,
      process.execPath,
      cliPath,
      'verify',
      ...conf,
      '--timeout',
      '8',
      ...args,
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const [e, u, s] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  return { wallS: e ?? NaN, cpuS: (u ?? NaN) + (s ?? NaN), code: r.status ?? -1, stdout: r.stdout };
}

/** Turns of (the guests one after another, the fleet of all of them) compared by their medians. */
const PAIRS = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface FleetBenchFigures {
  single: { wallS: number[]; verdictMs: number[] };
  fleet: Array<{ senders: number; wallS: number; cpuS: number; guestsCpuS: number; allOk: boolean }>;
  sumOfSinglesS?: number;
}

export function runVerifyBench(
  o: { print?: boolean; runs?: number } = {},
): Promise<FleetBenchFigures | { skipped: string }> {
  return Promise.resolve(verifyBench(o));
}

function verifyBench(o: { print?: boolean; runs?: number }): FleetBenchFigures | { skipped: string } {
  const say = (s: string) => o.print && console.log(s);
  if (process.getuid?.() !== 0) return { skipped: 'needs root (namespaces, QEMU taps)' };
  const help = spawnSync(labSh, ['up', '--help'], { encoding: 'utf8' });
  const multi = help.stdout.includes('--guests');
  const want = multi ? Math.max(1, Math.min(8, Number(process.env.BENCH_FLEET_GUESTS ?? 6))) : 1;
  // BENCH_LAB_STATE: a lab already up (its state.json), used as it is and left up.
  const given = process.env.BENCH_LAB_STATE;
  let statePath = given;
  if (!statePath) {
    const up = spawnSync(
      labSh,
      ['up', '--name', NAME, ...(multi ? ['--guests', String(want), '--kernel', '6.1'] : [])],
      {
        encoding: 'utf8',
        timeout: 900_000,
      },
    );
    if (up.status !== 0) return { skipped: `lab up failed: ${up.stderr.trim().split('\n').pop()}` };
    statePath = up.stdout.trim().split('\n').pop()!;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'nd-bench-fleet-'));
  try {
    const lab = JSON.parse(readFileSync(statePath, 'utf8')) as Lab;
    const guests = lab.guests?.map(g => g.ssh) ?? [lab.ssh];
    say(
      `\nverify on the lab (${guests.length} guest${guests.length > 1 ? 's' : ''}, QEMU TCG; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)} at the start):`,
    );

    // 1. One healthy sender, as today's single verify.
    const g0 = guests[0]!;
    const single = (g: GuestSsh) =>
      timedVerify(lab, [
        '--sender',
        `root@${g.host}`,
        '--identity',
        g.identityFile,
        '--ssh-option',
        `UserKnownHostsFile=${g.knownHostsFile}`,
        '--json',
      ]);
    // Every guest verified once before anything is timed. An emulated guest's first verify pays
    // QEMU's translation of the code it runs for the first time (dropbear's key exchange, the
    // shell, ip), which a real sender never pays, and the fleet of all guests was the first run to
    // reach the last ones. Measured: median 1.40 s first against 1.05 s after at load 6.5 (16:27),
    // 0.85 s against 0.88 s at load 2.8 (17:22): it matters on a busy machine only, but the
    // comparison should not depend on which run reaches a guest first.
    const cold = guests.map(g => single(g));
    if (cold.some(r => r.code !== 0))
      return { skipped: `a healthy guest's first verify did not pass (exit ${cold.map(r => r.code).join(', ')})` };
    say(
      `  each guest's first verify (QEMU translating its code for the first time; not counted): median ${median(cold.map(r => r.wallS)).toFixed(2)} s`,
    );
    const runs = o.runs ?? 7;
    const wallS: number[] = [],
      verdictMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = single(g0);
      if (r.code !== 0) return { skipped: `the healthy single verify did not pass (exit ${r.code})` };
      wallS.push(r.wallS);
      verdictMs.push((JSON.parse(r.stdout) as { elapsedMs: number }).elapsedMs);
    }
    say(
      `  single healthy verify, ${runs} runs: start to exit min ${Math.min(...wallS).toFixed(2)} s, median ${median(wallS).toFixed(2)} s, max ${Math.max(...wallS).toFixed(2)} s` +
        `; inside netdiag (ssh to verdict) median ${median(verdictMs)} ms  [target: under 1.5 s]`,
    );

    // 2. The fleet: 1, 2, 4, all guests in one run.
    const inv = path.join(dir, 'hosts.ini');
    writeFileSync(
      inv,
      [
        '[lab]',
        ...guests.map(
          (g, i) =>
            `guest${i + 1} ansible_host=${g.host} ansible_user=root ansible_ssh_private_key_file=${g.identityFile} ansible_ssh_common_args='-o UserKnownHostsFile=${g.knownHostsFile}'`,
        ),
      ].join('\n') + '\n',
    );
    const sizes = [...new Set([1, 2, 4, guests.length].filter(k => k <= guests.length))];
    const fleet: FleetBenchFigures['fleet'] = [];
    for (const k of sizes) {
      const g0 = guestsCpuS(lab);
      const r = timedVerify(lab, ['--inventory', inv, '--limit', `lab[0:${k - 1}]`, '--json']);
      fleet.push({ senders: k, wallS: r.wallS, cpuS: r.cpuS, guestsCpuS: guestsCpuS(lab) - g0, allOk: r.code === 0 });
    }
    // Without several guests, the one guest listed 2 and 4 times: the entries take turns on one
    // address (so the wall time is not a fleet's), but the CPU each adds on the log server is.
    const repeated: FleetBenchFigures['fleet'] = [];
    if (guests.length === 1) {
      const g = guests[0]!;
      const rep = path.join(dir, 'repeat.ini');
      const line = `ansible_host=${g.host} ansible_user=root ansible_ssh_private_key_file=${g.identityFile} ansible_ssh_common_args='-o UserKnownHostsFile=${g.knownHostsFile}'`;
      writeFileSync(rep, ['[lab]', ...[1, 2, 3, 4].map(i => `entry${i} ${line}`)].join('\n') + '\n');
      for (const k of [2, 4]) {
        const r = timedVerify(lab, ['--inventory', rep, '--limit', `lab[0:${k - 1}]`, '--json']);
        repeated.push({ senders: k, wallS: r.wallS, cpuS: r.cpuS, guestsCpuS: NaN, allOk: r.code === 0 });
      }
    }
    // The fleet of all guests against the same guests verified one after another: each measured
    // PAIRS times, in turns (a run on this shared 2-core machine moves by 10% from one to the next),
    // and compared by their medians.
    let sumOfSinglesS: number | undefined;
    const pairs: Array<{ fleetS: number; singlesS: number }> = [];
    if (guests.length > 1) {
      const all = `lab[0:${guests.length - 1}]`;
      for (let i = 0; i < PAIRS; i++) {
        const singlesS = guests.reduce((a, g) => a + single(g).wallS, 0);
        const fleetS =
          i === 0 ? fleet.at(-1)!.wallS : timedVerify(lab, ['--inventory', inv, '--limit', all, '--json']).wallS;
        pairs.push({ fleetS, singlesS });
      }
      sumOfSinglesS = median(pairs.map(p => p.singlesS));
    }
    say("  fleet run (--forks 10):  senders   wall      log server CPU   all passed   guests' CPU");
    for (const f of fleet)
      say(
        `                           ${String(f.senders).padStart(7)}   ${f.wallS.toFixed(2).padStart(5)} s   ${f.cpuS.toFixed(2).padStart(6)} s         ${(f.allOk ? 'yes' : 'NO').padEnd(3)}   ${f.guestsCpuS.toFixed(2).padStart(9)} s`,
      );
    for (const f of repeated)
      say(
        `  one guest listed ${f.senders} times:   ${f.wallS.toFixed(2).padStart(5)} s   ${f.cpuS.toFixed(2).padStart(6)} s         ${f.allOk ? 'yes' : 'NO'}   (entries take turns: CPU per sender only)`,
      );
    if (sumOfSinglesS !== undefined) {
      const fleetS = median(pairs.map(p => p.fleetS));
      const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)} s`;
      const ratios = pairs.map(p => (p.fleetS / p.singlesS).toFixed(2)).join(', ');
      say(
        `  ${guests.length} single verifies one after another: median ${sumOfSinglesS.toFixed(2)} s (${range(pairs.map(p => p.singlesS))}); one fleet run: median ${fleetS.toFixed(2)} s (${range(pairs.map(p => p.fleetS))}); ${(fleetS / sumOfSinglesS).toFixed(2)}x  [target: at most 0.5x]`,
      );
      say(`  each of the ${pairs.length} turns: ${ratios}`);
      // The run cannot take less than the CPU it needs spread over every core: the emulated
      // guests' (their ssh server, shell and commands, under TCG) and the log server's.
      const all = fleet.at(-1)!;
      const floorS = (all.guestsCpuS + all.cpuS) / cpus().length;
      say(
        `  CPU floor of that fleet run: (guests' ${all.guestsCpuS.toFixed(2)} s + log server's ${all.cpuS.toFixed(2)} s) / ${cpus().length} cores = ${floorS.toFixed(2)} s, ${(floorS / sumOfSinglesS).toFixed(2)}x the single verifies (a run using this much CPU cannot take less on these cores)`,
      );
    }

    // 3. An estimate for 100 and 1,000 senders. Per sender: the extra CPU (slope over the runs),
    // and the time one sender takes (the one-sender fleet run less netdiag's own start).
    const one = fleet[0]!;
    const last = repeated.at(-1) ?? fleet.at(-1)!;
    const cpuPer = last.senders > 1 ? Math.max(0, (last.cpuS - one.cpuS) / (last.senders - 1)) : one.cpuS;
    const startS = Math.max(0, median(wallS.map((w, i) => w - verdictMs[i]! / 1000)));
    const perSender = Math.max(0.1, one.wallS - startS);
    const cores = cpus().length;
    say(
      `  per sender: ${perSender.toFixed(2)} s of wall time, ${cpuPer.toFixed(3)} s of the log server's CPU; netdiag's own start ${startS.toFixed(2)} s`,
    );
    for (const n of [100, 1000]) {
      for (const forks of [10, 50]) {
        // Waves of `forks` senders, unless the log server's CPU is the limit.
        const waves = Math.ceil(n / forks) * perSender;
        const cpuBound = (one.cpuS + cpuPer * (n - 1)) / cores;
        const est = startS + Math.max(waves, cpuBound);
        say(
          `  estimate: ${String(n).padStart(5)} senders, --forks ${String(forks).padStart(2)}: ~${est < 120 ? `${est.toFixed(0)} s` : `${(est / 60).toFixed(1)} min`}, log server CPU ~${(one.cpuS + cpuPer * (n - 1)).toFixed(0)} s (${waves >= cpuBound ? 'ssh round trips bound' : 'CPU bound'})`,
        );
      }
    }
    return { single: { wallS, verdictMs }, fleet, ...(sumOfSinglesS !== undefined ? { sumOfSinglesS } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!given) spawnSync(labSh, ['down', '--name', NAME], { encoding: 'utf8' });
  }
}

if (process.argv[1] && /verify-fleet\.js$/.test(process.argv[1])) {
  const i = process.argv.indexOf('--runs');
  runVerifyBench({ print: true, ...(i > 0 ? { runs: Number(process.argv[i + 1]) } : {}) }).then(
    r => {
      if ('skipped' in r) console.log(`verify bench skipped: ${r.skipped}`);
    },
    e => {
      console.error(`bench: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
