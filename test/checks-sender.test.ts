import test from 'ava';
import { runSenderChecks, SENDER_CHECKS, type SenderContext } from '../src/checks/sender/run.js';
import type { SenderFacts } from '../src/checks/host/facts.js';
import { parseKernelLog, effectiveKernelTargets, stripLogPrefix } from '../src/checks/sender/kernel-log.js';
import { parseNetconsoleSpec } from '../src/config/netconsole-spec.js';
import { modprobeNetconsoleSpecs } from '../src/checks/sender/sources/modprobe.js';
import { cmdlineNetconsoleParams } from '../src/checks/sender/sources/cmdline.js';
import { configfsSource, configfsTarget } from '../src/checks/sender/sources/configfs.js';
import { dirExec } from '../src/io/dir-exec.js';
import { fileURLToPath } from 'node:url';
import { mergeLinks, parseIpText, parseIpJson, parseLinks, parseRouteGet } from '../src/checks/host/netinfo.js';
import { fx, f, healthySender as healthy, problemCodes } from './helpers/host-facts.js';

// ---- failures first ------------------------------------------------------------------------------

const cases: Array<{
  name: string;
  facts: (h: SenderFacts) => SenderFacts;
  ctx?: SenderContext;
  codes: string[];
  check?: [string, string];
  evidence?: RegExp;
}> = [
  {
    name: 'netconsole not loaded',
    facts: h => ({
      ...h,
      modules: f('Module Size Used by\nvirtio_net 57344 0\n', 'lsmod'),
      kernelLog: f(fx('dmesg/none.txt'), 'dmesg'),
    }),
    codes: ['netconsole-not-loaded'],
    check: ['sender.loaded', 'fail'],
  },
  {
    name: 'sysconfig malformed, nothing else gives a target: the error',
    facts: h => ({
      ...h,
      modprobe: [],
      kernelLog: f(fx('dmesg/none.txt'), 'dmesg'),
      sysconfig: f(fx('sysconfig/broken-netconsole'), '/etc/sysconfig/netconsole'),
    }),
    codes: ['netconsole-config-invalid', 'netconsole-no-target'],
    check: ['sender.config', 'fail'],
    evidence: /\/etc\/sysconfig\/netconsole:1: spaces around '='/,
  },
  {
    name: 'sysconfig malformed while the kernel runs a target from elsewhere: a warning',
    facts: h => ({ ...h, sysconfig: f(fx('sysconfig/broken-netconsole'), '/etc/sysconfig/netconsole') }),
    codes: ['netconsole-config-invalid'],
    check: ['sender.config', 'warn'],
    evidence: /\/etc\/sysconfig\/netconsole:1: spaces around '='/,
  },
  {
    // The lab's --ipv6 --configfs shape on 6.17 with the target switched off: the file the init
    // script would refuse is not the cause, the disabled target is.
    name: 'configfs IPv6 target disabled, sysconfig with an IPv6 SYSLOGADDR: disabled is the error',
    facts: h => ({
      ...h,
      modprobe: [],
      kernelLog: f(fx('dmesg/none.txt'), 'dmesg'),
      sysconfig: f('DEV=eth0\nSYSLOGADDR=fd99::1\nSYSLOGPORT=514\n', '/etc/sysconfig/netconsole'),
      configfs: [
        {
          name: 'target1',
          from: '/sys/kernel/config/netconsole/target1',
          attrs: {
            enabled: '0',
            dev_name: 'eth0',
            local_port: '6665',
            remote_port: '514',
            remote_ip: 'fd99::1',
            local_ip: 'fd99::2',
            remote_mac: '02:99:00:00:00:01',
            local_mac: '52:54:00:99:00:02',
            extended: '0',
            transmit_errors: '0',
          },
        },
      ],
    }),
    codes: ['netconsole-config-invalid', 'netconsole-target-disabled'],
    check: ['sender.config', 'warn'],
    evidence: /SYSLOGADDR "fd99::1" is IPv6/,
  },
  {
    name: 'kernel refused: device does not exist (RHEL 9 log)',
    facts: h => ({ ...h, kernelLog: f(fx('dmesg/errors-new.txt'), 'dmesg'), modprobe: [] }),
    codes: ['sender-device-missing'],
    evidence: /dmesg:8: netpoll: netconsole: eth0 doesn't exist, aborting/,
  },
  {
    name: 'kernel refused: eth0 is a slave of bond0; ip link agrees',
    facts: h => ({
      ...h,
      kernelLog: f(fx('dmesg/errors-slave-device.txt'), 'dmesg'),
      modprobe: [f('options netconsole netconsole=@/eth0,514@10.1.1.1/00:11:22:33:44:55', '/etc/modprobe.d/nc.conf')],
      ipLink: { ...f(fx('iplink/bond-vlan.json'), 'ip -d -j link show'), format: 'json' },
      ipAddr: undefined,
      routeGet: undefined,
    }),
    codes: ['sender-device-unsupported', 'sender-device-unsupported'],
    evidence: /eth0 is a slave device, aborting/,
  },
  {
    name: 'CentOS 5: bond0 does not support polling, eth2 has no IP',
    facts: h => ({
      ...h,
      kernelLog: f(fx('dmesg/old-no-polling-and-no-ip.txt'), 'dmesg'),
      modprobe: [],
      sysconfig: f(fx('sysconfig/centos5-netconsole'), '/etc/sysconfig/netconsole'),
      ipLink: undefined,
      ipAddr: undefined,
      routeGet: undefined,
      kernelRelease: f('2.6.18-8.el5\n', 'uname -r'),
    }),
    codes: ['sender-device-unsupported', 'sender-no-address'],
    evidence: /bond0 doesn't support polling/,
  },
  {
    name: 'netconsole stopped: eth0 joined a bond',
    facts: h => ({ ...h, kernelLog: f(fx('dmesg/stopped-joining-master.txt'), 'dmesg') }),
    codes: ['netconsole-stopped'],
    evidence: /as it is joining a master device/,
  },
  {
    name: 'device administratively down',
    facts: h => ({
      ...h,
      modprobe: [f('options netconsole netconsole=@/eth3,514@10.99.0.1/52:54:00:aa:00:01', '/etc/modprobe.d/nc.conf')],
      kernelLog: undefined,
    }),
    codes: ['sender-device-down', 'sender-no-address', 'sender-route-mismatch'],
    check: ['sender.device', 'fail'],
  },
  {
    name: 'no carrier on a bond port, and the port is enslaved (text ip link)',
    facts: h => ({
      ...h,
      modprobe: [
        f('options netconsole netconsole=@10.0.0.2/eth1,514@10.99.0.1/52:54:00:aa:00:01', '/etc/modprobe.d/nc.conf'),
      ],
      kernelLog: undefined,
      ipLink: { ...f(fx('iplink/bond-vlan.txt'), 'ip -d link show'), format: 'text' },
      ipAddr: undefined,
    }),
    codes: ['sender-device-down', 'sender-device-unsupported', 'sender-route-mismatch'],
    evidence: /eth1 master bond0/,
  },
  {
    name: 'Wi-Fi device',
    facts: h => ({
      ...h,
      modprobe: [
        f('options netconsole netconsole=@10.0.0.2/wlp2s0,514@10.99.0.1/52:54:00:aa:00:01', '/etc/modprobe.d/nc.conf'),
      ],
      kernelLog: undefined,
      ipLink: { ...f(fx('iplink/bond-vlan.json'), 'ip -d -j link show'), format: 'json' },
      ipAddr: undefined,
      routeGet: undefined,
    }),
    codes: ['sender-device-down', 'sender-device-unsupported'],
    evidence: /wlp2s0 link\/ether/,
  },
  {
    name: "router-mac-required: receiver behind a gateway, MAC is the receiver's",
    facts: h => ({
      ...h,
      modprobe: [f('options netconsole netconsole=@/eth0,514@10.99.9.9/52:54:00:99:99:99', '/etc/modprobe.d/nc.conf')],
      kernelLog: undefined,
      routeGet: { ...f(fx('generated/ip-route-get-via-gateway.txt'), 'ip route get 10.99.9.9'), ip: '10.99.9.9' },
    }),
    ctx: { receiverMacs: ['52:54:00:99:99:99'] },
    codes: ['router-mac-required'],
    evidence: /via 10.99.0.1/,
  },
  {
    name: 'router-mac-required: behind a gateway and broadcast',
    facts: h => ({
      ...h,
      modprobe: [f('options netconsole netconsole=@/eth0,514@10.99.9.9/', '/etc/modprobe.d/nc.conf')],
      kernelLog: undefined,
      routeGet: { ...f(fx('generated/ip-route-get-via-gateway.txt'), 'ip route get 10.99.9.9'), ip: '10.99.9.9' },
    }),
    codes: ['router-mac-required'],
  },
  {
    name: 'stale remote MAC on the segment',
    facts: h => ({
      ...h,
      modprobe: [f('options netconsole netconsole=@/eth0,514@10.99.0.5/52:54:00:cc:00:99', '/etc/modprobe.d/nc.conf')],
      kernelLog: undefined,
      routeGet: { ...f(fx('generated/ip-route-get-direct.txt'), 'ip route get 10.99.0.5'), ip: '10.99.0.5' },
    }),
    codes: ['stale-remote-mac'],
    evidence: /10.99.0.5 lladdr 52:54:00:cc:00:05 REACHABLE/,
  },
  {
    name: 'no remote MAC: broadcast',
    facts: h => ({
      ...h,
      modprobe: [f('options netconsole netconsole=@/eth0,514@10.99.0.5/', '/etc/modprobe.d/nc.conf')],
      kernelLog: undefined,
      routeGet: { ...f(fx('generated/ip-route-get-direct.txt'), 'ip route get 10.99.0.5'), ip: '10.99.0.5' },
    }),
    codes: ['remote-mac-broadcast'],
  },
  {
    name: 'no addresses known (ip link only): no sender-no-address guess',
    facts: h => ({
      ...h,
      ipAddr: undefined,
      modprobe: [f('options netconsole netconsole=@/eth0,514@10.99.0.1/52:54:00:aa:00:01', '/etc/modprobe.d/nc.conf')],
      kernelLog: undefined,
    }),
    codes: [],
    check: ['sender.device', 'pass'],
  },
  {
    name: 'console log level 4 (quiet)',
    facts: h => ({ ...h, printk: f('4\t4\t1\t7\n', '/proc/sys/kernel/printk') }),
    codes: ['console-loglevel-low'],
  },
  {
    name: 'SysRq disabled',
    facts: h => ({ ...h, sysrq: f('0\n', '/proc/sys/kernel/sysrq') }),
    codes: ['sysrq-disabled'],
  },
  {
    name: 'SysRq mask without the dump bit',
    facts: h => ({ ...h, sysrq: f('176\n', '/proc/sys/kernel/sysrq') }),
    codes: ['sysrq-disabled'],
  },
  {
    name: 'file says port 6666, the kernel runs 514',
    facts: h => ({
      ...h,
      modprobe: [f('options netconsole netconsole=@/eth0,6666@10.99.0.1/52:54:00:aa:00:01', '/etc/modprobe.d/nc.conf')],
    }),
    codes: ['config-conflict'],
    evidence: /\/etc\/modprobe.d\/nc.conf:1: remotePort 6666, but the kernel uses 514 \(dmesg:4\)/,
  },
  {
    name: 'sysconfig names another receiver than the kernel uses',
    facts: h => ({ ...h, sysconfig: f('SYSLOGADDR=10.99.0.7\n', '/etc/sysconfig/netconsole') }),
    codes: ['config-conflict'],
    evidence: /target 10.99.0.7:514, but the running netconsole \(kernel log\) sends to 10.99.0.1:514/,
  },
  {
    name: 'netconsole= on the command line with the module',
    facts: h => ({
      ...h,
      cmdline: f('root=/dev/vda1 netconsole=@/eth0,514@10.99.0.1/52:54:00:aa:00:01\n', '/proc/cmdline'),
    }),
    codes: ['cmdline-param-ignored'],
  },
  {
    name: 'configfs target disabled',
    facts: h => ({
      ...h,
      configfs: [
        {
          name: 't1',
          from: '/sys/kernel/config/netconsole/t1',
          attrs: {
            enabled: '0',
            dev_name: 'eth0',
            local_port: '6665',
            remote_port: '514',
            remote_ip: '10.99.0.1',
            local_ip: '10.99.0.2',
            remote_mac: '52:54:00:aa:00:01',
            local_mac: '52:54:00:12:34:56',
            extended: '0',
          },
        },
      ],
    }),
    codes: ['netconsole-target-disabled'],
    evidence: /t1\/enabled: 0/,
  },
];

