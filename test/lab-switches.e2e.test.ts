/**
 * End-to-end tests of the lab's switches added for issues 9 and 13: each boots real kernels in
 * QEMU and checks, from the log server's side, what an administrator would see: the wire
 * (tcpdump), rsyslog's file, the kernel's counters, ICMP. They do not run netdiag: its verdicts
 * on these setups are tested by verify's own tests, except that the 6.17 captures (release,
 * userdata, sysdata, ncfrag through them) are also read by `netdiag analyze`. Labs boot one after
 * another; where switches do not disturb each other one boot serves several assertions (see
 * lab/README.md for timings).
 */
import { cliPath } from './helpers/cli.js';
import { haveCommand } from './helpers/prereq.js';
import {
  Capture,
  guest,
  inLogServer,
  kmsg,
  marker,
  netCounters,
  run,
  senderArgs,
  sleep,
  syslogText,
  verifyOnLab,
  waitFor,
  withLab,
  type LabState,
} from './lab-driver.js';
import { labSuite } from './helpers/lab-suite.js';

const { test, tag, n, boots, suiteStart } = labSuite('s', [haveCommand('xz'), 'xz (xz-utils, for the 6.17 modules)']);

/** A message of `netdiag analyze --json` (docs/json.md), the fields these tests read. */
interface DecodedMessage {
  text: string;
  mode: string;
  level?: number;
  fragments: number;
  release?: string;
  userdata?: Record<string, string>;
  sysdata?: { cpu?: string; taskname?: string; release?: string; msgid?: string };
  incomplete?: true;
}
const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** ICMP (v4) answers in a capture, as tcpdump prints them, with type and code. */
async function icmpCodes(cap: Capture, type: number): Promise<number[]> {
  const r = await run('tcpdump', ['-r', cap.file, '-n', '-x', `icmp and icmp[icmptype] == ${type}`]);
  // The ICMP header follows the 20-byte IP header: its first two bytes are type and code.
  const codes: number[] = [];
  for (const block of r.stdout.split(/\n(?=\S)/)) {
    const hex = block
      .split('\n')
      .slice(1)
      .map(l => l.replace(/^\s*0x[0-9a-f]+:\s*/, '').replace(/\s+/g, ''))
      .join('');
    if (hex.length >= 44) codes.push(parseInt(hex.slice(42, 44), 16));
  }
  return codes;
}

test.serial(
  'management NIC, spec without local IP, two targets to two ports (6.17, netconsole= on the command line)',
  async t => {
    const name = n('mgmt');
    await withLab(
      t,
      name,
      ['--kernel', '6.17', '--mgmt-nic', '--no-local-ip', '--two-targets', '--cmdline'],
      async s => {
        t.is(s.kernelSeries, '6.17');
        t.regex(s.kernel, /^6\.17\./);
        t.is(s.sender.mgmtIp, '10.99.9.2');
        t.is(s.ssh.host, s.sender.mgmtIp!, 'ssh goes over the management NIC');
        t.false(s.netconsole.localIpGiven);
        t.regex(s.netconsole.spec!, /^6665@\/eth0,514@10\.99\.0\.1\/02:99:00:00:00:01$/);
        t.deepEqual(
          s.netconsole.targets.map(x => [x.name, x.via, x.remotePort]),
          [
            ['boot', 'cmdline', 514],
            ['target2', 'configfs', 5514],
          ],
        );
        t.deepEqual(s.rsyslog.ports, [514, 5514]);

        const conn = await guest(
          name,
          'echo $SSH_CONNECTION; cat /proc/cmdline; cd /sys/kernel/config/netconsole/target2 && cat enabled remote_port local_ip dev_name',
        );
        t.is(conn.code, 0, conn.stderr);
        const [sshConn, cmdline, ...t2] = conn.stdout.trim().split('\n');
        t.regex(
          sshConn!,
          /^10\.99\.9\.1 \d+ 10\.99\.9\.2 22$/,
          'the ssh session runs between the management addresses',
        );
        t.true(cmdline!.includes(`netconsole=${s.netconsole.spec}`), cmdline);
        t.deepEqual(t2.slice(0, 2), ['1', '5514'], 'configfs target2 is enabled, to port 5514');
        t.is(t2[3], 'eth0');

        const data = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
        const mgmt = new Capture(s.receiver.netns, s.receiver.mgmtIface!, 'udp');
        await data.started();
        await mgmt.started();
        const mark = marker();
        await kmsg(name, mark);
        const both = await waitFor(
          () =>
            syslogText(s)
              .split('\n')
              .filter(l => l.includes(mark)).length >= 2,
          15_000,
        );
        await sleep(500);
        await data.stop();
        await mgmt.stop();
        t.true(both, `the marker is logged twice, once per target (${s.rsyslog.logFile})`);
        const wire = (await data.text()).split('\n').filter(l => l.includes(`${s.sender.mac} >`));
        const toPorts = (p: number) => wire.filter(l => l.includes(`10.99.0.2.6665 > 10.99.0.1.${p}:`)).length;
        t.true(toPorts(514) >= 1 && toPorts(5514) >= 1, `datagrams from eth0's address to 514 and 5514 (${data.file})`);
        t.false(
          wire.some(l => l.includes('10.99.9.2')),
          'netconsole does not use the management address',
        );
        t.is(
          await mgmt.count('udp src port 6665'),
          0,
          `nothing of netconsole on the management network (${mgmt.file})`,
        );
        const logLines = syslogText(s)
          .split('\n')
          .filter(l => l.includes(mark));
        t.true(
          logLines.every(l => /\s10\.99\.0\.2\s/.test(l)),
          logLines.join('\n'),
        );
      },
      boots,
    );
  },
);

