import test from 'ava';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, runMain, projectRoot } from './helpers/cli.js';
import { collectReceiverFacts, collectSenderFacts, expandGlob } from '../src/checks/host/collect.js';
import { COMMAND_FILES, commandFileName } from '../src/io/host-exec.js';
import { dirExec } from '../src/io/dir-exec.js';
import { localExec } from '../src/io/local-exec.js';
import { runReceiverChecks } from '../src/checks/receiver/run.js';
import { fx } from './helpers/host-facts.js';

const hosts = path.join(projectRoot, 'fixtures/checks/hosts');
const tmp = mkdtempSync(path.join(tmpdir(), 'netdiag-check-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

// ---- failures first: usage errors exit 2 with one line -------------------------------------------

const usage: Array<[string, string[], RegExp]> = [
  [
    'missing facts directory',
    ['check', '--receiver-facts', '/nonexistent/dir'],
    /^netdiag: check: --receiver-facts directory \/nonexistent\/dir does not exist\n$/,
  ],
  [
    'facts path is a file',
    ['check', '--sender-facts', path.join(hosts, 'sender-centos5/dmesg.txt'), '--sender-only'],
    /is not a directory\n$/,
  ],
  ['bad port', ['check', '--port', '0', '--sender-only'], /^netdiag: --port: '0' is not a port number \(1-65535\)\n$/],
  [
    'bad netconsole spec',
    ['check', '--netconsole', '@/eth0,514@10.0.0.1/zz', '--sender-only'],
    /^netdiag: check: --netconsole: bad target MAC "zz"/,
  ],
  ['bad sender ip', ['check', '--sender-ip', 'host.example', '--sender-only'], /is not an IP address\n$/],
  ['unknown option', ['check', '--frobnicate'], /^netdiag: check: Unknown option '--frobnicate'/],
  [
    'missing syslog configuration',
    ['check', '--syslog-config', '/nonexistent/rsyslog.conf'],
    /^netdiag: check: --syslog-config \/nonexistent\/rsyslog.conf: no such file\n$/,
  ],
  [
    'syslog configuration is a directory',
    ['check', '--syslog-config', '/etc'],
    /--syslog-config \/etc: not a regular file\n$/,
  ],
  [
    'syslog configuration not in the facts directory',
    ['check', '--receiver-facts', path.join(hosts, 'receiver-debian12-ok'), '--syslog-config', '/etc/nope.conf'],
    /^netdiag: check: --syslog-config \/etc\/nope.conf: no such file in --receiver-facts .*receiver-debian12-ok\n$/,
  ],
  [
    'syslog configuration with --sender-only',
    ['check', '--sender-only', '--syslog-config', '/etc/hostname'],
    /--syslog-config is for the receiver checks, which --sender-only skips\n$/,
  ],
];
for (const [name, args, err] of usage) {
  test(`check usage: ${name}`, async t => {
    const r = await runMain(args);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, err);
    t.is(r.stderr.split('\n').length, 2, 'one line');
  });
}

test('check: the seed case (CentOS 5 receiver files) fails with the three causes and their fixes', async t => {
  const r = await runMain([
    'check',
    '--receiver-facts',
    path.join(hosts, 'receiver-centos5-seed'),
    '--sender-ip',
    '192.168.1.20',
    '--receiver-ip',
    '192.168.1.10',
  ]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stdout, /\[FAIL\] listening socket: nothing on port 514/);
  t.regex(r.stdout, /sysklogd does not receive UDP \(syslog-udp-disabled\)/);
  t.regex(r.stdout, /fix: Add -r: SYSLOGD_OPTIONS="-m 0 -r" in \/etc\/sysconfig\/syslog/);
  t.regex(r.stdout, /\[184:17352\] -A RH-Firewall-1-INPUT -j REJECT --reject-with icmp-host-prohibited/);
  t.regex(r.stdout, /fix: iptables -I INPUT -p udp -s 192.168.1.20 --dport 514 -j ACCEPT/);
  t.regex(r.stdout, /messages should land in: \/var\/log\/messages/);
  t.regex(r.stdout, /result: a check failed/);
});

test("check: sender files and receiver files together, the sender's target feeds the receiver checks", async t => {
  const r = await runMain([
    'check',
    '--json',
    '--sender-facts',
    path.join(hosts, 'sender-centos5'),
    '--receiver-facts',
    path.join(hosts, 'receiver-centos5-seed'),
  ]);
  t.is(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout) as {
    ok: boolean;
    sender: { target: { remoteIp: string }; checks: Array<{ id: string; status: string }> };
    receiver: { datagram: unknown; firewall: { verdict: string } };
  };
  t.is(j.ok, false);
  t.is(j.sender.target.remoteIp, '192.168.1.10');
  t.deepEqual(
    j.sender.checks.filter(c => c.status !== 'pass').map(c => c.id),
    ['sender.sysrq'],
  );
  t.deepEqual(j.receiver.datagram, {
    family: 4,
    dstPort: 514,
    srcIp: '192.168.1.20',
    dstIp: '192.168.1.10',
    srcPort: 6666,
    pktType: 'unicast',
  });
  t.is(j.receiver.firewall.verdict, 'rejected');
});

test('check: a healthy Debian 12 receiver passes (exit 0)', t => {
  const r = runCli([
    'check',
    '--receiver-facts',
    path.join(hosts, 'receiver-debian12-ok'),
    '--sender-ip',
    '10.99.0.2',
    '--receiver-ip',
    '10.99.0.1',
  ]);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /\[ok {2}\] listening socket: 0.0.0.0:514 \(rsyslogd\), \[::\]:514 \(rsyslogd\)/);
  t.regex(r.stdout, /\[ok {2}\] firewall: UDP 10.99.0.2 -> 10.99.0.1:514 on eth0: nft accepted/);
  t.regex(r.stdout, /messages should land in: \/var\/log\/netconsole.log/);
  t.regex(r.stdout, /result: no check failed/);
});