for (const c of cases) {
  test(`sender: ${c.name}`, t => {
    const r = runSenderChecks(c.facts(healthy()), c.ctx);
    t.deepEqual(problemCodes(r), [...c.codes].sort(), JSON.stringify(r.findings, null, 1));
    if (c.check) t.is(r.checks.find(x => x.id === c.check![0])!.status, c.check[1] as never);
    if (c.evidence)
      t.true(
        r.findings.some(x => x.evidence.some(e => c.evidence!.test(e))),
        JSON.stringify(r.findings.map(x => x.evidence)),
      );
    for (const x of r.findings) t.truthy(x.hint, `${x.code} has a fix`);
  });
}

test('sender: a device that is up without carrier gets a fix about its link, not `ip link set up` (walked on the lab: --link-down)', t => {
  const h = healthy();
  const r = runSenderChecks({
    ...h,
    modprobe: [
      f('options netconsole netconsole=@10.0.0.2/eth1,514@10.99.0.1/52:54:00:aa:00:01', '/etc/modprobe.d/nc.conf'),
    ],
    kernelLog: undefined,
    ipLink: { ...f(fx('iplink/bond-vlan.txt'), 'ip -d link show'), format: 'text' },
    ipAddr: undefined,
  });
  const down = r.findings.find(x => x.code === 'sender-device-down')!;
  t.is(down.summary, 'eth1 has no carrier');
  t.regex(down.hint, /^eth1 is up but has no link: check its cable and switch port/);
});

