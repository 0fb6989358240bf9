/**
 * The syslog receiver in a container, on the real lab: rsyslog in a namespace behind the log
 * server's bridge docker0 (172.17.0.2), the port published with a DNAT as Docker 28 writes it
 * (`lab/lab.sh up --container MODE`, then `lab/lab.sh container NAME MODE` for the next one on the
 * same boot). For each mode the truth is what rsyslog in the container wrote of verify's marker;
 * `netdiag verify` and `netdiag check`, run on the host (the log-server namespace), must say the
 * same: forwarded and received there; dropped in FORWARD (DOCKER-USER, Docker's own DROP, nft's
 * forward policy), with a fix that works when run; nothing listening at the DNAT's port; not
 * published at all. One boot (LAB_TEST_KERNEL, default 6.1: the sender's kernel decides nothing
 * here), nine verify runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { labSuite } from './helpers/lab-suite.js';
import { haveCommand } from './helpers/prereq.js';
import {
  inLogServer,
  lab,
  netdiagArgv,
  run,
  senderArgs,
  verifyJsonOnLab,
  withLab,
  type LabState,
} from './lab-driver.js';

const { test, n } = labSuite('d', [haveCommand('conntrack'), 'conntrack']);

interface VerifyJson {
  ok: boolean;
  marker: string;
  rootCause: { code: string; summary: string; hint: string } | null;
  checks: Array<{ id: string; status: string; detail: string }>;
}

async function verify(s: LabState): Promise<VerifyJson> {
  return (await verifyJsonOnLab<VerifyJson>(s, [...senderArgs(s.ssh), '--timeout', '5', '--json'])).json;
}

/** What rsyslog in the container wrote: the truth. */
function containerLog(s: LabState): string {
  const f = `${s.runDir}/ctr-syslog.log`;
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

async function mode(s: LabState, m: string): Promise<void> {
  const r = await lab(['container', s.name, m], 60_000);
  if (r.code !== 0) throw new Error(`lab container ${m}: ${r.stderr}`);
}

const hop = (v: VerifyJson, id: string) => v.checks.find(c => c.id === id);

/** A drop: verify's root cause and its fix; the fix run on the log server, and the marker reaches the container. */
async function expectDrop(t: ExecutionContext, s: LabState, what: string, rule: RegExp, fix: string): Promise<void> {
  const v = await verify(s);
  t.false(v.ok, what);
  t.is(v.rootCause?.code, 'firewall-drop', `${what}: ${JSON.stringify(v.checks.filter(c => c.status !== 'pass'))}`);
  t.regex(v.rootCause?.summary ?? '', rule, what);
  t.is(v.rootCause?.hint, fix, what);
  t.is(hop(v, 'verify.socket')?.status, 'skip', `${what}: the socket hop is not reached`);
  t.false(containerLog(s).includes(v.marker), `${what}: truth: the container's rsyslog did not get the marker`);
  const r = await inLogServer(s.name, fix.split(' '));
  t.is(r.code, 0, `${what}: the fix runs: ${r.stderr}`);
  const again = await verify(s);
  t.true(again.ok, `${what}, after the fix: ${JSON.stringify(again.rootCause)}`);
  t.true(containerLog(s).includes(again.marker), `${what}: truth after the fix: the container wrote the marker`);
}

/** Forwarded and received: verify passes, says where, and the container wrote the marker. */
async function expectForwarded(t: ExecutionContext, s: LabState, what: string, to: string): Promise<VerifyJson> {
  const v = await verify(s);
  t.true(v.ok, `${what}: ${JSON.stringify(v.checks.filter(c => c.status !== 'pass'))}`);
  t.regex(
    hop(v, 'verify.socket')?.detail ?? '',
    new RegExp(`^none needed here: udp/514 is forwarded to ${to} by DNAT`),
  );
  t.is(hop(v, 'verify.daemon')?.status, 'unknown', what);
  t.regex(hop(v, 'verify.log')?.detail ?? '', new RegExp(`^not checked here: the datagrams are forwarded to ${to}`));
  t.true(containerLog(s).includes(v.marker), `${what}: truth: the container's rsyslog wrote the marker`);
  return v;
}

test.serial('the receiver in a container: published, dropped in FORWARD, the wrong port, not published', async t => {
  t.timeout(600_000);
  let ctrNs = '';
  await withLab(t, n('ctr'), ['--container', 'published'], async s => {
    ctrNs = `${s.namespaces.logServer}-ctr`;
    // The boot replay went through the DNAT: the container has it, the host has no socket on 514.
    t.regex(containerLog(s), /Linux version/);
    await expectForwarded(t, s, 'published', '172\\.17\\.0\\.2:514');
    // With the receiver's address: the receiving interface decides Docker's `! -i docker0`.
    const [cmd, ...argv] = netdiagArgv(s, 'check', ['--sender-ip', s.netconsole.srcIp, '--receiver-ip', s.receiver.ip]);
    const c = await run(cmd!, argv, 60_000);
    t.is(c.code, 0, c.stdout + c.stderr);
    t.regex(c.stdout, /\(port-forwarded\)/);
    t.regex(c.stdout, /\[ok {2}\] firewall: .*iptables accepted/);

    // Docker's userland proxy listening on the host's port: not a syslog daemon, and not the way in.
    await mode(s, 'proxy');
    const p = await expectForwarded(t, s, 'proxy', '172\\.17\\.0\\.2:514');
    t.regex(hop(p, 'verify.socket')?.detail ?? '', /0\.0\.0\.0:514 \(docker-proxy\) here serves only this host's own/);

    // Forwarding off (a sysctl reload after Docker started): dropped after the DNAT, before FORWARD.
    await inLogServer(s.name, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    await inLogServer(s.name, ['conntrack', '-F']);
    const off = await verify(s);
    t.is(off.rootCause?.code, 'ip-forward-off', JSON.stringify(off.checks.filter(c => c.status !== 'pass')));
    t.false(containerLog(s).includes(off.marker), 'ip_forward 0: truth: nothing written');
    const r = await inLogServer(s.name, (off.rootCause?.hint ?? '').replace(/,.*$/, '').split(' '));
    t.is(r.code, 0, `the fix runs: ${r.stderr}`);
    await expectForwarded(t, s, 'ip_forward 1 again', '172\\.17\\.0\\.2:514');

    await mode(s, 'user-drop');
    await expectDrop(
      t,
      s,
      'DOCKER-USER drop',
      /^iptables drops the datagrams: -A DOCKER-USER -p udp -m udp --dport 514 -j DROP/,
      'iptables -I DOCKER-USER -p udp -s 10.99.0.2 -d 172.17.0.2 --dport 514 -j ACCEPT',
    );
    await mode(s, 'forward-drop');
    await expectDrop(
      t,
      s,
      "no ACCEPT for the port in Docker's chain",
      /^iptables drops the datagrams: -A DOCKER ! -i docker0 -o docker0 -j DROP/,
      'iptables -I DOCKER-USER -p udp -s 10.99.0.2 -d 172.17.0.2 --dport 514 -j ACCEPT',
    );
    await mode(s, 'nft-forward-drop');
    await expectDrop(
      t,
      s,
      "nft's forward policy",
      /^nft drops the datagrams: policy drop/,
      'nft insert rule ip dnatlab filter-forward ip saddr 10.99.0.2 ip daddr 172.17.0.2 udp dport 514 accept',
    );

    await mode(s, 'wrong-port');
    const w = await verify(s);
    t.is(w.rootCause?.code, 'receiver-not-listening', JSON.stringify(w.checks.filter(c => c.status !== 'pass')));
    t.regex(
      w.rootCause?.summary ?? '',
      /^the datagrams are forwarded to 172\.17\.0\.2:5140 by DNAT, and nothing listens there/,
    );
    t.false(containerLog(s).includes(w.marker), 'wrong port: truth: nothing written');

    await mode(s, 'unpublished');
    const u = await verify(s);
    t.is(u.rootCause?.code, 'receiver-not-listening');
    t.regex(u.rootCause?.summary ?? '', /^nothing listens on UDP port 514/);
    // rsyslogd runs only in the container's namespace (the log server's own is off): publish it.
    t.regex(u.rootCause?.hint ?? '', /^If the syslog daemon that should receive runs in a container, publish its port/);
    t.false(containerLog(s).includes(u.marker), 'not published: truth: nothing written');
  });
  const left = (await run('ip', ['netns', 'list'])).stdout.split('\n').map(l => l.split(' ')[0]);
  t.false(left.includes(ctrNs), 'lab down takes the container namespace too');
});
