import { defineCodes } from './code-info.js';

/** Codes of the sender, receiver and firewall checks (issue 5). */
export const HOST_CODES = defineCodes([
  // ---- sender: netconsole itself -------------------------------------------------------------
  {
    code: 'netconsole-not-loaded',
    severity: 'error',
    title: 'netconsole is not loaded on the sender',
    explanation:
      "The netconsole module is not in the sender's module list (lsmod, /proc/modules) and the kernel log " +
      'shows no netconsole start-up: nothing sends the kernel log over the network.\n\n' +
      'On CentOS/RHEL the netconsole service loads it from /etc/sysconfig/netconsole (it must be enabled: ' +
      'chkconfig netconsole on, or systemctl enable netconsole); elsewhere it is loaded by modprobe with a ' +
      'netconsole= option from /etc/modprobe.d, or built in and configured by netconsole= on the kernel ' +
      'command line (then it does not appear in lsmod, but its start-up lines are in the kernel log).',
    fix: 'Load it: service netconsole start (CentOS/RHEL), or modprobe netconsole netconsole=@/eth0,514@RECEIVER_IP/NEXT_HOP_MAC',
  },
  {
    code: 'netconsole-no-target',
    severity: 'error',
    title: 'netconsole has no configured target',
    explanation:
      'No target was found in any place netconsole takes one from: /etc/sysconfig/netconsole, netconsole= on ' +
      'the kernel command line or in /etc/modprobe.d, configfs targets, or the kernel log of the last load. ' +
      'netconsole loaded without a target (possible with configfs) sends nothing.',
    fix: 'Configure a target, e.g. SYSLOGADDR=RECEIVER_IP in /etc/sysconfig/netconsole, or a configfs target: mkdir /sys/kernel/config/netconsole/t1 and fill in its attributes',
  },
  {
    code: 'netconsole-config-invalid',
    severity: 'error',
    title: 'A netconsole setting is malformed',
    explanation:
      'A netconsole setting does not parse the way the kernel or the init script reads it: a port that is ' +
      'not a number, a MAC with dashes, a missing `/` after the target IP, `r` without `+`, SYSLOGADDR not set. ' +
      "The kernel refuses the whole parameter (netpoll: couldn't parse config) and the init script refuses to start.",
    fix: 'Correct the setting named in the evidence: netconsole=[+][r][src-port]@[src-ip]/[dev],[tgt-port]@<tgt-ip>/[tgt-mac]',
  },
  {
    code: 'netconsole-load-failed',
    severity: 'error',
    title: 'The kernel refused to start a netconsole target',
    explanation:
      'The kernel log shows netconsole (netpoll) giving up on a target: the configuration did not parse, or ' +
      'the device was unsuitable. The exact kernel message is quoted in the evidence.',
    fix: 'Fix the cause the kernel names, then reload: rmmod netconsole; modprobe netconsole netconsole=...',
  },
  {
    code: 'cmdline-param-ignored',
    severity: 'warning',
    title: 'netconsole= on the kernel command line is ignored by the netconsole module',
    explanation:
      'The kernel reads `netconsole=` from the command line only when netconsole is built into the kernel. ' +
      'Where it is a module (Debian, Ubuntu, RHEL 7 and later), that parameter is ignored; modprobe passes ' +
      'module options from the command line only in the form `netconsole.netconsole=...`, or from ' +
      '/etc/modprobe.d.',
    fix: 'Write it as netconsole.netconsole=... on the kernel command line, or as "options netconsole netconsole=..." in /etc/modprobe.d/netconsole.conf (and load the module at boot: echo netconsole > /etc/modules-load.d/netconsole.conf)',
  },
  {
    code: 'netconsole-target-disabled',
    severity: 'error',
    title: 'A configfs netconsole target is disabled',
    explanation:
      'The target exists under /sys/kernel/config/netconsole/ but its `enabled` is 0: it sends nothing. A new ' +
      'configfs target starts disabled; writing an attribute needs the target disabled, so a script that ' +
      'changed one and failed before re-enabling it leaves it like this. The kernel also disables a target ' +
      'whose device goes away or joins a bond or bridge.',
    fix: 'echo 1 > /sys/kernel/config/netconsole/TARGET/enabled',
  },
  {
    code: 'netconsole-transmit-errors',
    severity: 'warning',
    title: 'A configfs target counted send errors',
    explanation:
      "The target's `transmit_errors` (configfs, kernel 6.13 and later: packets netpoll could not send since the " +
      'target was made) is not zero: messages were lost on the sender, before the wire, whatever the receiver ' +
      'does. netpoll dropped them (the device stopped running or went away at that moment, was detached while ' +
      'suspended or reset, or its driver refused them) or could not allocate a buffer. Seen on 6.17: the ' +
      "kernel's messages while the devices were suspended are counted; messages logged while the device is " +
      'down are not (netconsole skips them without trying), nor while it has no carrier (netpoll sends anyway, ' +
      'the frames are lost on the link). The count is never reset: one that rises while ' +
      'messages are sent (verify reads it before and after its test) means messages are being lost now; an old ' +
      'count may be from a past incident.',
    fix: 'Watch /sys/kernel/config/netconsole/TARGET/transmit_errors while triggering a message (echo p > /proc/sysrq-trigger); if it rises, check the device and its driver (ip -s link show DEV: TX errors and drops; ethtool -S DEV) and the memory pressure at that moment',
  },
  {
    code: 'netconsole-stopped',
    severity: 'error',
    title: 'The kernel stopped netconsole on its device',
    explanation:
      'The kernel log says netconsole stopped logging on its interface: the device was unregistered (driver ' +
      'reloaded, interface renamed or removed) or joined a master device (it was added to a bond or bridge). ' +
      'netconsole does not resume by itself when the device comes back.',
    fix: 'Point netconsole at the device that now carries the traffic (the bond or bridge) and reload it',
  },
  // ---- sender: the device ---------------------------------------------------------------------
  {
    code: 'sender-device-missing',
    severity: 'error',
    title: 'The netconsole device does not exist',
    explanation:
      "The configured device (DEV, or the dev field of netconsole=) is not among the sender's interfaces. " +
      'Interface names change (eth0 became ens3 with predictable names, or a NIC moved slot); netconsole then ' +
      'prints "doesn\'t exist, aborting" and sends nothing. When no device is given, the kernel uses eth0.',
    fix: 'Set the device that carries the route to the receiver (ip route get RECEIVER_IP shows it): DEV=<name> in /etc/sysconfig/netconsole, or netconsole=@/<name>,...',
  },
  {
    code: 'sender-device-down',
    severity: 'error',
    title: 'The netconsole device is down',
    explanation:
      'The device is administratively down or has no carrier. netconsole cannot send while the link is down, and ' +
      'messages logged meanwhile are lost, not queued. At load time netpoll brings a down device up itself ' +
      '("device not up yet, forcing it"), but not later.',
    fix: 'ip link set DEV up, and check the cable/switch port (ip -d link show DEV shows LOWER_UP when the carrier is there)',
  },
  {
    code: 'sender-device-unsupported',
    severity: 'error',
    title: 'netconsole cannot send through this device',
    explanation:
      'netpoll refuses some devices. A port enslaved to a bond, bridge or team is refused ("is a slave device, ' +
      'aborting"): configure netconsole on the master instead. A device without netpoll support is refused ' +
      '("doesn\'t support polling, aborting"): bonding, bridge and VLAN devices gained netpoll support in the ' +
      "2.6.3x series, so old kernels (such as CentOS 5's 2.6.18) may refuse them; most Wi-Fi drivers cannot " +
      'send from netpoll at all. Team devices work on kernels with team netpoll support (3.x and later).',
    fix: 'Use the bond/bridge master (or, on an old kernel, a plain Ethernet port that is not enslaved) as the netconsole device',
  },
  {
    code: 'sender-no-address',
    severity: 'error',
    title: 'The netconsole device has no IP address',
    explanation:
      "When no source IP is configured, netconsole takes the device's first address at load time. A device " +
      'without one is refused ("no IP address for DEV, aborting"): netconsole loaded before DHCP finished, ' +
      'or the address sits on a bond/bridge master while netconsole names its port.',
    fix: 'Load netconsole after the network is configured (the service after network), or give the source IP explicitly: netconsole=@SRC_IP/DEV,...',
  },
  {
    code: 'sender-route-mismatch',
    severity: 'warning',
    title: 'The route to the receiver leaves through another device',
    explanation:
      'ip route get RECEIVER_IP on the sender names another interface (or source address) than netconsole uses. ' +
      'netconsole does not route: it sends on its device to the configured MAC, whatever the routing table ' +
      'says. If the receiver is not reachable on that segment, the frames go nowhere.',
    fix: 'Use the device and next-hop MAC of the route: ip route get RECEIVER_IP; ip neigh show NEXT_HOP',
  },
  {
    code: 'router-mac-required',
    severity: 'error',
    title: "The receiver is behind a router, but the remote MAC is not the router's",
    explanation:
      'The route from the sender to the receiver goes through a gateway (ip route get shows `via`). netconsole ' +
      "does no ARP and no routing: the Ethernet destination must be the gateway's MAC. The receiver's own MAC " +
      '(or broadcast, the kernel default) reaches nobody across the router: the frame is dropped on the ' +
      "sender's segment. On the receiver (check with the sender's parameter), the same shows as a sender on none of " +
      "the receiving interface's networks with a target MAC that is this host's own, or broadcast.",
    fix: "Set the remote MAC to the gateway's: ip neigh show GATEWAY on the sender, then SYSLOGMACADDR=<that MAC> (or netconsole=...@RECEIVER_IP/<that MAC>) and reload netconsole",
  },
  {
    code: 'stale-remote-mac',
    severity: 'error',
    title: "The configured remote MAC is not the next hop's current MAC",
    explanation:
      "netconsole keeps the remote MAC it was given (or resolved once at load) for ever. The sender's neighbour " +
      "table now has another MAC for the next hop: the receiver's NIC was replaced, the receiver moved to " +
      'another host, or a VRRP/HSRP gateway failed over. Frames go to the old MAC and are dropped by every NIC.',
    fix: 'Set the current MAC (ip neigh show NEXT_HOP on the sender) and reload netconsole (service netconsole restart re-resolves it)',
  },
  {
    code: 'remote-mac-broadcast',
    severity: 'warning',
    title: 'No remote MAC: netconsole sends to broadcast',
    explanation:
      'The target has no remote MAC, so the kernel sends every message to ff:ff:ff:ff:ff:ff. It works on one ' +
      'segment, but every host there receives the kernel log, and it never crosses a router.',
    fix: "Give the next hop's MAC: netconsole=...@RECEIVER_IP/NEXT_HOP_MAC (ip neigh show NEXT_HOP on the sender)",
  },
  {
    code: 'config-conflict',
    severity: 'warning',
    title: "netconsole's configuration sources disagree",
    explanation:
      'The same setting has different values in different places: the configuration files (sysconfig, ' +
      'modprobe.d, kernel command line), the configfs targets, and what the kernel logged when netconsole ' +
      'last started. The running netconsole uses what the kernel logged; the files take effect on the next ' +
      'load. A file edited without reloading netconsole, or two mechanisms configuring it, look like this.',
    fix: 'Decide which source is meant, remove the other, and reload netconsole (service netconsole restart, or rmmod netconsole; modprobe netconsole)',
  },
  {
    code: 'console-loglevel-low',
    severity: 'warning',
    title: 'The console log level filters the messages netconsole would send',
    explanation:
      'netconsole is a console: it gets only messages with a level below the console log level (the first ' +
      'number in /proc/sys/kernel/printk). At 1 or 2 only emergencies reach the network; distributions often ' +
      'set 4 (quiet boot), which hides informational messages such as the SysRq output. Extended mode is ' +
      'filtered the same way.',
    fix: 'dmesg -n 8 (or: echo 8 > /proc/sys/kernel/printk); persist with kernel.printk = 8 4 1 7 in /etc/sysctl.d/',
  },
  {
    code: 'sysrq-disabled',
    severity: 'warning',
    title: 'SysRq is disabled for the triggered test',
    explanation:
      '/proc/sys/kernel/sysrq does not allow the function a test triggers (p, show registers, needs bit 0x8; ' +
      '1 allows all). The mask governs the keyboard (Alt-SysRq, or sendkey on a VM console) and serial-break ' +
      'paths; writing to /proc/sysrq-trigger as root is always allowed. A test that goes through the keyboard ' +
      'path, or an operator who wants to trigger a dump on a hung machine, needs it enabled.',
    fix: 'echo 1 > /proc/sys/kernel/sysrq (persist with kernel.sysrq = 1 in /etc/sysctl.d/)',
  },
  {
    code: 'kernel-log-unreadable',
    severity: 'info',
    title: "The sender's kernel log could not be read",
    explanation:
      'Neither dmesg nor journalctl -k gave the kernel log (dmesg_restrict=1 for a non-root user, or the boot ' +
      'messages rotated out of the ring buffer). The effective netconsole settings and its errors come from ' +
      'there, so the checks that need them are unknown.',
    fix: 'Run the checks as root, or hand in the output of dmesg as dmesg.txt',
  },
  // ---- receiver --------------------------------------------------------------------------------
  {
    code: 'receiver-device-down',
    severity: 'error',
    title: 'The receiving interface is down',
    explanation:
      'The interface that holds the address netconsole sends to is administratively down or has no carrier: ' +
      "nothing arrives on it, whatever listens behind it, and the sender's messages meanwhile are lost.",
    fix: 'ip link set DEV up on this host, and check the cable/switch port (ip link show DEV shows LOWER_UP when the carrier is there)',
  },
  {
    code: 'receiver-not-listening',
    severity: 'error',
    title: 'Nothing listens on the UDP port on the receiver',
    explanation:
      'No UDP socket is bound to the netconsole port (/proc/net/udp and udp6, or ss -uln). Every datagram ' +
      'that reaches the host is answered with ICMP port unreachable and counted in Udp: NoPorts. The syslog ' +
      'daemon is not running, or does not listen on UDP, or listens on another port.',
    fix: 'Enable UDP reception in the syslog daemon (rsyslog: module(load="imudp") input(type="imudp" port="514")) and restart it; check with ss -ulnp',
  },
  {
    code: 'syslog-not-running',
    severity: 'error',
    title: 'The syslog daemon is configured for UDP but not running',
    explanation:
      "The syslog daemon's configuration opens the netconsole port, but no process of that daemon runs on the " +
      'receiver (in its network namespace), or its service is inactive or failed: nothing listens, and every ' +
      'datagram is answered with ICMP port unreachable. The configuration is fine; the daemon is stopped, ' +
      'crashed, or failed to start (a configuration error elsewhere, a port another program holds).',
    fix: 'Start it and look at why it stopped: systemctl start rsyslog; systemctl status rsyslog (or journalctl -u rsyslog)',
  },
  {
    code: 'receiver-bound-elsewhere',
    severity: 'error',
    title: 'The listening socket is bound to another address',
    explanation:
      "A socket listens on the port, but bound to one address (127.0.0.1, or another interface's IP) that is " +
      'not the one the sender sends to. The kernel delivers a datagram only to a socket bound to its ' +
      'destination address or to the wildcard (0.0.0.0 / ::).',
    fix: 'Listen on the address the sender uses, or on all addresses: rsyslog input(type="imudp" port="514" address="0.0.0.0"); syslog-ng udp(ip(0.0.0.0) port(514))',
  },
  {
    code: 'port-forwarded',
    severity: 'info',
    title: 'The port is forwarded elsewhere by a DNAT rule (a container)',
    explanation:
      'A destination NAT rule in the prerouting hook (iptables nat PREROUTING -j DNAT, as Docker and Podman ' +
      "write for a published port; nft dnat to) sends the sender's datagrams to another address, often a " +
      'container behind a bridge (172.17.0.2:514). They never reach a socket of this host: they pass the ' +
      'FORWARD chains, not INPUT, and the syslog daemon that receives them is the one at the translated ' +
      "address. That nothing listens here, or that this host's own syslog daemon has no UDP input, is then " +
      'no fault. The daemon there is not checked from here; a docker-proxy listening on the port serves only ' +
      "connections from this host itself, never the sender's datagrams.",
    fix: 'Check the daemon at the translated address: run netdiag check inside the container (docker exec), or look at its log (docker logs)',
  },
  {
    code: 'syslog-udp-disabled',
    severity: 'error',
    title: 'The syslog daemon is not configured to receive UDP',
    explanation:
      'The syslog daemon\'s configuration has no UDP input: rsyslog without imudp (module(load="imudp") and ' +
      'input(type="imudp" ...), or legacy $ModLoad imudp and $UDPServerRun), sysklogd without -r in ' +
      'SYSLOGD_OPTIONS (-x only turns off DNS lookups; -r is the one that opens UDP 514), syslog-ng without ' +
      'a udp() or network(transport("udp")) source.',
    fix: 'rsyslog: add module(load="imudp") and input(type="imudp" port="514") to /etc/rsyslog.conf; sysklogd: SYSLOGD_OPTIONS="-m 0 -r"; then restart the daemon',
  },
  {
    code: 'syslog-port-mismatch',
    severity: 'error',
    title: 'The syslog daemon listens on another port than netconsole sends to',
    explanation:
      "The syslog configuration opens UDP, but on another port than the target's. netconsole sends to 6666 " +
      'unless told otherwise, and syslog listens on 514: one of them has to change.',
    fix: 'Make the ports agree: SYSLOGPORT=514 (or netconsole=...,514@...), or input(type="imudp" port="6666") in rsyslog',
  },
  {
    code: 'syslog-filtered',
    severity: 'error',
    title: 'The syslog daemon receives netconsole, but no rule writes its messages',
    explanation:
      'netconsole sends bare text, without the <PRI> a syslog message starts with, so the daemon files ' +
      'every netconsole message as user.notice (the RFC 3164 default), whatever level the kernel gave it. ' +
      'A rule that selects kern.* (`kern.* /var/log/netconsole.log`), `$syslogfacility-text == "kern"`, ' +
      'or a severity above notice never matches them: the daemon receives every datagram and writes ' +
      'none, and nothing says so. Nor do they carry a program name: plain lines with printk timestamps have ' +
      "none, extended ones \"6,SEQ,USEC,-;\" and a word, so `if $programname == 'kernel'` or syslog-ng's " +
      'program("kernel") never takes them either. netdiag judges filters on facility, severity and the ' +
      "source address, and on the program name where the sender's line form is known, and says this only when " +
      'every file rule leaves them out and no other output (forwarding, a program, another ruleset) may ' +
      'take them.',
    fix: 'Select netconsole messages by where they come from, e.g. rsyslog: if $fromhost-ip == "SENDER_IP" then { action(type="omfile" file="/var/log/netconsole.log") stop }; then restart the daemon',
  },
  {
    code: 'syslog-config-unknown',
    severity: 'info',
    title: 'No syslog daemon configuration was found',
    explanation:
      "None of /etc/rsyslog.conf, /etc/syslog-ng/syslog-ng.conf or sysklogd's options were readable. Whether " +
      'messages are received depends on what listens on the port (see receiver-not-listening); a netcat or ' +
      'netconsd listener has no configuration to read.',
    fix: 'Nothing to fix if another program receives the messages; otherwise install and configure rsyslog',
  },
  {
    code: 'syslog-sender-refused',
    severity: 'error',
    title: "The syslog daemon's allowed-sender list leaves the sender out",
    explanation:
      "rsyslog's `$AllowedSender UDP, ...` lists the addresses and networks it accepts UDP messages from; a " +
      'datagram from any other address is received by the socket and thrown away (rsyslog says so once, ' +
      '"UDP message from disallowed sender ... discarded", then no more). The capture, the firewall and the ' +
      'socket all look right. netdiag says this when every entry of the list is an address or network and ' +
      'none holds the sender (with a host name in the list it is a syslog-config-warning: the name may ' +
      'resolve to the sender).',
    fix: 'Add the sender to the list (e.g. $AllowedSender UDP, 10.0.0.0/8, SENDER_IP/32), then restart rsyslog',
  },
  {
    code: 'syslog-config-warning',
    severity: 'warning',
    title: 'The syslog configuration has a problem for remote messages',
    explanation:
      'The syslog daemon receives UDP, but something in its configuration affects netconsole messages: an ' +
      'allowed-sender list ($AllowedSender) with host names that may not resolve to the sender, a directive ' +
      'netdiag cannot read, or an include that could not be followed.',
    fix: 'Read the quoted configuration line and adjust it (e.g. $AllowedSender UDP, SENDER_IP/32)',
  },
  {
    code: 'firewall-drop',
    severity: 'error',
    title: "The receiver's firewall drops the datagrams",
    explanation:
      "Following the receiver's firewall rules for a new UDP datagram from the sender to the port on the " +
      'receiving interface ends in DROP (iptables) or drop (nftables), or a chain policy of DROP. A capture on ' +
      'the receiver still shows the datagrams (taps see them before netfilter); the syslog socket never does, ' +
      "no answer goes back, and the deciding rule's packet counter rises with each message. A REJECT rule is " +
      '`firewall-reject`, named with the ICMP answer it sends.',
    fix: 'Insert an accept rule before the deciding one, e.g. iptables -I INPUT -p udp -s SENDER_IP --dport 514 -j ACCEPT (or nft insert rule inet filter input ip saddr SENDER_IP udp dport 514 accept), and make it persistent. Where ufw or firewalld manage the rules, use their command (ufw prepend allow proto udp from SENDER_IP to any port 514; firewall-cmd --permanent --add-rich-rule ...): a rule inserted beside them is gone at their next reload. netdiag check prints the one for this host',
  },
  {
    code: 'firewall-uncertain',
    severity: 'warning',
    title: "The firewall's verdict could not be decided",
    explanation:
      'A rule that might match the datagram uses a match netdiag does not evaluate (a module like recent, ' +
      'hashlimit, set, owner, an nft expression it does not know), so it cannot say whether the datagram is ' +
      'accepted. The rule is quoted rather than guessed. Watch its counters while the sender logs ' +
      '(iptables -L -v -n, nft list ruleset) to see whether it matches.',
    fix: 'Check the quoted rule by hand; watch its counters while triggering a message on the sender',
  },
  {
    code: 'firewall-unreadable',
    severity: 'info',
    title: "The receiver's firewall rules could not be read",
    explanation:
      'Neither iptables-save nor nft list ruleset gave output (not root, or the tools are missing), so the firewall was not judged.',
    fix: 'Run as root, or hand in iptables-save -c and nft -j list ruleset outputs',
  },
  {
    code: 'rp-filter-drop',
    severity: 'error',
    title: 'Reverse-path filtering drops the datagrams',
    explanation:
      'rp_filter is strict (1) on the receiving interface (the effective value is the higher of conf/all and ' +
      "conf/IFACE), and the receiver's route back to the sender leaves through another interface, or there " +
      'is none (in loose mode, 2, only when there is no route at all). The kernel drops such datagrams before ' +
      'any socket, silently; TcpExt IPReversePathFilter counts them.',
    fix: 'Add a route to the sender through the receiving interface, or set loose mode: sysctl -w net.ipv4.conf.IFACE.rp_filter=2 net.ipv4.conf.all.rp_filter=2',
  },
  {
    code: 'ip-forward-off',
    severity: 'error',
    title: 'A DNAT sends the datagrams to another host, but this host does not forward',
    explanation:
      "A DNAT rule (a container's published port) sends the sender's datagrams to another address, " +
      'and net.ipv4.ip_forward (net.ipv6.conf.all.forwarding) is 0: the kernel drops them after the ' +
      'translation, before any FORWARD rule, and IpInAddrErrors counts them. Docker turns forwarding on ' +
      'when it starts; a sysctl reload, a network manager or a hardening profile that sets it back to 0 ' +
      'cuts every published port at once.',
    fix: 'sysctl -w net.ipv4.ip_forward=1, and keep it: net.ipv4.ip_forward = 1 in /etc/sysctl.d/99-forward.conf',
  },
  {
    code: 'udp-drops',
    severity: 'warning',
    title: "The receiver's UDP counters show drops",
    explanation:
      "The receiver's /proc/net/snmp counts datagrams it could not deliver: NoPorts (nothing listening on the " +
      "destination port), RcvbufErrors (the socket's receive buffer was full: the daemon reads too slowly for " +
      'a burst such as the boot log netconsole replays at load), InErrors (all delivery failures). These are ' +
      'host-wide counters since boot: compare them before and after a test.',
    fix: 'For RcvbufErrors: raise the buffer (rsyslog: input(type="imudp" ... rcvbufSize="4m"); sysctl -w net.core.rmem_max=4194304)',
  },
  {
    code: 'selinux-syslog-port',
    severity: 'warning',
    title: 'SELinux does not label the port for syslog',
    explanation:
      'On SELinux systems the syslog daemon may bind only to ports labelled syslogd_port_t (514 and 6514 by ' +
      "default). A daemon configured for another port (6666, netconsole's default) fails to bind it, and the " +
      'audit log shows an AVC denial name_bind.',
    fix: 'semanage port -a -t syslogd_port_t -p udp PORT, then restart the syslog daemon',
  },
]);