// ---- healthy -------------------------------------------------------------------------------------

test('links: one ip -d -j addr show parses as ip -d -j link show and ip -j addr show together (real lab outputs)', t => {
  for (const guest of ['lab-6.17-bond', 'lab-6.1-mgmt-nic']) {
    const json = (name: string) => ({ text: fx(`iplink/${guest}-${name}.json`), format: 'json' as const });
    const two = mergeLinks(parseLinks(json('ip-d-j-link')), parseLinks(json('ip-j-addr')));
    const one = mergeLinks(parseLinks(json('ip-d-j-addr')), parseLinks(json('ip-d-j-addr')));
    t.deepEqual(one, two, guest);
    t.true(
      two.some(l => l.addrs.length > 0),
      `${guest}: addresses are there to compare`,
    );
  }
  const bond = parseIpJson(fx('iplink/lab-6.17-bond-ip-d-j-addr.json'));
  t.like(
    bond.find(l => l.name === 'eth0'),
    { master: 'bond0', slaveKind: 'bond' },
  );
  t.like(
    bond.find(l => l.name === 'bond0'),
    { kind: 'bond' },
  );
});

test('sender: healthy lab shape passes every check, no findings', t => {
  const r = runSenderChecks(healthy());
  t.deepEqual(r.findings, []);
  t.deepEqual(
    r.checks.map(c => [c.id, c.status]),
    [
      ['sender.loaded', 'pass'],
      ['sender.config', 'pass'],
      ['sender.kernel-log', 'pass'],
      ['sender.conflict', 'pass'],
      ['sender.device', 'pass'],
      ['sender.route', 'pass'],
      ['sender.mac', 'pass'],
      ['sender.loglevel', 'pass'],
      ['sender.sysrq', 'pass'],
    ],
  );
  t.is(r.target!.remoteIp, '10.99.0.1');
  t.is(r.target!.remoteMac, '52:54:00:aa:00:01');
  t.true(r.loaded);
  // Every check of the list ran but the configfs one, which has no target to judge here.
  t.is(r.checks.length, SENDER_CHECKS.length - 1);
});

