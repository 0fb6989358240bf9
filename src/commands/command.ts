/**
 * Commands are data: a name, a one-line summary, their options, their operand, and `run`, which
 * gets the parsed, typed values and returns the exit code. Each option is defined once (kind,
 * value hint, description, default, parser); `--help`, the usage line, the man page and the shell
 * completion are all generated from these definitions. Only src/cli.ts calls process.exit.
 */
import { parseArgs } from 'node:util';
import { CLIError } from '../errors.js';

export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); long-running commands race it. */
  interrupted: Promise<string>;
}

/** Turns an option's text into its value, or throws a CLIError naming `flag` (e.g. `--port`). */
export type Parser<T> = (raw: string, flag: string) => T;

interface OptionBase {
  /** One line for --help and the man page. */
  description: string;
  /** A one-letter alias, e.g. `q` for `-q`. */
  short?: string;
}

/** A switch: true when given. */
export interface FlagOption extends OptionBase {
  kind: 'flag';
}

/** An option that takes a value (`--port N`), once or, with `multiple`, repeatedly. */
export interface ValueOption<
  T,
  Multiple extends boolean = boolean,
  Present extends boolean = boolean,
> extends OptionBase {
  kind: 'value';
  /** The value's placeholder in help and usage: `N`, `FILE`, `[user@]host`. */
  hint: string;
  parse: Parser<T>;
  multiple: Multiple;
  /** The value when the option is not given (shown in help unless `defaultText` says otherwise). */
  default: T | undefined;
  /** The value is always there: the option has a default or is required. */
  present: Present;
  /** How help shows the default when the value alone would not say it (`514 and 6666`). */
  defaultText?: string;
  /** The command refuses to run without it (shown in the usage line). */
  required?: boolean;
  /** What the shell completion offers for the value. */
  complete?: 'file' | 'directory' | 'interface' | 'finding-code';
}

export type OptionDef = FlagOption | ValueOption<unknown>;
export type OptionSpec = Record<string, OptionDef>;

type ValueOf<O> = O extends FlagOption
  ? boolean
  : O extends ValueOption<infer T, infer Multiple, infer Present>
    ? Multiple extends true
      ? T[]
      : Present extends true
        ? T
        : T | undefined
    : never;

/** The parsed values of a command's options, typed from their definitions. */
export type Values<S extends OptionSpec> = { [K in keyof S]: ValueOf<S[K]> };

/** A switch. */
export function flag(description: string, short?: string): FlagOption {
  return { kind: 'flag', description, ...(short ? { short } : {}) };
}

interface ValueFields<T> {
  hint: string;
  description: string;
  parse: Parser<T>;
  short?: string;
  defaultText?: string;
  complete?: ValueOption<T>['complete'];
}

/** An option with one value; a `default`, or `required`, makes its type `T` instead of `T | undefined`. */
export function option<T>(o: ValueFields<T> & ({ default: T } | { required: true })): ValueOption<T, false, true>;
export function option<T>(o: ValueFields<T>): ValueOption<T, false, false>;
export function option<T>(o: ValueFields<T> & { default?: T; required?: boolean }): ValueOption<T, false, boolean> {
  return { kind: 'value', multiple: false, ...o, default: o.default, present: o.default !== undefined || !!o.required };
}

/** A repeatable option: its value is the list given, in order (empty when not given). */
export function list<T>(o: ValueFields<T>): ValueOption<T, true, false> {
  return { kind: 'value', multiple: true, ...o, default: undefined, present: false };
}

/** The operand a command takes after its options, for help, usage and the man page. */
export interface Operand {
  hint: string;
  description: string;
  /** What the shell completion offers. */
  complete?: ValueOption<unknown>['complete'];
}

interface CommandMeta<S extends OptionSpec> {
  name: string;
  /** One line, shown by `netdiag --help`, the command's own help and the man page. */
  summary: string;
  options: S;
  operand?: Operand;
  /** The forms of the command line after `netdiag NAME`, when the generated one does not say it all. */
  synopsis?: string[];
  /** Command lines with what they do, for the man page's EXAMPLES. */
  examples?: Array<[command: string, what: string]>;
}

