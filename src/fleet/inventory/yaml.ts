/**
 * Ansible's YAML inventory: a mapping of group names (usually just `all`), each group a mapping
 * with `hosts` (host name or range → its variables), `vars` and `children` (more groups, nested).
 * Any other key, or a list where a mapping belongs, is an InventoryError naming the file and line.
 * Pure: the text comes in, the file name is only for messages.
 */
import { isAlias, isMap, isScalar, LineCounter, parseAllDocuments, type Node, type Pair } from 'yaml';
import { hostsAndPort } from './ini.js';
import { InventoryBuilder, InventoryError, type Inventory, type Vars } from './model.js';

type AnyNode = Node | null | undefined;

/** A scalar's value as text (YAML may have made it a number or a boolean). */
function scalarText(v: unknown): string {
  return typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint'
      ? String(v)
      : '';
}

/** One YAML document with its line numbers, and the readers both inventory and vars files use. */
function yamlReader(text: string, file: string, what: string) {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true });
  const line = (n: AnyNode | Pair): string => {
    const r = (n as { range?: [number, number, number] } | null | undefined)?.range;
    return `${file}:${r ? lc.linePos(r[0]).line : 1}`;
  };
  if (Array.isArray(docs) && docs.length > 1)
    throw new InventoryError(
      `${file}:${lc.linePos(docs[1]!.range[0]).line}: more than one YAML document; ${what} is one`,
    );
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  const err = doc?.errors[0];
  if (err) throw new InventoryError(`${file}:${err.linePos?.[0].line ?? 1}: ${err.message.split('\n')[0]}`);
  const resolve = (n: unknown): AnyNode => (doc && isAlias(n) ? n.resolve(doc) : (n as AnyNode));

  const keyOf = (p: Pair): string => {
    const k = resolve(p.key);
    if (!isScalar(k) || k.value === null || typeof k.value === 'object')
      throw new InventoryError(`${line(k ?? (p.value as Node))}: a key here must be a name`);
    return scalarText(k.value);
  };
  const mapOf = (n: AnyNode, what: string, at: string): Pair[] => {
    if (n === null || n === undefined || (isScalar(n) && (n.value === null || n.value === ''))) return [];
    if (!isMap(n))
      throw new InventoryError(
        `${line(n) ?? at}: ${what} must be a mapping (name: value), not ${isScalar(n) ? `'${String(n.value)}'` : 'a list'}`,
      );
    return n.items;
  };
  const varsOf = (n: AnyNode, what: string, at: string): Vars => {
    const vars: Vars = {};
    for (const p of mapOf(n, what, at)) {
      const k = keyOf(p);
      const v = resolve(p.value);
      const where = line(p.key as Node);
      if (isScalar(v) && v.tag === '!vault')
        vars[k] = { value: '', at: where, unusable: 'is encrypted with ansible-vault, which netdiag cannot decrypt' };
      else if (v === null || v === undefined || isScalar(v))
        vars[k] = { value: v && isScalar(v) && v.value !== null ? scalarText(v.value) : '', at: where };
      else vars[k] = { value: JSON.stringify(v.toJSON()), at: where, unusable: 'is a list or mapping, not a value' };
    }
    return vars;
  };
  return { top: resolve(doc?.contents), line, resolve, keyOf, mapOf, varsOf };
}

/** A group_vars or host_vars file: a mapping of variables. */
export function parseYamlVars(text: string, file: string): Vars {
  if (/^\$ANSIBLE_VAULT;/.test(text))
    throw new InventoryError(`${file}:1: encrypted with ansible-vault, which netdiag cannot decrypt`);
  const r = yamlReader(text, file, 'a vars file');
  return r.varsOf(r.top, 'a vars file', `${file}:1`);
}

export function parseYamlInventory(text: string, file: string): Inventory {
  const { top, line, resolve, keyOf, mapOf, varsOf } = yamlReader(text, file, 'an inventory');
  const b = new InventoryBuilder(file);
  const group = (name: string, n: AnyNode, at: string): void => {
    b.group(name);
    for (const p of mapOf(n, `group '${name}'`, at)) {
      const key = keyOf(p);
      const v = resolve(p.value);
      const where = line(p.key as Node);
      if (key === 'hosts') {
        for (const h of mapOf(v, `'hosts' of group '${name}'`, where)) {
          const pattern = keyOf(h);
          const hat = line(h.key as Node);
          const vars = varsOf(resolve(h.value), `host '${pattern}'`, hat);
          let hp: ReturnType<typeof hostsAndPort>;
          try {
            hp = hostsAndPort(pattern);
          } catch (e) {
            throw new InventoryError(`${hat}: ${(e as Error).message}`);
          }
          if (hp.port && !vars.ansible_port) vars.ansible_port = { value: hp.port, at: hat };
          for (const h2 of hp.names) b.host(name, h2, vars);
        }
      } else if (key === 'vars') {
        b.groupVars(name, varsOf(v, `'vars' of group '${name}'`, where));
      } else if (key === 'children') {
        for (const c of mapOf(v, `'children' of group '${name}'`, where)) {
          const child = keyOf(c);
          const cat = line(c.key as Node);
          b.child(name, child, cat);
          group(child, resolve(c.value), cat);
        }
      } else {
        throw new InventoryError(
          `${where}: '${key}' in group '${name}' is not an inventory key (hosts, vars or children)`,
        );
      }
    }
  };
  for (const p of mapOf(top, 'the inventory', `${file}:1`)) {
    const name = keyOf(p);
    group(name, resolve(p.value), line(p.key as Node));
  }
  return b.done();
}
