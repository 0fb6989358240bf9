/**
 * Small /proc and command-output parsers: UDP sockets (/proc/net/udp, udp6, ss -uln), SNMP and
 * netstat counters, lsmod, printk, sysrq, semanage port -l. Pure.
 */

export interface UdpSocket {
  /** Local address; `0.0.0.0` or `::` for the wildcard. */
  address: string;
  port: number;
  family: 4 | 6;
  /** Receive queue bytes and drops (from /proc/net/udp), when known. */
  rxQueue?: number;
  drops?: number;
  /** The owning process, from ss -p. */
  process?: string;
  from: string;
}

function hexToIpv4(h: string): string {
  // /proc/net/udp prints the address as a host-order (little-endian on x86) 32-bit hex number.
  const b = [h.slice(6, 8), h.slice(4, 6), h.slice(2, 4), h.slice(0, 2)].map(x => parseInt(x, 16));
  return b.join('.');
}

function hexToIpv6(h: string): string {
  // Four 32-bit words, each in host order.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = h.slice(w * 8, w * 8 + 8);
    for (let i = 3; i >= 0; i--) bytes.push(parseInt(word.slice(i * 2, i * 2 + 2), 16));
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Compress the longest run of zero groups.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen >= 2) {
    const head = groups.slice(0, best).join(':');
    const tail = groups.slice(best + bestLen).join(':');
    return `${head}::${tail}`;
  }
  return groups.join(':');
}

/** /proc/net/udp or /proc/net/udp6. Only unconnected sockets (state 07) are listeners. */
export function parseProcNetUdp(text: string, from: string): UdpSocket[] {
  const out: UdpSocket[] = [];
  for (const raw of text.split('\n').slice(1)) {
    const f = raw.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [addr, portHex] = (f[1] ?? '').split(':');
    const remote = f[2] ?? '';
    const st = f[3];
    if (!addr || !portHex || st !== '07') continue;
    // A connected UDP socket has a remote address: not a listener for other senders.
    if (!/^0+:0000$/.test(remote)) continue;
    const family = addr.length === 32 ? 6 : 4;
    const s: UdpSocket = {
      address: family === 4 ? hexToIpv4(addr) : hexToIpv6(addr),
      port: parseInt(portHex, 16),
      family,
      from,
    };
    const q = (f[4] ?? '').split(':');
    if (q[1]) s.rxQueue = parseInt(q[1], 16);
    const drops = Number(f[f.length - 1]);
    if (Number.isFinite(drops)) s.drops = drops;
    out.push(s);
  }
  return out;
}

/** `ss -uln` / `ss -ulnp`: `UNCONN 0 0 0.0.0.0:514 0.0.0.0:* users:(("rsyslogd",pid=1,fd=5))`. */
export function parseSs(text: string, from: string): UdpSocket[] {
  const out: UdpSocket[] = [];
  for (const raw of text.split('\n')) {
    const f = raw.trim().split(/\s+/);
    if (f.length < 5 || f[0] === 'State' || f[0] === 'Netid') continue;
    const off = f[0] === 'udp' ? 1 : 0;
    const local = f[off + 3];
    if (!local) continue;
    const m = /^(.*):(\d+|\*)$/.exec(local);
    if (!m || m[2] === '*') continue;
    let address = m[1]!.replace(/^\[|\]$/g, '').replace(/%\S+$/, '');
    if (address === '*') address = '0.0.0.0';
    const family = address.includes(':') ? 6 : 4;
    const s: UdpSocket = { address, port: Number(m[2]), family, from };
    const rq = Number(f[off + 1]);
    if (Number.isFinite(rq)) s.rxQueue = rq;
    const p = /users:\(\("([^"]+)"/.exec(raw);
    if (p) s.process = p[1]!;
    out.push(s);
  }
  return out;
}

/** /proc/net/snmp or /proc/net/netstat: `Udp: InDatagrams NoPorts ...` header and value lines → `Udp.NoPorts`. */
export function parseSnmp(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const h = lines[i]!.trim().split(/\s+/);
    const v = lines[i + 1]!.trim().split(/\s+/);
    if (h[0] && h[0] === v[0] && h[0].endsWith(':') && isNaN(Number(h[1]))) {
      const p = h[0].slice(0, -1);
      for (let j = 1; j < h.length; j++) {
        const n = Number(v[j]);
        if (Number.isFinite(n)) out[`${p}.${h[j]}`] = n;
      }
      i++;
    }
  }
  return out;
}

/** lsmod or /proc/modules: module names. */
export function parseModules(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split('\n')) {
    const name = raw.trim().split(/\s+/)[0];
    if (name && name !== 'Module') out.add(name);
  }
  return out;
}

/** /proc/sys/kernel/printk: console, default message, minimum console, default console log levels. */
export function parsePrintk(
  text: string,
): { console: number; defaultMessage: number; minConsole: number; defaultConsole: number } | undefined {
  const v = text.trim().split(/\s+/).map(Number);
  if (v.length < 4 || v.some(x => !Number.isInteger(x))) return undefined;
  return { console: v[0]!, defaultMessage: v[1]!, minConsole: v[2]!, defaultConsole: v[3]! };
}

/** `semanage port -l`: the ports of one type and protocol (`syslogd_port_t udp 6514, 514`). */
export function semanagePorts(text: string, type: string, proto: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const raw of text.split('\n')) {
    const m = /^(\S+)\s+(tcp|udp|sctp|dccp)\s+(.*)$/.exec(raw.trim());
    if (!m || m[1] !== type || m[2] !== proto) continue;
    for (const part of m[3]!.split(',')) {
      const [a, b] = part.trim().split('-');
      if (a && /^\d+$/.test(a)) out.push([Number(a), Number(b ?? a)]);
    }
  }
  return out;
}

/** `ps -e -o netns=,comm=`: each process's network namespace (inode, or undefined for `-`) and name. */
export function parseProcesses(text: string): Array<{ netns?: string; comm: string }> {
  const out: Array<{ netns?: string; comm: string }> = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*(\d+|-)\s+(.+?)\s*$/.exec(raw);
    if (!m) continue;
    out.push(m[1] === '-' ? { comm: m[2]! } : { netns: m[1]!, comm: m[2]! });
  }
  return out;
}

/** `readlink /proc/self/ns/net` (`net:[4026531840]`): the namespace's inode. */
export function parseNetns(text: string): string | undefined {
  return /net:\[(\d+)\]/.exec(text)?.[1];
}
