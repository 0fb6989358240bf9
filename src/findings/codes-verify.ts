import { defineCodes } from './code-info.js';

/** Codes of the triggered end-to-end test (verify). */
export const VERIFY_CODES = defineCodes([
  {
    code: 'not-on-wire',
    severity: 'error',
    title: 'The triggered messages never reached this host',
    explanation:
      "verify wrote a marker to the sender's kernel log and triggered sysrq, and nothing of it arrived on the " +
      'receiving interface, even in promiscuous mode. The fault is on the sender or on the path: netconsole not ' +
      'loaded or its target disabled, the wrong device, target IP or MAC (across a router the MAC must be the ' +
      "router's), the link down, or a switch or router that drops the frames. The sender checks above say which.",
    fix: 'Read the sender checks; on the sender: dmesg | grep -i netconsole, and ip route get RECEIVER_IP',
  },
  {
    code: 'lost-beyond-router',
    severity: 'error',
    title: "The messages left for the sender's router and never reached this host",
    explanation:
      "Nothing of the test arrived on the receiving interface, while the sender's checks pass: netconsole runs, " +
      "its target's remote IP is reached through a router and its remote MAC is that router's. So the datagrams " +
      'leave the sender addressed to the router, and are lost there or between it and this host: a FORWARD rule ' +
      "dropping or rejecting UDP to the port (a REJECT's ICMP answer goes back to the sender, not here), forwarding " +
      "off, the router's rp_filter, or its route to this host. A firewall on this host would not hide them from the " +
      'capture, which sees datagrams before the firewall.',
    fix: 'On the router: iptables -vnL FORWARD (or nft list ruleset), sysctl net.ipv4.ip_forward, its route to this host; tcpdump there shows where the datagrams stop',
  },
  {
    code: 'not-in-log',
    severity: 'error',
    title: 'Received, but not in the syslog file',
    explanation:
      'The datagrams reached this host and nothing dropped them, but the marker is not in the log file verify ' +
      'watched. The syslog daemon listens, but writes kernel messages from the network elsewhere, filters them, ' +
      'or another program holds the port.',
    fix: 'Check which program listens (ss -ulnp) and where the daemon writes remote kern.* messages; give --log-file',
  },
  {
    code: 'marker-filtered',
    severity: 'error',
    title: 'sysrq arrived but the marker did not',
    explanation:
      'The sysrq header is printed at the default console level whatever the console log level is, but the ' +
      'marker verify wrote to /dev/kmsg is an ordinary message: when only sysrq arrived, the console log level ' +
      'filters ordinary messages, and most lines of an oops or a hang report would not be sent either.',
    fix: 'Raise the console log level on the sender: dmesg -n 8 (or kernel.printk = 8 4 1 7 in sysctl.conf)',
  },
  {
    code: 'trigger-failed',
    severity: 'error',
    title: 'The trigger could not run on the sender',
    explanation:
      'Writing to /dev/kmsg or /proc/sysrq-trigger needs root. verify runs them over ssh as the remote user, through sudo -n when that user is not root.',
    fix: 'Connect as root, or allow the user to run the trigger with sudo without a password',
  },
]);
