/**
 * `nft -j list ruleset` as chains, rules and sets, each rule with a readable nft-like rendering
 * and its counter for evidence. Pure; bad JSON is an error string.
 */
export type Json = unknown;
export type Obj = Record<string, Json>;

export interface NftChain {
  family: string;
  table: string;
  name: string;
  hook?: string;
  prio?: number;
  policy?: string;
  type?: string;
  /** netdev chains: the device. */
  dev?: string;
  rules: NftRule[];
}

export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle?: number;
  expr: Json[];
  /** A readable nft-like rendering for evidence. */
  text: string;
  counters?: { packets: number; bytes: number };
}

export interface NftSet {
  family: string;
  table: string;
  name: string;
  type?: Json;
  elem: Json[];
  isMap: boolean;
}

export interface NftRuleset {
  chains: NftChain[];
  sets: NftSet[];
  /** Tables by `family name`. */
  tables: string[];
  errors: string[];
}

/** A scalar of the JSON as text (objects and arrays give ''). */
export const txt = (v: Json): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';

export const isObj = (v: Json): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

export function parseNftJson(text: string): NftRuleset {
  const out: NftRuleset = { chains: [], sets: [], tables: [], errors: [] };
  let data: Json;
  try {
    data = JSON.parse(text);
  } catch (e) {
    out.errors.push(`not JSON: ${(e as Error).message.slice(0, 80)}`);
    return out;
  }
  const items = isObj(data) && Array.isArray(data.nftables) ? (data.nftables as Json[]) : null;
  if (!items) {
    out.errors.push('no "nftables" array');
    return out;
  }
  const byKey = new Map<string, NftChain>();
  for (const it of items) {
    if (!isObj(it)) continue;
    if (isObj(it.table)) out.tables.push(`${txt(it.table.family)} ${txt(it.table.name)}`);
    if (isObj(it.chain)) {
      const c = it.chain;
      const ch: NftChain = { family: String(c.family), table: String(c.table), name: String(c.name), rules: [] };
      if (typeof c.hook === 'string') ch.hook = c.hook;
      if (typeof c.prio === 'number') ch.prio = c.prio;
      else if (typeof c.prio === 'string') ch.prio = namedPriority(c.prio);
      if (typeof c.policy === 'string') ch.policy = c.policy;
      if (typeof c.type === 'string') ch.type = c.type;
      if (typeof c.dev === 'string') ch.dev = c.dev;
      out.chains.push(ch);
      byKey.set(`${ch.family} ${ch.table} ${ch.name}`, ch);
    }
    for (const k of ['set', 'map'] as const) {
      const s = it[k];
      if (isObj(s))
        out.sets.push({
          family: String(s.family),
          table: String(s.table),
          name: String(s.name),
          type: s.type,
          elem: Array.isArray(s.elem) ? s.elem : [],
          isMap: k === 'map',
        });
    }
    if (isObj(it.rule)) {
      const r = it.rule;
      const key = `${txt(r.family)} ${txt(r.table)} ${txt(r.chain)}`;
      let ch = byKey.get(key);
      if (!ch) {
        ch = { family: String(r.family), table: String(r.table), name: String(r.chain), rules: [] };
        out.chains.push(ch);
        byKey.set(key, ch);
      }
      const expr = Array.isArray(r.expr) ? r.expr : [];
      const rule: NftRule = {
        family: ch.family,
        table: ch.table,
        chain: ch.name,
        expr,
        text: expr.map(renderStmt).join(' '),
      };
      if (typeof r.handle === 'number') rule.handle = r.handle;
      for (const e of expr) {
        if (isObj(e) && isObj(e.counter) && typeof e.counter.packets === 'number')
          rule.counters = { packets: e.counter.packets, bytes: Number(e.counter.bytes ?? 0) };
      }
      ch.rules.push(rule);
    }
  }
  return out;
}

function namedPriority(p: string): number {
  const m = /^(raw|mangle|dstnat|filter|security|srcnat)\s*([+-]\s*\d+)?$/.exec(p.trim());
  const base: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
  if (!m) return 0;
  return base[m[1]!]! + (m[2] ? Number(m[2].replace(/\s/g, '')) : 0);
}

