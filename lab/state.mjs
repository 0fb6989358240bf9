// Writes the lab's state.json from the STATE_* variables lab.sh sets. Kept in Node so the JSON
// is always well formed. Schema: lab/README.md.
//   node state.mjs guest    one guest's part (lab.sh writes it to run/guest-N.json)
//   node state.mjs server   the whole state.json: the log server, guest 1 in the single-guest
//                           fields (unchanged since schema 1), and every guest in `guests`
import { readFileSync } from 'node:fs';

const e = process.env;
const s = (k) => (e[k] === undefined || e[k] === '' ? null : e[k]);
const n = (k) => (s(k) === null || s(k) === 'null' ? null : Number(e[k]));
const list = (k, sep = ' ') => (e[k] ?? '').split(sep).filter(Boolean);
const run = e.STATE_RUN;

/** A netconsole spec `[+][r][lport]@[lip]/[dev],[rport]@rip/[rmac]` in its parts. */
function parseSpec(spec) {
  const m = /^(\+)?(r)?(\d*)@([^/]*)\/([^,]*),(\d*)@(.+)\/([^/]*)$/.exec(spec);
  if (!m) throw new Error(`state.mjs: cannot parse spec ${spec}`);
  const dev = m[5];
  return {
    extended: m[1] === '+',
    release: m[2] === 'r',
    localPort: m[3] ? Number(m[3]) : null,
    localIp: m[4] || null,
    dev: dev || null,
    devIsMac: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(dev),
    remotePort: m[6] ? Number(m[6]) : null,
    remoteIp: m[7],
    remoteMac: m[8] || null,
  };
}

function guest() {
  const i = Number(e.STATE_INDEX);
  const sfx = e.STATE_SFX ?? '';
  const via = e.STATE_VIA;
  const spec = e.STATE_SPEC;
  const p = parseSpec(spec);
  const userdata = {};
  for (const kv of list('STATE_USERDATA', '\x1f')) {
    const at = kv.indexOf('=');
    userdata[kv.slice(0, at)] = kv.slice(at + 1);
  }
  const sysdata = list('STATE_SYSDATA', ',');
  const targets = list('STATE_TARGETS', '\n').map(line => {
    const [name, tvia, tspec] = line.split(' ');
    const tp = parseSpec(tspec);
    return {
      name, // "boot" for the module parameter or netconsole=, else the configfs directory name
      via: via === 'none' ? 'none' : tvia,
      spec: tspec,
      configfsPath: tvia === 'configfs' ? `/sys/kernel/config/netconsole/${name}` : null,
      ...tp,
      srcIp: e.STATE_SRC_IP,
      userdata: name === 'target1' && tvia === 'configfs' ? userdata : {},
      sysdata: name === 'target1' && tvia === 'configfs' ? sysdata : [],
    };
  });
  const ipv6 = e.STATE_IPV6 === '1';
  const mgmt = s('STATE_MGMT_IP') !== null;
  return {
    index: i,
    kernel: e.STATE_KERNEL,
    kernelSeries: e.STATE_KERNEL_SERIES,
    ipv6,
    sender: {
      ip: e.STATE_IP,
      ip6: e.STATE_IP6,
      mac: e.STATE_MAC,
      dev: e.STATE_DEV,
      bond: e.STATE_BOND === '1',
      tap: e.STATE_TAP,
      mgmtIp: s('STATE_MGMT_IP'),
      mgmtIp6: s('STATE_MGMT_IP6'),
      mgmtMac: s('STATE_MGMT_MAC'),
      mgmtTap: s('STATE_MGMT_TAP'),
      mgmtDev: mgmt ? 'eth1' : null,
    },
    ssh: {
      user: 'root',
      host: e.STATE_SSH_HOST,
      hostIp4: mgmt ? e.STATE_MGMT_IP : e.STATE_IP,
      hostIp6: mgmt ? e.STATE_MGMT_IP6 : e.STATE_IP6,
      port: 22,
      identityFile: `${run}/id_ed25519`,
      knownHostsFile: `${run}/known_hosts`,
      configFile: `${run}/ssh_config`,
      hostAlias: e.STATE_SSH_ALIAS,
      hostAliasIp4: `guest${i}-ip4`,
      hostAliasIp6: `guest${i}-ip6`,
    },
    qemu: {
      pid: n('STATE_QEMU_PID'),
      monitorSocket: `${run}/monitor${sfx}.sock`,
      consoleLog: `${run}/console${sfx}.log`,
      netdev: 'net0',
      kernelCmdline: e.STATE_APPEND,
    },
    netconsole: {
      loadedVia: via, // module | configfs | cmdline | none
      spec: via === 'none' ? null : spec,
      intendedSpec: spec,
      mode: e.STATE_MODE,
      extended: e.STATE_MODE === 'extended',
      release: e.STATE_RELEASE === '1',
      dev: e.STATE_DEV,
      devByMac: e.STATE_DEV_MAC === '1',
      localIp: p.localIp ?? e.STATE_SRC_IP,
      localIpGiven: e.STATE_LOCAL_IP_GIVEN === '1',
      srcIp: e.STATE_SRC_IP,
      localPort: p.localPort,
      remoteIp: p.remoteIp,
      remotePort: p.remotePort,
      remoteMac: p.remoteMac,
      ipv6,
      userdata,
      sysdata,
      targets,
    },
    // null: the guest has no /etc/sysconfig/netconsole (an IPv6 target: the service takes IPv4 only).
    sysconfig: s('STATE_SC_ADDR') === null ? null : {
      path: '/etc/sysconfig/netconsole',
      DEV: e.STATE_DEV,
      SYSLOGADDR: e.STATE_SC_ADDR,
      SYSLOGPORT: n('STATE_SC_PORT'),
      SYSLOGMACADDR: p.remoteMac,
      LOCALPORT: p.localPort,
    },
    firewall: s('STATE_FIREWALL'), // a rule for this guest's source only (several guests)
    consoleLoglevel: n('STATE_LOGLEVEL'),
    faults: list('STATE_FAULTS'),
    timings: {
      firstDatagramMs: n('STATE_FIRST_MS'),
      sshReadyMs: n('STATE_SSH_MS'),
    },
  };
}

