/**
 * Drives lab/lab.sh for the end-to-end tests: boot a lab, capture in its log-server namespace,
 * run commands on the guest, read its rsyslog file, take it down. Every call is a real process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { cliPath } from './helpers/cli.js';
import type { LabSsh, LabState } from './helpers/lab-state.js';
import { canNetns, haveCommand, isRoot } from './helpers/prereq.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from dist/test/ or test/. */
const repoRoot = resolve(here, here.split('/').includes('dist') ? '../..' : '..');
export const labSh = join(repoRoot, 'lab', 'lab.sh');
/** Where lab.sh keeps its cache and run directories (LAB_CACHE, as lab.sh reads it). */
const labCache = process.env.LAB_CACHE || join(repoRoot, 'lab', '.cache');
/**
 * The kernel a test's lab boots when the test does not pass --kernel: LAB_TEST_KERNEL, else 6.1,
 * which the tests written before 6.17 was in the lab expect (lab.sh's own default is the newest).
 */
const defaultTestKernel = process.env.LAB_TEST_KERNEL || '6.1';

/** What every test that boots the lab needs, for `requiring` (test/helpers/prereq.ts); add the test's own. */
export function labRequirements(...extra: Array<[boolean, string]>): Array<[boolean, string]> {
  return [
    [isRoot(), 'root'],
    [haveCommand('qemu-system-x86_64'), 'qemu-system-x86_64 (qemu-system-x86)'],
    [canNetns(), 'ip netns'],
    [haveCommand('rsyslogd'), 'rsyslogd (rsyslog)'],
    [haveCommand('dropbearkey'), 'dropbearkey (dropbear-bin)'],
    [haveCommand('ssh'), 'ssh (openssh-client)'],
    ...extra,
  ];
}

export type { LabState } from './helpers/lab-state.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise(res => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export async function lab(args: string[], timeoutMs = 240_000): Promise<RunResult> {
  return run(labSh, args, timeoutMs);
}

/** Boots a lab; without --kernel (or --guest specs) in `opts`, the kernel is `defaultTestKernel`. */
export async function labUp(name: string, opts: string[] = [], timeoutMs = 300_000): Promise<LabState> {
  const kernel = opts.includes('--kernel') || opts.includes('--guest') ? [] : ['--kernel', defaultTestKernel];
  const r = await lab(['up', '--name', name, ...kernel, ...opts], timeoutMs);
  if (r.code !== 0) throw new Error(`lab up ${opts.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return readState(name);
}

function readState(name: string): LabState {
  return JSON.parse(readFileSync(join(labCache, 'run', name, 'state.json'), 'utf8')) as LabState;
}

export async function labDown(name: string): Promise<void> {
  await lab(['down', '--name', name], 60_000);
}

/** Runs a shell command on a guest (default the first) over ssh (host keys checked against the lab's known_hosts). */
export async function guest(name: string, command: string, index = 1): Promise<RunResult> {
  return lab(['ssh', name, ...(index > 1 ? ['--guest', String(index)] : []), '--', command], 60_000);
}

/** Runs a command in the lab's log-server namespace. */
export async function inLogServer(name: string, argv: string[]): Promise<RunResult> {
  return lab(['exec', name, '--', ...argv], 60_000);
}

export function marker(): string {
  return `ndlab-marker-${randomBytes(6).toString('hex')}`;
}

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Polls until `check` is true or the time runs out; returns the last value of check. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, stepMs = 200): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await sleep(stepMs);
  }
}

export function syslogText(state: LabState): string {
  const f = state.rsyslog.logFile;
  return f && existsSync(f) ? readFileSync(f, 'utf8') : '';
}

/**
 * A suite's lab names: a per-process tag (its letter, then the pid in base 36), so concurrent runs
 * and other labs are left alone; `n(what)` is a lab name of this run, cut to lab.sh's 11 characters
 * (`LAB_NAME_PREFIX` goes first).
 */
export function labNames(letter: string): { tag: string; n: (what: string) => string } {
  // LAB_NAME_PREFIX: a shared machine's convention for whose labs these are (e.g. a helper's name).
  const tag = `${process.env.LAB_NAME_PREFIX ?? ''}${letter}${(process.pid % 46656).toString(36).padStart(3, '0')}`;
  return { tag, n: what => `${tag}${what}`.slice(0, 11) };
}

const captureDirs: string[] = [];
/** Deletes the capture files made since the last call (call when a test passed). */
export function discardCaptures(): void {
  for (const d of captureDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
/** Keeps the capture files made since the last call (a failed test names them). */
export function keepCaptures(): void {
  captureDirs.splice(0);
}

/** A tcpdump running in a namespace of the lab (promiscuous, as tcpdump is by default). */
export class Capture {
  readonly file: string;
  private proc: ChildProcess;
  private stderr = '';
  private exited: Promise<void>;

  constructor(netns: string, iface: string, filter: string) {
    const dir = mkdtempSync(join(tmpdir(), 'ndlab-cap-'));
    captureDirs.push(dir);
    this.file = join(dir, 'capture.pcap');
    this.proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        netns,
        'tcpdump',
        '-i',
        iface,
        '-n',
        '-U',
        '--immediate-mode',
        '-s',
        '4096',
        '-B',
        '16384',
        '-Z',
        'root',
        '-w',
        this.file,
        filter,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.proc.stderr!.on('data', d => {
      this.stderr += String(d);
    });
    this.exited = new Promise(r => this.proc.on('exit', () => r()));
  }

  async started(): Promise<void> {
    const ok = await waitFor(() => this.stderr.includes('listening on'), 10_000, 50);
    if (!ok) throw new Error(`tcpdump did not start: ${this.stderr}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.pid) process.kill(this.proc.pid, 'SIGINT');
    await this.exited;
  }

  /** tcpdump's own reading of the capture: one line per packet, with link-level headers. */
  async text(filter = ''): Promise<string> {
    const r = await run('tcpdump', ['-r', this.file, '-n', '-e', '-A', '-tt', ...(filter ? [filter] : [])], 60_000);
    return r.stdout;
  }

  /** Number of packets matching `filter`. */
  async count(filter: string): Promise<number> {
    const r = await run('tcpdump', ['-r', this.file, '-n', ...(filter ? [filter] : [])], 60_000);
    return r.stdout.split('\n').filter(l => l.trim() !== '').length;
  }
}

