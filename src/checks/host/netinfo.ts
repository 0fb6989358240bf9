/**
 * iproute2 outputs: `ip -d link` (json and text), `ip addr` (json and text), `ip route get`,
 * `ip neigh`. Pure; unknown shapes give empty results, never exceptions.
 */

export interface LinkInfo {
  name: string;
  /** The parent of a VLAN (`eth0.100@eth0`). */
  parent?: string;
  flags: string[];
  /** UP in flags: administratively up. */
  up: boolean;
  /** LOWER_UP in flags: carrier. Undefined when unknown. */
  lowerUp?: boolean;
  operstate?: string;
  mac?: string;
  linkType?: string;
  /** bond, bridge, vlan, team, macvlan, veth, tun, wireguard, ... */
  kind?: string;
  /** The master's kind for an enslaved port: bond, bridge, team. */
  slaveKind?: string;
  master?: string;
  /** Heuristic: a Wi-Fi device (wl* name, or link/ieee802.11). */
  wireless: boolean;
  addrs: Array<{ family: 4 | 6; address: string; prefix: number; scope?: string }>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Parses `ip -d -j link` or `ip -j addr` output (arrays of objects). */
export function parseIpJson(text: string): LinkInfo[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: LinkInfo[] = [];
  for (const o of data) {
    if (!o || typeof o !== 'object') continue;
    const r = o as Record<string, unknown>;
    const name = str(r.ifname);
    if (!name) continue;
    const flags = Array.isArray(r.flags) ? r.flags.filter((x): x is string => typeof x === 'string') : [];
    const li = (r.linkinfo ?? {}) as Record<string, unknown>;
    const l: LinkInfo = { name, flags, up: flags.includes('UP'), wireless: /^wl/.test(name), addrs: [] };
    if (flags.length) l.lowerUp = flags.includes('LOWER_UP');
    const parent = str(r.link);
    if (parent) l.parent = parent;
    const op = str(r.operstate);
    if (op) l.operstate = op;
    const mac = str(r.address);
    if (mac) l.mac = mac.toLowerCase();
    const lt = str(r.link_type);
    if (lt) {
      l.linkType = lt;
      if (lt === 'ieee802.11') l.wireless = true;
    }
    const kind = str(li.info_kind);
    if (kind) l.kind = kind;
    const sk = str(li.info_slave_kind);
    if (sk) l.slaveKind = sk;
    const master = str(r.master);
    if (master) l.master = master;
    if (Array.isArray(r.addr_info)) {
      for (const a of r.addr_info as Array<Record<string, unknown>>) {
        const fam = a.family === 'inet' ? 4 : a.family === 'inet6' ? 6 : 0;
        const local = str(a.local);
        if (!fam || !local) continue;
        const e: LinkInfo['addrs'][number] = {
          family: fam,
          address: local.toLowerCase(),
          prefix: Number(a.prefixlen ?? 0),
        };
        const sc = str(a.scope);
        if (sc) e.scope = sc;
        l.addrs.push(e);
      }
    }
    out.push(l);
  }
  return out;
}

/** Parses the text form of `ip -d link show` / `ip addr show` (iproute2 of any era). */
export function parseIpText(text: string): LinkInfo[] {
  const out: LinkInfo[] = [];
  let cur: LinkInfo | undefined;
  for (const raw of text.split('\n')) {
    const head = /^\d+:\s+([^:@\s]+)(?:@([^:\s]+))?:\s+<([^>]*)>(.*)$/.exec(raw);
    if (head) {
      const flags = head[3]!.split(',').filter(Boolean);
      cur = {
        name: head[1]!,
        flags,
        up: flags.includes('UP'),
        lowerUp: flags.includes('LOWER_UP'),
        wireless: /^wl/.test(head[1]!),
        addrs: [],
      };
      if (head[2] && head[2] !== 'NONE') cur.parent = head[2].replace(/^if\d+$/, m => m);
      const rest = head[4]!;
      const master = /\bmaster (\S+)/.exec(rest);
      if (master) cur.master = master[1]!;
      const state = /\bstate (\S+)/.exec(rest);
      if (state) cur.operstate = state[1]!;
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const s = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^link\/(\S+)(?: ([0-9a-f:]+))?/i.exec(s))) {
      cur.linkType = m[1]!;
      if (m[1] === 'ieee802.11') cur.wireless = true;
      if (m[2] && m[2].length === 17) cur.mac = m[2].toLowerCase();
      continue;
    }
    if ((m = /^inet (\d+\.\d+\.\d+\.\d+)\/(\d+).*?(?:scope (\S+))?/.exec(s))) {
      cur.addrs.push({ family: 4, address: m[1]!, prefix: Number(m[2]), ...(m[3] ? { scope: m[3] } : {}) });
      continue;
    }
    if ((m = /^inet6 ([0-9a-f:]+)\/(\d+)(?:.*?scope (\S+))?/i.exec(s))) {
      cur.addrs.push({
        family: 6,
        address: m[1]!.toLowerCase(),
        prefix: Number(m[2]),
        ...(m[3] ? { scope: m[3] } : {}),
      });
      continue;
    }
    // -d detail lines: the first word names the kind (`bond mode ...`, `vlan protocol ...`, `bridge_slave ...`).
    if (
      (m =
        /^(bond|bridge|vlan|team|macvlan|macvtap|vxlan|veth|tun|ipvlan|vrf|wireguard|dummy|geneve|bond_slave|bridge_slave|team_slave)\b/.exec(
          s,
        ))
    ) {
      const k = m[1]!;
      if (k.endsWith('_slave')) cur.slaveKind = k.slice(0, -'_slave'.length);
      else if (!cur.kind) cur.kind = k;
    }
  }
  return out;
}

