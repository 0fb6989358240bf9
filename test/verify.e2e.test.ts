/**
 * netdiag verify against the real lab: a Debian kernel in QEMU sending netconsole to a log-server
 * namespace with rsyslog. verify runs inside that namespace as it would on a log server, reaches
 * the guest over real OpenSSH, captures with libpcap, and must name each injected fault as its
 * root cause (and pass the healthy setups). Receiver-side faults are real iptables/nft rules and
 * a stopped rsyslog in the namespace; sender-side faults are boot options of the lab.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { haveCommand, requiring } from './helpers/prereq.js';
import {
  guest,
  labRequirements,
  run,
  senderArgs,
  stopRsyslog,
  verifyOnLab,
  endProcess,
  rsyslogWith,
  labNames,
  withLab,
  type LabState,
} from './lab-driver.js';

const test = requiring(labRequirements([haveCommand('iptables'), 'iptables'], [haveCommand('nft'), 'nft (nftables)']));
/** Lab names with this run's tag: another checkout's tests may have a lab up at the same time. */
const lab = labNames('v').n;

interface VerifyJson {
  ok: boolean;
  senderIp: string;
  iface: string;
  port: number;
  rootCause: { code: string; summary: string; hint: string } | null;
  roundTripMs: number | null;
  elapsedMs: number;
  checks: Array<{ id: string; status: string; detail: string; findings: string[] }>;
  /** The sender's other targets on this host, when it has several. */
  targets?: Array<{ target: string; port: number; ok: boolean; rootCause: { code: string } | null }>;
}

/** The datagram's hops on this host, in the order verify judges them. */
const HOPS = [
  'verify.wire',
  'verify.mac',
  'verify.dst-ip',
  'verify.port',
  'verify.rp-filter',
  'verify.firewall',
  'verify.socket',
  'verify.daemon',
  'verify.log',
];

/** Checks beside the path (src/verify/judge.ts BESIDE): shown, never the root cause. */
const BESIDE = new Set(['sender.conflict', 'sender.loglevel', 'sender.sysrq', 'verify.counters', 'receiver.selinux']);

/**
 * A fault: one failing hop, its root cause; every hop after it not reached. A check beside the
 * path may fail too (a console log level of 1 beside the hop that saw only the sysrq line), but
 * only with the root cause's own finding: never another story.
 */
function oneRootCause(
  t: { is(a: unknown, b: unknown, m?: string): void; true(a: boolean, m?: string): void },
  j: VerifyJson,
): void {
  const fails = j.checks.filter(c => c.status === 'fail' && !BESIDE.has(c.id));
  t.is(fails.length, 1, `one failing hop: ${JSON.stringify(fails)}`);
  for (const c of j.checks.filter(c => c.status === 'fail' && BESIDE.has(c.id)))
    t.true(c.findings.includes(j.rootCause?.code ?? ''), `${c.id} fails beside the path: ${JSON.stringify(c)}`);
  const at = HOPS.indexOf(fails[0]?.id ?? '');
  for (const id of at >= 0 ? HOPS.slice(at + 1) : [])
    t.is(j.checks.find(c => c.id === id)?.status, 'skip', `${id} not reached`);
}

/** A PASS: no check failed, and the marker is in the file. */
function passed(
  t: {
    is(a: unknown, b: unknown, m?: string): void;
    true(a: boolean, m?: string): void;
    deepEqual(a: unknown, b: unknown, m?: string): void;
  },
  r: { code: number; json: VerifyJson },
): void {
  t.is(r.code, 0, JSON.stringify(r.json.rootCause));
  t.true(r.json.ok);
  t.deepEqual(
    r.json.checks.filter(c => c.status === 'fail' || c.status === 'skip'),
    [],
    'a PASS has no FAIL line',
  );
  t.is(r.json.checks.find(c => c.id === 'verify.log')?.status, 'pass');
}

