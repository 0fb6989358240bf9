/**
 * One iptables rule against the datagram: -p, -s, -d, -i (with `+`), -o, -f, `!`, --dport/--sport,
 * multiport, state/conntrack, addrtype, iprange, pkttype, comment. Any other match is unknown with
 * the option quoted. Pure.
 */
import { type Datagram, type Tri, triAnd, triNot } from '../model.js';
import { ifaceMatches, inNetwork, ipv4ToNum } from '../address.js';

/** Targets that do not decide: the walk goes on after them. */
export const NON_TERMINAL_TARGETS = new Set([
  'LOG',
  'NFLOG',
  'ULOG',
  'MARK',
  'CONNMARK',
  'CT',
  'NOTRACK',
  'TRACE',
  'TCPMSS',
  'DSCP',
  'TOS',
  'CLASSIFY',
  'SET',
  'TEE',
  'AUDIT',
  'CONNSECMARK',
  'SECMARK',
  'IDLETIMER',
  'LED',
  'RATEEST',
  'HMARK',
  'TTL',
  'HL',
  'ECN',
  'CHECKSUM',
  'TPROXY_MARK',
]);

const PROTO_NUMBERS: Record<string, string> = {
  '17': 'udp',
  '6': 'tcp',
  '1': 'icmp',
  '58': 'ipv6-icmp',
  '136': 'udplite',
};

function portInSpec(port: number | undefined, spec: string): Tri {
  if (port === undefined) return { unknown: 'source port not known' };
  for (const part of spec.split(',')) {
    const [a, b] = part.split(':');
    const lo = a === '' || a === undefined ? 0 : Number(a);
    const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
    if (Number.isNaN(lo) || Number.isNaN(hi)) return { unknown: `port spec ${part}` };
    if (port >= lo && port <= hi) return true;
  }
  return false;
}

function addrMatch(ip: string | undefined, spec: string, what: string): Tri {
  if (ip === undefined) return { unknown: `${what} address not known` };
  // iptables-save prints one address per rule, but a hand-written file may list several.
  let any: Tri = false;
  for (const one of spec.split(',')) {
    const r = inNetwork(ip, one);
    if (r === undefined) return { unknown: `${what} ${one}` };
    if (r) any = true;
  }
  return any;
}

function ipRange(ip: string | undefined, range: string, what: string): Tri {
  if (ip === undefined) return { unknown: `${what} address not known` };
  const [a, b] = range.split('-');
  const x = ipv4ToNum(ip);
  const lo = a ? ipv4ToNum(a) : undefined;
  const hi = b ? ipv4ToNum(b) : lo;
  if (x === undefined || lo === undefined || hi === undefined) return { unknown: `${what} range ${range}` };
  return x >= lo && x <= hi;
}

export interface RuleEval {
  match: Tri;
  target?: string;
  goto: boolean;
}