export function parseLinks(fact: { text: string; format: 'json' | 'text' } | undefined): LinkInfo[] {
  if (!fact) return [];
  return fact.format === 'json' ? parseIpJson(fact.text) : parseIpText(fact.text);
}

/** Merges link details and addresses (from two outputs) by interface name. */
export function mergeLinks(links: LinkInfo[], addrs: LinkInfo[]): LinkInfo[] {
  const byName = new Map(links.map(l => [l.name, { ...l, addrs: [...l.addrs] }]));
  for (const a of addrs) {
    const l = byName.get(a.name);
    if (l) {
      if (l.addrs.length === 0) l.addrs = a.addrs;
    } else byName.set(a.name, a);
  }
  return [...byName.values()];
}

export interface RouteGet {
  dst: string;
  via?: string;
  dev?: string;
  src?: string;
  /** local, unreachable, prohibit, blackhole, ... when the route has a type. */
  type?: string;
}

/** `ip route get IP` output: `10.0.0.1 via 192.168.1.1 dev eth0 src 192.168.1.5 uid 0`. */
export function parseRouteGet(text: string): RouteGet | undefined {
  const line = text
    .split('\n')
    .map(l => l.trim())
    .find(l => l !== '' && !l.startsWith('cache'));
  if (!line) return undefined;
  const words = line.split(/\s+/);
  let i = 0;
  const r: RouteGet = { dst: '' };
  if (['local', 'unreachable', 'prohibit', 'blackhole', 'broadcast', 'multicast', 'throw'].includes(words[0]!)) {
    r.type = words[0]!;
    i = 1;
  }
  r.dst = words[i] ?? '';
  for (let j = i + 1; j < words.length - 1; j++) {
    const w = words[j]!;
    const v = words[j + 1]!;
    if (w === 'via') r.via = v.replace(/^inet6? /, '');
    else if (w === 'dev') r.dev = v;
    else if (w === 'src') r.src = v;
  }
  return r.dst ? r : undefined;
}

export interface Neighbour {
  ip: string;
  dev?: string;
  mac?: string;
  state: string;
}

/** `ip neigh show`: `10.0.0.1 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE`. */
export function parseNeigh(text: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const raw of text.split('\n')) {
    const words = raw.trim().split(/\s+/);
    if (words.length < 2 || !words[0]) continue;
    const n: Neighbour = { ip: words[0].toLowerCase(), state: words[words.length - 1]! };
    for (let i = 1; i < words.length - 1; i++) {
      if (words[i] === 'dev') n.dev = words[i + 1]!;
      if (words[i] === 'lladdr') n.mac = words[i + 1]!.toLowerCase();
    }
    out.push(n);
  }
  return out;
}
