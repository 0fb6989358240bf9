/**
 * Reads an inventory file and the `group_vars/` and `host_vars/` beside it, for
 * src/fleet/inventory (which parses them). Files are read with the functions given (the command
 * passes node:fs), so tests can hand in a directory they made.
 */
import path from 'node:path';
import type { VarsFile } from '../fleet/inventory/vars-files.js';

export interface FileReader {
  readFile(p: string): string;
  /** Names in a directory, or [] when it does not exist. */
  readDir(p: string): string[];
  isDir(p: string): boolean;
}

const VARS_EXT = /\.(ya?ml|json)$/;

/**
 * Every vars file beside the inventory: `group_vars/NAME[.yml|.yaml|.json]`, `group_vars/NAME/*`,
 * the same for host_vars.
 */
export function readVarsFiles(inventoryFile: string, fs: FileReader): VarsFile[] {
  const out: VarsFile[] = [];
  const base = path.dirname(inventoryFile);
  for (const [kind, dir] of [
    ['group', 'group_vars'],
    ['host', 'host_vars'],
  ] as const) {
    const root = path.join(base, dir);
    for (const entry of fs.readDir(root).sort()) {
      if (entry.startsWith('.')) continue;
      const full = path.join(root, entry);
      if (fs.isDir(full)) {
        for (const inner of fs.readDir(full).sort()) {
          if (inner.startsWith('.') || !(VARS_EXT.test(inner) || !inner.includes('.'))) continue;
          const file = path.join(full, inner);
          if (!fs.isDir(file)) out.push({ kind, name: entry, file, text: fs.readFile(file) });
        }
      } else if (!entry.endsWith('~')) {
        // `host_vars/web1.example.com` is that host's file: a name, not an extension.
        out.push({ kind, name: entry.replace(VARS_EXT, ''), file: full, text: fs.readFile(full) });
      }
    }
  }
  return out;
}
