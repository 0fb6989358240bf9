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
  /**
   * A command; `orElse`, when given, is read only when it fails (another way to the same facts,
   * for a host where this command does not work: one process fewer where it does).
   */
  | {
      kind: 'run';
      argv: string[];
      orElse?: BatchItem[];
      /**
       * A file whose one line is this command's whole output (`uname -r`: the kernel's
       * /proc/sys/kernel/osrelease, the same utsname field of the same namespace): read by the
       * shell itself, no process (one is 10-15 ms on the lab's emulated guests). The command runs
       * where the shell cannot read a whole line of it (no such file; a kernel whose /proc/sys
       * answers only a read at offset 0, where the shell's byte-at-a-time read gets one byte).
       */
      line?: string;
    }
  /**
   * Several commands of iproute2's `ip` with the same options, in one `ip -batch` process (each
   * `ip` started costs 70-90 ms on the lab's emulated guests); each is answered as if run alone:
   * `ip OPTS WORDS...`. Only for commands whose printer flushes each object (link, addr, route,
   * neigh): the answers are cut apart by a failing command between them, whose error goes to stderr.
   */
  | {
      kind: 'ip';
      opts: string[];
      commands: string[][];
      /**
       * Read instead when the first command's answer is not JSON (an `ip` whose -j that command
       * does not take): only for opts with -j.
       */
      orElse?: BatchItem[];
    }
  /**
   * `argv` is `sh -c 'id -u; echo "$SSH_CONNECTION"'` (the effective uid, then the ssh
   * connection's addresses), answered as its run but read by the shell itself: the uid from the
   * `Uid:` line of /proc/self/status (two processes fewer); where that has none, `argv` runs.
   */
  | { kind: 'who'; argv: string[] }
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

/**
 * The interface name no host has, whose `link show` error cuts an `ip -batch` output apart. It is
 * longer than an interface name can be (IFNAMSIZ, 16 with its NUL), so that looking it up costs
 * no process: `ip` asks netlink, then glibc's if_nametoindex, which refuses such a name at once;
 * for a shorter name its ioctl makes the kernel start modprobe twice (`netdev-NAME`, then `NAME`)
 * before answering that there is no such device. Measured on the lab's 6.1 guest: 6 processes
 * fewer per batch (3 separators), about 180 ms less of the emulated guest's CPU at load 7.
 */
function ipSeparator(boundary: string): string {
  const id = /[0-9a-f]{24}/.exec(boundary)?.[0] ?? boundary.replace(/[^0-9a-z]/g, '').slice(-24);
  return `nd${id.padEnd(24, '0')}`;
}

/**
 * The entries of a directory, dot files too, as `ls -1A` lists them, with the shell's own globs
 * (no process): `$VAR` takes each path in turn, `BODY` runs for each.
 */
function eachEntry(dir: string, v: string, body: string): string {
  return `for ${v} in ${dir}/* ${dir}/.[!.]* ${dir}/..?*; do { [ -e "$${v}" ] || [ -L "$${v}" ]; } || continue; ${body}; done`;
}