test('sender: no facts at all gives unknowns, not alarms', t => {
  const r = runSenderChecks({ notes: ['dmesg: not installed'] });
  t.deepEqual(
    r.findings.filter(x => x.severity !== 'info'),
    [],
  );
  t.true(
    r.checks.every(c => c.status === 'unknown'),
    JSON.stringify(r.checks.map(c => [c.id, c.status])),
  );
});

test('sender: CentOS 5 with sysconfig and the old log format: running target from the log, no conflict', t => {
  const r = runSenderChecks({
    sysconfig: f(fx('sysconfig/centos5-netconsole'), '/etc/sysconfig/netconsole'),
    kernelLog: f(fx('dmesg/centos5-2.6.18-started.txt'), 'dmesg'),
    modules: f('Module                  Size  Used by\nnetconsole             16705  0 \n', '/proc/modules'),
    ipAddr: { ...f(fx('iplink/centos5-ip-addr.txt'), 'ip addr show'), format: 'text' },
    printk: f('6\t4\t1\t7\n', '/proc/sys/kernel/printk'),
    sysrq: f('0\n', '/proc/sys/kernel/sysrq'),
    notes: [],
  });
  t.deepEqual(problemCodes(r), ['sysrq-disabled']);
  t.deepEqual(
    r.running.map(x => [x.dev, x.localIp, x.localPort, x.remoteIp, x.remotePort, x.remoteMac]),
    [['eth0', '192.168.1.20', 6666, '192.168.1.10', 514, '00:0c:29:86:dc:7a']],
  );
  t.is(r.checks.find(c => c.id === 'sender.device')!.status, 'pass');
});

// ---- parsers ---------------------------------------------------------------------------------------

test('kernel log: prefixes of dmesg, dmesg -x, journalctl, syslog are stripped', t => {
  for (const l of [
    '[   12.345678] netconsole: network logging started',
    '<6>[   12.345678] netconsole: network logging started',
    'kern  :info  : [   12.345678] netconsole: network logging started',
    'Nov 24 09:12:09 web3 kernel: netconsole: network logging started',
    '2026-11-24T09:12:09+0000 web3 kernel: netconsole: network logging started',
    'netconsole: network logging started',
  ]) {
    t.is(stripLogPrefix(l), 'netconsole: network logging started', l);
  }
});