test.serial('wrong remote IP with the right MAC (6.1): on the wire, dropped before any socket, no ICMP', async t => {
  const name = n('rip');
  await withLab(
    t,
    name,
    ['--kernel', '6.1', '--remote-ip', 'wrong'],
    async s => {
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
      const line =
        (await cap.text()).split('\n').find(l => l.includes(`${s.sender.mac} >`) && l.includes('10.99.0.77')) ?? '';
      t.true(line.includes(`> ${s.receiver.mac}`), `to the receiver's MAC: ${line}`);
      t.regex(line, /10\.99\.0\.2\.6665 > 10\.99\.0\.77\.514:/);
      t.is(await cap.count('icmp'), 0, 'the receiver does not answer (forwarding is off, no ICMP)');
      const after = await netCounters(name);
      t.true(
        after.IpInAddrErrors! > before.IpInAddrErrors!,
        `IpInAddrErrors ${before.IpInAddrErrors} -> ${after.IpInAddrErrors}`,
      );
      t.false(syslogText(s).includes(mark), 'nothing in rsyslog');
    },
    boots,
  );
});

test.serial('rsyslog bound to 127.0.0.1 only (6.17): port unreachable from outside, works on loopback', async t => {
  const name = n('lo');
  await withLab(
    t,
    name,
    ['--kernel', '6.17', '--syslog', 'loopback'],
    async s => {
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
      const r = await inLogServer(name, [
        'sh',
        '-c',
        `printf '<14>%s\\n' ${local} | socat -u - UDP-DATAGRAM:127.0.0.1:514`,
      ]);
      t.is(r.code, 0, r.stderr);
      t.true(await waitFor(() => syslogText(s).includes(local), 10_000), 'a datagram to 127.0.0.1:514 is logged');
    },
    boots,
  );
});

const rejects: Array<{ fw: string; kernel: string; code: number; tcpdump: RegExp; counter: 'iptables' | 'nft' }> = [
  {
    fw: 'iptables-reject-host-prohibited',
    kernel: '6.1',
    code: 10,
    tcpdump: /unreachable - admin prohibited,/,
    counter: 'iptables',
  },
  {
    fw: 'iptables-reject-admin-prohibited',
    kernel: '6.17',
    code: 13,
    tcpdump: /unreachable - admin prohibited filter/,
    counter: 'iptables',
  },
  {
    fw: 'nft-reject-admin-prohibited',
    kernel: '6.1',
    code: 13,
    tcpdump: /unreachable - admin prohibited filter/,
    counter: 'nft',
  },
];
for (const c of rejects) {
  test.serial(
    `firewall ${c.fw} (${c.kernel}): ICMP destination unreachable code ${c.code} quoting the datagram`,
    async t => {
      const name = n(c.fw.startsWith('nft') ? 'nfa' : c.code === 10 ? 'iph' : 'ipa');
      await withLab(
        t,
        name,
        ['--kernel', c.kernel, '--firewall', c.fw],
        async s => {
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
        },
        boots,
      );
    },
  );
}

