/**
 * Receiver checks against real kernels' behaviour in namespaces this test makes (10.99.0.0/24,
 * 10.98.0.0/24): a sender namespace sends real datagrams; the receiver namespace's facts are
 * collected with `ip netns exec` and judged. Covers what the QEMU lab does not inject: strict
 * rp_filter with an asymmetric route (the kernel drops silently and counts IPReversePathFilter),
 * and a socket bound to another address.
 */
import { isRoot, haveCommand, canNetns, requiring } from './helpers/prereq.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { localExec } from '../src/io/local-exec.js';
import { netnsHostExec } from './helpers/netns.js';
import { collectReceiverFacts } from '../src/checks/host/collect.js';
import { runReceiverChecks } from '../src/checks/receiver/run.js';
import { parseSnmp } from '../src/checks/host/procnet.js';

const test = requiring([
  [isRoot(), 'root'],
  [canNetns(), 'ip netns'],
  [haveCommand('socat'), 'socat'],
]);

const local = localExec({ timeoutMs: 10_000 });
const S = `ndcks${process.pid}`;
const R = `ndckr${process.pid}`;
const G = `ndckg${process.pid}`;
const sh = async (argv: string[]) => {
  const r = await local.run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
};
const inR = (...argv: string[]) => sh(['ip', 'netns', 'exec', R, ...argv]);
const procs: ChildProcess[] = [];

const nsExec = netnsHostExec(R, local);

async function send(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await local.run([
      'sh',
      '-c',
      `echo netconsole-test-${i} | ip netns exec ${S} socat -u - UDP4-SENDTO:10.99.0.1:514,sourceport=6665`,
    ]);
  }
  await new Promise(r => setTimeout(r, 300));
}

function listen(bind: string): { proc: ChildProcess; received: () => string } {
  let out = '';
  const proc = spawn('ip', ['netns', 'exec', R, 'socat', '-u', `UDP4-RECV:514${bind ? `,bind=${bind}` : ''}`, '-'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  proc.stdout.on('data', d => {
    out += String(d);
  });
  procs.push(proc);
  return { proc, received: () => out };
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode === null && p.pid) {
    const done = new Promise(r => p.once('exit', r));
    process.kill(p.pid, 'SIGTERM');
    await done;
  }
}

test.before(async () => {
  for (const ns of [S, R, G]) await sh(['ip', 'netns', 'add', ns]);
  await sh(['ip', 'link', 'add', 'eth0', 'netns', S, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', R]);
  await sh(['ip', 'link', 'add', 'eth1', 'netns', R, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', G]);
  for (const [ns, dev, addr] of [
    [S, 'eth0', '10.99.0.2/24'],
    [R, 'eth0', '10.99.0.1/24'],
    [R, 'eth1', '10.98.0.1/24'],
    [G, 'eth1', '10.98.0.254/24'],
  ] as const) {
    await sh(['ip', '-n', ns, 'addr', 'add', addr, 'dev', dev]);
    await sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
});

test.after.always(async () => {
  for (const p of procs) await stop(p);
  for (const ns of [S, R, G]) await local.run(['ip', 'netns', 'del', ns]);
});

test.serial(
  'netns: listening on all addresses, no firewall, loose routing: every check passes and datagrams arrive',
  async t => {
    const l = listen('');
    await new Promise(r => setTimeout(r, 300));
    await send(3);
    const facts = await collectReceiverFacts(nsExec, { senderIp: '10.99.0.2' });
    const r = runReceiverChecks(facts, { senderIp: '10.99.0.2', receiverIp: '10.99.0.1', port: 514 });
    t.deepEqual(
      r.findings.filter(f => f.severity !== 'info').map(f => f.code),
      [],
      JSON.stringify(r.findings),
    );
    t.regex(l.received(), /netconsole-test-2/);
    t.is(r.checks.find(c => c.id === 'receiver.listening')!.status, 'pass');
    t.regex(r.checks.find(c => c.id === 'receiver.listening')!.detail, /0.0.0.0:514 \(socat\)/);
    await stop(l.proc);
  },
);

test.serial(
  'netns: strict rp_filter with the route back through eth1 drops silently, and the check says so',
  async t => {
    const l = listen('');
    await inR('ip', 'route', 'add', '10.99.0.2/32', 'via', '10.98.0.254', 'dev', 'eth1');
    await inR('sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.eth0.rp_filter=1');
    await new Promise(r => setTimeout(r, 300));
    const before = parseSnmp(await inR('cat', '/proc/net/netstat'))['TcpExt.IPReversePathFilter'] ?? 0;
    await send(3);
    const after = parseSnmp(await inR('cat', '/proc/net/netstat'))['TcpExt.IPReversePathFilter'] ?? 0;
    t.is(l.received(), '', 'the kernel dropped them before the socket');
    t.true(after - before >= 3, `IPReversePathFilter ${before} -> ${after}`);
    const facts = await collectReceiverFacts(nsExec, { senderIp: '10.99.0.2' });
    const r = runReceiverChecks(facts, { senderIp: '10.99.0.2', receiverIp: '10.99.0.1', port: 514 });
    t.deepEqual(
      r.findings.filter(f => f.severity !== 'info').map(f => f.code),
      ['rp-filter-drop'],
    );
    const f = r.findings.find(x => x.code === 'rp-filter-drop')!;
    t.regex(f.summary, /strict rp_filter on eth0: the route back to 10.99.0.2 leaves via eth1/);
    t.true(
      f.evidence.some(e => /IPReversePathFilter: [1-9]/.test(e)),
      f.evidence.join('\n'),
    );
    // Loose mode accepts: the check agrees with the kernel.
    await inR('sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=2', 'net.ipv4.conf.eth0.rp_filter=2');
    await send(1);
    t.regex(l.received(), /netconsole-test-0/);
    const r2 = runReceiverChecks(await collectReceiverFacts(nsExec, { senderIp: '10.99.0.2' }), {
      senderIp: '10.99.0.2',
      receiverIp: '10.99.0.1',
      port: 514,
    });
    t.false(r2.findings.some(x => x.code === 'rp-filter-drop'));
    await inR('ip', 'route', 'del', '10.99.0.2/32');
    await stop(l.proc);
  },
);

test.serial(
  "netns: a socket bound to the other interface's address receives nothing, and the check says so",
  async t => {
    const l = listen('10.98.0.1');
    await new Promise(r => setTimeout(r, 300));
    await send(2);
    t.is(l.received(), '');
    const r = runReceiverChecks(await collectReceiverFacts(nsExec, { senderIp: '10.99.0.2' }), {
      senderIp: '10.99.0.2',
      receiverIp: '10.99.0.1',
      port: 514,
    });
    t.deepEqual(
      r.findings.filter(f => f.severity !== 'info').map(f => f.code),
      ['receiver-bound-elsewhere'],
    );
    t.true(r.counters['Udp.NoPorts']! >= 2, 'the kernel counted them as NoPorts');
    await stop(l.proc);
  },
);
