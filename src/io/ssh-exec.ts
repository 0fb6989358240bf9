/**
 * A HostExec over the system's OpenSSH client, so the user's ~/.ssh/config, agent, ProxyJump and
 * known_hosts apply. BatchMode (never prompt) and a connect timeout; host keys are checked as ssh
 * checks them. One control master per run, in a private temporary directory, so the many small
 * commands of fact collection share one connection. Every argument is quoted for the remote
 * shell: a value from a file or the command line never reaches it unquoted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
function sshArgv(o: SshOptions, controlPath: string | undefined, command: string): string[] {
  // ssh keeps the first value it reads for an option: the user's (--ssh-option, an inventory's
  // ansible_ssh_common_args) come first, so they can raise ConnectTimeout; BatchMode stays ours.
  const args = ['-o', 'BatchMode=yes'];
  for (const opt of o.options ?? []) args.push('-o', opt);
  args.push(...(o.args ?? []));
  args.push('-o', `ConnectTimeout=${o.connectTimeoutSec ?? 10}`, '-T');
  if (controlPath) args.push('-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', 'ControlPersist=60');
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
  /** Ends the shared connection and removes its directory. */
  close(): Promise<void>;
  /** The last connection error ssh printed (exit 255), for the user. */
  lastError?: string;
}

export interface PreparedCommand {
  fire(): void;
  cancel(): void;
  result: Promise<ExecResult>;
}

export function sshExec(o: SshOptions): SshExec {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-ssh-'));
  const controlPath = path.join(dir, 'cm');
  const program = o.program ?? 'ssh';
  const timeout = o.timeoutMs ?? 20_000;
  let sudo = o.sudo ?? false;
  const self: SshExec = {
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
    async readFile(p: string): Promise<string | null> {
      const r = await self.run(['cat', '--', p]);
      return r.code === 0 ? r.stdout : null;
    },
    async listDir(p: string): Promise<string[] | null> {
      const r = await self.run(['ls', '-1A', '--', p]);
      return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : null;
    },
    async close(): Promise<void> {
      await runSsh(['-o', `ControlPath=${controlPath}`, '-O', 'exit', o.destination], 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };

  function runSsh(args: string[], ms = timeout, input?: Promise<string | undefined>): Promise<ExecResult> {
    return new Promise(resolve => {
      const child = spawn(program, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
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
      });
      child.stderr!.on('data', (b: Buffer) => {
        if (err.length < 64) err.push(b);
      });
      const timer = setTimeout(() => child.kill('SIGTERM'), ms);
      child.on('error', e => {
        clearTimeout(timer);
        resolve({
          stdout: '',
          stderr: `${program}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (install openssh-client)' : e.message}`,
          code: 127,
        });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stderr = Buffer.concat(err).toString('utf8');
        if (code === 255) self.lastError = stderr.trim().split('\n').pop();
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