test('kernel log: journalctl -k form gives the running target', t => {
  const k = parseKernelLog(fx('dmesg/journalctl-k-short.txt'), 'journalctl -k');
  t.is(k.kernelVersion, '4.18.0-553.el8_10.x86_64');
  const ts = effectiveKernelTargets(k).map(b => b.target);
  t.deepEqual(
    ts.map(x => [x.dev, x.localIp, x.remoteIp, x.remotePort, x.remoteMac, x.line]),
    [['ens192', '10.0.3.7', '10.0.9.20', 514, '00:50:56:8a:11:22', 2]],
  );
});

test('kernel log: a failed load is not a running target; broadcast MAC reads as none', t => {
  const k = parseKernelLog(fx('dmesg/errors-new.txt'));
  t.is(effectiveKernelTargets(k).length, 0);
  t.is(k.blocks[0]!.target.remoteMac, undefined);
  t.is(k.blocks[0]!.target.localIp, undefined);
  t.is(k.blocks[0]!.outcome!.kind, 'device-missing');
});

test('modprobe.d and cmdline netconsole parameters', t => {
  t.deepEqual(
    modprobeNetconsoleSpecs(
      '# c\noptions netconsole netconsole=@/eth0,514@1.2.3.4/ \\\n  oops_only=1\ninstall netconsole /sbin/modprobe --ignore-install netconsole netconsole="@/,@5.6.7.8/"\n',
    ),
    [
      { spec: '@/eth0,514@1.2.3.4/', line: 2 },
      { spec: '@/,@5.6.7.8/', line: 4 },
    ],
  );
  t.deepEqual(cmdlineNetconsoleParams('ro quiet netconsole=@/,@1.2.3.4/ netconsole.netconsole="+@/eth1,@5.6.7.8/"'), [
    { spec: '@/,@1.2.3.4/', form: 'builtin' },
    { spec: '+@/eth1,@5.6.7.8/', form: 'module' },
  ]);
  t.is(
    parseNetconsoleSpec(cmdlineNetconsoleParams('netconsole.netconsole="+@/eth1,@5.6.7.8/"')[0]!.spec).targets[0]!.dev,
    'eth1',
  );
});

test('configfs target: defaults read back are not explicit; broadcast is no MAC', t => {
  const c = configfsTarget({
    name: 'cmdline0',
    from: '/sys/kernel/config/netconsole/cmdline0',
    attrs: {
      enabled: '1',
      extended: '1',
      dev_name: 'eth0',
      local_port: '6665',
      remote_port: '6666',
      local_ip: '0.0.0.0',
      remote_ip: '10.0.0.1',
      remote_mac: 'ff:ff:ff:ff:ff:ff',
    },
  });
  t.true(c.enabled);
  t.deepEqual(c.target.explicit.sort(), ['dev', 'extended', 'remoteIp']);
  t.is(c.target.remoteMac, undefined);
  t.is(c.target.localIp, undefined);
  const bad = configfsTarget({ name: 'x', from: 'x', attrs: { remote_port: 'abc', remote_ip: 'nope' } });
  t.is(bad.errors.length, 2);
});

test('ip link text and json agree on the bond/VLAN fixture', t => {
  const a = parseIpText(fx('iplink/bond-vlan.txt'));
  const b = parseIpJson(fx('iplink/bond-vlan.json'));
  const view = (l: ReturnType<typeof parseIpText>) =>
    l.map(x => [x.name, x.up, x.lowerUp, x.master, x.kind, x.slaveKind, x.wireless]);
  t.deepEqual(view(a), view(b));
  t.deepEqual(a.find(x => x.name === 'bond0.100')!.parent, 'bond0');
});

test('ip route get', t => {
  t.deepEqual(parseRouteGet(fx('generated/ip-route-get-via-gateway.txt')), {
    dst: '10.99.9.9',
    via: '10.99.0.1',
    dev: 'eth0',
    src: '10.99.0.2',
  });
  t.deepEqual(parseRouteGet('unreachable 10.1.1.1 uid 0\n'), { dst: '10.1.1.1', type: 'unreachable' });
  t.is(parseRouteGet(''), undefined);
});

// ---- kernel log: the option lines whatever their order, from real kernels ----------------------

