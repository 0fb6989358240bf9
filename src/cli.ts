#!/usr/bin/env node
/**
 * netdiag's entry point: finds the command, parses its arguments, runs it, and is the one place
 * that exits. A CLIError prints one line and exits with its code; anything else is a bug and
 * says so, still on one line unless NETDIAG_DEBUG is set.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLIError, EXIT_USAGE } from './errors.js';
import { escapeText } from './report/escape.js';
import { stopSignals } from './ui/signals.js';
import { closest, type Command, type CommandIO } from './commands/command.js';
import { commandHelp, topHelp } from './commands/help.js';

/** Every command, loaded when it runs (each pulls in its own part of netdiag). A new command is one row. */
const commands: Record<string, () => Promise<Command>> = {
  analyze: async () => (await import('./commands/analyze.js')).default,
  sniff: async () => (await import('./commands/sniff.js')).default,
  verify: async () => (await import('./commands/verify.js')).default,
  check: async () => (await import('./commands/check.js')).default,
  explain: async () => (await import('./commands/explain.js')).default,
};

/** Every command's definition, for help, the man page and the shell completion. */
export async function allCommands(): Promise<Command[]> {
  return Promise.all(Object.values(commands).map(load => load()));
}

/** The version in package.json, which sits two levels above this file in dist/ and in the package. */
export function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  return typeof v === 'string' ? v : 'unknown';
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topHelp(await allCommands()));
    return name ? 0 : EXIT_USAGE;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`netdiag ${version()}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    const near = closest(name, Object.keys(commands));
    throw new CLIError(`unknown command '${name}' (${near ? `did you mean ${near}? ` : ''}try: netdiag --help)`);
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(command));
    return 0;
  }
  return command.run(rest, io);
}

/**
 * What the process prints on stderr and exits with when `main` throws: a CLIError is one line
 * and its own code; anything else is a bug, still one line (70), with the trace only when
 * NETDIAG_DEBUG is set. Messages can quote the command line, a file or a remote host's stderr:
 * escaped, always.
 */
export function failure(err: unknown, env: NodeJS.ProcessEnv): { text: string; code: number } {
  if (err instanceof CLIError) return { text: `netdiag: ${escapeText(err.message)}\n`, code: err.exitCode };
  const e = err as Error;
  const line = `netdiag: internal error: ${escapeText(e?.message ?? String(err))} (please report; NETDIAG_DEBUG=1 shows the trace)\n`;
  return { text: env.NETDIAG_DEBUG ? `${line}${e?.stack}\n` : line, code: 70 };
}

/** Run as a program (under any name: a bin symlink, `ndiag`, node dist/bundle/netdiag.cjs), not imported. */
function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  // Listeners that stay for the whole run: see src/ui/signals.ts (a second Ctrl-C exits at once).
  const interrupted = stopSignals().stopped;
  const io: CommandIO = { stdout: process.stdout, stderr: process.stderr, env: process.env, interrupted };
  // A closed stdout (netdiag ... | head) is not an error.
  process.stdout.on('error', err => {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
  });
  main(process.argv.slice(2), io).then(
    code => {
      // Exit once stdout has flushed (a pipe is written asynchronously); sources may hold handles.
      process.exitCode = code;
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      const { text, code } = failure(err, process.env);
      process.stderr.write(text, () => process.exit(code));
    },
  );
}