test.serial(
  'strict rp_filter, netconsole source on the management network (6.17): dropped at the receiver',
  async t => {
    const name = n('rpf');
    await withLab(
      t,
      name,
      ['--kernel', '6.17', '--rp-filter'],
      async (s: LabState) => {
        t.deepEqual(s.faults, ['rp-filter-asymmetric']);
        t.is(s.receiver.rpFilter, 1);
        t.is(s.netconsole.srcIp, '10.99.9.2');
        t.regex(s.netconsole.spec!, /^6665@10\.99\.9\.2\/eth0,/);
        const route = await inLogServer(name, ['ip', 'route', 'get', '10.99.9.2']);
        t.regex(
          route.stdout,
          new RegExp(`dev ${re(s.receiver.mgmtIface!)}`),
          'the route back to the source leaves by the other interface',
        );
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
        const line =
          (await cap.text()).split('\n').find(l => l.includes(`${s.sender.mac} >`) && l.includes('6665 >')) ?? '';
        t.regex(line, /10\.99\.9\.2\.6665 > 10\.99\.0\.1\.514:/, line);
        t.true(line.includes(`> ${s.receiver.mac}`), 'to the right MAC');
        const after = await netCounters(name);
        t.true(
          after.TcpExtIPReversePathFilter! > before.TcpExtIPReversePathFilter!,
          `TcpExt IPReversePathFilter ${before.TcpExtIPReversePathFilter} -> ${after.TcpExtIPReversePathFilter}`,
        );
        t.false(syslogText(s).includes(mark), 'nothing in rsyslog');
      },
      boots,
    );
  },
);

/** ICMPv6 destination unreachable (type 1) answers in a capture: their codes. */
async function icmp6UnreachCodes(cap: Capture): Promise<number[]> {
  const r = await run('tcpdump', ['-r', cap.file, '-n', '-x', 'icmp6 and ip6[40] == 1']);
  const codes: number[] = [];
  for (const block of r.stdout.split(/\n(?=\S)/)) {
    const hex = block
      .split('\n')
      .slice(1)
      .map(l => l.replace(/^\s*0x[0-9a-f]+:\s*/, '').replace(/\s+/g, ''))
      .join('');
    // The ICMPv6 header follows the 40-byte IPv6 header.
    if (hex.length >= 84) codes.push(parseInt(hex.slice(82, 84), 16));
  }
  return codes;
}