test('kernel log (6.1, spec without local IP, real): the address netpoll took after the MAC line is the local IP', t => {
  const k = parseKernelLog(fx('dmesg/debian12-6.1-no-local-ip.txt'));
  const ts = effectiveKernelTargets(k);
  t.is(ts.length, 1);
  t.deepEqual(
    [
      ts[0]!.target.dev,
      ts[0]!.target.localIp,
      ts[0]!.target.localPort,
      ts[0]!.target.remoteIp,
      ts[0]!.target.remotePort,
      ts[0]!.target.remoteMac,
    ],
    ['eth0', '10.99.0.2', 6665, '10.99.0.1', 514, '02:99:00:00:00:01'],
  );
  t.deepEqual(ts[0]!.lines, [375, 376, 377, 378, 379, 380, 381]);
  t.is(ts[0]!.outcome?.kind, 'started');
});

test('kernel log (6.17, real): "netconsole: netconsole:", interface name, local ethernet address, legacy console', t => {
  const k = parseKernelLog(fx('dmesg/debian13-6.17-no-local-ip.txt'));
  const ts = effectiveKernelTargets(k);
  t.is(ts.length, 1);
  t.deepEqual(
    [
      ts[0]!.target.dev,
      ts[0]!.target.localIp,
      ts[0]!.target.remoteIp,
      ts[0]!.target.remotePort,
      ts[0]!.target.remoteMac,
    ],
    ['eth0', '10.99.0.2', '10.99.0.1', 514, '02:99:00:00:00:01'],
  );
  // The device's MAC printed before setup is broadcast: not a device given by MAC.
  t.is(ts[0]!.devMac, undefined);
  t.true(k.events.some(e => e.kind === 'console-enabled'));
});

test('kernel log (6.17, real): a configfs target disabled, given another MAC and enabled again runs with the new MAC only', t => {
  const k = parseKernelLog(fx('dmesg/debian13-6.17-configfs-ipv6-reenabled.txt'));
  t.is(k.blocks.filter(b => b.line > k.lastBootLine).length, 2, 'the kernel printed the target twice');
  const ts = effectiveKernelTargets(k);
  t.deepEqual(
    ts.map(x => [x.line, x.target.localIp, x.target.remoteIp, x.target.remoteMac]),
    [[413, 'fd99::2', 'fd99::1', '02:99:de:ad:be:ef']],
  );
});

/** The lab's 6.17 IPv6 configfs target1 after `remote_port` 6666 was written while disabled (real). */
const PORT_CHANGED_ATTRS = {
  enabled: '1',
  dev_name: 'eth0',
  extended: '0',
  local_ip: 'fd99::2',
  local_mac: '52:54:00:99:00:02',
  local_port: '6665',
  release: '0',
  remote_ip: 'fd99::1',
  remote_mac: '02:99:00:00:00:01',
  remote_port: '6666',
  transmit_errors: '0',
};
const portChanged = (attrs: Record<string, string> | undefined, modprobe: SenderFacts['modprobe'] = []) =>
  runSenderChecks(
    {
      ...healthy(),
      modprobe,
      kernelLog: f(fx('dmesg/debian13-6.17-configfs-ipv6-port-changed.txt'), 'dmesg'),
      ...(attrs ? { configfs: [{ name: 'target1', from: '/sys/kernel/config/netconsole/target1', attrs }] } : {}),
    },
    { receiverIp: 'fd99::1' },
  );
const ports = (r: { running: Array<{ remotePort: number }> }) => r.running.map(x => x.remotePort);

test('sender (6.17, real): a configfs target given another remote port runs with the new port only; configfs says so', t => {
  // Not known without configfs: the kernel log alone shows two starts and cannot name either target.
  t.deepEqual(ports(portChanged(undefined)), [514, 6666]);
  const r = portChanged(PORT_CHANGED_ATTRS);
  t.deepEqual(ports(r), [6666], 'the first start is target1 before its change');
  t.is(r.target?.remotePort, 6666);
  t.is(r.target?.line, 390);
  t.false(problemCodes(r).includes('config-conflict'), problemCodes(r).join(', '));
  // A configuration file naming the first start does not keep it: that start came after the
  // module's own "network logging started" (line 374), so it was a configfs target enabled later,
  // not a target of the module's parameter (those are all set up before that line).
  const boot = [
    f('options netconsole netconsole=6665@fd99::2/eth0,514@fd99::1/02:99:00:00:00:01\n', '/etc/modprobe.d/nc.conf'),
  ];
  t.deepEqual(ports(portChanged(PORT_CHANGED_ATTRS, boot)), [6666]);
  // configfs disabled: no enabled target to have superseded anything.
  t.deepEqual(ports(portChanged({ ...PORT_CHANGED_ATTRS, enabled: '0' })), [514, 6666]);
});

