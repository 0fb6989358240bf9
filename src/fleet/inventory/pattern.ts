/**
 * Ansible's host patterns, for `--limit`: `all` or `*`, a host or group name, a glob
 * (`web*`, `db-[ab]?`), `~regex`, a slice of a group (`web[0]`, `web[1:3]`), joined by `:` or `,`
 * (union), `:&` (intersection) and `:!` (exclusion). The union of the plain terms comes first,
 * then the intersections, then the exclusions, as in Ansible; the result keeps inventory order.
 * A term that matches nothing is an error: a typo in `:!prod` must not select the whole fleet.
 */
import { groupHosts, InventoryError, type Inventory } from './model.js';
import { globRegExp } from './words.js';

/** Splits on `,` if there is one, else on `:` outside brackets, unless the whole thing is one IPv6 address. */
function splitPattern(pattern: string): string[] {
  if (pattern.includes(','))
    return pattern
      .split(',')
      .map(s => s.trim())
      .filter(Boolean);
  if (/^[0-9a-fA-F:]+$/.test(pattern) && pattern.split(':').length > 2) return [pattern];
  const terms: string[] = [];
  let depth = 0,
    cur = '';
  for (const c of pattern) {
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    if (c === ':' && depth === 0) {
      terms.push(cur);
      cur = '';
    } else cur += c;
  }
  terms.push(cur);
  return terms.map(s => s.trim()).filter(Boolean);
}

const SUBSCRIPT = /^(.+)\[(?:(-?\d+)|(-?\d*):(-?\d*))\]$/;

function matchTerm(inv: Inventory, term: string): string[] {
  if (term === 'all' || term === '*') return [...inv.hosts];
  const sub = SUBSCRIPT.exec(term);
  if (sub && !term.startsWith('~')) {
    const hosts = matchTerm(inv, sub[1]!);
    const at = (s: string, n: number) => (Number(s) < 0 ? n + Number(s) : Number(s));
    if (sub[2] !== undefined) {
      const i = at(sub[2], hosts.length);
      return hosts[i] === undefined ? [] : [hosts[i]];
    }
    const from = sub[3] ? at(sub[3], hosts.length) : 0;
    const to = sub[4] ? at(sub[4], hosts.length) : hosts.length - 1;
    // Ansible's slices include their end.
    return hosts.slice(from, to + 1);
  }
  let test: (name: string) => boolean;
  if (term.startsWith('~')) {
    let re: RegExp;
    try {
      re = new RegExp(term.slice(1));
    } catch (e) {
      throw new InventoryError(`--limit: '${term}' is not a regular expression (${(e as Error).message})`);
    }
    test = n => re.test(n);
  } else {
    const re = globRegExp(term);
    test = n => re.test(n);
  }
  const groups = [...inv.groups.keys()].filter(test);
  const found = new Set(groups.flatMap(g => groupHosts(inv, g)));
  if (!groups.length || term.startsWith('~') || /[.?*[]/.test(term))
    for (const h of inv.hosts) if (test(h)) found.add(h);
  return inv.hosts.filter(h => found.has(h));
}

/** The hosts a pattern selects, in inventory order. */
export function selectHosts(inv: Inventory, pattern: string): string[] {
  const terms = splitPattern(pattern);
  if (!terms.length) throw new InventoryError(`--limit: '${pattern}' is an empty pattern`);
  const union: string[] = [],
    and: string[] = [],
    not: string[] = [];
  for (const t of terms) (t.startsWith('&') ? and : t.startsWith('!') ? not : union).push(t.replace(/^[&!]/, ''));
  const matched = (t: string): Set<string> => {
    const hs = matchTerm(inv, t);
    if (!hs.length) throw new InventoryError(`--limit: '${t}' matches no host or group in ${inv.file}`);
    return new Set(hs);
  };
  let chosen = new Set<string>(union.length ? [] : inv.hosts);
  for (const t of union) for (const h of matched(t)) chosen.add(h);
  for (const t of and) {
    const m = matched(t);
    chosen = new Set([...chosen].filter(h => m.has(h)));
  }
  for (const t of not) for (const h of matched(t)) chosen.delete(h);
  return inv.hosts.filter(h => chosen.has(h));
}
