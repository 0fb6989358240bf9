/** netdiag explain [CODE]: the catalog's long text for a finding code, or the list of codes. */
import { ALL_CODES, codeInfo } from '../findings/catalog.js';
import { formatCodeDoc } from '../findings/docs.js';
import { CLIError } from '../errors.js';
import { closest, defineCommand } from './command.js';

export default defineCommand({
  name: 'explain',
  summary: 'Print the long explanation of a finding code, or list every code.',
  options: {},
  operand: {
    hint: '[CODE]',
    description: 'a finding code such as dst-mac-mismatch; without it, the list of codes',
    complete: 'finding-code',
  },
  examples: [['netdiag explain dst-mac-mismatch', 'what the finding means, why it happens, and the fix']],
  run({ positionals }, io) {
    if (positionals.length > 1) throw new CLIError('explain: give one finding code');
    const code = positionals[0];
    if (code === undefined) {
      const width = Math.max(...ALL_CODES.map(c => c.code.length));
      for (const c of ALL_CODES) io.stdout.write(`${c.code.padEnd(width)}  ${c.severity.padEnd(7)}  ${c.title}\n`);
      return 0;
    }
    // Case does not matter, and a unique beginning is enough (explain dst-mac).
    const wanted = code.toLowerCase();
    const matches = ALL_CODES.filter(c => c.code.startsWith(wanted));
    const info = codeInfo(wanted) ?? (matches.length === 1 ? matches[0] : undefined);
    const shown = code.replace(/[^\x20-\x7e]/g, '?');
    if (!info && matches.length > 1) {
      throw new CLIError(`explain: '${shown}' begins several codes: ${matches.map(c => c.code).join(', ')}`);
    }
    if (!info) {
      const near = closest(
        wanted,
        ALL_CODES.map(c => c.code),
      );
      throw new CLIError(
        `explain: no finding code '${shown}' (${near ? `did you mean ${near}? ` : ''}netdiag explain lists them)`,
      );
    }
    io.stdout.write(formatCodeDoc(info, 'text'));
    return 0;
  },
});
