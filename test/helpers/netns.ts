/**
 * Two network namespaces joined by a veth pair, made for one test and removed after it: a sender
 * end and a receiver end, with addresses in 10.99.N.0/24 and fixed MACs, nothing touching the
 * host's own interfaces. Needs root (see prereq.ts canNetns).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from './cli.js';
import type { HostExec } from '../../src/io/host-exec.js';

export interface NsEnd {
  /** Namespace name (unique per pair). */
  ns: string;
  /** Device name inside the namespace. */
  dev: string;
  ip: string;
  mac: string;
}

export interface NsPair {
  sender: NsEnd;
  receiver: NsEnd;
  /** Runs a command inside a namespace, waits for it, throws with its stderr when it fails. */
  run(ns: string, cmd: string, args: string[], input?: string): string;
  /** Starts a command inside a namespace. */
  spawn(ns: string, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Removes both namespaces (and with them the veth pair). Safe to call twice. */
  destroy(): void;
}

let counter = 0;

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes the pair; `tag` (a few letters) goes into the namespace names to tell tests apart. */
export function createNsPair(tag: string): NsPair {
  const n = ((process.pid * 7 + counter++) % 250) + 1;
  const id = `${tag}-${process.pid}-${counter}`;
  const sender: NsEnd = {
    ns: `nd-${id}-s`,
    dev: 'veth0',
    ip: `10.99.${n}.1`,
    mac: `02:99:00:${n.toString(16).padStart(2, '0')}:00:01`,
  };
  const receiver: NsEnd = {
    ns: `nd-${id}-r`,
    dev: 'veth1',
    ip: `10.99.${n}.2`,
    mac: `02:99:00:${n.toString(16).padStart(2, '0')}:00:02`,
  };
  let alive = true;
  const destroy = () => {
    if (!alive) return;
    alive = false;
    for (const e of [sender, receiver]) spawnSync('ip', ['netns', 'del', e.ns], { stdio: 'ignore' });
  };
  try {
    ip(['netns', 'add', sender.ns]);
    ip(['netns', 'add', receiver.ns]);
    ip([
      '-n',
      sender.ns,
      'link',
      'add',
      sender.dev,
      'address',
      sender.mac,
      'type',
      'veth',
      'peer',
      'name',
      receiver.dev,
      'address',
      receiver.mac,
      'netns',
      receiver.ns,
    ]);
    for (const e of [sender, receiver]) {
      ip(['-n', e.ns, 'addr', 'add', `${e.ip}/24`, 'dev', e.dev]);
      ip(['-n', e.ns, 'link', 'set', e.dev, 'up']);
      ip(['-n', e.ns, 'link', 'set', 'lo', 'up']);
    }
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    sender,
    receiver,
    run(ns, cmd, args, input) {
      const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], {
        encoding: 'utf8',
        input: input ?? '',
        timeout: 120_000,
        maxBuffer: 64 << 20,
      });
      if (r.status !== 0)
        throw new Error(`${cmd} ${args.join(' ')} in ${ns}: exit ${r.status ?? r.signal}: ${r.stderr}`);
      return r.stdout;
    },
    spawn(ns, cmd, args, opts = {}) {
      return spawn('ip', ['netns', 'exec', ns, cmd, ...args], opts);
    },
    destroy,
  };
}

const sendDatagramsScript = path.join(projectRoot, 'dist/test/helpers/send-datagrams.js');

/** What send-datagrams.js takes on stdin (JSON). */
export interface SendSpec {
  to: string;
  port: number;
  /** Source port, netconsole's default 6665 unless given. */
  fromPort?: number;
  /** Payloads as latin1 text (each one datagram). */
  payloads?: string[];
  /** Payloads as base64, after `payloads`. */
  base64?: string[];
  /** Generated: this many extended-mode records `6,SEQ,USEC,-;burst message SEQ`, sent back to back. */
  burst?: number;
  /** Pause between datagrams in ms (0: none, but each waits for the previous send); with burst, between batches. */
  gapMs?: number;
  /** With burst: datagrams sent before waiting for their sends to complete. @default 1024 */
  burstBatch?: number;
}

/** Sends datagrams from inside `ns` with the kernel's own UDP stack; returns how many were sent. */
export function sendFrom(pair: NsPair, ns: string, spec: SendSpec): number {
  const out = pair.run(ns, process.execPath, [sendDatagramsScript], JSON.stringify(spec));
  return (JSON.parse(out) as { sent: number }).sent;
}

/**
 * A namespace as a HostExec for the host checks' collectors, through `ip netns exec` over `local`.
 * The host's /etc is not the namespace's (a mount namespace is not a network namespace), so
 * files and directories under /etc are answered as absent.
 */
export function netnsHostExec(ns: string, local: HostExec): HostExec {
  return {
    run: argv => local.run(['ip', 'netns', 'exec', ns, ...argv]),
    readFile: async p => {
      if (p.startsWith('/etc/')) return null;
      const r = await local.run(['ip', 'netns', 'exec', ns, 'cat', '--', p]);
      return r.code === 0 ? r.stdout : null;
    },
    listDir: async p => {
      if (p.startsWith('/etc/')) return null;
      const r = await local.run(['ip', 'netns', 'exec', ns, 'ls', '-1A', '--', p]);
      return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : null;
    },
  };
}

/**
 * New namespaces `sender` and `receiver` (any left from before removed first), joined by a veth
 * pair named eth0 at both ends: the sender 10.99.0.2/24, the receiver 10.99.0.1/24.
 */
export async function linkNamespaces(local: HostExec, sender: string, receiver: string): Promise<void> {
  const sh = async (argv: string[]) => {
    const r = await local.run(argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
  };
  for (const ns of [sender, receiver]) await local.run(['ip', 'netns', 'del', ns]);
  for (const ns of [sender, receiver]) await sh(['ip', 'netns', 'add', ns]);
  await sh(['ip', 'link', 'add', 'eth0', 'netns', sender, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', receiver]);
  for (const [ns, addr] of [
    [sender, '10.99.0.2/24'],
    [receiver, '10.99.0.1/24'],
  ] as const) {
    await sh(['ip', '-n', ns, 'addr', 'add', addr, 'dev', 'eth0']);
    await sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

/**
 * Sends `n` datagrams from 10.99.0.2:6665 in `sender` to 10.99.0.1:`port` and says how many a
 * listener in `receiver` got (socat, started and ended here, by PID).
 */
export async function deliverUdp(local: HostExec, sender: string, receiver: string, n: number, port = 514) {
  let out = '';
  const proc = spawn('ip', ['netns', 'exec', receiver, 'socat', '-u', `UDP4-RECV:${port},reuseaddr`, '-'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise(r => proc.once('exit', r));
  proc.stdout.on('data', d => (out += String(d)));
  try {
    await new Promise(r => setTimeout(r, 300));
    for (let i = 0; i < n; i++)
      await local.run([
        'sh',
        '-c',
        `echo netconsole-test-${i} | ip netns exec ${sender} socat -u - UDP4-SENDTO:10.99.0.1:${port},sourceport=6665`,
      ]);
    await new Promise(r => setTimeout(r, 300));
  } finally {
    if (proc.exitCode === null && proc.pid) process.kill(proc.pid, 'SIGTERM');
    await exited;
  }
  return out.split('\n').filter(Boolean).length;
}