/** Namespaces, taps and processes that a lab named `name` would have left. */
export async function leftovers(name: string, qemuPid?: number, rsyslogPid?: number | null): Promise<string[]> {
  const found: string[] = [];
  const ns = (await run('ip', ['netns', 'list'])).stdout.split('\n').map(l => l.split(' ')[0]);
  for (const n of ns) if (n === `ndlab-${name}` || n === `ndlab-${name}-rtr`) found.push(`namespace ${n}`);
  const links = (await run('ip', ['-o', 'link'])).stdout;
  const names = [`ndt-${name}`, `ndm-${name}`, `ndv-${name}`, `ndr-${name}`, `ndb-${name}`, `ndn-${name}`];
  for (let i = 2; i <= 8; i++) names.push(`nd${i}-${name}`, `nm${i}-${name}`);
  for (const t of names) {
    if (links.includes(`: ${t}`) || links.includes(`: ${t}@`)) found.push(`link ${t}`);
  }
  for (const pid of [qemuPid, rsyslogPid]) {
    if (pid && existsSync(`/proc/${pid}`)) {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(`/run/${name}/`)) found.push(`process ${pid}`);
    }
  }
  if (existsSync(join(labCache, 'run', name))) found.push('run directory');
  return found;
}

/** Writes a message into the guest's kernel log (/dev/kmsg) at `level`. */
/**
 * Stops the lab's rsyslog (SIGTERM) and waits until its process is gone: while it shuts down it is
 * still listed with its socket closed, and then "nothing listens" is the truth, not "not running".
 * True when it went within `ms`.
 */
export async function stopRsyslog(s: LabState, ms = 20_000): Promise<boolean> {
  const pid = s.rsyslog.pid;
  if (!pid) return false;
  process.kill(pid, 'SIGTERM');
  const gone = () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  return waitFor(gone, ms, 50);
}

export async function kmsg(name: string, text: string, level = 6, index = 1): Promise<void> {
  const r = await guest(name, `echo '<${level}>${text}' > /dev/kmsg`, index);
  if (r.code !== 0) throw new Error(`ssh to guest ${index} of ${name} failed: ${r.stderr}`);
}

/**
 * The log server's network counters, as nstat names them (IpInAddrErrors, UdpNoPorts,
 * TcpExtIPReversePathFilter, Ip6InAddrErrors, Udp6NoPorts, ...), read from /proc/net/snmp,
 * /proc/net/netstat and /proc/net/snmp6 in the lab's log-server namespace.
 */
export async function netCounters(name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const r = await inLogServer(name, ['cat', '/proc/net/snmp', '/proc/net/netstat', '/proc/net/snmp6']);
  const lines = r.stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^(\w+): (.*)$/.exec(lines[i]!);
    const next = /^(\w+): (.*)$/.exec(lines[i + 1] ?? '');
    if (head && next && head[1] === next[1] && !/^\d/.test(head[2]!)) {
      const keys = head[2]!.trim().split(/\s+/),
        vals = next[2]!.trim().split(/\s+/);
      keys.forEach((k, j) => {
        out[head[1] + k] = Number(vals[j]);
      });
      i++;
      continue;
    }
    const six = /^(\w+)\s+(\d+)$/.exec(lines[i]!);
    if (six) out[six[1]!] = Number(six[2]);
  }
  return out;
}

export interface BootRecord {
  opts: string;
  kernel: string;
  guests: number;
  firstDatagramMs: number | null;
  sshReadyMs: number | null;
  upMs: number;
}

/**
 * Boots a lab, runs `body`, and always takes the lab down and checks it left nothing. Each boot
 * is recorded in `boots` (when given) with its timings.
 */
