/**
 * Commands are data: a name, a one-line summary, their options (node:util parseArgs format), and
 * `run`, which returns the exit code. Only src/cli.ts calls process.exit.
 */
import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); long-running commands race it. */
  interrupted: Promise<string>;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** Option help lines, in order: [flag text, description]. */
  help: Array<[string, string]>;
  allowPositionals: boolean;
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CommandIO): Promise<number>;
}

export function defineCommand(c: Command): Command {
  return c;
}
