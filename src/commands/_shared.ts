/**
 * What several commands share: the value parsers (`port`, `seconds`, `count`, ...) and the
 * options of analyze and sniff, with how they become pipeline and report settings.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { ipFamily } from '../config/netconsole-spec.js';
import { loadTargets } from '../config/load.js';
import { CLIError } from '../errors.js';
import type { PipelineOptions } from '../pipeline/types.js';
import type { ReportFormat } from '../report/reporter.js';
import { escapeText } from '../report/escape.js';
import { chooseStyle, type ColorMode, type Style } from '../report/style.js';
import { flag, list, option, type CommandIO, type Parser, type Values } from './command.js';

const bad = (flag: string, raw: string, what: string) => new CLIError(`${flag}: '${escapeText(raw)}' is not ${what}`);

/** A value taken as it is (a path, a host, a specification parsed later). */
export const text: Parser<string> = raw => raw;

/** A file this process can read (checked now, so a typo is not found only by a later program). */
export const readableFile: Parser<string> = (raw, flag) => {
  try {
    accessSync(raw, constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CLIError(`${flag} ${escapeText(raw)}: ${code === 'ENOENT' ? 'no such file' : 'cannot be read'}`);
  }
  return raw;
};

/** A UDP port, 1-65535. */
export const port: Parser<number> = (raw, flag) => {
  const n = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || n < 1 || n > 65535) throw bad(flag, raw, 'a port number (1-65535)');
  return n;
};

/** A positive whole number (packets, messages). */
export const count: Parser<number> = (raw, flag) => {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !(n > 0) || !Number.isSafeInteger(n)) throw bad(flag, raw, 'a positive integer');
  return n;
};

/** A positive number, decimals allowed (MiB). */
export const positive: Parser<number> = (raw, flag) => {
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(n > 0)) throw bad(flag, raw, 'a positive number');
  return n;
};

/** A number of seconds, more than 0 and at most `max`; decimals allowed. */
export function seconds(max = 7 * 24 * 3600): Parser<number> {
  return (raw, flag) => {
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || !(n > 0) || n > max) throw bad(flag, raw, `a number of seconds (at most ${max})`);
    return n;
  };
}

/** A whole number of milliseconds, 0 to `max`. */
export function milliseconds(max: number): Parser<number> {
  return (raw, flag) => {
    if (!/^\d+$/.test(raw) || Number(raw) > max) throw bad(flag, raw, 'a number of milliseconds');
    return Number(raw);
  };
}

/** An IPv4 or IPv6 address. */
export const ip: Parser<string> = (raw, flag) => {
  if (ipFamily(raw) === 0) throw bad(flag, raw, 'an IP address');
  return raw;
};

/** `--color=auto|always|never`. */
export const colorMode: Parser<ColorMode> = (raw, flag) => {
  if (raw === 'auto' || raw === 'always' || raw === 'never') return raw;
  throw new CLIError(`${flag}: '${escapeText(raw)}' is not auto, always or never`);
};

/** `--color`, for every command that prints a text report. */
export const colorOption = option<ColorMode>({
  hint: 'WHEN',
  parse: colorMode,
  default: 'auto',
  description:
    'colour the text report: auto (a terminal, unless NO_COLOR or TERM=dumb; FORCE_COLOR forces), always, never',
});

/** The options of the commands that analyze traffic (analyze, sniff). */
export const analysisOptions = {
  port: list({
    hint: 'N',
    parse: port,
    description: 'a netconsole port; repeatable',
    defaultText: '514 and 6666',
  }),
  config: option({
    hint: 'FILE',
    parse: text,
    complete: 'file',
    description: 'compare with a CentOS/RHEL /etc/sysconfig/netconsole file',
  }),
  netconsole: list({
    hint: 'SPEC',
    parse: text,
    description: 'compare with a netconsole= parameter: [+][r][src-port]@[src-ip]/[dev],[tgt-port]@<tgt-ip>/[tgt-mac]',
  }),
  json: flag('one JSON document (docs/json.md)'),
  jsonl: flag('one JSON message per line, then a summary line'),
  summary: flag('text: only the summary and findings, no message lines (not with --json or --jsonl)', 'q'),
  verbose: flag('text: more per message (packet numbers, sequence number, facility, flags)', 'v'),
  color: colorOption,
  numeric: flag("accepted for tcpdump's sake: netdiag never resolves addresses or ports to names", 'n'),
  utc: flag('text: times in UTC (default: the local zone, as tcpdump; TZ is honoured); JSON is always UTC', 'u'),
  'join-window': option({
    hint: 'MS',
    parse: milliseconds(600_000),
    description: 'how long a plain line without newline waits for its rest',
    defaultText: '1000',
  }),
};

export interface AnalysisSettings {
  pipeline: PipelineOptions;
  format: ReportFormat;
  summaryOnly: boolean;
  /** Text: a line of detail under each message (-v). */
  verbose: boolean;
  /** Text times in UTC rather than the local zone. */
  utc: boolean;
  style: Style;
  warnings: string[];
}

export function analysisSettings(values: Values<typeof analysisOptions>, io: CommandIO): AnalysisSettings {
  if (values.json && values.jsonl) throw new CLIError('--json and --jsonl: choose one');
  if (values.summary && (values.json || values.jsonl)) {
    throw new CLIError(
      `-q (--summary) shortens the text report; --${values.json ? 'json' : 'jsonl'} always holds every message`,
    );
  }
  const { targets, warnings } = loadTargets(
    { ...(values.config !== undefined ? { config: values.config } : {}), netconsole: values.netconsole },
    p => readFileSync(p, 'utf8'),
  );
  const pipeline: PipelineOptions = { targets };
  if (values.port.length) pipeline.ports = values.port;
  if (values['join-window'] !== undefined) pipeline.joinWindowMs = values['join-window'];
  return {
    pipeline,
    format: values.json ? 'json' : values.jsonl ? 'jsonl' : 'text',
    summaryOnly: values.summary,
    verbose: values.verbose,
    utc: values.utc,
    style: chooseStyle(io.stdout, io.env, values.color),
    warnings,
  };
}
