/**
 * A HostExec over the system's OpenSSH client, so the user's ~/.ssh/config, agent, ProxyJump and
 * known_hosts apply. BatchMode (never prompt) and a connect timeout; host keys are checked as ssh
 * checks them. One control master per run, in a private temporary directory, so the many small
 * commands of fact collection share one connection. Every argument is quoted for the remote
 * shell: a value from a file or the command line never reaches it unquoted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecResult, HostExec } from './host-exec.js';

export interface SshOptions {
  /** `[user@]host`. */
  destination: string;
  /** `-i FILE`. */
  identity?: string;
  /** `-o OPT` each. */
  options?: string[];
  /** `-p PORT`. */
  port?: number;
  /** More ssh arguments, as words (an inventory's ansible_ssh_common_args). */
  args?: string[];
  /** @default 10 */
  connectTimeoutSec?: number;
  /** Per-command timeout, ms. @default 20000 */
  timeoutMs?: number;
  /** Run commands through `sudo -n` (the remote user is not root). */
  sudo?: boolean;
  /** The ssh program. @default 'ssh' */
  program?: string;
  /**
   * ssh's own warnings (an identity file not accessible, a host key added or changed, a
   * connection closed), each distinct line once, for the user's stderr. Without it they are
   * kept in `warnings`.
   */
  onWarning?: (line: string) => void;
}

/**
 * Lines ssh itself writes to stderr, as opposed to the remote command's stderr: its warnings
 * (`Warning: ...`, `** WARNING: ...` of OpenSSH 9.9+), the changed-host-key banner and its text,
 * and its own errors (`ssh: ...`, `Host key verification failed.`).
 */
const SSH_OWN_LINE =
  /^(Warning: |\*\* |@@@|WARNING: |IT IS POSSIBLE|Someone could be|It is also possible|The fingerprint for|Please contact your|Add correct host key|Offending |Host key for |Host key verification failed|.* key for .* has changed|ssh: |kex_exchange_identification: |Connection (to|closed by) .*closed|Permission denied \(|Load key )/;

/** ssh's own lines in a stderr text: all of it when ssh failed (255), else the lines it recognises as its own. */
export function sshOwnLines(stderr: string, code: number): string[] {
  const lines = stderr
    .replace(/\r/g, '')
    .split('\n')
    .map(l => l.trimEnd())
    .filter(Boolean);
  return code === 255 ? lines : lines.filter(l => SSH_OWN_LINE.test(l));
}

/**
 * ssh's error from its lines on a failure (exit 255): the last one, unless ssh reached the host
 * through a proxy (ProxyJump, -J, ProxyCommand): then the last line names the proxy's pipe
 * (`Connection closed by UNKNOWN port 65535`) and the reason is the jump's own line before it
 * (its host key, its connection refused, the target it could not open). Takes the error out of
 * `own`; what stays there is shown as warnings.
 */
export function sshError(own: string[]): string | undefined {
  const last = own.pop();
  if (!last || !/\bUNKNOWN port 65535\b/.test(last)) return last;
  const echo = /^kex_exchange_identification: Connection closed by remote host$|^stdio forwarding failed$/;
  let i = own.length - 1;
  while (i >= 0 && (echo.test(own[i]!) || /^Warning: /.test(own[i]!))) i--;
  const why = i >= 0 ? own.splice(i, 1)[0]! : undefined;
  return why
    ? `through the jump host (ProxyJump/ProxyCommand): ${why} (then: ${last})`
    : `the connection through the jump host (ProxyJump/ProxyCommand) failed: ${last}`;
}

/** Connections still open when the process exits (a second Ctrl-C): their masters are ended there. */
const openConnections = new Set<() => void>();
let exitHookInstalled = false;
function onProcessExit(cleanup: () => void): void {
  openConnections.add(cleanup);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of openConnections) c();
  });
}

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The remote command line for an argv: each word quoted; `sudo -n` first when asked. */
export function remoteCommand(argv: readonly string[], sudo = false): string {
  const words = sudo ? ['sudo', '-n', '--', ...argv] : argv;
  return words.map(shellQuote).join(' ');
}

