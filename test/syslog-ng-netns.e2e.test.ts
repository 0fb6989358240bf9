/**
 * netdiag's syslog-ng verdicts against a real syslog-ng (`syslog-ng -F -f FILE`, every path under a
 * temporary directory) in a receiver namespace this test makes (10.99.0.0/24): a sender namespace
 * sends netconsole's two forms (no <PRI>) with a random marker, and what syslog-ng wrote is held
 * against what `netdiag check` says. The host's syslog-ng and /etc/syslog-ng are not touched.
 *
 * syslog-ng-core conflicts with rsyslog (both are Debian's system-log-daemon, and lab.sh runs the
 * host's rsyslogd), so it is not installed: `scripts/system-deps.sh test` unpacks its package into
 * SYSLOG_NG_ROOT (default /var/cache/netdiag/syslog-ng), and the test runs it from there; a
 * syslog-ng on PATH is taken first.
 */
import { isRoot, haveCommand, canNetns, requiring } from './helpers/prereq.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { localExec } from '../src/io/local-exec.js';
import { linkNamespaces, netnsHostExec } from './helpers/netns.js';
import { collectReceiverFacts } from '../src/checks/host/collect.js';
import { runReceiverChecks } from '../src/checks/receiver/run.js';
import { fx, problemCodes } from './helpers/host-facts.js';

const ROOT = process.env.SYSLOG_NG_ROOT ?? '/var/cache/netdiag/syslog-ng';

/** The command that runs syslog-ng: the installed one, else the unpacked package's with its libraries and modules. */
function syslogNgCommand(): string[] | undefined {
  if (haveCommand('syslog-ng')) return ['syslog-ng'];
  const lib = path.join(ROOT, 'usr/lib/syslog-ng');
  const modules = existsSync(lib) ? readdirSync(lib).find(d => /^\d+\.\d+$/.test(d)) : undefined;
  if (!existsSync(path.join(ROOT, 'usr/sbin/syslog-ng')) || !modules) return undefined;
  return [
    'env',
    `LD_LIBRARY_PATH=${lib}`,
    path.join(ROOT, 'usr/sbin/syslog-ng'),
    `--module-path=${path.join(lib, modules)}`,
  ];
}
const syslogNgCmd = syslogNgCommand();

const reqs: Array<[boolean, string]> = [
  [isRoot(), 'root'],
  [canNetns(), 'ip netns'],
  [haveCommand('socat'), 'socat'],
  [syslogNgCmd !== undefined, `syslog-ng (on PATH, or unpacked in ${ROOT} by scripts/system-deps.sh test)`],
];
const test = requiring(reqs);
/** Hooks only when the tests run (a skipped test function has none). */
const ready = reqs.every(([ok]) => ok);
// One syslog-ng at a time on 514 in the one receiver namespace (a skipped test function has no .serial).
const serial = ready ? test.serial : test;

const local = localExec({ timeoutMs: 10_000 });
const S = `ndsng${process.pid}s`;
const R = `ndsng${process.pid}r`;
let dir = '';
const sh = async (argv: string[]) => {
  const r = await local.run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
};
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const procs: ChildProcess[] = [];

const nsExec = netnsHostExec(R, local);

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode === null && p.signalCode === null && p.pid) {
    const done = new Promise(r => p.once('exit', r));
    process.kill(p.pid, 'SIGTERM');
    await done;
  }
}

/**
 * Runs syslog-ng on the walked fixture `name` (its /var/log made `logs`), sends both forms with a
 * marker, and returns what netdiag said and what syslog-ng wrote; syslog-ng is stopped before.
 */
async function walk(name: string) {
  const run = path.join(dir, name);
  const logs = path.join(run, 'logs');
  await sh(['mkdir', '-p', logs]);
  const conf = path.join(run, 'netlog.conf');
  const text = fx(`syslog-ng/${name}.conf`).replaceAll('/var/log/', `${logs}/`);
  // An @include of /etc/syslog-ng/X is X of the fixtures, under the run's directory.
  for (const [, inc] of text.matchAll(/@include\s+"\/etc\/syslog-ng\/([^"]+)"/g))
    writeFileSync(path.join(run, inc!), fx(`syslog-ng/${inc}`).replaceAll('/var/log/', `${logs}/`));
  writeFileSync(conf, text.replaceAll('/etc/syslog-ng/', `${run}/`));
  let stderr = '';
  const p = spawn(
    'ip',
    [
      'netns',
      'exec',
      R,
      ...syslogNgCmd!,
      '-F',
      '-f',
      conf,
      `--persist-file=${run}/persist`,
      `--pidfile=${run}/pid`,
      `--control=${run}/ctl`,
      '--no-caps',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  p.stderr.on('data', d => (stderr += String(d)));
  procs.push(p);
  try {
    for (let i = 0; i < 50 && !/:514\b/.test(await sh(['ip', 'netns', 'exec', R, 'ss', '-ulnH'])); i++)
      await sleep(100);
    const marker = `netdiag-sng-${randomBytes(6).toString('hex')}`;
    for (const line of [`[   12.345678] sysrq: ${marker} plain`, `6,123,456789,-;sysrq: ${marker} extended`])
      await local.run([
        'sh',
        '-c',
        `echo '${line}' | ip netns exec ${S} socat -u - UDP4-SENDTO:10.99.0.1:514,sourceport=6665`,
      ]);
    await sleep(800);
    const facts = await collectReceiverFacts(nsExec, { senderIp: '10.99.0.2', syslogConfig: conf });
    const report = runReceiverChecks(facts, { senderIp: '10.99.0.2', receiverIp: '10.99.0.1', port: 514 });
    const written = (f: string) => (existsSync(path.join(logs, f)) ? readFileSync(path.join(logs, f), 'utf8') : '');
    return { report, written, marker, logs, stderr: () => stderr };
  } finally {
    await stop(p);
  }
}

if (ready)
  test.before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'netdiag-syslog-ng-'));
    await linkNamespaces(local, S, R);
  });