test.serial('IPv6 (6.17): boot-parameter and configfs targets to fd99::1, ssh over IPv6', async t => {
  const name = n('v6');
  await withLab(
    t,
    name,
    ['--kernel', '6.17', '--ipv6', '--cmdline', '--two-targets'],
    async s => {
      t.true(s.netconsole.ipv6);
      t.is(s.netconsole.spec, `6665@fd99::2/eth0,514@fd99::1/${s.receiver.mac}`);
      t.deepEqual(
        s.netconsole.targets.map(x => [x.name, x.remoteIp, x.remotePort]),
        [
          ['boot', 'fd99::1', 514],
          ['target2', 'fd99::1', 5514],
        ],
      );
      t.is(s.ssh.host, 'fd99::2');
      const g = await guest(
        name,
        'echo $SSH_CONNECTION; cat /sys/kernel/config/netconsole/target2/local_ip /sys/kernel/config/netconsole/target2/remote_ip',
      );
      t.is(g.code, 0, g.stderr);
      t.deepEqual(
        g.stdout
          .trim()
          .split('\n')
          .map(l => l.replace(/ \d+ /, ' P ')),
        ['fd99::1 P fd99::2 22', 'fd99::2', 'fd99::1'],
        'ssh runs over IPv6; configfs shows the IPv6 addresses',
      );
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
      await cap.started();
      const mark = marker();
      await kmsg(name, mark);
      const both = await waitFor(
        () =>
          syslogText(s)
            .split('\n')
            .filter(l => l.includes(mark)).length >= 2,
        15_000,
      );
      await sleep(300);
      await cap.stop();
      t.true(both, `logged once per target (${s.rsyslog.logFile})`);
      const wire = (await run('tcpdump', ['-r', cap.file, '-n', '-v', 'ip6 and udp'])).stdout;
      t.regex(wire, /fd99::2\.6665 > fd99::1\.514:/, `IPv6 datagram to 514 (${cap.file})`);
      t.regex(wire, /fd99::2\.6665 > fd99::1\.5514:/, `IPv6 datagram to 5514 (${cap.file})`);
      t.is(await cap.count('ip and udp src port 6665'), 0, 'nothing over IPv4');
      t.true(
        syslogText(s)
          .split('\n')
          .filter(l => l.includes(mark))
          .every(l => / fd99::2 /.test(l)),
        'rsyslog names the IPv6 sender',
      );
    },
    boots,
  );
});

test.serial('IPv6 (6.1): a configfs target in extended mode', async t => {
  const name = n('v6c');
  await withLab(
    t,
    name,
    ['--kernel', '6.1', '--ipv6', '--configfs', '--mode', 'extended'],
    async s => {
      t.is(s.netconsole.spec, `+6665@fd99::2/eth0,514@fd99::1/${s.receiver.mac}`);
      const mark = marker();
      await kmsg(name, mark);
      t.true(await waitFor(() => syslogText(s).includes(mark), 10_000), `marker in ${s.rsyslog.logFile}`);
      t.regex(syslogText(s), new RegExp(`fd99::2 +\\d+,\\d+,\\d+,-;${mark}`));
    },
    boots,
  );
});

for (const [fw, kernel] of [
  ['iptables-drop', '6.1'],
  ['nft-reject', '6.17'],
] as const) {
  test.serial(`IPv6 firewall ${fw} (${kernel}) on the log server`, async t => {
    const name = n(`v6${fw.slice(0, 3)}`);
    await withLab(
      t,
      name,
      ['--kernel', kernel, '--ipv6', '--firewall', fw],
      async s => {
        t.true(
          s.firewallRules[0]!.startsWith(
            fw === 'iptables-drop' ? 'ip6tables -A INPUT' : 'nft add rule inet netdiag_lab input',
          ),
          s.firewallRules.join('; '),
        );
        const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp6');
        await cap.started();
        const mark = marker();
        await kmsg(name, mark);
        const seen = await waitFor(async () => (await cap.text()).includes(mark), 10_000, 500);
        if (fw === 'nft-reject') await waitFor(async () => (await icmp6UnreachCodes(cap)).length > 0, 10_000, 300);
        else await sleep(1500);
        await cap.stop();
        t.true(seen, `marker on the wire (${cap.file})`);
        const codes = await icmp6UnreachCodes(cap);
        if (fw === 'iptables-drop') {
          t.deepEqual(codes, [], 'DROP: no answer');
          const r = await inLogServer(name, ['ip6tables', '-L', 'INPUT', '-v', '-n', '-x']);
          const rule = r.stdout.split('\n').find(l => l.includes('DROP')) ?? '';
          t.true(Number(rule.trim().split(/\s+/)[0]) > 0, rule);
        } else {
          t.true(
            codes.length > 0 && codes.every(c => c === 4),
            `ICMPv6 port unreachable (type 1 code 4): ${codes.join(',')}`,
          );
        }
        t.false(syslogText(s).includes(mark));
      },
      boots,
    );
  });
}

