/** Options shared by analyze, sniff and verify, and how they become pipeline and report settings. */
import { readFileSync } from 'node:fs';
import { loadTargets, parsePorts } from '../config/load.js';
import { CLIError } from '../errors.js';
import type { PipelineOptions } from '../pipeline/types.js';
import type { ReportFormat } from '../report/reporter.js';
import { chooseStyle, type Style } from '../report/style.js';
import type { CommandIO, OptionSpec } from './command.js';

export const analysisOptions: OptionSpec = {
  port: { type: 'string', multiple: true },
  config: { type: 'string' },
  netconsole: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  jsonl: { type: 'boolean' },
  summary: { type: 'boolean', short: 'q' },
  'join-window': { type: 'string' },
};

export const analysisHelp: Array<[string, string]> = [
  ['--port N', 'a netconsole port (repeatable); default 514 and 6666'],
  ['--config FILE', 'compare with a CentOS/RHEL /etc/sysconfig/netconsole file'],
  ['--netconsole SPEC', 'compare with a netconsole= parameter: [+][r][src-port]@[src-ip]/[dev],[tgt-port]@<tgt-ip>/[tgt-mac]'],
  ['--json', 'one JSON document (docs/json.md)'],
  ['--jsonl', 'one JSON message per line, then a summary line'],
  ['-q, --summary', 'text: only the summary and findings, no message lines'],
  ['--join-window MS', 'how long a plain line without newline waits for its rest (default 1000)'],
];

export interface AnalysisSettings {
  pipeline: PipelineOptions;
  format: ReportFormat;
  summaryOnly: boolean;
  style: Style;
  warnings: string[];
}

export function analysisSettings(values: Record<string, unknown>, io: CommandIO): AnalysisSettings {
  if (values.json && values.jsonl) throw new CLIError('--json and --jsonl: choose one');
  const ports = parsePorts(values.port as string[] | undefined);
  const { targets, warnings } = loadTargets(
    { config: values.config as string | undefined, netconsole: values.netconsole as string[] | undefined },
    p => readFileSync(p, 'utf8'),
  );
  const pipeline: PipelineOptions = { targets };
  if (ports) pipeline.ports = ports;
  const jw = values['join-window'] as string | undefined;
  if (jw !== undefined) {
    if (!/^\d+$/.test(jw) || Number(jw) > 600000) throw new CLIError(`--join-window: '${jw}' is not a number of milliseconds`);
    pipeline.joinWindowMs = Number(jw);
  }
  return {
    pipeline,
    format: values.json ? 'json' : values.jsonl ? 'jsonl' : 'text',
    summaryOnly: values.summary === true,
    style: chooseStyle(io.stdout, io.env),
    warnings,
  };
}
