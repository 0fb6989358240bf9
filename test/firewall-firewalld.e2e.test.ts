/**
 * The firewall check and its fix on a host whose rules firewalld manages, with the real firewalld
 * (Debian's 1.3, unpacked by scripts/system-deps.sh into /var/cache/netdiag/firewalld, not
 * installed: installed, it would start and take over the machine's firewall). It runs in a
 * receiver namespace this test makes (10.99.0.1; a sender namespace at 10.99.0.2 sends real
 * datagrams), on a private D-Bus (its own dbus-daemon, its socket in a temporary directory), with
 * its system configuration in that directory: the host's firewall, bus and /etc are never touched.
 * The check must name the zone the datagrams went through, its fix must be firewall-cmd's, and
 * running that fix as printed (a shell line, as an administrator pastes it) must let them through.
 */
import { isRoot, haveCommand, canNetns, requiring } from './helpers/prereq.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localExec } from '../src/io/local-exec.js';
import { deliverUdp, linkNamespaces, netnsHostExec } from './helpers/netns.js';
import { collectReceiverFacts } from '../src/checks/host/collect.js';
import { runReceiverChecks } from '../src/checks/receiver/run.js';

const root = process.env.FIREWALLD_ROOT ?? '/var/cache/netdiag/firewalld';
const python = '/usr/bin/python3';
const test = requiring([
  [isRoot(), 'root'],
  [canNetns(), 'ip netns'],
  [haveCommand('socat'), 'socat'],
  [haveCommand('dbus-daemon'), 'dbus-daemon'],
  [haveCommand('nft'), 'nft'],
  [existsSync(python), python],
  [existsSync(path.join(root, 'usr/sbin/firewalld')), `firewalld unpacked in ${root} (scripts/system-deps.sh test)`],
]);

const local = localExec({ timeoutMs: 30_000 });
const S = `ndfws${process.pid}`;
const R = `ndfwr${process.pid}`;
let dir = '';
let bus: ChildProcess | undefined;
let daemon: ChildProcess | undefined;
let daemonLog = '';

