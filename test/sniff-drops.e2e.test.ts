/**
 * sniff's stop line tells what was lost and where, end to end: real datagrams from one network
 * namespace, `netdiag sniff` capturing in the other over a veth pair each test makes and removes.
 * The kernel's drops are forced with the smallest ring (-B 1) and a burst of 20,000 while the
 * capture process is stopped (SIGSTOP: it reads nothing); with cap (NETDIAG_CAPTURE_WITH=cap, the
 * fallback), whose -B 1 holds 16 packets, the burst alone overflows it. Then what was captured and
 * what the kernel dropped add up to what was sent. The capture process's drops are forced by
 * stopping netdiag's main process with a 1 MiB backlog.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { cliPath } from './helpers/cli.js';
import { createNsPair, sendFrom, type NsPair } from './helpers/netns.js';
import { canNetns, isRoot, requiring } from './helpers/prereq.js';

const netnsTest = requiring([
  [isRoot(), 'root'],
  [canNetns(), 'network namespaces (ip netns)'],
]);

/** Runs `netdiag sniff ARGS` in the receiver's namespace; `stop()` sends SIGINT, resolves with stderr. */
function sniff(t: ExecutionContext, pair: NsPair, args: string[], env: Record<string, string> = {}) {
  const proc = spawn('ip', ['netns', 'exec', pair.receiver.ns, process.execPath, cliPath, 'sniff', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>(resolve => proc.once('close', code => resolve(code)));
  const ready = (async () => {
    for (let i = 0; i < 1200 && !/listening on/.test(err); i++) {
      if (proc.exitCode !== null) break;
      await new Promise(r => setTimeout(r, 50));
    }
    if (!/listening on/.test(err)) throw new Error(`sniff not listening after 60 s: ${err}`);
  })();
  return {
    ready,
    pid: proc.pid!,
    async stop(): Promise<{ code: number | null; stderr: string }> {
      proc.kill('SIGINT');
      const code = await done;
      return { code, stderr: err };
    },
  };
}

/** The receiver drops UDP to 6666 after the capture taps (nft), so it answers with no ICMP. */
function dropPair(t: ExecutionContext, tag: string): NsPair {
  const pair = createNsPair(tag);
  t.teardown(() => pair.destroy());
  pair.run(
    pair.receiver.ns,
    'nft',
    ['-f', '-'],
    'table inet t {\n chain input {\n  type filter hook input priority 0;\n  udp dport 6666 drop\n }\n}\n',
  );
  return pair;
}

/** One datagram first, so the sender has the receiver's MAC before a burst (no ARP queue overflow). */
function warmUp(pair: NsPair): number {
  const sent = sendFrom(pair, pair.sender.ns, { to: pair.receiver.ip, port: 6666, payloads: ['6,0,0,-;warm-up\n'] });
  return sent;
}

function stopLine(stderr: string): { captured: number; kernel: number | undefined; process: number; line: string } {
  const line = /^netdiag: (\d+) packets captured on .*$/m.exec(stderr);
  if (!line) throw new Error(`no stop line in: ${stderr}`);
  const kernel = /, (\d+) dropped by the kernel/.exec(line[0]);
  const proc = /, (\d+) dropped by the capture process/.exec(line[0]);
  return {
    captured: Number(line[1]),
    kernel: kernel ? Number(kernel[1]) : undefined,
    process: proc ? Number(proc[1]) : 0,
    line: line[0],
  };
}

netnsTest('nothing lost: the stop line says 0 dropped by the kernel', async t => {
  const pair = dropPair(t, 'dr0');
  const run = sniff(t, pair, [pair.receiver.dev, '--port', '6666', '-q']);
  await run.ready;
  const sent =
    warmUp(pair) +
    sendFrom(pair, pair.sender.ns, { to: pair.receiver.ip, port: 6666, burst: 50, burstBatch: 10, gapMs: 20 });
  t.is(sent, 51);
  await new Promise(r => setTimeout(r, 1000));
  const res = await run.stop();
  t.is(res.code, 0, res.stderr);
  const s = stopLine(res.stderr);
  t.is(s.captured, sent, s.line);
  t.is(s.kernel, 0, s.line);
  t.notRegex(s.line, /unknown/);
});

/** The capture process of the sniff whose main process is `pid` (its only child). */
function captureProcess(pid: number): number {
  const children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .trim()
    .split('\n');
  if (children.length !== 1) throw new Error(`sniff ${pid} has ${children.length} children: ${children.join(' ')}`);
  return Number(children[0]);
}

/** Stops `pid` (SIGSTOP) while `during` runs, then lets it go on. */
async function stopped<T>(t: ExecutionContext, pid: number, during: () => T): Promise<T> {
  process.kill(pid, 'SIGSTOP');
  const cont = () => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already
    }
  };
  t.teardown(cont);
  try {
    const r = during();
    await new Promise(res => setTimeout(res, 500));
    return r;
  } finally {
    cont();
  }
}