async function verify(s: LabState, extra: string[] = []): Promise<{ code: number; json: VerifyJson; stderr: string }> {
  const r = await verifyOnLab(s, [
    ...senderArgs(s.ssh, s.sender.mgmtIp ?? s.ssh.host),
    '--timeout',
    '8',
    '--json',
    ...extra,
  ]);
  let json: VerifyJson;
  try {
    json = JSON.parse(r.stdout) as VerifyJson;
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stderr.trim()}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

const times: string[] = [];
test.after.always(() => {
  if (times.length) console.log(`verify times (start to verdict): ${times.join(', ')}`);
});

test.serial('healthy lab passes; then each receiver-side fault is the root cause', async t => {
  await withLab(t, lab('fy'), [], async s => {
    const ok = await verify(s);
    passed(t, ok);
    t.true(ok.json.roundTripMs !== null && ok.json.roundTripMs < 5000);
    times.push(`healthy ${ok.json.elapsedMs} ms`);
    t.true(readFileSync(s.rsyslog.logFile!, 'utf8').includes('netdiag-verify-'), "the marker is in rsyslog's file");

    const ns = s.namespaces.logServer;
    const inNs = (...argv: string[]) => run('ip', ['netns', 'exec', ns, ...argv]);
    // iptables DROP: the rule, with its counter rising.
    await inNs('iptables', '-I', 'INPUT', '-p', 'udp', '--dport', String(s.receiver.port), '-j', 'DROP');
    const drop = await verify(s);
    t.is(drop.code, 1);
    t.is(drop.json.rootCause?.code, 'firewall-drop');
    t.regex(drop.json.rootCause!.summary, /iptables drops .*--dport 514 -j DROP \(counter \+\d+ during the test\)/);
    await inNs('iptables', '-D', 'INPUT', '-p', 'udp', '--dport', String(s.receiver.port), '-j', 'DROP');
    // nft reject in a table of its own.
    await inNs('nft', 'add', 'table', 'inet', 'ndtest');
    await inNs(
      'nft',
      'add',
      'chain',
      'inet',
      'ndtest',
      'input',
      '{ type filter hook input priority 0; policy accept; }',
    );
    await inNs(
      'nft',
      'add',
      'rule',
      'inet',
      'ndtest',
      'input',
      'udp',
      'dport',
      String(s.receiver.port),
      'counter',
      'reject',
    );
    const rej = await verify(s);
    t.is(rej.json.rootCause?.code, 'firewall-reject');
    t.regex(rej.json.rootCause!.summary, /nft rejects the datagrams with ICMP port unreachable \(type 3 code 3\)/);
    await inNs('nft', 'delete', 'table', 'inet', 'ndtest');
    // A policy DROP with an ACCEPT under a rate limit (one datagram, then two a minute): the marker
    // gets through, the sysrq line after it does not. A crash's burst would be cut: not a PASS.
    const port = String(s.receiver.port);
    const limit = [
      '-p',
      'udp',
      '--dport',
      port,
      '-m',
      'limit',
      '--limit',
      '2/min',
      '--limit-burst',
      '1',
      '-j',
      'ACCEPT',
    ];
    // As a real firewall: the replies of this host's own connections (verify's ssh) come in.
    const replies = ['-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'];
    await inNs('iptables', '-A', 'INPUT', ...replies);
    await inNs('iptables', '-A', 'INPUT', ...limit);
    await inNs('iptables', '-P', 'INPUT', 'DROP');
    const cut = await verify(s);
    await inNs('iptables', '-P', 'INPUT', 'ACCEPT');
    await inNs('iptables', '-D', 'INPUT', ...limit);
    await inNs('iptables', '-D', 'INPUT', ...replies);
    t.is(cut.code, 1);
    t.is(cut.json.rootCause?.code, 'not-in-log', JSON.stringify(cut.json.checks.filter(c => c.status !== 'pass')));
    t.regex(cut.json.rootCause!.summary, /the marker reached .* but the sysrq line after it did not/);
    // Back to healthy.
    t.is((await verify(s)).code, 0);
    // rsyslog stopped: ICMP port unreachable; its configuration is fine, it does not run.
    // Until the process is gone: while it shuts down it is still in the process list with its
    // socket closed (then "nothing listens" is the truth; on the CI run at load ~3 it took > 0.5 s).
    if (s.rsyslog.pid) t.true(await stopRsyslog(s), 'rsyslog exited within 20 s of SIGTERM');
    const down = await verify(s);
    t.is(
      down.json.rootCause?.code,
      'syslog-not-running',
      JSON.stringify(down.json.checks.filter(c => c.status !== 'pass')),
    );
    t.regex(down.json.rootCause!.hint, /^systemctl start rsyslog/);
    oneRootCause(t, down.json);
  });
});

const senderFaults: Array<[string, string[], string]> = [
  ['wrong remote MAC', ['--remote-mac', 'wrong'], 'dst-mac-mismatch'],
  ['netconsole not loaded', ['--no-netconsole'], 'netconsole-not-loaded'],
  [
    "receiver behind a router, configured with the receiver's MAC",
    ['--router', '--router-mac', 'receiver'],
    'router-mac-required',
  ],
  ['console log level too low', ['--loglevel', '1'], 'console-loglevel-low'],
  ['link down', ['--link-down'], 'sender-device-down'],
  [
    'sender targets another port (the port this host receives on is the expected one)',
    ['--wrong-port'],
    'dst-port-mismatch',
  ],
  ['wrong remote IP with the right MAC', ['--remote-ip', 'wrong'], 'dst-ip-mismatch'],
  ['rsyslog bound to 127.0.0.1 only', ['--syslog', 'loopback'], 'receiver-bound-elsewhere'],
  // With the daemon off the lab writes no configuration: nothing says which daemon should listen.
  ['no syslog daemon and no configuration', ['--syslog', 'off'], 'receiver-not-listening'],
  [
    "REJECT with icmp-host-prohibited (CentOS's stock rule)",
    ['--firewall', 'iptables-reject-host-prohibited'],
    'firewall-reject',
  ],
  ['REJECT with icmp-admin-prohibited', ['--firewall', 'iptables-reject-admin-prohibited'], 'firewall-reject'],
  ['nft reject with admin-prohibited', ['--firewall', 'nft-reject-admin-prohibited'], 'firewall-reject'],
  ["strict rp_filter, netconsole's source on the management network", ['--rp-filter'], 'rp-filter-drop'],
  ['iptables REJECT on the log server (lab option)', ['--firewall', 'iptables-reject'], 'firewall-reject'],
  ['nft DROP on the log server (lab option)', ['--firewall', 'nft-drop'], 'firewall-drop'],
  ['rsyslog without imudp', ['--syslog', 'no-imudp'], 'receiver-not-listening'],
];
/** The ICMP answer a REJECT's root cause names (as the wire analysis does), by the lab's firewall option. */
const REJECT_ANSWERS: Record<string, RegExp> = {
  'iptables-reject-host-prohibited': /rejects the datagrams with ICMP host prohibited \(type 3 code 10\)/,
  'iptables-reject-admin-prohibited': /rejects the datagrams with ICMP administratively prohibited \(type 3 code 13\)/,
  'nft-reject-admin-prohibited': /rejects the datagrams with ICMP administratively prohibited \(type 3 code 13\)/,
  'iptables-reject': /rejects the datagrams with ICMP port unreachable \(type 3 code 3\)/,
};
/** The fix each root cause must give, where it says more than the catalog. */
const FIXES: Record<string, RegExp> = {
  'dst-port-mismatch': /Either on the sender: send to 514 .* or on this host: .*port="6666"/,
  'dst-ip-mismatch': /set the target IP to 10\.99\.0\.1/,
  'receiver-bound-elsewhere': /remove address="127\.0\.0\.1"/,
  'syslog-not-running': /^systemctl start rsyslog/,
};
for (const [i, [what, opts, code]] of senderFaults.entries()) {
  test.serial(`fault: ${what} → ${code}`, async t => {
    await withLab(t, lab(`${i}`), opts, async s => {
      const r = await verify(s);
      t.is(r.code, 1, r.stderr);
      t.false(r.json.ok);
      t.is(r.json.rootCause?.code, code, JSON.stringify(r.json.checks.filter(c => c.status !== 'pass')));
      oneRootCause(t, r.json);
      if (FIXES[code]) t.regex(r.json.rootCause!.hint, FIXES[code]);
      const fw = opts[opts.indexOf('--firewall') + 1];
      if (opts.includes('--firewall') && REJECT_ANSWERS[fw!]) t.regex(r.json.rootCause!.summary, REJECT_ANSWERS[fw!]!);
      // The datagrams' source is the netconsole target's, not the address ssh reached.
      if (s.sender.mgmtIp) t.is(r.json.senderIp, s.netconsole.srcIp);
    });
  });
}

// Setups that work, some with a warning verify must still show.
const healthy: Array<[string, string[], string | undefined]> = [
  ['extended mode on a bond', ['--mode', 'extended', '--bond'], undefined],
  ["configfs target, behind a router with the router's MAC", ['--configfs', '--router'], undefined],
  ['broadcast remote MAC', ['--remote-mac', 'broadcast'], 'verify.mac'],
  ['/etc/sysconfig/netconsole contradicts what was loaded', ['--sysconfig-conflict'], 'config-conflict'],
  ['two targets to two ports of this host', ['--two-targets'], undefined],
  ['IPv6 target (6.17)', ['--kernel', '6.17', '--ipv6'], undefined],
  ['spec without local IP on 6.17', ['--kernel', '6.17', '--no-local-ip'], undefined],
];
for (const [i, [what, opts, warning]] of healthy.entries()) {
  test.serial(`works: ${what} passes${warning ? `, warning at ${warning}` : ''}`, async t => {
    await withLab(t, lab(`ok${i}`), opts, async s => {
      const r = await verify(s);
      passed(t, r);
      t.is(r.json.senderIp, s.netconsole.srcIp);
      if (warning) {
        const warned = r.json.checks.filter(c => c.status === 'warn');
        t.true(
          warned.some(c => c.id === warning || c.findings.includes(warning)),
          JSON.stringify(warned),
        );
      } else {
        if (opts.includes('--two-targets'))
          t.deepEqual(
            r.json.targets?.map(x => [x.target, x.ok]),
            [[`eth0 -> ${s.receiver.ip}:5514`, true]],
            'the second target judged too',
          );
        // No false alarm: two targets to two ports of one server are two targets, not a conflict.
        t.deepEqual(
          r.json.checks.filter(c => c.findings.includes('config-conflict')),
          [],
          'no config-conflict',
        );
      }
    });
  });
}

/**
 * A remote-logging rsyslog as administrators write one: the UDP input bound to a ruleset that
 * writes one file per host through a dynaFile template, behind a condition. Replaces the lab's
 * rsyslog (stopped) with one started here; returns its PID, which the caller ends.
 */
function perHostRsyslog(s: LabState, condition: string, dir: string): Promise<number> {
  return rsyslogWith(s, [
    `template(name="PerHost" type="string" string="${dir}/%HOSTNAME%/%$YEAR%-kern.log")`,
    'ruleset(name="remote") {',
    `    if ${condition} then {`,
    '        action(type="omfile" dynaFile="PerHost" dirCreateMode="0755")',
    '    }',
    '    stop',
    '}',
    `input(type="imudp" address="${s.receiver.ip}" port="${s.receiver.port}" ruleset="remote")`,
  ]);
}

// Found on the lab by hand: with this configuration verify said PASS (the log file unknown) while
// rsyslog wrote nothing, because netconsole's messages carry no <PRI> and arrive as user.notice.
test.serial(
  'rsyslog writing per-host files only for facility kern, or program name kernel: FAIL syslog-filtered; for user: PASS, in the per-host file',
  async t => {
    await withLab(t, lab('dyn'), [], async s => {
      t.true(await stopRsyslog(s), 'the lab rsyslog stopped');
      const dir = path.join(path.dirname(s.rsyslog.configFile!), 'remote');
      let pid = await perHostRsyslog(s, '$syslogfacility-text == "kern"', dir);
      try {
        const r = await verify(s);
        t.is(r.code, 1, r.stderr);
        t.is(r.json.rootCause?.code, 'syslog-filtered', JSON.stringify(r.json.checks.filter(c => c.status !== 'pass')));
        oneRootCause(t, r.json);
        t.false(existsSync(dir), 'rsyslog wrote nothing');
      } finally {
        await endProcess(pid);
      }
      // By program name: netconsole's plain lines with printk timestamps (the guest's
      // /sys/module/printk/parameters/time is Y) have none, so rsyslog writes nothing either.
      pid = await perHostRsyslog(s, "$programname == 'kernel'", dir);
      try {
        const r = await verify(s);
        t.is(r.code, 1, r.stderr);
        t.is(r.json.rootCause?.code, 'syslog-filtered', JSON.stringify(r.json.checks.filter(c => c.status !== 'pass')));
        t.regex(r.json.rootCause?.summary ?? '', /without a program name/);
        t.false(existsSync(dir), 'rsyslog wrote nothing');
      } finally {
        await endProcess(pid);
      }
      pid = await perHostRsyslog(s, '$syslogfacility-text == "user"', dir);
      try {
        const r = await verify(s);
        passed(t, r);
        const file = r.json.checks.find(c => c.id === 'verify.log')?.detail ?? '';
        t.regex(file, new RegExp(`the marker is in ${dir}/[^/]+/\\d{4}-kern\\.log$`));
        t.true(readdirSync(dir).length === 1, 'one host directory');
      } finally {
        await endProcess(pid);
      }
    });
  },
);

// The log file cannot tell which copy of the marker it got: another target's, or the sender's
// syslog daemon's, must not pass for the tested one's.
test.serial('fault: two targets to two ports, nft DROP on the first only: FAIL naming that target', async t => {
  await withLab(t, lab('tt'), ['--two-targets', '--firewall', 'nft-drop'], async s => {
    const r = await verify(s);
    t.is(r.code, 1, r.stderr);
    t.is(r.json.rootCause?.code, 'firewall-drop', JSON.stringify(r.json.checks.filter(c => c.status !== 'pass')));
    t.regex(r.json.rootCause!.summary, new RegExp(`^eth0 -> ${s.receiver.ip.replace(/\./g, '\\.')}:514: nft drops`));
    oneRootCause(t, r.json);
    // The other target's copy reached the file; it works and says so.
    t.deepEqual(
      r.json.targets?.map(x => [x.target, x.ok]),
      [[`eth0 -> ${s.receiver.ip}:5514`, true]],
    );
    const marker = /marker (netdiag-verify-[0-9a-f]+)/.exec(r.json.checks[0]!.detail)?.[1] ?? '';
    t.true(marker !== '' && readFileSync(s.rsyslog.logFile!, 'utf8').includes(marker), 'the marker came by 5514');
    // The second target moved to a port another program receives on (netconsd's 6666 here a
    // socat): not the syslog daemon's, so not judged; the first is still the root cause.
    const t2 = s.netconsole.targets[1]?.configfsPath ?? '/sys/kernel/config/netconsole/target2';
    const moved = await guest(
      s.name,
      `echo 0 > ${t2}/enabled && echo 6666 > ${t2}/remote_port && echo 1 > ${t2}/enabled`,
    );
    t.is(moved.code, 0, moved.stderr);
    const other = spawn('ip', ['netns', 'exec', s.namespaces.logServer, 'socat', '-u', 'UDP4-RECV:6666', '-'], {
      stdio: 'ignore',
    });
    try {
      const r2 = await verify(s);
      t.is(r2.json.rootCause?.code, 'firewall-drop');
      t.is(r2.json.targets, undefined, 'a target to another program is not judged');
    } finally {
      other.kill();
    }
  });
});

test.serial(
  "fault: console log level too low while the sender's syslog daemon forwards the kernel log over UDP",
  async t => {
    await withLab(t, lab('fwd'), ['--loglevel', '1'], async s => {
      // busybox syslogd and klogd on the guest: every kernel message, the marker too, as syslog to 514.
      const fwd = await guest(s.name, `syslogd -R ${s.receiver.ip}:514 -O /dev/null && klogd`);
      t.is(fwd.code, 0, fwd.stderr);
      const r = await verify(s);
      t.is(r.code, 1, r.stderr);
      t.is(r.json.rootCause?.code, 'console-loglevel-low', JSON.stringify(r.json.checks));
      t.regex(r.json.checks.find(c => c.id === 'verify.log')?.detail ?? '', /the sender's syslog daemon's copy/);
      // The forwarded copy is in the file: the test proves netconsole alone.
      const marker = /marker (netdiag-verify-[0-9a-f]+)/.exec(r.json.checks[0]!.detail)?.[1] ?? '';
      t.true(marker !== '' && readFileSync(s.rsyslog.logFile!, 'utf8').includes(marker), 'the syslog copy arrived');
    });
  },
);

test.serial(
  'fault (6.17): the configfs target re-pointed at another host, sysconfig left as it was: both MAC and IP named',
  async t => {
    await withLab(t, lab('else'), ['--kernel', '6.17', '--configfs'], async s => {
      const other = s.receiver.ip.replace(/\.\d+$/, '.50');
      const moved = await guest(
        s.name,
        `cd /sys/kernel/config/netconsole/target1 && echo 0 > enabled && echo ${other} > remote_ip && echo 02:99:00:00:00:50 > remote_mac && echo 1 > enabled`,
      );
      t.is(moved.code, 0, moved.stderr);
      const r = await verify(s);
      t.is(r.code, 1, r.stderr);
      t.is(r.json.rootCause?.code, 'dst-mac-mismatch', JSON.stringify(r.json.checks));
      t.regex(
        r.json.rootCause!.summary,
        new RegExp(`another host, ${other.replace(/\./g, '\\.')} at 02:99:00:00:00:50`),
      );
      t.true(r.json.rootCause!.hint.includes(`remote IP ${s.receiver.ip} and remote MAC ${s.receiver.mac}`));
      oneRootCause(t, r.json);
      // The kernel runs the new target only: its first start was this target before the change.
      const klog = r.json.checks.find(c => c.id === 'sender.kernel-log')?.detail ?? '';
      t.regex(klog, new RegExp(`running: eth0 -> ${other.replace(/\./g, '\\.')}:514 \\(02:99:00:00:00:50\\)$`));
      // /etc/sysconfig/netconsole still names this host: a conflict, said beside the path.
      t.true(r.json.checks.some(c => c.findings.includes('config-conflict')));
    });
  },
);

test.serial(
  'works: a 6.17 configfs target with userdata and every sysdata switch: verify reports what it sends',
  async t => {
    await withLab(
      t,
      lab('ud'),
      ['--kernel', '6.17', '--configfs', '--mode', 'extended', '--userdata', 'rack=r42', '--sysdata', 'all'],
      async s => {
        const r = await verify(s);
        passed(t, r);
        const cfs = r.json.checks.find(c => c.id === 'sender.configfs');
        t.truthy(cfs, JSON.stringify(r.json.checks.map(c => c.id)));
        t.regex(
          cfs!.detail,
          /: enabled \(userdata rack=r42; sysdata cpu_nr taskname release msgid; transmit_errors 0\)/,
        );
        t.false(cfs!.findings.includes('netconsole-transmit-errors'));
      },
    );
  },
);

test.serial(
  "works: ssh over a management NIC, spec without local IP (6.1): the target's addresses, and -i overrides",
  async t => {
    await withLab(t, lab('mgmt'), ['--mgmt-nic', '--no-local-ip'], async s => {
      const r = await verify(s);
      passed(t, r);
      // The netconsole source (the address the kernel took from eth0), not the management address ssh used.
      t.is(r.json.senderIp, s.netconsole.srcIp);
      t.not(r.json.senderIp, s.sender.mgmtIp ?? '');
      t.is(r.json.iface, s.receiver.iface);
      // -i picks the capture interface and nothing else changes: on the management NIC nothing arrives.
      const elsewhere = await verify(s, ['-i', s.receiver.mgmtIface!]);
      t.is(elsewhere.json.iface, s.receiver.mgmtIface ?? '');
      t.is(elsewhere.json.senderIp, s.netconsole.srcIp);
      t.is(elsewhere.json.rootCause?.code, 'not-on-wire');
      const here = await verify(s, ['-i', s.receiver.iface]);
      passed(t, here);
    });
  },
);
