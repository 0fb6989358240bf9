/**
 * The firewall fix on a host whose rules ufw manages, with the real ufw: in a receiver namespace
 * this test makes (10.99.0.1, a sender namespace at 10.99.0.2 sends real datagrams), ufw runs in a
 * private mount namespace over copies of /etc/ufw and /etc/default/ufw, so the host's ufw files and
 * firewall are never touched. The check's fix must be ufw's command (an iptables -I would be lost
 * at ufw's next reload), and running that fix must let the datagrams through.
 */
import { isRoot, haveCommand, canNetns, requiring } from './helpers/prereq.js';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localExec } from '../src/io/local-exec.js';
import { deliverUdp, linkNamespaces, netnsHostExec } from './helpers/netns.js';
import { collectReceiverFacts } from '../src/checks/host/collect.js';
import { runReceiverChecks } from '../src/checks/receiver/run.js';

const test = requiring([
  [isRoot(), 'root'],
  [canNetns(), 'ip netns'],
  [haveCommand('socat'), 'socat'],
  [haveCommand('ufw'), 'ufw'],
  [haveCommand('unshare'), 'unshare'],
]);

const local = localExec({ timeoutMs: 20_000 });
const S = `ndufs${process.pid}`;
const R = `ndufr${process.pid}`;
let dir = '';
const sh = async (argv: string[]) => {
  const r = await local.run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
};

/** `ufw ARGS` in the receiver namespace, over this test's copies of ufw's files. */
const ufw = (...args: string[]) =>
  sh(
    [
      'ip',
      'netns',
      'exec',
      R,
      'unshare',
      '-m',
      'sh',
      '-c',
      'mount --bind "$D/ufw" /etc/ufw && mount --bind "$D/default-ufw" /etc/default/ufw && exec ufw "$@"',
      'ufw',
      ...args,
    ].map(a => a.replaceAll('$D', dir)),
  );

const nsExec = netnsHostExec(R, local);

const deliver = (n: number) => deliverUdp(local, S, R, n);

async function firewallCheck() {
  const facts = await collectReceiverFacts(nsExec, { senderIp: '10.99.0.2' });
  const r = runReceiverChecks(facts, { senderIp: '10.99.0.2', receiverIp: '10.99.0.1', port: 514 });
  const f = r.findings.find(x => x.code === 'firewall-drop' || x.code === 'firewall-reject');
  return { status: r.checks.find(c => c.id === 'receiver.firewall')?.status, finding: f };
}

/** The words after `ufw` in a fix that is one ufw command. */
const ufwArgs = (hint: string) => {
  const m = /^ufw (.+)$/.exec(hint);
  if (!m) throw new Error(`not a ufw command: ${hint}`);
  return m[1]!.split(' ');
};

test.before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'netdiag-ufw-'));
});

test.beforeEach(async () => {
  // Each case on new namespaces (no rules, no conntrack entries left by the one before: ufw's
  // reset leaves its loaded rules in place) and ufw's files as the package ships them.
  await linkNamespaces(local, S, R);
  rmSync(path.join(dir, 'ufw'), { recursive: true, force: true });
  cpSync('/etc/ufw', path.join(dir, 'ufw'), { recursive: true });
  // No sysctl file and no kernel modules: ufw would load modules for the whole machine.
  writeFileSync(
    path.join(dir, 'default-ufw'),
    readFileSync('/etc/default/ufw', 'utf8').replace(/^IPT_(SYSCTL|MODULES)=.*$/gm, 'IPT_$1=""'),
  );
  await ufw('allow', '22/tcp');
  await ufw('--force', 'enable');
});

test.after.always(async () => {
  for (const ns of [S, R]) await local.run(['ip', 'netns', 'del', ns]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.serial('ufw, default deny incoming: the fix is ufw prepend, and running it lets the datagrams in', async t => {
  t.is(await deliver(3), 0, 'ufw drops them');
  const before = await firewallCheck();
  t.is(before.status, 'fail');
  t.is(before.finding?.code, 'firewall-drop');
  t.is(before.finding?.hint, 'ufw prepend allow proto udp from 10.99.0.2 to any port 514');
  await ufw(...ufwArgs(before.finding!.hint));
  t.is(await deliver(3), 3, 'the fix lets them through');
  t.is((await firewallCheck()).status, 'pass');
});

test.serial('ufw, a deny for the sender ahead of an allow for 514: the prepended allow wins', async t => {
  await ufw('allow', '514/udp');
  await ufw('insert', '1', 'deny', 'from', '10.99.0.2');
  t.is(await deliver(2), 0);
  const before = await firewallCheck();
  t.is(before.finding?.code, 'firewall-drop');
  t.regex(before.finding?.evidence.join('\n') ?? '', /ufw-user-input -s 10.99.0.2\/32 -j DROP/);
  await ufw(...ufwArgs(before.finding!.hint));
  t.is(await deliver(2), 2);
  t.is((await firewallCheck()).status, 'pass');
});

test.serial('ufw reject 514/udp: firewall-reject, and the same fix works', async t => {
  await ufw('reject', '514/udp');
  t.is(await deliver(2), 0);
  const before = await firewallCheck();
  t.is(before.finding?.code, 'firewall-reject');
  await ufw(...ufwArgs(before.finding!.hint));
  t.is(await deliver(2), 2);
});

test.serial("a DROP in ufw's before.rules: the fix points there, not to a ufw rule that could not win", async t => {
  const file = path.join(dir, 'ufw', 'before.rules');
  const text = readFileSync(file, 'utf8');
  // Ahead of ufw's jump to the user's rules.
  writeFileSync(
    file,
    text.replace(/^(# allow all on loopback)/m, '-A ufw-before-input -p udp --dport 514 -j DROP\n\n$1'),
  );
  await ufw('reload');
  t.is(await deliver(2), 0);
  const before = await firewallCheck();
  t.is(before.finding?.code, 'firewall-drop');
  t.regex(
    before.finding?.hint ?? '',
    /^The rule is ufw's own, from \/etc\/ufw\/before.rules: add -A ufw-before-input -p udp -s 10.99.0.2 --dport 514 -j ACCEPT there/,
  );
  // What ufw prepend would do does not help here: the rule comes before the user's.
  await ufw('prepend', 'allow', 'proto', 'udp', 'from', '10.99.0.2', 'to', 'any', 'port', '514');
  t.is(await deliver(2), 0);
});