test('sender (synthesised from the real 6.17 log): a parameter target and a configfs target from one local port both run', t => {
  // The same lines with the module's "network logging started" moved after the first block: as
  // the kernel logs a target of the module's parameter. The configuration file names it.
  const lines = fx('dmesg/debian13-6.17-configfs-ipv6-port-changed.txt').split('\n');
  const started = lines.splice(373, 1)[0]!;
  t.regex(started, /network logging started/);
  lines.splice(381, 0, started);
  const boot = [
    f('options netconsole netconsole=6665@fd99::2/eth0,514@fd99::1/02:99:00:00:00:01\n', '/etc/modprobe.d/nc.conf'),
  ];
  const r = runSenderChecks(
    {
      ...healthy(),
      modprobe: boot,
      kernelLog: f(lines.join('\n'), 'dmesg'),
      configfs: [{ name: 'target1', from: '/sys/kernel/config/netconsole/target1', attrs: PORT_CHANGED_ATTRS }],
    },
    { receiverIp: 'fd99::1' },
  );
  t.deepEqual(ports(r), [514, 6666]);
  // Without the configuration naming it, it is still taken for target1 before its change.
  t.deepEqual(
    ports(
      runSenderChecks(
        {
          ...healthy(),
          kernelLog: f(lines.join('\n'), 'dmesg'),
          configfs: [{ name: 'target1', from: '/sys/kernel/config/netconsole/target1', attrs: PORT_CHANGED_ATTRS }],
        },
        { receiverIp: 'fd99::1' },
      ),
    ),
    [6666],
  );
});

// Hand-written variations of the real lines above (order, two targets, IPv6, a device by MAC):
// .synth in spirit, kept inline.
const orders: Array<{
  name: string;
  lines: string[];
  want: Array<[string | undefined, string | undefined, string, number]>;
}> = [
  {
    name: 'remote lines first, local port last',
    lines: [
      'netconsole: netconsole: remote port 514',
      'netconsole: netconsole: remote IPv4 address 10.0.0.1',
      "netconsole: netconsole: interface name 'eth1'",
      'netconsole: netconsole: local IPv4 address 10.0.0.2',
      'netconsole: netconsole: local port 6665',
      'netconsole: network logging started',
    ],
    want: [['eth1', '10.0.0.2', '10.0.0.1', 514]],
  },
  {
    name: 'two targets in one parameter, each with its setup line',
    lines: [
      'netpoll: netconsole: local port 6665',
      'netpoll: netconsole: local IPv4 address 0.0.0.0',
      "netpoll: netconsole: interface 'eth0'",
      'netpoll: netconsole: remote port 514',
      'netpoll: netconsole: remote IPv4 address 10.0.0.1',
      'netpoll: netconsole: remote ethernet address 02:00:00:00:00:01',
      'netpoll: netconsole: local IP 10.0.0.2',
      'netpoll: netconsole: local port 6666',
      'netpoll: netconsole: local IPv4 address 0.0.0.0',
      "netpoll: netconsole: interface 'eth0'",
      'netpoll: netconsole: remote port 5514',
      'netpoll: netconsole: remote IPv4 address 10.0.0.1',
      'netpoll: netconsole: remote ethernet address 02:00:00:00:00:01',
      'netpoll: netconsole: local IP 10.0.0.2',
      'printk: console [netcon0] enabled',
      'netconsole: network logging started',
    ],
    want: [
      ['eth0', '10.0.0.2', '10.0.0.1', 514],
      ['eth0', '10.0.0.2', '10.0.0.1', 5514],
    ],
  },
  {
    name: 'IPv6, setup line without "address"',
    lines: [
      'netconsole: netconsole: local port 6665',
      'netconsole: netconsole: local IPv6 address ::',
      "netconsole: netconsole: interface name 'eth0'",
      'netconsole: netconsole: remote port 514',
      'netconsole: netconsole: remote IPv6 address fd99::1',
      'netconsole: netconsole: remote ethernet address 02:99:00:00:00:01',
      'netpoll: netconsole: local IPv6 fd99::2',
      'netconsole: network logging started',
    ],
    want: [['eth0', 'fd99::2', 'fd99::1', 514]],
  },
  {
    name: 'a device given by its MAC: the empty interface name, the device MAC stands for it',
    lines: [
      'netconsole: netconsole: local port 6665',
      'netconsole: netconsole: local IPv4 address 10.0.0.2',
      "netconsole: netconsole: interface name ''",
      "netconsole: netconsole: local ethernet address '52:54:00:12:34:56'",
      'netconsole: netconsole: remote port 514',
      'netconsole: netconsole: remote IPv4 address 10.0.0.1',
      'netconsole: netconsole: remote ethernet address 02:00:00:00:00:01',
      'netconsole: network logging started',
    ],
    want: [['52:54:00:12:34:56', '10.0.0.2', '10.0.0.1', 514]],
  },
];
for (const c of orders) {
  test(`kernel log order: ${c.name}`, t => {
    const ts = effectiveKernelTargets(parseKernelLog(c.lines.map((l, i) => `[   ${10 + i}.000000] ${l}`).join('\n')));
    t.deepEqual(
      ts.map(b => [b.target.dev, b.target.localIp, b.target.remoteIp, b.target.remotePort]),
      c.want,
    );
  });
}