function server() {
  const guests = list('STATE_GUEST_FILES').map(f => JSON.parse(readFileSync(f, 'utf8')));
  const g1 = guests[0];
  const rtr = s('STATE_RTR');
  const rs = e.STATE_RS;
  const ports = list('STATE_RS_PORTS').map(Number);
  const addrs = list('STATE_RS_ADDRS');
  const state = {
    schema: 1,
    name: e.STATE_NAME,
    kernel: g1.kernel,
    kernelSeries: g1.kernelSeries,
    runDir: run,
    createdAt: new Date().toISOString(),
    namespaces: { logServer: e.STATE_SRV, router: rtr, qemu: e.STATE_QNS },
    receiver: {
      netns: e.STATE_SRV,
      iface: e.STATE_RECV_IF,
      ip: e.STATE_RECV_IP,
      ip6: e.STATE_RECV_IP6,
      mac: e.STATE_RECV_MAC,
      port: n('STATE_PORT'),
      ports: rs === 'off' ? [n('STATE_PORT')] : ports,
      bridge: s('STATE_BRIDGE'),
      mgmtIface: s('STATE_MGMT_IF'),
      mgmtIp: s('STATE_MGMT_IF') ? '10.99.9.1' : null,
      mgmtIp6: s('STATE_MGMT_IF') ? 'fd99:9::1' : null,
      rpFilter: n('STATE_RP_FILTER'),
    },
    sender: g1.sender,
    router: rtr
      ? {
          netns: rtr,
          ip: e.STATE_RTR_IP,
          ip6: e.STATE_RTR_IP6,
          mac: e.STATE_RTR_MAC,
          receiverSideIp: e.STATE_RTR_UP_IP,
          receiverSideIp6: e.STATE_RTR_UP_IP6,
          receiverSideMac: e.STATE_RTR_UP_MAC,
          senderSideIface: e.STATE_SEG_IF,
          // --router-nat: what it forwards to the log server arrives from receiverSideIp(6).
          nat: e.STATE_RTR_NAT === '1',
          // --router-forward: its FORWARD chain drops or rejects udp to the port.
          forward: s('STATE_RTR_FWD') ?? 'accept',
          // --jump: a bastion on receiverSideIp; ssh to the guests only through it (-J root@IP).
          jumpHost: s('STATE_JUMP'),
          faults: list('STATE_RTR_FAULTS'),
        }
      : null,
    ssh: { netns: e.STATE_SRV, ...g1.ssh },
    rsyslog: {
      state: rs, // on | off | no-imudp | loopback
      pid: n('STATE_RS_PID'),
      port: n('STATE_PORT'),
      ports: rs === 'off' || addrs.length === 0 ? [] : ports,
      addresses: addrs, // what imudp is bound to (none without imudp)
      listening: rs === 'on',
      logFile: rs === 'off' ? null : `${run}/syslog.log`,
      configFile: rs === 'off' ? null : `${run}/rsyslog.conf`,
    },
    qemu: g1.qemu,
    netconsole: g1.netconsole,
    sysconfig: g1.sysconfig,
    firewall: s('STATE_FIREWALL'),
    firewallRules: list('STATE_FW_RULES', '\n'),
    consoleLoglevel: g1.consoleLoglevel,
    faults: g1.faults,
    bootCapture: `${run}/boot.pcap`,
    timings: {
      firstDatagramMs: g1.timings.firstDatagramMs,
      sshReadyMs: g1.timings.sshReadyMs,
      upTotalMs: n('STATE_UP_MS'),
    },
    guests: guests.map(g => ({ ...g, ssh: { netns: e.STATE_SRV, ...g.ssh } })),
  };
  return state;
}

const which = process.argv[2];
const out = which === 'guest' ? guest() : which === 'server' ? server() : null;
if (!out) {
  process.stderr.write('usage: node state.mjs guest|server\n');
  process.exit(2);
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