test('check --syslog-config: only that file (and its includes) is the daemon configuration, in a facts directory', async t => {
  // rsyslogd -f: the UDP input lives in a file the default /etc/rsyslog.conf does not include.
  const d = path.join(tmp, 'syslog-f');
  cpSync(path.join(hosts, 'receiver-debian12-ok'), d, { recursive: true });
  renameSync(path.join(d, 'etc/rsyslog.d/10-netconsole.conf'), path.join(d, 'etc/rsyslog-netconsole.conf'));
  const args = ['check', '--receiver-facts', d, '--sender-ip', '10.99.0.2', '--receiver-ip', '10.99.0.1'];
  const plain = await runMain(args);
  t.regex(plain.stdout, /\[warn\] syslog daemon: rsyslog: no UDP input/, plain.stdout);
  for (const file of ['/etc/rsyslog-netconsole.conf', 'etc/rsyslog-netconsole.conf']) {
    const r = await runMain([...args, '--syslog-config', file]);
    t.is(r.code, 0, r.stdout + r.stderr);
    t.regex(
      r.stdout,
      /\[ok {2}\] syslog daemon: rsyslog: UDP \*:514, \*:6666; messages land in \/var\/log\/netconsole.log/,
    );
    t.regex(r.stdout, /messages should land in: \/var\/log\/netconsole.log\n/);
  }
  // A given file without a UDP input: the fix says to add one there, not to /etc/rsyslog.conf.
  writeFileSync(path.join(d, 'etc/rsyslog-bare.conf'), '*.* /var/log/all.log\n');
  const bare = await runMain([...args, '--syslog-config', '/etc/rsyslog-bare.conf']);
  t.is(bare.code, 0, bare.stdout + bare.stderr);
  t.regex(
    bare.stdout,
    /warning: rsyslog does not receive UDP \(something else listens on 514\) \(syslog-udp-disabled\)/,
  );
  t.regex(
    bare.stdout,
    /fix: Add to \/etc\/rsyslog-bare.conf: module\(load="imudp"\) and input\(type="imudp" port="514"\)/,
  );
});

