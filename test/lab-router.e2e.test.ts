/**
 * verify with a router between the sender and the log server, on the real lab: a router that
 * masquerades (NAT) the sender's datagrams, reached through a bastion on that router (ssh -J as a
 * ProxyCommand), and a router whose FORWARD chain drops them. Walked by hand first; each case
 * here is one lab boot.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { haveCommand, requiring } from './helpers/prereq.js';
import {
  labNames,
  labRequirements,
  netdiagArgv,
  run,
  senderArgs,
  stopRsyslog,
  endProcess,
  rsyslogWith,
  verifyJsonOnLab,
  verifyOnLab,
  withLab,
  type LabState,
} from './lab-driver.js';

const test = requiring(
  labRequirements(
    [haveCommand('iptables'), 'iptables'],
    [haveCommand('dropbear'), 'dropbear'],
    [haveCommand('conntrack'), 'conntrack'],
  ),
);
const lab = labNames('r').n;

interface VerifyJson {
  ok: boolean;
  rootCause: { code: string; summary: string; evidence: string[]; hint: string } | null;
  checks: Array<{ id: string; status: string; detail: string }>;
}

const verify = (s: LabState, extra: string[] = []) =>
  verifyJsonOnLab<VerifyJson>(s, [
    ...senderArgs(s.ssh, s.sender.mgmtIp ?? s.ssh.host),
    '--timeout',
    '8',
    '--json',
    ...extra,
  ]);

test.serial(
  "behind a NAT router, through a bastion: a firewall allowing only the sender's own address is named with the address that arrives; the fix passes",
  async t => {
    const opts = [
      '--kernel',
      '6.17',
      '--router',
      '--router-nat',
      '--jump',
      '--mgmt-nic',
      '--firewall',
      'iptables-allow-senders',
    ];
    await withLab(t, lab('nat'), opts, async s => {
      const jump = s.router!.jumpHost!;
      t.truthy(jump);
      const nat = s.router!.receiverSideIp;
      const inNs = (...argv: string[]) => run('ip', ['netns', 'exec', s.namespaces.logServer, ...argv]);
      // The sender's ssh port is not reachable from the log server but through the bastion.
      const direct = await inNs('ssh', '-F', s.ssh.configFile, '-o', 'ProxyJump=none', 'guest', 'true');
      t.is(direct.code, 255, 'no direct ssh from the log server');
      const via = [
        '--ssh-option',
        `ProxyCommand=ssh -i ${s.ssh.identityFile} -o UserKnownHostsFile=${s.ssh.knownHostsFile} -o BatchMode=yes -W %h:%p root@${jump}`,
      ];
      const dropped = await verify(s, via);
      t.is(dropped.code, 1, dropped.stderr);
      t.is(dropped.json.rootCause?.code, 'firewall-drop', JSON.stringify(dropped.json.checks));
      t.regex(dropped.json.rootCause!.summary, new RegExp(`drops the datagrams from ${nat.replace(/\./g, '\\.')}: `));
      t.regex(dropped.json.rootCause!.hint, new RegExp(`-s ${nat.replace(/\./g, '\\.')} --dport 514 -j ACCEPT`));
      t.regex(
        dropped.json.checks.find(c => c.id === 'verify.wire')!.detail,
        new RegExp(`from ${nat.replace(/\./g, '\\.')}:\\d+, not ${s.netconsole.srcIp.replace(/\./g, '\\.')}`),
      );
      // The fix verify gave, as an administrator would type it: then it works.
      await inNs('iptables', '-I', 'INPUT', '-p', 'udp', '-s', nat, '--dport', '514', '-j', 'ACCEPT');
      const ok = await verify(s, via);
      t.is(ok.code, 0, JSON.stringify(ok.json.rootCause));
      t.true(ok.json.ok);
      t.deepEqual(
        ok.json.checks.filter(c => c.status === 'fail'),
        [],
        'a PASS has no FAIL line',
      );
      const log = readFileSync(s.rsyslog.logFile!, 'utf8');
      t.regex(
        log,
        new RegExp(`${nat.replace(/\./g, '\\.')} .*netdiag-verify-`),
        'rsyslog logged the marker from the NAT address',
      );
      // The bastion without its key known: ssh's reason through the jump is named.
      const bad = await verifyOnLab(s, [
        ...senderArgs(s.ssh, s.sender.mgmtIp ?? s.ssh.host),
        '--ssh-option',
        `ProxyCommand=ssh -i ${s.ssh.identityFile} -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -W %h:%p root@${jump}`,
      ]);
      t.is(bad.code, 2);
      t.regex(bad.stderr, /through the jump host \(ProxyJump\/ProxyCommand\): Host key verification failed\./);
    });
  },
);

test.serial("a router whose FORWARD chain drops the datagrams: the router's hop, named, not this host's", async t => {
  await withLab(t, lab('fwd'), ['--kernel', '6.1', '--router', '--router-forward', 'drop'], async s => {
    const r = await verify(s);
    t.is(r.code, 1, r.stderr);
    t.is(r.json.rootCause?.code, 'lost-beyond-router', JSON.stringify(r.json.checks));
    t.regex(r.json.rootCause!.summary, new RegExp(`its router ${s.router!.ip.replace(/\./g, '\\.')} `));
    t.regex(r.json.rootCause!.hint, /iptables -I FORWARD -p udp -d 10\.99\.1\.1 --dport 514 -j ACCEPT/);
    t.is(r.json.checks.find(c => c.id === 'verify.firewall')?.status, 'skip');
    // The router's own counter is the truth.
    const fwd = await run('ip', ['netns', 'exec', s.router!.netns, 'iptables', '-vnL', 'FORWARD', '-x']);
    t.regex(fwd.stdout, /^\s*[1-9]\d*\s+\d+\s+DROP\s/m, fwd.stdout);
  });
});

/** Replaces the lab's rsyslog with one started here on `rules` (UDP input on the receiver's address); its PID. */
const rsyslogOn = (s: LabState, rules: string[]) =>
  rsyslogWith(s, [`input(type="imudp" address="${s.receiver.ip}" port="${s.receiver.port}")`, ...rules]);