/** The ssh argument list (without the program): options, destination, `--`, the remote command. */
function sshArgv(o: SshOptions, controlPath: string | undefined, command: string, persist = true): string[] {
  // ssh keeps the first value it reads for an option: the user's (--ssh-option, an inventory's
  // ansible_ssh_common_args) come first, so they can raise ConnectTimeout; BatchMode stays ours.
  const args = ['-o', 'BatchMode=yes'];
  for (const opt of o.options ?? []) args.push('-o', opt);
  args.push(...(o.args ?? []));
  args.push('-o', `ConnectTimeout=${o.connectTimeoutSec ?? 10}`, '-T');
  if (controlPath)
    args.push(
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${controlPath}`,
      '-o',
      `ControlPersist=${persist ? 60 : 'no'}`,
    );
  if (o.identity) args.push('-i', o.identity);
  if (o.port) args.push('-p', String(o.port));
  // A destination that starts with '-' would be read as an option.
  if (o.destination.startsWith('-')) throw new Error('ssh destination must not start with -');
  args.push(o.destination, '--', command);
  return args;
}

export interface SshExec extends HostExec {
  /** Runs later commands through `sudo -n` (the remote user is not root). */
  setSudo(on: boolean): void;
  /**
   * Starts a command now and holds it on the remote side until `fire()` (ssh's round trip is paid
   * before the moment matters, as for verify's trigger); `cancel()` lets it end without running.
   */
  prepare(argv: string[]): PreparedCommand;
  /**
   * Starts a command now with its stdin held open: `ready` resolves with its output so far once it
   * printed `readyLine` (or with its whole result if it ended first); `fire()` then writes one line
   * to its stdin, `cancel()` closes it, `result` is the whole run. One session can so read facts
   * and later trigger (verify's sender script reads that line before it writes the marker).
   */
  session(argv: string[], readyLine: string, timeoutMs?: number): HeldSession;
  /**
   * Ends the shared connection (its control master), stops ssh processes still running and
   * removes the private directory; later commands fail at once (exit 255) without starting ssh.
   */
  close(): Promise<void>;
  /** The last connection error ssh printed (exit 255), for the user. */
  lastError?: string;
  /** ssh's own warnings seen so far (each distinct line once), when no `onWarning` was given. */
  readonly warnings: string[];
}

export interface PreparedCommand {
  fire(): void;
  cancel(): void;
  result: Promise<ExecResult>;
}

export interface HeldSession extends PreparedCommand {
  ready: Promise<ExecResult>;
}

export function sshExec(o: SshOptions): SshExec {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-ssh-'));
  const controlPath = path.join(dir, 'cm');
  const program = o.program ?? 'ssh';
  const timeout = o.timeoutMs ?? 20_000;
  let sudo = o.sudo ?? false;
  let closed = false;
  const running = new Set<ChildProcess>();
  const seen = new Set<string>();
  const warnings: string[] = [];
  const warn = (line: string) => {
    if (seen.has(line)) return;
    seen.add(line);
    if (o.onWarning) o.onWarning(line);
    else warnings.push(line);
  };
  const exitArgs = ['-o', `ControlPath=${controlPath}`, '-O', 'exit', o.destination];
  // At process exit (a second Ctrl-C exits at once) the master would outlive netdiag for
  // ControlPersist's 60 s. A detached shell ends it and then removes the directory: starting it
  // takes a millisecond, so exiting stays immediate however many connections a fleet run holds.
  const atExit = () => {
    for (const c of running) c.kill('SIGTERM');
    spawn('sh', ['-c', '"$0" "$@" >/dev/null 2>&1; rm -rf -- "$DIR"', program, ...exitArgs], {
      stdio: 'ignore',
      detached: true,
      env: { ...process.env, DIR: dir },
    }).unref();
  };
  onProcessExit(atExit);
  const self: SshExec = {
    warnings,
    setSudo(on: boolean) {
      sudo = on;
    },
    run(argv: string[]): Promise<ExecResult> {
      return runSsh(sshArgv(o, controlPath, remoteCommand(argv, sudo)));
    },
    prepare(argv: string[]): PreparedCommand {
      let go!: (line: string | undefined) => void;
      const input = new Promise<string | undefined>(r => (go = r));
      const result = runSsh(
        sshArgv(o, controlPath, remoteCommand(['sh', '-c', 'read _ && exec "$@"', 'sh', ...argv], sudo)),
        timeout,
        input,
      );
      return { fire: () => go('go\n'), cancel: () => go(undefined), result };
    },
    session(argv: string[], readyLine: string, ms = timeout): HeldSession {
      let go!: (line: string | undefined) => void;
      const input = new Promise<string | undefined>(r => (go = r));
      let early!: (r: ExecResult) => void;
      const ready = new Promise<ExecResult>(r => (early = r));
      const want = Buffer.from(`\n${readyLine}\n`);
      let found = false;
      // Only the new bytes (and the few before them) are searched: the output can be large.
      let tail = Buffer.from('\n');
      // Not persisting: when this session opens the connection, its own process is the master
      // (no second process in the background), other commands meanwhile share it, and it ends
      // with the session, so close() has no master left to end.
      const result = runSsh(
        sshArgv(o, controlPath, remoteCommand(argv, sudo), false),
        ms,
        input,
        false,
        (out, err, chunk) => {
          if (found) return;
          const look = Buffer.concat([tail, chunk]);
          tail = look.subarray(Math.max(0, look.length - want.length));
          if (!look.includes(want)) return;
          found = true;
          early({ stdout: out(), stderr: err(), code: 0 });
        },
      );
      void result.then(early);
      return { fire: () => go('go\n'), cancel: () => go(undefined), result, ready };
    },
    async readFile(p: string): Promise<string | null> {
      const r = await self.run(['cat', '--', p]);
      return r.code === 0 ? r.stdout : null;
    },
    async listDir(p: string): Promise<string[] | null> {
      const r = await self.run(['ls', '-1A', '--', p]);
      return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : null;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      openConnections.delete(atExit);
      for (const c of running) c.kill('SIGTERM');
      // A master is left only when one persists (or still ends): its socket is there.
      if (existsSync(controlPath)) await runSsh(exitArgs, 5000, undefined, true);
      rmSync(dir, { recursive: true, force: true });
    },
  };

  function runSsh(
    args: string[],
    ms = timeout,
    input?: Promise<string | undefined>,
    closing = false,
    /** Called as stdout grows, with the output so far (stdout, stderr). */
    onOutput?: (stdout: () => string, stderr: () => string, chunk: Buffer) => void,
  ): Promise<ExecResult> {
    if (closed && !closing) return Promise.resolve({ stdout: '', stderr: 'ssh: connection closed', code: 255 });
    return new Promise(resolve => {
      const child = spawn(program, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      running.add(child);
      if (input) {
        child.stdin!.on('error', () => {});
        void input.then(line => child.stdin!.end(line));
      }
      const out: Buffer[] = [],
        err: Buffer[] = [];
      let size = 0;
      const cap = 16 * 1024 * 1024;
      child.stdout!.on('data', (b: Buffer) => {
        size += b.length;
        if (size <= cap) out.push(b);
        onOutput?.(
          () => Buffer.concat(out).toString('utf8'),
          () => Buffer.concat(err).toString('utf8'),
          b,
        );
      });
      child.stderr!.on('data', (b: Buffer) => {
        if (err.length < 64) err.push(b);
      });
      const timer = setTimeout(() => child.kill('SIGTERM'), ms);
      child.on('error', e => {
        clearTimeout(timer);
        running.delete(child);
        resolve({
          stdout: '',
          stderr: `${program}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (install openssh-client)' : e.message}`,
          code: 127,
        });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        running.delete(child);
        const stderr = Buffer.concat(err).toString('utf8');
        if (!closing && !closed) {
          const own = sshOwnLines(stderr, code ?? 1);
          // On a failure the last line is the error itself (lastError); the lines before it are warnings.
          if (code === 255) self.lastError = sshError(own);
          for (const l of own) warn(l);
        }
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: signal ? `timed out after ${ms} ms` : stderr,
          code: signal ? 124 : (code ?? 1),
        });
      });
    });
  }
  return self;
}
