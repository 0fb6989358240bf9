import { defineCodes } from './code-info.js';

/** Codes found from what is on the wire (analyze, sniff, and verify's capture). */
export const WIRE_CODES = defineCodes([
  {
    code: 'no-netconsole-traffic',
    severity: 'error',
    title: 'No netconsole traffic in the capture',
    explanation:
      "No UDP datagram to a netconsole port (514, 6666 and the configured targets' ports, or only the ports --port " +
      'gives) was found, and without --port no datagram to another UDP port looked like netconsole either.\n\n' +
      'netconsole builds its Ethernet frames itself and hands them to the driver: a capture on the ' +
      'sender never shows them. Capture on the log server (or a mirror port) in promiscuous mode, ' +
      'on the interface the sender reaches. If the capture was made there, the sender did not send: ' +
      'netconsole not loaded, its device down, or the console log level filters the messages.',
    fix: 'Capture on the receiving host: tcpdump -i IFACE -w cap.pcap "udp port 514 or udp port 6666 or icmp" (promiscuous, as tcpdump is by default: not -p, which would hide frames sent to a wrong MAC); check the sender with: dmesg | grep -i netconsole',
  },
  {
    code: 'dst-mac-mismatch',
    severity: 'error',
    title: 'Destination MAC differs from the configured one or from the receiver',
    explanation:
      'netconsole does not use ARP: it sends every frame to the MAC address it was given at load time ' +
      "(or resolved once then). A frame whose destination MAC is not the receiver's NIC (or, across a " +
      "router, the router's) is dropped by the receiver's hardware filter: a capture in promiscuous " +
      'mode sees it, the syslog socket never does.\n\n' +
      "Common causes: the receiver's NIC was replaced, SYSLOGMACADDR names an old card, or the " +
      "receiver's MAC was configured where the route goes through a gateway.\n\n" +
      'netconsole writes TTL 64 (IPv6: hop limit 32) in every datagram. A capture whose frames carry less ' +
      "was taken past a router: their MACs are the last router's and the receiver's, so netdiag does not " +
      "compare them with the configured remote MAC (the sender's next hop, which `netdiag verify` checks " +
      "on the sender), and a wrong one there is the router's to fix.",
    fix: "Set the remote MAC to the next hop's address (ip neigh on the sender), e.g. SYSLOGMACADDR=<mac> in /etc/sysconfig/netconsole, and reload netconsole",
  },
  {
    code: 'broadcast-dst-mac',
    severity: 'warning',
    title: 'Frames sent to the broadcast MAC',
    explanation:
      'The sender addresses its frames to ff:ff:ff:ff:ff:ff. Delivery works on one segment, but every ' +
      'host on it receives the kernel log, switches flood it, and it does not cross a router. ' +
      'netconsole falls back to broadcast when no remote MAC is given and it could not resolve one.',
    fix: "Give the next hop's MAC explicitly (netconsole=...@IP/MAC, or SYSLOGMACADDR)",
  },
  {
    code: 'dst-ip-mismatch',
    severity: 'error',
    title: 'Destination IP differs from the configured target',
    explanation:
      'The datagrams are addressed to another IP than the configuration names. Either the running ' +
      'netconsole was loaded with other parameters than the configuration file holds (the file was ' +
      'edited but the module not reloaded), or the capture shows another target.',
    fix: 'Reload netconsole with the intended target (service netconsole restart, or rmmod/modprobe netconsole netconsole=...)',
  },
  {
    code: 'src-ip-mismatch',
    severity: 'warning',
    title: 'Source IP differs from the configured local IP',
    explanation:
      'The sender uses another local IP than configured: the configuration was changed without reloading netconsole, or the device has several addresses.',
    fix: 'Reload netconsole, or set the local IP explicitly in the netconsole parameter',
  },
  {
    code: 'dst-port-mismatch',
    severity: 'error',
    title: 'Destination port differs from the configured one',
    explanation:
      'The datagrams go to another UDP port than the configuration (or the receiver) expects. ' +
      "netconsole's default target port is 6666; syslog listens on 514.",
    fix: 'Set the target port explicitly (SYSLOGPORT=514, or netconsole=...,514@IP/MAC) and reload netconsole',
  },
  {
    code: 'src-port-mismatch',
    severity: 'warning',
    title: 'Source port differs from the configured local port',
    explanation:
      "The local UDP port on the wire is not the configured one (netconsole's default is 6665). Firewall rules matching the source port will not match.",
    fix: 'Set LOCALPORT (or the src-port in the netconsole parameter) and reload netconsole',
  },
  {
    code: 'target-silent',
    severity: 'error',
    title: 'A configured target sent nothing',
    explanation:
      'The configuration names a netconsole target, but no datagram for it is in the capture. ' +
      'Either nothing was logged while capturing (trigger a message: echo p > /proc/sysrq-trigger), ' +
      'or the sender does not send (see netdiag verify for the sender-side checks).',
    fix: 'Trigger a message on the sender while capturing: echo p > /proc/sysrq-trigger',
  },
  {
    code: 'port-unreachable',
    severity: 'error',
    title: 'The receiver answered ICMP port unreachable',
    explanation:
      'The receiving host answered a netconsole datagram with ICMP (or ICMPv6) port unreachable: the ' +
      'datagram reached the host and nothing listens on that port: the syslog daemon is not running, or does not ' +
      "listen on UDP (rsyslog without imudp, sysklogd without -r). A firewall rule with REJECT (iptables' default " +
      'reject-with icmp-port-unreachable, nft reject) answers the same way: the capture alone cannot tell them ' +
      'apart; netdiag check and netdiag verify can.',
    fix: 'Enable UDP reception in the syslog daemon, e.g. rsyslog: module(load="imudp") input(type="imudp" port="514"), then restart it',
  },
  {
    code: 'firewall-reject',
    severity: 'error',
    title: 'A firewall REJECT rule refused the datagrams',
    explanation:
      'The receiving side answered netconsole datagrams with an ICMP (or ICMPv6) destination unreachable ' +
      'that only a firewall sends: host, net or administratively prohibited (iptables --reject-with ' +
      "icmp-host-prohibited, the stock last rule of CentOS/RHEL's iptables service; icmp-net-prohibited; " +
      'icmp-admin-prohibited; nft reject with icmp admin-prohibited; ICMPv6 code 1, 5 or 6), or a host or net ' +
      'unreachable sent by the destination itself (a host does not call itself unreachable: --reject-with ' +
      'icmp-host-unreachable). The datagrams reached the host and were refused before any socket. netdiag check ' +
      "and verify give the same code when the receiver's rules end in REJECT (iptables REJECT, nft reject), with " +
      'the answer the rule sends: its --reject-with or reject with type, else the default port unreachable, which ' +
      'on the wire alone looks like nothing listening (port-unreachable).',
    fix: 'On the receiver, accept the datagrams before the REJECT rule (iptables -I INPUT -p udp --dport PORT -s SENDER -j ACCEPT, or the nft equivalent in the chain that rejects; where ufw or firewalld manage the rules, their command); netdiag check shows the rule and the fix for this host',
  },
  {
    code: 'dst-unreachable',
    severity: 'error',
    title: 'A router could not deliver the datagrams',
    explanation:
      'A host on the way (not the destination) answered netconsole datagrams with ICMP net, host or ' +
      'address unreachable (or no route, fragmentation needed): the network between the sender and ' +
      'the log server cannot deliver them. netconsole sends every frame to the one MAC it was given, so ' +
      'a router in the path must route the destination, and a router that cannot answers like this.',
    fix: "Check the route to the log server from the router that answered (ip route get DEST), and the remote MAC: across a router it must be the router's",
  },
  {
    code: 'unexpected-port',
    severity: 'warning',
    title: 'netconsole on a port netdiag was not told about',
    explanation:
      "Datagrams whose content is netconsole (the kernel's extended header, or plain lines with printk's " +
      "time stamp) go to a UDP port that is neither 514 nor 6666 nor a configured target's port: a typo in " +
      'the target port, or an old configuration still loaded. A syslog daemon listening on the usual port ' +
      'never sees them. If the port is intended, say so with --port (which also stops this recognition).',
    fix: "Make the sender's target port the one the log server listens on (netconsole=...,514@IP/MAC), or analyze with --port PORT if it is intended",
  },
  {
    code: 'flow-not-configured',
    severity: 'info',
    title: 'Traffic not in the configuration',
    explanation:
      'A netconsole flow in the capture matches none of the configured targets (local and remote IP and ' +
      'ports), and no configured target is missing its traffic: another sender, or a target of another ' +
      'configuration. It is shown, not judged against the configuration.',
    fix: 'Nothing to fix if it belongs to another sender; otherwise add its target to the configuration compared',
  },
  {
    code: 'mode-mismatch',
    severity: 'warning',
    title: 'Plain or extended mode differs from the configuration',
    explanation:
      'The configuration says extended (`+` in the netconsole parameter, configfs `extended` 1) and the ' +
      'datagrams are plain, or the other way round: the running netconsole was loaded with another ' +
      'parameter than the one compared. A receiver that parses one format shows the other badly.',
    fix: 'Reload netconsole with the configured parameter (rmmod netconsole; modprobe netconsole netconsole=...), or correct the configuration',
  },
  {
    code: 'release-mismatch',
    severity: 'warning',
    title: 'Release prefix differs from the configuration',
    explanation:
      'The configuration says `r` (configfs `release` 1: the kernel release before each extended record) ' +
      'and the records have none, or they have one the configuration does not ask for: the running ' +
      'netconsole was loaded with another parameter.',
    fix: 'Reload netconsole with the configured parameter, or correct the configuration',
  },
  {
    code: 'src-mac-mismatch',
    severity: 'warning',
    title: 'Frames come from another device than the configured one',
    explanation:
      'The netconsole parameter names its device by MAC address (`@IP/52:54:00:...`, newer kernels), and ' +
      'the frames come from another MAC: another device sends, or netconsole was loaded with another ' +
      'parameter.',
    fix: 'Reload netconsole with the configured parameter, or name the device that sends',
  },
  {
    code: 'split-line',
    severity: 'warning',
    title: 'One log line arrived split across datagrams',
    explanation:
      'A plain-mode datagram did not end in a newline and the next datagram from the same sender ' +
      'continued it. Old kernels (before printk was made record-based in 3.5) sent one datagram per ' +
      'printk call, so `SysRq : ` and `Show Regs` arrive apart; a plain line over 1000 bytes is also cut ' +
      'into pieces with no marker. A syslog daemon shows each piece as its own line; netdiag joins them.',
    fix: 'Use extended mode (netconsole=+...) on kernels that have it, or join lines at the receiver (netconsd, or netdiag)',
  },
  {
    code: 'seq-gap',
    severity: 'warning',
    title: 'Sequence numbers skipped in extended mode',
    explanation:
      'In extended mode each record carries the kernel log sequence number. A gap is not always loss: ' +
      'records below the console log level consume sequence numbers but are not sent. Loss on the ' +
      'wire or in a capture buffer shows the same way; compare with dmesg on the sender.',
    fix: 'Compare with dmesg -r on the sender; raise the console log level (dmesg -n 8) to send every record',
  },
  {
    code: 'seq-duplicate',
    severity: 'info',
    title: 'A record arrived twice',
    explanation:
      'The same extended sequence number arrived more than once from one sender (a retransmit by a netconsole relay, or two targets captured together).',
    fix: 'Nothing to fix unless duplicates are unexpected',
  },
  {
    code: 'seq-reorder',
    severity: 'info',
    title: 'Records arrived out of order',
    explanation:
      'Extended sequence numbers went backwards by a little from one sender: the datagrams were reordered on the way (several CPUs logging at once, or a multi-path network).',
    fix: 'Nothing to fix; netdiag orders by sequence when it reports',
  },
  {
    code: 'sender-restart',
    severity: 'info',
    title: 'The sender rebooted or reloaded netconsole',
    explanation:
      'The sender replayed its log from the beginning (sequence numbers restarted, or `Linux version` appeared again): the host rebooted, or netconsole was loaded again, which replays the whole log buffer.',
    fix: 'Nothing to fix; look before this point for the last messages of the previous boot',
  },
  {
    code: 'msgid-gap',
    severity: 'error',
    title: 'Messages lost (msgid gap)',
    explanation:
      'The sysdata msgid that newer kernels add counts every message netconsole sent, so a gap in it is real loss on the way (unlike a sequence gap).',
    fix: "Look for drops on the path: switch counters, the receiver's RcvbufErrors (nstat), and the capture buffer size",
  },
  {
    code: 'fragment-incomplete',
    severity: 'error',
    title: 'An ncfrag message is incomplete',
    explanation:
      'Extended messages over 1000 bytes are sent as pieces marked ncfrag=<offset>/<total>. Some pieces of this message never arrived, so it cannot be shown whole.',
    fix: 'Look for drops on the path; the pieces that arrived are shown as they are',
  },
  {
    code: 'fragment-invalid',
    severity: 'warning',
    title: 'An ncfrag piece is inconsistent',
    explanation:
      'An ncfrag piece has an offset beyond its total, overlaps another piece with other bytes, or its total changed between pieces of one message. The piece is ignored.',
    fix: 'Nothing to fix on the receiver; a sender sending such pieces is misbehaving or spoofed',
  },
  {
    code: 'ip-fragment-incomplete',
    severity: 'warning',
    title: 'An IP datagram was never reassembled',
    explanation:
      'Some IP fragments of a datagram to a netconsole port arrived, but not all of them before the capture ended or the reassembly limit was hit.',
    fix: 'Check the path MTU; netconsole itself never sends IP fragments',
  },
  {
    code: 'malformed-payload',
    severity: 'warning',
    title: 'A datagram to a netconsole port is neither netconsole nor syslog',
    explanation:
      'A datagram on a netconsole port did not parse as plain or extended netconsole or as syslog. It is counted and shown escaped; anyone on the network can send such datagrams.',
    fix: 'Find the sender of these datagrams; restrict the port to known senders in the firewall',
  },
  {
    code: 'packet-truncated',
    severity: 'warning',
    title: "Packets were cut by the capture's snapshot length",
    explanation:
      'Some packets were captured shorter than they were on the wire (a small -s snaplen): their payload is incomplete.',
    fix: 'Capture with the full snapshot length: tcpdump -s 0 (the default since tcpdump 4.0)',
  },
  {
    code: 'capture-truncated',
    severity: 'warning',
    title: 'The capture file is truncated or damaged',
    explanation:
      'The capture file ends in the middle of a packet or block, or a block is damaged. Everything before that point was analyzed. A capture copied while still being written, or a tcpdump killed with SIGKILL, ends like this.',
    fix: 'Capture again and stop tcpdump with Ctrl-C or SIGTERM so it flushes its buffer',
  },
  {
    code: 'internal-error',
    severity: 'error',
    title: 'netdiag failed on some packets',
    explanation:
      "Processing some packets raised an error inside netdiag: a bug, never the sender's fault. Those packets were left out and everything else was analyzed; the report may be incomplete around them.",
    fix: 'Please report it with the capture (or the packets named) and the netdiag version',
  },
  {
    code: 'too-many-flows',
    severity: 'warning',
    title: 'Too many senders to track',
    explanation:
      'netdiag tracks at most a fixed number of sender flows (source IP and port to destination IP and port), so that a flood of spoofed datagrams cannot grow its memory without bound. Datagrams of further flows are counted, not decoded.',
    fix: 'Capture with a filter for the senders of interest (netdiag sniff --filter, or tcpdump host ...)',
  },
  {
    code: 'syslog-traffic',
    severity: 'info',
    title: 'Syslog datagrams on a netconsole port',
    explanation:
      'Some senders send syslog (RFC 3164 or RFC 5424) to the port, not netconsole: a syslog daemon forwarding, not a kernel. They are decoded and shown, and not judged as netconsole.',
    fix: 'Nothing to fix',
  },
]);
