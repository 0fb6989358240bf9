// Writes the lab's state.json to stdout from the STATE_* variables lab.sh sets.
// Kept in Node so the JSON is always well formed. Schema: lab/README.md.
const e = process.env;
const s = (k) => (e[k] === undefined || e[k] === '' ? null : e[k]);
const n = (k) => (s(k) === null || s(k) === 'null' ? null : Number(e[k]));
const run = e.STATE_RUN;

const state = {
  schema: 1,
  name: e.STATE_NAME,
  kernel: e.STATE_KERNEL,
  runDir: run,
  createdAt: new Date().toISOString(),
  namespaces: { logServer: e.STATE_SRV, router: s('STATE_RTR'), qemu: e.STATE_QNS },
  receiver: {
    netns: e.STATE_SRV,
    iface: e.STATE_RECV_IF,
    ip: e.STATE_RECV_IP,
    mac: e.STATE_RECV_MAC,
    port: n('STATE_PORT'),
  },
  sender: {
    ip: e.STATE_SENDER_IP,
    mac: e.STATE_SENDER_MAC,
    dev: e.STATE_DEV,
    bond: e.STATE_BOND === '1',
    tap: e.STATE_TAP,
    mgmtIp: s('STATE_MGMT_IP'),
    mgmtMac: s('STATE_MGMT_MAC'),
  },
  router: s('STATE_RTR')
    ? {
        netns: e.STATE_RTR,
        ip: e.STATE_RTR_IP,
        mac: e.STATE_RTR_MAC,
        receiverSideIp: e.STATE_RTR_UP_IP,
        receiverSideMac: e.STATE_RTR_UP_MAC,
        senderSideIface: e.STATE_TAP,
      }
    : null,
  ssh: {
    netns: e.STATE_SRV,
    user: 'root',
    host: e.STATE_SSH_HOST,
    port: 22,
    identityFile: `${run}/id_ed25519`,
    knownHostsFile: `${run}/known_hosts`,
    configFile: `${run}/ssh_config`,
    hostAlias: 'guest',
  },
  rsyslog: {
    state: e.STATE_RS, // on | off | no-imudp
    pid: n('STATE_RS_PID'),
    port: n('STATE_PORT'),
    listening: e.STATE_RS === 'on',
    logFile: e.STATE_RS === 'off' ? null : `${run}/syslog.log`,
    configFile: e.STATE_RS === 'off' ? null : `${run}/rsyslog.conf`,
  },
  qemu: {
    pid: n('STATE_QEMU_PID'),
    monitorSocket: `${run}/monitor.sock`,
    consoleLog: `${run}/console.log`,
    netdev: 'net0',
    kernelCmdline: e.STATE_APPEND,
  },
  netconsole: {
    loadedVia: e.STATE_VIA, // module | configfs | cmdline | none
    spec: e.STATE_VIA === 'none' ? null : e.STATE_SPEC,
    intendedSpec: e.STATE_SPEC,
    mode: e.STATE_MODE,
    extended: e.STATE_MODE === 'extended',
    dev: e.STATE_DEV,
    localIp: e.STATE_SENDER_IP,
    localPort: n('STATE_LPORT'),
    remoteIp: e.STATE_TGT_IP,
    remotePort: n('STATE_TGT_PORT'),
    remoteMac: e.STATE_TGT_MAC,
  },
  sysconfig: {
    path: '/etc/sysconfig/netconsole',
    DEV: e.STATE_DEV,
    SYSLOGADDR: e.STATE_SC_ADDR,
    SYSLOGPORT: n('STATE_SC_PORT'),
    SYSLOGMACADDR: e.STATE_TGT_MAC,
    LOCALPORT: n('STATE_LPORT'),
  },
  firewall: s('STATE_FIREWALL'),
  consoleLoglevel: n('STATE_LOGLEVEL'),
  faults: (e.STATE_FAULTS ?? '').split(' ').filter(Boolean),
  bootCapture: `${run}/boot.pcap`,
  timings: {
    firstDatagramMs: n('STATE_FIRST_MS'),
    sshReadyMs: n('STATE_SSH_MS'),
    upTotalMs: n('STATE_UP_MS'),
  },
};
process.stdout.write(JSON.stringify(state, null, 2) + '\n');
