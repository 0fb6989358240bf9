/**
 * Many reads in one round trip: a plan of files, directory listings and commands becomes one
 * POSIX shell script; its output (each answer between lines that start with a random boundary)
 * becomes a HostExec that answers from it and asks the real one only for what the plan missed.
 * Over ssh to a slow host each command costs a round trip (100-500 ms on the lab's emulated
 * guest); the script costs one. The script and the parser are pure; only `cachedExec`'s fallback
 * does I/O, through the HostExec given.
 */
import { randomBytes } from 'node:crypto';
import type { ExecResult, HostExec } from './host-exec.js';
import { shellQuote } from './ssh-exec.js';

/** What to read in the one round trip. `<PEER>` in a command stands for the ssh client's IP (from SSH_CONNECTION). */
export type BatchItem =
  | { kind: 'file'; path: string }
  | { kind: 'ls'; path: string }
  | { kind: 'run'; argv: string[] }
  /** The directory's listing and every file in it whose name ends with `suffix`. */
  | { kind: 'files-in'; dir: string; suffix: string }
  /**
   * The directory's listing, each entry's listing, and every file in those; a directory among them
   * is listed with its files, and its subdirectories' files too (configfs targets: 6.9 and later
   * keep `userdata/` in a target, with a directory of a `value` file per entry).
   */
  | { kind: 'tree'; dir: string };

export const PEER = '<PEER>';

export function newBoundary(): string {
  return `==netdiag-${randomBytes(12).toString('hex')}==`;
}

const q = (s: string) => (s === PEER ? '"$P"' : shellQuote(s));

/** The shell script that answers the plan, each answer framed by `boundary`. */
export function batchScript(items: readonly BatchItem[], boundary: string): string {
  const lines = [
    `B=${shellQuote(boundary)}`,
    'P=${SSH_CONNECTION%% *}',
    'T=$(mktemp 2>/dev/null) || T=/tmp/.netdiag-batch-$$',
    'h() { printf \'%s %s %s\\n\' "$B" "$1" "$2"; }',
    'e() { printf \'\\n%s = %s\\n\' "$B" "$1"; }',
    'f() { h F "$1"; cat -- "$1" 2>/dev/null; e $?; }',
    // Listings with the shell's own globs: every program started costs a process (40-290 ms
    // each on the lab's emulated guests). Files stay cat's: /proc/sys answers only a first read.
    'l() { h L "$1"; if [ -d "$1" ]; then for _p in "$1"/* "$1"/.[!.]* "$1"/..?*; do [ -e "$_p" ] || [ -L "$_p" ] || continue; printf \'%s\\n\' "${_p##*/}"; done; e 0; else e 2; fi; }',
    // The program is looked up in PATH here: a busybox sh would otherwise run its own applet (its
    // `ip` has no -j) where the user's shell runs the real program.
    'x() { p=$1; case $1 in */*) return;; esac; o=$IFS; IFS=:; for d in $PATH; do if [ -f "$d/$1" ] && [ -x "$d/$1" ]; then p=$d/$1; break; fi; done; IFS=$o; }',
    'c() { k="$*"; h C "$k"; x "$1"; shift; "$p" "$@" 2>"$T"; r=$?; e $r; if [ $r != 0 ]; then h S "$k"; head -c 2000 "$T"; e 0; fi; }',
  ];
  for (const it of items) {
    if (it.kind === 'file') lines.push(`f ${shellQuote(it.path)}`);
    else if (it.kind === 'ls') lines.push(`l ${shellQuote(it.path)}`);
    else if (it.kind === 'run') lines.push(`c ${it.argv.map(q).join(' ')}`);
    else if (it.kind === 'files-in') {
      const d = shellQuote(it.dir);
      lines.push(
        `l ${d}; for n in $(ls -1A -- ${d} 2>/dev/null); do case "$n" in *${shellQuote(it.suffix)}) f ${d}/"$n";; esac; done`,
      );
    } else {
      const d = shellQuote(it.dir);
      // Three levels below the directory at most: TARGET/userdata/ENTRY/value.
      const sub = (p: string, deeper: string) => `if [ -d ${p} ]; then l ${p}; ${deeper}; else f ${p}; fi`;
      const c = `${d}/"$t"/"$a"/"$u"`;
      const b = `${d}/"$t"/"$a"`;
      lines.push(
        `l ${d}; for t in $(ls -1A -- ${d} 2>/dev/null); do l ${d}/"$t"; for a in $(ls -1A -- ${d}/"$t" 2>/dev/null); do ` +
          sub(
            b,
            `for u in $(ls -1A -- ${b} 2>/dev/null); do ${sub(c, `for v in $(ls -1A -- ${c} 2>/dev/null); do f ${c}/"$v"; done`)}; done`,
          ) +
          '; done; done',
      );
    }
  }
  lines.push('rm -f "$T"');
  return lines.join('\n');
}

/**
 * One answer: `F path`, `L path`, `C argv words`, `S argv words` (a failed command's stderr) → its
 * text and exit code.
 */
export type BatchAnswers = Map<string, { text: string; code: number }>;

/** The answers in a batch script's output. An answer cut off (output cap, timeout) is left out. */
export function parseBatch(out: string, boundary: string): BatchAnswers {
  const answers: BatchAnswers = new Map();
  const head = `${boundary} `;
  const tail = `\n${boundary} = `;
  let pos = 0;
  for (;;) {
    let at = pos;
    if (!out.startsWith(head, pos)) {
      const i = out.indexOf(`\n${head}`, pos);
      if (i < 0) break;
      at = i + 1;
    }
    const nl = out.indexOf('\n', at);
    if (nl < 0) break;
    const key = out.slice(at + head.length, nl);
    const end = out.indexOf(tail, nl);
    if (end < 0) break;
    const codeEnd = out.indexOf('\n', end + tail.length);
    const code = Number(out.slice(end + tail.length, codeEnd < 0 ? undefined : codeEnd));
    if (/^[FLCS] /.test(key) && Number.isInteger(code)) answers.set(key, { text: out.slice(nl + 1, end), code });
    if (codeEnd < 0) break;
    pos = codeEnd + 1;
  }
  return answers;
}

export interface CachedExec extends HostExec {
  /** What was asked that the answers did not hold (and went to the real HostExec). */
  misses: string[];
  listDir(path: string): Promise<string[] | null>;
}

/** A HostExec answering from a batch's answers, and from `base` for anything else. */
export function cachedExec(base: HostExec, answers: BatchAnswers): CachedExec {
  const misses: string[] = [];
  return {
    misses,
    run(argv: string[]): Promise<ExecResult> {
      const key = argv.join(' ');
      const a = answers.get(`C ${key}`);
      if (!a) {
        misses.push(`run ${key}`);
        return base.run(argv);
      }
      return Promise.resolve({ stdout: a.text, stderr: answers.get(`S ${key}`)?.text ?? '', code: a.code });
    },
    readFile(path: string): Promise<string | null> {
      const a = answers.get(`F ${path}`);
      if (!a) {
        misses.push(`read ${path}`);
        return base.readFile(path);
      }
      return Promise.resolve(a.code === 0 ? a.text : null);
    },
    async listDir(path: string): Promise<string[] | null> {
      const a = answers.get(`L ${path}`);
      if (!a) {
        misses.push(`ls ${path}`);
        if (base.listDir) return base.listDir(path);
        const r = await base.run(['ls', '-1A', '--', path]);
        return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : null;
      }
      return a.code === 0 ? a.text.split('\n').filter(Boolean) : null;
    },
  };
}