test("check --sender-facts: the sender's printk timestamps decide rules on the program name (walked: rsyslog wrote nothing)", async t => {
  const d = path.join(tmp, 'programname');
  cpSync(path.join(hosts, 'receiver-debian12-ok'), d, { recursive: true });
  writeFileSync(path.join(d, 'etc/rsyslog-remote.conf'), fx('rsyslog/walked-programname.conf'));
  const sender = path.join(tmp, 'programname-sender');
  mkdirSync(path.join(sender, 'sys/module/printk/parameters'), { recursive: true });
  writeFileSync(path.join(sender, 'sys/module/printk/parameters/time'), 'Y\n');
  const args = [
    'check',
    '--json',
    '--receiver-facts',
    d,
    '--syslog-config',
    '/etc/rsyslog-remote.conf',
    '--netconsole',
    '6665@10.99.0.2/eth0,514@10.99.0.1/52:54:00:99:00:01',
  ];
  const codes = (stdout: string) =>
    (JSON.parse(stdout) as { receiver: { checks: Array<{ findings: Array<{ code: string }> }> } }).receiver.checks
      .flatMap(c => c.findings)
      .map(f => f.code);
  // The sender's form not known: a plain line without timestamps might be "host kernel: ...".
  const unknown = await runMain(args);
  t.false(codes(unknown.stdout).includes('syslog-filtered'), unknown.stdout);
  const known = await runMain([...args, '--sender-facts', sender]);
  t.true(codes(known.stdout).includes('syslog-filtered'), known.stdout + known.stderr);
  t.is(known.code, 1);
});

test('check --syslog-config: a syslog-ng file whose path does not say so is told by its text (walked: syslog-ng -f)', async t => {
  // Before, any path without "syslog-ng" in it was read as rsyslog's: "rsyslog: no UDP input".
  const d = path.join(tmp, 'syslog-ng-f');
  cpSync(path.join(hosts, 'receiver-debian12-ok'), d, { recursive: true });
  writeFileSync(path.join(d, 'etc/netlog.conf'), fx('syslog-ng/walked-stock-udp.conf'));
  const args = ['check', '--receiver-facts', d, '--sender-ip', '10.99.0.2', '--receiver-ip', '10.99.0.1'];
  const r = await runMain([...args, '--syslog-config', '/etc/netlog.conf']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /\[ok {2}\] syslog daemon: syslog-ng: UDP \*:514; messages land in \/var\/log\/syslog\n/);
});

test('check --syslog-config: a file of this host, relative to the working directory', async t => {
  const d = path.join(tmp, 'syslog-local');
  mkdirSync(d);
  writeFileSync(
    path.join(d, 'nd.conf'),
    'module(load="imudp")\ninput(type="imudp" port="5999")\n*.* /var/log/nd-test.log\n',
  );
  const r = await runMain([
    'check',
    '--json',
    '--port',
    '5999',
    '--syslog-config',
    path.relative(process.cwd(), path.join(d, 'nd.conf')),
  ]);
  const j = JSON.parse(r.stdout) as { receiver: { checks: Array<{ id: string; detail: string }>; logFiles: string[] } };
  t.is(
    j.receiver.checks.find(c => c.id === 'receiver.syslog')?.detail,
    'rsyslog: UDP *:5999; messages land in /var/log/nd-test.log',
  );
  t.deepEqual(j.receiver.logFiles, ['/var/log/nd-test.log']);
});

test('check: text from files is escaped before printing', async t => {
  const d = path.join(tmp, 'hostile');
  mkdirSync(path.join(d, 'etc/sysconfig'), { recursive: true });
  writeFileSync(
    path.join(d, 'etc/sysconfig/netconsole'),
    'SYSLOGADDR=10.0.0.1\nSYSLOG\x1b[2JPORT=5\x07\n\x1b]0;pwned\x07=1\n',
  );
  const r = await runMain(['check', '--sender-only', '--sender-facts', d]);
  t.false(/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stdout), JSON.stringify(r.stdout));
  t.regex(r.stdout, /\\u001b\[2J/);
});

// ---- collectors ------------------------------------------------------------------------------------