const re = (ip: string) => ip.replace(/\./g, '\\.');

test.serial(
  "strict rp_filter on the log server, whose route to the senders' network leaves by another interface: behind NAT the route back judged is the router's address; without NAT rp_filter is named",
  async t => {
    await withLab(t, lab('rp'), ['--kernel', '6.1', '--router', '--router-nat', '--router-rp-filter'], async s => {
      const rtr = s.router!;
      const nat = rtr.receiverSideIp;
      const own = s.netconsole.srcIp;
      const inRouter = (...argv: string[]) => run('ip', ['netns', 'exec', rtr.netns, ...argv]);
      // Behind NAT: the datagrams come from the router's address, on the receiving interface's
      // link: rp_filter lets them in (rsyslog logs them), and verify judges that route back.
      const ok = await verify(s);
      t.is(ok.code, 0, JSON.stringify(ok.json.rootCause));
      // check on the log server with the sender's parameter: the router's MAC is right, this host's
      // own (the frames stay on the sender's segment) is named.
      const check = async (mac: string) => {
        const [cmd, ...args] = netdiagArgv(s, 'check', [
          '--json',
          '--netconsole',
          `6665@${own}/eth0,${s.receiver.port}@${s.receiver.ip}/${mac}`,
        ]);
        const r = await run(cmd!, args);
        const json = JSON.parse(r.stdout) as {
          receiver: { checks: Array<{ id: string; findings: Array<{ code: string }> }> };
        };
        return json.receiver.checks.find(c => c.id === 'receiver.target-mac');
      };
      t.is(await check(rtr.mac), undefined);
      t.deepEqual(
        (await check(s.receiver.mac))?.findings.map(x => x.code),
        ['router-mac-required'],
      );
      const rp = ok.json.checks.find(c => c.id === 'verify.rp-filter')!;
      t.is(rp.status, 'pass', rp.detail);
      t.regex(rp.detail, new RegExp(`route back via ${s.receiver.iface}$`));
      t.regex(readFileSync(s.rsyslog.logFile!, 'utf8'), new RegExp(`${re(nat)} .*netdiag-verify-`));

      // rsyslog writing a file per %fromhost-ip%: it writes the router's address's file, where verify looks.
      t.true(await stopRsyslog(s), 'the lab rsyslog stopped');
      const dir = path.join(path.dirname(s.rsyslog.configFile!), 'remote');
      let pid = await rsyslogOn(s, [
        `template(name="PerHost" type="string" string="${dir}/%FROMHOST-IP%/kern.log")`,
        'action(type="omfile" dynaFile="PerHost" dirCreateMode="0755")',
      ]);
      try {
        const r = await verify(s);
        t.is(r.code, 0, JSON.stringify(r.json.rootCause));
        t.is(r.json.checks.find(c => c.id === 'verify.log')?.detail, `the marker is in ${dir}/${nat}/kern.log`);
        t.false(existsSync(`${dir}/${own}`), "nothing under the sender's own address");
      } finally {
        await endProcess(pid);
      }
      // A rule for the sender's own address never meets it: syslog-filtered, naming the router's.
      const file = path.join(path.dirname(s.rsyslog.configFile!), 'netconsole.log');
      const rule = (ip: string) => [
        `if $fromhost-ip == "${ip}" then {`,
        `  action(type="omfile" file="${file}")`,
        '  stop',
        '}',
      ];
      pid = await rsyslogOn(s, rule(own));
      try {
        const r = await verify(s);
        t.is(r.code, 1, r.stderr);
        t.is(r.json.rootCause?.code, 'syslog-filtered', JSON.stringify(r.json.rootCause));
        t.regex(
          r.json.rootCause!.summary,
          new RegExp(
            `they arrive from ${re(nat)}, not ${re(own)} \\(a router on the way translates the source: NAT\\)`,
          ),
        );
        t.regex(
          r.json.rootCause!.hint,
          new RegExp(`^Select them by the address rsyslog sees: ${re(nat)} in place of ${re(own)} `),
        );
        t.false(existsSync(file), 'rsyslog wrote nothing');
      } finally {
        await endProcess(pid);
      }
      // The fix verify gave: the rule for the router's address. rsyslog writes it, verify finds it there.
      pid = await rsyslogOn(s, rule(nat));
      try {
        const r = await verify(s);
        t.is(r.code, 0, JSON.stringify(r.json.rootCause));
        t.is(r.json.checks.find(c => c.id === 'verify.log')?.detail, `the marker is in ${file}`);
      } finally {
        await endProcess(pid);
      }

      // The router translating to an address this host routes elsewhere (10.99.0.0/21 by ndw-NAME):
      // rp_filter drops them, and verify names that address's route back.
      await inRouter('ip', 'addr', 'add', '10.99.7.254/32', 'dev', 'lo');
      await inRouter(
        'iptables',
        '-t',
        'nat',
        '-I',
        'POSTROUTING',
        '-o',
        `ndr-${s.name}`,
        '-j',
        'SNAT',
        '--to-source',
        '10.99.7.254',
      );
      await inRouter('conntrack', '-F');
      const snat = await verify(s);
      t.is(snat.json.rootCause?.code, 'rp-filter-drop', JSON.stringify(snat.json.checks));
      t.regex(snat.json.rootCause!.summary, /the route back to 10\.99\.7\.254 leaves via ndw-/);
      await inRouter('iptables', '-t', 'nat', '-F', 'POSTROUTING');
      await inRouter('conntrack', '-F');
      // No NAT: the sender's own address, whose route back leaves by the other interface.
      const plain = await verify(s);
      t.is(plain.code, 1, plain.stderr);
      t.is(plain.json.rootCause?.code, 'rp-filter-drop', JSON.stringify(plain.json.checks));
      t.regex(plain.json.rootCause!.summary, new RegExp(`the route back to ${re(own)} leaves via ndw-`));
    });
  },
);