/** Evaluates a rule's matches against the datagram. */
export function matchRule(args: readonly string[], pkt: Datagram): RuleEval {
  const conds: Tri[] = [];
  let target: string | undefined;
  let goto = false;
  let neg = false;
  let module: string | undefined;
  const unknownOpt = (opt: string) => conds.push({ unknown: `${module ? `-m ${module} ` : ''}${opt}` });
  const take = (i: number) => args[i + 1] ?? '';
  let proto: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '!') {
      neg = true;
      continue;
    }
    const push = (t: Tri) => {
      conds.push(neg ? triNot(t) : t);
      neg = false;
    };
    switch (a) {
      case '-p':
      case '--protocol': {
        const p0 = take(i++).toLowerCase();
        const p = PROTO_NUMBERS[p0] ?? p0;
        proto = p;
        push(p === 'all' || p === '0' ? true : p === 'udp');
        break;
      }
      case '-s':
      case '--source':
      case '--src':
        push(addrMatch(pkt.srcIp, take(i++), 'source'));
        break;
      case '-d':
      case '--destination':
      case '--dst':
        push(addrMatch(pkt.dstIp, take(i++), 'destination'));
        break;
      case '-i':
      case '--in-interface': {
        const p = take(i++);
        // A datagram from another host never arrives on lo, whatever the receiving interface is.
        push(
          pkt.iface === undefined
            ? p === 'lo'
              ? false
              : { unknown: `-i ${p} (receiving interface not known)` }
            : ifaceMatches(pkt.iface, p),
        );
        break;
      }
      case '-o':
      case '--out-interface': {
        // No output interface on the input path; a forwarded datagram leaves by its route's.
        const p = take(i++);
        push(
          pkt.forward === undefined
            ? false
            : pkt.forward.oface === undefined
              ? { unknown: `-o ${p} (the interface towards the DNAT's destination not known)` }
              : ifaceMatches(pkt.forward.oface, p),
        );
        break;
      }
      case '-f':
      case '--fragment':
        push(false);
        break;
      case '-m':
      case '--match':
        module = take(i++);
        neg = false;
        break;
      case '-j':
      case '--jump':
        target = take(i);
        // Target options follow (--reject-with, --log-prefix ...): skip them.
        i = args.length;
        break;
      case '-g':
      case '--goto':
        target = take(i);
        goto = true;
        i = args.length;
        break;
      case '--dport':
      case '--destination-port':
        if (
          module &&
          module !== 'udp' &&
          module !== 'tcp' &&
          module !== 'udplite' &&
          module !== 'sctp' &&
          module !== 'dccp'
        )
          unknownOpt(a);
        else push(proto === undefined || proto === 'udp' || proto === 'all' ? portInSpec(pkt.dstPort, take(i)) : false);
        i++;
        break;
      case '--sport':
      case '--source-port':
        push(portInSpec(pkt.srcPort, take(i++)));
        break;
      case '--dports':
      case '--destination-ports':
        push(portInSpec(pkt.dstPort, take(i++)));
        break;
      case '--sports':
      case '--source-ports':
        push(portInSpec(pkt.srcPort, take(i++)));
        break;
      case '--ports': {
        const spec = take(i++);
        const d = portInSpec(pkt.dstPort, spec);
        const s = portInSpec(pkt.srcPort, spec);
        push(d === true || s === true ? true : d === false && s === false ? false : { unknown: `--ports ${spec}` });
        break;
      }
      case '--state':
      case '--ctstate': {
        const states = take(i++).toUpperCase().split(',');
        // A DNAT or REDIRECT on the way sets the connection's DNAT status (--ctstate DNAT).
        push(states.includes('NEW') || ((pkt.dnat === true || pkt.forward !== undefined) && states.includes('DNAT')));
        break;
      }
      case '--comment':
        i++;
        neg = false;
        break;
      case '--dst-type': {
        const types = take(i++).toUpperCase().split(',');
        push(
          (types.includes('LOCAL') && pkt.forward === undefined) || types.includes('UNICAST')
            ? true
            : pkt.pktType === 'broadcast' && types.includes('BROADCAST'),
        );
        break;
      }
      case '--src-type': {
        const types = take(i++).toUpperCase().split(',');
        push(types.includes('UNICAST'));
        break;
      }
      case '--limit-iface-in':
      case '--limit-iface-out':
        neg = false;
        break;
      case '--src-range':
        push(ipRange(pkt.srcIp, take(i++), 'source'));
        break;
      case '--dst-range':
        push(ipRange(pkt.dstIp, take(i++), 'destination'));
        break;
      case '--pkt-type': {
        const t = take(i++).toLowerCase();
        push(t === (pkt.pktType ?? 'unicast'));
        break;
      }
      default:
        if (a.startsWith('-')) {
          // A match option netdiag does not evaluate: the rest up to the next option is its value.
          let j = i + 1;
          const vals: string[] = [];
          while (j < args.length && !args[j]!.startsWith('-') && args[j] !== '!') vals.push(args[j++]!);
          conds.push({
            unknown: `${module ? `-m ${module} ` : ''}${neg ? '! ' : ''}${a}${vals.length ? ' ' + vals.join(' ') : ''}`,
          });
          neg = false;
          i = j - 1;
        }
    }
  }
  // Modules that match on their own, with no option (e.g. -m conntrack alone) are harmless.
  return { match: triAnd(conds), ...(target !== undefined ? { target } : {}), goto };
}
