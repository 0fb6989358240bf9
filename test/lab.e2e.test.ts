/**
 * End-to-end tests of the netconsole lab: a real Debian kernel in QEMU sends netconsole to a
 * log-server namespace running rsyslog. Everything is checked from the log server's side, as
 * an administrator would: the wire (tcpdump), rsyslog's file, firewall counters, ICMP.
 * Labs boot one after another (2 shared cores); each test takes its lab down and checks that
 * nothing is left. On failure the capture file's path is in the assertion message.
 */
import {
  Capture,
  guest,
  inLogServer,
  kmsg,
  lab,
  labSh,
  marker,
  run,
  sleep,
  syslogText,
  waitFor,
  withLab as withLabRecorded,
  type LabState,
} from './lab-driver.js';
import { labSuite } from './helpers/lab-suite.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { test, tag, n, boots, suiteStart } = labSuite('e');
/** Boots a lab, runs `body`, and always takes the lab down and checks it left nothing; the boot is recorded. */
const withLab = (
  t: Parameters<typeof withLabRecorded>[0],
  name: string,
  opts: string[],
  body: (s: LabState) => Promise<void>,
) => withLabRecorded(t, name, opts, body, boots);

/**
 * Positive control for a test that expects silence: the log server broadcasts one datagram out
 * of the capture's interface; a capture that works sees it.
 */
async function sendControl(name: string, netns: string, ip: string): Promise<string> {
  const text = `ndlab-control-${Math.random().toString(36).slice(2)}`;
  const bcast = ip.split('.').slice(0, 3).concat('255').join('.');
  const r = await run('ip', [
    'netns',
    'exec',
    netns,
    'socat',
    '-u',
    `SYSTEM:echo ${text}`,
    `UDP-DATAGRAM:${bcast}:9,broadcast`,
  ]);
  if (r.code !== 0) throw new Error(`control datagram not sent (${name}): ${r.stderr}`);
  return text;
}

/**
 * The kernels a test runs on when the kernel matters to what it shows (the sender's own
 * behaviour: boot replay, sysrq, console log level, configfs, bonding, carrier loss): Debian 12's
 * 6.1 and 6.17 from trixie-backports. Tests of the log server's side (firewall, rsyslog, router)
 * boot LAB_TEST_KERNEL (default 6.1) only; lab-switches runs its own on either kernel.
 */
const kernels = ['6.1', '6.17'] as const;
const onKernel = (kernel: string): string[] => ['--kernel', kernel];
/** Lab names stay as they were for 6.1; 6.17's get a 7. */
const suffix = (kernel: string): string => (kernel === '6.1' ? '' : '7');

test.serial('build is cached: a second build takes seconds; both kernels are known', async t => {
  const first = await lab(['build', '--all'], 900_000);
  t.is(first.code, 0, first.stderr);
  const t0 = Date.now();
  const second = await lab(['build', '--all']);
  t.is(second.code, 0, second.stderr);
  t.true(Date.now() - t0 < 20_000, `second build of both kernels took ${Date.now() - t0} ms`);
  t.regex((await lab(['kernel-version', '--kernel', '6.1'])).stdout, /^6\.1\.0-\d+-amd64\n$/);
  t.regex((await lab(['kernel-version', '--kernel', '6.17'])).stdout, /^6\.17\.\d+\+deb13-amd64\n$/);
  t.regex((await lab(['kernel-version'])).stdout, /^6\.17\./, 'the default is the newest');
});