if (ready)
  test.after.always(async () => {
    for (const p of procs) await stop(p);
    for (const ns of [S, R]) await local.run(['ip', 'netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

serial(
  'syslog-ng: Debian-like paths with a udp() source: both forms land in syslog (user.notice), not kern.log',
  async t => {
    const w = await walk('walked-stock-udp');
    t.regex(w.written('syslog'), new RegExp(`${w.marker} plain[^]*${w.marker} extended`), w.stderr());
    t.notRegex(w.written('kern.log'), new RegExp(w.marker));
    t.deepEqual(w.report.logFiles, [path.join(w.logs, 'syslog')]);
    t.deepEqual(problemCodes(w.report), []);
  },
);

serial('syslog-ng: a facility(kern) path only: nothing written, and the check says syslog-filtered', async t => {
  const w = await walk('walked-kern-only');
  t.notRegex(w.written('kern.log'), new RegExp(w.marker), w.stderr());
  t.deepEqual(w.report.logFiles, []);
  t.deepEqual(problemCodes(w.report), ['syslog-filtered']);
});

serial(
  'syslog-ng: a flags(final) path without destination first: nothing written, syslog-filtered (flags(final))',
  async t => {
    const w = await walk('walked-final-discard');
    t.notRegex(w.written('all.log'), new RegExp(w.marker), w.stderr());
    t.deepEqual(problemCodes(w.report), ['syslog-filtered']);
    t.regex(
      w.report.checks
        .flatMap(c => c.findings)
        .map(f => f.summary)
        .join('\n'),
      /\(flags\(final\)\)/,
    );
  },
);

// Walked 2026-12-03: junctions, embedded paths, rewrites and parsers, @include, a missing filter.
const walkedPaths: Array<{ name: string; wrote: string[]; not: string[]; files: string[] }> = [
  {
    name: 'walked-junction',
    wrote: ['j-user.log', 'after.log'],
    not: ['j-kern.log'],
    files: ['j-user.log', 'after.log'],
  },
  { name: 'walked-junction-none', wrote: [], not: ['j-kern.log', 'j-err.log', 'after.log'], files: [] },
  { name: 'walked-embedded-outer-final', wrote: ['e-net.log'], not: ['e-kern.log', 'next.log'], files: ['e-net.log'] },
  {
    name: 'walked-include-middle',
    wrote: ['included-first.log'],
    not: ['main-after.log'],
    files: ['included-first.log'],
  },
  {
    name: 'walked-rewrite-parser',
    wrote: ['kern.log', 'kernel.log', 'kv.log'],
    not: ['json.log'],
    // json.log: 'maybe' (a kernel line that is JSON would be written).
    files: ['kern.log', 'kernel.log', 'kv.log', 'json.log'],
  },
];
for (const c of walkedPaths)
  serial(
    `syslog-ng: ${c.name}: ${c.wrote.join(', ') || 'nothing'} written, and the check names ${c.files.join(', ') || 'no file'}`,
    async t => {
      const w = await walk(c.name);
      for (const file of c.wrote)
        t.regex(w.written(file), new RegExp(`${w.marker} plain[^]*${w.marker} extended`), w.stderr());
      for (const file of c.not) t.notRegex(w.written(file), new RegExp(w.marker), file);
      t.deepEqual(
        w.report.logFiles,
        c.files.map(x => path.join(w.logs, x)),
      );
      t.deepEqual(problemCodes(w.report), c.files.length ? [] : ['syslog-filtered']);
    },
  );

serial(
  'syslog-ng: filter(f_kern) with no f_kern: syslog-ng does not start, and the check names the reference',
  async t => {
    const w = await walk('walked-undefined-filter');
    t.regex(w.stderr(), /Error resolving reference; content='filter', name='f_kern'/);
    const found = w.report.checks.flatMap(c => c.findings);
    t.true(problemCodes(w.report).includes('syslog-config-warning'), problemCodes(w.report).join(', '));
    t.regex(
      found.map(x => x.summary).join('\n'),
      /syslog-ng will not start: .*netlog\.conf:6: filter\(f_kern\) names no filter in the files read/,
    );
  },
);
