/**
 * verify with a router between the sender and the log server, on the real lab: a router that
 * masquerades (NAT) the sender's datagrams, reached through a bastion on that router (ssh -J as a
 * ProxyCommand), and a router whose FORWARD chain drops them. Walked by hand first; each case
 * here is one lab boot.
 */
import { readFileSync } from 'node:fs';
import { haveCommand, requiring } from './helpers/prereq.js';
import { labNames, labRequirements, run, senderArgs, verifyOnLab, withLab, type LabState } from './lab-driver.js';

const test = requiring(labRequirements([haveCommand('iptables'), 'iptables'], [haveCommand('dropbear'), 'dropbear']));
const lab = labNames('r').n;

interface VerifyJson {
  ok: boolean;
  rootCause: { code: string; summary: string; evidence: string[]; hint: string } | null;
  checks: Array<{ id: string; status: string; detail: string }>;
}

async function verify(s: LabState, extra: string[] = []): Promise<{ code: number; json: VerifyJson; stderr: string }> {
  const r = await verifyOnLab(s, [
    ...senderArgs(s.ssh, s.sender.mgmtIp ?? s.ssh.host),
    '--timeout',
    '8',
    '--json',
    ...extra,
  ]);
  try {
    return { code: r.code, json: JSON.parse(r.stdout) as VerifyJson, stderr: r.stderr };
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`);
  }
}

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
