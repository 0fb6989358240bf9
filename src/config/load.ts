/**
 * Turns `--config FILE` and `--netconsole SPEC` into targets. The file is read through the
 * function given (the command passes fs), so this stays testable; bad input is a CLIError.
 */
import { CLIError } from '../errors.js';
import { parseNetconsoleSpec } from './netconsole-spec.js';
import { parseSysconfigNetconsole } from './sysconfig.js';
import type { NetconsoleTarget } from './target.js';

export function loadTargets(
  opts: { config?: string; netconsole?: string[] },
  readFile: (path: string) => string,
): { targets: NetconsoleTarget[]; warnings: string[] } {
  const targets: NetconsoleTarget[] = [];
  const warnings: string[] = [];
  if (opts.config !== undefined) {
    let text: string;
    try {
      text = readFile(opts.config);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CLIError(
        `--config ${opts.config}: cannot read (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`,
      );
    }
    const parsed = parseSysconfigNetconsole(text, opts.config);
    if (parsed.errors.length) throw new CLIError(`--config ${opts.config}: ${parsed.errors[0]}`);
    targets.push(...parsed.targets);
    warnings.push(...parsed.warnings);
  }
  for (const spec of opts.netconsole ?? []) {
    const parsed = parseNetconsoleSpec(spec, '--netconsole');
    // The parser's messages already start with the option's name.
    if (parsed.errors.length) throw new CLIError(parsed.errors[0]!);
    targets.push(...parsed.targets);
  }
  return { targets, warnings };
}
