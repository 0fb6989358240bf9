/**
 * Addresses and interface names as the firewall tools match them: CIDR and dotted masks, IPv6,
 * iptables' `+` and nft's `*` interface wildcards. Pure.
 */
import { ipFamily } from '../../config/netconsole-spec.js';

export function ipv4ToNum(s: string): number | undefined {
  const p = s.split('.');
  if (p.length !== 4) return undefined;
  let n = 0;
  for (const x of p) {
    if (!/^\d{1,3}$/.test(x) || Number(x) > 255) return undefined;
    n = n * 256 + Number(x);
  }
  return n;
}

function ipv6ToBig(s: string): bigint | undefined {
  if (ipFamily(s) !== 6) return undefined;
  let str = s.toLowerCase();
  // Embedded IPv4 (::ffff:1.2.3.4)
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
  if (v4) {
    const n = ipv4ToNum(v4[1]!)!;
    str = str.slice(0, -v4[1]!.length) + ((n >>> 16) & 0xffff).toString(16) + ':' + (n & 0xffff).toString(16);
  }
  const [head, tail] = str.includes('::') ? str.split('::') : [str, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const parts = [...h, ...new Array<string>(Math.max(0, fill)).fill('0'), ...t];
  if (parts.length !== 8) return undefined;
  let v = 0n;
  for (const x of parts) v = (v << 16n) + BigInt(parseInt(x || '0', 16));
  return v;
}

/**
 * Whether `ip` is inside `net` (`10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `2001:db8::/32`, or a single
 * address). Undefined when either is not an address of the same family.
 */
export function inNetwork(ip: string, net: string): boolean | undefined {
  const [addr, mask] = net.split('/') as [string, string | undefined];
  const fam = ipFamily(ip);
  if (fam === 0 || ipFamily(addr) !== fam) return undefined;
  if (fam === 4) {
    const a = ipv4ToNum(ip)!;
    const b = ipv4ToNum(addr)!;
    let bits: number;
    if (mask === undefined) bits = 32;
    else if (/^\d+$/.test(mask)) bits = Number(mask);
    else {
      const m = ipv4ToNum(mask);
      if (m === undefined) return undefined;
      // A dotted mask (old iptables-save); count its bits, assuming contiguous.
      bits = m.toString(2).replace(/0+$/, '').length;
      if (m === 0) bits = 0;
    }
    if (bits < 0 || bits > 32) return undefined;
    if (bits === 0) return true;
    const shift = 32 - bits;
    return Math.floor(a / 2 ** shift) === Math.floor(b / 2 ** shift);
  }
  const a = ipv6ToBig(ip)!;
  const b = ipv6ToBig(addr)!;
  const bits = mask === undefined ? 128 : Number(mask);
  if (!Number.isInteger(bits) || bits < 0 || bits > 128) return undefined;
  const shift = BigInt(128 - bits);
  return a >> shift === b >> shift;
}

/** iptables' -i matching: a trailing `+` matches any suffix. */
export function ifaceMatches(iface: string, pattern: string): boolean {
  if (pattern.endsWith('+')) return iface.startsWith(pattern.slice(0, -1));
  return iface === pattern;
}

/** nft's iifname matching: `*` at the end is a wildcard; otherwise exact. */
export function ifnameMatches(iface: string, pattern: string): boolean {
  if (pattern.endsWith('*') && !pattern.endsWith('\\*')) return iface.startsWith(pattern.slice(0, -1));
  return iface === pattern.replace(/\\\*/g, '*');
}