/** The shell script that answers the plan, each answer framed by `boundary`. */
export function batchScript(items: readonly BatchItem[], boundary: string): string {
  const lines = [
    `B=${shellQuote(boundary)}`,
    'P=${SSH_CONNECTION%% *}',
    // fd 3 is the script's stdout: a command's stdout goes there, its stderr into a variable.
    'exec 3>&1',
    'h() { printf \'%s %s %s\\n\' "$B" "$1" "$2"; }',
    'e() { printf \'\\n%s = %s\\n\' "$B" "$1"; }',
    // Every program started costs a process (a cat is 4-13 ms on the lab's emulated guests, a
    // 6.17 configfs target has a dozen files): a file that is not there, or a directory (cat fails
    // on one), is answered without one, and the others are read by the shell itself, line by line
    // (`IFS= read -r` keeps every byte but NUL; the last line is written back without the newline
    // it may lack). Only /proc/sys stays cat's, which answers only a read at offset 0 (the shells'
    // `read` takes one byte at a time), and /proc/modules, too long to read a byte at a time.
    'f() { h F "$1"; if [ ! -e "$1" ] || [ -d "$1" ]; then e 1; else case $1 in /proc/sys/*|/proc/modules) cat -- "$1" 2>/dev/null;; *) { _l=; while IFS= read -r _l; do printf \'%s\\n\' "$_l"; done; printf %s "$_l"; } 2>/dev/null <"$1";; esac; e $?; fi; }',
    `l() { h L "$1"; if [ -d "$1" ]; then ${eachEntry('"$1"', '_p', 'printf \'%s\\n\' "${_p##*/}"')}; e 0; else e 2; fi; }`,
    // The program is looked up in PATH here: a busybox sh would otherwise run its own applet (its
    // `ip` has no -j) where the user's shell runs the real program.
    'x() { p=$1; case $1 in */*) return;; esac; o=$IFS; IFS=:; for d in $PATH; do if [ -f "$d/$1" ] && [ -x "$d/$1" ]; then p=$d/$1; break; fi; done; IFS=$o; }',
    // The command's stderr is kept in a variable (no temporary file: mktemp and rm were two more
    // processes) and sent after its output when it failed.
    'c() { k="$*"; h C "$k"; x "$1"; shift; _s=$("$p" "$@" 2>&1 >&3); r=$?; e $r; if [ $r != 0 ]; then h S "$k"; printf \'%.2000s\\n\' "$_s"; e 0; fi; }',
  ];
  lines.push(...itemLines(items, ipSeparator(boundary)));
  return lines.join('\n');
}

/** The end of an `ip` batch's here-document (no command line of `ip` is this). */
const HERE_END = 'NETDIAG_IP_BATCH_END';