netnsTest('a ring too small for the burst: the stop line counts the kernel drops, and they add up', async t => {
  const pair = dropPair(t, 'dr1');
  const run = sniff(t, pair, [pair.receiver.dev, '--port', '6666', '-q', '-B', '1']);
  await run.ready;
  let sent = warmUp(pair);
  sent += await stopped(t, captureProcess(run.pid), () =>
    sendFrom(pair, pair.sender.ns, { to: pair.receiver.ip, port: 6666, burst: 20000 }),
  );
  t.is(sent, 20001);
  await new Promise(r => setTimeout(r, 1500));
  const res = await run.stop();
  t.is(res.code, 0, res.stderr);
  const s = stopLine(res.stderr);
  t.truthy(s.kernel, `the kernel dropped some of a 20,000 burst into 1 MiB while nothing read it: ${s.line}`);
  t.true(s.captured > 16, `libpcap's ring (TPACKET_V3) holds more than cap's 16 slots: ${s.line}`);
  t.is(s.captured + s.kernel!, sent, s.line);
  t.regex(s.line, /dropped by the kernel: the capture buffer was full \(a bigger -B holds more\)/);
});

netnsTest("cap's path (the fallback): 16 slots in -B 1, the burst overflows them, the drops add up", async t => {
  const pair = dropPair(t, 'dr3');
  const run = sniff(t, pair, [pair.receiver.dev, '--port', '6666', '-q', '-B', '1'], { NETDIAG_CAPTURE_WITH: 'cap' });
  await run.ready;
  const sent = warmUp(pair) + sendFrom(pair, pair.sender.ns, { to: pair.receiver.ip, port: 6666, burst: 20000 });
  t.is(sent, 20001);
  await new Promise(r => setTimeout(r, 1500));
  const res = await run.stop();
  t.is(res.code, 0, res.stderr);
  const s = stopLine(res.stderr);
  t.truthy(s.kernel, `the kernel dropped some of a 20,000 burst into 16 slots: ${s.line}`);
  t.is(s.captured + s.kernel!, sent, s.line);
});

netnsTest('the default ring holds a 20,000 burst while the capture process is stopped', async t => {
  const pair = dropPair(t, 'dr4');
  const run = sniff(t, pair, [pair.receiver.dev, '--port', '6666', '-q']);
  await run.ready;
  let sent = warmUp(pair);
  sent += await stopped(t, captureProcess(run.pid), () =>
    sendFrom(pair, pair.sender.ns, { to: pair.receiver.ip, port: 6666, burst: 20000 }),
  );
  await new Promise(r => setTimeout(r, 1500));
  const res = await run.stop();
  t.is(res.code, 0, res.stderr);
  const s = stopLine(res.stderr);
  // cap's 128 MiB of 64 KiB slots held 2,046 of them.
  t.is(s.captured, sent, s.line);
  t.is(s.kernel, 0, s.line);
});

netnsTest('a reader that stops: the capture process counts what did not fit its backlog, and they add up', async t => {
  const pair = dropPair(t, 'dr2');
  const run = sniff(t, pair, [pair.receiver.dev, '--port', '6666', '-q', '--backlog', '1']);
  await run.ready;
  let sent = warmUp(pair);
  await new Promise(r => setTimeout(r, 300));
  process.kill(run.pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(run.pid, 'SIGCONT');
    } catch {
      // gone already
    }
  });
  // About 100 bytes a record in the pipe: 4 MB, four times the backlog.
  sent += sendFrom(pair, pair.sender.ns, { to: pair.receiver.ip, port: 6666, burst: 40000, burstBatch: 200, gapMs: 2 });
  await new Promise(r => setTimeout(r, 1000));
  process.kill(run.pid, 'SIGCONT');
  await new Promise(r => setTimeout(r, 1500));
  const res = await run.stop();
  t.is(res.code, 0, res.stderr);
  const s = stopLine(res.stderr);
  t.true(s.process > 0, `the capture process dropped some: ${s.line}`);
  t.regex(s.line, /dropped by the capture process: netdiag fell too far behind \(a bigger --backlog holds more\)/);
  t.is(s.captured + (s.kernel ?? NaN) + s.process, sent, s.line);
});
