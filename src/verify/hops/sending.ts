/**
 * The hops on the sender's side, up to the wire: the trigger, the sender's checks (contradicted
 * when the test's messages arrived), its kernel's send errors, and whether anything arrived. Pure.
 */
import { endpoint } from '../../decode/addr.js';
import { finding } from '../../findings/catalog.js';
import { packetList } from '../../findings/finding.js';
import { byId, contradicted, step, type Hop } from './evidence.js';

/** A sender check on the datagram's path: as collected, unless the messages arrived. */
export const senderHop =
  (id: string): Hop =>
  (e, s) => {
    const c = byId(e.sender.checks, id);
    return c && s.arrived ? contradicted(c, "the test's messages arrived") : c;
  };

/**
 * The console log level beside the path: the sysrq line raises the level for itself, so only the
 * marker (an ordinary message) arriving contradicts a low level; a sysrq line alone confirms it.
 */
export const loglevelBeside: Hop = e => {
  const c = byId(e.sender.checks, 'sender.loglevel');
  return c && e.markerArrival ? contradicted(c, "the test's ordinary message arrived") : c;
};

export const triggerHop: Hop = e =>
  e.triggerError
    ? step('verify.trigger', 'trigger on the sender', 'fail', e.triggerError, [
        finding('trigger-failed', { summary: `the trigger failed on the sender: ${e.triggerError}` }),
      ])
    : step(
        'verify.trigger',
        'trigger on the sender',
        'pass',
        `marker ${e.marker} written to /dev/kmsg, sysrq triggered`,
      );

export const wireHop: Hop = (e, s) => {
  if (s.arrived)
    return step(
      'verify.wire',
      'messages on the wire',
      'pass',
      `arrived ${s.arrived.afterMs} ms after the trigger (packets ${packetList(s.arrived.packets, s.arrived.packets.length)})${
        e.arrivedFrom
          ? `, from ${endpoint(e.arrivedFrom.ip, e.arrivedFrom.port)}, not ${e.senderIp}: a router on the way translates the source (NAT); this host's rules are judged for ${e.arrivedFrom.ip}`
          : ''
      }`,
    );
  const detail = `nothing from ${e.senderIp} arrived on ${e.iface} within ${e.timeoutSec} s (${e.messagesFromSender} other messages from it)`;
  if (e.triggerError) return step('verify.wire', 'messages on the wire', 'unknown', detail);
  const senderErrors = e.sender.findings.filter(f => f.severity === 'error');
  const why = senderErrors.length
    ? `the sender checks explain it: ${senderErrors.map(f => f.code).join(', ')}`
    : 'no sender check explains it';
  const via = senderErrors.length || e.copies?.syslog.marker ? undefined : gateway(e);
  if (via) {
    const { gw, dst } = via;
    const v6 = gw.includes(':');
    const ipt = v6 ? 'ip6tables' : 'iptables';
    return step('verify.wire', 'messages on the wire', 'fail', `${detail}; the sender hands them to its router ${gw}`, [
      finding('lost-beyond-router', {
        subject: e.senderIp,
        summary: `no datagram of the test reached ${e.iface} within ${e.timeoutSec} s: the sender sends them to its router ${gw} (its route and MAC are right), so they are lost at that router or between it and this host, not on this host`,
        evidence: [
          `the sender's route: ${byId(e.sender.checks, 'sender.route')?.detail ?? `via ${gw}`}`,
          `the sender's remote MAC: ${byId(e.sender.checks, 'sender.mac')?.detail ?? "the next hop's"}`,
          `capture on ${e.iface}, filter: traffic from ${e.senderIp} and UDP to the watched ports: 0 messages of the test`,
        ],
        hint: `On the router ${gw} (and anything between it and this host): find what drops UDP to ${endpoint(dst, e.port)} in its forwarding path (${ipt} -vnL FORWARD, nft list ruleset; allow it: ${ipt} -I FORWARD -p udp -d ${dst} --dport ${e.port} -j ACCEPT), check that it forwards (sysctl ${v6 ? 'net.ipv6.conf.all.forwarding' : 'net.ipv4.ip_forward net.ipv4.conf.all.rp_filter'}) and routes ${dst}; tcpdump -ni any udp port ${e.port} there shows where they stop`,
      }),
    ]);
  }
  return step('verify.wire', 'messages on the wire', 'fail', detail, [
    finding('not-on-wire', {
      subject: e.senderIp,
      summary: `no datagram of the test reached ${e.iface} within ${e.timeoutSec} s; ${why}`,
      evidence: [
        `capture on ${e.iface}, filter: traffic from ${e.senderIp}`,
        `${e.messagesFromSender} messages from ${e.senderIp} on udp/${e.port} and the netconsole ports during the test`,
        ...(e.copies?.syslog.marker
          ? [
              `the marker came ${e.copies.syslog.marker === 1 ? 'once' : `${e.copies.syslog.marker} times`} as syslog from ${e.senderIp}: its syslog daemon forwards the kernel log, netconsole sent nothing`,
            ]
          : []),
      ],
    }),
  ]);
};

/**
 * The sender's router, when the target's remote IP is reached through one and the sender's route
 * and MAC checks pass: its datagrams leave addressed to that router, so what the router does with
 * them decides. Undefined when the remote IP is on the sender's link or a check did not pass.
 */
function gateway(e: Parameters<Hop>[0]): { gw: string; dst: string } | undefined {
  const route = e.sender.route;
  if (!route?.via) return undefined;
  if (
    byId(e.sender.checks, 'sender.route')?.status !== 'pass' ||
    byId(e.sender.checks, 'sender.mac')?.status !== 'pass'
  )
    return undefined;
  return { dst: e.target?.remoteIp ?? route.dst, gw: route.via };
}

/**
 * The sender's kernel could not send: the target's `transmit_errors` rose during the test. With
 * nothing arriving that is the root cause (lost before the wire); with messages arriving, some
 * were lost (a warning).
 */
export const transmitHop: Hop = (e, s) => {
  const counts = e.transmitErrors ?? [];
  if (!counts.length) return undefined;
  const rose = counts.filter(c => c.before !== undefined && c.after > c.before);
  const list = counts
    .map(c => `${c.name} ${c.before !== undefined && c.before !== c.after ? `${c.before} → ` : ''}${c.after}`)
    .join(', ');
  if (!rose.length)
    return step(
      'verify.transmit',
      "sent by the sender's kernel",
      'pass',
      `transmit_errors ${list}, none during the test`,
    );
  const n = rose.reduce((a, c) => a + c.after - c.before!, 0);
  const lost = !s.arrived && !e.triggerError;
  return step(
    'verify.transmit',
    "sent by the sender's kernel",
    lost ? 'fail' : 'warn',
    `transmit_errors ${list}: ${n} during the test`,
    [
      finding('netconsole-transmit-errors', {
        subject: e.senderIp,
        summary: lost
          ? `the sender's kernel could not send the test's messages: ${rose.map(c => c.name).join(', ')} counted ${n} send errors during the test`
          : `${n} packets of the test could not be sent by the sender's kernel (${rose.map(c => c.name).join(', ')})`,
        evidence: rose.map(
          c =>
            `/sys/kernel/config/netconsole/${c.name}/transmit_errors: ${c.before} before the trigger, ${c.after} after`,
        ),
        severity: lost ? 'error' : 'warning',
      }),
    ],
  );
};