test.serial('IPv6 faults on one server (three guests): wrong MAC, nothing listening, wrong port', async t => {
  const name = n('v6f');
  const specs = ['kernel=6.1,remote-mac=wrong', 'kernel=6.17', 'kernel=6.1,wrong-port'];
  await withLab(
    t,
    name,
    ['--ipv6', '--syslog', 'no-imudp', '--guests', '3', ...specs.flatMap(g => ['--guest', g])],
    async s => {
      t.deepEqual(
        s.guests.map(g => g.faults),
        [['syslog-no-imudp', 'remote-mac-wrong'], ['syslog-no-imudp'], ['syslog-no-imudp', 'wrong-port']],
      );
      t.deepEqual(s.rsyslog.addresses, [], 'imudp not loaded');
      const before = await netCounters(name);
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp6');
      await cap.started();
      const marks = s.guests.map(() => marker());
      for (const g of s.guests) await kmsg(name, marks[g.index - 1]!, 6, g.index);
      const answered = await waitFor(
        async () => {
          const v6 = (await run('tcpdump', ['-r', cap.file, '-n', 'icmp6 and ip6[40] == 1'])).stdout;
          return v6.includes('fd99::3') && v6.includes('fd99::4');
        },
        10_000,
        300,
      );
      await sleep(500);
      await cap.stop();
      const v6 = (await run('tcpdump', ['-r', cap.file, '-n', '-v', 'icmp6 and ip6[40] == 1'])).stdout;
      t.true(answered, `ICMPv6 unreachable to guests 2 and 3 (${cap.file})`);
      t.regex(
        v6,
        /fd99::1 > fd99::3: \[icmp6 sum ok\] ICMP6, destination unreachable, unreachable port, fd99::1 udp port 514/,
        v6,
      );
      t.regex(
        v6,
        /fd99::1 > fd99::4: \[icmp6 sum ok\] ICMP6, destination unreachable, unreachable port, fd99::1 udp port 6666/,
        v6,
      );
      t.false(v6.includes('> fd99::2:'), 'no answer to the wrong-MAC guest');
      t.deepEqual([...new Set(await icmp6UnreachCodes(cap))], [4], 'port unreachable (code 4)');
      const g1 =
        (await cap.text()).split('\n').find(l => l.includes(`${s.guests[0]!.sender.mac} >`) && l.includes('6665 >')) ??
        '';
      t.true(g1.includes('> 02:99:de:ad:be:ef') && g1.includes('fd99::2.6665 > fd99::1.514'), `guest 1: ${g1}`);
      const after = await netCounters(name);
      t.true(
        after.Udp6NoPorts! >= before.Udp6NoPorts! + 2,
        `Udp6NoPorts ${before.Udp6NoPorts} -> ${after.Udp6NoPorts}`,
      );
      const log = syslogText(s);
      t.false(
        marks.some(m => log.includes(m)),
        'nothing logged',
      );
      // verify over IPv6 against the 6.17 guest: rsyslog runs, without its UDP input.
      const v = await verifyOnLab(s, [...senderArgs(s.guests[1]!.ssh), '--timeout', '5', '--json']);
      const j = JSON.parse(v.stdout || '{}') as {
        senderIp?: string;
        rootCause?: { code: string; summary: string } | null;
        checks?: Array<{ id: string; status: string; detail: string }>;
      };
      const failing = JSON.stringify(j.checks?.filter(c => c.status !== 'pass' && c.status !== 'skip'));
      t.is(v.code, 1, v.stderr);
      t.is(j.senderIp, 'fd99::3');
      t.is(j.rootCause?.code, 'receiver-not-listening', failing);
      t.deepEqual(
        j.checks?.filter(c => c.status === 'fail').map(c => c.id),
        ['verify.socket'],
        failing,
      );
    },
    boots,
  );
});