test('sender: two targets to two ports of one server (parameter and configfs) agree with what runs, no conflict', t => {
  const lines = (port: number, at: number) =>
    [
      `local port 666${port === 514 ? 5 : 6}`,
      'local IPv4 address 10.99.0.2',
      "interface 'eth0'",
      `remote port ${port}`,
      'remote IPv4 address 10.99.0.1',
      'remote ethernet address 52:54:00:aa:00:01',
    ].map((l, i) => `[   ${at + i}.000000] netpoll: netconsole: ${l}`);
  const log = [
    ...lines(514, 10),
    '[   20.000000] netconsole: network logging started',
    ...lines(5514, 30),
    '[   40.000000] netconsole: network logging started',
  ].join('\n');
  const r = runSenderChecks({
    ...healthy(),
    kernelLog: f(log, 'dmesg'),
    configfs: [
      {
        name: 'target2',
        from: '/sys/kernel/config/netconsole/target2',
        attrs: {
          enabled: '1',
          dev_name: 'eth0',
          local_port: '6666',
          remote_port: '5514',
          remote_ip: '10.99.0.1',
          local_ip: '10.99.0.2',
          remote_mac: '52:54:00:aa:00:01',
        },
      },
    ],
  });
  t.is(r.running.length, 2);
  t.deepEqual(problemCodes(r), []);
});

// ---- configfs of today: what a target sends beyond the text, and its send errors ----------------

/**
 * Real: /sys/kernel/config/netconsole of the lab's 6.17 guest (--configfs --userdata --sysdata all
 * --release), byte for byte.
 */
const CONFIGFS_617 = fileURLToPath(
  new URL('../../fixtures/checks/hosts/sender-debian13-6.17-configfs-userdata', import.meta.url),
);

test('configfs 6.17 (real): userdata entries, the sysdata switches and transmit_errors are read and reported', async t => {
  const facts = await configfsSource.collect(dirExec(CONFIGFS_617), []);
  t.is(facts?.length, 1);
  const c = configfsTarget(facts![0]!);
  t.deepEqual(c.errors, []);
  t.true(c.target.extended && c.target.release);
  t.deepEqual(c.extras, {
    transmitErrors: 0,
    userdata: [
      { key: 'note', value: 'hello world' },
      { key: 'rack', value: 'r42' },
    ],
    sysdata: ['cpu_nr', 'taskname', 'release', 'msgid'],
  });
  const r = runSenderChecks({ ...healthy(), configfs: facts! }, {});
  const cfs = r.checks.find(x => x.id === 'sender.configfs')!;
  t.is(
    cfs.detail,
    'target1: enabled (userdata note="hello world" rack=r42; sysdata cpu_nr taskname release msgid; transmit_errors 0)',
  );
  t.is(cfs.status, 'pass');
  t.deepEqual(r.configfs[0]?.extras, c.extras);
});

test('configfs: a non-zero transmit_errors is a warning naming the count; sysdata switches off are said', async t => {
  const facts = (await configfsSource.collect(dirExec(CONFIGFS_617), []))!;
  // The lab cannot make a send error (a device that is down is skipped, not counted): the count is edited here.
  const attrs: Record<string, string> = { ...facts[0]!.attrs, transmit_errors: '12' };
  for (const k of Object.keys(attrs)) if (k.endsWith('_enabled')) attrs[k] = '0';
  const r = runSenderChecks({ ...healthy(), configfs: [{ ...facts[0]!, attrs }] }, {});
  const cfs = r.checks.find(x => x.id === 'sender.configfs')!;
  t.is(cfs.status, 'warn');
  t.regex(cfs.detail, /no sysdata; transmit_errors 12\)$/);
  const f = cfs.findings.find(x => x.code === 'netconsole-transmit-errors')!;
  t.regex(f.summary, /target1 counted 12 send errors/);
  t.true(f.evidence.includes('/sys/kernel/config/netconsole/target1/transmit_errors: 12'));
  // 6.1 has neither: nothing said.
  t.deepEqual(configfsTarget({ name: 't', from: 't', attrs: { enabled: '1', remote_ip: '10.0.0.1' } }).extras, {
    userdata: [],
  });
  t.deepEqual(configfsTarget({ name: 't', from: 't', attrs: { transmit_errors: 'x' } }).errors, [
    'configfs:t: transmit_errors is "x"',
  ]);
});