// ---- rendering (evidence) ---------------------------------------------------------------------

export function renderVal(v: Json): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return /^[\w.:/*@-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{ ${v.map(renderVal).join(', ')} }`;
  if (isObj(v)) {
    if (Array.isArray(v.set)) return `{ ${v.set.map(renderVal).join(', ')} }`;
    if (isObj(v.prefix)) return `${renderVal(v.prefix.addr)}/${renderVal(v.prefix.len)}`;
    if (Array.isArray(v.range)) return `${renderVal(v.range[0])}-${renderVal(v.range[1])}`;
    if (isObj(v.payload)) return `${txt(v.payload.protocol) || 'payload'} ${txt(v.payload.field)}`.trim();
    if (isObj(v.meta)) return `meta ${txt(v.meta.key)}`;
    if (isObj(v.ct)) return `ct ${txt(v.ct.key)}`;
    if (isObj(v.elem)) return renderVal(v.elem.val);
    if (Array.isArray(v.concat)) return v.concat.map(renderVal).join(' . ');
    if (isObj(v.xt)) return `xt ${txt(v.xt.type) || 'match'} ${txt(v.xt.name) || '?'}`;
    if ('accept' in v) return 'accept';
    if ('drop' in v) return 'drop';
    if (isObj(v.jump)) return `jump ${txt(v.jump.target)}`;
    if (isObj(v.goto)) return `goto ${txt(v.goto.target)}`;
    const k = Object.keys(v)[0];
    return k ? `${k}` : '?';
  }
  return '?';
}

export function renderStmt(e: Json): string {
  if (!isObj(e)) return '?';
  if (isObj(e.match)) {
    const m = e.match;
    const op = m.op === '==' || m.op === 'in' ? '' : `${txt(m.op)} `;
    return `${renderVal(m.left)} ${op}${renderVal(m.right)}`;
  }
  if (isObj(e.counter)) return `counter packets ${txt(e.counter.packets) || 0} bytes ${txt(e.counter.bytes) || 0}`;
  if ('counter' in e) return 'counter';
  if ('accept' in e) return 'accept';
  if ('drop' in e) return 'drop';
  if ('reject' in e) {
    // `reject with icmpx type admin-prohibited`, `reject with tcp reset`, or the plain `reject`.
    const r = isObj(e.reject) ? e.reject : undefined;
    const type = r ? txt(r.type) : '';
    const expr = r ? txt(r.expr) : '';
    return type ? `reject with ${type}${expr ? ` type ${expr}` : ''}` : 'reject';
  }
  if ('return' in e) return 'return';
  if ('continue' in e) return 'continue';
  if (isObj(e.jump)) return `jump ${txt(e.jump.target)}`;
  if (isObj(e.goto)) return `goto ${txt(e.goto.target)}`;
  if (isObj(e.dnat) || isObj(e.redirect)) {
    // `dnat to 172.17.0.2:514`, `redirect to :5140`, as nft prints them.
    const d = (isObj(e.dnat) ? e.dnat : e.redirect) as Obj;
    const addr =
      typeof d.addr === 'string'
        ? d.addr.includes(':')
          ? `[${d.addr}]`
          : d.addr
        : d.addr !== undefined
          ? renderVal(d.addr)
          : '';
    const port = d.port !== undefined ? `:${renderVal(d.port)}` : '';
    const fam = typeof d.family === 'string' ? ` ${d.family}` : '';
    return `${isObj(e.dnat) ? 'dnat' : 'redirect'}${fam}${addr || port ? ` to ${addr}${port}` : ''}`;
  }
  if (isObj(e.xt)) return `xt ${txt(e.xt.type) || 'match'} ${txt(e.xt.name) || '?'}`;
  if ('log' in e) return 'log';
  if ('limit' in e) return 'limit';
  if (isObj(e.vmap)) {
    const d = isObj(e.vmap.data) && Array.isArray(e.vmap.data.set) ? e.vmap.data.set : [];
    return `${renderVal(e.vmap.key)} vmap { ${d.map(p => (Array.isArray(p) ? `${renderVal(p[0])} : ${renderVal(p[1])}` : renderVal(p))).join(', ')} }`;
  }
  const k = Object.keys(e)[0];
  return k ?? '?';
}