test.serial('configfs of today (6.17): release, userdata entries, every sysdata switch', async t => {
  const name = n('udata');
  await withLab(
    t,
    name,
    [
      '--kernel',
      '6.17',
      '--configfs',
      '--mode',
      'extended',
      '--release',
      '--userdata',
      'rack=r42',
      '--userdata',
      'note=hello world',
      '--userdata',
      'cpu=rack-cpu',
      '--sysdata',
      'all',
    ],
    async s => {
      t.deepEqual(s.netconsole.userdata, { rack: 'r42', note: 'hello world', cpu: 'rack-cpu' });
      t.deepEqual(s.netconsole.sysdata, ['cpu_nr', 'taskname', 'release', 'msgid']);
      const cfg = await guest(
        name,
        'cd /sys/kernel/config/netconsole/target1 && for f in enabled extended release transmit_errors userdata/cpu_nr_enabled userdata/taskname_enabled userdata/release_enabled userdata/msgid_enabled userdata/rack/value userdata/note/value; do echo "$f=$(cat $f)"; done',
      );
      t.is(cfg.code, 0, cfg.stderr);
      t.deepEqual(cfg.stdout.trim().split('\n'), [
        'enabled=1',
        'extended=1',
        'release=1',
        'transmit_errors=0',
        'userdata/cpu_nr_enabled=1',
        'userdata/taskname_enabled=1',
        'userdata/release_enabled=1',
        'userdata/msgid_enabled=1',
        'userdata/rack/value=r42',
        'userdata/note/value=hello world',
      ]);
      t.is((await guest(name, 'cat /sys/kernel/config/netconsole/target1/userdata/cpu/value')).stdout, 'rack-cpu\n');
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
      await cap.started();
      const mark = marker();
      await kmsg(name, mark);
      // A record of about 890 bytes: with the userdata and sysdata lines (about 120 bytes) it is
      // over what one datagram holds, so it comes in ncfrag pieces cut in the appended lines.
      const long = `${marker()} ${'x'.repeat(860)}`;
      await kmsg(name, long);
      t.true(
        await waitFor(async () => (await cap.count('udp')) >= 3, 10_000, 300),
        `the marker and the long record's pieces on the wire (${cap.file})`,
      );
      await sleep(500);
      await cap.stop();
      const wire = await cap.text();
      const payload = wire.split(s.kernel).slice(1).join(s.kernel);
      t.regex(
        payload,
        new RegExp(
          `^,\\d+,\\d+,\\d+,-;${mark}\\n cpu=rack-cpu\\n note=hello world\\n rack=r42\\n cpu=\\d+\\n taskname=\\S+\\n release=${re(s.kernel)}\\n msgid=\\d+\\n`,
        ),
        'release prefix, text, the userdata entries (a userdata cpu too), then sysdata',
      );
      t.regex(wire, /,ncfrag=\d+\/\d+;/, 'the long record in ncfrag pieces');

      // What netdiag decodes from this real capture.
      const a = await run(process.execPath, [cliPath, 'analyze', '--json', cap.file]);
      t.true(a.code === 0 || a.code === 1, a.stderr);
      const doc = JSON.parse(a.stdout) as { messages: DecodedMessage[] };
      const m = doc.messages.find(x => x.text === mark);
      t.truthy(m, `the marker decoded: ${a.stdout.slice(0, 2000)}`);
      t.like(m, {
        mode: 'extended',
        level: 6,
        release: s.kernel,
        userdata: { cpu: 'rack-cpu', note: 'hello world', rack: 'r42' },
        sysdata: { release: s.kernel },
        fragments: 1,
      });
      t.regex(m?.sysdata?.cpu ?? '', /^\d+$/, 'the sysdata cpu is a number, beside the userdata cpu');
      t.regex(m?.sysdata?.msgid ?? '', /^\d+$/);
      t.regex(m?.sysdata?.taskname ?? '', /^\S+$/);
      const l = doc.messages.find(x => x.text === long);
      t.truthy(l, 'the long record whole, cut through its userdata or sysdata');
      t.like(l, {
        release: s.kernel,
        userdata: { cpu: 'rack-cpu', note: 'hello world', rack: 'r42' },
        sysdata: { release: s.kernel },
      });
      t.true((l?.fragments ?? 0) >= 2, `${l?.fragments} ncfrag pieces`);
      t.is(l?.incomplete, undefined);
      t.true(Number(l?.sysdata?.msgid) > Number(m?.sysdata?.msgid), 'msgid counts the records sent');
    },
    boots,
  );
});

