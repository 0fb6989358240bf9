/**
 * Root causes over IPv6 and from a target's configfs state, on the real lab: one guest with an
 * IPv6 configfs target per kernel, booted once, each fault made and undone in turn on the running
 * lab (ip6tables and nft inet rules on the log server, the target's `enabled`, `remote_mac` and
 * `remote_port` written in configfs, rsyslog stopped last). Healthy first, with no warning from
 * verify, the checks or `netdiag check --syslog-config` run on the log server. For each fault,
 * `netdiag verify` (run in the log-server namespace, over ssh to the guest's IPv6 address) must
 * name it as its root cause, and the sender and receiver checks (`netdiag check`'s, in-process on
 * facts collected from the two hosts) must find it. The long list runs on 6.17; 6.1 shows the
 * configfs `enabled` state and one REJECT.
 *
 * transmit_errors (6.17): netconsole counts a message netpoll refused to send. netconsole itself
 * skips a device that is administratively down (not counted, and the IPv6 address goes with it)
 * and netpoll does not look at the carrier; what netpoll refuses is a device that is running but
 * detached, which is what suspending the devices does. `pm_test=devices` with
 * `echo freeze > /sys/power/state` suspends them for 5 s and resumes without sleeping, and with
 * `console_suspend` off the kernel's messages of that window go to netconsole and are dropped.
 */
import type { ExecutionContext } from 'ava';
import { guestExec, logServerExec } from './helpers/lab-exec.js';
import { labSuite } from './helpers/lab-suite.js';
import {
  guest,
  inLogServer,
  netdiagArgv,
  run,
  stopRsyslog,
  verifyArgv,
  withLab,
  type LabState,
  type RunResult,
} from './lab-driver.js';
import { collectSenderFacts, collectReceiverFacts } from '../src/checks/host/collect.js';
import { runSenderChecks } from '../src/checks/sender/run.js';
import { runReceiverChecks } from '../src/checks/receiver/run.js';
import type { Finding } from '../src/findings/finding.js';

const { test, tag, n, boots, suiteStart } = labSuite('c');

interface VerifyJson {
  ok: boolean;
  senderIp: string;
  rootCause: { code: string; summary: string; hint: string } | null;
  checks: Array<{ id: string; status: string; detail: string; findings: string[] }>;
}

/** `netdiag verify --json` in the log-server namespace against guest 1, over ssh to its IPv6 address. */
async function verify(s: LabState): Promise<VerifyJson> {
  const [cmd, ...argv] = verifyArgv(s, [
    '--sender',
    `root@${s.ssh.host}`,
    '--identity',
    s.ssh.identityFile,
    '--ssh-option',
    `UserKnownHostsFile=${s.ssh.knownHostsFile}`,
    '--timeout',
    '5',
    '--json',
  ]);
  const r = await run(cmd!, argv, 120_000);
  try {
    return JSON.parse(r.stdout) as VerifyJson;
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stderr.trim()}`);
  }
}

/** The sender and receiver checks on facts collected from the lab, for its IPv6 target. */
async function check(s: LabState): Promise<{ findings: Finding[]; errors: string[]; detail: string }> {
  const receiverIp = s.receiver.ip6;
  const senderIp = s.netconsole.srcIp;
  const sf = await collectSenderFacts(guestExec(s), { remoteIp: receiverIp });
  const sender = runSenderChecks(sf, { receiverIp, receiverMacs: [s.receiver.mac] });
  const rf = await collectReceiverFacts(logServerExec(s), { senderIp });
  const receiver = runReceiverChecks(rf, { senderIp, receiverIp, ...(sender.target ? { target: sender.target } : {}) });
  const findings = [...sender.findings, ...receiver.findings];
  return {
    findings,
    errors: findings
      .filter(f => f.severity === 'error')
      .map(f => f.code)
      .sort(),
    detail: JSON.stringify(findings.map(f => [f.code, f.severity, f.summary, f.evidence])),
  };
}

/**
 * A fault: verify's root cause is `code` (its summary matching `summary`), the one failing hop;
 * the checks' errors are `checkErrors`.
 */
async function expectCause(
  t: ExecutionContext,
  s: LabState,
  what: string,
  code: string,
  summary: RegExp,
  checkErrors: string[] = [code],
) {
  const v = await verify(s);
  const notPass = JSON.stringify(v.checks.filter(c => c.status !== 'pass' && c.status !== 'skip'));
  t.false(v.ok, `${what}: verify fails`);
  t.is(v.rootCause?.code, code, `${what}: ${notPass}`);
  t.regex(v.rootCause?.summary ?? '', summary, what);
  t.is(v.checks.filter(c => c.status === 'fail').length, 1, `${what}: one failing hop: ${notPass}`);
  t.is(v.senderIp, s.netconsole.srcIp, `${what}: the target's IPv6 source`);
  const c = await check(s);
  t.deepEqual(c.errors, checkErrors, `${what}: check: ${c.detail}`);
}