for (const kernel of kernels) {
  test.serial(
    `working lab (${kernel}): boot log, sysrq p and a /dev/kmsg marker reach the wire and rsyslog`,
    async t => {
      const name = n(`ok${suffix(kernel)}`);
      await withLab(t, name, onKernel(kernel), async s => {
        const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
        await cap.started();
        const mark = marker();
        await kmsg(name, mark);
        const p = await guest(name, 'echo p > /proc/sysrq-trigger');
        t.is(p.code, 0, p.stderr);
        const arrived = await waitFor(() => {
          const log = syslogText(s);
          return log.includes(mark) && log.includes('sysrq: Show Regs');
        }, 15_000);
        await cap.stop();
        const log = syslogText(s);
        t.true(arrived, `marker and sysrq line in ${s.rsyslog.logFile}; capture ${cap.file}`);
        const wire = await cap.text();
        t.true(wire.includes(mark), `marker on the wire (${cap.file})`);
        t.true(wire.includes('sysrq: Show Regs'), `sysrq line on the wire (${cap.file})`);
        t.true(wire.includes(`> ${s.receiver.mac.toLowerCase()}`), 'sent to the receiver MAC');
        t.true((await cap.count(`udp and src port ${s.netconsole.localPort} and dst port ${s.receiver.port}`)) >= 2);
        t.regex(log, new RegExp(`10\\.99\\.0\\.2 +\\[ *\\d+\\.\\d+\\] ${mark}`), 'plain format in rsyslog');

        // The boot log replay, captured by lab up from before QEMU started.
        const bootCap = await run('tcpdump', ['-r', `${s.runDir}/boot.pcap`, '-n', '-A', 'udp']);
        const bootList = await run('tcpdump', [
          '-r',
          `${s.runDir}/boot.pcap`,
          '-n',
          `udp src port ${s.netconsole.localPort}`,
        ]);
        const bootDatagrams = bootList.stdout
          .split('\n')
          .filter(l => l.includes(`${s.sender.ip}.${s.netconsole.localPort} >`)).length;
        t.true(bootDatagrams > 100, `boot replay: ${bootDatagrams} datagrams`);
        t.true(bootCap.stdout.includes(`Linux version ${s.kernel}`), 'boot replay starts with the kernel banner');

        // The keyboard path (QEMU monitor) gives the full register dump.
        const mon = await lab(['monitor', name, '--', 'sendkey alt-sysrq-p']);
        t.is(mon.code, 0, mon.stderr);
        t.true(
          await waitFor(() => /RIP: /.test(syslogText(s)), 15_000),
          'register dump (RIP:) from sendkey alt-sysrq-p',
        );
      });
    },
  );
}

for (const kernel of kernels) {
  test.serial(`wrong remote MAC (${kernel}): the frame is on the wire, nothing in rsyslog`, async t => {
    const name = n(`mac${suffix(kernel)}`);
    await withLab(t, name, [...onKernel(kernel), '--remote-mac', 'wrong'], async s => {
      t.is(s.netconsole.remoteMac, '02:99:de:ad:be:ef');
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
      await cap.started();
      const mark = marker();
      await kmsg(name, mark);
      const seen = await waitFor(async () => (await cap.text()).includes(mark), 10_000, 500);
      await sleep(1000);
      await cap.stop();
      const wire = await cap.text();
      t.true(seen, `marker frame on the wire (${cap.file})`);
      const line = wire.split('\n').find(l => l.includes(s.sender.mac)) ?? '';
      t.true(line.includes('> 02:99:de:ad:be:ef'), `destination MAC is the wrong one: ${line}`);
      t.false(syslogText(s).includes(mark), 'nothing in rsyslog');
    });
  });
}

async function iptablesDropped(name: string): Promise<number> {
  const r = await inLogServer(name, ['iptables', '-L', 'INPUT', '-v', '-n', '-x']);
  const rule = r.stdout.split('\n').find(l => /DROP|REJECT/.test(l) && l.includes('dpt:'));
  return rule ? Number(rule.trim().split(/\s+/)[0]) : -1;
}

