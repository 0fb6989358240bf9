/**
 * The netconsole kernel parameter, as the kernel reads it (drivers/net/netconsole.c and
 * netpoll_parse_options in net/core/netpoll.c):
 *
 *   [+][r][src-port]@[src-ip]/[dev],[tgt-port]@<tgt-ip>/[tgt-mac]
 *
 * Several targets are joined by `;`. Pure: no I/O; bad input is returned as error strings that
 * name the bad part, never thrown.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { KERNEL_DEFAULT_LOCAL_PORT, KERNEL_DEFAULT_REMOTE_PORT, type NetconsoleTarget } from './target.js';

export interface ParsedTargets {
  targets: NetconsoleTarget[];
  errors: string[];
}

/** Which address family an IP literal is: 4, 6, or 0 when it is neither. */
export function ipFamily(s: string): 0 | 4 | 6 {
  // A zone index (fe80::1%eth0) is not an address the kernel's in6_pton() takes.
  if (s.includes('%')) return 0;
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return 0;
}

/**
 * A MAC address as the kernel's mac_pton() accepts it: six pairs of hex digits separated by
 * colons. Returns it lowercase, or undefined. Dashes or dots are refused (the kernel refuses them).
 */
export function normalizeMac(s: string): string | undefined {
  const m = /^([0-9a-f]{2})(?::([0-9a-f]{2})){5}$/i.exec(s.trim());
  if (!m) return undefined;
  return s.trim().toLowerCase();
}

/** A port as a decimal number 1..65535, or undefined. */
export function parsePort(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Printable form of a user-given fragment inside an error message (quotes, control characters escaped). */
function q(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);
}

/**
 * Parses the value of `netconsole=` (with or without the `netconsole=` prefix; surrounding
 * quotes as modprobe.d or a shell would carry them are removed). Each target separated by `;`
 * is parsed on its own: one bad target does not hide the good ones.
 *
 * @example parseNetconsoleSpec('+6665@10.0.0.2/eth0,514@10.0.0.1/00:11:22:33:44:55')
 */
export function parseNetconsoleSpec(spec: string, source = '--netconsole'): ParsedTargets {
  const targets: NetconsoleTarget[] = [];
  const errors: string[] = [];
  let s = spec.trim();
  if (/^netconsole=/i.test(s)) s = s.slice('netconsole='.length);
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) s = s.slice(1, -1);
  if (s.trim() === '') {
    errors.push(`${source}: empty netconsole parameter`);
    return { targets, errors };
  }
  const parts = s.split(';');
  parts.forEach((part, i) => {
    const p = part.trim();
    if (p === '') {
      // A trailing `;` is harmless; an empty target in the middle is worth saying.
      if (i !== parts.length - 1) errors.push(`${source}: target ${i + 1} is empty`);
      return;
    }
    const label = parts.length > 1 ? `${source} target ${i + 1}` : source;
    const r = parseOne(p, label);
    if (typeof r === 'string') errors.push(r);
    else targets.push({ ...r, source });
  });
  return { targets, errors };
}

