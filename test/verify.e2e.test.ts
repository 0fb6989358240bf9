/**
 * netdiag verify against the real lab: a Debian kernel in QEMU sending netconsole to a log-server
 * namespace with rsyslog. verify runs inside that namespace as it would on a log server, reaches
 * the guest over real OpenSSH, captures with libpcap, and must name each injected fault as its
 * root cause (and pass the healthy setups). Receiver-side faults are real iptables/nft rules and
 * a stopped rsyslog in the namespace; sender-side faults are boot options of the lab.
 */
import { readFileSync } from 'node:fs';
import { haveCommand, requiring } from './helpers/prereq.js';
import { cliPath } from './helpers/cli.js';
import { labDown, labRequirements, labUp, run, type LabState } from './lab-driver.js';

const test = requiring(labRequirements([haveCommand('iptables'), 'iptables'], [haveCommand('nft'), 'nft (nftables)']));

interface VerifyJson {
  ok: boolean;
  rootCause: { code: string; summary: string } | null;
  roundTripMs: number | null;
  elapsedMs: number;
  checks: Array<{ id: string; status: string; findings: string[] }>;
}

/** The lab's rsyslog runs with its own configuration (rsyslogd -f): verify reads it to find the log file. */
const syslogConfig = (s: LabState): string | undefined => (s.rsyslog as unknown as { configFile?: string | null }).configFile ?? undefined;

async function verify(s: LabState, extra: string[] = []): Promise<{ code: number; json: VerifyJson; stderr: string }> {
  const sshHost = (s.sender as { mgmtIp?: string | null }).mgmtIp ?? s.ssh.host;
  const r = await run('ip', ['netns', 'exec', s.namespaces.logServer, process.execPath, cliPath, 'verify',
    '--sender', `root@${sshHost}`, '--identity', s.ssh.identityFile, '--ssh-option', `UserKnownHostsFile=${s.ssh.knownHostsFile}`,
    ...(syslogConfig(s) ? ['--syslog-config', syslogConfig(s)!] : []), '--timeout', '8', '--json', ...extra], 120_000);
  let json: VerifyJson;
  try {
    json = JSON.parse(r.stdout) as VerifyJson;
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stderr.trim()}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

async function withLab(name: string, opts: string[], body: (s: LabState) => Promise<void>): Promise<void> {
  const s = await labUp(name, opts);
  try {
    await body(s);
  } finally {
    await labDown(name);
  }
}

const times: string[] = [];
test.after.always(() => {
  if (times.length) console.log(`verify times (start to verdict): ${times.join(', ')}`);
});

test.serial('healthy lab passes; then each receiver-side fault is the root cause', async t => {
  await withLab('vfy', [], async s => {
    const ok = await verify(s);
    t.is(ok.code, 0, JSON.stringify(ok.json.rootCause));
    t.true(ok.json.ok);
    t.true(ok.json.roundTripMs !== null && ok.json.roundTripMs < 5000);
    times.push(`healthy ${ok.json.elapsedMs} ms`);
    t.true(readFileSync(s.rsyslog.logFile!, 'utf8').includes('netdiag-verify-'), 'the marker is in rsyslog\'s file');

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
    await inNs('nft', 'add', 'chain', 'inet', 'ndtest', 'input', '{ type filter hook input priority 0; policy accept; }');
    await inNs('nft', 'add', 'rule', 'inet', 'ndtest', 'input', 'udp', 'dport', String(s.receiver.port), 'counter', 'reject');
    const rej = await verify(s);
    t.is(rej.json.rootCause?.code, 'firewall-drop');
    t.regex(rej.json.rootCause!.summary, /nft rejects/);
    await inNs('nft', 'delete', 'table', 'inet', 'ndtest');
    // Back to healthy.
    t.is((await verify(s)).code, 0);
    // rsyslog stopped: ICMP port unreachable.
    if (s.rsyslog.pid) process.kill(s.rsyslog.pid, 'SIGTERM');
    await new Promise(r => setTimeout(r, 500));
    const down = await verify(s);
    t.is(down.json.rootCause?.code, 'receiver-not-listening');
  });
});

const senderFaults: Array<[string, string[], string]> = [
  ['wrong remote MAC', ['--remote-mac', 'wrong'], 'dst-mac-mismatch'],
  ['netconsole not loaded', ['--no-netconsole'], 'netconsole-not-loaded'],
  ['receiver behind a router, configured with the receiver\'s MAC', ['--router', '--router-mac', 'receiver'], 'router-mac-required'],
  ['console log level too low', ['--loglevel', '1'], 'console-loglevel-low'],
  ['link down', ['--link-down'], 'sender-device-down'],
  ['sender targets another port', ['--wrong-port'], 'dst-port-mismatch'],
  ['iptables REJECT on the log server (lab option)', ['--firewall', 'iptables-reject'], 'firewall-drop'],
  ['nft DROP on the log server (lab option)', ['--firewall', 'nft-drop'], 'firewall-drop'],
  ['rsyslog without imudp', ['--syslog', 'no-imudp'], 'receiver-not-listening'],
];
for (const [what, opts, code] of senderFaults) {
  test.serial(`fault: ${what} → ${code}`, async t => {
    await withLab('vfy', opts, async s => {
      const extra = opts.includes('--wrong-port') ? ['--port', String(s.receiver.port)] : [];
      const r = await verify(s, extra);
      t.is(r.code, 1, r.stderr);
      t.false(r.json.ok);
      t.is(r.json.rootCause?.code, code, JSON.stringify(r.json.checks.filter(c => c.status !== 'pass')));
    });
  });
}

// Setups that work, some with a warning verify must still show.
const healthy: Array<[string, string[], string | undefined]> = [
  ['extended mode on a bond', ['--mode', 'extended', '--bond'], undefined],
  ['configfs target, behind a router with the router\'s MAC', ['--configfs', '--router'], undefined],
  ['broadcast remote MAC', ['--remote-mac', 'broadcast'], 'verify.mac'],
  ['/etc/sysconfig/netconsole contradicts what was loaded', ['--sysconfig-conflict'], 'config-conflict'],
];
for (const [what, opts, warning] of healthy) {
  test.serial(`works: ${what} passes${warning ? `, warning at ${warning}` : ''}`, async t => {
    await withLab('vfy', opts, async s => {
      const r = await verify(s);
      t.is(r.code, 0, JSON.stringify(r.json.rootCause));
      t.true(r.json.ok);
      if (warning) {
        const warned = r.json.checks.filter(c => c.status === 'warn');
        t.true(warned.some(c => c.id === warning || c.findings.includes(warning)), JSON.stringify(warned));
      }
    });
  });
}
