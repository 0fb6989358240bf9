/**
 * Reading an inventory: `parseInventory(text, file)` picks the format (YAML by extension or by a
 * first line like `all:`, otherwise INI, which also reads a plain list of ssh destinations),
 * `selectHosts` applies a `--limit` pattern, `sshTarget` turns a host's variables into how ssh
 * reaches it. Pure.
 */
import { parseIniInventory } from './ini.js';
import { InventoryError, resolveHostVars, type Inventory } from './model.js';
import { splitWords } from './words.js';
import { parseYamlInventory } from './yaml.js';

export { InventoryError, type Inventory } from './model.js';
export { selectHosts } from './pattern.js';

export function inventoryFormat(text: string, file: string): 'yaml' | 'ini' {
  if (/\.(ya?ml|json)$/i.test(file)) return 'yaml';
  const first = text
    .split(/\r?\n/)
    .map(l => l.trim())
    .find(l => l !== '' && !l.startsWith('#') && !l.startsWith(';'));
  if (first === undefined) return 'ini';
  return first === '---' || first.startsWith('{') || /^[^\s=[\]]+:(\s*(#.*)?)?$/.test(first) ? 'yaml' : 'ini';
}

export function parseInventory(text: string, file: string): Inventory {
  return inventoryFormat(text, file) === 'yaml' ? parseYamlInventory(text, file) : parseIniInventory(text, file);
}

/** How ssh reaches one host of an inventory. */
export interface SshTarget {
  /** The inventory's name for the host. */
  name: string;
  /** `[user@]host` for ssh. */
  destination: string;
  port?: number;
  identity?: string;
  /** More ssh arguments (ansible_ssh_common_args, ansible_ssh_extra_args), already split into words. */
  args: string[];
}

const TEMPLATE = /\{\{|\{%/;

/**
 * The ssh settings of a host from its resolved variables; a value netdiag cannot use is an
 * InventoryError at the line that set it.
 */
export function sshTarget(inv: Inventory, host: string): SshTarget {
  const vars = resolveHostVars(inv, host);
  const get = (...names: string[]): { value: string; at: string } | undefined => {
    for (const n of names) {
      const v = vars[n];
      if (!v) continue;
      if (v.unusable) throw new InventoryError(`${v.at}: ${n} for '${host}' ${v.unusable}`);
      if (TEMPLATE.test(v.value))
        throw new InventoryError(
          `${v.at}: ${n} for '${host}' is a Jinja template ('${v.value}'); netdiag does not evaluate templates: give the value`,
        );
      return { value: v.value, at: v.at };
    }
    return undefined;
  };
  const conn = get('ansible_connection');
  if (conn && !['ssh', 'smart', 'paramiko'].includes(conn.value))
    throw new InventoryError(
      `${conn.at}: '${host}' has ansible_connection=${conn.value}; netdiag reaches senders only over ssh`,
    );
  const address = get('ansible_host', 'ansible_ssh_host')?.value || host;
  const user = get('ansible_user', 'ansible_ssh_user')?.value;
  const t: SshTarget = {
    name: host,
    destination: user && !address.includes('@') ? `${user}@${address}` : address,
    args: [],
  };
  if (/^-|\s/.test(t.destination) || t.destination === '')
    throw new InventoryError(`${inv.file}: '${t.destination}' (host '${host}') is not an ssh destination`);
  const port = get('ansible_port', 'ansible_ssh_port');
  if (port) {
    if (!/^\d+$/.test(port.value) || Number(port.value) < 1 || Number(port.value) > 65535)
      throw new InventoryError(`${port.at}: ansible_port '${port.value}' for '${host}' is not a port (1-65535)`);
    t.port = Number(port.value);
  }
  const key = get('ansible_ssh_private_key_file', 'ansible_private_key_file');
  if (key?.value) t.identity = key.value;
  for (const n of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const a = get(n);
    if (!a?.value) continue;
    try {
      t.args.push(...splitWords(a.value));
    } catch (e) {
      throw new InventoryError(`${a.at}: ${n} for '${host}': ${(e as Error).message}`);
    }
  }
  return t;
}