export async function withLab(
  t: { log: (...a: unknown[]) => void; deepEqual: (a: unknown, b: unknown, m?: string) => void },
  name: string,
  opts: string[],
  body: (s: LabState) => Promise<void>,
  boots?: BootRecord[],
): Promise<void> {
  const t0 = Date.now();
  let state: LabState | undefined;
  try {
    state = await labUp(name, opts);
    const rec: BootRecord = {
      opts: opts.join(' ') || '(defaults)',
      kernel: state.kernel,
      guests: state.guests.length,
      firstDatagramMs: state.timings.firstDatagramMs,
      sshReadyMs: state.timings.sshReadyMs,
      upMs: Date.now() - t0,
    };
    boots?.push(rec);
    t.log(
      `lab ${rec.opts}: kernel ${state.kernel}, ${rec.guests} guest(s), first datagram ${rec.firstDatagramMs} ms, ssh ${rec.sshReadyMs} ms after QEMU start, up ${rec.upMs} ms`,
    );
    await body(state);
  } finally {
    await labDown(name);
  }
  t.deepEqual(await leftovers(name, state?.qemu.pid, state?.rsyslog.pid), [], 'lab down leaves nothing behind');
}

// netdiag verify on the lab, as a log server runs it: in the log-server namespace, reaching the
// guests over real OpenSSH with the lab's key and known_hosts.

/** `--syslog-config FILE` when the lab's rsyslog runs with its own configuration (rsyslogd -f). */
const syslogConfigArgs = (s: LabState): string[] =>
  s.rsyslog.configFile ? ['--syslog-config', s.rsyslog.configFile] : [];

/** A guest as `verify --sender` takes it (`host`: another of its addresses, e.g. the management one). */
export function senderArgs(g: LabSsh, host = g.host): string[] {
  return [
    '--sender',
    `root@${host}`,
    '--identity',
    g.identityFile,
    '--ssh-option',
    `UserKnownHostsFile=${g.knownHostsFile}`,
  ];
}

/**
 * The argv of `netdiag COMMAND ARGS` (verify or check) in the lab's log-server namespace, with the
 * lab's syslog configuration.
 */
export function netdiagArgv(s: LabState, command: 'verify' | 'check', args: string[]): string[] {
  return [
    'ip',
    'netns',
    'exec',
    s.namespaces.logServer,
    process.execPath,
    cliPath,
    command,
    ...syslogConfigArgs(s),
    ...args,
  ];
}

/** The argv of `netdiag verify ARGS` in the lab's log-server namespace, with the lab's syslog configuration. */
export const verifyArgv = (s: LabState, args: string[]): string[] => netdiagArgv(s, 'verify', args);

/** Runs `netdiag verify ARGS` on the lab's log server; `wallMs` from start to exit. */
export async function verifyOnLab(
  s: LabState,
  args: string[],
  timeoutMs = 120_000,
): Promise<RunResult & { wallMs: number }> {
  const [cmd, ...rest] = verifyArgv(s, args);
  const t0 = performance.now();
  const r = await run(cmd!, rest, timeoutMs);
  return { ...r, wallMs: Math.round(performance.now() - t0) };
}

/** `netdiag verify ARGS` (with --json) on the lab's log server, its JSON parsed; throws with the output if none. */
export async function verifyJsonOnLab<T>(
  s: LabState,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; json: T; stderr: string }> {
  const r = await verifyOnLab(s, args, timeoutMs);
  try {
    return { code: r.code, json: JSON.parse(r.stdout) as T, stderr: r.stderr };
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`);
  }
}

/**
 * Replaces the lab's rsyslog (stopped first by the caller) with one started here on `body` (the
 * lines after its work directory and imudp module: inputs, templates, rules); returns its PID,
 * which the caller ends with endProcess.
 */
export async function rsyslogWith(s: LabState, body: string[]): Promise<number> {
  const conf = s.rsyslog.configFile!;
  const base = dirname(conf);
  writeFileSync(
    conf,
    [`global(workDirectory="${base}/rsyslog-work" maxMessageSize="64k")`, 'module(load="imudp")', ...body, ''].join(
      '\n',
    ),
  );
  const pidFile = `${base}/rsyslog-walk.pid`;
  rmSync(pidFile, { force: true });
  const r = await run('ip', ['netns', 'exec', s.namespaces.logServer, 'rsyslogd', '-f', conf, '-i', pidFile]);
  if (r.code !== 0) throw new Error(`rsyslogd did not start: ${r.stderr}`);
  await waitFor(() => existsSync(pidFile), 5000, 50);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  // It listens once its socket is bound: a moment after the PID file.
  await sleep(500);
  return pid;
}

/** SIGTERM to a process this test started, then waits (up to 10 s) until it is gone. */
export async function endProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  await waitFor(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    10_000,
    50,
  );
}

/** An Ansible inventory line for a guest, as `verify --inventory` reads it. */
export const inventoryLine = (name: string, g: LabSsh) =>
  `${name} ansible_host=${g.host} ansible_user=root ansible_ssh_private_key_file=${g.identityFile} ansible_ssh_common_args='-o UserKnownHostsFile=${g.knownHostsFile}'`;

/** Writes `lines` as dir/hosts.ini; returns its path. */
export function writeInventory(dir: string, lines: string[]): string {
  const file = join(dir, 'hosts.ini');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