test.serial('+r spec with the device given by MAC (6.17, module parameter)', async t => {
  const name = n('devmac');
  await withLab(
    t,
    name,
    ['--kernel', '6.17', '--mode', 'extended', '--release', '--dev-mac'],
    async s => {
      t.is(s.netconsole.spec, `+r6665@10.99.0.2/${s.sender.mac},514@10.99.0.1/${s.receiver.mac}`);
      t.true(s.netconsole.devByMac);
      const dmesg = await guest(name, 'dmesg | grep netconsole:');
      t.regex(dmesg.stdout, new RegExp(`local ethernet address '${s.sender.mac}'`));
      const mark = marker();
      await kmsg(name, mark);
      t.true(await waitFor(() => syslogText(s).includes(mark), 10_000));
      t.regex(
        syslogText(s),
        new RegExp(`${re(s.kernel)},\\d+,\\d+,\\d+,-;${mark}`),
        'release before the extended header',
      );
      // analyze on the boot capture (the replay) and the marker sent now, through the same
      // receiver: the release is taken apart from the header, no userdata or sysdata.
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
      await cap.started();
      const mark2 = marker();
      await kmsg(name, mark2);
      t.true(await waitFor(async () => (await cap.count('udp')) >= 1, 10_000, 300));
      await cap.stop();
      const a = await run(process.execPath, [cliPath, 'analyze', '--json', cap.file]);
      const m = (JSON.parse(a.stdout) as { messages: DecodedMessage[] }).messages.find(x => x.text === mark2);
      t.like(m, { mode: 'extended', release: s.kernel, level: 6 });
      t.is(m?.userdata, undefined);
      t.is(m?.sysdata, undefined);
    },
    boots,
  );
});