const env = () => ({
  ...process.env,
  DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${dir}/bus`,
  PYTHONPATH: path.join(root, 'usr/lib/python3/dist-packages'),
  PATH: `${dir}/bin:${process.env.PATH ?? ''}`,
});

/** A shell line run with this test's firewall-cmd first on PATH (talking to the private bus). */
const run = (line: string) =>
  local.run(['env', ...Object.entries(env()).map(([k, v]) => `${k}=${v}`), 'sh', '-c', line]);
async function shell(line: string): Promise<string> {
  const r = await run(line);
  if (r.code !== 0) throw new Error(`${line}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const firewallCmd = (...args: string[]) => shell(['firewall-cmd', ...args.map(a => `'${a}'`)].join(' '));

async function startFirewalld(backend: 'nftables' | 'iptables') {
  const config = path.join(dir, 'etc');
  rmSync(config, { recursive: true, force: true });
  mkdirSync(config);
  writeFileSync(
    path.join(config, 'firewalld.conf'),
    `DefaultZone=public\nFirewallBackend=${backend}\nIPv6_rpfilter=no\nLogDenied=off\n`,
  );
  daemonLog = '';
  daemon = spawn(
    'ip',
    [
      'netns',
      'exec',
      R,
      python,
      path.join(root, 'usr/sbin/firewalld'),
      '--nofork',
      '--nopid',
      '--system-config',
      config,
      '--default-config',
      path.join(root, 'usr/lib/firewalld'),
      '--log-file',
      path.join(dir, 'firewalld.log'),
    ],
    { env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  daemon.stdout!.on('data', d => (daemonLog += String(d)));
  daemon.stderr!.on('data', d => (daemonLog += String(d)));
  for (let i = 0; i < 100; i++) {
    if (daemon.exitCode !== null) throw new Error(`firewalld exited ${daemon.exitCode}: ${daemonLog}`);
    if ((await run('firewall-cmd --state')).stdout.trim() === 'running') return;
    await new Promise(res => setTimeout(res, 200));
  }
  throw new Error(`firewalld did not start in 20 s: ${daemonLog}`);
}

async function stop(p: ChildProcess | undefined) {
  if (!p || p.exitCode !== null || !p.pid) return;
  const exited = new Promise(r => p.once('exit', r));
  process.kill(p.pid, 'SIGTERM');
  await exited;
}

const deliver = (n: number) => deliverUdp(local, S, R, n);

async function firewallCheck() {
  const exec = netnsHostExec(R, local);
  const facts = await collectReceiverFacts(exec, { senderIp: '10.99.0.2' });
  const r = runReceiverChecks(facts, { senderIp: '10.99.0.2', receiverIp: '10.99.0.1', port: 514 });
  const f = r.findings.find(x => x.code === 'firewall-drop' || x.code === 'firewall-reject');
  return { status: r.checks.find(c => c.id === 'receiver.firewall')?.status, finding: f };
}

const richFix = (zone: string, priority = '') =>
  `firewall-cmd --permanent --zone=${zone} --add-rich-rule='rule ${priority}family="ipv4" source address="10.99.0.2" ` +
  `port port="514" protocol="udp" accept' && firewall-cmd --reload`;

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'netdiag-firewalld-'));
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(
    path.join(dir, 'bin', 'firewall-cmd'),
    `#!/bin/sh\nexec ${python} ${path.join(root, 'usr/bin/firewall-cmd')} "$@"\n`,
    { mode: 0o755 },
  );
  // A system bus of its own: anyone may own and call anything (firewalld's polkit check is
  // skipped when no polkit answers on the bus).
  writeFileSync(
    path.join(dir, 'bus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${dir}/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>\n`,
  );
  bus = spawn('dbus-daemon', ['--nofork', `--config-file=${dir}/bus.conf`], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !existsSync(path.join(dir, 'bus')); i++) await new Promise(r => setTimeout(r, 100));
  if (!existsSync(path.join(dir, 'bus'))) throw new Error('the private dbus-daemon did not start');
});

test.beforeEach(async () => {
  // New namespaces per case: no rules or conntrack entries left from the one before.
  await linkNamespaces(local, S, R);
});

test.afterEach.always(async () => {
  await stop(daemon);
  daemon = undefined;
});

test.after.always(async () => {
  await stop(daemon);
  await stop(bus);
  for (const ns of [S, R]) await local.run(['ip', 'netns', 'del', ns]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.serial("nftables backend, the public zone's reject: firewall-cmd's rich rule, and it works", async t => {
  await startFirewalld('nftables');
  t.is(await deliver(2), 0, 'firewalld rejects them');
  const before = await firewallCheck();
  t.is(before.status, 'fail');
  t.is(before.finding?.code, 'firewall-reject');
  t.regex(before.finding?.summary ?? '', /administratively prohibited/);
  t.regex(before.finding?.evidence.join('\n') ?? '', /table inet firewalld chain filter_IN_public /);
  // The chains it went through to the reject, not the fifty firewalld walks and leaves.
  t.true(
    before.finding?.evidence.includes(
      'path: inet firewalld filter_INPUT -> inet firewalld filter_INPUT_ZONES -> inet firewalld filter_IN_public',
    ),
    before.finding?.evidence.join('\n'),
  );
  t.is(before.finding?.hint, richFix('public'));
  await shell(before.finding!.hint);
  t.is(await deliver(2), 2, 'the fix lets them through');
  t.is((await firewallCheck()).status, 'pass');
});

test.serial('the interface in the drop zone: firewall-drop, the fix names the drop zone', async t => {
  await startFirewalld('nftables');
  await firewallCmd('--permanent', '--zone=drop', '--add-interface=eth0');
  await firewallCmd('--reload');
  t.is(await deliver(2), 0);
  const before = await firewallCheck();
  t.is(before.finding?.code, 'firewall-drop');
  t.is(before.finding?.hint, richFix('drop'));
  await shell(before.finding!.hint);
  t.is(await deliver(2), 2);
  t.is((await firewallCheck()).status, 'pass');
});

test.serial(
  "the sender's address bound to the internal zone: the fix names that zone, not the interface's",
  async t => {
    await startFirewalld('nftables');
    await firewallCmd('--permanent', '--zone=public', '--add-port=514/udp');
    await firewallCmd('--permanent', '--zone=internal', '--add-source=10.99.0.0/24');
    await firewallCmd('--reload');
    t.is(await deliver(2), 0, 'the internal zone does not open 514');
    const before = await firewallCheck();
    t.is(before.finding?.code, 'firewall-reject');
    t.regex(before.finding?.evidence.join('\n') ?? '', /filter_IN_internal/);
    t.is(before.finding?.hint, richFix('internal'));
    await shell(before.finding!.hint);
    t.is(await deliver(2), 2);
    t.is((await firewallCheck()).status, 'pass');
  },
);

test.serial('514/udp open but a rich rule rejects the sender: only a rule of priority -1 wins', async t => {
  await startFirewalld('nftables');
  await firewallCmd('--permanent', '--zone=public', '--add-port=514/udp');
  await firewallCmd(
    '--permanent',
    '--zone=public',
    '--add-rich-rule=rule family="ipv4" source address="10.99.0.2" reject',
  );
  await firewallCmd('--reload');
  t.is(await deliver(2), 0);
  // An accept at the default priority goes into the zone's _allow chain, after _deny: no help.
  await shell(richFix('public'));
  t.is(await deliver(2), 0, 'a rich accept without priority does not win over the reject');
  const before = await firewallCheck();
  t.is(before.finding?.code, 'firewall-reject');
  t.regex(before.finding?.evidence.join('\n') ?? '', /filter_IN_public_deny/);
  t.is(before.finding?.hint, richFix('public', 'priority="-1" '));
  await shell(before.finding!.hint);
  t.is(await deliver(2), 2);
  t.is((await firewallCheck()).status, 'pass');
});

test.serial('iptables backend: the zone found through INPUT_ZONES, and the fix works', async t => {
  await startFirewalld('iptables');
  t.is(await deliver(2), 0);
  const before = await firewallCheck();
  t.is(before.finding?.code, 'firewall-reject');
  t.regex(before.finding?.evidence.join('\n') ?? '', /^iptables filter IN_public .*-A IN_public -j REJECT/m);
  t.is(before.finding?.hint, richFix('public'));
  await shell(before.finding!.hint);
  t.is(await deliver(2), 2);
  t.is((await firewallCheck()).status, 'pass');
});
