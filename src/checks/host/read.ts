/**
 * Reading facts through a HostExec: a file, a command's output, a directory, a glob, a
 * configuration file with the files it includes. Never throws for a missing file or a failing
 * command: the fact is left out and `notes` says why.
 */
import type { HostExec } from '../../io/host-exec.js';
import type { FactText } from './fact-text.js';

function cmdLine(argv: readonly string[]): string {
  return argv.join(' ');
}

export async function listDir(exec: HostExec, dir: string): Promise<string[] | null> {
  if (exec.listDir) return exec.listDir(dir);
  const r = await exec.run(['ls', '-1A', '--', dir]);
  if (r.code !== 0) return null;
  return r.stdout.split('\n').filter(s => s !== '');
}

function globToRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

/**
 * Expands a path whose last component may hold `*` or `?` (as rsyslog and syslog-ng includes do);
 * sorted like glob(3).
 */
export async function expandGlob(exec: HostExec, pattern: string): Promise<string[]> {
  const slash = pattern.lastIndexOf('/');
  const dir = slash <= 0 ? '/' : pattern.slice(0, slash);
  const base = pattern.slice(slash + 1);
  if (!/[*?]/.test(base)) {
    // A directory include (rsyslog's include(file="/etc/rsyslog.d/") reads every file in it).
    if (base === '') {
      const names = await listDir(exec, dir);
      return names ? names.sort().map(n => `${dir}/${n}`) : [];
    }
    return [pattern];
  }
  const names = await listDir(exec, dir);
  if (!names) return [];
  const re = globToRegExp(base);
  return names
    .filter(n => re.test(n) && !n.startsWith('.'))
    .sort()
    .map(n => `${dir}/${n}`);
}

export async function readFact(exec: HostExec, path: string): Promise<FactText | undefined> {
  const text = await exec.readFile(path);
  return text === null ? undefined : { text, from: path };
}

export async function runFact(exec: HostExec, argv: string[], notes: string[]): Promise<FactText | undefined> {
  const r = await exec.run(argv);
  if (r.code === 0) return { text: r.stdout, from: cmdLine(argv) };
  const why =
    r.code === 127
      ? r.stderr.trim()
        ? r.stderr.trim().split('\n')[0]!.slice(0, 120)
        : 'not installed'
      : r.code === 124
        ? 'timed out'
        : `exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]!.slice(0, 120)}` : ''}`;
  notes.push(`${cmdLine(argv)}: ${why}`);
  return undefined;
}

/** Reads a configuration file and, depth-first in order, the files its include directives name. */
export async function readWithIncludes(
  exec: HostExec,
  main: string,
  includes: (text: string) => string[],
  relativeTo: string,
): Promise<FactText[]> {
  const out: FactText[] = [];
  const seen = new Set<string>();
  const visit = async (path: string, depth: number) => {
    if (seen.has(path) || depth > 4 || out.length > 200) return;
    seen.add(path);
    const f = await readFact(exec, path);
    if (!f) return;
    out.push(f);
    for (const inc of includes(f.text)) {
      const abs = inc.startsWith('/') ? inc : `${relativeTo}/${inc}`;
      for (const p of await expandGlob(exec, abs)) await visit(p, depth + 1);
    }
  };
  await visit(main, 0);
  return out;
}