export interface CommandSpec<S extends OptionSpec> extends CommandMeta<S> {
  run(args: { values: Values<S>; positionals: string[] }, io: CommandIO): Promise<number> | number;
}

/** A command with its types erased, as the registry in cli.ts holds it. */
export interface Command extends CommandMeta<OptionSpec> {
  /** Parses `argv` (after the command name) and runs the command. */
  run(argv: string[], io: CommandIO): Promise<number>;
}

export function defineCommand<S extends OptionSpec>(spec: CommandSpec<S>): Command {
  return { ...spec, run: async (argv, io) => spec.run(parseOptions(spec, argv), io) };
}

/** The usage lines: `netdiag verify --sender [user@]host [options]`, `netdiag analyze [options] FILE`. */
export function usageLines(c: CommandMeta<OptionSpec>): string[] {
  if (c.synopsis) return c.synopsis.map(s => `netdiag ${c.name} ${s}`);
  const required = Object.entries(c.options)
    .filter(([, o]) => o.kind === 'value' && o.required)
    .map(([name, o]) => `--${name} ${o.kind === 'value' ? o.hint : ''}`);
  const optional = Object.values(c.options).some(o => o.kind === 'flag' || !o.required) ? ['[options]'] : [];
  return [['netdiag', c.name, ...required, ...optional, ...(c.operand ? [c.operand.hint] : [])].join(' ')];
}

/** The option as help shows it: `-q, --summary`, `--port N`. */
export function optionSynopsis(name: string, o: OptionDef): string {
  return `${o.short ? `-${o.short}, ` : ''}--${name}${o.kind === 'value' ? ` ${o.hint}` : ''}`;
}

/** The option's description with its default, as help and the man page show it. */
export function optionText(o: OptionDef): string {
  if (o.kind === 'flag') return o.description;
  const d = o.default;
  const shown = o.defaultText ?? (typeof d === 'number' || typeof d === 'string' ? String(d) : undefined);
  return shown === undefined ? o.description : `${o.description} (default ${shown})`;
}

function parseOptions<S extends OptionSpec>(
  c: CommandMeta<S>,
  argv: string[],
): { values: Values<S>; positionals: string[] } {
  const config: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = {};
  for (const [name, o] of Object.entries(c.options)) {
    config[name] = {
      type: o.kind === 'flag' ? 'boolean' : 'string',
      ...(o.short ? { short: o.short } : {}),
      ...(o.kind === 'value' && o.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: c.operand !== undefined, strict: true });
  } catch (e) {
    throw new CLIError(`${c.name}: ${argumentError(e instanceof Error ? e.message : String(e), c.options)}`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(c.options)) {
    const raw = parsed.values[name];
    if (o.kind === 'flag') {
      values[name] = raw === true;
    } else if (o.multiple) {
      values[name] = (Array.isArray(raw) ? raw : []).map(r => o.parse(String(r), `--${name}`));
    } else if (typeof raw === 'string') {
      values[name] = o.parse(raw, `--${name}`);
    } else {
      if (o.required) throw new CLIError(`${c.name}: --${name} ${o.hint} is required`);
      values[name] = o.default;
    }
  }
  // The one place the definitions' types meet the parsed record: each value was made by its parser.
  return { values: values as Values<S>, positionals: parsed.positionals };
}

/**
 * parseArgs' message, first sentence only (the rest is advice for programmers, on more lines),
 * with "did you mean" for a mistyped option.
 */
function argumentError(message: string, options: OptionSpec): string {
  const first = message.split(/\.(?:\s|$)|\n/)[0]!;
  const unknown = /^Unknown option '(-{1,2})([^'=]+)'/.exec(first);
  if (!unknown) return first;
  const names = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
  const near = closest(`${unknown[1]}${unknown[2]}`, names);
  return near ? `${first} (did you mean ${near}?)` : first;
}

/** The candidate nearest to `word` (edit distance at most 2, or a unique prefix), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const prefixed = candidates.filter(c => c.startsWith(word));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}