async function nftCounter(name: string): Promise<number> {
  const r = await inLogServer(name, ['nft', 'list', 'table', 'inet', 'netdiag_lab']);
  const m = /counter packets (\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : -1;
}

for (const [fw, counter] of [
  ['iptables-drop', iptablesDropped],
  ['nft-drop', nftCounter],
] as const) {
  test.serial(`firewall ${fw}: datagrams on the wire, counter rises, nothing in rsyslog`, async t => {
    const name = fw === 'iptables-drop' ? n('ipt') : n('nft');
    await withLab(t, name, ['--firewall', fw], async s => {
      const before = await counter(name);
      t.true(before >= 0, 'the lab installed the rule');
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
      await cap.started();
      const mark = marker();
      await kmsg(name, mark);
      await kmsg(name, `${mark}-2`);
      const rose = await waitFor(async () => (await counter(name)) >= before + 2, 10_000, 300);
      await cap.stop();
      t.true(rose, `counter went from ${before} to ${await counter(name)}`);
      t.true((await cap.text()).includes(mark), `marker on the wire (${cap.file})`);
      t.false(syslogText(s).includes(mark), 'nothing in rsyslog');
    });
  });
}

async function udpNoPorts(name: string): Promise<number> {
  const snmp = (await inLogServer(name, ['cat', '/proc/net/snmp'])).stdout
    .split('\n')
    .filter(l => l.startsWith('Udp:'));
  const keys = snmp[0]!.split(/\s+/),
    vals = snmp[1]!.split(/\s+/);
  return Number(vals[keys.indexOf('NoPorts')]);
}

test.serial('syslog off: ICMP port unreachable answers the datagrams', async t => {
  await withLab(t, n('off'), ['--syslog', 'off'], async s => {
    t.is(s.rsyslog.pid, null);
    const before = await udpNoPorts(n('off'));
    const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp');
    await cap.started();
    await kmsg(n('off'), marker());
    const answered = await waitFor(
      async () => (await cap.count('icmp[icmptype] == icmp-unreach and icmp[icmpcode] == 3')) >= 1,
      10_000,
      300,
    );
    await cap.stop();
    t.true(answered, `ICMP port unreachable in ${cap.file}`);
    const icmp = await cap.text('icmp');
    t.regex(
      icmp,
      new RegExp(
        `${s.receiver.ip.replace(/\./g, '\\.')} > ${s.sender.ip.replace(/\./g, '\\.')}: ICMP ${s.receiver.ip.replace(/\./g, '\\.')} udp port ${s.receiver.port} unreachable`,
      ),
    );
    t.true((await udpNoPorts(n('off'))) > before, 'Udp NoPorts rose');
  });
});

test.serial('router crossing with the router MAC: messages reach rsyslog on the other subnet', async t => {
  await withLab(t, n('rtr'), ['--router'], async s => {
    t.truthy(s.router);
    t.is(s.netconsole.remoteMac, s.router!.mac);
    t.not(s.receiver.ip.split('.').slice(0, 3).join('.'), s.sender.ip.split('.').slice(0, 3).join('.'));
    const mark = marker();
    await kmsg(n('rtr'), mark);
    t.true(await waitFor(() => syslogText(s).includes(mark), 10_000), `marker in ${s.rsyslog.logFile}`);
  });
});

test.serial('router crossing with the receiver MAC: the router drops it, nothing arrives', async t => {
  await withLab(t, n('rtm'), ['--router', '--router-mac', 'receiver'], async s => {
    t.is(s.netconsole.remoteMac, s.receiver.mac);
    const atRouter = new Capture(s.router!.netns, s.router!.senderSideIface, 'udp');
    const atReceiver = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
    await atRouter.started();
    await atReceiver.started();
    const mark = marker();
    await kmsg(n('rtm'), mark);
    const seen = await waitFor(async () => (await atRouter.text()).includes(mark), 10_000, 500);
    await sleep(1500);
    const control = await sendControl(n('rtm'), s.receiver.netns, s.receiver.ip);
    await sleep(500);
    await atRouter.stop();
    await atReceiver.stop();
    t.true(seen, `frame reached the router's port (${atRouter.file})`);
    const line = (await atRouter.text()).split('\n').find(l => l.includes(s.sender.mac)) ?? '';
    t.true(line.includes(`> ${s.receiver.mac}`), `addressed to the receiver's MAC: ${line}`);
    const atReceiverText = await atReceiver.text();
    t.true(atReceiverText.includes(control), `the receiver's capture works (${atReceiver.file})`);
    t.false(atReceiverText.includes(mark), `not forwarded to the receiver (${atReceiver.file})`);
    t.false(syslogText(s).includes(mark), 'nothing in rsyslog');
  });
});

for (const kernel of kernels) {
  test.serial(`console loglevel 1 (${kernel}): an info message is not sent, an emergency one is`, async t => {
    const name = n(`lvl${suffix(kernel)}`);
    await withLab(t, name, [...onKernel(kernel), '--loglevel', '1'], async s => {
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
      await cap.started();
      const quiet = marker(),
        loud = marker();
      await kmsg(name, quiet, 6);
      await kmsg(name, loud, 0);
      const loudArrived = await waitFor(() => syslogText(s).includes(loud), 10_000);
      await sleep(1000);
      await cap.stop();
      t.true(loudArrived, 'the level-0 control message arrives');
      t.false((await cap.text()).includes(quiet), `the level-6 message is not on the wire (${cap.file})`);
      t.false(syslogText(s).includes(quiet));
      const printk = await guest(name, 'cat /proc/sys/kernel/printk');
      t.regex(printk.stdout, /^1\s/);
      // 6.1's __handle_sysrq raises the console log level for its header line, so a sysrq
      // test message still gets through when ordinary messages do not.
      await guest(name, 'echo p > /proc/sysrq-trigger');
      t.true(await waitFor(() => syslogText(s).includes('sysrq: Show Regs'), 10_000), 'sysrq header still sent');
    });
  });
}

for (const kernel of kernels) {
  test.serial(`configfs target, extended format, on a bond (${kernel}): messages arrive in extended form`, async t => {
    const name = n(`cfg${suffix(kernel)}`);
    await withLab(t, name, [...onKernel(kernel), '--configfs', '--mode', 'extended', '--bond'], async s => {
      const ls = await guest(
        name,
        'cat /sys/kernel/config/netconsole/target1/enabled /sys/kernel/config/netconsole/target1/dev_name',
      );
      t.is(ls.stdout, '1\nbond0\n');
      const mark = marker();
      await kmsg(name, mark);
      t.true(await waitFor(() => syslogText(s).includes(mark), 10_000));
      t.regex(syslogText(s), new RegExp(`\\d+,\\d+,\\d+,-;${mark}`), 'extended header level,seq,usec,flags;');
    });
  });
}

for (const kernel of kernels) {
  test.serial(`link down after boot (${kernel}): nothing is sent; ssh still works over the second NIC`, async t => {
    const name = n(`lnk${suffix(kernel)}`);
    await withLab(t, name, [...onKernel(kernel), '--link-down'], async s => {
      const link = await guest(name, 'ip -br link show eth0');
      t.regex(link.stdout, /NO-CARRIER/);
      const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
      await cap.started();
      const mark = marker();
      await kmsg(name, mark);
      await sleep(2500);
      const control = await sendControl(name, s.receiver.netns, s.receiver.ip);
      await sleep(500);
      await cap.stop();
      t.true((await cap.text()).includes(control), `the capture works (${cap.file})`);
      t.is(
        await cap.count(`udp src port ${s.netconsole.localPort}`),
        0,
        `no netconsole datagram on the wire (${cap.file})`,
      );
      t.false(syslogText(s).includes(mark));
    });
  });
}

test.serial('broadcast MAC, spec on the kernel command line, contradicting sysconfig', async t => {
  await withLab(t, n('bc'), ['--remote-mac', 'broadcast', '--cmdline', '--sysconfig-conflict'], async s => {
    const cmdline = (await guest(n('bc'), 'cat /proc/cmdline')).stdout;
    t.true(cmdline.includes(`netconsole=${s.netconsole.spec}`), cmdline);
    const sysconfig = (await guest(n('bc'), 'cat /etc/sysconfig/netconsole')).stdout;
    t.regex(sysconfig, /^SYSLOGADDR=10\.99\.0\.100$/m);
    t.notRegex(sysconfig, new RegExp(`^SYSLOGADDR=${s.receiver.ip.replace(/\./g, '\\.')}$`, 'm'));
    const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
    await cap.started();
    const mark = marker();
    await kmsg(n('bc'), mark);
    t.true(
      await waitFor(() => syslogText(s).includes(mark), 10_000),
      'a broadcast frame to the right IP is still received',
    );
    await cap.stop();
    const line = (await cap.text()).split('\n').find(l => l.includes(s.sender.mac)) ?? '';
    t.true(line.includes('> ff:ff:ff:ff:ff:ff'), line);
  });
});

test.serial('wrong port: rsyslog listens on 514, the sender targets 6666, ICMP answers', async t => {
  await withLab(t, n('port'), ['--wrong-port'], async s => {
    t.is(s.netconsole.remotePort, 6666);
    t.is(s.receiver.port, 514);
    const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp');
    await cap.started();
    const mark = marker();
    await kmsg(n('port'), mark);
    const answered = await waitFor(async () => /udp port 6666 unreachable/.test(await cap.text('icmp')), 10_000, 300);
    await cap.stop();
    t.true(answered, `ICMP port 6666 unreachable (${cap.file})`);
    t.false(syslogText(s).includes(mark));
  });
});

test.serial('rsyslog without imudp: running, but the port is closed', async t => {
  await withLab(t, n('noudp'), ['--syslog', 'no-imudp'], async s => {
    t.truthy(s.rsyslog.pid);
    const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp or icmp');
    await cap.started();
    const mark = marker();
    await kmsg(n('noudp'), mark);
    const answered = await waitFor(async () => /udp port 514 unreachable/.test(await cap.text('icmp')), 10_000, 300);
    await cap.stop();
    t.true(answered, `ICMP port 514 unreachable (${cap.file})`);
    t.false(syslogText(s).includes(mark));
    const ps = await inLogServer(n('noudp'), ['cat', `/proc/${s.rsyslog.pid}/comm`]);
    t.is(ps.stdout.trim(), 'rsyslogd');
  });
});

test.serial('netconsole not loaded: config present, module absent, nothing sent', async t => {
  await withLab(t, n('nonc'), ['--no-netconsole'], async s => {
    t.is(s.netconsole.spec, null);
    t.is(s.timings.firstDatagramMs, null, 'nothing in the boot capture');
    const g = await guest(
      n('nonc'),
      'cat /etc/modprobe.d/netconsole.conf; test -d /sys/module/netconsole && echo loaded || echo absent',
    );
    t.regex(g.stdout, /^options netconsole netconsole=/m);
    t.regex(g.stdout, /^absent$/m);
    const cap = new Capture(s.receiver.netns, s.receiver.iface, 'udp');
    await cap.started();
    await kmsg(n('nonc'), marker());
    await guest(n('nonc'), 'echo p > /proc/sysrq-trigger');
    await sleep(2000);
    const control = await sendControl(n('nonc'), s.receiver.netns, s.receiver.ip);
    await sleep(500);
    await cap.stop();
    t.true((await cap.text()).includes(control), `the capture works (${cap.file})`);
    t.is(
      await cap.count(`udp src port ${s.netconsole.localPort}`),
      0,
      `no netconsole datagram on the wire (${cap.file})`,
    );
  });
});

test.serial('a lab whose syslog daemon does not start: lab up says why, fails, and leaves no namespace', async t => {
  // An rsyslogd that exits at once, first on PATH: the failure comes after the namespaces are made.
  const dir = mkdtempSync(join(tmpdir(), 'ndlab-fake-'));
  writeFileSync(join(dir, 'rsyslogd'), '#!/bin/sh\necho "fake rsyslogd: refusing to start" >&2\nexit 1\n', {
    mode: 0o755,
  });
  try {
    const r = await new Promise<{ code: number; stderr: string }>(res =>
      execFile(
        labSh,
        ['up', '--name', n('nors'), '--kernel', '6.1'],
        { env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` }, timeout: 120_000 },
        (err, _out, stderr) =>
          res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr: String(stderr) }),
      ),
    );
    t.not(r.code, 0);
    t.regex(r.stderr, /lab: rsyslogd did not start/, r.stderr);
    t.regex(r.stderr, /lab: up failed/);
    t.notRegex(r.stderr, /unbound variable/);
    const ns = (await run('ip', ['netns', 'list'])).stdout;
    t.false(
      ns.split('\n').some(l => l.startsWith(`ndlab-${n('nors')}`)),
      ns,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await run(labSh, ['down', '--name', n('nors')]);
  }
});

test.serial('no lab of this run is left: no namespace, tap or process', async t => {
  const ns = (await run('ip', ['netns', 'list'])).stdout;
  t.false(new RegExp(`^ndlab-${tag}`, 'm').test(ns), ns);
  const links = (await run('ip', ['-o', 'link'])).stdout;
  t.false(links.includes(`-${tag}`), 'no tap or veth of this run in the host namespace');
  const ps = (await run('ps', ['-eo', 'args'])).stdout;
  t.false(ps.includes(`/run/${tag}`), 'no process of this run');
  t.log(`boots: ${JSON.stringify(boots)}`);
  t.log(`suite: ${Math.round((Date.now() - suiteStart) / 1000)} s`);
});