function parseOne(spec: string, label: string): NetconsoleTarget | string {
  let cur = spec;
  const explicit: NetconsoleTarget['explicit'] = [];
  let extended = false;
  let release = false;
  if (cur.startsWith('+')) {
    extended = true;
    explicit.push('extended');
    cur = cur.slice(1);
  }
  if (cur.startsWith('r')) {
    release = true;
    explicit.push('release');
    cur = cur.slice(1);
  }
  if (release && !extended)
    return `${label}: 'r' (release) needs '+' (extended) before it; the kernel refuses ${q(spec)}`;

  // [src-port]@
  const at1 = cur.indexOf('@');
  if (at1 < 0) return `${label}: missing '@' after the source port in ${q(spec)}`;
  let localPort = KERNEL_DEFAULT_LOCAL_PORT;
  const lp = cur.slice(0, at1);
  if (lp !== '') {
    const n = parsePort(lp);
    if (n === undefined) return `${label}: bad source port ${q(lp)} (want 1-65535)`;
    localPort = n;
    explicit.push('localPort');
  }
  cur = cur.slice(at1 + 1);

  // [src-ip]/
  const slash1 = cur.indexOf('/');
  const comma0 = cur.indexOf(',');
  if (slash1 < 0 || (comma0 >= 0 && comma0 < slash1)) return `${label}: missing '/' after the source IP in ${q(spec)}`;
  const lip = cur.slice(0, slash1);
  let localIp: string | undefined;
  if (lip !== '') {
    if (ipFamily(lip) === 0) return `${label}: bad source IP ${q(lip)}`;
    localIp = lip.toLowerCase();
    explicit.push('localIp');
  }
  cur = cur.slice(slash1 + 1);

  // [dev],
  const comma = cur.indexOf(',');
  if (comma < 0) return `${label}: missing ',' after the device in ${q(spec)}`;
  const dev = cur.slice(0, comma);
  let devName: string | undefined;
  if (dev !== '') {
    // Newer kernels also accept the device's MAC address here.
    if (dev.includes(':')) {
      const mac = normalizeMac(dev);
      if (!mac)
        return `${label}: bad device ${q(dev)} (an interface name, or a MAC address on kernels that accept one)`;
      devName = mac;
    } else {
      if (dev.length > 15 || /[\s/]/.test(dev))
        return `${label}: bad device name ${q(dev)} (at most 15 characters, no '/' or spaces)`;
      devName = dev;
    }
    explicit.push('dev');
  }
  cur = cur.slice(comma + 1);

  // [tgt-port]@
  const at2 = cur.indexOf('@');
  if (at2 < 0) return `${label}: missing '@' before the target IP in ${q(spec)}`;
  let remotePort = KERNEL_DEFAULT_REMOTE_PORT;
  const rp = cur.slice(0, at2);
  if (rp !== '') {
    const n = parsePort(rp);
    if (n === undefined) return `${label}: bad target port ${q(rp)} (want 1-65535)`;
    remotePort = n;
    explicit.push('remotePort');
  }
  cur = cur.slice(at2 + 1);

  // <tgt-ip>/ : the kernel needs the '/' even when no MAC follows.
  const slash2 = cur.indexOf('/');
  const rip = slash2 < 0 ? cur : cur.slice(0, slash2);
  if (rip === '') return `${label}: the target IP is missing in ${q(spec)}`;
  const fam = ipFamily(rip);
  if (fam === 0) {
    if (/^\[.*\]$/.test(rip) && ipFamily(rip.slice(1, -1)) === 6)
      return `${label}: target IP ${q(rip)}: the kernel takes IPv6 addresses without brackets`;
    return `${label}: bad target IP ${q(rip)}`;
  }
  explicit.push('remoteIp');
  if (localIp !== undefined && ipFamily(localIp) !== fam) {
    return `${label}: source IP ${q(localIp)} and target IP ${q(rip)} are of different families`;
  }
  if (slash2 < 0)
    return `${label}: missing '/' after the target IP ${q(rip)} (the kernel requires it even with no MAC: ${q(spec + '/')})`;
  const macText = cur.slice(slash2 + 1);
  let remoteMac: string | undefined;
  if (macText !== '') {
    remoteMac = normalizeMac(macText);
    if (!remoteMac)
      return `${label}: bad target MAC ${q(macText)} (want six colon-separated hex pairs, e.g. 00:11:22:33:44:55)`;
    explicit.push('remoteMac');
  }

  const t: NetconsoleTarget = {
    source: label,
    extended,
    release,
    localPort,
    remotePort,
    remoteIp: rip.toLowerCase(),
    explicit,
  };
  if (localIp !== undefined) t.localIp = localIp;
  if (devName !== undefined) t.dev = devName;
  if (remoteMac !== undefined) t.remoteMac = remoteMac;
  return t;
}

/**
 * Writes a target back as the kernel parameter's value (no `netconsole=` prefix). Fields the
 * source left implicit are left out again, so parse → format gives back the original text.
 * Use `{ full: true }` to write every effective value.
 */
export function formatNetconsoleSpec(t: NetconsoleTarget, opts: { full?: boolean } = {}): string {
  const has = (k: NetconsoleTarget['explicit'][number]) => opts.full || t.explicit.includes(k);
  let s = '';
  if (t.extended) s += '+';
  if (t.release) s += 'r';
  if (has('localPort')) s += String(t.localPort);
  s += '@';
  if (t.localIp !== undefined && has('localIp')) s += t.localIp;
  s += '/';
  if (t.dev !== undefined && has('dev')) s += t.dev;
  s += ',';
  if (has('remotePort')) s += String(t.remotePort);
  s += '@' + t.remoteIp + '/';
  if (t.remoteMac !== undefined && has('remoteMac')) s += t.remoteMac;
  return s;
}

/** Several targets joined by `;`, as one parameter value. */
export function formatNetconsoleSpecs(ts: readonly NetconsoleTarget[], opts: { full?: boolean } = {}): string {
  return ts.map(t => formatNetconsoleSpec(t, opts)).join(';');
}
