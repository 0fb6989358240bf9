/**
 * Ansible's `group_vars/` and `host_vars/` beside an inventory file: `group_vars/web.yml` (or
 * `web`, `web.yaml`, `web.json`, or a directory `web/` of such files) holds variables for the group
 * `web`, `host_vars/NAME...` for one host. Their variables override the inventory file's for that
 * group or host, as in Ansible; files for a group or host the inventory does not have are ignored,
 * as Ansible ignores them. A file encrypted with ansible-vault cannot be read: it is left out with
 * a warning (a vault usually holds passwords, not how ssh reaches a host). Pure: the files'
 * texts come in (src/io/inventory-files.ts reads them).
 */
import type { Inventory } from './model.js';
import { parseYamlVars } from './yaml.js';

export interface VarsFile {
  kind: 'group' | 'host';
  /** The group's or host's name (the file name without its extension, or the directory's). */
  name: string;
  /** Path, for messages. */
  file: string;
  text: string;
}

export function applyVarsFiles(
  inv: Inventory,
  files: readonly VarsFile[],
): { inventory: Inventory; warnings: string[] } {
  const warnings: string[] = [];
  const sorted = [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const f of sorted) {
    if (/^\$ANSIBLE_VAULT;/.test(f.text)) {
      warnings.push(`${f.file}: encrypted with ansible-vault; not read`);
      continue;
    }
    if (f.kind === 'group') {
      const g = inv.groups.get(f.name);
      if (!g) continue;
      Object.assign(g.vars, parseYamlVars(f.text, f.file));
    } else {
      const h = inv.hostVars.get(f.name);
      if (!h) continue;
      Object.assign(h, parseYamlVars(f.text, f.file));
    }
  }
  return { inventory: inv, warnings };
}
