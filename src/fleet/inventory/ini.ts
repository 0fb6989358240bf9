/**
 * Ansible's INI inventory: host lines (`name [key=value ...]`, ranges, `name:port`) in
 * `[group]` sections or before any section (ungrouped), `[group:vars]` with `key=value` lines,
 * `[group:children]` with group names; `#` and `;` start comment lines. A plain list of ssh
 * destinations, one per line, is the same format without sections. Anything else is an
 * InventoryError naming the file and line. Pure.
 */
import { InventoryBuilder, InventoryError, type Inventory, type Vars } from './model.js';
import { expandHostRange, splitWords, unquoteValue } from './words.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

/**
 * A host entry's names and port: `web[01:03]:2222`, `[2001:db8::1]:22`; a bare IPv6 address has
 * no port. Throws a message.
 */
export function hostsAndPort(token: string): { names: string[]; port?: string } {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(token);
  if (v6 && v6[1]!.includes(':')) return v6[2] ? { names: [v6[1]!], port: v6[2] } : { names: [v6[1]!] };
  if (token.replace(/\[[^\]]*\]/g, '').split(':').length > 2) return { names: [token] };
  const m = /^(.+):(\d+)$/.exec(token);
  return m ? { names: expandHostRange(m[1]!), port: m[2]! } : { names: expandHostRange(token) };
}

export function parseIniInventory(text: string, file: string): Inventory {
  const b = new InventoryBuilder(file);
  let group = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const at = `${file}:${i + 1}`;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    {
      if (line.startsWith('[')) {
        const m = SECTION.exec(line);
        if (!m)
          throw new InventoryError(
            `${at}: '${line}' is not a section header ([group], [group:vars] or [group:children])`,
          );
        const tag = m[2] ?? 'hosts';
        if (tag !== 'hosts' && tag !== 'vars' && tag !== 'children')
          throw new InventoryError(
            `${at}: section [${m[1]}:${tag}] has an unknown type '${tag}' (hosts, vars or children)`,
          );
        group = m[1]!;
        kind = tag;
        b.group(group);
        continue;
      }
      if (kind === 'vars') {
        const eq = line.indexOf('=');
        if (eq <= 0) throw new InventoryError(`${at}: expected key=value in [${group}:vars], got '${line}'`);
        const key = line.slice(0, eq).trim();
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new InventoryError(`${at}: '${key}' is not a variable name`);
        b.groupVars(group, { [key]: { value: unquoteValue(line.slice(eq + 1)), at } });
        continue;
      }
      if (kind === 'children') {
        const m = GROUP_NAME.exec(line);
        if (!m) throw new InventoryError(`${at}: '${line}' is not a group name in [${group}:children]`);
        b.child(group, m[1]!, at);
        continue;
      }
      let words: string[];
      try {
        words = splitWords(line, true);
      } catch (e) {
        throw new InventoryError(`${at}: ${(e as Error).message} in '${line}'`);
      }
      if (!words.length) continue;
      const [pattern, ...assignments] = words;
      const vars: Vars = {};
      for (const a of assignments) {
        const eq = a.indexOf('=');
        if (eq <= 0) throw new InventoryError(`${at}: expected key=value after the host name, got '${a}'`);
        vars[a.slice(0, eq)] = { value: a.slice(eq + 1), at };
      }
      let hp: ReturnType<typeof hostsAndPort>;
      try {
        hp = hostsAndPort(pattern!);
      } catch (e) {
        throw new InventoryError(`${at}: ${(e as Error).message}`);
      }
      if (hp.port && !vars.ansible_port) vars.ansible_port = { value: hp.port, at };
      for (const n of hp.names) b.host(group, n, vars);
    }
  }
  return b.done();
}
