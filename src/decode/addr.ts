/** Address formatting for the wire structures: MAC, IPv4, IPv6 (RFC 5952 short form). */

export function isBroadcastMac(mac: string): boolean {
  return mac === 'ff:ff:ff:ff:ff:ff';
}

/** Multicast bit set (includes broadcast). */
export function isGroupMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** An IPv4 address as a 32-bit unsigned number. */
export function ipv4Number(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) >>> 0) + (buf[off + 1]! << 16) + (buf[off + 2]! << 8) + buf[off + 3]!;
}

export function formatIpv4Number(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function formatIpv6(buf: Uint8Array, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!);
  // IPv4-mapped ::ffff:a.b.c.d
  if (groups.slice(0, 5).every(g => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`;
  }
  // Longest run of zero groups (length >= 2) becomes '::'.
  let bestStart = -1,
    bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map(g => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Normalises a MAC given by a user (`00-0C-29-...`, `000c.2986.dc7a`) to lowercase colon form, or undefined. */
export function normaliseMac(s: string): string | undefined {
  const hex = s.trim().toLowerCase().replace(/[-:.]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** Formats `ip:port`, with brackets for IPv6. */
export function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** A 48-bit MAC at `o` as a number (exact in a double): cheap to compare and to use as a key. */
export function macNum(b: Uint8Array, o: number): number {
  return (
    (b[o]! * 0x10000 + ((b[o + 1]! << 8) | b[o + 2]!)) * 0x1000000 + ((b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!)
  );
}

export function formatMacNum(n: number): string {
  return n.toString(16).padStart(12, '0').match(/../g)!.join(':');
}

/**
 * An IP address as the decoders write it (IPv6 compressed as formatIpv6 does, IPv4-mapped as
 * a.b.c.d), so an address from a configuration compares equal to the one on the wire. Text that
 * is not an IPv6 address comes back unchanged.
 */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head = '', tail, extra] = ip.split('::');
  if (extra !== undefined) return ip;
  const part = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const words = s.split(':');
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (i === words.length - 1 && /^\d+\.\d+\.\d+\.\d+$/.test(w)) {
        const b = w.split('.').map(Number);
        if (b.some(x => x > 255)) return undefined;
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(w)) out.push(parseInt(w, 16));
      else return undefined;
    }
    return out;
  };
  const h = part(head),
    t = tail === undefined ? [] : part(tail);
  if (!h || !t) return ip;
  const zeros = 8 - h.length - t.length;
  if ((tail === undefined && zeros !== 0) || zeros < 0) return ip;
  const groups = [...h, ...new Array<number>(zeros).fill(0), ...t];
  const buf = new Uint8Array(16);
  groups.forEach((g, i) => {
    buf[2 * i] = g >> 8;
    buf[2 * i + 1] = g & 255;
  });
  return formatIpv6(buf, 0);
}

/** A frame's TTL as named for its destination address: `TTL 63`, or `hop limit 31` for IPv6. */
export function ttlLabel(dstIp: string, ttl: number | undefined): string {
  return `${dstIp.includes(':') ? 'hop limit' : 'TTL'} ${ttl}`;
}