/** One `ip -batch` command line in a here-document: its words, `$P` for PEER, the rest taken literally. */
function hereLine(words: readonly string[]): string {
  return words.map(w => (w === PEER ? '$P' : w.replace(/[\\$`]/g, '\\$&'))).join(' ');
}

/** The script's lines for the plan's items (`c` leaves the command's exit code in `$r`). */
function itemLines(items: readonly BatchItem[], sep: string): string[] {
  const lines: string[] = [];
  for (const it of items) {
    if (it.kind === 'file') lines.push(`f ${shellQuote(it.path)}`);
    else if (it.kind === 'ls') lines.push(`l ${shellQuote(it.path)}`);
    else if (it.kind === 'run') {
      if (it.line)
        lines.push(
          `_v=; if IFS= read -r _v 2>/dev/null <${shellQuote(it.line)} && [ -n "$_v" ]; then k=${shellQuote(it.argv.join(' '))}; h C "$k"; printf '%s\\n' "$_v"; r=0; e 0; else c ${it.argv.map(q).join(' ')}; fi`,
        );
      else lines.push(`c ${it.argv.map(q).join(' ')}`);
      if (it.orElse?.length) lines.push(`if [ $r != 0 ]; then`, ...itemLines(it.orElse, sep), 'fi');
    } else if (it.kind === 'who') {
      lines.push(
        `_u=; while read -r _k _r _e _x; do case $_k in Uid:) _u=$_e; break;; esac; done 2>/dev/null </proc/self/status`,
        `case $_u in ''|*[!0-9]*) c ${it.argv.map(q).join(' ')};; *) k=${shellQuote(it.argv.join(' '))}; h C "$k"; printf '%s\\n%s\\n' "$_u" "$SSH_CONNECTION"; r=0; e 0;; esac`,
      );
    } else if (it.kind === 'ip') {
      // The key names the options and each command (`I ip OPTS|CMD|CMD`, PEER expanded); the input
      // is each command, then the separator's failing `link show`; -force goes on past both.
      const line = (words: readonly string[]) => words.map(q).join("' '");
      const key = [line(['ip', ...it.opts]), ...it.commands.map(line)].join("'|'");
      // Its input is a here-document (the shells write a short one themselves: no process for it).
      const input = it.commands.flatMap(cmd => [hereLine(cmd), hereLine(['link', 'show', 'dev', sep])]);
      const run = `"$p" ${it.opts.map(shellQuote).join(' ')} -force -batch - 2>&1 <<${HERE_END}`;
      if (!it.orElse?.length) lines.push(`k=${key}; h I "$k"; x ip; ${run}`, ...input, HERE_END, 'e $?');
      else
        // Its output kept aside until it is seen to start as JSON does ($(...) drops the trailing
        // newline of the separator's last error line; printf puts it back).
        lines.push(
          `k=${key}; x ip; _o=$(${run}`,
          ...input,
          HERE_END,
          `); r=$?; case $_o in '['*) h I "$k"; printf '%s\\n' "$_o"; e $r;; *)`,
          ...itemLines(it.orElse, sep),
          ';; esac',
        );
    } else if (it.kind === 'files-in') {
      const d = shellQuote(it.dir);
      lines.push(`l ${d}; ${eachEntry(d, 'n', `case "$n" in *${shellQuote(it.suffix)}) f "$n";; esac`)}`);
    } else {
      const d = shellQuote(it.dir);
      // Three levels below the directory at most: TARGET/userdata/ENTRY/value.
      const sub = (v: string, deeper: string) => `if [ -d "$${v}" ]; then l "$${v}"; ${deeper}; else f "$${v}"; fi`;
      lines.push(
        `l ${d}; ${eachEntry(d, 't', `l "$t"; ${eachEntry('"$t"', 'a', sub('a', eachEntry('"$a"', 'u', sub('u', eachEntry('"$u"', 'v', 'f "$v"')))))}`)}`,
      );
    }
  }
  return lines;
}

/**
 * One answer: `F path`, `L path`, `C argv words`, `S argv words` (a failed command's stderr) → its
 * text and exit code. An `ip` item's output is cut into one `C` (and `S`) answer per command.
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
    else if (key.startsWith('I ')) splitIpBatch(key.slice(2), out.slice(nl + 1, end), ipSeparator(boundary), answers);
    if (codeEnd < 0) break;
    pos = codeEnd + 1;
  }
  return answers;
}

/**
 * An `ip -force -batch` output cut apart at the separator's errors (`Device "ndX" does not exist.`
 * and `Command failed -:N`, numbered by input line): each command's output, or its error when
 * `Command failed` ends it (exit 2 for a netlink error, as `ip` exits alone, else 1). Anything
 * unexpected (a separator missing or out of order, output after the last) gives no answer at all:
 * the commands are then run one by one.
 */
function splitIpBatch(key: string, text: string, sep: string, answers: BatchAnswers): void {
  const [opts, ...commands] = key.split('|');
  const found: Array<[string, { text: string; code: number }]> = [];
  let rest = text;
  for (let i = 0; i < commands.length; i++) {
    // The separator's error line, then `Command failed -:N` for its input line.
    const at = rest.indexOf(sep);
    if (at < 0) return;
    const lineStart = rest.lastIndexOf('\n', at) + 1;
    const lineEnd = rest.indexOf('\n', at);
    const failedLine = `Command failed -:${2 * i + 2}\n`;
    if (lineEnd < 0 || !rest.startsWith(failedLine, lineEnd + 1)) return;
    const seg = rest.slice(0, lineStart);
    const name = `${opts} ${commands[i]}`;
    const own = `Command failed -:${2 * i + 1}\n`;
    if (seg === own || seg.endsWith(`\n${own}`)) {
      const err = seg.slice(0, seg.length - own.length);
      found.push([`C ${name}`, { text: '', code: /RTNETLINK answers/.test(err) ? 2 : 1 }]);
      found.push([`S ${name}`, { text: err, code: 0 }]);
    } else found.push([`C ${name}`, { text: seg, code: 0 }]);
    rest = rest.slice(lineEnd + 1 + failedLine.length);
  }
  if (rest.trim() !== '') return;
  for (const [k, v] of found) answers.set(k, v);
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
