/**
 * Drives lab/lab.sh for the end-to-end tests: boot a lab, capture in its log-server namespace,
 * run commands on the guest, read its rsyslog file, take it down. Every call is a real process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { canNetns, haveCommand, isRoot } from './helpers/prereq.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from dist/test/ or test/. */
export const repoRoot = resolve(here, here.split('/').includes('dist') ? '../..' : '..');
export const labSh = join(repoRoot, 'lab', 'lab.sh');

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

export interface LabState {
  name: string;
  kernel: string;
  runDir: string;
  namespaces: { logServer: string; router: string | null; qemu: string };
  receiver: { netns: string; iface: string; ip: string; mac: string; port: number };
  sender: { ip: string; mac: string; dev: string; tap: string };
  router: null | { netns: string; ip: string; mac: string; senderSideIface: string };
  ssh: { host: string; identityFile: string; knownHostsFile: string; configFile: string };
  rsyslog: { state: string; pid: number | null; port: number; logFile: string | null };
  qemu: { pid: number; monitorSocket: string };
  netconsole: { spec: string | null; remoteMac: string; remotePort: number; localPort: number };
  faults: string[];
  timings: { firstDatagramMs: number | null; sshReadyMs: number | null; upTotalMs: number };
}

export interface RunResult { code: number; stdout: string; stderr: string }

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

export async function labUp(name: string, opts: string[] = []): Promise<LabState> {
  const r = await lab(['up', '--name', name, ...opts]);
  if (r.code !== 0) throw new Error(`lab up ${opts.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return readState(name);
}

export function readState(name: string): LabState {
  return JSON.parse(readFileSync(join(repoRoot, 'lab', '.cache', 'run', name, 'state.json'), 'utf8')) as LabState;
}

export async function labDown(name: string): Promise<void> {
  await lab(['down', '--name', name], 60_000);
}

/** Runs a shell command on the guest over ssh (host keys checked against the lab's known_hosts). */
export async function guest(name: string, command: string): Promise<RunResult> {
  return lab(['ssh', name, '--', command], 60_000);
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
    this.proc = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', iface, '-n', '-U', '--immediate-mode', '-s', '4096', '-B', '16384', '-Z', 'root',
      '-w', this.file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', d => { this.stderr += String(d); });
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
  for (const t of [`ndt-${name}`, `ndm-${name}`, `ndv-${name}`, `ndr-${name}`]) {
    if (links.includes(`: ${t}`) || links.includes(`: ${t}@`)) found.push(`link ${t}`);
  }
  for (const pid of [qemuPid, rsyslogPid]) {
    if (pid && existsSync(`/proc/${pid}`)) {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(`/run/${name}/`)) found.push(`process ${pid}`);
    }
  }
  if (existsSync(join(repoRoot, 'lab', '.cache', 'run', name))) found.push('run directory');
  return found;
}
