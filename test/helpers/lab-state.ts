/**
 * What `lab/lab.sh up` writes to state.json (lab/README.md, "state.json"), as the tests read it.
 * Guest 1 is also the top-level fields.
 */

interface LabTarget {
  name: string;
  via: string;
  spec: string;
  configfsPath: string | null;
  extended: boolean;
  release: boolean;
  localPort: number | null;
  localIp: string | null;
  dev: string | null;
  devIsMac: boolean;
  remotePort: number | null;
  remoteIp: string;
  remoteMac: string | null;
  srcIp: string;
  userdata: Record<string, string>;
  sysdata: string[];
}

interface LabSender {
  ip: string;
  ip6: string;
  mac: string;
  dev: string;
  bond: boolean;
  tap: string;
  mgmtIp: string | null;
  mgmtIp6: string | null;
  mgmtMac: string | null;
  mgmtDev: string | null;
}

export interface LabSsh {
  netns: string;
  host: string;
  hostIp4: string;
  hostIp6: string;
  identityFile: string;
  knownHostsFile: string;
  configFile: string;
  hostAlias: string;
  hostAliasIp4: string;
  hostAliasIp6: string;
}

interface LabNetconsole {
  loadedVia: string;
  spec: string | null;
  mode: string;
  extended: boolean;
  release: boolean;
  dev: string;
  devByMac: boolean;
  localIp: string;
  localIpGiven: boolean;
  srcIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  remoteMac: string;
  ipv6: boolean;
  userdata: Record<string, string>;
  sysdata: string[];
  targets: LabTarget[];
}

/** One guest of a lab (state.json's `guests`; guest 1 is also the top-level fields). */
interface LabGuest {
  index: number;
  kernel: string;
  kernelSeries: string;
  ipv6: boolean;
  sender: LabSender;
  ssh: LabSsh;
  qemu: { pid: number; monitorSocket: string; consoleLog: string; kernelCmdline: string };
  netconsole: LabNetconsole;
  firewall: string | null;
  faults: string[];
  timings: { firstDatagramMs: number | null; sshReadyMs: number | null };
}

export interface LabState {
  name: string;
  kernel: string;
  kernelSeries: string;
  runDir: string;
  namespaces: { logServer: string; router: string | null; qemu: string };
  receiver: {
    netns: string;
    iface: string;
    ip: string;
    ip6: string;
    mac: string;
    port: number;
    ports: number[];
    bridge: string | null;
    mgmtIface: string | null;
    rpFilter: number | null;
  };
  sender: LabSender;
  router: null | {
    netns: string;
    ip: string;
    mac: string;
    senderSideIface: string;
    /** The router's address on the log server's side: the source of what it masquerades (--router-nat). */
    receiverSideIp: string;
    nat?: boolean;
    /** --router-forward: its FORWARD chain drops or rejects UDP to the port. */
    forward?: 'accept' | 'drop' | 'reject';
    /** --jump: the bastion's address (dropbear); ssh to the guests only through it. */
    jumpHost?: string | null;
  };
  ssh: LabSsh;
  rsyslog: {
    state: string;
    pid: number | null;
    port: number;
    ports: number[];
    addresses: string[];
    logFile: string | null;
    /** rsyslogd -f: the lab's own configuration (verify reads it to find the log file). */
    configFile?: string | null;
  };
  qemu: { pid: number; monitorSocket: string };
  netconsole: LabNetconsole;
  /** The guest's /etc/sysconfig/netconsole; null when it has none (an IPv6 target). */
  sysconfig: { path: string; SYSLOGADDR: string; SYSLOGPORT: number } | null;
  firewall: string | null;
  firewallRules: string[];
  faults: string[];
  bootCapture: string;
  timings: { firstDatagramMs: number | null; sshReadyMs: number | null; upTotalMs: number };
  guests: LabGuest[];
}
