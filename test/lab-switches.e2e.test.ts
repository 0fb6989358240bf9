/**
 * End-to-end tests of the lab's switches added for issues 9 and 13: each boots real kernels in
 * QEMU and checks, from the log server's side, what an administrator would see: the wire
 * (tcpdump), rsyslog's file, the kernel's counters, ICMP. They do not run netdiag: its verdicts
 * on these setups are tested by verify's own tests. Labs boot one after another; where switches
 * do not disturb each other one boot serves several assertions (see lab/README.md for timings).
 */
import ava from 'ava';
import { haveCommand, requiring } from './helpers/prereq.js';
import {
  Capture, discardCaptures, keepCaptures, guest, inLogServer, kmsg, labRequirements, marker, netCounters, run, sleep,
  syslogText, waitFor, withLab, type BootRecord, type LabState,
} from './lab-driver.js';

const test = requiring(labRequirements(
  [haveCommand('tcpdump'), 'tcpdump'],
  [haveCommand('socat'), 'socat'],
  [haveCommand('iptables'), 'iptables'],
  [haveCommand('nft'), 'nft (nftables)'],
  [haveCommand('xz'), 'xz (xz-utils, for the 6.17 modules)'],
));

ava.afterEach(() => discardCaptures());
ava.afterEach.always(() => keepCaptures());

const suiteStart = Date.now();
const tag = `s${(process.pid % 46656).toString(36).padStart(3, '0')}`;
const n = (what: string): string => `${tag}${what}`.slice(0, 11);
const boots: BootRecord[] = [];
const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** ICMP (v4) answers in a capture, as tcpdump prints them, with type and code. */
async function icmpCodes(cap: Capture, type: number): Promise<number[]> {
  const r = await run('tcpdump', ['-r', cap.file, '-n', '-x', `icmp and icmp[icmptype] == ${type}`]);
  // The ICMP header follows the 20-byte IP header: its first two bytes are type and code.
  const codes: number[] = [];
  for (const block of r.stdout.split(/\n(?=\S)/)) {
    const hex = block.split('\n').slice(1).map(l => l.replace(/^\s*0x[0-9a-f]+:\s*/, '').replace(/\s+/g, '')).join('');
    if (hex.length >= 44) codes.push(parseInt(hex.slice(42, 44), 16));
  }
  return codes;
}

test.serial('management NIC, spec without local IP, two targets to two ports (6.17, netconsole= on the command line)', async t => {
  const name = n('mgmt');
  await withLab(t, name, ['--kernel', '6.17', '--mgmt-nic', '--no-local-ip', '--two-targets', '--cmdline'], async s => {
    t.is(s.kernelSeries, '6.17');
    t.regex(s.kernel, /^6\.17\./);
    t.is(s.sender.mgmtIp, '10.99.9.2');
    t.is(s.ssh.host, s.sender.mgmtIp!, 'ssh goes over the management NIC');
    t.false(s.netconsole.localIpGiven);
    t.regex(s.netconsole.spec!, /^6665@\/eth0,514@10\.99\.0\.1\/02:99:00:00:00:01$/);
    t.deepEqual(s.netconsole.targets.map(x => [x.name, x.via, x.remotePort]), [['boot', 'cmdline', 514], ['target2', 'configfs', 5514]]);
    t.deepEqual(s.rsyslog.ports, [514, 5514]);

    const conn = await guest(name, 'echo $SSH_CONNECTION; cat /proc/cmdline; cd /sys/kernel/config/netconsole/target2 && cat enabled remote_port local_ip dev_name');
    t.is(conn.code, 0, conn.stderr);
    const [sshConn, cmdline, ...t2] = conn.stdout.trim().split('\n');
    t.regex(sshConn!, /^10\.99\.9\.1 \d+ 10\.99\.9\.2 22$/, 'the ssh session runs between the management addresses');
    t.true(cmdline!.includes(`netconsole=${s.netconsole.spec}`), cmdline);
    t.deepEqual(t2.slice(0, 2), ['1', '5514'], 'configfs target2 is enabled, to port 5514');
    t.is(t2[3], 'eth0');

    const data = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
    const mgmt = new Capture(s.receiver.netns, s.receiver.mgmtIface!, 'udp');
    await data.started();
    await mgmt.started();
    const mark = marker();
    await kmsg(name, mark);
    const both = await waitFor(() => syslogText(s).split('\n').filter(l => l.includes(mark)).length >= 2, 15_000);
    await sleep(500);
    await data.stop();
    await mgmt.stop();
    t.true(both, `the marker is logged twice, once per target (${s.rsyslog.logFile})`);
    const wire = (await data.text()).split('\n').filter(l => l.includes(`${s.sender.mac} >`));
    const toPorts = (p: number) => wire.filter(l => l.includes(`10.99.0.2.6665 > 10.99.0.1.${p}:`)).length;
    t.true(toPorts(514) >= 1 && toPorts(5514) >= 1, `datagrams from eth0's address to 514 and 5514 (${data.file})`);
    t.false(wire.some(l => l.includes('10.99.9.2')), 'netconsole does not use the management address');
    t.is(await mgmt.count('udp src port 6665'), 0, `nothing of netconsole on the management network (${mgmt.file})`);
    const logLines = syslogText(s).split('\n').filter(l => l.includes(mark));
    t.true(logLines.every(l => /\s10\.99\.0\.2\s/.test(l)), logLines.join('\n'));
  }, boots);
});