test('collect: a facts directory maps files and commands; missing ones become notes', async t => {
  const facts = await collectReceiverFacts(dirExec(path.join(hosts, 'receiver-debian12-ok')), {
    senderIp: '10.99.0.2',
  });
  t.deepEqual(
    facts.syslog!.rsyslog!.map(f => f.from),
    ['/etc/rsyslog.conf', '/etc/rsyslog.d/10-netconsole.conf'],
    'follows $IncludeConfig',
  );
  t.truthy(facts.udp && facts.udp6 && facts.ss && facts.nft && facts.snmp && facts.ipAddr && facts.routeGet);
  t.deepEqual(facts.rpFilter, { all: '0', eth0: '1' });
  t.is(facts.iptables, undefined);
  t.true(
    facts.notes.some(n => /^iptables-save -c: iptables-save.txt: not in /.test(n)),
    facts.notes.join('\n'),
  );
});

test('collect: sender facts from a directory, route looked up for the configured receiver', async t => {
  const facts = await collectSenderFacts(dirExec(path.join(hosts, 'sender-centos5')));
  t.is(facts.routeGet!.ip, '192.168.1.10');
  t.is(facts.ipAddr!.format, 'text');
  t.is(facts.kernelLog!.from, 'dmesg');
  t.deepEqual(facts.modprobe, []);
  t.is(facts.configfs, undefined);
});

test('dirExec cannot read outside its directory', async t => {
  const e = dirExec(path.join(hosts, 'sender-centos5'));
  t.is(await e.readFile('/../../../package.json'), null);
  t.is(await e.readFile('../receiver-centos5-seed/etc/syslog.conf'), null);
  t.is((await e.run(['rm', '-rf', '/'])).code, 127);
});

test('commandFileName: only known commands, IP argument validated', t => {
  t.is(commandFileName(['ip', 'route', 'get', '10.0.0.1']), 'ip-route-get.txt');
  t.is(commandFileName(['ip', 'route', 'get', '10.0.0.1; rm -rf /']), undefined);
  t.is(commandFileName(['iptables-save', '-c']), 'iptables-save.txt');
  t.is(commandFileName(['iptables-save']), undefined);
});

test('expandGlob: sorted, hidden files skipped, directory includes', async t => {
  const d = path.join(tmp, 'glob');
  mkdirSync(path.join(d, 'etc/rsyslog.d'), { recursive: true });
  for (const n of ['20-b.conf', '10-a.conf', '.hidden.conf', 'x.txt'])
    writeFileSync(path.join(d, 'etc/rsyslog.d', n), '');
  const e = dirExec(d);
  t.deepEqual(await expandGlob(e, '/etc/rsyslog.d/*.conf'), ['/etc/rsyslog.d/10-a.conf', '/etc/rsyslog.d/20-b.conf']);
  t.deepEqual(await expandGlob(e, '/etc/rsyslog.d/'), [
    '/etc/rsyslog.d/.hidden.conf',
    '/etc/rsyslog.d/10-a.conf',
    '/etc/rsyslog.d/20-b.conf',
    '/etc/rsyslog.d/x.txt',
  ]);
  t.deepEqual(await expandGlob(e, '/nonexistent/*.conf'), []);
});

test('localExec: this host, real commands and files; never rejects', async t => {
  const e = localExec({ timeoutMs: 5000 });
  t.is((await e.run(['sh', '-c', 'exit 3'])).code, 3);
  t.is((await e.run(['/nonexistent/program'])).code, 127);
  t.is((await localExec({ timeoutMs: 100 }).run(['sleep', '5'])).code, 124);
  t.is(await e.readFile('/nonexistent/file'), null);
  const facts = await collectReceiverFacts(e);
  t.truthy(facts.udp, '/proc/net/udp is readable on Linux');
  t.truthy(facts.snmp);
  const r = runReceiverChecks(facts, { port: 514 });
  t.is(r.checks.length >= 5, true);
});

test('docs/checks.md names every file of a facts directory that a command maps to', t => {
  const doc = readFileSync(path.join(projectRoot, 'docs', 'checks.md'), 'utf8');
  for (const c of COMMAND_FILES)
    t.true(doc.includes(`\`${c.file}\``), `${c.file} (${c.argv.join(' ')}) is in docs/checks.md`);
});