test.serial('six guests of two kernels on one log-server bridge, each with its own faults', async t => {
  const name = n('six');
  // Guests 5 and 6: the guest faults whose other tests boot 6.1 (LAB_TEST_KERNEL), on 6.17.
  const specs = [
    'kernel=6.1',
    'kernel=6.17,mode=extended',
    'kernel=6.1,remote-mac=wrong',
    'kernel=6.17,ipv6,firewall=iptables-reject-admin-prohibited',
    'kernel=6.17,remote-ip=wrong',
    'kernel=6.17,wrong-port',
  ];
  await withLab(
    t,
    name,
    ['--guests', '6', ...specs.flatMap(g => ['--guest', g])],
    async s => {
      t.is(s.guests.length, 6);
      t.deepEqual(
        s.guests.map(g => g.kernelSeries),
        ['6.1', '6.17', '6.1', '6.17', '6.17', '6.17'],
      );
      t.deepEqual(
        s.guests.map(g => g.sender.ip),
        ['10.99.0.2', '10.99.0.3', '10.99.0.4', '10.99.0.5', '10.99.0.6', '10.99.0.7'],
      );
      t.is(new Set(s.guests.map(g => g.sender.mac)).size, 6, 'each guest its own MAC');
      t.deepEqual(
        s.guests.map(g => g.faults),
        [
          [],
          [],
          ['remote-mac-wrong'],
          ['firewall-iptables-reject-admin-prohibited'],
          ['remote-ip-wrong'],
          ['wrong-port'],
        ],
      );
      t.deepEqual(s.sender, s.guests[0]!.sender, 'guest 1 fills the single-guest fields');
      t.is(s.receiver.iface, s.receiver.bridge!);
      t.deepEqual(s.firewallRules, [
        'ip6tables -A INPUT -s fd99::5 -p udp --dport 514 -j REJECT --reject-with icmp6-adm-prohibited',
      ]);
      t.deepEqual(
        s.guests.map(g => g.ssh.host),
        ['10.99.0.2', '10.99.0.3', '10.99.0.4', 'fd99::5', '10.99.0.6', '10.99.0.7'],
      );

      const before = await netCounters(name);
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp or icmp6');
      await cap.started();
      const marks = s.guests.map(() => marker());
      for (const g of s.guests) {
        const u = await guest(name, `uname -r; echo '<6>${marks[g.index - 1]}' > /dev/kmsg`, g.index);
        t.is(u.code, 0, u.stderr);
        t.is(u.stdout.trim(), g.kernel, `guest ${g.index} runs its own kernel`);
      }
      const logged = await waitFor(() => marks.slice(0, 2).every(m => syslogText(s).includes(m)), 15_000);
      await waitFor(async () => (await icmp6UnreachCodes(cap)).length > 0, 10_000, 300);
      await waitFor(async () => (await cap.count('icmp and dst host 10.99.0.7')) > 0, 10_000, 300);
      await sleep(500);
      await cap.stop();
      const after = await netCounters(name);
      const log = syslogText(s);
      t.true(logged, `guests 1 and 2 logged (${s.rsyslog.logFile})`);
      t.regex(log, new RegExp(`10\\.99\\.0\\.2 +\\[ *\\d+\\.\\d+\\] ${marks[0]}`), 'guest 1: plain, from 10.99.0.2');
      t.regex(log, new RegExp(`10\\.99\\.0\\.3 +\\d+,\\d+,\\d+,-;${marks[1]}`), 'guest 2: extended, from 10.99.0.3');
      t.false(log.includes(marks[2]!), 'guest 3 (wrong MAC) not logged');
      t.false(log.includes(marks[3]!), 'guest 4 (rejected) not logged');
      t.false(log.includes(marks[4]!), 'guest 5 (wrong remote IP) not logged');
      t.false(log.includes(marks[5]!), 'guest 6 (wrong port) not logged');
      const wire = await cap.text();
      const g3 = wire.split('\n').find(l => l.includes(`${s.guests[2]!.sender.mac} >`) && l.includes('6665 >')) ?? '';
      t.true(g3.includes('> 02:99:de:ad:be:ef'), `guest 3's frames go to the wrong MAC: ${g3}`);
      t.true(wire.includes(marks[2]!), `guest 3's marker is on the bridge (${cap.file})`);
      t.deepEqual(
        [...new Set(await icmp6UnreachCodes(cap))],
        [1],
        'guest 4: ICMPv6 unreachable code 1 (administratively prohibited)',
      );
      const v6 = (await run('tcpdump', ['-r', cap.file, '-n', 'icmp6 and ip6[40] == 1'])).stdout;
      t.regex(v6, /fd99::1 > fd99::5: ICMP6, destination unreachable/, v6);
      // Guest 5 (6.17): to 10.99.0.77 with the receiver's MAC, dropped before any socket, no answer.
      t.true(wire.includes('10.99.0.6.6665 > 10.99.0.77.514'), `guest 5 sends to the wrong IP (${cap.file})`);
      t.is(await cap.count('icmp and dst host 10.99.0.6'), 0, 'no ICMP answer to guest 5');
      t.true(
        after.IpInAddrErrors! > before.IpInAddrErrors!,
        `IpInAddrErrors ${before.IpInAddrErrors} -> ${after.IpInAddrErrors}`,
      );
      // Guest 6 (6.17): to port 6666, where nothing listens: ICMP port unreachable.
      const v4 = (await run('tcpdump', ['-r', cap.file, '-n', 'icmp and dst host 10.99.0.7'])).stdout;
      t.regex(v4, /10\.99\.0\.1 > 10\.99\.0\.7: ICMP 10\.99\.0\.1 udp port 6666 unreachable/, v4);
      const r = await inLogServer(name, ['ip6tables', '-L', 'INPUT', '-v', '-n', '-x']);
      const rule = r.stdout.split('\n').find(l => l.includes('REJECT')) ?? '';
      t.true(Number(rule.trim().split(/\s+/)[0]) > 0, rule);
      t.log(
        `ssh ready after QEMU start: ${s.guests.map(g => `guest ${g.index} (${g.kernelSeries}) ${g.timings.sshReadyMs} ms`).join(', ')}`,
      );
    },
    boots,
  );
});

test.serial('no lab of this run is left; boot times', async t => {
  const ns = (await run('ip', ['netns', 'list'])).stdout;
  t.false(new RegExp(`^ndlab-${tag}`, 'm').test(ns), ns);
  t.log(`boots: ${JSON.stringify(boots)}`);
  t.log(`suite: ${Math.round((Date.now() - suiteStart) / 1000)} s`);
});