test.serial('wrong remote IP with the right MAC (6.1): on the wire, dropped before any socket, no ICMP', async t => {
  const name = n('rip');
  await withLab(t, name, ['--kernel', '6.1', '--remote-ip', 'wrong'], async s => {
    t.deepEqual(s.faults, ['remote-ip-wrong']);
    t.is(s.netconsole.remoteIp, '10.99.0.77');
    t.is(s.netconsole.remoteMac, s.receiver.mac);
    const before = await netCounters(name);
    const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp');
    await cap.started();
    const mark = marker();
    await kmsg(name, mark);
    const seen = await waitFor(async () => (await cap.text()).includes(mark), 10_000, 500);
    await sleep(1500);
    await cap.stop();
    t.true(seen, `marker on the wire (${cap.file})`);
    const line = (await cap.text()).split('\n').find(l => l.includes(`${s.sender.mac} >`) && l.includes('10.99.0.77')) ?? '';
    t.true(line.includes(`> ${s.receiver.mac}`), `to the receiver's MAC: ${line}`);
    t.regex(line, /10\.99\.0\.2\.6665 > 10\.99\.0\.77\.514:/);
    t.is(await cap.count('icmp'), 0, 'the receiver does not answer (forwarding is off, no ICMP)');
    const after = await netCounters(name);
    t.true(after.IpInAddrErrors! > before.IpInAddrErrors!, `IpInAddrErrors ${before.IpInAddrErrors} -> ${after.IpInAddrErrors}`);
    t.false(syslogText(s).includes(mark), 'nothing in rsyslog');
  }, boots);
});

test.serial('rsyslog bound to 127.0.0.1 only (6.17): port unreachable from outside, works on loopback', async t => {
  const name = n('lo');
  await withLab(t, name, ['--kernel', '6.17', '--syslog', 'loopback'], async s => {
    t.deepEqual(s.faults, ['syslog-loopback']);
    t.deepEqual(s.rsyslog.addresses, ['127.0.0.1', '::1']);
    t.truthy(s.rsyslog.pid);
    const ss = await inLogServer(name, ['ss', '-Hunl']);
    t.regex(ss.stdout, /127\.0\.0\.1:514\b/);
    t.notRegex(ss.stdout, /10\.99\.0\.1:514\b|\*:514\b|0\.0\.0\.0:514\b/);
    const before = await netCounters(name);
    const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp');
    await cap.started();
    const mark = marker();
    await kmsg(name, mark);
    const answered = await waitFor(async () => /udp port 514 unreachable/.test(await cap.text('icmp')), 10_000, 300);
    await cap.stop();
    t.true(answered, `ICMP port 514 unreachable (${cap.file})`);
    t.true((await netCounters(name)).UdpNoPorts! > before.UdpNoPorts!, 'Udp NoPorts rose');
    t.false(syslogText(s).includes(mark));
    // Control: the daemon itself works, for a client on the log server.
    const local = `${mark}-loopback`;
    const r = await inLogServer(name, ['sh', '-c', `printf '<14>%s\\n' ${local} | socat -u - UDP-DATAGRAM:127.0.0.1:514`]);
    t.is(r.code, 0, r.stderr);
    t.true(await waitFor(() => syslogText(s).includes(local), 10_000), 'a datagram to 127.0.0.1:514 is logged');
  }, boots);
});

