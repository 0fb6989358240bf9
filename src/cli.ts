#!/usr/bin/env node
/**
 * netdiag's entry point: finds the command, parses its arguments, runs it, and is the one place
 * that exits. A CLIError prints one line and exits with its code; anything else is a bug and
 * says so, still on one line unless NETDIAG_DEBUG is set.
 */
import { parseArgs } from 'node:util';
import { CLIError, EXIT_USAGE } from './errors.js';
import { escapeText } from './report/escape.js';
import { stopSignals } from './ui/signals.js';
import type { Command, CommandIO } from './commands/command.js';

const commands: Record<string, () => Promise<Command>> = {
  analyze: async () => (await import('./commands/analyze.js')).default,
  sniff: async () => (await import('./commands/sniff.js')).default,
  verify: async () => (await import('./commands/verify.js')).default,
  check: async () => (await import('./commands/check.js')).default,
  explain: async () => (await import('./commands/explain.js')).default,
};

const SUMMARIES: Record<string, string> = {
  analyze: 'analyze a capture file (pcap, pcapng, gzip) for netconsole traffic',
  sniff: 'capture netconsole traffic live on an interface',
  verify: 'trigger a kernel message on a sender over ssh and check that it arrives',
  check: 'check this host (receiver) and a sender for what breaks netconsole',
  explain: 'print the long explanation of a finding code',
};

function topUsage(): string {
  const lines = ['usage: netdiag <command> [options]', '', 'commands:'];
  for (const name of Object.keys(commands)) lines.push(`  ${name.padEnd(9)} ${SUMMARIES[name]}`);
  lines.push('', "Run 'netdiag <command> --help' for a command's options.");
  return lines.join('\n') + '\n';
}

function commandHelp(c: Command): string {
  const lines = [`usage: ${c.usage}`, '', c.summary, ''];
  const width = Math.max(...c.help.map(([flag]) => flag.length), 10);
  for (const [flag, text] of c.help) lines.push(`  ${flag.padEnd(width)}  ${text}`);
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topUsage());
    return name ? 0 : EXIT_USAGE;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write('netdiag 0.1.0\n');
    return 0;
  }
  const load = commands[name];
  if (!load) throw new CLIError(`unknown command '${name}' (try: netdiag --help)`);
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(command));
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.allowPositionals, strict: true });
  } catch (e) {
    // parseArgs' messages are one line and name the option; drop its long suffix.
    const msg = (e as Error).message.split('. To specify')[0]!.replace(/\.$/, '');
    throw new CLIError(`${name}: ${msg}`);
  }
  return command.run({ values: parsed.values as Record<string, unknown>, positionals: parsed.positionals }, io);
}

function isMain(): boolean {
  const entry = process.argv[1];
  return !!entry && /(?:^|[\\/])(cli\.js|netdiag)$/.test(entry);
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
      if (err instanceof CLIError) {
        // Messages can quote the command line, a file or a remote host's stderr: escaped, always.
        process.stderr.write(`netdiag: ${escapeText(err.message)}\n`, () => process.exit(err.exitCode));
        return;
      }
      const e = err as Error;
      process.stderr.write(`netdiag: internal error: ${escapeText(e?.message ?? String(err))} (please report; NETDIAG_DEBUG=1 shows the trace)\n`);
      if (process.env.NETDIAG_DEBUG) process.stderr.write(`${e?.stack}\n`);
      process.stderr.write('', () => process.exit(70));
    },
  );
}
