/**
 * A HostExec over a directory of files a user handed in (`netdiag check --receiver-facts DIR`):
 * a file of the host is DIR/<its path> (DIR/etc/rsyslog.conf, DIR/proc/net/udp), and a command's
 * output is DIR/<name from COMMAND_FILES> (DIR/iptables-save.txt). A command with no file reads as
 * "not installed" (exit 127); nothing is ever run. Paths cannot leave DIR.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { commandFileName, type ExecResult, type HostExec } from './host-exec.js';

export function dirExec(dir: string, maxBytes = 16 * 1024 * 1024): HostExec {
  const root = resolve(dir);
  const inside = (p: string): string | undefined => {
    const full = resolve(join(root, p));
    return full === root || full.startsWith(root + sep) ? full : undefined;
  };
  const read = async (p: string): Promise<string | null> => {
    const full = inside(p);
    if (!full) return null;
    try {
      return (await readFile(full)).subarray(0, maxBytes).toString('utf8');
    } catch {
      return null;
    }
  };
  return {
    async run(argv: string[]): Promise<ExecResult> {
      const name = commandFileName(argv);
      if (!name) return { stdout: '', stderr: `${argv[0]}: no file for this command in ${dir}`, code: 127 };
      const text = await read(name);
      if (text === null) return { stdout: '', stderr: `${name}: not in ${dir}`, code: 127 };
      return { stdout: text, stderr: '', code: 0 };
    },
    readFile: read,
    async listDir(p: string): Promise<string[] | null> {
      const full = inside(p);
      if (!full) return null;
      try {
        return await readdir(full);
      } catch {
        return null;
      }
    },
  };
}