/** `netdiag check` in the log-server namespace, for the IPv6 target, with the lab's rsyslog configuration. */
function checkCli(s: LabState): Promise<RunResult> {
  const [cmd, ...argv] = netdiagArgv(s, 'check', ['--sender-ip', s.netconsole.srcIp]);
  return run(cmd!, argv, 60_000);
}

const ns = (s: LabState, ...argv: string[]) => inLogServer(s.name, argv);
const cfs = (s: LabState) => s.netconsole.targets[0]!.configfsPath!;

async function nftTable(s: LabState, rule: string): Promise<void> {
  await ns(s, 'nft', 'add', 'table', 'inet', 'ndcause');
  await ns(
    s,
    'nft',
    'add',
    'chain',
    'inet',
    'ndcause',
    'input',
    '{ type filter hook input priority 0; policy accept; }',
  );
  const r = await ns(s, 'nft', 'add', 'rule', 'inet', 'ndcause', 'input', ...rule.split(' '));
  if (r.code !== 0) throw new Error(`nft: ${r.stderr}`);
}

/** Runs a command on guest 1, failing the test on a non-zero exit. */
async function onGuest(s: LabState, cmd: string): Promise<string> {
  const r = await guest(s.name, cmd);
  if (r.code !== 0) throw new Error(`guest: ${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

test.serial('6.17, IPv6 configfs target: firewall, configfs and listening faults are the root cause', async t => {
  // Eleven verify runs and ten fact collections on one boot: 10 minutes at load 16 on 2 cores.
  t.timeout(600_000);
  await withLab(
    t,
    n('v6'),
    ['--kernel', '6.17', '--ipv6', '--configfs'],
    async s => {
      t.is(s.netconsole.srcIp, 'fd99::2');
      // Healthy means no warning either: the initscripts service takes IPv4 only, so the lab writes
      // no /etc/sysconfig/netconsole for an IPv6 target (its IPv6 SYSLOGADDR was a malformed file).
      t.is(s.sysconfig, null);
      t.is((await guest(s.name, 'test -e /etc/sysconfig/netconsole')).code, 1, 'no sysconfig file on the guest');
      const ok = await verify(s);
      t.true(ok.ok, JSON.stringify(ok.checks.filter(c => c.status !== 'pass')));
      t.deepEqual(
        ok.checks.filter(c => c.status !== 'pass').map(c => `${c.id}: ${c.status}: ${c.detail}`),
        [],
        'healthy: every verify step passes',
      );
      const healthy = await check(s);
      t.deepEqual(
        healthy.findings.filter(f => f.severity !== 'info').map(f => f.code),
        [],
        `healthy: no error or warning from the checks: ${healthy.detail}`,
      );
      // netdiag check itself on the log server, told where the lab's rsyslog configuration is.
      const cli = await checkCli(s);
      t.is(cli.code, 0, cli.stdout + cli.stderr);
      t.deepEqual(cli.stdout.match(/^ *\[(?!ok {2}\]).*$/gm), null, 'every check of the receiver passes');
      t.regex(
        cli.stdout,
        new RegExp(
          `\\[ok {2}\\] syslog daemon: rsyslog: UDP 10\\.99\\.0\\.1:514, \\[fd99::1\\]:514; messages land in ${s.rsyslog.logFile}`,
        ),
      );

      // ip6tables: DROP, then REJECT with two ICMPv6 codes.
      const port = String(s.receiver.port);
      const v6rule = ['INPUT', '-p', 'udp', '--dport', port];
      for (const [target, code, summary] of [
        [['-j', 'DROP'], 'firewall-drop', /^ip6tables drops .*--dport 514 -j DROP \(counter \+\d+ during the test\)/],
        [
          ['-j', 'REJECT', '--reject-with', 'icmp6-adm-prohibited'],
          'firewall-reject',
          /^ip6tables rejects the datagrams with ICMPv6 administratively prohibited \(type 1 code 1\)/,
        ],
        [
          ['-j', 'REJECT', '--reject-with', 'icmp6-port-unreachable'],
          'firewall-reject',
          /^ip6tables rejects the datagrams with ICMPv6 port unreachable \(type 1 code 4\)/,
        ],
      ] as const) {
        await ns(s, 'ip6tables', '-I', ...v6rule, ...target);
        await expectCause(t, s, `ip6tables ${target.join(' ')}`, code, summary);
        await ns(s, 'ip6tables', '-D', ...v6rule, ...target);
      }
      // nft inet: drop; reject with icmpv6 admin-prohibited; reject (icmpx port unreachable for IPv6).
      for (const [rule, code, summary] of [
        [`udp dport ${port} counter drop`, 'firewall-drop', /^nft drops the datagrams/],
        [
          `udp dport ${port} counter reject with icmpv6 type admin-prohibited`,
          'firewall-reject',
          /^nft rejects the datagrams with ICMPv6 administratively prohibited \(type 1 code 1\)/,
        ],
        [
          `udp dport ${port} counter reject`,
          'firewall-reject',
          /^nft rejects the datagrams with ICMPv6 port unreachable \(type 1 code 4\)/,
        ],
      ] as const) {
        await nftTable(s, rule);
        await expectCause(t, s, `nft ${rule}`, code, summary);
        await ns(s, 'nft', 'delete', 'table', 'inet', 'ndcause');
      }

      // The target disabled in configfs: nothing is sent.
      await onGuest(s, `echo 0 > ${cfs(s)}/enabled`);
      await expectCause(t, s, 'enabled 0', 'netconsole-target-disabled', /^configfs target target1 is disabled$/);
      // Another remote MAC, written while disabled, then enabled: on the wire to the wrong MAC.
      await onGuest(s, `echo 02:99:de:ad:be:ef > ${cfs(s)}/remote_mac && echo 1 > ${cfs(s)}/enabled`);
      await expectCause(t, s, 'wrong remote MAC', 'dst-mac-mismatch', /addressed to 02:99:de:ad:be:ef/, [
        'stale-remote-mac',
      ]);
      const mac = await check(s);
      t.true(
        mac.findings.some(f => f.code === 'stale-remote-mac' && f.evidence.join('\n').includes('02:99:de:ad:be:ef')),
        `wrong MAC: the checks see the MAC in use: ${mac.detail}`,
      );
      await onGuest(
        s,
        `echo 0 > ${cfs(s)}/enabled && echo ${s.receiver.mac} > ${cfs(s)}/remote_mac && echo 1 > ${cfs(s)}/enabled`,
      );
      t.true((await verify(s)).ok, 'healthy again');

      // Another remote port (the lab's --wrong-port, made in configfs): ICMPv6 port unreachable.
      await onGuest(s, `echo 0 > ${cfs(s)}/enabled && echo 6666 > ${cfs(s)}/remote_port && echo 1 > ${cfs(s)}/enabled`);
      await expectCause(
        t,
        s,
        'wrong port',
        'dst-port-mismatch',
        /sends to udp\/6666, but this host receives on udp\/514/,
        ['receiver-not-listening', 'syslog-port-mismatch'],
      );
      await onGuest(
        s,
        `echo 0 > ${cfs(s)}/enabled && echo ${s.receiver.port} > ${cfs(s)}/remote_port && echo 1 > ${cfs(s)}/enabled`,
      );

      // Nothing listening: rsyslog stopped (its configuration stays: verify and the checks say it does not run).
      t.true(await stopRsyslog(s), 'rsyslog exited within 20 s of SIGTERM');
      await expectCause(t, s, 'rsyslog stopped', 'syslog-not-running', /rsyslog/);
    },
    boots,
  );
});

test.serial('6.17: transmit_errors counted while the devices are suspended; check and verify show it', async t => {
  await withLab(
    t,
    n('tx'),
    ['--kernel', '6.17', '--configfs'],
    async s => {
      const file = `${cfs(s)}/transmit_errors`;
      t.is((await onGuest(s, `cat ${file}`)).trim(), '0');
      // Admin down: netconsole skips the device without trying (not counted). One ssh command, over eth0.
      const down = await onGuest(
        s,
        `ip link set eth0 down; echo '<6>while-down' > /dev/kmsg; ip link set eth0 up; cat ${file}`,
      );
      t.is(down.trim(), '0', 'a message logged while eth0 is down is not counted');
      // Devices suspended for pm_test's 5 s (no real sleep), the console kept on during it.
      const out = await onGuest(
        s,
        `echo N > /sys/module/printk/parameters/console_suspend && echo devices > /sys/power/pm_test && ` +
          `echo freeze > /sys/power/state; echo none > /sys/power/pm_test; cat ${file}`,
      );
      const counted = Number(out.trim().split('\n').pop());
      t.true(counted >= 1, `transmit_errors after the suspend window: ${out}`);
      t.log(`transmit_errors after pm_test devices: ${counted}`);

      const c = await check(s);
      const f = c.findings.find(x => x.code === 'netconsole-transmit-errors');
      t.is(f?.severity, 'warning', c.detail);
      t.true(f?.evidence.includes(`${file}: ${counted}`), c.detail);
      t.deepEqual(c.errors, [], c.detail);

      // verify: the message of the test arrives (a PASS); the old count is shown, none rose during the test.
      const v = await verify(s);
      t.true(v.ok, JSON.stringify(v.checks.filter(x => x.status !== 'pass')));
      const side = v.checks.find(x => x.id === 'sender.configfs');
      t.true(side?.findings.includes('netconsole-transmit-errors'), JSON.stringify(side));
      t.regex(side?.detail ?? '', new RegExp(`transmit_errors ${counted}\\)`));
      const hop = v.checks.find(x => x.id === 'verify.transmit');
      t.is(hop?.status, 'pass', JSON.stringify(hop));
      t.regex(hop?.detail ?? '', new RegExp(`^transmit_errors target1 ${counted}, none during the test$`));
    },
    boots,
  );
});

test.serial('6.1, IPv6 configfs target: disabled, and an ip6tables REJECT, are the root cause', async t => {
  await withLab(
    t,
    n('v61'),
    ['--kernel', '6.1', '--ipv6', '--configfs'],
    async s => {
      t.is(s.kernelSeries, '6.1');
      const ok = await verify(s);
      t.true(ok.ok, JSON.stringify(ok.checks.filter(c => c.status !== 'pass')));
      t.notRegex(ok.checks.find(c => c.id === 'sender.configfs')?.detail ?? '', /transmit_errors/, '6.1 has none');
      const rule = ['INPUT', '-p', 'udp', '--dport', String(s.receiver.port), '-j', 'REJECT'];
      const reject = [...rule, '--reject-with', 'icmp6-adm-prohibited'];
      await ns(s, 'ip6tables', '-I', ...reject);
      await expectCause(
        t,
        s,
        'ip6tables REJECT',
        'firewall-reject',
        /ICMPv6 administratively prohibited \(type 1 code 1\)/,
      );
      await ns(s, 'ip6tables', '-D', ...reject);
      await onGuest(s, `echo 0 > ${cfs(s)}/enabled`);
      await expectCause(t, s, 'enabled 0', 'netconsole-target-disabled', /^configfs target target1 is disabled$/);
    },
    boots,
  );
});

test.serial('no lab of this run is left; boot times', async t => {
  const nsList = (await run('ip', ['netns', 'list'])).stdout;
  t.false(new RegExp(`^ndlab-${tag}`, 'm').test(nsList), nsList);
  t.log(`boots: ${JSON.stringify(boots)}; suite ${Math.round((Date.now() - suiteStart) / 1000)} s`);
});