const rejects: Array<{ fw: string; kernel: string; code: number; tcpdump: RegExp; counter: 'iptables' | 'nft' }> = [
  { fw: 'iptables-reject-host-prohibited', kernel: '6.1', code: 10, tcpdump: /unreachable - admin prohibited,/, counter: 'iptables' },
  { fw: 'iptables-reject-admin-prohibited', kernel: '6.17', code: 13, tcpdump: /unreachable - admin prohibited filter/, counter: 'iptables' },
  { fw: 'nft-reject-admin-prohibited', kernel: '6.1', code: 13, tcpdump: /unreachable - admin prohibited filter/, counter: 'nft' },
];
for (const c of rejects) {
  test.serial(`firewall ${c.fw} (${c.kernel}): ICMP destination unreachable code ${c.code} quoting the datagram`, async t => {
    const name = n(c.fw.startsWith('nft') ? 'nfa' : c.code === 10 ? 'iph' : 'ipa');
    await withLab(t, name, ['--kernel', c.kernel, '--firewall', c.fw], async s => {
      t.deepEqual(s.faults, [`firewall-${c.fw}`]);
      t.is(s.firewallRules.length, 1);
      const counter = async () => {
        if (c.counter === 'iptables') {
          const r = await inLogServer(name, ['iptables', '-L', 'INPUT', '-v', '-n', '-x']);
          const rule = r.stdout.split('\n').find(l => l.includes('REJECT') && l.includes('dpt:514')) ?? '';
          return Number(rule.trim().split(/\s+/)[0] ?? -1);
        }
        const r = await inLogServer(name, ['nft', 'list', 'table', 'inet', 'netdiag_lab']);
        return Number(/counter packets (\d+)/.exec(r.stdout)?.[1] ?? -1);
      };
      const before = await counter();
      t.true(before > 0, `the boot replay already hit the rule (${before})`);
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp');
      await cap.started();
      const mark = marker();
      await kmsg(name, mark);
      const answered = await waitFor(async () => (await icmpCodes(cap, 3)).length >= 1, 10_000, 300);
      await sleep(300);
      await cap.stop();
      t.true(answered, `ICMP type 3 in ${cap.file}`);
      t.deepEqual([...new Set(await icmpCodes(cap, 3))], [c.code], `every answer has code ${c.code}`);
      const icmp = (await run('tcpdump', ['-r', cap.file, '-n', '-v', 'icmp'])).stdout;
      t.regex(icmp, c.tcpdump, icmp);
      t.regex(icmp, /10\.99\.0\.2\.6665 > 10\.99\.0\.1\.514:/, 'the answer quotes the netconsole datagram');
      t.true((await counter()) > before, 'the rule counter rose');
      t.true((await cap.text()).includes(mark), 'the datagram itself was on the wire');
      t.false(syslogText(s).includes(mark), 'nothing in rsyslog');
    }, boots);
  });
}

test.serial('strict rp_filter, netconsole source on the management network (6.17): dropped at the receiver', async t => {
  const name = n('rpf');
  await withLab(t, name, ['--kernel', '6.17', '--rp-filter'], async (s: LabState) => {
    t.deepEqual(s.faults, ['rp-filter-asymmetric']);
    t.is(s.receiver.rpFilter, 1);
    t.is(s.netconsole.srcIp, '10.99.9.2');
    t.regex(s.netconsole.spec!, /^6665@10\.99\.9\.2\/eth0,/);
    const route = await inLogServer(name, ['ip', 'route', 'get', '10.99.9.2']);
    t.regex(route.stdout, new RegExp(`dev ${re(s.receiver.mgmtIface!)}`), 'the route back to the source leaves by the other interface');
    const sysctl = await inLogServer(name, ['sysctl', '-n', 'net.ipv4.conf.all.rp_filter']);
    t.is(sysctl.stdout.trim(), '1');
    const before = await netCounters(name);
    const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp');
    await cap.started();
    const mark = marker();
    await kmsg(name, mark);
    const seen = await waitFor(async () => (await cap.text()).includes(mark), 10_000, 500);
    await sleep(1000);
    await cap.stop();
    t.true(seen, `the marker arrives on the data interface (${cap.file})`);
    const line = (await cap.text()).split('\n').find(l => l.includes(`${s.sender.mac} >`) && l.includes('6665 >')) ?? '';
    t.regex(line, /10\.99\.9\.2\.6665 > 10\.99\.0\.1\.514:/, line);
    t.true(line.includes(`> ${s.receiver.mac}`), 'to the right MAC');
    const after = await netCounters(name);
    t.true(after.TcpExtIPReversePathFilter! > before.TcpExtIPReversePathFilter!,
      `TcpExt IPReversePathFilter ${before.TcpExtIPReversePathFilter} -> ${after.TcpExtIPReversePathFilter}`);
    t.false(syslogText(s).includes(mark), 'nothing in rsyslog');
  }, boots);
});

test.serial('no lab of this run is left; boot times', async t => {
  const ns = (await run('ip', ['netns', 'list'])).stdout;
  t.false(new RegExp(`^ndlab-${tag}`, 'm').test(ns), ns);
  t.log(`boots: ${JSON.stringify(boots)}`);
  t.log(`suite: ${Math.round((Date.now() - suiteStart) / 1000)} s`);
});
